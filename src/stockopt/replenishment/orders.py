"""``replenish`` / ``replenish_plan``: tonight's purchase orders under supplier constraints.

Method, cost model, solver and relaxations: ``docs/replenishment.md``.  The per-item sizing is in
:mod:`._sizing`, the constrained step in :mod:`._plan` and :mod:`._solver`, the sentences in
:mod:`._reasons`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._params import Boolean, Instance, Integer, Options, Real, validate_params
from stockopt.inventory._validate import ID
from stockopt.replenishment._plan import PlanArrays, plan
from stockopt.replenishment._reasons import num, reasons
from stockopt.replenishment._sizing import RELAX_MAX_STOCK, RELAX_SHELF, Sizing, size_orders
from stockopt.replenishment._tables import AS_OF, Tables, as_of_day, read_tables

__all__ = ["replenish", "replenish_plan", "ReplenishmentPlan", "WARNING_SCHEMA", "REPLENISH_PARAMS", "rekey"]

ORDER_SCHEMA = pa.schema(
    [
        ("unique_id", pa.string()),
        ("supplier_id", pa.string()),
        ("order_date", pa.date32()),
        ("arrival_date", pa.date32()),
        ("quantity", pa.float64()),
        ("packs", pa.int64()),
        ("value", pa.float64()),
        ("volume", pa.float64()),
        ("weight", pa.float64()),
        ("reason", pa.string()),
    ]
)
WARNING_SCHEMA = pa.schema(
    [
        ("unique_id", pa.string()),
        ("supplier_id", pa.string()),
        ("kind", pa.string()),
        ("severity", pa.string()),
        ("value", pa.float64()),
        ("message", pa.string()),
    ]
)


@dataclass(frozen=True)
class ReplenishmentPlan:
    """The result of :func:`replenish_plan`.

    Attributes
    ----------
    orders : pyarrow.Table
        One row per order line: ``unique_id, supplier_id, order_date, arrival_date, quantity``
        (units), ``packs``, ``value`` (money), ``volume``, ``weight``, ``reason``; sorted by
        supplier then item.
    suppliers : pyarrow.Table
        One row per supplier (suppliers table order): ``supplier_id, order_date, status``
        (``unconstrained``: no binding constraint, closed form; ``solved``: within ``gap_limit``;
        ``feasible``: stopped at the work limit; ``no_order``; ``infeasible``: budget below the
        minimum order value; ``dropped``: removed for the global budget; ``no_need``), ``gap``
        (relative optimality gap, certified), ``objective`` (money: expected holding + shortage
        cost over the cover, plus the shortfall penalty below the target and the trucks, minus the
        freight credit), ``expected_cost``, ``order_value``, ``budget_allocated`` (the supplier's
        budget, or its share of a binding global budget; null when none), ``lines``, ``trucks``,
        ``binding`` (comma-separated constraints that changed the order), ``relaxations``.
    warnings : pyarrow.Table
        ``unique_id, supplier_id, kind, severity, value, message`` (see ``docs/replenishment.md``).
    summary : dict
        ``lines``, ``value``, ``global_gap`` (certified by a Lagrangian bound), ``budget_price``
        (the Lagrange multiplier of the global budget, money of cost per unit of money),
        ``solver_suppliers`` (how many went through CP-SAT), ``objective``, ``bound``.
    """

    orders: pa.Table
    suppliers: pa.Table
    warnings: pa.Table
    summary: dict
    _state: Any = field(default=None, repr=False, compare=False)


#: the rules of the options of replenish_plan and replenish
REPLENISH_PARAMS = {
    "as_of": AS_OF,
    "objective": Options("cost"),
    "budget": [None, Real(0, finite=False)],
    "model": [None, Instance(str)],
    "period_days": [None, Real(0, lo_open=True)],
    "max_cover_cycles": Real(0),
    "missing_supplier": Options("raise", "skip"),
    "gap_limit": Real(0),
    "work_limit": Real(0, lo_open=True),
    "n_jobs": Integer(1),
    "structure": Boolean(),
    "method": Options("core", "full"),
    "id_col": Instance(str),
    "time_col": Instance(str),
}


@validate_params(REPLENISH_PARAMS)
def replenish_plan(
    stock: Any,
    policy: Any,
    items: Any,
    suppliers: Any,
    *,
    as_of: Any,
    forecast: Any = None,
    open_orders: Any = None,
    objective: str = "cost",
    budget: float | None = None,
    model: str | None = None,
    period_days: float | None = None,
    max_cover_cycles: float = 2.0,
    missing_supplier: str = "raise",
    gap_limit: float = 0.005,
    work_limit: float = 10.0,
    n_jobs: int = 1,
    structure: bool = True,
    method: str = "core",
    id_col: str = ID,
    time_col: str = "ds",
) -> ReplenishmentPlan:
    """Purchase orders for the next order day of every supplier, with the solver's report and warnings.

    Parameters
    ----------
    stock : Arrow-compatible table
        ``unique_id, on_hand`` (units); optional ``backorders``, ``reserved`` (units, default 0).
        One row per item of ``policy``.
    policy : Arrow-compatible table
        The output of :func:`stockopt.inventory_policy` (its items are the ones planned).
    items : Arrow-compatible table
        ``unique_id, supplier_id``; optional ``unit_cost`` (money per unit, 1), ``pack_size``
        (units, 1), ``moq`` (units, 0), ``lead_time`` (days; null: the supplier's), ``max_stock``
        (units, inf), ``shelf_life_days`` (days, inf), ``volume``, ``weight`` (per unit, 0),
        ``holding_rate`` (per year, 0.25), ``service_level`` (0.95), ``stockout_cost`` (money per
        unit backordered per day; null: implied by ``service_level``).
    suppliers : Arrow-compatible table
        ``supplier_id``; optional ``lead_time`` (days), ``order_days`` (list of weekdays, 0 = Monday;
        null = every day), ``min_order_value``, ``budget`` (money), ``truck_volume``,
        ``truck_weight`` (capacity per truck; inf = no trucks), ``truck_cost`` (money per truck, 0),
        ``max_trucks`` (inf).
    as_of : str, datetime.date or numpy.datetime64
        Today: stock is the position at the start of this day.
    forecast : Arrow-compatible table, optional
        A forecast ``unique_id, ds, <Model>[, <Model>-lo-<L>, <Model>-hi-<L>]`` (any period; the
        demand of a day range is the sum of the forecast over it, partial periods prorated), sample
        paths, or a demand summary, as :func:`stockopt.inventory_policy` accepts.  It must start
        on or before ``as_of`` and cover the protection interval.  Without it, demand is the policy's
        protection demand scaled to days.
    open_orders : Arrow-compatible table, optional
        ``unique_id, arrival_date, quantity`` (units); those arriving before the next order's
        arrival count in the position (overdue ones too).
    objective : {"cost"}
        Minimise expected holding + shortage cost over the cover period (plus trucks).
    budget : float, optional
        Global budget (money) over all suppliers' orders.
    model, period_days
        Passed to the forecast reader (which column; days per period when not inferable).
    max_cover_cycles : float
        Constraints may raise an item's order to at most this many extra cover periods of demand.
    missing_supplier : {"raise", "skip"}
        An item whose ``supplier_id`` has no suppliers row: raise, or skip it with a warning row.
    gap_limit : float
        Relative optimality gap at which CP-SAT stops (per supplier).
    work_limit : float
        CP-SAT's deterministic work limit per supplier (seconds of its deterministic clock), so the
        result does not depend on the machine's load.
    n_jobs : int
        Threads solving suppliers in parallel (the result does not depend on it).
    structure : bool
        Solve suppliers without a binding constraint in closed form (default).  ``False`` sends
        every supplier through the solver (for benchmarks and tests).
    method : {"core", "full"}
        ``"core"``: CP-SAT on the items the relaxation leaves fractional first, then on every item
        near its relaxed packs, then on every grid point when the gap is not reached.  ``"full"``:
        CP-SAT on every grid point of every item at once (slower; for checking and benchmarks).
    id_col : str
        Name of the item id column of ``stock``, ``policy``, ``items``, ``open_orders`` and
        ``forecast``; the output tables are keyed by it too.
    time_col : str
        Name of the time column of ``forecast``.

    Returns
    -------
    ReplenishmentPlan
        ``.orders``, ``.suppliers``, ``.warnings`` (Arrow tables) and ``.summary``.

    Notes
    -----
    The cover-period cost model is the periodic-review newsvendor (Hadley & Whitin 1963, ch. 5;
    Zipkin 2000, sec. 6.2); the constrained step is separable convex integer programming (Dantzig
    1956) solved by CP-SAT per supplier, coupled by a global budget through Lagrangian
    decomposition (Everett 1963; Fisher 1981).

    Examples
    --------
    >>> import pyarrow as pa
    >>> import stockopt as so
    >>> demand = pa.table({"unique_id": ["A", "B"], "demand_mean": [10.0, 4.0], "demand_std": [3.0, 2.0]})
    >>> items = pa.table({"unique_id": ["A", "B"], "supplier_id": ["S", "S"], "lead_time": [2.0, 2.0],
    ...                   "review_period": [7.0, 7.0], "unit_cost": [5.0, 20.0], "pack_size": [12.0, 6.0]})
    >>> pol = so.inventory_policy(demand, items, policy="RS", distribution="normal")
    >>> stock = pa.table({"unique_id": ["A", "B"], "on_hand": [20.0, 30.0]})
    >>> sup = pa.table({"supplier_id": ["S"], "order_days": [[0]], "min_order_value": [800.0]})
    >>> res = so.replenish_plan(stock, pol, items, sup, as_of="2026-11-23")  # a Monday, an order day
    >>> res.orders.select(["unique_id", "order_date", "arrival_date", "packs", "value"]).to_pylist()
    [{'unique_id': 'A', 'order_date': datetime.date(2026, 11, 23),
      'arrival_date': datetime.date(2026, 11, 25), 'packs': 8, 'value': 480.0},
     {'unique_id': 'B', 'order_date': datetime.date(2026, 11, 23),
      'arrival_date': datetime.date(2026, 11, 25), 'packs': 3, 'value': 360.0}]
    >>> res.orders["reason"][1].as_py()
    'position 30 (on hand 30) < order-up-to 45.9 -> 15.9; 2 packs of 6 = 12;
     +1 pack to reach the supplier minimum of 800'
    >>> res.suppliers.select(["status", "order_value", "binding"]).to_pylist()
    [{'status': 'solved', 'order_value': 840.0, 'binding': 'min_order_value'}]
    """
    day0 = as_of_day(as_of, "replenish_plan")
    glob = np.inf if budget is None else float(budget)
    tb = read_tables(stock, policy, items, suppliers, open_orders, missing_supplier, id_col=id_col)
    sz = size_orders(tb, day0, forecast=forecast, model=model, period_days=period_days, time_col=time_col,
                     max_cover_cycles=float(max_cover_cycles), n_jobs=int(n_jobs))
    pa_ = plan(tb, sz, budget=glob, gap_limit=float(gap_limit), work_limit=float(work_limit),
               n_jobs=int(n_jobs), structure=bool(structure), method=method)
    return _assemble(tb, sz, pa_, float(glob))


@validate_params(REPLENISH_PARAMS)
def replenish(
    stock: Any,
    policy: Any,
    items: Any,
    suppliers: Any,
    *,
    as_of: Any,
    forecast: Any = None,
    open_orders: Any = None,
    objective: str = "cost",
    budget: float | None = None,
    model: str | None = None,
    period_days: float | None = None,
    max_cover_cycles: float = 2.0,
    missing_supplier: str = "raise",
    gap_limit: float = 0.005,
    work_limit: float = 10.0,
    n_jobs: int = 1,
    structure: bool = True,
    method: str = "core",
    id_col: str = ID,
    time_col: str = "ds",
) -> pa.Table:
    """The order lines of :func:`replenish_plan` (same arguments and method).

    Returns
    -------
    pyarrow.Table
        ``unique_id, supplier_id, order_date, arrival_date, quantity, packs, value, volume, weight,
        reason``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> import stockopt as so
    >>> demand = pa.table({"unique_id": ["A"], "demand_mean": [10.0], "demand_std": [3.0]})
    >>> items = pa.table({"unique_id": ["A"], "supplier_id": ["S"], "lead_time": [2.0],
    ...                   "review_period": [7.0], "pack_size": [12.0]})
    >>> pol = so.inventory_policy(demand, items, policy="RS", distribution="normal")
    >>> orders = so.replenish(pa.table({"unique_id": ["A"], "on_hand": [20.0]}), pol, items,
    ...                       pa.table({"supplier_id": ["S"], "order_days": [[0]]}), as_of="2026-11-23")
    >>> orders["reason"][0].as_py()
    'position 20 (on hand 20) < order-up-to 104.8 -> 84.8; 7 packs of 12 = 84'
    """
    return replenish_plan(stock, policy, items, suppliers, as_of=as_of, forecast=forecast,
                          open_orders=open_orders, objective=objective, budget=budget, model=model,
                          period_days=period_days, max_cover_cycles=max_cover_cycles,
                          missing_supplier=missing_supplier, gap_limit=gap_limit, work_limit=work_limit,
                          n_jobs=n_jobs, structure=structure, method=method, id_col=id_col,
                          time_col=time_col).orders


def _days(x: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(x, dtype=np.int32), pa.int32()).cast(pa.date32())


def _const(n: int, text: str) -> pa.Array:
    return pa.array(np.full(n, text, dtype=object), pa.string())


def _text(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and constants."""
    n = max(len(x) for x in parts if not isinstance(x, str))
    arrs = [_const(n, x) if isinstance(x, str) else x.cast(pa.string()) for x in parts]
    return pc.binary_join_element_wise(*arrs, "")


def _change_labels(pl: PlanArrays, s: dict, n_sup: int) -> tuple[np.ndarray, np.ndarray]:
    """Per supplier: the constraint named in the sentences of its changed lines, and its amount."""
    kind = np.full(n_sup, "", dtype=object)
    amount = np.zeros(n_sup)
    names = [set(b.split(",")) for b in pl.sup_binding]  # a loop over suppliers
    order = (
        ("tru", "trucks", None),
        ("tru", "max_trucks", None),
        ("glo", "global_budget", None),
        ("bud", "budget", s["budget"]),
        ("min", "min_order_value", s["min_order_value"]),
    )
    for code, name, amt in order:  # later entries win: the minimum, then the budget, read best
        hit = np.array([name in x for x in names], dtype=bool) if n_sup else np.zeros(0, bool)
        kind[hit] = code
        if amt is not None:
            amount[hit] = amt[hit]
    return kind, amount


def _assemble(tb: Tables, sz: Sizing, pl: PlanArrays, budget: float) -> ReplenishmentPlan:
    n_sup = len(tb.sup_ids)
    sup = tb.item_sup
    s = tb.sup
    cand = pl.cand
    lines = cand[pl.k[cand] > 0]  # canonical order: supplier, then item id
    k = pl.k[lines]
    sj = sup[lines]
    kind, amount = _change_labels(pl, s, n_sup)
    why = reasons(
        y=sz.y[lines],
        on_hand=sz.on_hand[lines],
        on_order=sz.on_order[lines],
        backorders=sz.backorders[lines],
        reserved=sz.reserved[lines],
        trigger_rs=sz.trigger_rs[lines],
        reorder=sz.reorder[lines],
        level=sz.level[lines],
        need=sz.qt[lines],
        pk=sz.pk[lines],
        k_unc=pl.k_unc[lines],
        kmin=sz.kmin[lines],
        moq=tb.item["moq"][lines],
        cap_kind=sz.cap_kind[lines],
        cap_units=sz.cap_units[lines],
        relax=sz.relax[lines],
        k_fin=k,
        change_kind=kind[sj],
        change_amount=amount[sj],
        trucks=pl.sup_trucks[sj],
    )
    orders = pa.table(
        {
            "unique_id": tb.ids.take(pa.array(lines)).cast(pa.string()),
            "supplier_id": tb.sup_ids.take(pa.array(sj)).cast(pa.string()),
            "order_date": _days(sz.order_day[lines]),
            "arrival_date": _days(sz.arrival[lines]),
            "quantity": (k * sz.pk[lines]).astype(np.float64),
            "packs": k.astype(np.int64),
            "value": k * sz.value_per_pack[lines],
            "volume": k * sz.volume_per_pack[lines],
            "weight": k * sz.weight_per_pack[lines],
            "reason": why,
        },
        schema=ORDER_SCHEMA,
    )

    c_sup = sup[cand]
    val_sup = np.bincount(sj, weights=k * sz.value_per_pack[lines], minlength=n_sup)
    exp_cost = np.bincount(c_sup, weights=pl.cost[cand], minlength=n_sup)
    first = np.full(n_sup, -1, np.int64)
    ok = np.flatnonzero(sup >= 0)[::-1]
    first[sup[ok]] = ok  # an item of each supplier (they share the order day)
    has_items = first >= 0
    order_day = np.where(has_items, sz.order_day[np.maximum(first, 0)], 0)
    alloc = pl.extra["alloc"]
    sup_tbl = pa.table(
        {
            "supplier_id": tb.sup_ids.cast(pa.string()),
            "order_date": pa.array(order_day.astype(np.int32), pa.int32(), mask=~has_items).cast(pa.date32()),
            "status": pa.array(pl.sup_status.astype(str).tolist(), pa.string()),
            "gap": pl.sup_gap,
            "objective": pl.sup_objective,
            "expected_cost": exp_cost,
            "order_value": val_sup,
            "budget_allocated": pa.array(alloc, mask=~np.isfinite(alloc)),
            "lines": np.bincount(sj, minlength=n_sup).astype(np.int64),
            "trucks": pl.sup_trucks.astype(np.int64),
            "binding": pa.array(pl.sup_binding, pa.string()),
            "relaxations": pa.array(pl.sup_relax, pa.string()),
        }
    )
    summary = {
        "lines": int(len(lines)),
        "value": float(val_sup.sum()),
        "global_gap": float(pl.global_gap),
        "budget_price": float(pl.lam),
        "solver_suppliers": int(pl.solved.sum()),
        "objective": float(pl.sup_objective.sum()),
        "bound": float(pl.global_bound),
        "max_gap": float(pl.sup_gap.max(initial=0.0)),
    }
    return ReplenishmentPlan(orders=rekey(orders, tb.id_col), suppliers=sup_tbl,
                             warnings=rekey(_warnings(tb, sz, pl), tb.id_col), summary=summary,
                             _state=(tb, sz, pl))


def rekey(tbl: pa.Table, id_col: str) -> pa.Table:
    """``tbl`` with its ``unique_id`` column named ``id_col`` (the caller's name for item ids)."""
    if id_col == "unique_id":
        return tbl
    return tbl.rename_columns([id_col if c == "unique_id" else c for c in tbl.column_names])


def _warnings(tb: Tables, sz: Sizing, pl: PlanArrays) -> pa.Table:
    """Warning rows: relaxations applied, needs left unordered, suppliers that cannot be ordered from."""
    sup = tb.item_sup
    s = tb.sup
    parts: list[pa.Table] = []

    def rows_of(item_rows, sup_rows, kind, severity, value, message) -> None:
        m = len(message)
        if m == 0:
            return
        ids = (
            tb.ids.take(pa.array(item_rows)).cast(pa.string())
            if item_rows is not None
            else pa.nulls(m, pa.string())
        )
        sids = (
            tb.item_sup_ids.take(pa.array(item_rows))
            if item_rows is not None
            else tb.sup_ids.take(pa.array(sup_rows))
        )
        parts.append(
            pa.table(
                {
                    "unique_id": ids,
                    "supplier_id": sids.cast(pa.string()),
                    "kind": _const(m, kind),
                    "severity": _const(m, severity),
                    "value": np.asarray(value, dtype=np.float64),
                    "message": message,
                },
                schema=WARNING_SCHEMA,
            )
        )

    ordered = pl.k > 0
    units = pl.k * sz.pk
    r = np.flatnonzero((sz.relax == RELAX_MAX_STOCK) & ordered)
    over = sz.y[r] + units[r] - tb.item["max_stock"][r]
    rows_of(
        r,
        None,
        "max_stock",
        "warning",
        over,
        _text(
            "the smallest order (",
            num(units[r]),
            " units: the MOQ or one pack) exceeds the maximum stock ",
            num(tb.item["max_stock"][r]),
            " by ",
            num(over),
            " units; ordered so the item does not run out",
        ),
    )
    r = np.flatnonzero((sz.relax == RELAX_SHELF) & ordered)
    waste = np.maximum(units[r] - np.maximum(sz.extra["cap_sellable"][r], 0.0), 0.0)
    rows_of(
        r,
        None,
        "shelf_life",
        "warning",
        waste,
        _text(
            "the smallest order (",
            num(units[r]),
            " units) is more than sells within the shelf life; about ",
            num(waste),
            " units may expire; ordered so the item does not run out",
        ),
    )
    # items whose position stays below the cover-period newsvendor level and that get nothing
    need = sz.level_nv - sz.y
    r = np.flatnonzero((pl.k_unc > 0) & ~ordered & (sup >= 0) & (need >= 0.5 * sz.pk))
    if r.size:
        why = np.where(
            pl.infeasible[sup[r]],
            "the supplier budget is below its minimum order value",
            np.where(
                pl.extra["alloc"][sup[r]] < pl.extra["v_unc"][sup[r]] - 1e-9,
                "the budget went to other lines",
                "the supplier's minimum order value or trucks left it out",
            ),
        )
        rows_of(
            r,
            None,
            "not_ordered",
            "warning",
            need[r],
            _text(
                "position ",
                num(sz.y[r]),
                " is ",
                num(need[r]),
                " units below the cover level but nothing is ordered: ",
                pa.array(why, pa.string()),
            ),
        )
    r = np.flatnonzero(tb.missing_supplier)
    rows_of(
        r,
        None,
        "missing_supplier",
        "error",
        np.zeros(r.size),
        _text(
            "no suppliers row for supplier_id ",
            pc.fill_null(tb.item_sup_ids.take(pa.array(r)), "(null)"),
            ": item skipped",
        ),
    )
    js = np.flatnonzero(pl.infeasible)
    rows_of(
        None,
        js,
        "budget_below_minimum",
        "error",
        s["budget"][js],
        _text(
            "budget ",
            num(s["budget"][js], 2),
            " is below the minimum order value ",
            num(s["min_order_value"][js], 2),
            ": no order placed",
        ),
    )
    js = np.flatnonzero(pl.extra["dropped"])
    rows_of(
        None,
        js,
        "global_budget",
        "warning",
        pl.extra["v_unc"][js],
        _text(
            "the order was dropped to meet the global budget (its need was worth ",
            num(pl.extra["v_unc"][js], 2),
            ")",
        ),
    )
    js = np.flatnonzero(pl.sup_status == "feasible")
    rows_of(
        None,
        js,
        "solver_limit",
        "info",
        pl.sup_gap[js],
        _text(
            "the solver stopped at its work limit with a relative gap of ", num(pl.sup_gap[js] * 100, 2), " %"
        ),
    )
    if not parts:
        return WARNING_SCHEMA.empty_table()
    return pa.concat_tables(parts)
