"""Numba kernels: exact policies on integer demand, vectorised over items.

Demand over the lead time ``L``, the review period ``R`` and the protection interval ``T = L + R``
is held as integer pmfs in CSR form (``vals_x[ip_x[i]:ip_x[i + 1]]`` is ``P(D_x = 0, 1, ...)`` for
item ``i``).  :func:`pmf_sizes` and :func:`pmf_fill` build them from a parametric daily demand
(Poisson, negative binomial, or normal/gamma put on the integer grid) compounded over a discretised
lead-time distribution (Axsäter 2015, ch. 5, "stochastic lead times": mixture over lead times);
empirical pmfs built from sample paths use the same layout.

:func:`policy_discrete` then sizes RS, (R, s, nQ) and (R, s, S) policies exactly for a
service target.  All three are described by the stationary distribution ``pi`` of the inventory
position right after a review, on ``{s + 1, ..., s + Q}``:

* (R, s, nQ): uniform (Hadley & Whitin 1963);
* (R, s, S): ``pi(S - k)`` proportional to the renewal mass ``m(k)`` of the review-period demand,
  ``m(0) = 1 / (1 - f0)``, ``m(k) = sum_{i=1..k} f_i m(k - i) / (1 - f0)`` (Veinott & Wagner 1965;
  Zheng & Federgruen 1991, eq. 2);
* RS is (R, S - 1, S): ``pi`` is a point mass at ``S``.

Given ``pi``, with ``n_x`` the first-order loss function of ``D_x``:

* fill rate ``beta = 1 - sum_y pi(y) [n_T(y) - n_L(y)] / E[D_R]`` (backorders created per review
  period over demand per review period); lost sales: ``1 - B / (E[D_R] + B)``;
* cycle service (no stockout just before an order arrives) ``alpha = P(D_L <= s - U)`` with the
  undershoot ``U = s - IP_before_order`` at ordering reviews, ``P(U = j)`` proportional to
  ``sum_k pi(s + Q - k) f_R(Q - k + j)``;
* expected backorders at the end of a review period ``sum_y pi(y) n_T(y)`` and on-hand by balance.

The smallest reorder level meeting the target is found by bisection (both measures increase with
``s`` for a fixed ``Q``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import (
    METRIC_CYCLE,
    POL_NEWS,
    POL_RS,
    POL_SS,
    POLICY_FLOORED,
    POLICY_OK,
    POLICY_UNREACHABLE,
)
from stockopt._kernels.inventory.core import norm_cdf, pmf_add, pmf_support
from stockopt._kernels.inventory.policy import READY_MAX_POINTS, _fill_from_shortage


@numba.njit(**NUMBA_OPTS)
def lead_time_support(l_mean: float, l_sd: float) -> tuple[int, int]:
    """Integer lead-time range ``[lo, hi]`` used when ``l_sd > 0`` (mean +- 4 sd, clipped at 0)."""
    lo = int(math.floor(l_mean - 4.0 * l_sd))
    if lo < 0:
        lo = 0
    hi = int(math.ceil(l_mean + 4.0 * l_sd))
    if hi < lo:
        hi = lo
    return lo, hi


@numba.njit(**NUMBA_OPTS)
def lead_time_weight(k: int, lo: int, hi: int, l_mean: float, l_sd: float) -> float:
    """``P(round(N(l_mean, l_sd)) clipped to [lo, hi] == k)``."""
    up = 1.0 if k >= hi else norm_cdf((k + 0.5 - l_mean) / l_sd)
    dn = 0.0 if k <= lo else norm_cdf((k - 0.5 - l_mean) / l_sd)
    return up - dn


@numba.njit(**NUMBA_OPTS)
def pmf_sizes(dist, d, vd, l_mean, l_sd, r_days, size_l, size_r, size_t):
    """Support sizes of the lead-time, review-period and protection-interval pmfs per item.

    ``d`` and ``vd`` are the mean and variance of demand per day; demand over ``x`` days has mean
    ``d x`` and variance ``vd x``.
    """
    n = dist.shape[0]
    for i in range(n):
        if l_sd[i] > 0.0:
            lmax = float(lead_time_support(l_mean[i], l_sd[i])[1])
        else:
            lmax = l_mean[i]
        size_l[i] = pmf_support(dist[i], d[i] * lmax, vd[i] * lmax)
        size_r[i] = pmf_support(dist[i], d[i] * r_days[i], vd[i] * r_days[i])
        size_t[i] = pmf_support(dist[i], d[i] * (lmax + r_days[i]), vd[i] * (lmax + r_days[i]))


@numba.njit(**NUMBA_OPTS)
def pmf_fill(dist, d, vd, l_mean, l_sd, r_days, vals_l, ip_l, vals_r, ip_r, vals_t, ip_t):
    """Fill the CSR pmfs sized by :func:`pmf_sizes` (outputs must be zeroed by the caller)."""
    n = dist.shape[0]
    for i in range(n):
        ol = vals_l[ip_l[i]:ip_l[i + 1]]
        orr = vals_r[ip_r[i]:ip_r[i + 1]]
        ot = vals_t[ip_t[i]:ip_t[i + 1]]
        di = dist[i]
        r = r_days[i]
        pmf_add(orr, 1.0, di, d[i] * r, vd[i] * r)
        normalise(orr)
        lead_time_pmf(ol, di, d[i], vd[i], l_mean[i], l_sd[i], 0.0)
        lead_time_pmf(ot, di, d[i], vd[i], l_mean[i], l_sd[i], r)


@numba.njit(**NUMBA_OPTS)
def normalise(p):
    """Scale ``p`` to total mass 1 (mass cut off at the end of the support is thus spread back)."""
    tot = 0.0
    for k in range(p.shape[0]):
        tot += p[k]
    if tot > 0.0:
        for k in range(p.shape[0]):
            p[k] /= tot


@numba.njit(**NUMBA_OPTS)
def lead_time_pmf(out, dist, d, vd, l_mean, l_sd, extra):
    """Add the pmf of demand over ``L + extra`` days into ``out`` (zeroed) and normalise it; ``L`` is
    ``l_mean`` or, with ``l_sd > 0``, compounded over the discretised lead time (Axsäter 2015, ch. 5)."""
    if l_sd > 0.0:
        lo, hi = lead_time_support(l_mean, l_sd)
        for k in range(lo, hi + 1):
            w = lead_time_weight(k, lo, hi, l_mean, l_sd)
            if w > 0.0:
                pmf_add(out, w, dist, d * (k + extra), vd * (k + extra))
    else:
        x = l_mean + extra
        pmf_add(out, 1.0, dist, d * x, vd * x)
    normalise(out)


@numba.njit(**NUMBA_OPTS)
def _cdf_and_loss(p, cdf, loss):
    """Cumulative distribution and first-order loss ``n(y) = E[(D - y)^+]`` on ``0..len-1``."""
    n = p.shape[0]
    acc = 0.0
    for k in range(n):
        acc += p[k]
        cdf[k] = acc if acc < 1.0 else 1.0
    run = 0.0
    for k in range(n - 1, -1, -1):
        run += 1.0 - cdf[k]
        loss[k] = run


@numba.njit(**NUMBA_OPTS)
def _cdf_at(cdf, y):
    if y < 0:
        return 0.0
    if y >= cdf.shape[0]:
        return 1.0
    return cdf[y]


@numba.njit(**NUMBA_OPTS)
def _loss_at(loss, mean, y):
    if y < 0:
        return mean - y
    if y >= loss.shape[0]:
        return 0.0
    return loss[y]


@numba.njit(**NUMBA_OPTS)
def stationary_position(pol, q, f_r, pi):
    """Stationary inventory position after a review, ``pi[k] = P(IP = s + q - k)``, k < q."""
    if pol == POL_SS and q > 1:
        f0 = f_r[0]
        if f0 >= 1.0:
            for k in range(q):
                pi[k] = 0.0
            pi[0] = 1.0
            return
        scale = 1.0 / (1.0 - f0)
        nr = f_r.shape[0]
        tot = 0.0
        for k in range(q):
            if k == 0:
                mk = scale
            else:
                acc = 0.0
                top = k if k < nr - 1 else nr - 1
                for j in range(1, top + 1):
                    acc += f_r[j] * pi[k - j]
                mk = acc * scale
            pi[k] = mk
            tot += mk
        for k in range(q):
            pi[k] /= tot
    else:
        for k in range(q):
            pi[k] = 1.0 / q


@numba.njit(**NUMBA_OPTS)
def _service_d(s, metric, lost, q, pi, u, u_tot, cdf_l, loss_l, m_l, loss_t, m_t, m_r, cdf_t, news):
    if metric == METRIC_CYCLE:
        if news:  # newsvendor: every period is a cycle, P(D <= S)
            return _cdf_at(cdf_t, s + 1)
        if u_tot <= 0.0:
            return 1.0
        acc = 0.0
        for j in range(u.shape[0]):
            if u[j] != 0.0:
                acc += u[j] * _cdf_at(cdf_l, s - j)
        return acc / u_tot
    b = 0.0
    for k in range(q):
        y = s + q - k
        b += pi[k] * (_loss_at(loss_t, m_t, y) - _loss_at(loss_l, m_l, y))
    if b < 0.0:
        b = 0.0
    # a newsvendor's periods are independent (leftovers perish, a fresh order of S each period):
    # sold / demanded is 1 - B / E[D] whether the shortage is lost or not
    return _fill_from_shortage(b, m_r, lost and not news)


@numba.njit(**NUMBA_OPTS)
def _mean(p):
    acc = 0.0
    for k in range(p.shape[0]):
        acc += k * p[k]
    return acc


@numba.njit(**NUMBA_OPTS)
def on_hand(eip, m_t, m_r, bo_t, bo_l, r_days):
    """Average stock on hand at the end of a day, from the position after a review.

    With ``y`` the position after a review, the net stock at the end of the ``j``-th day after the
    order arrives is ``y - D_{L+j}`` (``j = 1..R``), so on hand averages
    ``E[y] - E[D_{L+j}] + E[n_{L+j}(y)]`` over the cycle.  The demand term is exact
    (``E[D_L] + E[D_R] (R + 1) / (2R)``); the loss term is interpolated linearly in ``j`` between
    ``n_L`` and ``n_T`` (exact at zero stock, where ``n_x(0) = E[D_x]``, and when shortages are
    negligible).  ``bo_t``, ``bo_l``: ``E[n_T(y)]``, ``E[n_L(y)]``; continuous review (``R < 1``):
    ``E[y] - E[D_T] + E[n_T(y)]``.
    """
    if r_days < 1.0:
        oh = eip - m_t + bo_t
    else:
        w = (r_days + 1.0) / (2.0 * r_days)
        oh = eip - (m_t - m_r) - m_r * w + bo_l + (bo_t - bo_l) * w
    return oh if oh > 0.0 else 0.0


@numba.njit(**NUMBA_OPTS)
def item_position(i, pol, qint, vals_l, ip_l, vals_r, ip_r, vals_t, ip_t):
    """Item ``i``'s review-period pmf, cdf and loss tables of ``D_L`` and ``D_T``, the three means,
    its kernel policy (newsvendor as RS, flagged), integer order quantity and stationary position
    ``pi`` (shared by :func:`policy_discrete` and the service curves)."""
    p_l = vals_l[ip_l[i]:ip_l[i + 1]]
    p_r = vals_r[ip_r[i]:ip_r[i + 1]]
    p_t = vals_t[ip_t[i]:ip_t[i + 1]]
    cdf_l = np.empty(p_l.shape[0])
    loss_l = np.empty(p_l.shape[0])
    cdf_t = np.empty(p_t.shape[0])
    loss_t = np.empty(p_t.shape[0])
    _cdf_and_loss(p_l, cdf_l, loss_l)
    _cdf_and_loss(p_t, cdf_t, loss_t)
    m_l = _mean(p_l)
    m_t = _mean(p_t)
    m_r = _mean(p_r)
    pc = pol[i]
    news = pc == POL_NEWS
    if news:
        pc = POL_RS
    q = 1 if pc == POL_RS else (qint[i] if qint[i] > 1 else 1)
    pi = np.empty(q)
    stationary_position(pc, q, p_r, pi)
    return p_r, cdf_l, loss_l, cdf_t, loss_t, m_l, m_t, m_r, pc, news, q, pi


@numba.njit(**NUMBA_OPTS)
def policy_discrete(pol, metric, target, r_days, qint, lost, floor_ss,
                    vals_l, ip_l, vals_r, ip_r, vals_t, ip_t,
                    out_s, out_big_s, out_ss, out_cycle, out_fill, out_bo, out_oh, out_freq,
                    out_status, fixed_s):
    """Size RS / (R, s, nQ) / (R, s, S) policies exactly on integer demand (module docstring).

    ``pol`` holds ``POL_RS`` (also used for base-stock), ``POL_NEWS`` (RS whose cycle service is the
    unconditional ``P(D_T <= S)``: every period is a cycle), ``POL_SQ`` or ``POL_SS``;
    ``qint`` the integer order quantity ``Q = S - s`` for sQ/sS.  ``out_s`` is the reported
    reorder point (``S`` for RS), ``out_freq`` the probability that a review places an order.
    ``fixed_s`` (one entry per item, or empty): when given, the reorder level ``s`` is taken from it
    instead of searched, and the kernel only evaluates the policy (used after a cost optimisation).
    """
    use_fixed = fixed_s.shape[0] == pol.shape[0]
    n = pol.shape[0]
    for i in range(n):
        (p_r, cdf_l, loss_l, cdf_t, loss_t, m_l, m_t, m_r, pc, news, q,
         pi) = item_position(i, pol, qint, vals_l, ip_l, vals_r, ip_r, vals_t, ip_t)
        p_t = vals_t[ip_t[i]:ip_t[i + 1]]
        nr = p_r.shape[0]
        u = np.zeros(nr)
        u_tot = 0.0
        for j in range(nr):
            acc = 0.0
            for k in range(q):
                idx = q - k + j
                if idx < nr:
                    acc += pi[k] * p_r[idx]
            u[j] = acc
            u_tot += acc
        shift = 1 if pc == POL_RS else 0  # RS reports S = s + 1
        mprot = m_t
        lo = 0
        if floor_ss:
            lo = int(math.ceil(mprot - 1e-9))
        lo -= shift
        if lo < -shift:
            lo = -shift
        hi = p_t.shape[0] + nr + q + 1
        met = metric[i]
        tg = target[i]
        st = POLICY_OK
        if use_fixed:
            s = fixed_s[i]
        elif _service_d(lo, met, lost, q, pi, u, u_tot, cdf_l, loss_l, m_l, loss_t, m_t, m_r, cdf_t,
                      news) >= tg:
            s = lo
            if floor_ss and lo > -shift:
                if _service_d(lo - 1, met, lost, q, pi, u, u_tot, cdf_l, loss_l, m_l, loss_t,
                              m_t, m_r, cdf_t, news) >= tg:
                    st = POLICY_FLOORED
        elif _service_d(hi, met, lost, q, pi, u, u_tot, cdf_l, loss_l, m_l, loss_t, m_t, m_r, cdf_t,
                        news) < tg:
            s = hi
            st = POLICY_UNREACHABLE
        else:
            a = lo  # fails
            b = hi  # meets
            while b - a > 1:
                c = (a + b) // 2
                if _service_d(c, met, lost, q, pi, u, u_tot, cdf_l, loss_l, m_l, loss_t,
                              m_t, m_r, cdf_t, news) >= tg:
                    b = c
                else:
                    a = c
            s = b
        out_status[i] = st
        big_s = s + q
        out_s[i] = s + shift
        out_big_s[i] = big_s
        out_ss[i] = s + shift - mprot
        out_cycle[i] = _service_d(s, METRIC_CYCLE, lost, q, pi, u, u_tot, cdf_l, loss_l, m_l,
                                  loss_t, m_t, m_r, cdf_t, news)
        out_fill[i] = _service_d(s, 1, lost, q, pi, u, u_tot, cdf_l, loss_l, m_l, loss_t, m_t, m_r,
                                 cdf_t, news)
        bo = 0.0
        bo_l = 0.0
        eip = 0.0
        for k in range(q):
            y = s + q - k
            bo += pi[k] * _loss_at(loss_t, m_t, y)
            bo_l += pi[k] * _loss_at(loss_l, m_l, y)
            eip += pi[k] * y
        oh = on_hand(eip, m_t, m_r, bo, bo_l, r_days[i])
        out_bo[i] = bo if bo > 0.0 else 0.0
        out_oh[i] = oh if oh > 0.0 else 0.0
        out_freq[i] = u_tot


@numba.njit(**NUMBA_OPTS)
def evaluate_discrete(pol, s_arr, q_arr, h, p, k_cost, vals_r, ip_r, vals_t, ip_t, out_cost):
    """Expected cost per review period of given (s, S = s + Q) policies (end-of-period costing).

    ``g(s, S) = K P(order) + sum_y pi(y) [h E(y - D_T)^+ + p E(D_T - y)^+]``, the quantity that
    Zheng & Federgruen (1991) minimise; used to check the stationary distribution against stockpyl.
    """
    n = pol.shape[0]
    for i in range(n):
        p_r = vals_r[ip_r[i]:ip_r[i + 1]]
        p_t = vals_t[ip_t[i]:ip_t[i + 1]]
        cdf_t = np.empty(p_t.shape[0])
        loss_t = np.empty(p_t.shape[0])
        _cdf_and_loss(p_t, cdf_t, loss_t)
        m_t = _mean(p_t)
        q = q_arr[i] if q_arr[i] > 1 else 1
        pi = np.empty(q)
        stationary_position(pol[i], q, p_r, pi)
        s = s_arr[i]
        nr = p_r.shape[0]
        freq = 0.0
        for j in range(nr):
            for k in range(q):
                idx = q - k + j
                if idx < nr:
                    freq += pi[k] * p_r[idx]
        g = k_cost[i] * freq
        for k in range(q):
            y = s + q - k
            bo = _loss_at(loss_t, m_t, y)
            g += pi[k] * (h[i] * (y - m_t + bo) + p[i] * bo)
        out_cost[i] = g


@numba.njit(**NUMBA_OPTS)
def _g_cost(y, h, p, loss_t, m_t):
    """Newsvendor cost of ending inventory position ``y``: ``h E(y - D)^+ + p E(D - y)^+``."""
    n = _loss_at(loss_t, m_t, y)
    return h * (y - m_t + n) + p * n


@numba.njit(**NUMBA_OPTS)
def _renewal_mass(f_r, size):
    m = np.empty(size)
    scale = 1.0 / (1.0 - f_r[0])
    nr = f_r.shape[0]
    for k in range(size):
        if k == 0:
            m[k] = scale
        else:
            acc = 0.0
            top = k if k < nr - 1 else nr - 1
            for j in range(1, top + 1):
                acc += f_r[j] * m[k - j]
            m[k] = acc * scale
    return m


@numba.njit(**NUMBA_OPTS)
def _ss_cost(s, big_s, k_cost, h, p, m, loss_t, m_t):
    """``c(s, S) = [K + sum_{j < S-s} m(j) G(S - j)] / M(S - s)`` (Zheng & Federgruen 1991, eq. 2)."""
    num = k_cost
    den = 0.0
    for j in range(big_s - s):
        num += m[j] * _g_cost(big_s - j, h, p, loss_t, m_t)
        den += m[j]
    return num / den


@numba.njit(**NUMBA_OPTS)
def policy_zheng_federgruen(h, p, k_cost, vals_r, ip_r, vals_t, ip_t, out_s, out_big_s, out_cost):
    """Cost-optimal periodic-review (s, S) on integer demand (Zheng & Federgruen 1991).

    Minimises the long-run cost per review period ``K P(order) + E[h (IP - D_T)^+ + p (D_T - IP)^+]``
    (holding ``h`` and backorder ``p`` per unit per review period, order cost ``K``) with the
    algorithm of Zheng & Federgruen: start from the myopic minimiser ``y*`` of ``G``, lower ``s``
    until ``c(s, y*) <= G(s)``, then raise ``S`` while ``G(S) <= c`` and re-adjust ``s`` after
    every improvement.  Exact for the given pmfs.
    """
    n = h.shape[0]
    for i in range(n):
        p_r = vals_r[ip_r[i]:ip_r[i + 1]]
        p_t = vals_t[ip_t[i]:ip_t[i + 1]]
        cdf_t = np.empty(p_t.shape[0])
        loss_t = np.empty(p_t.shape[0])
        _cdf_and_loss(p_t, cdf_t, loss_t)
        m_t = _mean(p_t)
        hi_, pi_, ki = h[i], p[i], k_cost[i]
        if p_r[0] >= 1.0 or m_t <= 0.0:  # no demand: never order
            out_s[i] = -1
            out_big_s[i] = 0
            out_cost[i] = 0.0
            continue
        # myopic minimiser y* of G (G is convex on the integers): first y with F_T(y) >= p/(p+h)
        ratio = pi_ / (pi_ + hi_)
        ystar = 0
        while _cdf_at(cdf_t, ystar) < ratio:
            ystar += 1
        size = 64
        m = _renewal_mass(p_r, size)
        s = ystar - 1
        while True:
            if ystar - s > size:
                size *= 2
                m = _renewal_mass(p_r, size)
            if _ss_cost(s, ystar, ki, hi_, pi_, m, loss_t, m_t) <= _g_cost(s, hi_, pi_, loss_t, m_t):
                break
            s -= 1
        big_s0 = ystar
        c0 = _ss_cost(s, big_s0, ki, hi_, pi_, m, loss_t, m_t)
        big_s = big_s0 + 1
        while _g_cost(big_s, hi_, pi_, loss_t, m_t) <= c0:
            if big_s - s > size:
                size *= 2
                m = _renewal_mass(p_r, size)
            if _ss_cost(s, big_s, ki, hi_, pi_, m, loss_t, m_t) < c0:
                big_s0 = big_s
                while (_ss_cost(s, big_s0, ki, hi_, pi_, m, loss_t, m_t)
                       <= _g_cost(s + 1, hi_, pi_, loss_t, m_t)):
                    s += 1
                c0 = _ss_cost(s, big_s0, ki, hi_, pi_, m, loss_t, m_t)
            big_s += 1
        out_s[i] = s
        out_big_s[i] = big_s0
        out_cost[i] = c0


# --------------------------------------------------------------------------- ready rate


@numba.njit(**NUMBA_OPTS)
def ready_points(r_days):
    """Days ``j`` at which the ready rate is evaluated: ``1..R`` up to ``READY_MAX_POINTS`` days,
    else the middle days of that many equal blocks (as ``policy.ready_rate_continuous``)."""
    r = int(math.floor(r_days + 0.5))
    if r < 1:
        r = 1
    npts = r if r <= READY_MAX_POINTS else READY_MAX_POINTS
    step = r / npts
    out = np.empty(npts)
    for k in range(npts):
        out[k] = float(k + 1) if npts == r else 0.5 + step * (k + 0.5)
    return out


@numba.njit(**NUMBA_OPTS)
def pmf_ready_sizes(dist, d, vd, l_mean, l_sd, r_days, jp, sizes):
    """Support sizes of the pmfs of ``D_{L+j}`` for every item and ready-rate day ``j``.

    Item ``i`` owns pmfs ``jp[i]..jp[i+1]-1`` (one per entry of :func:`ready_points`).
    """
    for i in range(dist.shape[0]):
        lmax = float(lead_time_support(l_mean[i], l_sd[i])[1]) if l_sd[i] > 0.0 else l_mean[i]
        days = ready_points(r_days[i])
        for k in range(days.shape[0]):
            x = lmax + days[k]
            sizes[jp[i] + k] = pmf_support(dist[i], d[i] * x, vd[i] * x)


@numba.njit(**NUMBA_OPTS)
def pmf_ready_fill(dist, d, vd, l_mean, l_sd, r_days, jp, vals, ip):
    """Fill the pmfs sized by :func:`pmf_ready_sizes`: ``P(D_{L+j} = k)``, compounded over the
    discretised lead time like :func:`pmf_fill` (``vals`` zeroed by the caller)."""
    for i in range(dist.shape[0]):
        days = ready_points(r_days[i])
        di = dist[i]
        for k in range(days.shape[0]):
            lead_time_pmf(vals[ip[jp[i] + k]:ip[jp[i] + k + 1]], di, d[i], vd[i], l_mean[i], l_sd[i], days[k])


@numba.njit(**NUMBA_OPTS)
def ready_rate_discrete(pol, qint, big_s, vals_r, ip_r, jp, vals_j, ip_j, out_ready):
    """Expected ready rate of RS / (R, s, nQ) / (R, s, S) policies on integer demand, per item.

    Share of days ending without backorders, a day ending at exactly zero counting as ready (as the
    simulator counts).  With ``pi`` the stationary inventory position after a review (the one
    :func:`policy_discrete` uses: point mass at ``S`` for RS, uniform on ``s+1..s+Q`` for (R, s, nQ),
    the renewal masses for (R, s, S)), the net stock at the end of the ``j``-th day after the
    order's arrival is ``IP - D_{L+j}``, so ``ready = (1/R) sum_j sum_y pi(y) P(D_{L+j} <= y)``
    (Silver, Pyke & Thomas 2017, ch. 7; Axsäter 2015, ch. 5, "S3").  ``big_s`` is the order-up-to
    level (top of the support of ``pi``), ``qint`` the order quantity (1 for RS / newsvendor);
    item ``i``'s pmfs of ``D_{L+j}`` are ``jp[i]..jp[i+1]-1`` in the CSR ``vals_j, ip_j``.
    """
    for i in range(pol.shape[0]):
        pc = pol[i]
        news = pc == POL_NEWS
        if news:
            pc = POL_RS
        q = 1 if pc == POL_RS else (qint[i] if qint[i] > 1 else 1)
        p_r = vals_r[ip_r[i]:ip_r[i + 1]]
        pi = np.empty(q)
        stationary_position(pc, q, p_r, pi)
        top = big_s[i]
        acc = 0.0
        npts = jp[i + 1] - jp[i]
        # newsvendor: unmet demand is lost within the period (the stock perishes at its end), so a
        # day after the stock ran out is still ready when it has no demand:
        # ready_j = P(D_j <= S) + P(D_{j-1} > S) P(no demand in a day), exact when the ready days
        # are 1..R (periods shorter than READY_MAX_POINTS days; longer ones keep the backorder
        # expression)
        p0 = 0.0
        if news and npts > 0 and vals_j[ip_j[jp[i]]:ip_j[jp[i] + 1]].shape[0] > 0:
            p0 = vals_j[ip_j[jp[i]]]  # the first ready day is day 1: P(D_1 = 0)
        exact_days = news and npts < READY_MAX_POINTS  # ready_points gave the days 1..R
        prev_cdf = 1.0  # P(D_0 <= S) = 1
        for k in range(npts):
            p = vals_j[ip_j[jp[i] + k]:ip_j[jp[i] + k + 1]]
            m = p.shape[0]
            # cdf at the positions top, top-1, ..., top-q+1 (descending): one pass over the pmf
            cdf = 0.0
            upto = -1  # cdf holds P(D <= upto)
            lowest = top - q + 1
            if lowest > 0:
                for t in range(min(lowest, m)):
                    cdf += p[t]
                upto = lowest - 1
            part = 0.0
            for kk in range(q - 1, -1, -1):  # positions from the lowest up
                y = top - kk
                while upto < y and upto + 1 < m:
                    upto += 1
                    cdf += p[upto]
                if y >= 0:
                    part += pi[kk] * (cdf if cdf < 1.0 else 1.0)
            if exact_days:  # q = 1, pi = [1]: part is P(D_j <= S)
                c_j = part
                part += (1.0 - prev_cdf) * p0
                prev_cdf = c_j
            acc += part
        r = acc / npts if npts > 0 else 1.0
        out_ready[i] = 0.0 if r < 0.0 else (1.0 if r > 1.0 else r)


# --------------------------------------------------------------------------- cost-optimal (R, s, nQ)


@numba.njit(**NUMBA_OPTS)
def policy_rnq_cost(h, p, k_cost, continuous, vals_r, ip_r, vals_l, ip_l, vals_t, ip_t, out_s, out_q,
                    out_cost):
    """Cost-optimal (R, s, nQ) on integer demand (Hadley & Whitin 1963; Zheng & Chen 1992).

    With the inventory position after a review uniform on ``s+1..s+Q`` (Hadley & Whitin), the
    long-run cost per review period is ``c(s, Q) = [K phi(Q) + sum_{y=s+1}^{s+Q} G(y)] / Q`` with
    ``G(y) = h E(y - D_T)^+ + p E(D_T - y)^+`` (the newsvendor cost of the end-of-period position,
    ``h``, ``p`` per unit per review period) and ``phi(Q) / Q = E[min(D_R, Q)] / Q`` the probability
    that a review orders.  ``continuous[i]`` gives the textbook continuous-review (r, Q) model of
    Federgruen & Zheng (1992) instead: ``G`` on ``D_L`` (``vals_l``), ``vals_r`` the demand of one
    time unit, ``phi = E[D_R]`` (orders per time unit ``lambda / Q``), costs per time unit.

    ``G`` is convex, so for each ``Q`` the best window ``{s+1..s+Q}`` grows from the myopic minimiser
    ``y*`` by adding the cheaper neighbour (Zheng & Chen 1992); its average ``W(Q)/Q`` never
    decreases and bounds ``c`` from below, so the search stops once it reaches the best cost.  Exact
    for the given pmfs.  Writes ``s``, ``Q`` and the optimal cost.
    """
    n = h.shape[0]
    for i in range(n):
        p_r = vals_r[ip_r[i]:ip_r[i + 1]]
        p_t = vals_l[ip_l[i]:ip_l[i + 1]] if continuous[i] else vals_t[ip_t[i]:ip_t[i + 1]]
        cdf_t = np.empty(p_t.shape[0])
        loss_t = np.empty(p_t.shape[0])
        _cdf_and_loss(p_t, cdf_t, loss_t)
        m_t = _mean(p_t)
        hi_, pi_, ki = h[i], p[i], k_cost[i]
        # no demand (or no cost to trade off): never order
        if p_r[0] >= 1.0 or (m_t <= 0.0 and not continuous[i]) or not (hi_ > 0.0 and pi_ > 0.0):
            out_s[i] = -1
            out_q[i] = 1
            out_cost[i] = 0.0
            continue
        ratio = pi_ / (pi_ + hi_)
        ystar = 0
        while _cdf_at(cdf_t, ystar) < ratio:
            ystar += 1
        m_r = _mean(p_r)
        lo = ystar
        top = ystar
        w = _g_cost(ystar, hi_, pi_, loss_t, m_t)
        sf_acc = 1.0 - p_r[0]  # E[min(D_R, Q)] = sum_{j=0}^{Q-1} P(D_R > j)
        phi = m_r if continuous[i] else sf_acc
        best = (ki * phi + w) / 1.0
        best_s = lo - 1
        best_q = 1
        q = 1
        cdf_r = p_r[0]
        g_left = _g_cost(lo - 1, hi_, pi_, loss_t, m_t)
        g_right = _g_cost(top + 1, hi_, pi_, loss_t, m_t)
        while w / q < best:
            if g_left <= g_right:
                w += g_left
                lo -= 1
                g_left = _g_cost(lo - 1, hi_, pi_, loss_t, m_t)
            else:
                w += g_right
                top += 1
                g_right = _g_cost(top + 1, hi_, pi_, loss_t, m_t)
            if q < p_r.shape[0]:
                cdf_r += p_r[q]
            sf_acc += 1.0 - (cdf_r if cdf_r < 1.0 else 1.0)
            q += 1
            phi = m_r if continuous[i] else sf_acc
            c = (ki * phi + w) / q
            if c < best:
                best = c
                best_s = lo - 1
                best_q = q
        out_s[i] = best_s
        out_q[i] = best_q
        out_cost[i] = best
