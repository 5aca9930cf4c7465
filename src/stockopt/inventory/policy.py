"""``inventory_policy``: safety stock, reorder points and order quantities for many items at once.

The Python layer here validates the tables, turns demand into interval moments (see
:mod:`stockopt.inventory.demand`), picks policy and distribution per item and hands the per-item
arrays to one sizing function per method family (:mod:`stockopt.inventory._sizing`: closed forms,
lead-time mixture, renewal (s, S), crossing orders; :mod:`stockopt.inventory._discrete`: exact
integer methods, service- or cost-optimal), each calling its numba kernel per block of items.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._kernels.codes import (
    DIST_COMPOUND,
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
from stockopt._params import Boolean, Instance, Integer, Options, Real, validate_params
from stockopt.errors import MissingColumnError, ParameterError, ValidationError, raise_error
from stockopt.inventory._bounds import COMPOUND_MAX_SIZE, INTEGER_MAX_POINTS, integer_bounds
from stockopt.inventory._compound import CompoundParams
from stockopt.inventory._schema import guard_rows
from stockopt.inventory._sizing import ItemArrays, size_items
from stockopt.inventory._validate import ID, items_arrays
from stockopt.inventory.demand import DemandProfile, demand_profile, zero_demand_probability
from stockopt.inventory.history import INTERMITTENT_ADI, HistoryProfile, compound_moments, history_profile

__all__ = ["inventory_policy", "POLICY_NAMES", "DIST_NAMES", "SLOW_MOVER_MEAN"]

log = logging.getLogger(__name__)

POLICY_NAMES = {"RS": POL_RS, "sQ": POL_SQ, "sS": POL_SS, "base_stock": POL_BASE, "newsvendor": POL_NEWS}
DIST_NAMES = {"normal": DIST_NORMAL, "gamma": DIST_GAMMA, "poisson": DIST_POISSON,
              "negbin": DIST_NEGBIN, "empirical": DIST_EMPIRICAL, "compound": DIST_COMPOUND}
_POL_STR = pa.array(["RS", "sQ", "sS", "base_stock", "newsvendor"], pa.string())
_DIST_STR = pa.array(["normal", "gamma", "poisson", "negbin", "empirical", "compound"], pa.string())
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
    history: Any = None,
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
    distribution : {"auto", "normal", "gamma", "poisson", "negbin", "empirical", "compound"}
        Demand distribution.  ``auto``: empirical for sample paths; for a mean demand over the
        protection interval below :data:`SLOW_MOVER_MEAN` units Poisson (variance/mean <= 1.1) or
        negative binomial, otherwise gamma when the coefficient of variation exceeds 0.5, else normal;
        with ``history``, compound for intermittent items (below).  ``compound`` needs ``history``.
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
    history : Arrow-compatible table or HistoryProfile, optional
        The items' own demand history ``unique_id, ds, y`` (units per period, any regular
        period; null ``y`` or ``in_stock`` false = not observed), or a profile built from it by
        :func:`stockopt.inventory.history.history_profile` (e.g. with ``size_pooling``).  With
        ``distribution="auto"``, intermittent and lumpy items (average inter-demand interval above
        1.32 periods) and items whose demand table carries no variance are sized on the exact
        compound law of their history: a demand occurs in a period with probability ``p``, set
        so the mean matches the demand table's, its size drawn from the item's own demand sizes
        (distribution ``"compound"``; see ``docs/service.md``).  ``distribution="compound"``
        sizes every item so.  Without a history, ``auto`` never sizes on a point mass: an item
        whose demand table has no variance is sized as Poisson (with a warning).
    id_col, time_col : str
        Name of the id column of the demand, items and history tables (the output's id column takes
        it too) and of the time column of a forecast, sample-path or history table.

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
    prof, it, sel, arrays, short = prepare_items(
        demand, items, policy, distribution, lost_sales=lost_sales, model=model, period_days=period_days,
        objective=objective, ready_rate=ready_rate, lead_time_model=lead_time_model, n_jobs=n_jobs,
        history=history, id_col=id_col, time_col=time_col)
    out = size_items(arrays)
    if short is not None:  # service over the whole cycle; the target is unreachable when R - P days are lost
        _short_shelf_life_outputs(out, short, arrays.metric, it["service_level"])
    return _policy_table(prof, it, sel, arrays, out, id_col)


def prepare_items(demand: Any, items: Any, policy: str, distribution: str, *, lost_sales: bool,
                  model: str | None, period_days: float | None, objective: str, ready_rate: bool,
                  lead_time_model: str, n_jobs: int, history: Any, integer: bool = False,
                  id_col: str = ID, time_col: str = "ds"):
    """Validation and selection shared by :func:`inventory_policy` and ``optimize_service``.

    Returns ``(profile, item columns, selection, ItemArrays, short-shelf-life context or None)``.
    The options themselves are checked by the callers' argument rules (:data:`POLICY_PARAMS`).
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
    if objective == "cost" and "stockout_cost" not in it:
        raise_error(MissingColumnError, "objective='cost' needs the backorder cost", table="items",
                    column="stockout_cost",
                    expected="a 'stockout_cost' column (money per unit backordered per day)")
    hp = None
    if history is not None:
        if isinstance(history, HistoryProfile):  # built by history_profile(sales, size_pooling=...)
            hp = history.take(_rows_of(history, prof))
        else:  # its own periods, from its time column's spacing
            hp = history_profile(history, prof.ids_str, id_col=id_col, time_col=time_col)
    elif distribution == "compound":
        raise_error(ParameterError, "the compound distribution needs the items' demand history",
                    table="inventory_policy", parameter="distribution",
                    expected="history=<sales table unique_id, ds, y>", got=None)
    sel = _select(prof, it, policy, distribution, objective, hp)
    arrays, short = _item_arrays(prof, it, sel, objective, lost_sales, ready_rate, lead_time_model, n_jobs,
                                 integer)
    return prof, it, sel, arrays, short


@dataclass
class _Selection:
    """Policy and distribution per item, with the selection-pass moments (days, units)."""

    pol: np.ndarray
    dist: np.ndarray
    m_lt: np.ndarray  # demand over the item's own lead time
    v_lt0: np.ndarray  # its variance for a fixed lead time
    m_r1: np.ndarray  # demand over one review period (>= 1 day) after the lead time
    d_rate: np.ndarray  # mean demand per day over L + R
    q_eoq: np.ndarray
    r1: np.ndarray  # review period, continuous review counted as 1 day
    compound: CompoundParams | None = None  # laws of the DIST_COMPOUND items


def _select(prof: DemandProfile, it: dict[str, np.ndarray], policy: str, distribution: str,
            objective: str, hp: HistoryProfile | None = None) -> _Selection:
    """Selection pass: demand rate, EOQ, policy and distribution per item."""
    n = len(prof.ids)
    lt = it["lead_time"]
    rv = it["review_period"]
    r1 = np.where(rv > 0, rv, 1.0)
    zeros = np.zeros(n)
    m_lt, v_lt0 = prof.moments(zeros, lt)
    m_r1, v_r1 = prof.moments(lt, r1)
    d_rate = (m_lt + m_r1) / (lt + r1)
    q_eoq = eoq(it["order_cost"], d_rate, it["unit_cost"], it["holding_rate"])
    if policy == "auto":
        pol = np.where(np.isfinite(it["shelf_life_days"]), POL_NEWS,
                       np.where(rv == 0, POL_SQ, np.where(q_eoq <= m_r1, POL_RS, POL_SQ))).astype(np.int8)
    else:
        pol = np.full(n, POLICY_NAMES[policy], dtype=np.int8)
    m_t, v_t = m_lt + m_r1, v_lt0 + v_r1
    dist = _pick_distribution("auto" if distribution == "compound" else distribution, prof, m_t, v_t, n)
    degenerate = (m_t > 0) & (v_t <= 0) & (dist < DIST_EMPIRICAL)
    comp = None
    if hp is not None and distribution in ("auto", "compound"):
        use, comp = _compound_items(hp, prof, d_rate, m_t, degenerate, distribution)
        dist[use] = DIST_COMPOUND
        degenerate &= ~use
    if distribution == "auto" and degenerate.any():
        # a point mass (no variance) never reaches a sizing: count data without a spread is Poisson
        dist[degenerate] = DIST_POISSON
        log.warning("%d item(s) have no demand variance over the protection interval (first: %r); sized "
                    "as Poisson. Pass history= (the sales) to size them on their own demand history",
                    int(degenerate.sum()), prof.ids_str[int(np.flatnonzero(degenerate)[0])].as_py())
    return _Selection(pol, dist, m_lt, v_lt0, m_r1, d_rate, q_eoq, r1, comp)


def _compound_items(hp: HistoryProfile, prof: DemandProfile, d_rate: np.ndarray, m_t: np.ndarray,
                    degenerate: np.ndarray, distribution: str) -> tuple[np.ndarray, CompoundParams]:
    """Items sized on the compound law of their own history, and those laws.

    The occurrence probability per period is set so the compound mean equals the demand table's
    (forecast or summary) mean rate: ``p = d_rate * period / E[size]``; the history gives the
    sizes.  ``auto``: intermittent or lumpy items (ADI > 1.32, Syntetos, Boylan & Croston 2005) and
    items whose demand table has no variance; ``compound``: every item.
    """
    per = np.where(np.isfinite(hp.period), hp.period, 0.0)
    # work bound: no compound law for sizes above COMPOUND_MAX_SIZE (docs/limits.md); those items
    # are sized on the law their demand table gives
    smax = np.zeros(len(per))
    np.maximum.at(smax, hp.size_item, hp.size_units.astype(np.float64))
    if hp.pooling > 0 and hp.pool_ratios is not None and hp.pool_ratios.size:
        smax = np.maximum(smax, np.rint(hp.size_mean * float(np.max(hp.pool_ratios))))
    huge = (hp.n_demands > 0) & (per > 0) & (smax > COMPOUND_MAX_SIZE)
    has = (hp.n_demands > 0) & (per > 0) & ~huge
    if huge.any():
        log.warning("%d item(s) have a demand size above %d units in their history (first: %r): sized on "
                    "their demand table's law, not the compound law", int(huge.sum()), COMPOUND_MAX_SIZE,
                    prof.ids_str[int(np.flatnonzero(huge)[0])].as_py())
    cand = np.flatnonzero(has)
    gv, gip_sub, sm_c, sv_c = hp.size_law(cand)
    size_mean = np.zeros_like(d_rate)
    size_var = np.zeros_like(d_rate)
    size_mean[cand], size_var[cand] = sm_c, sv_c
    p = np.divide(d_rate * per, size_mean, out=np.zeros_like(d_rate), where=has)
    if distribution == "compound":
        bad = (m_t > 0) & (~has | (p > 1.0 + 1e-12)) & ~huge
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            why = ("no demand > 0 in its history" if not has[row] else
                   f"its mean demand per period ({d_rate[row] * per[row]:g}) exceeds the mean size of its "
                   f"demands ({size_mean[row]:g}): it is not intermittent")
            raise_error(ValidationError, f"cannot build a compound law: {why}", table="history",
                        series=prof.ids_str[row].as_py(), row=row,
                        expected="a history with demands for every item, or distribution='auto'")
        use = (m_t >= 0) & ~huge
    else:
        use = has & (p <= 1.0) & ((hp.adi > INTERMITTENT_ADI) | degenerate)
    p = np.where(use, np.minimum(p, 1.0), 0.0)
    lens = np.ones(len(p), np.int64)  # items not compound: the size pmf [1.0] (never read)
    lens[cand] = np.diff(gip_sub)
    lens[~use] = 1
    g_ip = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    g_vals = np.ones(int(g_ip[-1]))
    sel = use[cand]
    if sel.any():
        rows = cand[sel]
        start, ln = gip_sub[:-1][sel], np.diff(gip_sub)[sel]
        off = np.arange(int(ln.sum())) - np.repeat(np.cumsum(ln) - ln, ln)
        g_vals[np.repeat(g_ip[rows], ln) + off] = gv[np.repeat(start, ln) + off]
    return use, CompoundParams(p, np.where(per > 0, per, 1.0), g_vals, g_ip, np.where(use, size_mean, 0.0),
                               np.where(use, size_var, 0.0))


def _rows_of(hp: HistoryProfile, prof: DemandProfile) -> np.ndarray:
    """Rows of a history profile for the demand table's items (an item without history: none seen)."""
    import pyarrow.compute as pc

    from stockopt.inventory._validate import id_strings

    idx = pc.index_in(prof.ids_str, value_set=id_strings(hp.ids))
    if idx.null_count:
        row = int(np.flatnonzero(~np.asarray(pc.is_valid(idx)))[0])
        raise_error(ValidationError, "no history for an item of the demand table", table="history",
                    series=prof.ids_str[row].as_py(), expected="a history profile covering every item")
    return np.asarray(idx, dtype=np.int64)


def _item_arrays(prof: DemandProfile, it: dict[str, np.ndarray], sel: _Selection, objective: str,
                 lost_sales: bool, ready_rate: bool, lead_time_model: str, n_jobs: int,
                 integer: bool = False):
    """Final intervals and moments per item; returns the sizing inputs and the short-shelf-life context.

    ``integer``: every item on the exact integer methods (normal and gamma put on the unit grid).
    """
    n = len(prof.ids)
    pol, dist = sel.pol, sel.dist
    lt = it["lead_time"]
    lsd = it["lead_time_std"]
    rv = it["review_period"]
    r1 = sel.r1
    shelf = it["shelf_life_days"]
    news = pol == POL_NEWS
    period = np.minimum(r1, shelf)
    l_eff = np.where(news, 0.0, lt)
    lsd_eff = np.where(news, 0.0, lsd)
    q = round_order_quantity(sel.q_eoq, it["moq"], it["pack_size"])
    # (s, S) on integer demand, or cost-optimal (s, S) (Zheng & Federgruen, integer units)
    discrete = (dist >= DIST_POISSON) | (objective == "cost") | integer
    r_eff, m_l, v_l0, m_r, v_r, d_day, vd_day = _intervals(prof, sel, discrete, lt, rv, news, period, l_eff)
    # work bounds (inventory/_bounds.py, docs/limits.md): integer methods past their size take the
    # continuous law of the same moments; the cost search past them gives no numbers
    dist, to_cont, too_large = _work_bounds(prof, sel, dist, objective, integer, ready_rate, l_eff, lsd_eff,
                                            r_eff, d_day, vd_day, q)
    if to_cont.any() or too_large.any():
        discrete = ((dist >= DIST_POISSON) | (objective == "cost") | integer) & ~too_large
        r_eff, m_l, v_l0, m_r, v_r, d_day, vd_day = _intervals(prof, sel, discrete, lt, rv, news, period,
                                                               l_eff)
    v_l = v_l0 + d_day ** 2 * lsd_eff ** 2

    q_cont = np.where(np.isfinite(q), q, 0.0)
    target = it["service_level"]
    metric = it["metric"]
    # newsvendor with a shelf life shorter than the review period: stock perishes P days after its
    # delivery and the R - P days before the next one have none; size the P days for the target
    # re-scaled to the whole cycle (docs/inventory.md, "Shelf life shorter than the review period")
    short = news & (shelf < r1)
    ctx = None
    if short.any():
        m_gap, v_gap = prof.moments(lt + period, np.where(short, r1 - period, 0.0))
        share = np.divide(m_r, sel.m_r1, out=np.ones(n), where=short & (sel.m_r1 > 0))  # demand of the P days
        p_none = np.where(short, zero_demand_probability(dist, m_gap, v_gap), 1.0)
        gap = np.maximum(r1 - period, 1e-300)  # a day without stock is ready only if it has no demand
        p_day0 = np.where(short, zero_demand_probability(dist, m_gap / gap, v_gap / gap), 0.0)
        scale = np.where(metric == 1, share, p_none)
        target = np.where(short & (target < scale), target / np.maximum(scale, 1e-300), target)
        ctx = _ShortShelf(short, share, p_none, p_day0, period, r1)
    costs = None
    if objective == "cost":
        h_day = it["holding_rate"] * it["unit_cost"] / _DAYS_PER_YEAR
        costs = (h_day, it["stockout_cost"], it["order_cost"], rv == 0)  # last: continuous review
    kpol = np.where((pol == POL_BASE) | news, POL_RS, pol).astype(np.int8)
    arrays = ItemArrays(pol=pol, kpol=kpol, dist=dist, metric=metric, target=target, news=news, r_eff=r_eff,
                        l_eff=l_eff, lsd_eff=lsd_eff, m_l=m_l, v_l=v_l, m_r=m_r, v_r=v_r, d_day=d_day,
                        vd_day=vd_day, q=q, q_cont=q_cont, prof=prof, lost_sales=bool(lost_sales),
                        ready_rate=bool(ready_rate), lead_time_model=lead_time_model, n_jobs=n_jobs,
                        costs=costs, compound=sel.compound, integer=integer, continuous=to_cont,
                        too_large=too_large)
    return arrays, ctx


def _intervals(prof: DemandProfile, sel: _Selection, discrete: np.ndarray, lt: np.ndarray, rv: np.ndarray,
               news: np.ndarray, period: np.ndarray, l_eff: np.ndarray):
    """The review period each item is sized over and its demand moments over the lead time and that
    review period (units), and per day; compound items (of the selection) on their history's law."""
    n = len(prof.ids)
    r_eff = np.where(sel.pol == POL_BASE, 1.0, np.where((sel.pol == POL_SQ) & ~discrete, rv, sel.r1))
    r_eff = np.where(news, period, r_eff)
    m_l, v_l0 = prof.moments(np.zeros(n), l_eff)
    m_r, v_r = prof.moments(np.where(news, lt, l_eff), r_eff)
    span = l_eff + r_eff
    cu = sel.dist == DIST_COMPOUND  # a compound item switched to a continuous law keeps its moments
    if sel.compound is not None and cu.any():  # the moments of the history's law
        c = sel.compound
        (ml_c, vl_c), (mr_c, vr_c) = (compound_moments(c.p, c.period, c.size_mean, c.size_var, x)
                                      for x in (l_eff, r_eff))
        m_l, v_l0, m_r, v_r = (np.where(cu, xc, x) for xc, x in ((ml_c, m_l), (vl_c, v_l0), (mr_c, m_r),
                                                                 (vr_c, v_r)))
    d_day = np.divide(m_l + m_r, span, out=np.zeros(n), where=span > 0)
    vd_day = np.divide(v_l0 + v_r, span, out=np.zeros(n), where=span > 0)
    return r_eff, m_l, v_l0, m_r, v_r, d_day, vd_day


def _work_bounds(prof: DemandProfile, sel: _Selection, dist: np.ndarray, objective: str, integer: bool,
                 ready: bool, l_eff, lsd_eff, r_eff, d_day, vd_day, q):
    """:func:`stockopt.inventory._bounds.integer_bounds` on the items as the integer methods would
    size them; empirical items by their largest whole-path sum.  ``integer`` (``optimize_service``):
    an item past the bounds is refused, naming it."""
    path_max = None
    if prof.kind == "samples" and (dist == DIST_EMPIRICAL).any():  # a path's total bounds its sub-sums
        totals = np.add.reduceat(prof.vals, prof.ip[:-1]) if prof.vals.size else np.zeros(len(prof.ip) - 1)
        path_max = np.zeros(len(prof.ids))
        np.maximum.at(path_max, prof.path_item, np.where(np.diff(prof.ip) > 0, totals, 0.0))
    new, to_cont, too_large = integer_bounds(dist, sel.pol, cost=objective == "cost", integer=integer,
                                             d_day=d_day, vd_day=vd_day, l_days=l_eff, l_sd=lsd_eff,
                                             r_days=r_eff, q=q, ready=ready, path_max=path_max,
                                             compound=sel.compound)
    if integer and to_cont.any():
        row = int(np.flatnonzero(to_cont)[0])
        raise_error(ParameterError, "an item is past the work bound of the integer level curves",
                    table="demand", series=prof.ids_str[row].as_py(),
                    expected=f"at most {INTEGER_MAX_POINTS} pmf entries per item (docs/limits.md); size "
                    "such items with inventory_policy, which sizes them on the continuous law",
                    got=f"mean demand {d_day[row]:g} a day over {l_eff[row] + r_eff[row]:g} days")
    return new, to_cont, too_large


@dataclass
class _ShortShelf:
    """Newsvendor items whose shelf life ``P`` is shorter than the review period ``R`` (days)."""

    short: np.ndarray
    share: np.ndarray  # share of the cycle's demand that falls in the P days with stock
    p_none: np.ndarray  # probability of no demand in the R - P days without stock
    p_day0: np.ndarray  # probability of no demand on one such day
    period: np.ndarray
    r1: np.ndarray


def _short_shelf_life_outputs(out: dict[str, np.ndarray], c: _ShortShelf, metric: np.ndarray,
                              service_level: np.ndarray) -> None:
    """Service over the whole cycle of the short-shelf-life items; unreachable when R - P days are lost."""
    short = c.short
    out["cycle"] = np.where(short, out["cycle"] * c.p_none, out["cycle"])
    out["fill"] = np.where(short, out["fill"] * c.share, out["fill"])
    out["ready"] = np.where(short, (out["ready"] * c.period + c.p_day0 * (c.r1 - c.period)) / c.r1,
                            out["ready"])
    out["oh"] = np.where(short, out["oh"] * c.period / c.r1, out["oh"])
    got = np.where(metric == 1, out["fill"], out["cycle"])
    out["status"][short & (got < service_level - 1e-9)] = 1  # POLICY_UNREACHABLE


def _policy_table(prof: DemandProfile, it: dict[str, np.ndarray], sel: _Selection, a: ItemArrays,
                  out: dict[str, np.ndarray], id_col: str = ID) -> pa.Table:
    """The output table, checked: no number a buyer reads is NaN, infinite or out of range (its row
    says ``out_of_range`` and carries nulls instead, :func:`stockopt.inventory._schema.guard_rows`);
    the work bounds' statuses (``continuous``, ``moment_matched``, ``too_large``) are set here."""
    pol, news = sel.pol, a.news
    n = a.n
    to_cont = a.continuous if a.continuous is not None else np.zeros(n, dtype=bool)
    too_large = a.too_large if a.too_large is not None else np.zeros(n, dtype=bool)
    too_large = too_large | out.get("too_large", np.zeros(n, dtype=bool))  # renewal grids past the bound
    moment = out.get("moment", np.zeros(n, dtype=bool))
    lsd = it["lead_time_std"]
    shelf = it["shelf_life_days"]
    q_out = np.where((pol == POL_SQ) | (pol == POL_SS), a.q, np.where(news, out["S"], a.m_r))
    m_prot = a.m_l + a.m_r
    # report the spread of the law actually used: Poisson (and a negative binomial with variance
    # below its mean, sized as Poisson) has variance = mean, whatever the demand table said
    pois = (a.dist == DIST_POISSON) | (a.dist == DIST_NEGBIN)
    v_lt_news = sel.v_lt0 + sel.d_rate ** 2 * lsd ** 2
    v_lt_news = np.where(pois, np.maximum(v_lt_news, sel.m_lt + sel.d_rate ** 2 * lsd ** 2), v_lt_news)
    v_l_rep = np.where(pois, np.maximum(a.v_l, a.m_l + a.d_day ** 2 * a.lsd_eff ** 2), a.v_l)
    v_r_rep = np.where(pois, np.maximum(a.v_r, a.m_r), a.v_r)
    cols = {
        id_col: prof.ids,
        "policy": _labels(pol, _POL_STR),
        "distribution": _labels(np.where(too_large, sel.dist, a.dist), _DIST_STR),
        "safety_stock": np.maximum(out["ss"], 0.0),
        "reorder_point": out["s"],
        "order_up_to": out["S"],
        "order_quantity": q_out,
        "lead_time_demand_mean": np.where(news, sel.m_lt, a.m_l),
        "lead_time_demand_std": np.sqrt(np.where(news, v_lt_news, v_l_rep)),
        "expected_cycle_service": out["cycle"],
        "expected_fill_rate": out["fill"],
        "expected_ready_rate": pa.array(out["ready"], from_pandas=True),  # NaN -> null (discrete demand)
        "expected_backorders": out["bo"],
        "expected_on_hand": out["oh"],
        "holding_cost": out["oh"] * it["unit_cost"] * it["holding_rate"],
        "protection_demand_mean": m_prot,
        "protection_demand_std": np.sqrt(v_l_rep + v_r_rep),
        "lead_time": it["lead_time"],
        "lead_time_std": lsd,
        "review_period": np.where(news, sel.r1, a.r_eff),  # newsvendor: orders every R days, sized over P
        "unit_cost": it["unit_cost"],
        "holding_rate": it["holding_rate"],
        "shelf_life_days": pa.array(shelf, mask=~np.isfinite(shelf)),  # null = not perishable
        "status": _labels(out["status"], _STATUS_STR),
    }
    st = out["status"].astype(np.int8)  # the work bounds' statuses; an unreachable target is said first
    st[(to_cont | moment) & (st != POLICY_UNREACHABLE)] = POLICY_MOMENT
    st[to_cont & (st != POLICY_UNREACHABLE)] = POLICY_CONTINUOUS
    st[too_large] = POLICY_TOO_LARGE
    cols = guard_rows(cols, st, out_of_range=POLICY_OUT_OF_RANGE, no_numbers=too_large,
                      ready_asked=a.ready_rate)
    cols["status"] = _labels(st, _STATUS_STR)
    flagged = (st == POLICY_OUT_OF_RANGE) | too_large
    if flagged.any():
        log.warning("%d item(s) got no numbers (status out_of_range / too_large; first: %r)",
                    int(flagged.sum()), prof.ids_str[int(np.flatnonzero(flagged)[0])].as_py())
    unreachable = st == POLICY_UNREACHABLE
    if unreachable.any():
        log.warning("%d item(s) cannot reach their service target (first: %r)", int(unreachable.sum()),
                    prof.ids_str[int(np.flatnonzero(unreachable)[0])].as_py())
    return pa.table(cols)
