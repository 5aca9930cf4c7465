"""Compiled kernels of the Theta family (STM, OTM, DSTM, DOTM and the automatic choice).

Arrays only: every public kernel takes ``values: float64[::1]`` (all series back to back) and
``indptr: int64[::1]`` (series ``i`` is ``values[indptr[i]:indptr[i + 1]]``), writes into arrays the
caller allocated, and never raises for data reasons (a per-series status code says what happened).

The model is the state-space form of the Theta method of Fiorucci, Pellegrini, Louzada, Petropoulos
& Koehler (2016), "Models for optimising the theta method and their relationship to state space
models", International Journal of Forecasting 32(4), 1151-1161, with the conventions of
statsforecast 2.1.1 (time index, initial state, parameter bounds, and a fit criterion that is the
sum of squared one-step errors from the fourth observation on)::

    mu_t    = l_{t-1} + (1 - 1/theta) * (A_{t-1} (1-alpha)^t + B_{t-1} (1 - (1-alpha)^(t+1)) / alpha)
    l_t     = alpha * y_t + (1 - alpha) * l_{t-1},      l_0 = alpha * y_0 + (1 - alpha) * ell
    A, B    = OLS intercept / slope of the whole series (STM, OTM) or their recursive
              updates on the data seen so far (DSTM, DOTM; A_0 = y_0, B_0 = 0)

How the fit is fast.  For a fixed ``alpha`` the one-step forecasts are *affine* in the initial level
``ell`` and in ``c = 1 - 1/theta`` (``A``, ``B`` depend on the data only), so the sum of squared
errors is a convex quadratic in ``(ell, c)`` whose box-constrained minimum has a closed form.  The
fit is then a one-dimensional search over ``alpha`` in [0.1, 0.99]: a grid (one pass per grid point
gives the sufficient statistics of all four variants at once) refined by Brent's method.  The
seasonal decomposition is done once per series and shared by the four variants.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import STATUS_FAILED, STATUS_FALLBACK, STATUS_OK, STATUS_TOO_SHORT
from stockopt._kernels.forecast.theta_season import (
    DECOMP_ADDITIVE,
    DECOMP_MULTIPLICATIVE,
    DECOMP_NONE,
    deseasonalise,
    seasonal_decompose_kernel,
)

__all__ = [
    "STM", "OTM", "DSTM", "DOTM", "DECOMP_NONE", "DECOMP_MULTIPLICATIVE", "DECOMP_ADDITIVE",
    "ALPHA_LOWER", "ALPHA_UPPER", "THETA_LOWER", "THETA_UPPER", "LEVEL_BOUND",
    "seasonal_decompose_kernel", "theta_fixed_kernel", "auto_theta_kernel",
]

# model codes (statsforecast's order, which is also the tie-break order of the automatic choice)
STM = 0
OTM = 1
DSTM = 2
DOTM = 3
# parameter space (statsforecast 2.1.1 theta.py)
ALPHA_LOWER = 0.1
ALPHA_UPPER = 0.99
THETA_LOWER = 1.0
THETA_UPPER = 1e10
LEVEL_BOUND = 1e10
_C_MAX = 1.0 - 1.0 / THETA_UPPER  # c = 1 - 1/theta lies in [0, _C_MAX]
_N_BURN = 3  # the fit criterion skips the first three one-step errors
_N_GRID = 16  # alpha grid before Brent refinement
_XTOL = 1e-6  # Brent tolerance on alpha
_MAXITER = 60
_GOLDEN = 0.3819660112501051
_SQRT_EPS = 1.4901161193847656e-08

# --------------------------------------------------------------------------------------------
# the state-space recursion with fixed parameters
# --------------------------------------------------------------------------------------------
@njit(**NUMBA_OPTS)
def _static_ab(y: np.ndarray, n: int) -> tuple[float, float]:
    """OLS intercept (at t = 0) and slope of y against t = 1..n (slope 0 for one point)."""
    if n < 2:
        return y[0], 0.0
    s = 0.0
    sw = 0.0
    for t in range(n):
        s += y[t]
        sw += y[t] * (t + 1)
    ymean = s / n
    wavg = sw / n
    bn = 6.0 * (2.0 * wavg - (n + 1) * ymean) / (n * n - 1.0)
    an = ymean - (n + 1) * bn / 2.0
    return an, bn


@njit(**NUMBA_OPTS)
def _dynamic_ab(y: np.ndarray, n: int, a_out: np.ndarray, b_out: np.ndarray) -> None:
    """Recursive intercept/slope after each observation (state of DSTM/DOTM, data only)."""
    meany = y[0]
    a = y[0]
    b = 0.0
    a_out[0] = a
    b_out[0] = b
    for i in range(1, n):
        bnew = ((i - 1) * b + 6.0 * (y[i] - meany) / (i + 1)) / (i + 2)
        meany = (i * meany + y[i]) / (i + 1)
        a = meany - bnew * (i + 2) / 2.0
        b = bnew
        a_out[i] = a
        b_out[i] = b


@njit(**NUMBA_OPTS)
def _filter(y: np.ndarray, n: int, dynamic: bool, level0: float, alpha: float, c: float,
            mu_out: np.ndarray, state: np.ndarray) -> float:
    """One-step forecasts ``mu_out[:n]`` and SSE of ``y[t] - mu[t]`` for t >= 3.

    ``state`` receives (level, mean, A, B, (1-alpha)^(n-1)) after the last observation.
    """
    b1 = 1.0 - alpha
    if dynamic:
        a = y[0]
        bb = 0.0
        mu_out[0] = y[0]
    else:
        a, bb = _static_ab(y, n)
        mu_out[0] = level0 + c * (a + bb)
    level = alpha * y[0] + b1 * level0
    meany = y[0]
    p = 1.0
    sse = 0.0
    for i in range(1, n):
        p *= b1
        mu = level + c * (a * p + bb * (1.0 - p * b1) / alpha)
        mu_out[i] = mu
        if i >= _N_BURN:
            e = y[i] - mu
            sse += e * e
        level = alpha * y[i] + b1 * level
        if dynamic:
            bnew = ((i - 1) * bb + 6.0 * (y[i] - meany) / (i + 1)) / (i + 2)
            meany = (i * meany + y[i]) / (i + 1)
            a = meany - bnew * (i + 2) / 2.0
            bb = bnew
        else:
            meany = (i * meany + y[i]) / (i + 1)
    state[0] = level
    state[1] = meany
    state[2] = a
    state[3] = bb
    state[4] = p
    return sse


@njit(**NUMBA_OPTS)
def _sigma2(y: np.ndarray, mu: np.ndarray, n: int) -> float:
    """Variance (ddof=1) of the one-step errors after the burn-in (all of them if too few)."""
    start = _N_BURN if n - _N_BURN >= 2 else 0
    cnt = n - start
    if cnt < 2:
        return np.nan
    mean = 0.0
    for t in range(start, n):
        mean += y[t] - mu[t]
    mean /= cnt
    acc = 0.0
    for t in range(start, n):
        d = y[t] - mu[t] - mean
        acc += d * d
    return acc / (cnt - 1)


@njit(**NUMBA_OPTS)
def _forecast(n: int, dynamic: bool, alpha: float, c: float, state: np.ndarray, sigma2: float,
              h: int, mean_out: np.ndarray, var_out: np.ndarray, work: np.ndarray) -> None:
    """Point forecasts and forecast-error variances for 1..h steps.

    The future follows the model's recursion with ``y = mu + eps``, independent errors of variance
    ``sigma2``.  The error of the state x = (level, mean, A, B) against its point forecast obeys
    ``d' = T_i d + k_i eps``, so its covariance ``P`` (in units of sigma2) is propagated exactly:
    ``P' = T P T' + k k'`` and ``var_k = sigma2 (1 + h' P h)`` with ``h = (1, 0, c w, c v)`` the
    loading of mu on the state.  O(h) per series; ``work`` is a (4, 4, 4) scratch array.
    """
    b1 = 1.0 - alpha
    level = state[0]
    meany = state[1]
    a = state[2]
    bb = state[3]
    p = state[4]
    cov = work[0]
    tr = work[1]
    tmp = work[2]
    kv = work[3, 0]
    hv = work[3, 1]
    for r in range(4):
        for q in range(4):
            cov[r, q] = 0.0
    for j in range(h):
        i = n + j
        p *= b1
        v = (1.0 - p * b1) / alpha
        mu = level + c * (a * p + bb * v)
        hv[0] = 1.0
        hv[1] = 0.0
        hv[2] = c * p
        hv[3] = c * v
        quad = 0.0
        for r in range(4):
            acc = 0.0
            for q in range(4):
                acc += cov[r, q] * hv[q]
            quad += hv[r] * acc
        mean_out[j] = mu
        var_out[j] = sigma2 * (1.0 + quad)
        # transition of the state error (the static model's A, B are known: rows 1-3 stay 0)
        for r in range(4):
            for q in range(4):
                tr[r, q] = 0.0
            kv[r] = 0.0
        for q in range(4):
            tr[0, q] = alpha * hv[q]
        tr[0, 0] += b1
        kv[0] = alpha
        if dynamic:
            w6 = 6.0 / ((i + 1.0) * (i + 2.0))
            for q in range(4):
                tr[1, q] = hv[q] / (i + 1.0)
                tr[3, q] = w6 * hv[q]
            tr[1, 1] += i / (i + 1.0)
            tr[3, 1] -= w6
            tr[3, 3] += (i - 1.0) / (i + 2.0)
            for q in range(4):
                tr[2, q] = tr[1, q] - tr[3, q] * (i + 2) / 2.0
            kv[1] = 1.0 / (i + 1.0)
            kv[3] = w6
            kv[2] = kv[1] - w6 * (i + 2) / 2.0
        for r in range(4):
            for q in range(4):
                acc = 0.0
                for u in range(4):
                    acc += tr[r, u] * cov[u, q]
                tmp[r, q] = acc
        for r in range(4):
            for q in range(4):
                acc = kv[r] * kv[q]
                for u in range(4):
                    acc += tmp[r, u] * tr[q, u]
                cov[r, q] = acc
        level = alpha * mu + b1 * level
        if dynamic:
            bnew = ((i - 1) * bb + 6.0 * (mu - meany) / (i + 1)) / (i + 2)
            meany = (i * meany + mu) / (i + 1)
            a = meany - bnew * (i + 2) / 2.0
            bb = bnew


@njit(**NUMBA_OPTS)
def theta_fixed_kernel(values: np.ndarray, indptr: np.ndarray, model: np.ndarray,
        level0: np.ndarray, alpha: np.ndarray, theta: np.ndarray, h: int, out_fitted: np.ndarray,
        out_sse: np.ndarray, out_sigma2: np.ndarray, out_mean: np.ndarray, out_var: np.ndarray) -> None:
    """Run the Theta recursion with given parameters (no decomposition, no fitting).

    Per series ``s``: ``model[s]`` (``STM``..``DOTM``), initial level ``level0[s]``, smoothing
    ``alpha[s]`` and ``theta[s]``.  Writes one-step fitted values (aligned with ``values``), the SSE
    of the errors from the fourth observation on, the residual variance, and ``h`` forecasts with
    their model-based error variances (rows of ``out_mean``/``out_var``).  Empty series get NaN.
    """
    n_series = indptr.shape[0] - 1
    maxn = 1
    for s in range(n_series):
        maxn = max(maxn, indptr[s + 1] - indptr[s])
    mu = np.empty(maxn)
    state = np.empty(5)
    work = np.empty((4, 4, 4))
    for s in range(n_series):
        lo = indptr[s]
        n = indptr[s + 1] - lo
        if n == 0:
            out_sse[s] = np.nan
            out_sigma2[s] = np.nan
            for j in range(h):
                out_mean[s, j] = np.nan
                out_var[s, j] = np.nan
            continue
        y = values[lo:lo + n]
        dyn = model[s] == DSTM or model[s] == DOTM
        c = 1.0 - 1.0 / theta[s]
        sse = _filter(y, n, dyn, level0[s], alpha[s], c, mu, state)
        for t in range(n):
            out_fitted[lo + t] = mu[t]
        out_sse[s] = sse
        sig2 = _sigma2(y, mu, n)
        out_sigma2[s] = sig2
        _forecast(n, dyn, alpha[s], c, state, sig2, h, out_mean[s], out_var[s], work)


# --------------------------------------------------------------------------------------------
# the fit: closed form in (ell, c) for each alpha, 1-D search over alpha
# --------------------------------------------------------------------------------------------
@njit(**NUMBA_OPTS)
def _sums(y: np.ndarray, n: int, alpha: float, an: float, bn: float, ad: np.ndarray,
          bd: np.ndarray, want_static: bool, want_dynamic: bool, out: np.ndarray) -> None:
    """Sufficient statistics of the SSE quadratic at ``alpha``.

    With ``r_t = y_t - L_t`` (``L`` the level recursion started from ``ell = 0``), ``p_t = (1-alpha)^t``
    and ``q_t`` the trend term, the error is ``r_t - ell p_t - c q_t``.  ``out`` gets
    (rr, rp, pp, rq_s, pq_s, qq_s, rq_d, pq_d, qq_d) summed over t >= 3 (static / dynamic ``q``).
    """
    b1 = 1.0 - alpha
    rr = 0.0
    rp = 0.0
    pp = 0.0
    rqs = 0.0
    pqs = 0.0
    qqs = 0.0
    rqd = 0.0
    pqd = 0.0
    qqd = 0.0
    lev = alpha * y[0]
    p = 1.0
    for i in range(1, n):
        p *= b1
        if i >= _N_BURN:
            v = (1.0 - p * b1) / alpha
            r = y[i] - lev
            rr += r * r
            rp += r * p
            pp += p * p
            if want_static:
                q = an * p + bn * v
                rqs += r * q
                pqs += p * q
                qqs += q * q
            if want_dynamic:
                q = ad[i - 1] * p + bd[i - 1] * v
                rqd += r * q
                pqd += p * q
                qqd += q * q
        lev = alpha * y[i] + b1 * lev
    out[0] = rr
    out[1] = rp
    out[2] = pp
    out[3] = rqs
    out[4] = pqs
    out[5] = qqs
    out[6] = rqd
    out[7] = pqd
    out[8] = qqd


@njit(**NUMBA_OPTS)
def _quad(rr: float, rp: float, pp: float, rq: float, pq: float, qq: float, ell: float,
          c: float) -> float:
    return rr - 2.0 * ell * rp - 2.0 * c * rq + ell * ell * pp + 2.0 * ell * c * pq + c * c * qq


@njit(**NUMBA_OPTS)
def _clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else (hi if x > hi else x)


@njit(**NUMBA_OPTS)
def _best_ell(rp: float, pp: float, pq: float, c: float) -> float:
    if pp > 0.0:
        return _clip((rp - c * pq) / pp, -LEVEL_BOUND, LEVEL_BOUND)
    return 0.0


@njit(**NUMBA_OPTS)
def _solve(sums: np.ndarray, dynamic: bool, optimise_theta: bool, res: np.ndarray) -> None:
    """Minimise the SSE quadratic over the box; res = (sse, ell, c)."""
    rr = sums[0]
    rp = sums[1]
    pp = sums[2]
    k = 6 if dynamic else 3
    rq = sums[k]
    pq = sums[k + 1]
    qq = sums[k + 2]
    if not optimise_theta:
        c = 0.5  # theta = 2
        ell = _best_ell(rp, pp, pq, c)
        res[0] = _quad(rr, rp, pp, rq, pq, qq, ell, c)
        res[1] = ell
        res[2] = c
        return
    det = pp * qq - pq * pq
    if pp > 0.0 and qq > 0.0 and det > 1e-12 * pp * qq:
        ell = (rp * qq - rq * pq) / det
        c = (rq * pp - rp * pq) / det
        if 0.0 <= c <= _C_MAX and -LEVEL_BOUND <= ell <= LEVEL_BOUND:
            res[0] = _quad(rr, rp, pp, rq, pq, qq, ell, c)
            res[1] = ell
            res[2] = c
            return
    # the minimum lies on an edge of the box (or the quadratic is degenerate)
    best = np.inf
    best_ell = 0.0
    best_c = 0.0
    for edge in range(4):
        if edge < 2:
            c = 0.0 if edge == 0 else _C_MAX
            ell = _best_ell(rp, pp, pq, c)
        else:
            ell = -LEVEL_BOUND if edge == 2 else LEVEL_BOUND
            c = _clip((rq - ell * pq) / qq, 0.0, _C_MAX) if qq > 0.0 else 0.0
        f = _quad(rr, rp, pp, rq, pq, qq, ell, c)
        if f < best:
            best = f
            best_ell = ell
            best_c = c
    res[0] = best
    res[1] = best_ell
    res[2] = best_c


@njit(**NUMBA_OPTS)
def _profile(y: np.ndarray, n: int, alpha: float, an: float, bn: float, ad: np.ndarray,
             bd: np.ndarray, model: int, sums: np.ndarray, res: np.ndarray) -> float:
    dyn = model == DSTM or model == DOTM
    _sums(y, n, alpha, an, bn, ad, bd, not dyn, dyn, sums)
    _solve(sums, dyn, model == OTM or model == DOTM, res)
    f = res[0]
    return f if math.isfinite(f) else np.inf


@njit(**NUMBA_OPTS)
def _brent(y: np.ndarray, n: int, lo: float, hi: float, an: float, bn: float, ad: np.ndarray,
           bd: np.ndarray, model: int, sums: np.ndarray, res: np.ndarray) -> tuple[float, float, bool]:
    """Brent's (1973) minimisation of the profile SSE over alpha in [lo, hi].

    Returns (alpha, sse, converged): converged is False when the iteration budget ran out first.
    """
    a = lo
    b = hi
    x = a + _GOLDEN * (b - a)
    w = x
    v = x
    fx = _profile(y, n, x, an, bn, ad, bd, model, sums, res)
    fw = fx
    fv = fx
    d = 0.0
    e = 0.0
    converged = False
    for _ in range(_MAXITER):
        xm = 0.5 * (a + b)
        tol1 = _SQRT_EPS * abs(x) + _XTOL / 3.0
        tol2 = 2.0 * tol1
        if abs(x - xm) <= tol2 - 0.5 * (b - a):
            converged = True
            break
        golden = True
        if abs(e) > tol1:
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            pnum = (x - v) * q - (x - w) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                pnum = -pnum
            q = abs(q)
            etemp = e
            e = d
            if abs(pnum) < abs(0.5 * q * etemp) and pnum > q * (a - x) and pnum < q * (b - x):
                d = pnum / q
                u = x + d
                if (u - a) < tol2 or (b - u) < tol2:
                    d = tol1 if xm >= x else -tol1
                golden = False
        if golden:
            e = (b - x) if x < xm else (a - x)
            d = _GOLDEN * e
        if abs(d) >= tol1:
            u = x + d
        else:
            u = x + (tol1 if d > 0.0 else -tol1)
        fu = _profile(y, n, u, an, bn, ad, bd, model, sums, res)
        if fu <= fx:
            if u < x:
                b = x
            else:
                a = x
            v = w
            fv = fw
            w = x
            fw = fx
            x = u
            fx = fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v = w
                fv = fw
                w = u
                fw = fu
            elif fu <= fv or v == x or v == w:
                v = u
                fv = fu
    return x, fx, converged


@njit(**NUMBA_OPTS)
def _fit_one(y: np.ndarray, n: int, model_mask: int, ad: np.ndarray, bd: np.ndarray,
             mu: np.ndarray, grid: np.ndarray, gridf: np.ndarray, sums: np.ndarray,
             res: np.ndarray, params: np.ndarray, state: np.ndarray) -> int:
    """Fit every variant in ``model_mask`` (bit k = model k) to y[:n] (n >= 4) and pick the best.

    ``params`` receives (alpha, c, ell, sse, converged) per model (rows 0..3).  Returns the chosen
    model code or -1 when no variant gave a finite SSE.
    """
    an, bn = _static_ab(y, n)
    want_s = (model_mask & 3) != 0
    want_d = (model_mask & 12) != 0
    if want_d:
        _dynamic_ab(y, n, ad, bd)
    ng = grid.shape[0]
    for k in range(ng):
        _sums(y, n, grid[k], an, bn, ad, bd, want_s, want_d, sums)
        for mdl in range(4):
            if model_mask & (1 << mdl):
                _solve(sums, mdl >= DSTM, mdl == OTM or mdl == DOTM, res)
                f = res[0]
                gridf[mdl, k] = f if math.isfinite(f) else np.inf
    chosen = -1
    best = np.inf
    for mdl in range(4):
        params[mdl, 3] = np.inf
        if not model_mask & (1 << mdl):
            continue
        kb = 0
        for k in range(1, ng):
            if gridf[mdl, k] < gridf[mdl, kb]:
                kb = k
        alpha = grid[kb]
        fbest = gridf[mdl, kb]
        converged = False
        if math.isfinite(fbest):
            xa, fa, converged = _brent(y, n, grid[max(kb - 1, 0)], grid[min(kb + 1, ng - 1)], an, bn, ad, bd,
                            mdl, sums, res)
            if fa < fbest:
                alpha = xa
        _profile(y, n, alpha, an, bn, ad, bd, mdl, sums, res)
        ell = res[1]
        c = res[2]
        sse = _filter(y, n, mdl >= DSTM, ell, alpha, c, mu, state)
        if not math.isfinite(sse):
            continue
        params[mdl, 0] = alpha
        params[mdl, 1] = c
        params[mdl, 2] = ell
        params[mdl, 3] = sse
        params[mdl, 4] = 1.0 if converged else 0.0
        if sse < best:
            best = sse
            chosen = mdl
    return chosen


@njit(**NUMBA_OPTS)
def auto_theta_kernel(values: np.ndarray, indptr: np.ndarray, h: int, season_length: int,
        decomposition: int, model_mask: int, out_mean: np.ndarray, out_var: np.ndarray,
        out_fitted: np.ndarray, out_status: np.ndarray, out_model: np.ndarray, out_decomp: np.ndarray,
        out_params: np.ndarray) -> None:
    """Deseasonalise, fit the Theta variants in ``model_mask``, choose by in-sample SSE, forecast.

    Parameters
    ----------
    values, indptr : grouped series (see module docstring).
    h : forecast horizon (periods).
    season_length : seasonal period ``m``; the decomposition is tried when ``m >= 4`` and the
        series has at least ``2m`` values and passes the 90% autocorrelation test.
    decomposition : ``DECOMP_MULTIPLICATIVE``, ``DECOMP_ADDITIVE`` or ``DECOMP_NONE``.
    model_mask : bit ``k`` set = variant ``k`` (``STM``=0 .. ``DOTM``=3) is a candidate.
    out_mean, out_var : (n_series, h) forecasts (reseasonalised) and error variances.
    out_fitted : one-step fitted values aligned with ``values``.
    out_status : int8 status per series; out_model: chosen code (-1 = fallback);
    out_decomp : decomposition applied (``DECOMP_*``).
    out_params : (n_series, 6) = alpha, theta, initial level, in-sample MSE (deseasonalised, t >= 3),
        residual variance sigma^2 (deseasonalised), 1.0 if the alpha search converged (else 0.0).

    Series with 1 to 3 values get the mean as forecast (STATUS_FALLBACK); empty ones
    STATUS_TOO_SHORT and non-finite data STATUS_FAILED, with NaN outputs.
    """
    n_series = indptr.shape[0] - 1
    m = max(season_length, 1)
    maxn = 1
    for s in range(n_series):
        maxn = max(maxn, indptr[s + 1] - indptr[s])
    yd = np.empty(maxn)
    ad = np.empty(maxn)
    bd = np.empty(maxn)
    mu = np.empty(maxn)
    avgs = np.empty(m)
    work = np.empty((4, 4, 4))
    grid = np.empty(_N_GRID)
    for k in range(_N_GRID):
        grid[k] = ALPHA_LOWER + (ALPHA_UPPER - ALPHA_LOWER) * k / (_N_GRID - 1)
    gridf = np.empty((4, _N_GRID))
    sums = np.empty(9)
    res = np.empty(3)
    params = np.empty((4, 5))
    state = np.empty(5)
    for s in range(n_series):
        lo = indptr[s]
        n = indptr[s + 1] - lo
        y = values[lo:lo + n]
        out_model[s] = -1
        out_decomp[s] = DECOMP_NONE
        for k in range(6):
            out_params[s, k] = np.nan
        finite = True
        total = 0.0
        for t in range(n):
            if not math.isfinite(y[t]):
                finite = False
            total += y[t]
        if n == 0 or not finite:
            out_status[s] = STATUS_TOO_SHORT if n == 0 else STATUS_FAILED
            for j in range(h):
                out_mean[s, j] = np.nan
                out_var[s, j] = np.nan
            for t in range(n):
                out_fitted[lo + t] = np.nan
            continue
        kind = deseasonalise(y, n, m, decomposition, avgs, yd)
        out_decomp[s] = kind
        chosen = -1
        if n > _N_BURN:
            chosen = _fit_one(yd, n, model_mask, ad, bd, mu, grid, gridf, sums, res, params, state)
        if chosen < 0:
            # too short for the model (or no variant fitted): the mean, with its sample variance
            mean = total / n
            var = np.nan
            if n >= 2:
                acc = 0.0
                for t in range(n):
                    acc += (y[t] - mean) * (y[t] - mean)
                var = acc / (n - 1)
            out_status[s] = STATUS_FALLBACK
            out_decomp[s] = DECOMP_NONE
            for j in range(h):
                out_mean[s, j] = mean
                out_var[s, j] = var * (1.0 + 1.0 / n)
            for t in range(n):
                out_fitted[lo + t] = mean
            out_params[s, 4] = var
            continue
        _run_fixed(yd, n, lo, s, h, m, kind, avgs, chosen, params[chosen, 0], params[chosen, 1],
                   params[chosen, 2], params[chosen, 4], mu, state, work, out_mean, out_var, out_fitted,
                   out_status, out_model, out_params)


@njit(**NUMBA_OPTS)
def _run_fixed(yd: np.ndarray, n: int, lo: int, s: int, h: int, m: int, kind: int, avgs: np.ndarray,
               chosen: int, alpha: float, c: float, level0: float, converged: float, mu: np.ndarray,
               state: np.ndarray, work: np.ndarray, out_mean: np.ndarray, out_var: np.ndarray,
               out_fitted: np.ndarray, out_status: np.ndarray, out_model: np.ndarray,
               out_params: np.ndarray) -> None:
    """Filter the deseasonalised ``yd[:n]`` with given parameters, forecast, reseasonalise and write
    row ``s`` of the outputs (shared by the fit and the forward kernel)."""
    dyn = chosen >= DSTM
    sse = _filter(yd, n, dyn, level0, alpha, c, mu, state)
    sig2 = _sigma2(yd, mu, n)
    _forecast(n, dyn, alpha, c, state, sig2, h, out_mean[s], out_var[s], work)
    for t in range(n):
        if kind == DECOMP_MULTIPLICATIVE:
            out_fitted[lo + t] = mu[t] * avgs[t % m]
        elif kind == DECOMP_ADDITIVE:
            out_fitted[lo + t] = mu[t] + avgs[t % m]
        else:
            out_fitted[lo + t] = mu[t]
    for j in range(h):
        if kind == DECOMP_MULTIPLICATIVE:
            sf = avgs[(n + j) % m]
            out_mean[s, j] *= sf
            out_var[s, j] *= sf * sf
        elif kind == DECOMP_ADDITIVE:
            out_mean[s, j] += avgs[(n + j) % m]
    out_status[s] = STATUS_OK
    out_model[s] = chosen
    out_params[s, 0] = alpha
    out_params[s, 1] = 1.0 / (1.0 - c)
    out_params[s, 2] = level0
    out_params[s, 3] = sse / (n - _N_BURN)
    out_params[s, 4] = sig2
    out_params[s, 5] = converged
