"""Numba kernels: expected holding + shortage cost of an order over a supplier's cover period.

An order placed now arrives on day ``a1`` and the next one on day ``a2``; between the two, the
stock of item ``i`` at the end of day ``t`` is ``x - D_t`` where ``x = y + q`` is the position
after ordering ``q`` units and ``D_t`` the demand from today through day ``t``.  The expected cost
of the cover period is

    C(x) = sum_p w_p [ h E(x - D_p)^+ + b E(D_p - x)^+ ]
         = sum_p w_p [ h (x - m_p) + (h + b) loss1_p(x) ]

over day points ``p`` (every day of the cover, or a midpoint sample of them, weights ``w_p`` in
days), with ``h`` the holding cost and ``b`` the backorder cost per unit and day
(Hadley & Whitin 1963, ch. 5; Zipkin 2000, sec. 6.2: the per-period cost of an order-up-to
policy is the newsvendor cost of the demand up to that period).  ``C`` is convex in ``x`` and its
minimiser solves ``sum_p w_p F_p(x) = b / (h + b) sum_p w_p`` (a newsvendor over the cover).

The replenishment objective adds two terms (``docs/replenishment.md``): a shortfall penalty
``g s + kap s^2`` with ``s = max(q_t - q, 0)`` below the target quantity ``q_t`` (with
``g = C'(y + q_t) >= 0`` it makes the target the optimum when the target lies above the newsvendor
level, e.g. a policy's lot; ``kap = K / (2 q_t^2)`` is the extra ordering cost of a lot smaller than
the policy's, Hadley & Whitin 1963's EOQ cost curve) and a price ``lam`` per pack (freight credit,
Lagrange multiplier of a budget); both keep it convex.
The order is a whole number ``k`` of packs of ``pk`` units, ``k`` in ``{0} U [kmin, kmax]``.

Item ``i`` owns the day points ``ip[i]:ip[i+1]`` of ``pm`` (mean), ``pv`` (variance) and ``pw``
(weight); ``dist`` is :data:`~stockopt._kernels.codes.DIST_NORMAL` or ``DIST_GAMMA`` (every
integer distribution is moment-matched to a gamma here).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.inventory.core import c_eval

#: a grid is every pack count when the range has at most this many packs
DENSE_RANGE = 24
#: otherwise: every pack within this many packs of two anchors, then doubling steps
DENSE_HALF = 4
#: most grid points one item can have
GRID_MAX = 64


@numba.njit(**NUMBA_OPTS)
def cover_cost(x, a, b, pm, pv, pw, dist, h, bb):
    """``(C(x), C'(x), C''(x))`` over the day points ``a:b`` (see the module docstring)."""
    c = 0.0
    s = 0.0
    d2 = 0.0
    for p in range(a, b):
        cdf, pdf, l1, _ = c_eval(x, dist, pm[p], pv[p])
        c += pw[p] * (h * (x - pm[p]) + (h + bb) * l1)
        s += pw[p] * ((h + bb) * cdf - bb)
        d2 += pw[p] * (h + bb) * pdf
    return c, s, d2


@numba.njit(**NUMBA_OPTS)
def _pack_cost(k, y, pk, qt, g, kap, lam, a, b, pm, pv, pw, dist, h, bb):
    """Objective of ``k`` packs: ``C(y + k pk) + g s + kap s^2 + lam k`` with ``s = max(qt - k pk, 0)``."""
    q = k * pk
    c = cover_cost(y + q, a, b, pm, pv, pw, dist, h, bb)[0]
    s = max(qt - q, 0.0)
    return c + g * s + kap * s * s + lam * k


@numba.njit(**NUMBA_OPTS)
def newsvendor_levels(ip, pm, pv, pw, dist, h, bb, out):
    """Position ``x`` minimising ``C`` per item (``sum_p w_p F_p(x) = b/(h+b) sum_p w_p``).

    Safeguarded Newton on the bracket ``[min_p(m_p) - 10 sd, max_p(m_p) + 10 sd]`` (``C'`` is
    increasing); point masses (zero variance everywhere) fall back to bisection.
    """
    n = ip.shape[0] - 1
    for i in range(n):
        a = ip[i]
        b = ip[i + 1]
        if b <= a:
            out[i] = 0.0
            continue
        lo = math.inf
        hi = -math.inf
        for p in range(a, b):
            sd = math.sqrt(pv[p])
            lo = min(lo, pm[p] - 10.0 * sd - 1.0)
            hi = max(hi, pm[p] + 10.0 * sd + 1.0)
        x = 0.5 * (lo + hi)
        for p in range(a, b):  # start from the mean of the last point: close for short covers
            x = pm[p]
        for _ in range(100):
            _, s, d2 = cover_cost(x, a, b, pm, pv, pw, dist[i], h[i], bb[i])
            if s > 0.0:
                hi = x
            else:
                lo = x
            if hi - lo <= 1e-9 * (1.0 + abs(x)):
                break
            xn = x - s / d2 if d2 > 0.0 else 0.5 * (lo + hi)
            if not (xn > lo and xn < hi):
                xn = 0.5 * (lo + hi)
            if abs(xn - x) <= 1e-10 * (1.0 + abs(x)):
                x = xn
                break
            x = xn
        out[i] = x


@numba.njit(**NUMBA_OPTS)
def cover_slopes(x, ip, pm, pv, pw, dist, h, bb, out):
    """``C'(x_i)`` per item (money per unit)."""
    for i in range(x.shape[0]):
        out[i] = cover_cost(x[i], ip[i], ip[i + 1], pm, pv, pw, dist[i], h[i], bb[i])[1]


@numba.njit(**NUMBA_OPTS)
def argmin_packs(y, pk, kmin, kmax, qt, g, kap, lam, ip, pm, pv, pw, dist, h, bb, out):
    """Integer minimiser of the pack objective over ``{0} U [max(kmin, 1), kmax]`` per item.

    The objective is convex in ``k``, so the best count in the interval is the first ``k`` whose
    forward difference is ``>= 0`` (bisection on ``k``), then compared with ordering nothing.
    Ties go to fewer packs.  ``kmax < 1`` gives 0.
    """
    n = y.shape[0]
    for i in range(n):
        lo = max(kmin[i], 1)
        hi = kmax[i]
        if hi < lo:
            out[i] = 0
            continue
        a = ip[i]
        b = ip[i + 1]
        args = (y[i], pk[i], qt[i], g[i], kap[i], lam[i], a, b, pm, pv, pw, dist[i], h[i], bb[i])
        left = lo
        right = hi
        while left < right:  # first k in [lo, hi] with f(k + 1) - f(k) >= 0
            mid = (left + right) // 2
            d = _pack_cost(mid + 1, *args) - _pack_cost(mid, *args)
            if d >= 0.0:
                right = mid
            else:
                left = mid + 1
        best = left
        if _pack_cost(0, *args) <= _pack_cost(best, *args):
            best = 0
        out[i] = best


@numba.njit(**NUMBA_OPTS)
def pack_costs(k, y, pk, qt, g, kap, item, ip, pm, pv, pw, dist, h, bb, out_obj, out_cost):
    """Objective (shortfall penalty included, ``lam`` not) and expected cost ``C`` of ``k[j]`` packs of
    item ``item[j]``."""
    for j in range(k.shape[0]):
        i = item[j]
        q = k[j] * pk[i]
        c = cover_cost(y[i] + q, ip[i], ip[i + 1], pm, pv, pw, dist[i], h[i], bb[i])[0]
        out_cost[j] = c
        s = max(qt[i] - q, 0.0)
        out_obj[j] = c + g[i] * s + kap[i] * s * s


@numba.njit(**NUMBA_OPTS)
def _grid_points(kstar, knv, kmin, kmax, buf):
    """Sorted pack counts of one item's grid into ``buf``; returns how many.

    0, then ``[lo, kmax]`` with ``lo = max(kmin, 1)``: every count when the range has at most
    :data:`DENSE_RANGE` packs; otherwise both ends and their neighbours, every count within
    :data:`DENSE_HALF` of the two anchors ``kstar`` (the unconstrained optimum) and ``knv`` (the
    newsvendor level, where the cost bends most), and doubling steps away from each anchor.
    """
    buf[0] = 0
    lo = max(kmin, 1)
    if kmax < lo:
        return 1
    if kmax - lo <= DENSE_RANGE:
        m = 1
        for k in range(lo, kmax + 1):
            buf[m] = k
            m += 1
        return m
    tmp = np.empty(GRID_MAX * 2, np.int64)
    t = 0
    for k in (lo, lo + 1, kmax - 1, kmax):
        tmp[t] = k
        t += 1
    for anchor in (kstar, knv):
        a = min(max(anchor, lo), kmax)
        for d in range(-DENSE_HALF, DENSE_HALF + 1):
            tmp[t] = a + d
            t += 1
        step = 2 * DENSE_HALF
        while step < kmax - lo and t < GRID_MAX * 2 - 2:
            tmp[t] = a + step
            tmp[t + 1] = a - step
            t += 2
            step *= 2
    vals = np.sort(tmp[:t])
    m = 1
    for j in range(t):
        k = vals[j]
        if k >= lo and k <= kmax and k > buf[m - 1] and m < GRID_MAX:
            buf[m] = k
            m += 1
    if buf[m - 1] != kmax:  # keep the top end even when the buffer is full
        buf[m - 1] = kmax
    return m


@numba.njit(**NUMBA_OPTS)
def grid_sizes(kstar, knv, kmin, kmax, out):
    """Number of grid points per item (first pass of :func:`grid_fill`)."""
    buf = np.empty(GRID_MAX, np.int64)
    for i in range(kstar.shape[0]):
        out[i] = _grid_points(kstar[i], knv[i], kmin[i], kmax[i], buf)


@numba.njit(**NUMBA_OPTS)
def grid_fill(kstar, knv, kmin, kmax, gp, out):
    """Pack counts of every item's grid (:func:`_grid_points`), sorted, into ``out[gp[i]:gp[i+1]]``."""
    buf = np.empty(GRID_MAX, np.int64)
    for i in range(kstar.shape[0]):
        m = _grid_points(kstar[i], knv[i], kmin[i], kmax[i], buf)
        for j in range(m):
            out[gp[i] + j] = buf[j]


__all__ = [
    "cover_cost",
    "newsvendor_levels",
    "cover_slopes",
    "argmin_packs",
    "pack_costs",
    "grid_sizes",
    "grid_fill",
    "DENSE_RANGE",
    "DENSE_HALF",
    "GRID_MAX",
]
