"""Demand drivers: promotions, prices and events, estimated with pooling across series.

Each series' sales are modelled as a baseline times the drivers' multiplicative effects,

    E[y_t] = b_t * exp(sum_j beta_j x_jt),

where ``b_t`` is the series' two-sided local level without the period itself (see
:mod:`stockopt._kernels.forecast.drivers`), ``x_jt`` a promotion or event flag (effect: an uplift
``exp(beta)``), or ``log(price_t / p_ref)`` with ``p_ref`` the series' median price (effect: the
price elasticity ``beta``), or another numeric driver centred on its series mean.  The ``beta`` are
shared by every series of a pool (all series, or those of one value of a grouping column such as
the category: one item rarely has enough promotions of its own) and estimated by Poisson
pseudo-maximum likelihood with ``log b_t`` as offset (Santos Silva & Tenreyro 2006: consistent
for any non-negative demand whose mean has this form, zeros included, so slow movers take part),
alternating with the baseline estimated on the deflated sales ``y_t / exp(x_t beta)`` (the baseline
reads no period where a flag is on, so it interpolates across promotions), the alternation
accelerated by SQUAREM (Varadhan & Roland 2008).
A pool's coefficients are shrunk towards the global ones (ridge on the difference), so a pool
with few promotions borrows from the others.

Forecasts then come from any model fitted on the deflated ("de-promoted") history, multiplied by
the drivers' effects over the horizon; :func:`stockopt.signals.forecast_drivers` says how much each
driver moved each forecast.

References
----------
Santos Silva, J. M. C. & Tenreyro, S. (2006). The log of gravity. The Review of Economics and
Statistics, 88(4), 641-658.
Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for accelerating the
convergence of any EM algorithm. Scandinavian Journal of Statistics, 35(2), 335-353.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, time_to_days, to_table
from stockopt._kernels.forecast.drivers import baseline_block, poisson_loglik, poisson_newton_pieces
from stockopt._params import Boolean, Instance, check_param
from stockopt.data import GroupedSeries
from stockopt.errors import (
    ColumnTypeError,
    DuplicateRowError,
    ValidationError,
    raise_error,
)

__all__ = ["Drivers", "DriverFit", "fit_drivers", "future_matrix"]

#: smoothing weight of the baseline level (per period)
BASELINE_ALPHA = 0.1
#: SQUAREM cycles (three alternations of baseline and coefficients each)
ROUNDS = 3
#: ridge weight (in Poisson-information units relative to the pool's own) of a pool's difference
#: from the global coefficients
POOL_RIDGE = 0.2


@dataclass(frozen=True)
class Drivers:
    """Demand drivers over the horizon, and how to estimate their effects.

    Parameters
    ----------
    future : table
        ``unique_id, ds`` and one column per driver for the ``h`` periods after each series'
        history (the promotions planned, the prices set, ...).  The same columns must be in the
        sales history.  Boolean or 0/1 columns are flags (effect: an uplift); columns whose name
        contains ``price`` are prices (effect: an elasticity on the log of price over the series'
        median price); other numeric columns enter centred on their series mean.
    pool_by : str, optional
        A column of the sales history, constant within a series (e.g. the category): effects are
        estimated per value, shrunk towards the global ones.  Default: one pool.
    calendar : table, optional
        Events shared by every series: ``ds, event`` (one row per date and event name, e.g. from
        :func:`holiday_calendar`); each event name becomes a flag on its dates, in the history and
        the horizon alike.
    yearly : bool
        For daily data, also remove a yearly seasonal profile per series (two Fourier pairs fitted to
        the log of its 28-day moving average; series of a year or more with ADI < 1.32) before the
        model is fitted, and put it back on the forecasts: yearly peaks beside the model's weekly
        season.
    """

    future: Any = None
    pool_by: str | None = None
    calendar: Any = None
    yearly: bool = False

    def __post_init__(self) -> None:
        check_param(self.pool_by, [None, Instance(str)], name="pool_by", where="Drivers")
        check_param(self.yearly, Boolean(), name="yearly", where="Drivers")


@dataclass
class DriverFit:
    """Estimated driver effects of one grouping (see :func:`fit_drivers`).

    Attributes
    ----------
    names : list of str
        Driver names (columns, then calendar events).
    kinds : list of str
        ``"flag"``, ``"price"`` or ``"numeric"`` per driver.
    coef : ndarray, shape (n_pools, n_drivers)
        The coefficients of each pool.
    pool : ndarray of int64
        The pool of each series.
    pool_names : list
        The value of ``pool_by`` of each pool (``["all"]`` without pooling).
    x_hist : ndarray, shape (n_values, n_drivers)
        The transformed drivers over the history.
    ref : dict
        Per driver, the per-series reference (median price, mean) used by the transform.
    deflated : ndarray
        The history divided by the drivers' effects (the "de-promoted" sales).
    baseline : ndarray
        The last baseline ``b_t``.
    n_active : ndarray, shape (n_pools, n_drivers)
        Periods where each driver was non-zero, per pool.
    """

    names: list[str]
    kinds: list[str]
    coef: np.ndarray
    pool: np.ndarray
    pool_names: list[Any]
    x_hist: np.ndarray
    ref: dict[str, np.ndarray]
    deflated: np.ndarray
    baseline: np.ndarray
    n_active: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def effect_table(self) -> pa.Table:
        """One row per pool and driver: coefficient, effect (uplift for flags, elasticity for
        prices, per-unit log effect otherwise) and periods active."""
        rows: dict[str, list[Any]] = {"pool": [], "driver": [], "kind": [], "coef": [], "effect": [],
                                      "periods": []}
        for p, pname in enumerate(self.pool_names):
            for j, (name, kind) in enumerate(zip(self.names, self.kinds)):
                rows["pool"].append(str(pname))
                rows["driver"].append(name)
                rows["kind"].append(kind)
                rows["coef"].append(float(self.coef[p, j]))
                c = float(self.coef[p, j])
                rows["effect"].append(float(np.exp(c)) if kind == "flag" else c)
                rows["periods"].append(int(self.n_active[p, j]) if self.n_active.size else 0)
        return pa.table(rows)


def _phase(grouped: GroupedSeries) -> tuple[np.ndarray, int]:
    if grouped.freq.kind == "D":
        return np.ascontiguousarray((grouped.periods() + 3) % 7), 7
    return np.zeros(grouped.values.shape[0], dtype=np.int64), 1


def baseline(grouped: GroupedSeries, values: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """The two-sided baseline of every period of ``values`` (the grouping's layout)."""
    phase, n_phases = _phase(grouped)
    out = np.empty_like(values)
    baseline_block(np.ascontiguousarray(values), grouped.indptr, np.ascontiguousarray(skip), phase, n_phases,
                   BASELINE_ALPHA, out)
    return out


def driver_kinds(names: list[str], cols: dict[str, np.ndarray]) -> list[str]:
    """``flag``, ``price`` or ``numeric`` for each driver column."""
    kinds = []
    for name in names:
        v = cols[name]
        finite = v[np.isfinite(v)] if v.dtype.kind == "f" else v
        if v.dtype == np.bool_ or np.isin(finite, (0, 1)).all():
            kinds.append("flag")
        elif "price" in name.lower():
            kinds.append("price")
        else:
            kinds.append("numeric")
    return kinds


def transform(kinds: list[str], names: list[str], cols: dict[str, np.ndarray], owner: np.ndarray,
              ref: dict[str, np.ndarray] | None, n_series: int) -> tuple[np.ndarray, dict, np.ndarray]:
    """The driver matrix (one column per driver) from raw columns; ``ref`` from the history when None.

    Values a driver cannot take (NaN, infinite, a price <= 0 - real data record no price when
    nothing sold) are marked in the returned mask and enter as the series' reference (``x = 0``:
    no effect); in the history those periods then take no part in the estimates.
    """
    x = np.empty((owner.size, len(names)))
    bad_any = np.zeros(owner.size, dtype=bool)
    new_ref: dict[str, np.ndarray] = {}
    for j, (name, kind) in enumerate(zip(names, kinds)):
        v = np.asarray(cols[name], dtype=np.float64)
        bad = ~np.isfinite(v)
        if kind == "price":
            bad |= v <= 0
        bad_any |= bad
        if kind == "flag":
            x[:, j] = np.where(bad, 0.0, v)
            continue
        w = np.log(np.where(bad, 1.0, v)) if kind == "price" else np.where(bad, 0.0, v)
        if ref is None:
            r = _series_stat(w, owner, n_series, "median" if kind == "price" else "mean", ~bad)
            new_ref[name] = r
        else:
            r = ref[name]
        x[:, j] = np.where(bad, 0.0, w - r[owner])
    return x, (new_ref if ref is None else ref), bad_any


def _series_stat(v: np.ndarray, owner: np.ndarray, n: int, how: str, valid: np.ndarray) -> np.ndarray:
    """Per-series mean or median of ``v`` over the ``valid`` entries (0 for a series without any)."""
    v, owner = v[valid], owner[valid]
    if how == "mean":
        s = np.bincount(owner, weights=v, minlength=n)
        c = np.bincount(owner, minlength=n)
        return s / np.maximum(c, 1)
    order = np.lexsort((v, owner))
    vs, os = v[order], owner[order]
    starts = np.searchsorted(os, np.arange(n))
    ends = np.searchsorted(os, np.arange(n), side="right")
    mid_lo = np.clip((starts + ends - 1) // 2, 0, max(v.size - 1, 0))
    mid_hi = np.clip((starts + ends) // 2, 0, max(v.size - 1, 0))
    return np.where(ends > starts, 0.5 * (vs[mid_lo] + vs[mid_hi]), 0.0) if v.size else np.zeros(n)


def ppml(y: np.ndarray, offset: np.ndarray, x: np.ndarray, pool: np.ndarray, n_pools: int, use: np.ndarray,
         beta0: np.ndarray | None = None, ridge: float = POOL_RIDGE, max_iter: int = 25, shrink: float = 1.0
         ) -> tuple[np.ndarray, np.ndarray]:
    """Poisson pseudo-ML of ``y ~ exp(offset + x beta_pool)``: global coefficients (with a ridge
    ``shrink / 2 |beta|^2``), then each pool's, shrunk towards them.  Returns ``(beta per pool
    (n_pools, k), the global beta)``."""
    y, offset, x, pool = y[use], offset[use], x[use], pool[use]
    k = x.shape[1]
    # a weak ridge towards no effect (the information of one period with a mean of 1): nothing for a
    # driver seen often, a finite estimate for an event that only ever met zero sales
    g = _newton(y, offset, x, np.zeros(k) if beta0 is None else beta0[0], np.zeros(k), shrink, max_iter)
    coef = np.repeat(g[None, :], n_pools, axis=0)
    if n_pools > 1:
        info_all = np.empty((k, k))
        poisson_newton_pieces(y, offset, np.ascontiguousarray(x), g, np.empty(k), info_all)
        for p in range(n_pools):  # pools are few (categories), each a vectorised Newton solve
            sel = pool == p
            if not sel.any():
                continue
            frac = sel.mean()
            start = g if beta0 is None else beta0[p]
            coef[p] = _newton(y[sel], offset[sel], x[sel], start, g, ridge * frac, max_iter, info_all)
    return coef, g


def _newton(y, offset, x, beta, prior, lam, max_iter, info_all=None):
    """Newton-Raphson on the Poisson log-likelihood with the penalty ``lam/2 (b - prior)' P (b - prior)``
    (``P`` = ``info_all``, or the identity), halving steps that do not increase it."""
    k = x.shape[1]
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    offset = np.ascontiguousarray(offset, dtype=np.float64)
    beta = np.array(beta, dtype=np.float64, copy=True)
    pen = lam * (info_all if info_all is not None else np.eye(k))
    prior = np.zeros(k) if prior is None else prior
    grad = np.empty(k)
    hess = np.empty((k, k))

    def penalty(b):
        d = b - prior
        return 0.5 * float(d @ pen @ d)

    cur = poisson_newton_pieces(y, offset, x, beta, grad, hess) - penalty(beta)
    for _ in range(max_iter):
        g = grad - pen @ (beta - prior)
        step = np.linalg.solve(hess + pen + 1e-9 * np.eye(k), g)
        t = 1.0
        while True:
            cand = beta + t * step
            val = poisson_loglik(y, offset, x, cand) - penalty(cand)
            if val >= cur - 1e-12 or t < 1e-4:
                break
            t *= 0.5
        beta, prev = cand, cur
        cur = poisson_newton_pieces(y, offset, x, beta, grad, hess) - penalty(beta)
        if abs(cur - prev) < 1e-10 * (abs(prev) + 1.0) or np.abs(t * step).max() < 1e-7:
            break
    return beta


def fit_drivers(grouped: GroupedSeries, names: list[str], kinds: list[str], x: np.ndarray, pool: np.ndarray,
                pool_names: list[Any], ref: dict[str, np.ndarray], skip: np.ndarray,
                fixed: np.ndarray | None = None) -> DriverFit:
    """Alternate the baseline (on the deflated sales) and the pooled coefficients to their fixed point;
    with ``fixed`` (n_pools, n_drivers), take those coefficients as given (no estimation)."""
    y = grouped.values
    lengths = grouped.lengths
    n_pools = len(pool_names)
    pool_v = np.repeat(pool, lengths)
    coef = np.zeros((n_pools, len(names)))
    if fixed is not None:
        return _fit_result(y, x, np.asarray(fixed, np.float64), pool, pool_v, names, kinds, pool_names, ref,
                           np.full_like(y, np.nan))
    # the baseline reads no period a flag is on (promotions, events): it interpolates across them
    flagged = np.zeros(y.shape[0], dtype=bool)
    for j, kind in enumerate(kinds):
        if kind == "flag":
            flagged |= x[:, j] != 0
    base_skip = skip | flagged
    def step(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One alternation: the baseline of the sales deflated by ``c``, then the coefficients."""
        b = baseline(grouped, y / np.exp(np.einsum("ij,ij->i", x, c[pool_v])), base_skip)
        use = ~skip & np.isfinite(b) & (b > 0)
        new, _ = ppml(y, np.log(np.where(use, b, 1.0)), x, pool_v, n_pools, use, c)
        return new, b

    # SQUAREM (Varadhan & Roland 2008): the alternation is a slowly contracting fixed-point map where a
    # driver (a price) moves the level the baseline follows; squared extrapolation reaches its fixed
    # point in a few cycles of three maps
    for _ in range(ROUNDS):
        c1, _ = step(coef)
        c2, _ = step(c1)
        r = c1 - coef
        v = c2 - 2 * c1 + coef
        nv = float(np.sqrt((v * v).sum()))
        alpha = -float(np.sqrt((r * r).sum())) / nv if nv > 1e-12 else -1.0
        alpha = min(alpha, -1.0)
        cand = coef - 2 * alpha * r + alpha * alpha * v
        coef, base = step(cand)
        if not np.isfinite(coef).all():
            coef, base = step(c2)
        if float(np.abs(coef - c2).max()) < 1e-6:
            break
    return _fit_result(y, x, coef, pool, pool_v, names, kinds, pool_names, ref, base)


def _fit_result(y: np.ndarray, x: np.ndarray, coef: np.ndarray, pool: np.ndarray, pool_v: np.ndarray,
                names: list[str], kinds: list[str], pool_names: list[Any], ref: dict[str, np.ndarray],
                base: np.ndarray) -> DriverFit:
    """The :class:`DriverFit` of coefficients ``coef``: the history deflated by them, periods active."""
    n_pools = len(pool_names)
    deflated = y / np.exp(np.einsum("ij,ij->i", x, coef[pool_v]))
    active = np.zeros((n_pools, len(names)))
    for j in range(len(names)):
        active[:, j] = np.bincount(pool_v, weights=(x[:, j] != 0), minlength=n_pools)
    return DriverFit(names=names, kinds=kinds, coef=coef, pool=pool, pool_names=pool_names, x_hist=x, ref=ref,
                     deflated=deflated, baseline=base, n_active=active)


def future_matrix(grouped: GroupedSeries, future: Any, names: list[str], h: int) -> dict[str, np.ndarray]:
    """The driver columns of ``future`` aligned on each series' ``h`` periods after its history,
    as arrays of shape (n_series * h,), series-major; every period must be there exactly once."""
    tbl = to_table(future, table="X_future")
    id_col, time_col = grouped.id_col, grouped.time_col
    require_columns(tbl, {"id_col": id_col, "time_col": time_col}, table="X_future")
    require_columns(tbl, {f"driver {n}": n for n in names}, table="X_future")
    ids = tbl.column(id_col)
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    code = _to_numpy(pc.fill_null(pc.index_in(ids.cast(grouped.ids.type), value_set=grouped.ids), -1),
                     np.int64)
    days, _ = time_to_days(tbl.column(time_col), table="X_future", column=time_col)
    period, on_grid = grouped.freq.to_period(days)
    step = np.asarray(period, np.int64) - grouped.end[np.maximum(code, 0)] - 1
    ok = (code >= 0) & on_grid & (step >= 0) & (step < h)
    pos = np.where(ok, np.maximum(code, 0) * h + step, -1)
    seen = np.zeros(grouped.n_series * h, dtype=np.int64)
    np.add.at(seen, pos[ok], 1)
    if (seen != 1).any():
        k = int(np.argmax(seen != 1))
        expected = (f"one row per series for each of the {h} periods after its history "
                    f"(period {k % h + 1} here)")
        if seen[k] == 0:  # a missing row, worded as the inventory tables' missing items
            raise_error(ValidationError, "horizon period missing", table="X_future", column=time_col,
                        series=grouped.ids[k // h].as_py(), expected=expected)
        row = int(np.flatnonzero(pos == k)[1])  # the second row of that period
        raise_error(DuplicateRowError, "horizon period repeated", table="X_future", column=time_col,
                    series=grouped.ids[k // h].as_py(), row=row, expected=expected)
    out: dict[str, np.ndarray] = {}
    for name in names:
        col = tbl.column(name)
        typ = col.type
        if not (pa.types.is_boolean(typ) or pa.types.is_integer(typ) or pa.types.is_floating(typ)):
            raise_error(ColumnTypeError, "driver of the wrong type", table="X_future", column=name,
                        expected="a boolean or numeric column", got=str(col.type))
        v = _to_numpy(pc.fill_null(col.cast(pa.float64()), float("nan")), np.float64)
        arr = np.empty(grouped.n_series * h)
        arr[pos[ok]] = v[ok]
        out[name] = arr
    return out
