"""Slow, obviously-correct twins of the Theta kernels (plain Python and NumPy, one series at a time).

They follow the model equations literally (Fiorucci et al. 2016, statsforecast's conventions): the
state is a 5-vector (level, mean, A, B, mu) updated row by row with ``(1 - alpha) ** t`` computed by
``pow``; the forecast-error variance is obtained by brute force, perturbing each future error by
one unit and reading off the change of every future value (the model is linear in the errors).
"""

from __future__ import annotations

import math

import numpy as np

STM, OTM, DSTM, DOTM = 0, 1, 2, 3
NONE, MULTIPLICATIVE, ADDITIVE = 0, 1, 2
Z95 = 1.6448536269514722


def seasonality_test(y: np.ndarray, m: int) -> bool:
    """Lag-m autocorrelation larger than 1.645 Bartlett standard errors."""
    y = [float(v) for v in y]
    n = len(y)
    if m < 4 or n < 2 * m:
        return False
    mean = sum(y) / n
    d = [v - mean for v in y]
    c0 = sum(v * v for v in d)
    if c0 == 0:
        return False
    r = [sum(d[t] * d[t + k] for t in range(n - k)) / c0 for k in range(1, m + 1)]
    stat = math.sqrt((1 + 2 * sum(v * v for v in r[:-1])) / n)
    return abs(r[-1]) / stat > Z95


def seasonal_indices(y: np.ndarray, m: int, multiplicative: bool) -> np.ndarray:
    """Classical decomposition: centred moving-average trend, mean detrended value per position."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    half = m // 2
    trend = np.full(n, np.nan)
    for t in range(half, n - half):
        trend[t] = sum(w[k] * y[t - half + k] for k in range(len(w)))
    detr = y / trend if multiplicative else y - trend
    idx = np.array([np.nanmean(detr[k::m]) for k in range(m)])
    return idx / idx.mean() if multiplicative else idx - idx.mean()


def decompose(y: np.ndarray, m: int, kind: int) -> tuple[int, np.ndarray]:
    """statsforecast's decision rules; returns (kind applied, seasonal indices by position)."""
    if kind == NONE or not seasonality_test(y, m):
        return NONE, np.zeros(max(m, 1))
    mult = kind == MULTIPLICATIVE and min(y) > 0
    idx = seasonal_indices(y, m, mult)
    if mult and np.any(idx < 0.01):
        mult = False
        idx = seasonal_indices(y, m, False)
    return (MULTIPLICATIVE if mult else ADDITIVE), idx


def _step(prev: list[float], i: int, dynamic: bool, alpha: float, theta: float, y: float | None):
    level, meany, a, b, _ = prev
    mu = level + (1 - 1 / theta) * (a * (1 - alpha) ** i + b * (1 - (1 - alpha) ** (i + 1)) / alpha)
    yy = mu if y is None else y
    new_mean = (i * meany + yy) / (i + 1)
    if dynamic:
        nb = ((i - 1) * b + 6 * (yy - meany) / (i + 1)) / (i + 2)
        na = new_mean - nb * (i + 2) / 2
    else:
        na, nb = a, b
    return [alpha * yy + (1 - alpha) * level, new_mean, na, nb, mu]


def theta_filter(y: np.ndarray, model: int, level0: float, alpha: float, theta: float):
    """States (n x 5), one-step forecasts mu (n,), SSE of y - mu from t = 3 on."""
    y = [float(v) for v in y]
    n = len(y)
    dynamic = model in (DSTM, DOTM)
    if dynamic:
        a, b, mu0 = y[0], 0.0, y[0]
    else:
        t = np.arange(1, n + 1)
        slope = float(np.polyfit(t, y, 1)[0]) if n > 1 else 0.0
        a = sum(y) / n - slope * (n + 1) / 2
        b = slope
        mu0 = level0 + (1 - 1 / theta) * (a + b)
    states = [[alpha * y[0] + (1 - alpha) * level0, y[0], a, b, mu0]]
    for i in range(1, n):
        states.append(_step(states[-1], i, dynamic, alpha, theta, y[i]))
    states = np.array(states)
    mu = states[:, 4]
    sse = float(sum((y[t] - mu[t]) ** 2 for t in range(3, n)))
    return states, mu, sse


def sigma2(y: np.ndarray, mu: np.ndarray) -> float:
    e = np.asarray(y, float) - mu
    tail = e[3:] if len(e) - 3 >= 2 else e
    return float(np.var(tail, ddof=1)) if len(tail) >= 2 else math.nan


def theta_forecast(states: np.ndarray, n: int, model: int, alpha: float, theta: float, h: int,
                   sig2: float):
    """Mean path (future errors 0) and error variance from unit perturbations of each error."""
    dynamic = model in (DSTM, DOTM)

    def path(eps: np.ndarray) -> np.ndarray:
        prev = list(states[-1])
        out = []
        for j in range(h):
            mu = _step(prev, n + j, dynamic, alpha, theta, None)[4]
            yv = mu + eps[j]
            prev = _step(prev, n + j, dynamic, alpha, theta, yv)
            out.append(yv)
        return np.array(out)

    base = path(np.zeros(h))
    coef = np.zeros((h, h))
    for k in range(h):
        e = np.zeros(h)
        e[k] = 1.0
        coef[:, k] = path(e) - base
    return base, sig2 * (coef ** 2).sum(axis=1)


def fit_sse_scipy(y: np.ndarray, model: int) -> float:
    """Best SSE found by a bounded quasi-Newton search from several starts (an independent fit)."""
    from scipy.optimize import minimize

    y = np.asarray(y, float)
    opt_theta = model in (OTM, DOTM)

    def f(x):
        theta = x[2] if opt_theta else 2.0
        return theta_filter(y, model, x[0], x[1], theta)[2]

    best = math.inf
    scale = max(abs(y[0]), 1.0)
    for a0 in (0.2, 0.5, 0.9):
        for t0 in ((1.5, 3.0) if opt_theta else (2.0,)):
            x0 = [y[0] / 2, a0, t0]
            bounds = [(-1e10, 1e10), (0.1, 0.99), (1.0, 1e10)]
            r = minimize(f, x0, method="L-BFGS-B", bounds=bounds, options={"eps": 1e-7 * scale})
            best = min(best, float(r.fun))
    return best
