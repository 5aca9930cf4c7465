"""The constrained step: which suppliers need the solver, the global budget, and the final packs.

1. Grid and objective of every candidate item (:mod:`stockopt._kernels.inventory.cover`).
2. Global budget (Lagrangian decomposition, Everett 1963; Fisher 1981): a price ``lam`` per unit of
   money is added to every item's objective; ``lam`` is the smallest price at which the orders,
   read off the items' cost segments (each segment is bought while its saving per unit of money
   exceeds the price, the marginal analysis of Fox 1966), fit the budget.
3. Every supplier is solved at that price: in closed form (each item's own integer optimum, no
   solver) when none of its constraints binds, otherwise by CP-SAT (:mod:`._solver`).
4. If the orders still exceed the global budget, packs are removed where they cost the least per
   unit of money (never below a supplier's minimum), then whole suppliers are dropped.
5. Bounds: each supplier's bound plus ``- lam * budget`` is a Lagrangian lower bound of the whole
   problem, so the global gap is certified.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from stockopt._kernels.inventory.cover import argmin_packs, grid_fill, grid_sizes, pack_costs
from stockopt.replenish._sizing import Sizing, gather_points
from stockopt.replenish._solver import Block, solve_block
from stockopt.replenish._tables import Tables


@dataclass
class PlanArrays:
    """Final packs per item and the per-supplier outcome (suppliers table order)."""

    k: np.ndarray  # final packs per item (policy order)
    k_unc: np.ndarray  # packs before the supplier constraints (lam = 0)
    k_lam: np.ndarray  # packs at the global-budget price, before the supplier constraints
    cost: np.ndarray  # expected holding + shortage cost of the final packs (money, cover period)
    obj: np.ndarray  # objective of the final packs (cost + shortfall penalty), per item
    sup_status: np.ndarray  # object array of status names
    sup_gap: np.ndarray
    sup_bound: np.ndarray  # lower bound of the supplier's objective at the price lam (with lam terms)
    sup_trucks: np.ndarray
    sup_binding: list
    sup_relax: list
    lam: float
    global_gap: float
    global_bound: float
    dropped: np.ndarray  # suppliers dropped by the global budget repair
    infeasible: np.ndarray  # suppliers whose budget is below their minimum order value
    freight: np.ndarray  # freight credit per pack
    extra: dict = field(default_factory=dict)


def _csr_pos(ip: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lens = ip[rows + 1] - ip[rows]
    sub = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    return (np.repeat(ip[rows] - sub[:-1], lens) + np.arange(int(sub[-1]))).astype(np.int64), sub


def _evaluate(sz: Sizing, rows: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Objective (without prices) and expected cost of ``k`` packs of the items ``rows``."""
    o = np.empty(rows.size)
    c = np.empty(rows.size)
    if rows.size:
        pack_costs(
            k.astype(np.int64),
            sz.y,
            sz.pk,
            sz.qt,
            sz.g,
            rows.astype(np.int64),
            sz.ip,
            sz.pm,
            sz.pv,
            sz.pw,
            sz.dist,
            sz.h,
            sz.b,
            o,
            c,
        )
    return o, c


def _argmin(sz: Sizing, rows: np.ndarray, lam: np.ndarray) -> np.ndarray:
    out = np.zeros(rows.size, np.int64)
    if rows.size:
        ip, pm, pv, pw = gather_points(sz, rows)
        argmin_packs(
            sz.y[rows],
            sz.pk[rows],
            sz.kmin[rows],
            sz.kmax[rows],
            sz.qt[rows],
            sz.g[rows],
            np.ascontiguousarray(lam),
            ip,
            pm,
            pv,
            pw,
            sz.dist[rows],
            sz.h[rows],
            sz.b[rows],
            out,
        )
    return out


def _group_sum(sup: np.ndarray, x: np.ndarray, n_sup: int) -> np.ndarray:
    return np.bincount(sup, weights=x, minlength=n_sup) if sup.size else np.zeros(n_sup)


def _price(
    seg_tau: np.ndarray, seg_val: np.ndarray, seg_sup: np.ndarray, cap: np.ndarray, budget: float
) -> float:
    """Smallest price per unit of money at which the segments bought fit ``budget``."""

    def spend(lam: float) -> float:
        take = seg_tau > lam
        return float(np.minimum(_group_sum(seg_sup[take], seg_val[take], cap.size), cap).sum())

    hi = float(seg_tau.max(initial=0.0))
    if spend(0.0) <= budget:
        return 0.0
    lo = 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if spend(mid) <= budget:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-12 * max(hi, 1e-300):
            break
    return hi


def plan(
    tb: Tables,
    sz: Sizing,
    *,
    budget: float,
    gap_limit: float,
    work_limit: float,
    n_jobs: int,
    structure: bool,
) -> PlanArrays:
    n = sz.n
    n_sup = len(tb.sup_ids)
    sup = tb.item_sup
    s = tb.sup
    cand = np.flatnonzero(sz.kmax >= np.maximum(sz.kmin, 1))  # triggered, with something to order
    c_sup = sup[cand]
    # canonical order: supplier row, then item id (the input's row order does not matter)
    import pyarrow.compute as pc

    rank = np.empty(n, np.int64)
    rank[np.asarray(pc.sort_indices(tb.ids), dtype=np.int64)] = np.arange(n)
    order = np.lexsort((rank[cand], c_sup))
    cand = cand[order]
    c_sup = c_sup[order]

    trucks_on = np.isfinite(s["truck_volume"]) | np.isfinite(s["truck_weight"])
    # freight credit: a pack's share of a truck in the supplier's fuller dimension (volume or weight) at
    # the unconstrained order, times the truck cost; the credits of a load never exceed its trucks' cost
    sj = np.maximum(sup, 0)
    k0 = sz.k_star
    vol_load = np.bincount(sj, weights=sz.volume_per_pack * k0, minlength=n_sup) / s["truck_volume"]
    wt_load = np.bincount(sj, weights=sz.weight_per_pack * k0, minlength=n_sup) / s["truck_weight"]
    by_weight = (wt_load > vol_load) | ~np.isfinite(s["truck_volume"])
    share = np.where(
        by_weight[sj], sz.weight_per_pack / s["truck_weight"][sj], sz.volume_per_pack / s["truck_volume"][sj]
    )
    freight = np.where((sup >= 0) & trucks_on[sj], np.nan_to_num(share) * s["truck_cost"][sj], 0.0)

    # grid and objective at the grid points
    kmin_c, kmax_c, kst_c = sz.kmin[cand], sz.kmax[cand], sz.k_star[cand]
    knv_c = np.rint(np.maximum(sz.level_nv[cand] - sz.y[cand], 0.0) / sz.pk[cand]).astype(np.int64)
    sizes = np.empty(cand.size, np.int64)
    grid_sizes(kst_c, knv_c, kmin_c, kmax_c, sizes)
    gp = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    gk = np.empty(int(gp[-1]), np.int64)
    grid_fill(kst_c, knv_c, kmin_c, kmax_c, gp, gk)
    g_item = np.repeat(cand, sizes)
    gobj, _ = _evaluate(sz, g_item, gk)

    infeasible = (s["budget"] < s["min_order_value"]) & (s["min_order_value"] > 0)
    # global budget price from the segments (a segment is bought while -slope / value > lam)
    lam = 0.0
    v_unc = _group_sum(c_sup, sz.value_per_pack[cand] * kst_c, n_sup)
    if np.isfinite(budget) and float(np.minimum(v_unc, s["budget"]).sum()) > budget:
        same = g_item[:-1] == g_item[1:]
        s0 = np.flatnonzero(same)
        it = g_item[s0]
        w = gk[s0 + 1] - gk[s0]
        val = sz.value_per_pack[it] * w
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = np.where(val > 0, -(gobj[s0 + 1] - gobj[s0]) / val, -np.inf)
        cap = np.where(infeasible, 0.0, s["budget"])
        lam = _price(tau, val, sup[it], cap, budget)
    lam_c = lam * sz.value_per_pack[cand]
    k_lam_c = _argmin(sz, cand, lam_c) if lam > 0 else kst_c.copy()

    # which suppliers need the solver (at the price lam)
    v_lam = _group_sum(c_sup, sz.value_per_pack[cand] * k_lam_c, n_sup)
    load = np.maximum(
        _group_sum(c_sup, sz.volume_per_pack[cand] * k_lam_c, n_sup) / s["truck_volume"],
        _group_sum(c_sup, sz.weight_per_pack[cand] * k_lam_c, n_sup) / s["truck_weight"],
    )
    has = np.bincount(c_sup, minlength=n_sup) > 0
    binding_min = (v_lam > 0) & (v_lam < s["min_order_value"])
    binding_budget = v_lam > s["budget"]
    binding_trucks = trucks_on & (v_lam > 0) & ((s["truck_cost"] > 0) | (load > s["max_trucks"]))
    solve = has & ~infeasible & (binding_min | binding_budget | binding_trucks | (not structure))

    k_fin_c = np.where(infeasible[c_sup], 0, k_lam_c)
    starts = np.searchsorted(c_sup, np.arange(n_sup + 1))
    status = np.where(has, "unconstrained", "no_need").astype(object)
    status[infeasible & has] = "infeasible"
    gap = np.zeros(n_sup)
    bound = np.full(n_sup, np.nan)
    trucks = np.ceil(np.where(trucks_on & (v_lam > 0), load, 0.0) - 1e-9).astype(np.int64)
    todo = np.flatnonzero(solve)
    blocks = []
    for j in todo.tolist():  # one model per supplier (a loop over suppliers, not items)
        a, b = int(starts[j]), int(starts[j + 1])
        rows = cand[a:b]
        ga, gb = int(gp[a]), int(gp[b])
        blocks.append(
            Block(
                gp=gp[a : b + 1] - gp[a],
                gk=gk[ga:gb],
                gobj=gobj[ga:gb],
                lam=lam_c[a:b] - freight[rows],
                kmin=kmin_c[a:b],
                kmax=kmax_c[a:b],
                value=sz.value_per_pack[rows],
                volume=sz.volume_per_pack[rows],
                weight=sz.weight_per_pack[rows],
                hint=k_lam_c[a:b],
                min_order_value=float(s["min_order_value"][j]),
                budget=float(s["budget"][j]),
                truck_volume=float(s["truck_volume"][j]),
                truck_weight=float(s["truck_weight"][j]),
                truck_cost=float(s["truck_cost"][j]),
                max_trucks=float(s["max_trucks"][j]),
                cost_fn=lambda li, kk, rows=rows: _evaluate(sz, rows[li], kk)[0],
            )
        )

    def run(blk: Block):
        return solve_block(blk, gap_limit, work_limit)

    if n_jobs > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(max_workers=n_jobs) as ex:
            sols = list(ex.map(run, blocks))
    else:
        sols = [run(blk) for blk in blocks]
    for j, sol in zip(todo.tolist(), sols):
        a, b = int(starts[j]), int(starts[j + 1])
        k_fin_c[a:b] = sol.k
        status[j] = sol.status
        bound[j] = sol.bound
        trucks[j] = sol.trucks

    # global budget: remove the cheapest packs, then whole suppliers, until the orders fit
    dropped = np.zeros(n_sup, dtype=bool)
    if np.isfinite(budget):
        k_fin_c, dropped = _repair(sz, cand, c_sup, k_fin_c, budget, s["min_order_value"], n_sup)
    # exact objectives (trucks: the fewest that carry the load) and bounds
    obj_c, cost_c = _evaluate(sz, cand, k_fin_c)
    obj0_c, _ = _evaluate(sz, cand, np.zeros(cand.size, np.int64))
    v_fin = _group_sum(c_sup, sz.value_per_pack[cand] * k_fin_c, n_sup)
    load_fin = np.maximum(
        _group_sum(c_sup, sz.volume_per_pack[cand] * k_fin_c, n_sup) / s["truck_volume"],
        _group_sum(c_sup, sz.weight_per_pack[cand] * k_fin_c, n_sup) / s["truck_weight"],
    )
    trucks = np.where(trucks_on & (v_fin > 0), np.ceil(load_fin - 1e-9), 0).astype(np.int64)
    free = has & ~solve & ~infeasible  # closed form: the price-adjusted optimum is exact
    lam_obj = obj_c + (lam_c - freight[cand]) * k_fin_c
    lam_lam = _evaluate(sz, cand, k_lam_c)[0] + (lam_c - freight[cand]) * k_lam_c
    bound_free = _group_sum(c_sup, lam_lam, n_sup) + s["truck_cost"] * np.where(
        trucks_on & (v_lam > 0), np.ceil(load - 1e-9), 0
    )
    bound = np.where(free, bound_free, bound)
    bound = np.where(infeasible & has, _group_sum(c_sup, obj0_c, n_sup), bound)
    bound = np.where(has, bound, 0.0)
    truck_money = s["truck_cost"] * trucks
    sup_obj = _group_sum(c_sup, obj_c - freight[cand] * k_fin_c, n_sup) + truck_money
    sup_lam_obj = _group_sum(c_sup, lam_obj, n_sup) + truck_money
    bound = np.minimum(bound, sup_lam_obj)
    gap = np.where(has & ~free, (sup_lam_obj - bound) / np.maximum(np.abs(sup_lam_obj), 1e-9), 0.0)
    gap = np.maximum(np.where(np.isfinite(gap), gap, np.inf), 0.0)
    total = float(sup_obj.sum())
    g_bound = float(np.where(np.isfinite(bound), bound, 0.0).sum()) - (lam * budget if lam > 0 else 0.0)
    global_gap = max((total - g_bound) / max(abs(total), 1e-9), 0.0) if has.any() else 0.0
    status[dropped] = "dropped"

    binding = []
    relax = []
    min_hit = (v_lam > 0) & (v_lam < s["min_order_value"])
    for j in range(n_sup):  # per supplier labels (a loop over suppliers)
        names = []
        if has[j]:
            if min_hit[j] and not infeasible[j]:
                names.append("min_order_value")
            if v_unc[j] > s["budget"][j]:
                names.append("budget")
            if binding_trucks[j]:
                names.append("trucks" if load[j] <= s["max_trucks"][j] else "max_trucks")
            if lam > 0 and v_unc[j] > 0:
                names.append("global_budget")
        binding.append(",".join(names))
        rel = []
        if infeasible[j] and has[j]:
            rel.append("budget below minimum order value: no order")
        if dropped[j]:
            rel.append("dropped for the global budget")
        relax.append(";".join(rel))
    k = np.zeros(n, np.int64)
    k[cand] = k_fin_c
    k_unc = np.zeros(n, np.int64)
    k_unc[cand] = kst_c
    k_lam = np.zeros(n, np.int64)
    k_lam[cand] = k_lam_c
    cost = np.zeros(n)
    cost[cand] = cost_c
    obj = np.zeros(n)
    obj[cand] = obj_c
    return PlanArrays(
        k=k,
        k_unc=k_unc,
        k_lam=k_lam,
        cost=cost,
        obj=obj,
        sup_status=status,
        sup_gap=gap,
        sup_bound=bound,
        sup_trucks=trucks,
        sup_binding=binding,
        sup_relax=relax,
        lam=lam,
        global_gap=global_gap,
        global_bound=g_bound,
        dropped=dropped,
        infeasible=infeasible & has,
        freight=freight,
        extra={"cand": cand, "sup_objective": sup_obj, "solved": solve, "v_unc": v_unc, "v_lam": v_lam},
    )


def _repair(sz: Sizing, cand, c_sup, k, budget: float, mov: np.ndarray, n_sup: int):
    """Remove packs (cheapest increase of the objective per unit of money first) until within budget."""
    val = sz.value_per_pack[cand]
    dropped = np.zeros(n_sup, dtype=bool)
    for _ in range(10_000):  # rounds of at most one pack per item
        excess = float((val * k).sum()) - budget
        if excess <= 1e-9 * max(budget, 1.0):
            return k, dropped
        v_sup = _group_sum(c_sup, val * k, n_sup)
        kmin = sz.kmin[cand]
        step = np.where((k == kmin) & (kmin >= 2), kmin, 1)  # an MOQ item goes from its MOQ to 0
        ok = k > 0
        if not ok.any():
            break
        rows = np.flatnonzero(ok)
        o_now = _evaluate(sz, cand[rows], k[rows])[0]
        o_less = _evaluate(sz, cand[rows], k[rows] - step[rows])[0]
        freed = val[rows] * step[rows]
        ratio = (o_less - o_now) / np.maximum(freed, 1e-300)
        order = rows[np.argsort(ratio, kind="stable")]
        # per supplier: keep at least the minimum order value (unless the supplier drops out whole)
        fr = val[order] * step[order]
        sj = c_sup[order]
        srt = np.argsort(sj, kind="stable")
        cum = np.empty(order.size)
        cs = np.cumsum(fr[srt])
        first = np.searchsorted(sj[srt], sj[srt], side="left")
        cum[srt] = cs - np.concatenate(([0.0], cs))[first]
        allowed = (v_sup[sj] - cum >= mov[sj] - 1e-9) | (mov[sj] <= 0)
        pick = order[allowed]
        if pick.size == 0:
            break
        cumv = np.cumsum(val[pick] * step[pick])
        m = int(np.searchsorted(cumv, excess - 1e-12)) + 1
        pick = pick[:m]
        k = k.copy()
        k[pick] -= step[pick]
    # still over: drop whole suppliers, the least costly per unit of money first
    v_sup = _group_sum(c_sup, val * k, n_sup)
    o_now = _evaluate(sz, cand, k)[0]
    o_zero = _evaluate(sz, cand, np.zeros(cand.size, np.int64))[0]
    loss = _group_sum(c_sup, o_zero - o_now, n_sup)
    live = np.flatnonzero(v_sup > 0)
    live = live[np.argsort(loss[live] / v_sup[live], kind="stable")]
    excess = float(v_sup.sum()) - budget
    for j in live.tolist():
        if excess <= 1e-9 * max(budget, 1.0):
            break
        k = np.where(c_sup == j, 0, k)
        dropped[j] = True
        excess -= v_sup[j]
    return k, dropped
