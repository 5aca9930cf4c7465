"""Numba kernel: service-level policies for continuous (normal, gamma) demand, vectorised over items.

One call handles a block of items given as parameter arrays (one entry per item); the caller
allocates the outputs.  Demand enters through its moments over three intervals, all in selling
units: the lead time ``L`` (``mL, vL``, lead-time uncertainty already included), the review period
``R`` that follows it (``mR, vR``) and their sum, the protection interval ``T = L + R``
(``mT = mL + mR``, ``vT = vL + vR``).

Policies (codes ``POL_*``) and the service measures they are sized for:

* ``POL_RS`` -- periodic review, order up to ``S`` every ``R`` days (Silver, Pyke & Thomas 2017,
  ch. 6; Axsäter 2015, ch. 5).  Cycle service ``P(D_T <= S)``; fill rate
  ``1 - (n_T(S) - n_L(S)) / E[D_R]`` (expected backorders created in one review period over the
  demand of that period).
* ``POL_SQ`` -- (R, s, nQ): at a review, if the inventory position is at or below ``s`` order the
  smallest multiple of ``Q`` that lifts it above ``s``.  The inventory position after ordering is
  then uniform on ``(s, s + Q]`` (Hadley & Whitin 1963), which makes the fill rate exact:
  ``1 - [n2_T(s) - n2_T(s+Q) - n2_L(s) + n2_L(s+Q)] / (Q E[D_R])``; for continuous review
  (``R = 0``) the limit ``1 - (n_L(s) - n_L(s+Q)) / Q`` (Axsäter 2015, ch. 5).  Cycle service (no
  stockout just before a replenishment arrives) is ``P(D_L + U <= s)`` with ``U`` the undershoot of
  the reorder point at the ordering review, whose first two moments are the renewal-theory ones
  (see :func:`_undershoot_moments`, exact for any ``Q``); ``D_L + U`` is approximated by the same
  family with matched mean and variance (the undershoot correction of Silver, Pyke & Thomas 2017,
  ch. 7; Axsäter 2015, ch. 5).

Lost sales (``lost = True``) use the standard adjustment: with ``B`` the expected shortage per
review period computed as if backordered, the fill rate is ``1 - B / (E[D_R] + B)`` (units demanded
per cycle = units sold + units lost; Silver, Pyke & Thomas 2017, ch. 6).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.inventory_math import DIST_GAMMA, DIST_NORMAL, c_eval, c_loss, c_loss3, c_ppf

POL_RS = 0
POL_SQ = 1
POL_SS = 2
POL_BASE = 3
POL_NEWS = 4

METRIC_CYCLE = 0
METRIC_FILL = 1

STATUS_OK = 0
STATUS_UNREACHABLE = 1  # the target could not be reached within the search range
STATUS_FLOORED = 2  # the zero-safety-stock floor binds: service is above target


@numba.njit(**NUMBA_OPTS)
def _fill_from_shortage(b: float, m_r: float, lost: bool) -> float:
    if m_r <= 0.0:
        return 1.0
    if lost:
        f = 1.0 - b / (m_r + b)
    else:
        f = 1.0 - b / m_r
    if f < 0.0:
        return 0.0
    if f > 1.0:
        return 1.0
    return f


@numba.njit(**NUMBA_OPTS)
def _undershoot_moments(dist: int, m_r: float, v_r: float, q: float) -> tuple[float, float]:
    """Mean and variance of the undershoot ``U`` of the reorder point at an ordering review.

    For an (R, s, nQ) policy the undershoot has density ``P(j < D_R <= j + Q) / E[min(D_R, Q)]``
    (``j >= 0``), hence ``E[U] = (E[D^2] - E[((D-Q)^+)^2]) / (2 E[min(D, Q)])`` and
    ``E[U^2] = (E[D^3] - E[((D-Q)^+)^3]) / (3 E[min(D, Q)])``; as ``Q`` grows these tend to the
    renewal-theory values ``E[D^2] / (2 E[D])`` and ``E[D^3] / (3 E[D])``.
    """
    if m_r <= 0.0:
        return 0.0, 0.0
    # moments of the non-negative part of D_R (a normal is truncated at zero, as in the simulator)
    e1, h2 = c_loss(0.0, dist, m_r, v_r)
    e2 = 2.0 * h2
    e3 = c_loss3(0.0, dist, m_r, v_r)
    n1 = 0.0
    n2 = 0.0
    n3 = 0.0
    if q > 0.0 and q < math.inf:
        n1, n2 = c_loss(q, dist, m_r, v_r)
        n3 = c_loss3(q, dist, m_r, v_r)
    emin = e1 - n1
    if emin <= 0.0:
        return 0.0, 0.0
    mu = (e2 - 2.0 * n2) / (2.0 * emin)
    mu2 = (e3 - n3) / (3.0 * emin)
    var = mu2 - mu * mu
    if var < 0.0:
        var = 0.0
    return mu, var


@numba.njit(**NUMBA_OPTS)
def _fill_and_slope(b: float, db: float, m_r: float, lost: bool) -> tuple[float, float]:
    """Fill rate from the shortage ``b`` per period and its derivative (``db = d b / d s``)."""
    if m_r <= 0.0:
        return 1.0, 0.0
    if b < 0.0:
        b = 0.0
    if lost:
        den = m_r + b
        return m_r / den, -m_r * db / (den * den)
    f = 1.0 - b / m_r
    return (f if f > 0.0 else 0.0), -db / m_r


@numba.njit(**NUMBA_OPTS)
def service_cd(s, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j):
    """Service measure (cycle service or fill rate) of reorder level ``s`` and its slope in ``s``.

    The measure increases with ``s``; derivatives use ``d loss1 / dx = -(1 - F)`` and
    ``d loss2 / dx = -loss1``.
    """
    m_t = m_l + m_r
    v_t = v_l + v_r
    if pol == POL_RS:
        ct, pt, l1t, _ = c_eval(s, dist, m_t, v_t)
        if metric == METRIC_CYCLE:
            return ct, pt
        cl, _, l1l, _ = c_eval(s, dist, m_l, v_l)
        return _fill_and_slope(l1t - l1l, ct - cl, m_r, lost)
    # (R, s, nQ)
    if metric == METRIC_CYCLE:
        if r_days <= 0.0:
            c, p, _, _ = c_eval(s, dist, m_l, v_l)
        else:
            c, p, _, _ = c_eval(s, dist, m_l + m_j, v_l + v_j)
        return c, p
    if q <= 0.0:
        return 0.0, 0.0
    la_c, _, la1, la2 = c_eval(s, dist, m_l, v_l)
    lb_c, _, lb1, lb2 = c_eval(s + q, dist, m_l, v_l)
    if r_days <= 0.0:
        return _fill_and_slope(la1 - lb1, la_c - lb_c, q, lost)
    _, _, ta1, ta2 = c_eval(s, dist, m_t, v_t)
    _, _, tb1, tb2 = c_eval(s + q, dist, m_t, v_t)
    b = (ta2 - tb2 - la2 + lb2) / q
    db = (-ta1 + tb1 + la1 - lb1) / q
    return _fill_and_slope(b, db, m_r, lost)


@numba.njit(**NUMBA_OPTS)
def service_c(s, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j):
    """Service measure of reorder level ``s`` (see :func:`service_cd`)."""
    return service_cd(s, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j)[0]


@numba.njit(**NUMBA_OPTS)
def _newton(target, a, x, g, d, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j):
    """Safeguarded Newton from ``x`` (service minus target ``g``, slope ``d``) with the root above ``a``.

    Returns ``(level, status)``.  The service measures are increasing and concave above the mean
    demand, so Newton steps from below approach the root monotonically; bisection takes over
    whenever a step leaves the current bracket ``(a, b)``, and the bracket is expanded
    geometrically while no upper end is known.
    """
    sd = math.sqrt(v_l + v_r)
    width = sd if sd > 1e-9 else 1.0
    b = math.inf
    if g >= 0.0:
        b = x
    for _ in range(300):
        if g == 0.0:
            break
        xn = x - g / d if d > 0.0 else math.nan
        if abs(xn - x) <= 1e-11 * (1.0 + abs(x)):  # converged (Newton step below tolerance)
            x = xn
            break
        if not (xn > a and xn < b):
            if b < math.inf:
                xn = 0.5 * (a + b)
            else:
                width *= 2.0
                xn = a + width
                if width > 1e15 * (1.0 + sd):
                    return xn, STATUS_UNREACHABLE
        gn, dn = service_cd(xn, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j)
        gn -= target
        if gn >= 0.0:
            b = xn
        else:
            a = xn
        step = abs(xn - x)
        x = xn
        g = gn
        d = dn
        if step <= 1e-11 * (1.0 + abs(x)) or abs(g) < 1e-11 or (b - a) <= 1e-11 * (1.0 + abs(x)):
            break
    return x, STATUS_OK


@numba.njit(**NUMBA_OPTS)
def _solve_level(target, lo, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j):
    """Smallest level ``s >= lo`` with service ``>= target`` (``STATUS_FLOORED`` if ``lo`` suffices)."""
    if pol == POL_RS and metric == METRIC_CYCLE:  # a quantile: P(D_T <= S) = target
        x = c_ppf(target, dist, m_l + m_r, v_l + v_r)
        if x > lo:
            return x, STATUS_OK
        return lo, STATUS_FLOORED
    if dist == DIST_GAMMA:
        # warm start from the normal solution with the same moments (cheap to evaluate): when the
        # gamma service there is still short of the target the root lies above it (no floor check
        # needed) and Newton on the gamma usually needs two or three incomplete-gamma passes
        gn, dn = service_cd(lo, pol, metric, lost, DIST_NORMAL, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j)
        gn -= target
        if gn < 0.0:
            xs, st = _newton(target, lo, lo, gn, dn, pol, metric, lost, DIST_NORMAL, r_days, m_l, v_l,
                             m_r, v_r, q, m_j, v_j)
            if st == STATUS_OK and xs > lo:
                gs, ds = service_cd(xs, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j)
                gs -= target
                if gs < 0.0:
                    return _newton(target, xs, xs, gs, ds, pol, metric, lost, dist, r_days, m_l, v_l,
                                   m_r, v_r, q, m_j, v_j)
    g, d = service_cd(lo, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j)
    g -= target
    if g >= 0.0:
        return lo, STATUS_FLOORED
    return _newton(target, lo, lo, g, d, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j)


@numba.njit(**NUMBA_OPTS)
def policy_continuous(pol, dist, metric, target, r_days, m_l, v_l, m_r, v_r, q, lost, floor_ss,
                      out_s, out_big_s, out_ss, out_cycle, out_fill, out_bo, out_oh, out_status):
    """Size RS or (R, s, nQ) policies for a block of items (see the module docstring).

    Parameters are 1-D arrays of equal length (one entry per item) except ``lost`` and
    ``floor_ss`` (booleans for the block).  ``floor_ss`` keeps the reorder level at or above the
    mean demand over the protection interval (no negative safety stock).
    Outputs: reorder level ``out_s``, order-up-to level ``out_big_s``, safety stock, expected cycle
    service, fill rate, backorders at the end of a review period, time-average on hand (end of
    day) and a status code per item.
    """
    n = pol.shape[0]
    for i in range(n):
        p = pol[i]
        d = dist[i]
        rd = r_days[i]
        ml = m_l[i]
        vl = v_l[i]
        mr = m_r[i]
        vr = v_r[i]
        qi = q[i]
        mt = ml + mr
        vt = vl + vr
        mj = 0.0
        vj = 0.0
        if p == POL_SQ and rd > 0.0:  # only the (R, s, nQ) cycle service needs the undershoot
            mj, vj = _undershoot_moments(d, mr, vr, qi)
        if p == POL_RS or rd > 0.0:
            mprot = mt
        else:
            mprot = ml
        lo = mprot if floor_ss else 0.0
        if lo < 0.0:
            lo = 0.0
        s, st = _solve_level(target[i], lo, p, metric[i], lost, d, rd, ml, vl, mr, vr, qi, mj, vj)
        if st == STATUS_FLOORED and not floor_ss:
            st = STATUS_OK
        out_status[i] = st
        out_s[i] = s
        out_ss[i] = s - mprot
        tail = 0.0
        if rd >= 1.0:
            tail = mr * (rd - 1.0) / (2.0 * rd)
        if p == POL_RS:
            ct, _, l1t, _ = c_eval(s, d, mt, vt)
            _, _, l1l, _ = c_eval(s, d, ml, vl)
            out_cycle[i] = ct
            out_fill[i] = _fill_and_slope(l1t - l1l, 0.0, mr, lost)[0]
            out_big_s[i] = s
            bo = l1t
            oh = s - mt + bo + tail
        else:
            out_cycle[i] = service_c(s, p, METRIC_CYCLE, lost, d, rd, ml, vl, mr, vr, qi, mj, vj)
            out_fill[i] = service_c(s, p, METRIC_FILL, lost, d, rd, ml, vl, mr, vr, qi, mj, vj)
            out_big_s[i] = s + qi
            if qi > 0.0:
                if rd > 0.0:
                    bo = (c_loss(s, d, mt, vt)[1] - c_loss(s + qi, d, mt, vt)[1]) / qi
                else:
                    bo = (c_loss(s, d, ml, vl)[1] - c_loss(s + qi, d, ml, vl)[1]) / qi
            else:
                bo = c_loss(s, d, mt, vt)[0]
            oh = s + 0.5 * qi - mt + bo + tail
        if bo < 0.0:
            bo = 0.0
        if oh < 0.0:
            oh = 0.0
        out_bo[i] = bo
        out_oh[i] = oh


def empty_outputs(n: int) -> dict[str, np.ndarray]:
    """Allocate the output arrays of :func:`policy_continuous` / the discrete kernel."""
    return {
        "s": np.empty(n), "S": np.empty(n), "ss": np.empty(n), "cycle": np.empty(n),
        "fill": np.empty(n), "bo": np.empty(n), "oh": np.empty(n),
        "status": np.empty(n, dtype=np.int8),
    }


__all__ = ["policy_continuous", "service_c", "empty_outputs", "DIST_NORMAL", "DIST_GAMMA"]
