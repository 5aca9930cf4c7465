"""The constrained step: the global budget, which suppliers need a solver, the final packs and the bounds.

1. Grid and objective of every candidate item (:mod:`stockopt._kernels.inventory.cover`).
2. Global budget (the marginal analysis of Fox 1966, Lagrangian decomposition of Everett 1963 and
   Fisher 1981): every item's cost segments are bought in order of their saving per unit of money,
   each supplier up to its own budget, until the global budget is spent; the saving per unit of
   money of the first segment left out is the price ``lam`` of the budget, and what each supplier
   bought becomes its allocated budget.
3. Each supplier is then solved alone at that price (its Lagrangian subproblem): by OR-Tools
   (:mod:`._solver`) when one of its own constraints binds, otherwise in closed form (its
   allocation, then adjusted: packs are removed where they cost the least per unit of money, or
   added where they save the most, until the global budget is met).
4. Bounds: each supplier's bound is certified by :mod:`._solver` (or exact in closed form); with a
   global budget, ``sum_j min_x [f_j(x) + lam value_j(x)] - lam budget`` is a Lagrangian lower
   bound of the whole problem, so the global gap is certified too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stockopt._exec import get_executor
from stockopt._kernels.inventory.cover import grid_fill, grid_sizes, pack_costs
from stockopt.replenishment._sizing import Sizing, argmin_items, gather_points, per_item
from stockopt.replenishment._solver import Block, solve_block
from stockopt.replenishment._tables import Tables


@dataclass
class PlanArrays:
    """Final packs per item and the per-supplier outcome (suppliers table order)."""

    k: np.ndarray  # final packs per item (policy order)
    k_unc: np.ndarray  # packs before the supplier constraints
    k_alloc: np.ndarray  # packs after the global budget's allocation, before the supplier constraints
    cost: np.ndarray  # expected holding + shortage cost of the final packs (money, cover period)
    obj: np.ndarray  # objective of the final packs (cost + shortfall penalty), per item
    sup_status: np.ndarray  # object array of status names
    sup_gap: np.ndarray
    sup_trucks: np.ndarray
    sup_objective: np.ndarray
    sup_binding: list
    sup_relax: list
    lam: float
    global_gap: float
    global_bound: float
    infeasible: np.ndarray  # suppliers whose budget is below their minimum order value
    freight: np.ndarray  # freight credit per pack
    cand: np.ndarray  # candidate items in canonical order (supplier, then id)
    solved: np.ndarray  # suppliers that went through the solver
    extra: dict = field(default_factory=dict)


def _evaluate(sz: Sizing, rows: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Objective (without prices) and expected cost of ``k`` packs of the items ``rows``."""
    o = np.empty(rows.size)
    c = np.empty(rows.size)
    kk = np.ascontiguousarray(k, dtype=np.int64)
    rr = np.ascontiguousarray(rows, dtype=np.int64)

    def run(a: int, b: int) -> None:
        pack_costs(
            kk[a:b],
            sz.y,
            sz.pk,
            sz.qt,
            sz.g,
            sz.kap,
            rr[a:b],
            sz.ip,
            sz.pm,
            sz.pv,
            sz.pw,
            sz.dist,
            sz.h,
            sz.b,
            o[a:b],
            c[a:b],
        )

    per_item(rows.size, sz.extra.get("n_jobs", 1), run)
    return o, c


def _argmin(sz: Sizing, rows: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Each item's integer optimum with a price ``lam`` per pack (no supplier constraint)."""
    if not rows.size:
        return np.zeros(0, np.int64)
    ip, pm, pv, pw = gather_points(sz, rows)
    cols = (x[rows] for x in (sz.y, sz.pk, sz.kmin, sz.kmax, sz.qt, sz.g, sz.kap))
    return argmin_items(*cols, np.ascontiguousarray(lam, dtype=np.float64), ip, pm, pv, pw, sz.dist[rows],
                        sz.h[rows], sz.b[rows], sz.extra.get("n_jobs", 1))


def _group_sum(sup: np.ndarray, x: np.ndarray, n_sup: int) -> np.ndarray:
    return np.bincount(sup, weights=x, minlength=n_sup) if sup.size else np.zeros(n_sup)


def _allocate(g_item, gk, gobj, local, c_sup, value, cap, budget):
    """Greedy marginal allocation of the global budget over the items' cost segments.

    Returns ``(lam, packs per candidate)``: segments are bought in decreasing saving per unit of money
    (made non-increasing along each item, so every item buys a prefix of its chain), a supplier's
    segments only up to its own budget ``cap``, all of them only up to ``budget``.
    """
    s0 = np.flatnonzero(g_item[:-1] == g_item[1:])
    it = local[s0]
    w = (gk[s0 + 1] - gk[s0]).astype(np.float64)
    val = value[it] * w
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(val > 0, -(gobj[s0 + 1] - gobj[s0]) / val, -np.inf)
    # running minimum along each item (an MOQ jump may save less per unit of money than what follows it)
    starts = np.flatnonzero(np.r_[True, it[1:] != it[:-1]])
    tau_m = tau.copy()
    for j in range(1, int(np.diff(np.r_[starts, it.size]).max(initial=1))):  # loop over positions, not items
        pos = starts + j
        ok = pos < np.r_[starts[1:], it.size]
        p = pos[ok]
        tau_m[p] = np.minimum(tau_m[p], tau_m[p - 1])
    good = np.flatnonzero(tau_m > 0)
    order = good[np.lexsort((s0[good], -tau_m[good]))]
    sj = c_sup[it[order]]
    v = val[order]
    by_sup = np.argsort(sj, kind="stable")
    cs = np.cumsum(v[by_sup])
    first = np.searchsorted(sj[by_sup], sj[by_sup], side="left")
    within = np.empty(order.size, dtype=bool)
    within[by_sup] = (cs - np.concatenate(([0.0], cs))[first]) <= cap[sj[by_sup]] * (1 + 1e-12)
    ok = order[within]
    take = np.cumsum(val[ok]) <= budget * (1 + 1e-12)
    n_take = int(take.sum())
    lam = float(tau_m[ok[n_take]]) if n_take < ok.size else 0.0
    packs = np.bincount(it[ok[:n_take]], weights=w[ok[:n_take]], minlength=value.size)
    return max(lam, 0.0), np.rint(packs).astype(np.int64)


def plan(
    tb: Tables,
    sz: Sizing,
    *,
    budget: float,
    gap_limit: float,
    work_limit: float,
    n_jobs: int,
    structure: bool,
    method: str = "core",
) -> PlanArrays:
    import pyarrow.compute as pc

    n = sz.n
    n_sup = len(tb.sup_ids)
    sup = tb.item_sup
    s = tb.sup
    cand = np.flatnonzero(sz.kmax >= np.maximum(sz.kmin, 1))  # triggered, with something to order
    # canonical order: supplier row, then item id (the input's row order does not matter)
    rank = np.empty(n, np.int64)
    rank[np.asarray(pc.sort_indices(tb.ids), dtype=np.int64)] = np.arange(n)
    sup_rank = np.empty(n_sup, np.int64)
    sup_rank[np.asarray(pc.sort_indices(tb.sup_ids), dtype=np.int64)] = np.arange(n_sup)
    cand = cand[np.lexsort((rank[cand], sup_rank[sup[cand]]))]
    c_sup = sup[cand]
    has = np.bincount(c_sup, minlength=n_sup) > 0
    value_c = sz.value_per_pack[cand]

    trucks_on = np.isfinite(s["truck_volume"]) | np.isfinite(s["truck_weight"])
    # freight credit: a pack's share of a truck in the supplier's fuller dimension (volume or weight)
    # at the unconstrained order, times the truck cost; a load's credits never exceed its trucks' cost
    sj = np.maximum(sup, 0)
    vol_load = np.bincount(sj, weights=sz.volume_per_pack * sz.k_star, minlength=n_sup) / s["truck_volume"]
    wt_load = np.bincount(sj, weights=sz.weight_per_pack * sz.k_star, minlength=n_sup) / s["truck_weight"]
    by_weight = (wt_load > vol_load) | ~np.isfinite(s["truck_volume"])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(
            by_weight[sj],
            sz.weight_per_pack / s["truck_weight"][sj],
            sz.volume_per_pack / s["truck_volume"][sj],
        )
    freight = np.where((sup >= 0) & trucks_on[sj], np.nan_to_num(share) * s["truck_cost"][sj], 0.0)
    freight_c = freight[cand]

    # every candidate's grid and its objective there
    kmin_c, kmax_c, kst_c = sz.kmin[cand], sz.kmax[cand], sz.k_star[cand]
    knv_c = np.rint(np.maximum(sz.level_nv[cand] - sz.y[cand], 0.0) / sz.pk[cand]).astype(np.int64)
    sizes = np.empty(cand.size, np.int64)
    grid_sizes(kst_c, knv_c, kmin_c, kmax_c, sizes)
    gp = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    gk = np.empty(int(gp[-1]), np.int64)
    grid_fill(kst_c, knv_c, kmin_c, kmax_c, gp, gk)
    g_local = np.repeat(np.arange(cand.size), sizes)
    gobj, _ = _evaluate(sz, cand[g_local], gk)

    infeasible = (s["budget"] < s["min_order_value"]) & (s["min_order_value"] > 0) & has
    own_cap = np.where(infeasible, 0.0, s["budget"])
    v_unc = _group_sum(c_sup, value_c * kst_c, n_sup)
    lam = 0.0
    k_alloc = np.where(infeasible[c_sup], 0, kst_c)
    alloc = own_cap.copy()
    global_binds = np.isfinite(budget) and float(np.minimum(v_unc, own_cap).sum()) > budget
    if global_binds:
        lam, k_alloc = _allocate(g_local, gk, gobj, g_local, c_sup, value_c, own_cap, budget)
        alloc = _group_sum(c_sup, value_c * k_alloc, n_sup)

    # which suppliers need the solver
    v_a = _group_sum(c_sup, value_c * k_alloc, n_sup)
    load = np.maximum(
        _group_sum(c_sup, sz.volume_per_pack[cand] * k_alloc, n_sup) / s["truck_volume"],
        _group_sum(c_sup, sz.weight_per_pack[cand] * k_alloc, n_sup) / s["truck_weight"],
    )
    min_hit = (v_a > 0) & (v_a < s["min_order_value"])
    budget_hit = v_unc > s["budget"]
    truck_hit = trucks_on & (v_a > 0) & ((s["truck_cost"] > 0) | (load > s["max_trucks"]))
    solve = has & ~infeasible & (min_hit | budget_hit | truck_hit | (not structure))

    k_fin = k_alloc.copy()
    dropped = np.zeros(n_sup, dtype=bool)
    c_rank = sup_rank[c_sup]  # sorted ascending: each supplier's items are one range
    first_of = np.searchsorted(c_rank, sup_rank)
    last_of = np.searchsorted(c_rank, sup_rank, side="right")
    status = np.where(has, "unconstrained", "no_need").astype(object)
    status[infeasible] = "infeasible"
    sup_bound = np.zeros(n_sup)
    todo = np.flatnonzero(solve)
    todo = todo[np.argsort(sup_rank[todo])]
    blocks = []
    for j in todo.tolist():  # one model per supplier (a loop over suppliers, not items)
        a, b = int(first_of[j]), int(last_of[j])
        rows = cand[a:b]
        ga, gb = int(gp[a]), int(gp[b])
        blocks.append(
            Block(
                gp=gp[a : b + 1] - gp[a],
                gk=gk[ga:gb],
                gobj=gobj[ga:gb],
                lam=lam * value_c[a:b] - freight_c[a:b],
                kmin=kmin_c[a:b],
                kmax=kmax_c[a:b],
                value=value_c[a:b],
                volume=sz.volume_per_pack[rows],
                weight=sz.weight_per_pack[rows],
                hint=k_alloc[a:b],
                min_order_value=float(s["min_order_value"][j]),
                budget=float(s["budget"][j]),
                truck_volume=float(s["truck_volume"][j]),
                truck_weight=float(s["truck_weight"][j]),
                truck_cost=float(s["truck_cost"][j]),
                max_trucks=float(s["max_trucks"][j]),
                cost_fn=lambda li, kk, rows=rows: _evaluate(sz, rows[li], kk)[0],
                price=lam,
            )
        )

    def run(blk: Block):
        return solve_block(blk, gap_limit, work_limit, method)

    sols = get_executor(min(n_jobs, max(len(blocks), 1))).map(run, blocks)  # pure: one supplier per task
    for j, sol in zip(todo.tolist(), sols):
        a, b = int(first_of[j]), int(last_of[j])
        k_fin[a:b] = sol.k
        status[j] = sol.status
        sup_bound[j] = sol.bound  # of the priced problem (the supplier's Lagrangian subproblem)

    # the global budget also binds when only the suppliers' minimum order values lift the orders above it
    over = np.isfinite(budget) and float(np.sum(value_c * k_fin)) > budget * (1 + 1e-12)
    if global_binds or over:  # the closed-form suppliers absorb what the solved ones spent more or less
        free_items = ~solve[c_sup] & ~infeasible[c_sup]
        k_fin = _repair(sz, cand, c_sup, k_fin, free_items, budget, s["min_order_value"], n_sup)
        if float(np.sum(value_c * k_fin)) > budget * (1 + 1e-12):  # the solved suppliers too, then whole ones
            k_fin = _repair(
                sz, cand, c_sup, k_fin, np.ones(cand.size, bool), budget, s["min_order_value"], n_sup
            )
            k_fin, dropped = _drop(sz, cand, c_sup, k_fin, budget, n_sup)
        k_fin = _fill(gp, gk, gobj, c_sup, value_c, k_fin, free_items, own_cap, s["min_order_value"], budget)
    status[dropped] = "dropped"
    # exact objectives (trucks: the fewest that carry the load)
    obj_c, cost_c = _evaluate(sz, cand, k_fin)
    obj0 = _group_sum(c_sup, _evaluate(sz, cand, np.zeros(cand.size, np.int64))[0], n_sup)
    v_fin = _group_sum(c_sup, value_c * k_fin, n_sup)
    load_fin = np.maximum(
        _group_sum(c_sup, sz.volume_per_pack[cand] * k_fin, n_sup) / s["truck_volume"],
        _group_sum(c_sup, sz.weight_per_pack[cand] * k_fin, n_sup) / s["truck_weight"],
    )
    trucks = np.where(trucks_on & (v_fin > 0), np.ceil(load_fin - 1e-9), 0).astype(np.int64)
    sup_obj = _group_sum(c_sup, obj_c - freight_c * k_fin, n_sup) + s["truck_cost"] * trucks
    free = has & ~solve & ~infeasible
    # closed-form suppliers: exact integer optimum at the price (their own constraints do not bind there)
    k_lam = _argmin(sz, cand, lam * value_c - freight_c) if lam > 0 else kst_c
    o_lam = _evaluate(sz, cand, k_lam)[0] + (lam * value_c - freight_c) * k_lam
    lagr_free = _group_sum(c_sup, o_lam, n_sup)
    # per supplier, a lower bound of the priced problem min f_j + lam value_j (its Lagrangian subproblem)
    lagr = np.where(free, lagr_free, sup_bound)
    lagr = np.where(infeasible, obj0, np.where(has, lagr, 0.0))
    # ... and of its own problem at what it spent: f_j >= lagr_j - lam value_j for any order within it
    sup_bound = np.minimum(lagr, sup_obj + lam * v_fin) - lam * v_fin
    sup_bound = np.minimum(np.where(has, sup_bound, 0.0), sup_obj)
    gap = np.where(has, (sup_obj - sup_bound) / np.maximum(np.abs(sup_obj), 1e-9), 0.0)
    gap = np.maximum(np.where(np.isfinite(gap), gap, np.inf), 0.0)
    total = float(sup_obj.sum())
    g_bound = float(lagr.sum()) - (lam * budget if lam > 0 else 0.0)
    global_gap = max((total - g_bound) / max(abs(total), 1e-9), 0.0) if has.any() else 0.0

    binding, relax = [], []
    for j in range(n_sup):  # per supplier labels (a loop over suppliers)
        names = []
        if has[j] and not infeasible[j]:
            if min_hit[j]:
                names.append("min_order_value")
            if budget_hit[j]:
                names.append("budget")
            if truck_hit[j]:
                names.append("trucks" if load[j] <= s["max_trucks"][j] else "max_trucks")
            if dropped[j] or (global_binds and v_unc[j] > alloc[j] + 1e-9):
                names.append("global_budget")
        binding.append(",".join(names))
        relax.append(
            "budget below the minimum order value: no order"
            if infeasible[j]
            else "dropped to meet the global budget"
            if dropped[j]
            else ""
        )
    full = np.zeros(n, np.int64)
    k, k_unc, k_al = full.copy(), full.copy(), full.copy()
    k[cand], k_unc[cand], k_al[cand] = k_fin, kst_c, k_alloc
    cost, obj = np.zeros(n), np.zeros(n)
    cost[cand], obj[cand] = cost_c, obj_c
    return PlanArrays(
        k=k,
        k_unc=k_unc,
        k_alloc=k_al,
        cost=cost,
        obj=obj,
        sup_status=status,
        sup_gap=gap,
        sup_trucks=trucks,
        sup_objective=sup_obj,
        sup_binding=binding,
        sup_relax=relax,
        lam=lam,
        global_gap=global_gap,
        global_bound=g_bound,
        infeasible=infeasible,
        freight=freight,
        cand=cand,
        solved=solve,
        extra={"v_unc": v_unc, "alloc": alloc, "dropped": dropped},
    )


def _fill(gp, gk, gobj, c_sup, value, k, movable, cap, mov, budget, rounds: int = 100):
    """Add whole grid segments to the ``movable`` items while the global budget (and each supplier's own)
    has room, the largest saving per unit of money first (at most one segment per supplier and round)."""
    k = k.copy()
    n = k.size
    n_sup = cap.size
    item = np.repeat(np.arange(n), np.diff(gp))
    key = item.astype(np.int64) * (1 << 32) + gk
    for _ in range(rounds):
        room = budget - float(np.sum(value * k))
        spent = _group_sum(c_sup, value * k, n_sup)
        at = np.searchsorted(key, np.arange(n, dtype=np.int64) * (1 << 32) + k, side="right")
        ok = np.flatnonzero(movable & (at < gp[1:]) & (at > gp[:-1]))
        if ok.size == 0:
            break
        d_obj = gobj[at[ok]] - gobj[at[ok] - 1]
        d_val = value[ok] * (gk[at[ok]] - k[ok])
        started = (spent[c_sup[ok]] > 0) & (spent[c_sup[ok]] >= mov[c_sup[ok]] - 1e-9) | (mov[c_sup[ok]] <= 0)
        fits = (
            (d_obj < 0)
            & (d_val <= room + 1e-9)
            & (spent[c_sup[ok]] + d_val <= cap[c_sup[ok]] + 1e-9)
            & started
        )
        ok, d_obj, d_val = ok[fits], d_obj[fits], d_val[fits]
        if ok.size == 0:
            break
        order = np.argsort(d_obj / d_val, kind="stable")
        _, first = np.unique(c_sup[ok[order]], return_index=True)  # one per supplier: its own cap holds
        order = order[np.sort(first)]
        take = order[np.cumsum(d_val[order]) <= room + 1e-9]
        if take.size == 0:
            break
        k[ok[take]] = gk[at[ok[take]]]
    return k


def _repair(sz, cand, c_sup, k, movable, budget: float, mov: np.ndarray, n_sup: int):
    """Remove packs of the ``movable`` items (cheapest increase of the objective per unit of money first,
    never below a supplier's minimum order value) until the orders fit the budget."""
    val = sz.value_per_pack[cand]
    kmin = sz.kmin[cand]
    k = k.copy()
    for _ in range(10_000):  # rounds of at most one step per item
        excess = float((val * k).sum()) - budget
        if excess <= 1e-9 * max(budget, 1.0):
            break
        step = np.where((k == kmin) & (kmin >= 2), kmin, 1)  # an MOQ item goes from its MOQ to 0
        rows = np.flatnonzero((k > 0) & movable)
        if rows.size == 0:
            break
        o_now = _evaluate(sz, cand[rows], k[rows])[0]
        o_less = _evaluate(sz, cand[rows], k[rows] - step[rows])[0]
        order = rows[np.argsort((o_less - o_now) / (val[rows] * step[rows]), kind="stable")]
        fr = val[order] * step[order]
        sj = c_sup[order]
        v_sup = _group_sum(c_sup, val * k, n_sup)
        srt = np.argsort(sj, kind="stable")
        cs = np.cumsum(fr[srt])
        first = np.searchsorted(sj[srt], sj[srt], side="left")
        cum = np.empty(order.size)
        cum[srt] = cs - np.concatenate(([0.0], cs))[first]
        allowed = (v_sup[sj] - cum >= mov[sj] - 1e-9) | (mov[sj] <= 0)
        pick = order[allowed]
        if pick.size == 0:
            break
        m = int(np.searchsorted(np.cumsum(val[pick] * step[pick]), excess - 1e-12)) + 1
        k[pick[:m]] -= step[pick[:m]]
    return k


def _drop(sz, cand, c_sup, k, budget: float, n_sup: int):
    """Drop whole suppliers' orders (the least objective lost per unit of money first) until within budget."""
    val = sz.value_per_pack[cand]
    v_sup = _group_sum(c_sup, val * k, n_sup)
    loss = _group_sum(
        c_sup, _evaluate(sz, cand, np.zeros(cand.size, np.int64))[0] - _evaluate(sz, cand, k)[0], n_sup
    )
    live = np.flatnonzero(v_sup > 0)
    live = live[np.argsort(loss[live] / v_sup[live], kind="stable")]
    excess = float(v_sup.sum()) - budget
    dropped = np.zeros(n_sup, dtype=bool)
    for j in live.tolist():  # a loop over suppliers
        if excess <= 1e-9 * max(budget, 1.0):
            break
        k = np.where(c_sup == j, 0, k)
        dropped[j] = True
        excess -= v_sup[j]
    return k, dropped
