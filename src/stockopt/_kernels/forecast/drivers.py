"""Demand-driver kernels (numba): the baseline a period's sales are compared with.

The baseline of period ``t`` is what the series sells without drivers around ``t``: the mean of an
exponentially weighted level run forwards up to ``t - 1`` and one run backwards down to ``t + 1``
(``t`` itself left out, so a promotion day does not lift its own baseline), times the series'
phase (weekday) profile.  Periods flagged in ``skip`` (stockouts, unusable values) feed no level.
"""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS


@numba.njit(**NUMBA_OPTS)
def baseline_block(values, indptr, skip, phase, n_phases, alpha, out):  # pragma: no cover - compiled
    """Write the two-sided baseline of every period into ``out`` (NaN for a series without a usable
    period).  The profile of phase ``w`` is its usable mean over the overall one, shrunk towards 1
    with two periods' weight; both levels start from the mean of their first ``2 / alpha`` usable
    deseasonalised periods."""
    n_series = indptr.shape[0] - 1
    longest = 0
    for i in range(n_series):
        if indptr[i + 1] - indptr[i] > longest:
            longest = indptr[i + 1] - indptr[i]
    fwd = np.empty(longest)
    prof = np.empty(n_phases)
    cnt = np.empty(n_phases)
    warm = max(int(round(2.0 / alpha)), 1)
    for i in range(n_series):
        a = indptr[i]
        b = indptr[i + 1]
        tot = 0.0
        m = 0
        for k in range(n_phases):
            prof[k] = 0.0
            cnt[k] = 0.0
        for t in range(a, b):
            if not skip[t]:
                tot += values[t]
                m += 1
                prof[phase[t]] += values[t]
                cnt[phase[t]] += 1.0
        if m == 0:
            for t in range(a, b):
                out[t] = np.nan
            continue
        mean_all = tot / m
        for k in range(n_phases):
            if mean_all > 0.0 and cnt[k] > 0.0:
                prof[k] = max((prof[k] + 2.0 * mean_all) / (cnt[k] + 2.0) / mean_all, 0.05)
            else:
                prof[k] = 1.0
        s0 = 0.0
        c0 = 0
        for t in range(a, b):
            if not skip[t]:
                s0 += values[t] / prof[phase[t]]
                c0 += 1
                if c0 == warm:
                    break
        lev = s0 / c0
        for t in range(a, b):
            fwd[t - a] = lev
            if not skip[t]:
                lev += alpha * (values[t] / prof[phase[t]] - lev)
        s0 = 0.0
        c0 = 0
        for t in range(b - 1, a - 1, -1):
            if not skip[t]:
                s0 += values[t] / prof[phase[t]]
                c0 += 1
                if c0 == warm:
                    break
        lev = s0 / c0
        for t in range(b - 1, a - 1, -1):
            out[t] = 0.5 * (fwd[t - a] + lev) * prof[phase[t]]
            if not skip[t]:
                lev += alpha * (values[t] / prof[phase[t]] - lev)


@numba.njit(**NUMBA_OPTS)
def poisson_loglik(y, offset, x, beta):  # pragma: no cover - compiled
    """Poisson log-likelihood (without the ``log y!`` constant) of ``y ~ exp(offset + x beta)``."""
    n, k = x.shape
    total = 0.0
    for i in range(n):
        eta = offset[i]
        for j in range(k):
            eta += x[i, j] * beta[j]
        eta = min(max(eta, -50.0), 50.0)
        total += y[i] * eta - np.exp(eta)
    return total


@numba.njit(**NUMBA_OPTS)
def poisson_newton_pieces(y, offset, x, beta, grad, hess):  # pragma: no cover - compiled
    """Write the gradient ``x'(y - mu)`` and the information ``x' diag(mu) x`` of the Poisson
    log-likelihood at ``beta`` (one pass over the rows, sums in row order: the same bits whatever
    the BLAS threads) and return the log-likelihood."""
    n, k = x.shape
    for a in range(k):
        grad[a] = 0.0
        for b in range(k):
            hess[a, b] = 0.0
    total = 0.0
    for i in range(n):
        eta = offset[i]
        for j in range(k):
            eta += x[i, j] * beta[j]
        eta = min(max(eta, -50.0), 50.0)
        mu = np.exp(eta)
        total += y[i] * eta - mu
        r = y[i] - mu
        for a in range(k):
            xa = x[i, a]
            if xa == 0.0:
                continue
            grad[a] += xa * r
            for b in range(a, k):
                hess[a, b] += xa * mu * x[i, b]
    for a in range(k):
        for b in range(a):
            hess[a, b] = hess[b, a]
    return total
