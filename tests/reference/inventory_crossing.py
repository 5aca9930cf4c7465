"""Slow, obviously-correct twin of ``_kernels/inventory/crossing.py`` (plain Python + scipy).

Order-up-to ``S`` every ``R`` days, i.i.d. lead times (normal rounded to whole days, clipped to
mean +- 4 sd), orders crossing.  The shortfall at the end of day ``j`` of a review period is the
demand of the ``j + 1`` current days plus, for every earlier order, its quantity times the
indicator that it is still outstanding (``P(L > age)``).  The twin builds these laws literally:

* integer demand: the pmf of each term ``(1 - p) delta_0 + p f_R`` convolved one after the other
  with ``numpy.convolve`` (no Poisson-binomial, no deconvolution), the arriving order's own term
  replaced by ``f_R`` conditioned on a positive order;
* continuous demand: the number of outstanding orders by enumerating every subset of the
  uncertain orders (``itertools.product``), then demand over the resulting number of days with
  ``scipy.stats`` and loss functions by quadrature (``tests.reference.inventory.loss``);
* levels by a linear scan (integer) or ``scipy.optimize.brentq`` (continuous).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import optimize, stats

from tests.reference import inventory as base

NORMAL, GAMMA, POISSON, NEGBIN = 0, 1, 2, 3


def lead_time_pmf(l_mean: float, l_sd: float) -> dict[int, float]:
    """``P(L = l)`` of a normal rounded to whole days and clipped to ``[mean - 4 sd, mean + 4 sd]``."""
    if l_sd <= 0:
        return {max(int(math.floor(l_mean + 0.5)), 0): 1.0}
    lo = max(int(math.floor(l_mean - 4 * l_sd)), 0)
    hi = max(int(math.ceil(l_mean + 4 * l_sd)), lo)
    g = stats.norm(l_mean, l_sd)
    out = {}
    for lt in range(lo, hi + 1):
        up = 1.0 if lt == hi else g.cdf(lt + 0.5)
        dn = 0.0 if lt == lo else g.cdf(lt - 0.5)
        out[lt] = up - dn
    tot = sum(out.values())
    return {k: v / tot for k, v in out.items()}


def survival(pl: dict[int, float], age: int) -> float:
    return sum(p for lt, p in pl.items() if lt > age)


def order_ages(pl: dict[int, float], r: int, j: int) -> list[int]:
    """Ages (days) at the end of day ``j`` of the orders that may still be outstanding."""
    hi = max(pl)
    return [j + m * r for m in range(hi + 1) if j + m * r < hi]


def day_pmf(dist: int, d: float, vd: float, days: int, size: int) -> np.ndarray:
    """Pmf of demand over ``days`` days on ``0..size-1`` (Poisson or negative binomial)."""
    m = d * days
    k = np.arange(size)
    if m <= 0:
        out = np.zeros(size)
        out[0] = 1.0
        return out
    if dist == POISSON or vd <= d:
        return stats.poisson.pmf(k, m)
    v = vd * days
    return stats.nbinom.pmf(k, m * m / (v - m), m / v)


def _conv(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    return np.convolve(a, b)[:size]


def shortfall_pmfs(dist, d, vd, r, l_mean, l_sd, size, day=None):
    """Pmfs of ``X_J``, ``W_J`` (``J`` uniform on the review period), of the shortfall just before
    an arrival (arriving order included, conditioned on a positive order) and of ``D_R``.

    ``day(days, size)``, when given, replaces the Poisson / negative-binomial pmf of demand over
    ``days`` days."""
    if day is None:
        def day(days, n):
            return day_pmf(dist, d, vd, days, n)
    pl = lead_time_pmf(l_mean, l_sd)
    f_r = day(r, size)
    px = np.zeros(size)
    pw = np.zeros(size)
    for j in range(r):
        x = day(j + 1, size)
        w = day(j, size)
        for age in order_ages(pl, r, j):
            p = survival(pl, age)
            term = p * f_r
            term[0] += 1 - p
            x = _conv(x, term, size)
            w = _conv(w, term, size)
        px += x / r
        pw += w / r
    q_pos = f_r.copy()
    q_pos[0] = 0.0
    q_pos /= q_pos.sum()
    pc = np.zeros(size)
    for lt, wl in pl.items():
        if lt == 0:  # arrives the day it is ordered: the current period's demand is that order
            j, own_age, cur = r - 1, None, np.eye(1, size).ravel()
        else:
            j, own_age = (lt - 1) % r, lt - 1
            cur = day(j + 1, size)
        z = _conv(cur, q_pos, size)
        for age in order_ages(pl, r, j):
            if age == own_age:
                continue
            p = survival(pl, age)
            term = p * f_r
            term[0] += 1 - p
            z = _conv(z, term, size)
        pc += wl * z
    return px, pw, pc, f_r


def _loss(p: np.ndarray, y: int) -> float:
    k = np.arange(p.size)
    return float(np.sum(np.maximum(k - y, 0) * p))


def policy_discrete(target, metric, dist, d, vd, r, l_mean, l_sd, size=400):
    """Smallest integer ``S`` meeting the target by a linear scan; returns ``(S, cycle, fill)``."""
    px, pw, pc, _ = shortfall_pmfs(dist, d, vd, r, l_mean, l_sd, size)

    def cycle(s):
        return float(pc[: s + 1].sum())

    def fill(s):
        return 1.0 - (_loss(px, s) - _loss(pw, s)) / d

    for s in range(size):
        if (cycle(s) if metric == 0 else fill(s)) >= target:
            return s, cycle(s), fill(s)
    raise RuntimeError("target not reached")


def _count_weights(probs: list[float]) -> np.ndarray:
    """Law of the number of successes, by enumerating every outcome of the indicators."""
    out = np.zeros(len(probs) + 1)
    for bits in itertools.product((0, 1), repeat=len(probs)):
        w = 1.0
        for b, p in zip(bits, probs):
            w *= p if b else 1 - p
        out[sum(bits)] += w
    return out


def day_mixtures(r, l_mean, l_sd):
    """``{days: weight}`` of ``X_J``, ``W_J`` and of the shortfall just before an arrival (arriving
    order included), each a mixture of demand over a whole number of days."""
    pl = lead_time_pmf(l_mean, l_sd)
    wx: dict[int, float] = {}
    ww: dict[int, float] = {}
    wc: dict[int, float] = {}
    for j in range(r):
        probs = [survival(pl, a) for a in order_ages(pl, r, j)]
        for n, w in enumerate(_count_weights(probs)):
            wx[j + 1 + n * r] = wx.get(j + 1 + n * r, 0.0) + w / r
            ww[j + n * r] = ww.get(j + n * r, 0.0) + w / r
    for lt, wl in pl.items():
        if lt == 0:
            j, own, cur = r - 1, None, 0
        else:
            j, own, cur = (lt - 1) % r, lt - 1, (lt - 1) % r + 1
        probs = [survival(pl, a) for a in order_ages(pl, r, j) if a != own]
        for n, w in enumerate(_count_weights(probs)):
            k = r + cur + n * r
            wc[k] = wc.get(k, 0.0) + wl * w
    return wx, ww, wc


def continuous_service(s, dist, d, vd, r, l_mean, l_sd, lost=False):
    """``(cycle, fill, ready, average backorders)`` of level ``s`` for normal / gamma demand."""
    wx, ww, wc = day_mixtures(r, l_mean, l_sd)
    cyc = sum(w * base.cdf(s, dist, d * k, vd * k) for k, w in wc.items())
    ready = sum(w * base.cdf(s, dist, d * k, vd * k) for k, w in wx.items())
    bo = sum(w * base.loss(s, dist, d * k, vd * k, 1) for k, w in wx.items())
    b = r * (bo - sum(w * base.loss(s, dist, d * k, vd * k, 1) for k, w in ww.items()))
    fill = 1 - b / (d * r + b) if lost else 1 - b / (d * r)
    return cyc, fill, ready, bo


def policy_continuous(target, metric, dist, d, vd, r, l_mean, l_sd, lost=False):
    """Level meeting the target exactly (``brentq``); returns ``(S, cycle, fill)``."""
    def g(s):
        c, f, _, _ = continuous_service(s, dist, d, vd, r, l_mean, l_sd, lost)
        return (c if metric == 0 else f) - target

    hi = d * (l_mean + 4 * l_sd + 2 * r) + 20 * math.sqrt(vd * (l_mean + 4 * l_sd + 2 * r)) + 10
    s = optimize.brentq(g, 0.0, hi, xtol=1e-10, rtol=1e-13)
    c, f, _, _ = continuous_service(s, dist, d, vd, r, l_mean, l_sd, lost)
    return s, c, f


def simulate_newsvendor(big_s: float, r: int, lead: int, shelf: int,
                        demand) -> tuple[float, float, float]:
    """Day-by-day newsvendor on a demand trace: order ``S`` every ``r`` days (fixed lead time),
    leftovers discarded at the next delivery and, when ``shelf > 0``, ``shelf`` days after their
    own delivery; unmet demand lost; the run starts with ``S`` on hand.
    Returns ``(cycle service, fill rate, expired units)``."""
    due: dict[int, float] = {}
    on_hand = big_s  # the run starts with S on hand, as if just delivered
    expire_at = shelf if shelf > 0 else None
    served_tot = dem_tot = expired = 0.0
    cycles = bad = 0
    lost_flag = False
    for t, dem in enumerate(demand):
        if t % r == 0 and big_s > 0:
            due[t + lead] = due.get(t + lead, 0.0) + big_s
        if t in due:
            cycles += 1
            bad += lost_flag
            lost_flag = False
            expired += on_hand
            on_hand = due.pop(t)
            expire_at = t + shelf if shelf > 0 else None
        if expire_at is not None and t >= expire_at:
            expired += on_hand
            on_hand = 0.0
        served = min(dem, on_hand)
        on_hand -= served
        lost_flag = lost_flag or served < dem
        served_tot += served
        dem_tot += dem
    return (1 - bad / cycles if cycles else 1.0), (served_tot / dem_tot if dem_tot else 1.0), expired
