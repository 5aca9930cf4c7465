"""Intermittent-demand kernels (numba): Croston (classic, optimised, SBA), TSB, ADIDA, IMAPA.

Point forecasts follow statsforecast's definitions (same smoothing constants, same initialisation,
same golden-section search for ADIDA / IMAPA), so the numbers agree with it.

Each kernel also writes the moments of a per-period demand distribution consistent with its mean
forecast ``m``.  Demand in a period is modelled as a Bernoulli occurrence times a size
(compound Bernoulli; Croston 1972, Syntetos & Boylan 2005): ``D = B * Z`` with ``P(B = 1) = p`` and
``E[Z] = mu_z``, ``Var[Z] = s_z^2``.  Then ``E[D] = p mu_z`` and

    Var[D] = p * s_z^2 + p * (1 - p) * mu_z^2.

``p`` is the model's own occurrence estimate (``1 / smoothed interval`` for Croston, the smoothed
probability for TSB, ``1 / mean interval`` for ADIDA / IMAPA), ``mu_z = m / p`` so that the mean
is the forecast, and ``s_z^2`` the sample variance (ddof 1) of the non-zero demands (0 with fewer
than two).  ``var`` is the variance of the forecast error ``D - m``: ``Var[D]`` plus the sampling
variance of the smoothed estimate ``m``.  An exponentially weighted mean with constant ``a`` of
i.i.d. values has variance ``a / (2 - a)`` times theirs; the delta method carries this to
``m = z / q`` (Croston: ``m^2 (c_z s_z^2 / z^2 + c_q s_q^2 / q^2)``, ``s_q^2`` the sample variance of
the intervals), ``m = p z`` (TSB: ``m^2 (c_p (1 - p) / p + c_z s_z^2 / z^2)``) and ``m = S / k``
(ADIDA: ``c_a Var[D] / k``; IMAPA averages this over its levels), with ``c_x = a_x / (2 - a_x)``.
The API matches a negative binomial to (m, var) (Poisson when var <= m), as in Snyder, Ord &
Beaumont (2012, IJF 28(2)) and Kolassa (2016, IJF 32(3)).

References
----------
Croston, J. D. (1972). Forecasting and stock control for intermittent demands. ORQ 23(3).
Syntetos, A. A. & Boylan, J. E. (2005). The accuracy of intermittent demand estimates. IJF 21(2).
Teunter, R. H., Syntetos, A. A. & Babai, M. Z. (2011). Intermittent demand: linking forecasting to
inventory obsolescence. EJOR 214(3).
Nikolopoulos, K. et al. (2011). An aggregate-disaggregate intermittent demand approach (ADIDA).
JORS 62(3).
Petropoulos, F. & Kourentzes, N. (2015). Forecast combinations for intermittent demand. JORS 66(6).
"""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import STATUS_OK, STATUS_TOO_SHORT
from stockopt._kernels.forecast.lanes import _point
from stockopt._kernels.forecast.ses_many import golden_many, optimize_blocks, optimize_many
from stockopt._kernels.forecast.smoothing import ses_last

CROSTON_CLASSIC = 0
CROSTON_OPTIMIZED = 1
CROSTON_SBA = 2


@numba.njit(**NUMBA_OPTS)
def _longest(indptr):  # pragma: no cover - compiled
    """Length of the longest series of a block (the size of its per-series scratch)."""
    max_n = 0
    for i in range(indptr.shape[0] - 1):
        max_n = max(max_n, indptr[i + 1] - indptr[i])
    return max_n


@numba.njit(**NUMBA_OPTS)
def _split(x, sizes, gaps):  # pragma: no cover - compiled
    """Copy the non-zero demands and the intervals between them; return their count.

    Branch-free (every point is written at the current slot, which advances only at a demand), so
    irregular demand costs no mispredicted branches; ``sizes``/``gaps`` need ``len(x)`` slots.
    """
    nd = 0
    prev = 0
    for t in range(x.shape[0]):
        v = x[t]
        sizes[nd] = v
        gaps[nd] = t + 1 - prev
        nz = v != 0.0
        prev = t + 1 if nz else prev
        nd += 1 if nz else 0
    return nd


@numba.njit(**NUMBA_OPTS)
def _demand_stats(x):  # pragma: no cover - compiled
    """Number of demands (non-zero points), the position just past the last one, and the sample
    variance (ddof 1) of their sizes, 0 below two demands.

    What :func:`_split` and a variance of the sizes give, up to the order of the additions, but
    writing nothing: a count, a sum (zeros add nothing) and a sum of squared deviations masked to
    the demands, each in four chains.
    """
    n = x.shape[0]
    last = n
    while last > 0 and x[last - 1] == 0.0:
        last -= 1
    nd = 0
    for t in range(last):
        nd += 1 if x[t] != 0.0 else 0
    if nd < 2:
        return nd, last, 0.0
    s0 = s1 = s2 = s3 = 0.0
    t = 0
    while t + 3 < last:
        s0 += x[t]
        s1 += x[t + 1]
        s2 += x[t + 2]
        s3 += x[t + 3]
        t += 4
    while t < last:
        s0 += x[t]
        t += 1
    mu = ((s0 + s1) + (s2 + s3)) / nd
    s0 = s1 = s2 = s3 = 0.0
    t = 0
    while t + 3 < last:
        d0 = x[t] - mu if x[t] != 0.0 else 0.0
        d1 = x[t + 1] - mu if x[t + 1] != 0.0 else 0.0
        d2 = x[t + 2] - mu if x[t + 2] != 0.0 else 0.0
        d3 = x[t + 3] - mu if x[t + 3] != 0.0 else 0.0
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        t += 4
    while t < last:
        d0 = x[t] - mu if x[t] != 0.0 else 0.0
        s0 += d0 * d0
        t += 1
    return nd, last, ((s0 + s1) + (s2 + s3)) / (nd - 1)


@numba.njit(**NUMBA_OPTS)
def _size_var(sizes, nd):  # pragma: no cover - compiled
    """Sample variance (ddof 1) of ``sizes[:nd]`` (all non-zero), 0 below two values: the variance
    of :func:`_demand_stats`, whose additions are then in a fixed order that depends on nothing but
    the values.  It only enters the predictive variance, never a point forecast."""
    return _demand_stats(sizes[:nd])[2]


@numba.njit(**NUMBA_OPTS)
def compound_var(m, p, size_var):  # pragma: no cover - compiled
    """Variance of Bernoulli(p) x size with mean ``m`` and size variance ``size_var``."""
    if not (m > 0.0) or not (p > 0.0):
        return 0.0
    if p > 1.0:
        p = 1.0
    mu_z = m / p
    return p * size_var + p * (1.0 - p) * mu_z * mu_z


@numba.njit(**NUMBA_OPTS)
def _fill(mean, var, i, h, m, v):  # pragma: no cover - compiled
    for k in range(h):
        mean[i, k] = m
        var[i, k] = v


@numba.njit(**NUMBA_OPTS)
def _expand_levels(x, nd, alpha, levels_out):  # pragma: no cover - compiled
    """statsforecast's ``expand_fitted_demand``: the SES level of the sizes in force at each time."""
    c = 1.0 - alpha
    n = x.shape[0]
    levels_out[0] = np.nan
    j = 0
    lev = 0.0
    for t in range(1, n):
        v = x[t - 1]
        if v > 0.0:
            if j == 0:
                lev = v if nd == 1 else alpha * v + c * v
            else:
                lev = alpha * v + c * lev
            j += 1
            levels_out[t] = lev
        elif j > 0:
            levels_out[t] = levels_out[t - 1]
        else:
            levels_out[t] = v


@numba.njit(**NUMBA_OPTS)
def _croston_output(mean, var, i, h, ydp, yip, a_d, a_q, d, q, nd, factor):  # pragma: no cover
    """Write Croston's forecast ``factor * ydp / yip`` and its variance into row ``i``; return ``p``.

    The variance is the compound-Bernoulli demand variance plus the sampling error of the
    smoothed size and interval (delta method on ``m = z / q``, docs/models_fast.md).
    """
    m = ydp / yip if yip != 0.0 else ydp
    m *= factor
    p = 1.0 / yip if yip >= 1.0 else 1.0
    sv = _size_var(d, nd)
    est = 0.0
    if ydp > 0.0:
        est += a_d / (2.0 - a_d) * sv / (ydp * ydp)
    if yip > 0.0:
        est += a_q / (2.0 - a_q) * _size_var(q, nd) / (yip * yip)
    _fill(mean, var, i, h, m, compound_var(m, p, sv) + m * m * est)
    return p


@numba.njit(**NUMBA_OPTS)
def croston_block(
    values,
    indptr,
    variant,
    h,
    mean,
    var,
    fitted,
    want_fitted,
    p_out,
    alpha_out,
    status,
    data,
):  # pragma: no cover
    """Croston's method over a block (``variant``: 0 classic, 1 optimised, 2 SBA).

    Classic and SBA smooth sizes and intervals with alpha = 0.1; the optimised variant picks each
    alpha in [0.1, 0.3] by in-sample SSE.  SBA multiplies by 0.95 (= 1 - alpha / 2).  A series with
    no demand forecasts its last value (0).  ``alpha_out`` has two columns (sizes, intervals).
    ``data`` is scratch of ``2 * (indptr[-1] - indptr[0])`` values for the optimised variant (any
    size otherwise), allocated by the caller: NumPy backs large arrays with huge pages, and first
    touching a numba-allocated buffer of that size costs several times the whole search.
    """
    n_series = indptr.shape[0] - 1
    max_n = _longest(indptr)
    sizes = np.empty(max_n)
    gaps = np.empty(max_n)
    dlev = np.empty(max_n)
    opt = variant == CROSTON_OPTIMIZED
    # optimised variant: the sizes and intervals of every series (tasks 2i and 2i + 1) are searched
    # in lock-step by optimize_many, whose per-task results are those of ses_optimize
    n_opt = 2 * n_series if opt else 0
    t_start = np.zeros(n_opt, dtype=np.int64)
    t_len = np.zeros(n_opt, dtype=np.int64)
    o_alpha = np.empty(n_opt)
    o_sse = np.empty(n_opt)
    o_fc = np.empty(n_opt)
    if opt:
        pos = 0
        for i in range(n_series):
            n = indptr[i + 1] - indptr[i]
            # sizes into data[pos:pos + n], intervals into data[pos + n:pos + 2n]
            nd = _split(values[indptr[i] : indptr[i + 1]], data[pos : pos + n], data[pos + n : pos + 2 * n])
            t_start[2 * i] = pos
            t_len[2 * i] = nd
            t_start[2 * i + 1] = pos + n
            t_len[2 * i + 1] = nd
            pos += 2 * n
        optimize_many(data, t_start, t_len, 0.1, 0.3, o_alpha, o_sse, o_fc)
    for i in range(n_series):
        start = indptr[i]
        end = indptr[i + 1]
        n = end - start
        if n == 0:
            _fill(mean, var, i, h, np.nan, np.nan)
            p_out[i] = np.nan
            alpha_out[i, 0] = np.nan
            alpha_out[i, 1] = np.nan
            status[i] = STATUS_TOO_SHORT
            continue
        x = values[start:end]
        if opt:
            nd = t_len[2 * i]
            d = data[t_start[2 * i] : t_start[2 * i] + nd]
            q = data[t_start[2 * i + 1] : t_start[2 * i + 1] + nd]
        else:
            nd = _split(x, sizes, gaps)
            d = sizes[:nd]
            q = gaps[:nd]
        if nd == 0:
            _fill(mean, var, i, h, x[n - 1], 0.0)
            p_out[i] = 0.0
            alpha_out[i, 0] = np.nan
            alpha_out[i, 1] = np.nan
            if want_fitted:
                fitted[start] = np.nan
                for t in range(1, n):
                    fitted[start + t] = x[t - 1]
            status[i] = STATUS_OK
            continue
        if opt:
            a_d = o_alpha[2 * i]
            a_q = o_alpha[2 * i + 1]
            ydp = o_fc[2 * i]
            yip = o_fc[2 * i + 1]
        else:
            a_d = 0.1
            a_q = 0.1
            ydp = ses_last(d, a_d)
            yip = ses_last(q, a_q)
        alpha_out[i, 0] = a_d
        alpha_out[i, 1] = a_q
        p_out[i] = _croston_output(mean, var, i, h, ydp, yip, a_d, a_q, d, q, nd,
                                   0.95 if variant == CROSTON_SBA else 1.0)
        if want_fitted:
            # statsforecast's expand_fitted_demand / expand_fitted_intervals, divided
            _expand_levels(x, nd, a_d, dlev)
            c = 1.0 - a_q
            fitted[start] = np.nan
            j = 0
            lev = 0.0
            cur = 1.0
            for t in range(1, n):
                v = x[t - 1]
                if v != 0.0:
                    g = q[j]
                    if j == 0:
                        lev = g if nd == 1 else a_q * g + c * g
                    else:
                        lev = a_q * g + c * lev
                    j += 1
                    cur = lev if lev != 0.0 else 1.0
                f = dlev[t] / cur
                if variant == CROSTON_SBA:
                    f *= 0.95
                fitted[start + t] = f
        status[i] = STATUS_OK


@numba.njit(**NUMBA_OPTS)
def tsb_block(
    values,
    indptr,
    alpha_d,
    alpha_p,
    h,
    mean,
    var,
    fitted,
    want_fitted,
    p_out,
    status,
):  # pragma: no cover
    """Teunter-Syntetos-Babai: SES of the demand sizes (``alpha_d``, updated only at demands) times
    SES of the occurrence indicator (``alpha_p``, updated every period).  Per-series alphas."""
    n_series = indptr.shape[0] - 1
    max_n = _longest(indptr)
    sizes = np.empty(max_n)
    gaps = np.empty(max_n)
    dlev = np.empty(max_n)
    for i in range(n_series):
        start = indptr[i]
        end = indptr[i + 1]
        n = end - start
        if n == 0:
            _fill(mean, var, i, h, np.nan, np.nan)
            p_out[i] = np.nan
            status[i] = STATUS_TOO_SHORT
            continue
        x = values[start:end]
        nd = _split(x, sizes, gaps)
        if nd == 0:
            _fill(mean, var, i, h, 0.0, 0.0)
            p_out[i] = 0.0
            if want_fitted:
                fitted[start] = np.nan
                for t in range(1, n):
                    fitted[start + t] = 0.0
            status[i] = STATUS_OK
            continue
        ad = alpha_d[i]
        ap = alpha_p[i]
        cp = 1.0 - ap
        # occurrence probability: SES of (x != 0) with fixed alpha_p
        if n == 1:
            pf = 1.0
        else:
            pl = 1.0 if x[0] != 0.0 else 0.0
            for t in range(1, n):
                prev = 1.0 if x[t - 1] != 0.0 else 0.0
                pl = ap * prev + cp * pl
            pf = ap * (1.0 if x[n - 1] != 0.0 else 0.0) + cp * pl
        zf = ses_last(sizes[:nd], ad)
        m = pf * zf
        p_out[i] = pf
        sv = _size_var(sizes, nd)
        # sampling error of the smoothed probability and size (delta method on m = p * z)
        est = 0.0
        if pf > 0.0:
            est += ap / (2.0 - ap) * (1.0 - pf) / pf if pf < 1.0 else 0.0
        if zf > 0.0:
            est += ad / (2.0 - ad) * sv / (zf * zf)
        _fill(mean, var, i, h, m, compound_var(m, pf, sv) + m * m * est)
        if want_fitted:
            _expand_levels(x, nd, ad, dlev)
            fitted[start] = np.nan
            pl = 1.0 if x[0] != 0.0 else 0.0
            for t in range(1, n):
                prev = 1.0 if x[t - 1] != 0.0 else 0.0
                pl = ap * prev + cp * pl
                fitted[start + t] = pl * dlev[t]
        status[i] = STATUS_OK


@numba.njit(**NUMBA_OPTS)
def adida_plan(values, indptr, imapa, kmax_of, nd_of, mi_of, sv_of):  # pragma: no cover
    """Pass 1 of :func:`adida_block`: per series the number of demands, the mean interval, the size
    variance and the aggregation level; returns ``(n_tasks, total)``, the number of (series,
    level) block-sum series and their total length (the caller allocates that scratch)."""
    n_series = indptr.shape[0] - 1
    n_tasks = 0
    total = 0
    for i in range(n_series):
        kmax_of[i] = 0
        nd_of[i] = 0
        mi_of[i] = 0.0
        sv_of[i] = 0.0
        x = values[indptr[i] : indptr[i + 1]]
        n = x.shape[0]
        if n == 0:
            continue
        nd, last, sv = _demand_stats(x)
        nd_of[i] = nd
        if nd == 0:
            continue
        # the intervals between demands add up to the position of the last one
        mean_interval = last / nd
        mi_of[i] = mean_interval
        sv_of[i] = sv
        kmax = int(np.rint(mean_interval))
        if kmax < 1:
            kmax = 1
        kmax_of[i] = kmax
        k_lo = 1 if imapa else kmax
        for k in range(k_lo, kmax + 1):
            n_tasks += 1
            total += n // k
    return n_tasks, total


@numba.njit(**NUMBA_OPTS)
def adida_block(values, indptr, imapa, exact, h, kmax_of, nd_of, mi_of, sv_of, n_tasks, data,
                mean, var, p_out, level_out, status):  # pragma: no cover
    """ADIDA (``imapa=False``) or IMAPA (``imapa=True``) over a block.

    The aggregation level is the mean interval between demands rounded half to even (Python's
    ``round``).  ADIDA forecasts the per-period share of the SES forecast of the block sums at that
    level; IMAPA averages those shares over every level from 1 to it.  Each level's
    forecast is statsforecast's ``chunk_forecast``; the golden-section searches of all (series, level)
    pairs of the block run in lock-step through :func:`golden_many`, over block sums written out in
    ``data`` (scratch of :func:`adida_plan`'s ``total`` values, allocated by the caller, see
    :func:`croston_block`).  With ``exact=False`` the alphas come from :func:`optimize_blocks`
    instead (same minimiser up to rounding, fewer passes), which sums the blocks straight from
    ``values`` as it copies them into its lanes: ``data`` is then unused (may be empty).
    ``kmax_of, nd_of, mi_of, sv_of, n_tasks`` come from :func:`adida_plan`.
    """
    n_series = indptr.shape[0] - 1
    # pass 2: the tasks, each the block sums of one series at one level, aligned on the last period;
    # exact: written out into ``data``; else described by (start, level, length) in ``values``
    t_start = np.empty(n_tasks, dtype=np.int64)
    t_len = np.empty(n_tasks, dtype=np.int64)
    t_k = np.empty(n_tasks, dtype=np.int64)
    t_one = np.empty(n_tasks)
    pos = 0
    task = 0
    for i in range(n_series):
        kmax = kmax_of[i]
        if kmax == 0:
            continue
        n = indptr[i + 1] - indptr[i]
        k_lo = 1 if imapa else kmax
        for k in range(k_lo, kmax + 1):
            lost = n % k
            n_chunks = (n - lost) // k
            b = indptr[i] + lost
            if n_chunks == 1:  # one block carries its value forward
                t_one[task] = _point(values, b, k, 0)
            if exact:
                for c in range(n_chunks):
                    data[pos + c] = _point(values, b, k, c)
                t_start[task] = pos
                pos += n_chunks
            else:
                t_start[task] = b
            t_k[task] = k
            # one block carries its value forward: no search needed
            t_len[task] = n_chunks if n_chunks > 1 else 0
            task += 1
    # pass 3: every search of the block, side by side
    alphas = np.empty(n_tasks)
    fcs = np.empty(n_tasks)
    if exact:
        golden_many(data, t_start, t_len, 0.1, 0.3, alphas, fcs)
    else:
        sses = np.empty(n_tasks)
        optimize_blocks(values, t_start, t_len, t_k, 0.1, 0.3, alphas, sses, fcs)
    # pass 4: forecasts, combined per series in increasing level order
    task = 0
    for i in range(n_series):
        n = indptr[i + 1] - indptr[i]
        if n == 0:
            _fill(mean, var, i, h, np.nan, np.nan)
            p_out[i] = np.nan
            level_out[i] = 0
            status[i] = STATUS_TOO_SHORT
            continue
        if nd_of[i] == 0:
            _fill(mean, var, i, h, 0.0, 0.0)
            p_out[i] = 0.0
            level_out[i] = 0
            status[i] = STATUS_OK
            continue
        kmax = kmax_of[i]
        level_out[i] = kmax
        k_lo = 1 if imapa else kmax
        acc = 0.0
        est = 0.0
        for k in range(k_lo, kmax + 1):
            nl = t_len[task]
            if nl == 0:
                f = t_one[task]
                a = 1.0
            else:
                a = alphas[task]
                f = fcs[task]  # ses_last of the block sums at alpha, from the lock-step pass
            acc += f / k
            # a/(2-a)/k: variance of the smoothed per-period mean per unit of per-period variance
            est += a / (2.0 - a) / k
            task += 1
        m = acc / (kmax - k_lo + 1)
        est /= kmax - k_lo + 1
        p = 1.0 / mi_of[i]
        p_out[i] = p
        vd = compound_var(m, p, sv_of[i])
        _fill(mean, var, i, h, m, vd * (1.0 + est))
        status[i] = STATUS_OK


#: longest walk of :func:`count_quantiles` before it leaves an entry to the slow path
MAX_WALK = 4000


@numba.njit(**NUMBA_OPTS)
def count_quantiles(r, q, mean, probs, out, done):  # pragma: no cover - compiled
    """Quantiles of negative binomial (``r``, ``q``) or, where ``r`` is inf, Poisson(``mean``) laws.

    For entry ``j`` the probability masses are walked upwards from 0 with the recurrences
    ``P(k + 1) = P(k) (k + r) / (k + 1) (1 - q)`` (negative binomial; ``P(0) = q^r``) or
    ``P(k + 1) = P(k) mean / (k + 1)`` (Poisson; ``P(0) = exp(-mean)``), accumulating the CDF until
    it reaches each probability of ``probs`` (sorted ascending): ``out[j, i]`` is the smallest ``k``
    with ``CDF(k) >= probs[i]``.  Entries whose ``P(0)`` underflows or whose walk would exceed
    :data:`MAX_WALK` steps get ``done[j] = False`` and are left to the caller.
    """
    n = mean.shape[0]
    m = probs.shape[0]
    for j in range(n):
        done[j] = False
        mu = mean[j]
        if not (mu > 0.0):
            continue
        poisson = not (r[j] < np.inf)
        if poisson:
            logp0 = -mu
        else:
            logp0 = r[j] * np.log(q[j])
        if logp0 < -700.0:
            continue
        pk = np.exp(logp0)
        cdf = pk
        k = 0
        i = 0
        ok = True
        while i < m:
            if cdf >= probs[i]:
                out[j, i] = k
                i += 1
                continue
            if k >= MAX_WALK:
                ok = False
                break
            if poisson:
                pk = pk * mu / (k + 1)
            else:
                pk = pk * (k + r[j]) / (k + 1) * (1.0 - q[j])
            k += 1
            cdf += pk
        done[j] = ok


@numba.njit(**NUMBA_OPTS)
def croston_forward_block(values, indptr, alpha_d, alpha_q, h, mean, var, p_out, status):  # pragma: no cover
    """Croston's method with given per-series smoothing constants (forward entry point).

    ``alpha_d[i]`` smooths the non-zero sizes and ``alpha_q[i]`` the intervals of series ``i``, as
    :func:`croston_block` does with the constants it chose, so a ``CrostonOptimized`` fit can be run
    over a longer history without a new search.  Outputs as :func:`croston_block` (no SBA factor,
    no fitted values); a series without demand forecasts its last value with variance 0.
    """
    n_series = indptr.shape[0] - 1
    max_n = _longest(indptr)
    sizes = np.empty(max_n)
    gaps = np.empty(max_n)
    for i in range(n_series):
        start = indptr[i]
        n = indptr[i + 1] - start
        if n == 0:
            _fill(mean, var, i, h, np.nan, np.nan)
            p_out[i] = np.nan
            status[i] = STATUS_TOO_SHORT
            continue
        x = values[start : start + n]
        nd = _split(x, sizes, gaps)
        if nd == 0:
            _fill(mean, var, i, h, x[n - 1], 0.0)
            p_out[i] = 0.0
            status[i] = STATUS_OK
            continue
        a_d = alpha_d[i]
        a_q = alpha_q[i]
        ydp = ses_last(sizes[:nd], a_d)
        yip = ses_last(gaps[:nd], a_q)
        p_out[i] = _croston_output(mean, var, i, h, ydp, yip, a_d, a_q, sizes, gaps, nd, 1.0)
        status[i] = STATUS_OK
