"""Slow, obviously-correct twin of ``stockopt._kernels.inventory.ss`` (plain NumPy + scipy).

A different discretisation from the kernel's: the renewal *density* ``u`` of the review-period
demand is solved from the renewal integral equation
``(1 - f0) u(x) = U0 f(x) + int_0^x f(x - y) u(y) dy`` by the trapezoidal rule on a fine grid
(``U0 = 1 / (1 - f0)`` the atom at 0, ``f0 = P(D_R <= 0)`` for a normal censored at zero), and
every service measure is a trapezoidal integral of scipy loss functions / cdfs against it:

* fill: ``B = [U0 g(S) + int_0^Q u(x) g(S - x) dx] / M``, ``g = n_T - n_L``, ``M = U0 + int u``;
* cycle: undershoot density ``v(w) = U0 f(Q + w) + int_0^Q u(x) f(Q - x + w) dx`` and
  ``int v(w) F_L(s - w) dw / int v``;
* ready: ``(1/R) sum_j [U0 F_j(S) + int u(x) F_j(S - x) dx] / M``.

The reorder level is found by ``scipy.optimize.brentq``.  Gamma densities must be finite at 0
(shape >= 1) for the trapezoidal rule.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats

NORMAL, GAMMA = 0, 1


def _frozen(dist: int, m: float, v: float):
    if dist == NORMAL:
        return stats.norm(m, math.sqrt(v))
    return stats.gamma(m * m / v, scale=v / m)


def loss1(x, dist: int, m: float, v: float):
    """``E[(X - x)^+]`` (vectorised over ``x``), closed forms from scipy."""
    x = np.asarray(x, float)
    if dist == NORMAL:
        sd = math.sqrt(v)
        z = (x - m) / sd
        return sd * (stats.norm.pdf(z) - z * stats.norm.sf(z))
    a, b = m * m / v, v / m
    y = np.maximum(x, 0.0) / b
    pos = a * b * special.gammaincc(a + 1, y) - np.maximum(x, 0.0) * special.gammaincc(a, y)
    return np.where(x > 0, pos, m - x)


def cdf(x, dist: int, m: float, v: float):
    """``P(X <= x)``; a zero variance is a point mass at ``m`` (no lead time)."""
    if v <= 0:
        return (np.asarray(x, float) >= m).astype(float)
    return _frozen(dist, m, v).cdf(x)


def mix_cdf(x, dist, comps):
    return sum(w * cdf(x, dist, m, v) for m, v, w in comps)


def mix_loss(x, dist, comps):
    return sum(w * (loss1(x, dist, m, v) if v > 0 else np.maximum(m - np.asarray(x, float), 0.0))
               for m, v, w in comps)


def components(m_l, v_l, d, vd, l_mean, l_sd):
    """Lead-time demand components: one, or round(N(l_mean, l_sd)) clipped to mean +- 4 sd."""
    if l_sd <= 0:
        return [(m_l, v_l, 1.0)]
    lo = max(math.floor(l_mean - 4 * l_sd), 0)
    hi = max(math.ceil(l_mean + 4 * l_sd), lo)
    out = []
    for k in range(lo, hi + 1):
        up = 1.0 if k >= hi else stats.norm.cdf((k + 0.5 - l_mean) / l_sd)
        dn = 0.0 if k <= lo else stats.norm.cdf((k - 0.5 - l_mean) / l_sd)
        if up - dn > 0:
            out.append((d * k, vd * k, up - dn))
    return out


def renewal(dist, m_r, v_r, q, h):
    """Grid ``x = 0, h, ..., q`` and ``(U0, u(x), f0)`` by the trapezoidal rule."""
    n = int(round(q / h))
    x = np.arange(n + 1) * h
    fr = _frozen(dist, m_r, v_r)
    f = fr.pdf(x)
    f0 = float(fr.cdf(0.0)) if dist == NORMAL else 0.0
    u0 = 1.0 / (1.0 - f0)
    u = np.zeros(n + 1)
    den = 1.0 - f0 - 0.5 * h * f[0]
    for k in range(n + 1):
        acc = u0 * f[k]
        if k > 0:
            acc += h * (0.5 * f[k] * u[0] + np.dot(f[k - 1:0:-1], u[1:k]))
        u[k] = acc / den
    return x, u0, u, f0


def _trap(y, h):
    return h * (y.sum() - 0.5 * (y[0] + y[-1]))


class SS:
    """An (R, s, S) item: service measures of any reorder level ``s`` (``S = s + q``)."""

    def __init__(self, dist, m_l, v_l, m_r, v_r, q, d=0.0, vd=0.0, l_mean=0.0, l_sd=0.0, h=None):
        self.dist, self.m_r, self.v_r, self.q = dist, m_r, v_r, q
        self.comps = components(m_l, v_l, d, vd, l_mean, l_sd)
        self.comps_t = [(m + m_r, v + v_r, w) for m, v, w in self.comps]
        self.d, self.vd = d, vd
        h = h if h is not None else math.sqrt(v_r) / 40
        n = max(int(math.ceil(q / h)), 1)
        self.h = q / n
        self.x, self.u0, self.u, self.f0 = renewal(dist, m_r, v_r, q, self.h)
        self.mass = self.u0 + _trap(self.u, self.h)
        fr = _frozen(dist, m_r, v_r)
        self.w = np.arange(0.0, m_r + 14 * math.sqrt(v_r), self.h)
        dens = np.array([self.u0 * fr.pdf(q + w) + _trap(self.u * fr.pdf(q - self.x + w), self.h)
                         for w in self.w])
        self.v = dens / _trap(dens, self.h)

    def shortage(self, s):
        big_s = s + self.q
        g = lambda y: mix_loss(y, self.dist, self.comps_t) - mix_loss(y, self.dist, self.comps)
        return (self.u0 * g(big_s) + _trap(self.u * g(big_s - self.x), self.h)) / self.mass

    def fill(self, s, lost=False):
        b = max(self.shortage(s), 0.0)
        return 1 - b / (self.m_r + b) if lost else 1 - b / self.m_r

    def cycle(self, s):
        return _trap(self.v * mix_cdf(s - self.w, self.dist, self.comps), self.h)

    def backorders(self, s):
        big_s = s + self.q
        n = lambda y: mix_loss(y, self.dist, self.comps_t)
        return (self.u0 * n(big_s) + _trap(self.u * n(big_s - self.x), self.h)) / self.mass

    def ready(self, s, r_days, max_points=32):
        r = max(int(math.floor(r_days + 0.5)), 1)
        days = [float(j) for j in range(1, r + 1)] if r <= max_points else \
            [0.5 + r / max_points * (k + 0.5) for k in range(max_points)]
        big_s = s + self.q
        vals = []
        for j in days:
            comps = [(m + self.d * j, v + self.vd * j, w) for m, v, w in self.comps]
            at_top = mix_cdf(big_s, self.dist, comps)
            below = mix_cdf(big_s - self.x, self.dist, comps)
            vals.append((self.u0 * at_top + _trap(self.u * below, self.h)) / self.mass)
        return float(np.mean(vals))

    def solve(self, target, metric, floor, lost=False):
        """Smallest ``s >= floor`` with service >= target (brentq)."""
        g = (lambda s: self.cycle(s) - target) if metric == 0 else (lambda s: self.fill(s, lost) - target)
        if g(floor) >= 0:
            return floor
        sd_t = math.sqrt(sum(w * (v + m * m) for m, v, w in self.comps_t)
                         - sum(w * m for m, v, w in self.comps_t) ** 2)
        hi = floor + sd_t
        while g(hi) < 0:
            hi += 2 * sd_t
        return optimize.brentq(g, floor, hi, xtol=1e-10)


# ------------------------------------------------------------------ ready rate on integer demand


def ready_days(r_days: float, max_points: int = 32) -> list[float]:
    r = max(int(math.floor(r_days + 0.5)), 1)
    if r <= max_points:
        return [float(j) for j in range(1, r + 1)]
    return [0.5 + r / max_points * (k + 0.5) for k in range(max_points)]


def ready_pmfs(dist, d, vd, l_mean, l_sd, r_days, n):
    """pmfs (length ``n``) of demand over ``L + j`` days for the ready-rate days ``j`` (scipy, explicit
    loop over the discretised lead times)."""
    from tests.reference import inventory as ref_inv

    if l_sd > 0:
        lts, ws = ref_inv.lead_time_pmf(l_mean, l_sd)
    else:
        lts, ws = [l_mean], [1.0]
    out = []
    for j in ready_days(r_days):
        p = sum(w * ref_inv.day_pmf(dist, d * (lt + j), vd * (lt + j), n) for lt, w in zip(lts, ws))
        out.append(p / p.sum())
    return out


def ready_discrete(pol: int, big_s: int, q: int, p_r: np.ndarray, pmfs_j) -> float:
    """``(1/R) sum_j sum_y pi(y) P(D_{L+j} <= y)`` with ``pi`` from the Markov chain's transition
    matrix (``tests/reference/inventory.stationary``); RS and newsvendor: ``pi`` = point mass at S."""
    from tests.reference import inventory as ref_inv

    rs = pol in (ref_inv.RS, 4)  # 4 = newsvendor
    qq = 1 if rs else q
    pi = ref_inv.stationary(ref_inv.RS if rs else pol, big_s - qq, qq, p_r)
    vals = []
    for p in pmfs_j:
        c = np.cumsum(p)
        vals.append(sum(pi[k] * (c[min(big_s - k, len(c) - 1)] if big_s - k >= 0 else 0.0)
                        for k in range(qq)))
    if pol == 4 and len(pmfs_j) < 32:
        # newsvendor (lost within the period): day j is also ready when the stock ran out on an
        # earlier day and day j has no demand, P(D_{j-1} > S) P(D_1 = 0), with D_0 = 0
        p0 = float(pmfs_j[0][0]) if len(pmfs_j[0]) else 0.0
        prev = [1.0] + vals[:-1]
        vals = [v + (1.0 - c_prev) * p0 for v, c_prev in zip(vals, prev)]
    return float(np.mean(vals))


# ------------------------------------------------------------------ cost-optimal (R, s, nQ)


def sq_cost_bruteforce(h, p, k, p_r, p_t, s_range, max_q):
    """Cost-optimal (R, s, nQ) by exhaustive search, each policy's cost per review period from the
    Markov-chain stationary distribution: ``K P(order) + sum_y pi(y) [h E(y - D_T)^+ + p E(D_T - y)^+]``."""
    from tests.reference import inventory as ref_inv

    m_t = float(np.dot(np.arange(len(p_t)), p_t))
    best = (math.inf, None, None)
    for s in s_range:
        for q in range(1, max_q + 1):
            pi = ref_inv.stationary(ref_inv.SQ, s, q, p_r)
            freq = cost = 0.0
            for kk in range(q):
                y = s + q - kk
                freq += pi[kk] * float(np.sum(p_r[max(y - s, 0):]))  # P(y - D_R <= s)
                bo = ref_inv._loss_at(p_t, y) if y >= 0 else m_t - y
                cost += pi[kk] * (h * (y - m_t + bo) + p * bo)
            cost += k * freq
            if cost < best[0] - 1e-12:
                best = (cost, s, q)
    return best[1], best[2], best[0]
