"""``optimize_service`` and ``service_frontier``: service bought per unit of money across all items.

A uniform target (95 % on every item) spends as much safety stock on a part that costs 5,000 and
sells twice a year as on a 2-euro part that sells every day.  What a company buys is aggregate
service per unit of money: the share of all demanded units served from stock, for the least stock
value (or the most of it for a stock budget).  This is the multi-item problem of the spare-parts
literature (Sherbrooke 2004, *Optimal Inventory Modeling of Systems*, 2nd ed., ch. 2-3; Muckstadt
2005, ch. 2; Silver, Pyke & Thomas 2017, ch. 7 "system-wide service"), solved by marginal analysis:

1. for every item its own curve over integer reorder levels: expected fill rate and average stock
   on hand, exact on the item's integer demand pmfs (Poisson, negative binomial, empirical,
   compound from its history, or normal / gamma put on the unit grid) with its policy and order
   quantity fixed (:func:`stockopt._kernels.inventory.curves.level_curves`);
2. each curve reduced to its upper concave envelope in (stock value, expected units filled);
3. every step from one envelope vertex to the next, of every item, sorted once by its ratio of
   units filled gained to money added; the running sums of that order are the efficient frontier
   (each point is optimal for its own stock value: the Lagrangian relaxation of the budget, Fox
   1966), cut at the target fill or the budget.  A budget left over by the cut is spent on the
   next steps that still fit, in the same order.

No Python loop runs per item or per step: curves and envelopes are numba kernels over CSR arrays,
the allocation is one sort and one cumulative sum.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._exec import for_item_blocks as _run
from stockopt._exec import item_blocks as _blocks
from stockopt._kernels.codes import DIST_COMPOUND, DIST_EMPIRICAL, POL_NEWS, POL_RS
from stockopt._kernels.inventory.curves import fill_in, level_curves, upper_hull
from stockopt._params import Boolean, Instance, Integer, Options, Real, validate_params
from stockopt._rules import ColumnRule
from stockopt.errors import ParameterError, raise_error
from stockopt.inventory._discrete import discrete_chunks, integer_order_quantity, item_pmfs
from stockopt.inventory._sizing import ItemArrays, discrete_policy_codes, size_items
from stockopt.inventory._validate import ID, align, as_table, check_ids, column
from stockopt.inventory.policy import DIST_NAMES, POLICY_NAMES, _policy_table, prepare_items

__all__ = ["optimize_service", "service_frontier"]

log = logging.getLogger(__name__)


class _Curves:
    """Per-item level curves in CSR form (``ip``), with each point's stock value and filled units."""

    def __init__(self, ip: np.ndarray, fill: np.ndarray, on_hand: np.ndarray):
        self.ip = ip
        self.fill = fill
        self.on_hand = on_hand
        self.item = np.repeat(np.arange(ip.shape[0] - 1), np.diff(ip))


def _curves(a: ItemArrays) -> _Curves:
    """Fill rate and average on hand of every item at each of its integer levels (module docstring)."""
    n = a.n
    pol = discrete_policy_codes(a)
    qint = integer_order_quantity(a.q)
    rd = np.maximum(a.r_eff, 1.0)
    lens = np.zeros(n, np.int64)
    pieces = []
    kinds = (("parametric", np.flatnonzero(a.dist < DIST_EMPIRICAL)),
             ("empirical", np.flatnonzero(a.dist == DIST_EMPIRICAL)),
             ("compound", np.flatnonzero(a.dist == DIST_COMPOUND)))
    for kind, sub in kinds:
        if not sub.size:
            continue
        for chunk in discrete_chunks(a, sub, kind, per_item=3):
            vl, il, vr, ir, vt, itp = item_pmfs(a, chunk, kind)
            nlev = np.diff(itp) + 1  # levels j = 0..size_t: fill is 1 at the last one
            lv = np.concatenate(([0], np.cumsum(nlev))).astype(np.int64)
            fill = np.empty(int(lv[-1]))
            oh = np.empty(int(lv[-1]))
            bo = np.empty(int(lv[-1]))
            p_c, q_c, r_c = pol[chunk], qint[chunk], rd[chunk]

            def run(lo: int, hi: int) -> None:
                level_curves(p_c[lo:hi], q_c[lo:hi], bool(a.lost_sales), r_c[lo:hi], vl, il[lo:hi + 1], vr,
                             ir[lo:hi + 1], vt, itp[lo:hi + 1], lv[lo:hi + 1], fill, oh, bo)

            _run(_blocks(chunk.size, a.n_jobs, min_items=2_000), run)
            pieces.append((chunk, nlev, fill, oh))
            lens[chunk] = nlev
    ip = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    fill_all = np.empty(int(ip[-1]))
    oh_all = np.empty(int(ip[-1]))
    for chunk, nlev, fill, oh in pieces:
        dst = np.repeat(ip[chunk], nlev) + (np.arange(fill.size) - np.repeat(np.cumsum(nlev) - nlev, nlev))
        fill_all[dst] = fill
        oh_all[dst] = oh
    return _Curves(ip, fill_all, oh_all)


class _Frontier:
    """Envelope steps of every item in the greedy's order, with the running totals."""

    def __init__(self, a: ItemArrays, c: _Curves, unit_cost: np.ndarray, weight: np.ndarray):
        rate = a.m_r / np.maximum(a.r_eff, 1.0)  # mean demand per day (units)
        self.weighted_rate = weight * rate
        self.total = float(self.weighted_rate.sum())
        cost = unit_cost[c.item] * c.on_hand
        gain = self.weighted_rate[c.item] * c.fill
        keep = np.empty(cost.size, np.int8)
        upper_hull(cost, gain, c.ip, keep)
        vx = np.flatnonzero(keep)
        vitem = c.item[vx]
        first = np.r_[True, vitem[1:] != vitem[:-1]]
        self.base_vertex = vx[first]  # level index of each item's cheapest point (level 0)
        self.base_cost = float(cost[self.base_vertex].sum())
        self.base_gain = float(gain[self.base_vertex].sum())
        step = ~first
        self.to = vx[step]  # the vertex each step reaches
        self.item = vitem[step]
        prev = vx[np.flatnonzero(step) - 1]
        self.dcost = cost[self.to] - cost[prev]
        dgain = gain[self.to] - gain[prev]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.dcost > 0, dgain / self.dcost, np.inf)
        order = np.lexsort((np.arange(self.to.size), -ratio))
        self.to, self.item = self.to[order], self.item[order]
        self.dcost, dgain = self.dcost[order], dgain[order]
        self.cum_cost = self.base_cost + np.cumsum(self.dcost)
        self.cum_gain = self.base_gain + np.cumsum(dgain)
        self.level_start = c.ip[:-1]

    def fill_at(self, k: int) -> float:
        """Aggregate fill after the first ``k`` steps."""
        g = self.base_gain if k == 0 else self.cum_gain[k - 1]
        return g / self.total if self.total > 0 else 1.0

    def levels(self, taken: np.ndarray) -> np.ndarray:
        """Level index per item after taking the steps ``taken`` (boolean over the sorted steps)."""
        lvl = self.base_vertex.copy()
        np.maximum.at(lvl, self.item[taken], self.to[taken])
        return lvl - self.level_start


def _weights(items: Any, a: ItemArrays, prof, it: dict[str, np.ndarray], weight: str,
             id_col: str) -> np.ndarray:
    if weight == "units":
        return np.ones(a.n)
    if weight == "value":
        return it["unit_cost"].copy()
    tbl = as_table(items, "items")
    ids = check_ids(tbl, "items", id_col)
    rule = ColumnRule("number", required=True, lo=0.0,
                      accepted=f"a finite weight >= 0 per item in column {weight!r} (e.g. criticality)")
    w = column(tbl, weight, "items", ids, rule)
    return w[align(prof.ids_str, ids, table="items", needed_by=prof.label)]


def _setup(demand, items, policy, distribution, weight, lost_sales, model, period_days, history, n_jobs,
           id_col, time_col):
    prof, it, sel, a, _ = prepare_items(
        demand, items, policy, distribution, lost_sales=lost_sales, model=model, period_days=period_days,
        objective="service", ready_rate=False, lead_time_model="single", n_jobs=n_jobs, history=history,
        integer=True, id_col=id_col, time_col=time_col)
    if (sel.pol == POL_NEWS).any():
        row = int(np.flatnonzero(sel.pol == POL_NEWS)[0])
        raise_error(ParameterError, "optimize_service does not size perishable (newsvendor) items",
                    table="items", column="shelf_life_days", series=prof.ids_str[row].as_py(), row=row,
                    expected="items without a shelf life, or policy='RS' / 'sQ' / 'sS'")
    w = _weights(items, a, prof, it, weight, id_col)
    fr = _Frontier(a, _curves(a), it["unit_cost"], w)
    return prof, it, sel, a, fr


#: the rules of the arguments shared by optimize_service and service_frontier
_SHARED_PARAMS = {
    "weight": Instance(str),
    "policy": Options("auto", *POLICY_NAMES),
    "distribution": Options("auto", *DIST_NAMES),
    "lost_sales": Boolean(),
    "model": [None, Instance(str)],
    "period_days": [None, Real(0, lo_open=True)],
    "n_jobs": Integer(1),
    "id_col": Instance(str),
    "time_col": Instance(str),
}


@validate_params({"target_fill": [None, Real(0, 1, lo_open=True)], "budget": [None, Real(0)],
                  **_SHARED_PARAMS})
def optimize_service(
    demand: Any,
    items: Any,
    *,
    target_fill: float | None = None,
    budget: float | None = None,
    weight: str = "units",
    policy: str = "auto",
    distribution: str = "auto",
    history: Any = None,
    lost_sales: bool = False,
    model: str | None = None,
    period_days: float | None = None,
    n_jobs: int = 1,
    id_col: str = ID,
    time_col: str = "ds",
) -> pa.Table:
    """Levels across all items: least stock value for an aggregate fill rate, or most fill for a budget.

    Parameters
    ----------
    demand, items
        As for :func:`~stockopt.inventory.inventory_policy` (demand summary, forecast or sample
        paths; items with ``unique_id, lead_time`` (days), ``unit_cost`` ...).  The items'
        ``service_level`` / ``service_metric`` are not read: the service is allocated here.
    target_fill : float, optional
        Aggregate fill rate to reach, in (0, 1]: the share of all demanded units served from
        stock, ``sum_i w_i d_i beta_i / sum_i w_i d_i`` (``d_i`` mean demand per day,
        ``beta_i`` the item's fill rate, ``w_i`` its weight).  Exactly one of ``target_fill``
        and ``budget``.
    budget : float, optional
        Most average stock value to hold (money: ``sum_i unit_cost_i * expected on hand_i``,
        cycle stock included).
    weight : str
        ``"units"`` (every unit alike), ``"value"`` (units weighted by unit cost) or the name of
        an items column holding a weight >= 0 per item (e.g. criticality).
    policy, distribution, history, lost_sales, model, period_days, n_jobs, id_col, time_col
        As for :func:`~stockopt.inventory.inventory_policy`.  With ``history=`` (the sales),
        intermittent items use the compound law of their own history.  Every item is evaluated
        on integer pmfs (normal and gamma put on the unit grid); a random lead time enters as
        one lead-time mixture (conservative when orders cross).  Perishable items are refused.

    Returns
    -------
    pyarrow.Table
        The policy table of :func:`~stockopt.inventory.inventory_policy` (same columns), each
        item at its chosen level; its schema metadata holds the expected ``aggregate_fill`` and
        ``stock_value``.

    Notes
    -----
    Sherbrooke (2004), *Optimal Inventory Modeling of Systems*, ch. 2-3 (marginal analysis on
    convexified item curves); Fox (1966), "Discrete optimization via marginal analysis",
    Management Science 13(3); Muckstadt (2005), *Analysis and Algorithms for Service Parts
    Supply Chains*, ch. 2; Silver, Pyke & Thomas (2017), ch. 7.  See ``docs/service.md``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from stockopt.inventory import optimize_service
    >>> demand = pa.table({"unique_id": ["cheap", "dear"], "demand_mean": [0.5, 0.5],
    ...                    "demand_std": [0.8, 0.8]})
    >>> items = pa.table({"unique_id": ["cheap", "dear"], "lead_time": [20.0, 20.0],
    ...                   "review_period": [7.0, 7.0], "unit_cost": [1.0, 100.0]})
    >>> pol = optimize_service(demand, items, target_fill=0.9)
    >>> s = pol["order_up_to"].to_pylist()
    >>> s[0] > s[1]  # the cheap part gets more of the service
    True
    >>> round(float(pol.schema.metadata[b"aggregate_fill"]), 2) >= 0.9
    True
    """
    if (target_fill is None) == (budget is None):
        raise_error(ParameterError, "give exactly one of target_fill and budget", table="optimize_service",
                    parameter="target_fill", expected="target_fill=0.95 or budget=<money>",
                    got=(target_fill, budget))
    prof, it, sel, a, fr = _setup(demand, items, policy, distribution, weight, lost_sales, model, period_days,
                                  history, n_jobs, id_col, time_col)
    taken = np.zeros(fr.to.size, dtype=bool)
    if target_fill is not None:
        need = float(target_fill) * fr.total
        k = 0
        if fr.base_gain < need:
            k = int(np.searchsorted(fr.cum_gain, need * (1 - 1e-12), side="left")) + 1
        if k > fr.to.size:
            log.warning("aggregate fill %.4f is out of reach: every item at its highest level (%.4f)",
                        target_fill, fr.fill_at(fr.to.size))
            k = fr.to.size
        taken[:k] = True
    else:
        k = int(np.searchsorted(fr.cum_cost, budget * (1 + 1e-12), side="right"))
        taken[:k] = True
        if fr.base_cost > budget:
            log.warning("budget %.2f is below the stock value of the lowest levels (%.2f): every item "
                        "stays at its lowest level", budget, fr.base_cost)
        else:
            left = budget - (fr.cum_cost[k - 1] if k else fr.base_cost)
            extra = np.zeros(fr.to.size, np.int8)
            fill_in(fr.item, fr.dcost, k, left, extra, np.zeros(a.n, np.int8))
            taken |= extra.astype(bool)
    level = fr.levels(taken)
    a.fixed_s = level - (discrete_policy_codes(a) == POL_RS)  # the kernel's reorder level (RS: S - 1)
    out = size_items(a)
    tbl = _policy_table(prof, it, sel, a, out, id_col)
    fill = float((fr.weighted_rate * out["fill"]).sum() / fr.total) if fr.total > 0 else 1.0
    value = float((it["unit_cost"] * out["oh"]).sum())
    return tbl.replace_schema_metadata({b"aggregate_fill": repr(fill).encode(),
                                        b"stock_value": repr(value).encode()})


@validate_params(_SHARED_PARAMS)
def service_frontier(
    demand: Any,
    items: Any,
    *,
    weight: str = "units",
    policy: str = "auto",
    distribution: str = "auto",
    history: Any = None,
    lost_sales: bool = False,
    model: str | None = None,
    period_days: float | None = None,
    n_jobs: int = 1,
    id_col: str = ID,
    time_col: str = "ds",
) -> pa.Table:
    """Efficient frontier of stock value against aggregate fill rate (one row per marginal step).

    Same inputs as :func:`optimize_service`.  Row 0 has every item at its lowest level; each
    further row raises one item to its next envelope vertex, in the order of the most units
    filled per unit of money, so every row is the least stock value for its fill (on the items'
    convexified curves).  A planner plots ``stock_value`` against ``aggregate_fill`` and picks a
    point; ``optimize_service(target_fill=...)`` or ``(budget=...)`` returns its policies.

    Returns
    -------
    pyarrow.Table
        ``step`` (0, 1, ...), ``stock_value`` (money), ``aggregate_fill`` (expected),
        ``unique_id`` (``id_col``; the item raised at that step; null in row 0), ``reorder_point`` (its new
        level: order-up-to for RS, reorder point otherwise; null in row 0).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from stockopt.inventory import service_frontier
    >>> demand = pa.table({"unique_id": ["a", "b"], "demand_mean": [1.0, 0.2], "demand_std": [1.0, 0.5]})
    >>> items = pa.table({"unique_id": ["a", "b"], "lead_time": [10.0, 10.0], "unit_cost": [2.0, 30.0]})
    >>> fr = service_frontier(demand, items)
    >>> v, f = fr["stock_value"].to_numpy(), fr["aggregate_fill"].to_numpy()
    >>> bool((v[1:] >= v[:-1]).all() and (f[1:] >= f[:-1]).all())
    True
    """
    prof, it, sel, a, fr = _setup(demand, items, policy, distribution, weight, lost_sales, model, period_days,
                                  history, n_jobs, id_col, time_col)
    total = fr.total if fr.total > 0 else 1.0
    value = np.r_[fr.base_cost, fr.cum_cost]
    fill = np.r_[fr.base_gain, fr.cum_gain] / total
    reorder = (fr.to - fr.level_start[fr.item]).astype(np.float64)  # RS: S = level; sQ, sS: s = level
    return pa.table({
        "step": np.arange(value.size, dtype=np.int64),
        "stock_value": value,
        "aggregate_fill": np.minimum(fill, 1.0),
        id_col: _ids_with_null(prof.ids, fr.item),
        "reorder_point": pa.array(np.r_[0.0, reorder], mask=np.r_[True, np.zeros(reorder.size, bool)]),
    })


def _ids_with_null(ids: pa.Array, rows: np.ndarray) -> pa.Array:
    """Ids of ``rows`` after a leading null."""
    taken = ids.take(pa.array(rows))
    return pa.concat_arrays([pa.nulls(1, taken.type), taken]) if len(taken) else pa.nulls(1, ids.type)
