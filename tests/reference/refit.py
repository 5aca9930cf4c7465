"""Slow twins of the "forward" kernels: frozen parameters run over a longer history, one series at a
time in plain Python / NumPy, built on the independent model twins of ``ets``, ``theta`` and
``fast_models`` (none of them imports stockopt).

* ETS: the HKOS Table 2.1 recursion from the fitted initial states to the end of the new history,
  forecasts by iterating it with zero errors, sigma^2 = SSE / (n - number of parameters) of the new
  one-step errors, variances from the explicit-matrix formulas (classes 1 and 2).
* Theta: seasonality test and decomposition redone on the new history, then the Theta recursion
  with the frozen (variant, alpha, theta, initial level), brute-force variances, reseasonalised.
* SES and Croston: the smoothing recursions with the frozen constants.
* The refit schedule of ``cross_validation(refit=...)`` as statsforecast writes it.
"""

from __future__ import annotations

import math

import numpy as np

from tests.reference import ets as ref_ets
from tests.reference import fast_models as ref_fast
from tests.reference import theta as ref_theta


def refit_windows(refit: bool | int, n_windows: int) -> list[bool]:
    """Which windows (0 = earliest cutoff) fit: statsforecast's ``i == 0 or (refit > 0 and i % refit == 0)``."""
    r = int(refit)
    return [i == 0 or (r > 0 and i % r == 0) for i in range(n_windows)]


def ets_forward(y: np.ndarray, code: int, par: np.ndarray, x0: np.ndarray, m: int, h: int):
    """Forward one ETS series; returns (mean, var or None for class 3, sigma2) or None on breakdown.

    ``code = 9 etype + 3 ttype + stype``; ``par`` = (alpha, beta, gamma, phi) with NaN where absent;
    ``x0`` = (l, b, s_1..s_m) with ``s_1`` the latest seasonal state.
    """
    etype, ttype, stype = code // 9, (code // 3) % 3, code % 3
    alpha = float(par[0])
    beta = float(par[1]) if ttype else 0.0
    gamma = float(par[2]) if stype else 0.0
    phi = float(par[3]) if ttype == 2 else 1.0
    ms = m if stype else 1
    x = np.nan_to_num(np.asarray(x0, dtype=float))
    lik, sse, _, end = ref_ets.filter_ref(list(map(float, y)), etype, ttype, stype, ms, alpha, beta, gamma, phi, x)
    if end is None or not math.isfinite(lik):
        return None
    npar = 1 + (ttype > 0) + (stype > 0) + (ttype == 2)  # smoothing parameters
    npar += 1 + (ttype > 0) + ((ms - 1) if stype else 0)  # free initial states
    npar += 1  # sigma^2
    sigma2 = sse / max(len(y) - npar, 1)
    mean = ref_ets.forecast_ref(end, ttype, stype, ms, phi, h)
    var = None
    if stype != 2:
        var = ref_ets.variance_ref(etype, ttype, stype, ms, alpha, beta, gamma, phi, sigma2, mean)
    return mean, var, sigma2


def theta_forward(y: np.ndarray, model: int, alpha: float, theta: float, level0: float, m: int,
                  decomposition: int, h: int):
    """Forward one Theta series; returns (mean, var)."""
    y = np.asarray(y, dtype=float)
    kind, idx = ref_theta.decompose(y, m, decomposition)
    t = np.arange(len(y))
    if kind == ref_theta.MULTIPLICATIVE:
        yd = y / idx[t % m]
    elif kind == ref_theta.ADDITIVE:
        yd = y - idx[t % m]
    else:
        yd = y
    states, mu, _ = ref_theta.theta_filter(yd, model, level0, alpha, theta)
    s2 = ref_theta.sigma2(yd, mu)
    mean, var = ref_theta.theta_forecast(states, len(y), model, alpha, theta, h, s2)
    tf = np.arange(len(y), len(y) + h) % m
    if kind == ref_theta.MULTIPLICATIVE:
        mean, var = mean * idx[tf], var * idx[tf] ** 2
    elif kind == ref_theta.ADDITIVE:
        mean = mean + idx[tf]
    return mean, var


def ses_forward(y: np.ndarray, alpha: float, h: int):
    """SES with a frozen alpha: (mean, var)."""
    mean, var, _ = ref_fast.ses(list(map(float, y)), alpha, h)
    return mean, var


def croston_forward(y: np.ndarray, alpha_size: float, alpha_interval: float, h: int):
    """Croston with frozen smoothing constants for sizes and intervals: (mean, var)."""
    alphas = iter([alpha_size, alpha_interval])
    mean, var, _, _ = ref_fast.croston(list(map(float, y)), h, "optimized", optimizer=lambda x, lo, hi: next(alphas))
    return mean, var
