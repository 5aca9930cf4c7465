"""SES for many series at once: the block kernel and the searches for the smoothing constant (numba).

* :func:`ses_block` is the SES / SESOpt block kernel over ``(values, indptr)``;

* :func:`golden_many` runs statsforecast's golden-section search (:func:`~stockopt._kernels.forecast.
  smoothing.ses_golden`) for many series in lock-step, with results bit-identical to it;
* :func:`optimize_many` is our own faster search for the same minimiser (a grid of alphas evaluated in
  one pass, then a safeguarded Newton iteration with analytic first and second derivatives of the
  SSE), also in lock-step over many series; :func:`optimize_blocks` is the same search over the
  block sums of aggregated series (ADIDA / IMAPA), summed as they are copied into the lanes.

The lanes themselves (filling, passes) are in :mod:`stockopt._kernels.forecast.lanes`.

References
----------
Brown, R. G. (1959). *Statistical Forecasting for Inventory Control*. McGraw-Hill.
"""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import STATUS_OK, STATUS_TOO_SHORT
from stockopt._kernels.forecast.lanes import (
    GOLDEN_LANES,
    LANES,
    _group,
    _is_flat_task,
    _lanes_for,
    _pass_d012,
    _pass_slope,
    _pass_sse,
    _task_series,
)
from stockopt._kernels.forecast.smoothing import (
    _GR,
    _REL_GAIN,
    SMALL_N,
    _flat_sse_level,
    _grid,
    _grid_size,
    ses_golden,
)


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
            status[i] = STATUS_TOO_SHORT
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
        status[i] = STATUS_OK


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
