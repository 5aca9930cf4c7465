"""Initial states of ETS models for fixed smoothing parameters: exact least squares for models
with linear one-step forecasts and Gauss-Newton for the others.

Notation and state layout as in :mod:`stockopt._kernels.forecast.ets_core`.  For linear models the errors
are ``e_t = ytilde_t - z_t' x_0`` (Hyndman, Koehler, Ord & Snyder 2008, ch. 5), so the best ``x_0``
solves normal equations accumulated by running copies of the recursion in lock-step: one on the
data with ``x_0 = 0`` and one per unit initial state on zero data.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.forecast.ets_core import HUGE, TOL, chol_solve, run


@numba.njit(**NUMBA_OPTS)
def ls_states(y, ttype, stype, m, alpha, beta, gamma, phi, wts, use_w, x0, Lv, Bv, Sv, G, c, z, xs):
    """Least-squares initial states of a model with additive season or none (linear forecasts).

    Minimises ``sum_t w_t (y_t - f_t(x_0))^2`` over ``x_0`` for fixed smoothing parameters,
    with the seasonal states normalised to sum to 0.  Writes ``x_0`` (layout of :func:`run`) and
    returns the minimised weighted sum of squares.  ``Lv, Bv`` (>= p+1), ``Sv`` (>= (m, p+1)),
    ``G`` (>= (p, p)), ``c, xs`` (>= p) and ``z`` (>= max(p, 6m)) are work arrays.
    """
    n = y.shape[0]
    ms = m if stype > 0 else 1
    nt = 1 if ttype > 0 else 0
    ns = m - 1 if stype > 0 else 0
    p = 1 + nt + ns
    P = p + 1
    if ttype == 0:
        phi = 1.0
        beta = 0.0
    if stype == 0:
        gamma = 0.0
    # centre the data (the level absorbs a constant shift exactly)
    nc = min(n, max(2 * ms, 10))
    cc = 0.0
    for t in range(nc):
        cc += y[t]
    cc = cc / nc if nc > 0 else 0.0
    for a in range(P):
        Lv[a] = 0.0
        Bv[a] = 0.0
        for r in range(ms):
            Sv[r, a] = 0.0
    for a in range(p):
        c[a] = 0.0
        for bb in range(p):
            G[a, bb] = 0.0
    Lv[1] = 1.0
    if nt:
        Bv[2] = 1.0
    for j in range(1, ns + 1):
        lane = 1 + nt + j
        Sv[ms - j, lane] = 1.0
        Sv[0, lane] = -1.0
    yy = 0.0
    kk = 0
    active = True
    for t in range(n):
        w = wts[t] if use_w else 1.0
        e0 = (y[t] - cc) - (Lv[0] + phi * Bv[0] + Sv[kk, 0])
        yy += w * e0 * e0
        Lv[0] = Lv[0] + phi * Bv[0] + alpha * e0
        Bv[0] = phi * Bv[0] + beta * e0
        Sv[kk, 0] += gamma * e0
        if active:
            for a in range(p):
                z[a] = Lv[a + 1] + phi * Bv[a + 1] + Sv[kk, a + 1]
            for a in range(p):
                # lane a+1 runs on zero data: its error is -z[a]
                za = z[a]
                Lv[a + 1] = Lv[a + 1] + phi * Bv[a + 1] - alpha * za
                Bv[a + 1] = phi * Bv[a + 1] - beta * za
                Sv[kk, a + 1] -= gamma * za
            for a in range(p):
                wa = w * z[a]
                c[a] += wa * e0
                for bb in range(a + 1):
                    G[a, bb] += wa * z[bb]
            if (t & 15) == 15:
                # the unit lanes decay geometrically; stop once they no longer matter
                big = 0.0
                for a in range(1, P):
                    v = math.fabs(Lv[a]) + math.fabs(Bv[a])
                    for r in range(ms):
                        v += math.fabs(Sv[r, a])
                    if v > big:
                        big = v
                if big < 1e-13:
                    active = False
        kk += 1
        if kk == ms:
            kk = 0
    chol_solve(G, c, p, xs)
    sse = yy
    for a in range(p):
        sse -= c[a] * xs[a]
    if sse < 0.0:
        sse = 0.0
    x0[0] = xs[0] + cc
    x0[1] = xs[1] if nt else 0.0
    if stype > 0:
        tot = 0.0
        for j in range(1, ns + 1):
            x0[1 + j] = xs[nt + j]
            tot += xs[nt + j]
        x0[1 + ms] = -tot
    return sse


@numba.njit(**NUMBA_OPTS)
def ls_states_seasonal(y, ttype, stype, m, alpha, beta, gamma, phi, x0, Lv, Bv, Sv, G, c, xs, hist,
                       acc, tail):
    """:func:`ls_states` (unweighted) exploiting that the seasonal unit lanes are time shifts of one
    another (``stype`` 0 or 1; without a season only the data, level and trend lanes run).

    The lane started from "1 in ring slot r" produces the one-step forecasts of the lane started
    from slot 0 delayed by r steps, so only four lanes run (data, level, trend, one seasonal) and
    the seasonal rows of the normal equations are lagged cross-products of the seasonal lane with
    itself, the level and trend lanes and the data (O(m) work per step instead of O(m^2)).
    ``hist`` (>= 2m), ``acc`` (>= (4, m)) and ``tail`` (>= (m, m + 1)) are work arrays; the others
    as in :func:`ls_states`.  The end corrections of the lagged sums come from prefix sums over the
    last m steps (``tail``), so assembling the normal equations is O(m^2), not O(m^3) (a 52-week
    season: ~15x faster per evaluation).
    """
    n = y.shape[0]
    seas = stype > 0
    ms = m if seas else 1
    nt = 1 if ttype > 0 else 0
    if ttype == 0:
        phi = 1.0
        beta = 0.0
    if not seas:
        gamma = 0.0
    nc = min(n, max(2 * ms, 10))
    cc = 0.0
    for t in range(nc):
        cc += y[t]
    cc = cc / nc if nc > 0 else 0.0
    # lanes: 0 data, 1 level, 2 trend, 3 seasonal slot 0
    for a in range(4):
        Lv[a] = 0.0
        Bv[a] = 0.0
        for r in range(ms):
            Sv[r, a] = 0.0
    Lv[1] = 1.0
    Bv[2] = 1.0
    Sv[0, 3] = 1.0
    for r in range(2 * ms):
        hist[r] = 0.0
    for q in range(4):
        for r in range(ms):
            acc[q, r] = 0.0
    yy = 0.0
    gll = 0.0
    glb = 0.0
    gbb = 0.0
    cl = 0.0
    cb = 0.0
    kk = 0
    active = True
    # the level/trend updates are written as l' = (1-a) l + (1-a) phi b + a u and
    # b' = phi (1-b) b - b l + b u with u = y - s_{t-m}: algebraically the same recursion, with
    # a shorter chain of dependent operations per step (scalars stay in registers)
    oma = 1.0 - alpha
    omaphi = oma * phi
    phib1 = phi * (1.0 - beta)
    L0 = 0.0
    B0 = 0.0
    L1 = 1.0
    B1 = 0.0
    L2 = 0.0
    B2 = 1.0
    L3 = 0.0
    B3 = 0.0
    for t in range(n):
        u = (y[t] - cc) - Sv[kk, 0]
        e0 = u - (L0 + phi * B0)
        yy += e0 * e0
        L0, B0 = oma * L0 + omaphi * B0 + alpha * u, phib1 * B0 - beta * L0 + beta * u
        Sv[kk, 0] += gamma * e0
        if active:
            u = -Sv[kk, 1]
            zl = (L1 + phi * B1) - u
            L1, B1 = oma * L1 + omaphi * B1 + alpha * u, phib1 * B1 - beta * L1 + beta * u
            Sv[kk, 1] -= gamma * zl
            gll += zl * zl
            cl += zl * e0
            big = math.fabs(L1) + math.fabs(B1)
            if nt:
                u = -Sv[kk, 2]
                zb = (L2 + phi * B2) - u
                L2, B2 = oma * L2 + omaphi * B2 + alpha * u, phib1 * B2 - beta * L2 + beta * u
                Sv[kk, 2] -= gamma * zb
                glb += zl * zb
                gbb += zb * zb
                cb += zb * e0
                big += math.fabs(L2) + math.fabs(B2)
            else:
                zb = 0.0
            if seas:
                u = -Sv[kk, 3]
                zu = (L3 + phi * B3) - u
                L3, B3 = oma * L3 + omaphi * B3 + alpha * u, phib1 * B3 - beta * L3 + beta * u
                Sv[kk, 3] -= gamma * zu
                # hist[kk + 1 + i] holds zu at lag m - 1 - i (i = 0..m-1) after these writes
                hist[kk] = zu
                hist[kk + ms] = zu
                for i in range(ms):
                    hz = hist[kk + 1 + i]
                    acc[0, i] += e0 * hz
                    acc[1, i] += zl * hz
                    acc[2, i] += zb * hz
                    acc[3, i] += zu * hz
            if (t & 15) == 15:
                # the unit lanes decay geometrically; stop once they no longer matter
                if seas:
                    for a in range(1, 4):
                        for r in range(ms):
                            big += math.fabs(Sv[r, a])
                    big += math.fabs(L3) + math.fabs(B3)
                if big < 1e-13:
                    active = False
                    for r in range(2 * ms):
                        hist[r] = 0.0
        kk += 1
        if kk == ms:
            kk = 0
    # lag-r sums: acc[q, m-1-r] = sum_t (x_q)_t zu_{t-r}
    # Gram of the shifted lanes U_r (r >= q, d = r - q): sum_{tau=0}^{n-1-r} zu_tau zu_{tau+d}
    # = acc[3, m-1-d] - sum_{tau=n-r}^{n-1-d} zu_tau zu_{tau+d}; zu_tau for the last m taus sit
    # in hist (slot tau mod m) unless the lanes were stopped (then they are 0).
    p = 1 + nt + ms - 1
    for a in range(p):
        c[a] = 0.0
        for bb in range(p):
            G[a, bb] = 0.0
    # G rows: 0 level, 1 trend (if nt), then seasonal j = 1..m-1 -> index nt + j
    G[0, 0] = gll
    c[0] = cl
    if nt:
        G[1, 0] = glb
        G[1, 1] = gbb
        c[1] = cb
    base = _tail_sums(hist, n, ms, tail) if seas else 0
    for j in range(1, ms):
        rj = ms - j  # S_j = U_{rj} - U_0
        ij = nt + j
        c[ij] = acc[0, ms - 1 - rj] - acc[0, ms - 1]
        G[ij, 0] = acc[1, ms - 1 - rj] - acc[1, ms - 1]
        if nt:
            G[ij, 1] = acc[2, ms - 1 - rj] - acc[2, ms - 1]
        for k2 in range(1, j + 1):
            rk = ms - k2
            ik = nt + k2
            G[ij, ik] = (_gu(acc, tail, base, n, ms, rj, rk) - _gu(acc, tail, base, n, ms, rj, 0)
                         - _gu(acc, tail, base, n, ms, 0, rk) + _gu(acc, tail, base, n, ms, 0, 0))
    chol_solve(G, c, p, xs)
    sse = yy
    for a in range(p):
        sse -= c[a] * xs[a]
    if sse < 0.0:
        sse = 0.0
    x0[0] = xs[0] + cc
    x0[1] = xs[1] if nt else 0.0
    if seas:
        tot = 0.0
        for j in range(1, ms):
            x0[1 + j] = xs[nt + j]
            tot += xs[nt + j]
        x0[1 + ms] = -tot
    return sse


@numba.njit(**NUMBA_OPTS)
def _tail_sums(hist, n, ms, tail):
    """Prefix sums of the lag products of the seasonal lane over its last ``ms`` steps.

    ``tail[d, i] = sum_{tau = base}^{base + i - 1} zu_tau zu_{tau + d}`` (terms with
    ``tau + d >= n`` left out), ``base = max(n - ms, 0)``; ``zu_tau`` sits in ``hist[tau % ms]``.
    Returns ``base``.
    """
    base = n - ms if n > ms else 0
    for d in range(ms):
        run = 0.0
        tail[d, 0] = 0.0
        for i in range(ms):
            tau = base + i
            if tau + d < n:
                run += hist[tau % ms] * hist[(tau + d) % ms]
            tail[d, i + 1] = run
    return base


@numba.njit(**NUMBA_OPTS)
def _gu(acc, tail, base, n, ms, r, q):
    """sum_t U_r,t U_q,t for the seasonal unit lanes (see :func:`ls_states_seasonal`): the full
    lag-(r - q) sum minus its terms ``tau = n - r .. n - 1 - (r - q)``, read from :func:`_tail_sums`."""
    if r < q:
        r, q = q, r
    d = r - q
    lo = n - r if n - r > 0 else 0
    hi = n - d  # exclusive
    if hi <= lo:
        return acc[3, ms - 1 - d]
    return acc[3, ms - 1 - d] - (tail[d, hi - base] - tail[d, lo - base])


@numba.njit(**NUMBA_OPTS)
def gn_states(y, etype, ttype, stype, m, alpha, beta, gamma, phi, x0, ring, Lv, Bv, Sv, G, c, z,
              xs, xtry, iters):
    """Refine the initial states ``x0`` (in place) for fixed smoothing parameters, any model.

    Gauss-Newton on ``lik = n log(sum e_t^2) + 2 sum log f_t``: the error Jacobian
    ``J_t = de_t / dx_0`` comes from tangent copies of the recursion run in lock-step (one per free
    state; seasonal directions keep the normalisation), the step solves
    ``(sum J J') d = -(sum e J + (sse / n) sum f_t^{-1} df_t / dx_0)`` and is halved until the
    likelihood improves.  Returns ``(lik, evaluations)``; work arrays as in :func:`ls_states`,
    ``xtry`` of length ``2 + m``.
    """
    n = y.shape[0]
    ms = m if stype > 0 else 1
    nt = 1 if ttype > 0 else 0
    ns = m - 1 if stype > 0 else 0
    p = 1 + nt + ns
    if ttype == 0:
        phi = 1.0
        beta = 0.0
    if stype == 0:
        gamma = 0.0
    ba = beta / alpha
    dummy = ring[:0]
    lik, sse, sl = run(y, etype, ttype, stype, m, alpha, beta, gamma, phi, x0, ring, dummy,
                       np.bool_(False), dummy)
    nev = 1
    if lik >= HUGE or n == 0:
        return lik, nev
    for it in range(iters):
        # base state
        lev = x0[0]
        b = x0[1] if nt else 0.0
        for r in range(ms):
            ring[r] = x0[1 + ms - r] if stype > 0 else 0.0
        for a in range(p):
            Lv[a] = 0.0
            Bv[a] = 0.0
            for r in range(ms):
                Sv[r, a] = 0.0
            c[a] = 0.0
            xs[a] = 0.0  # sum of df / f
            for bb in range(p):
                G[a, bb] = 0.0
        Lv[0] = 1.0
        if nt:
            Bv[1] = 1.0
        for j in range(1, ns + 1):
            Sv[ms - j, nt + j] = 1.0
            Sv[0, nt + j] = -1.0
        kk = 0
        ok = True
        for t in range(n):
            yt = y[t]
            s_old = ring[kk] if stype > 0 else 0.0
            phib = phi * b
            q = lev + phib
            f = q * s_old if stype == 2 else q + s_old
            if etype == 1:
                if f <= TOL:
                    ok = False
                    break
                e = (yt - f) / f
                dedf = -yt / (f * f)
            else:
                e = yt - f
                dedf = -1.0
            if stype == 2:
                if math.fabs(s_old) < TOL or math.fabs(q) < TOL:
                    ok = False
                    break
                dpp_ds = -yt / (s_old * s_old)
                dsq = -gamma * yt / (q * q)
            else:
                dpp_ds = -1.0
                dsq = -gamma
            for a in range(p):
                dl = Lv[a]
                db = Bv[a]
                ds_old = Sv[kk, a]
                dq = dl + phi * db
                if stype == 2:
                    df = dq * s_old + q * ds_old
                else:
                    df = dq + ds_old
                z[a] = dedf * df
                if etype == 1:
                    xs[a] += df / f
                dnewl = (1.0 - alpha) * dq + alpha * dpp_ds * ds_old
                if nt:
                    Bv[a] = phi * db + ba * (dnewl - dl - phi * db)
                if stype > 0:
                    Sv[kk, a] = (1.0 - gamma) * ds_old + dsq * dq
                Lv[a] = dnewl
            for a in range(p):
                za = z[a]
                c[a] += e * za
                for bb in range(a + 1):
                    G[a, bb] += za * z[bb]
            # base update (as in run)
            if stype == 2:
                pp = yt / s_old
            else:
                pp = yt - s_old
            newl = q + alpha * (pp - q)
            if nt:
                b = phib + ba * (newl - lev - phib)
            if stype == 1:
                ring[kk] = s_old + gamma * (yt - q - s_old)
            elif stype == 2:
                ring[kk] = s_old + gamma * (yt / q - s_old)
            lev = newl
            kk += 1
            if kk == ms:
                kk = 0
        if not ok:
            break
        for a in range(p):
            c[a] = -(c[a] + (sse / n) * xs[a])
        chol_solve(G, c, p, xs)
        improved = False
        stp = 1.0
        for hs in range(5):
            for i in range(2 + ms):
                xtry[i] = x0[i]
            xtry[0] += stp * xs[0]
            if nt:
                xtry[1] += stp * xs[1]
            for j in range(1, ns + 1):
                xtry[1 + j] += stp * xs[nt + j]
                xtry[1 + ms] -= stp * xs[nt + j]
            good = True
            if stype == 2:
                for j in range(1, ms + 1):
                    if xtry[1 + j] <= 0.0:
                        good = False
            if good:
                lt, st_, sl = run(y, etype, ttype, stype, m, alpha, beta, gamma, phi, xtry, ring,
                                  dummy, np.bool_(False), dummy)
                nev += 1
                if lt < lik:
                    improved = True
                    for i in range(2 + ms):
                        x0[i] = xtry[i]
                    gain = lik - lt
                    lik = lt
                    sse = st_
                    break
            stp *= 0.5
        if not improved or gain < 1e-4:
            break
    return lik, nev
