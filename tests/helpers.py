"""Plain helpers of the test suite (importable at collection time, for ``parametrize``); the
fixtures built on them are in ``conftest.py``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import stockopt as so
from stockopt.datasets import shared_data_dir

SEASON = 7


def slow(*values: object) -> object:
    """A ``parametrize`` case marked ``slow``: ``[0, 1, slow(40)]``."""
    return pytest.param(*values, marks=pytest.mark.slow)


def real_data(*parts: str) -> Path:
    """Path of a file (or folder) of the shared real data sets, ``real_data("m5", "x.parquet")``.

    The folder is the one :func:`stockopt.datasets.shared_data_dir` finds (``STOCKOPT_DATA_DIR``,
    or ``../shared/data`` beside the current directory or the checkout); the calling test is
    skipped, with the reason, when it or the file is absent.
    """
    root = shared_data_dir()
    if root is None:
        pytest.skip("real data folder absent: no ../shared/data beside the checkout or the current "
                    "directory, and STOCKOPT_DATA_DIR is not set")
    path = root.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data file absent: {path}")
    return path


def grouped_arrays(series: Sequence[np.ndarray], offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(values, indptr)`` of ``series`` back to back, ``offset`` filler values (-7) in front."""
    lens = np.array([len(s) for s in series], dtype=np.int64)
    indptr = np.zeros(len(series) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(lens)
    parts = [np.full(offset, -7.0)] + [np.asarray(s, dtype=np.float64) for s in series]
    return np.concatenate(parts), indptr + offset


def mixed_sales(n_series: int = 30, n_days: int = 150, seed: int = 3) -> pa.Table:
    """Synthetic daily sales ``unique_id, ds, y`` whose series start on different days (1 to
    ``n_days`` values: some too short for a season or any model), with one all-zero and one
    constant series."""
    t = so.datasets.synthetic_retail(n_series, n_days, seed=seed).select(["unique_id", "ds", "y"])
    rng = np.random.default_rng(seed)
    first = rng.choice([0, 0, 0, 10, 40, 90, 120, 135, 140, 148], n_series)  # first day kept per series
    first[0], first[3], first[4] = 0, n_days - 1, n_days - 2  # full, 1 and 2 values
    series = np.repeat(np.arange(n_series), n_days)  # synthetic_retail is grouped by series, by day
    day = np.tile(np.arange(n_days), n_series)
    y = t["y"].to_numpy().copy()
    y[series == 1] = 0.0  # no sale at all
    y[series == 2] = 5.0  # the same every day
    keep = day >= first[series]
    return pa.table({"unique_id": t["unique_id"].filter(pa.array(keep)),
                     "ds": t["ds"].filter(pa.array(keep)), "y": y[keep]})


def registry() -> dict[str, so.models.Model]:
    """Every model name of the registry with its model (default options, weekly season), one name
    per distinct model: names that build the same class with the same options are aliases."""
    out: dict[str, so.models.Model] = {}
    seen: dict[str, str] = {}
    for name in so.models.MODEL_NAMES:
        model = so.models.make_model(name, season_length=SEASON)
        key = repr(model)
        if key not in seen:
            seen[key] = name
            out[name] = model
    return out
