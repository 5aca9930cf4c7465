"""The one table of what each input column accepts, and the checks that read it.

Every input table stockopt reads (sales, items, demand summaries, forecasts, sample paths, policies)
has its columns described here once: the kind of value, whether a null is accepted (and what it
means), the accepted range (bounds, open or closed, ``+inf`` allowed or not), the default of an
optional column and the sentence that says what is accepted.  Two kinds of callers read the same
rules:

* the API boundary (:func:`stockopt.group_series`, the inventory checks of
  :mod:`stockopt.inventory._validate`) raises on the first bad row, naming table, column, series,
  row and the sentence;
* the nightly quarantine (:func:`stockopt.quarantine`, :func:`stockopt.quarantine_items`) sees the
  same rules row by row (:func:`problems`) and sets the series aside instead,

so a nightly run quarantines exactly what the API would refuse.  Column names here are the
defaults; the id, time and target columns take the names the caller gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns
from stockopt.errors import (
    ColumnTypeError,
    NegativeValueError,
    NonFiniteValueError,
    NullValueError,
    ParameterError,
    StockoptError,
    raise_error,
)

__all__ = [
    "ColumnRule",
    "RowCheck",
    "MAX_QUANTITY",
    "MAX_DAYS",
    "MAX_MONEY",
    "SALES",
    "SALES_CHECKS",
    "X_FUTURE",
    "X_FUTURE_CHECKS",
    "ITEMS",
    "DEMAND",
    "POLICY",
    "STOCK",
    "OPEN_ORDERS",
    "SUPPLIERS",
    "ORDER_ITEMS",
    "FORECAST_VALUE",
    "SAMPLE_VALUE",
    "ITEM_DEFAULTS",
    "SERVICE_METRICS",
    "Problem",
    "weekday_problems",
    "problems",
    "raise_first",
    "numeric_values",
    "is_numeric_type",
    "is_id_type",
    "is_text_type",
]

_INF = float("inf")
_NAN = float("nan")

#: the largest demand, forecast or quantity (pieces per period or per day) stockopt accepts.  float64
#: counts whole units exactly up to 2**53 (about 9e15), and every sum, square and product the methods
#: form from quantities up to 1e15 stays far below the float64 overflow (about 1.8e308), so results
#: stay finite; a larger value is a data error (docs/limits.md).
MAX_QUANTITY = 1e15


@dataclass(frozen=True)
class ColumnRule:
    """What one column accepts.

    Attributes
    ----------
    kind : {"id", "time", "number", "flag", "text", "weekdays"}
        The accepted type class: series/item ids (string, dictionary-encoded string or integer),
        dates (date32, date64, timestamp at midnight), numbers (integer, floating or decimal),
        booleans, text among ``choices``, or lists of weekdays (integers 0-6, 0 = Monday).
    required : bool
        The column must be present (otherwise a missing column means ``default`` for every row).
    nullable : bool
        A null is accepted; it means ``default``.
    default : float or str or None
        Value of an absent optional column and of its nulls.  NaN means "not given": the reader
        decides per row (e.g. an item's lead time left null takes its supplier's).
    lo, hi : float
        Accepted range of a number; ``lo_open``/``hi_open`` exclude the bound.
    allow_inf : bool
        ``+inf`` is accepted (e.g. an unlimited shelf life); NaN never is.
    choices : tuple of str
        Accepted values of a text column.
    accepted : str
        The sentence of what is accepted, used in every error and quarantine reason.
    """

    kind: str
    accepted: str
    required: bool = False
    nullable: bool = False
    default: Any = None
    lo: float = -_INF
    lo_open: bool = False
    hi: float = _INF
    hi_open: bool = False
    allow_inf: bool = False
    choices: tuple[str, ...] = ()

    def out_of_range(self, vals: np.ndarray) -> np.ndarray:
        """Rows of finite (or accepted infinite) ``vals`` outside ``[lo, hi]``."""
        with np.errstate(invalid="ignore"):
            low = vals <= self.lo if self.lo_open else vals < self.lo
            high = vals >= self.hi if self.hi_open else vals > self.hi
        return low | high

    def non_finite(self, vals: np.ndarray) -> np.ndarray:
        """NaN, and infinities other than an accepted ``+inf``."""
        inf_ok = (vals > 0) if self.allow_inf else np.zeros(vals.shape, dtype=bool)
        return np.isnan(vals) | (np.isinf(vals) & ~inf_ok)


def _num(accepted: str, **kw: Any) -> ColumnRule:
    return ColumnRule("number", accepted, **kw)


# --- sales: one row per series and period ------------------------------------------------------
SALES: dict[str, ColumnRule] = {
    "id": ColumnRule("id", "string, dictionary-encoded string or integer ids, one in every row",
                     required=True),
    "time": ColumnRule("time", "a date (date32, date64 or timestamp at midnight) in every row",
                       required=True),
    "target": _num("a finite demand in [0, 1e15] (or allow_negative=True: in [-1e15, 1e15])", required=True,
                   lo=0.0, hi=MAX_QUANTITY),
    "extra": ColumnRule("number", "a numeric or boolean column"),
}



@dataclass(frozen=True)
class RowCheck:
    """A rule on sales rows beyond one column's values: what is wrong, and what is accepted."""

    what: str
    accepted: str


#: the row checks of a sales table, in the order :func:`stockopt.group_series` applies them; the
#: quarantine reports a series under the same ``what``
SALES_CHECKS: dict[str, RowCheck] = {
    "null_time": RowCheck("null time stamp", SALES["time"].accepted),
    "time_of_day": RowCheck("time stamp with a time of day", "whole days (midnight)"),
    "off_frequency": RowCheck("time stamp off the frequency", "dates on frequency {freq}"),
    "time_range": RowCheck("time stamp out of range", "dates within +-5 million years of 1970"),
    "null_target": RowCheck("null or NaN demand", "a number in every row, or missing='zero' / 'interpolate'"),
    "inf_target": RowCheck("infinite demand", SALES["target"].accepted),
    "big_target": RowCheck("demand beyond 1e15", SALES["target"].accepted),
    "negative_target": RowCheck("negative demand", SALES["target"].accepted),
    "duplicate": RowCheck("duplicate (series, time) pair", "one row per series and period"),
    "gap": RowCheck("missing periods inside a series", "consecutive periods or fill_gaps='zero'"),
    "spacing": RowCheck("series spaced more coarsely than the frequency",
                        "series on the periods of {freq} (this one is on {own}); pass freq=... or group the "
                        "series of each frequency apart"),
    "null_censored": RowCheck("null in-stock flag",
                              "true or false in every row of an in-stock flag, or a stock level in every row "
                              "of an on_hand column"),
}

#: service measures an item may target, and their codes for the kernels
SERVICE_METRICS: dict[str, int] = {"cycle": 0, "fill_rate": 1}

# --- items: one row per item-location (units: days, money, per year, selling units) --------------
#: the longest lead time, lead-time deviation and review period accepted (days; ten years): it bounds
#: the work of the methods that step through days or outstanding orders (docs/limits.md)
MAX_DAYS = 3650.0
#: the largest money amount accepted (unit cost, order cost, backorder cost)
MAX_MONEY = 1e12

ITEMS: dict[str, ColumnRule] = {
    "lead_time": _num("a finite lead time in [0, 3650] days", required=True, lo=0.0, hi=MAX_DAYS),
    "lead_time_std": _num("a finite standard deviation in [0, 3650] days", nullable=True, default=0.0, lo=0.0,
                          hi=MAX_DAYS),
    "review_period": _num("a finite review period in [0, 3650] days", nullable=True, default=1.0, lo=0.0,
                          hi=MAX_DAYS),
    "unit_cost": _num("a finite unit cost in [1e-6, 1e12]", nullable=True, default=1.0, lo=1e-6,
                      hi=MAX_MONEY),
    "holding_rate": _num("a finite holding rate in [1e-6, 100] per year", nullable=True, default=0.25,
                         lo=1e-6, hi=100.0),
    "order_cost": _num("a finite order cost in [0, 1e12]", nullable=True, default=0.0, lo=0.0, hi=MAX_MONEY),
    "service_level": _num("a service level strictly between 0 and 1", nullable=True, default=0.95, lo=0.0,
                          lo_open=True, hi=1.0, hi_open=True),
    "moq": _num("a finite minimum order quantity in [0, 1e15]", nullable=True, default=0.0, lo=0.0,
                hi=MAX_QUANTITY),
    "pack_size": _num("a finite pack size in [1e-6, 1e15]", nullable=True, default=1.0, lo=1e-6,
                      hi=MAX_QUANTITY),
    "shelf_life_days": _num("a shelf life > 0 days (inf = not perishable)", nullable=True, default=_INF,
                            lo=0.0, lo_open=True, allow_inf=True),
    "demand_std": _num("a finite demand standard deviation in [0, 1e15] per day", lo=0.0, hi=MAX_QUANTITY),
    "stockout_cost": _num("a finite backorder cost in (0, 1e12] per unit per day", lo=0.0, lo_open=True,
                          hi=MAX_MONEY),
    "service_metric": ColumnRule("text", "'cycle' or 'fill_rate'", nullable=True, default="cycle",
                                 choices=tuple(SERVICE_METRICS)),
}

#: optional item columns and their defaults
ITEM_DEFAULTS: dict[str, float] = {name: r.default for name, r in ITEMS.items()
                                   if r.kind == "number" and r.nullable}

# --- demand summary: one row per item, stationary daily demand ---------------------------------
DEMAND: dict[str, ColumnRule] = {
    "demand_mean": _num("a finite mean demand in [0, 1e15] per day", required=True, lo=0.0, hi=MAX_QUANTITY),
    "demand_std": ITEMS["demand_std"],
}

#: the forecast column of a forecast table and the value of a sample-path table (units per period)
FORECAST_VALUE = _num("finite forecasts in [0, 1e15]", required=True, lo=0.0, hi=MAX_QUANTITY)
SAMPLE_VALUE = _num("finite demand in [0, 1e15]", required=True, lo=0.0, hi=MAX_QUANTITY)
FORECAST_BOUND = _num("a finite number", required=True)

# --- policy: the output of inventory_policy, read back by simulate_inventory ---------------------
POLICY: dict[str, ColumnRule] = {
    "reorder_point": _num("a finite reorder point >= 0", required=True, lo=0.0),
    "order_up_to": _num("a finite order-up-to level >= 0", required=True, lo=0.0),
    "order_quantity": _num("a finite order quantity >= 0", required=True, lo=0.0),
    "lead_time": ITEMS["lead_time"],
    "lead_time_std": ColumnRule(**{**ITEMS["lead_time_std"].__dict__, "required": True, "nullable": False}),
    "review_period": ColumnRule(**{**ITEMS["review_period"].__dict__, "required": True, "nullable": False}),
    "unit_cost": ColumnRule(**{**ITEMS["unit_cost"].__dict__, "required": True, "nullable": False}),
    "holding_rate": ColumnRule(**{**ITEMS["holding_rate"].__dict__, "required": True, "nullable": False}),
    "shelf_life_days": ITEMS["shelf_life_days"],
    "protection_demand_mean": _num("a finite mean demand >= 0 over the protection interval", lo=0.0),
    "protection_demand_std": _num("a finite demand standard deviation >= 0 over the protection interval",
                                  lo=0.0),
}

# --- drivers over the horizon (X_future of forecast / run_nightly / plan) ---------------------------
X_FUTURE: dict[str, ColumnRule] = {
    "id": ColumnRule("id", "the sales' series ids (string, dictionary-encoded string or integer), one in "
                     "every row", required=True),
    "time": ColumnRule("time", "a date on the sales' frequency in every row", required=True),
    "driver": ColumnRule("number", "one or more boolean or numeric columns, each also a column of the sales "
                         "(the same driver over the history); finite in the horizon, prices > 0",
                         required=True),
}

X_FUTURE_CHECKS: dict[str, RowCheck] = {
    "unknown_id": RowCheck("id not in the sales", "ids of series in the sales table"),
    "null_time": RowCheck("null date", X_FUTURE["time"].accepted),
    "time_of_day": RowCheck("date with a time of day", "whole days (midnight)"),
    "off_frequency": RowCheck("date off the frequency", "dates on frequency {freq}"),
    "null_driver": RowCheck("null or non-finite driver value in the horizon", X_FUTURE["driver"].accepted),
    "bad_price": RowCheck("price <= 0 in the horizon", "a price > 0 in every period of the horizon"),
    "duplicate": RowCheck("horizon period repeated", "one row per series and period"),
    "missing_period": RowCheck("horizon period missing", "a row for each of the h periods after the series' "
                               "history"),
}

# --- replenishment: stock, open orders, suppliers, and the items columns the orders read ----------
STOCK: dict[str, ColumnRule] = {
    "on_hand": _num("a finite stock on hand >= 0 units", required=True, lo=0.0),
    "backorders": _num("finite backorders >= 0 units", nullable=True, default=0.0, lo=0.0),
    "reserved": _num("a finite reserved quantity >= 0 units", nullable=True, default=0.0, lo=0.0),
}

OPEN_ORDERS: dict[str, ColumnRule] = {
    "arrival_date": ColumnRule("time", "a date (date32, date64 or timestamp) in every row", required=True),
    "quantity": _num("a finite open-order quantity >= 0 units", required=True, lo=0.0),
}

SUPPLIERS: dict[str, ColumnRule] = {
    "supplier_id": ColumnRule("id", "string or integer supplier ids, one row per supplier", required=True),
    "lead_time": _num("a finite lead time >= 0 days", nullable=True, default=_NAN, lo=0.0),
    "order_days": ColumnRule("weekdays", "a list of weekdays 0-6 (0 = Monday; null = every day)",
                             nullable=True),
    "min_order_value": _num("a finite minimum order value >= 0", nullable=True, default=0.0, lo=0.0),
    "budget": _num("a budget >= 0 (inf = none)", nullable=True, default=_INF, lo=0.0, allow_inf=True),
    "truck_volume": _num("a truck volume > 0 (inf = no trucks)", nullable=True, default=_INF, lo=0.0,
                         lo_open=True, allow_inf=True),
    "truck_weight": _num("a truck payload > 0 (inf = no trucks)", nullable=True, default=_INF, lo=0.0,
                         lo_open=True, allow_inf=True),
    "truck_cost": _num("a finite cost >= 0 per truck", nullable=True, default=0.0, lo=0.0),
    "max_trucks": _num("a number of trucks >= 0 (inf = no limit)", nullable=True, default=_INF, lo=0.0,
                       allow_inf=True),
}


def _given(rule: ColumnRule, accepted: str) -> ColumnRule:
    """``rule`` where a null or an absent column means "not given" (NaN) instead of an error."""
    return replace(rule, required=False, nullable=True, default=_NAN, accepted=accepted)


#: the items columns as the replenishment reads them (the inventory ones keep their rules)
ORDER_ITEMS: dict[str, ColumnRule] = {
    "supplier_id": ColumnRule("id", "the supplier_id of a suppliers row", required=True),
    **{k: ITEMS[k] for k in ("unit_cost", "holding_rate", "order_cost", "service_level", "moq", "pack_size",
                             "shelf_life_days")},
    "lead_time": _given(ITEMS["lead_time"], "a finite lead time >= 0 days (null: the supplier's)"),
    "max_stock": _num("a maximum stock >= 0 units (inf = none)", nullable=True, default=_INF, lo=0.0,
                      allow_inf=True),
    "volume": _num("a finite volume >= 0 per unit", nullable=True, default=0.0, lo=0.0),
    "weight": _num("a finite weight >= 0 per unit", nullable=True, default=0.0, lo=0.0),
    "demand_std": _given(ITEMS["demand_std"], "a finite demand standard deviation >= 0 per day (for a "
                         "forecast without intervals)"),
    "stockout_cost": _given(ITEMS["stockout_cost"], "a finite backorder cost > 0 per unit per day (null: "
                            "implied by service_level)"),
}


def is_numeric_type(typ: pa.DataType) -> bool:
    """Integer, floating, decimal or all-null columns hold numbers."""
    return (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ)
            or pa.types.is_null(typ))


def is_text_type(typ: pa.DataType) -> bool:
    """String, large string, string view, dictionary or all-null columns hold text."""
    return (pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ)
            or pa.types.is_dictionary(typ) or pa.types.is_null(typ))


def is_id_type(typ: pa.DataType) -> bool:
    """Ids are strings, string views or integers, possibly dictionary-encoded."""
    value_type = typ.value_type if pa.types.is_dictionary(typ) else typ
    return (pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
            or pa.types.is_string_view(value_type) or pa.types.is_integer(value_type))


def numeric_values(tbl: pa.Table, name: str, rule: ColumnRule, *,
                   table: str) -> tuple[np.ndarray, np.ndarray]:
    """Column ``name`` as float64 (absent optional column: ``rule.default``) and its null mask.

    Nulls of a nullable column are replaced by the default; otherwise they stay NaN and are
    reported by :func:`problems`.  A non-numeric column raises :class:`ColumnTypeError`.
    """
    n = tbl.num_rows
    if name not in tbl.column_names:
        if rule.required or rule.default is None:
            require_columns(tbl, {name: name}, table=table)
        default = float(rule.default)  # NaN: "not given", read like a column of nulls
        return np.full(n, default, dtype=np.float64), np.full(n, np.isnan(default), dtype=bool)
    col = tbl.column(name)
    if not is_numeric_type(col.type):
        raise_error(ColumnTypeError, "non-numeric column", table=table, column=name, expected=rule.accepted,
                    got=str(col.type))
    if n == 0:
        return np.empty(0), np.zeros(0, dtype=bool)
    null = _to_numpy(pc.is_null(col), np.bool_) if col.null_count else np.zeros(n, dtype=bool)
    vals = _to_numpy(pc.fill_null(col.cast(pa.float64()), np.nan), np.float64).astype(np.float64, copy=True)
    if rule.nullable and null.any():
        vals[null] = rule.default
    return vals, null


@dataclass(frozen=True)
class Problem:
    """Rows breaking one rule of one column: the mask, the error class and what is wrong."""

    mask: np.ndarray
    cls: type[StockoptError]
    what: str


def problems(vals: np.ndarray, null: np.ndarray, rule: ColumnRule, name: str) -> list[Problem]:
    """Every kind of violation of ``rule`` by a numeric column, in the order the API reports them.

    ``vals`` and ``null`` come from :func:`numeric_values`.
    """
    out = []
    if not rule.nullable and null.any():
        out.append(Problem(null, NullValueError, f"null {name}"))
    bad = rule.non_finite(vals) & ~null  # a null is reported as a null, or is the default (NaN: not given)
    if bad.any():
        out.append(Problem(bad, NonFiniteValueError, f"non-finite {name}"))
    rng = rule.out_of_range(vals) & ~bad  # NaN (and so a null left as NaN) is in no range
    if rng.any():
        neg = rng & (vals < 0) & (rule.lo == 0.0)
        if neg.any() and neg[int(np.argmax(rng))]:
            out.append(Problem(rng, NegativeValueError, f"{name} out of range"))
        else:
            out.append(Problem(rng, ParameterError, f"{name} out of range"))
    return out


def text_problems(tbl: pa.Table, name: str, rule: ColumnRule, *,
                  table: str) -> tuple[np.ndarray, list[Problem]]:
    """Codes (index in ``rule.choices``; the default's for nulls) and violations of a text column."""
    n = tbl.num_rows
    default_code = rule.choices.index(rule.default) if rule.default in rule.choices else 0
    if name not in tbl.column_names:
        return np.full(n, default_code, dtype=np.int8), []
    col = tbl.column(name)
    if not is_text_type(col.type):
        raise_error(ColumnTypeError, f"{name} must be text", table=table, column=name, expected=rule.accepted,
                    got=str(col.type))
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    col = col.cast(pa.large_string())
    codes = np.full(n, -1, dtype=np.int8)
    for k, choice in enumerate(rule.choices):  # a loop over the few choices, not over rows
        codes[_to_numpy(pc.fill_null(pc.equal(col, choice), False), np.bool_)] = k
    null = _to_numpy(pc.is_null(col), np.bool_) if n else np.zeros(0, dtype=bool)
    out = []
    if rule.nullable:
        codes[null] = default_code
    elif null.any():
        out.append(Problem(null, NullValueError, f"null {name}"))
    bad = (codes < 0) & ~null
    if bad.any():
        out.append(Problem(bad, ParameterError, f"unknown {name}"))
    return codes, out


def weekday_problems(tbl: pa.Table, name: str, rule: ColumnRule, *,
                     table: str) -> tuple[np.ndarray, list[Problem]]:
    """``(n, 7)`` booleans (row ``j`` accepts weekday ``d``, 0 = Monday) and violations of a weekday-list
    column.

    An absent column or a null list means every day.  An empty list, a null weekday or a weekday
    outside 0-6 is a problem of its row; a column that is not a list of integers raises
    :class:`ColumnTypeError`.
    """
    n = tbl.num_rows
    mask = np.ones((n, 7), dtype=bool)
    if name not in tbl.column_names:
        return mask, []
    col = tbl.column(name)
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_null(col.type):
        return mask, []
    is_list = pa.types.is_list(col.type) or pa.types.is_large_list(col.type) or \
        pa.types.is_fixed_size_list(col.type)
    if not is_list or not (pa.types.is_integer(col.type.value_type) or pa.types.is_null(col.type.value_type)):
        raise_error(ColumnTypeError, f"{name} must be a list of weekdays", table=table, column=name,
                    expected=rule.accepted, got=str(col.type))
    present = _to_numpy(pc.is_valid(col), np.bool_)
    lens = _to_numpy(pc.fill_null(pc.list_value_length(col), 0), np.int64)
    flat = pc.list_flatten(col)
    parent = _to_numpy(pc.list_parent_indices(col), np.int64)
    null_day = _to_numpy(pc.is_null(flat), np.bool_) if flat.null_count else np.zeros(len(flat), dtype=bool)
    days = _to_numpy(pc.fill_null(flat.cast(pa.int64()), 0), np.int64) if len(flat) else np.zeros(0, np.int64)
    out_day = ((days < 0) | (days > 6)) & ~null_day
    out = []
    for bad, cls, what in ((present & (lens == 0), ParameterError, f"empty {name}"),
                           (np.bincount(parent[null_day], minlength=n) > 0, NullValueError,
                            f"null weekday in {name}"),
                           (np.bincount(parent[out_day], minlength=n) > 0, ParameterError,
                            f"weekday out of range in {name}")):
        if bad.any():
            out.append(Problem(bad, cls, what))
    ok = ~null_day & ~out_day
    mask[present] = False
    mask[parent[ok], days[ok]] = True
    return mask, out


def raise_first(found: list[Problem], rule: ColumnRule, *, table: str, column: str,
                series_of: Callable[[int], Any], got_of: Callable[[int], Any]) -> None:
    """Raise the first problem of ``found`` (if any) at its first row, naming the series there and
    the value found (``got_of(row)``; not for a null)."""
    for p in found:
        row = int(np.argmax(p.mask))
        raise_error(p.cls, p.what, table=table, column=column, series=series_of(row), row=row,
                    expected=rule.accepted, got=None if p.cls is NullValueError else got_of(row))
