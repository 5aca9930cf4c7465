"""``simulate_inventory``: Monte-Carlo check of inventory policies, vectorised over items."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._kernels.codes import DIST_NEGBIN
from stockopt._kernels.inventory.sim import simulate_items_shelf
from stockopt.errors import MissingColumnError, ParameterError, StockoptWarning, raise_error
from stockopt.inventory._sizing import _blocks, _run
from stockopt.inventory._validate import (
    ID,
    align,
    as_table,
    check_ids,
    check_unique,
    numeric,
    ranged,
    require_nonempty,
)
from stockopt.inventory.policy import DIST_NAMES, POLICY_NAMES

__all__ = ["simulate_inventory"]

_NEEDED = ("policy", "distribution", "reorder_point", "order_up_to", "order_quantity", "lead_time",
           "lead_time_std", "review_period", "unit_cost", "holding_rate")


def _codes(tbl: pa.Table, name: str, mapping: dict[str, int], ids: pa.Array) -> np.ndarray:
    import pyarrow.compute as pc

    col = tbl.column(name).cast(pa.large_string())
    codes = np.full(tbl.num_rows, -1, dtype=np.int8)
    for key, code in mapping.items():  # loop over the few names, not over items
        codes[np.asarray(pc.fill_null(pc.equal(col, key), False))] = code
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise_error(ParameterError, f"unknown {name}", table="policy", column=name,
                    series=ids[row].as_py(), row=row, expected=f"one of {list(mapping)}",
                    got=col[row].as_py())
    return codes


def simulate_inventory(
    policy: Any,
    demand: Any,
    n_periods: int = 3650,
    seed: int = 0,
    lost_sales: bool = False,
    *,
    warmup: int | None = None,
    period_days: float = 1.0,
    n_jobs: int = 1,
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
        held-out real demand (then ``n_periods`` is each series' length).
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
    if n_periods < 1:
        raise_error(ParameterError, "n_periods must be >= 1", got=n_periods)
    if period_days <= 0 or not np.isfinite(period_days):
        raise_error(ParameterError, "period_days must be > 0", got=period_days)
    pt = as_table(policy, "policy")
    require_nonempty(pt, "policy")
    ids = check_ids(pt, "policy")
    check_unique(ids, "policy")
    for name in _NEEDED:
        if name not in pt.column_names:
            raise MissingColumnError(
                f"policy: missing column {name!r}; pass the table returned by inventory_policy",
                table="policy", column=name)
    pol = _codes(pt, "policy", POLICY_NAMES, ids)
    dist = _codes(pt, "distribution", DIST_NAMES, ids)
    # empirical and compound items draw negative-binomial demand from the demand table
    dist = np.where(dist >= DIST_NAMES["empirical"], DIST_NEGBIN, dist).astype(np.int8)
    s = numeric(pt, "reorder_point", "policy", ids, lo=0.0, expected="a finite reorder point >= 0")
    big_s = numeric(pt, "order_up_to", "policy", ids, lo=0.0, expected="a finite order-up-to level >= 0")
    q = numeric(pt, "order_quantity", "policy", ids, lo=0.0, expected="a finite order quantity >= 0")
    lt = ranged(pt, "lead_time", "policy", ids, None) / period_days
    lsd = ranged(pt, "lead_time_std", "policy", ids, None) / period_days
    rp = ranged(pt, "review_period", "policy", ids, None) / period_days
    n_continuous = int(np.count_nonzero(rp == 0))
    if n_continuous:
        warnings.warn(f"simulate_inventory: {n_continuous} item(s) were sized for continuous review "
                      "(review_period = 0); the simulation reviews once a period, so their service will "
                      "fall short of the expected values (docs/inventory.md: continuous review is not a "
                      "nightly batch; size them with review_period = 1)", StockoptWarning, stacklevel=2)
    rp = np.maximum(np.rint(rp), 1).astype(np.int64)
    # newsvendor stock perishes this many whole periods after its delivery (0 = at the next delivery)
    shelf = ranged(pt, "shelf_life_days", "policy", ids, np.inf) / period_days
    shelf = np.where(np.isfinite(shelf), np.maximum(np.floor(shelf + 1e-9), 1.0), 0.0).astype(np.int64)
    cost = ranged(pt, "unit_cost", "policy", ids, None)
    rate = ranged(pt, "holding_rate", "policy", ids, None)
    # RS-type policies order up to S; the kernel reads S from order_up_to
    dt = as_table(demand, "demand")
    require_nonempty(dt, "demand")
    d_ids = check_ids(dt, "demand")
    n = pt.num_rows
    if "demand_mean" in dt.column_names:
        check_unique(d_ids, "demand")
        rows = align(ids, d_ids, table="demand", needed_by="policy")
        mean = numeric(dt, "demand_mean", "demand", d_ids, lo=0.0,
                       expected="a finite mean demand >= 0 per day")[rows] * period_days
        std = ranged(dt, "demand_std", "demand", d_ids, None)[rows]
        var = std ** 2 * period_days
        replay_vals = np.zeros(1)
        replay_ip = np.zeros(n + 1, dtype=np.int64)
        use_replay = False
        horizon = np.full(n, int(n_periods))
    elif "y" in dt.column_names and "ds" in dt.column_names:
        import pyarrow.compute as pc

        order = pc.sort_indices(dt, sort_keys=[(ID, "ascending"), ("ds", "ascending")])
        dt = dt.take(order)
        d_ids = check_ids(dt, "demand")
        y = numeric(dt, "y", "demand", d_ids, lo=0.0, expected="finite demand >= 0")
        firsts = np.flatnonzero(np.r_[True, np.asarray(pc.not_equal(d_ids[1:], d_ids[:-1]))]) \
            if len(d_ids) > 1 else np.zeros(1, np.int64)
        ip_all = np.r_[firsts, len(d_ids)].astype(np.int64)
        rows = align(ids, d_ids.take(pa.array(firsts)), table="demand", needed_by="policy")
        lens = np.diff(ip_all)[rows]
        starts = ip_all[:-1][rows]
        replay_ip = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
        gather = np.repeat(starts - replay_ip[:-1], lens) + np.arange(replay_ip[-1])
        replay_vals = np.ascontiguousarray(y[gather])
        mean = np.zeros(n)
        var = np.zeros(n)
        use_replay = True
        horizon = lens
    else:
        raise MissingColumnError(
            "demand: expected a demand summary (unique_id, demand_mean, demand_std) or a demand "
            f"history (unique_id, ds, y); got columns {dt.column_names}", table="demand")
    if warmup is None:
        wu = 0 if use_replay else int(min(max(100, 10 * int(np.max(lt + rp, initial=0))), n_periods // 2))
    else:
        if warmup < 0:
            raise_error(ParameterError, "warmup must be >= 0", got=warmup)
        wu = int(warmup)
    out = np.zeros((n, 11))

    def run(a: int, b: int) -> None:
        simulate_items_shelf(pol[a:b], s[a:b], big_s[a:b], q[a:b], rp[a:b], lt[a:b], lsd[a:b], dist[a:b],
                             mean[a:b], var[a:b], replay_vals, replay_ip[a:b + 1], use_replay,
                             bool(lost_sales), int(n_periods), wu, int(seed), a, shelf[a:b], out[a:b])

    _run(_blocks(n, n_jobs, min_items=32), run)
    periods = np.maximum(horizon - wu, 0).astype(np.float64)
    avg_oh = out[:, 3]
    sold_per_year = np.divide(out[:, 5] - out[:, 6], periods * period_days, out=np.zeros(n),
                              where=periods > 0) * 365.0
    turns = np.divide(sold_per_year, avg_oh, out=np.where(sold_per_year > 0, np.inf, 0.0),
                      where=avg_oh > 0)
    return pa.table({
        "unique_id": pt.column(ID).combine_chunks(),
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
