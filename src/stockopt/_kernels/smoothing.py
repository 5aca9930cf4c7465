"""Simple exponential smoothing kernels (numba) over grouped arrays.

Per-series building blocks (``ses_*`` functions taking one contiguous 1-D array) and block kernels
(taking ``values``/``indptr``).  The recursions follow statsforecast's definitions so the two
libraries give the same numbers:

* the level starts at the first observation, ``f_1 = x_0`` is *not* counted as a forecast,
  ``f_i = alpha * x_{i-1} + (1 - alpha) * f_{i-1}`` and the forecast is the level after the last point;
* the in-sample SSE is ``sum_{i>=1} (x_i - f_i)^2``;
* :func:`ses_golden` is the golden-section search statsforecast runs (tolerance 1e-12 on the bracket,
  stop on an exact tie) and is replicated operation by operation, so ADIDA / IMAPA forecasts agree to
  the last bits;
* :func:`ses_optimize` is our own faster search for the same minimiser (a grid of alphas evaluated in
  one pass, then a safeguarded Newton iteration with analytic first and second derivatives of the SSE).

References
----------
Brown, R. G. (1959). *Statistical Forecasting for Inventory Control*. McGraw-Hill.
Hyndman, R. J., Koehler, A. B., Ord, J. K. & Snyder, R. D. (2008). *Forecasting with Exponential
Smoothing: The State Space Approach*. Springer (ETS(A,N,N) and its forecast variance).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS

_GR = (math.sqrt(5.0) + 1.0) / 2.0
_GRID_N = 8
#: below this many points :func:`ses_optimize` runs the golden section instead
SMALL_N = 16


@numba.njit(**NUMBA_OPTS)
def ses_last(x, alpha):  # pragma: no cover - compiled
    """One-step forecast of SES with fixed ``alpha`` (statsforecast's ``ses_forecast``)."""
    n = x.shape[0]
    if n == 1:
        return x[0]
    c = 1.0 - alpha
    f = x[0]
    for i in range(1, n):
        f = alpha * x[i - 1] + c * f
    return alpha * x[n - 1] + c * f


@numba.njit(**NUMBA_OPTS)
def ses_sse(x, alpha):  # pragma: no cover - compiled
    """In-sample sum of squared one-step errors of SES (0 for fewer than 2 points)."""
    n = x.shape[0]
    if n < 2:
        return 0.0
    c = 1.0 - alpha
    f = x[0]
    sse = 0.0
    for i in range(1, n):
        f = alpha * x[i - 1] + c * f
        e = x[i] - f
        sse += e * e
    return sse


@numba.njit(**NUMBA_OPTS)
def ses_golden(x, lower, upper):  # pragma: no cover - compiled
    """Golden-section search of the SSE-minimising alpha on ``[lower, upper]`` (statsforecast's)."""
    a = lower
    b = upper
    c = b - (b - a) / _GR
    d = a + (b - a) / _GR
    fc = ses_sse(x, c)
    fd = ses_sse(x, d)
    while abs(b - a) >= 1e-12:
        if fc < fd:
            b = d
            d = c
            fd = fc
            c = b - (b - a) / _GR
            fc = ses_sse(x, c)
        elif fd < fc:
            a = c
            c = d
            fc = fd
            d = a + (b - a) / _GR
            fd = ses_sse(x, d)
        else:
            break
    return (b + a) / 2.0


@numba.njit(**NUMBA_OPTS)
def _sse_grid(x, alphas, out):  # pragma: no cover - compiled
    """SSE at ``_GRID_N`` alphas in one pass (independent chains run side by side)."""
    n = x.shape[0]
    f = np.empty(_GRID_N)
    s = np.zeros(_GRID_N)
    for k in range(_GRID_N):
        f[k] = x[0]
    for i in range(1, n):
        xp = x[i - 1]
        xi = x[i]
        for k in range(_GRID_N):
            fk = alphas[k] * xp + (1.0 - alphas[k]) * f[k]
            f[k] = fk
            e = xi - fk
            s[k] += e * e
    for k in range(_GRID_N):
        out[k] = s[k]


@numba.njit(**NUMBA_OPTS)
def _sse_d012(x, alpha):  # pragma: no cover - compiled
    """SSE and its first and second derivatives in alpha (one pass, analytic recursions)."""
    n = x.shape[0]
    c = 1.0 - alpha
    f = x[0]
    g = 0.0  # df/dalpha
    q = 0.0  # d2f/dalpha2
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for i in range(1, n):
        xp = x[i - 1]
        q = -2.0 * g + c * q
        g = (xp - f) + c * g
        f = alpha * xp + c * f
        e = x[i] - f
        s0 += e * e
        s1 += e * g
        s2 += g * g - e * q
    return s0, -2.0 * s1, 2.0 * s2


@numba.njit(**NUMBA_OPTS)
def ses_optimize(x, lower, upper):  # pragma: no cover - compiled
    """Alpha in ``[lower, upper]`` minimising the in-sample SSE of SES, and that SSE.

    A grid of ``_GRID_N`` alphas (one pass over the data) picks the best basin; a safeguarded Newton
    iteration on ``dSSE/dalpha`` (bisection whenever the step leaves the bracket or the curvature is
    not positive) then converges to ``|step| < 1e-10``.  The best point ever evaluated is returned,
    so the result is never worse than the best grid point.
    """
    n = x.shape[0]
    if n < SMALL_N:
        # Short series: the exact golden section costs little here, and on a handful of points the
        # SSE curve is flat or ragged enough that following statsforecast's path keeps both
        # libraries on the same alpha.
        a = ses_golden(x, lower, upper)
        return a, ses_sse(x, a)
    alphas = np.empty(_GRID_N)
    sse = np.empty(_GRID_N)
    step = (upper - lower) / (_GRID_N - 1)
    for k in range(_GRID_N):
        alphas[k] = lower + k * step
    alphas[_GRID_N - 1] = upper
    _sse_grid(x, alphas, sse)
    kb = 0
    for k in range(1, _GRID_N):
        if sse[k] < sse[kb]:
            kb = k
    best_a = alphas[kb]
    best_s = sse[kb]
    a = alphas[kb - 1] if kb > 0 else lower
    b = alphas[kb + 1] if kb < _GRID_N - 1 else upper
    # start from the vertex of the parabola through the best grid point and its neighbours
    xk = best_a
    if 0 < kb < _GRID_N - 1:
        s_l = sse[kb - 1]
        s_r = sse[kb + 1]
        den = s_l - 2.0 * best_s + s_r
        if den > 0.0:
            xk = best_a + 0.5 * step * (s_l - s_r) / den
            if xk <= a or xk >= b:
                xk = best_a
    for _ in range(60):
        s0, s1, s2 = _sse_d012(x, xk)
        if s0 < best_s:
            best_s = s0
            best_a = xk
        if s1 > 0.0:
            b = xk
        elif s1 < 0.0:
            a = xk
        else:
            break
        if s2 > 0.0:
            nxt = xk - s1 / s2
        else:
            nxt = 0.5 * (a + b)
        if nxt <= a or nxt >= b:
            nxt = 0.5 * (a + b)
        if abs(nxt - xk) < 1e-10 or (b - a) < 1e-10:
            break
        xk = nxt
    # a minimum on the boundary: the derivative pushed the bracket against it
    if a <= lower and best_a - lower < 1e-6:
        s_lo = ses_sse(x, lower)
        if s_lo <= best_s:
            best_s = s_lo
            best_a = lower
    if b >= upper and upper - best_a < 1e-6:
        s_hi = ses_sse(x, upper)
        if s_hi <= best_s:
            best_s = s_hi
            best_a = upper
    return best_a, best_s


@numba.njit(**NUMBA_OPTS)
def ses_block(values, indptr, alphas, optimize, lower, upper, h, mean, var, fitted, alpha_out, status):  # pragma: no cover
    """SES over a block of series: fixed alpha per series, or optimised on ``[lower, upper]``.

    Writes the flat forecast in ``mean[i, :]``, the ETS(A,N,N) forecast-error variance
    ``sigma^2 * (1 + (k - 1) * alpha^2)`` in ``var[i, :]`` (``sigma^2`` = SSE / (n - 1); NaN when
    n < 2), one-step fitted values (``fitted`` aligned with ``values``, NaN at each series' first
    point) and the alpha used.  Status 2 (too short) for empty series.
    """
    n_series = indptr.shape[0] - 1
    for i in range(n_series):
        start = indptr[i]
        end = indptr[i + 1]
        n = end - start
        if n == 0:
            status[i] = 2
            alpha_out[i] = np.nan
            for k in range(h):
                mean[i, k] = np.nan
                var[i, k] = np.nan
            continue
        x = values[start:end]
        if optimize:
            alpha, _ = ses_optimize(x, lower, upper)
        else:
            alpha = alphas[i]
        alpha_out[i] = alpha
        c = 1.0 - alpha
        fitted[start] = np.nan
        if n == 1:
            fc = x[0]
            sse = 0.0
        else:
            f = x[0]
            sse = 0.0
            for t in range(1, n):
                f = alpha * x[t - 1] + c * f
                fitted[start + t] = f
                e = x[t] - f
                sse += e * e
            fc = alpha * x[n - 1] + c * f
        sigma2 = sse / (n - 1) if n > 1 else np.nan
        for k in range(h):
            mean[i, k] = fc
            var[i, k] = sigma2 * (1.0 + k * alpha * alpha)
        status[i] = 0
