"""``project_kpis``: fill rate, stockout days, stock value and turns of a replenishment plan, simulated.

The simulation (:func:`stockopt._kernels.inventory.project.project_items`) starts from today's net
stock, with the open orders and the plan's order arriving on their days, draws daily demand with
the inventory simulator's distributions and random streams, and after the plan's cover keeps
ordering up to the plan's level on the supplier's order days.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._ids import id_hashes
from stockopt._kernels.codes import DIST_COMPOUND, DIST_EMPIRICAL, DIST_NEGBIN
from stockopt._kernels.inventory.project import project_items
from stockopt._params import Integer, validate_params
from stockopt.errors import ParameterError, raise_error

__all__ = ["project_kpis", "ProjectedKPIs"]


@dataclass(frozen=True)
class ProjectedKPIs:
    """The result of :func:`project_kpis`: ``items`` and ``suppliers`` (Arrow tables), ``horizon_days``."""

    items: pa.Table
    suppliers: pa.Table
    horizon_days: int


@validate_params({"horizon_days": [None, Integer(1)], "n_paths": Integer(1), "seed": Integer(0)})
def project_kpis(plan: Any, *, horizon_days: int | None = None, n_paths: int = 200,
                 seed: int = 0) -> ProjectedKPIs:
    """Project the result of a replenishment plan by Monte-Carlo simulation, per item and per supplier.

    Parameters
    ----------
    plan : ReplenishmentPlan
        The result of :func:`stockopt.replenish_plan`.
    horizon_days : int, optional
        Days simulated from ``as_of`` (default: each item until its next order arrives, the period
        this plan decides; longer horizons keep ordering up to the plan's level on the supplier's
        order days).
    n_paths : int
        Demand paths per item.
    seed : int
        Seed; each item's stream is seeded from ``seed`` and a stable hash of its id
        (:func:`stockopt._ids.fnv1a_64`), so an item's KPIs do not depend on the other items of the
        plan, their order or the partitioning of a nightly run.

    Returns
    -------
    ProjectedKPIs
        ``items``: ``unique_id, supplier_id, days, demand, fill_rate, stockout_days`` (expected days
        with unmet demand), ``average_on_hand`` (units), ``average_stock_value`` (money),
        ``turns`` (units sold per year / average on hand), ``end_backorders`` (units), per item.
        ``suppliers``: the same summed over each supplier's items (fill rate and turns as ratios of
        the sums, stock value summed, stockout days as item-days).

    Examples
    --------
    >>> import pyarrow as pa
    >>> import stockopt as so
    >>> demand = pa.table({"unique_id": ["A"], "demand_mean": [10.0], "demand_std": [3.0]})
    >>> items = pa.table({"unique_id": ["A"], "supplier_id": ["S"], "lead_time": [2.0],
    ...                   "review_period": [7.0]})
    >>> pol = so.inventory_policy(demand, items, policy="RS", distribution="normal")
    >>> res = so.replenish_plan(pa.table({"unique_id": ["A"], "on_hand": [40.0]}), pol, items,
    ...                         pa.table({"supplier_id": ["S"], "order_days": [[0]]}), as_of="2026-11-23")
    >>> kpi = so.project_kpis(res, n_paths=500, seed=1)
    >>> kpi.items["days"][0].as_py(), 0.9 < kpi.items["fill_rate"][0].as_py() <= 1.0
    (9, True)
    """
    if getattr(plan, "_state", None) is None:
        raise_error(ParameterError, "bad argument", table="project_kpis", parameter="plan",
                    expected="the ReplenishmentPlan returned by replenish_plan", got=type(plan).__name__)
    tb, sz, pl = plan._state
    n = sz.n
    day0 = int(sz.extra["day0"])
    own = (sz.next_arrival - day0).astype(np.int64)
    horizon = np.full(n, int(horizon_days), np.int64) if horizon_days is not None else np.maximum(own, 1)
    h_max = int(horizon.max(initial=1))
    dm = np.zeros((n, h_max))
    dv = np.zeros((n, h_max))
    daily = sz.extra["daily"]
    for d in range(h_max):  # a loop over days, not items
        m, v = daily(d)
        dm[:, d], dv[:, d] = m, v
    # arrivals: open orders (all of them, on their days) and the plan's order
    oo_item, oo_day, oo_qty = tb.on_order_item, tb.on_order_day - day0, tb.on_order_qty
    mine = np.flatnonzero(pl.k > 0)
    items = np.concatenate((oo_item, mine))
    days = np.concatenate((oo_day, sz.arrival[mine] - day0)).astype(np.int64)
    qty = np.concatenate((oo_qty, pl.k[mine] * sz.pk[mine]))
    order = np.lexsort((days, items))
    items, days, qty = items[order], days[order], qty[order]
    ap = np.concatenate(([0], np.cumsum(np.bincount(items, minlength=n)))).astype(np.int64)
    mask = tb.mask[np.maximum(tb.item_sup, 0)].astype(np.bool_)
    first_review = (sz.extra["next_order_day"] - day0).astype(np.int64)
    # sample-path (empirical) and history (compound) laws draw negative-binomial demand with the day's
    # mean and variance, as simulate_inventory does
    code = tb.pol["distribution"]
    dist = np.where((code == DIST_EMPIRICAL) | (code == DIST_COMPOUND), DIST_NEGBIN, code).astype(np.int8)
    level = np.where(sz.triggered | (sz.level > 0), sz.level, 0.0)
    net0 = sz.on_hand - sz.backorders - sz.reserved
    out = np.zeros((n, 6))
    project_items(
        net0,
        ap,
        days,
        qty,
        horizon,
        first_review,
        mask,
        (day0 + 3) % 7,
        sz.lead,
        level,
        sz.pk,
        dist,
        dm,
        dv,
        int(n_paths),
        int(seed),
        id_hashes(tb.ids),
        out,
    )
    cost = tb.item["unit_cost"]
    demand, served = out[:, 0], out[:, 1]
    fill = np.divide(served, demand, out=np.ones(n), where=demand > 0)
    years = horizon / 365.0
    turns = np.divide(served / years, out[:, 3], out=np.where(served > 0, np.inf, 0.0), where=out[:, 3] > 0)
    sup_ids = tb.item_sup_ids.cast(pa.string())
    items_tbl = pa.table(
        {
            tb.id_col: tb.ids.cast(pa.string()),
            "supplier_id": sup_ids,
            "days": horizon,
            "demand": demand,
            "fill_rate": fill,
            "stockout_days": out[:, 2],
            "average_on_hand": out[:, 3],
            "average_stock_value": out[:, 3] * cost,
            "turns": turns,
            "end_backorders": out[:, 4],
        }
    )
    sj = np.maximum(tb.item_sup, 0)
    n_sup = len(tb.sup_ids)
    known = tb.item_sup >= 0

    def total(x: np.ndarray) -> np.ndarray:
        return np.bincount(sj[known], weights=x[known], minlength=n_sup)

    s_dem, s_srv = total(demand), total(served)
    s_val = total(out[:, 3] * cost)
    sold_value_year = total(served * cost / years)
    sup_tbl = pa.table(
        {
            "supplier_id": tb.sup_ids.cast(pa.string()),
            "items": np.bincount(sj[known], minlength=n_sup),
            "demand": s_dem,
            "fill_rate": np.divide(s_srv, s_dem, out=np.ones(n_sup), where=s_dem > 0),
            "stockout_item_days": total(out[:, 2]),
            "average_stock_value": s_val,
            "turns": np.divide(sold_value_year, s_val, out=np.zeros(n_sup), where=s_val > 0),
        }
    )
    return ProjectedKPIs(items=items_tbl, suppliers=sup_tbl, horizon_days=h_max)
