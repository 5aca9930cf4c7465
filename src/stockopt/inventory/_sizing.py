"""Per-family sizing behind :func:`~stockopt.inventory.inventory_policy`: one function per method family.

:func:`inventory_policy` validates the tables, picks a policy and a distribution per item and
computes the demand moments over the lead time and the review period; it then hands the per-item
arrays over as one :class:`ItemArrays` and :func:`size_items` sends every item to exactly one
family:

* closed forms for normal and gamma demand (:func:`size_closed_forms`,
  :mod:`stockopt._kernels.inventory.policy`);
* the exact lead-time mixture for normal and gamma demand with a random lead time
  (:func:`size_mixture`, :mod:`stockopt._kernels.inventory.mixture`);
* the renewal method for (R, s, S) with normal and gamma demand (:func:`size_renewal`,
  :mod:`stockopt._kernels.inventory.ss`);
* the crossing-orders model for order-up-to policies with a random lead time (:func:`size_crossing`,
  :mod:`stockopt._kernels.inventory.crossing`);
* the exact integer methods, service- or cost-optimal (:func:`~stockopt.inventory._discrete.size_discrete`).

Each family writes its items' entries of the shared output arrays (``out``) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stockopt._exec import for_item_blocks as _run
from stockopt._exec import item_blocks as _blocks
from stockopt._kernels.codes import DIST_COMPOUND, DIST_EMPIRICAL, DIST_POISSON, POL_NEWS, POL_RS, POL_SS
from stockopt._kernels.inventory.crossing import policy_crossing, policy_crossing_pmfs
from stockopt._kernels.inventory.mixture import policy_mixture
from stockopt._kernels.inventory.policy import empty_outputs, policy_continuous, ready_rate_continuous
from stockopt._kernels.inventory.ss import GRID_K, policy_ss_continuous
from stockopt.inventory._bounds import lead_time_bounds, renewal_bounds
from stockopt.inventory._compound import CompoundParams, compound_crossing_pmfs
from stockopt.inventory.demand import DemandProfile, crossing_sample_pmfs

#: names of the per-item results every family writes (``out[name][items]``)
RESULTS = ("s", "S", "ss", "cycle", "fill", "bo", "oh", "status")


@dataclass
class ItemArrays:
    """Per-item inputs of the sizing families (every array has one entry per item) and the options.

    Intervals in days, demand in units: ``m_l``/``v_l`` mean and variance of demand over the lead
    time (``v_l`` includes the lead-time variance), ``m_r``/``v_r`` over the review period that
    follows it, ``d_day``/``vd_day`` per day; ``l_eff``/``lsd_eff`` the lead time and its standard
    deviation, ``r_eff`` the review period (newsvendor: its period ``P``).  ``pol`` is the policy
    asked for, ``kpol`` the kernel's policy (base stock and newsvendor as RS), ``news`` marks
    newsvendor items.  ``q`` is the rounded order quantity (``inf`` when undefined; overwritten by
    the cost optimisation), ``q_cont`` the same with ``inf`` as 0.  ``costs`` (``objective="cost"``):
    holding cost per unit and day, stockout cost per unit and day, order cost, continuous review.
    ``compound``: the compound laws of the items whose distribution is ``DIST_COMPOUND``.
    ``integer``: every item on the exact integer methods; ``fixed_s`` (integer methods only): the
    kernel's reorder level per item, evaluated instead of searched (RS: ``S - 1``).
    ``continuous`` / ``too_large`` (work bounds, :mod:`stockopt.inventory._bounds`): items switched
    from an integer method to the continuous law; items of the cost search past the bounds (sized
    by a closed form that is not reported).
    """

    pol: np.ndarray
    kpol: np.ndarray
    dist: np.ndarray
    metric: np.ndarray
    target: np.ndarray
    news: np.ndarray
    r_eff: np.ndarray
    l_eff: np.ndarray
    lsd_eff: np.ndarray
    m_l: np.ndarray
    v_l: np.ndarray
    m_r: np.ndarray
    v_r: np.ndarray
    d_day: np.ndarray
    vd_day: np.ndarray
    q: np.ndarray
    q_cont: np.ndarray
    prof: DemandProfile
    lost_sales: bool
    ready_rate: bool
    lead_time_model: str
    n_jobs: int
    costs: tuple | None = None
    compound: CompoundParams | None = None
    integer: bool = False
    fixed_s: np.ndarray | None = None
    continuous: np.ndarray | None = None
    too_large: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.dist.shape[0]


def size_items(a: ItemArrays) -> dict[str, np.ndarray]:
    """Send every item to its family and return the filled outputs (``RESULTS``, ``ready``, ``freq``,
    and ``moment``: the items whose random lead time is past its work bound, sized on the
    moment-matched lead-time demand, :func:`stockopt.inventory._bounds.lead_time_bounds`)."""
    n = a.n
    out = empty_outputs(n)
    out["freq"] = np.full(n, np.nan)
    out["ready"] = np.full(n, np.nan)  # filled by each method when ready_rate=True
    # exact integer methods: Poisson, negative binomial, empirical, and every cost-optimal policy
    discrete = (a.dist >= DIST_POISSON) | (a.costs is not None) | a.integer
    if a.too_large is not None:
        discrete &= ~a.too_large
    ss_cont = (a.pol == POL_SS) & ~discrete  # (s, S), normal / gamma: renewal method
    # renewal grids past the work bound (gamma of a tiny shape): no numbers (status too_large)
    out["too_large"] = ss_cont & renewal_bounds(a.dist, a.m_r, a.v_r, GRID_K)
    ss_cont &= ~out["too_large"]
    mixed = ~discrete & ~ss_cont & (a.lsd_eff > 0) & ~a.news & ~out["too_large"]
    if a.lead_time_model == "normal":
        mixed[:] = False
    # order-up-to with a random lead time: exact model with crossing orders
    cross = (a.kpol == POL_RS) & ~a.news & (a.pol != POL_SS) & (a.lsd_eff > 0)
    if a.lead_time_model == "single":
        cross[:] = False
    elif a.lead_time_model == "normal":
        cross &= discrete
    mixed &= ~cross
    # random lead times past their window: moment-matched lead-time demand (no crossing, no mixture)
    moment = lead_time_bounds(cross, mixed | (ss_cont & (a.lsd_eff > 0)), a.l_eff, a.lsd_eff, a.r_eff)
    cross &= ~moment
    mixed &= ~moment
    out["moment"] = moment
    cont = np.flatnonzero(~discrete & ~mixed & ~cross & ~ss_cont & ~out["too_large"])
    if cont.size:
        size_closed_forms(a, cont, out)
    mix = np.flatnonzero(mixed)
    if mix.size:
        size_mixture(a, mix, out)
    ssc = np.flatnonzero(ss_cont)
    if ssc.size:
        size_renewal(a, ssc, out, moment[ssc])
    crs = np.flatnonzero(cross)
    if crs.size:
        size_crossing(a, crs, out)
    disc = np.flatnonzero(discrete & ~cross)
    if disc.size:
        from stockopt.inventory._discrete import size_discrete

        dd = a.dist[disc]
        for kind, sub in (("parametric", disc[dd < DIST_EMPIRICAL]),
                          ("empirical", disc[dd == DIST_EMPIRICAL]), ("compound", disc[dd == DIST_COMPOUND])):
            if sub.size:
                size_discrete(a, sub, kind, out)
    return out


def size_closed_forms(a: ItemArrays, cont: np.ndarray, out: dict[str, np.ndarray]) -> None:
    """Normal and gamma demand, fixed lead time (or its moment-matched variance): closed forms."""
    every = cont.size == a.n  # all items continuous: pass the arrays themselves, no gather/scatter
    sel = slice(None) if every else cont
    args = [a.kpol[sel], a.dist[sel], a.metric[sel], a.target[sel], a.r_eff[sel], a.m_l[sel],
            a.v_l[sel], a.m_r[sel], a.v_r[sel], a.q_cont[sel]]
    outs = [out[k] if every else out[k][cont] for k in RESULTS]

    def run_c(lo: int, hi: int) -> None:
        policy_continuous(*[x[lo:hi] for x in args], bool(a.lost_sales), True, *[o[lo:hi] for o in outs])

    _run(_blocks(cont.size, a.n_jobs), run_c)
    news_c = np.flatnonzero(a.news[cont]) if a.lost_sales else np.empty(0, dtype=np.int64)
    if news_c.size:
        # a newsvendor's periods are independent (leftovers perish): its fill rate is
        # 1 - B / E[D] whether the shortage is lost or backordered; re-size those items so
        nargs = [x[news_c] for x in args]
        nouts = [np.empty(news_c.size, dtype=o.dtype) for o in outs]
        policy_continuous(*nargs, False, True, *nouts)
        for o, no in zip(outs, nouts):
            o[news_c] = no
    if a.ready_rate:
        ready = np.empty(cont.size)
        rargs = [a.kpol[sel], a.dist[sel], a.r_eff[sel], a.m_l[sel], a.v_l[sel], a.d_day[sel],
                 a.vd_day[sel], outs[0], a.q_cont[sel]]

        def run_r(lo: int, hi: int) -> None:
            ready_rate_continuous(*[x[lo:hi] for x in rargs], ready[lo:hi])

        _run(_blocks(cont.size, a.n_jobs), run_r)
        out["ready"][cont] = ready
    if not every:
        for k, o in zip(RESULTS, outs):
            out[k][cont] = o


def size_mixture(a: ItemArrays, mix: np.ndarray, out: dict[str, np.ndarray]) -> None:
    """Normal and gamma demand with a random lead time: exact mixture over the lead-time distribution."""
    margs = [a.kpol[mix], a.dist[mix], a.metric[mix], a.target[mix], a.r_eff[mix], a.d_day[mix],
             a.vd_day[mix], a.l_eff[mix], a.lsd_eff[mix], a.m_l[mix], a.m_r[mix], a.v_r[mix], a.q_cont[mix]]
    mouts = [out[k][mix] for k in RESULTS]

    def run_m(lo: int, hi: int) -> None:
        policy_mixture(*[x[lo:hi] for x in margs], bool(a.lost_sales), True, *[o[lo:hi] for o in mouts])

    _run(_blocks(mix.size, a.n_jobs, min_items=2_000), run_m)
    for k, o in zip(RESULTS, mouts):
        out[k][mix] = o
    if a.ready_rate:  # moment-matched lead-time demand (approximation, see docs/inventory.md)
        mready = np.empty(mix.size)
        ready_rate_continuous(a.kpol[mix], a.dist[mix], a.r_eff[mix], a.m_l[mix], a.v_l[mix], a.d_day[mix],
                              a.vd_day[mix], mouts[0], a.q_cont[mix], mready)
        out["ready"][mix] = mready


def size_renewal(a: ItemArrays, ssc: np.ndarray, out: dict[str, np.ndarray],
                 moment: np.ndarray | None = None) -> None:
    """(R, s, S) with normal and gamma demand: renewal method; random lead times as an exact mixture
    unless ``lead_time_model="normal"`` (or ``moment``: past the mixture's work bound)."""
    names = (*RESULTS[:-1], "ready", "status")
    lsd = a.lsd_eff[ssc] if a.lead_time_model != "normal" else np.zeros(ssc.size)
    if moment is not None:
        lsd = np.where(moment, 0.0, lsd)
    sargs = [a.dist[ssc], a.metric[ssc], a.target[ssc], a.r_eff[ssc], a.m_l[ssc], a.v_l[ssc], a.m_r[ssc],
             a.v_r[ssc], a.q_cont[ssc], a.d_day[ssc], a.vd_day[ssc], a.l_eff[ssc], lsd]
    souts = [out[k][ssc] for k in names]

    def run_s(lo: int, hi: int) -> None:
        policy_ss_continuous(*[x[lo:hi] for x in sargs], bool(a.lost_sales), True, bool(a.ready_rate), GRID_K,
                             *[o[lo:hi] for o in souts])

    _run(_blocks(ssc.size, a.n_jobs, min_items=2_000), run_s)
    for k, o in zip(names, souts):
        out[k][ssc] = o


def size_crossing(a: ItemArrays, crs: np.ndarray, out: dict[str, np.ndarray]) -> None:
    """RS and base stock with a random lead time: exact crossing-orders model, any distribution."""
    r_x = np.maximum(np.rint(a.r_eff[crs]), 1).astype(np.int64)
    dist = a.dist[crs]
    cargs = [dist, a.metric[crs], a.target[crs], r_x, a.d_day[crs],
             np.where(dist == DIST_POISSON, a.d_day[crs], a.vd_day[crs]), a.l_eff[crs], a.lsd_eff[crs],
             a.m_l[crs] + a.m_r[crs]]
    cres = np.empty((crs.size, 8))

    def run_x(lo: int, hi: int) -> None:
        policy_crossing(*[x[lo:hi] for x in cargs], bool(a.lost_sales), True, cres[lo:hi])

    _run(_blocks(crs.size, a.n_jobs, min_items=2_000), run_x)
    for code in (DIST_EMPIRICAL, DIST_COMPOUND):
        e = np.flatnonzero(dist == code)
        if not e.size:
            continue
        ce = crs[e]  # integer pmfs of the day mixtures, from the sample paths or the history
        if code == DIST_EMPIRICAL:
            pm = crossing_sample_pmfs(a.prof, ce, r_x[e], a.l_eff[ce], a.lsd_eff[ce])
        else:
            pm = compound_crossing_pmfs(a.compound, ce, r_x[e], a.l_eff[ce], a.lsd_eff[ce])
        eres = np.empty((e.size, 8))
        policy_crossing_pmfs(a.metric[ce], a.target[ce], r_x[e], a.m_l[ce] + a.m_r[ce], bool(a.lost_sales),
                             True, *pm, eres)
        cres[e] = eres
    for j, k in enumerate(("S", "ss", "cycle", "fill", "ready", "bo", "oh", "status")):
        out[k][crs] = cres[:, j]
    out["s"][crs] = cres[:, 0]
    if not a.ready_rate:  # exact and free here, but the column is null unless asked for
        out["ready"][crs] = np.nan


def discrete_policy_codes(a: ItemArrays) -> np.ndarray:
    """Kernel policy codes of the integer methods: the newsvendor keeps its own code there."""
    return np.where(a.news, POL_NEWS, a.kpol).astype(np.int8)


__all__ = ["ItemArrays", "size_items", "size_closed_forms", "size_mixture", "size_renewal", "size_crossing",
           "discrete_policy_codes", "RESULTS"]
