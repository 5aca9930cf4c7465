"""Scalar numba helpers for the inventory kernels: distributions and loss functions.

Everything here is a small ``@njit`` function called from the item loops in
``inventory_policy.py``, ``inventory_discrete.py`` and ``inventory_sim.py``.  Continuous
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

from stockopt._config import NUMBA_OPTS

DIST_NORMAL = 0
DIST_GAMMA = 1
DIST_POISSON = 2
DIST_NEGBIN = 3
DIST_EMPIRICAL = 4

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

    Series expansion below ``x < a + 1``, Legendre continued fraction (modified Lentz) above.
    """
    if x <= 0.0:
        return 0.0, 1.0, 0.0
    g = math.exp(a * math.log(x) - x - math.lgamma(a))
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
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
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
    a = m * m / v
    b = v / m
    y = x / b
    q0 = gamma_pq(a, y)[1]
    g = math.exp(a * math.log(y) - y - math.lgamma(a))  # y^a e^-y / Gamma(a)
    q1 = q0 + g / a
    q2 = q1 + g * y / (a * (a + 1.0))
    l1 = a * b * q1 - x * q0
    l2 = 0.5 * (a * (a + 1.0) * b * b * q2 - 2.0 * x * a * b * q1 + x * x * q0)
    if l1 < 0.0:
        l1 = 0.0
    if l2 < 0.0:
        l2 = 0.0
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
    a = m * m / v
    b = v / m
    # Wilson-Hilferty start, then safeguarded Newton on the cdf
    t = 1.0 - 1.0 / (9.0 * a) + z * math.sqrt(1.0 / (9.0 * a))
    x = a * b * t * t * t if t > 0.0 else 0.5 * m
    lo = 0.0
    hi = m + 40.0 * sd + 10.0
    for _ in range(200):
        pv, _, g = gamma_pqg(a, x / b)
        f = pv - p
        if f > 0.0:
            hi = x
        else:
            lo = x
        dens = g / x if x > 0.0 else 0.0  # pdf = (x/b)^a e^(-x/b) / (Gamma(a) x)
        if f == 0.0:
            break
        if dens > 0.0:
            xn = x - f / dens
            if abs(xn - x) <= 1e-12 * (1.0 + abs(x)):
                x = xn
                break
        else:
            xn = 0.5 * (lo + hi)
        if xn <= lo or xn >= hi:
            xn = 0.5 * (lo + hi)
        x = xn
    return x


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
    ``P(K = k) = F(k + 1/2) - F(k - 1/2)`` with ``P(K = 0) = F(1/2)``.
    """
    n = out.shape[0]
    if m <= 0.0:
        out[0] += w
        return
    if dist == DIST_POISSON or (dist == DIST_NEGBIN and v <= m * (1.0 + 1e-9)):
        lm = math.log(m)
        for k in range(n):
            out[k] += w * math.exp(k * lm - m - math.lgamma(k + 1.0))
        return
    if dist == DIST_NEGBIN:
        r = m * m / (v - m)
        p = m / v
        lp = math.log(p)
        lq = math.log1p(-p)
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
    if v <= 0.0 or (dist == DIST_GAMMA and m <= 0.0):
        d = m - x
        return d * d * d if d > 0.0 else 0.0
    if dist == DIST_NORMAL:
        sd = math.sqrt(v)
        z = (x - m) / sd
        r = (z * z + 2.0) * norm_pdf(z) - z * (z * z + 3.0) * norm_sf(z)
        return sd * sd * sd * r if r > 0.0 else 0.0
    a = m * m / v
    b = v / m
    e1 = a * b
    e2 = a * (a + 1.0) * b * b
    e3 = a * (a + 1.0) * (a + 2.0) * b * b * b
    if x <= 0.0:
        return e3 - 3.0 * x * e2 + 3.0 * x * x * e1 - x * x * x
    y = x / b
    q0 = gamma_pq(a, y)[1]
    g = math.exp(a * math.log(y) - y - math.lgamma(a))
    q1 = q0 + g / a
    q2 = q1 + g * y / (a * (a + 1.0))
    q3 = q2 + g * y * y / (a * (a + 1.0) * (a + 2.0))
    r = e3 * q3 - 3.0 * x * e2 * q2 + 3.0 * x * x * e1 * q1 - x * x * x * q0
    return r if r > 0.0 else 0.0


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
    q1 = q0 + g / a
    q2 = q1 + g * y / (a * (a + 1.0))
    l1 = a * b * q1 - x * q0
    l2 = 0.5 * (a * (a + 1.0) * b * b * q2 - 2.0 * x * a * b * q1 + x * x * q0)
    return p0, g / x, l1 if l1 > 0.0 else 0.0, l2 if l2 > 0.0 else 0.0
