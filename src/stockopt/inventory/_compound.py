"""Integer pmfs of compound (occurrence x size) demand for the discrete sizing family.

The kernels of :mod:`stockopt._kernels.inventory.compound` build, per item, the law of demand over
mixtures of intervals; this module lays the intervals out: the lead time (fixed, or discretised
exactly as the other integer methods and the simulator do: a normal rounded to whole days and
clipped to mean +- 4 sd), the review period, their sum, the ready-rate days and the day mixtures of
the crossing-orders model, vectorised over items (loops run over lead-time offsets, never items).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stockopt._kernels.inventory.compound import compound_pmfs


@dataclass
class CompoundParams:
    """Compound law per item (arrays over all items of a run; other items have an empty size pmf).

    ``p`` occurrence probability per period, ``period`` period length (days), size pmfs in CSR form
    (``g_vals[g_ip[i]:g_ip[i+1]]`` = ``P(size = 0..max)``), ``size_mean``/``size_var`` (units).
    """

    p: np.ndarray
    period: np.ndarray
    g_vals: np.ndarray
    g_ip: np.ndarray
    size_mean: np.ndarray
    size_var: np.ndarray

    def take(self, sub: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``p``, ``period`` and the size pmfs (CSR) of items ``sub``."""
        a, b = self.g_ip[sub], self.g_ip[sub + 1]
        lens = b - a
        ip = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
        gather = np.repeat(a - ip[:-1], lens) + np.arange(ip[-1])
        return self.p[sub], self.period[sub], np.ascontiguousarray(self.g_vals[gather]), ip


def lead_time_components(l_mean: np.ndarray, l_sd: np.ndarray):
    """Discretised lead time per item: ``(item, days, weight)`` (one entry for a fixed lead time)."""
    from scipy.special import ndtr

    rnd = l_sd > 0
    lo = np.where(rnd, np.maximum(np.floor(l_mean - 4 * l_sd), 0), l_mean)
    hi = np.where(rnd, np.ceil(l_mean + 4 * l_sd), l_mean)
    items, days, ws = [], [], []
    for j in range(int(np.max(hi - lo, initial=0)) + 1):  # loop over lead-time offsets, not items
        lt = lo + j
        valid = lt <= hi
        with np.errstate(divide="ignore", invalid="ignore"):
            up = np.where(lt >= hi, 1.0, ndtr((lt + 0.5 - l_mean) / l_sd))
            dn = np.where(lt <= lo, 0.0, ndtr((lt - 0.5 - l_mean) / l_sd))
        w = np.where(rnd, up - dn, 1.0)
        keep = valid & (w > 0)
        items.append(np.flatnonzero(keep))
        days.append(lt[keep])
        ws.append(w[keep])
    item = np.concatenate(items) if items else np.zeros(0, np.int64)
    order = np.argsort(item, kind="stable")
    return item[order], np.concatenate(days)[order] if days else np.zeros(0), \
        np.concatenate(ws)[order] if ws else np.zeros(0)


def _build(cp_: CompoundParams, sub: np.ndarray, n_out: np.ndarray, comp_out: np.ndarray,
           comp_days: np.ndarray, comp_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pmfs of ``n_out[k]`` outputs for each item ``sub[k]`` (item-major), each the mixture of its
    components (``comp_out`` = global output index, lengths ``comp_days``, weights ``comp_w``)."""
    p, period, gv, gip = cp_.take(sub)
    oj = np.concatenate(([0], np.cumsum(n_out))).astype(np.int64)
    total = int(oj[-1])
    order = np.argsort(comp_out, kind="stable")
    cp = np.concatenate(([0], np.cumsum(np.bincount(comp_out, minlength=total)))).astype(np.int64)
    out_item = np.repeat(np.arange(sub.size), n_out)
    comp_x = np.ascontiguousarray(comp_days[order] / period[out_item[comp_out[order]]])
    comp_w = np.ascontiguousarray(comp_w[order], dtype=np.float64)
    return compound_pmfs(p, gv, gip, oj, cp, comp_x, comp_w)


def _split(vals: np.ndarray, ip: np.ndarray, n_kinds: int, kind: int) -> tuple[np.ndarray, np.ndarray]:
    """From item-major outputs (``n_kinds`` per item), the CSR of output ``kind`` of every item."""
    a = ip[kind:-1:n_kinds]
    b = ip[kind + 1::n_kinds]
    lens = b - a
    nip = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    gather = np.repeat(a - nip[:-1], lens) + np.arange(nip[-1])
    return np.ascontiguousarray(vals[gather]), nip


def compound_sizing_pmfs(cp_: CompoundParams, sub: np.ndarray, l_mean: np.ndarray, l_sd: np.ndarray,
                         r_days: np.ndarray):
    """``(vals_l, ip_l, vals_r, ip_r, vals_t, ip_t)``: demand over ``L``, ``R`` and ``L + R`` days."""
    m = sub.size
    li, ld, lw = lead_time_components(l_mean, l_sd)
    # outputs per item: 0 = L (lead-time components), 1 = R (one component), 2 = L + R
    comp_out = np.concatenate((3 * li, 3 * np.arange(m) + 1, 3 * li + 2))
    comp_days = np.concatenate((ld, r_days, ld + r_days[li]))
    comp_w = np.concatenate((lw, np.ones(m), lw))
    vals, ip = _build(cp_, sub, np.full(m, 3), comp_out, comp_days, comp_w)
    return (*_split(vals, ip, 3, 0), *_split(vals, ip, 3, 1), *_split(vals, ip, 3, 2))


def compound_ready_pmfs(cp_: CompoundParams, sub: np.ndarray, l_mean: np.ndarray, l_sd: np.ndarray,
                        r_days: np.ndarray, jp: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Pmfs of ``D_{L+j}`` for the ready-rate days ``j`` (item ``k`` owns ``jp[k]..jp[k+1]-1``)."""
    npts = np.diff(jp)
    li, ld, lw = lead_time_components(l_mean, l_sd)
    r_int = np.maximum(np.floor(r_days + 0.5), 1)
    outs, days, ws = [], [], []
    for kk in range(int(npts.max(initial=0))):  # ready-rate days, as discrete.ready_points
        has = npts[li] > kk
        day = np.where(npts == r_int, kk + 1.0, 0.5 + r_int / np.maximum(npts, 1) * (kk + 0.5))
        outs.append(jp[li[has]] + kk)
        days.append(ld[has] + day[li[has]])
        ws.append(lw[has])
    return _build(cp_, sub, npts, np.concatenate(outs), np.concatenate(days), np.concatenate(ws))


def compound_crossing_pmfs(cp_: CompoundParams, sub: np.ndarray, r_int: np.ndarray, l_mean: np.ndarray,
                           l_sd: np.ndarray):
    """Integer pmfs for the crossing-orders kernel (``policy_crossing_pmfs``): the day mixtures
    ``X``, ``W``, ``Z`` (one common CSR layout) and ``D_R``."""
    from stockopt._kernels.inventory.crossing import crossing_sizes, crossing_weights_csr

    m = sub.size
    r_int = np.ascontiguousarray(r_int, dtype=np.int64)
    kk = np.empty(m, np.int64)
    crossing_sizes(r_int, l_mean, l_sd, kk)
    ipw = np.concatenate(([0], np.cumsum(kk))).astype(np.int64)
    wts = [np.zeros(int(ipw[-1])) for _ in range(3)]
    crossing_weights_csr(r_int, l_mean, l_sd, ipw, *wts)
    item = np.repeat(np.arange(m), kk)
    k_days = (np.arange(int(ipw[-1])) - ipw[:-1][item]).astype(np.float64)
    comp_out = np.concatenate([4 * item + j for j in range(3)] + [4 * np.arange(m) + 3])
    comp_days = np.concatenate([k_days] * 3 + [r_int.astype(np.float64)])
    comp_w = np.concatenate(wts + [np.ones(m)])
    vals, ip = _build(cp_, sub, np.full(m, 4), comp_out, comp_days, comp_w)
    parts = [_split(vals, ip, 4, j) for j in range(4)]
    # X, W and Z share one layout: pad each item's three pmfs to the longest of them
    lens = np.stack([np.diff(pp[1]) for pp in parts[:3]])
    size = lens.max(axis=0)
    ip_x = np.concatenate(([0], np.cumsum(size))).astype(np.int64)
    padded = []
    for (v, pip), ln in zip(parts[:3], lens):
        out = np.zeros(int(ip_x[-1]))
        dst = np.repeat(ip_x[:-1], ln) + (np.arange(int(pip[-1])) - np.repeat(pip[:-1], ln))
        out[dst] = v
        padded.append(out)
    return padded[0], padded[1], padded[2], ip_x, parts[3][0], parts[3][1]
