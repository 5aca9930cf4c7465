"""Slow, obviously-correct twins of the fast-model kernels (one series at a time, plain Python).

Each function takes one series ``y`` (1-D float array) and returns plain NumPy results; the tests
compare them with the compiled block kernels over edge lengths.  Nothing here imports stockopt.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

NAN = float("nan")


# ---------------------------------------------------------------- baselines
def naive(y, h):
    n = len(y)
    if n == 0:
        return np.full(h, NAN), np.full(h, NAN), np.array([])
    diffs = [y[t] - y[t - 1] for t in range(1, n)]
    sigma2 = sum(d * d for d in diffs) / (n - 1) if n > 1 else NAN
    fitted = [NAN] + [y[t - 1] for t in range(1, n)]
    return np.full(h, y[-1]), np.array([sigma2 * k for k in range(1, h + 1)]), np.array(fitted)


def seasonal_naive(y, m, h):
    n = len(y)
    if n < m or n == 0:
        return np.full(h, NAN), np.full(h, NAN), np.full(n, NAN)
    last_cycle = list(y[n - m :])
    mean = [last_cycle[k % m] for k in range(h)]
    diffs = [y[t] - y[t - m] for t in range(m, n)]
    sigma2 = sum(d * d for d in diffs) / (n - m) if n > m else NAN
    var = [sigma2 * (math.floor(k / m) + 1) for k in range(h)]  # k = steps - 1
    fitted = [NAN] * m + [y[t - m] for t in range(m, n)]
    return np.array(mean), np.array(var), np.array(fitted)


def historic_average(y, h):
    n = len(y)
    if n == 0:
        return np.full(h, NAN), np.full(h, NAN), np.array([])
    mu = sum(y) / n
    s2 = sum((v - mu) ** 2 for v in y) / (n - 1) if n > 1 else NAN
    return np.full(h, mu), np.full(h, s2 * (1 + 1 / n)), np.full(n, mu)


def window_average(y, m, w, h):
    n = len(y)
    if n < m * w or n == 0:
        return np.full(h, NAN)
    tail = list(y[n - m * w :])
    per_pos = [sum(tail[r * m + j] for r in range(w)) / w for j in range(m)]
    return np.array([per_pos[k % m] for k in range(h)])


# ---------------------------------------------------------------- simple exponential smoothing
def ses_levels(x, alpha):
    """Levels after each observation: lev[0] = x[0] (initial), lev[t] = a x[t-1] + (1-a) lev[t-1]."""
    lev = [x[0]]
    for t in range(1, len(x)):
        lev.append(alpha * x[t - 1] + (1 - alpha) * lev[-1])
    return lev


def ses_forecast(x, alpha):
    if len(x) == 1:
        return x[0]
    lev = ses_levels(x, alpha)
    return alpha * x[-1] + (1 - alpha) * lev[-1]


def ses_sse(x, alpha):
    if len(x) < 2:
        return 0.0
    lev = ses_levels(x, alpha)
    return sum((x[t] - lev[t]) ** 2 for t in range(1, len(x)))


def ses(y, alpha, h):
    n = len(y)
    if n == 0:
        return np.full(h, NAN), np.full(h, NAN), np.array([])
    fc = ses_forecast(y, alpha)
    fitted = [NAN] + (ses_levels(y, alpha)[1:] if n > 1 else [])
    sigma2 = ses_sse(y, alpha) / (n - 1) if n > 1 else NAN
    var = [sigma2 * (1 + (k - 1) * alpha**2) for k in range(1, h + 1)]
    return np.full(h, fc), np.array(var), np.array(fitted)


def golden(x, lower, upper):
    """Golden-section search with statsforecast's rules (tolerance 1e-12, stop on a tie)."""
    gr = (math.sqrt(5.0) + 1.0) / 2.0
    a, b = lower, upper
    c = b - (b - a) / gr
    d = a + (b - a) / gr
    fc, fd = ses_sse(x, c), ses_sse(x, d)
    while abs(b - a) >= 1e-12:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - (b - a) / gr
            fc = ses_sse(x, c)
        elif fd < fc:
            a, c, fc = c, d, fd
            d = a + (b - a) / gr
            fd = ses_sse(x, d)
        else:
            break
    return (b + a) / 2.0


def ses_opt_sse(x, lower, upper, grid=200):
    """Best SSE over a dense grid of alphas, refined by a bounded scalar search around the best one."""
    alphas = np.linspace(lower, upper, grid)
    sses = [ses_sse(x, a) for a in alphas]
    k = int(np.argmin(sses))
    lo = alphas[max(k - 1, 0)]
    hi = alphas[min(k + 1, grid - 1)]
    best = sses[k]
    if hi > lo:
        res = minimize_scalar(
            lambda a: ses_sse(x, a), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12},
        )
        best = min(best, float(res.fun))
    return best


def ses_d012(x, alpha):
    """SSE and its first and second derivatives in alpha, by differentiating the recursion:
    g_t = df_t/dalpha = x_{t-1} - f_{t-1} + (1 - alpha) g_{t-1},
    q_t = d2f_t/dalpha2 = -2 g_{t-1} + (1 - alpha) q_{t-1};
    SSE' = -2 sum e g, SSE'' = 2 sum (g^2 - e q)."""
    c = 1.0 - alpha
    f, g, q = x[0], 0.0, 0.0
    s0 = s1 = s2 = 0.0
    for t in range(1, len(x)):
        q = -2.0 * g + c * q
        g = (x[t - 1] - f) + c * g
        f = alpha * x[t - 1] + c * f
        e = x[t] - f
        s0 += e * e
        s1 += e * g
        s2 += g * g - e * q
    return s0, -2.0 * s1, 2.0 * s2


def grid_size(lower, upper, step=1.25, n_min=4, n_max=8):
    """Points of the alpha grid: the fewest (at least n_min, at most n_max) whose geometric steps are
    at most ``step``; n_max when lower is 0."""
    if not lower > 0:
        return n_max
    n = n_min
    while n < n_max and (upper / lower) ** (1.0 / (n - 1)) > step:
        n += 1
    return n


def ses_optimize(x, lower, upper, small_n=16, grid_n=None, rel_gain=1e-14):
    """The documented alpha search of SESOpt, step by step in plain Python (same floating-point
    operations, so the compiled lock-step version must give the same bits):

    * fewer than ``small_n`` points: the golden section; a flat series: ``lower``;
    * else SSE on ``grid_n`` geometrically spaced alphas (``grid_size``: 8 on [0.01, 0.99], 6 on
      [0.1, 0.3]), start at the vertex of the parabola through
      the best one and its neighbours, then Newton on SSE' inside a shrinking bracket (bisection when
      the step leaves it or SSE'' <= 0), stopping when the next step would gain less than
      ``rel_gain`` of the SSE or move alpha by less than 1e-10; the best point evaluated wins, and a
      minimum pushed against a bound is compared with the bound itself.

    Returns (alpha, sse)."""
    x = [float(v) for v in x]
    n = len(x)
    grid_n = grid_size(lower, upper) if grid_n is None else grid_n
    if n < small_n:
        a = golden(x, lower, upper)
        return a, ses_sse(x, a)
    if all(v == x[0] for v in x):
        return lower, ses_sse(x, lower)
    ts = [k / (grid_n - 1) for k in range(grid_n)]
    alphas = [lower * (upper / lower) ** t if lower > 0 else lower + t * (upper - lower) for t in ts]
    alphas[0], alphas[-1] = lower, upper
    sse = [ses_sse(x, a) for a in alphas]
    kb = min(range(grid_n), key=lambda k: (sse[k], k))
    best_a, best_s = alphas[kb], sse[kb]
    a = alphas[kb - 1] if kb > 0 else lower
    b = alphas[kb + 1] if kb < grid_n - 1 else upper
    xk = best_a
    if 0 < kb < grid_n - 1:
        d0, d2 = best_a - alphas[kb - 1], best_a - alphas[kb + 1]
        num = d0 * d0 * (best_s - sse[kb + 1]) - d2 * d2 * (best_s - sse[kb - 1])
        den = d0 * (best_s - sse[kb + 1]) - d2 * (best_s - sse[kb - 1])
        if den != 0.0:
            xk = best_a - 0.5 * num / den
            if not (a < xk < b):
                xk = best_a
    for _ in range(60):
        s0, s1, s2 = ses_d012(x, xk)
        if s0 < best_s:
            best_s, best_a = s0, xk
        if s1 > 0.0:
            b = xk
        elif s1 < 0.0:
            a = xk
        else:
            break
        newton = s2 > 0.0
        if newton:
            nxt = xk - s1 / s2
            newton = a < nxt < b
            if newton and 0.5 * s1 * s1 / s2 <= rel_gain * s0:
                break
        if not newton:
            nxt = 0.5 * (a + b)
        if abs(nxt - xk) < 1e-10 or (b - a) < 1e-10:
            break
        xk = nxt
    if a <= lower and best_a - lower < 1e-6 and best_a != lower:
        s_lo = ses_sse(x, lower)
        if s_lo <= best_s:
            best_a, best_s = lower, s_lo
    if b >= upper and upper - best_a < 1e-6 and best_a != upper:
        s_hi = ses_sse(x, upper)
        if s_hi <= best_s:
            best_a, best_s = upper, s_hi
    return best_a, best_s


# ---------------------------------------------------------------- intermittent
def _split(y):
    sizes, gaps, prev = [], [], 0
    for t, v in enumerate(y):
        if v != 0:
            sizes.append(float(v))
            gaps.append(float(t + 1 - prev))
            prev = t + 1
    return sizes, gaps


def _c(alpha):
    """Variance of an exponentially weighted mean of i.i.d. values per unit variance: a / (2 - a)."""
    return alpha / (2 - alpha)


def _svar(v):
    return float(np.var(v, ddof=1)) if len(v) > 1 else 0.0


def compound_var(m, p, sizes):
    """Var of Bernoulli(p) x size, mean m, size variance = sample variance (ddof 1) of sizes."""
    if not (m > 0) or not (p > 0):
        return 0.0
    p = min(p, 1.0)
    sv = float(np.var(sizes, ddof=1)) if len(sizes) > 1 else 0.0
    mu_z = m / p
    return p * sv + p * (1 - p) * mu_z**2


def _expand_levels(y, sizes, alpha):
    """Size level in force at each time (NaN at 0, y[t-1] before the first demand)."""
    out = [NAN]
    lev = None
    for t in range(1, len(y)):
        v = y[t - 1]
        if v > 0:
            if lev is None:
                lev = v if len(sizes) == 1 else alpha * v + (1 - alpha) * v
            else:
                lev = alpha * v + (1 - alpha) * lev
            out.append(lev)
        elif lev is not None:
            out.append(out[-1])
        else:
            out.append(v)
    return out


def croston(y, h, variant, optimizer=golden):
    """variant: 'classic' | 'sba' | 'optimized'.  Returns mean, var, p, fitted (None if optimized)."""
    n = len(y)
    if n == 0:
        return np.full(h, NAN), np.full(h, NAN), NAN, np.array([])
    sizes, gaps = _split(y)
    if not sizes:
        return np.full(h, y[-1]), np.zeros(h), 0.0, np.array([NAN] + list(y[:-1]))
    if variant == "optimized":
        ad, aq = optimizer(np.array(sizes), 0.1, 0.3), optimizer(np.array(gaps), 0.1, 0.3)
    else:
        ad = aq = 0.1
    zf, qf = ses_forecast(sizes, ad), ses_forecast(gaps, aq)
    m = zf / qf if qf != 0 else zf
    factor = 0.95 if variant == "sba" else 1.0
    m *= factor
    p = 1.0 / qf
    est = m * m * (_c(ad) * _svar(sizes) / zf**2 + _c(aq) * _svar(gaps) / qf**2)
    fitted = None
    if variant != "optimized":
        dl = _expand_levels(y, sizes, ad)
        # interval level in force at each time (1.0 before the first demand, or if it were 0)
        ql = [NAN]
        lev, cur = None, 1.0
        for t in range(1, n):
            if y[t - 1] != 0:
                g = gaps[len([v for v in y[: t - 1] if v != 0])]
                if lev is None:
                    lev = g if len(gaps) == 1 else aq * g + (1 - aq) * g
                else:
                    lev = aq * g + (1 - aq) * lev
                cur = lev if lev != 0 else 1.0
            ql.append(cur)
        fitted = np.array([NAN] + [dl[t] / ql[t] * factor for t in range(1, n)])
    return np.full(h, m), np.full(h, compound_var(m, p, sizes) + est), p, fitted


def tsb(y, h, alpha_d, alpha_p):
    n = len(y)
    if n == 0:
        return np.full(h, NAN), np.full(h, NAN), NAN, np.array([])
    sizes, _ = _split(y)
    if not sizes:
        return np.zeros(h), np.zeros(h), 0.0, np.array([NAN] + [0.0] * (n - 1))
    occ = [1.0 if v != 0 else 0.0 for v in y]
    pf = ses_forecast(occ, alpha_p)
    zf = ses_forecast(sizes, alpha_d)
    m = pf * zf
    est = m * m * ((_c(alpha_p) * (1 - pf) / pf if pf < 1 else 0.0) + _c(alpha_d) * _svar(sizes) / zf**2)
    plev = ses_levels(occ, alpha_p)
    dl = _expand_levels(y, sizes, alpha_d)
    fitted = np.array([NAN] + [plev[t] * dl[t] for t in range(1, n)])
    return np.full(h, m), np.full(h, compound_var(m, pf, sizes) + est), pf, fitted


def chunk_forecast(y, k):
    n = len(y)
    lost = n % k
    if n - lost < k:
        return y[-1], 1.0
    sums = [sum(y[lost + c * k : lost + (c + 1) * k]) for c in range((n - lost) // k)]
    if len(sums) <= 1:
        return sums[0], 1.0
    a = golden(sums, 0.1, 0.3)
    return ses_forecast(sums, a), a


def adida(y, h, imapa=False):
    n = len(y)
    if n == 0:
        return np.full(h, NAN), np.full(h, NAN), NAN
    sizes, gaps = _split(y)
    if not sizes:
        return np.zeros(h), np.zeros(h), 0.0
    mean_interval = sum(gaps) / len(gaps)
    kmax = max(1, round(mean_interval))  # Python round: half to even
    levels = range(1, kmax + 1) if imapa else [kmax]
    fits = [(chunk_forecast(list(y), k), k) for k in levels]
    m = sum(f / k for (f, _), k in fits) / len(fits)
    est = sum(_c(a) / k for (_, a), k in fits) / len(fits)
    p = 1.0 / mean_interval
    return np.full(h, m), np.full(h, compound_var(m, p, sizes) * (1 + est)), p
