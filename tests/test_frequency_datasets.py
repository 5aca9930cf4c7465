"""Frequencies (date <-> period maps) and the synthetic generator and real-data loaders."""

from __future__ import annotations

import numpy as np
import pytest

import stockopt as so
from stockopt.datasets import DATASETS, load_dataset
from stockopt.frequency import parse_freq


@pytest.mark.parametrize("alias", ["D", "W", "W-MON", "W-WED", "MS", "ME", "QS", "YS"])
def test_period_maps_invert_each_other(alias):
    f = parse_freq(alias)
    periods = np.arange(-50, 400, dtype=np.int64)
    days = f.to_days(periods)
    back, on_grid = f.to_period(days)
    assert on_grid.all() and np.array_equal(back, periods)
    # consecutive stamps are one period apart in calendar terms
    dates = days.astype("datetime64[D]")
    if alias.startswith("W"):
        assert (np.diff(days) == 7).all()
        assert len({int((d + 3) % 7) for d in days}) == 1
    elif alias in ("MS", "ME"):
        months = dates.astype("datetime64[M]").astype(np.int64)
        assert (np.diff(months) == 1).all()


def test_days_off_the_grid_are_flagged():
    f = parse_freq("MS")
    _, ok = f.to_period(np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]").astype(np.int64))
    assert ok.tolist() == [True, False]


def test_generator_is_deterministic_and_shaped():
    a = so.datasets.synthetic_retail(300, 90, seed=7, return_truth=True)
    b = so.datasets.synthetic_retail(300, 90, seed=7, return_truth=True)
    assert a.equals(b)
    assert not a.equals(so.datasets.synthetic_retail(300, 90, seed=8, return_truth=True))
    assert a.num_rows == 300 * 90
    y, d = a["y"].to_numpy(), a["demand"].to_numpy()
    in_stock = a["in_stock"].to_numpy(zero_copy_only=False)
    assert (y >= 0).all() and (y[~in_stock] == 0).all() and (y[in_stock] == d[in_stock]).all()
    assert 0 < (~in_stock).mean() < 0.1
    promo = a["on_promotion"].to_numpy(zero_copy_only=False)
    price = a["price"].to_numpy()
    assert 0.02 < promo.mean() < 0.3
    classes = a["demand_class"].to_numpy()[::90]
    assert set(np.unique(classes)) == {0, 1, 2}
    # intermittent and lumpy series have many zero days; smooth ones have few
    zeros = (d.reshape(300, 90) == 0).mean(axis=1)
    assert zeros[classes > 0].mean() > 0.6 > zeros[classes == 0].mean()
    # promotion days are cheaper than the same series' other days
    g = so.group_series(a, freq="D", extra_cols=["price", "on_promotion"])
    assert g.n_series == 300 and np.isfinite(price).all()


@pytest.mark.slow
def test_real_data_loader(data_dir):
    for name, info in DATASETS.items():
        t = load_dataset(name, columns=["unique_id", "ds", "y"])
        g = so.group_series(t, freq=info.freq, missing="zero", allow_negative=True)  # oil books returns
        assert g.n_series > 0, name
    with pytest.raises(so.errors.ParameterError):
        load_dataset("nope")
