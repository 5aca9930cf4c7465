"""The generator's stockout options: defaults give the earlier tables bit for bit; longer spells as asked."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import stockopt as so
from stockopt.errors import ParameterError


def _digest(t):
    h = hashlib.sha256()
    for col in t.columns:
        for chunk in col.chunks:
            for buf in chunk.buffers():
                if buf is not None:
                    h.update(buf)
    return h.hexdigest()


def test_default_stockouts_are_bit_for_bit_the_earlier_tables():
    # digests of the tables main produced before the stockout options existed
    assert _digest(so.datasets.synthetic_retail(300, 200, seed=4)) == \
        "d16b2b154d964d02f165c19f75a92b0245afbcdbae380ada02abd9ab24895460"
    assert _digest(so.datasets.synthetic_retail(70, 90, seed=1, return_truth=True)) == \
        "60611731914bb0581c3dd1b5ce209f82b6006dcff8f8831ee4576c31f1010fed"


def test_long_stockout_spells():
    t = so.datasets.synthetic_retail(400, 365, seed=2, stockout_share=0.3, stockout_rate=1 / 120,
                                     stockout_days=(7, 28), return_truth=True)
    out = ~t["in_stock"].to_numpy(zero_copy_only=False).reshape(400, 365)
    share = out.any(axis=1).mean()
    assert 0.2 < share < 0.4
    # spells are 7 to 28 days (two may merge); sales are zero and demand goes on while out
    runs = []
    for row in out:
        d = np.diff(np.r_[0, row.astype(int), 0])
        starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        runs += [e - s for s, e in zip(starts, ends) if s > 0 and e < 365]
    assert min(runs) >= 7 and np.median(runs) <= 28
    y = t["y"].to_numpy().reshape(400, 365)
    assert (y[out] == 0).all() and t["demand"].to_numpy().reshape(400, 365)[out].sum() > 0
    with pytest.raises(ParameterError, match="stockout"):
        so.datasets.synthetic_retail(3, 10, stockout_days=(5, 2))
