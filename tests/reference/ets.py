"""Slow, obviously-correct twins of the ETS kernels (plain Python / NumPy).

The recursion is written in the error-correction form of Hyndman, Koehler, Ord & Snyder (2008),
Table 2.1 (one branch per model, the seasonal states kept in a Python list), independently of the
kernel's ring buffer and "error-free" update form.  Least-squares initial states are found with
``numpy.linalg.lstsq`` on the Jacobian of the (linear) error vector built column by column;
forecast-error variances use ``c_j = w' F^{j-1} g`` from explicit matrices (HKOS ch. 6).
"""

from __future__ import annotations

import math

import numpy as np


def split_code(code: str) -> tuple[int, int, int]:
    """``"MAdM"`` -> (etype, ttype, stype) with the kernel's integer coding."""
    e = 0 if code[0] == "A" else 1
    rest = code[1:]
    if rest.startswith("Ad"):
        t, s = 2, rest[2]
    else:
        t, s = {"N": 0, "A": 1}[rest[0]], rest[1]
    return e, t, {"N": 0, "A": 1, "M": 2}[s]


def filter_ref(y, etype, ttype, stype, m, alpha, beta, gamma, phi, x0):
    """Run HKOS Table 2.1 recursions. Returns (lik, sse, mu list, end state) or (inf, ...) on failure."""
    lev = float(x0[0])
    b = float(x0[1]) if ttype > 0 else 0.0
    if ttype < 2:
        phi = 1.0
    seas = [float(v) for v in x0[2:2 + m]] if stype > 0 else []
    sse = 0.0
    sumlog = 0.0
    mus = []
    for yt in y:
        s_m = seas[-1] if stype > 0 else (1.0 if stype == 2 else 0.0)
        trend_part = lev + phi * b
        if stype == 2:
            mu = trend_part * s_m
        else:
            mu = trend_part + s_m
        mus.append(mu)
        if etype == 0:
            e = yt - mu
            # additive errors: every state moves by its smoothing parameter times e
            new_l = trend_part + alpha * e
            new_b = phi * b + beta * e
            new_s = s_m + gamma * e
        else:
            if mu <= 1e-10:
                return math.inf, math.inf, mus, None
            e = (yt - mu) / mu
            sumlog += math.log(mu)
            if stype == 2:
                new_l = trend_part * (1 + alpha * e)
                new_b = phi * b + beta * trend_part * e
                new_s = s_m * (1 + gamma * e)
            else:
                new_l = trend_part + alpha * mu * e
                new_b = phi * b + beta * mu * e
                new_s = s_m + gamma * mu * e
        sse += e * e
        lev = new_l
        if ttype > 0:
            b = new_b
        if stype > 0:
            seas = [new_s] + seas[:-1]
    n = len(y)
    lik = n * math.log(sse) + 2 * sumlog if sse > 0 else -1e10
    end = np.array([lev, b] + seas, dtype=float)
    return lik, sse, mus, end


def loglik_from_lik(lik: float, n: int) -> float:
    """Gaussian log-likelihood (sigma^2 concentrated out) from ``n log SSE + 2 sum log|mu|``."""
    return -0.5 * (lik + n * (math.log(2 * math.pi / n) + 1))


def errors_ref(y, ttype, stype, m, alpha, beta, gamma, phi, free):
    """Additive one-step errors for free initial states ``(l, [b], s_1..s_{m-1})``."""
    x0 = np.zeros(2 + (m if stype else 0))
    x0[0] = free[0]
    j = 1
    if ttype:
        x0[1] = free[1]
        j = 2
    if stype:
        x0[2:1 + m] = free[j:j + m - 1]
        x0[1 + m] = -np.sum(free[j:j + m - 1])
    _, _, mus, _ = filter_ref(y, 0, ttype, stype, m, alpha, beta, gamma, phi, x0)
    return np.asarray(y) - np.asarray(mus), x0


def ls_states_ref(y, ttype, stype, m, alpha, beta, gamma, phi):
    """Least-squares initial states by lstsq on the error Jacobian. Returns (x0, sse)."""
    p = 1 + (1 if ttype else 0) + (m - 1 if stype else 0)
    e0, _ = errors_ref(y, ttype, stype, m, alpha, beta, gamma, phi, np.zeros(p))
    J = np.empty((len(y), p))
    for j in range(p):
        u = np.zeros(p)
        u[j] = 1.0
        ej, _ = errors_ref(y, ttype, stype, m, alpha, beta, gamma, phi, u)
        J[:, j] = ej - e0
    sol, *_ = np.linalg.lstsq(J, -e0, rcond=None)
    e, x0 = errors_ref(y, ttype, stype, m, alpha, beta, gamma, phi, sol)
    return x0, float(e @ e)


def forecast_ref(end, ttype, stype, m, phi, h):
    """Point forecasts by iterating the recursion with zero errors."""
    lev, b = end[0], end[1]
    if ttype < 2:
        phi = 1.0
    seas = list(end[2:2 + m]) if stype else []
    out = []
    for _ in range(h):
        tp = lev + phi * b
        s_m = seas[-1] if stype else 0.0
        out.append(tp * s_m if stype == 2 else tp + s_m)
        lev = tp
        b = phi * b if ttype else 0.0
        if stype:
            seas = [s_m] + seas[:-1]
    return np.array(out)


def _matrices(ttype, stype, m, alpha, beta, gamma, phi):
    """Linear state-space ``w, F, g`` (HKOS eq. 3.? for the additive models)."""
    if ttype < 2:
        phi = 1.0
    nt = 1 if ttype else 0
    ns = m if stype else 0
    p = 1 + nt + ns
    w = np.zeros(p)
    F = np.zeros((p, p))
    g = np.zeros(p)
    w[0] = 1
    F[0, 0] = 1
    g[0] = alpha
    if nt:
        w[1] = phi
        F[0, 1] = phi
        F[1, 1] = phi
        g[1] = beta
    if ns:
        o = 1 + nt
        w[o + m - 1] = 1
        F[o, o + m - 1] = 1
        for j in range(1, m):
            F[o + j, o + j - 1] = 1
        g[o] = gamma
    return w, F, g


def variance_ref(etype, ttype, stype, m, alpha, beta, gamma, phi, sigma2, mu, xend=None):
    """Forecast-error variances: class 1 ``sigma2 (1 + sum c_j^2)``, class 2 theta recursion,
    class 3 (multiplicative season) HKOS's approximation on the non-seasonal forecasts."""
    h = len(mu)
    if stype == 2:
        # non-seasonal part: class-2 recursion on l + phi_h b, then seasonal scaling
        end = np.array(xend, dtype=float)
        mut = forecast_ref(end[:2], ttype, 0, 1, phi, h)
        th = variance_ref(1, ttype, 0, 1, alpha, beta, 0.0, phi, sigma2, mut) + mut ** 2
        th = th / (1 + sigma2)  # back to theta_h
        out = np.empty(h)
        for k in range(1, h + 1):
            sh = end[2 + m - 1 - ((k - 1) % m)]
            out[k - 1] = sh ** 2 * (th[k - 1] * (1 + sigma2) * (1 + gamma ** 2 * sigma2) ** ((k - 1) // m)
                                    - mut[k - 1] ** 2)
        return out
    w, F, g = _matrices(ttype, stype, m, alpha, beta, gamma, phi)
    c = np.zeros(h)
    Fp = np.eye(len(w))
    for j in range(1, h):
        c[j] = w @ Fp @ g
        Fp = Fp @ F
    if etype == 0:
        return np.array([sigma2 * (1 + np.sum(c[1:k] ** 2)) for k in range(1, h + 1)])
    theta = np.zeros(h)
    for k in range(1, h + 1):
        theta[k - 1] = mu[k - 1] ** 2 + sigma2 * sum(c[j] ** 2 * theta[k - j - 1] for j in range(1, k))
    return (1 + sigma2) * theta - np.asarray(mu) ** 2


def upper_bounds_ref(codes: list[str], m: int, n: int, positive: bool) -> dict[str, tuple[float, float]]:
    """statsforecast 2.1.1's effective (beta, gamma) upper bounds per model name, by replaying its
    candidate loop (error A, M; trend N, A; season N, A, M; damped then undamped) on one shared
    ``upper`` list that each visited model lowers to its starting alpha (beta) and one minus it
    (gamma).  Models not visited keep 0.9999."""
    lo, hi = 1e-4, 0.9999
    upper = [hi, hi, hi]
    out = {c: (hi, hi) for c in codes}
    seasons = ["N", "A", "M"] if (m > 1 and n > m) else ["N"]
    for e in ["A", "M"] if positive else ["A"]:
        for t in ["N", "A"]:
            for s in seasons:
                if s == "M" and (e == "A" or not positive):
                    continue
                for d in ([True, False] if t == "A" else [False]):
                    name = e + ("Ad" if d else t) + s
                    if name not in codes:
                        continue
                    a0 = lo + 0.2 * (hi - lo) / (m if s != "N" else 1)
                    if t == "A":
                        upper[1] = min(upper[1], a0)
                    if s != "N":
                        upper[2] = min(upper[2], 1 - a0)
                    out[name] = (upper[1], upper[2])
    return out
