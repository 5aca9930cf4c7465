"""Numba kernel: periodic min-max (R, s, S) policies for continuous (normal, gamma) demand.

Method (Hadley & Whitin 1963, ch. 5; Zheng & Federgruen 1991; Axsäter 2015, ch. 5, "(R, s, S)
with continuous demand").  Let ``X`` be the demand accumulated since the last order, observed right
after a review.  An order is placed when ``X >= Q = S - s``, after which ``X = 0`` again, so ``X``
is a renewal process in the review-period demand ``D_R`` stopped at ``Q``.  Its stationary law on
``[0, Q)`` is the renewal measure ``U = sum_n P(D_R^{*n} in dx)`` restricted to ``[0, Q)`` and
normalised: an atom at 0 (the review at which the order was placed; mass ``1 / (1 - f0)`` when
``D_R`` has an atom ``f0`` at zero, as a normal censored at zero has) plus the renewal density.
The inventory position after a review is ``S - X``.  Then, as for integer demand:

* fill rate ``1 - E_X[n_T(S - X) - n_L(S - X)] / E[D_R]`` (backorders created per review period
  over the demand of one period; ``n_x`` the first-order loss of ``D_x``);
* cycle service ``P(D_L + V <= s)`` with ``V = X + D_R - Q`` the undershoot of ``s`` at an ordering
  review, whose law is ``sum`` over the position before that review of ``P(D_R = Q - x + v)``;
* ready rate ``(1/R) sum_j E_X[P(D_{L+j} <= S - X)]``;
* expected backorders at the end of a review period ``E_X[n_T(S - X)]``.

**Discretisation** (error controlled by the cell width).  ``[0, Q)`` is cut into ``N`` cells of
width ``h = Q / N`` with ``h ~ sd(D_R) / grid_k`` (``grid_k = 8`` by default, at most
``MAX_CELLS`` cells).  Within a cell the renewal mass is taken as uniform; a point uniform in a cell
plus ``D_R`` then lands ``i`` cells further with probability
``c_i = E[max(0, 1 - |D_R / h - i|)]`` (the "hat" discretisation, which keeps the mean exactly and
needs only the loss function: ``c_i = [n(ih + h) - 2 n(ih) + n(ih - h)] / h``), while the atom at
0 moves ``i`` cells with ``a_i = P(ih <= D_R < ih + h)``.  The cell masses ``nu_k`` solve the
discrete renewal equation ``(1 - f0) nu_k = U0 a_k + sum_{j <= k} c_{k-j} nu_j``.  Integrals of a
function of the position over a cell use exact antiderivatives (``int n = -n2``,
``int F = y - E + n``), so the only approximation is the uniform mass within a cell: the error is
second order in ``h / sd(D_R)`` (``tests/test_inventory_ss.py`` measures it: below 2e-4 in service
at ``grid_k = 8`` against ``grid_k = 64``).  A gamma ``D_R`` with shape below 1 has a density
singular at 0 and converges more slowly: its cells are ``1/shape`` times narrower (at most 8 times;
error below 5e-4 up to a coefficient of variation of 3).

The loss functions of ``D_L`` and ``D_T`` are tabulated exactly (closed forms) on a grid of step
``h`` aligned with the reorder-level candidates, filled lazily; the smallest ``s`` meeting the
target is bracketed between grid points by bisection and found inside the bracket from the cubic
Hermite interpolant of the service (values and exact slopes at both ends).  A random lead time is
handled as for the other continuous policies: the lead-time distribution is discretised (normal
rounded to whole days, clipped at mean +- 4 sd) and every table entry is the weighted sum over
the components (Axsäter 2015, ch. 5).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import DIST_GAMMA, METRIC_CYCLE, POLICY_FLOORED, POLICY_OK, POLICY_UNREACHABLE
from stockopt._kernels.inventory.core import c_eval_at, gamma_lga
from stockopt._kernels.inventory.discrete import lead_time_support, lead_time_weight
from stockopt._kernels.inventory.policy import READY_MAX_POINTS, _fill_and_slope

#: cells per standard deviation of the review-period demand
GRID_K = 8.0
#: most cells on [0, Q) (the cell width grows beyond sd / GRID_K for very large Q)
MAX_CELLS = 8192
#: upper end of the reorder-level search, in standard deviations of D_T above the floor
MAX_SPAN_SD = 256.0


@numba.njit(**NUMBA_OPTS)
def _past_tail(cdf, loss1, y, h):
    """Past the right tail: ``1 - F <= 1e-12`` and ``E[(D - y)^+] <= 1e-12 (|y| + h)``.

    The thresholds sit well above the rounding drift of incrementally updated incomplete gamma
    values (absolute errors of ~1e-16 per step in ``P`` and ``Q``, a few hundred steps per table);
    what is neglected beyond them changes a service measure by less than ~1e-9.
    """
    return 1.0 - cdf <= 1e-12 and loss1 <= 1e-12 * (abs(y) + h)


@numba.njit(**NUMBA_OPTS)
def review_kernel(dist, m_r, v_r, h):
    """Cell transition masses of the review-period demand ``D_R`` (normal censored at 0, or gamma).

    Returns ``(a, c, f0, n_mean)``: ``a[i] = P(ih <= D_R < ih + h, D_R > 0)`` (moves of the atom at
    0), ``c[i] = E[max(0, 1 - |D_R / h - i|); D_R > 0]`` (moves of a point uniform in its cell),
    ``f0 = P(D_R <= 0)`` and ``E[max(D_R, 0)]``.  Both arrays stop where the remaining mass is
    below ``1e-15``.
    """
    sd = math.sqrt(v_r) if v_r > 0.0 else 0.0
    size = int(math.ceil((m_r + 60.0 * sd) / h)) + 4
    if dist == DIST_GAMMA and v_r > 0.0 and m_r > 0.0:
        shape = m_r * m_r / v_r
        if shape < 1.0:  # heavier tail: room for ~35 / shape scales
            size = int(math.ceil((m_r + (40.0 + 35.0 / shape) * sd) / h)) + 4
    cdf = np.empty(size + 1)
    loss = np.empty(size + 1)
    last = size
    anc = np.full(3, math.nan)
    lga = gamma_lga(dist, m_r, v_r)
    for i in range(size + 1):
        c, _, l1, _ = c_eval_at(i * h, dist, m_r, v_r, lga, anc, 0)
        cdf[i] = c
        loss[i] = l1
        if i >= 2 and _past_tail(c, l1, i * h, h):
            last = i
            break
    if dist == DIST_GAMMA:
        f0 = 0.0
        cdf[0] = 0.0
    else:
        f0 = cdf[0]
    n_mean = loss[0]
    a = np.zeros(last)
    c_arr = np.zeros(last)
    for i in range(last):
        a[i] = cdf[i + 1] - cdf[i]
        if i == 0:
            c_arr[0] = (h - loss[0] + loss[1]) / h - f0
        else:
            c_arr[i] = (loss[i + 1] - 2.0 * loss[i] + loss[i - 1]) / h
        if a[i] < 0.0:
            a[i] = 0.0
        if c_arr[i] < 0.0:
            c_arr[i] = 0.0
    return a, c_arr, f0, n_mean


@numba.njit(**NUMBA_OPTS)
def renewal_cells(a, c, f0, n_cells):
    """Renewal mass per cell ``nu[k]``, ``k < n_cells``, and the atom ``U0 = 1 / (1 - f0)``.

    ``(1 - f0 - c0) nu_k = U0 a_k + sum_{1 <= i <= k} c_i nu_{k-i}``.  Past the support of ``a``
    each ``nu_k`` is a convex combination of the previous ``len(c)`` values, so once that many
    consecutive values lie within ``1e-12`` (relative) of the renewal-theorem limit
    ``1 / sum_i i c_i`` (``= h / E[D_R]``) all later ones do too, and the rest is set to the limit.
    """
    u0 = 1.0 / (1.0 - f0)
    nu = np.empty(n_cells)
    na = a.shape[0]
    nc = c.shape[0]
    den = 1.0 - f0 - c[0]
    mean_step = 0.0
    for i in range(nc):
        mean_step += i * c[i]
    lim = 1.0 / mean_step if mean_step > 0.0 else 0.0
    steady = 0
    for k in range(n_cells):
        acc = u0 * a[k] if k < na else 0.0
        top = k if k < nc - 1 else nc - 1
        for i in range(1, top + 1):
            acc += c[i] * nu[k - i]
        nu[k] = acc / den
        if k >= na and abs(nu[k] - lim) <= 1e-12 * lim:
            steady += 1
            if steady >= nc:
                for j in range(k + 1, n_cells):
                    nu[j] = lim
                break
        else:
            steady = 0
    return u0, nu


@numba.njit(**NUMBA_OPTS)
def undershoot_cells(a, c, u0, nu):
    """Law of the undershoot ``V = X + D_R - Q`` per cell of width ``h`` (``v[j] = P(jh <= V < jh + h)``).

    ``v_j = U0 a_{N+j} + sum_k nu_k c_{N+j-k}``; where ``nu`` has reached its limit (a constant
    tail, see :func:`renewal_cells`) the sum over that tail is a partial sum of ``c``.
    """
    n_cells = nu.shape[0]
    nc = c.shape[0]
    na = a.shape[0]
    cum = np.empty(nc + 1)  # cum[i] = c_0 + ... + c_{i-1}
    cum[0] = 0.0
    for i in range(nc):
        cum[i + 1] = cum[i] + c[i]
    k_flat = n_cells  # first index of the constant tail of nu
    while k_flat > 1 and nu[k_flat - 1] == nu[k_flat - 2]:
        k_flat -= 1
    if k_flat == n_cells or n_cells - k_flat < 2:
        k_flat = n_cells
    lim = nu[n_cells - 1]
    v = np.zeros(nc)
    tot = 0.0
    for j in range(nc):
        acc = u0 * a[n_cells + j] if n_cells + j < na else 0.0
        k0 = n_cells + j - nc + 1
        if k0 < 0:
            k0 = 0
        k1 = k_flat if k_flat > k0 else k0
        for k in range(k0, k1):
            acc += nu[k] * c[n_cells + j - k]
        if k1 < n_cells:  # sum_{k=k1}^{N-1} c_{N+j-k} = c_{j+1} + ... + c_{N+j-k1}
            acc += lim * (cum[n_cells + j - k1 + 1] - cum[j + 1])
        v[j] = acc
        tot += acc
    if tot > 0.0:
        for j in range(nc):
            v[j] /= tot
    return v


@numba.njit(**NUMBA_OPTS)
def _components(dist, m_l, v_l, d, vd, l_mean, l_sd):
    """Lead-time demand components ``(means, variances, weights)``: one, or the discretised mixture."""
    if l_sd > 0.0:
        lo, hi = lead_time_support(l_mean, l_sd)
        cm = np.empty(hi - lo + 1)
        cv = np.empty(hi - lo + 1)
        cw = np.empty(hi - lo + 1)
        n = 0
        for k in range(lo, hi + 1):
            w = lead_time_weight(k, lo, hi, l_mean, l_sd)
            if w <= 0.0:
                continue
            cm[n] = d * k
            cv[n] = vd * k
            cw[n] = w
            n += 1
        return cm[:n], cv[:n], cw[:n]
    cm = np.empty(1)
    cv = np.empty(1)
    cw = np.ones(1)
    cm[0] = m_l
    cv[0] = v_l
    return cm, cv, cw


@numba.njit(**NUMBA_OPTS)
def _fill_table(tab, filled, lo, hi, y0, h, dist, cm, cv, cw, add_m, add_v, anc, lgs, top):
    """Fill rows ``lo..hi`` of ``tab`` (columns cdf, loss1, loss2) of the mixture at ``y0 + i h``.

    ``top[0]`` is the lowest row known to be past the right tail (:func:`_past_tail`): rows above
    it are set to (1, 0, 0) without evaluation (cdf and losses are monotone).
    """
    for i in range(lo, hi + 1):
        if filled[i]:
            continue
        if i >= top[0]:
            tab[i, 0] = 1.0
            tab[i, 1] = 0.0
            tab[i, 2] = 0.0
            filled[i] = True
            continue
        y = y0 + i * h
        f = 0.0
        l1 = 0.0
        l2 = 0.0
        for c in range(cm.shape[0]):
            r = c_eval_at(y, dist, cm[c] + add_m, cv[c] + add_v, lgs[c], anc, 3 * c)
            f += cw[c] * r[0]
            l1 += cw[c] * r[2]
            l2 += cw[c] * r[3]
        tab[i, 0] = f
        tab[i, 1] = l1
        tab[i, 2] = l2
        filled[i] = True
        if i < top[0] and _past_tail(f, l1, y, h):
            top[0] = i


@numba.njit(**NUMBA_OPTS)
def _grow(tab, filled, size):
    new_tab = np.empty((size, 3))
    new_f = np.zeros(size, dtype=np.bool_)
    new_tab[:tab.shape[0]] = tab
    new_f[:filled.shape[0]] = filled
    return new_tab, new_f


@numba.njit(**NUMBA_OPTS)
def _fill_at(i, n_cells, u0, nu, m_pos, tab_t, tab_l, h):
    """Shortage per review period ``B`` and ``dB/ds`` for the level on grid row ``i``, and ``E[n_T]``."""
    top = i + n_cells
    b = u0 * (tab_t[top, 1] - tab_l[top, 1])
    db = u0 * (tab_t[top, 0] - tab_l[top, 0])
    bo = u0 * tab_t[top, 1]
    for k in range(n_cells):
        hi_ = top - k
        lo_ = hi_ - 1
        w = nu[k] / h
        dt2 = tab_t[lo_, 2] - tab_t[hi_, 2]
        dl2 = tab_l[lo_, 2] - tab_l[hi_, 2]
        b += w * (dt2 - dl2)
        db += w * ((tab_t[hi_, 1] - tab_t[lo_, 1]) - (tab_l[hi_, 1] - tab_l[lo_, 1]))
        bo += w * dt2
    return b / m_pos, db / m_pos, bo / m_pos


@numba.njit(**NUMBA_OPTS)
def _cycle_at(i, v, tab_l, h):
    """Cycle service ``P(D_L + V <= s)`` and its slope for the level on grid row ``i``."""
    g = 0.0
    dg = 0.0
    for j in range(v.shape[0]):
        if v[j] == 0.0:
            continue
        a = i - j
        b = a - 1
        g += v[j] * (h + tab_l[a, 1] - tab_l[b, 1]) / h
        dg += v[j] * (tab_l[a, 0] - tab_l[b, 0]) / h
    if g > 1.0:
        g = 1.0
    return g, dg


@numba.njit(**NUMBA_OPTS)
def _measure(row, fill_metric, tabs, grid, dist, cm, cv, cw, nu, v, lost):
    """Fill rate or cycle service of the level on grid row ``row`` (tables filled on demand)."""
    tab_t, f_t, top_t, anc_t, lg_t, tab_l, f_l, top_l, anc_l, lg_l = tabs
    y0, h, n_cells, n_v, u0, m_pos, mr, vr = grid
    if fill_metric:
        _fill_table(tab_t, f_t, row, row + n_cells, y0, h, dist, cm, cv, cw, mr, vr, anc_t, lg_t, top_t)
        _fill_table(tab_l, f_l, row, row + n_cells, y0, h, dist, cm, cv, cw, 0.0, 0.0, anc_l, lg_l, top_l)
        b, db, _ = _fill_at(row, n_cells, u0, nu, m_pos, tab_t, tab_l, h)
        return _fill_and_slope(b, db, mr, lost)[0]
    _fill_table(tab_l, f_l, row - n_v - 1, row, y0, h, dist, cm, cv, cw, 0.0, 0.0, anc_l, lg_l, top_l)
    return _cycle_at(row, v, tab_l, h)[0]


@numba.njit(**NUMBA_OPTS)
def _hermite(t, ga, da, gb, db, h):
    t2 = t * t
    t3 = t2 * t
    return ((2 * t3 - 3 * t2 + 1) * ga + (t3 - 2 * t2 + t) * h * da
            + (-2 * t3 + 3 * t2) * gb + (t3 - t2) * h * db)


@numba.njit(**NUMBA_OPTS)
def _ready_ss(big_s, u0, nu, m_pos, h, dist, cm, cv, cw, d, vd, r_days, anc, lgs):
    """Ready rate ``(1/R) sum_j E_X[F_{L+j}(S - X)]`` (days averaged as in ``ready_rate_continuous``)."""
    r = int(math.floor(r_days + 0.5))
    if r < 1:
        r = 1
    npts = r if r <= READY_MAX_POINTS else READY_MAX_POINTS
    step = r / npts
    n_cells = nu.shape[0]
    acc = 0.0
    for kk in range(npts):
        j = float(kk + 1) if npts == r else 0.5 + step * (kk + 0.5)
        for c in range(cm.shape[0]):
            m = cm[c] + d * j
            var = cv[c] + vd * j
            lgs[c] = gamma_lga(dist, m, var)
            anc[3 * c] = math.nan
        # from the bottom point (y = s) up; past the right tail (cdf 1, loss below 1e-16 h) the
        # remaining points are not evaluated (cdf and loss are monotone)
        tot = 0.0
        prev_l1 = 0.0
        done = False
        for k in range(n_cells, -1, -1):
            f = 1.0
            l1 = 0.0
            if not done:
                y = big_s - k * h
                f = 0.0
                for c in range(cm.shape[0]):
                    res = c_eval_at(y, dist, cm[c] + d * j, cv[c] + vd * j, lgs[c], anc, 3 * c)
                    f += cw[c] * res[0]
                    l1 += cw[c] * res[2]
                done = _past_tail(f, l1, y, h)
            if k < n_cells:  # cell k covers [S - (k+1)h, S - kh]: mean cdf (h + n(top) - n(bottom)) / h
                tot += nu[k] * (h + l1 - prev_l1) / h
            if k == 0:
                tot += u0 * f
            prev_l1 = l1
        acc += tot / m_pos
    r_out = acc / npts
    if r_out < 0.0:
        return 0.0
    if r_out > 1.0:
        return 1.0
    return r_out


@numba.njit(**NUMBA_OPTS)
def policy_ss_continuous(dist, metric, target, r_days, m_l, v_l, m_r, v_r, q, d_day, vd_day, l_mean,
                         l_sd, lost, floor_ss, do_ready, grid_k,
                         out_s, out_big_s, out_ss, out_cycle, out_fill, out_bo, out_oh, out_ready,
                         out_status):
    """Size (R, s, S) min-max policies with ``S - s = q`` for normal or gamma demand (module docstring).

    Per item (1-D arrays): ``m_l, v_l`` lead-time demand moments (used when ``l_sd == 0``),
    ``m_r, v_r`` review-period demand moments, ``q = S - s`` (units), ``d_day, vd_day`` daily
    demand mean and variance (for the lead-time mixture when ``l_sd > 0``, and the ready rate),
    ``l_mean, l_sd`` lead time in days.  ``floor_ss`` keeps ``s`` at or above the mean demand over
    the protection interval.  ``grid_k`` is the number of cells per standard deviation of ``D_R``.
    Writes the reorder level ``s``, ``S = s + q``, safety stock ``s - E[D_T]``, expected cycle
    service, fill rate, backorders at the end of a review period, time-average on hand, the ready
    rate (NaN unless ``do_ready``) and a status code.
    """
    n = dist.shape[0]
    for i in range(n):
        di = dist[i]
        mr = m_r[i]
        vr = v_r[i]
        qi = q[i] if q[i] > 0.0 else 0.0
        rd = r_days[i]
        cm, cv, cw = _components(di, m_l[i], v_l[i], d_day[i], vd_day[i], l_mean[i], l_sd[i])
        if cm.shape[0] == 1:
            ml = cm[0]
            vl = cv[0]
        else:  # mixture moments
            ml = 0.0
            vl = 0.0
            for c in range(cm.shape[0]):
                ml += cw[c] * cm[c]
            for c in range(cm.shape[0]):
                vl += cw[c] * (cv[c] + (cm[c] - ml) ** 2)
        mt = ml + mr  # mean protection demand of the (mixture) distribution, for the on-hand balance
        mprot = m_l[i] + mr  # floor and safety stock refer to E[D_L] = d L, as for RS / sQ
        sd_t = math.sqrt(vl + vr)
        tail = mr * (rd - 1.0) / (2.0 * rd) if rd >= 1.0 else 0.0
        lo_level = mprot if floor_ss else 0.0
        if lo_level < 0.0:
            lo_level = 0.0
        out_ready[i] = math.nan
        if mr <= 0.0:  # no demand: never orders, never short
            out_s[i] = lo_level
            out_big_s[i] = lo_level + qi
            out_ss[i] = lo_level - mprot
            out_cycle[i] = 1.0
            out_fill[i] = 1.0
            out_bo[i] = 0.0
            out_oh[i] = lo_level + qi - mt if lo_level + qi > mt else 0.0
            out_status[i] = POLICY_FLOORED if floor_ss else POLICY_OK
            if do_ready:
                out_ready[i] = 1.0
            continue
        sd_r = math.sqrt(vr) if vr > 0.0 else 0.0
        scale = sd_r if sd_r > 0.0 else mr
        h = scale / grid_k
        if di == DIST_GAMMA and vr > mr * mr:  # shape below 1: a density singular at 0 needs finer
            h *= max(mr * mr / vr, 0.125)  # cells (1/shape times narrower, at most 8 times)
        # S - s below 1/64 of a cell (sd/512): computed as S = s (every review orders, as RS), which
        # moves the position by less than that; S is still reported as s + q
        many = qi > h / 64.0
        if many:
            n_cells = int(math.ceil(qi / h - 1e-9))
            if n_cells < 1:
                n_cells = 1
            if n_cells > MAX_CELLS:
                n_cells = MAX_CELLS
            h = qi / n_cells
        else:
            n_cells = 0
        a, c, f0, _ = review_kernel(di, mr, vr, h)
        if many:
            u0, nu = renewal_cells(a, c, f0, n_cells)
        else:  # no cells: the atom at X = 0 (position S) only
            u0 = 1.0
            nu = np.zeros(0)
        m_pos = u0
        ex = 0.0
        for k in range(n_cells):
            m_pos += nu[k]
            ex += nu[k] * (k + 0.5) * h
        ex /= m_pos
        if many:
            v = undershoot_cells(a, c, u0, nu)
        else:  # V = D_R (cells of D_R from the atom)
            v = a.copy()
            tot = 0.0
            for j in range(v.shape[0]):
                tot += v[j]
            v[0] += f0
            tot += f0
            for j in range(v.shape[0]):
                v[j] /= tot
        n_v = v.shape[0]
        # grid rows: y = y0 + i h; the floor sits on row i_lo, candidates i_lo..i_hi
        i_lo = n_v + 1
        y0 = lo_level - i_lo * h
        span = 8.0 * sd_t if sd_t > 0.0 else 8.0 * h
        i_hi = i_lo + int(math.ceil(span / h)) + 1
        size = i_hi + n_cells + 2
        tab_t = np.empty((size, 3))
        tab_l = np.empty((size, 3))
        f_t = np.zeros(size, dtype=np.bool_)
        f_l = np.zeros(size, dtype=np.bool_)
        nc_ = cm.shape[0]
        anc_t = np.empty(3 * nc_)
        anc_l = np.empty(3 * nc_)
        lg_t = np.empty(nc_)
        lg_l = np.empty(nc_)
        top_t = np.full(1, size + 1, np.int64)
        top_l = np.full(1, size + 1, np.int64)
        for cc in range(nc_):
            lg_t[cc] = gamma_lga(di, cm[cc] + mr, cv[cc] + vr)
            lg_l[cc] = gamma_lga(di, cm[cc], cv[cc])
            anc_t[3 * cc] = math.nan
            anc_l[3 * cc] = math.nan
        met = metric[i]
        tg = target[i]

        def_fill = met != METRIC_CYCLE  # sizing metric; evaluate at the floor first
        tabs = (tab_t, f_t, top_t, anc_t, lg_t, tab_l, f_l, top_l, anc_l, lg_l)
        grid = (y0, h, n_cells, n_v, u0, m_pos, mr, vr)
        g_lo = _measure(i_lo, def_fill, tabs, grid, di, cm, cv, cw, nu, v, lost)
        st = POLICY_OK
        row_a = i_lo
        row_b = i_lo
        t_root = 0.0
        if g_lo >= tg:
            st = POLICY_FLOORED if floor_ss else POLICY_OK
        else:
            while _measure(i_hi, def_fill, tabs, grid, di, cm, cv, cw, nu, v, lost) < tg:  # upper end
                if span >= MAX_SPAN_SD * (sd_t if sd_t > 0.0 else h):
                    st = POLICY_UNREACHABLE
                    break
                span *= 2.0
                i_hi = i_lo + int(math.ceil(span / h)) + 1
                size = i_hi + n_cells + 2
                tab_t, f_t = _grow(tab_t, f_t, size)
                tab_l, f_l = _grow(tab_l, f_l, size)
                tabs = (tab_t, f_t, top_t, anc_t, lg_t, tab_l, f_l, top_l, anc_l, lg_l)
            if st == POLICY_UNREACHABLE:
                row_a = i_hi
                row_b = i_hi
            else:
                ra = i_lo
                rb = i_hi
                while rb - ra > 1:  # bisection on grid rows: ra fails, rb meets the target
                    rc = (ra + rb) // 2
                    if _measure(rc, def_fill, tabs, grid, di, cm, cv, cw, nu, v, lost) >= tg:
                        rb = rc
                    else:
                        ra = rc
                row_a = ra
                row_b = rb
        # both measures (value, slope) at the bracket ends
        for rr in (row_a, row_b):
            _measure(rr, True, tabs, grid, di, cm, cv, cw, nu, v, lost)
            _measure(rr, False, tabs, grid, di, cm, cv, cw, nu, v, lost)
        ba, dba, boa = _fill_at(row_a, n_cells, u0, nu, m_pos, tab_t, tab_l, h)
        bb, dbb, bob = _fill_at(row_b, n_cells, u0, nu, m_pos, tab_t, tab_l, h)
        fa, dfa = _fill_and_slope(ba, dba, mr, lost)
        fb, dfb = _fill_and_slope(bb, dbb, mr, lost)
        ca, dca = _cycle_at(row_a, v, tab_l, h)
        cb, dcb = _cycle_at(row_b, v, tab_l, h)
        if row_b > row_a:
            ga, da, gb, dbv = (fa, dfa, fb, dfb) if def_fill else (ca, dca, cb, dcb)
            t_lo = 0.0
            t_hi = 1.0
            for _ in range(60):  # bisection on the monotone cubic (ga < target <= gb)
                tm = 0.5 * (t_lo + t_hi)
                if _hermite(tm, ga, da, gb, dbv, h) >= tg:
                    t_hi = tm
                else:
                    t_lo = tm
            t_root = t_hi
        s = y0 + (row_a + t_root) * h
        if row_b > row_a:
            fill = _hermite(t_root, fa, dfa, fb, dfb, h)
            cyc = _hermite(t_root, ca, dca, cb, dcb, h)
        else:
            fill = fa
            cyc = ca
        bo = boa + t_root * (bob - boa)
        out_status[i] = st
        out_s[i] = s
        out_big_s[i] = s + qi
        out_ss[i] = s - mprot
        out_cycle[i] = min(max(cyc, 0.0), 1.0)
        out_fill[i] = min(max(fill, 0.0), 1.0)
        out_bo[i] = bo if bo > 0.0 else 0.0
        oh = s + qi - ex - mt + bo + tail
        out_oh[i] = oh if oh > 0.0 else 0.0
        if do_ready:
            out_ready[i] = _ready_ss(s + (qi if many else 0.0), u0, nu, m_pos, h, di, cm, cv, cw, d_day[i],
                                     vd_day[i], rd, anc_l, lg_l)


__all__ = [
    "GRID_K",
    "MAX_CELLS",
    "policy_ss_continuous",
    "renewal_cells",
    "review_kernel",
    "undershoot_cells",
]
