"""``simulate_inventory``: Monte-Carlo check of inventory policies, vectorised over items."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._arrow import require_columns
from stockopt._exec import item_blocks, map_items
from stockopt._kernels.codes import DIST_NEGBIN
from stockopt._kernels.inventory.sim import simulate_items_shelf
from stockopt._params import Boolean, Instance, Integer, Real, validate_params
from stockopt._rules import DEMAND, POLICY, SAMPLE_VALUE, ColumnRule, raise_first, text_problems
from stockopt.data import take_series
from stockopt.errors import MissingColumnError, StockoptWarning, raise_error
from stockopt.inventory._validate import (
    ID,
    align,
    as_table,
    check_ids,
    check_unique,
    column,
    require_nonempty,
)
from stockopt.inventory.policy import DIST_NAMES, POLICY_NAMES

__all__ = ["simulate_inventory"]

#: fewest items worth a thread of their own (each item is simulated over thousands of periods)
_MIN_ITEMS_PER_BLOCK = 32


def _codes(tbl: pa.Table, name: str, mapping: dict[str, int], ids: pa.Array) -> np.ndarray:
    """Codes of a text column of the policy table (every value must be one of ``mapping``)."""
    rule = ColumnRule("text", f"one of {list(mapping)}", required=True, choices=tuple(mapping))
    idx, found = text_problems(tbl, name, rule, table="policy")
    raise_first(found, rule, table="policy", column=name, series_of=lambda row: ids[row].as_py(),
                got_of=lambda row: tbl.column(name)[row].as_py())
    return np.asarray(list(mapping.values()), dtype=np.int8)[idx]


@validate_params({"n_periods": Integer(1), "seed": Integer(0), "lost_sales": Boolean(),
                  "warmup": [None, Integer(0)], "period_days": Real(0, lo_open=True), "n_jobs": Integer(1),
                  "id_col": Instance(str), "time_col": Instance(str), "target_col": Instance(str)})
def simulate_inventory(
    policy: Any,
    demand: Any,
    *,
    n_periods: int = 3650,
    seed: int = 0,
    lost_sales: bool = False,
    warmup: int | None = None,
    period_days: float = 1.0,
    n_jobs: int = 1,
    id_col: str = ID,
    time_col: str = "ds",
    target_col: str = "y",
) -> pa.Table:
    """Simulate the policies of :func:`~stockopt.inventory.inventory_policy` and report achieved KPIs.

    Parameters
    ----------
    policy : Arrow-compatible table
        The output of ``inventory_policy`` (columns ``unique_id, policy, distribution,
        reorder_point, order_up_to, order_quantity, lead_time, lead_time_std, review_period,
        unit_cost, holding_rate``; lead time and review period in days; optional
        ``shelf_life_days``: newsvendor stock perishes that many days after its delivery, rounded
        down to whole periods, or at the next delivery if that comes first).
    demand : Arrow-compatible table
        Either a demand summary ``unique_id, demand_mean, demand_std`` (units per day), from which
        ``n_periods`` periods are drawn with each item's ``distribution`` (empirical items are drawn
        as negative binomial with the same mean and variance); or a demand history
        ``unique_id, ds, y`` (units per period, one row per period) that is replayed as is, e.g.
        held-out real demand (then ``n_periods`` is each series' length).  Both tables are keyed
        by ``id_col``.
    n_periods : int
        Periods to simulate per item with random demand (``period_days`` days each).
    seed : int
        Seed; each item has its own stream derived from ``seed`` and its position, so the result
        does not depend on ``n_jobs``.
    lost_sales : bool
        Unmet demand is lost (``True``) or backordered (``False``).
    warmup : int, optional
        Periods discarded before KPIs are collected (default: ``max(100, 10 (L + R))`` periods for
        random demand, capped at half the run; 0 for replayed demand).
    period_days : float
        Days per simulated period (7 to replay weekly demand); lead times and review periods are
        converted to whole periods.
    n_jobs : int
        Threads.
    id_col, time_col, target_col : str
        Names of the id column (policy and demand tables) and of the time and demand columns of a
        replayed demand history.

    Returns
    -------
    pyarrow.Table
        Per item: ``unique_id, cycle_service`` (share of replenishment cycles without a stockout just
        before the delivery), ``fill_rate`` (share of demand served from stock), ``ready_rate``,
        ``stockout_days`` (periods with unmet demand times ``period_days``), ``average_on_hand``
        (end of period, units),
        ``average_backorders``, ``inventory_turns`` (units sold per year / average on hand),
        ``holding_cost`` (money per year), ``lost_sales`` (units), ``expired`` (units), ``orders``,
        ``cycles``, ``demand`` (units over the measured periods), ``periods``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from stockopt.inventory import inventory_policy, simulate_inventory
    >>> demand = pa.table({"unique_id": ["A"], "demand_mean": [20.0], "demand_std": [5.0]})
    >>> items = pa.table({"unique_id": ["A"], "lead_time": [3.0], "review_period": [7.0]})
    >>> pol = inventory_policy(demand, items, policy="RS", distribution="normal")
    >>> kpi = simulate_inventory(pol, demand, n_periods=20_000, seed=1)
    >>> abs(kpi["cycle_service"][0].as_py() - 0.95) < 0.02
    True
    """
    pt = as_table(policy, "policy")
    require_nonempty(pt, "policy")
    ids = check_ids(pt, "policy", id_col)
    check_unique(ids, "policy", id_col)
    needed = ["policy", "distribution", *(k for k, r in POLICY.items() if r.required)]
    require_columns(pt, {name: name for name in needed}, table="policy")
    pol = _codes(pt, "policy", POLICY_NAMES, ids)
    dist = _codes(pt, "distribution", DIST_NAMES, ids)
    # empirical and compound items draw negative-binomial demand from the demand table
    dist = np.where(dist >= DIST_NAMES["empirical"], DIST_NEGBIN, dist).astype(np.int8)
    s = column(pt, "reorder_point", "policy", ids, POLICY["reorder_point"])
    big_s = column(pt, "order_up_to", "policy", ids, POLICY["order_up_to"])
    q = column(pt, "order_quantity", "policy", ids, POLICY["order_quantity"])
    lt = column(pt, "lead_time", "policy", ids, POLICY["lead_time"]) / period_days
    lsd = column(pt, "lead_time_std", "policy", ids, POLICY["lead_time_std"]) / period_days
    rp = column(pt, "review_period", "policy", ids, POLICY["review_period"]) / period_days
    n_continuous = int(np.count_nonzero(rp == 0))
    if n_continuous:
        warnings.warn(f"simulate_inventory: {n_continuous} item(s) were sized for continuous review "
                      "(review_period = 0); the simulation reviews once a period, so their service will "
                      "fall short of the expected values (docs/inventory.md: continuous review is not a "
                      "nightly batch; size them with review_period = 1)", StockoptWarning, stacklevel=2)
    rp = np.maximum(np.rint(rp), 1).astype(np.int64)
    # newsvendor stock perishes this many whole periods after its delivery (0 = at the next delivery)
    shelf = column(pt, "shelf_life_days", "policy", ids, POLICY["shelf_life_days"]) / period_days
    shelf = np.where(np.isfinite(shelf), np.maximum(np.floor(shelf + 1e-9), 1.0), 0.0).astype(np.int64)
    cost = column(pt, "unit_cost", "policy", ids, POLICY["unit_cost"])
    rate = column(pt, "holding_rate", "policy", ids, POLICY["holding_rate"])
    # RS-type policies order up to S; the kernel reads S from order_up_to
    dt = as_table(demand, "demand")
    require_nonempty(dt, "demand")
    d_ids = check_ids(dt, "demand", id_col)
    n = pt.num_rows
    if "demand_mean" in dt.column_names:
        check_unique(d_ids, "demand", id_col)
        rows = align(ids, d_ids, table="demand", needed_by="policy", id_col=id_col)
        mean = column(dt, "demand_mean", "demand", d_ids, DEMAND["demand_mean"])[rows] * period_days
        std = column(dt, "demand_std", "demand", d_ids, DEMAND["demand_std"])[rows]
        var = std ** 2 * period_days
        replay_vals = np.zeros(1)
        replay_ip = np.zeros(n + 1, dtype=np.int64)
        use_replay = False
        horizon = np.full(n, int(n_periods))
    elif target_col in dt.column_names and time_col in dt.column_names:
        import pyarrow.compute as pc

        order = pc.sort_indices(dt, sort_keys=[(id_col, "ascending"), (time_col, "ascending")])
        dt = dt.take(order)
        d_ids = check_ids(dt, "demand", id_col)
        y = column(dt, target_col, "demand", d_ids, SAMPLE_VALUE)
        firsts = np.flatnonzero(np.r_[True, np.asarray(pc.not_equal(d_ids[1:], d_ids[:-1]))]) \
            if len(d_ids) > 1 else np.zeros(1, np.int64)
        ip_all = np.r_[firsts, len(d_ids)].astype(np.int64)
        rows = align(ids, d_ids.take(pa.array(firsts)), table="demand", needed_by="policy", id_col=id_col)
        replay_vals, replay_ip = take_series(y, ip_all, rows)
        lens = np.diff(replay_ip)
        mean = np.zeros(n)
        var = np.zeros(n)
        use_replay = True
        horizon = lens
    else:
        raise_error(MissingColumnError, "cannot tell the kind of demand table", table="demand",
                    expected=f"a demand summary ({id_col}, demand_mean, demand_std) or a demand history "
                    f"({id_col}, {time_col}, {target_col})", got=dt.column_names)
    if warmup is None:
        wu = 0 if use_replay else int(min(max(100, 10 * int(np.max(lt + rp, initial=0))), n_periods // 2))
    else:
        wu = int(warmup)

    def run(a: int, b: int) -> np.ndarray:  # pure: items a..b-1 in, their KPI block out
        block = np.zeros((b - a, 11))
        simulate_items_shelf(pol[a:b], s[a:b], big_s[a:b], q[a:b], rp[a:b], lt[a:b], lsd[a:b], dist[a:b],
                             mean[a:b], var[a:b], replay_vals, replay_ip[a:b + 1], use_replay,
                             bool(lost_sales), int(n_periods), wu, int(seed), a, shelf[a:b], block)
        return block

    parts = map_items(run, item_blocks(n, n_jobs, min_items=_MIN_ITEMS_PER_BLOCK))
    out = parts[0] if len(parts) == 1 else np.concatenate(parts)
    periods = np.maximum(horizon - wu, 0).astype(np.float64)
    avg_oh = out[:, 3]
    sold_per_year = np.divide(out[:, 5] - out[:, 6], periods * period_days, out=np.zeros(n),
                              where=periods > 0) * 365.0
    turns = np.divide(sold_per_year, avg_oh, out=np.where(sold_per_year > 0, np.inf, 0.0),
                      where=avg_oh > 0)
    return pa.table({
        id_col: pt.column(id_col).combine_chunks(),
        "cycle_service": out[:, 0],
        "fill_rate": out[:, 1],
        "ready_rate": out[:, 9],
        "stockout_days": out[:, 2] * period_days,
        "average_on_hand": avg_oh,
        "average_backorders": out[:, 4],
        "inventory_turns": turns,
        "holding_cost": avg_oh * cost * rate,
        "lost_sales": out[:, 6],
        "expired": out[:, 10],
        "orders": out[:, 7].astype(np.int64),
        "cycles": out[:, 8].astype(np.int64),
        "demand": out[:, 5],
        "periods": periods.astype(np.int64),
    })
