"""OR-Tools models of one supplier's order, built from arrays; building, solving and reading are separate.

The problem of one supplier (``docs/replenishment.md``, "The solver"): choose whole packs ``k_i`` of
every candidate item minimising ``sum_i f_i(k_i) + truck_cost * n`` (``f_i`` convex: the item's cover
cost, shortfall penalty and linear prices) subject to the load fitting ``n`` trucks (volume and
weight, ``n <= max_trucks``), the order value being 0 or at least the minimum order value, and at
most the budget.  Each ``f_i`` is known at the points of the item's grid
(:func:`stockopt._kernels.inventory.cover.grid_fill`).  Models are filled from arrays in one call
(``model_builder``'s ``fill_model_from_sparse_data``), never one Python call per item.

1. **Relaxation** (GLOP).  Separable programming (Dantzig 1956): one continuous variable per grid
   segment, costed at the segment's slope (convexity fills them in order); a wide segment is
   replaced by the two tangents its neighbours' slopes bound, so the model never overstates a
   cost (a *lower* model); an MOQ above one pack is a jump variable from 0 to the MOQ with the
   item's later segments tied to it.  With trucks, the relaxation is convex in the number of trucks,
   so its minimum over whole trucks is at ``floor(n*)`` or ``ceil(n*)`` of its continuous optimum
   ``n*``: both are solved.
2. **Bound**.  The Lagrangian of the integer problem with the supplier rows priced at the
   relaxation's duals is a lower bound for any prices (Geoffrion 1974) and at least the relaxation's
   value; it is evaluated exactly per item after the grid is refined where the relaxed packs fall
   inside a wide segment, so it also tightens the lower model.  The bound is the smallest over the
   truck counts and over ordering nothing.
3. **Order** (CP-SAT).  A multiple-choice model (each item takes 0 or one of its grid points, exact
   costs, one binary per option) over the items the relaxation left fractional, every other item
   fixed at its relaxed packs (the core, Balas & Zemel 1980); when that is not within the gap, over
   every item with the points next to its best packs so far.

The relative gap ``(objective - bound) / objective`` is therefore certified for the exact costs at
every pack count.  Money, volume and weight rows are integers at a resolution of 1e-4 of the
supplier's largest pack (or of a truck), rounded up on the left of ``<=`` rows and down on the left
of ``>=`` rows, so a solution meets the real constraints exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

#: resolution of the integer constraint rows, as a share of the supplier's largest pack (or a truck)
RESOLUTION = 1e-4
_SCALE = 1.0 / RESOLUTION
_SAT = "num_workers:1,log_search_progress:false,randomize_search:false"
_GLOP = "use_dual_simplex:true,use_preprocessing:false"


@dataclass
class Block:
    """One supplier's candidate items (arrays of equal length) and its terms."""

    gp: np.ndarray  # grid offsets of the items (CSR, local)
    gk: np.ndarray  # grid pack counts (0 first)
    gobj: np.ndarray  # objective at the grid points (money, lam excluded)
    lam: np.ndarray  # linear price per pack (global-budget price minus freight credit)
    kmin: np.ndarray
    kmax: np.ndarray
    value: np.ndarray  # money per pack
    volume: np.ndarray  # per pack
    weight: np.ndarray
    hint: np.ndarray  # packs per item (a starting solution; need not be feasible)
    min_order_value: float
    budget: float
    truck_volume: float
    truck_weight: float
    truck_cost: float
    max_trucks: float
    cost_fn: object = None  # (local items, packs) -> objective at those packs; refines the grid when given
    price: float = 0.0  # the global budget's price per unit of money included in ``lam`` (gaps exclude it)


@dataclass
class Solution:
    k: np.ndarray
    trucks: int
    status: str  # "solved" (core optimal), "feasible" (work limit), "no_order"
    objective: float  # exact objective (prices and trucks included)
    bound: float  # lower bound of the exact problem (prices and trucks included)


def _item_of(blk: Block) -> np.ndarray:
    return np.repeat(np.arange(blk.gp.shape[0] - 1), np.diff(blk.gp))


def _trucks_on(blk: Block) -> bool:
    return bool(np.isfinite(blk.truck_volume) or np.isfinite(blk.truck_weight))


def _n_max(blk: Block) -> float:
    per = np.maximum(np.divide(blk.volume, blk.truck_volume), np.divide(blk.weight, blk.truck_weight))
    return min(float(np.ceil(np.sum(per * blk.kmax) + 1e-9)), blk.max_trucks)


@dataclass
class Rows:
    """The supplier rows, per pack: ``sum_i coef[r, i] k_i + n_coef[r] n + y_coef[r] y`` in ``[lo, hi]``."""

    coef: np.ndarray  # (rows, items)
    n_coef: np.ndarray
    y_coef: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def supplier_rows(blk: Block) -> Rows:
    """Budget, minimum order value (two rows with the order binary), truck volume and weight."""
    n = blk.gp.shape[0] - 1
    unit = max(float(blk.value.max(initial=0.0)) * RESOLUTION, 1e-12)
    up = np.ceil(blk.value / unit - 1e-9)
    dn = np.floor(blk.value / unit + 1e-9)
    coef, nc, yc, lo, hi = [], [], [], [], []
    if np.isfinite(blk.budget):
        coef.append(up)
        nc.append(0.0)
        yc.append(0.0)
        lo.append(-np.inf)
        hi.append(np.floor(blk.budget / unit + 1e-9))
    if blk.min_order_value > 0:
        big = float(np.sum(up * blk.kmax)) + 1.0
        coef += [dn, up]
        nc += [0.0, 0.0]
        yc += [-np.ceil(blk.min_order_value / unit - 1e-9), -big]
        lo += [0.0, -np.inf]
        hi += [np.inf, 0.0]
    if _trucks_on(blk):
        for per, cap in ((blk.volume, blk.truck_volume), (blk.weight, blk.truck_weight)):
            if np.isfinite(cap) and (per > 0).any():
                coef.append(np.ceil(per / cap * _SCALE - 1e-9))
                nc.append(-_SCALE)
                yc.append(0.0)
                lo.append(-np.inf)
                hi.append(0.0)
    return Rows(
        np.array(coef, dtype=np.float64).reshape(len(coef), n),
        np.array(nc, dtype=np.float64),
        np.array(yc, dtype=np.float64),
        np.array(lo, dtype=np.float64),
        np.array(hi, dtype=np.float64),
    )


@dataclass
class Segments:
    """The lower model's variables: one per segment of an item's cost chain."""

    item: np.ndarray
    lo: np.ndarray  # pack count where the segment starts
    width: np.ndarray  # packs
    slope: np.ndarray  # money per pack
    jump: np.ndarray  # the MOQ jump (0 -> its width), a 0-1 variable


def segments(blk: Block) -> Segments:
    """Segments between consecutive grid points, wide ones split into the two tangents that bound them."""
    item = _item_of(blk)
    s0 = np.flatnonzero(item[:-1] == item[1:])
    it = item[s0]
    lo = blk.gk[s0].astype(np.float64)
    w = (blk.gk[s0 + 1] - blk.gk[s0]).astype(np.float64)
    slope = (blk.gobj[s0 + 1] - blk.gobj[s0]) / w + blk.lam[it]
    jump = (blk.gk[s0] == 0) & (blk.kmin[it] >= 2)
    wide = np.flatnonzero((w > 1) & ~jump)
    if wide.size == 0:
        return Segments(it, lo, w, slope, jump)
    has_l = (wide > 0) & (it[np.maximum(wide - 1, 0)] == it[wide])
    has_r = (wide < it.size - 1) & (it[np.minimum(wide + 1, it.size - 1)] == it[wide])
    sl = np.where(has_l, slope[np.maximum(wide - 1, 0)], slope[wide])  # no neighbour: keep the chord
    sr = np.where(has_r, slope[np.minimum(wide + 1, it.size - 1)], slope[wide])
    cut = np.where(sr > sl, w[wide] * (sr - slope[wide]) / np.maximum(sr - sl, 1e-300), 0.0)  # tangents meet
    cut = np.clip(cut, 0.0, w[wide])
    reps = np.ones(it.size, np.int64)
    reps[wide] = 2
    pos = np.repeat(np.arange(it.size), reps)
    first = np.concatenate(([True], pos[1:] != pos[:-1]))
    a = np.flatnonzero((reps[pos] == 2) & first)
    out_w, out_s, out_lo = w[pos].copy(), slope[pos].copy(), lo[pos].copy()
    out_w[a], out_s[a] = cut, sl
    out_w[a + 1], out_s[a + 1], out_lo[a + 1] = w[wide] - cut, sr, lo[wide] + cut
    keep = out_w > 0
    return Segments(it[pos][keep], out_lo[keep], out_w[keep], out_s[keep], jump[pos][keep])


def relaxation(blk: Block, seg: Segments, rows: Rows, *, order_on: bool, trucks: float | None):
    """Fill the relaxation (GLOP) of the lower model; returns the ``model_builder`` helper.

    Variables: the segments (jumps as 0-1 fractions of their width), then ``n`` (trucks, fixed when
    ``trucks`` is given), then ``y`` (the order, forced on with ``order_on``).
    """
    from ortools.linear_solver.python import model_builder_helper as mbh

    ns = seg.item.size
    ppu = np.where(seg.jump, seg.width, 1.0)
    ub = [np.where(seg.jump, 1.0, seg.width)]
    lb = [np.zeros(ns)]
    obj = [seg.slope * ppu]
    col = ns
    n_col = y_col = -1
    if _trucks_on(blk):
        n_col = col
        col += 1
        lb.append([trucks if trucks is not None else 0.0])
        ub.append([trucks if trucks is not None else _n_max(blk)])
        obj.append([blk.truck_cost])
    if blk.min_order_value > 0:
        y_col = col
        col += 1
        lb.append([1.0 if order_on else 0.0])
        ub.append([1.0])
        obj.append([0.0])
    r = rows.lo.size
    data = [(rows.coef[:, seg.item] * ppu).ravel()]
    ri = [np.repeat(np.arange(r), ns)]
    ci = [np.tile(np.arange(ns), r)]
    for extra, c in ((rows.n_coef, n_col), (rows.y_coef, y_col)):
        if c >= 0:
            nz = np.flatnonzero(extra)
            data.append(extra[nz])
            ri.append(nz)
            ci.append(np.full(nz.size, c))
    rlo, rhi = [rows.lo], [rows.hi]
    jumps = np.flatnonzero(seg.jump)
    if jumps.size:  # an MOQ item's later segments only as far as its jump is on
        jpos = np.full(blk.gp.shape[0] - 1, -1)
        jpos[seg.item[jumps]] = jumps
        tied = np.flatnonzero(~seg.jump & (jpos[seg.item] >= 0))
        if tied.size:
            items, local = np.unique(seg.item[tied], return_inverse=True)
            span = np.bincount(local, weights=seg.width[tied])
            data += [np.ones(tied.size), -span]
            ri += [r + local, r + np.arange(items.size)]
            ci += [tied, jpos[items]]
            rlo.append(np.full(items.size, -np.inf))
            rhi.append(np.zeros(items.size))
            r += items.size
    mat = sp.csr_matrix((np.concatenate(data), (np.concatenate(ri), np.concatenate(ci))), shape=(r, col))
    helper = mbh.ModelBuilderHelper()
    helper.fill_model_from_sparse_data(
        np.concatenate(lb).astype(np.float64),
        np.concatenate(ub).astype(np.float64),
        np.concatenate(obj).astype(np.float64),
        np.concatenate(rlo),
        np.concatenate(rhi),
        mat,
    )
    helper.set_objective_offset(float(blk.gobj[blk.gp[:-1]].sum()))  # every item's objective at 0 packs
    return helper


def solve_relaxation(helper, seg: Segments, rows: Rows, n_items: int):
    """GLOP; ``(value, relaxed packs per item, prices of the supplier rows)`` or ``(inf, None, None)``."""
    from ortools.linear_solver.python import model_builder_helper as mbh

    s = mbh.ModelSolverHelper("glop")
    s.set_solver_specific_parameters(_GLOP)
    s.solve(helper)
    if str(s.status()).rsplit(".", 1)[-1] != "OPTIMAL":
        return np.inf, None, None
    x = np.asarray(s.variable_values(), dtype=np.float64)
    ppu = np.where(seg.jump, seg.width, 1.0)
    k = np.bincount(seg.item, weights=x[: seg.item.size] * ppu, minlength=n_items)
    dual = np.asarray(s.dual_values(), dtype=np.float64)[: rows.lo.size]
    # a price for each supplier row, >= 0, as the Lagrangian term mu * (lo - a x) or mu * (a x - hi)
    mu = np.abs(np.nan_to_num(dual))
    return float(s.objective_value()), k, mu


def lagrangian(blk: Block, rows: Rows, mu: np.ndarray, *, order_on: bool, trucks: float | None) -> float:
    """Lower bound: the integer problem with the supplier rows moved into the objective at prices ``mu``.

    Each item keeps its own constraints (0 or at least its MOQ, at most its maximum) and its exact
    lower cost chain (:func:`segments`); its minimum is at 0 or at a segment end.
    """
    seg = segments(blk)
    n_items = blk.gp.shape[0] - 1
    up = np.isinf(rows.lo)  # a x <= hi rows: + mu (a x - hi); the others (a x >= lo): + mu (lo - a x)
    sign = np.where(up, 1.0, -1.0) * mu
    per_pack = sign @ rows.coef  # per item
    cost = (seg.slope + per_pack[seg.item]) * seg.width  # a whole segment (the jump: its MOQ)
    csum = np.cumsum(cost)
    starts = np.searchsorted(seg.item, np.arange(n_items))
    base = np.concatenate(([0.0], csum))[starts]
    prefix = csum - base[seg.item]
    best = np.zeros(n_items)
    np.minimum.at(best, seg.item, prefix)
    total = float(blk.gobj[blk.gp[:-1]].sum()) + float(best.sum())
    rhs = np.where(up, rows.hi, rows.lo)
    total -= float(np.sum(sign * np.where(np.isfinite(rhs), rhs, 0.0)))
    if _trucks_on(blk):
        cn = blk.truck_cost + float(sign @ rows.n_coef)
        lo_n, hi_n = (trucks, trucks) if trucks is not None else (0.0, _n_max(blk))
        total += min(cn * lo_n, cn * hi_n)
    if blk.min_order_value > 0:
        cy = float(sign @ rows.y_coef)
        total += cy if order_on else min(0.0, cy)
    return total


def refine(blk: Block, k_rel: np.ndarray) -> Block | None:
    """The block with ``floor(k_rel)`` and ``floor(k_rel) + 1`` added to items whose relaxed packs lie
    inside a segment wider than one pack (None when there is none)."""
    if blk.cost_fn is None:
        return None
    item = _item_of(blk)
    n = blk.gp.shape[0] - 1
    j = np.full(n, -1)
    np.maximum.at(j, item, np.where(blk.gk <= k_rel[item] + 1e-9, np.arange(blk.gk.size), -1))
    nxt = np.minimum(j + 1, blk.gk.size - 1)
    jump = (blk.gk[np.maximum(j, 0)] == 0) & (blk.kmin >= 2)  # nothing between 0 and an MOQ
    inside = (
        (j >= 0) & (nxt < blk.gp[1:]) & (blk.gk[j] < k_rel - 1e-6) & (blk.gk[nxt] - blk.gk[j] > 1) & ~jump
    )
    rows = np.flatnonzero(inside)
    if rows.size == 0:
        return None
    f = np.floor(k_rel[rows] + 1e-9).astype(np.int64)
    new_item = np.concatenate((rows, rows))
    new_k = np.concatenate((f, f + 1))
    keep = (new_k > blk.gk[j[new_item]]) & (new_k < blk.gk[nxt[new_item]])
    new_item, new_k = new_item[keep], new_k[keep]
    if new_k.size == 0:
        return None
    new_obj = np.asarray(blk.cost_fn(new_item, new_k), dtype=np.float64)
    all_item = np.concatenate((item, new_item))
    all_k = np.concatenate((blk.gk, new_k))
    order = np.lexsort((all_k, all_item))
    gp = np.concatenate(([0], np.cumsum(np.bincount(all_item, minlength=n)))).astype(np.int64)
    return replace(blk, gp=gp, gk=all_k[order], gobj=np.concatenate((blk.gobj, new_obj))[order])


#: rounds of relaxation and grid refinement
REFINE_ROUNDS = 2
#: suppliers with at most this many grid points get a last round over every point of every item
FULL_MODEL_POINTS = 600


def bound_and_relaxed(blk: Block, rounds: int = REFINE_ROUNDS):
    """``(refined block, lower bound, relaxed packs)``; packs None when the minimum cannot be reached.

    Each round solves the relaxations (with trucks: at ``floor(n*)`` and ``ceil(n*)``), then adds grid
    points where the relaxed packs fall inside a wide segment; the bound of the last round is the
    larger of each relaxation's value and its Lagrangian on the refined grid.
    """
    n = blk.gp.shape[0] - 1
    mov = blk.min_order_value > 0
    rows = supplier_rows(blk)
    trucks = [None]
    if _trucks_on(blk):  # n* from the relaxation with n free (its n carries its load exactly)
        seg = segments(blk)
        lp, k_rel, _ = solve_relaxation(relaxation(blk, seg, rows, order_on=mov, trucks=None), seg, rows, n)
        if k_rel is None:
            return blk, np.inf, None
        load = [float(np.sum(rows.coef[r] * k_rel)) / -rows.n_coef[r] for r in np.flatnonzero(rows.n_coef)]
        x_n = max(load, default=0.0)
        trucks = [
            t for t in sorted({float(np.floor(x_n + 1e-9)), float(np.ceil(x_n - 1e-9))}) if t <= _n_max(blk)
        ]
    for _ in range(rounds):
        seg = segments(blk)
        runs = []
        for t in trucks:
            lp_t, k_t, mu_t = solve_relaxation(
                relaxation(blk, seg, rows, order_on=mov, trucks=t), seg, rows, n
            )
            if k_t is not None:
                runs.append((lp_t, k_t, mu_t, t))
        if not runs:
            return blk, np.inf, None
        best = min(runs, key=lambda r: r[0])
        finer = refine(blk, best[1])
        if finer is None:
            break
        blk = finer
    bound = min(max(v, lagrangian(blk, rows, m, order_on=mov, trucks=t)) for v, _, m, t in runs)
    return blk, bound, best[1]


def exact_objective(blk: Block, k: np.ndarray) -> float:
    """Objective at ``k`` packs (every ``k_i`` a grid point) with the fewest trucks carrying the load."""
    item = _item_of(blk)
    at = np.flatnonzero(blk.gk == k[item])
    val = np.zeros(blk.gp.shape[0] - 1)
    val[item[at]] = blk.gobj[at]
    return float(np.sum(val + blk.lam * k)) + blk.truck_cost * trucks_for(blk, k)


def trucks_for(blk: Block, k: np.ndarray) -> int:
    if not _trucks_on(blk) or not k.any():
        return 0
    load = max(
        float(np.sum(blk.volume * k)) / blk.truck_volume, float(np.sum(blk.weight * k)) / blk.truck_weight
    )
    return int(np.ceil(load - 1e-9))


def choice_model(
    blk: Block,
    rows: Rows,
    free: np.ndarray,
    near: np.ndarray,
    fixed: np.ndarray,
    side: int,
    bound: float = -np.inf,
    target: float = np.inf,
):
    """Multiple-choice model (CP-SAT): each ``free`` item takes 0 or one of the ``2 side`` grid points
    around ``near``; every other item stays at ``fixed``.  With a finite ``target`` the objective must
    lie in ``[bound, target]`` (a feasibility model: any solution is within the gap).  Returns
    ``(helper, option item, option packs)``."""
    from ortools.linear_solver.python import model_builder_helper as mbh

    n = blk.gp.shape[0] - 1
    item = _item_of(blk)
    pos = np.arange(blk.gk.size) - blk.gp[:-1][item]
    is_free = np.zeros(n, dtype=bool)
    is_free[free] = True
    j_at = np.zeros(n, np.int64)
    np.maximum.at(j_at, item, np.where(blk.gk <= near[item] + 1e-9, pos, 0))
    opt = np.flatnonzero(
        is_free[item] & ((pos == 0) | ((pos > j_at[item] - side) & (pos <= j_at[item] + side)))
    )
    o_item, o_k = item[opt], blk.gk[opt].astype(np.float64)
    no = opt.size
    lb, ub, obj = [np.zeros(no)], [np.ones(no)], [blk.gobj[opt] + blk.lam[o_item] * o_k]
    col = no
    n_col = y_col = -1
    if _trucks_on(blk):
        n_col = col
        col += 1
        lb.append([0.0])
        ub.append([_n_max(blk)])
        obj.append([blk.truck_cost])
    if blk.min_order_value > 0:
        y_col = col
        col += 1
        lb.append([0.0])
        ub.append([1.0])
        obj.append([0.0])
    items, local = np.unique(o_item, return_inverse=True)
    r = rows.lo.size
    data = [np.ones(no), (rows.coef[:, o_item] * o_k).ravel()]
    ri = [local, items.size + np.repeat(np.arange(r), no)]
    ci = [np.arange(no), np.tile(np.arange(no), r)]
    for extra, c in ((rows.n_coef, n_col), (rows.y_coef, y_col)):
        if c >= 0:
            nz = np.flatnonzero(extra)
            data.append(extra[nz])
            ri.append(items.size + nz)
            ci.append(np.full(nz.size, c))
    done = rows.coef[:, ~is_free] @ fixed[~is_free].astype(np.float64)  # the fixed items' share of each row
    fixed_obj = exact_objective(replace(blk, truck_cost=0.0), np.where(is_free, 0, fixed)) - float(
        blk.gobj[blk.gp[:-1]][is_free].sum()
    )
    objv = np.concatenate(obj).astype(np.float64)
    nr = items.size + r
    extra_lo, extra_hi = [], []
    if np.isfinite(target):  # the objective between the bound and the target
        nzo = np.flatnonzero(objv)
        data.append(objv[nzo])
        ri.append(np.full(nzo.size, nr))
        ci.append(nzo)
        extra_lo.append(bound - fixed_obj if np.isfinite(bound) else -np.inf)
        extra_hi.append(target - fixed_obj)
        nr += 1
    mat = sp.csr_matrix((np.concatenate(data), (np.concatenate(ri), np.concatenate(ci))), shape=(nr, col))
    helper = mbh.ModelBuilderHelper()
    helper.fill_model_from_sparse_data(
        np.concatenate(lb).astype(np.float64),
        np.concatenate(ub).astype(np.float64),
        objv,
        np.concatenate((np.ones(items.size), rows.lo - done, extra_lo)),
        np.concatenate((np.ones(items.size), rows.hi - done, extra_hi)),
        mat,
    )
    for j in range(col):
        helper.set_var_integrality(j, True)
    helper.set_objective_offset(fixed_obj)
    hint = np.full(n, -1)
    np.maximum.at(hint, o_item, np.where(o_k <= near[o_item] + 1e-9, np.arange(no), -1))
    for j in hint[items].tolist():
        if j >= 0:
            helper.add_hint(int(j), 1.0)
    return helper, o_item, o_k


def solve_block(blk: Block, gap_limit: float, work_limit: float, method: str = "core") -> Solution:
    """Bound from the relaxations, order from CP-SAT on the core (see the module docstring)."""
    from ortools.linear_solver.python import model_builder_helper as mbh

    n = blk.gp.shape[0] - 1
    zero = np.zeros(n, np.int64)
    zero_obj = float(blk.gobj[blk.gp[:-1]].sum())
    mov = blk.min_order_value > 0
    blk, bound, k_rel = bound_and_relaxed(blk)
    if k_rel is None:  # the minimum cannot be reached (or no trucks may come): no order
        return Solution(k=zero, trucks=0, status="no_order", objective=zero_obj, bound=zero_obj)
    if mov:
        bound = min(bound, zero_obj)
    rows = supplier_rows(blk)
    item = _item_of(blk)
    on_grid = np.zeros(n, dtype=bool)
    on_grid[item[np.abs(blk.gk - k_rel[item]) <= 1e-6]] = True
    fixed = np.where(on_grid, np.rint(k_rel), 0).astype(np.int64)
    best_k, best_obj = zero, zero_obj
    # gaps are measured against the objective without the budget's price (the smaller, stricter base)
    scale = max(abs(bound - blk.price * float(np.sum(blk.value * k_rel))), 1e-9)
    target = bound + 0.9 * gap_limit * scale
    if zero_obj <= target:  # ordering nothing is within the gap
        return Solution(k=zero, trucks=0, status="no_order", objective=zero_obj, bound=bound)
    # rounds: the fractional items next to their relaxed packs; every item next to the best so far;
    # every item at every grid point (exact when every pack count is a grid point)
    small = blk.gk.size <= FULL_MODEL_POINTS or method == "full"
    rounds = [] if method == "full" else [(np.flatnonzero(~on_grid), k_rel, 1, work_limit / 100)]
    if not small:
        rounds.append((np.arange(n), None, 3, work_limit / 20))
    rounds.append((np.arange(n), None, 1 << 30, work_limit / (1 if small else 2)))
    dense = bool(np.all(np.diff(blk.gp) == np.maximum(blk.kmax - np.maximum(blk.kmin, 1) + 2, 1)))
    for free, near, side, work in rounds:
        if near is None:  # later rounds: every item, around its relaxed packs
            near = k_rel
            fixed = zero
        if free.size == 0:
            k, name = fixed, "OPTIMAL"
        else:
            # first any solution within half the gap of the bound (CP-SAT stops at the first one),
            # else the best one CP-SAT finds within the work limit
            phases = [(target, f"stop_after_first_solution:true,max_deterministic_time:{work!r}")]
            if side > 1:  # the fractional items alone: no second try (the next round frees every item)
                phases.append(
                    (np.inf, f"relative_gap_limit:{gap_limit / 2!r},max_deterministic_time:{4 * work!r}")
                )
            for tgt, params in phases:
                helper, o_item, o_k = choice_model(blk, rows, free, near, fixed, side, bound, tgt)
                s = mbh.ModelSolverHelper("sat")
                s.set_solver_specific_parameters(f"{_SAT},{params}")
                s.solve(helper)
                name = str(s.status()).rsplit(".", 1)[-1]
                if name in ("OPTIMAL", "FEASIBLE"):
                    break
            k = fixed.copy()
            if name in ("OPTIMAL", "FEASIBLE"):
                u = np.rint(np.asarray(s.variable_values(), dtype=np.float64))[: o_item.size]
                k[free] = 0
                k += np.rint(np.bincount(o_item, weights=u * o_k, minlength=n)).astype(np.int64)
                if side > n and dense and not np.isfinite(tgt):  # the exact problem: CP-SAT's bound is valid
                    bound = max(bound, min(float(s.best_objective_bound()), exact_objective(blk, k)))
        if name in ("OPTIMAL", "FEASIBLE"):
            obj = exact_objective(blk, k)
            if obj < best_obj - 1e-12:
                best_k, best_obj = k, obj
        if best_obj - bound <= gap_limit * scale:
            break
    within = best_obj - bound <= gap_limit * scale
    status = "solved" if within else "feasible"
    return Solution(
        k=best_k,
        trucks=trucks_for(blk, best_k),
        status=status if best_k.any() else "no_order",
        objective=best_obj,
        bound=min(bound, best_obj),
    )
