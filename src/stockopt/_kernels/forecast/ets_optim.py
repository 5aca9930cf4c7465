"""Optimiser of the ETS smoothing parameters: the objective and a bounded Nelder-Mead (numba).

See :mod:`stockopt._kernels.forecast.ets_core` for the notation.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.forecast.ets_core import HUGE, LIK_FLOOR, decode, run
from stockopt._kernels.forecast.ets_states import ls_states_seasonal


@numba.njit(**NUMBA_OPTS)
def objective(v, mode, y, etype, ttype, stype, m, k, wts, xfix, par, x0, ring, Lv, Bv, Sv, G, c, z, xs):
    """Objective (R-style ``lik``) of one candidate at optimiser point ``v``.

    ``mode`` 0: least-squares initial states (additive error, linear forecasts; written to
    ``x0``); 2: states fixed at ``xfix``; 3: ``v[k:]`` holds the free initial states (the last
    seasonal state follows from the normalisation).  ``v[:k]`` is in the unit box; ``par`` (length
    6) receives the decoded parameters and carries the extra bounds ``par[4:6]`` read by
    :func:`~stockopt._kernels.forecast.ets_core.decode`.
    """
    decode(v, ttype, stype, par)
    n = y.shape[0]
    ms = m if stype > 0 else 1
    dummy = ring[:0]
    if mode == 0:
        # z doubles as work space: history (2m), lagged sums (4m) and their tail prefix sums (m(m+1))
        sse = ls_states_seasonal(y, ttype, stype, ms, par[0], par[1], par[2], par[3], x0, Lv, Bv,
                                 Sv, G, c, xs, z[:2 * ms], z[2 * ms:6 * ms].reshape((4, ms)),
                                 z[6 * ms:6 * ms + ms * (ms + 1)].reshape((ms, ms + 1)))
        if sse <= 0.0:
            return LIK_FLOOR
        lik = n * math.log(sse)
        return lik if lik > LIK_FLOOR else LIK_FLOOR
    if mode == 3:
        x0[0] = v[k]
        j = k + 1
        x0[1] = 0.0
        if ttype > 0:
            x0[1] = v[j]
            j += 1
        if stype > 0:
            tot = 0.0
            for i in range(1, ms):
                x0[1 + i] = v[j]
                tot += v[j]
                j += 1
            x0[1 + ms] = (ms - tot) if stype == 2 else -tot
            if stype == 2:
                for i in range(1, ms + 1):
                    if x0[1 + i] <= 0.0:
                        return HUGE
    else:
        for i in range(2 + ms):
            x0[i] = xfix[i]
    lik, sse, sl = run(y, etype, ttype, stype, m, par[0], par[1], par[2], par[3], x0, ring,
                       dummy, np.bool_(False), dummy)
    return lik


@numba.njit(**NUMBA_OPTS)
def nelder_mead(v, step, nb, max_eval, ftol, xtol, simplex, fv, xr, xe, xc, cen,
                mode, y, etype, ttype, stype, m, k, wts, xfix, par, x0, ring, Lv, Bv, Sv, G, c, z, xs):
    """Minimise :func:`objective` by Nelder & Mead (1965) from ``v`` (overwritten by the best point).

    The first ``nb`` coordinates are confined to [0, 1] by projection; the rest are free.
    Adaptive coefficients of Gao & Han (2012, Comput. Optim. Appl. 51) for dimension > 2.
    Stops when the spread of objective values is below ``ftol`` and the simplex is smaller than
    ``xtol`` (relative for free coordinates), or
    after ``max_eval`` evaluations.  Returns ``(f_best, n_evals)``.
    """
    d = v.shape[0]
    if d > 2:
        rho, chi, gam, sig = 1.0, 1.0 + 2.0 / d, 0.75 - 0.5 / d, 1.0 - 1.0 / d
    else:
        rho, chi, gam, sig = 1.0, 2.0, 0.5, 0.5
    for i in range(d + 1):
        for j in range(d):
            simplex[i, j] = v[j]
    for i in range(d):
        xv = v[i] + step[i]
        if i < nb and xv > 1.0:
            xv = v[i] - step[i]
        simplex[i + 1, i] = xv
    nev = 0
    for i in range(d + 1):
        fv[i] = objective(simplex[i, :d], mode, y, etype, ttype, stype, m, k, wts, xfix, par, x0,
                          ring, Lv, Bv, Sv, G, c, z, xs)
        nev += 1
    while nev < max_eval:
        # order: find best, worst, second worst
        ib = 0
        iw = 0
        for i in range(1, d + 1):
            if fv[i] < fv[ib]:
                ib = i
            if fv[i] > fv[iw]:
                iw = i
        isw = ib
        for i in range(d + 1):
            if i != iw and fv[i] > fv[isw]:
                isw = i
        fspread = fv[iw] - fv[ib]
        if fspread <= ftol:
            xspread = 0.0
            for i in range(d + 1):
                for j in range(d):
                    dx = math.fabs(simplex[i, j] - simplex[ib, j])
                    sc = 1.0 if j < nb else max(1.0, math.fabs(simplex[ib, j]))
                    if dx / sc > xspread:
                        xspread = dx / sc
            if xspread < xtol or fspread <= 0.0:
                break
        for j in range(d):
            s = 0.0
            for i in range(d + 1):
                if i != iw:
                    s += simplex[i, j]
            cen[j] = s / d
        for j in range(d):
            xv = cen[j] + rho * (cen[j] - simplex[iw, j])
            if j < nb:
                xv = min(max(xv, 0.0), 1.0)
            xr[j] = xv
        fr = objective(xr, mode, y, etype, ttype, stype, m, k, wts, xfix, par, x0, ring,
                       Lv, Bv, Sv, G, c, z, xs)
        nev += 1
        if fr < fv[ib]:
            for j in range(d):
                xv = cen[j] + chi * (xr[j] - cen[j])
                if j < nb:
                    xv = min(max(xv, 0.0), 1.0)
                xe[j] = xv
            fe = objective(xe, mode, y, etype, ttype, stype, m, k, wts, xfix, par, x0, ring,
                           Lv, Bv, Sv, G, c, z, xs)
            nev += 1
            if fe < fr:
                for j in range(d):
                    simplex[iw, j] = xe[j]
                fv[iw] = fe
            else:
                for j in range(d):
                    simplex[iw, j] = xr[j]
                fv[iw] = fr
            continue
        if fr < fv[isw]:
            for j in range(d):
                simplex[iw, j] = xr[j]
            fv[iw] = fr
            continue
        # contraction (outside if the reflected point beats the worst, else inside)
        if fr < fv[iw]:
            for j in range(d):
                xc[j] = cen[j] + gam * (xr[j] - cen[j])
        else:
            for j in range(d):
                xc[j] = cen[j] + gam * (simplex[iw, j] - cen[j])
        fc = objective(xc, mode, y, etype, ttype, stype, m, k, wts, xfix, par, x0, ring,
                       Lv, Bv, Sv, G, c, z, xs)
        nev += 1
        if fc < min(fr, fv[iw]):
            for j in range(d):
                simplex[iw, j] = xc[j]
            fv[iw] = fc
            continue
        # shrink towards the best vertex
        for i in range(d + 1):
            if i == ib:
                continue
            for j in range(d):
                simplex[i, j] = simplex[ib, j] + sig * (simplex[i, j] - simplex[ib, j])
            fv[i] = objective(simplex[i, :d], mode, y, etype, ttype, stype, m, k, wts, xfix, par,
                              x0, ring, Lv, Bv, Sv, G, c, z, xs)
            nev += 1
    ib = 0
    for i in range(1, d + 1):
        if fv[i] < fv[ib]:
            ib = i
    for j in range(d):
        v[j] = simplex[ib, j]
    return fv[ib], nev
