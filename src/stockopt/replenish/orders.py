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

from stockopt.errors import ParameterError, raise_error
from stockopt.replenish._plan import PlanArrays, plan
from stockopt.replenish._reasons import num, reasons
from stockopt.replenish._sizing import RELAX_MAX_STOCK, RELAX_SHELF, Sizing, size_orders
from stockopt.replenish._tables import Tables, as_of_day, read_tables

__all__ = ["replenish", "replenish_plan", "ReplenishmentPlan", "WARNING_SCHEMA"]

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
        One row per supplier: ``supplier_id, order_date, status`` (``unconstrained``: closed form,
        no binding constraint; ``optimal`` / ``feasible``: CP-SAT; ``infeasible``: budget below the
        minimum order value; ``dropped``: removed for the global budget; ``no_need``), ``gap``
        (relative optimality gap of its subproblem), ``objective`` (money: expected holding +
        shortage cost over the cover, plus the shortfall penalty below the target and the trucks,
        minus the freight credit),
        ``expected_cost``, ``order_value``, ``lines``, ``trucks``, ``binding`` (comma-separated
        constraints that changed the order), ``relaxations``.
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
    freq_days: float | None = None,
    max_cover_cycles: float = 2.0,
    missing_supplier: str = "raise",
    gap_limit: float = 0.005,
    work_limit: float = 10.0,
    n_jobs: int = 1,
    structure: bool = True,
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
    model, freq_days
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
        every supplier through CP-SAT (for benchmarks and tests).

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
    >>> sup = pa.table({"supplier_id": ["S"], "order_days": [[0]], "min_order_value": [500.0]})
    >>> res = so.replenish_plan(stock, pol, items, sup, as_of="2026-11-23")
    >>> res.orders.select(["unique_id", "order_date", "arrival_date", "packs", "quantity"]).to_pylist()[0]
    {'unique_id': 'A', 'order_date': datetime.date(2026, 11, 23), 'arrival_date': datetime.date(2026, 11, 25), \
'packs': 7, 'quantity': 84.0}
    >>> res.suppliers["status"][0].as_py()
    'optimal'
    """
    if objective != "cost":
        raise_error(ParameterError, "unknown objective", column="objective", expected="'cost'", got=objective)
    for name, val, lo in (
        ("gap_limit", gap_limit, 0.0),
        ("work_limit", work_limit, 0.0),
        ("max_cover_cycles", max_cover_cycles, 0.0),
    ):
        if not isinstance(val, (int, float)) or not np.isfinite(val) or val < lo:
            raise_error(ParameterError, f"{name} must be a finite number >= {lo:g}", column=name, got=val)
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise_error(ParameterError, "n_jobs must be an integer >= 1", column="n_jobs", got=n_jobs)
    glob = np.inf if budget is None else budget
    if not isinstance(glob, (int, float)) or np.isnan(glob) or glob < 0:
        raise_error(ParameterError, "budget must be a number >= 0 (or None)", column="budget", got=budget)
    day0 = as_of_day(as_of)
    tb = read_tables(stock, policy, items, suppliers, open_orders, missing_supplier)
    sz = size_orders(
        tb,
        day0,
        forecast=forecast,
        model=model,
        freq_days=freq_days,
        max_cover_cycles=float(max_cover_cycles),
    )
    pa_ = plan(
        tb,
        sz,
        budget=float(glob),
        gap_limit=float(gap_limit),
        work_limit=float(work_limit),
        n_jobs=int(n_jobs),
        structure=bool(structure),
    )
    return _assemble(tb, sz, pa_, float(glob))


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
    **options: Any,
) -> pa.Table:
    """The order lines of :func:`replenish_plan` (same arguments; ``options`` are its keyword options).

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
    >>> items = pa.table({"unique_id": ["A"], "supplier_id": ["S"], "lead_time": [2.0], "review_period": [7.0],
    ...                   "pack_size": [12.0]})
    >>> pol = so.inventory_policy(demand, items, policy="RS", distribution="normal")
    >>> orders = so.replenish(pa.table({"unique_id": ["A"], "on_hand": [20.0]}), pol, items,
    ...                       pa.table({"supplier_id": ["S"], "order_days": [[0]]}), as_of="2026-11-23")
    >>> orders["reason"][0].as_py()
    'position 20 (on hand 20) < order-up-to 113.8 -> 93.8; 8 packs of 12 = 96'
    """
    return replenish_plan(
        stock,
        policy,
        items,
        suppliers,
        as_of=as_of,
        forecast=forecast,
        open_orders=open_orders,
        objective=objective,
        budget=budget,
        **options,
    ).orders


def _days(x: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(x, dtype=np.int32), pa.int32()).cast(pa.date32())


def _assemble(tb: Tables, sz: Sizing, pl: PlanArrays, budget: float) -> ReplenishmentPlan:
    n_sup = len(tb.sup_ids)
    sup = tb.item_sup
    s = tb.sup
    cand = pl.extra["cand"]
    lines = cand[pl.k[cand] > 0]  # canonical order: supplier, then item id
    k = pl.k[lines]
    qty = k * sz.pk[lines]
    sj = sup[lines]
    # the constraint that changed each supplier's packs, for the sentences
    binding = np.array(pl.sup_binding, dtype=object)
    kind = np.full(n_sup, "", dtype=object)
    amount = np.zeros(n_sup)
    for code, name, amt in (
        ("tru", "trucks", None),
        ("tru", "max_trucks", None),
        ("glo", "global_budget", None),
        ("bud", "budget", s["budget"]),
        ("min", "min_order_value", s["min_order_value"]),
    ):
        hit = (
            np.array([name in b.split(",") for b in binding.tolist()], dtype=bool)
            if n_sup
            else np.zeros(0, bool)
        )
        kind[hit] = code  # later entries win: the minimum, then the budget, are the clearest to a buyer
        if amt is not None:
            amount[hit] = amt[hit]
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
            "quantity": qty.astype(np.float64),
            "packs": k.astype(np.int64),
            "value": k * sz.value_per_pack[lines],
            "volume": k * sz.volume_per_pack[lines],
            "weight": k * sz.weight_per_pack[lines],
            "reason": why,
        },
        schema=ORDER_SCHEMA,
    )

    val_sup = np.bincount(sj, weights=k * sz.value_per_pack[lines], minlength=n_sup)
    n_lines = np.bincount(sj, minlength=n_sup)
    vol = np.bincount(sj, weights=k * sz.volume_per_pack[lines], minlength=n_sup)
    wt = np.bincount(sj, weights=k * sz.weight_per_pack[lines], minlength=n_sup)
    trucks_on = np.isfinite(s["truck_volume"]) | np.isfinite(s["truck_weight"])
    trucks = np.where(
        trucks_on & (val_sup > 0),
        np.ceil(np.maximum(vol / s["truck_volume"], wt / s["truck_weight"]) - 1e-9),
        0,
    ).astype(np.int64)
    c_sup = sup[cand]
    exp_cost = np.bincount(c_sup, weights=pl.cost[cand], minlength=n_sup) if cand.size else np.zeros(n_sup)
    obj = (
        np.bincount(c_sup, weights=pl.obj[cand] - pl.freight[cand] * pl.k[cand], minlength=n_sup)
        if cand.size
        else np.zeros(n_sup)
    ) + s["truck_cost"] * trucks
    order_day = np.full(n_sup, np.iinfo(np.int32).min, dtype=np.int64)
    has_items = np.bincount(np.maximum(sup, 0)[sup >= 0], minlength=n_sup) > 0
    first = np.full(n_sup, -1, np.int64)
    ok = np.flatnonzero(sup >= 0)
    first[sup[ok[::-1]]] = ok[::-1]
    order_day[has_items] = sz.order_day[first[has_items]]
    sup_tbl = pa.table(
        {
            "supplier_id": tb.sup_ids.cast(pa.string()),
            "order_date": pa.array(
                np.where(has_items, order_day, 0).astype(np.int32), pa.int32(), mask=~has_items
            ).cast(pa.date32()),
            "status": pa.array(pl.sup_status.astype(str).tolist(), pa.string()),
            "gap": pl.sup_gap,
            "objective": obj,
            "expected_cost": exp_cost,
            "order_value": val_sup,
            "lines": n_lines.astype(np.int64),
            "trucks": trucks,
            "binding": pa.array(pl.sup_binding, pa.string()),
            "relaxations": pa.array(pl.sup_relax, pa.string()),
        }
    )
    warn = _warnings(tb, sz, pl)
    total_obj = float(obj.sum())
    summary = {
        "lines": int(len(lines)),
        "value": float(val_sup.sum()),
        "global_gap": float(pl.global_gap),
        "budget_price": float(pl.lam),
        "solver_suppliers": int(pl.extra["solved"].sum()),
        "objective": total_obj,
        "bound": float(pl.global_bound),
        "max_gap": float(pl.sup_gap.max(initial=0.0)),
    }
    return ReplenishmentPlan(
        orders=orders, suppliers=sup_tbl, warnings=warn, summary=summary, _state=(tb, sz, pl)
    )


def _warnings(tb: Tables, sz: Sizing, pl: PlanArrays) -> pa.Table:
    """Warning rows: relaxations applied, needs left unordered, suppliers that cannot be ordered from."""
    sup = tb.item_sup
    s = tb.sup
    parts: list[pa.Table] = []

    def item_rows(rows: np.ndarray, kind: str, severity: str, value: np.ndarray, message: pa.Array) -> None:
        if rows.size == 0:
            return
        parts.append(
            pa.table(
                {
                    "unique_id": tb.ids.take(pa.array(rows)).cast(pa.string()),
                    "supplier_id": tb.item_sup_ids.take(pa.array(rows)).cast(pa.string()),
                    "kind": pa.array(np.full(rows.size, kind, dtype=object), pa.string()),
                    "severity": pa.array(np.full(rows.size, severity, dtype=object), pa.string()),
                    "value": np.asarray(value, dtype=np.float64),
                    "message": message,
                },
                schema=WARNING_SCHEMA,
            )
        )

    import pyarrow.compute as pc

    def text(*p):
        n = max(len(x) for x in p if not isinstance(x, str))
        return pc.binary_join_element_wise(
            *[
                pa.array(np.full(n, x, dtype=object), pa.string())
                if isinstance(x, str)
                else x.cast(pa.string())
                for x in p
            ],
            "",
        )

    ordered = pl.k > 0
    r = np.flatnonzero((sz.relax == RELAX_MAX_STOCK) & ordered)
    over = sz.y[r] + pl.k[r] * sz.pk[r] - tb.item["max_stock"][r]
    item_rows(
        r,
        "max_stock",
        "warning",
        over,
        text(
            "the smallest order (",
            num(pl.k[r] * sz.pk[r]),
            " units: MOQ or one pack) exceeds the maximum stock ",
            num(tb.item["max_stock"][r]),
            " by ",
            num(over),
            " units; ordered anyway so the item does not run out",
        ),
    )
    r = np.flatnonzero((sz.relax == RELAX_SHELF) & ordered)
    waste = np.maximum(
        sz.y[r] + pl.k[r] * sz.pk[r] - np.maximum(sz.extra["cap_sellable"][r] + sz.y[r], 0.0), 0.0
    )
    item_rows(
        r,
        "shelf_life",
        "warning",
        waste,
        text(
            "the smallest order (",
            num(pl.k[r] * sz.pk[r]),
            " units) is more than sells within the shelf life; about ",
            num(waste),
            " units may expire; ordered anyway so the item does not run out",
        ),
    )
    r = np.flatnonzero((pl.k_unc > 0) & ~ordered & (sup >= 0))
    if r.size:
        reason = np.where(
            pl.infeasible[sup[r]],
            "the supplier budget is below its minimum order value",
            np.where(
                pl.dropped[sup[r]],
                "the supplier was dropped to meet the global budget",
                "the supplier's constraints (minimum order value, budget, trucks) left it out",
            ),
        )
        need = pl.k_unc[r] * sz.pk[r]
        item_rows(
            r,
            "not_ordered",
            "warning",
            need,
            text("needs ", num(need), " units but nothing is ordered: ", pa.array(reason, pa.string())),
        )
    r = np.flatnonzero(tb.missing_supplier)
    item_rows(
        r,
        "missing_supplier",
        "error",
        np.zeros(r.size),
        text(
            "no suppliers row for supplier_id ",
            pc.fill_null(tb.item_sup_ids.take(pa.array(r)), "(null)"),
            ": item skipped",
        ),
    )
    js = np.flatnonzero(pl.infeasible)
    if js.size:
        parts.append(
            pa.table(
                {
                    "unique_id": pa.nulls(js.size, pa.string()),
                    "supplier_id": tb.sup_ids.take(pa.array(js)).cast(pa.string()),
                    "kind": pa.array(np.full(js.size, "budget_below_minimum", dtype=object), pa.string()),
                    "severity": pa.array(np.full(js.size, "error", dtype=object), pa.string()),
                    "value": s["budget"][js],
                    "message": text(
                        "budget ",
                        num(s["budget"][js], 2),
                        " is below the minimum order value ",
                        num(s["min_order_value"][js], 2),
                        ": no order placed",
                    ),
                },
                schema=WARNING_SCHEMA,
            )
        )
    js = np.flatnonzero(pl.dropped)
    if js.size:
        parts.append(
            pa.table(
                {
                    "unique_id": pa.nulls(js.size, pa.string()),
                    "supplier_id": tb.sup_ids.take(pa.array(js)).cast(pa.string()),
                    "kind": pa.array(np.full(js.size, "global_budget", dtype=object), pa.string()),
                    "severity": pa.array(np.full(js.size, "warning", dtype=object), pa.string()),
                    "value": pl.extra["v_lam"][js],
                    "message": text(
                        "the order (value ",
                        num(pl.extra["v_lam"][js], 2),
                        ") was dropped to meet the global budget without breaking the supplier minimum",
                    ),
                },
                schema=WARNING_SCHEMA,
            )
        )
    js = np.flatnonzero(np.isin(pl.sup_status, ["feasible", "no_solution"]))
    if js.size:
        parts.append(
            pa.table(
                {
                    "unique_id": pa.nulls(js.size, pa.string()),
                    "supplier_id": tb.sup_ids.take(pa.array(js)).cast(pa.string()),
                    "kind": pa.array(np.full(js.size, "solver_limit", dtype=object), pa.string()),
                    "severity": pa.array(np.full(js.size, "info", dtype=object), pa.string()),
                    "value": pl.sup_gap[js],
                    "message": text(
                        "the solver stopped at its work limit with a relative gap of ",
                        num(pl.sup_gap[js] * 100, 2),
                        " %",
                    ),
                },
                schema=WARNING_SCHEMA,
            )
        )
    if not parts:
        return WARNING_SCHEMA.empty_table()
    return pa.concat_tables(parts)
