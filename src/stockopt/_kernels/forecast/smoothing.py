"""Simple exponential smoothing for one series (numba): the building blocks of every SES-based model.

Per-series functions taking one contiguous 1-D array; the many-series searches and the block kernel
are in :mod:`stockopt._kernels.forecast.ses_many`, over the lock-step lanes of
:mod:`stockopt._kernels.forecast.lanes`.  The recursions follow statsforecast's definitions so the
two libraries give the same numbers:

* the level starts at the first observation, ``f_1 = x_0`` is *not* counted as a forecast,
  ``f_i = alpha * x_{i-1} + (1 - alpha) * f_{i-1}`` and the forecast is the level after the last point;
* the in-sample SSE is ``sum_{i>=1} (x_i - f_i)^2``;
* :func:`ses_golden` is the golden-section search statsforecast runs (tolerance 1e-12 on the bracket,
  stop on an exact tie) and is replicated operation by operation, so ADIDA / IMAPA forecasts agree to
  the last bits;
* ``ses_many.golden_many`` runs that search for many series in lock-step, with results
  bit-identical to :func:`ses_golden`; ``ses_many.optimize_many`` is our own faster search for the
  same minimiser.

References
----------
Brown, R. G. (1959). *Statistical Forecasting for Inventory Control*. McGraw-Hill.
Hyndman, R. J., Koehler, A. B., Ord, J. K. & Snyder, R. D. (2008). *Forecasting with Exponential
Smoothing: The State Space Approach*. Springer (ETS(A,N,N) and its forecast variance).
"""

from __future__ import annotations

import math

import numba

from stockopt._config import NUMBA_OPTS

_GR = (math.sqrt(5.0) + 1.0) / 2.0
#: the grid of :func:`optimize_blocks`: geometric steps of at most this ratio, with at least
#: ``_GRID_MIN`` and at most ``_GRID_N`` points (8 on SESOpt's [0.01, 0.99], 6 on Croston's [0.1, 0.3])
_GRID_STEP = 1.25
_GRID_MIN = 4
_GRID_N = 8
#: below this many points :func:`optimize_many` runs the golden section instead
SMALL_N = 16
#: Newton stops once its next step would lower the SSE by less than this fraction
_REL_GAIN = 1e-14


@numba.njit(**NUMBA_OPTS)
def ses_last(x, alpha):  # pragma: no cover - compiled
    """One-step forecast of SES with fixed ``alpha`` (statsforecast's ``ses_forecast``)."""
    n = x.shape[0]
    if n == 1:
        return x[0]
    c = 1.0 - alpha
    f = x[0]
    for i in range(1, n):
        f = alpha * x[i - 1] + c * f
    return alpha * x[n - 1] + c * f


@numba.njit(**NUMBA_OPTS)
def ses_sse(x, alpha):  # pragma: no cover - compiled
    """In-sample sum of squared one-step errors of SES (0 for fewer than 2 points)."""
    n = x.shape[0]
    if n < 2:
        return 0.0
    c = 1.0 - alpha
    f = x[0]
    sse = 0.0
    for i in range(1, n):
        f = alpha * x[i - 1] + c * f
        e = x[i] - f
        sse += e * e
    return sse


@numba.njit(**NUMBA_OPTS)
def ses_golden(x, lower, upper):  # pragma: no cover - compiled
    """Golden-section search of the SSE-minimising alpha on ``[lower, upper]`` (statsforecast's)."""
    a = lower
    b = upper
    c = b - (b - a) / _GR
    d = a + (b - a) / _GR
    fc = ses_sse(x, c)
    fd = ses_sse(x, d)
    while abs(b - a) >= 1e-12:
        if fc < fd:
            b = d
            d = c
            fd = fc
            c = b - (b - a) / _GR
            fc = ses_sse(x, c)
        elif fd < fc:
            a = c
            c = d
            fc = fd
            d = a + (b - a) / _GR
            fd = ses_sse(x, d)
        else:
            break
    return (b + a) / 2.0


@numba.njit(**NUMBA_OPTS)
def _grid_size(lower, upper):  # pragma: no cover - compiled
    """Points of the grid on ``[lower, upper]``: the fewest (at least ``_GRID_MIN``) whose
    geometric steps are at most ``_GRID_STEP``, at most ``_GRID_N`` (always so when ``lower`` is 0)."""
    if not lower > 0.0:
        return _GRID_N
    n = _GRID_MIN
    while n < _GRID_N and (upper / lower) ** (1.0 / (n - 1)) > _GRID_STEP:
        n += 1
    return n


@numba.njit(**NUMBA_OPTS)
def _grid(lower, upper, out):  # pragma: no cover - compiled
    """``len(out)`` alphas spaced geometrically from ``lower`` to ``upper`` (the SSE changes fastest
    at small alpha), or evenly when ``lower`` is 0."""
    n = out.shape[0]
    for k in range(n):
        t = k / (n - 1)
        if lower > 0.0:
            out[k] = lower * (upper / lower) ** t
        else:
            out[k] = lower + t * (upper - lower)
    out[0] = lower
    out[n - 1] = upper


@numba.njit(**NUMBA_OPTS)
def _flat_sse_level(x, alpha):  # pragma: no cover - compiled
    """:func:`_sse_level` of a flat series, stopping once the level is exactly the value: from there
    on every step repeats the same exact zero error, so the result is bit-identical."""
    n = x.shape[0]
    v = x[0]
    c = 1.0 - alpha
    f = v
    sse = 0.0
    for i in range(1, n):
        fn = alpha * v + c * f
        e = v - fn
        sse += e * e
        if fn == f and e == 0.0:
            break
        f = fn
    return sse, f
