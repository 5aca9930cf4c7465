"""Demand over an interval of days, from a demand summary, a forecast table or sample paths.

The inventory formulas need the mean and variance of demand over the lead time, the review period
that follows it and their sum.  :func:`demand_profile` reads any of the three accepted demand
tables into a :class:`DemandProfile` whose :meth:`~DemandProfile.moments` answers "demand over days
``[start, start + length)``" for every item at once:

* demand summary (``unique_id, demand_mean, demand_std`` per day, stationary): ``mean * length``,
  ``std**2 * length``;
* forecast (``unique_id, ds, <Model>[, <Model>-lo-<L>, <Model>-hi-<L>]``): the sum of the forecasts
  of exactly those days, a partial period prorated (a 45-day lead time on a monthly forecast is
  1.5 months of demand).  The period is inferred from the ``ds`` spacing of each series (28-31
  days = a 30-day month, 89-92 days = a 91-day quarter, 365-366 = a year, anything else its
  spacing in days).  The variance comes from the widest-available interval column (per-period
  sd = half-width / z) summed over the periods (forecast errors taken as independent across
  periods), otherwise from the per-item ``demand_std`` per day of the items table;
* sample paths (``unique_id, ds, sample_id, value``): every path summed like a forecast; the
  moments are the mean and variance over paths, and :meth:`~DemandProfile.path_sums` returns the
  per-path sums for empirical distributions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import require_columns, time_to_days
from stockopt._kernels.codes import DIST_NEGBIN, DIST_POISSON
from stockopt._kernels.inventory.core import norm_ppf, path_cumsum
from stockopt._rules import DEMAND, FORECAST_BOUND, FORECAST_VALUE, SAMPLE_VALUE
from stockopt.errors import (
    FrequencyError,
    MissingColumnError,
    ValidationError,
    raise_error,
)
from stockopt.inventory._validate import ID, check_ids, check_unique, column

_INTERVAL = re.compile(r"^(?P<model>.+)-(?P<side>lo|hi)-(?P<level>\d+(?:\.\d+)?)$")
_QUANTILE = re.compile(r"^.+-q\d+(?:\.\d+)?$")


@dataclass
class DemandProfile:
    """Demand of every item over any interval of days (see the module docstring).

    Attributes
    ----------
    kind : {"summary", "forecast", "samples"}
    ids : pyarrow.Array
        Item ids in output order (the original id type).
    ids_str : pyarrow.Array
        The same ids as strings, for joins.
    """

    kind: str
    ids: pa.Array
    ids_str: pa.Array
    daily_mean: np.ndarray | None = None
    daily_std: np.ndarray | None = None
    # forecast / sample paths: one "path" per series (forecast) or per (item, sample_id)
    vals: np.ndarray | None = None
    var: np.ndarray | None = None
    ip: np.ndarray | None = None
    period: np.ndarray | None = None
    path_item: np.ndarray | None = None
    n_paths: np.ndarray | None = None
    label: str = "demand"
    extra: dict = field(default_factory=dict)

    def set_daily_std(self, std: np.ndarray) -> None:
        """Per-day demand sd per item, used when the forecast has no interval columns."""
        self.daily_std = std

    def _cum(self, values: np.ndarray, x_days: np.ndarray, path_x: bool) -> np.ndarray:
        """Prorated cumulative sum of ``values`` over the first ``x_days`` days of each path."""
        ip = self.ip
        npath = ip.shape[0] - 1
        lens = np.diff(ip)
        cum = np.empty(ip[-1] + npath)
        off = ip[:-1] + np.arange(npath)
        path_cumsum(values, ip, cum)  # per-path cumulative sums with a leading zero
        x = x_days if path_x else x_days[self.path_item]
        per = self.period
        j = x / per
        k = np.floor(j + 1e-9).astype(np.int64)
        frac = np.clip(j - k, 0.0, 1.0)
        frac[np.abs(j - k) < 1e-9] = 0.0
        too_long = (k > lens) | ((k == lens) & (frac > 0.0))
        if too_long.any():
            p = int(np.flatnonzero(too_long)[0])
            item = self.ids[int(self.path_item[p])].as_py()
            raise_error(ValidationError, "forecast horizon shorter than lead time + review period",
                        table=self.label, series=item,
                        expected=f"forecasts covering at least {float(x[p]):g} days",
                        got=f"{int(lens[p])} periods of {float(per[p]):g} days")
        kk = np.minimum(k, np.maximum(lens - 1, 0))
        nxt = np.where(frac > 0.0, values[np.minimum(ip[:-1] + kk, max(ip[-1] - 1, 0))], 0.0) \
            if ip[-1] else np.zeros(npath)
        return cum[off + k] + frac * nxt

    def path_sums(self, start: np.ndarray, length: np.ndarray) -> np.ndarray:
        """Demand of each path over days ``[start, start + length)`` (start/length per item)."""
        a = self._cum(self.vals, start, False)
        b = self._cum(self.vals, start + length, False)
        return b - a

    def moments(self, start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of demand over days ``[start, start + length)`` for every item."""
        start = np.asarray(start, dtype=np.float64)
        length = np.asarray(length, dtype=np.float64)
        if self.kind == "summary":
            return self.daily_mean * length, self.daily_std ** 2 * length
        if self.kind == "forecast":
            m = self._cum(self.vals, start + length, False) - self._cum(self.vals, start, False)
            if self.var is not None:
                v = self._cum(self.var, start + length, False) - self._cum(self.var, start, False)
            else:
                v = self.daily_std ** 2 * length
            return np.maximum(m, 0.0), np.maximum(v, 0.0)
        sums = self.path_sums(start, length)
        n = self.n_paths
        m = np.bincount(self.path_item, weights=sums, minlength=n.shape[0]) / n
        dev = sums - m[self.path_item]
        v = np.bincount(self.path_item, weights=dev * dev, minlength=n.shape[0]) / np.maximum(n - 1, 1)
        return np.maximum(m, 0.0), np.maximum(v, 0.0)


def _nominal_period(diff: np.ndarray) -> np.ndarray:
    out = diff.astype(np.float64)
    out[(diff >= 28) & (diff <= 31)] = 30.0
    out[(diff >= 89) & (diff <= 92)] = 91.0
    out[(diff >= 365) & (diff <= 366)] = 365.0
    return out


def _grouped(tbl: pa.Table, keys: list[str], label: str, period_days: float | None, id_col: str,
             time_col: str):
    """Sort by keys + time; return the sorted table, group offsets, per-group period in days.

    Errors name the offending row in the caller's table (not in the sorted one)."""
    order = pc.sort_indices(tbl, sort_keys=[(k, "ascending") for k in keys] + [(time_col, "ascending")])
    tbl = tbl.take(order)
    caller_row = np.asarray(order, dtype=np.int64)
    days, _ = time_to_days(tbl.column(time_col), table=label, column=time_col)
    gid = np.zeros(tbl.num_rows, dtype=np.int64)
    if tbl.num_rows:
        change = np.zeros(tbl.num_rows, dtype=bool)
        change[0] = True
        for k in keys:
            col = tbl.column(k)
            if pa.types.is_dictionary(col.type):
                col = col.dictionary_decode()
            a = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
            if tbl.num_rows > 1:
                change[1:] |= np.asarray(pc.not_equal(a[1:], a[:-1]).fill_null(True))
        gid = np.cumsum(change) - 1
    starts = np.flatnonzero(np.r_[True, np.diff(gid) != 0]) if tbl.num_rows else np.empty(0, np.int64)
    ip = np.r_[starts, tbl.num_rows].astype(np.int64)
    lens = np.diff(ip)
    diffs = np.diff(days)
    same = np.r_[gid[1:] == gid[:-1]] if tbl.num_rows > 1 else np.empty(0, bool)
    if same.any() and (diffs[same] <= 0).any():
        row = int(np.flatnonzero(same & (diffs <= 0))[0]) + 1
        raise_error(FrequencyError, "repeated or unsorted dates within a series", table=label,
                    column=time_col, series=tbl.column(id_col)[row].as_py(), row=int(caller_row[row]),
                    expected="one row per series and date")
    period = np.full(len(lens), np.nan)
    multi = lens >= 2
    first = ip[:-1][multi]
    if multi.any():
        d0 = _nominal_period(diffs[first])
        period[multi] = d0
        cls = np.full(diffs.shape, np.nan)
        cls[same] = _nominal_period(diffs[same])
        # irregular spacing: compare each step with its series' first step
        bad = same & (cls != period[gid[:-1]])
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise_error(FrequencyError, f"irregular spacing of {time_col} within a series", table=label,
                        column=time_col, series=tbl.column(id_col)[row].as_py(), row=int(caller_row[row]),
                        expected="a regular daily, weekly, monthly, quarterly or yearly forecast")
    if period_days is not None:
        period[:] = float(period_days)
    elif (~multi).any():
        known = period[multi]
        if known.size == 0:
            raise_error(FrequencyError, "cannot infer the forecast period from one row per series",
                        table=label, column=time_col, expected="period_days=... (length of a period in days)")
        vals, counts = np.unique(known, return_counts=True)
        period[~multi] = vals[np.argmax(counts)]
    return tbl, ip, period


def _model_columns(tbl: pa.Table, model: str | None, label: str, skip: set[str]):
    names = [c for c in tbl.column_names if c not in skip]
    if model is None:
        cands = [c for c in names if not _INTERVAL.match(c) and not _QUANTILE.match(c)]
        if len(cands) != 1:
            raise_error(ValidationError, "cannot tell which column holds the forecast", table=label,
                        expected="exactly one model column, or model=... naming it", got=cands)
        model = cands[0]
    require_columns(tbl, {"model": model}, table=label)
    levels: dict[float, dict[str, str]] = {}
    for c in names:
        mt = _INTERVAL.match(c)
        if mt and mt.group("model") == model:
            levels.setdefault(float(mt.group("level")), {})[mt.group("side")] = c
    return model, levels


def _plain_ids(col) -> pa.Array:
    """Original ids as one array; string views become plain strings (for compute kernels)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_string_view(arr.type):
        arr = arr.cast(pa.string())
    return arr


def demand_profile(demand, *, model: str | None = None, period_days: float | None = None, id_col: str = ID,
                   time_col: str = "ds") -> DemandProfile:
    """Read a demand summary, forecast or sample-path table (see the module docstring).

    ``id_col`` and ``time_col`` name the id and time columns of every kind of demand table.
    """
    from stockopt.inventory._validate import as_table, require_nonempty

    tbl = as_table(demand, "demand")
    require_nonempty(tbl, "demand")
    cols = set(tbl.column_names)
    if "demand_mean" in cols:
        ids_str = check_ids(tbl, "demand", id_col)
        check_unique(ids_str, "demand", id_col)
        mean = column(tbl, "demand_mean", "demand", ids_str, DEMAND["demand_mean"])
        std = column(tbl, "demand_std", "demand", ids_str, DEMAND["demand_std"])
        ids = _plain_ids(tbl.column(id_col))
        return DemandProfile("summary", ids, ids_str, daily_mean=mean, daily_std=std)
    if time_col not in cols:
        raise_error(MissingColumnError, "cannot tell the kind of demand table", table="demand",
                    column=time_col, expected=f"a demand summary ({id_col}, demand_mean, demand_std), "
                    f"a forecast ({id_col}, {time_col}, <Model>) or sample paths ({id_col}, {time_col}, "
                    "sample_id, value)", got=tbl.column_names)
    check_ids(tbl, "demand", id_col)
    if "sample_id" in cols:
        label = "sample paths"
        require_columns(tbl, {"value": "value"}, table=label)
        tbl, ip, period = _grouped(tbl, [id_col, "sample_id"], label, period_days, id_col, time_col)
        ids_all = check_ids(tbl, label, id_col)
        vals = column(tbl, "value", label, ids_all, SAMPLE_VALUE)
        first = ip[:-1]
        path_ids = ids_all.take(pa.array(first))
        change = np.r_[True, np.asarray(pc.not_equal(path_ids[1:], path_ids[:-1]))] if len(first) > 1 \
            else np.ones(len(first), dtype=bool)
        path_item = (np.cumsum(change) - 1).astype(np.int64)
        item_first = first[change]
        ids = _plain_ids(tbl.column(id_col)).take(pa.array(item_first))
        n_paths = np.bincount(path_item).astype(np.float64)
        prof = DemandProfile("samples", ids, ids_all.take(pa.array(item_first)),
                             vals=vals, ip=ip, period=period, path_item=path_item, n_paths=n_paths,
                             label=label)
        return prof
    label = "forecast"
    model_col, levels = _model_columns(tbl, model, label, {id_col, time_col})
    tbl, ip, period = _grouped(tbl, [id_col], label, period_days, id_col, time_col)
    ids_str = check_ids(tbl, label, id_col)
    vals = column(tbl, model_col, label, ids_str, FORECAST_VALUE)
    var = None
    if levels:
        lev = max(levels, key=lambda lv: (len(levels[lv]), lv == 80.0, lv))
        z = norm_ppf(0.5 + lev / 200.0)
        sides = levels[lev]
        if "hi" in sides and "lo" in sides:
            hi = column(tbl, sides["hi"], label, ids_str, FORECAST_BOUND)
            lo = column(tbl, sides["lo"], label, ids_str, FORECAST_BOUND)
            sd = (hi - lo) / (2.0 * z)
        elif "hi" in sides:
            sd = (column(tbl, sides["hi"], label, ids_str, FORECAST_BOUND) - vals) / z
        else:
            sd = (vals - column(tbl, sides["lo"], label, ids_str, FORECAST_BOUND)) / z
        if (sd < -1e-9 * (1.0 + np.abs(vals))).any():
            row = int(np.flatnonzero(sd < -1e-9 * (1.0 + np.abs(vals)))[0])
            raise_error(ValidationError, "prediction interval narrower than zero", table=label,
                        series=ids_str[row].as_py(), row=row, expected="lo <= forecast <= hi")
        var = np.maximum(sd, 0.0) ** 2
    first = ip[:-1]
    ids = _plain_ids(tbl.column(id_col)).take(pa.array(first))
    return DemandProfile("forecast", ids, ids_str.take(pa.array(first)), vals=vals, var=var, ip=ip,
                         period=period, path_item=np.arange(len(first), dtype=np.int64), label=label)


def zero_demand_probability(dist: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Probability of no demand at all over an interval with demand ``mean`` and ``var`` (units).

    Poisson ``exp(-mean)``; negative binomial (and empirical, by its moments) ``(mean/var)^r`` with
    ``r = mean^2 / (var - mean)`` (Poisson when ``var <= mean``); normal and gamma 0 unless the
    mean is 0.  Used for a newsvendor whose shelf life is shorter than its review period: the
    days between expiry and the next delivery have no stock, so a cycle has no lost demand only
    if those days have no demand.

    Examples
    --------
    >>> import numpy as np
    >>> from stockopt._kernels.inventory.core import DIST_GAMMA, DIST_NEGBIN, DIST_POISSON
    >>> p = zero_demand_probability(np.array([DIST_POISSON, DIST_NEGBIN, DIST_GAMMA]),
    ...                             np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 2.0]))
    >>> [round(float(x), 4) for x in p]  # exp(-1), 0.5 ** 1, 0
    [0.3679, 0.5, 0.0]
    """
    mean = np.asarray(mean, dtype=np.float64)
    var = np.asarray(var, dtype=np.float64)
    over = (dist >= DIST_NEGBIN) & (var > mean * (1.0 + 1e-9))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(over, mean * mean / np.where(over, var - mean, 1.0), 1.0)
        nb = np.exp(r * np.log(np.where(over, mean / var, 1.0)))
    p = np.where(over, nb, np.exp(-mean))
    p = np.where(dist >= DIST_POISSON, p, 0.0)
    return np.where(mean <= 0.0, 1.0, p)


def _csr_hist(item: np.ndarray, x: np.ndarray, w: np.ndarray, ip: np.ndarray) -> np.ndarray:
    """Weighted histograms of ``x`` (rounded to units, >= 0) per item into CSR slots ``ip``."""
    k = np.maximum(np.rint(x), 0).astype(np.int64)
    return np.bincount(ip[item] + k, weights=w, minlength=int(ip[-1]))[: int(ip[-1])]


def crossing_sample_pmfs(prof: DemandProfile, sel: np.ndarray, r_int: np.ndarray, l_mean: np.ndarray,
                         l_sd: np.ndarray):
    """Integer pmfs for the crossing-orders model from sample paths (items ``sel`` of ``prof``).

    The shortfall laws of :mod:`stockopt._kernels.inventory.crossing` are mixtures of demand over a
    whole number of days ``k`` (weights from
    :func:`~stockopt._kernels.inventory.crossing.crossing_weights`); demand over ``k`` days is
    taken as each path's sum over its first ``k`` days, every path equally likely.  Returns
    ``(vals_x, vals_w, vals_z, ip_x, vals_r, ip_r)`` for
    :func:`~stockopt._kernels.inventory.crossing.policy_crossing_pmfs`.
    """
    from stockopt._kernels.inventory.crossing import crossing_sizes, crossing_weights_csr

    m = sel.shape[0]
    r_int = np.ascontiguousarray(r_int, dtype=np.int64)
    kk = np.empty(m, np.int64)
    crossing_sizes(r_int, l_mean, l_sd, kk)
    ipw = np.concatenate(([0], np.cumsum(kk))).astype(np.int64)
    wts = [np.zeros(int(ipw[-1])) for _ in range(3)]
    crossing_weights_csr(r_int, l_mean, l_sd, ipw, *wts)
    n_all = len(prof.ids)
    local = np.full(n_all, -1, np.int64)
    local[sel] = np.arange(m)
    paths = local[prof.path_item] >= 0
    pitem = local[prof.path_item[paths]]
    inv_n = 1.0 / prof.n_paths[prof.path_item[paths]]
    parts: list[list[np.ndarray]] = [[], [], []]
    items: list[list[np.ndarray]] = [[], [], []]
    for k in range(int(kk.max(initial=0))):  # loop over day counts, not items
        at = ipw[:-1] + np.minimum(k, kk - 1)
        wk = [np.where(k < kk, w[at], 0.0) for w in wts]
        if not any((w > 0.0).any() for w in wk):
            continue
        length = np.zeros(n_all)
        length[sel] = k
        sums = prof.path_sums(np.zeros(n_all), length)[paths]
        for j in range(3):
            wp = wk[j][pitem] * inv_n
            keep = wp > 0.0
            parts[j].append(np.column_stack((sums[keep], wp[keep])))
            items[j].append(pitem[keep])
    cat = [np.concatenate(p) if p else np.zeros((0, 2)) for p in parts]
    its = [np.concatenate(p) if p else np.zeros(0, np.int64) for p in items]
    size = np.ones(m, np.int64)
    for c, it in zip(cat, its):
        np.maximum.at(size, it, np.maximum(np.rint(c[:, 0]), 0).astype(np.int64) + 1)
    ip_x = np.concatenate(([0], np.cumsum(size))).astype(np.int64)
    vx, vw, vz = (_csr_hist(it, c[:, 0], c[:, 1], ip_x) for c, it in zip(cat, its))
    length = np.zeros(n_all)
    length[sel] = r_int
    sums_r = prof.path_sums(np.zeros(n_all), length)[paths]
    size_r = np.ones(m, np.int64)
    np.maximum.at(size_r, pitem, np.maximum(np.rint(sums_r), 0).astype(np.int64) + 1)
    ip_r = np.concatenate(([0], np.cumsum(size_r))).astype(np.int64)
    vr = _csr_hist(pitem, sums_r, inv_n, ip_r)
    return vx, vw, vz, ip_x, vr, ip_r
