"""Numba kernels: order-up-to policies (RS, base stock) with i.i.d. random lead times and crossing orders.

Model (timing of ``docs/inventory.md``).  A review every ``R`` days (integer, ``R = 1`` for base
stock) orders up to ``S``; the order placed at review ``t`` carries the demand of the ``R`` days
before it and arrives at the start of day ``t + L``, the lead times ``L`` i.i.d. over orders (a
normal rounded to whole days and clipped to mean +- 4 sd, exactly as the simulator draws it;
:func:`stockopt._kernels.inventory.discrete.lead_time_support`), so orders may cross.  At the end
of day ``u = t_last + j`` (``j = 0..R-1`` days after the last review ``t_last``) the net stock is
``S - X_j`` with the shortfall

    ``X_j = D[t_last, u] + sum_{m >= 0} Q_m 1[L_m > j + m R]``,

``Q_m`` the (i.i.d., ``R``-day) quantity of the order placed ``m`` reviews before ``t_last`` and
the indicators independent with ``P(L > age)`` (Hadley & Whitin 1963, ch. 4; Zalkind 1978;
Bradley & Robinson 2005).  Because the ``Q_m`` are i.i.d. and independent of the indicators, the
sum over the ``N_j`` outstanding orders is demand over ``N_j R`` days, so ``X_j`` is *exactly*
demand over ``j + 1 + N_j R`` days with ``N_j`` Poisson-binomial (the number of successes of the
independent indicators).  Ages below the shortest lead time are certain, ages at or beyond the
longest are impossible; only the others enter the Poisson-binomial.  (Palm's theorem would give a
Poisson shortfall for one-for-one orders with one lead time per *unit*; here all units of an order
share one lead time, which makes each term a zero-inflated ``D_R``, not a thinned Poisson.)

Service measures, exact under this model:

* fill rate: the demand of day ``u`` left unserved is ``(X_j - S)^+ - (W_j - S)^+`` with ``W_j``
  the shortfall before that day's demand (``j`` instead of ``j + 1`` current days), so
  ``beta = 1 - sum_j [n_{X_j}(S) - n_{W_j}(S)] / E[D_R]``;
* cycle service (no backorder just before an order arrives): for the order ``k`` arriving with
  lead time ``l``, the shortfall at the end of day ``t_k + l - 1`` is ``Q_k`` plus the days of the
  current cycle plus the other outstanding orders, whose number is the Poisson-binomial without
  order ``k``'s own term (removed by a stable deconvolution); averaged over ``P(L = l)``;
* ready rate ``(1/R) sum_j P(X_j <= S)``; average backorders and on hand at the end of a day.

All of these are mixtures over an integer number of days ``k`` of demand over ``k`` days, so
:func:`crossing_weights` reduces an item to three weight vectors over ``k`` (``wx``, ``ww``: the
average over ``j`` of the laws of ``X_j`` and ``W_j``; ``wc``: the cycle shortfall without
``Q_k``), and each evaluation of a level costs one distribution evaluation per ``k``.  With a
fixed lead time the weights are point masses and the formulas are the textbook RS ones
(``P(D_{L+R} <= S)``, ``1 - [n_{L+R}(S) - n_L(S)] / E[D_R]``).  Normal and gamma demand are
exact in the family (sums of i.i.d. normal / same-scale gamma days); Poisson and negative binomial
use exact integer pmfs (a zero order is not a cycle: ``Q_k`` is conditioned on ``Q_k > 0``);
empirical demand takes pmfs built by the caller.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import (
    DIST_EMPIRICAL,
    DIST_NEGBIN,
    DIST_POISSON,
    METRIC_CYCLE,
    POLICY_FLOORED,
    POLICY_OK,
    POLICY_UNREACHABLE,
)
from stockopt._kernels.inventory.core import bracketed_step, c_eval, norm_ppf, pmf_support
from stockopt._kernels.inventory.discrete import lead_time_support, lead_time_weight, normalise
from stockopt._kernels.inventory.policy import _fill_curve, _fill_from_shortage

__all__ = [
    "crossing_support",
    "crossing_weights",
    "crossing_eval",
    "pmf_add_fast",
    "crossing_item_pmfs",
    "policy_crossing",
    "policy_crossing_pmfs",
    "crossing_weights_csr",
    "crossing_sizes",
]


@numba.njit(**NUMBA_OPTS)
def crossing_support(r: int, l_mean: float, l_sd: float) -> tuple[int, int, int]:
    """``(lo, hi, K)``: lead-time range in days and the length ``K = hi + 2R + 1`` of the weight vectors."""
    if l_sd > 0.0:
        lo, hi = lead_time_support(l_mean, l_sd)
    else:
        lo = int(math.floor(l_mean + 0.5))
        if lo < 0:
            lo = 0
        hi = lo
    return lo, hi, hi + 2 * r + 1


@numba.njit(**NUMBA_OPTS)
def _poisson_binomial(ps, m, out) -> None:
    """``out[n] = P(sum of m independent Bernoulli(ps[i]) = n)``, ``n = 0..m`` (direct recurrence)."""
    out[0] = 1.0
    for n in range(1, m + 1):
        out[n] = 0.0
    for i in range(m):
        p = ps[i]
        for n in range(i + 1, 0, -1):
            out[n] = out[n] * (1.0 - p) + out[n - 1] * p
        out[0] *= 1.0 - p


@numba.njit(**NUMBA_OPTS)
def _remove_bernoulli(f, m, p, out) -> None:
    """Law (``out[0..m-1]``) of a Poisson-binomial of ``m`` terms (``f[0..m]``) without its term ``p``.

    ``f = e * Bernoulli(p)`` is solved for ``e`` forwards when ``p <= 1/2`` and backwards otherwise,
    so that the error is damped by ``p / (1 - p)`` (or its inverse) at every step.
    """
    if p <= 0.5:
        q = 1.0 - p
        prev = 0.0
        for n in range(m):
            prev = (f[n] - p * prev) / q
            if prev < 0.0:
                prev = 0.0
            out[n] = prev
    else:
        q = 1.0 - p
        nxt = 0.0
        for n in range(m, 0, -1):
            nxt = (f[n] - q * nxt) / p
            if nxt < 0.0:
                nxt = 0.0
            out[n - 1] = nxt


@numba.njit(**NUMBA_OPTS)
def crossing_weights(r: int, l_mean: float, l_sd: float, wx, ww, wc) -> None:
    """Day-count weights of the shortfall laws (module docstring); outputs zeroed, length ``K``.

    ``wx[k]`` / ``ww[k]``: probability that ``X_J`` / ``W_J`` is demand over ``k`` days, ``J``
    uniform on ``0..R-1``; ``wc[k]``: probability that the shortfall just before an arrival,
    less the arriving order's own quantity, is demand over ``k`` days (arrivals weighted by
    ``P(L = l)``).
    """
    lo, hi, _ = crossing_support(r, l_mean, l_sd)
    lw = np.zeros(hi + 1)
    if l_sd > 0.0:
        tot = 0.0
        for lt in range(lo, hi + 1):
            lw[lt] = lead_time_weight(lt, lo, hi, l_mean, l_sd)
            tot += lw[lt]
        for lt in range(lo, hi + 1):
            lw[lt] /= tot
    else:
        lw[lo] = 1.0
    surv = np.zeros(hi + 1)  # surv[a] = P(L > a)
    acc = 0.0
    for a in range(hi, -1, -1):
        surv[a] = acc
        acc += lw[a]
    ps = np.empty(hi + 2)
    pb = np.empty(hi + 3)
    ex = np.empty(hi + 2)
    inv_r = 1.0 / r
    for j in range(r):
        c = 0  # orders certainly outstanding (age below the shortest lead time)
        m = 0  # orders possibly outstanding
        a = j
        while a < hi:
            if a < lo:
                c += 1
            else:
                ps[m] = surv[a]
                m += 1
            a += r
        _poisson_binomial(ps, m, pb)
        for n in range(m + 1):
            wx[j + 1 + r * (c + n)] += pb[n] * inv_r
            ww[j + r * (c + n)] += pb[n] * inv_r
        # arrivals whose order is j + m_k R days old at the end of the day before they arrive
        for lt in range(lo, hi + 1):
            w = lw[lt]
            if w <= 0.0:
                continue
            if lt == 0:
                if j != r - 1:
                    continue
                for n in range(m + 1):  # the current cycle's demand is the arriving order itself
                    wc[r * (c + n)] += w * pb[n]
                continue
            age = lt - 1
            if age % r != j:
                continue
            if age < lo:  # the arriving order was one of the certain terms
                for n in range(m + 1):
                    wc[j + 1 + r * (c - 1 + n)] += w * pb[n]
            else:
                _remove_bernoulli(pb, m, surv[age], ex)
                for n in range(m):
                    wc[j + 1 + r * (c + n)] += w * ex[n]


@numba.njit(**NUMBA_OPTS)
def crossing_eval(s, dist, d, vd, r, wx, ww, wc):
    """Service of level ``s`` for normal / gamma demand (``d``, ``vd`` mean and variance per day).

    Returns ``(cycle, d cycle/ds, b, db/ds, d2b/ds2, ready, backorders)`` with ``b`` the expected
    demand left unserved per review period (``R`` days, backorder accounting), ``ready`` the
    share of days ending without backorders and ``backorders`` their average at the end of a day.
    """
    k_len = wx.shape[0]
    cyc = 0.0
    dcyc = 0.0
    b = 0.0
    db = 0.0
    d2b = 0.0
    ready = 0.0
    bo = 0.0
    for k in range(k_len):
        a = wx[k]
        w = ww[k]
        c = wc[k - r] if k >= r else 0.0
        if a == 0.0 and w == 0.0 and c == 0.0:
            continue
        cf, pdf, l1, _ = c_eval(s, dist, d * k, vd * k)
        cyc += c * cf
        dcyc += c * pdf
        v = a - w
        b += v * l1
        db -= v * (1.0 - cf)
        d2b += v * pdf
        ready += a * cf
        bo += a * l1
    if cyc > 1.0:
        cyc = 1.0
    if ready > 1.0:
        ready = 1.0
    return cyc, dcyc, r * b, r * db, r * d2b, ready, bo


@numba.njit(**NUMBA_OPTS)
def _service_c(s, metric, lost, dist, d, vd, r, wx, ww, wc):
    cyc, dcyc, b, db, d2b, _, _ = crossing_eval(s, dist, d, vd, r, wx, ww, wc)
    if metric == METRIC_CYCLE:
        return cyc, dcyc
    f, df, _ = _fill_curve(b, db, d2b, d * r, lost)
    return f, df


@numba.njit(**NUMBA_OPTS)
def _solve_c(target, lo, x0, width, metric, lost, dist, d, vd, r, wx, ww, wc):
    """Smallest ``s >= lo`` with service ``>= target`` (safeguarded Newton, bracket kept)."""
    g, dg = _service_c(lo, metric, lost, dist, d, vd, r, wx, ww, wc)
    g -= target
    if g >= 0.0:
        return lo, POLICY_FLOORED
    a = lo
    b = math.inf
    x = lo
    if x0 > lo:
        g0, d0 = _service_c(x0, metric, lost, dist, d, vd, r, wx, ww, wc)
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
        gn, dn = _service_c(xn, metric, lost, dist, d, vd, r, wx, ww, wc)
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
def pmf_add_fast(out, w: float, dist: int, m: float, v: float) -> None:
    """Add ``w`` times the Poisson (``v <= m``) or negative-binomial pmf of mean ``m``, variance ``v``.

    Same values as :func:`stockopt._kernels.inventory.core.pmf_add` (mass beyond ``len(out)``
    dropped) but by the ratio recurrences ``p(k+1)/p(k) = m/(k+1)`` (Poisson) and
    ``(k+r)/(k+1) (1-p)`` (negative binomial ``r = m^2/(v-m)``, ``p = m/v``) outwards from the
    mode, one ``lgamma`` per call, stopping once the terms fall below ``1e-18`` times the mode's
    (the far tails, less than ``1e-15`` of the mass in all, are left out).
    """
    n = out.shape[0]
    if m <= 0.0:
        out[0] += w
        return
    poisson = dist == DIST_POISSON or v <= m * (1.0 + 1e-9)
    if poisson:
        mode = int(math.floor(m))
        lpm = mode * math.log(m) - m - math.lgamma(mode + 1.0)
    else:
        rr = m * m / (v - m)
        p = m / v
        q = 1.0 - p
        mode = int(math.floor((rr - 1.0) * q / p)) if rr > 1.0 else 0
        lpm = (math.lgamma(mode + rr) - math.lgamma(rr) - math.lgamma(mode + 1.0) + rr * math.log(p)
               + mode * math.log1p(-p))
    if mode >= n:
        mode = n - 1
        if poisson:
            lpm = mode * math.log(m) - m - math.lgamma(mode + 1.0)
        else:
            lpm = (math.lgamma(mode + rr) - math.lgamma(rr) - math.lgamma(mode + 1.0) + rr * math.log(p)
                   + mode * math.log1p(-p))
    pm = math.exp(lpm)
    tiny = 1e-18 * pm
    out[mode] += w * pm
    cur = pm
    for k in range(mode + 1, n):  # upwards: p(k) from p(k - 1)
        if poisson:
            cur *= m / k
        else:
            cur *= (k - 1.0 + rr) / k * q
        if cur < tiny:
            break
        out[k] += w * cur
    cur = pm
    for k in range(mode, 0, -1):  # downwards: p(k - 1) from p(k)
        if poisson:
            cur *= k / m
        else:
            cur *= k / ((k - 1.0 + rr) * q)
        if cur < tiny:
            break
        out[k - 1] += w * cur


@numba.njit(**NUMBA_OPTS)
def _mix_pmf(out, wts, dist, d, vd) -> None:
    """``out = sum_k wts[k] * pmf(demand over k days)``, normalised to total mass 1."""
    for k in range(wts.shape[0]):
        if wts[k] > 0.0:
            pmf_add_fast(out, wts[k], dist, d * k, vd * k)
    normalise(out)


@numba.njit(**NUMBA_OPTS)
def _significant(p, eps):
    """Smallest index range ``[a, b)`` outside which every entry of ``p`` is below ``eps``."""
    a = 0
    while a < p.shape[0] and p[a] < eps:
        a += 1
    b = p.shape[0]
    while b > a and p[b - 1] < eps:
        b -= 1
    return a, b


@numba.njit(**NUMBA_OPTS)
def crossing_item_pmfs(dist: int, d: float, vd: float, r: int, l_mean: float, l_sd: float):
    """Integer pmfs ``(X_J, W_J, Z, D_R)`` of one Poisson / negative-binomial item.

    ``X_J``, ``W_J``: the shortfall at the end of a day and before that day's demand, day ``J``
    of the review period uniform; ``Z``: the shortfall just before an order arrives, less that
    order's own quantity ``Q`` (distributed as ``D_R`` conditioned on ``Q > 0``); ``D_R`` demand
    over ``R`` days.  ``vd`` is the daily variance (ignored for Poisson).
    """
    _, hi, kk = crossing_support(r, l_mean, l_sd)
    wx = np.zeros(kk)
    ww = np.zeros(kk)
    wc = np.zeros(kk)
    crossing_weights(r, l_mean, l_sd, wx, ww, wc)
    vdi = d if dist == DIST_POISSON else vd
    kx = hi + r
    nx = pmf_support(dist, d * kx, vdi * kx)
    px = np.zeros(nx)
    pw = np.zeros(nx)
    pz = np.zeros(nx)
    pr = np.zeros(pmf_support(dist, d * r, vdi * r))
    _mix_pmf(px, wx, dist, d, vdi)
    _mix_pmf(pw, ww, dist, d, vdi)
    _mix_pmf(pz, wc, dist, d, vdi)
    pmf_add_fast(pr, 1.0, dist, d * r, vdi * r)
    return px, pw, pz, pr


@numba.njit(**NUMBA_OPTS)
def _cdf_loss(p, cdf, loss) -> float:
    """Cumulative distribution and first-order loss ``E[(D - y)^+]`` on ``0..len-1``; returns the mean."""
    n = p.shape[0]
    acc = 0.0
    mean = 0.0
    for k in range(n):
        acc += p[k]
        mean += k * p[k]
        cdf[k] = acc if acc < 1.0 else 1.0
    run = 0.0
    for k in range(n - 1, -1, -1):
        run += 1.0 - cdf[k]
        loss[k] = run
    return mean


@numba.njit(**NUMBA_OPTS)
def _at(arr, y, below, above):
    if y < 0:
        return below
    if y >= arr.shape[0]:
        return above
    return arr[y]


@numba.njit(**NUMBA_OPTS)
def _cycle_at(s, cdf_z, pr, nz, xa, xb):
    """``P(Z + Q <= s)`` with ``Q ~ pr`` conditioned on ``Q > 0`` (a zero order is not a cycle);
    ``pr`` is used on ``[xa, xb)`` only (its entries outside are below 1e-17)."""
    if nz <= 0.0:  # no demand: no order, no cycle; report the law of Z
        return _at(cdf_z, s, 0.0, 1.0)
    top = xb if xb < s + 1 else s + 1
    acc = 0.0
    for x in range(xa if xa > 1 else 1, top):
        acc += pr[x] * _at(cdf_z, s - x, 0.0, 1.0)
    acc /= nz
    return acc if acc < 1.0 else 1.0


@numba.njit(**NUMBA_OPTS)
def _service_d(s, metric, lost, r, m_day, cdf_z, pr, nz, xa, xb, loss_x, mx, loss_w, mw):
    if metric == METRIC_CYCLE:
        return _cycle_at(s, cdf_z, pr, nz, xa, xb)
    lx = _at(loss_x, s, mx - s, 0.0)
    lw = _at(loss_w, s, mw - s, 0.0)
    b = r * (lx - lw)
    if b < 0.0:
        b = 0.0
    return _fill_from_shortage(b, m_day * r, lost)


@numba.njit(**NUMBA_OPTS)
def _solve_item_d(px, pw, pz, pr, r, metric, target, lost, floor_ss, m_prot, out, i) -> None:
    """Smallest integer level meeting the target on the pmfs of one item; writes row ``i`` of ``out``."""
    cdf_x = np.empty(px.shape[0])
    loss_x = np.empty(px.shape[0])
    cdf_w = np.empty(pw.shape[0])
    loss_w = np.empty(pw.shape[0])
    cdf_z = np.empty(pz.shape[0])
    loss_z = np.empty(pz.shape[0])
    mx = _cdf_loss(px, cdf_x, loss_x)
    mw = _cdf_loss(pw, cdf_w, loss_w)
    _cdf_loss(pz, cdf_z, loss_z)
    nz = 1.0 - pr[0]
    xa, xb = _significant(pr, 1e-17)
    m_day = 0.0
    for k in range(pr.shape[0]):
        m_day += k * pr[k]
    m_day /= r
    lo = int(math.ceil(m_prot - 1e-9)) if floor_ss else 0
    if lo < 0:
        lo = 0
    hi = px.shape[0] + pz.shape[0] + pr.shape[0] + 1
    st = POLICY_OK
    pack = (cdf_z, pr, nz, xa, xb, loss_x, mx, loss_w, mw)
    if _service_d(lo, metric, lost, r, m_day, *pack) >= target:
        s = lo
        if floor_ss and lo > 0 and _service_d(lo - 1, metric, lost, r, m_day, *pack) >= target:
            st = POLICY_FLOORED
    elif _service_d(hi, metric, lost, r, m_day, *pack) < target:
        s = hi
        st = POLICY_UNREACHABLE
    else:
        a = lo
        b = hi
        while b - a > 1:
            c = (a + b) // 2
            if _service_d(c, metric, lost, r, m_day, *pack) >= target:
                b = c
            else:
                a = c
        s = b
    bo = _at(loss_x, s, mx - s, 0.0)
    out[i, 0] = s
    out[i, 1] = s - m_prot
    out[i, 2] = _service_d(s, METRIC_CYCLE, lost, r, m_day, *pack)
    out[i, 3] = _service_d(s, 1, lost, r, m_day, *pack)
    out[i, 4] = _at(cdf_x, s, 0.0, 1.0)
    out[i, 5] = bo
    oh = s - mx + bo
    out[i, 6] = oh if oh > 0.0 else 0.0
    out[i, 7] = st


@numba.njit(**NUMBA_OPTS)
def policy_crossing(dist, metric, target, r_int, d_day, vd_day, l_mean, l_sd, m_prot, lost, floor_ss, out):
    """Size RS / base-stock levels with i.i.d. random lead times and crossing orders, per item.

    Parameters are 1-D arrays (one entry per item) except ``lost`` / ``floor_ss``: distribution
    code (normal, gamma, Poisson or negative binomial), service metric and target, review period
    ``r_int`` (whole days >= 1), demand per day ``d_day`` (mean, units) and ``vd_day`` (variance),
    lead time mean ``l_mean`` and sd ``l_sd`` (days), mean demand over the protection interval
    ``m_prot`` (units; safety stock = level - ``m_prot``, and the level is floored there when
    ``floor_ss``).  Empirical and compound items are skipped (their row of ``out`` is left as
    is).  ``out`` (n x 8): order-up-to level, safety stock, cycle service, fill rate,
    ready rate, average backorders and on hand at the end of a day (units), status code.
    """
    n = dist.shape[0]
    for i in range(n):
        r = r_int[i]
        di = dist[i]
        d = d_day[i]
        vd = vd_day[i]
        lm = l_mean[i]
        ls = l_sd[i]
        if di >= DIST_EMPIRICAL:  # pmfs from sample paths or a history: policy_crossing_pmfs
            continue
        if di == DIST_POISSON or di == DIST_NEGBIN:
            px, pw, pz, pr = crossing_item_pmfs(di, d, vd, r, lm, ls)
            _solve_item_d(px, pw, pz, pr, r, metric[i], target[i], lost, floor_ss, m_prot[i], out, i)
            continue
        _, _, kk = crossing_support(r, lm, ls)
        wx = np.zeros(kk)
        ww = np.zeros(kk)
        wc = np.zeros(kk)
        crossing_weights(r, lm, ls, wx, ww, wc)
        # normal / gamma: moments of the shortfall mixtures give a start and a scale
        mc = 0.0
        m2c = 0.0
        mx = 0.0
        m2x = 0.0
        for k in range(kk):
            kc = k + r
            mc += wc[k] * d * kc
            m2c += wc[k] * (vd * kc + d * d * kc * kc)
            mx += wx[k] * d * k
            m2x += wx[k] * (vd * k + d * d * k * k)
        vc = m2c - mc * mc
        sd = math.sqrt(vc) if vc > 0.0 else 0.0
        width = sd if sd > 1e-9 else 1.0
        lo = m_prot[i] if floor_ss else 0.0
        if lo < 0.0:
            lo = 0.0
        x0 = mc + norm_ppf(target[i]) * sd
        s, st = _solve_c(target[i], lo, x0, width, metric[i], lost, di, d, vd, r, wx, ww, wc)
        if st == POLICY_FLOORED and not floor_ss:
            st = POLICY_OK
        cyc, _, b, _, _, ready, bo = crossing_eval(s, di, d, vd, r, wx, ww, wc)
        out[i, 0] = s
        out[i, 1] = s - m_prot[i]
        out[i, 2] = cyc
        out[i, 3] = _fill_from_shortage(b, d * r, lost)
        out[i, 4] = ready
        out[i, 5] = bo
        oh = s - mx + bo
        out[i, 6] = oh if oh > 0.0 else 0.0
        out[i, 7] = st


@numba.njit(**NUMBA_OPTS)
def crossing_sizes(r_int, l_mean, l_sd, out) -> None:
    """Length ``K`` of each item's weight vectors (:func:`crossing_support`)."""
    for i in range(r_int.shape[0]):
        out[i] = crossing_support(r_int[i], l_mean[i], l_sd[i])[2]


@numba.njit(**NUMBA_OPTS)
def crossing_weights_csr(r_int, l_mean, l_sd, ip, wx, ww, wc) -> None:
    """:func:`crossing_weights` for many items into CSR arrays (item ``i`` owns ``ip[i]:ip[i+1]``,
    of length ``K`` from :func:`crossing_support`; outputs zeroed by the caller)."""
    for i in range(r_int.shape[0]):
        a = ip[i]
        b = ip[i + 1]
        crossing_weights(r_int[i], l_mean[i], l_sd[i], wx[a:b], ww[a:b], wc[a:b])


@numba.njit(**NUMBA_OPTS)
def policy_crossing_pmfs(metric, target, r_int, m_prot, lost, floor_ss, vals_x, vals_w, vals_z, ip_x,
                         vals_r, ip_r, out) -> None:
    """As :func:`policy_crossing` on integer pmfs built by the caller (CSR; e.g. from sample paths):
    ``X_J``, ``W_J`` and the cycle shortfall without the arriving order ``Z`` (all three on
    ``ip_x``), and ``D_R`` (``ip_r``)."""
    for i in range(metric.shape[0]):
        pz = vals_z[ip_x[i]:ip_x[i + 1]]
        pr = vals_r[ip_r[i]:ip_r[i + 1]]
        _solve_item_d(vals_x[ip_x[i]:ip_x[i + 1]], vals_w[ip_x[i]:ip_x[i + 1]], pz, pr, r_int[i], metric[i],
                      target[i], lost, floor_ss, m_prot[i], out, i)
