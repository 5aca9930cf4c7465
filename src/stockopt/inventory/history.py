"""Demand histories for the inventory layer: compound (occurrence x size) laws and demand summaries.

A forecast says how much demand to expect; for intermittent and lumpy items it cannot say how
that demand arrives (two orders of 700 in three years, or one unit a month), and its prediction
intervals, when it has any, are symmetric bands that put mass on negative demand and none on the
lumps.  Sizing such an item on a normal law with the forecast's variance (often zero) promises a
service it never delivers.  The history itself carries the shape: :func:`history_profile` reads a
sales table ``unique_id, ds, y`` and keeps, per item, the probability that a period has demand and
the distribution of the non-zero demand sizes, from which
:mod:`stockopt._kernels.inventory.compound` builds the exact integer law of demand over any
interval (Croston 1972; Syntetos, Babai & Gardner 2015; Willemain, Smart & Schwarz 2004).

Periods whose ``y`` is null, or whose ``in_stock`` column (optional) is false, are unobserved:
they count neither as demand nor as a period without demand (a stockout caps sales).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import require_columns
from stockopt._params import Instance, Real, validate_params
from stockopt._rules import MAX_QUANTITY
from stockopt.errors import ValidationError, raise_error
from stockopt.inventory._validate import ID, align, as_table, check_ids, require_nonempty
from stockopt.inventory.demand import _grouped, _plain_ids

__all__ = ["HistoryProfile", "history_profile", "demand_summary", "INTERMITTENT_ADI", "POOL_BINS"]

#: geometric bins of the pooled relative-size law (history_profile(size_pooling=...))
POOL_BINS = 24
#: quantile at which the pooled relative-size law is capped (its heavier tail costs pmf length)
POOL_CAP = 0.995

#: average inter-demand interval (periods) above which an item is intermittent or lumpy
#: (Syntetos, Boylan & Croston 2005: ADI > 1.32)
INTERMITTENT_ADI = 1.32


@dataclass
class HistoryProfile:
    """Per-item statistics of a demand history (arrays aligned with ``ids``).

    Attributes
    ----------
    ids : pyarrow.Array
        Item ids as strings.
    period : numpy.ndarray
        Length of one history period in days (30 for a month, 7 for a week ...).
    n_obs, n_demands : numpy.ndarray
        Observed periods, and those with a demand > 0.
    mean, var : numpy.ndarray
        Mean and variance of demand per period (units; 0 without observations).
    size_mean, size_var : numpy.ndarray
        Mean and variance of the non-zero demand sizes (units, rounded to whole units >= 1).
    """

    ids: pa.Array
    period: np.ndarray
    n_obs: np.ndarray
    n_demands: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    size_mean: np.ndarray
    size_var: np.ndarray
    size_item: np.ndarray  # one entry per non-zero demand: its item and its size in whole units
    size_units: np.ndarray
    pooling: float = 0.0
    pool_ratios: np.ndarray | None = None  # atoms of the pooled relative-size law (POOL_BINS at most)
    pool_weights: np.ndarray | None = None  # their probabilities

    @property
    def occurrence(self) -> np.ndarray:
        """Probability that a period has a demand (``n_demands / n_obs``)."""
        return np.divide(self.n_demands, self.n_obs, out=np.zeros(len(self.n_obs)), where=self.n_obs > 0)

    @property
    def adi(self) -> np.ndarray:
        """Average inter-demand interval in periods (``inf`` without demand)."""
        return np.divide(self.n_obs, self.n_demands, out=np.full(len(self.n_obs), np.inf),
                         where=self.n_demands > 0)

    def take(self, rows: np.ndarray) -> HistoryProfile:
        """The profile of items ``rows`` (distinct, in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        local = np.full(len(self.n_obs), -1, np.int64)
        local[rows] = np.arange(rows.size)
        keep = local[self.size_item] >= 0
        item = local[self.size_item[keep]]
        order = np.argsort(item, kind="stable")
        return HistoryProfile(self.ids.take(pa.array(rows)), self.period[rows], self.n_obs[rows],
                              self.n_demands[rows], self.mean[rows], self.var[rows], self.size_mean[rows],
                              self.size_var[rows], item[order], self.size_units[keep][order], self.pooling,
                              self.pool_ratios, self.pool_weights)

    def size_law(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Size pmfs of items ``rows`` (CSR: ``vals[ip[k]:ip[k+1]]`` = ``P(size = 0..max)``), their
        means and variances (units).

        Without pooling, the item's own sizes.  With ``pooling = kappa > 0``, the mixture
        ``(1 - w) g_item + w g_pool`` with ``w = kappa / (k + kappa)`` (``k`` demands seen): ``g_pool``
        is the law of ``mean size x R``, ``R`` the pooled relative size of a new demand
        (:func:`history_profile`), rounded to whole units >= 1.
        """
        rows = np.asarray(rows, dtype=np.int64)
        local = np.full(len(self.n_obs), -1, np.int64)
        local[rows] = np.arange(rows.size)
        keep = local[self.size_item] >= 0
        item = local[self.size_item[keep]]
        units = self.size_units[keep]
        k = np.bincount(item, minlength=rows.size).astype(np.float64)
        pool = self.pool_ratios if self.pooling > 0 and self.pool_ratios is not None else np.empty(0)
        w_pool = np.where(k > 0, self.pooling / (k + self.pooling), 0.0) if pool.size else np.zeros(rows.size)
        w_item = np.divide(1.0 - w_pool, k, out=np.zeros(rows.size), where=k > 0)
        if pool.size:
            p_item = np.repeat(np.flatnonzero(k > 0), pool.size)
            p_units = np.maximum(np.rint(self.size_mean[rows][p_item] * np.tile(pool, int((k > 0).sum()))),
                                 1).astype(np.int64)
            item = np.concatenate((item, p_item))
            units = np.concatenate((units, p_units))
            wts = np.concatenate((w_item[item[: keep.sum()]],
                                  w_pool[p_item] * np.tile(self.pool_weights, int((k > 0).sum()))))
        else:
            wts = w_item[item]
        smax = np.zeros(rows.size, np.int64)
        np.maximum.at(smax, item, units)
        ip = np.concatenate(([0], np.cumsum(smax + 1))).astype(np.int64)
        vals = np.bincount(ip[item] + units, weights=wts, minlength=int(ip[-1]))
        mean = np.bincount(item, weights=wts * units, minlength=rows.size)
        var = np.maximum(np.bincount(item, weights=wts * units.astype(np.float64) ** 2, minlength=rows.size)
                         - mean ** 2, 0.0)
        return vals, ip, mean, var


def _observed_demand(tbl: pa.Table, label: str, target_col: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """``y`` as float64 (NaN where null) and the mask of observed periods (``in_stock`` not false)."""
    ycol = tbl.column(target_col)
    if not (pa.types.is_integer(ycol.type) or pa.types.is_floating(ycol.type)
            or pa.types.is_decimal(ycol.type) or pa.types.is_null(ycol.type)):
        from stockopt.errors import ColumnTypeError

        raise_error(ColumnTypeError, "non-numeric column", table=label, column=target_col,
                    expected="demand in units (numbers >= 0; null = not observed)", got=str(ycol.type))
    y = np.asarray(pc.fill_null(ycol.cast(pa.float64()), np.nan)).astype(np.float64, copy=True) \
        if tbl.num_rows else np.empty(0)
    observed = ~np.isnan(y)
    if "in_stock" in tbl.column_names:
        observed &= np.asarray(pc.fill_null(tbl.column("in_stock").cast(pa.bool_()), True))
    return y, observed


def _read_history(history: Any, label: str, period_days: float | None, id_col: str, time_col: str,
                  target_col: str):
    tbl = as_table(history, label)
    require_nonempty(tbl, label)
    require_columns(tbl, {"id_col": id_col, "time_col": time_col, "target_col": target_col}, table=label)
    ids_in = check_ids(tbl, label, id_col)
    y_in, observed_in = _observed_demand(tbl, label, target_col)
    with np.errstate(invalid="ignore"):
        bad = observed_in & ~((y_in >= 0) & (y_in <= MAX_QUANTITY))  # NaN fails both
    if bad.any():  # checked in the caller's row order, so the row named is the caller's
        row = int(np.flatnonzero(bad)[0])
        raise_error(ValidationError, "demand must be finite, >= 0 and at most 1e15", table=label,
                    column=target_col, series=ids_in[row].as_py(), row=row, got=float(y_in[row]),
                    expected="demand in units in [0, 1e15] (null = not observed; clip returns before)")
    tbl, ip, period = _grouped(tbl, [id_col], label, period_days, id_col, time_col)
    ids_all = check_ids(tbl, label, id_col)
    y, observed = _observed_demand(tbl, label, target_col)
    first = ip[:-1]
    ids = ids_all.take(pa.array(first))
    return ids, ip, period, np.where(observed, y, 0.0), observed


@validate_params({"period_days": [None, Real(0, lo_open=True)], "size_pooling": Real(0),
                  "label": Instance(str), "id_col": Instance(str), "time_col": Instance(str),
                  "target_col": Instance(str)})
def history_profile(history: Any, ids: pa.Array | None = None, *, period_days: float | None = None,
                    size_pooling: float = 0.0, label: str = "history", id_col: str = ID, time_col: str = "ds",
                    target_col: str = "y") -> HistoryProfile:
    """Per-item occurrence and size statistics of a sales history ``unique_id, ds, y``.

    Parameters
    ----------
    history : Arrow-compatible table
        One row per item and period (days, weeks, months ...; regular spacing per item): ``unique_id,
        ds, y`` (units, >= 0; null = not observed), optional ``in_stock`` (false = not observed).
    ids : pyarrow.Array, optional
        Item ids (strings) to align the profile with; an id without history gets zero observations.
    period_days : float, optional
        Length of a period in days when it cannot be inferred (one row per item).
    size_pooling : float
        ``kappa >= 0``: weight of the pooled size law in an item's size law,
        ``kappa / (k + kappa)`` for an item with ``k`` demands (0: the item's own sizes only, so
        no demand larger than the largest seen).  The pooled law is that of ``R = x_j /
        mean(x_-j)``, a demand's size over the mean of the item's other sizes, over every item
        with at least two demands (each item weighted equally; capped at its :data:`POOL_CAP`
        quantile, in :data:`POOL_BINS` geometric bins): how much larger than its past sizes a
        part's next demand can be (an empirical-Bayes predictive law; cf. Willemain, Smart &
        Schwarz 2004, who jitter the sizes they resample).  ``inventory_policy(history=...)`` and
        ``optimize_service(history=...)`` accept the profile itself.
    label : str
        The table's name in error messages.
    id_col, time_col, target_col : str
        Names of the id, time and demand columns of ``history``.

    Returns
    -------
    HistoryProfile

    Examples
    --------
    >>> import pyarrow as pa
    >>> from stockopt.inventory.history import history_profile
    >>> h = pa.table({"unique_id": ["A"] * 6, "ds": pa.array([0, 7, 14, 21, 28, 35], pa.date32()),
    ...               "y": [0.0, 5.0, 0.0, None, 0.0, 7.0]})
    >>> hp = history_profile(h)
    >>> float(hp.period[0]), int(hp.n_obs[0]), float(hp.occurrence[0]), float(hp.size_mean[0])
    (7.0, 5, 0.4, 6.0)
    """
    from stockopt.inventory._validate import id_strings

    got_ids, ip, period, y, observed = _read_history(history, label, period_days, id_col, time_col,
                                                     target_col)
    got_ids = id_strings(got_ids)
    lens = np.diff(ip)
    item = np.repeat(np.arange(lens.size), lens)
    n_items = lens.size
    n_obs = np.bincount(item, weights=observed, minlength=n_items)
    s1 = np.bincount(item, weights=y, minlength=n_items)
    s2 = np.bincount(item, weights=y * y, minlength=n_items)
    mean = np.divide(s1, n_obs, out=np.zeros(n_items), where=n_obs > 0)
    var = np.divide(s2, n_obs, out=np.zeros(n_items), where=n_obs > 0) - mean ** 2
    var = np.maximum(var * np.divide(n_obs, n_obs - 1, out=np.ones(n_items), where=n_obs > 1), 0.0)
    dem = observed & (y > 0)
    size_item = item[dem]
    size_units = np.maximum(np.rint(y[dem]), 1).astype(np.int64)
    n_dem = np.bincount(size_item, minlength=n_items).astype(np.float64)
    z1 = np.bincount(size_item, weights=size_units, minlength=n_items)
    z2 = np.bincount(size_item, weights=size_units.astype(np.float64) ** 2, minlength=n_items)
    size_mean = np.divide(z1, n_dem, out=np.zeros(n_items), where=n_dem > 0)
    size_var = np.maximum(np.divide(z2, n_dem, out=np.zeros(n_items), where=n_dem > 0) - size_mean ** 2, 0.0)
    pool, pool_w = _pooled_ratios(size_item, size_units, n_dem, z1) if size_pooling > 0 else (None, None)
    hp = HistoryProfile(got_ids, period, n_obs, n_dem, mean, var, size_mean, size_var, size_item, size_units,
                        float(size_pooling), pool, pool_w)
    if ids is None:
        return hp
    idx = pc.index_in(ids, value_set=got_ids)
    valid = np.asarray(pc.is_valid(idx))
    if valid.all():
        out = hp.take(np.asarray(idx, dtype=np.int64))
        out.ids = ids
        return out
    # items without a history: nothing observed (period unknown)
    pos = np.flatnonzero(valid)
    sub = hp.take(np.asarray(idx.filter(pa.array(valid)), dtype=np.int64))
    n = len(ids)

    def spread(x: np.ndarray, fill: float) -> np.ndarray:
        full = np.full(n, fill)
        full[pos] = x
        return full

    return HistoryProfile(ids, spread(sub.period, np.nan), spread(sub.n_obs, 0.0), spread(sub.n_demands, 0.0),
                          spread(sub.mean, 0.0), spread(sub.var, 0.0), spread(sub.size_mean, 0.0),
                          spread(sub.size_var, 0.0), pos[sub.size_item], sub.size_units, sub.pooling,
                          sub.pool_ratios, sub.pool_weights)


def _pooled_ratios(size_item: np.ndarray, size_units: np.ndarray, n_dem: np.ndarray,
                   total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The leave-one-out relative sizes (items weighted equally), capped at their :data:`POOL_CAP`
    quantile, in :data:`POOL_BINS` geometric bins: ``(atoms, probabilities)``, each atom the mean
    ratio of its bin."""
    k = n_dem[size_item]
    two = k >= 2
    if not two.any():
        return np.ones(1), np.ones(1)
    x = size_units[two].astype(np.float64)
    r = x * (k[two] - 1) / (total[size_item[two]] - x)
    w = 1.0 / k[two]
    order = np.argsort(r, kind="stable")
    cw = np.cumsum(w[order])
    cap = float(r[order][min(int(np.searchsorted(cw, POOL_CAP * cw[-1])), r.size - 1)])
    r = np.minimum(r, cap)  # the last 1 % of the law sits at its 99th percentile
    lo, hi = float(r.min()), float(r.max())
    if hi <= lo * (1 + 1e-12):
        return np.array([lo]), np.ones(1)
    edges = np.geomspace(lo, hi, POOL_BINS + 1)
    b = np.clip(np.searchsorted(edges, r, side="right") - 1, 0, POOL_BINS - 1)
    mass = np.bincount(b, weights=w, minlength=POOL_BINS)
    atom = np.divide(np.bincount(b, weights=w * r, minlength=POOL_BINS), mass, out=np.zeros(POOL_BINS),
                     where=mass > 0)
    keep = mass > 0
    return atom[keep], mass[keep] / mass.sum()


@validate_params({"period_days": [None, Real(0, lo_open=True)], "id_col": Instance(str),
                  "time_col": Instance(str), "target_col": Instance(str)})
def demand_summary(history: Any, *, period_days: float | None = None, id_col: str = ID, time_col: str = "ds",
                   target_col: str = "y") -> pa.Table:
    """Demand summary ``unique_id, demand_mean, demand_std`` (units per day) of a sales history.

    The mean and the standard deviation of demand per period over the observed periods, per day:
    ``mean / period`` and ``std / sqrt(period)`` (periods taken as independent), the stationary
    demand summary :func:`~stockopt.inventory.inventory_policy` accepts.  Passed together with
    ``history=`` the same sales, intermittent items are sized on their own compound law.

    Parameters
    ----------
    history : Arrow-compatible table
        ``unique_id, ds, y`` as for :func:`history_profile`.
    period_days : float, optional
        Length of a period in days when it cannot be inferred.
    id_col, time_col, target_col : str
        Names of the id, time and demand columns of ``history`` (the output's id column takes
        ``id_col``).

    Returns
    -------
    pyarrow.Table
        One row per item, in the order of first appearance after sorting by id.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from stockopt.inventory import demand_summary
    >>> h = pa.table({"unique_id": ["A"] * 4, "ds": pa.array([0, 7, 14, 21], pa.date32()),
    ...               "y": [0.0, 14.0, 0.0, 14.0]})
    >>> s = demand_summary(h)
    >>> s["demand_mean"][0].as_py(), round(s["demand_std"][0].as_py(), 4)  # 7/7 per day; 8.0829/sqrt(7)
    (1.0, 3.0551)
    """
    tbl = as_table(history, "history")
    hp = history_profile(tbl, period_days=period_days, id_col=id_col, time_col=time_col,
                         target_col=target_col)
    sorted_tbl = tbl.take(pc.sort_indices(tbl, sort_keys=[(id_col, "ascending")]))
    ids_col = _plain_ids(sorted_tbl.column(id_col))
    from stockopt.inventory._validate import id_strings

    rows = align(hp.ids, id_strings(ids_col), table="history", needed_by="history")
    return pa.table({id_col: ids_col.take(pa.array(rows)), "demand_mean": hp.mean / hp.period,
                     "demand_std": np.sqrt(hp.var / hp.period)})


def compound_moments(p: np.ndarray, period: np.ndarray, size_mean: np.ndarray, size_var: np.ndarray,
                     days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of compound demand over ``days`` (``N = Bin(k, p) + Bern(f p)`` demands)."""
    z = np.divide(days, period, out=np.zeros_like(days, dtype=np.float64), where=period > 0)
    k = np.floor(z + 1e-9)
    f = np.where(z - k < 1e-9, 0.0, z - k)
    en = z * p
    vn = k * p * (1 - p) + f * p * (1 - f * p)
    return en * size_mean, en * size_var + vn * size_mean ** 2
