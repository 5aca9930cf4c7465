"""The replenishment stage of the nightly run: quarantine of unusable supply rows, then orders, alerts
and projected KPIs for every other item of the policy.

:func:`stockopt.replenish_plan` refuses a whole call for one bad row (a negative stock, a supplier
whose ``order_days`` holds an 8, an open order without an arrival date ...).  A nightly run must go
on instead (``docs/nightly.md``): this module reads the stock, open-order, supplier and items'
supply columns against the same rules (:mod:`stockopt._rules`: ``STOCK``, ``OPEN_ORDERS``,
``SUPPLIERS``, ``ORDER_ITEMS``) row by row, sets aside the items those rows concern (an item whose
supplier row is unusable is set aside with it), names them in the quarantine report, and plans the
rest.  Faults of a whole table (a missing required column, a column of the wrong type) still raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, time_to_days
from stockopt._rules import OPEN_ORDERS, ORDER_ITEMS, STOCK, SUPPLIERS, ColumnRule, weekday_problems
from stockopt.errors import ParameterError, raise_error
from stockopt.inventory._validate import _duplicated, as_table, id_strings, rule_problems
from stockopt.replenishment._tables import SUP, as_of_day, next_order_days

__all__ = ["check_arguments", "SupplyResult", "plan_supply"]

#: the columns of the per-item KPI table (see :func:`stockopt.project_kpis`)
_KPI_COLUMNS = ("supplier_id", "days", "demand", "fill_rate", "stockout_days", "average_on_hand",
                "average_stock_value", "turns", "end_backorders")


def check_arguments(items: Any, stock: Any, suppliers: Any, open_orders: Any) -> bool:
    """Whether the run has a replenishment stage; refuses an incomplete set of supply tables before any
    work."""
    if stock is None and suppliers is None:
        if open_orders is not None:
            raise_error(ParameterError, "bad argument", table="run_nightly", parameter="open_orders",
                        expected="None unless stock and suppliers are given too", got="a table")
        return False
    for name, val in (("stock", stock), ("suppliers", suppliers), ("items", items)):
        if val is None:
            raise_error(ParameterError, "bad argument", table="run_nightly", parameter=name,
                        expected="a table: orders need stock, suppliers and items (with supplier_id)",
                        got=None)
    return True


@dataclass
class SupplyResult:
    """Orders, alerts and per-item KPIs of the nightly run, the items set aside and the summary lines."""

    orders: pa.Table
    alerts: pa.Table
    kpis: pa.Table
    report: pa.Table  # <id_col>, reason, first_row, table
    summary: dict[str, Any] = field(default_factory=dict)


class _Report:
    """Quarantine lines: the first reason and row of each item, in the order the checks run."""

    def __init__(self) -> None:
        self.ids: list[Any] = []
        self.reason: list[str] = []
        self.row: list[int] = []
        self.table: list[str] = []
        self.seen: set[Any] = set()

    def add(self, ids: pa.Array, mask: np.ndarray, why: str, table: str,
            rows: np.ndarray | None = None) -> None:
        """Report every id of ``ids[mask]`` not yet reported (``rows``: its row in ``table``, default
        its position)."""
        hit = np.flatnonzero(mask)
        for r, sid in zip(hit.tolist(), ids.take(pa.array(hit, pa.int64())).to_pylist()):
            if sid not in self.seen:
                self.seen.add(sid)
                self.ids.append(sid)
                self.reason.append(why)
                self.row.append(int(rows[r]) if rows is not None else r)
                self.table.append(table)

    def table_of(self, id_col: str) -> pa.Table:
        return pa.table({id_col: pa.array(self.ids, pa.large_string()),
                         "reason": pa.array(self.reason, pa.string()),
                         "first_row": pa.array(self.row, pa.int64()),
                         "table": pa.array(self.table, pa.string())})


def _row_faults(tbl: pa.Table, rules: dict[str, ColumnRule], table: str) -> list[tuple[np.ndarray, str]]:
    """Each rule violation of ``tbl``'s numeric columns as (rows, reason), in rule order."""
    _, found = rule_problems(tbl, rules, table)
    return [(p.mask, f"{name}: expected {rules[name].accepted}") for name, p in found]


def _ids(tbl: pa.Table, col: str, table: str, role: str) -> tuple[pa.Array, np.ndarray]:
    """Column ``col`` as strings and its null mask (a missing column raises)."""
    require_columns(tbl, {role: col}, table=table)
    ids = id_strings(tbl.column(col))
    return ids, _to_numpy(pc.is_null(ids), np.bool_) if ids.null_count else np.zeros(len(ids), dtype=bool)


def _positions(needed: pa.Array, have: pa.Array) -> np.ndarray:
    """Row of ``have`` for each of ``needed`` (-1: none)."""
    return _to_numpy(pc.fill_null(pc.index_in(needed, value_set=have), -1), np.int64)


def _short_forecasts(rep: _Report, ids: pa.Array, forecast: pa.Table, usable: np.ndarray, sup_pos: np.ndarray,
                     it_lt: np.ndarray, sup_lt: np.ndarray, order_days: np.ndarray, day0: int,
                     period_days: float, id_col: str, time_col: str) -> None:
    """Set aside the items whose forecast ends before the arrival of their order after the next.

    The order of an item reads its forecast from ``as_of`` to the arrival of the order after the next
    one (its supplier's second order day on or after ``as_of`` + its lead time).  The run's horizon
    covers that from the latest day of the sales; a series whose sales end earlier starts its
    forecast earlier, so it may end too soon: that item gets no order (its forecast and policy stand)
    instead of stopping the whole stage.
    """
    if not usable.any() or forecast.num_rows == 0:
        return
    last = forecast.group_by(id_col, use_threads=False).aggregate([(time_col, "min"), (time_col, "count")])
    pos = _positions(ids, id_strings(last.column(id_col)))
    first_day = np.asarray(time_to_days(last.column(f"{time_col}_min"), table="forecast",
                                        column=time_col)[0], dtype=np.float64)
    periods = _to_numpy(last.column(f"{time_col}_count"), np.float64)
    end = np.where(pos >= 0, (first_day + periods * period_days)[np.maximum(pos, 0)], -np.inf)
    _, second = next_order_days(order_days, day0)
    sp = np.maximum(sup_pos, 0)
    lead = np.where(np.isnan(it_lt), np.append(sup_lt, np.nan)[sp], it_lt)
    arrival = second[sp] + np.ceil(np.nan_to_num(lead) - 1e-9)
    short = usable & (arrival > end + 1e-9)
    rep.add(ids, short, "forecast too short for an order: its sales end before the latest day, so its "
            "forecast ends before the arrival of its order after the next (a longer horizon covers it)",
            "sales", np.full(len(ids), -1, dtype=np.int64))


def plan_supply(policy: pa.Table, forecast: pa.Table, items: Any, sales: pa.Table | None, *, stock: Any,
                suppliers: Any, open_orders: Any, as_of: Any, period_days: float, id_col: str, time_col: str,
                target_col: str, n_jobs: int, gap_limit: float, work_limit: float,
                model: str | None = None) -> SupplyResult:
    """Quarantine unusable supply rows, then orders, alerts and projected KPIs for the rest of ``policy``.

    ``as_of`` defaults to the first day of the forecast (run_nightly passes the first forecast day of
    the latest sales day); ``gap_limit`` and ``work_limit`` are the solver's (:func:`replenish_plan`);
    ``model`` names the forecast column the orders and alerts read (the one the policy was sized
    from, the run's first model).
    """
    from stockopt.replenishment.alerts import ALERT_SCHEMA, alerts
    from stockopt.replenishment.kpis import project_kpis
    from stockopt.replenishment.orders import ORDER_SCHEMA, rekey, replenish_plan

    if as_of is None:
        as_of = pc.min(forecast.column(time_col)).as_py() if forecast.num_rows else None
        if as_of is None:
            raise_error(ParameterError, "bad argument", table="run_nightly", parameter="as_of",
                        expected="a date (no forecast to take it from)", got=None)
    day0 = as_of_day(as_of, "run_nightly")
    rep = _Report()
    ids = id_strings(policy.column(id_col)) if policy.num_rows else pa.array([], pa.large_string())
    n = len(ids)

    # suppliers: a row breaking a rule (or a null or repeated id) makes its supplier unusable
    sp = as_table(suppliers, "suppliers")
    sup_ids, sup_null = _ids(sp, SUP, "suppliers", SUP)
    sup_faults = [(sup_null, "null supplier_id"),
                  (_duplicated(sup_ids) & ~sup_null, "duplicate supplier row")]
    sup_faults += _row_faults(sp, SUPPLIERS, "suppliers")
    order_days, found = weekday_problems(sp, "order_days", SUPPLIERS["order_days"], table="suppliers")
    sup_faults += [(p.mask, f"order_days: expected {SUPPLIERS['order_days'].accepted}") for p in found]
    sup_why = np.full(sp.num_rows, None, dtype=object)
    for mask, why in sup_faults:
        sup_why[mask & (sup_why == None)] = why  # noqa: E711 - element-wise test of an object array
    sup_ok = sup_why == None  # noqa: E711

    # items: the supply columns of the policy's items, and their supplier
    it = as_table(items, "items")
    item_ids, _ = _ids(it, id_col, "items", "id_col")
    require_columns(it, {SUP: SUP}, table="items")
    it_rows = _positions(ids, item_ids)  # every policy item has a row (the run quarantined the others)
    it_sub = it.take(pa.array(it_rows))
    for mask, why in _row_faults(it_sub, ORDER_ITEMS, "items"):
        rep.add(ids, mask, why, "items", it_rows)
    item_sup = id_strings(it_sub.column(SUP))
    sup_pos = _positions(item_sup, sup_ids)
    rep.add(ids, _to_numpy(pc.is_null(item_sup), np.bool_), "null supplier_id", "items", it_rows)
    rep.add(ids, sup_pos < 0, "supplier_id not in the suppliers table", "items", it_rows)
    known = sup_pos >= 0
    bad_sup = known & ~np.append(sup_ok, True)[sup_pos]  # -1 (unknown supplier) reads the appended value
    for j in np.unique(sup_pos[bad_sup]).tolist():
        rep.add(ids, sup_pos == j, f"supplier {sup_ids[j].as_py()}: {sup_why[j]}", "suppliers",
                np.full(n, j, dtype=np.int64))
    sup_lt = rule_problems(sp, {"lead_time": SUPPLIERS["lead_time"]}, "suppliers")[0]["lead_time"]
    it_lt = rule_problems(it_sub, {"lead_time": ORDER_ITEMS["lead_time"]}, "items")[0]["lead_time"]
    no_lt = known & np.isnan(it_lt) & np.isnan(np.append(sup_lt, np.nan)[sup_pos])
    rep.add(ids, no_lt, "lead_time: expected a lead time (days) in the items row or its supplier's row",
            "items", it_rows)
    _short_forecasts(rep, ids, forecast, known & ~no_lt, sup_pos, it_lt, sup_lt, order_days, day0,
                     period_days, id_col, time_col)

    # stock: one usable row per item
    st = as_table(stock, "stock")
    st_ids, st_null = _ids(st, id_col, "stock", "id_col")
    st_pos = _positions(ids, st_ids)
    rep.add(ids, st_pos < 0, "no stock row for this item", "stock", np.full(n, -1, dtype=np.int64))
    st_mine = _to_numpy(pc.fill_null(pc.is_in(st_ids, value_set=ids), False), np.bool_)
    st_faults = [(_duplicated(st_ids) & ~st_null, "duplicate stock row")] + _row_faults(st, STOCK, "stock")
    for mask, why in st_faults:
        rep.add(st_ids, mask & ~st_null & st_mine, why, "stock")

    # open orders: rows of items outside the policy are not part of this plan
    oo = None
    if open_orders is not None:
        oo = as_table(open_orders, "open_orders")
        oo_ids, oo_null = _ids(oo, id_col, "open_orders", "id_col")
        require_columns(oo, {"arrival_date": "arrival_date"}, table="open_orders")
        mine = ~oo_null & _to_numpy(pc.fill_null(pc.is_in(oo_ids, value_set=ids), False), np.bool_)
        date = oo.column("arrival_date")
        no_date = _to_numpy(pc.is_null(date), np.bool_) if date.null_count else \
            np.zeros(oo.num_rows, dtype=bool)
        time_to_days(pc.drop_null(date), table="open_orders", column="arrival_date")  # the column's type
        for mask, why in [(no_date, f"arrival_date: expected {OPEN_ORDERS['arrival_date'].accepted}")] + \
                _row_faults(oo, OPEN_ORDERS, "open_orders"):
            rep.add(oo_ids, mask & mine, why, "open_orders")
        oo = oo.filter(pa.array(mine))

    report = rep.table_of(id_col)
    keep = ~_to_numpy(pc.is_in(ids, value_set=report.column(id_col)), np.bool_) if report.num_rows else \
        np.ones(n, dtype=bool)
    summary: dict[str, Any] = {"as_of": str(np.datetime64(day0, "D")),
                               "items_quarantined_supply": report.num_rows}
    if not keep.any():
        empty_kpis = pa.table({id_col: pa.array([], pa.string()), "supplier_id": pa.array([], pa.string()),
                               "days": pa.array([], pa.int64()),
                               **{c: pa.array([], pa.float64()) for c in _KPI_COLUMNS[2:]}})
        summary.update(order_lines=0, order_value=0.0, projected_fill_rate=None, alerts={})
        return SupplyResult(rekey(ORDER_SCHEMA.empty_table(), id_col),
                            rekey(ALERT_SCHEMA.empty_table(), id_col), empty_kpis, report, summary)
    kept = ids.filter(pa.array(keep))
    pol = policy.filter(pa.array(keep))
    it_k = it_sub.filter(pa.array(keep))
    st_k = st.take(pa.array(st_pos[keep]))
    sp_k = sp.filter(pa.array(sup_ok))
    if oo is not None:
        oo = oo.filter(pc.is_in(id_strings(oo.column(id_col)), value_set=kept))
    tables = dict(stock=st_k, policy=pol, items=it_k, suppliers=sp_k)
    opts = dict(as_of=as_of, forecast=forecast, open_orders=oo, model=model, period_days=period_days,
                id_col=id_col, time_col=time_col)
    res = replenish_plan(**tables, **opts, n_jobs=n_jobs, gap_limit=gap_limit, work_limit=work_limit)
    al = alerts(**tables, **opts, sales=sales, target_col=target_col)
    kpis = project_kpis(res).items
    demand = kpis.column("demand").to_numpy()
    served = demand * kpis.column("fill_rate").to_numpy()
    kinds, counts = np.unique(np.asarray(al.column("kind").to_pylist(), dtype=object).astype(str),
                              return_counts=True)
    summary.update(
        order_lines=res.orders.num_rows,
        order_value=round(float(pc.sum(res.orders.column("value")).as_py() or 0.0), 2),
        suppliers_ordering=len(pc.unique(res.orders.column("supplier_id"))),
        projected_fill_rate=round(float(served.sum() / demand.sum()), 4) if demand.sum() > 0 else 1.0,
        alerts={str(k): int(c) for k, c in zip(kinds, counts)},
        solver_max_gap=round(res.summary["max_gap"], 5),
    )
    return SupplyResult(res.orders, al, kpis, report, summary)
