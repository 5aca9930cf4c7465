"""Validation and reading of the replenishment tables (stock, open orders, items, suppliers, policy).

What each column accepts is stated once in the rule table (:mod:`stockopt._rules`: ``STOCK``,
``OPEN_ORDERS``, ``SUPPLIERS``, ``ORDER_ITEMS`` and ``POLICY``); :func:`read_columns` applies those
rules to whole columns through :func:`stockopt.inventory._validate.column`, so a bad value raises
the same named :mod:`stockopt.errors` exception as everywhere else (table, column, item, first row,
what is accepted), and the nightly run's quarantine (:mod:`._nightly`) reads the same rules row by
row.  The items' inventory columns keep the inventory's rules, so an item accepted by
``inventory_policy`` is accepted here.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, time_to_days
from stockopt._params import Instance
from stockopt._rules import (
    OPEN_ORDERS,
    ORDER_ITEMS,
    POLICY,
    STOCK,
    SUPPLIERS,
    ColumnRule,
    raise_first,
    weekday_problems,
)
from stockopt.errors import MissingColumnError, NullValueError, ParameterError, ValidationError, raise_error
from stockopt.inventory._validate import ID, align, as_table, check_ids, check_unique, column, id_strings

SUP = "supplier_id"

#: the rule of an ``as_of`` argument
AS_OF = Instance(str, _dt.date, np.datetime64,
                 name="an ISO date string ('2026-11-23'), a datetime.date or a numpy.datetime64")

#: policy columns read by the replenishment (the output of ``inventory_policy``)
POLICY_COLUMNS = ("reorder_point", "order_up_to", "order_quantity", "protection_demand_mean",
                  "protection_demand_std", "lead_time", "review_period")


def read_columns(tbl: pa.Table, table: str, ids: pa.Array,
                 rules: dict[str, ColumnRule]) -> dict[str, np.ndarray]:
    """Every numeric column of ``rules`` as float64, checked (nulls and absent columns take the default;
    a NaN default means "not given" and stays NaN)."""
    return {name: column(tbl, name, table, ids, rule)
            for name, rule in rules.items() if rule.kind == "number"}


def unique_ids(tbl: pa.Table, table: str, col: str, *, role: str = "id_col", what: str = "item") -> pa.Array:
    """Column ``col`` as strings, checked for presence, nulls and duplicates."""
    ids = check_ids(tbl, table, col, role=role, what=what)
    check_unique(ids, table, col, what=what)
    return ids


def as_of_day(as_of: Any, where: str) -> int:
    """``as_of`` (ISO string, date, datetime or numpy datetime64) as days since 1970-01-01."""
    try:
        if isinstance(as_of, (_dt.datetime, np.datetime64)):
            day = np.datetime64(as_of, "D")
            if not np.isnat(day):
                return int(day.astype(np.int64))
        elif isinstance(as_of, _dt.date):
            return int(np.datetime64(as_of.isoformat(), "D").astype(np.int64))
        elif isinstance(as_of, str):
            return int(np.datetime64(_dt.date.fromisoformat(as_of[:10]).isoformat(), "D").astype(np.int64))
    except ValueError:
        pass
    raise_error(ParameterError, "bad argument", table=where, parameter="as_of", expected=AS_OF.describe(),
                got=as_of)


def date_days(col: pa.ChunkedArray | pa.Array, table: str, name: str, ids: pa.Array) -> np.ndarray:
    """A date column as int64 days, no nulls."""
    if col.null_count:
        row = int(np.argmax(~_to_numpy(pc.is_valid(col), np.bool_)))
        raise_error(NullValueError, f"null {name}", table=table, column=name, series=ids[row].as_py(),
                    row=row, expected=OPEN_ORDERS[name].accepted)
    return np.asarray(time_to_days(col, table=table, column=name)[0], dtype=np.int64)


def order_day_masks(tbl: pa.Table, sup_ids: pa.Array) -> np.ndarray:
    """``(n, 7)`` booleans: supplier ``j`` takes orders on weekday ``d`` (0 = Monday).

    ``order_days`` is a list of weekdays per supplier; an absent column or a null list means every
    day.  A value outside 0-6, a null weekday or an empty list is an error.
    """
    rule = SUPPLIERS["order_days"]
    mask, found = weekday_problems(tbl, "order_days", rule, table="suppliers")
    raise_first(found, rule, table="suppliers", column="order_days",
                series_of=lambda row: sup_ids[row].as_py(),
                got_of=lambda row: tbl.column("order_days")[row].as_py())
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
    id_col: str  # the name of the item id column (input and output tables)
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


def read_policy(policy: Any, id_col: str) -> tuple[pa.Array, dict[str, np.ndarray]]:
    """The policy's ids and the columns the replenishment reads (with policy and distribution codes)."""
    from stockopt.inventory.policy import DIST_NAMES, POLICY_NAMES
    from stockopt.inventory.simulate import _codes

    pt = as_table(policy, "policy")
    ids = unique_ids(pt, "policy", id_col)
    require_columns(pt, {name: name for name in ("policy", "distribution", *POLICY_COLUMNS)}, table="policy")
    pol = read_columns(pt, "policy", ids, {name: POLICY[name] for name in POLICY_COLUMNS})
    pol["policy"] = _codes(pt, "policy", POLICY_NAMES, ids)
    pol["distribution"] = _codes(pt, "distribution", DIST_NAMES, ids)
    return ids, pol


def read_tables(stock: Any, policy: Any, items: Any, suppliers: Any, open_orders: Any, missing_supplier: str,
                *, id_col: str = ID) -> Tables:
    """Validate every table once and align it with the policy's items."""
    ids, pol = read_policy(policy, id_col)

    it = as_table(items, "items")
    it_ids = unique_ids(it, "items", id_col)
    require_columns(it, {SUP: SUP}, table="items")
    rows = align(ids, it_ids, table="items", needed_by="policy", id_col=id_col)
    item = {k: v[rows] for k, v in read_columns(it, "items", it_ids, ORDER_ITEMS).items()}
    item_sup_ids = id_strings(it.column(SUP)).take(pa.array(rows))

    st = as_table(stock, "stock")
    st_ids = unique_ids(st, "stock", id_col)
    srows = align(ids, st_ids, table="stock", needed_by="policy", id_col=id_col)
    stk = {k: v[srows] for k, v in read_columns(st, "stock", st_ids, STOCK).items()}

    sp = as_table(suppliers, "suppliers")
    sup_ids = unique_ids(sp, "suppliers", SUP, role=SUP, what="supplier")
    sup = read_columns(sp, "suppliers", sup_ids, SUPPLIERS)
    mask = order_day_masks(sp, sup_ids)
    item_sup = _to_numpy(pc.fill_null(pc.index_in(item_sup_ids, value_set=sup_ids), -1), np.int64)
    missing = item_sup < 0
    if missing.any() and missing_supplier == "raise":
        row = int(np.argmax(missing))
        raise_error(ValidationError, "unknown supplier_id", table="items", column=SUP,
                    series=ids[row].as_py(), row=int(rows[row]),
                    expected="a supplier_id of the suppliers table (or missing_supplier='skip')",
                    got=item_sup_ids[row].as_py())
    lt_item = item["lead_time"]
    lt_sup = np.where(item_sup >= 0, sup["lead_time"][np.maximum(item_sup, 0)], np.nan)
    no_lt = np.isnan(lt_item) & np.isnan(lt_sup) & ~missing
    if no_lt.any():
        row = int(np.argmax(no_lt))
        raise_error(MissingColumnError, "no lead time for an item", table="items", column="lead_time",
                    series=ids[row].as_py(), row=int(rows[row]),
                    expected="a lead_time in the items row or in its supplier's row (days)")
    item["lead_time"] = np.where(np.isnan(lt_item), lt_sup, lt_item)

    oo_item = np.empty(0, np.int64)
    oo_day = np.empty(0, np.int64)
    oo_qty = np.empty(0)
    if open_orders is not None:
        oo = as_table(open_orders, "open_orders")
        if oo.num_rows:
            oo_ids = check_ids(oo, "open_orders", id_col)
            require_columns(oo, {"arrival_date": "arrival_date"}, table="open_orders")
            qty = read_columns(oo, "open_orders", oo_ids, OPEN_ORDERS)["quantity"]
            day = date_days(oo.column("arrival_date"), "open_orders", "arrival_date", oo_ids)
            pos = _to_numpy(pc.fill_null(pc.index_in(oo_ids, value_set=ids), -1), np.int64)
            keep = pos >= 0  # open orders of items outside the policy are not part of this plan
            oo_item, oo_day, oo_qty = pos[keep], day[keep], qty[keep]
    return Tables(ids=ids, id_col=id_col, sup_ids=sup_ids, item_sup=item_sup, item_sup_ids=item_sup_ids,
                  item=item, stock=stk, on_order_day=oo_day, on_order_item=oo_item, on_order_qty=oo_qty,
                  sup=sup, mask=mask, pol=pol, missing_supplier=missing)
