"""Hypothesis strategies for the fuzz corpus: sales tables and inventory parameters, good and bad.

Sales tables mix ids (strings or integers), frequencies (daily, weekly, monthly series in one
table), values across the whole float range (0, subnormal, tiny, ordinary, 1e15, beyond, NaN, +-inf,
negative, nulls), duplicated periods, gaps and off-grid dates.  Item parameters are drawn from the
whole float range of every column.  How many examples run is set once here: ``STOCKOPT_FUZZ=slow``
runs many more (by hand), the default keeps the corpus at about a minute of CI time.
"""

from __future__ import annotations

import datetime as dt
import math
import os

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SLOW = os.environ.get("STOCKOPT_FUZZ", "") == "slow"


def fuzz_settings(ci: int, slow: int | None = None) -> settings:
    """``ci`` examples in CI, ``slow`` (default 20x) with ``STOCKOPT_FUZZ=slow``; no deadline (numba
    compiles on first use), derandomised in CI so that a run is reproducible."""
    return settings(max_examples=(slow or 20 * ci) if SLOW else ci, deadline=None, derandomize=not SLOW,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


EPOCH = dt.date(1970, 1, 1)
START = (dt.date(2023, 1, 1) - EPOCH).days  # a Sunday

#: values a buyer's data may hold, valid and not
ORDINARY = st.floats(min_value=0.0, max_value=500.0, allow_nan=False, allow_infinity=False)
EXTREME_VALID = st.sampled_from([0.0, 5e-324, 1e-300, 1e-9, 0.5, 1.0, 7.0, 1e6, 1e12, 1e15])
INVALID = st.sampled_from([math.nan, math.inf, -math.inf, -1.0, -1e15, 1e15 * 1.0001, 1e20, 1e200,
                           1.7976931348623157e308, None])

#: weekly spacing anchored on the table's start (a Sunday), monthly on month starts
FREQ_STEPS = {"D": 1, "W": 7}


def _month_start(k: int) -> int:
    y, m = divmod(k, 12)
    return (dt.date(2023 + y, m + 1, 1) - EPOCH).days


@st.composite
def series_days(draw, kind: str, n: int, *, on_grid: bool = False) -> list[int]:
    """``n`` dates of one series of ``kind`` ("D", "W", "MS"), with random gaps; ``on_grid``: its
    first step is one period, so the series is not spaced more coarsely than ``kind`` (a series
    every 3 months in monthly data is refused, never regridded)."""
    gaps = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    if on_grid and n >= 2:
        gaps[1] = 0
    offsets = np.cumsum(np.array(gaps) + 1) - 1
    if kind == "MS":
        return [_month_start(int(k)) for k in offsets]
    return [START + FREQ_STEPS[kind[0]] * int(k) for k in offsets]  # "W-SUN" steps a week


@st.composite
def sales_rows(draw, *, freq: str = "D", clean: bool = False, max_series: int = 5, max_len: int = 40,
               mixed: bool = True, values=None) -> list[tuple[object, int | None, float | None]]:
    """Rows ``(id, day, value)`` of a long sales table.

    ``clean=True`` draws only valid values on the table's frequency (no duplicate, no off-grid date);
    otherwise any series may carry bad values, duplicated periods, off-grid dates, null stamps, a
    coarser own spacing (``mixed``) or a null id.
    """
    n_series = draw(st.integers(1, max_series))
    int_ids = draw(st.booleans())
    rows: list[tuple[object, int | None, float | None]] = []
    values = values if values is not None else st.one_of(ORDINARY, EXTREME_VALID)
    for i in range(n_series):
        sid: object = i * 7 + 3 if int_ids else f"s{i:02d}"
        kind = freq
        if mixed and not clean and freq == "D":
            kind = draw(st.sampled_from(["D", "D", "W", "MS"]))
        n = draw(st.integers(1, max_len if kind == "D" else max(max_len // 3, 8)))
        days = draw(series_days(kind, n, on_grid=clean))
        vals = draw(st.lists(values if clean else st.one_of(values, values, values, INVALID), min_size=n,
                             max_size=n))
        for d, v in zip(days, vals):
            rows.append((sid, d, v))
        if not clean and draw(st.integers(0, 9)) == 0 and rows:
            rows.append(rows[-1])  # a duplicated (series, period) pair
        if not clean and draw(st.integers(0, 14)) == 0:
            rows.append((sid, days[0] + 1 if freq != "D" else None, 1.0))  # off-grid or null stamp
    if not clean and draw(st.integers(0, 19)) == 0:
        rows.append((None, START, 1.0))
    order = draw(st.permutations(range(len(rows))))
    return [rows[k] for k in order]


def rows_table(rows: list[tuple[object, int | None, float | None]], *, int_values: bool = False) -> pa.Table:
    """The sales table ``unique_id, ds (date32), y (float64, nulls kept)`` of ``rows``."""
    ids = [r[0] for r in rows]
    id_type = pa.int64() if any(isinstance(x, int) for x in ids) else pa.string()
    y = [r[2] for r in rows]
    y_arr = pa.array([None if v is None else float(v) for v in y], pa.float64())
    if int_values:
        y_arr = y_arr.cast(pa.int64(), safe=False)
    return pa.table({"unique_id": pa.array(ids, id_type), "ds": pa.array([r[1] for r in rows], pa.date32()),
                     "y": y_arr})


#: the documented range of every numeric items column (docs/limits.md), used as the fuzz oracle
ITEM_RANGES = {
    "lead_time": (0.0, 3650.0),
    "lead_time_std": (0.0, 3650.0),
    "review_period": (0.0, 3650.0),
    "unit_cost": (1e-6, 1e12),
    "holding_rate": (1e-6, 100.0),
    "order_cost": (0.0, 1e12),
    "moq": (0.0, 1e15),
    "pack_size": (1e-6, 1e15),
    "demand_std": (0.0, 1e15),
}

FLOAT_EDGES = [0.0, 5e-324, 1e-300, 1e-12, 1e-6, 1e-3, 0.5, 1.0, 3.0, 30.0, 365.0, 3650.0, 3651.0, 1e6, 1e9,
               1e12, 1e15, 1e16, 1e100, 1e300, 1.7976931348623157e308, -0.0, -1.0, -1e300, math.nan, math.inf,
               -math.inf]


def any_float(lo: float = 0.0, hi: float = 100.0):
    """A float from the whole float range: a few edges and typical values, often in ``[lo, hi]``."""
    return st.one_of(st.sampled_from(FLOAT_EDGES), st.floats(min_value=lo, max_value=hi),
                     st.floats(allow_nan=True, allow_infinity=True))


@st.composite
def item_params(draw, *, extreme: bool = True) -> dict[str, float]:
    """One items row: every numeric column from the whole float range (``extreme``), or from
    ordinary values only."""
    typical = {"lead_time": (0.0, 60.0), "lead_time_std": (0.0, 10.0), "review_period": (0.0, 30.0),
               "unit_cost": (0.01, 1000.0), "holding_rate": (0.01, 1.0), "order_cost": (0.0, 500.0),
               "moq": (0.0, 200.0), "pack_size": (1.0, 48.0), "demand_std": (0.0, 50.0)}
    out = {}
    for name, (lo, hi) in typical.items():
        if extreme and draw(st.integers(0, 3)) == 0:
            out[name] = draw(any_float(lo, hi))
        else:
            out[name] = draw(st.floats(min_value=lo, max_value=hi))
    odd_levels = st.sampled_from([0.0, 1e-9, 0.5, 0.999999, 1.0, 2.0, math.nan])
    levels = st.one_of(st.floats(0.5, 0.999), odd_levels) if extreme else st.floats(0.5, 0.999)
    out["service_level"] = draw(levels)
    return out
