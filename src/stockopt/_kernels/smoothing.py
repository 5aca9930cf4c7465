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
* :func:`golden_many` runs that search for many series in lock-step, with results bit-identical to
  :func:`ses_golden`;
* :func:`optimize_many` is our own faster search for the same minimiser (a grid of alphas evaluated in
  one pass, then a safeguarded Newton iteration with analytic first and second derivatives of the
  SSE), also in lock-step over many series; :func:`optimize_blocks` is the same search over the
  block sums of aggregated series (ADIDA / IMAPA), summed as they are copied into the lanes.

Lock-step: the series of a block are taken by decreasing length in groups of lanes and copied
interleaved (row i holds the i-th point of every lane), so that one pass over a group's rows advances
every lane by the same step of its own recursion.  The inner loop over lanes is vectorised by LLVM and
the lanes are independent dependency chains, so a pass is throughput-bound instead of waiting on each
step of one chain (about 0.1 ns per lane and point for the SSE against ~1.5 ns for one series alone).
Each lane performs exactly the scalar operations of the one-series recursion, so every result is
independent of the grouping, hence of how the API splits series over threads.

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
#: the grid of :func:`optimize_blocks`: geometric steps of at most this ratio, with at least
#: ``_GRID_MIN`` and at most ``_GRID_N`` points (8 on SESOpt's [0.01, 0.99], 6 on Croston's [0.1, 0.3])
_GRID_STEP = 1.25
_GRID_MIN = 4
_GRID_N = 8
#: below this many points :func:`optimize_many` runs the golden section instead
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
def _grid_size(lower, upper):  # pragma: no cover - compiled
    """Points of the grid on ``[lower, upper]``: the fewest (at least ``_GRID_MIN``) whose
    geometric steps are at most ``_GRID_STEP``, at most ``_GRID_N`` (always so when ``lower`` is 0)."""
    if not lower > 0.0:
        return _GRID_N
    n = _GRID_MIN
    while n < _GRID_N and (upper / lower) ** (1.0 / (n - 1)) > _GRID_STEP:
        n += 1
    return n


@numba.njit(**NUMBA_OPTS)
def _grid(lower, upper, out):  # pragma: no cover - compiled
    """``len(out)`` alphas spaced geometrically from ``lower`` to ``upper`` (the SSE changes fastest
    at small alpha), or evenly when ``lower`` is 0."""
    n = out.shape[0]
    for k in range(n):
        t = k / (n - 1)
        if lower > 0.0:
            out[k] = lower * (upper / lower) ** t
        else:
            out[k] = lower + t * (upper - lower)
    out[0] = lower
    out[n - 1] = upper


@numba.njit(**NUMBA_OPTS)
def _flat_sse_level(x, alpha):  # pragma: no cover - compiled
    """:func:`_sse_level` of a flat series, stopping once the level is exactly the value: from there
    on every step repeats the same exact zero error, so the result is bit-identical."""
    n = x.shape[0]
    v = x[0]
    c = 1.0 - alpha
    f = v
    sse = 0.0
    for i in range(1, n):
        fn = alpha * v + c * f
        e = v - fn
        sse += e * e
        if fn == f and e == 0.0:
            break
        f = fn
    return sse, f


@numba.njit(**NUMBA_OPTS)
def ses_optimize(x, lower, upper):  # pragma: no cover - compiled
    """Alpha in ``[lower, upper]`` minimising the in-sample SSE of SES for one series, and that SSE
    (:func:`optimize_many` on a single series; the search is described in :func:`optimize_blocks`)."""
    a = np.empty(1)
    s = np.empty(1)
    f = np.empty(1)
    starts = np.zeros(1, dtype=np.int64)
    lens = np.full(1, x.shape[0], dtype=np.int64)
    optimize_many(x, starts, lens, lower, upper, a, s, f)
    return a[0], s[0]


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
    want_fitted,
    alpha_out,
    status,
):  # pragma: no cover
    """SES over a block of series: fixed alpha per series, or optimised on ``[lower, upper]``.

    Writes the flat forecast in ``mean[i, :]``, the ETS(A,N,N) forecast-error variance
    ``sigma^2 * (1 + (k - 1) * alpha^2)`` in ``var[i, :]`` (``sigma^2`` = SSE / (n - 1); NaN when
    n < 2), one-step fitted values (``fitted`` aligned with ``values``, NaN at each series' first
    point; written only when ``want_fitted`` or the alpha is fixed) and the alpha used.  The
    optimised alphas come from :func:`optimize_many` (all series of the block in lock-step).  Status
    2 (too short) for empty series.
    """
    n_series = indptr.shape[0] - 1
    opt_a = np.empty(n_series if optimize else 0)
    opt_s = np.empty(n_series if optimize else 0)
    opt_f = np.empty(n_series if optimize else 0)
    if optimize:
        # every search of the block in lock-step; each series' result is that of ses_optimize
        starts = indptr[:-1].copy()
        lens = np.empty(n_series, dtype=np.int64)
        for i in range(n_series):
            lens[i] = indptr[i + 1] - indptr[i]
        optimize_many(values, starts, lens, lower, upper, opt_a, opt_s, opt_f)
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
        alpha = opt_a[i] if optimize else alphas[i]
        alpha_out[i] = alpha
        c = 1.0 - alpha
        if optimize and not want_fitted:
            # the search already produced this alpha's SSE and forecast (same operations)
            fc = opt_f[i]
            sse = opt_s[i]
        elif n == 1:
            fitted[start] = np.nan
            fc = x[0]
            sse = 0.0
        else:
            fitted[start] = np.nan
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
#: number of series (or (series, level) tasks) whose searches run side by side: one pass over a
#: group's rows advances every lane, the inner loop over lanes is vectorised by LLVM and the lanes are
#: independent dependency chains, so the pass is throughput-bound instead of latency-bound.  Each
#: lane performs exactly the scalar operations of the one-series functions, so results do not depend
#: on the grouping (nor on this number).
LANES = 64
#: lanes of :func:`golden_many` (its passes carry one alpha per lane, so wider groups amortise the
#: per-row loop overhead better; 128 x 8 bytes x a few hundred rows stays in the L2 cache)
GOLDEN_LANES = 128


#: the interleaved copy of a group holds at most about this many values (32 MB): very long series
#: get fewer lanes (results do not depend on the number of lanes)
_GROUP_VALUES = 4_000_000


@numba.njit(**NUMBA_OPTS)
def _lanes_for(rows, lanes):  # pragma: no cover - compiled
    """Lanes per group for series of up to ``rows`` points: ``lanes``, fewer (a multiple of 8, at
    least 8) when the interleaved copy would exceed :data:`_GROUP_VALUES`."""
    cap = _GROUP_VALUES // max(rows, 1)
    cap -= cap % 8
    return max(8, min(lanes, cap))


@numba.njit(**NUMBA_OPTS)
def _point(data, start, k, i):  # pragma: no cover - compiled
    """Point ``i`` of a task: ``data[start + i]`` (``k = 1``), or the sum of block ``i`` of ``k``
    values from ``start``, added left to right (the aggregated series of ADIDA / IMAPA)."""
    if k == 1:
        return data[start + i]
    b = start + i * k
    acc = data[b]
    for j in range(1, k):
        acc += data[b + j]
    return acc


@numba.njit(**NUMBA_OPTS)
def _level_rows(X, d0, d1, d2, d3, d4, d5, d6, d7, l0, m, k):  # pragma: no cover - compiled
    """Rows ``0..m-1`` of lanes ``l0..l0+7`` of ``X``: block sums of ``k`` values of the eight
    series ``d0..d7`` (added left to right, as :func:`_point`), eight running sums in registers."""
    for i in range(m):
        b = i * k
        s0 = d0[b]
        s1 = d1[b]
        s2 = d2[b]
        s3 = d3[b]
        s4 = d4[b]
        s5 = d5[b]
        s6 = d6[b]
        s7 = d7[b]
        for j in range(b + 1, b + k):
            s0 += d0[j]
            s1 += d1[j]
            s2 += d2[j]
            s3 += d3[j]
            s4 += d4[j]
            s5 += d5[j]
            s6 += d6[j]
            s7 += d7[j]
        r = X[i]
        r[l0] = s0
        r[l0 + 1] = s1
        r[l0 + 2] = s2
        r[l0 + 3] = s3
        r[l0 + 4] = s4
        r[l0 + 5] = s5
        r[l0 + 6] = s6
        r[l0 + 7] = s7


@numba.njit(**NUMBA_OPTS)
def _task_series(data, start, n, k, tmp):  # pragma: no cover - compiled
    """The ``n`` points of a task as one contiguous array: a view of ``data`` when ``k = 1``, else
    its block sums written into ``tmp``."""
    if k == 1:
        return data[start : start + n]
    for i in range(n):
        tmp[i] = _point(data, start, k, i)
    return tmp[:n]


@numba.njit(**NUMBA_OPTS)
def _is_flat_task(data, start, n, k):  # pragma: no cover - compiled
    """True when every point of a task equals the first (the SSE is then ~0 for every alpha); the
    points are computed as they are read, up to the first change."""
    v = _point(data, start, k, 0)
    for i in range(1, n):
        if _point(data, start, k, i) != v:
            return False
    return True


@numba.njit(**NUMBA_OPTS)
def _group(data, starts, lens, ks, order, g0, g1, X):  # pragma: no cover - compiled
    """Copy tasks ``order[g0:g1]`` interleaved into ``X`` (row i = i-th point of every lane); a task
    with ``ks[j] > 1`` is written as its block sums (:func:`_point`), straight from ``data``.

    Returns ``(rows, nfull, glens)``: rows used, the shortest lane length (rows below it need no
    mask) and the per-lane lengths (0 for unused lanes, whose columns are zero).
    """
    L = X.shape[1]
    rows = max(lens[order[g0]], 1)
    glens = np.zeros(L, dtype=np.int64)
    gst = np.zeros(L, dtype=np.int64)
    gk = np.ones(L, dtype=np.int64)
    nfull = rows
    for lane in range(L):
        if g0 + lane < g1:
            j = order[g0 + lane]
            glens[lane] = lens[j]
            gst[lane] = starts[j]
            gk[lane] = ks[j]
            nfull = min(nfull, lens[j])
        else:
            nfull = 0
    # eight lanes at a time, row by row: eight sequential read streams (what the prefetcher
    # follows) and one 64-byte line written per row
    for l0 in range(0, L - 7, 8):
        m = rows
        plain = True
        for lane in range(l0, l0 + 8):
            m = min(m, glens[lane])
            plain = plain and gk[lane] == 1
        if not plain:
            k = gk[l0]
            same = True
            for lane in range(l0, l0 + 8):
                same = same and gk[lane] == k
            if same:
                # one level for the eight lanes: eight running sums per row, in registers
                d0 = data[gst[l0] :]
                d1 = data[gst[l0 + 1] :]
                d2 = data[gst[l0 + 2] :]
                d3 = data[gst[l0 + 3] :]
                d4 = data[gst[l0 + 4] :]
                d5 = data[gst[l0 + 5] :]
                d6 = data[gst[l0 + 6] :]
                d7 = data[gst[l0 + 7] :]
                # a level known when compiling (the small ones, most blocks) lets the compiler
                # write each block's additions out; a loop of one or two steps per block costs more
                # than its additions
                if k == 2:
                    _level_rows(X, d0, d1, d2, d3, d4, d5, d6, d7, l0, m, 2)
                elif k == 3:
                    _level_rows(X, d0, d1, d2, d3, d4, d5, d6, d7, l0, m, 3)
                elif k == 4:
                    _level_rows(X, d0, d1, d2, d3, d4, d5, d6, d7, l0, m, 4)
                elif k == 5:
                    _level_rows(X, d0, d1, d2, d3, d4, d5, d6, d7, l0, m, 5)
                elif k == 6:
                    _level_rows(X, d0, d1, d2, d3, d4, d5, d6, d7, l0, m, 6)
                elif k == 7:
                    _level_rows(X, d0, d1, d2, d3, d4, d5, d6, d7, l0, m, 7)
                elif k == 8:
                    _level_rows(X, d0, d1, d2, d3, d4, d5, d6, d7, l0, m, 8)
                else:
                    _level_rows(X, d0, d1, d2, d3, d4, d5, d6, d7, l0, m, k)
            else:
                for i in range(m):
                    r = X[i]
                    for lane in range(l0, l0 + 8):
                        r[lane] = _point(data, gst[lane], gk[lane], i)
            for i in range(m, rows):
                for lane in range(l0, l0 + 8):
                    X[i, lane] = _point(data, gst[lane], gk[lane], i) if i < glens[lane] else 0.0
            continue
        d0 = data[gst[l0] :]
        d1 = data[gst[l0 + 1] :]
        d2 = data[gst[l0 + 2] :]
        d3 = data[gst[l0 + 3] :]
        d4 = data[gst[l0 + 4] :]
        d5 = data[gst[l0 + 5] :]
        d6 = data[gst[l0 + 6] :]
        d7 = data[gst[l0 + 7] :]
        for i in range(m):
            r = X[i]
            r[l0] = d0[i]
            r[l0 + 1] = d1[i]
            r[l0 + 2] = d2[i]
            r[l0 + 3] = d3[i]
            r[l0 + 4] = d4[i]
            r[l0 + 5] = d5[i]
            r[l0 + 6] = d6[i]
            r[l0 + 7] = d7[i]
        for i in range(m, rows):
            for lane in range(l0, l0 + 8):
                X[i, lane] = data[gst[lane] + i] if i < glens[lane] else 0.0
    for lane in range(L - L % 8, L):
        for i in range(rows):
            X[i, lane] = _point(data, gst[lane], gk[lane], i) if i < glens[lane] else 0.0
    return rows, max(nfull, 1), glens


@numba.njit(**NUMBA_OPTS)
def _pass_sse(X, rows, nfull, glens, A, S, F):  # pragma: no cover - compiled
    """SSE of SES for every lane at ``K`` alphas each (``A[k, lane]``), in one pass over the rows.

    ``S[k, lane]`` is :func:`ses_sse` of the lane's series at ``A[k, lane]`` (bit for bit: same
    operations in the same order) and ``F[k, lane]`` the level after the lane's last point but one
    (the ``f`` of :func:`ses_last`).  Rows below ``nfull`` are full for every lane and are taken
    four at a time (the four steps of a lane chained in registers: a quarter of the loads, stores
    and loop overhead, which is what bounds this loop); the rest are masked per lane.
    """
    K = A.shape[0]
    L = X.shape[1]
    C = np.empty((K, L))
    for k in range(K):
        for lane in range(L):
            C[k, lane] = 1.0 - A[k, lane]
            F[k, lane] = X[0, lane]
            S[k, lane] = 0.0
    i = 1
    while i + 3 < nfull:
        x0 = X[i - 1]
        x1 = X[i]
        x2 = X[i + 1]
        x3 = X[i + 2]
        x4 = X[i + 3]
        for k in range(K):
            a = A[k]
            c = C[k]
            f = F[k]
            s = S[k]
            for lane in range(L):
                al = a[lane]
                cl = c[lane]
                f1 = al * x0[lane] + cl * f[lane]
                e1 = x1[lane] - f1
                f2 = al * x1[lane] + cl * f1
                e2 = x2[lane] - f2
                f3 = al * x2[lane] + cl * f2
                e3 = x3[lane] - f3
                f4 = al * x3[lane] + cl * f3
                e4 = x4[lane] - f4
                s[lane] = (((s[lane] + e1 * e1) + e2 * e2) + e3 * e3) + e4 * e4
                f[lane] = f4
        i += 4
    while i + 3 < rows:
        # lanes of different lengths: the same four chained steps, each kept only while the lane
        # has points (branch-free selects, so it still vectorises)
        x0 = X[i - 1]
        x1 = X[i]
        x2 = X[i + 1]
        x3 = X[i + 2]
        x4 = X[i + 3]
        for k in range(K):
            a = A[k]
            c = C[k]
            f = F[k]
            s = S[k]
            for lane in range(L):
                left = glens[lane] - i
                al = a[lane]
                cl = c[lane]
                f0 = f[lane]
                f1 = al * x0[lane] + cl * f0
                e1 = x1[lane] - f1
                f2 = al * x1[lane] + cl * f1
                e2 = x2[lane] - f2
                f3 = al * x2[lane] + cl * f2
                e3 = x3[lane] - f3
                f4 = al * x3[lane] + cl * f3
                e4 = x4[lane] - f4
                s1 = s[lane] + e1 * e1 if left > 0 else s[lane]
                s2 = s1 + e2 * e2 if left > 1 else s1
                s3 = s2 + e3 * e3 if left > 2 else s2
                s[lane] = s3 + e4 * e4 if left > 3 else s3
                f01 = f1 if left > 0 else f0
                f012 = f2 if left > 1 else f01
                f[lane] = f4 if left > 3 else (f3 if left > 2 else f012)
        i += 4
    while i < rows:
        # past a lane's end its level and SSE stay put (branch-free selects, so it vectorises)
        xp = X[i - 1]
        xi = X[i]
        for k in range(K):
            a = A[k]
            c = C[k]
            f = F[k]
            s = S[k]
            for lane in range(L):
                live = i < glens[lane]
                fl = a[lane] * xp[lane] + c[lane] * f[lane]
                e = xi[lane] - fl
                f[lane] = fl if live else f[lane]
                s[lane] += e * e if live else 0.0
        i += 1


@numba.njit(**NUMBA_OPTS)
def _pass_slope(X, rows, nfull, glens, A, S, D, F):  # pragma: no cover - compiled
    """:func:`_pass_sse` that also writes ``D[k, lane]``, the derivative of the SSE in alpha at
    ``A[k, lane]``: bit for bit the ``S1`` of :func:`_pass_d012` there (same operations in the same
    order), without its second derivative.  The grid search uses it at the bracket's ends, where
    most searches of narrow brackets end."""
    K = A.shape[0]
    L = X.shape[1]
    C = np.empty((K, L))
    G = np.zeros((K, L))
    for k in range(K):
        for lane in range(L):
            C[k, lane] = 1.0 - A[k, lane]
            F[k, lane] = X[0, lane]
            S[k, lane] = 0.0
            D[k, lane] = 0.0
    i = 1
    while i + 3 < nfull:
        x0 = X[i - 1]
        x1 = X[i]
        x2 = X[i + 1]
        x3 = X[i + 2]
        x4 = X[i + 3]
        for k in range(K):
            a = A[k]
            c = C[k]
            f = F[k]
            s = S[k]
            d = D[k]
            g = G[k]
            for lane in range(L):
                al = a[lane]
                cl = c[lane]
                g1 = (x0[lane] - f[lane]) + cl * g[lane]
                f1 = al * x0[lane] + cl * f[lane]
                e1 = x1[lane] - f1
                g2 = (x1[lane] - f1) + cl * g1
                f2 = al * x1[lane] + cl * f1
                e2 = x2[lane] - f2
                g3 = (x2[lane] - f2) + cl * g2
                f3 = al * x2[lane] + cl * f2
                e3 = x3[lane] - f3
                g4 = (x3[lane] - f3) + cl * g3
                f4 = al * x3[lane] + cl * f3
                e4 = x4[lane] - f4
                s[lane] = (((s[lane] + e1 * e1) + e2 * e2) + e3 * e3) + e4 * e4
                d[lane] = (((d[lane] + e1 * g1) + e2 * g2) + e3 * g3) + e4 * g4
                f[lane] = f4
                g[lane] = g4
        i += 4
    while i < rows:
        # past a lane's end its sums and states stay put (branch-free selects, so it vectorises)
        xp = X[i - 1]
        xi = X[i]
        for k in range(K):
            a = A[k]
            c = C[k]
            f = F[k]
            s = S[k]
            d = D[k]
            g = G[k]
            for lane in range(L):
                live = i < glens[lane]
                cl = c[lane]
                gl = (xp[lane] - f[lane]) + cl * g[lane]
                fl = a[lane] * xp[lane] + cl * f[lane]
                e = xi[lane] - fl
                s[lane] += e * e if live else 0.0
                d[lane] += e * gl if live else 0.0
                f[lane] = fl if live else f[lane]
                g[lane] = gl if live else g[lane]
        i += 1
    for k in range(K):
        for lane in range(L):
            D[k, lane] = -2.0 * D[k, lane]


@numba.njit(**NUMBA_OPTS)
def _pass_d012(X, rows, nfull, glens, al, S0, S1, S2, F):  # pragma: no cover - compiled
    """SSE and its first and second derivatives in alpha for every lane at its own alpha, in one
    pass (``S0``, ``S1``, ``S2``); ``F`` as in :func:`_pass_sse`, and full rows four at a time for the
    same reason.  With ``g`` = df/dalpha and ``q`` = d2f/dalpha2 of the level recursion,
    ``S1 = -2 sum e g`` and ``S2 = 2 sum (g^2 - e q)``."""
    L = X.shape[1]
    c = np.empty(L)
    G = np.zeros(L)
    Q = np.zeros(L)
    for lane in range(L):
        c[lane] = 1.0 - al[lane]
        F[lane] = X[0, lane]
        S0[lane] = 0.0
        S1[lane] = 0.0
        S2[lane] = 0.0
    i = 1
    while i + 3 < nfull:
        x0 = X[i - 1]
        x1 = X[i]
        x2 = X[i + 1]
        x3 = X[i + 2]
        x4 = X[i + 3]
        for lane in range(L):
            a = al[lane]
            cl = c[lane]
            g = G[lane]
            f = F[lane]
            q = Q[lane]
            s0 = S0[lane]
            s1 = S1[lane]
            s2 = S2[lane]
            # four steps of the recursion of the masked loop below, operation for operation
            q = -2.0 * g + cl * q
            g = (x0[lane] - f) + cl * g
            f = a * x0[lane] + cl * f
            e = x1[lane] - f
            s0 = s0 + e * e
            s1 = s1 + e * g
            s2 = s2 + (g * g - e * q)
            q = -2.0 * g + cl * q
            g = (x1[lane] - f) + cl * g
            f = a * x1[lane] + cl * f
            e = x2[lane] - f
            s0 = s0 + e * e
            s1 = s1 + e * g
            s2 = s2 + (g * g - e * q)
            q = -2.0 * g + cl * q
            g = (x2[lane] - f) + cl * g
            f = a * x2[lane] + cl * f
            e = x3[lane] - f
            s0 = s0 + e * e
            s1 = s1 + e * g
            s2 = s2 + (g * g - e * q)
            q = -2.0 * g + cl * q
            g = (x3[lane] - f) + cl * g
            f = a * x3[lane] + cl * f
            e = x4[lane] - f
            S0[lane] = s0 + e * e
            S1[lane] = s1 + e * g
            S2[lane] = s2 + (g * g - e * q)
            G[lane] = g
            F[lane] = f
            Q[lane] = q
        i += 4
    while i < rows:
        xp = X[i - 1]
        xi = X[i]
        for lane in range(L):
            if i < glens[lane]:
                cl = c[lane]
                g = G[lane]
                f = F[lane]
                Q[lane] = -2.0 * g + cl * Q[lane]
                g = (xp[lane] - f) + cl * g
                f = al[lane] * xp[lane] + cl * f
                G[lane] = g
                F[lane] = f
                e = xi[lane] - f
                S0[lane] += e * e
                S1[lane] += e * g
                S2[lane] += g * g - e * Q[lane]
        i += 1
    for lane in range(L):
        S1[lane] = -2.0 * S1[lane]
        S2[lane] = 2.0 * S2[lane]


@numba.njit(**NUMBA_OPTS)
def _sse_level(x, alpha):  # pragma: no cover - compiled
    """:func:`ses_sse` and the level ``f`` of :func:`ses_last` (before the last point) in one pass."""
    n = x.shape[0]
    c = 1.0 - alpha
    f = x[0]
    sse = 0.0
    for i in range(1, n):
        f = alpha * x[i - 1] + c * f
        e = x[i] - f
        sse += e * e
    return sse, f


@numba.njit(**NUMBA_OPTS)
def optimize_many(data, starts, lens, lower, upper, alpha_out, sse_out, fc_out):  # pragma: no cover
    """:func:`optimize_blocks` of the series ``data[starts[j]:starts[j]+lens[j]]`` (no aggregation)."""
    optimize_blocks(data, starts, lens, np.ones(starts.shape[0], dtype=np.int64), lower, upper,
                    alpha_out, sse_out, fc_out)


@numba.njit(**NUMBA_OPTS)
def optimize_blocks(data, starts, lens, ks, lower, upper, alpha_out, sse_out, fc_out):  # pragma: no cover
    """Alpha in ``[lower, upper]`` minimising the in-sample SSE of SES, for many series at once;
    series j has ``lens[j]`` points, point i being the sum of ``data[starts[j] + i*ks[j]:][:ks[j]]``
    (:func:`_point`; ``ks[j] = 1`` is the plain series).  Aggregated series are summed as they are
    copied into the lanes, never written out whole.

    Writes the alpha, its in-sample SSE (bit for bit :func:`ses_sse` there) and the one-step forecast
    (:func:`ses_last` at that alpha).  The search, per series: the SSE at 4 to 8 geometrically spaced
    alphas (steps of at most 1.25x, :func:`_grid_size`; the SSE changes fastest at small alpha)
    picks the basin; from the vertex of the
    parabola through the best grid point and its neighbours, a safeguarded Newton iteration on the
    analytic ``dSSE/dalpha`` (derivative recursions ``g_t = x_{t-1} - f_{t-1} + (1 - alpha) g_{t-1}``,
    ``q_t = -2 g_{t-1} + (1 - alpha) q_{t-1}`` run in the same pass; bisection whenever the step
    leaves the bracket or the curvature is not positive) runs until the next step would lower the
    SSE by less than ``_REL_GAIN`` relative, or moves alpha by less than 1e-10.  The best point ever
    evaluated is returned, so the SSE is never above the best grid point's; a minimum pushed against
    a bound is compared with the bound itself.  Series shorter than :data:`SMALL_N` run
    :func:`ses_golden` (cheap there, and it keeps us on statsforecast's alpha), flat ones take
    ``lower`` at once (every alpha fits them).  ``tests/reference/fast_models.ses_optimize`` is the
    same search in plain Python, one series at a time.

    Series of :data:`SMALL_N` points or more are taken by decreasing length in groups of
    :data:`LANES`, copied interleaved, and their grid pass advances in lock-step; the pass also
    takes the slope at the bracket's two ends, so a search whose best grid point is an end with the
    SSE rising from it ends there (what its first Newton step would conclude, from the same bits;
    most searches on a narrow bracket such as Croston's [0.1, 0.3] end so).  The searches still
    running move into a pool of :data:`LANES` slots shared by all groups, and one Newton step of
    every search in the pool runs whenever it is full (and at the end until it is empty), so the
    passes stay full.  Every lane makes exactly the operations of the one-series search, so the
    results are bit for bit the same whatever the grouping.
    Empty series get the bracket's midpoint, SSE 0 and a NaN forecast.
    """
    m = starts.shape[0]
    n_long = 0
    flat = np.zeros(m, dtype=np.bool_)
    tmp = np.empty(lens.max() if m > 0 else 0)
    for j in range(m):
        nl = lens[j]
        if nl >= SMALL_N:
            if _is_flat_task(data, starts[j], nl, ks[j]):
                x = _task_series(data, starts[j], nl, ks[j], tmp)
                flat[j] = True
                s, f = _flat_sse_level(x, lower)
                alpha_out[j] = lower
                sse_out[j] = s
                fc_out[j] = lower * x[nl - 1] + (1.0 - lower) * f
            else:
                n_long += 1
            continue
        if nl == 0:
            alpha_out[j] = (lower + upper) / 2.0
            sse_out[j] = 0.0
            fc_out[j] = np.nan
            continue
        x = _task_series(data, starts[j], nl, ks[j], tmp)
        a = ses_golden(x, lower, upper)
        s, f = _sse_level(x, a)
        alpha_out[j] = a
        sse_out[j] = s
        fc_out[j] = x[0] if nl == 1 else a * x[nl - 1] + (1.0 - a) * f
    if n_long == 0:
        return
    longs = np.empty(n_long, dtype=np.int64)
    q = 0
    for j in range(m):
        if lens[j] >= SMALL_N and not flat[j]:
            longs[q] = j
            q += 1
    order = longs[np.argsort(-lens[longs], kind="mergesort")]
    rows_max = lens[order[0]]
    L = _lanes_for(rows_max, LANES)
    X = np.zeros((rows_max, L))
    GN = _grid_size(lower, upper)
    grid = np.empty(GN)
    _grid(lower, upper, grid)
    # the grid's inner alphas, and its two ends (where the slope is also taken)
    A = np.empty((GN - 2, L))
    for k in range(GN - 2):
        A[k, :] = grid[k + 1]
    AE = np.empty((2, L))
    AE[0, :] = lower
    AE[1, :] = upper
    SI = np.empty((GN - 2, L))
    FI = np.empty((GN - 2, L))
    SE = np.empty((2, L))
    FE = np.empty((2, L))
    DE = np.empty((2, L))
    SG = np.empty((GN, L))
    FG = np.empty((GN, L))
    # the Newton pool: L slots, each holding one running search (its points in column `slot` of P,
    # its state below); a free slot keeps its last column and rides along in the passes, skipped
    P = np.zeros((rows_max, L))
    S0 = np.empty(L)
    S1 = np.empty(L)
    S2 = np.empty(L)
    FL = np.empty(L)
    xk = np.full(L, 0.5 * (lower + upper))
    lo = np.empty(L)
    hi = np.empty(L)
    best_a = np.empty(L)
    best_s = np.empty(L)
    best_f = np.empty(L)
    tid = np.empty(L, dtype=np.int64)
    plens = np.zeros(L, dtype=np.int64)
    passes = np.zeros(L, dtype=np.int64)
    busy = np.zeros(L, dtype=np.bool_)
    n_busy = 0
    # the searches of the current group that the grid did not end: lane, start, bracket, best point
    go = np.empty(L, dtype=np.int64)
    g_x = np.empty(L)
    g_lo = np.empty(L)
    g_hi = np.empty(L)
    g_ba = np.empty(L)
    g_bs = np.empty(L)
    g_bf = np.empty(L)
    src = np.empty(L, dtype=np.int64)
    dst = np.empty(L, dtype=np.int64)
    for g0 in range(0, n_long, L):
        g1 = min(g0 + L, n_long)
        rows, nfull, glens = _group(data, starts, lens, ks, order, g0, g1, X)
        _pass_sse(X, rows, nfull, glens, A, SI, FI)
        _pass_slope(X, rows, nfull, glens, AE, SE, DE, FE)
        n_go = 0
        for lane in range(g1 - g0):
            for k in range(GN - 2):
                SG[k + 1, lane] = SI[k, lane]
                FG[k + 1, lane] = FI[k, lane]
            SG[0, lane] = SE[0, lane]
            FG[0, lane] = FE[0, lane]
            SG[GN - 1, lane] = SE[1, lane]
            FG[GN - 1, lane] = FE[1, lane]
            kb = 0
            for k in range(1, GN):
                if SG[k, lane] < SG[kb, lane]:
                    kb = k
            ba = grid[kb]
            bs = SG[kb, lane]
            bf = FG[kb, lane]
            a = grid[kb - 1] if kb > 0 else lower
            b = grid[kb + 1] if kb < GN - 1 else upper
            # best at an end, with the SSE rising from it: the first Newton step would stop there
            # (its pass at the end gives this slope, bit for bit), so the search ends now (a zero
            # slope stops it with the bracket unchanged, a rising one after moving the bracket's
            # far side onto the end)
            end_lo = kb == 0 and DE[0, lane] >= 0.0
            end_hi = kb == GN - 1 and DE[1, lane] <= 0.0
            if end_lo or end_hi:
                j = order[g0 + lane]
                last = X[glens[lane] - 1, lane]
                if upper - lower >= 1e-6:
                    # the best point is the bound itself, so _finish would check no bound: the
                    # result is written here (no call, which costs more than the search's rest)
                    alpha_out[j] = ba
                    sse_out[j] = bs
                    fc_out[j] = ba * last + (1.0 - ba) * bf
                elif end_lo:
                    _finish(data, starts, lens, ks, tmp, j, lower, upper, a, b if DE[0, lane] == 0.0 else ba,
                            ba, bs, bf, last, alpha_out, sse_out, fc_out)
                else:
                    _finish(data, starts, lens, ks, tmp, j, lower, upper, a if DE[1, lane] == 0.0 else ba, b,
                            ba, bs, bf, last, alpha_out, sse_out, fc_out)
                continue
            x0 = ba
            if 0 < kb < GN - 1:
                d0 = ba - grid[kb - 1]
                d2 = ba - grid[kb + 1]
                num = d0 * d0 * (bs - SG[kb + 1, lane]) - d2 * d2 * (bs - SG[kb - 1, lane])
                den = d0 * (bs - SG[kb + 1, lane]) - d2 * (bs - SG[kb - 1, lane])
                if den != 0.0:
                    x0 = ba - 0.5 * num / den
                    if not (a < x0 < b):
                        x0 = ba
            go[n_go] = lane
            g_x[n_go] = x0
            g_lo[n_go] = a
            g_hi[n_go] = b
            g_ba[n_go] = ba
            g_bs[n_go] = bs
            g_bf[n_go] = bf
            n_go += 1
        # the group's running searches move into free pool slots (their columns copied row by
        # row); a Newton pass runs whenever the pool is full, so passes stay full whatever share of
        # the searches the grid ended
        q = 0
        while q < n_go:
            n_new = 0
            for slot in range(L):
                if q == n_go:
                    break
                if busy[slot]:
                    continue
                busy[slot] = True
                n_busy += 1
                j = order[g0 + go[q]]
                tid[slot] = j
                plens[slot] = lens[j]
                passes[slot] = 0
                xk[slot] = g_x[q]
                lo[slot] = g_lo[q]
                hi[slot] = g_hi[q]
                best_a[slot] = g_ba[q]
                best_s[slot] = g_bs[q]
                best_f[slot] = g_bf[q]
                src[n_new] = go[q]
                dst[n_new] = slot
                n_new += 1
                q += 1
            for i in range(rows):
                xr = X[i]
                pr = P[i]
                for t in range(n_new):
                    pr[dst[t]] = xr[src[t]]
            if n_busy == L:
                n_busy -= _newton_pass(P, plens, busy, xk, lo, hi, best_a, best_s, best_f, tid, passes,
                                       S0, S1, S2, FL, data, starts, lens, ks, tmp, lower, upper,
                                       alpha_out, sse_out, fc_out)
    while n_busy > 0:
        n_busy -= _newton_pass(P, plens, busy, xk, lo, hi, best_a, best_s, best_f, tid, passes,
                               S0, S1, S2, FL, data, starts, lens, ks, tmp, lower, upper,
                               alpha_out, sse_out, fc_out)


@numba.njit(**NUMBA_OPTS)
def _newton_pass(P, plens, busy, xk, lo, hi, best_a, best_s, best_f, tid, passes, S0, S1, S2, FL,
                 data, starts, lens, ks, tmp, lower, upper, alpha_out, sse_out, fc_out):  # pragma: no cover
    """One safeguarded Newton step of every running search of the pool (:func:`optimize_blocks`);
    a search that ends writes its result and frees its slot.  Returns the number that ended.

    Per search: the SSE and its derivatives at its alpha (:func:`_pass_d012`); the best point is
    kept; the bracket shrinks to the side the slope points to; the Newton step is taken when the
    curvature is positive and the step stays inside the bracket, bisection otherwise; the search
    ends when the step would gain less than ``_REL_GAIN`` of the SSE, moves alpha by less than
    1e-10, the slope is exactly zero, or after 60 steps (keeping its best point).
    """
    L = P.shape[1]
    rows = 1
    nfull = P.shape[0]
    glens = np.zeros(L, dtype=np.int64)
    for slot in range(L):
        if busy[slot]:
            glens[slot] = plens[slot]
            rows = max(rows, plens[slot])
            nfull = min(nfull, plens[slot])
    _pass_d012(P, rows, nfull, glens, xk, S0, S1, S2, FL)
    ended = 0
    for slot in range(L):
        if not busy[slot]:
            continue
        s0 = S0[slot]
        s1 = S1[slot]
        s2 = S2[slot]
        x0 = xk[slot]
        if s0 < best_s[slot]:
            best_s[slot] = s0
            best_a[slot] = x0
            best_f[slot] = FL[slot]
        stop = False
        if s1 > 0.0:
            hi[slot] = x0
        elif s1 < 0.0:
            lo[slot] = x0
        else:
            stop = True
        if not stop:
            a = lo[slot]
            b = hi[slot]
            newton = s2 > 0.0
            nxt = x0
            if newton:
                nxt = x0 - s1 / s2
                newton = a < nxt < b
                if newton and 0.5 * s1 * s1 / s2 <= _REL_GAIN * s0:
                    stop = True
            if not stop:
                if not newton:
                    nxt = 0.5 * (a + b)
                if abs(nxt - x0) < 1e-10 or (b - a) < 1e-10:
                    stop = True
                else:
                    xk[slot] = nxt
        passes[slot] += 1
        if stop or passes[slot] == 60:
            busy[slot] = False
            ended += 1
            _finish(data, starts, lens, ks, tmp, tid[slot], lower, upper, lo[slot], hi[slot],
                    best_a[slot], best_s[slot], best_f[slot], P[plens[slot] - 1, slot],
                    alpha_out, sse_out, fc_out)
    return ended


@numba.njit(**NUMBA_OPTS)
def _finish(
    data, starts, lens, ks, tmp, j, lower, upper, lo, hi, ba, bs, bf, last, alpha_out, sse_out, fc_out,
):  # pragma: no cover - compiled
    """Write one search's result (``last``: the series' last point, from the lanes); a minimum
    pushed against a bound is checked at the bound itself."""
    if lo <= lower and ba - lower < 1e-6 and ba != lower:
        s, f = _sse_level(_task_series(data, starts[j], lens[j], ks[j], tmp), lower)
        if s <= bs:
            ba, bs, bf = lower, s, f
    if hi >= upper and upper - ba < 1e-6 and ba != upper:
        s, f = _sse_level(_task_series(data, starts[j], lens[j], ks[j], tmp), upper)
        if s <= bs:
            ba, bs, bf = upper, s, f
    alpha_out[j] = ba
    sse_out[j] = bs
    fc_out[j] = ba * last + (1.0 - ba) * bf


@numba.njit(**NUMBA_OPTS)
def golden_many(data, starts, lens, lower, upper, alpha_out, fc_out):  # pragma: no cover - compiled
    """:func:`ses_golden` for many series at once: series j is ``data[starts[j]:starts[j]+lens[j]]``.

    Also writes ``fc_out[j] = ses_last(series_j, alpha_out[j])`` (one more lock-step pass, same
    operations) unless ``fc_out`` is empty; NaN for empty series.

    Series are taken by decreasing length in groups of :data:`GOLDEN_LANES`, copied interleaved, and their
    golden-section searches advance in lock-step (one pass over the group's rows per step).  Every
    search makes exactly the comparisons and evaluations of :func:`ses_golden`, so ``alpha_out[j]``
    equals ``ses_golden(series_j, lower, upper)`` bit for bit, whatever the grouping.
    """
    m = starts.shape[0]
    if m == 0:
        return
    order = np.argsort(-lens, kind="mergesort")
    ones = np.ones(m, dtype=np.int64)
    L = _lanes_for(lens[order[0]], GOLDEN_LANES)
    X = np.zeros((max(lens[order[0]], 1), L))
    a = np.empty(L)
    b = np.empty(L)
    c = np.empty(L)
    d = np.empty(L)
    fc = np.empty(L)
    fd = np.empty(L)
    at = np.empty((1, L))
    CD = np.empty((2, L))
    res = np.empty((2, L))
    fl = np.empty((2, L))
    use_c = np.zeros(L, dtype=np.bool_)
    done = np.zeros(L, dtype=np.bool_)
    for g0 in range(0, m, L):
        g1 = min(g0 + L, m)
        rows, nfull, glens = _group(data, starts, lens, ones, order, g0, g1, X)
        for lane in range(L):
            a[lane] = lower
            b[lane] = upper
            c[lane] = upper - (upper - lower) / _GR
            d[lane] = lower + (upper - lower) / _GR
            CD[0, lane] = c[lane]
            CD[1, lane] = d[lane]
            done[lane] = False
        _pass_sse(X, rows, nfull, glens, CD, res, fl)
        for lane in range(L):
            fc[lane] = res[0, lane]
            fd[lane] = res[1, lane]
        while True:
            # one golden-section step per lane, written with selects so the loop vectorises; per
            # lane the values are those of ses_golden's branches:
            #   fc < fd: b = d, d = c, fd = fc, c = b - (b - a) / gr  (evaluate at the new c)
            #   fd < fc: a = c, c = d, fc = fd, d = a + (b - a) / gr  (evaluate at the new d)
            active = 0
            for lane in range(L):
                al = a[lane]
                bl = b[lane]
                cl = c[lane]
                dl = d[lane]
                fcl = fc[lane]
                fdl = fd[lane]
                lt = fcl < fdl
                gt = fdl < fcl
                go = (not done[lane]) & (abs(bl - al) >= 1e-12) & (lt | gt)
                a2 = cl if gt else al
                b2 = dl if lt else bl
                w = (b2 - a2) / _GR
                cn = b2 - w
                dn = a2 + w
                a[lane] = a2 if go else al
                b[lane] = b2 if go else bl
                c[lane] = (cn if lt else dl) if go else cl
                d[lane] = (cl if lt else dn) if go else dl
                fc[lane] = (fcl if lt else fdl) if go else fcl
                fd[lane] = (fcl if lt else fdl) if go else fdl
                at[0, lane] = (cn if lt else dn) if go else 0.5
                use_c[lane] = lt
                done[lane] = not go
                active += 1 if go else 0
            if active == 0:
                break
            _pass_sse(X, rows, nfull, glens, at, res, fl)
            for lane in range(L):
                r = res[0, lane]
                live = not done[lane]
                fc[lane] = r if (live & use_c[lane]) else fc[lane]
                fd[lane] = r if (live & (not use_c[lane])) else fd[lane]
        for lane in range(L):
            at[0, lane] = (b[lane] + a[lane]) / 2.0
        for lane in range(g1 - g0):
            alpha_out[order[g0 + lane]] = at[0, lane]
        if fc_out.shape[0] == 0:
            continue
        _pass_sse(X, rows, nfull, glens, at, res, fl)
        for lane in range(g1 - g0):
            j = order[g0 + lane]
            nl = glens[lane]
            al = at[0, lane]
            if nl == 0:
                fc_out[j] = np.nan
            elif nl == 1:
                fc_out[j] = X[0, lane]
            else:
                fc_out[j] = al * X[nl - 1, lane] + (1.0 - al) * fl[0, lane]
