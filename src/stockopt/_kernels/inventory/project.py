"""Numba kernel: Monte-Carlo projection of a replenishment plan from today's stock, day by day.

The steady-state simulator (:func:`stockopt._kernels.inventory.sim.simulate_items_shelf`) starts
every item at its order-up-to level with an empty pipeline; a plan is judged from where the items
are today: their net stock, the open orders and the proposed order arriving on known days.  This
kernel replays that start with the simulator's own demand draws (``sim._draw_demand``, the
distributions of the policy) and random streams (``sim.item_seed`` of ``seed`` and the item's key
``keys[i]``, a stable hash of its id, so the result of an item does not depend on the other items,
their order or the partitioning), and the same day timing (arrivals,
then demand; unmet demand backordered).  After the plan's cover it keeps ordering up to the
plan's level on the supplier's order days, in whole packs, arriving a lead time later.

Item ``i`` has arrivals ``arr_day[ap[i]:ap[i+1]]`` (days from today) of ``arr_qty`` units, daily
demand mean ``dm[i, d]`` and variance ``dv[i, d]`` for ``d < horizon[i]``.
"""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.inventory.sim import _draw_demand, item_seed


@numba.njit(**NUMBA_OPTS)
def project_items(
    net0,
    ap,
    arr_day,
    arr_qty,
    horizon,
    first_review,
    order_mask,
    weekday0,
    lead,
    level,
    pk,
    dist,
    dm,
    dv,
    n_paths,
    seed,
    keys,
    out,
):
    """Simulate ``n_paths`` paths per item and write per-item means into ``out`` (shape ``(n, 6)``).

    Columns: 0 demand, 1 served from stock, 2 stockout days (days with unmet demand), 3 average
    on hand (end of day, units), 4 backorders at the end, 5 units ordered after the plan's cover.
    Orders after the cover: on days ``d >= first_review[i]`` whose weekday (``(weekday0 + d) % 7``) is in
    ``order_mask[i]``, up to ``level[i]`` in packs of ``pk[i]``, arriving ``lead[i]`` days later.
    """
    n = net0.shape[0]
    for i in range(n):
        np.random.seed(item_seed(seed, keys[i]))
        h = horizon[i]
        size = h + lead[i] + 1
        pipe = np.zeros(size)
        tot_d = 0.0
        tot_s = 0.0
        so = 0.0
        oh = 0.0
        bo_end = 0.0
        ordered = 0.0
        for _ in range(n_paths):
            pipe[:] = 0.0
            on_order = 0.0
            for j in range(ap[i], ap[i + 1]):
                d = arr_day[j]
                if d < 0:
                    d = 0  # overdue open orders arrive today
                if d < size:
                    pipe[d] += arr_qty[j]
                    on_order += arr_qty[j]
            net = net0[i]
            for d in range(h):
                if d >= first_review[i] and order_mask[i, (weekday0 + d) % 7]:
                    pos = net + on_order
                    if pos < level[i] and pk[i] > 0.0:
                        q = np.ceil((level[i] - pos) / pk[i] - 1e-9) * pk[i]
                        t = d + lead[i]
                        if t < size:
                            pipe[t] += q
                            on_order += q
                            ordered += q
                net += pipe[d]
                on_order -= pipe[d]
                dem = _draw_demand(dist[i], dm[i, d], dv[i, d])
                avail = net if net > 0.0 else 0.0
                served = dem if dem < avail else avail
                net -= dem
                tot_d += dem
                tot_s += served
                if served < dem:
                    so += 1.0
                if net > 0.0:
                    oh += net
            if net < 0.0:
                bo_end -= net
        out[i, 0] = tot_d / n_paths
        out[i, 1] = tot_s / n_paths
        out[i, 2] = so / n_paths
        out[i, 3] = oh / (n_paths * h) if h > 0 else 0.0
        out[i, 4] = bo_end / n_paths
        out[i, 5] = ordered / n_paths


__all__ = ["project_items"]
