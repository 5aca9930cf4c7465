"""Theta "forward": frozen Theta fits run over new histories (statsforecast's ``forward_theta``).

Used by ``cross_validation(refit=False)``; see :func:`theta_forward_kernel`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import STATUS_FAILED
from stockopt._kernels.forecast.theta import _N_BURN, _run_fixed
from stockopt._kernels.forecast.theta_season import DECOMP_NONE, deseasonalise

__all__ = ["theta_forward_kernel"]


@njit(**NUMBA_OPTS)
def theta_forward_kernel(values: np.ndarray, indptr: np.ndarray, h: int, season_length: int,
        decomposition: int, model: np.ndarray, alpha: np.ndarray, theta: np.ndarray, level0: np.ndarray,
        out_mean: np.ndarray, out_var: np.ndarray, out_fitted: np.ndarray, out_status: np.ndarray,
        out_model: np.ndarray, out_decomp: np.ndarray, out_params: np.ndarray) -> None:
    """Theta forecasts from frozen parameters over new histories (statsforecast's ``forward_theta``).

    Per series: the variant ``model[s]`` (``STM``..``DOTM``), ``alpha[s]``, ``theta[s]`` and the
    initial level ``level0[s]`` of an earlier :func:`auto_theta_kernel` fit are kept; as in
    statsforecast the seasonality test and classical decomposition are redone on the new history
    (they are data preparation, not fitted parameters), then the recursion runs over the
    deseasonalised series and :func:`auto_theta_kernel`'s outputs are written (``out_params[:, 5]``
    is 1).  A series with fewer than 4 values, non-finite values or a negative code gets
    ``STATUS_FAILED`` and NaN.
    """
    n_series = indptr.shape[0] - 1
    m = max(season_length, 1)
    maxn = 1
    for s in range(n_series):
        maxn = max(maxn, indptr[s + 1] - indptr[s])
    yd = np.empty(maxn)
    mu = np.empty(maxn)
    avgs = np.empty(m)
    work = np.empty((4, 4, 4))
    state = np.empty(5)
    for s in range(n_series):
        lo = indptr[s]
        n = indptr[s + 1] - lo
        y = values[lo:lo + n]
        out_decomp[s] = DECOMP_NONE
        out_model[s] = -1
        for k in range(6):
            out_params[s, k] = np.nan
        finite = True
        for t in range(n):
            if not math.isfinite(y[t]):
                finite = False
        if n <= _N_BURN or not finite or model[s] < 0:
            out_status[s] = STATUS_FAILED
            for j in range(h):
                out_mean[s, j] = np.nan
                out_var[s, j] = np.nan
            for t in range(n):
                out_fitted[lo + t] = np.nan
            continue
        kind = deseasonalise(y, n, m, decomposition, avgs, yd)
        out_decomp[s] = kind
        _run_fixed(yd, n, lo, s, h, m, kind, avgs, model[s], alpha[s], 1.0 - 1.0 / theta[s], level0[s], 1.0,
                   mu, state, work, out_mean, out_var, out_fitted, out_status, out_model, out_params)
