"""``inventory_policy``: safety stock, reorder points and order quantities for many items at once.

The Python layer here validates the tables, turns demand into interval moments (see
:mod:`stockopt.inventory.demand`), picks policy and distribution per item, and calls one numba
kernel per block of items: closed forms for normal and gamma demand
(:mod:`stockopt._kernels.inventory.policy`), the renewal method for (s, S) with normal and gamma
demand (:mod:`stockopt._kernels.inventory.ss`), exact integer methods for Poisson, negative
binomial, empirical demand and cost-optimal policies (:mod:`stockopt._kernels.inventory.discrete`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._exec import for_item_blocks as _run
from stockopt._exec import item_blocks as _blocks
from stockopt._kernels.codes import (
    DIST_EMPIRICAL,
    DIST_GAMMA,
    DIST_NEGBIN,
    DIST_NORMAL,
    DIST_POISSON,
    POL_BASE,
    POL_NEWS,
    POL_RS,
    POL_SQ,
    POL_SS,
    POLICY_CONTINUOUS,
    POLICY_MOMENT,
    POLICY_OUT_OF_RANGE,
    POLICY_TOO_LARGE,
    POLICY_UNREACHABLE,
)
from stockopt._kernels.inventory.crossing import policy_crossing, policy_crossing_pmfs
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
from stockopt._kernels.inventory.mixture import policy_mixture
from stockopt._kernels.inventory.policy import (
    READY_MAX_POINTS,
    empty_outputs,
    policy_continuous,
    ready_rate_continuous,
)
from stockopt._kernels.inventory.ss import GRID_K, policy_ss_continuous
from stockopt._params import Boolean, Instance, Integer, Options, Real, validate_params
from stockopt.errors import MissingColumnError, ParameterError, raise_error
from stockopt.inventory._bounds import integer_bounds, lead_time_bounds
from stockopt.inventory._schema import guard_rows
from stockopt.inventory._validate import ID, items_arrays
from stockopt.inventory.demand import (
    DemandProfile,
    crossing_sample_pmfs,
    demand_profile,
    zero_demand_probability,
)

__all__ = ["inventory_policy", "POLICY_NAMES", "DIST_NAMES", "SLOW_MOVER_MEAN"]

log = logging.getLogger(__name__)

POLICY_NAMES = {"RS": POL_RS, "sQ": POL_SQ, "sS": POL_SS, "base_stock": POL_BASE, "newsvendor": POL_NEWS}
DIST_NAMES = {"normal": DIST_NORMAL, "gamma": DIST_GAMMA, "poisson": DIST_POISSON,
              "negbin": DIST_NEGBIN, "empirical": DIST_EMPIRICAL}
_POL_STR = pa.array(["RS", "sQ", "sS", "base_stock", "newsvendor"], pa.string())
_DIST_STR = pa.array(["normal", "gamma", "poisson", "negbin", "empirical"], pa.string())
_STATUS_STR = pa.array(["ok", "unreachable", "floored", "continuous", "moment_matched", "out_of_range",
                        "too_large"], pa.string())


def _labels(codes: np.ndarray, names: pa.Array) -> pa.Array:
    """String column from small integer codes (through a dictionary array, no Python objects)."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), names).cast(pa.string())

#: mean demand over the protection interval below which "auto" picks a discrete distribution
SLOW_MOVER_MEAN = 30.0
#: variance-to-mean ratio above which a slow mover is negative binomial rather than Poisson
OVERDISPERSED = 1.1
#: coefficient of variation over the protection interval above which a fast mover is gamma
SKEWED_CV = 0.5
_DAYS_PER_YEAR = 365.0


def eoq(order_cost: np.ndarray, daily_demand: np.ndarray, unit_cost: np.ndarray,
        holding_rate: np.ndarray) -> np.ndarray:
    """Economic order quantity ``sqrt(2 K D / (i c))`` (Harris 1913; Silver, Pyke & Thomas 2017, ch. 4).

    ``K`` order cost per order, ``D = 365 * daily_demand`` units per year, ``i`` holding rate per
    year, ``c`` unit cost.  Returns units.

    Examples
    --------
    >>> q = eoq(np.array([50.0]), np.array([10.0]), np.array([4.0]), np.array([0.25]))
    >>> float(q[0])  # sqrt(2 * 50 * 3650 / (0.25 * 4))
    604.1522986797286
    """
    return np.sqrt(2.0 * order_cost * _DAYS_PER_YEAR * daily_demand / (holding_rate * unit_cost))


def round_order_quantity(q: np.ndarray, moq: np.ndarray, pack: np.ndarray) -> np.ndarray:
    """Raise ``q`` to the minimum order quantity and round it up to whole packs (at least one pack).

    Examples
    --------
    >>> q, moq, pack = np.array([7.0, 30.0, 0.0]), np.array([10.0, 0.0, 0.0]), np.array([6.0, 12.0, 5.0])
    >>> round_order_quantity(q, moq, pack)
    array([12., 36.,  5.])
    """
    q = np.maximum(np.maximum(q, moq), pack)
    return np.ceil(q / pack - 1e-9) * pack


def _pick_distribution(name: str, prof: DemandProfile, m_t: np.ndarray, v_t: np.ndarray,
                       n: int) -> np.ndarray:
    if name == "auto":
        if prof.kind == "samples":
            return np.full(n, DIST_EMPIRICAL, dtype=np.int8)
        disp = np.divide(v_t, m_t, out=np.ones_like(m_t), where=m_t > 0)
        cv = np.divide(np.sqrt(v_t), m_t, out=np.zeros_like(m_t), where=m_t > 0)
        slow = m_t < SLOW_MOVER_MEAN
        return np.where(slow, np.where(disp > OVERDISPERSED, DIST_NEGBIN, DIST_POISSON),
                        np.where(cv > SKEWED_CV, DIST_GAMMA, DIST_NORMAL)).astype(np.int8)
    if name not in DIST_NAMES:
        raise_error(ParameterError, "unknown distribution", column="distribution",
                    expected=f"one of {['auto', *DIST_NAMES]}", got=name)
    if name == "empirical" and prof.kind != "samples":
        raise_error(ParameterError, "the empirical distribution needs sample paths", column="distribution",
                    expected="a demand table with unique_id, ds, sample_id, value", got=prof.kind)
    return np.full(n, DIST_NAMES[name], dtype=np.int8)


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


def _integer_bounds(dist, pol, prof, it, objective, lt, lsd, r1, m_lt, v_lt0, m_r1, v_r1, q_eoq, ready):
    """:func:`stockopt.inventory._bounds.integer_bounds` on the items as the integer methods would
    size them (newsvendors: no lead time, the days they cover); empirical items are sized by their
    largest whole-path sum."""
    news = pol == POL_NEWS
    span = lt + r1
    path_max = None
    if prof.kind == "samples" and (dist == DIST_EMPIRICAL).any():  # a path's total bounds its sub-sums
        totals = np.add.reduceat(prof.vals, prof.ip[:-1]) if prof.vals.size else np.zeros(len(prof.ip) - 1)
        path_max = np.zeros(len(prof.ids))
        np.maximum.at(path_max, prof.path_item, np.where(np.diff(prof.ip) > 0, totals, 0.0))
    return integer_bounds(dist, pol, cost=objective == "cost", d_day=(m_lt + m_r1) / span,
                          vd_day=(v_lt0 + v_r1) / span, l_days=np.where(news, 0.0, lt),
                          l_sd=np.where(news, 0.0, lsd),
                          r_days=np.where(news, np.minimum(r1, it["shelf_life_days"]), r1),
                          q=round_order_quantity(q_eoq, it["moq"], it["pack_size"]), ready=ready,
                          path_max=path_max)


#: the rules of inventory_policy's arguments
POLICY_PARAMS = {
    "policy": Options("auto", *POLICY_NAMES),
    "distribution": Options("auto", *DIST_NAMES),
    "model": [None, Instance(str)],
    "period_days": [None, Real(0, lo_open=True)],
    "lost_sales": Boolean(),
    "objective": Options("service", "cost"),
    "ready_rate": Boolean(),
    "lead_time_model": Options("compound", "normal", "single"),
    "n_jobs": Integer(1),
    "id_col": Instance(str),
    "time_col": Instance(str),
}


@validate_params(POLICY_PARAMS)
def inventory_policy(
    demand: Any,
    items: Any,
    *,
    policy: str = "auto",
    distribution: str = "auto",
    model: str | None = None,
    period_days: float | None = None,
    lost_sales: bool = False,
    objective: str = "service",
    ready_rate: bool = False,
    lead_time_model: str = "compound",
    n_jobs: int = 1,
    id_col: str = ID,
    time_col: str = "ds",
) -> pa.Table:
    """Size an inventory policy (safety stock, reorder point, order-up-to, order quantity) per item.

    Parameters
    ----------
    demand : Arrow-compatible table
        One of: a demand summary ``unique_id, demand_mean, demand_std`` (units per day, stationary);
        a forecast ``unique_id, ds, <Model>[, <Model>-lo-<L>, <Model>-hi-<L>]`` (units per forecast
        period, which may be days, weeks, months...); sample paths ``unique_id, ds, sample_id, value``.
    items : Arrow-compatible table
        One row per item: ``unique_id`` and ``lead_time`` (days) are required; optional with
        defaults: ``lead_time_std`` (0 days), ``review_period`` (1 day; 0 = continuous review),
        ``unit_cost`` (1), ``holding_rate`` (0.25 per year), ``order_cost`` (0 per order),
        ``service_level`` (0.95), ``service_metric`` ("cycle" or "fill_rate"; "cycle"), ``moq`` (0
        units), ``pack_size`` (1 unit), ``shelf_life_days`` (inf), ``demand_std`` (units per day; only
        read for a forecast without interval columns).  Nulls mean the default.
    policy : {"auto", "RS", "sQ", "sS", "base_stock", "newsvendor"}
        ``RS`` periodic order-up-to; ``sQ`` (R, s, nQ) reorder point / fixed quantity (continuous
        review when ``review_period == 0``); ``sS`` periodic min-max (R, s, S); ``base_stock``
        order-up-to reviewed daily; ``newsvendor`` single-period critical-ratio order for perishables.
        ``auto``: newsvendor if the item has a finite shelf life, sQ under continuous review, RS when
        the EOQ does not exceed the mean demand of one review period, sQ otherwise.
    distribution : {"auto", "normal", "gamma", "poisson", "negbin", "empirical"}
        Demand distribution.  ``auto``: empirical for sample paths; for a mean demand over the
        protection interval below :data:`SLOW_MOVER_MEAN` units Poisson (variance/mean <= 1.1) or
        negative binomial, otherwise gamma when the coefficient of variation exceeds 0.5, else normal.
    lost_sales : bool
        Size for lost sales instead of backorders (fill rate ``1 - B / (E[D_R] + B)``, see
        ``docs/inventory.md``).
    model : str, optional
        Forecast column to use when the forecast table holds several models.
    period_days : float, optional
        Length of a forecast period in days (> 0) when it cannot be inferred (one row per series).
    objective : {"service", "cost"}
        ``"service"`` sizes every policy for the items' service targets.  ``"cost"`` (policy
        ``"sS"`` or ``"sQ"``) finds the cost-optimal (s, S) by the exact algorithm of Zheng &
        Federgruen (1991), or the cost-optimal (R, s, nQ) (Hadley & Whitin 1963; Zheng & Chen
        1992; continuous review when ``review_period == 0``: Federgruen & Zheng 1992), on integer
        demand, with holding cost ``holding_rate * unit_cost / 365`` and the items'
        ``stockout_cost`` (money per unit backordered per day) and ``order_cost``; the order
        quantity is then part of the optimum (no EOQ, MOQ or pack rounding) and the service
        columns report what that policy achieves.  Reorder points stay >= 0.
    ready_rate : bool
        Also compute ``expected_ready_rate`` (every distribution and policy; one distribution
        evaluation per day of the review period and item, two for sQ, which about doubles the
        time of the closed forms; integer demand: one pmf of ``D_{L+j}`` per day).  Off by
        default: the column is then null.  sQ with normal or gamma demand and a random lead
        time uses the moment-matched lead-time demand (an approximation); RS and base stock with a
        random lead time are exact (crossing-orders model).
    lead_time_model : {"compound", "normal", "single"}
        Items with a random lead time (``lead_time_std > 0``; lead times i.i.d. per order, so orders
        may cross).  ``"compound"``: RS and base stock on the exact crossing-orders model (the
        shortfall is the demand of the current review period plus every earlier order still
        outstanding, each with probability ``P(L > age)``; Hadley & Whitin 1963, ch. 4; Bradley
        & Robinson 2005), any distribution; sQ and sS on the mixture over one discretised lead
        time (Axsäter 2015, ch. 5).  ``"single"``: every policy on that one-lead-time mixture
        (overstates the risk of order-up-to policies whose orders cross).  ``"normal"``: normal and
        gamma items on one distribution with the moment-matched variance
        ``L sigma_d^2 + d^2 sigma_L^2`` (Silver, Pyke & Thomas 2017, ch. 6), cheaper but about a
        point off target; integer demand as ``"compound"``.  Fixed lead times are not affected.
    n_jobs : int
        Threads to split the items over (results do not depend on it).
    id_col, time_col : str
        Name of the id column of the demand and items tables (the output's id column takes it too)
        and of the time column of a forecast or sample-path table.

    Returns
    -------
    pyarrow.Table
        One row per item of ``demand``: ``unique_id, policy, distribution, safety_stock,
        reorder_point, order_up_to, order_quantity, lead_time_demand_mean, lead_time_demand_std,
        expected_cycle_service, expected_fill_rate, expected_ready_rate, expected_backorders,
        expected_on_hand, holding_cost`` (units; holding cost in money per year;
        ``expected_ready_rate``, the share of days ending without backorders, null unless
        ``ready_rate=True``), then
        ``protection_demand_mean, protection_demand_std, lead_time, lead_time_std, review_period,
        unit_cost, holding_rate, status`` (``ok``; ``floored`` when the zero-safety-stock floor
        gives more than the target; ``unreachable``).

    Notes
    -----
    Methods and the exact definitions of each service measure are in ``docs/inventory.md``:
    Silver, Pyke & Thomas (2017), *Inventory and Production Management in Supply Chains*, ch. 4
    (EOQ), ch. 6-7 (probabilistic demand); Axsäter (2015), *Inventory Control*, ch. 5; Zheng &
    Federgruen (1991) for the (s, S) stationary distribution; Snyder & Shen (2019), ch. 4-5.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from stockopt.inventory import inventory_policy
    >>> demand = pa.table({"unique_id": ["A"], "demand_mean": [100.0], "demand_std": [30.0]})
    >>> items = pa.table({"unique_id": ["A"], "lead_time": [4.0], "review_period": [7.0],
    ...                   "service_level": [0.95]})
    >>> pol = inventory_policy(demand, items, policy="RS", distribution="normal")
    >>> round(pol["order_up_to"][0].as_py(), 2)  # 1100 + 1.645 * 30 * sqrt(11)
    1263.66
    """
    if objective == "cost" and policy not in ("sS", "sQ"):
        raise_error(ParameterError, "objective='cost' is implemented for the (s, S) and (s, Q) policies only",
                    table="inventory_policy", parameter="policy", expected="policy='sS' or policy='sQ'",
                    got=policy)
    prof = demand_profile(demand, model=model, period_days=period_days, id_col=id_col, time_col=time_col)
    it = items_arrays(items, prof.ids_str, needed_by=prof.label, id_col=id_col)
    if prof.kind == "forecast" and prof.var is None:
        if "demand_std" not in it:
            raise_error(MissingColumnError, "the forecast has no interval columns (<Model>-lo-<L>/-hi-<L>)",
                        table="items", column="demand_std", expected="a 'demand_std' column (units per day)")
        prof.set_daily_std(it["demand_std"])
    n = len(prof.ids)
    if objective == "cost" and "stockout_cost" not in it:
        raise_error(MissingColumnError, "objective='cost' needs the backorder cost", table="items",
                    column="stockout_cost",
                    expected="a 'stockout_cost' column (money per unit backordered per day)")
    lt = it["lead_time"]
    lsd = it["lead_time_std"]
    rv = it["review_period"]
    r1 = np.where(rv > 0, rv, 1.0)
    zeros = np.zeros(n)

    # selection pass: demand rate, EOQ, policy per item
    m_lt, v_lt0 = prof.moments(zeros, lt)
    m_r1, v_r1 = prof.moments(lt, r1)
    d_rate = (m_lt + m_r1) / (lt + r1)
    q_eoq = eoq(it["order_cost"], d_rate, it["unit_cost"], it["holding_rate"])
    if policy == "auto":
        pol = np.where(np.isfinite(it["shelf_life_days"]), POL_NEWS,
                       np.where(rv == 0, POL_SQ, np.where(q_eoq <= m_r1, POL_RS, POL_SQ))).astype(np.int8)
    else:
        pol = np.full(n, POLICY_NAMES[policy], dtype=np.int8)
    dist = _pick_distribution(distribution, prof, m_lt + m_r1, v_lt0 + v_r1, n)
    # work bounds (inventory/_bounds.py, docs/limits.md): integer methods past their size take the
    # continuous law; the cost search past it gives no numbers
    asked = dist
    dist, to_cont, too_large = _integer_bounds(dist, pol, prof, it, objective, lt, lsd, r1, m_lt, v_lt0, m_r1,
                                               v_r1, q_eoq, ready_rate)
    # (s, S) on integer demand, or cost-optimal (s, S) (Zheng & Federgruen, integer units)
    discrete = ((dist >= DIST_POISSON) | (objective == "cost")) & ~too_large
    ss_cont = (pol == POL_SS) & ~discrete  # (s, S), normal / gamma: renewal method (_kernels/inventory_ss)

    # final intervals per policy (days)
    r_eff = np.where(pol == POL_BASE, 1.0, np.where((pol == POL_SQ) & ~discrete, rv, r1))
    shelf = it["shelf_life_days"]
    news = pol == POL_NEWS
    period = np.minimum(r1, shelf)
    r_eff = np.where(news, period, r_eff)
    l_eff = np.where(news, 0.0, lt)
    lsd_eff = np.where(news, 0.0, lsd)
    m_l, v_l0 = prof.moments(zeros, l_eff)
    m_r, v_r = prof.moments(np.where(news, lt, l_eff), r_eff)
    span = l_eff + r_eff
    d_day = np.divide(m_l + m_r, span, out=np.zeros(n), where=span > 0)
    vd_day = np.divide(v_l0 + v_r, span, out=np.zeros(n), where=span > 0)
    v_l = v_l0 + d_day ** 2 * lsd_eff ** 2

    q = round_order_quantity(q_eoq, it["moq"], it["pack_size"])
    q_cont = np.where(np.isfinite(q), q, 0.0)
    target = it["service_level"]
    metric = it["metric"]
    # newsvendor with a shelf life shorter than the review period: stock perishes P days after its
    # delivery and the R - P days before the next one have none; size the P days for the target
    # re-scaled to the whole cycle (docs/inventory.md, "Shelf life shorter than the review period")
    short = news & (shelf < r1)
    if short.any():
        m_gap, v_gap = prof.moments(lt + period, np.where(short, r1 - period, 0.0))
        share = np.divide(m_r, m_r1, out=np.ones(n), where=short & (m_r1 > 0))  # demand of the P days
        p_none = np.where(short, zero_demand_probability(dist, m_gap, v_gap), 1.0)
        gap = np.maximum(r1 - period, 1e-300)  # a day without stock is ready only if it has no demand
        p_day0 = np.where(short, zero_demand_probability(dist, m_gap / gap, v_gap / gap), 0.0)
        scale = np.where(metric == 1, share, p_none)
        target = np.where(short & (target < scale), target / np.maximum(scale, 1e-300), target)
    out = empty_outputs(n)
    out["freq"] = np.full(n, np.nan)
    out["ready"] = np.full(n, np.nan)  # filled by each method when ready_rate=True
    kpol = np.where((pol == POL_BASE) | news, POL_RS, pol).astype(np.int8)

    mixed = ~discrete & ~ss_cont & (lsd_eff > 0) & ~news
    if lead_time_model == "normal":
        mixed[:] = False
    # order-up-to with a random lead time: exact model with crossing orders (_kernels/inventory_crossing)
    cross = (kpol == POL_RS) & ~news & (pol != POL_SS) & (lsd_eff > 0)
    if lead_time_model == "single":
        cross[:] = False
    elif lead_time_model == "normal":
        cross &= discrete
    mixed &= ~cross
    # random lead times past their window: moment-matched lead-time demand (no crossing, no mixture)
    moment = lead_time_bounds(cross, mixed | (ss_cont & (lsd_eff > 0)), l_eff, lsd_eff, r_eff) & ~too_large
    cross &= ~moment
    mixed &= ~moment
    cont = np.flatnonzero(~discrete & ~mixed & ~cross & ~ss_cont)
    every = cont.size == n  # all items continuous: pass the arrays themselves, no gather/scatter
    sel = slice(None) if every else cont
    if cont.size:
        args = [kpol[sel], dist[sel], metric[sel], target[sel], r_eff[sel], m_l[sel],
                v_l[sel], m_r[sel], v_r[sel], q_cont[sel]]
        outs = [out[k] if every else out[k][cont]
                for k in ("s", "S", "ss", "cycle", "fill", "bo", "oh", "status")]

        def run_c(a: int, b: int) -> None:
            policy_continuous(*[x[a:b] for x in args], bool(lost_sales), True,
                              *[o[a:b] for o in outs])

        _run(_blocks(cont.size, n_jobs), run_c)
        news_c = np.flatnonzero(news[cont]) if lost_sales else np.empty(0, dtype=np.int64)
        if news_c.size:
            # a newsvendor's periods are independent (leftovers perish): its fill rate is
            # 1 - B / E[D] whether the shortage is lost or backordered; re-size those items so
            nargs = [x[news_c] for x in args]
            nouts = [np.empty(news_c.size, dtype=o.dtype) for o in outs]
            policy_continuous(*nargs, False, True, *nouts)
            for o, no in zip(outs, nouts):
                o[news_c] = no
    if cont.size and ready_rate:
        ready = np.empty(cont.size)
        rargs = [kpol[sel], dist[sel], r_eff[sel], m_l[sel], v_l[sel], d_day[sel], vd_day[sel], outs[0],
                 q_cont[sel]]

        def run_r(a: int, b: int) -> None:
            ready_rate_continuous(*[x[a:b] for x in rargs], ready[a:b])

        _run(_blocks(cont.size, n_jobs), run_r)
        out["ready"][cont] = ready
    if cont.size:
        if not every:
            for k, o in zip(("s", "S", "ss", "cycle", "fill", "bo", "oh", "status"), outs):
                out[k][cont] = o
    mix = np.flatnonzero(mixed)
    if mix.size:  # random lead time, normal / gamma: exact mixture over the lead-time distribution
        names = ("s", "S", "ss", "cycle", "fill", "bo", "oh", "status")
        margs = [kpol[mix], dist[mix], metric[mix], target[mix], r_eff[mix], d_day[mix], vd_day[mix],
                 l_eff[mix], lsd_eff[mix], m_l[mix], m_r[mix], v_r[mix], q_cont[mix]]
        mouts = [out[k][mix] for k in names]

        def run_m(a: int, b: int) -> None:
            policy_mixture(*[x[a:b] for x in margs], bool(lost_sales), True, *[o[a:b] for o in mouts])

        _run(_blocks(mix.size, n_jobs, min_items=2_000), run_m)
        for k, o in zip(names, mouts):
            out[k][mix] = o
        if ready_rate:  # moment-matched lead-time demand (approximation, see docs/inventory.md)
            mready = np.empty(mix.size)
            ready_rate_continuous(kpol[mix], dist[mix], r_eff[mix], m_l[mix], v_l[mix], d_day[mix],
                                  vd_day[mix], mouts[0], q_cont[mix], mready)
            out["ready"][mix] = mready

    ssc = np.flatnonzero(ss_cont)
    if ssc.size:  # (R, s, S) with continuous demand; random lead times as an exact mixture unless "normal"
        names = ("s", "S", "ss", "cycle", "fill", "bo", "oh", "ready", "status")
        sargs = [dist[ssc], metric[ssc], target[ssc], r_eff[ssc], m_l[ssc], v_l[ssc], m_r[ssc], v_r[ssc],
                 q_cont[ssc], d_day[ssc], vd_day[ssc], l_eff[ssc],
                 np.where(moment, 0.0, lsd_eff)[ssc] if lead_time_model != "normal" else np.zeros(ssc.size)]
        souts = [out[k][ssc] for k in names]

        def run_s(a: int, b: int) -> None:
            policy_ss_continuous(*[x[a:b] for x in sargs], bool(lost_sales), True, bool(ready_rate), GRID_K,
                                 *[o[a:b] for o in souts])

        _run(_blocks(ssc.size, n_jobs, min_items=2_000), run_s)
        for k, o in zip(names, souts):
            out[k][ssc] = o
    crs = np.flatnonzero(cross)
    if crs.size:
        r_x = np.maximum(np.rint(r_eff[crs]), 1).astype(np.int64)
        cargs = [dist[crs], metric[crs], target[crs], r_x, d_day[crs],
                 np.where(dist[crs] == DIST_POISSON, d_day[crs], vd_day[crs]), l_eff[crs], lsd_eff[crs],
                 m_l[crs] + m_r[crs]]
        cres = np.empty((crs.size, 8))

        def run_x(a: int, b: int) -> None:
            policy_crossing(*[x[a:b] for x in cargs], bool(lost_sales), True, cres[a:b])

        _run(_blocks(crs.size, n_jobs, min_items=2_000), run_x)
        e = np.flatnonzero(dist[crs] == DIST_EMPIRICAL)
        if e.size:  # sample paths: integer pmfs of the day mixtures built from the paths
            ce = crs[e]
            pm = crossing_sample_pmfs(prof, ce, r_x[e], l_eff[ce], lsd_eff[ce])
            eres = np.empty((e.size, 8))
            policy_crossing_pmfs(metric[ce], target[ce], r_x[e], m_l[ce] + m_r[ce], bool(lost_sales), True,
                                 *pm, eres)
            cres[e] = eres
        for j, k in enumerate(("S", "ss", "cycle", "fill", "ready", "bo", "oh", "status")):
            out[k][crs] = cres[:, j]
        out["s"][crs] = cres[:, 0]
        if not ready_rate:  # exact and free here, but the column is null unless asked for
            out["ready"][crs] = np.nan
    disc = np.flatnonzero(discrete & ~cross)
    if disc.size:
        emp = dist[disc] == DIST_EMPIRICAL
        for sub, is_emp in ((disc[~emp], False), (disc[emp], True)):
            if not sub.size:
                continue
            costs = None
            if objective == "cost":
                h_day = it["holding_rate"] * it["unit_cost"] / _DAYS_PER_YEAR
                costs = (h_day, it["stockout_cost"], it["order_cost"], rv == 0)  # last: continuous review
            _run_discrete(sub, is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff,
                          np.where(news, POL_NEWS, kpol).astype(np.int8),
                          metric, target, q, lost_sales, out, n_jobs, costs, bool(ready_rate))

    if short.any():  # service over the whole cycle; the target is unreachable when R - P days are lost
        out["cycle"] = np.where(short, out["cycle"] * p_none, out["cycle"])
        out["fill"] = np.where(short, out["fill"] * share, out["fill"])
        out["ready"] = np.where(short, (out["ready"] * period + p_day0 * (r1 - period)) / r1, out["ready"])
        out["oh"] = np.where(short, out["oh"] * period / r1, out["oh"])
        got = np.where(metric == 1, out["fill"], out["cycle"])
        out["status"][short & (got < it["service_level"] - 1e-9)] = 1  # POLICY_UNREACHABLE
    q_out = np.where((pol == POL_SQ) | (pol == POL_SS), q, np.where(news, out["S"], m_r))
    m_prot = m_l + m_r
    cols = {
        id_col: prof.ids,
        "policy": _labels(pol, _POL_STR),
        "distribution": _labels(np.where(too_large, asked, dist), _DIST_STR),
        "safety_stock": np.maximum(out["ss"], 0.0),
        "reorder_point": out["s"],
        "order_up_to": out["S"],
        "order_quantity": q_out,
        "lead_time_demand_mean": np.where(news, m_lt, m_l),
        "lead_time_demand_std": np.sqrt(np.where(news, v_lt0 + d_rate ** 2 * lsd ** 2, v_l)),
        "expected_cycle_service": out["cycle"],
        "expected_fill_rate": out["fill"],
        "expected_ready_rate": pa.array(out["ready"], from_pandas=True),  # NaN -> null (discrete demand)
        "expected_backorders": out["bo"],
        "expected_on_hand": out["oh"],
        "holding_cost": out["oh"] * it["unit_cost"] * it["holding_rate"],
        "protection_demand_mean": m_prot,
        "protection_demand_std": np.sqrt(v_l + v_r),
        "lead_time": lt,
        "lead_time_std": lsd,
        "review_period": np.where(news, r1, r_eff),  # newsvendor: orders every R days, sized over P
        "unit_cost": it["unit_cost"],
        "holding_rate": it["holding_rate"],
        "shelf_life_days": pa.array(shelf, mask=~np.isfinite(shelf)),  # null = not perishable
        "status": _labels(out["status"], _STATUS_STR),
    }
    st = out["status"]  # the work bounds' statuses; an unreachable target is said first
    st[(to_cont | moment) & (st != POLICY_UNREACHABLE)] = POLICY_MOMENT
    st[to_cont & (st != POLICY_UNREACHABLE)] = POLICY_CONTINUOUS
    st[too_large] = POLICY_TOO_LARGE
    cols = guard_rows(cols, st, out_of_range=POLICY_OUT_OF_RANGE, no_numbers=too_large,
                      ready_asked=ready_rate)
    cols["status"] = _labels(st, _STATUS_STR)
    flagged = (st == POLICY_OUT_OF_RANGE) | too_large
    if flagged.any():
        log.warning("%d item(s) got no numbers (status out_of_range / too_large; first: %r)",
                    int(flagged.sum()), prof.ids_str[int(np.flatnonzero(flagged)[0])].as_py())
    unreachable = out["status"] == 1
    if unreachable.any():
        log.warning("%d item(s) cannot reach their service target (first: %r)", int(unreachable.sum()),
                    prof.ids_str[int(np.flatnonzero(unreachable)[0])].as_py())
    return pa.table(cols)


#: most pmf entries (float64) held at once by the exact discrete methods (~400 MB)
PMF_BUDGET = 50_000_000


def _run_discrete(sub, is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff, kpol, metric,
                  target, q, lost_sales, out, n_jobs, costs=None, ready=False) -> None:
    """Run the exact discrete methods on the items ``sub``, in chunks that bound pmf memory."""
    if is_emp:
        _run_discrete_chunk(sub, is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff, kpol, metric,
                            target, q, lost_sales, out, n_jobs, costs, ready)
        return
    m = sub.size
    sizes = [np.empty(m, np.int64) for _ in range(3)]
    vd = np.where(dist[sub] == DIST_POISSON, d_day[sub], vd_day[sub])
    pmf_sizes(dist[sub], d_day[sub], vd, l_eff[sub], lsd_eff[sub], np.maximum(r_eff[sub], 1.0), *sizes)
    n_ready = _ready_npts(r_eff[sub]) if ready else 0  # the ready rate adds one pmf of D_{L+j} per day
    cum = np.cumsum(sizes[0] + sizes[1] + sizes[2] * (1 + n_ready))
    edges = np.searchsorted(cum, np.arange(PMF_BUDGET, int(cum[-1]) + PMF_BUDGET, PMF_BUDGET), side="right")
    starts = np.unique(np.concatenate(([0], np.maximum(edges, 1)[:-1] if edges.size > 1 else [])))
    bounds = np.append(starts[starts < m], m).astype(np.int64)
    for a, b in zip(bounds[:-1], bounds[1:]):  # a few chunks of many items each
        _run_discrete_chunk(sub[a:b], is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff, kpol,
                            metric, target, q, lost_sales, out, n_jobs, costs, ready)


def _run_discrete_chunk(sub, is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff, kpol, metric,
                        target, q, lost_sales, out, n_jobs, costs=None, ready=False) -> None:
    """Build integer pmfs for the items ``sub`` and run the exact discrete kernel on them."""
    rd = np.maximum(r_eff[sub], 1.0)
    if is_emp:
        pmfs = _empirical_pmfs(prof, sub, l_eff[sub], lsd_eff[sub], rd)
    else:
        vd = np.where(dist[sub] == DIST_POISSON, d_day[sub], vd_day[sub])
        pmfs = _parametric_pmfs(dist[sub], d_day[sub], vd, l_eff[sub], lsd_eff[sub], rd)
    vl, il, vr, ir, vt, itp = pmfs
    qint = np.where(np.isfinite(q[sub]), np.ceil(q[sub] - 1e-9), 1).astype(np.int64)
    names = ("s", "S", "ss", "cycle", "fill", "bo", "oh", "freq", "status")
    outs = [out[k][sub].copy() for k in names]
    pol_s, met_s, tg_s = kpol[sub], metric[sub], target[sub]
    blocks = _blocks(sub.size, n_jobs)
    fixed = np.empty(0, np.int64)
    floored = None
    if costs is not None:  # cost-optimal (s, S) / (s, Q), then evaluate it with the service kernel
        h, p, k = (c[sub] * (rd if j < 2 else 1.0) for j, c in enumerate(costs[:3]))  # per review period
        zs = np.empty(sub.size, np.int64)
        zbig = np.empty(sub.size, np.int64)
        zcost = np.empty(sub.size)
        rnq = bool(np.all(pol_s == POL_SQ))  # objective="cost" takes one explicit policy
        cont = np.ascontiguousarray(costs[3][sub])

        def run_z(a: int, b: int) -> None:
            if rnq:  # (R, s, nQ); continuous review: cost on D_L per day (Federgruen & Zheng 1992)
                policy_rnq_cost(h[a:b], p[a:b], k[a:b], cont[a:b], vr, ir[a:b + 1], vl, il[a:b + 1], vt,
                                itp[a:b + 1], zs[a:b], zbig[a:b], zcost[a:b])
            else:
                policy_zheng_federgruen(h[a:b], p[a:b], k[a:b], vr, ir[a:b + 1], vt, itp[a:b + 1],
                                        zs[a:b], zbig[a:b], zcost[a:b])

        _run(blocks, run_z)
        floored = zs < 0
        fixed = np.maximum(zs, 0)
        qint = (zbig if rnq else np.maximum(zbig - fixed, 1)).astype(np.int64)

    def run_d(a: int, b: int) -> None:
        policy_discrete(pol_s[a:b], met_s[a:b], tg_s[a:b], rd[a:b], qint[a:b], bool(lost_sales), True,
                        vl, il[a:b + 1], vr, ir[a:b + 1], vt, itp[a:b + 1],
                        *[o[a:b] for o in outs], fixed[a:b] if fixed.size else fixed)

    _run(blocks, run_d)
    if floored is not None:
        outs[-1][floored] = 2  # POLICY_FLOORED: the optimal reorder point was negative
        q[sub] = qint
    for k, o in zip(names, outs):
        out[k][sub] = o
    if ready:  # share of days ending without backorders, from the same stationary position
        jp = np.concatenate(([0], np.cumsum(_ready_npts(rd)))).astype(np.int64)
        if is_emp:
            vj, ij = _empirical_pmfs(prof, sub, l_eff[sub], lsd_eff[sub], rd, ready_jp=jp)
        else:
            vd = np.where(dist[sub] == DIST_POISSON, d_day[sub], vd_day[sub])
            sizes = np.empty(int(jp[-1]), np.int64)
            pmf_ready_sizes(dist[sub], d_day[sub], vd, l_eff[sub], lsd_eff[sub], rd, jp, sizes)
            ij = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
            vj = np.zeros(int(ij[-1]))
            pmf_ready_fill(dist[sub], d_day[sub], vd, l_eff[sub], lsd_eff[sub], rd, jp, vj, ij)
        big_s = np.rint(outs[1]).astype(np.int64)
        ready_out = np.empty(sub.size)

        def run_r(a: int, b: int) -> None:
            ready_rate_discrete(pol_s[a:b], qint[a:b], big_s[a:b], vr, ir[a:b + 1], jp[a:b + 1], vj, ij,
                                ready_out[a:b])

        _run(blocks, run_r)
        out["ready"][sub] = ready_out


def _ready_npts(r_days: np.ndarray) -> np.ndarray:
    """Number of ready-rate evaluation days per item (``kernels.inventory_discrete.ready_points``)."""
    return np.minimum(np.maximum(np.floor(r_days + 0.5), 1), READY_MAX_POINTS).astype(np.int64)

