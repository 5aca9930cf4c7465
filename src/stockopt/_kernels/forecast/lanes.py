"""Lock-step lanes: many SES recursions side by side, the machinery under the searches (numba).

The series of a block (or the (series, level) tasks of ADIDA / IMAPA) are taken by decreasing
length in groups of lanes and copied interleaved (row i holds the i-th point of every lane), so that
one pass over a group's rows advances every lane by the same step of its own recursion.  The inner
loop over lanes is vectorised by LLVM and the lanes are independent dependency chains, so a pass is
throughput-bound instead of waiting on each step of one chain (about 0.1 ns per lane and point for
the SSE against ~1.5 ns for one series alone).  Each lane performs exactly the scalar operations of
the one-series recursion of :mod:`stockopt._kernels.forecast.smoothing`, so every result is
independent of the grouping, hence of how the API splits series over threads.

This module fills the lanes (:func:`_group`, with block sums taken as they are copied) and runs the
passes over them (:func:`_pass_sse`, :func:`_pass_slope`, :func:`_pass_d012`); the searches that
drive them are in :mod:`stockopt._kernels.forecast.lane_search`.
"""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS

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
