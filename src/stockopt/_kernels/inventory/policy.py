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
from stockopt._kernels.codes import (
    DIST_GAMMA,
    DIST_NORMAL,
    METRIC_CYCLE,
    METRIC_FILL,
    POL_RS,
    POL_SQ,
    POLICY_FLOORED,
    POLICY_OK,
    POLICY_UNREACHABLE,
)
from stockopt._kernels.inventory.core import (
    bracketed_step,
    c_eval_at,
    c_partial_moments,
    c_ppf,
    gamma_lga,
    gamma_ppf_at,
)

# Scratch layout of the per-item anchor array ``anc`` (see ``core.c_eval_at``): the last
# evaluation point and ``P, Q`` there for each of the five points a policy evaluates, then the
# ``lgamma`` of the three gamma shapes.  Successive root-finder iterates move all points together,
# so a gamma is re-evaluated incrementally from its previous value instead of afresh.
A_LS = 0  # D_L at s
A_LSQ = 3  # D_L at s + Q
A_TS = 6  # D_T at s
A_TSQ = 9  # D_T at s + Q
A_JS = 12  # D_L + U at s (sQ cycle service)
LG_L = 15
LG_T = 16
LG_J = 17
N_ANC = 18



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
    e1, h2, e3 = c_partial_moments(0.0, dist, m_r, v_r)
    e2 = 2.0 * h2
    n1 = 0.0
    n2 = 0.0
    n3 = 0.0
    if q > 0.0 and q < math.inf:
        n1, n2, n3 = c_partial_moments(q, dist, m_r, v_r)
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
def _fill_curve(b: float, db: float, d2b: float, m_r: float, lost: bool) -> tuple[float, float, float]:
    """Fill rate from the shortage ``b`` per period, with its first and second derivatives in ``s``."""
    if m_r <= 0.0:
        return 1.0, 0.0, 0.0
    if b < 0.0:
        b = 0.0
    if lost:
        den = m_r + b
        den2 = den * den
        return m_r / den, -m_r * db / den2, -m_r * d2b / den2 + 2.0 * m_r * db * db / (den2 * den)
    f = 1.0 - b / m_r
    return (f if f > 0.0 else 0.0), -db / m_r, -d2b / m_r


@numba.njit(**NUMBA_OPTS)
def service_cdd(s, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j, anc):
    """Service measure (cycle service or fill rate) of reorder level ``s`` and its first two derivatives.

    The measure increases with ``s``; derivatives use ``d loss1 / dx = -(1 - F)``,
    ``d loss2 / dx = -loss1`` and ``dF / dx = f``.  ``anc`` is the item's anchor scratch (layout
    ``A_*``, ``LG_*``).  The second derivative of a cycle service is not needed (cycle levels are
    quantiles) and is returned as 0.
    """
    m_t = m_l + m_r
    v_t = v_l + v_r
    if pol == POL_RS:
        ct, pt, l1t, _ = c_eval_at(s, dist, m_t, v_t, anc[LG_T], anc, A_TS)
        if metric == METRIC_CYCLE:
            return ct, pt, 0.0
        cl, pl, l1l, _ = c_eval_at(s, dist, m_l, v_l, anc[LG_L], anc, A_LS)
        return _fill_curve(l1t - l1l, ct - cl, pt - pl, m_r, lost)
    # (R, s, nQ)
    if metric == METRIC_CYCLE:
        if r_days <= 0.0:
            c, p, _, _ = c_eval_at(s, dist, m_l, v_l, anc[LG_L], anc, A_LS)
        else:
            c, p, _, _ = c_eval_at(s, dist, m_l + m_j, v_l + v_j, anc[LG_J], anc, A_JS)
        return c, p, 0.0
    if q <= 0.0:
        return 0.0, 0.0, 0.0
    la_c, la_p, la1, la2 = c_eval_at(s, dist, m_l, v_l, anc[LG_L], anc, A_LS)
    lb_c, lb_p, lb1, lb2 = c_eval_at(s + q, dist, m_l, v_l, anc[LG_L], anc, A_LSQ)
    if r_days <= 0.0:
        return _fill_curve(la1 - lb1, la_c - lb_c, la_p - lb_p, q, lost)
    ta_c, _, ta1, ta2 = c_eval_at(s, dist, m_t, v_t, anc[LG_T], anc, A_TS)
    tb_c, _, tb1, tb2 = c_eval_at(s + q, dist, m_t, v_t, anc[LG_T], anc, A_TSQ)
    b = (ta2 - tb2 - la2 + lb2) / q
    db = (-ta1 + tb1 + la1 - lb1) / q
    d2b = (tb_c - ta_c + la_c - lb_c) / q
    return _fill_curve(b, db, d2b, m_r, lost)


@numba.njit(**NUMBA_OPTS)
def service_cd(s, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j, anc):
    """Service measure of reorder level ``s`` and its slope (see :func:`service_cdd`)."""
    g, d, _ = service_cdd(s, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j, anc)
    return g, d


@numba.njit(**NUMBA_OPTS)
def new_anchors(dist, m_l, v_l, m_r, v_r, m_j, v_j, anc):
    """Reset the anchor scratch ``anc`` for a new item (no anchors; ``lgamma`` of the shapes)."""
    for k in range(0, LG_L, 3):
        anc[k] = math.nan
    anc[LG_L] = gamma_lga(dist, m_l, v_l)
    anc[LG_T] = gamma_lga(dist, m_l + m_r, v_l + v_r)
    anc[LG_J] = gamma_lga(dist, m_l + m_j, v_l + v_j)


@numba.njit(**NUMBA_OPTS)
def service_c(s, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j):
    """Service measure of reorder level ``s`` (see :func:`service_cd`; stand-alone, allocates scratch)."""
    anc = np.empty(N_ANC)
    new_anchors(dist, m_l, v_l, m_r, v_r, m_j, v_j, anc)
    return service_cd(s, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j, anc)[0]


@numba.njit(**NUMBA_OPTS)
def _newton(target, a, x, g, d, d2, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j, anc):
    """Safeguarded Halley iteration from ``x`` (service minus target ``g``, slope ``d``, curvature
    ``d2``) with the root above ``a``.

    Returns ``(level, status)``.  The service measures are increasing and concave above the mean
    demand; Halley's step ``-g / d / (1 - g d2 / (2 d^2))`` converges cubically (Newton's step
    is used when the correction factor is not safely positive); bisection takes over whenever a
    step leaves the current bracket ``(a, b)``, and the bracket is expanded geometrically while no
    upper end is known.  After a step below ``1e-7`` standard deviations the remaining error is
    of order ``1e-14`` of a standard deviation (Newton) or far less (Halley), so the step is
    accepted without a further evaluation (the caller's outputs evaluate the final level).
    """
    sd = math.sqrt(v_l + v_r)
    width = sd if sd > 1e-9 else 1.0
    b = math.inf
    if g >= 0.0:
        b = x
    for _ in range(300):
        if g == 0.0:
            break
        if d > 0.0:
            u = g / d
            den = 1.0 - 0.5 * u * d2 / d
            xn = x - (u / den if den > 0.5 and den < 2.0 else u)
        else:
            xn = math.nan
        step = abs(xn - x)
        if step <= 1e-11 * (1.0 + abs(x)) or step <= 1e-7 * width:  # converged
            x = xn
            break
        xn, width, unreachable = bracketed_step(xn, a, b, width, 1e15 * (1.0 + sd))
        if unreachable:
            return xn, POLICY_UNREACHABLE
        gn, dn, d2n = service_cdd(xn, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j, anc)
        gn -= target
        if gn >= 0.0:
            b = xn
        else:
            a = xn
        step = abs(xn - x)
        x = xn
        g = gn
        d = dn
        d2 = d2n
        if step <= 1e-11 * (1.0 + abs(x)) or abs(g) < 1e-11 or (b - a) <= 1e-11 * (1.0 + abs(x)):
            break
    return x, POLICY_OK


@numba.njit(**NUMBA_OPTS)
def _quantile(target, dist, m, v, anc, k, lg):
    if dist == DIST_GAMMA and v > 0.0 and m > 0.0:
        return gamma_ppf_at(target, m, v, lg, anc, k)
    return c_ppf(target, dist, m, v)


@numba.njit(**NUMBA_OPTS)
def _solve_level(target, lo, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j, anc):
    """Smallest level ``s >= lo`` with service ``>= target`` (``POLICY_FLOORED`` if ``lo`` suffices)."""
    if metric == METRIC_CYCLE:  # every cycle service is a cdf: the level is a quantile
        if pol == POL_RS:  # P(D_T <= S)
            x = _quantile(target, dist, m_l + m_r, v_l + v_r, anc, A_TS, anc[LG_T])
        elif r_days <= 0.0:  # P(D_L <= s)
            x = _quantile(target, dist, m_l, v_l, anc, A_LS, anc[LG_L])
        else:  # P(D_L + U <= s)
            x = _quantile(target, dist, m_l + m_j, v_l + v_j, anc, A_JS, anc[LG_J])
        if x > lo:
            return x, POLICY_OK
        return lo, POLICY_FLOORED
    if dist == DIST_GAMMA:
        # warm start from the normal solution with the same moments (cheap to evaluate): when the
        # gamma service there is still short of the target the root lies above it (no floor check
        # needed) and Halley on the gamma then takes short, incrementally evaluated steps
        gn, dn, d2n = service_cdd(lo, pol, metric, lost, DIST_NORMAL, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j,
                                  anc)
        gn -= target
        if gn < 0.0:
            xs, st = _newton(target, lo, lo, gn, dn, d2n, pol, metric, lost, DIST_NORMAL, r_days, m_l, v_l,
                             m_r, v_r, q, m_j, v_j, anc)
            if st == POLICY_OK and xs > lo:
                gs, ds, d2s = service_cdd(xs, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q,
                                          m_j, v_j, anc)
                gs -= target
                if gs < 0.0:
                    return _newton(target, xs, xs, gs, ds, d2s, pol, metric, lost, dist, r_days, m_l, v_l,
                                   m_r, v_r, q, m_j, v_j, anc)
    g, d, d2 = service_cdd(lo, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j, v_j, anc)
    g -= target
    if g >= 0.0:
        return lo, POLICY_FLOORED
    return _newton(target, lo, lo, g, d, d2, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q, m_j,
                   v_j, anc)


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
    anc = np.empty(N_ANC)  # per-item scratch, reused (no allocation in the loop)
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
        new_anchors(d, ml, vl, mr, vr, mj, vj, anc)
        s, st = _solve_level(target[i], lo, p, metric[i], lost, d, rd, ml, vl, mr, vr, qi, mj, vj, anc)
        if st == POLICY_FLOORED and not floor_ss:
            st = POLICY_OK
        out_status[i] = st
        out_s[i] = s
        out_ss[i] = s - mprot
        tail = 0.0
        if rd >= 1.0:
            tail = mr * (rd - 1.0) / (2.0 * rd)
        # outputs at s: the solver's last evaluations are the anchors, so gamma points cost little
        if p == POL_RS:
            ct, _, l1t, _ = c_eval_at(s, d, mt, vt, anc[LG_T], anc, A_TS)
            _, _, l1l, _ = c_eval_at(s, d, ml, vl, anc[LG_L], anc, A_LS)
            out_cycle[i] = ct
            out_fill[i] = _fill_and_slope(l1t - l1l, 0.0, mr, lost)[0]
            out_big_s[i] = s
            bo = l1t
            oh = s - mt + bo + tail
        else:
            out_cycle[i] = service_cd(s, p, METRIC_CYCLE, lost, d, rd, ml, vl, mr, vr, qi, mj, vj, anc)[0]
            out_fill[i] = service_cd(s, p, METRIC_FILL, lost, d, rd, ml, vl, mr, vr, qi, mj, vj, anc)[0]
            out_big_s[i] = s + qi
            if qi > 0.0:
                if rd > 0.0:
                    bo = (c_eval_at(s, d, mt, vt, anc[LG_T], anc, A_TS)[3]
                          - c_eval_at(s + qi, d, mt, vt, anc[LG_T], anc, A_TSQ)[3]) / qi
                else:
                    bo = (c_eval_at(s, d, ml, vl, anc[LG_L], anc, A_LS)[3]
                          - c_eval_at(s + qi, d, ml, vl, anc[LG_L], anc, A_LSQ)[3]) / qi
            else:
                bo = c_eval_at(s, d, mt, vt, anc[LG_T], anc, A_TS)[2]
            oh = s + 0.5 * qi - mt + bo + tail
        if bo < 0.0:
            bo = 0.0
        if oh < 0.0:
            oh = 0.0
        out_bo[i] = bo
        out_oh[i] = oh


#: review periods longer than this many days are averaged over this many equal blocks of days
READY_MAX_POINTS = 32


@numba.njit(**NUMBA_OPTS)
def _ready_at(j, pol, dist, s, q, m_l, v_l, d, vd, anc):
    """P(no backorder at the end of the day ``j`` days into a cycle) = P(IP - D_{L+j} >= 0)."""
    m = m_l + d * j
    v = v_l + vd * j
    lga = gamma_lga(dist, m, v)  # one lgamma shared by the two points of a day
    anc[0] = math.nan
    anc[3] = math.nan
    if pol == POL_SQ and q > 0.0:  # IP uniform on (s, s+Q]: (1/Q) int_s^{s+Q} F = 1 - (n(s) - n(s+Q)) / Q
        n_s = c_eval_at(s, dist, m, v, lga, anc, 0)[2]
        r = 1.0 - (n_s - c_eval_at(s + q, dist, m, v, lga, anc, 3)[2]) / q
    else:
        r = c_eval_at(s, dist, m, v, lga, anc, 0)[0]
    if r < 0.0:
        return 0.0
    if r > 1.0:
        return 1.0
    return r


@numba.njit(**NUMBA_OPTS)
def ready_rate_continuous(pol, dist, r_days, m_l, v_l, d_day, vd_day, s, q, out_ready):
    """Expected ready rate of RS / (R, s, nQ) policies under normal or gamma demand, per item.

    Ready rate (Silver, Pyke & Thomas 2017, ch. 7; Axsäter 2015, ch. 5, "S3"): the long-run share
    of days that end without backorders (for continuous demand: with positive stock on hand).
    With the timing of the module docstring, the net stock at the end of the ``j``-th day
    (``j = 1..R``) after the arrival of the order placed at a review is ``IP - D_{L+j}``, where
    ``IP`` is the inventory position after that review: ``S`` for RS, uniform on ``(s, s+Q]`` for
    (R, s, nQ) (Hadley & Whitin 1963), hence ``P = (1/Q) int_s^{s+Q} F_{L+j}(y) dy
    = 1 - [n_{L+j}(s) - n_{L+j}(s+Q)] / Q``.  The ready rate is the average over the ``R`` days of
    a cycle; ``R`` is the review period in whole days (continuous review is simulated daily:
    ``R = 1``).  ``D_{L+j}`` has mean ``E[D_L] + j d`` and variance ``Var[D_L] + j sigma_d^2``
    (daily moments ``d_day, vd_day``).  The average is exact (one evaluation per day) up to
    ``READY_MAX_POINTS`` days; longer review periods are split into that many equal blocks, each
    represented by its middle day (the moments are linear in ``j``, so fractional days are fine).
    Lost sales use the same expression (an approximation).  Writes ``out_ready``.
    """
    n = pol.shape[0]
    anc = np.empty(6)
    for i in range(n):
        r = int(math.floor(r_days[i] + 0.5))
        if r < 1:
            r = 1
        npts = r if r <= READY_MAX_POINTS else READY_MAX_POINTS
        step = r / npts
        acc = 0.0
        for k in range(npts):
            j = float(k + 1) if npts == r else 0.5 + step * (k + 0.5)
            acc += _ready_at(j, pol[i], dist[i], s[i], q[i], m_l[i], v_l[i], d_day[i], vd_day[i], anc)
        out_ready[i] = acc / npts


def empty_outputs(n: int) -> dict[str, np.ndarray]:
    """Allocate the output arrays of :func:`policy_continuous` / the discrete kernel."""
    return {
        "s": np.empty(n), "S": np.empty(n), "ss": np.empty(n), "cycle": np.empty(n),
        "fill": np.empty(n), "bo": np.empty(n), "oh": np.empty(n),
        "status": np.empty(n, dtype=np.int8),
    }


__all__ = ["policy_continuous", "ready_rate_continuous", "service_c", "empty_outputs", "DIST_NORMAL",
           "DIST_GAMMA"]
