"""Baseline forecasting kernels (numba): naive, seasonal naive, historic and window averages.

Every kernel handles a block of series ``values[indptr[i]:indptr[i + 1]]`` in one call, writes
``mean`` (n_series, h), ``var`` (n_series, h; NaN where the model has no analytic variance or too
few residuals), ``fitted`` (aligned with ``values``, absolute positions) when the caller asks for it,
and a status per series (0 ok, 2 too short: forecasts NaN).

Forecast-error variances are the textbook ones (Hyndman & Athanasopoulos, *Forecasting: Principles
and Practice*, 3rd ed., section 5.5, "benchmark methods"):

* naive (random walk): ``sigma^2 * k`` with ``sigma^2 = sum(e_t^2) / (n - 1)`` over the n - 1
  one-step residuals ``e_t = y_t - y_{t-1}``;
* seasonal naive: ``sigma^2 * (floor((k - 1) / m) + 1)``, ``sigma^2 = sum(e_t^2) / (n - m)`` with
  ``e_t = y_t - y_{t-m}``;
* historic average (i.i.d. mean model): ``sigma^2 * (1 + 1 / n)``, ``sigma^2`` the sample variance.
"""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import STATUS_OK, STATUS_TOO_SHORT


@numba.njit(**NUMBA_OPTS)
def _fill_nan(mean, var, i, h):  # pragma: no cover - compiled
    for k in range(h):
        mean[i, k] = np.nan
        var[i, k] = np.nan


@numba.njit(**NUMBA_OPTS)
def naive_block(values, indptr, h, mean, var, fitted, want_fitted, status):  # pragma: no cover
    """Last value repeated; random-walk variance ``sigma^2 * k``."""
    for i in range(indptr.shape[0] - 1):
        start = indptr[i]
        end = indptr[i + 1]
        n = end - start
        if n == 0:
            _fill_nan(mean, var, i, h)
            status[i] = STATUS_TOO_SHORT
            continue
        sse = 0.0
        for t in range(start + 1, end):
            e = values[t] - values[t - 1]
            sse += e * e
        sigma2 = sse / (n - 1) if n > 1 else np.nan
        last = values[end - 1]
        for k in range(h):
            mean[i, k] = last
            var[i, k] = sigma2 * (k + 1)
        if want_fitted:
            fitted[start] = np.nan
            for t in range(start + 1, end):
                fitted[t] = values[t - 1]
        status[i] = STATUS_OK


@numba.njit(**NUMBA_OPTS)
def seasonal_naive_block(
    values,
    indptr,
    season_length,
    h,
    mean,
    var,
    fitted,
    want_fitted,
    status,
):  # pragma: no cover
    """Value of the same season in the last cycle; variance ``sigma^2 * (floor((k-1)/m) + 1)``.

    Series shorter than one season are too short (status 2, NaN forecasts).
    """
    m = season_length
    for i in range(indptr.shape[0] - 1):
        start = indptr[i]
        end = indptr[i + 1]
        n = end - start
        if n < m or n == 0:
            _fill_nan(mean, var, i, h)
            status[i] = STATUS_TOO_SHORT
            if want_fitted:
                for t in range(start, end):
                    fitted[t] = np.nan
            continue
        sse = 0.0
        for t in range(start + m, end):
            e = values[t] - values[t - m]
            sse += e * e
        sigma2 = sse / (n - m) if n > m else np.nan
        for k in range(h):
            mean[i, k] = values[end - m + (k % m)]
            var[i, k] = sigma2 * (k // m + 1)
        if want_fitted:
            for t in range(start, start + m):
                fitted[t] = np.nan
            for t in range(start + m, end):
                fitted[t] = values[t - m]
        status[i] = STATUS_OK


@numba.njit(**NUMBA_OPTS)
def historic_average_block(values, indptr, h, mean, var, fitted, want_fitted, status):  # pragma: no cover
    """Mean of the whole history; i.i.d. variance ``s^2 * (1 + 1/n)``."""
    for i in range(indptr.shape[0] - 1):
        start = indptr[i]
        end = indptr[i + 1]
        n = end - start
        if n == 0:
            _fill_nan(mean, var, i, h)
            status[i] = STATUS_TOO_SHORT
            continue
        s = 0.0
        for t in range(start, end):
            s += values[t]
        mu = s / n
        ss = 0.0
        for t in range(start, end):
            d = values[t] - mu
            ss += d * d
        v = ss / (n - 1) * (1.0 + 1.0 / n) if n > 1 else np.nan
        for k in range(h):
            mean[i, k] = mu
            var[i, k] = v
        if want_fitted:
            for t in range(start, end):
                fitted[t] = mu
        status[i] = STATUS_OK


@numba.njit(**NUMBA_OPTS)
def window_average_block(values, indptr, season_length, window_size, h, mean, status):  # pragma: no cover
    """Mean of the last ``window_size`` cycles, per season position (``season_length=1``: plain
    window average).  Series shorter than ``season_length * window_size`` are too short."""
    m = season_length
    w = window_size
    need = m * w
    for i in range(indptr.shape[0] - 1):
        start = indptr[i]
        end = indptr[i + 1]
        n = end - start
        if n < need or n == 0:
            for k in range(h):
                mean[i, k] = np.nan
            status[i] = STATUS_TOO_SHORT
            continue
        first = end - need
        for j in range(m):
            s = 0.0
            for r in range(w):
                s += values[first + r * m + j]
            avg = s / w
            for k in range(j, h, m):
                mean[i, k] = avg
        status[i] = STATUS_OK
