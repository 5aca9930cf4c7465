"""Core numba kernels of the ETS family: the state recursion, concentrated initial states and a
bounded Nelder-Mead.

Notation follows Hyndman, Koehler, Ord & Snyder (2008), *Forecasting with Exponential Smoothing:
the State Space Approach*, Springer (HKOS), ch. 2 and 5.  A model is coded by three small ints:

* ``etype``: 0 additive error, 1 multiplicative error;
* ``ttype``: 0 no trend, 1 additive trend, 2 damped additive trend;
* ``stype``: 0 no season, 1 additive season, 2 multiplicative season.

The state vector ``x`` (length ``2 + m``) is ``(l, b, s_1, ..., s_m)`` where ``s_1`` is the most
recent seasonal state and ``s_m`` the one used by the next one-step forecast (HKOS's
``(l_0, b_0, s_0, s_{-1}, ..., s_{1-m})``).  Inside the recursion the seasonal states live in a ring
buffer so that a step costs O(1) whatever ``m``.

The state update is written in the "error-free" form of R's ``forecast::ets`` C code (the same for
both error types; the error type only changes the likelihood), e.g. for additive trend and season
``l_t = q + alpha (y_t - s_{t-m} - q)`` with ``q = l_{t-1} + phi b_{t-1}``.

Likelihood: ``lik = n log(sum e_t^2) + 2 sum log|f_t|`` (the last term for multiplicative errors
only), i.e. ``-2 log L`` up to the constant ``n (log(2 pi / n) + 1)`` once sigma^2 is concentrated
out (HKOS eq. 5.3).

For models whose one-step forecasts are linear in the initial states (no multiplicative season) the
errors are ``e_t = ytilde_t - z_t' x_0`` (HKOS sec. 5.2 and Hyndman et al. 2008 ch. 5 "initial
values"), so the optimal ``x_0`` for given smoothing parameters is an ordinary least-squares problem:
:mod:`stockopt._kernels.forecast.ets_states` solves it by running copies of the recursion in lock-step
(one on the data with ``x_0 = 0`` and one per unit initial state on zero data) and accumulating
the normal equations.  The optimiser (:mod:`stockopt._kernels.forecast.ets_optim`) then only searches the
1-4 smoothing parameters.  This module holds the recursion itself and the small shared helpers.
"""

from __future__ import annotations

import math

import numba

from stockopt._config import NUMBA_OPTS

LOWER = 1e-4
UPPER = 0.9999
PHI_LOWER = 0.8
PHI_UPPER = 0.98
HUGE = 1e300
#: model codes ``9 * etype + 3 * ttype + stype`` (see :data:`stockopt._kernels.forecast.ets.MODEL_NAMES`)
N_MODELS = 18
LIK_FLOOR = -1e10
TOL = 1e-10


@numba.njit(**NUMBA_OPTS)
def n_smooth(ttype: int, stype: int) -> int:
    """Number of smoothing parameters (alpha, beta, gamma, phi) a model estimates."""
    k = 1
    if ttype > 0:
        k += 1
    if stype > 0:
        k += 1
    if ttype == 2:
        k += 1
    return k


@numba.njit(**NUMBA_OPTS)
def n_free_states(ttype: int, stype: int, m: int) -> int:
    """Number of free initial states (the last seasonal state is fixed by the normalisation)."""
    p = 1
    if ttype > 0:
        p += 1
    if stype > 0:
        p += m - 1
    return p


@numba.njit(**NUMBA_OPTS)
def decode(u, ttype, stype, par):
    """Map ``u`` in the unit box to ``par = (alpha, beta, gamma, phi)`` in the usual region.

    ``LOWER <= alpha <= UPPER``, ``LOWER <= beta <= min(alpha, UPPER, par[4])``,
    ``LOWER <= gamma <= min(1 - alpha, UPPER, par[5])``, ``PHI_LOWER <= phi <= PHI_UPPER``
    (HKOS sec. 5.4; the bounds of R's ``ets``).  ``par[4]`` and ``par[5]`` are read-only extra
    upper bounds of beta and gamma (``UPPER`` for the plain usual region; see
    :func:`upper_bounds` for the tighter ones statsforecast uses).  Unused
    parameters get ``beta = gamma = 0`` and ``phi = 1``.
    """
    alpha = LOWER + (UPPER - LOWER) * u[0]
    j = 1
    beta = 0.0
    gamma = 0.0
    phi = 1.0
    if ttype > 0:
        bmax = min(alpha, UPPER, par[4])
        beta = LOWER + (bmax - LOWER) * u[j]
        j += 1
    if stype > 0:
        gmax = max(min(1.0 - alpha, UPPER, par[5]), LOWER)
        gamma = LOWER + (gmax - LOWER) * u[j]
        j += 1
    if ttype == 2:
        phi = PHI_LOWER + (PHI_UPPER - PHI_LOWER) * u[j]
        j += 1
    par[0] = alpha
    par[1] = beta
    par[2] = gamma
    par[3] = phi


@numba.njit(**NUMBA_OPTS)
def run(y, etype, ttype, stype, m, alpha, beta, gamma, phi, x0, ring, fitted, store, xend):
    """Run the ETS recursion over ``y`` from initial state ``x0``.

    Returns ``(lik, sse, sumlog)``: ``lik = n log(sse) + 2 sumlog`` (``sumlog`` = sum of log|f_t|
    for multiplicative errors, else 0), ``sse`` the sum of squared (relative, for multiplicative
    errors) one-step errors.  ``lik`` is ``HUGE`` when the recursion breaks down (a non-positive
    forecast with multiplicative errors, a zero divisor).  When ``store`` the one-step forecasts go
    to ``fitted`` and the final state (same layout as ``x0``) to ``xend``.  ``ring`` is work space
    of length >= m.
    """
    n = y.shape[0]
    ms = m if stype > 0 else 1
    lev = x0[0]
    b = x0[1] if ttype > 0 else 0.0
    if ttype == 0:
        phi = 1.0
    for r in range(ms):
        ring[r] = x0[1 + ms - r] if stype > 0 else (1.0 if stype == 2 else 0.0)
    kk = 0
    sse = 0.0
    sumlog = 0.0
    prod = 1.0
    ba = beta / alpha if ttype > 0 else 0.0
    for t in range(n):
        s_old = ring[kk] if stype > 0 else 0.0
        phib = phi * b
        q = lev + phib
        if stype == 2:
            f = q * s_old
        else:
            f = q + s_old
        yt = y[t]
        if etype == 0:
            e = yt - f
        else:
            if f <= TOL:
                return HUGE, HUGE, 0.0
            e = (yt - f) / f
            # accumulate the product of forecasts, taking a log only when it gets large/small
            prod *= f
            if prod > 1e150 or prod < 1e-150:
                sumlog += math.log(prod)
                prod = 1.0
        sse += e * e
        if store:
            fitted[t] = f
        # state update (R's forecast::ets update(), valid for both error types)
        if stype == 2:
            if math.fabs(s_old) < TOL:
                return HUGE, HUGE, 0.0
            pp = yt / s_old
        else:
            pp = yt - s_old
        newl = q + alpha * (pp - q)
        if ttype > 0:
            b = phib + ba * (newl - lev - phib)
        if stype == 1:
            ring[kk] = s_old + gamma * (yt - q - s_old)
        elif stype == 2:
            if math.fabs(q) < TOL:
                return HUGE, HUGE, 0.0
            ring[kk] = s_old + gamma * (yt / q - s_old)
        lev = newl
        kk += 1
        if kk == ms:
            kk = 0
    if prod != 1.0:
        sumlog += math.log(prod)
    if store:
        xend[0] = lev
        xend[1] = b
        if stype > 0:
            # s_1 (most recent) is at ring[kk - 1]
            for j in range(1, ms + 1):
                r = kk - j
                if r < 0:
                    r += ms
                xend[1 + j] = ring[r]
    if sse <= 0.0:
        lik = LIK_FLOOR
    else:
        lik = n * math.log(sse) + 2.0 * sumlog
        if lik < LIK_FLOOR:
            lik = LIK_FLOOR
    if lik != lik:
        return HUGE, HUGE, 0.0
    return lik, sse, sumlog


@numba.njit(**NUMBA_OPTS)
def chol_solve(G, c, p, x):
    """Solve ``G x = c`` (symmetric positive semi-definite, lower triangle filled, size p) in place.

    Cholesky with a small ridge; a pivot that vanishes (an unidentifiable state) gives that
    component 0.  ``G`` is overwritten by its factor.
    """
    dmax = 0.0
    for a in range(p):
        if G[a, a] > dmax:
            dmax = G[a, a]
    ridge = 1e-11 * dmax + 1e-300
    for a in range(p):
        G[a, a] += ridge
    for j in range(p):
        s = G[j, j]
        for k in range(j):
            s -= G[j, k] * G[j, k]
        if s <= 1e-13 * (dmax + 1e-300):
            G[j, j] = 0.0
            for i in range(j + 1, p):
                G[i, j] = 0.0
            continue
        d = math.sqrt(s)
        G[j, j] = d
        for i in range(j + 1, p):
            s2 = G[i, j]
            for k in range(j):
                s2 -= G[i, k] * G[j, k]
            G[i, j] = s2 / d
    # forward
    for i in range(p):
        s = c[i]
        for k in range(i):
            s -= G[i, k] * x[k]
        x[i] = s / G[i, i] if G[i, i] > 0.0 else 0.0
    # backward
    for i in range(p - 1, -1, -1):
        s = x[i]
        for k in range(i + 1, p):
            s -= G[k, i] * x[k]
        x[i] = s / G[i, i] if G[i, i] > 0.0 else 0.0


#: parameter regions: the usual one of HKOS / R's ``ets`` (``beta <= alpha``,
#: ``gamma <= 1 - alpha``), or that region with statsforecast 2.1.1's extra upper bounds
REGION_USUAL = 0
REGION_STATSFORECAST = 1


@numba.njit(**NUMBA_OPTS)
def upper_bounds(cand, m, n, positive, region, bcap, gcap):
    """Extra upper bounds of beta and gamma per model code (``bcap``, ``gcap``; out, length 18).

    ``REGION_USUAL``: none (``UPPER``).  ``REGION_STATSFORECAST``: the bounds statsforecast 2.1.1's
    ``ets_f`` actually optimises in.  Its ``initparam`` (a port of R's ``forecast:::initparam``)
    lowers ``upper[beta]`` to the starting alpha ``a0 = LOWER + 0.2 (UPPER - LOWER) / m'``
    (``m' = m`` for seasonal models, 1 otherwise) and ``upper[gamma]`` to ``1 - a0``, and, unlike R
    where the change is local, it does so in place on the one ``upper`` array shared by every
    candidate of the model loop.  So each model's bounds are the minimum over the candidates
    visited so far, in the loop order error A, M; trend N, A; season N, A, M; damped then
    undamped.  For monthly data (``m = 12``) ``AAdN``/``AAN`` get ``beta <= 0.2001`` and every
    trended model after the first seasonal trended one ``beta <= 0.0168``: slowly changing trends,
    which forecast better on short series than the exact maximum-likelihood trend.  Candidates
    are those of ``cand`` that statsforecast would visit for a series of length ``n``
    (multiplicative ones only when ``positive``, seasonal ones only when ``m > 1`` and ``n > m``).
    """
    ub = UPPER
    ug = UPPER
    for cid in range(N_MODELS):
        bcap[cid] = UPPER
        gcap[cid] = UPPER
    if region != REGION_STATSFORECAST:
        return
    seasonal = m > 1 and n > m
    for et in range(2):
        if et == 1 and not positive:
            continue
        for trended in range(2):
            for st in range(3):
                if (st > 0 and not seasonal) or (st == 2 and (et == 0 or not positive)):
                    continue
                for damped in range(1, -1, -1):
                    if damped == 1 and trended == 0:
                        continue
                    tt = 0 if trended == 0 else (2 if damped == 1 else 1)
                    cid = 9 * et + 3 * tt + st
                    if not cand[cid]:
                        continue
                    a0 = LOWER + 0.2 * (UPPER - LOWER) / (m if st > 0 else 1)
                    if tt > 0:
                        ub = min(ub, a0)
                    if st > 0:
                        ug = min(ug, 1.0 - a0)
                    bcap[cid] = ub
                    gcap[cid] = ug
