"""The forecast horizon of a nightly run, derived from what its inventory and order stages read.

The inventory stage sizes each item over its protection interval, lead time + review period (a
review period of 0 counts as one day, the nightly run orders once a day), read from the first
forecast day on; the order stage reads the demand from the first forecast day to the arrival of the
order after the next one: the days from the first forecast day to ``as_of``, the days to the
supplier's second order day on or after ``as_of`` (up to 13 with weekly order days) and the item's
lead time.  The horizon is the longest of these over the usable items rows, in periods of the
sales' frequency, and never shorter than a requested ``h``.

The horizon is a fact of the whole input, fixed before any series is read: every usable row of the
items table counts (also a row whose series has no sales), so that a run cut in partitions
(:func:`stockopt.plan`) derives it once from the whole items and suppliers tables and plans every
partition with it, bit-identical to one run on the whole input.

An items row asking for more than ``max_horizon_days`` of lead time + review period is a fault of
that row (a lead time of ten years in daily data), quarantined with its reason, never a horizon for
every series: the forecast costs about the same per period of horizon for every series
(``docs/scale.md``).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy
from stockopt._rules import ITEMS, SUPPLIERS, weekday_problems
from stockopt.errors import ParameterError, raise_error
from stockopt.frequency import Frequency

__all__ = ["DEFAULT_LEAD_TIME", "DEFAULT_SERVICE_LEVEL", "MAX_HORIZON_DAYS", "Horizon", "derive_horizon",
           "fill_item_defaults", "fixed_horizon", "item_need_days"]

#: lead time (days) of the items of a run without an items table
DEFAULT_LEAD_TIME = 7.0
#: cycle service level of the items of a run without an items table, and of items rows lacking one
DEFAULT_SERVICE_LEVEL = float(ITEMS["service_level"].default)
#: the longest lead time + review period (days) an items row may ask the forecast to cover by default;
#: a longer one is a fault of that row (docs/limits.md)
MAX_HORIZON_DAYS = 365.0
#: the tolerance of a horizon covering a number of days (as the inventory stage reads it)
_TOL = 1e-9


@dataclass(frozen=True)
class Horizon:
    """The horizon a run forecasts and why.

    Attributes
    ----------
    h : int
        Periods forecast: the larger of ``requested`` and ``needed``.
    requested : int or None
        The ``h`` asked for (None: derived).
    needed : int
        Periods the usable items need (>= 1).
    limit_days : float
        Items rows whose lead time + review period exceed it are quarantined
        (``max_horizon_days``, or the requested horizon's days when longer).
    reason : str
        Which item (or default) needed the horizon, in words.
    """

    h: int
    requested: int | None
    needed: int
    limit_days: float
    reason: str

    def summary(self) -> dict[str, Any]:
        """The run summary's horizon entries."""
        return {"horizon": self.h, "horizon_requested": self.requested, "horizon_needed": self.needed,
                "horizon_reason": self.reason}


#: the horizon a partitioned plan fixed for all its partitions (set around each partition's run_nightly by
#: :func:`stockopt.nightly.plan_partition`; None in a run of its own)
_FIXED: ContextVar[Horizon | None] = ContextVar("stockopt_fixed_horizon", default=None)


@contextmanager
def fixed_horizon(hz: Horizon | dict[str, Any] | None) -> Iterator[None]:
    """Within the block, :func:`derive_horizon` returns ``hz`` (a partition uses the whole run's)."""
    if isinstance(hz, dict):
        hz = Horizon(**hz)
    token = _FIXED.set(hz)
    try:
        yield
    finally:
        _FIXED.reset(token)


def fill_item_defaults(items: pa.Table, *, lead_time: float | None, review_period: float,
                       service_level: float) -> pa.Table:
    """``items`` with the run's defaults in place of absent columns and nulls.

    ``lead_time`` None leaves the column as given (required, a null quarantines its row);
    ``review_period`` and ``service_level`` replace the rules' defaults (1 day, 0.95).
    """
    n = items.num_rows
    for name, value in (("lead_time", lead_time), ("review_period", review_period),
                        ("service_level", service_level)):
        if value is None or (name != "lead_time" and value == ITEMS[name].default):
            continue  # the rules' own default already means this value
        if name not in items.column_names:
            items = items.append_column(name, pa.array(np.full(n, float(value))))
        elif items.column(name).null_count:
            col = pc.fill_null(pc.cast(items.column(name), pa.float64()), float(value))
            items = items.set_column(items.column_names.index(name), name, col)
    return items


def item_need_days(lead: np.ndarray, review: np.ndarray) -> np.ndarray:
    """Days of forecast the inventory stage reads: lead time + review period (0 counts as 1 day)."""
    return lead + np.where(review > 0, review, 1.0)


def _periods(days: float, per: float) -> int:
    return max(1, int(math.ceil(days / per - _TOL)))


def first_forecast_day(freq: Frequency, last_day: int) -> int:
    """The first forecast day of a series ending on ``last_day`` (days since 1970-01-01)."""
    period, _ = freq.to_period(np.array([last_day], dtype=np.int64))
    return int(freq.to_days(period + 1)[0])


def derive_horizon(items: pa.Table | None, suppliers: Any, *, freq: Frequency, last_day: int | None,
                   as_of: Any, h: int | None, id_col: str, lead_time: float | None, review_period: float,
                   max_horizon_days: float) -> Horizon:
    """The horizon a run forecasts: what its items need, at least ``h``.

    Parameters
    ----------
    items : pyarrow.Table or None
        The whole items table, the run's defaults filled in (:func:`fill_item_defaults`); None: every
        item has the default lead time and review period.
    suppliers : Arrow-compatible table or None
        The whole suppliers table when the run proposes orders.
    freq : Frequency
        The sales' frequency.
    last_day : int or None
        The latest sales stamp of the whole input (days since 1970-01-01); None when unknown.
    as_of, h, id_col, lead_time, review_period, max_horizon_days
        The run's options.

    Returns
    -------
    Horizon
    """
    fixed = _FIXED.get()
    if fixed is not None:
        return fixed
    nominal = freq.nominal_days
    limit = max(float(max_horizon_days), h * nominal if h is not None else 0.0)
    if items is None:
        lt = DEFAULT_LEAD_TIME if lead_time is None else float(lead_time)
        need = float(item_need_days(np.array([lt]), np.array([review_period]))[0])
        if need > limit * (1 + 1e-12):
            raise_error(ParameterError, "bad argument", table="run_nightly", parameter="lead_time",
                        expected=f"a lead time + review period within max_horizon_days ({limit:g} days)",
                        got=f"{lt:g} + {review_period:g} days")
        needed = _periods(need, nominal)
        rv = review_period if review_period > 0 else 1.0
        why = f"the default lead time {lt:g} + review period {rv:g} days (no items table)"
        return _result(h, needed, limit, why)
    from stockopt.inventory._validate import _duplicated, check_ids, item_problems

    ids = check_ids(items, "items", id_col)
    vals, found = item_problems(items)
    bad = _duplicated(ids)
    for _, p in found:
        bad |= p.mask
    lead, review = vals["lead_time"], vals["review_period"]
    need = item_need_days(lead, review)
    ok = ~bad & ~(need > limit * (1 + 1e-12))
    if not ok.any():
        return _result(h, 1, limit, "no usable items row")
    pol_periods = np.ceil(need / nominal - _TOL)
    best = int(np.argmax(np.where(ok, pol_periods, -1)))
    needed = max(1, int(pol_periods[best]))
    rv = review[best] if review[best] > 0 else 1.0
    why = f"item {ids[best].as_py()!r}: lead time {lead[best]:g} + review period {rv:g} days"
    if suppliers is not None and last_day is not None:
        o_need, o_why = _order_need(items, ids, lead, ok, suppliers, freq, last_day, as_of)
        if o_need is not None and o_need > needed:
            needed, why = o_need, o_why
    return _result(h, needed, limit, why)


def _result(h: int | None, needed: int, limit: float, why: str) -> Horizon:
    if h is not None and h >= needed:
        return Horizon(h, h, needed, limit, f"as requested; the items need {needed} ({why})")
    return Horizon(needed, h, needed, limit, why)


def _order_need(items: pa.Table, ids: pa.Array, lead: np.ndarray, ok: np.ndarray, suppliers: Any,
                freq: Frequency, last_day: int, as_of: Any) -> tuple[int | None, str]:
    """Periods the order stage reads for the usable items with a supplier whose order days are valid:
    from the first forecast day to the arrival of the order after the next one."""
    from stockopt.inventory._validate import as_table, id_strings
    from stockopt.replenishment._tables import SUP, as_of_day, next_order_days

    sp = as_table(suppliers, "suppliers")
    if SUP not in items.column_names or SUP not in sp.column_names:
        return None, ""  # the replenishment stage refuses these tables itself
    mask, found = weekday_problems(sp, "order_days", SUPPLIERS["order_days"], table="suppliers")
    sup_ok = np.ones(sp.num_rows, dtype=bool)
    for p in found:
        sup_ok &= ~p.mask
    f0 = first_forecast_day(freq, last_day)
    day0 = as_of_day(as_of, "run_nightly") if as_of is not None else f0
    _, o2 = next_order_days(mask, day0)
    sup_ids = id_strings(sp.column(SUP))
    pos = _to_numpy(pc.fill_null(pc.index_in(id_strings(items.column(SUP)), value_set=sup_ids), -1), np.int64)
    use = ok & (pos >= 0)
    use[use] &= sup_ok[pos[use]]
    if not use.any():
        return None, ""
    arrival = np.where(use, o2[np.maximum(pos, 0)] + np.ceil(np.nan_to_num(lead) - _TOL), -np.inf)
    best = int(np.argmax(arrival))
    days = float(arrival[best] - f0)
    gap = day0 - f0
    why = (f"orders of item {ids[best].as_py()!r}: {days:g} days from the first forecast day to the arrival "
           f"of the order after the next (as_of {gap:+d} days, lead time {lead[best]:g} days)")
    return _periods(days, freq.days_per_period), why
