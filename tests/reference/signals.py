"""Slow, obviously-correct twins of the demand-signal computations (one series at a time, plain Python).

Nothing here imports stockopt.
"""

from __future__ import annotations

import math


# ---------------------------------------------------------------- demand classes
def adi_cv2(y):
    """ADI (periods per non-zero period; inf without any) and CV^2 of the non-zero sizes (population)."""
    sizes = [v for v in y if v > 0]
    if not sizes:
        return math.inf, 0.0
    m = sum(sizes) / len(sizes)
    var = sum((s - m) ** 2 for s in sizes) / len(sizes)
    return len(y) / len(sizes), (var / (m * m) if len(sizes) > 1 else 0.0)


def sbc_class(adi, cv2, adi_cut=1.32, cv2_cut=0.49):
    if adi < adi_cut:
        return "smooth" if cv2 < cv2_cut else "erratic"
    return "intermittent" if cv2 < cv2_cut else "lumpy"


def life_cycle(y, out, new_periods, dead_periods):
    """(new, dead, periods_since_sale) of one series; ``out`` flags stocked-out periods (or None)."""
    out = out or [False] * len(y)
    sold = [t for t, v in enumerate(y) if v > 0]
    if not sold:
        return True, False, sum(1 for o in out if not o)
    age = len(y) - sold[0]
    since = sum(1 for t in range(sold[-1] + 1, len(y)) if not out[t])
    new = age < new_periods
    return new, (since >= dead_periods) and not new, since


# ---------------------------------------------------------------- quantiles and zero runs
def quantile(sorted_vals, p):
    """NumPy's default ("linear") quantile of already sorted values."""
    n = len(sorted_vals)
    pos = p * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_vals[lo] + (pos - lo) * (sorted_vals[hi] - sorted_vals[lo])


def zero_runs(y, phase, n_phases, known, log_alpha, window, kappa, n_iter, irregular=None):
    """Flagged improbable zero runs of one series: list of (start, length, logp, expected)."""
    L = len(y)
    known = known or [False] * L
    irregular = irregular or [False] * L
    first = next((t for t in range(L) if y[t] > 0 and not known[t]), L)
    active = [t >= first and not known[t] for t in range(L)]
    runs = []
    t = 0
    while t < L:
        if active[t] and y[t] == 0:
            a = t
            while t + 1 < L and active[t + 1] and y[t + 1] == 0:
                t += 1
            runs.append((a, t))
        t += 1
    m = sum(active)
    threshold = log_alpha - math.log(max(m, 1))
    flags = [False] * len(runs)
    results = [(0.0, 0.0)] * len(runs)
    in_run = [False] * L
    for _ in range(max(n_iter, 1)):
        use = [active[t] and not in_run[t] and not irregular[t] for t in range(L)]
        g_p, g_m = [], []
        for k in range(n_phases):
            ts = [t for t in range(L) if use[t] and phase[t] == k]
            z = sum(1 for t in ts if y[t] == 0)
            g_p.append((z + 0.5) / (len(ts) + 1))
            g_m.append(sum(y[t] for t in ts) / len(ts) if ts else 0.0)
        new_flags = []
        for r, (a, b) in enumerate(runs):
            window_ts = [t for t in range(max(0, a - window), min(L, b + 1 + window))
                         if not a <= t <= b and use[t]]
            lp, lg, ex = 0.0, 0.0, 0.0
            for t in range(a, b + 1):
                k = phase[t]
                ts = [u for u in window_ts if phase[u] == k]
                z = sum(1 for u in ts if y[u] == 0)
                lp += math.log((z + kappa * g_p[k]) / (len(ts) + kappa))
                own = sum(1 for u in range(a, b + 1) if phase[u] == k) if flags[r] else 0
                ts_all = [u for u in range(L) if use[u] and phase[u] == k]
                z_all = sum(1 for u in ts_all if y[u] == 0)
                lg += math.log((z_all + own + 0.5) / (len(ts_all) + own + 1))
                ex += sum(y[u] for u in ts) / len(ts) if ts else g_m[k]
            lp = max(lp, lg)
            results[r] = (lp, ex)
            new_flags.append(lp < threshold)
        changed = new_flags != flags
        flags = new_flags
        if not changed:
            break
        in_run = [False] * L
        for (a, b), fl in zip(runs, flags):
            for t in range(a, b + 1):
                in_run[t] = fl
    return [(a, b - a + 1, results[r][0], results[r][1]) for r, (a, b) in enumerate(runs) if flags[r]]


# ---------------------------------------------------------------- censored demand
def tail_mean(mu, size, s):
    """E[D | D >= s] for D negative binomial (mean mu, size; inf = Poisson): the tail's own weighted
    mean from scipy's log-pmf over the next 20,000 counts (no cancellation)."""
    import numpy as np
    from scipy import stats

    if s <= 0 or mu <= 0:
        return max(mu, s)
    k0 = math.ceil(s)
    dist = stats.poisson(mu) if size == math.inf else stats.nbinom(size, size / (size + mu))
    ks = np.arange(k0, k0 + 20000)
    lp = dist.logpmf(ks)
    w = np.exp(lp - lp.max())
    return max(s, float((ks * w).sum() / w.sum()))


def impute(y, out, phase, n_phases, alpha, n_em):
    """Demand estimates of one series (see stockopt._kernels.forecast.censored.impute_block)."""
    n = len(y)
    used = [t for t in range(n) if not out[t]]
    if not used or len(used) == n:
        return list(y)
    demand = list(y)
    size = math.inf
    partial = any(out[t] and y[t] > 0 for t in range(n))
    for it in range(n_em + 1 if partial else 1):
        idx = list(range(n)) if it > 0 else used
        mean_all = sum(demand[t] for t in idx) / len(idx)
        prof = []
        for k in range(n_phases):
            ts = [t for t in idx if phase[t] == k]
            p = ((sum(demand[t] for t in ts) + 2 * mean_all) / (len(ts) + 2) / mean_all
                 if mean_all > 0 and ts else 1.0)
            prof.append(max(p, 0.05))
        warm = max(round(2 / alpha), 1)
        des = {t: demand[t] / prof[phase[t]] for t in idx}
        lev = sum(des[t] for t in idx[:warm]) / len(idx[:warm])
        fwd, sse, smu = [], 0.0, 0.0
        for t in range(n):
            fwd.append(lev)
            if t in des:
                f = lev * prof[phase[t]]
                sse += (demand[t] - f) ** 2
                smu += f
                lev += alpha * (des[t] - lev)
        back = idx[::-1][:warm]
        lev = sum(des[t] for t in back) / len(back)
        bwd = [0.0] * n
        for t in range(n - 1, -1, -1):
            bwd[t] = lev
            if t in des:
                lev += alpha * (des[t] - lev)
        mbar, v = smu / len(idx), sse / len(idx)
        if it == 0:
            size = mbar * mbar / (v - mbar) if mbar > 0 and v > mbar * 1.0001 else math.inf
        t = 0
        while t < n:
            if not out[t]:
                t += 1
                continue
            s = t
            while t < n and out[t]:
                t += 1
            for u in range(s, t):
                if s > 0 and t < n:
                    w = (u - s + 1) / (t - s + 1)
                    lv = (1 - w) * fwd[s] + w * bwd[t - 1]
                elif s > 0:
                    lv = fwd[s]
                else:
                    lv = bwd[t - 1]
                demand[u] = tail_mean(max(lv, 0.0) * prof[phase[u]], size, max(y[u], 0.0))
    return demand
