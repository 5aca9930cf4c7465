"""The exact integer family of :func:`~stockopt.inventory.inventory_policy`: pmfs and their kernels.

Poisson, negative binomial and empirical demand, and every cost-optimal policy, are sized on integer
pmfs of demand over the lead time ``L``, the review period ``R`` and ``T = L + R`` held in CSR form
(:mod:`stockopt._kernels.inventory.discrete`).  Parametric pmfs are built by the kernels; empirical
ones from sample paths here, compound ones (an item's own history) in
:mod:`stockopt.inventory._compound`.  Items are processed in chunks of at most :data:`PMF_BUDGET`
pmf entries so memory stays bounded whatever the number of items.
"""

from __future__ import annotations

import numpy as np

from stockopt._exec import for_item_blocks as _run
from stockopt._exec import item_blocks as _blocks
from stockopt._kernels.codes import DIST_POISSON, POL_SQ
from stockopt._kernels.inventory.discrete import (
    pmf_fill,
    pmf_ready_fill,
    pmf_ready_sizes,
    pmf_sizes,
    policy_discrete,
    policy_rnq_cost,
    policy_zheng_federgruen,
    ready_rate_discrete,
)
from stockopt._kernels.inventory.policy import READY_MAX_POINTS
from stockopt.inventory._bounds import compound_sizes
from stockopt.inventory._compound import compound_ready_pmfs, compound_sizing_pmfs
from stockopt.inventory._sizing import ItemArrays, discrete_policy_codes
from stockopt.inventory.demand import DemandProfile

#: most pmf entries (float64) held at once by the exact discrete methods (~400 MB)
PMF_BUDGET = 50_000_000


def _parametric_pmfs(dist, d, vd, lm, lsd, rd):
    n = dist.shape[0]
    sl = np.empty(n, np.int64)
    sr = np.empty(n, np.int64)
    st = np.empty(n, np.int64)
    pmf_sizes(dist, d, vd, lm, lsd, rd, sl, sr, st)
    ips = [np.concatenate(([0], np.cumsum(x))).astype(np.int64) for x in (sl, sr, st)]
    vals = [np.zeros(int(ip[-1])) for ip in ips]
    pmf_fill(dist, d, vd, lm, lsd, rd, vals[0], ips[0], vals[1], ips[1], vals[2], ips[2])
    return vals[0], ips[0], vals[1], ips[1], vals[2], ips[2]


def _hist(item: np.ndarray, x: np.ndarray, w: np.ndarray, n_items: int):
    k = np.maximum(np.rint(x), 0).astype(np.int64)
    size = np.zeros(n_items, np.int64)
    np.maximum.at(size, item, k + 1)
    size = np.maximum(size, 1)
    ip = np.concatenate(([0], np.cumsum(size))).astype(np.int64)
    vals = np.bincount(ip[item] + k, weights=w, minlength=int(ip[-1]))
    return vals, ip


def _empirical_pmfs(prof: DemandProfile, sel: np.ndarray, lm, lsd, rd, ready_jp=None):
    """Integer pmfs of demand over L, R and L + R from sample paths (mixture over lead times).

    With ``ready_jp`` (item ``i`` owns pmfs ``ready_jp[i]..ready_jp[i+1]-1``): instead, the pmfs of
    ``D_{L+j}`` for the ready-rate days ``j`` (``_kernels.inventory.discrete.ready_points``), as
    ``(vals, ip)``.
    """
    n_all = len(prof.ids)
    keep = np.zeros(n_all, dtype=bool)
    keep[sel] = True
    local = np.full(n_all, -1, np.int64)
    local[sel] = np.arange(sel.shape[0])
    lm_all = np.zeros(n_all)
    lsd_all = np.zeros(n_all)
    rd_all = np.zeros(n_all)
    lm_all[sel], lsd_all[sel], rd_all[sel] = lm, lsd, rd
    paths = keep[prof.path_item]
    pitem = local[prof.path_item[paths]]
    npaths = prof.n_paths[prof.path_item[paths]]
    lo = np.where(lsd_all > 0, np.maximum(np.floor(lm_all - 4 * lsd_all), 0), lm_all)
    hi = np.where(lsd_all > 0, np.ceil(lm_all + 4 * lsd_all), lm_all)
    xs_l, xs_r, xs_t, ws, its = [], [], [], [], []
    from scipy.special import ndtr

    for j in range(int(np.max(hi - lo, initial=0)) + 1):  # loop over lead-time offsets, not items
        lt = lo + j
        valid = lt <= hi
        with np.errstate(divide="ignore", invalid="ignore"):
            up = np.where(lt >= hi, 1.0, ndtr((lt + 0.5 - lm_all) / lsd_all))
            dn = np.where(lt <= lo, 0.0, ndtr((lt - 0.5 - lm_all) / lsd_all))
        w = np.where(lsd_all > 0, up - dn, 1.0) * valid
        s_l = prof.path_sums(np.zeros(n_all), np.where(valid, lt, lo))[paths]
        s_t = prof.path_sums(np.zeros(n_all), np.where(valid, lt, lo) + rd_all)[paths]
        wp = w[prof.path_item[paths]] / npaths
        if ready_jp is not None:
            for kk in range(READY_MAX_POINTS):  # ready-rate days: D_{L+j}, loop over day points
                has = (ready_jp[1:] - ready_jp[:-1])[pitem] > kk
                if not has.any():
                    break
                days = np.zeros(n_all)
                r_int = np.maximum(np.floor(rd + 0.5), 1)  # as ready_points, vectorised over items
                npts = np.minimum(r_int, READY_MAX_POINTS)
                days[sel] = np.where(npts == r_int, kk + 1.0, 0.5 + r_int / npts * (kk + 0.5))
                s_j = prof.path_sums(np.zeros(n_all), np.where(valid, lt, lo) + days)[paths]
                xs_t.append(s_j[has])
                ws.append(wp[has])
                its.append(ready_jp[pitem[has]] + kk)
            continue
        xs_l.append(s_l)
        xs_t.append(s_t)
        xs_r.append(s_t - s_l)
        ws.append(wp)
        its.append(pitem)
    item = np.concatenate(its)
    w = np.concatenate(ws)
    if ready_jp is not None:
        return _hist(item, np.concatenate(xs_t), w, int(ready_jp[-1]))
    m = len(sel)
    vl, il = _hist(item, np.concatenate(xs_l), w, m)
    vr, ir = _hist(item, np.concatenate(xs_r), w, m)
    vt, it = _hist(item, np.concatenate(xs_t), w, m)
    return vl, il, vr, ir, vt, it


def _ready_npts(r_days: np.ndarray) -> np.ndarray:
    """Number of ready-rate evaluation days per item (``kernels.inventory_discrete.ready_points``)."""
    return np.minimum(np.maximum(np.floor(r_days + 0.5), 1), READY_MAX_POINTS).astype(np.int64)


def size_discrete(a: ItemArrays, sub: np.ndarray, kind: str, out: dict[str, np.ndarray]) -> None:
    """Run the exact discrete methods on the items ``sub``, in chunks that bound pmf memory.

    ``kind``: ``"parametric"`` (Poisson, negative binomial, or normal / gamma put on the integer
    grid), ``"empirical"`` (pmfs from the sample paths of ``a.prof``, one chunk) or ``"compound"``
    (pmfs from the items' own history, ``a.compound``).
    """
    for chunk in discrete_chunks(a, sub, kind):
        _size_discrete_chunk(a, chunk, kind, out)


def discrete_chunks(a: ItemArrays, sub: np.ndarray, kind: str, per_item: int = 0) -> list[np.ndarray]:
    """Split ``sub`` into chunks holding at most :data:`PMF_BUDGET` pmf entries (empirical: one chunk).

    ``per_item``: further entries per unit of the protection-interval pmf (0 unless the caller
    keeps more, e.g. one pmf per ready-rate day).
    """
    if kind == "empirical":
        return [sub]
    m = sub.size
    sizes = [np.empty(m, np.int64) for _ in range(3)]
    if kind == "compound":  # mean + 12 sd + the largest size: a budget estimate, not a bound
        for x, est in zip(sizes, compound_sizes(a.compound, sub, a.l_eff[sub], a.lsd_eff[sub], a.r_eff[sub])):
            x[:] = est
    else:
        vd = np.where(a.dist[sub] == DIST_POISSON, a.d_day[sub], a.vd_day[sub])
        pmf_sizes(a.dist[sub], a.d_day[sub], vd, a.l_eff[sub], a.lsd_eff[sub], np.maximum(a.r_eff[sub], 1.0),
                  *sizes)
    n_ready = _ready_npts(a.r_eff[sub]) if a.ready_rate else 0  # one pmf of D_{L+j} per ready day
    cum = np.cumsum(sizes[0] + sizes[1] + sizes[2] * (1 + n_ready + per_item))
    edges = np.searchsorted(cum, np.arange(PMF_BUDGET, int(cum[-1]) + PMF_BUDGET, PMF_BUDGET), side="right")
    starts = np.unique(np.concatenate(([0], np.maximum(edges, 1)[:-1] if edges.size > 1 else [])))
    bounds = np.append(starts[starts < m], m).astype(np.int64)
    return [sub[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]  # a few chunks of many items each


def integer_order_quantity(q: np.ndarray) -> np.ndarray:
    """The order quantity of the integer methods (whole units, 1 when undefined)."""
    return np.where(np.isfinite(q), np.ceil(q - 1e-9), 1).astype(np.int64)


def item_pmfs(a: ItemArrays, sub: np.ndarray, kind: str):
    """Integer pmfs of demand over ``L``, ``R`` and ``L + R`` for the items ``sub`` (CSR triples)."""
    rd = np.maximum(a.r_eff[sub], 1.0)
    if kind == "empirical":
        return _empirical_pmfs(a.prof, sub, a.l_eff[sub], a.lsd_eff[sub], rd)
    if kind == "compound":
        return compound_sizing_pmfs(a.compound, sub, a.l_eff[sub], a.lsd_eff[sub], rd)
    dist = a.dist[sub]
    vd = np.where(dist == DIST_POISSON, a.d_day[sub], a.vd_day[sub])
    return _parametric_pmfs(dist, a.d_day[sub], vd, a.l_eff[sub], a.lsd_eff[sub], rd)


def _size_discrete_chunk(a: ItemArrays, sub: np.ndarray, kind: str, out: dict[str, np.ndarray]) -> None:
    """Build integer pmfs for the items ``sub`` and run the exact discrete kernel on them."""
    rd = np.maximum(a.r_eff[sub], 1.0)
    vl, il, vr, ir, vt, itp = item_pmfs(a, sub, kind)
    q = a.q
    qint = integer_order_quantity(q[sub])
    names = ("s", "S", "ss", "cycle", "fill", "bo", "oh", "freq", "status")
    outs = [out[k][sub].copy() for k in names]
    pol_s, met_s, tg_s = discrete_policy_codes(a)[sub], a.metric[sub], a.target[sub]
    blocks = _blocks(sub.size, a.n_jobs)
    fixed = np.empty(0, np.int64)
    if a.fixed_s is not None:  # evaluate given levels (optimize_service) instead of searching
        fixed = np.ascontiguousarray(a.fixed_s[sub], dtype=np.int64)
    floored = None
    if a.costs is not None:  # cost-optimal (s, S) / (s, Q), then evaluate it with the service kernel
        h, p, k = (c[sub] * (rd if j < 2 else 1.0) for j, c in enumerate(a.costs[:3]))  # per review period
        zs = np.empty(sub.size, np.int64)
        zbig = np.empty(sub.size, np.int64)
        zcost = np.empty(sub.size)
        rnq = bool(np.all(pol_s == POL_SQ))  # objective="cost" takes one explicit policy
        cont = np.ascontiguousarray(a.costs[3][sub])

        def run_z(lo: int, hi: int) -> None:
            if rnq:  # (R, s, nQ); continuous review: cost on D_L per day (Federgruen & Zheng 1992)
                policy_rnq_cost(h[lo:hi], p[lo:hi], k[lo:hi], cont[lo:hi], vr, ir[lo:hi + 1], vl,
                                il[lo:hi + 1], vt, itp[lo:hi + 1], zs[lo:hi], zbig[lo:hi], zcost[lo:hi])
            else:
                policy_zheng_federgruen(h[lo:hi], p[lo:hi], k[lo:hi], vr, ir[lo:hi + 1], vt, itp[lo:hi + 1],
                                        zs[lo:hi], zbig[lo:hi], zcost[lo:hi])

        _run(blocks, run_z)
        floored = zs < 0
        fixed = np.maximum(zs, 0)
        qint = (zbig if rnq else np.maximum(zbig - fixed, 1)).astype(np.int64)

    def run_d(lo: int, hi: int) -> None:
        policy_discrete(pol_s[lo:hi], met_s[lo:hi], tg_s[lo:hi], rd[lo:hi], qint[lo:hi], bool(a.lost_sales),
                        True, vl, il[lo:hi + 1], vr, ir[lo:hi + 1], vt, itp[lo:hi + 1],
                        *[o[lo:hi] for o in outs], fixed[lo:hi] if fixed.size else fixed)

    _run(blocks, run_d)
    if floored is not None:
        outs[-1][floored] = 2  # POLICY_FLOORED: the optimal reorder point was negative
        q[sub] = qint
    for name, o in zip(names, outs):
        out[name][sub] = o
    if a.ready_rate:  # share of days ending without backorders, from the same stationary position
        _discrete_ready(a, sub, kind, rd, pol_s, qint, outs[1], vr, ir, blocks, out)


def _discrete_ready(a: ItemArrays, sub, kind, rd, pol_s, qint, big_s_out, vr, ir, blocks, out) -> None:
    """Ready rate of integer-demand items from their stationary position (pmfs of ``D_{L+j}``)."""
    jp = np.concatenate(([0], np.cumsum(_ready_npts(rd)))).astype(np.int64)
    if kind == "empirical":
        vj, ij = _empirical_pmfs(a.prof, sub, a.l_eff[sub], a.lsd_eff[sub], rd, ready_jp=jp)
    elif kind == "compound":
        vj, ij = compound_ready_pmfs(a.compound, sub, a.l_eff[sub], a.lsd_eff[sub], rd, jp, READY_MAX_POINTS)
    else:
        dist = a.dist[sub]
        vd = np.where(dist == DIST_POISSON, a.d_day[sub], a.vd_day[sub])
        sizes = np.empty(int(jp[-1]), np.int64)
        pmf_ready_sizes(dist, a.d_day[sub], vd, a.l_eff[sub], a.lsd_eff[sub], rd, jp, sizes)
        ij = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        vj = np.zeros(int(ij[-1]))
        pmf_ready_fill(dist, a.d_day[sub], vd, a.l_eff[sub], a.lsd_eff[sub], rd, jp, vj, ij)
    big_s = np.rint(big_s_out).astype(np.int64)
    ready_out = np.empty(sub.size)

    def run_r(lo: int, hi: int) -> None:
        ready_rate_discrete(pol_s[lo:hi], qint[lo:hi], big_s[lo:hi], vr, ir[lo:hi + 1], jp[lo:hi + 1], vj, ij,
                            ready_out[lo:hi])

    _run(blocks, run_r)
    out["ready"][sub] = ready_out


__all__ = ["PMF_BUDGET", "size_discrete", "discrete_chunks", "item_pmfs", "integer_order_quantity"]
