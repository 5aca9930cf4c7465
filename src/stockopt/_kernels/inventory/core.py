"""Scalar numba helpers for the inventory kernels: distributions and loss functions.

Everything here is a small ``@njit`` function called from the item loops in
``policy.py``, ``discrete.py`` and ``sim.py``.  Continuous
distributions are identified by a code (``DIST_NORMAL``, ``DIST_GAMMA``) and parametrised by
their mean ``m`` and variance ``v`` (gamma: shape ``m**2 / v``, scale ``v / m``).  A variance of
zero means a point mass at ``m``.

Loss functions follow Zipkin (2000), *Foundations of Inventory Management*, appendix C:
``loss1(x) = E[(X - x)^+]`` (first-order loss) and ``loss2(x) = 0.5 * E[((X - x)^+)^2]``
(second-order loss), so that ``d loss2 / dx = -loss1`` and ``d loss1 / dx = -(1 - F(x))``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import DIST_GAMMA, DIST_NEGBIN, DIST_NORMAL, DIST_POISSON

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT2PI = math.sqrt(2.0 * math.pi)


@numba.njit(**NUMBA_OPTS)
def norm_pdf(z: float) -> float:
    return _INV_SQRT2PI * math.exp(-0.5 * z * z)


@numba.njit(**NUMBA_OPTS)
def norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


@numba.njit(**NUMBA_OPTS)
def norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / _SQRT2)


@numba.njit(**NUMBA_OPTS)
def norm_ppf(p: float) -> float:
    """Inverse standard normal cdf: Acklam's rational approximation plus one Halley step."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    plow = 0.02425
    if p < plow:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e00) * q
               - 2.549732539343734e00) * q + 4.374664141464968e00) * q + 2.938163982698783e00) / (
            (((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e00) * q
             + 3.754408661907416e00) * q + 1.0)
    elif p <= 1.0 - plow:
        q = p - 0.5
        r = q * q
        x = (((((-3.969683028665376e01 * r + 2.209460984245205e02) * r - 2.759285104469687e02) * r
               + 1.383577518672690e02) * r - 3.066479806614716e01) * r + 2.506628277459239e00) * q / (
            ((((-5.447609879822406e01 * r + 1.615858368580409e02) * r - 1.556989798598866e02) * r
              + 6.680131188771972e01) * r - 1.328068155288572e01) * r + 1.0)
    else:
        q = math.sqrt(-2.0 * math.log1p(-p))
        x = -(((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e00) * q
                - 2.549732539343734e00) * q + 4.374664141464968e00) * q + 2.938163982698783e00) / (
            (((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e00) * q
             + 3.754408661907416e00) * q + 1.0)
    # one Halley refinement step (relative accuracy ~1e-15)
    if x > 0.0:
        e = -(norm_sf(x) - (1.0 - p))
    else:
        e = norm_cdf(x) - p
    u = e * _SQRT2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


@numba.njit(**NUMBA_OPTS)
def gamma_pqg(a: float, x: float) -> tuple[float, float, float]:
    """Regularised incomplete gamma functions ``P(a, x)``, ``Q(a, x)`` and ``x^a e^-x / Gamma(a)``.

    Series expansion below ``x < a + 1``, Legendre's continued fraction (forward recurrence) above.
    """
    return gamma_pqg_l(a, x, math.lgamma(a))


@numba.njit(**NUMBA_OPTS)
def gamma_pqg_l(a: float, x: float, lga: float) -> tuple[float, float, float]:
    """:func:`gamma_pqg` with ``lga = lgamma(a)`` supplied (computed once per distribution)."""
    if x <= 0.0:
        return 0.0, 1.0, 0.0
    g = math.exp(a * math.log(x) - x - lga)
    if x < a + 1.0:
        term = 1.0 / a
        tot = term
        n = 1.0
        for _ in range(10000):
            term *= x / (a + n)
            tot += term
            n += 1.0
            if abs(term) < abs(tot) * 1e-17:
                break
        p = tot * g
        if p > 1.0:
            p = 1.0
        return p, 1.0 - p, g
    # Legendre's continued fraction Q = g / (b0 + a1 / (b1 + a2 / (b2 + ...))), b_i = x + 1 - a + 2i,
    # a_i = -i (i - a), by the forward (Wallis) recurrence A_n = b A_{n-1} + a_n A_{n-2} (same for B):
    # multiplications only on the dependency chain; renormalised and tested every second term
    b = x + 1.0 - a
    a_prev = 0.0
    a_cur = 1.0
    b_prev = 1.0
    b_cur = b
    h = 1.0 / b
    i = 1.0
    for _ in range(5000):
        for _ in range(2):
            an = -i * (i - a)
            b += 2.0
            a_prev, a_cur = a_cur, b * a_cur + an * a_prev
            b_prev, b_cur = b_cur, b * b_cur + an * b_prev
            i += 1.0
        if b_cur == 0.0:
            continue
        inv = 1.0 / b_cur
        a_cur *= inv
        a_prev *= inv
        b_prev *= inv
        b_cur = 1.0
        done = abs(a_cur - h) <= 1e-16 * abs(a_cur)
        h = a_cur
        if done:
            break
    q = g * h
    if q > 1.0:
        q = 1.0
    return 1.0 - q, q, g


@numba.njit(**NUMBA_OPTS)
def gamma_pq(a: float, x: float) -> tuple[float, float]:
    """Regularised incomplete gamma functions ``(P(a, x), Q(a, x))`` for ``a > 0``."""
    p, q, _ = gamma_pqg(a, x)
    return p, q


@numba.njit(**NUMBA_OPTS)
def gamma_shift(a: float, lga: float, y0: float, p0: float, q0: float,
                y1: float) -> tuple[float, float, bool]:
    """``(P(a, y1), Q(a, y1), ok)`` from ``P, Q`` at a nearby ``y0`` (incremental evaluation).

    ``P(a, y1) - P(a, y0)`` is the integral of the density ``f(y0 + u) = f(y0) w(u)`` over
    ``0 <= u <= h = y1 - y0``, where ``w(u) = (1 + u / y0)^(a-1) e^-u`` solves
    ``(y0 + u) w' = (a - 1 - y0 - u) w``; its Taylor coefficients therefore obey the three-term
    recurrence ``y0 (k+1) c_{k+1} = (a - 1 - y0 - k) c_k - c_{k-1}`` (``c_0 = 1``) and the integral
    is ``f(y0) sum_k c_k h^(k+1) / (k+1)``.  For the short steps of a root finder (``|h|`` a small
    fraction of ``y0``, of the standard deviation ``sqrt(a)`` and of the local decay scale) the
    terms fall geometrically and ten or so suffice for full double precision, against tens of
    continued-fraction or series terms plus an ``lgamma`` for a fresh evaluation.  ``ok`` is false
    (and the caller evaluates afresh) when the step is too long or the sum does not settle.
    """
    h = y1 - y0
    if h == 0.0:
        return p0, q0, True
    if not (y0 > 0.0) or abs(h) > 0.25 * y0:
        return p0, q0, False
    sc = math.sqrt(a) if a > 1.0 else 1.0
    if abs(h) > 0.25 * sc:
        return p0, q0, False
    inv_y = 1.0 / y0
    c1 = (a - 1.0 - y0) * inv_y
    if abs(h * c1) > 1.0:
        return p0, q0, False
    c_prev = 1.0
    c = c1
    hk = h * h
    tot = h + c1 * hk * 0.5
    small = 0
    for k in range(1, 80):
        c_next = ((a - 1.0 - y0 - k) * c - c_prev) * inv_y / (k + 1.0)
        hk *= h
        term = c_next * hk / (k + 2.0)
        tot += term
        if abs(term) <= 1e-17 * abs(tot):
            small += 1
            if small == 2:
                break
        else:
            small = 0
        c_prev = c
        c = c_next
    else:
        return p0, q0, False
    d = math.exp((a - 1.0) * math.log(y0) - y0 - lga) * tot
    p1 = p0 + d
    q1 = q0 - d
    if p1 < 0.0:
        p1 = 0.0
    if q1 < 0.0:
        q1 = 0.0
    if p1 > 1.0:
        p1 = 1.0
    if q1 > 1.0:
        q1 = 1.0
    return p1, q1, True


@numba.njit(**NUMBA_OPTS)
def _gamma_out(a: float, b: float, x: float, y: float, p0: float, q0: float,
               g: float) -> tuple[float, float, float, float]:
    """``(cdf, pdf, loss1, loss2)`` of a gamma (shape ``a``, scale ``b``) from ``P, Q`` at ``y = x / b``.

    Zipkin (2000), C.14: ``E[X^k 1{X > x}] = (a)_k b^k Q(a + k, y)`` with
    ``Q(a + 1, y) = Q(a, y) + g / a`` and ``Q(a + 2, y) = Q(a + 1, y) + g y / (a (a + 1))``.
    """
    q1 = q0 + g / a
    q2 = q1 + g * y / (a * (a + 1.0))
    l1 = a * b * q1 - x * q0
    l2 = 0.5 * (a * (a + 1.0) * b * b * q2 - 2.0 * x * a * b * q1 + x * x * q0)
    return p0, g / x, l1 if l1 > 0.0 else 0.0, l2 if l2 > 0.0 else 0.0


@numba.njit(**NUMBA_OPTS)
def gamma_lga(dist: int, m: float, v: float) -> float:
    """``lgamma(shape)`` of a gamma with mean ``m`` and variance ``v`` (0 when not a proper gamma)."""
    if dist != DIST_GAMMA or v <= 0.0 or m <= 0.0:
        return 0.0
    return math.lgamma(m * m / v)


@numba.njit(**NUMBA_OPTS)
def c_eval_at(x: float, dist: int, m: float, v: float, lga: float, anc,
              k: int) -> tuple[float, float, float, float]:
    """:func:`c_eval` with memory: ``anc[k:k+3] = (x0, P, Q)`` of the last evaluation of this distribution.

    For a gamma, a point close to the anchor is evaluated incrementally (:func:`gamma_shift`),
    otherwise afresh; the anchor then moves to ``x``.  ``x0 = NaN`` means no anchor.  ``lga`` is
    :func:`gamma_lga` of the distribution.  Normal and degenerate cases ignore the anchor.
    """
    if dist == DIST_NORMAL or v <= 0.0 or m <= 0.0 or x <= 0.0:
        return c_eval(x, dist, m, v)
    a = m * m / v
    b = v / m
    y = x / b
    x0 = anc[k]
    ok = False
    p0 = 0.0
    q0 = 1.0
    if x0 == x0:
        p0, q0, ok = gamma_shift(a, lga, x0 / b, anc[k + 1], anc[k + 2], y)
    if ok:
        g = math.exp(a * math.log(y) - y - lga)
    else:
        p0, q0, g = gamma_pqg_l(a, y, lga)
    anc[k] = x
    anc[k + 1] = p0
    anc[k + 2] = q0
    return _gamma_out(a, b, x, y, p0, q0, g)


@numba.njit(**NUMBA_OPTS)
def gamma_ppf_at(p: float, m: float, v: float, lga: float, anc, k: int) -> float:
    """Gamma quantile ``x`` with ``P(X <= x) = p`` by Halley's method from the Wilson-Hilferty start.

    Wilson & Hilferty (1931): ``X / (a b)`` is close to ``(1 - 1/(9a) + z sqrt(1/(9a)))^3``.  The
    density ratio ``f' / f = (a - 1) / y - 1`` (in units of the scale) is free, so each step is a
    Halley step (cubic convergence) and the evaluations after the first are incremental
    (:func:`gamma_shift`).  Leaves the anchor ``anc[k:k+3]`` at (or within a rounding step of)
    the returned point.  Safeguarded by a bracket and bisection.
    """
    a = m * m / v
    b = v / m
    z = norm_ppf(p)
    t = 1.0 - 1.0 / (9.0 * a) + z * math.sqrt(1.0 / (9.0 * a))
    y = a * t * t * t if t > 0.0 else 0.5 * a
    lo = 0.0
    hi = (m + 40.0 * math.sqrt(v) + 10.0) / b
    if not (y > lo and y < hi):
        y = 0.5 * (lo + hi) if hi < 2.0 * a else a
    anc[k] = math.nan
    for _ in range(200):
        c_eval_at(y * b, DIST_GAMMA, m, v, lga, anc, k)
        pv = anc[k + 1]
        qv = anc[k + 2]
        f = pv - p if pv < 0.5 else (1.0 - p) - qv
        if f == 0.0:
            break
        if f > 0.0:
            hi = y
        else:
            lo = y
        dens = math.exp((a - 1.0) * math.log(y) - y - lga)
        if dens > 0.0:
            u = f / dens
            den = 1.0 - 0.5 * u * ((a - 1.0) / y - 1.0)
            yn = y - (u / den if den > 0.5 else u)
            if abs(yn - y) <= 1e-13 * y:  # converged: the next Halley step is below rounding
                y = yn
                break
        else:
            yn = 0.5 * (lo + hi)
        if not (yn > lo and yn < hi):
            yn = 0.5 * (lo + hi)
        y = yn
        if hi - lo <= 1e-15 * hi:
            break
    return y * b


# --------------------------------------------------------------------------- continuous family


@numba.njit(**NUMBA_OPTS)
def c_cdf(x: float, dist: int, m: float, v: float) -> float:
    """``P(X <= x)`` for the continuous family ``dist`` with mean ``m`` and variance ``v``."""
    if v <= 0.0 or (dist == DIST_GAMMA and m <= 0.0):
        return 1.0 if x >= m else 0.0
    if dist == DIST_NORMAL:
        return norm_cdf((x - m) / math.sqrt(v))
    a = m * m / v
    b = v / m
    return gamma_pq(a, x / b)[0]


@numba.njit(**NUMBA_OPTS)
def c_loss(x: float, dist: int, m: float, v: float) -> tuple[float, float]:
    """First- and second-order loss ``(E[(X-x)^+], 0.5 E[((X-x)^+)^2])``."""
    if v <= 0.0 or (dist == DIST_GAMMA and m <= 0.0):
        d = m - x
        if d <= 0.0:
            return 0.0, 0.0
        return d, 0.5 * d * d
    if dist == DIST_NORMAL:
        sd = math.sqrt(v)
        z = (x - m) / sd
        sf = norm_sf(z)
        pdf = norm_pdf(z)
        l1 = sd * (pdf - z * sf)
        l2 = v * 0.5 * ((z * z + 1.0) * sf - z * pdf)
        if l1 < 0.0:
            l1 = 0.0
        if l2 < 0.0:
            l2 = 0.0
        return l1, l2
    # gamma: E[X^k 1{X>x}] = (a)_k b^k Q(a+k, x/b)
    if x <= 0.0:
        d = m - x
        return d, 0.5 * (v + d * d)
    _, _, l1, l2 = c_eval(x, dist, m, v)
    return l1, l2


@numba.njit(**NUMBA_OPTS)
def c_ppf(p: float, dist: int, m: float, v: float) -> float:
    """Smallest ``x`` with ``P(X <= x) >= p`` (``0 < p < 1``)."""
    if v <= 0.0 or (dist == DIST_GAMMA and m <= 0.0):
        return m
    sd = math.sqrt(v)
    z = norm_ppf(p)
    if dist == DIST_NORMAL:
        return m + sd * z
    anc = np.empty(3)
    return gamma_ppf_at(p, m, v, math.lgamma(m * m / v), anc, 0)


# --------------------------------------------------------------------------- discrete pmfs


@numba.njit(**NUMBA_OPTS)
def pmf_support(dist: int, m: float, v: float) -> int:
    """Number of integer points ``0..n-1`` that carry all but ~1e-12 of the mass."""
    if m <= 0.0:
        return 1
    if dist == DIST_POISSON or v < m:
        v = m
    sd = math.sqrt(v)
    # heavy right tails (negbin with small shape) need more room than 12 sd
    extra = 0.0
    if dist == DIST_NEGBIN and v > m:
        r = m * m / (v - m)
        if r < 1.0:
            extra = 30.0 * v / m
    return int(m + 12.0 * sd + extra + 25.0)


@numba.njit(**NUMBA_OPTS)
def pmf_add(out, w: float, dist: int, m: float, v: float) -> None:
    """Add ``w`` times the integer pmf of the distribution (mean ``m``, variance ``v``) to ``out``.

    Poisson and negative binomial are exact (mass beyond ``len(out)`` is dropped: the support is
    sized by :func:`pmf_support`); normal and gamma are put on the integer grid by rounding,
    ``P(K = k) = F(k + 1/2) - F(k - 1/2)`` with ``P(K = 0) = F(1/2)``.  Poisson and negative
    binomial use the ratio recurrences ``P(k) = P(k-1) m / k`` and
    ``P(k) = P(k-1) (k - 1 + r) q / k`` (relative error ~1e-16 per term) unless ``P(0)`` would be
    below ``e^-600``, where each term is computed from ``lgamma``.
    """
    n = out.shape[0]
    if m <= 0.0:
        out[0] += w
        return
    if dist == DIST_POISSON or (dist == DIST_NEGBIN and v <= m * (1.0 + 1e-9)):
        if m < 600.0:
            pk = math.exp(-m)
            out[0] += w * pk
            for k in range(1, n):
                pk *= m / k
                out[k] += w * pk
            return
        lm = math.log(m)
        for k in range(n):
            out[k] += w * math.exp(k * lm - m - math.lgamma(k + 1.0))
        return
    if dist == DIST_NEGBIN:
        r = m * m / (v - m)
        p = m / v
        lp = math.log(p)
        lq = math.log1p(-p)
        if r * lp > -600.0:
            q = 1.0 - p
            pk = math.exp(r * lp)
            out[0] += w * pk
            for k in range(1, n):
                pk *= (k - 1.0 + r) * q / k
                out[k] += w * pk
            return
        lgr = math.lgamma(r)
        for k in range(n):
            out[k] += w * math.exp(math.lgamma(k + r) - lgr - math.lgamma(k + 1.0) + r * lp + k * lq)
        return
    prev = 0.0
    for k in range(n):
        cur = c_cdf(k + 0.5, dist, m, v)
        out[k] += w * (cur - prev)
        prev = cur


@numba.njit(**NUMBA_OPTS)
def c_loss3(x: float, dist: int, m: float, v: float) -> float:
    """Third-order partial moment ``E[((X - x)^+)^3]`` (used for finite-Q undershoot moments)."""
    return c_partial_moments(x, dist, m, v)[2]


@numba.njit(**NUMBA_OPTS)
def c_partial_moments(x: float, dist: int, m: float, v: float) -> tuple[float, float, float]:
    """``(E[(X-x)^+], 0.5 E[((X-x)^+)^2], E[((X-x)^+)^3])`` from one incomplete-gamma evaluation."""
    if v <= 0.0 or (dist == DIST_GAMMA and m <= 0.0):
        d = m - x
        if d <= 0.0:
            return 0.0, 0.0, 0.0
        return d, 0.5 * d * d, d * d * d
    if dist == DIST_NORMAL:
        sd = math.sqrt(v)
        z = (x - m) / sd
        sf = norm_sf(z)
        pdf = norm_pdf(z)
        l1 = sd * (pdf - z * sf)
        l2 = v * 0.5 * ((z * z + 1.0) * sf - z * pdf)
        r = (z * z + 2.0) * pdf - z * (z * z + 3.0) * sf
        return max(l1, 0.0), max(l2, 0.0), max(sd * sd * sd * r, 0.0)
    a = m * m / v
    b = v / m
    e1 = a * b
    e2 = a * (a + 1.0) * b * b
    e3 = a * (a + 1.0) * (a + 2.0) * b * b * b
    if x <= 0.0:
        d = m - x
        return d, 0.5 * (v + d * d), e3 - 3.0 * x * e2 + 3.0 * x * x * e1 - x * x * x
    y = x / b
    _, q0, g = gamma_pqg(a, y)
    q1 = q0 + g / a
    q2 = q1 + g * y / (a * (a + 1.0))
    q3 = q2 + g * y * y / (a * (a + 1.0) * (a + 2.0))
    l1 = e1 * q1 - x * q0
    l2 = 0.5 * (e2 * q2 - 2.0 * x * e1 * q1 + x * x * q0)
    l3 = e3 * q3 - 3.0 * x * e2 * q2 + 3.0 * x * x * e1 * q1 - x * x * x * q0
    return max(l1, 0.0), max(l2, 0.0), max(l3, 0.0)


@numba.njit(**NUMBA_OPTS)
def c_eval(x: float, dist: int, m: float, v: float) -> tuple[float, float, float, float]:
    """``(cdf, pdf, loss1, loss2)`` at ``x`` in one pass (one incomplete-gamma evaluation)."""
    if v <= 0.0 or (dist == DIST_GAMMA and m <= 0.0):
        d = m - x
        if d <= 0.0:
            return 1.0, 0.0, 0.0, 0.0
        return 0.0, 0.0, d, 0.5 * d * d
    if dist == DIST_NORMAL:
        sd = math.sqrt(v)
        z = (x - m) / sd
        sf = norm_sf(z)
        pdf = norm_pdf(z)
        l1 = sd * (pdf - z * sf)
        l2 = v * 0.5 * ((z * z + 1.0) * sf - z * pdf)
        return 1.0 - sf, pdf / sd, l1 if l1 > 0.0 else 0.0, l2 if l2 > 0.0 else 0.0
    if x <= 0.0:
        d = m - x
        return 0.0, 0.0, d, 0.5 * (v + d * d)
    a = m * m / v
    b = v / m
    y = x / b
    p0, q0, g = gamma_pqg(a, y)  # g = y^a e^-y / Gamma(a)
    return _gamma_out(a, b, x, y, p0, q0, g)


@numba.njit(**NUMBA_OPTS)
def bracketed_step(xn, a, b, span, limit):  # pragma: no cover - compiled
    """Safeguard of a Newton step ``xn`` for an increasing service function on a bracket.

    ``a`` fails the target, ``b`` meets it (``inf`` while no upper end is known).  A step that
    leaves ``(a, b)`` (or is NaN) is replaced by the midpoint when ``b`` is known, else by ``a +
    span`` with ``span`` doubled (geometric search for an upper end).  Returns ``(x, span,
    unreachable)``; ``unreachable`` is True once ``span`` exceeds ``limit`` (the target cannot be
    met by any level).
    """
    if xn > a and xn < b:
        return xn, span, False
    if b < math.inf:
        return 0.5 * (a + b), span, False
    span *= 2.0
    return a + span, span, span > limit



@numba.njit(**NUMBA_OPTS)
def path_cumsum(values, indptr, out):  # pragma: no cover - compiled
    """Cumulative sums of each path ``values[indptr[i]:indptr[i + 1]]`` with a leading zero.

    ``out`` has ``indptr[-1] - indptr[0] + n_paths`` entries: path ``i`` fills
    ``out[indptr[i] - indptr[0] + i : indptr[i + 1] - indptr[0] + i + 1]``.  Each path is summed on
    its own, so its sums do not depend on the other paths of the table (a running sum over the whole
    array minus the path's start would, and loses digits on long tables).
    """
    base = indptr[0]
    for i in range(indptr.shape[0] - 1):
        k = indptr[i] - base + i
        acc = 0.0
        out[k] = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            acc += values[j]
            k += 1
            out[k] = acc
