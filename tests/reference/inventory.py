"""Slow, obviously-correct twins of the inventory kernels (plain Python + scipy).

* :func:`service_continuous` / :func:`policy_continuous` -- loss functions by numerical
  integration (``scipy.integrate.quad``), levels by ``scipy.optimize.brentq``;
* :func:`ready_rate` -- the ready rate day by day, the sQ inventory position integrated by quadrature;
* :func:`pmfs` -- integer pmfs from ``scipy.stats`` with an explicit loop over lead times;
* :func:`policy_discrete` -- the stationary inventory position from the transition matrix of the
  Markov chain (not the renewal formula the kernel uses), undershoot by enumeration, reorder level
  by a linear scan;
* :func:`simulate` -- a day-by-day loop over a given demand trace with a deterministic lead time.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, optimize, stats

NORMAL, GAMMA, POISSON, NEGBIN = 0, 1, 2, 3
RS, SQ, SS = 0, 1, 2


def frozen(dist: int, m: float, v: float):
    if dist == NORMAL:
        return stats.norm(m, math.sqrt(v))
    return stats.gamma(m * m / v, scale=v / m)


def cdf(x: float, dist: int, m: float, v: float) -> float:
    if v <= 0 or (dist == GAMMA and m <= 0):  # point mass
        return 1.0 if x >= m else 0.0
    return float(frozen(dist, m, v).cdf(x))


def loss(x: float, dist: int, m: float, v: float, order: int) -> float:
    """``E[((X - x)^+)^order]`` by quadrature (order 1, 2 or 3)."""
    if v <= 0 or (dist == GAMMA and m <= 0):
        return max(m - x, 0.0) ** order
    f = frozen(dist, m, v)
    lo = max(x, f.ppf(1e-15)) if dist == NORMAL else max(x, 0.0)
    hi = f.ppf(1 - 1e-15)
    if lo >= hi:
        return 0.0
    val = integrate.quad(lambda t: (t - x) ** order * f.pdf(t), lo, hi, limit=200, epsabs=1e-12,
                         epsrel=1e-11)[0]
    return val


def undershoot(dist: int, m_r: float, v_r: float, q: float) -> tuple[float, float]:
    """Mean and variance of the undershoot with density ``P(j < D <= j + q) / E[min(D, q)]``."""
    if v_r <= 0:
        if m_r <= 0:
            return 0.0, 0.0
        w = min(q, m_r)  # a constant step: undershoot uniform on [m_r - w, m_r)
        return m_r - w / 2, w * w / 12
    f = frozen(dist, m_r, v_r)
    hi = f.ppf(1 - 1e-13)
    w = lambda j: f.cdf(j + q) - f.cdf(j)  # noqa: E731
    z = integrate.quad(w, 0, hi, limit=200)[0]
    e1 = integrate.quad(lambda j: j * w(j), 0, hi, limit=200)[0] / z
    e2 = integrate.quad(lambda j: j * j * w(j), 0, hi, limit=200)[0] / z
    return e1, max(e2 - e1 * e1, 0.0)


def service_continuous(s, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q):
    m_t, v_t = m_l + m_r, v_l + v_r

    def fill(b, mr):
        if mr <= 0:
            return 1.0
        return 1 - b / (mr + b) if lost else 1 - b / mr

    if pol == RS:
        if metric == 0:
            return cdf(s, dist, m_t, v_t)
        return fill(loss(s, dist, m_t, v_t, 1) - loss(s, dist, m_l, v_l, 1), m_r)
    if metric == 0:
        if r_days <= 0:
            return cdf(s, dist, m_l, v_l)
        mj, vj = undershoot(dist, m_r, v_r, q)
        return cdf(s, dist, m_l + mj, v_l + vj)
    if r_days <= 0:
        return fill(loss(s, dist, m_l, v_l, 1) - loss(s + q, dist, m_l, v_l, 1), q)
    b = 0.5 * (loss(s, dist, m_t, v_t, 2) - loss(s + q, dist, m_t, v_t, 2)
               - loss(s, dist, m_l, v_l, 2) + loss(s + q, dist, m_l, v_l, 2)) / q
    return fill(b, m_r)


def policy_continuous(target, pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q):
    """Level ``s >= mean protection demand`` with service = target; returns (s, cycle, fill)."""
    prot = m_l + m_r if (pol == RS or r_days > 0) else m_l
    args = (pol, metric, lost, dist, r_days, m_l, v_l, m_r, v_r, q)
    g = lambda s: service_continuous(s, *args) - target  # noqa: E731
    lo = max(prot, 0.0)
    if g(lo) >= 0:
        s = lo
    else:
        hi = lo + max(math.sqrt(v_l + v_r), 1.0)
        while g(hi) < 0:
            hi = lo + 2 * (hi - lo)
        s = optimize.brentq(g, lo, hi, xtol=1e-12, rtol=1e-13)
    cyc = service_continuous(s, pol, 0, *args[2:])
    fil = service_continuous(s, pol, 1, *args[2:])
    return s, cyc, fil


def ready_rate(pol, dist, r_days, m_l, v_l, d, vd, s, q, max_points=32):
    """Share of days ending without backorders: mean over the days ``j`` of a review cycle of
    ``P(IP - D_{L+j} >= 0)``, with ``IP = s`` (RS) or uniform on ``(s, s+q]`` (sQ, by quadrature
    of the cdf over the inventory position).  Review periods over ``max_points`` days: that many
    equal blocks of days, each at its middle day."""
    r = max(int(math.floor(r_days + 0.5)), 1)
    if r <= max_points:
        days = [float(j) for j in range(1, r + 1)]
    else:
        days = [0.5 + r / max_points * (k + 0.5) for k in range(max_points)]
    vals = []
    for j in days:
        m, v = m_l + d * j, v_l + vd * j
        if pol == SQ and q > 0:
            vals.append(integrate.quad(lambda y: cdf(y, dist, m, v), s, s + q, limit=200,
                                       epsabs=1e-12, epsrel=1e-11)[0] / q)
        else:
            vals.append(cdf(s, dist, m, v))
    return float(np.mean(vals))


# ------------------------------------------------------------------------------------------ discrete


def day_pmf(dist: int, m: float, v: float, n: int) -> np.ndarray:
    k = np.arange(n)
    if m <= 0:
        out = np.zeros(n)
        out[0] = 1
        return out
    if dist == POISSON or (dist == NEGBIN and v <= m * (1 + 1e-9)):
        return stats.poisson.pmf(k, m)
    if dist == NEGBIN:
        r = m * m / (v - m)
        return stats.nbinom.pmf(k, r, m / v)
    f = frozen(dist, m, v)
    cdf = f.cdf(k + 0.5)
    return np.diff(np.concatenate(([0.0], cdf)))


def pmfs(dist, d, vd, l_mean, l_sd, r_days, n):
    """pmfs of demand over L, R, L + R (length ``n``), compounding over the lead-time distribution."""
    if l_sd > 0:
        lo = max(int(math.floor(l_mean - 4 * l_sd)), 0)
        hi = max(int(math.ceil(l_mean + 4 * l_sd)), lo)
        lts, ws = [], []
        for k in range(lo, hi + 1):
            up = 1.0 if k >= hi else stats.norm.cdf((k + 0.5 - l_mean) / l_sd)
            dn = 0.0 if k <= lo else stats.norm.cdf((k - 0.5 - l_mean) / l_sd)
            lts.append(k)
            ws.append(up - dn)
    else:
        lts, ws = [l_mean], [1.0]
    p_l = sum(w * day_pmf(dist, d * lt, vd * lt, n) for lt, w in zip(lts, ws))
    p_t = sum(w * day_pmf(dist, d * (lt + r_days), vd * (lt + r_days), n) for lt, w in zip(lts, ws))
    p_r = day_pmf(dist, d * r_days, vd * r_days, n)
    return [p / p.sum() for p in (p_l, p_r, p_t)]


def _loss_at(p: np.ndarray, y: int) -> float:
    k = np.arange(p.shape[0])
    return float(np.sum(np.maximum(k - y, 0) * p))


def _cdf_at(p: np.ndarray, y: int) -> float:
    if y < 0:
        return 0.0
    return float(np.sum(p[: y + 1]))


def stationary(pol: int, s: int, q: int, p_r: np.ndarray) -> np.ndarray:
    """Stationary distribution of the inventory position after a review, states ``s+1..s+q``,
    from the Markov chain's transition matrix (index ``k`` = position ``s + q - k``)."""
    if pol == RS:
        return np.ones(1)
    states = np.arange(s + q, s, -1)
    size = len(states)
    tmat = np.zeros((size, size))
    for a, y in enumerate(states):
        for dem, pr in enumerate(p_r):
            x = y - dem
            if x > s:
                nxt = x
            elif pol == SS:
                nxt = s + q
            else:
                nxt = x + q * (math.floor((s - x) / q) + 1)
            tmat[a, s + q - nxt] += pr
    # solve pi T = pi, sum pi = 1
    amat = np.vstack([tmat.T - np.eye(size), np.ones(size)])
    rhs = np.zeros(size + 1)
    rhs[-1] = 1
    pi = np.linalg.lstsq(amat, rhs, rcond=None)[0]
    return pi


def service_discrete(s, pol, metric, lost, q, p_l, p_r, p_t):
    qq = 1 if pol == RS else q
    pi = stationary(pol, s, qq, p_r)
    m_l = float(np.dot(np.arange(len(p_l)), p_l))
    m_r = float(np.dot(np.arange(len(p_r)), p_r))
    if metric == 0:
        # enumerate (position after review, review demand) pairs that trigger an order
        num = den = 0.0
        for k in range(qq):
            y = s + qq - k
            for dem, pr in enumerate(p_r):
                x = y - dem
                if x <= s and pr > 0:
                    w = pi[k] * pr
                    den += w
                    num += w * _cdf_at(p_l, x)
        return 1.0 if den <= 0 else num / den
    b = sum(pi[k] * (_loss_at(p_t, s + qq - k) - _loss_at(p_l, s + qq - k)) for k in range(qq))
    if m_r <= 0:
        return 1.0
    return 1 - b / (m_r + b) if lost else 1 - b / m_r


def policy_discrete(target, pol, metric, lost, q, p_l, p_r, p_t):
    """Linear scan for the smallest level meeting ``target`` (level >= ceil(mean protection demand)).

    Returns ``(reported reorder point, order-up-to, cycle, fill)``; RS reports ``S``.
    """
    m_t = float(np.dot(np.arange(len(p_t)), p_t))
    shift = 1 if pol == RS else 0
    qq = 1 if pol == RS else q
    s = int(math.ceil(m_t - 1e-9)) - shift
    while service_discrete(s, pol, metric, lost, qq, p_l, p_r, p_t) < target:
        s += 1
    return (s + shift, s + qq, service_discrete(s, pol, 0, lost, qq, p_l, p_r, p_t),
            service_discrete(s, pol, 1, lost, qq, p_l, p_r, p_t))


# ------------------------------------------------------------------------------------------ simulator


def simulate(pol, s, big_s, q, r_per, lead, demand, lost, warmup=0):
    """Day-by-day simulation with deterministic integer lead time ``lead`` over ``demand``.

    Returns ``(cycle service, fill rate, stockout periods, average on hand)``.
    """
    net = big_s
    pipeline: list[list[float]] = []  # [arrival period, quantity]
    lost_flag = False
    cycles = cycles_so = 0
    tot = served_tot = 0.0
    so = 0
    oh = 0.0
    nobs = 0
    for t, dem in enumerate(demand):
        if t % r_per == 0:
            ip = net + sum(x[1] for x in pipeline)
            order = 0.0
            if pol == SQ:
                if ip <= s:
                    order = q * (math.floor((s - ip) / q) + 1)
            elif pol == SS:
                if ip <= s:
                    order = big_s - ip
            elif ip < big_s:
                order = big_s - ip
            if order > 0:
                pipeline.append([t + lead, order])
        arriving = [x for x in pipeline if x[0] == t]
        if arriving:
            if t >= warmup:
                cycles += len(arriving)
                if (lost and lost_flag) or (not lost and net < 0):
                    cycles_so += len(arriving)
            lost_flag = False
            for x in arriving:
                net += x[1]
            pipeline = [x for x in pipeline if x[0] != t]
        served = min(dem, max(net, 0.0))
        if lost:
            net -= served
            lost_flag = lost_flag or served < dem
        else:
            net -= dem
        if t >= warmup:
            nobs += 1
            tot += dem
            served_tot += served
            so += served < dem
            oh += max(net, 0.0)
    return (1 - cycles_so / cycles if cycles else 1.0, served_tot / tot if tot else 1.0, so,
            oh / nobs if nobs else 0.0)


def ss_cost_bruteforce(h, p, k, p_r, p_t, s_range, max_q):
    """Cost-optimal (s, S) by exhaustive search, each policy's cost from the Markov-chain stationary
    distribution: ``K P(order) + sum_y pi(y) [h E(y - D_T)^+ + p E(D_T - y)^+]`` per period."""
    m_t = float(np.dot(np.arange(len(p_t)), p_t))
    best = (math.inf, None, None)
    for s in s_range:
        for q in range(1, max_q + 1):
            pi = stationary(SS, s, q, p_r)
            freq = 0.0
            cost = 0.0
            for kk in range(q):
                y = s + q - kk
                for dem, pr in enumerate(p_r):
                    if y - dem <= s:
                        freq += pi[kk] * pr
                bo = _loss_at(p_t, y)
                cost += pi[kk] * (h * (y - m_t + bo) + p * bo)
            cost += k * freq
            if cost < best[0] - 1e-12:
                best = (cost, s, s + q)
    return best[1], best[2], best[0]


# --------------------------------------------------------------------------- random lead times


def lead_time_pmf(l_mean: float, l_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Lead times ``k`` and weights of ``round(N(l_mean, l_sd))`` clipped to mean +- 4 sd (>= 0)."""
    lo = max(math.floor(l_mean - 4 * l_sd), 0)
    hi = max(math.ceil(l_mean + 4 * l_sd), lo)
    ks = np.arange(lo, hi + 1)
    up = np.where(ks >= hi, 1.0, stats.norm.cdf(ks + 0.5, l_mean, l_sd))
    dn = np.where(ks <= lo, 0.0, stats.norm.cdf(ks - 0.5, l_mean, l_sd))
    return ks, up - dn


def mixture_cdf_loss(x, dist, d, vd, l_mean, l_sd, add_m=0.0, add_v=0.0):
    """``(cdf, loss1, loss2)`` of the lead-time mixture by scipy cdfs and quadrature per component:
    ``loss1 = E[(X-x)^+]``, ``loss2 = 0.5 E[((X-x)^+)^2]``."""
    ks, ws = lead_time_pmf(l_mean, l_sd)
    c = l1 = l2 = 0.0
    for k, w in zip(ks, ws):
        m, v = d * k + add_m, vd * k + add_v
        c += w * cdf(x, dist, m, v)
        l1 += w * loss(x, dist, m, v, 1)
        l2 += w * 0.5 * loss(x, dist, m, v, 2)
    return c, l1, l2


def service_mixture(s, pol, metric, lost, dist, r_days, d, vd, l_mean, l_sd, m_r, v_r, q):
    """Service of level ``s`` on the lead-time mixture (the expressions of ``service_continuous``)."""
    def fill(b, mr):
        if mr <= 0:
            return 1.0
        return 1 - b / (mr + b) if lost else 1 - b / mr

    mix = lambda x, am=0.0, av=0.0: mixture_cdf_loss(x, dist, d, vd, l_mean, l_sd, am, av)  # noqa: E731
    if pol == RS:
        if metric == 0:
            return mix(s, m_r, v_r)[0]
        return fill(mix(s, m_r, v_r)[1] - mix(s)[1], m_r)
    if metric == 0:
        if r_days <= 0:
            return mix(s)[0]
        mj, vj = undershoot(dist, m_r, v_r, q)
        return mix(s, mj, vj)[0]
    if r_days <= 0:
        return fill(mix(s)[1] - mix(s + q)[1], q)
    b = (mix(s, m_r, v_r)[2] - mix(s + q, m_r, v_r)[2] - mix(s)[2] + mix(s + q)[2]) / q
    return fill(b, m_r)


def policy_mixture(target, pol, metric, lost, dist, r_days, d, vd, l_mean, l_sd, m_r, v_r, q):
    """Level ``s >= mean protection demand`` meeting the target on the mixture (brentq)."""
    prot = d * l_mean + (m_r if (pol == RS or r_days > 0) else 0.0)
    args = (pol, metric, lost, dist, r_days, d, vd, l_mean, l_sd, m_r, v_r, q)
    g = lambda s: service_mixture(s, *args) - target  # noqa: E731
    lo = max(prot, 0.0)
    if g(lo) >= 0:
        s = lo
    else:
        hi = lo + max(math.sqrt(vd * l_mean + d * d * l_sd * l_sd + v_r), 1.0)
        while g(hi) < 0:
            hi = lo + 2 * (hi - lo)
        s = optimize.brentq(g, lo, hi, xtol=1e-10, rtol=1e-12)
    return s, service_mixture(s, pol, 0, *args[2:]), service_mixture(s, pol, 1, *args[2:])
