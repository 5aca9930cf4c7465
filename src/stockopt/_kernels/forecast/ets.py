"""Grouped ETS kernel: fit, select by AICc, forecast and forecast-error variances.

One call handles a block of series ``(values, indptr)``; see :mod:`stockopt._kernels.forecast.ets_core` for
the notation, the recursion and the optimiser.  Per series the fitting strategy is:

1. every additive-error model with linear forecasts (trend N/A/Ad x season N/A) is fitted with its
   initial states concentrated out by least squares, searching only the smoothing parameters
   (a few Nelder-Mead runs in 1-4 dimensions, from the best of a small grid of starts);
2. its multiplicative-error twin (same point-forecast recursion) starts from that fit and
   alternates Gauss-Newton on the initial states (:func:`~stockopt._kernels.forecast.ets_states.gn_states`)
   with Nelder-Mead on the smoothing parameters;
3. multiplicative-season models start the same way from the additive-season fit, with the
   seasonal states converted to ratios;
4. candidates from 2.-3. whose AICc is within ``margin`` of the best so far get more alternation
   rounds (and, for multiplicative season, a final joint Nelder-Mead over parameters and states);
   the others cannot win and are left alone (early rejection).

Model codes: ``code = 9 * etype + 3 * ttype + stype`` (see :data:`MODEL_NAMES`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import STATUS_FAILED, STATUS_FALLBACK, STATUS_OK, STATUS_TOO_SHORT
from stockopt._kernels.forecast.ets_core import (
    HUGE,
    N_MODELS,
    UPPER,
    decode,
    n_free_states,
    n_smooth,
    run,
    upper_bounds,  # REGION_* and upper_bounds are re-exported for the API layer and tests
)
from stockopt._kernels.forecast.ets_optim import nelder_mead, objective
from stockopt._kernels.forecast.ets_states import gn_states

_E = ("A", "M")
_T = ("N", "A", "Ad")
_S = ("N", "A", "M")
#: model names by code, e.g. ``MODEL_NAMES[9 * 0 + 3 * 2 + 1] == "AAdA"``
MODEL_NAMES = tuple(_E[c // 9] + _T[(c // 3) % 3] + _S[c % 3] for c in range(N_MODELS))


@numba.njit(**NUMBA_OPTS)
def _n_eff(ttype, stype, m):
    """Parameters counted by the information criteria: smoothing + free states + sigma^2."""
    return n_smooth(ttype, stype) + n_free_states(ttype, stype, m) + 1


@numba.njit(**NUMBA_OPTS)
def aicc_of(lik, n, npar):
    """AICc from R-style ``lik`` (-2 log L up to a constant), ``n`` observations, ``npar`` params."""
    if lik >= HUGE or n - npar - 1 <= 0:
        return np.inf
    return lik + 2.0 * npar + 2.0 * npar * (npar + 1.0) / (n - npar - 1.0)


@numba.njit(**NUMBA_OPTS)
def forecast_mean(xend, ttype, stype, m, phi, h, out):
    """Point forecasts ``h`` steps ahead from end state ``xend`` (HKOS Table 2.1)."""
    lev = xend[0]
    b = xend[1] if ttype > 0 else 0.0
    phisum = 0.0
    pw = 1.0
    for j in range(1, h + 1):
        if ttype == 1:
            phisum += 1.0
        elif ttype == 2:
            pw *= phi
            phisum += pw
        f = lev + phisum * b
        if stype > 0:
            idx = m - ((j - 1) % m)
            if stype == 1:
                f += xend[1 + idx]
            else:
                f *= xend[1 + idx]
        out[j - 1] = f


@numba.njit(**NUMBA_OPTS)
def forecast_var(etype, ttype, stype, m, alpha, beta, gamma, phi, sigma2, mu, xend, h, cj, out):
    """Forecast-error variances ``v_1..v_h`` (HKOS ch. 6) in units of ``mu`` squared.

    Class 1 (additive error, linear): ``v_h = sigma^2 (1 + sum_{j<h} c_j^2)`` with
    ``c_j = alpha + beta phi_j + gamma d_{j,m}`` (HKOS eq. 6.6 and Table 6.2).  Class 2
    (multiplicative error, linear forecasts): ``v_h = (1 + sigma^2) theta_h - mu_h^2`` with
    ``theta_h = mu_h^2 + sigma^2 sum_{j<h} c_j^2 theta_{h-j}`` (HKOS eq. 6.7).  Class 3
    (multiplicative error and season): HKOS's small-sigma approximation
    ``v_h = s_h^2 [theta_h (1 + sigma^2) (1 + gamma^2 sigma^2)^{h_m} - mut_h^2]`` where ``mut_h``
    is the non-seasonal forecast ``l + phi_h b``, ``theta_h`` the class-2 recursion on it with
    ``c_j = alpha + beta phi_j``, ``s_h`` the seasonal state used at step ``h`` and
    ``h_m = floor((h - 1) / m)``.  ``xend`` (the end state) is only read for class 3.
    """
    phisum = 0.0
    pw = 1.0
    for j in range(1, h):
        if ttype == 1:
            phisum += 1.0
        elif ttype == 2:
            pw *= phi
            phisum += pw
        cv = alpha + beta * phisum
        if stype == 1 and j % m == 0:
            cv += gamma
        cj[j] = cv
    if etype == 0:
        acc = 0.0
        for hh in range(1, h + 1):
            if hh > 1:
                acc += cj[hh - 1] * cj[hh - 1]
            out[hh - 1] = sigma2 * (1.0 + acc)
        return
    # theta_h stored in out first
    phisum = 0.0
    pw = 1.0
    for hh in range(1, h + 1):
        if stype == 2:
            if ttype == 1:
                phisum += 1.0
            elif ttype == 2:
                pw *= phi
                phisum += pw
            base = xend[0] + phisum * (xend[1] if ttype > 0 else 0.0)
        else:
            base = mu[hh - 1]
        s = 0.0
        for j in range(1, hh):
            s += cj[j] * cj[j] * out[hh - j - 1]
        out[hh - 1] = base * base + sigma2 * s
    phisum = 0.0
    pw = 1.0
    for hh in range(1, h + 1):
        if stype == 2:
            if ttype == 1:
                phisum += 1.0
            elif ttype == 2:
                pw *= phi
                phisum += pw
            base = xend[0] + phisum * (xend[1] if ttype > 0 else 0.0)
            sh = xend[1 + m - ((hh - 1) % m)]
            hm = (hh - 1) // m
            out[hh - 1] = sh * sh * (out[hh - 1] * (1.0 + sigma2) * (1.0 + gamma * gamma * sigma2) ** hm
                                     - base * base)
        else:
            out[hh - 1] = (1.0 + sigma2) * out[hh - 1] - mu[hh - 1] * mu[hh - 1]


@numba.njit(**NUMBA_OPTS)
def class3_var(ttype, m, alpha, beta, gamma, phi, sigma2, xend, h, out):
    """Exact forecast-error variances of the multiplicative error and season models (class 3).

    Second moments of the level-trend x season products propagated with Kronecker products
    (Hyndman, Koehler, Ord & Snyder 2008, ch. 6; Hyndman et al. 2005, *J. Forecasting* 24, the
    ``class3models`` computation of R's ``forecast``), with the damped trend measured as
    ``l + phi b``.  Cost O(h (p m)^3) with ``p`` = 1 or 2: used for ``m <= 24``.
    """
    p1 = 2 if ttype > 0 else 1
    ph = phi if ttype == 2 else 1.0
    H1 = np.zeros((1, p1))
    F1 = np.zeros((p1, p1))
    G1 = np.zeros((p1, p1))
    H1[0, 0] = 1.0
    F1[0, 0] = 1.0
    G1[0, 0] = alpha
    if p1 == 2:
        H1[0, 1] = ph
        F1[0, 1] = ph
        F1[1, 1] = ph
        G1[0, 1] = alpha * ph
        G1[1, 0] = beta
        G1[1, 1] = beta * ph
    H2 = np.zeros((1, m))
    H2[0, m - 1] = 1.0
    F2 = np.zeros((m, m))
    F2[0, m - 1] = 1.0
    for j in range(1, m):
        F2[j, j - 1] = 1.0
    G2 = np.zeros((m, m))
    G2[0, m - 1] = gamma
    a = np.empty((p1, 1))
    a[0, 0] = xend[0]
    if p1 == 2:
        a[1, 0] = xend[1]
    sv = np.empty((1, m))
    for j in range(m):
        sv[0, j] = xend[2 + j]
    Mh = a @ sv
    q = p1 * m
    Vh = np.zeros((q, q))
    H21 = np.kron(H2, H1)
    F21 = np.kron(F2, F1)
    G21 = np.kron(G2, G1)
    K = np.kron(G2, F1) + np.kron(F2, G1)
    F21t = np.ascontiguousarray(F21.T)
    G21t = np.ascontiguousarray(G21.T)
    Kt = np.ascontiguousarray(K.T)
    vec = np.empty((q, 1))
    for i in range(h):
        mu = (H1 @ Mh @ H2.T)[0, 0]
        out[i] = (1.0 + sigma2) * (H21 @ Vh @ H21.T)[0, 0] + sigma2 * mu * mu
        # column-major vec(Mh), matching vec(A X B) = (B' kron A) vec(X)
        for c in range(m):
            for r in range(p1):
                vec[c * p1 + r, 0] = Mh[r, c]
        vv = vec @ vec.T
        Vh = (F21 @ Vh @ F21t + sigma2 * (F21 @ Vh @ G21t + G21 @ Vh @ F21t
                                          + K @ (Vh + vv) @ Kt
                                          + sigma2 * (G21 @ (3.0 * Vh + 2.0 * vv) @ G21t)))
        Mh = F1 @ Mh @ F2.T + (G1 @ Mh @ G2.T) * sigma2


@numba.njit(**NUMBA_OPTS)
def _fit_params(mode, u, k, max_eval, y, etype, ttype, stype, m, wts, xfix, par, x0, ring,
                Lv, Bv, Sv, G, c, z, xs, simplex, fv, xr, xe, xc, cen, step):
    """Nelder-Mead over the smoothing parameters (unit box), then a check of the nearby box faces
    (with a short restart from a face that is better)."""
    for j in range(k):
        step[j] = 0.15
    f, nev = nelder_mead(u[:k], step[:k], k, max_eval, 1e-2, 5e-2, simplex, fv, xr, xe, xc, cen,
                         mode, y, etype, ttype, stype, m, k, wts, xfix, par, x0, ring,
                         Lv, Bv, Sv, G, c, z, xs)
    if k == 1 or mode == 2:
        return f, nev
    # the projected simplex can stall next to a face of the box when the optimum lies on it
    # (e.g. alpha -> 1 with beta at its bound): try moving each coordinate onto a near face
    moved = False
    for j in range(k):
        keep = u[j]
        for face in (0.0, 1.0):
            if keep != face and math.fabs(keep - face) < 0.25:
                u[j] = face
                f3 = objective(u[:k], mode, y, etype, ttype, stype, m, k, wts, xfix, par, x0,
                               ring, Lv, Bv, Sv, G, c, z, xs)
                nev += 1
                if f3 < f - 1e-9:
                    f = f3
                    keep = face
                    moved = True
        u[j] = keep
    if moved:
        for j in range(k):
            step[j] = 0.04
        f2, nev2 = nelder_mead(u[:k], step[:k], k, max(max_eval // 4, 4 * k), 1e-3, 1e-2, simplex,
                               fv, xr, xe, xc, cen, mode, y, etype, ttype, stype, m, k, wts, xfix,
                               par, x0, ring, Lv, Bv, Sv, G, c, z, xs)
        f = min(f, f2)
        nev += nev2
    return f, nev


@numba.njit(**NUMBA_OPTS)
def _safe_start(y, etype, ttype, stype, m, u, par, xst, ring):
    """If the recursion breaks down from ``xst`` (e.g. a non-positive forecast for a
    multiplicative model), restart from flat states: mean level, no trend, neutral season."""
    decode(u, ttype, stype, par)
    dummy = ring[:0]
    lik, sse, sl = run(y, etype, ttype, stype, m, par[0], par[1], par[2], par[3], xst, ring,
                       dummy, np.bool_(False), dummy)
    if lik < HUGE:
        return
    ms = m if stype > 0 else 1
    nn = min(y.shape[0], max(2 * ms, 10))
    lev = 0.0
    for t in range(nn):
        lev += y[t]
    xst[0] = lev / nn
    xst[1] = 0.0
    for j in range(1, ms + 1):
        xst[1 + j] = 1.0 if stype == 2 else 0.0


@numba.njit(**NUMBA_OPTS)
def _alternate(rounds, u, k, max_eval, y, etype, ttype, stype, m, xst, wts, par, x0, ring, Lv, Bv,
               Sv, G, c, z, xs, xtry, simplex, fv, xr, xe, xc, cen, step):
    """Alternate Gauss-Newton on the initial states ``xst`` and Nelder-Mead on the smoothing
    parameters ``u`` (states fixed) until the likelihood stops improving.  Returns (lik, evals)."""
    f = HUGE
    nev = 0
    for r in range(rounds):
        decode(u, ttype, stype, par)
        fg, ne = gn_states(y, etype, ttype, stype, m, par[0], par[1], par[2], par[3], xst, ring,
                           Lv, Bv, Sv, G, c, z, xs, xtry, 8)
        nev += ne
        for j in range(k):
            step[j] = 0.08 if r == 0 else 0.03
        f2, ne = nelder_mead(u[:k], step[:k], k, max_eval // 2, 1e-2, 2e-2, simplex, fv, xr, xe,
                             xc, cen, np.int64(2), y, etype, ttype, stype, m, k, wts, xst, par, x0, ring,
                             Lv, Bv, Sv, G, c, z, xs)
        nev += ne
        f2 = min(f2, fg)
        if f2 > f - 0.01:
            f = min(f, f2)
            break
        f = f2
    return f, nev


@numba.njit(**NUMBA_OPTS)
def _joint(u, k, y, etype, ttype, stype, m, xst, wts, par, x0, ring, Lv, Bv, Sv, G, c, z, xs,
           simplex, fv, xr, xe, xc, cen, step):
    """Nelder-Mead over smoothing parameters and free initial states together (the search of R's
    ``ets``), from ``u`` and ``xst``; both are updated when it improves.  Returns (lik, evals)."""
    ms = m if stype > 0 else 1
    d = k + n_free_states(ttype, stype, m)
    v = np.empty(d)
    for j in range(k):
        v[j] = u[j]
        step[j] = 0.03
    v[k] = xst[0]
    step[k] = 0.02 * max(math.fabs(xst[0]), 1e-8)
    j2 = k + 1
    if ttype > 0:
        v[j2] = xst[1]
        step[j2] = max(0.05 * math.fabs(xst[1]), 1e-3 * math.fabs(xst[0]) / max(y.shape[0], 1))
        j2 += 1
    if stype > 0:
        for j in range(1, ms):
            v[j2] = xst[1 + j]
            step[j2] = 0.02 if stype == 2 else 0.02 * max(math.fabs(xst[0]), 1e-8)
            j2 += 1
    f, nev = nelder_mead(v, step[:d], k, 40 * d, 1e-3, 1e-2, simplex, fv, xr, xe, xc, cen, np.int64(3), y,
                         etype, ttype, stype, m, k, wts, xst, par, x0, ring, Lv, Bv, Sv, G, c, z,
                         xs)
    objective(v, np.int64(3), y, etype, ttype, stype, m, k, wts, xst, par, x0, ring, Lv, Bv, Sv, G, c, z, xs)
    for j in range(k):
        u[j] = v[j]
    for j in range(2 + ms):
        xst[j] = x0[j]
    return f, nev


@numba.njit(**NUMBA_OPTS)
def clear_outputs(i, a, bnd, fitted, mean, var, loglik, aicc, sigma2):
    """NaN outputs of series ``i`` (rows ``a:bnd`` of ``fitted``) until a fit writes them."""
    for t in range(a, bnd):
        fitted[t] = np.nan
    for j in range(mean.shape[1]):
        mean[i, j] = np.nan
        var[i, j] = np.nan
    loglik[i] = np.nan
    aicc[i] = np.nan
    sigma2[i] = np.nan


@numba.njit(**NUMBA_OPTS)
def ets_fit_block(values, indptr, m, cand, h, max_eval, margin, region,
                  mean, var, fitted, status, model, params, init_states, loglik, aicc, sigma2,
                  nevals):
    """Fit the candidate ETS models to every series of the block and keep the best by AICc.

    Parameters
    ----------
    values : float64[::1]
        All series back to back (finite; validated by the caller).
    indptr : int64[::1]
        Series ``i`` is ``values[indptr[i]:indptr[i + 1]]``; ``indptr[0]`` may be non-zero.
    m : int
        Season length (1 = no season).
    cand : uint8[18]
        ``cand[code]`` is 1 when model ``code`` may be selected.  Multiplicative-error and
        multiplicative-season models are skipped on series that are not strictly positive;
        seasonal models on series with ``n <= m``; every model with too few observations for its
        AICc.  If no candidate remains the simplest feasible model is used (STATUS_FALLBACK).
    h : int
        Forecast horizon (periods).
    max_eval : int
        Evaluation budget of one Nelder-Mead run over the smoothing parameters.
    margin : float
        Early-rejection margin in AICc units: multiplicative candidates further behind the best
        after their first round get no further refinement.
    region : int
        ``REGION_USUAL`` or ``REGION_STATSFORECAST`` (parameter bounds, see :func:`upper_bounds`).
    mean, var : float64[n_series, h]
        Out: point forecasts and forecast-error variances.
    fitted : float64[len(values)]
        Out: one-step in-sample forecasts, aligned with ``values``.
    status : int8[n_series]
        Out: STATUS_* code.
    model : int16[n_series]
        Out: selected model code (-1 when none).
    params : float64[n_series, 4]
        Out: alpha, beta, gamma, phi (NaN when not in the model).
    init_states : float64[n_series, 2 + m]
        Out: estimated initial states ``(l, b, s_1..s_m)`` (NaN when not in the model).
    loglik, aicc, sigma2 : float64[n_series]
        Out: Gaussian log-likelihood (sigma^2 concentrated out), AICc, residual variance.
    nevals : int64[n_series]
        Out: likelihood evaluations spent on the series.
    """
    ns_ = indptr.shape[0] - 1
    mm = max(m, 1)
    P = 2 + mm
    ring = np.empty(mm)
    Lv = np.empty(P + 1)
    Bv = np.empty(P + 1)
    Sv = np.empty((mm, P + 1))
    G = np.empty((P, P))
    cvec = np.empty(P)
    z = np.empty(max(P, 6 * mm + mm * (mm + 1)))
    xs = np.empty(P)
    D = 4 + P
    simplex = np.empty((D + 1, D))
    fv = np.empty(D + 1)
    xr = np.empty(D)
    xe = np.empty(D)
    xc = np.empty(D)
    cen = np.empty(D)
    step = np.empty(D)
    vv = np.empty(D)
    par = np.empty(6)
    par[4] = UPPER
    par[5] = UPPER
    bcap = np.empty(N_MODELS)
    gcap = np.empty(N_MODELS)
    x0 = np.empty(P)
    xend = np.empty(P)
    xtry = np.empty(P)
    xtry2 = np.empty(P)
    cj = np.empty(h + 1)
    res_lik = np.empty(N_MODELS)
    res_ic = np.empty(N_MODELS)
    res_u = np.empty((N_MODELS, 4))
    res_x0 = np.empty((N_MODELS, P))
    res_exact = np.zeros(N_MODELS, dtype=np.uint8)
    grid = np.array([0.01, 0.1, 0.3, 0.6])
    # typed int64 / bool values instead of literals at the calls below: numba compiles one
    # specialisation of a jitted callee per literal argument value (cold-start time)
    i0 = np.int64(0)
    i1 = np.int64(1)
    i2 = np.int64(2)
    i4 = np.int64(4)
    yes = np.bool_(True)
    for i in range(ns_):
        a = indptr[i]
        bnd = indptr[i + 1]
        y = values[a:bnd]
        n = bnd - a
        clear_outputs(i, a, bnd, fitted, mean, var, loglik, aicc, sigma2)
        for j in range(4):
            params[i, j] = np.nan
        for j in range(P):
            init_states[i, j] = np.nan
        model[i] = -1
        nevals[i] = 0
        if n < 3:
            status[i] = STATUS_TOO_SHORT
            continue
        wts = np.empty(n)
        ymin = y[0]
        ymax = y[0]
        for t in range(n):
            ymin = min(ymin, y[t])
            ymax = max(ymax, y[t])
        positive = ymin > 0.0
        tot_ev = 0
        for cid in range(N_MODELS):
            res_lik[cid] = HUGE
            res_ic[cid] = np.inf
            res_exact[cid] = 0
        # which models are allowed at all (length, positivity), then which are candidates
        any_cand = False
        for cid in range(N_MODELS):
            if cand[cid] and _feasible(cid, n, m, positive):
                any_cand = True
        fallback = False
        cand_i = np.zeros(N_MODELS, dtype=np.uint8)
        if any_cand:
            for cid in range(N_MODELS):
                if cand[cid] and _feasible(cid, n, m, positive):
                    cand_i[cid] = 1
        else:
            fallback = True
            # simplest feasible model in the spirit of the request: drop season, then trend
            chosen = -1
            for cid in range(N_MODELS):
                if cand[cid] and chosen < 0:
                    et = cid // 9
                    tt = (cid // 3) % 3
                    for t2 in range(tt, -1, -1):
                        c2 = 9 * et + 3 * t2
                        if chosen < 0 and _feasible(c2, n, m, positive):
                            chosen = c2
                    if chosen < 0 and _feasible(i0, n, m, positive):
                        chosen = 0
            if chosen < 0:
                status[i] = STATUS_TOO_SHORT
                continue
            cand_i[chosen] = 1
        upper_bounds(cand, m, n, positive, region, bcap, gcap)
        if ymax == ymin:
            # constant series: every model fits exactly; use ANN (alpha as R's ets does)
            cid = 0
            par[0] = 0.9999
            par[1] = 0.0
            par[2] = 0.0
            par[3] = 1.0
            for j in range(P):
                x0[j] = 0.0
            x0[0] = y[0]
            lik, sse, sl = run(y, i0, i0, i0, m, par[0], 0.0, 0.0, 1.0, x0, ring, fitted[a:bnd],
                               yes, xend)
            _finish(i, i0, n, m, h, par, x0, xend, lik, 0.0, i0, mean, var, params, init_states,
                    model, loglik, aicc, sigma2, cj)
            status[i] = STATUS_OK if cand[0] else STATUS_FALLBACK
            continue
        # 1. + 2. linear-forecast models
        for tt in range(3):
            for st in range(2):
                ca = 3 * tt + st
                cmul = 9 + ca
                cms = 9 + 3 * tt + 2
                need = cand_i[ca] or cand_i[cmul] or (st == 1 and cand_i[cms])
                if not need or not _feasible(ca, n, m, yes):
                    continue
                k = n_smooth(tt, st)
                par[4] = bcap[ca]
                par[5] = gcap[ca]
                # grid of starts for alpha, the rest at R's initparam-like values
                best = HUGE
                bj = 0
                for g in range(grid.shape[0]):
                    vv[0] = grid[g]
                    for j in range(1, k):
                        vv[j] = 0.1
                    if tt == 2:
                        vv[k - 1] = 0.9
                    f = objective(vv[:k], i0, y, i0, tt, st, m, k, wts, x0, par, x0, ring,
                                  Lv, Bv, Sv, G, cvec, z, xs)
                    tot_ev += 1
                    if f < best:
                        best = f
                        bj = g
                vv[0] = grid[bj]
                for j in range(1, k):
                    vv[j] = 0.1
                if tt == 2:
                    vv[k - 1] = 0.9
                # warm start from the same model with one trend level less (shared work)
                cw = 3 * (tt - 1) + st
                if tt > 0 and res_lik[cw] < HUGE:
                    kw = n_smooth(tt - 1, st)
                    xr[0] = res_u[cw, 0]
                    xr[1] = 0.05 if tt == 1 else res_u[cw, 1]
                    if st > 0:
                        xr[2] = res_u[cw, kw - 1] if tt == 1 else res_u[cw, 2]
                    if tt == 2:
                        xr[k - 1] = 0.95
                    f = objective(xr[:k], i0, y, i0, tt, st, m, k, wts, x0, par, x0, ring,
                                  Lv, Bv, Sv, G, cvec, z, xs)
                    tot_ev += 1
                    if f < best:
                        for j in range(k):
                            vv[j] = xr[j]
                f, nev = _fit_params(i0, vv, k, max_eval, y, i0, tt, st, m, wts, x0, par, x0,
                                     ring, Lv, Bv, Sv, G, cvec, z, xs, simplex, fv, xr, xe, xc,
                                     cen, step)
                tot_ev += nev
                # exact states and likelihood at the optimum
                objective(vv[:k], i0, y, i0, tt, st, m, k, wts, x0, par, x0, ring, Lv, Bv, Sv, G,
                          cvec, z, xs)
                lik, sse, sl = run(y, i0, tt, st, m, par[0], par[1], par[2], par[3], x0, ring,
                                   wts, yes, xend)
                tot_ev += 1
                res_lik[ca] = lik
                res_exact[ca] = 1
                for j in range(k):
                    res_u[ca, j] = vv[j]
                for j in range(P):
                    res_x0[ca, j] = x0[j]
                if cand_i[ca]:
                    res_ic[ca] = aicc_of(lik, n, _n_eff(tt, st, m))
                if cand_i[cmul] and positive:
                    par[4] = bcap[cmul]
                    par[5] = gcap[cmul]
                    # same point-forecast recursion: start from the additive fit
                    for j in range(P):
                        res_x0[cmul, j] = res_x0[ca, j]
                    _safe_start(y, i1, tt, st, m, vv, par, res_x0[cmul], ring)
                    f, nev = _alternate(i1, vv, k, max_eval, y, i1, tt, st, m, res_x0[cmul], wts,
                                        par, x0, ring, Lv, Bv, Sv, G, cvec, z, xs, xtry, simplex,
                                        fv, xr, xe, xc, cen, step)
                    tot_ev += nev
                    res_lik[cmul] = f
                    for j in range(k):
                        res_u[cmul, j] = vv[j]
                    res_ic[cmul] = aicc_of(f, n, _n_eff(tt, st, m))
        # 3. multiplicative season, from the additive-season fit
        for tt in range(3):
            cms = 9 + 3 * tt + 2
            if not (cand_i[cms] and positive):
                continue
            src = 9 + 3 * tt + 1 if res_lik[9 + 3 * tt + 1] < HUGE else 3 * tt + 1
            if res_lik[src] >= HUGE:
                continue
            k = n_smooth(tt, i2)
            par[4] = bcap[cms]
            par[5] = gcap[cms]
            for j in range(k):
                vv[j] = res_u[src, j]
            lev = res_x0[src, 0]
            sref = 0.0
            for t in range(min(n, 2 * m)):
                sref += y[t]
            sref = sref / min(n, 2 * m)
            lev_ref = max(lev, 1e-3 * sref) if lev > 0 else sref
            tot = 0.0
            for j in range(P):
                x0[j] = res_x0[src, j]
            for j in range(1, m + 1):
                sv = 1.0 + res_x0[src, 1 + j] / lev_ref
                if sv < 0.05:
                    sv = 0.05
                x0[1 + j] = sv
                tot += sv
            for j in range(1, m + 1):
                x0[1 + j] *= m / tot
            for j in range(P):
                res_x0[cms, j] = x0[j]
            _safe_start(y, i1, tt, i2, m, vv, par, res_x0[cms], ring)
            f, nev = _alternate(i1, vv, k, max_eval, y, i1, tt, i2, m, res_x0[cms], wts, par, x0,
                                ring, Lv, Bv, Sv, G, cvec, z, xs, xtry, simplex, fv, xr, xe, xc,
                                cen, step)
            tot_ev += nev
            res_lik[cms] = f
            for j in range(k):
                res_u[cms, j] = vv[j]
            res_ic[cms] = aicc_of(f, n, _n_eff(tt, i2, m))
        # 4. joint polish of competitive approximate fits
        best_ic = np.inf
        for cid in range(N_MODELS):
            if cand_i[cid] and res_ic[cid] < best_ic:
                best_ic = res_ic[cid]
        for cid in range(N_MODELS):
            if not cand_i[cid] or res_exact[cid] or res_ic[cid] > best_ic + margin:
                continue
            if res_ic[cid] == np.inf:
                continue
            et = cid // 9
            tt = (cid // 3) % 3
            st = cid % 3
            k = n_smooth(tt, st)
            par[4] = bcap[cid]
            par[5] = gcap[cid]
            for j in range(k):
                vv[j] = res_u[cid, j]
            for j in range(P):
                xtry2[j] = res_x0[cid, j]
            f, nev = _alternate(i4, vv, k, max_eval, y, et, tt, st, m, xtry2, wts, par, x0, ring,
                                Lv, Bv, Sv, G, cvec, z, xs, xtry, simplex, fv, xr, xe, xc, cen,
                                step)
            tot_ev += nev
            if st == 2 and aicc_of(f, n, _n_eff(tt, st, m)) <= best_ic + 2.0:
                # the alternation can stall where states and parameters interact strongly
                # (multiplicative season): a model close to the best finishes with a joint
                # search over both
                f3, nev = _joint(vv, k, y, et, tt, st, m, xtry2, wts, par, x0, ring, Lv, Bv, Sv,
                                 G, cvec, z, xs, simplex, fv, xr, xe, xc, cen, step)
                tot_ev += nev
                f = min(f, f3)
            if f < res_lik[cid]:
                res_lik[cid] = f
                for j in range(k):
                    res_u[cid, j] = vv[j]
                for j in range(P):
                    res_x0[cid, j] = xtry2[j]
                res_ic[cid] = aicc_of(f, n, _n_eff(tt, st, m))
        # 5. winner
        bc = -1
        best_ic = np.inf
        for cid in range(N_MODELS):
            if cand_i[cid] and res_ic[cid] < best_ic:
                best_ic = res_ic[cid]
                bc = cid
        if bc < 0:
            # every candidate broke down: use the best additive-error model that was fitted
            for cid in range(9):
                if res_lik[cid] < HUGE:
                    ic = aicc_of(res_lik[cid], n, _n_eff((cid // 3) % 3, cid % 3, m))
                    if ic < best_ic:
                        best_ic = ic
                        bc = cid
            fallback = True
        if bc < 0:
            status[i] = STATUS_FAILED
            nevals[i] = tot_ev
            continue
        et = bc // 9
        tt = (bc // 3) % 3
        st = bc % 3
        par[4] = bcap[bc]
        par[5] = gcap[bc]
        decode(res_u[bc], tt, st, par)
        for j in range(P):
            x0[j] = res_x0[bc, j]
        lik, sse, sl = run(y, et, tt, st, m, par[0], par[1], par[2], par[3], x0, ring,
                           fitted[a:bnd], yes, xend)
        _finish(i, bc, n, m, h, par, x0, xend, lik, sse, i0, mean, var, params, init_states,
                model, loglik, aicc, sigma2, cj)
        nevals[i] = tot_ev
        status[i] = STATUS_FALLBACK if fallback else STATUS_OK


@numba.njit(**NUMBA_OPTS)
def _feasible(cid, n, m, positive):
    et = cid // 9
    tt = (cid // 3) % 3
    st = cid % 3
    if et == 0 and st == 2:
        return False  # additive error with multiplicative season: excluded (R's restrict)
    if (et == 1 or st == 2) and not positive:
        return False
    if st > 0 and (m <= 1 or n <= m):
        return False
    return n >= _n_eff(tt, st, m) + 2


@numba.njit(**NUMBA_OPTS)
def _finish(i, cid, n, m, h, par, x0, xend, lik, sse, dummy, mean, var, params, init_states,
            model, loglik, aicc, sigma2, cj):
    et = cid // 9
    tt = (cid // 3) % 3
    st = cid % 3
    ms = m if st > 0 else 1
    npar = _n_eff(tt, st, m)
    model[i] = cid
    params[i, 0] = par[0]
    if tt > 0:
        params[i, 1] = par[1]
    if st > 0:
        params[i, 2] = par[2]
    if tt == 2:
        params[i, 3] = par[3]
    init_states[i, 0] = x0[0]
    if tt > 0:
        init_states[i, 1] = x0[1]
    if st > 0:
        for j in range(1, ms + 1):
            init_states[i, 1 + j] = x0[1 + j]
    loglik[i] = -0.5 * (lik + n * (math.log(2.0 * math.pi / n) + 1.0))
    aicc[i] = aicc_of(lik, n, npar)
    den = max(n - npar, 1)
    s2 = sse / den
    sigma2[i] = s2
    forecast_mean(xend, tt, st, ms, par[3], h, mean[i])
    if st == 2 and ms <= 24:
        class3_var(tt, ms, par[0], par[1], par[2], par[3], s2, xend, h, var[i])
    else:
        forecast_var(et, tt, st, ms, par[0], par[1], par[2], par[3], s2, mean[i], xend, h, cj,
                     var[i])
