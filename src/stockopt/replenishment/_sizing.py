"""The unconstrained order of every item: position, cover period, cost curve, packs (vectorised).

For each item (``docs/replenishment.md``, "Method"):

1. its supplier's next order day ``o1`` on or after ``as_of``, the order day after it ``o2``, and
   the arrivals ``a1 = o1 + L``, ``a2 = o2 + L`` (lead time ``L`` in whole days);
2. the stock position ``y = on hand + open orders arriving before a2 - backorders - reserved``;
3. the demand from ``as_of`` through each day of the cover ``[a1, a2)``: from the forecast (sum of
   the forecast over those days, partial periods prorated) or from the policy's protection demand
   scaled to days -- always the latter for an item whose policy was sized on a compound law of its
   own history (distribution ``"compound"``, :func:`stockopt.history_profile`), whose spread the
   forecast's intervals cannot carry; demand over a day range is normal for a normal policy and
   otherwise a gamma law with the same mean and variance (gamma, Poisson, negative binomial,
   empirical and compound policies);
4. the level: the larger of the cover-period newsvendor level (critical ratio ``b / (b + h)``) and
   the policy's level moved to the actual protection interval (``order_up_to + m_T - m_policy``;
   ``(s, nQ)``: the position plus whole lots); the order is triggered when the position is below it
   (RS, base stock, newsvendor) or at or below the moved reorder point (sS, sQ);
5. the caps (``max_stock``, what can sell before ``shelf_life_days``, at most ``max_cover_cycles``
   extra cover periods) and the MOQ in packs, then the integer pack count minimising the cover cost
   (:func:`stockopt._kernels.inventory.cover.argmin_packs`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, time_to_days
from stockopt._exec import for_item_blocks, item_blocks
from stockopt._kernels.codes import DIST_COMPOUND, DIST_GAMMA, DIST_NORMAL, POL_SQ, POL_SS
from stockopt._kernels.inventory.cover import argmin_packs, cover_slopes, newsvendor_levels
from stockopt.errors import MissingColumnError, ValidationError, raise_error
from stockopt.inventory._validate import as_table, id_strings
from stockopt.replenishment._tables import Tables, next_order_days

#: cover days evaluated exactly up to this many; longer covers use this many midpoints
MAX_POINTS = 7
#: fewest items worth a thread of their own for the cover kernels
_MIN_ITEMS_PER_BLOCK = 5_000
_DAYS_PER_YEAR = 365.0

# relaxation codes (per item): which cap left no orderable quantity
RELAX_NONE, RELAX_MAX_STOCK, RELAX_SHELF = 0, 1, 2


@dataclass
class Sizing:
    """Per-item arrays of one run (item order = the policy's)."""

    n: int
    order_day: np.ndarray
    arrival: np.ndarray
    next_arrival: np.ndarray
    lead: np.ndarray
    on_hand: np.ndarray
    on_order: np.ndarray
    backorders: np.ndarray
    reserved: np.ndarray
    y: np.ndarray
    ip: np.ndarray  # cover day points (CSR)
    pm: np.ndarray
    pv: np.ndarray
    pw: np.ndarray
    dist: np.ndarray  # DIST_NORMAL or DIST_GAMMA
    rate: np.ndarray  # mean demand per day over the protection interval
    m_arrival: np.ndarray  # mean demand from as_of to the arrival (days before a1)
    v_arrival: np.ndarray  # its variance
    h: np.ndarray
    b: np.ndarray
    level: np.ndarray
    level_nv: np.ndarray
    reorder: np.ndarray
    trigger_rs: np.ndarray  # True: triggered by "position < level"; False: "position <= reorder point"
    triggered: np.ndarray
    qt: np.ndarray
    g: np.ndarray
    kap: np.ndarray
    pk: np.ndarray
    kmin: np.ndarray
    kmax: np.ndarray
    relax: np.ndarray
    cap_kind: np.ndarray  # 0 none, 1 max stock, 2 shelf life: the cap that bound k_star
    cap_units: np.ndarray
    k_star: np.ndarray
    value_per_pack: np.ndarray
    volume_per_pack: np.ndarray
    weight_per_pack: np.ndarray
    extra: dict = field(default_factory=dict)


def _forecast_moments(
    forecast: Any,
    tb: Tables,
    day0: int,
    lengths: list[np.ndarray],
    model: str | None,
    period_days: float | None,
    time_col: str,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], Callable[[int], tuple[np.ndarray, np.ndarray]]]:
    """Mean and variance of demand over days ``[as_of, as_of + length)`` for each length array, and
    the function giving the mean and variance of one day."""
    from stockopt.inventory.demand import demand_profile

    id_col = tb.id_col
    ft = as_table(forecast, "forecast")
    prof = demand_profile(ft, model=model, period_days=period_days, id_col=id_col, time_col=time_col)
    pos = _to_numpy(pc.fill_null(pc.index_in(tb.ids, value_set=prof.ids_str), -1), np.int64)
    if (pos < 0).any():
        row = int(np.argmax(pos < 0))
        raise_error(ValidationError, "no forecast for an item of the policy", table="forecast", column=id_col,
                    series=tb.ids[row].as_py(), expected="a forecast per policy item")
    n_prof = len(prof.ids)
    if prof.kind == "forecast" and prof.var is None:  # no interval columns: the items' demand_std per day
        std = tb.item["demand_std"]
        if np.isnan(std).any():
            row = int(np.argmax(np.isnan(std)))
            raise_error(MissingColumnError, "the forecast has no interval columns and an item no demand_std",
                        table="items", column="demand_std", series=tb.ids[row].as_py(),
                        expected="<Model>-lo-<L>/-hi-<L> columns in the forecast, or demand_std (per day) "
                                 "per item")
        full = np.zeros(n_prof)
        full[pos] = std
        prof.set_daily_std(full)
    start = np.zeros(n_prof)
    if prof.kind != "summary":
        first = ft.group_by(id_col).aggregate([(time_col, "min")])
        fpos = _to_numpy(pc.index_in(prof.ids_str, value_set=id_strings(first.column(id_col))), np.int64)
        d0 = np.asarray(time_to_days(first.column(f"{time_col}_min"), table="forecast", column=time_col)[0],
                        dtype=np.int64)[fpos]
        off = day0 - d0
        late = off[pos] < 0
        if late.any():
            row = int(np.argmax(late))
            raise_error(ValidationError, "the forecast starts after as_of", table="forecast", column=time_col,
                        series=tb.ids[row].as_py(), expected="forecasts from as_of on (or earlier)",
                        got=str(np.datetime64(int(d0[pos[row]]), "D")))
        start[pos] = np.maximum(off[pos], 0)  # forecast series without a policy item are not read
    out = []
    for length in lengths:
        full = np.zeros(n_prof)
        full[pos] = length
        m, v = prof.moments(start, full)
        out.append((m[pos], v[pos]))
    days_left = np.full(n_prof, np.inf)
    if prof.kind != "summary":  # days of forecast from as_of (the shortest sample path for sample paths)
        np.minimum.at(days_left, prof.path_item, np.diff(prof.ip) * prof.period)
        days_left -= start

    def daily(d: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of day ``d`` from as_of (the forecast's last day beyond its end)."""
        day = np.minimum(float(d), np.maximum(days_left - 1.0, 0.0))
        m, v = prof.moments(start + day, np.where(np.isfinite(days_left), np.minimum(1.0, days_left), 1.0))
        return m[pos], v[pos]

    return out, daily


def size_orders(
    tb: Tables,
    day0: int,
    *,
    forecast: Any = None,
    model: str | None = None,
    period_days: float | None = None,
    time_col: str = "ds",
    max_cover_cycles: float = 2.0,
    n_jobs: int = 1,
) -> Sizing:
    """Everything per item up to the unconstrained pack count (see the module docstring)."""
    n = len(tb.ids)
    it, st, pol = tb.item, tb.stock, tb.pol
    sup = np.maximum(tb.item_sup, 0)
    o1_s, o2_s = next_order_days(tb.mask, day0)
    o1 = o1_s[sup]
    o2 = o2_s[sup]
    lead = np.ceil(np.nan_to_num(it["lead_time"], nan=0.0) - 1e-9).astype(np.int64)
    a1 = o1 + lead
    a2 = o2 + lead
    cover = (o2 - o1).astype(np.int64)
    on_order = np.bincount(
        tb.on_order_item,
        weights=np.where(tb.on_order_day < a2[tb.on_order_item], tb.on_order_qty, 0.0),
        minlength=n,
    )
    y = st["on_hand"] + on_order - st["backorders"] - st["reserved"]

    # cover day points
    npts = np.minimum(cover, MAX_POINTS)
    ip = np.concatenate(([0], np.cumsum(npts))).astype(np.int64)
    item = np.repeat(np.arange(n), npts)
    p = np.arange(int(ip[-1])) - ip[:-1][item]
    exact = cover[item] <= MAX_POINTS
    j = np.where(exact, p, np.floor((p + 0.5) * cover[item] / np.maximum(npts[item], 1)))
    pw = np.where(exact, 1.0, cover[item] / np.maximum(npts[item], 1))
    days_pt = (a1 - day0)[item] + j + 1.0  # demand days from as_of through the point's day
    t_prot = (a2 - day0).astype(np.float64)  # protection interval [as_of, a2)
    t_arr = (a1 - day0).astype(np.float64)
    span = pol["lead_time"] + pol["review_period"]
    # the policy's protection demand per day: the demand without a forecast, and always that of the items
    # whose policy was sized on a compound law from their own history (DIST_COMPOUND), which the
    # forecast's intervals cannot carry
    rate_m = np.divide(pol["protection_demand_mean"], span, out=np.zeros(n), where=span > 0)
    rate_v = np.divide(pol["protection_demand_std"] ** 2, span, out=np.zeros(n), where=span > 0)
    own = pol["distribution"] == DIST_COMPOUND if forecast is not None else np.ones(n, dtype=bool)
    pm = rate_m[item] * days_pt
    pv = rate_v[item] * days_pt
    m_t = rate_m * t_prot
    m_arr = rate_m * t_arr
    v_arr = rate_v * t_arr

    def daily_policy(d: int) -> tuple[np.ndarray, np.ndarray]:
        return rate_m, rate_v

    daily = daily_policy
    if not own.all():
        lengths = [np.zeros(n) for _ in range(MAX_POINTS)]
        for k in range(MAX_POINTS):
            sel = np.flatnonzero(npts > k)
            lengths[k][sel] = days_pt[ip[:-1][sel] + k]
        res, daily_fc = _forecast_moments(forecast, tb, day0, lengths + [t_prot, t_arr], model, period_days,
                                          time_col)
        for k in range(MAX_POINTS):
            sel = np.flatnonzero((npts > k) & ~own)
            pm[ip[:-1][sel] + k] = res[k][0][sel]
            pv[ip[:-1][sel] + k] = res[k][1][sel]
        m_t = np.where(own, m_t, res[MAX_POINTS][0])
        m_arr = np.where(own, m_arr, res[MAX_POINTS + 1][0])
        v_arr = np.where(own, v_arr, res[MAX_POINTS + 1][1])

        def daily(d: int) -> tuple[np.ndarray, np.ndarray]:
            m, v = daily_fc(d)
            return np.where(own, rate_m, m), np.where(own, rate_v, v)

    rate = np.divide(m_t, t_prot, out=np.zeros(n), where=t_prot > 0)
    dist = np.where(pol["distribution"] == DIST_NORMAL, DIST_NORMAL, DIST_GAMMA).astype(np.int64)

    h = it["unit_cost"] * it["holding_rate"] / _DAYS_PER_YEAR
    alpha = it["service_level"]
    b = np.where(np.isnan(it["stockout_cost"]), h * alpha / (1.0 - alpha), it["stockout_cost"])
    level_nv = np.empty(n)
    per_item(
        n,
        n_jobs,
        lambda a, c: newsvendor_levels(ip[a : c + 1], pm, pv, pw, dist[a:c], h[a:c], b[a:c], level_nv[a:c]),
    )

    shift = m_t - pol["protection_demand_mean"]
    code = pol["policy"]
    lot = (code == POL_SQ) | (code == POL_SS)
    reorder = np.where(lot, pol["reorder_point"] + shift, pol["order_up_to"] + shift)
    q_lot = pol["order_quantity"]
    n_lots = np.where(
        q_lot > 0, np.floor(np.divide(reorder - y, q_lot, out=np.zeros(n), where=q_lot > 0)) + 1, 0
    )
    level_pol = np.where(
        (code == POL_SQ) & (q_lot > 0), y + np.maximum(n_lots, 0) * q_lot, pol["order_up_to"] + shift
    )
    level = np.minimum(np.maximum(level_nv, level_pol), it["max_stock"])
    triggered = np.where(lot, y <= reorder, y < level) & (level > y) & ~tb.missing_supplier
    qt = np.maximum(level - y, 0.0)
    slope = np.empty(n)
    per_item(
        n,
        n_jobs,
        lambda a, c: cover_slopes(
            level[a:c], ip[a : c + 1], pm, pv, pw, dist[a:c], h[a:c], b[a:c], slope[a:c]
        ),
    )
    g = np.where(triggered, np.maximum(slope, 0.0), 0.0)
    # a lot policy's lot smaller by s costs about K s^2 / (2 q^2) of extra ordering (EOQ cost curve)
    kap = np.divide(it["order_cost"], 2.0 * qt**2, out=np.zeros(n), where=triggered & lot & (qt > 1e-9))

    pk = it["pack_size"]
    kmin = np.ceil(it["moq"] / pk - 1e-9).astype(np.int64)
    cap_ms = it["max_stock"] - y
    sell_days = (a1 - day0) + it["shelf_life_days"]
    with np.errstate(invalid="ignore"):
        cap_sl = np.where(np.isfinite(it["shelf_life_days"]), rate * sell_days - y, np.inf)
    cap_cov = qt + max_cover_cycles * rate * cover + pk
    cap = np.minimum(np.minimum(cap_ms, cap_sl), cap_cov)
    kmax = np.floor(np.maximum(cap, 0.0) / pk + 1e-9).astype(np.int64)
    kmax = np.where(triggered, kmax, 0)
    lo = np.maximum(kmin, 1)
    short = triggered & (kmax < lo)
    relax = np.where(short, np.where(cap_ms <= cap_sl, RELAX_MAX_STOCK, RELAX_SHELF), RELAX_NONE).astype(
        np.int8
    )
    kmax = np.where(short, lo, kmax)
    zero = np.zeros(n)
    k_star = argmin_items(y, pk, kmin, kmax, qt, g, kap, zero, ip, pm, pv, pw, dist, h, b, n_jobs)
    # which cap bound the optimum: re-solve those at the cover cap alone
    at_cap = np.flatnonzero((k_star == kmax) & (kmax > 0) & (relax == RELAX_NONE) & (cap < cap_cov))
    cap_kind = np.zeros(n, np.int8)
    cap_units = np.zeros(n)
    if at_cap.size:
        kc = np.floor(np.maximum(cap_cov[at_cap], 0.0) / pk[at_cap] + 1e-9).astype(np.int64)
        gi, gip = _gather_csr(ip, at_cap)
        k_free = argmin_items(y[at_cap], pk[at_cap], kmin[at_cap], kc, qt[at_cap], g[at_cap], kap[at_cap],
                              zero[at_cap], gip, pm[gi], pv[gi], pw[gi], dist[at_cap], h[at_cap], b[at_cap],
                              n_jobs=1)
        bound = k_free > k_star[at_cap]
        idx = at_cap[bound]
        cap_kind[idx] = np.where(cap_ms[idx] <= cap_sl[idx], RELAX_MAX_STOCK, RELAX_SHELF)
        cap_units[idx] = np.where(cap_ms[idx] <= cap_sl[idx], it["max_stock"][idx], cap_sl[idx])
    return Sizing(
        n=n,
        order_day=o1,
        arrival=a1,
        next_arrival=a2,
        lead=lead,
        on_hand=st["on_hand"],
        on_order=on_order,
        backorders=st["backorders"],
        reserved=st["reserved"],
        y=y,
        ip=ip,
        pm=pm,
        pv=pv,
        pw=pw,
        dist=dist,
        rate=rate,
        m_arrival=m_arr,
        v_arrival=v_arr,
        h=h,
        b=b,
        level=level,
        level_nv=level_nv,
        reorder=reorder,
        trigger_rs=~lot,
        triggered=triggered,
        qt=qt,
        g=g,
        kap=kap,
        pk=pk,
        kmin=kmin,
        kmax=kmax,
        relax=relax,
        cap_kind=cap_kind,
        cap_units=cap_units,
        k_star=k_star,
        value_per_pack=it["unit_cost"] * pk,
        volume_per_pack=it["volume"] * pk,
        weight_per_pack=it["weight"] * pk,
        extra={
            "n_jobs": n_jobs,
            "cap_sellable": cap_sl,
            "cover_days": cover,
            "m_protection": m_t,
            "daily": daily,
            "day0": day0,
            "next_order_day": o2,
        },
    )


def per_item(n: int, n_jobs: int, fn: Callable[[int, int], None]) -> None:
    """Run the in-place ``fn(a, b)`` over contiguous item ranges, one per thread (the kernels release the
    GIL), through the executor seam."""
    for_item_blocks(item_blocks(n, n_jobs, min_items=_MIN_ITEMS_PER_BLOCK), fn)


def argmin_items(y: np.ndarray, pk: np.ndarray, kmin: np.ndarray, kmax: np.ndarray, qt: np.ndarray,
                 g: np.ndarray, kap: np.ndarray, lam: np.ndarray, ip: np.ndarray, pm: np.ndarray,
                 pv: np.ndarray, pw: np.ndarray, dist: np.ndarray, h: np.ndarray, b: np.ndarray,
                 n_jobs: int) -> np.ndarray:
    """Each item's integer optimum in packs, ``lam`` the price of a pack (0: no supplier constraint),
    by the kernel ``argmin_packs`` over blocks of items (``ip``: each item's grid points in
    ``pm, pv, pw``)."""
    out = np.zeros(y.size, np.int64)
    per_item(y.size, n_jobs, lambda a, c: argmin_packs(
        y[a:c], pk[a:c], kmin[a:c], kmax[a:c], qt[a:c], g[a:c], kap[a:c], lam[a:c], ip[a : c + 1], pm, pv, pw,
        dist[a:c], h[a:c], b[a:c], out[a:c]))
    return out


def _gather_csr(ip: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the CSR entries of ``rows`` and the sub-CSR's offsets."""
    lens = ip[rows + 1] - ip[rows]
    sub = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    pos = np.repeat(ip[rows] - sub[:-1], lens) + np.arange(int(sub[-1]))
    return pos.astype(np.int64), sub


def gather_points(sz: Sizing, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cover day points ``(ip, pm, pv, pw)`` of the items ``rows`` as their own CSR."""
    pos, sub = _gather_csr(sz.ip, rows)
    return sub, sz.pm[pos], sz.pv[pos], sz.pw[pos]


def ids_take(ids: pa.Array, rows: np.ndarray) -> pa.Array:
    return ids.take(pa.array(rows, type=pa.int64()))
