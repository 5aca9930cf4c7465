"""Numba kernel: period-by-period Monte-Carlo inventory simulation, vectorised over items.

Timing of one period ``t`` (a day unless the caller says otherwise), the same convention as the
policy formulas (Snyder & Shen 2019, ch. 4, periodic review with lead time ``L``):

1. if ``t`` is a review period (``t % R == 0``) the inventory position (net stock + pipeline; on
   hand + pipeline under lost sales) is compared with the policy and an order is placed; it
   arrives at the start of period ``t + L`` (``L`` drawn per order when ``l_sd > 0``: normal
   rounded to whole periods and clipped to ``mean +- 4 sd``, so orders may cross);
2. orders due in ``t`` arrive.  Each arriving order closes a replenishment cycle: the cycle had a
   stockout if net stock just before the arrival was negative (backorders) or some demand was
   lost since the previous arrival (lost sales);
3. newsvendor items with a shelf life: the stock of the last delivery perishes ``shelf`` periods
   after it arrived (before that period's demand), and in any case when the next delivery arrives;
4. demand of ``t`` is served from on-hand stock; the rest is backordered or lost.

Each item draws from its own random stream seeded by ``splitmix64(seed, global item index)``, so
results do not depend on how items are split over threads or blocks.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import (
    DIST_GAMMA,
    DIST_NEGBIN,
    DIST_NORMAL,
    DIST_POISSON,
    POL_NEWS,
    POL_SQ,
    POL_SS,
)
from stockopt._kernels.inventory.discrete import lead_time_support


@numba.njit(**NUMBA_OPTS)
def item_seed(seed: int, index: int) -> int:
    """32-bit seed of one item's random stream (splitmix64 finaliser of ``seed`` and ``index``)."""
    z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(index) + np.uint64(1)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return int(z & np.uint64(0xFFFFFFFF))


@numba.njit(**NUMBA_OPTS)
def _draw_demand(dist: int, m: float, v: float) -> float:
    if m <= 0.0:
        return 0.0
    if dist == DIST_NORMAL:
        x = m + math.sqrt(v) * np.random.standard_normal()
        return x if x > 0.0 else 0.0
    if dist == DIST_GAMMA:
        if v <= 0.0:
            return m
        return np.random.gamma(m * m / v, v / m)
    if dist == DIST_POISSON or v <= m:
        return float(np.random.poisson(m))
    # negative binomial as a gamma-Poisson mixture (any real shape r)
    r = m * m / (v - m)
    return float(np.random.poisson(np.random.gamma(r, m / r)))


@numba.njit(**NUMBA_OPTS)
def simulate_items(pol, s, big_s, q, r_per, l_mean, l_sd, dist, d_mean, d_var,
                   replay_vals, replay_ip, use_replay, lost, n_periods, warmup, seed, offset,
                   out):
    """:func:`simulate_items_shelf` without shelf lives (newsvendor leftovers perish at the next delivery)."""
    simulate_items_shelf(pol, s, big_s, q, r_per, l_mean, l_sd, dist, d_mean, d_var, replay_vals, replay_ip,
                         use_replay, lost, n_periods, warmup, seed, offset, np.zeros(pol.shape[0], np.int64),
                         out)


@numba.njit(**NUMBA_OPTS)
def simulate_items_shelf(pol, s, big_s, q, r_per, l_mean, l_sd, dist, d_mean, d_var,
                         replay_vals, replay_ip, use_replay, lost, n_periods, warmup, seed, offset,
                         shelf, out):
    """Simulate every item of a block and write its KPIs into ``out``.

    Columns of ``out`` (shape ``(n, 11)``): 0 cycle service, 1 fill rate, 2 stockout periods,
    3 average on hand (end of period), 4 average backorders, 5 total demand, 6 lost units,
    7 number of orders, 8 number of replenishment cycles, 9 ready rate (share of periods ending
    without backorders or lost demand), 10 expired units (newsvendor: stock left when the next
    delivery arrives is discarded, and so is stock still on hand ``shelf[i]`` periods after its
    delivery when ``shelf[i] > 0``; unmet demand is lost).  ``offset`` is the global index of the
    block's first item.  With
    ``use_replay`` the demand of item ``i`` is ``replay_vals[replay_ip[i]:replay_ip[i+1]]`` and
    the simulation lasts that many periods; otherwise ``n_periods`` draws from ``dist``.
    """
    n = pol.shape[0]
    for i in range(n):
        np.random.seed(item_seed(seed, offset + i))
        lm = l_mean[i]
        lsd = l_sd[i]
        if lsd > 0.0:
            lo, hi = lead_time_support(lm, lsd)
        else:
            lo = int(math.floor(lm + 0.5))
            hi = lo
        size = hi + 1
        arr = np.zeros(size)
        cnt = np.zeros(size, dtype=np.int64)
        pc = pol[i]
        si = s[i]
        bs = big_s[i]
        qi = q[i]
        rp = r_per[i] if r_per[i] >= 1 else 1
        if use_replay:
            start = replay_ip[i]
            horizon = replay_ip[i + 1] - start
        else:
            start = 0
            horizon = n_periods
        net = bs  # net stock (on hand - backorders); on hand under lost sales
        pipe = 0.0
        lost_flag = False
        tot_d = 0.0
        tot_served = 0.0
        tot_lost = 0.0
        so_days = 0
        ready = 0
        oh_sum = 0.0
        bo_sum = 0.0
        n_orders = 0
        n_cycles = 0
        n_cycle_so = 0
        n_obs = 0
        expired = 0.0
        is_news = pc == POL_NEWS
        sl = shelf[i] if is_news else 0
        expire_at = sl  # the initial stock counts as delivered at the start of period 0
        for t in range(horizon):
            # 1. review
            if t % rp == 0:
                ip = net + pipe
                order = 0.0
                if pc == POL_SQ:
                    if ip <= si and qi > 0.0:
                        order = qi * (math.floor((si - ip) / qi) + 1.0)
                elif pc == POL_SS:
                    if ip <= si:
                        order = bs - ip
                elif pc == POL_NEWS:
                    order = bs  # fresh stock every period; leftovers perish at the next arrival
                else:
                    if ip < bs:
                        order = bs - ip
                if order > 0.0:
                    if lsd > 0.0:
                        lt = int(math.floor(lm + lsd * np.random.standard_normal() + 0.5))
                        if lt < lo:
                            lt = lo
                        if lt > hi:
                            lt = hi
                    else:
                        lt = lo
                    slot = (t + lt) % size
                    arr[slot] += order
                    cnt[slot] += 1
                    pipe += order
                    if t >= warmup:
                        n_orders += 1
            # 2. arrivals
            slot = t % size
            if cnt[slot] > 0:
                if t >= warmup:
                    n_cycles += cnt[slot]
                    if ((lost or is_news) and lost_flag) or ((not lost) and (not is_news) and net < 0.0):
                        n_cycle_so += cnt[slot]
                lost_flag = False
                if is_news:
                    if net > 0.0 and t >= warmup:
                        expired += net
                    net = 0.0
                net += arr[slot]
                pipe -= arr[slot]
                arr[slot] = 0.0
                cnt[slot] = 0
                expire_at = t + sl
            # 3. perishing (FIFO: the stock on hand is that of the last delivery)
            if sl > 0 and t >= expire_at and net > 0.0:
                if t >= warmup:
                    expired += net
                net = 0.0
            # 4. demand
            if use_replay:
                dem = replay_vals[start + t]
            else:
                dem = _draw_demand(dist[i], d_mean[i], d_var[i])
            avail = net if net > 0.0 else 0.0
            served = dem if dem < avail else avail
            if lost or is_news:
                net -= served
                if served < dem:
                    lost_flag = True
            else:
                net -= dem
            if t >= warmup:
                n_obs += 1
                tot_d += dem
                tot_served += served
                if served < dem:
                    so_days += 1
                    if lost or is_news:
                        tot_lost += dem - served
                if net >= 0.0 and served >= dem:
                    ready += 1
                if net > 0.0:
                    oh_sum += net
                else:
                    bo_sum -= net
        out[i, 0] = 1.0 - n_cycle_so / n_cycles if n_cycles > 0 else 1.0
        out[i, 1] = tot_served / tot_d if tot_d > 0.0 else 1.0
        out[i, 2] = so_days
        out[i, 3] = oh_sum / n_obs if n_obs > 0 else 0.0
        out[i, 4] = bo_sum / n_obs if n_obs > 0 else 0.0
        out[i, 5] = tot_d
        out[i, 6] = tot_lost
        out[i, 7] = n_orders
        out[i, 8] = n_cycles
        out[i, 9] = ready / n_obs if n_obs > 0 else 1.0
        out[i, 10] = expired


__all__ = ["simulate_items", "simulate_items_shelf", "item_seed", "DIST_NORMAL", "DIST_GAMMA", "DIST_POISSON",
           "DIST_NEGBIN"]
