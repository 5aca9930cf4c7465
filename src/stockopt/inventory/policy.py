"""``inventory_policy``: safety stock, reorder points and order quantities for many items at once.

The Python layer here validates the tables, turns demand into interval moments (see
:mod:`stockopt.inventory.demand`), picks policy and distribution per item, and calls one numba
kernel per block of items: closed forms for normal and gamma demand
(:mod:`stockopt._kernels.inventory_policy`), exact integer methods for Poisson, negative binomial,
empirical demand and every (s, S) policy (:mod:`stockopt._kernels.inventory_discrete`).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._kernels.inventory_discrete import (
    pmf_fill,
    pmf_sizes,
    policy_discrete,
    policy_zheng_federgruen,
)
from stockopt._kernels.inventory_math import (
    DIST_EMPIRICAL,
    DIST_GAMMA,
    DIST_NEGBIN,
    DIST_NORMAL,
    DIST_POISSON,
)
from stockopt._kernels.inventory_policy import (
    POL_BASE,
    POL_NEWS,
    POL_RS,
    POL_SQ,
    POL_SS,
    empty_outputs,
    policy_continuous,
    ready_rate_continuous,
)
from stockopt._kernels.inventory_mixture import policy_mixture
from stockopt.errors import MissingColumnError, ParameterError, raise_error
from stockopt.inventory._validate import items_arrays
from stockopt.inventory.demand import DemandProfile, demand_profile

__all__ = ["inventory_policy", "POLICY_NAMES", "DIST_NAMES", "SLOW_MOVER_MEAN"]

log = logging.getLogger(__name__)

POLICY_NAMES = {"RS": POL_RS, "sQ": POL_SQ, "sS": POL_SS, "base_stock": POL_BASE, "newsvendor": POL_NEWS}
DIST_NAMES = {"normal": DIST_NORMAL, "gamma": DIST_GAMMA, "poisson": DIST_POISSON,
              "negbin": DIST_NEGBIN, "empirical": DIST_EMPIRICAL}
_POL_STR = pa.array(["RS", "sQ", "sS", "base_stock", "newsvendor"], pa.string())
_DIST_STR = pa.array(["normal", "gamma", "poisson", "negbin", "empirical"], pa.string())
_STATUS_STR = pa.array(["ok", "unreachable", "floored"], pa.string())


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


def _blocks(n: int, n_jobs: int, min_items: int = 20_000) -> list[tuple[int, int]]:
    """Contiguous item ranges, one per thread (one range when the block is too small to split)."""
    if n_jobs <= 1 or n < min_items:
        return [(0, n)]
    edges = np.linspace(0, n, n_jobs + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _run(blocks: list[tuple[int, int]], fn) -> None:
    if len(blocks) == 1:
        fn(*blocks[0])
        return
    with ThreadPoolExecutor(max_workers=len(blocks)) as ex:
        list(ex.map(lambda ab: fn(*ab), blocks))


def eoq(order_cost: np.ndarray, daily_demand: np.ndarray, unit_cost: np.ndarray,
        holding_rate: np.ndarray) -> np.ndarray:
    """Economic order quantity ``sqrt(2 K D / (i c))`` (Harris 1913; Silver, Pyke & Thomas 2017, ch. 4).

    ``K`` order cost per order, ``D = 365 * daily_demand`` units per year, ``i`` holding rate per
    year, ``c`` unit cost.  Returns units.
    """
    return np.sqrt(2.0 * order_cost * _DAYS_PER_YEAR * daily_demand / (holding_rate * unit_cost))


def round_order_quantity(q: np.ndarray, moq: np.ndarray, pack: np.ndarray) -> np.ndarray:
    """Raise ``q`` to the minimum order quantity and round it up to whole packs (at least one pack)."""
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


def _empirical_pmfs(prof: DemandProfile, sel: np.ndarray, lm, lsd, rd):
    """Integer pmfs of demand over L, R and L + R from sample paths (mixture over lead times)."""
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
        xs_l.append(s_l)
        xs_t.append(s_t)
        xs_r.append(s_t - s_l)
        ws.append(wp)
        its.append(pitem)
    item = np.concatenate(its)
    w = np.concatenate(ws)
    m = len(sel)
    vl, il = _hist(item, np.concatenate(xs_l), w, m)
    vr, ir = _hist(item, np.concatenate(xs_r), w, m)
    vt, it = _hist(item, np.concatenate(xs_t), w, m)
    return vl, il, vr, ir, vt, it


def inventory_policy(
    demand: Any,
    items: Any,
    policy: str = "auto",
    distribution: str = "auto",
    *,
    lost_sales: bool = False,
    model: str | None = None,
    freq_days: float | None = None,
    objective: str = "service",
    ready_rate: bool = False,
    lead_time_model: str = "compound",
    n_jobs: int = 1,
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
    freq_days : float, optional
        Length of a forecast period in days when it cannot be inferred (one row per series).
    objective : {"service", "cost"}
        ``"service"`` sizes every policy for the items' service targets.  ``"cost"`` (policy
        ``"sS"`` only) finds the cost-optimal (s, S) on integer demand by the exact algorithm of
        Zheng & Federgruen (1991), with holding cost ``holding_rate * unit_cost / 365`` and the
        items' ``stockout_cost`` (money per unit backordered per day) and ``order_cost``; the
        service columns then report what that policy achieves.  Reorder points stay >= 0.
    ready_rate : bool
        Also compute ``expected_ready_rate`` (normal and gamma demand; one distribution
        evaluation per day of the review period and item, two for sQ, which about doubles the
        time of the closed forms).  Off by default: the column is then null.  With a random lead
        time it uses the moment-matched lead-time demand (an approximation).
    lead_time_model : {"compound", "normal"}
        Normal and gamma demand with a random lead time (``lead_time_std > 0``): ``"compound"``
        sizes RS and sQ policies on the exact mixture over the discretised lead-time distribution
        (the one the exact integer methods and the simulator use; Axsäter 2015, ch. 5);
        ``"normal"`` on one distribution with the moment-matched variance
        ``L sigma_d^2 + d^2 sigma_L^2`` (Silver, Pyke & Thomas 2017, ch. 6), cheaper but about a
        point off target.  Items with a fixed lead time are not affected.
    n_jobs : int
        Threads to split the items over (results do not depend on it).

    Returns
    -------
    pyarrow.Table
        One row per item of ``demand``: ``unique_id, policy, distribution, safety_stock,
        reorder_point, order_up_to, order_quantity, lead_time_demand_mean, lead_time_demand_std,
        expected_cycle_service, expected_fill_rate, expected_ready_rate, expected_backorders,
        expected_on_hand, holding_cost`` (units; holding cost in money per year;
        ``expected_ready_rate``, the share of days ending without backorders, is null for
        Poisson, negative binomial and empirical demand and for (s, S) policies), then
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
    if policy != "auto" and policy not in POLICY_NAMES:
        raise_error(ParameterError, "unknown policy", column="policy",
                    expected=f"one of {['auto', *POLICY_NAMES]}", got=policy)
    if not isinstance(lost_sales, (bool, np.bool_)):
        raise_error(ParameterError, "lost_sales must be True or False", got=lost_sales)
    if not isinstance(ready_rate, (bool, np.bool_)):
        raise_error(ParameterError, "ready_rate must be True or False", got=ready_rate)
    if lead_time_model not in ("compound", "normal"):
        raise_error(ParameterError, "unknown lead_time_model", column="lead_time_model",
                    expected="'compound' or 'normal'", got=lead_time_model)
    if objective not in ("service", "cost"):
        raise_error(ParameterError, "unknown objective", column="objective",
                    expected="'service' or 'cost'", got=objective)
    if objective == "cost" and policy != "sS":
        raise_error(ParameterError, "objective='cost' is implemented for the (s, S) policy only",
                    column="policy", expected="policy='sS'", got=policy)
    prof = demand_profile(demand, model=model, freq_days=freq_days)
    it = items_arrays(items, prof.ids_str, needed_by=prof.label)
    if prof.kind == "forecast" and prof.var is None:
        if "demand_std" not in it:
            raise MissingColumnError(
                "items: the forecast has no interval columns (<Model>-lo-<L>/-hi-<L>), so the items "
                "table needs a 'demand_std' column (units per day)", table="items", column="demand_std")
        prof.set_daily_std(it["demand_std"])
    n = len(prof.ids)
    if objective == "cost" and "stockout_cost" not in it:
        raise MissingColumnError("items: objective='cost' needs a 'stockout_cost' column (money per unit "
                                 "backordered per day)", table="items", column="stockout_cost")
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
    discrete = (dist >= DIST_POISSON) | (pol == POL_SS)

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
    out = empty_outputs(n)
    out["freq"] = np.full(n, np.nan)
    out["ready"] = np.full(n, np.nan)  # computed for normal and gamma demand only
    kpol = np.where((pol == POL_BASE) | news, POL_RS, pol).astype(np.int8)

    mixed = ~discrete & (lsd_eff > 0) & ~news
    if lead_time_model != "compound":
        mixed[:] = False
    cont = np.flatnonzero(~discrete & ~mixed)
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

    disc = np.flatnonzero(discrete)
    if disc.size:
        emp = dist[disc] == DIST_EMPIRICAL
        for sub, is_emp in ((disc[~emp], False), (disc[emp], True)):
            if not sub.size:
                continue
            costs = None
            if objective == "cost":
                h_day = it["holding_rate"] * it["unit_cost"] / _DAYS_PER_YEAR
                costs = (h_day, it["stockout_cost"], it["order_cost"])
            _run_discrete(sub, is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff,
                          np.where(news, POL_NEWS, kpol).astype(np.int8),
                          metric, target, q, lost_sales, out, n_jobs, costs)

    q_out = np.where((pol == POL_SQ) | (pol == POL_SS), q, np.where(news, out["S"], m_r))
    m_prot = m_l + m_r
    cols = {
        "unique_id": prof.ids,
        "policy": _labels(pol, _POL_STR),
        "distribution": _labels(dist, _DIST_STR),
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
        "review_period": r_eff,
        "unit_cost": it["unit_cost"],
        "holding_rate": it["holding_rate"],
        "status": _labels(out["status"], _STATUS_STR),
    }
    for name in ("safety_stock", "reorder_point", "order_up_to", "order_quantity",
                 "expected_backorders", "expected_on_hand", "holding_cost"):
        arr = cols[name]
        bad = ~np.isfinite(arr) | (arr < -1e-9)
        if bad.any():  # pragma: no cover - guarded by validation; kept as a last line of defence
            row = int(np.flatnonzero(bad)[0])
            raise_error(ParameterError, f"could not compute a finite {name}", table="items",
                        series=prof.ids_str[row].as_py(), got=float(arr[row]))
        cols[name] = np.maximum(arr, 0.0)
    unreachable = out["status"] == 1
    if unreachable.any():
        log.warning("%d item(s) cannot reach their service target (first: %r)", int(unreachable.sum()),
                    prof.ids_str[int(np.flatnonzero(unreachable)[0])].as_py())
    return pa.table(cols)


#: most pmf entries (float64) held at once by the exact discrete methods (~400 MB)
PMF_BUDGET = 50_000_000


def _run_discrete(sub, is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff, kpol, metric,
                  target, q, lost_sales, out, n_jobs, costs=None) -> None:
    """Run the exact discrete methods on the items ``sub``, in chunks that bound pmf memory."""
    if is_emp:
        _run_discrete_chunk(sub, is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff, kpol, metric,
                            target, q, lost_sales, out, n_jobs, costs)
        return
    m = sub.size
    sizes = [np.empty(m, np.int64) for _ in range(3)]
    vd = np.where(dist[sub] == DIST_POISSON, d_day[sub], vd_day[sub])
    pmf_sizes(dist[sub], d_day[sub], vd, l_eff[sub], lsd_eff[sub], np.maximum(r_eff[sub], 1.0), *sizes)
    cum = np.cumsum(sizes[0] + sizes[1] + sizes[2])
    edges = np.searchsorted(cum, np.arange(PMF_BUDGET, int(cum[-1]) + PMF_BUDGET, PMF_BUDGET), side="right")
    starts = np.unique(np.concatenate(([0], np.maximum(edges, 1)[:-1] if edges.size > 1 else [])))
    bounds = np.append(starts[starts < m], m).astype(np.int64)
    for a, b in zip(bounds[:-1], bounds[1:]):  # a few chunks of many items each
        _run_discrete_chunk(sub[a:b], is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff, kpol,
                            metric, target, q, lost_sales, out, n_jobs, costs)


def _run_discrete_chunk(sub, is_emp, prof, dist, d_day, vd_day, l_eff, lsd_eff, r_eff, kpol, metric,
                        target, q, lost_sales, out, n_jobs, costs=None) -> None:
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
    if costs is not None:  # cost-optimal (s, S), then evaluate it with the service kernel
        h, p, k = (c[sub] * (rd if j < 2 else 1.0) for j, c in enumerate(costs))  # per review period
        zs = np.empty(sub.size, np.int64)
        zbig = np.empty(sub.size, np.int64)
        zcost = np.empty(sub.size)

        def run_z(a: int, b: int) -> None:
            policy_zheng_federgruen(h[a:b], p[a:b], k[a:b], vr, ir[a:b + 1], vt, itp[a:b + 1],
                                    zs[a:b], zbig[a:b], zcost[a:b])

        _run(blocks, run_z)
        floored = zs < 0
        fixed = np.maximum(zs, 0)
        qint = np.maximum(zbig - fixed, 1).astype(np.int64)

    def run_d(a: int, b: int) -> None:
        policy_discrete(pol_s[a:b], met_s[a:b], tg_s[a:b], rd[a:b], qint[a:b], bool(lost_sales), True,
                        vl, il[a:b + 1], vr, ir[a:b + 1], vt, itp[a:b + 1],
                        *[o[a:b] for o in outs], fixed[a:b] if fixed.size else fixed)

    _run(blocks, run_d)
    if floored is not None:
        outs[-1][floored] = 2  # STATUS_FLOORED: the optimal reorder point was negative
        q[sub] = qint
    for k, o in zip(names, outs):
        out[k][sub] = o

