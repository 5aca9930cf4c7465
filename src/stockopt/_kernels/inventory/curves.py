"""Numba kernels: each item's service curve over its reorder levels, and the multi-item allocation.

:func:`level_curves` evaluates, for every item and every integer reorder level of a policy with a
fixed order quantity, the exact fill rate and the average stock on hand from the item's integer
pmfs of demand over the lead time, the review period and both (the stationary position of
:mod:`stockopt._kernels.inventory.discrete`, the same expressions as the sizing, so a level chosen
here reports the same service in ``inventory_policy``).  Level ``j`` of an item is the order-up-to
level ``S = j`` of RS (no stock at level 0) and the reorder point ``s = j`` of (R, s, nQ) and
(R, s, S) (order when the position is at or below zero at level 0); the kernel's reorder level is
``j - 1`` for RS and ``j`` otherwise.

:func:`upper_hull` keeps, per item, the points of its (stock value, filled demand) curve on the
upper concave envelope; marginal analysis over those points is exact for the Lagrangian
relaxation of the multi-item problem (Fox 1966; Sherbrooke 2004, ch. 2-3) and every point it
visits is efficient.  :func:`fill_in` spends what a budget leaves after the greedy prefix on the
next steps that still fit, in the greedy's order.
"""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import POL_RS, POL_SS
from stockopt._kernels.inventory.discrete import _loss_at, _service_d, item_position, on_hand
from stockopt._kernels.inventory.policy import _fill_from_shortage


@numba.njit(**NUMBA_OPTS)
def level_curves(pol, qint, lost, r_days, vals_l, ip_l, vals_r, ip_r, vals_t, ip_t, lv_ip, out_fill, out_oh,
                 out_bo):
    """Fill rate, average on hand and backorders (units) of item ``i`` at levels ``0..n_i - 1``.

    ``lv_ip[i]:lv_ip[i+1]`` are the item's slots in the outputs (``n_i = lv_ip[i+1] - lv_ip[i]``
    levels); ``pol`` holds ``POL_RS`` (also base stock), ``POL_SQ`` or ``POL_SS``; ``qint`` the
    integer order quantity (``S - s`` for (R, s, S)).  Fill rate and on hand as in
    :func:`~stockopt._kernels.inventory.discrete.policy_discrete`.
    """
    for i in range(pol.shape[0]):
        (_, cdf_l, loss_l, cdf_t, loss_t, m_l, m_t, m_r, pc, news, q,
         pi) = item_position(i, pol, qint, vals_l, ip_l, vals_r, ip_r, vals_t, ip_t)
        u = np.zeros(1)
        mean_pos = 0.0
        for k in range(q):
            mean_pos += pi[k] * (q - k)
        shift = 1 if pc == POL_RS else 0
        n_lv = lv_ip[i + 1] - lv_ip[i]
        if pc != POL_SS:
            # uniform position on s+1..s+q (RS: q = 1): running sums of the loss functions over the
            # positions give every level in O(1)
            s0 = -shift
            top = s0 + n_lv + q  # positions s0+1 .. top
            cum_t = np.zeros(top - s0 + 1)
            cum_l = np.zeros(top - s0 + 1)
            for y in range(s0 + 1, top + 1):
                cum_t[y - s0] = cum_t[y - s0 - 1] + _loss_at(loss_t, m_t, y)
                cum_l[y - s0] = cum_l[y - s0 - 1] + _loss_at(loss_l, m_l, y)
            for j in range(n_lv):
                s = j - shift
                o = lv_ip[i] + j
                bo = (cum_t[s + q - s0] - cum_t[s - s0]) / q
                bo_l = (cum_l[s + q - s0] - cum_l[s - s0]) / q
                out_fill[o] = _fill_from_shortage(max(bo - bo_l, 0.0), m_r, lost and not news)
                out_bo[o] = bo if bo > 0.0 else 0.0
                out_oh[o] = on_hand(s + mean_pos, m_t, m_r, bo, bo_l, r_days[i])
            continue
        for j in range(n_lv):
            s = j - shift
            o = lv_ip[i] + j
            out_fill[o] = _service_d(s, 1, lost, q, pi, u, 0.0, cdf_l, loss_l, m_l, loss_t, m_t, m_r, cdf_t,
                                     news)
            bo = 0.0
            bo_l = 0.0
            for k in range(q):
                bo += pi[k] * _loss_at(loss_t, m_t, s + q - k)
                bo_l += pi[k] * _loss_at(loss_l, m_l, s + q - k)
            out_bo[o] = bo if bo > 0.0 else 0.0
            out_oh[o] = on_hand(s + mean_pos, m_t, m_r, bo, bo_l, r_days[i])


@numba.njit(**NUMBA_OPTS)
def upper_hull(cost, gain, ip, out_keep):
    """Mark the points of each item's upper concave envelope (``out_keep`` 1 = vertex).

    Points ``ip[i]:ip[i+1]`` of item ``i`` are in order of non-decreasing ``cost``; the first
    point is always kept, and of points with equal cost only the last (largest gain) can be.
    A point is kept when the slope into it exceeds the slope out of it (monotone chain).
    """
    for i in range(ip.shape[0] - 1):
        a = ip[i]
        b = ip[i + 1]
        for k in range(a, b):
            out_keep[k] = 0
        if b <= a:
            continue
        stack = np.empty(b - a, np.int64)
        top = 0
        stack[0] = a
        for k in range(a + 1, b):
            if gain[k] <= gain[stack[top]]:
                continue  # no more service for more money: never on the envelope
            if cost[k] <= cost[stack[top]]:
                top -= 1  # same cost, more service: replaces the previous point
                if top < 0:
                    top = 0
                    stack[0] = k
                    continue
            while top >= 1:
                o = stack[top - 1]
                m = stack[top]
                # drop m when it lies on or below the chord from o to k
                if (gain[m] - gain[o]) * (cost[k] - cost[o]) <= (gain[k] - gain[o]) * (cost[m] - cost[o]):
                    top -= 1
                else:
                    break
            top += 1
            stack[top] = k
        for t in range(top + 1):
            out_keep[stack[t]] = 1


@numba.njit(**NUMBA_OPTS)
def fill_in(item, dcost, start, remaining, taken, blocked):
    """After the greedy prefix (steps ``< start``), take the later steps that still fit the budget.

    Steps are in the greedy's order; an item's step can be taken only if all its earlier steps
    were (``blocked[item]`` once one was skipped).  ``taken`` is set to 1 for the steps taken;
    returns the budget left.
    """
    for k in range(start, item.shape[0]):
        it = item[k]
        if blocked[it]:
            continue
        if dcost[k] <= remaining:
            remaining -= dcost[k]
            taken[k] = 1
        else:
            blocked[it] = 1
    return remaining


__all__ = ["level_curves", "upper_hull", "fill_in"]
