"""Numba kernels: integer pmfs of compound (occurrence x size) demand built from a demand history.

Model (Croston 1972; the compound-Bernoulli view of intermittent demand, Syntetos, Babai & Gardner
2015; Axsäter 2015, ch. 5 "compound Poisson demand"; Willemain, Smart & Schwarz 2004 for the use
of an item's own history).  In each period of ``period`` days a demand occurs with probability
``p``, independently of other periods, and its size is drawn from the item's own size
distribution ``g`` (integer units >= 1, estimated from the non-zero demands of the history).  Over
``x`` days, i.e. ``x / period = k + f`` periods (``k`` whole, ``0 <= f < 1``), the number of
demands is ``N = Bin(k, p) + Bern(f p)`` (the partial period is thinned), and demand over the
interval is ``D = sum_{m <= N} Size_m`` with pmf ``sum_n P(N = n) g^{*n}``.  A random lead time
makes ``x`` random; the law of ``N`` is then the mixture over the discretised lead time
(:func:`~stockopt._kernels.inventory.discrete.lead_time_weight`), and the same convolution powers
``g^{*n}`` serve every interval of an item, so an item's lead-time, review-period and
protection-interval pmfs come out of one pass.

Layout: an item ``i`` owns the outputs ``oj[i]..oj[i+1]-1``; output ``j`` is the mixture of the
components ``cp[j]..cp[j+1]-1`` with lengths ``comp_x`` (periods) and weights ``comp_w``.
:func:`compound_pmfs` returns them in CSR form, each cut where its tail falls below
``COUNT_TAIL`` (count laws are cut there too).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS

#: count laws are cut where the probability of more demands falls below this
COUNT_TAIL = 1e-14


@numba.njit(**NUMBA_OPTS)
def _binom_add(out, w, k, p):
    """Add ``w`` times the pmf of ``Bin(k, p)`` on ``0..k`` to ``out`` (``len(out) > k``)."""
    if p <= 0.0:
        out[0] += w
        return
    if p >= 1.0:
        out[k] += w
        return
    lp = math.log(p)
    lq = math.log1p(-p)
    lgk = math.lgamma(k + 1.0)
    for n in range(k + 1):
        out[n] += w * math.exp(lgk - math.lgamma(n + 1.0) - math.lgamma(k - n + 1.0) + n * lp + (k - n) * lq)


@numba.njit(**NUMBA_OPTS)
def count_pmf(p, comp_x, comp_w, a, b):
    """Law of the number of demands over the mixture of components ``a..b-1`` (see module docstring)."""
    kmax = 0
    for c in range(a, b):
        k = int(math.floor(comp_x[c] + 1e-9))
        if k + 1 > kmax:
            kmax = k + 1
    out = np.zeros(kmax + 1)
    tmp = np.zeros(kmax + 1)
    for c in range(a, b):
        w = comp_w[c]
        if w <= 0.0:
            continue
        x = comp_x[c]
        k = int(math.floor(x + 1e-9))
        f = x - k
        if f < 1e-9:
            f = 0.0
        for n in range(k + 2):
            tmp[n] = 0.0
        _binom_add(tmp, 1.0, k, p)
        pf = f * p  # the partial period: one more demand with probability f p
        for n in range(k + 1, -1, -1):
            below = tmp[n - 1] if n >= 1 else 0.0
            out[n] += w * (tmp[n] * (1.0 - pf) + below * pf)
    tot = 0.0
    for n in range(kmax + 1):
        tot += out[n]
    if tot > 0.0:
        for n in range(kmax + 1):
            out[n] /= tot
    # cut the tail
    top = kmax
    tail = 0.0
    while top > 0 and tail + out[top] < COUNT_TAIL:
        tail += out[top]
        top -= 1
    return out[:top + 1]


@numba.njit(**NUMBA_OPTS)
def _append(buf, pos, src, n):
    """Copy ``src[:n]`` to ``buf[pos:]``, doubling ``buf`` when it is full; returns the buffer."""
    if pos + n > buf.shape[0]:
        cap = buf.shape[0] * 2
        while cap < pos + n:
            cap *= 2
        big = np.empty(cap)
        big[:pos] = buf[:pos]
        buf = big
    buf[pos:pos + n] = src[:n]
    return buf


@numba.njit(**NUMBA_OPTS)
def compound_pmfs(p, g_vals, g_ip, oj, cp, comp_x, comp_w):
    """The output pmfs of every item (module docstring), as CSR ``(vals, ip)``.

    ``g_vals[g_ip[i]:g_ip[i+1]]`` is item ``i``'s size pmf on ``0..smax`` (``P(size = 0) = 0``).
    The convolution powers ``g^{*n}`` are built once per item (sparse in ``g``: only sizes that
    carry mass) and added to each output with its count probability; entries of ``g^{*n}`` below
    ``1e-20`` at its top are dropped as they appear (they can only shrink further), and each
    output is cut where its tail falls below ``COUNT_TAIL`` and renormalised.
    """
    n_out = oj[oj.shape[0] - 1]
    ip = np.zeros(n_out + 1, np.int64)
    buf = np.empty(1 << 16)
    pos = 0
    for i in range(p.shape[0]):
        g = g_vals[g_ip[i]:g_ip[i + 1]]
        smax = g.shape[0] - 1
        nnz = 0
        for s in range(1, smax + 1):
            if g[s] > 0.0:
                nnz += 1
        sz = np.empty(nnz, np.int64)
        sp = np.empty(nnz)
        c = 0
        for s in range(1, smax + 1):
            if g[s] > 0.0:
                sz[c] = s
                sp[c] = g[s]
                c += 1
        j0 = oj[i]
        j1 = oj[i + 1]
        counts = []
        nmax = 0
        for j in range(j0, j1):
            cnt = count_pmf(p[i], comp_x, comp_w, cp[j], cp[j + 1])
            counts.append(cnt)
            if cnt.shape[0] - 1 > nmax:
                nmax = cnt.shape[0] - 1
        if nnz == 0:
            nmax = 0  # no size seen: no demand at all
        width = nmax * smax + 1
        acc = np.zeros((j1 - j0, width))
        used = np.ones(j1 - j0, np.int64)
        conv = np.zeros(width)
        conv[0] = 1.0
        clen = 1
        nxt = np.zeros(width)
        for n in range(nmax + 1):
            if n > 0:
                top = clen + smax
                for y in range(top):
                    nxt[y] = 0.0
                for y in range(clen):
                    cy = conv[y]
                    if cy != 0.0:
                        for k in range(nnz):
                            nxt[y + sz[k]] += cy * sp[k]
                while top > 1 and nxt[top - 1] < 1e-20:
                    top -= 1
                for y in range(top):
                    conv[y] = nxt[y]
                clen = top
            for jj in range(j1 - j0):
                cnt = counts[jj]
                if n < cnt.shape[0] and cnt[n] > 0.0:
                    w = cnt[n]
                    for y in range(clen):
                        acc[jj, y] += w * conv[y]
                    if clen > used[jj]:
                        used[jj] = clen
        for jj in range(j1 - j0):
            out = acc[jj]
            top = used[jj]
            tot = 0.0
            for y in range(top):
                tot += out[y]
            tail = 0.0
            while top > 1 and tail + out[top - 1] < COUNT_TAIL * tot:
                tail += out[top - 1]
                top -= 1
            if tot > 0.0:
                for y in range(top):
                    out[y] /= tot - tail
            else:
                out[0] = 1.0
                top = 1
            buf = _append(buf, pos, out, top)
            pos += top
            ip[j0 + jj + 1] = pos
    return buf[:pos].copy(), ip


__all__ = ["COUNT_TAIL", "count_pmf", "compound_pmfs"]
