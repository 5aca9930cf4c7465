"""Numba kernel: RS and (R, s, nQ) policies for normal / gamma demand with a random lead time.

With a random lead time ``L`` the demand over the lead time is a mixture: ``L`` is discretised
exactly as in the exact integer methods and the simulator (a normal ``N(l_mean, l_sd)`` rounded
to whole days and clipped to ``[lo, hi]`` = mean +- 4 sd, see
:func:`stockopt._kernels.inventory.discrete.lead_time_support`), and given ``L = k`` the demand
over ``k`` days is normal or gamma with mean ``d k`` and variance ``vd k`` (``d, vd`` per day).
Demand over the protection interval adds the review period: mean ``d k + E[D_R]``, variance
``vd k + Var[D_R]``.  The cdf and the first- and second-order loss functions of a mixture are the
weighted sums of those of its components (Axsäter 2015, ch. 5, stochastic lead times; Silver,
Pyke & Thomas 2017, ch. 6), so every service expression of
:mod:`stockopt._kernels.inventory.policy` holds unchanged with the mixture in place of the
moment-matched distribution ``Var = L sigma_d^2 + d^2 sigma_L^2``.  The (R, s, nQ) undershoot
does not depend on the lead time, so its moments shift every component of ``D_L + U``.

Levels are found by a safeguarded Newton iteration on the increasing service measure (bracket
kept, bisection when a step leaves it, geometric expansion while no upper end is known).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import (
    DIST_NORMAL,
    METRIC_CYCLE,
    METRIC_FILL,
    POL_RS,
    POLICY_FLOORED,
    POLICY_OK,
    POLICY_UNREACHABLE,
)
from stockopt._kernels.inventory.core import bracketed_step, c_eval
from stockopt._kernels.inventory.discrete import lead_time_support, lead_time_weight
from stockopt._kernels.inventory.policy import (
    N_ANC,
    _fill_and_slope,
    _fill_curve,
    _solve_level,
    _undershoot_moments,
    new_anchors,
)

__all__ = ["mix_eval", "mix_service", "policy_mixture"]


@numba.njit(**NUMBA_OPTS)
def mix_eval(x: float, dist: int, d: float, vd: float, l_mean: float, l_sd: float, add_m: float,
             add_v: float) -> tuple[float, float, float, float]:
    """``(cdf, pdf, loss1, loss2)`` at ``x`` of the lead-time mixture.

    Components ``k = lo..hi`` (rounded-normal lead time, weights
    :func:`~stockopt._kernels.inventory.discrete.lead_time_weight`) with mean ``d k + add_m`` and
    variance ``vd k + add_v`` in the family ``dist``; ``loss1 = E[(X-x)^+]``,
    ``loss2 = 0.5 E[((X-x)^+)^2]`` (Zipkin 2000, app. C).
    """
    lo, hi = lead_time_support(l_mean, l_sd)
    c = 0.0
    p = 0.0
    l1 = 0.0
    l2 = 0.0
    for k in range(lo, hi + 1):
        w = lead_time_weight(k, lo, hi, l_mean, l_sd)
        if w <= 0.0:
            continue
        cc, pp, a1, a2 = c_eval(x, dist, d * k + add_m, vd * k + add_v)
        c += w * cc
        p += w * pp
        l1 += w * a1
        l2 += w * a2
    if c > 1.0:
        c = 1.0
    return c, p, l1, l2


@numba.njit(**NUMBA_OPTS)
def mix_service(s, pol, metric, lost, dist, r_days, d, vd, l_mean, l_sd, m_r, v_r, q, m_j, v_j):
    """Service measure of level ``s`` on the mixture, with its first and second derivatives in ``s``.

    Same expressions as :func:`stockopt._kernels.inventory.policy.service_cdd`: RS cycle
    ``P(D_T <= S)``, fill ``1 - [n_T(S) - n_L(S)] / E[D_R]``; (R, s, nQ) cycle ``P(D_L + U <= s)``
    (``P(D_L <= s)`` under continuous review), fill
    ``1 - [n2_T(s) - n2_T(s+Q) - n2_L(s) + n2_L(s+Q)] / (Q E[D_R])`` (``1 - [n_L(s) - n_L(s+Q)] / Q``
    under continuous review).  The second derivative of a cycle service is returned as 0.
    """
    if pol == POL_RS:
        ct, pt, l1t, _ = mix_eval(s, dist, d, vd, l_mean, l_sd, m_r, v_r)
        if metric == METRIC_CYCLE:
            return ct, pt, 0.0
        cl, pl, l1l, _ = mix_eval(s, dist, d, vd, l_mean, l_sd, 0.0, 0.0)
        return _fill_curve(l1t - l1l, ct - cl, pt - pl, m_r, lost)
    if metric == METRIC_CYCLE:
        if r_days <= 0.0:
            c, p, _, _ = mix_eval(s, dist, d, vd, l_mean, l_sd, 0.0, 0.0)
        else:
            c, p, _, _ = mix_eval(s, dist, d, vd, l_mean, l_sd, m_j, v_j)
        return c, p, 0.0
    if q <= 0.0:
        return 0.0, 0.0, 0.0
    la_c, la_p, la1, la2 = mix_eval(s, dist, d, vd, l_mean, l_sd, 0.0, 0.0)
    lb_c, lb_p, lb1, lb2 = mix_eval(s + q, dist, d, vd, l_mean, l_sd, 0.0, 0.0)
    if r_days <= 0.0:
        return _fill_curve(la1 - lb1, la_c - lb_c, la_p - lb_p, q, lost)
    ta_c, _, ta1, ta2 = mix_eval(s, dist, d, vd, l_mean, l_sd, m_r, v_r)
    tb_c, _, tb1, tb2 = mix_eval(s + q, dist, d, vd, l_mean, l_sd, m_r, v_r)
    b = (ta2 - tb2 - la2 + lb2) / q
    db = (-ta1 + tb1 + la1 - lb1) / q
    d2b = (tb_c - ta_c + la_c - lb_c) / q
    return _fill_curve(b, db, d2b, m_r, lost)


@numba.njit(**NUMBA_OPTS)
def _solve_mix(target, lo, x0, width, pol, metric, lost, dist, r_days, d, vd, l_mean, l_sd, m_r, v_r, q,
               m_j, v_j):
    """Smallest level ``s >= lo`` with service ``>= target``: safeguarded Newton from ``x0``.

    Returns ``(level, status)``; ``POLICY_FLOORED`` when ``lo`` already meets the target.
    """
    g, dg, _ = mix_service(lo, pol, metric, lost, dist, r_days, d, vd, l_mean, l_sd, m_r, v_r, q, m_j, v_j)
    g -= target
    if g >= 0.0:
        return lo, POLICY_FLOORED
    a = lo
    b = math.inf
    x = lo
    if x0 > lo:  # a start close to the root (moment-matched quantile) saves iterations
        g0, d0, _ = mix_service(x0, pol, metric, lost, dist, r_days, d, vd, l_mean, l_sd, m_r, v_r, q, m_j,
                                v_j)
        g0 -= target
        if g0 >= 0.0:
            b = x0
        else:
            a = x0
        x = x0
        g = g0
        dg = d0
    span = width
    for _ in range(300):
        if g == 0.0:
            break
        xn, span, unreachable = bracketed_step(x - g / dg if dg > 0.0 else math.nan, a, b, span,
                                               1e15 * (1.0 + width))
        if unreachable:
            return xn, POLICY_UNREACHABLE
        gn, dn, _ = mix_service(xn, pol, metric, lost, dist, r_days, d, vd, l_mean, l_sd, m_r, v_r, q, m_j,
                                v_j)
        gn -= target
        if gn >= 0.0:
            b = xn
        else:
            a = xn
        step = abs(xn - x)
        x = xn
        g = gn
        dg = dn
        if step <= 1e-10 * width or abs(g) < 1e-13 or (b - a) <= 1e-12 * (1.0 + abs(x)):
            break
    if g < 0.0 and dg > 0.0:  # converged from below: close the last rounding-level gap
        x -= g / dg
    return x, POLICY_OK


@numba.njit(**NUMBA_OPTS)
def policy_mixture(pol, dist, metric, target, r_days, d_day, vd_day, l_mean, l_sd, m_l, m_r, v_r, q, lost,
                   floor_ss, out_s, out_big_s, out_ss, out_cycle, out_fill, out_bo, out_oh, out_status):
    """Size RS (``pol = POL_RS``) or (R, s, nQ) policies on the exact lead-time mixture, per item.

    Parameters are 1-D arrays (one entry per item) except ``lost`` / ``floor_ss`` (booleans):
    policy and distribution codes, service metric and target, review period ``r_days`` (0 =
    continuous review), demand per day ``d_day`` (mean, units) and ``vd_day`` (variance), lead time
    mean ``l_mean`` and sd ``l_sd`` (days), mean lead-time demand ``m_l`` (reported and used for
    the safety stock), mean and variance of demand over the review period ``m_r, v_r`` and the
    order quantity ``q`` (units).  Outputs as
    :func:`stockopt._kernels.inventory.policy.policy_continuous`.
    """
    n = pol.shape[0]
    anc = np.empty(N_ANC)
    for i in range(n):
        p = pol[i]
        di = dist[i]
        rd = r_days[i]
        d = d_day[i]
        vd = vd_day[i]
        lm = l_mean[i]
        ls = l_sd[i]
        mr = m_r[i]
        vr = v_r[i]
        qi = q[i]
        mj = 0.0
        vj = 0.0
        if p != POL_RS and rd > 0.0:
            mj, vj = _undershoot_moments(di, mr, vr, qi)
        if p == POL_RS or rd > 0.0:
            mprot = m_l[i] + mr
            vprot = vd * lm + d * d * ls * ls + vr
        else:
            mprot = m_l[i]
            vprot = vd * lm + d * d * ls * ls
        sd = math.sqrt(vprot) if vprot > 0.0 else 0.0
        width = sd if sd > 1e-9 else 1.0
        lo = mprot if floor_ss else 0.0
        if lo < 0.0:
            lo = 0.0
        # start from the moment-matched normal solution (normal evaluations only, cheap)
        vl_mm = vd * lm + d * d * ls * ls
        new_anchors(DIST_NORMAL, m_l[i], vl_mm, mr, vr, mj, vj, anc)
        x0 = _solve_level(target[i], lo, p, metric[i], lost, DIST_NORMAL, rd, m_l[i], vl_mm, mr, vr, qi, mj,
                          vj, anc)[0]
        s, st = _solve_mix(target[i], lo, x0, width, p, metric[i], lost, di, rd, d, vd, lm, ls, mr, vr, qi,
                           mj, vj)
        if st == POLICY_FLOORED and not floor_ss:
            st = POLICY_OK
        out_status[i] = st
        out_s[i] = s
        out_ss[i] = s - mprot
        tail = 0.0
        if rd >= 1.0:
            tail = mr * (rd - 1.0) / (2.0 * rd)
        out_cycle[i] = mix_service(s, p, METRIC_CYCLE, lost, di, rd, d, vd, lm, ls, mr, vr, qi, mj, vj)[0]
        if p == POL_RS:
            ct, _, l1t, _ = mix_eval(s, di, d, vd, lm, ls, mr, vr)
            l1l = mix_eval(s, di, d, vd, lm, ls, 0.0, 0.0)[2]
            out_fill[i] = _fill_and_slope(l1t - l1l, 0.0, mr, lost)[0]
            out_big_s[i] = s
            bo = l1t
            oh = s - mprot + bo + tail
        else:
            out_fill[i] = mix_service(s, p, METRIC_FILL, lost, di, rd, d, vd, lm, ls, mr, vr, qi, mj, vj)[0]
            out_big_s[i] = s + qi
            if qi > 0.0:
                ma = mr if rd > 0.0 else 0.0
                va = vr if rd > 0.0 else 0.0
                bo = (mix_eval(s, di, d, vd, lm, ls, ma, va)[3]
                      - mix_eval(s + qi, di, d, vd, lm, ls, ma, va)[3]) / qi
            else:
                bo = mix_eval(s, di, d, vd, lm, ls, mr, vr)[2]
            oh = s + 0.5 * qi - (m_l[i] + mr) + bo + tail
        if bo < 0.0:
            bo = 0.0
        if oh < 0.0:
            oh = 0.0
        out_bo[i] = bo
        out_oh[i] = oh
