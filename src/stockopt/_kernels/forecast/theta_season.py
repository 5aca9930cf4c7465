"""Seasonality test and classical decomposition of the Theta family (statsforecast 2.1.1's rules).

A series is deseasonalised only when the lag-``m`` autocorrelation passes a 90 % test with Bartlett's
standard error (as R's ``forecast::thetaf``, Hyndman & Khandakar 2008); the seasonal indices are
those of a classical decomposition with a centred moving-average trend (Hyndman & Athanasopoulos
2021, *FPP3*, section 3.4).  Multiplicative decomposition falls back to additive when the data are
not all positive or an index is below 0.01.  Arrays only, as every kernel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from stockopt._config import NUMBA_OPTS

__all__ = ["DECOMP_NONE", "DECOMP_MULTIPLICATIVE", "DECOMP_ADDITIVE", "deseasonalise",
           "seasonal_decompose_kernel"]

# decomposition codes
DECOMP_NONE = 0
DECOMP_MULTIPLICATIVE = 1
DECOMP_ADDITIVE = 2
_Z95 = 1.6448536269514722  # standard normal 0.95 quantile (the 90% two-sided seasonality test)


# --------------------------------------------------------------------------------------------
# seasonality test and classical decomposition
# --------------------------------------------------------------------------------------------
@njit(**NUMBA_OPTS)
def _seasonality_test(y: np.ndarray, m: int) -> bool:
    """90% test of the lag-``m`` autocorrelation (Bartlett standard error), as forecast::thetaf."""
    n = y.shape[0]
    if m < 4 or n < 2 * m:
        return False
    mean = 0.0
    for t in range(n):
        mean += y[t]
    mean /= n
    acov0 = 0.0
    for t in range(n):
        d = y[t] - mean
        acov0 += d * d
    if not acov0 > 0.0:
        return False
    ssq = 0.0
    rm = 0.0
    for k in range(1, m + 1):
        acc = 0.0
        for t in range(n - k):
            acc += (y[t] - mean) * (y[t + k] - mean)
        r = acc / acov0
        if k < m:
            ssq += r * r
        else:
            rm = r
    stat = math.sqrt((1.0 + 2.0 * ssq) / n)
    return abs(rm) / stat > _Z95


@njit(**NUMBA_OPTS)
def _seasonal_averages(y: np.ndarray, m: int, multiplicative: bool, avgs: np.ndarray) -> None:
    """Normalised seasonal indices of a classical decomposition (centred MA trend), into avgs[:m].

    Position ``k`` of ``avgs`` is the index of the times ``t`` with ``t % m == k``.  Needs ``n >= 2m``.
    """
    n = y.shape[0]
    half = m // 2
    even = m % 2 == 0
    for k in range(m):
        avgs[k] = 0.0
    for t in range(half, n - half):
        if even:
            tr = 0.5 * y[t - half] + 0.5 * y[t + half]
            for j in range(t - half + 1, t + half):
                tr += y[j]
        else:
            tr = 0.0
            for j in range(t - half, t + half + 1):
                tr += y[j]
        tr /= m
        if multiplicative:
            avgs[t % m] += y[t] / tr
        else:
            avgs[t % m] += y[t] - tr
    # count of detrended values per position
    total = 0.0
    for k in range(m):
        first = half + ((k - half) % m)  # first t >= half with t % m == k
        cnt = 0
        if first < n - half:
            cnt = (n - half - 1 - first) // m + 1
        avgs[k] /= cnt
        total += avgs[k]
    mean = total / m
    for k in range(m):
        if multiplicative:
            avgs[k] /= mean
        else:
            avgs[k] -= mean


@njit(**NUMBA_OPTS)
def deseasonalise(y: np.ndarray, n: int, m: int, decomposition: int, avgs: np.ndarray, yd: np.ndarray) -> int:
    """Seasonality test and classical decomposition of ``y[:n]`` (:func:`_decompose_one`); writes the
    seasonally adjusted series into ``yd[:n]`` and returns the decomposition kind used."""
    kind = _decompose_one(y, m, decomposition, avgs)
    for t in range(n):
        if kind == DECOMP_MULTIPLICATIVE:
            yd[t] = y[t] / avgs[t % m]
        elif kind == DECOMP_ADDITIVE:
            yd[t] = y[t] - avgs[t % m]
        else:
            yd[t] = y[t]
    return kind


@njit(**NUMBA_OPTS)
def _decompose_one(y: np.ndarray, m: int, decomposition: int, avgs: np.ndarray) -> int:
    """Decide whether and how to deseasonalise ``y`` (statsforecast's rules); fill avgs[:m].

    Returns the decomposition applied: multiplicative falls back to additive when the data are
    not all positive or an index is below 0.01.
    """
    if decomposition == DECOMP_NONE or not _seasonality_test(y, m):
        return DECOMP_NONE
    mult = decomposition == DECOMP_MULTIPLICATIVE
    if mult:
        for t in range(y.shape[0]):
            if not y[t] > 0.0:
                mult = False
                break
    _seasonal_averages(y, m, mult, avgs)
    if mult:
        for k in range(m):
            if avgs[k] < 0.01:
                mult = False
                break
        if not mult:
            _seasonal_averages(y, m, False, avgs)
    return DECOMP_MULTIPLICATIVE if mult else DECOMP_ADDITIVE


@njit(**NUMBA_OPTS)
def seasonal_decompose_kernel(values: np.ndarray, indptr: np.ndarray, season_length: int,
        decomposition: int, out_seasonal: np.ndarray, out_type: np.ndarray) -> None:
    """Seasonality test and classical decomposition of every series.

    Writes the seasonal component aligned with ``values`` into ``out_seasonal`` (1.0 or 0.0 where
    the series is left as is) and the decomposition applied per series into ``out_type``
    (``DECOMP_*``).  ``decomposition`` is the type asked for (``DECOMP_NONE`` disables it).
    """
    n_series = indptr.shape[0] - 1
    avgs = np.empty(max(season_length, 1))
    for s in range(n_series):
        lo = indptr[s]
        hi = indptr[s + 1]
        kind = _decompose_one(values[lo:hi], season_length, decomposition, avgs)
        out_type[s] = kind
        for t in range(hi - lo):
            if kind == DECOMP_NONE:
                out_seasonal[lo + t] = 0.0 if decomposition == DECOMP_ADDITIVE else 1.0
            else:
                out_seasonal[lo + t] = avgs[t % season_length]
