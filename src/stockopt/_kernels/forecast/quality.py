"""Data-quality kernels (numba): per-series quantiles for robust outlier scores.

The outlier check of :func:`stockopt.signals.check_data` needs each series' median and an upper
quantile of its (transformed) quantities; sorting every series once in compiled code keeps that
linear in the number of series and O(n log n) within each.
"""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS


@numba.njit(**NUMBA_OPTS)
def series_quantiles(values, indptr, probs, out):  # pragma: no cover - compiled
    """Write the ``probs`` quantiles of each series into ``out[i, :]`` (NaN for an empty series).

    Quantiles interpolate linearly between order statistics (NumPy's default ``"linear"`` method:
    position ``p (n - 1)`` in the sorted values).
    """
    n_series = indptr.shape[0] - 1
    k = probs.shape[0]
    longest = 0
    for i in range(n_series):
        if indptr[i + 1] - indptr[i] > longest:
            longest = indptr[i + 1] - indptr[i]
    buf = np.empty(max(longest, 1))
    for i in range(n_series):
        a = indptr[i]
        n = indptr[i + 1] - a
        if n == 0:
            for j in range(k):
                out[i, j] = np.nan
            continue
        for t in range(n):
            buf[t] = values[a + t]
        srt = np.sort(buf[:n])
        for j in range(k):
            pos = probs[j] * (n - 1)
            lo = int(np.floor(pos))
            hi = min(lo + 1, n - 1)
            frac = pos - lo
            out[i, j] = srt[lo] + frac * (srt[hi] - srt[lo])


@numba.njit(**NUMBA_OPTS)
def _grow(buf, size):  # pragma: no cover - compiled
    out = np.empty(max(2 * buf.shape[0], size), dtype=buf.dtype)
    out[: buf.shape[0]] = buf
    return out


@numba.njit(**NUMBA_OPTS)
def zero_runs_block(values, indptr, phase, n_phases, known_out, not_regular, log_alpha, window, kappa,
                    n_iter):  # pragma: no cover - compiled
    """Flag, in every series, the runs of zero sales improbable under the series' own zero-sale rates.

    Per series: periods before the first sale and those in ``known_out`` (recorded stockouts, or
    unusable) are not *usable*; a run is a maximal stretch of usable zero periods.  Periods in
    ``not_regular`` (promotions) may be part of a run but give no rate (their demand differs).
    ``known_out`` and ``not_regular`` may be empty arrays (none).  Each phase
    ``w`` (weekday) has the series' rate ``g_w = (Z_w + 1/2) / (N_w + 1)`` over its usable periods
    outside flagged runs (Jeffreys), and each run a local rate ``(z_w + kappa g_w) / (n_w + kappa)``
    from the usable periods outside flagged runs within ``window`` periods on either side of it.
    A run's log-probability is the larger (the less surprising) of the sums of its periods' log
    local rates and log series rates, the series rate here counting the run's own zeros (the rate
    under the hypothesis that the run is ordinary), so that neither a local lull in a declining
    series nor a noisy local rate of a sparse one makes a run look improbable; it is flagged when below
    ``log_alpha - log(m)`` (``m`` usable periods of the series).  Flagging and re-estimating the
    rates without the flagged runs repeat up to ``n_iter`` times, until nothing changes.

    Returns ``(series, start, length, logp, expected)`` of the flagged runs, ``start`` within the
    series; ``expected`` sums the local mean sales of the run's phases (the series' mean of the
    phase where the window has no usable period).
    """
    n_series = indptr.shape[0] - 1
    longest = 0
    for i in range(n_series):
        if indptr[i + 1] - indptr[i] > longest:
            longest = indptr[i + 1] - indptr[i]
    cn = np.zeros((longest + 1, n_phases))
    cz = np.zeros((longest + 1, n_phases))
    cs = np.zeros((longest + 1, n_phases))
    active = np.zeros(longest, dtype=np.bool_)
    in_run = np.zeros(longest, dtype=np.bool_)
    ra = np.empty(longest, dtype=np.int64)
    rb = np.empty(longest, dtype=np.int64)
    flag = np.zeros(longest, dtype=np.bool_)
    lp_run = np.zeros(longest)
    ex_run = np.zeros(longest)
    g_p = np.zeros(n_phases)
    g_m = np.zeros(n_phases)
    loc_p = np.zeros(n_phases)
    loc_m = np.zeros(n_phases)
    own = np.zeros(n_phases)
    g_r = np.zeros(n_phases)
    cap = 1024
    o_series = np.empty(cap, dtype=np.int64)
    o_start = np.empty(cap, dtype=np.int64)
    o_len = np.empty(cap, dtype=np.int64)
    o_lp = np.empty(cap)
    o_ex = np.empty(cap)
    n_out = 0
    has_known = known_out.shape[0] == values.shape[0]
    has_irregular = not_regular.shape[0] == values.shape[0]
    for i in range(n_series):
        lo = indptr[i]
        L = indptr[i + 1] - lo
        first = L
        for t in range(L):
            if values[lo + t] > 0.0 and not (has_known and known_out[lo + t]):
                first = t
                break
        m = 0
        n_runs = 0
        prev_zero = False
        for t in range(L):
            a = t >= first and not (has_known and known_out[lo + t])
            active[t] = a
            in_run[t] = False
            if a:
                m += 1
            z = a and values[lo + t] == 0.0
            if z and not prev_zero:
                ra[n_runs] = t
                n_runs += 1
            if z:
                rb[n_runs - 1] = t
            prev_zero = z
        if n_runs == 0:
            continue
        threshold = log_alpha - np.log(max(m, 1))
        for r in range(n_runs):
            flag[r] = False
        for it in range(max(n_iter, 1)):
            for k in range(n_phases):
                cn[0, k] = 0.0
                cz[0, k] = 0.0
                cs[0, k] = 0.0
            for t in range(L):
                for k in range(n_phases):
                    cn[t + 1, k] = cn[t, k]
                    cz[t + 1, k] = cz[t, k]
                    cs[t + 1, k] = cs[t, k]
                if active[t] and not in_run[t] and not (has_irregular and not_regular[lo + t]):
                    k = phase[lo + t]
                    cn[t + 1, k] += 1.0
                    cs[t + 1, k] += values[lo + t]
                    if values[lo + t] == 0.0:
                        cz[t + 1, k] += 1.0
            for k in range(n_phases):
                g_p[k] = (cz[L, k] + 0.5) / (cn[L, k] + 1.0)
                g_m[k] = cs[L, k] / cn[L, k] if cn[L, k] > 0 else 0.0
            changed = False
            for r in range(n_runs):
                a = ra[r]
                b = rb[r] + 1
                w0 = max(0, a - window)
                w1 = min(L, b + window)
                for k in range(n_phases):
                    n_w = cn[a, k] - cn[w0, k] + cn[w1, k] - cn[b, k]
                    z_w = cz[a, k] - cz[w0, k] + cz[w1, k] - cz[b, k]
                    s_w = cs[a, k] - cs[w0, k] + cs[w1, k] - cs[b, k]
                    loc_p[k] = np.log((z_w + kappa * g_p[k]) / (n_w + kappa))
                    loc_m[k] = s_w / n_w if n_w > 0 else g_m[k]
                for k in range(n_phases):
                    own[k] = 0.0
                if flag[r]:  # the series rate of the test counts the run's own zeros (excluded when flagged)
                    for t in range(a, b):
                        own[phase[lo + t]] += 1.0
                for k in range(n_phases):
                    g_r[k] = np.log((cz[L, k] + own[k] + 0.5) / (cn[L, k] + own[k] + 1.0))
                lp = 0.0
                lg = 0.0
                ex = 0.0
                for t in range(a, b):
                    lp += loc_p[phase[lo + t]]
                    lg += g_r[phase[lo + t]]
                    ex += loc_m[phase[lo + t]]
                lp = max(lp, lg)
                lp_run[r] = lp
                ex_run[r] = ex
                new = lp < threshold
                if new != flag[r]:
                    changed = True
                    flag[r] = new
            if not changed:
                break
            for r in range(n_runs):
                for t in range(ra[r], rb[r] + 1):
                    in_run[t] = flag[r]
        for r in range(n_runs):
            if flag[r]:
                if n_out == o_series.shape[0]:
                    o_series = _grow(o_series, n_out + 1)
                    o_start = _grow(o_start, n_out + 1)
                    o_len = _grow(o_len, n_out + 1)
                    o_lp = _grow(o_lp, n_out + 1)
                    o_ex = _grow(o_ex, n_out + 1)
                o_series[n_out] = i
                o_start[n_out] = ra[r]
                o_len[n_out] = rb[r] - ra[r] + 1
                o_lp[n_out] = lp_run[r]
                o_ex[n_out] = ex_run[r]
                n_out += 1
    return o_series[:n_out].copy(), o_start[:n_out].copy(), o_len[:n_out].copy(), o_lp[:n_out].copy(), \
        o_ex[:n_out].copy()
