"""Slow, obviously-correct twins of the compound-demand pmfs and the multi-item service allocation.

* :func:`compound_pmf` -- demand over ``x`` days as the plain repeated convolution of the
  per-period law ``(1 - p) delta_0 + p g`` (``k`` whole periods) and of the thinned partial period,
  mixed over lead times with :func:`tests.reference.inventory.lead_time_pmf`-style weights;
* :func:`on_hand` -- average on hand from the stationary position (``tests.reference.inventory``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from tests.reference.inventory import RS, _loss_at, stationary


def compound_pmf(p: float, period: float, sizes: np.ndarray, days: float) -> np.ndarray:
    """pmf of demand over ``days``: ``k`` whole periods of ``(1-p) delta_0 + p g`` and one thinned."""
    z = days / period
    k = int(math.floor(z + 1e-9))
    f = z - k if z - k > 1e-9 else 0.0
    per = p * np.asarray(sizes, float)
    per[0] += 1.0 - p
    out = np.ones(1)
    for _ in range(k):
        out = np.convolve(out, per)
    part = f * p * np.asarray(sizes, float)
    part[0] += 1.0 - f * p
    return np.convolve(out, part)


def compound_pmf_mixed(p, period, sizes, l_mean, l_sd, extra):
    """:func:`compound_pmf` over ``L + extra`` days, ``L`` rounded normal clipped to mean +- 4 sd."""
    if l_sd <= 0:
        return compound_pmf(p, period, sizes, l_mean + extra)
    lo = max(int(math.floor(l_mean - 4 * l_sd)), 0)
    hi = max(int(math.ceil(l_mean + 4 * l_sd)), lo)
    parts = []
    for kk in range(lo, hi + 1):
        up = 1.0 if kk >= hi else stats.norm.cdf((kk + 0.5 - l_mean) / l_sd)
        dn = 0.0 if kk <= lo else stats.norm.cdf((kk - 0.5 - l_mean) / l_sd)
        parts.append((up - dn, compound_pmf(p, period, sizes, kk + extra)))
    n = max(len(x) for _, x in parts)
    out = np.zeros(n)
    for w, x in parts:
        out[: len(x)] += w * x
    return out / out.sum()


def on_hand(s: int, pol: int, q: int, r_days: float, p_l: np.ndarray, p_r: np.ndarray,
            p_t: np.ndarray) -> float:
    """``E[y] - E[D_L] - E[D_R] (R+1)/(2R) + E[n_L(y)] + (E[n_T(y)] - E[n_L(y)]) (R+1)/(2R)``."""
    qq = 1 if pol == RS else q
    pi = stationary(pol, s, qq, p_r)
    ys = [s + qq - k for k in range(qq)]
    ey = sum(w * y for w, y in zip(pi, ys))
    bl = sum(w * _loss_at(p_l, y) for w, y in zip(pi, ys))
    bt = sum(w * _loss_at(p_t, y) for w, y in zip(pi, ys))
    m_l = float(np.dot(np.arange(len(p_l)), p_l))
    m_r = float(np.dot(np.arange(len(p_r)), p_r))
    w = (r_days + 1) / (2 * r_days)
    return max(ey - m_l - m_r * w + bl + (bt - bl) * w, 0.0)
