"""Validation and reading of the replenishment tables (stock, open orders, items, suppliers, policy).

One rule table (:data:`RULES`) states every numeric column's default and accepted range, per table;
:func:`read_columns` applies it once, vectorised, through :func:`stockopt.inventory._validate.numeric`,
so each bad value raises the same named :mod:`stockopt.errors` exception (table, column, item, first
row, what is accepted).  The items' shared columns take their ranges from the inventory table
(``inventory._validate._RANGES``), so an item accepted by ``inventory_policy`` is accepted here.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import time_to_days
from stockopt.errors import (
    ColumnTypeError,
    DuplicateRowError,
    MissingColumnError,
    NullValueError,
    ParameterError,
    ValidationError,
    raise_error,
)
from stockopt.inventory._validate import _RANGES, ID, as_table, check_ids, id_strings, numeric

SUP = "supplier_id"

#: (default, lower bound, lower inclusive, upper bound, upper inclusive, +inf allowed, accepted)
#: default None = required (no column, or a null, is an error).  Units: days, selling units, money.
Rule = tuple[float | None, float, bool, float, bool, bool, str]


def _from_inventory(name: str, default: float | None) -> Rule:
    lo, lo_incl, hi, hi_incl, allow_inf, expected = _RANGES[name]
    return (default, lo, lo_incl, hi, hi_incl, allow_inf, expected)


RULES: dict[str, dict[str, Rule]] = {
    "stock": {
        "on_hand": (None, 0.0, True, np.inf, False, False, "a finite stock on hand >= 0 units"),
        "backorders": (0.0, 0.0, True, np.inf, False, False, "finite backorders >= 0 units"),
        "reserved": (0.0, 0.0, True, np.inf, False, False, "a finite reserved quantity >= 0 units"),
    },
    "open_orders": {
        "quantity": (None, 0.0, True, np.inf, False, False, "a finite open-order quantity >= 0 units"),
    },
    "items": {
        "unit_cost": _from_inventory("unit_cost", 1.0),
        "holding_rate": _from_inventory("holding_rate", 0.25),
        "order_cost": _from_inventory("order_cost", 0.0),
        "service_level": _from_inventory("service_level", 0.95),
        "moq": _from_inventory("moq", 0.0),
        "pack_size": _from_inventory("pack_size", 1.0),
        "shelf_life_days": _from_inventory("shelf_life_days", np.inf),
        "lead_time": (
            np.nan,
            0.0,
            True,
            np.inf,
            False,
            False,
            "a finite lead time >= 0 days (null: the supplier's)",
        ),
        "max_stock": (np.inf, 0.0, True, np.inf, True, True, "a maximum stock >= 0 units (inf = none)"),
        "volume": (0.0, 0.0, True, np.inf, False, False, "a finite volume >= 0 per unit"),
        "weight": (0.0, 0.0, True, np.inf, False, False, "a finite weight >= 0 per unit"),
        "demand_std": (
            np.nan,
            0.0,
            True,
            np.inf,
            False,
            False,
            "a finite demand standard deviation >= 0 per day (for a forecast without intervals)",
        ),
        "stockout_cost": (
            np.nan,
            0.0,
            False,
            np.inf,
            False,
            False,
            "a finite backorder cost > 0 per unit per day (null: implied by service_level)",
        ),
    },
    "suppliers": {
        "lead_time": (np.nan, 0.0, True, np.inf, False, False, "a finite lead time >= 0 days"),
        "min_order_value": (0.0, 0.0, True, np.inf, False, False, "a finite minimum order value >= 0"),
        "budget": (np.inf, 0.0, True, np.inf, True, True, "a budget >= 0 (inf = none)"),
        "truck_volume": (np.inf, 0.0, False, np.inf, True, True, "a truck volume > 0 (inf = no trucks)"),
        "truck_weight": (np.inf, 0.0, False, np.inf, True, True, "a truck payload > 0 (inf = no trucks)"),
        "truck_cost": (0.0, 0.0, True, np.inf, False, False, "a finite cost >= 0 per truck"),
        "max_trucks": (np.inf, 0.0, True, np.inf, True, True, "a number of trucks >= 0 (inf = no limit)"),
    },
}

#: policy columns read by replenish (the output of ``inventory_policy``)
POLICY_COLUMNS = (
    "policy",
    "distribution",
    "reorder_point",
    "order_up_to",
    "order_quantity",
    "protection_demand_mean",
    "protection_demand_std",
    "lead_time",
    "review_period",
)
POLICY_RULES: dict[str, Rule] = {
    "reorder_point": (None, -np.inf, True, np.inf, False, False, "a finite reorder point"),
    "order_up_to": (None, -np.inf, True, np.inf, False, False, "a finite order-up-to level"),
    "order_quantity": (None, 0.0, True, np.inf, False, False, "a finite order quantity >= 0"),
    "protection_demand_mean": (None, 0.0, True, np.inf, False, False, "a finite mean demand >= 0"),
    "protection_demand_std": (None, 0.0, True, np.inf, False, False, "a finite demand std >= 0"),
    "lead_time": (None, 0.0, True, np.inf, False, False, "a finite lead time >= 0 days"),
    "review_period": (None, 0.0, True, np.inf, False, False, "a finite review period >= 0 days"),
}


def read_columns(tbl: pa.Table, table: str, ids: pa.Array, rules: dict[str, Rule]) -> dict[str, np.ndarray]:
    """Every column of ``rules`` as float64 (nulls and absent columns take the default)."""
    out = {}
    for name, (default, lo, lo_incl, hi, hi_incl, allow_inf, expected) in rules.items():
        optional = default is not None and np.isnan(default)  # null = "not given" (NaN in the output)
        fill = (lo if lo_incl else lo + 1.0) if optional else default
        vals = numeric(
            tbl,
            name,
            table,
            ids,
            default=fill,
            lo=lo,
            lo_incl=lo_incl,
            hi=hi,
            hi_incl=hi_incl,
            allow_inf=allow_inf,
            expected=expected,
        )
        if optional:
            col = tbl.column(name) if name in tbl.column_names else None
            given = np.asarray(pc.is_valid(col)) if col is not None else np.zeros(tbl.num_rows, bool)
            vals = np.where(given, vals, np.nan)
        out[name] = vals
    return out


def unique_ids(tbl: pa.Table, table: str, col: str = ID) -> pa.Array:
    """Column ``col`` as strings, checked for presence, nulls and duplicates."""
    if col not in tbl.column_names:
        raise MissingColumnError(
            f"{table}: missing column {col!r}; the table has columns {tbl.column_names}",
            table=table,
            column=col,
        )
    ids = id_strings(tbl.column(col)) if col != ID else check_ids(tbl, table)
    if ids.null_count:
        row = int(np.flatnonzero(~np.asarray(pc.is_valid(ids)))[0])
        raise_error(NullValueError, f"null {col}", table=table, column=col, row=row, expected="a non-null id")
    if len(ids) and len(pc.unique(ids)) != len(ids):
        counts = pc.value_counts(ids)
        dup = counts.field("values")[int(np.flatnonzero(np.asarray(counts.field("counts")) > 1)[0])].as_py()
        row = int(np.flatnonzero(np.asarray(pc.equal(ids, dup)))[1])
        raise_error(
            DuplicateRowError,
            f"duplicate {col}",
            table=table,
            column=col,
            series=dup,
            row=row,
            expected=f"one row per {col}",
        )
    return ids


def rows_for(needed: pa.Array, have: pa.Array, *, table: str, needed_by: str) -> np.ndarray:
    """Row of ``have`` for each id of ``needed``; a named error for the first id without one."""
    idx = pc.index_in(needed, value_set=have)
    if idx.null_count:
        miss = int(np.flatnonzero(~np.asarray(pc.is_valid(idx)))[0])
        raise_error(
            ValidationError,
            f"no {table} row for an item of the {needed_by}",
            table=table,
            column=ID,
            series=needed[miss].as_py(),
            expected=f"one {table} row per item of the {needed_by}",
        )
    return np.asarray(idx, dtype=np.int64)


def as_of_day(as_of: Any) -> int:
    """``as_of`` (ISO string, date, datetime or numpy datetime64) as days since 1970-01-01."""
    try:
        if isinstance(as_of, (_dt.datetime, np.datetime64)):
            return int(np.datetime64(as_of, "D").astype(np.int64))
        if isinstance(as_of, _dt.date):
            return int(np.datetime64(as_of.isoformat(), "D").astype(np.int64))
        if isinstance(as_of, str):
            return int(np.datetime64(as_of[:10], "D").astype(np.int64))
    except ValueError:
        pass
    raise_error(
        ParameterError,
        "as_of is not a date",
        column="as_of",
        expected="an ISO date string ('2026-11-23'), a datetime.date or a numpy datetime64",
        got=as_of,
    )
    raise AssertionError  # unreachable


def date_days(col: pa.ChunkedArray | pa.Array, table: str, column: str, ids: pa.Array) -> np.ndarray:
    """A date column as int64 days, no nulls."""
    if col.null_count:
        valid = np.asarray(pc.is_valid(col))
        row = int(np.flatnonzero(~valid)[0])
        raise_error(
            NullValueError,
            f"null {column}",
            table=table,
            column=column,
            series=ids[row].as_py(),
            row=row,
            expected="a date",
        )
    return np.asarray(time_to_days(col, table=table, column=column)[0], dtype=np.int64)


def order_day_masks(tbl: pa.Table, sup_ids: pa.Array) -> np.ndarray:
    """``(n, 7)`` booleans: supplier ``j`` takes orders on weekday ``d`` (0 = Monday).

    ``order_days`` is a list of weekdays per supplier; an absent column or a null list means every
    day.  A value outside 0-6, or an empty list, is an error.
    """
    n = tbl.num_rows
    mask = np.ones((n, 7), dtype=bool)
    if "order_days" not in tbl.column_names:
        return mask
    col = tbl.column("order_days")
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_null(col.type):
        return mask
    if not (
        pa.types.is_list(col.type)
        or pa.types.is_large_list(col.type)
        or pa.types.is_fixed_size_list(col.type)
    ) or not (pa.types.is_integer(col.type.value_type) or pa.types.is_null(col.type.value_type)):
        raise_error(
            ColumnTypeError,
            "order_days must be a list of weekdays",
            table="suppliers",
            column="order_days",
            expected="list<int> of weekdays 0-6 (0 = Monday)",
            got=str(col.type),
        )
    present = np.asarray(pc.is_valid(col))
    lens = np.asarray(pc.fill_null(pc.list_value_length(col), 0), dtype=np.int64)
    empty = present & (lens == 0)
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise_error(
            ParameterError,
            "empty order_days",
            table="suppliers",
            column="order_days",
            series=sup_ids[row].as_py(),
            row=row,
            expected="at least one weekday 0-6 (null = every day)",
            got=[],
        )
    flat = pc.list_flatten(col)
    parent = np.asarray(pc.list_parent_indices(col), dtype=np.int64)
    if flat.null_count:
        row = int(parent[np.flatnonzero(~np.asarray(pc.is_valid(flat)))[0]])
        raise_error(
            NullValueError,
            "null weekday in order_days",
            table="suppliers",
            column="order_days",
            series=sup_ids[row].as_py(),
            row=row,
            expected="weekdays 0-6 (0 = Monday)",
        )
    days = np.asarray(flat, dtype=np.int64)
    bad = (days < 0) | (days > 6)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        row = int(parent[j])
        raise_error(
            ParameterError,
            "weekday out of range in order_days",
            table="suppliers",
            column="order_days",
            series=sup_ids[row].as_py(),
            row=row,
            expected="weekdays 0-6 (0 = Monday)",
            got=int(days[j]),
        )
    mask[present] = False
    mask[parent, days] = True
    return mask


def next_order_days(mask: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Per supplier: the first order day on or after ``day`` and the order day after it."""
    offs = np.arange(14)
    wd = (day + offs + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    ok = mask[:, wd]  # (n, 14)
    first = np.argmax(ok[:, :7], axis=1)
    later = ok & (offs[None, :] > first[:, None])
    second = np.argmax(later, axis=1)
    return day + first.astype(np.int64), day + second.astype(np.int64)


@dataclass
class Tables:
    """Every input of one replenishment run as arrays aligned with the policy's items."""

    ids: pa.Array  # item ids (strings), policy order
    ids_out: pa.Array  # item ids as the policy gave them
    sup_ids: pa.Array  # supplier ids (strings), suppliers table order
    item_sup: np.ndarray  # row of each item's supplier, -1 = missing
    item_sup_ids: pa.Array  # each item's supplier_id as given (strings, may be null)
    item: dict[str, np.ndarray]
    stock: dict[str, np.ndarray]
    on_order_day: np.ndarray  # open orders: item row, arrival day, quantity (item rows of the policy)
    on_order_item: np.ndarray
    on_order_qty: np.ndarray
    sup: dict[str, np.ndarray]
    mask: np.ndarray  # (n_suppliers, 7) order weekdays
    pol: dict[str, np.ndarray]
    missing_supplier: np.ndarray  # items whose supplier_id has no row (or is null)


def read_tables(
    stock: Any, policy: Any, items: Any, suppliers: Any, open_orders: Any, missing_supplier: str
) -> Tables:
    """Validate every table once and align it with the policy's items."""
    from stockopt.inventory.policy import DIST_NAMES, POLICY_NAMES
    from stockopt.inventory.simulate import _codes

    if missing_supplier not in ("raise", "skip"):
        raise_error(
            ParameterError,
            "unknown missing_supplier",
            column="missing_supplier",
            expected="'raise' or 'skip'",
            got=missing_supplier,
        )
    pt = as_table(policy, "policy")
    ids = unique_ids(pt, "policy")
    for name in POLICY_COLUMNS:
        if name not in pt.column_names:
            raise MissingColumnError(
                f"policy: missing column {name!r}; pass the table returned by inventory_policy",
                table="policy",
                column=name,
            )
    pol = read_columns(pt, "policy", ids, POLICY_RULES)
    pol["policy"] = _codes(pt, "policy", POLICY_NAMES, ids)
    pol["distribution"] = _codes(pt, "distribution", DIST_NAMES, ids)
    ids_out = pt.column(ID).combine_chunks()

    it = as_table(items, "items")
    it_ids = unique_ids(it, "items")
    rows = rows_for(ids, it_ids, table="items", needed_by="policy")
    item = {k: v[rows] for k, v in read_columns(it, "items", it_ids, RULES["items"]).items()}
    if SUP not in it.column_names:
        raise MissingColumnError(
            f"items: missing column {SUP!r}; the table has columns {it.column_names}",
            table="items",
            column=SUP,
        )
    item_sup_ids = id_strings(it.column(SUP)).take(pa.array(rows))

    st = as_table(stock, "stock")
    st_ids = unique_ids(st, "stock")
    srows = rows_for(ids, st_ids, table="stock", needed_by="policy")
    stk = {k: v[srows] for k, v in read_columns(st, "stock", st_ids, RULES["stock"]).items()}

    sp = as_table(suppliers, "suppliers")
    sup_ids = unique_ids(sp, "suppliers", SUP)
    sup = read_columns(sp, "suppliers", sup_ids, RULES["suppliers"])
    mask = order_day_masks(sp, sup_ids)
    idx = pc.index_in(item_sup_ids, value_set=sup_ids)
    item_sup = np.asarray(pc.fill_null(idx, -1), dtype=np.int64)
    missing = item_sup < 0
    if missing.any() and missing_supplier == "raise":
        row = int(np.flatnonzero(missing)[0])
        raise_error(
            ValidationError,
            "unknown supplier_id",
            table="items",
            column=SUP,
            series=ids[row].as_py(),
            row=int(rows[row]),
            expected="a supplier_id of the suppliers table (or missing_supplier='skip')",
            got=item_sup_ids[row].as_py(),
        )
    lt_item = item["lead_time"]
    lt_sup = np.where(item_sup >= 0, sup["lead_time"][np.maximum(item_sup, 0)], np.nan)
    no_lt = np.isnan(lt_item) & np.isnan(lt_sup) & ~missing
    if no_lt.any():
        row = int(np.flatnonzero(no_lt)[0])
        raise_error(
            MissingColumnError,
            "no lead time for an item",
            table="items",
            column="lead_time",
            series=ids[row].as_py(),
            row=int(rows[row]),
            expected="a lead_time in the items row or in its supplier's row (days)",
        )
    item["lead_time"] = np.where(np.isnan(lt_item), lt_sup, lt_item)

    if open_orders is not None and as_table(open_orders, "open_orders").num_rows == 0:
        open_orders = None
    if open_orders is None:
        oo_item = np.empty(0, np.int64)
        oo_day = np.empty(0, np.int64)
        oo_qty = np.empty(0)
    else:
        oo = as_table(open_orders, "open_orders")
        oo_ids = check_ids(oo, "open_orders")
        if "arrival_date" not in oo.column_names:
            raise MissingColumnError(
                "open_orders: missing column 'arrival_date'", table="open_orders", column="arrival_date"
            )
        qty = read_columns(oo, "open_orders", oo_ids, RULES["open_orders"])["quantity"]
        day = date_days(oo.column("arrival_date"), "open_orders", "arrival_date", oo_ids)
        pos = np.asarray(pc.fill_null(pc.index_in(oo_ids, value_set=ids), -1), dtype=np.int64)
        keep = pos >= 0  # open orders of items outside the policy are not part of this plan
        oo_item, oo_day, oo_qty = pos[keep], day[keep], qty[keep]
    return Tables(
        ids=ids,
        ids_out=ids_out,
        sup_ids=sup_ids,
        item_sup=item_sup,
        item_sup_ids=item_sup_ids,
        item=item,
        stock=stk,
        on_order_day=oo_day,
        on_order_item=oo_item,
        on_order_qty=oo_qty,
        sup=sup,
        mask=mask,
        pol=pol,
        missing_supplier=missing,
    )
