"""Stockout-censored demand kernels (numba): demand estimates for the periods sales were capped.

The demand of a censored period is estimated by its conditional expectation given what was sold,
``E[D | D >= s]``, under a local model of the series fitted by EM (first on its uncensored periods,
then on the series completed with the current estimates): a level
(exponentially weighted mean of the deseasonalised uncensored sales, run forwards to the spell
and backwards from its end, and interpolated linearly across it) times a seasonal profile (the
ratio of each phase's uncensored mean to the overall one), with negative-binomial dispersion
estimated from the one-step errors of the forward level.  With a whole period lost (``s = 0``) the
expectation is the local mean; with some sales it is the mean of the negative binomial truncated
below at ``s`` (Conrad 1976 for the Poisson case; Nahmias 1994 for the lower-bound treatment).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS


@numba.njit(**NUMBA_OPTS)
def tail_mean(mu, size, s):  # pragma: no cover - compiled
    """``E[D | D >= s]`` for ``D`` negative binomial with mean ``mu`` and size ``size`` (inf: Poisson).

    Counts below ``ceil(s)`` are summed exactly while ``mu <= 200`` (and, when the tail is below
    1e-6, the tail itself, which avoids cancellation); above, the normal with the same mean and
    variance truncated at ``s`` is used.  The result is at least ``s``.
    """
    if s <= 0.0 or mu <= 0.0:
        return max(mu, s)
    var = mu + (mu * mu / size if size < np.inf else 0.0)
    if mu > 200.0:
        sd = math.sqrt(var)
        z = (s - mu) / sd
        tail = 0.5 * math.erfc(z / math.sqrt(2.0))
        if tail < 1e-300:
            return s
        dens = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        return max(s, mu + sd * dens / tail)
    k_max = int(math.ceil(s))
    if size < np.inf:
        q = mu / (size + mu)
        p = math.exp(size * math.log(size / (size + mu)))
    else:
        q = 0.0
        p = math.exp(-mu)
    below = 0.0
    part = 0.0
    for k in range(k_max):
        below += p
        part += k * p
        if size < np.inf:
            p = p * (k + size) / (k + 1.0) * q
        else:
            p = p * mu / (k + 1.0)
    tail = 1.0 - below
    if tail > 1e-6:
        return max(s, (mu - part) / tail)
    # far in the tail the subtraction cancels: sum the tail itself, relative to its first term
    w = 1.0
    sw = 0.0
    skw = 0.0
    k = k_max
    while k < k_max + 1_000_000:
        sw += w
        skw += k * w
        if size < np.inf:
            w = w * (k + size) / (k + 1.0) * q
        else:
            w = w * mu / (k + 1.0)
        k += 1
        if w < 1e-17 * sw and k > mu:
            break
    return max(s, skw / sw)


@numba.njit(**NUMBA_OPTS)
def impute_block(values, indptr, out, phase, n_phases, alpha, n_em, demand, n_used):  # pragma: no cover
    """Write into ``demand`` the sales where ``out`` is False and demand estimates where it is True.

    Per series: the phase profile and the forward/backward levels come from the uncensored periods;
    a censored period between uncensored ones gets the level interpolated linearly between the
    forward level at the spell's start and the backward level at its end; a spell at the start
    (end) of the series takes the backward (forward) level alone.  Then, in a series where some
    censored period sold something, ``n_em`` EM rounds
    re-estimate profile and levels on the completed series (censored periods holding their current
    estimates; the dispersion stays the one of the periods in stock, as plugging conditional means
    into squared errors would understate it and adding their conditional variances to a moment
    estimate was found to diverge) and recompute the estimates: when stockouts fall on high-demand
    periods (a shelf empties when demand exceeds the stock), the periods in stock alone understate
    demand, and the completed series does not.  ``n_used[i]`` receives the number of uncensored
    periods of series ``i`` (0: nothing to learn from, the sales are copied).
    """
    n_series = indptr.shape[0] - 1
    longest = 0
    for i in range(n_series):
        if indptr[i + 1] - indptr[i] > longest:
            longest = indptr[i + 1] - indptr[i]
    fwd = np.empty(longest)
    bwd = np.empty(longest)
    prof = np.empty(n_phases)
    cnt = np.empty(n_phases)
    for i in range(n_series):
        a = indptr[i]
        b = indptr[i + 1]
        m = 0
        partial = False
        for t in range(a, b):
            demand[t] = values[t]
            if not out[t]:
                m += 1
            elif values[t] > 0.0:
                partial = True
        n_used[i] = m
        if m == 0 or m == b - a:
            continue
        size = np.inf
        # EM rounds only matter when some censored period sold something (a lower bound above 0):
        # with whole periods lost, the estimates are the local means whatever the rounds
        for it in range(n_em + 1 if partial else 1):
            complete = it > 0  # after the first pass, censored periods count with their estimates
            tot = 0.0
            c_all = 0
            for k in range(n_phases):
                prof[k] = 0.0
                cnt[k] = 0.0
            for t in range(a, b):
                if complete or not out[t]:
                    tot += demand[t]
                    c_all += 1
                    prof[phase[t]] += demand[t]
                    cnt[phase[t]] += 1.0
            mean_all = tot / c_all
            for k in range(n_phases):  # phase profile, shrunk to 1 where a phase has few periods
                if mean_all > 0.0 and cnt[k] > 0.0:
                    prof[k] = (prof[k] + 2.0 * mean_all) / (cnt[k] + 2.0) / mean_all
                else:
                    prof[k] = 1.0
                prof[k] = max(prof[k], 0.05)
            # initial levels: the mean of the first (last) used deseasonalised periods
            warm = max(int(round(2.0 / alpha)), 1)
            s0 = 0.0
            c0 = 0
            for t in range(a, b):
                if complete or not out[t]:
                    s0 += demand[t] / prof[phase[t]]
                    c0 += 1
                    if c0 == warm:
                        break
            lev = s0 / c0
            sse = 0.0
            smu = 0.0
            for t in range(a, b):  # forward level known before period t
                fwd[t - a] = lev
                if complete or not out[t]:
                    f = lev * prof[phase[t]]
                    e = demand[t] - f
                    sse += e * e
                    smu += f
                    lev += alpha * (demand[t] / prof[phase[t]] - lev)
            s0 = 0.0
            c0 = 0
            for t in range(b - 1, a - 1, -1):
                if complete or not out[t]:
                    s0 += demand[t] / prof[phase[t]]
                    c0 += 1
                    if c0 == warm:
                        break
            lev = s0 / c0
            for t in range(b - 1, a - 1, -1):  # backward level known after period t
                bwd[t - a] = lev
                if complete or not out[t]:
                    lev += alpha * (demand[t] / prof[phase[t]] - lev)
            # dispersion from the forward one-step errors: var = mu + mu^2 / size
            mbar = smu / c_all
            v = sse / c_all
            if it == 0:  # dispersion from the periods in stock, kept through the EM rounds
                if mbar > 0.0 and v > mbar * 1.0001:
                    size = mbar * mbar / (v - mbar)
            t = a
            while t < b:
                if not out[t]:
                    t += 1
                    continue
                s = t
                while t < b and out[t]:
                    t += 1
                e = t  # spell is s .. e - 1
                before = s > a
                after = e < b
                for u in range(s, e):
                    if before and after:
                        w = (u - s + 1.0) / (e - s + 1.0)
                        lv = (1.0 - w) * fwd[s - a] + w * bwd[e - 1 - a]
                    elif before:
                        lv = fwd[s - a]
                    else:
                        lv = bwd[e - 1 - a]
                    mu = max(lv, 0.0) * prof[phase[u]]
                    demand[u] = tail_mean(mu, size, max(values[u], 0.0))


@numba.njit(**NUMBA_OPTS)
def phase_block(indptr, start, offset, n_phases, out):  # pragma: no cover - compiled
    """``out[t] = (start[i] + (t - indptr[i]) + offset) mod n_phases`` for every period of series ``i``
    (the weekday of daily data with ``offset = 3``: period 0 is Thursday 1970-01-01)."""
    for i in range(indptr.shape[0] - 1):
        p = (start[i] + offset) % n_phases
        for t in range(indptr[i], indptr[i + 1]):
            out[t] = p
            p += 1
            if p == n_phases:
                p = 0


@numba.njit(**NUMBA_OPTS)
def adjust_block(values, demand, indptr, out, adi_cut, new_values, new_indptr, trailing, imputed,
                 removed):  # pragma: no cover - compiled
    """Build the histories a model fits as demand (see :mod:`stockopt.signals.censored`).

    Per series: periods after its last uncensored one (a stockout still going on) are left out and
    counted in ``trailing``; other censored periods take ``demand`` (``imputed``), except, in a
    sparse series (ADI of its uncensored periods ``>= adi_cut``: intermittent or lumpy), those
    without sales, which are left out (``removed``).  A series without an uncensored period is
    copied as it is.  ``new_values`` must hold ``values.shape[0]`` entries; ``new_indptr``
    receives the offsets and the total is returned.
    """
    n_series = indptr.shape[0] - 1
    pos = 0
    new_indptr[0] = 0
    for i in range(n_series):
        a = indptr[i]
        b = indptr[i + 1]
        n_in = 0
        n_sold = 0
        for t in range(a, b):
            if not out[t]:
                n_in += 1
                if values[t] > 0.0:
                    n_sold += 1
        sparse = n_sold == 0 or n_in >= adi_cut * n_sold
        last = -1
        for t in range(b - 1, a - 1, -1):
            if not out[t]:
                last = t
                break
        trailing[i] = 0
        imputed[i] = 0
        removed[i] = 0
        if last < 0:  # never in stock: nothing to learn from
            for t in range(a, b):
                new_values[pos] = values[t]
                pos += 1
            new_indptr[i + 1] = pos
            continue
        trailing[i] = b - 1 - last
        for t in range(a, last + 1):
            if not out[t]:
                new_values[pos] = values[t]
                pos += 1
            elif sparse and values[t] <= 0.0:
                removed[i] += 1
            else:
                new_values[pos] = demand[t]
                pos += 1
                imputed[i] += 1
        new_indptr[i + 1] = pos
    return pos
