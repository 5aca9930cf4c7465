"""Sample paths of future demand from per-step predictive distributions (numba)."""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import DIST_NORMAL, DIST_POISSON


@numba.njit(**NUMBA_OPTS)
def simulate_paths(mean, var, dist, seeds, nonnegative, out):  # pragma: no cover - compiled
    """Fill ``out[i, p, k]`` with path ``p`` of series ``i`` at step ``k``.

    Normal series: errors accumulate independent increments, ``e_k = sum_{j<=k} sqrt(v_j - v_{j-1}) z_j``
    with the variances made non-decreasing, so each step has the model's marginal variance and
    steps are positively correlated as in level-based models (random walk, SES, ETS).  Negative
    binomial (any other code) and Poisson series draw each period independently (gamma-Poisson mixture), as the
    intermittent-demand models assume.  Each series reseeds the generator from ``seeds[i]``, so a
    series' paths do not depend on which other series share the call or thread.
    """
    n, n_paths, h = out.shape
    for i in range(n):
        np.random.seed(seeds[i])
        if dist[i] == DIST_NORMAL:
            for p in range(n_paths):
                e = 0.0
                prev = 0.0
                for k in range(h):
                    v = var[i, k]
                    if v < prev:
                        v = prev
                    inc = v - prev
                    prev = v
                    e += np.sqrt(inc) * np.random.standard_normal()
                    x = mean[i, k] + e
                    if nonnegative and x < 0.0:
                        x = 0.0
                    out[i, p, k] = x
        else:
            for p in range(n_paths):
                for k in range(h):
                    m = mean[i, k]
                    v = var[i, k]
                    if not (m > 0.0):
                        out[i, p, k] = 0.0
                    elif dist[i] == DIST_POISSON or not (v > m):
                        out[i, p, k] = float(np.random.poisson(m))
                    else:
                        r = m * m / (v - m)
                        lam = np.random.gamma(r, m / r)
                        out[i, p, k] = float(np.random.poisson(lam))


@numba.njit(**NUMBA_OPTS)
def seeds_from_bytes(offsets, data, seed, out):  # pragma: no cover - compiled
    """32-bit seed per string: FNV-1a of its UTF-8 bytes, mixed with ``seed`` (splitmix-style)."""
    for i in range(out.shape[0]):
        h = np.uint64(14695981039346656037)
        for j in range(offsets[i], offsets[i + 1]):
            h = (h ^ np.uint64(data[j])) * np.uint64(1099511628211)
        h ^= np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        out[i] = np.uint32(h & np.uint64(0xFFFFFFFF))
