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
* :func:`golden_many` runs that search for many series in lock-step (16 interleaved lanes per pass
  over the data), with results bit-identical to :func:`ses_golden`;
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
#: Newton stops once its next step would lower the SSE by less than this fraction
_REL_GAIN = 1e-14


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
def _grid(lower, upper, out):  # pragma: no cover - compiled
    """``_GRID_N`` alphas spaced geometrically from ``lower`` to ``upper`` (the SSE changes fastest
    at small alpha), or evenly when ``lower`` is 0."""
    for k in range(_GRID_N):
        t = k / (_GRID_N - 1)
        if lower > 0.0:
            out[k] = lower * (upper / lower) ** t
        else:
            out[k] = lower + t * (upper - lower)
    out[0] = lower
    out[_GRID_N - 1] = upper


@numba.njit(**NUMBA_OPTS)
def _sse_grid(x, alphas, out):  # pragma: no cover - compiled
    """SSE at the 8 (``_GRID_N``) alphas in one pass: eight independent chains side by side.

    Written out with scalar locals (not small arrays) so each chain stays in a register; per chain
    the operations are exactly those of :func:`ses_sse`.
    """
    n = x.shape[0]
    a0, a1, a2, a3 = alphas[0], alphas[1], alphas[2], alphas[3]
    a4, a5, a6, a7 = alphas[4], alphas[5], alphas[6], alphas[7]
    c0, c1, c2, c3 = 1.0 - a0, 1.0 - a1, 1.0 - a2, 1.0 - a3
    c4, c5, c6, c7 = 1.0 - a4, 1.0 - a5, 1.0 - a6, 1.0 - a7
    f0 = f1 = f2 = f3 = f4 = f5 = f6 = f7 = x[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for i in range(1, n):
        xp = x[i - 1]
        xi = x[i]
        f0 = a0 * xp + c0 * f0
        f1 = a1 * xp + c1 * f1
        f2 = a2 * xp + c2 * f2
        f3 = a3 * xp + c3 * f3
        f4 = a4 * xp + c4 * f4
        f5 = a5 * xp + c5 * f5
        f6 = a6 * xp + c6 * f6
        f7 = a7 * xp + c7 * f7
        e0 = xi - f0
        e1 = xi - f1
        e2 = xi - f2
        e3 = xi - f3
        e4 = xi - f4
        e5 = xi - f5
        e6 = xi - f6
        e7 = xi - f7
        s0 += e0 * e0
        s1 += e1 * e1
        s2 += e2 * e2
        s3 += e3 * e3
        s4 += e4 * e4
        s5 += e5 * e5
        s6 += e6 * e6
        s7 += e7 * e7
    out[0] = s0
    out[1] = s1
    out[2] = s2
    out[3] = s3
    out[4] = s4
    out[5] = s5
    out[6] = s6
    out[7] = s7


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

    A geometric grid of ``_GRID_N`` alphas (one pass over the data) picks the best basin; from the
    vertex of the parabola through its best three points, a safeguarded Newton iteration on
    ``dSSE/dalpha`` (bisection whenever the step leaves the bracket or the curvature is not
    positive) runs until the next step would lower the SSE by less than ``_REL_GAIN`` relative, or
    moves alpha by less than 1e-10.  The best point ever evaluated is returned, so the result is
    never worse than the best grid point.  Series shorter than :data:`SMALL_N` use
    :func:`ses_golden` instead.
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
    _grid(lower, upper, alphas)
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
        x0 = alphas[kb - 1]
        x2 = alphas[kb + 1]
        d0 = best_a - x0
        d2 = best_a - x2
        num = d0 * d0 * (best_s - sse[kb + 1]) - d2 * d2 * (best_s - sse[kb - 1])
        den = d0 * (best_s - sse[kb + 1]) - d2 * (best_s - sse[kb - 1])
        if den != 0.0:
            xk = best_a - 0.5 * num / den
            if not (a < xk < b):
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
        newton = s2 > 0.0
        if newton:
            nxt = xk - s1 / s2
            newton = a < nxt < b
            # converged: the Newton step would lower the SSE by a negligible relative amount
            if newton and 0.5 * s1 * s1 / s2 <= _REL_GAIN * s0:
                break
        if not newton:
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
def ses_block(
    values,
    indptr,
    alphas,
    optimize,
    lower,
    upper,
    h,
    mean,
    var,
    fitted,
    alpha_out,
    status,
):  # pragma: no cover
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


# ---------------------------------------------------------------- many series in lock-step
#: number of series whose golden-section searches run side by side (independent dependency chains
#: that the CPU overlaps and LLVM may put in SIMD registers; results do not depend on it)
LANES = 16


@numba.njit(**NUMBA_OPTS)
def _sse_lanes(X, lens, alpha, out):  # pragma: no cover - compiled
    """SSE of SES for ``LANES`` series stored interleaved (row i = i-th point of every lane).

    Lane ``l`` holds ``lens[l]`` points (zero padded below); the operations per lane are exactly
    those of :func:`ses_sse`, so each result is bit-identical to it.
    """
    n = X.shape[0]
    L = X.shape[1]
    f = np.empty(L)
    s = np.zeros(L)
    c = np.empty(L)
    for lane in range(L):
        f[lane] = X[0, lane]
        c[lane] = 1.0 - alpha[lane]
    for i in range(1, n):
        for lane in range(L):
            fl = alpha[lane] * X[i - 1, lane] + c[lane] * f[lane]
            f[lane] = fl
            e = X[i, lane] - fl
            s[lane] += e * e if i < lens[lane] else 0.0
    for lane in range(L):
        out[lane] = s[lane]


@numba.njit(**NUMBA_OPTS)
def golden_many(data, starts, lens, lower, upper, alpha_out):  # pragma: no cover - compiled
    """:func:`ses_golden` for many series at once: series j is ``data[starts[j]:starts[j]+lens[j]]``.

    Series are taken by decreasing length in groups of :data:`LANES`, copied interleaved, and their
    golden-section searches advance in lock-step (one pass over the group's rows per step).  Every
    search makes exactly the comparisons and evaluations of :func:`ses_golden`, so ``alpha_out[j]``
    equals ``ses_golden(series_j, lower, upper)`` bit for bit, whatever the grouping.
    """
    m = starts.shape[0]
    if m == 0:
        return
    order = np.argsort(-lens, kind="mergesort")
    L = LANES
    n_max = 0
    for j in range(m):
        n_max = max(n_max, lens[j])
    X = np.zeros((max(n_max, 1), L))
    glens = np.zeros(L, dtype=np.int64)
    a = np.empty(L)
    b = np.empty(L)
    c = np.empty(L)
    d = np.empty(L)
    fc = np.empty(L)
    fd = np.empty(L)
    at = np.empty(L)
    res = np.empty(L)
    use_c = np.zeros(L, dtype=np.bool_)
    done = np.zeros(L, dtype=np.bool_)
    for g0 in range(0, m, L):
        g1 = min(g0 + L, m)
        rows = lens[order[g0]]
        if rows < 1:
            rows = 1
        for lane in range(L):
            if g0 + lane < g1:
                j = order[g0 + lane]
                nl = lens[j]
                s0 = starts[j]
                for i in range(nl):
                    X[i, lane] = data[s0 + i]
                for i in range(nl, rows):
                    X[i, lane] = 0.0
                glens[lane] = nl
            else:
                for i in range(rows):
                    X[i, lane] = 0.0
                glens[lane] = 0
            a[lane] = lower
            b[lane] = upper
            c[lane] = upper - (upper - lower) / _GR
            d[lane] = lower + (upper - lower) / _GR
            done[lane] = False
        Xg = X[:rows]
        _sse_lanes(Xg, glens, c, fc)
        _sse_lanes(Xg, glens, d, fd)
        while True:
            active = 0
            for lane in range(L):
                if done[lane]:
                    at[lane] = 0.5
                    continue
                if not (abs(b[lane] - a[lane]) >= 1e-12):
                    done[lane] = True
                    at[lane] = 0.5
                    continue
                if fc[lane] < fd[lane]:
                    b[lane] = d[lane]
                    d[lane] = c[lane]
                    fd[lane] = fc[lane]
                    c[lane] = b[lane] - (b[lane] - a[lane]) / _GR
                    at[lane] = c[lane]
                    use_c[lane] = True
                    active += 1
                elif fd[lane] < fc[lane]:
                    a[lane] = c[lane]
                    c[lane] = d[lane]
                    fc[lane] = fd[lane]
                    d[lane] = a[lane] + (b[lane] - a[lane]) / _GR
                    at[lane] = d[lane]
                    use_c[lane] = False
                    active += 1
                else:
                    done[lane] = True
                    at[lane] = 0.5
            if active == 0:
                break
            _sse_lanes(Xg, glens, at, res)
            for lane in range(L):
                if not done[lane]:
                    if use_c[lane]:
                        fc[lane] = res[lane]
                    else:
                        fd[lane] = res[lane]
        for lane in range(g1 - g0):
            alpha_out[order[g0 + lane]] = (b[lane] + a[lane]) / 2.0
