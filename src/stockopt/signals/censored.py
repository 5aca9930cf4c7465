"""Stockout-censored demand: forecast demand, not sales, for every model.

When a shelf is empty, sales read zero (or fall short) while customers still wanted the item.
Given which periods were out of stock (an in-stock flag, or stock on hand at zero), each series'
history is turned into one that any model can fit as demand, through the ordinary model contract
(so every family, fast ones included, keeps its speed class: one linear pass is added):

* **a stockout still going on at the end of the history** is left out, and the model is fitted on
  the history up to the last period in stock and forecast across the spell: ``h + g`` periods
  ahead for a spell of ``g`` periods, of which the last ``h`` are returned.  This is exactly how a
  state-space model treats missing observations at the end (the states are propagated, not
  updated), for every model;
* **stockouts inside the history of a smooth or erratic series** (ADI < 1.32 on its in-stock
  periods) are replaced by the demand's conditional expectation given what was sold,
  ``E[D | D >= sales]``, under a local level x weekday-profile negative-binomial model fitted on
  the in-stock periods (:mod:`stockopt._kernels.forecast.censored`): one E-step of EM (Dempster,
  Laird & Rubin 1977), whose M-step needs no iteration because the level and profile are
  estimated from the in-stock periods alone; the lower bound follows Conrad (1976) and Nahmias
  (1994).  The seasonal calendar is kept, so seasonal models see a complete season;
* **stockouts inside the history of an intermittent or lumpy series** that sold nothing are left
  out: the intermittent recursions (Croston, SBA, TSB, ADIDA ...) then count inter-demand
  intervals in periods in stock, which is their treatment of a missing period, whereas a
  fractional stand-in value would be read as a demand occurrence.  A stocked-out period with some
  sales keeps them (the occurrence is certain, its size a lower bound).

References
----------
Conrad, S. A. (1976). Sales data and the estimation of demand. Operational Research Quarterly,
27(1), 123-127.
Nahmias, S. (1994). Demand estimation in lost sales inventory systems. Naval Research Logistics,
41(6), 739-757.
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data via
the EM algorithm. Journal of the Royal Statistical Society B, 39(1), 1-38.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._arrow import days_to_time
from stockopt._kernels.forecast.censored import adjust_block, impute_block, phase_block
from stockopt._params import Instance, validate_params
from stockopt.data import GroupedSeries
from stockopt.errors import ParameterError, raise_error
from stockopt.signals._common import GAP_OPTIONS, SALES_COLS, as_grouped, censor_mask

__all__ = ["estimate_demand", "CensoredHistory", "censored_history", "forecast_censored"]

#: smoothing weight of the local level of the imputation model (per period)
LEVEL_ALPHA = 0.1
#: EM rounds after the first estimate from the periods in stock
EM_ROUNDS = 5
#: ADI (periods per period with a sale) from which a series is intermittent or lumpy: the
#: Syntetos-Boylan-Croston cut :func:`stockopt.models.auto.demand_classes` uses
SPARSE_ADI = 1.32
#: trailing-spell buckets: series whose spell lengths fall in one bucket are forecast together (a
#: longer horizon costs little; every extra model run costs a pass over its series)
_BUCKETS = (0, 56)


@dataclass(frozen=True)
class CensoredHistory:
    """A grouping's histories made ready to be fitted as demand (see the module notes).

    Attributes
    ----------
    grouped : GroupedSeries
        The adjusted histories (same series and starts; interior stockouts imputed or left out,
        trailing spells left out).
    trailing : ndarray of int64
        Per series, the periods of the stockout still going on at the end (0 if none).
    imputed, removed : ndarray of int64
        Per series, censored periods replaced by a demand estimate / left out.
    uncorrectable : ndarray of bool
        Series without a single period in stock: their history is kept as it is.
    """

    grouped: GroupedSeries
    trailing: np.ndarray
    imputed: np.ndarray
    removed: np.ndarray
    uncorrectable: np.ndarray

    def summary(self) -> dict[str, int]:
        """Counts for run statistics."""
        return {"series_censored": int(((self.imputed + self.removed + self.trailing) > 0).sum()),
                "periods_imputed": int(self.imputed.sum()), "periods_removed": int(self.removed.sum()),
                "series_out_at_end": int((self.trailing > 0).sum()),
                "series_uncorrectable": int(self.uncorrectable.sum())}


def phase(grouped: GroupedSeries) -> tuple[np.ndarray, int]:
    """Weekday of every period (0 = Monday) of daily data, else 0; and the number of phases."""
    out = np.zeros(grouped.values.shape[0], dtype=np.int64)
    if grouped.freq.kind != "D":
        return out, 1
    phase_block(grouped.indptr, np.ascontiguousarray(grouped.start, dtype=np.int64), 3, 7, out)
    return out, 7


def impute(grouped: GroupedSeries, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand estimates for every value (sales where in stock) and in-stock periods per series."""
    ph, n_phases = phase(grouped)
    demand = np.empty_like(grouped.values)
    n_used = np.empty(grouped.n_series, dtype=np.int64)
    impute_block(grouped.values, grouped.indptr, np.ascontiguousarray(out, dtype=np.bool_), ph, n_phases,
                 LEVEL_ALPHA, EM_ROUNDS, demand, n_used)
    return demand, n_used


def censored_history(grouped: GroupedSeries, out: np.ndarray) -> CensoredHistory:
    """Adjust every series of ``grouped`` for the censored periods ``out`` (see the module notes)."""
    n = grouped.n_series
    out = np.ascontiguousarray(out, dtype=np.bool_)
    demand, n_used = impute(grouped, out)
    new_values = np.empty_like(grouped.values)
    new_indptr = np.empty(n + 1, dtype=np.int64)
    trailing = np.empty(n, dtype=np.int64)
    imputed = np.empty(n, dtype=np.int64)
    removed = np.empty(n, dtype=np.int64)
    # intermittent or lumpy on the periods in stock (ADI >= 1.32, AutoModel's cut): censored zeros left out
    total = adjust_block(grouped.values, demand, grouped.indptr, out, SPARSE_ADI, new_values, new_indptr,
                         trailing, imputed, removed)
    adjusted = GroupedSeries(values=new_values[:total], indptr=new_indptr, ids=grouped.ids,
                             start=grouped.start, freq=grouped.freq, time_type=grouped.time_type,
                             id_col=grouped.id_col, time_col=grouped.time_col, target_col=grouped.target_col,
                             id_dictionary=grouped.id_dictionary)
    return CensoredHistory(adjusted, trailing, imputed, removed, (n_used == 0) & (grouped.lengths > 0))


def forecast_censored(grouped: GroupedSeries, out: np.ndarray, h: int, models: list, levels: list[float],
                      qs: list[float], n_jobs: int = 1, *, nonnegative: bool = True,
                      conformal_windows: int = 2) -> tuple[pa.Table, dict[str, Any], dict[str, int]]:
    """:func:`stockopt.forecasting.forecast_grouped` of the demand behind censored sales.

    Every series is forecast at horizon ``h``; series out of stock at the end are forecast again in
    a few groups of similar trailing-spell length ``g`` (one model run per group, horizon
    ``h + max g``) and keep periods ``g .. g + h - 1`` of that run.  (Run statistics count those
    series in both runs.)
    Returns the forecast table (dates of the original series), the per-model run statistics and
    the censoring counts (:meth:`CensoredHistory.summary`).
    """
    from stockopt.forecasting import forecast_grouped

    reads_extra = [m.name for m in models if m.uses_extra]
    if reads_extra:  # the adjusted histories drop periods: extra columns would no longer line up
        raise_error(ParameterError, "bad argument: models reading extra columns cannot forecast censored "
                    "demand", parameter="models",
                    expected="models without uses_extra together with censored=", got=reads_extra)
    hist = censored_history(grouped, out)
    adj = hist.grouped
    n = adj.n_series
    columns: dict[str, np.ndarray] = {}
    stats: dict[str, dict[str, Any]] = {}
    # every series at horizon h (no copy of the histories), then the series out of stock at the end
    # again, in groups of similar spell length g, at horizon h + max g: theirs is periods g .. g + h - 1
    edges = np.array(_BUCKETS[1:] + (np.iinfo(np.int64).max,))
    bucket = np.where(hist.trailing == 0, -1, np.searchsorted(edges, hist.trailing))
    for b in np.unique(bucket):
        rows = np.arange(n) if b == -1 else np.flatnonzero(bucket == b)
        g = np.zeros(n, dtype=np.int64) if b == -1 else hist.trailing[rows]
        big_h = int(h + g.max())
        sub = adj if b == -1 else adj.take(rows)
        tbl, st = forecast_grouped(sub, big_h, models, levels, qs, n_jobs=n_jobs, nonnegative=nonnegative,
                                   conformal_windows=conformal_windows)
        pick = (g[:, None] + np.arange(h)[None, :])
        for name in tbl.column_names[2:]:
            arr = tbl.column(name).to_numpy().reshape(rows.size, big_h)
            if name not in columns:
                columns[name] = np.empty((n, h))
            columns[name][rows] = np.take_along_axis(arr, pick, axis=1)
        _merge_stats(stats, st)
    return grouped.future_table(h, columns), stats, hist.summary()


def _merge_stats(into: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> None:
    for model, st in new.items():
        cur = into.setdefault(model, {})
        for key, val in st.items():
            if isinstance(val, dict):
                d = cur.setdefault(key, {})
                for k2, v2 in val.items():
                    d[k2] = d.get(k2, 0) + v2
            else:
                cur[key] = cur.get(key, 0) + val


@validate_params({**SALES_COLS, **GAP_OPTIONS, "censored": Instance(str)})
def estimate_demand(
    sales: Any,
    *,
    freq: str | None = None,
    censored: str = "in_stock",
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
) -> pa.Table:
    """The demand behind censored sales: each stocked-out period's conditional expected demand.

    Every period out of stock (``censored`` False, or ``on_hand`` at or below zero) gets
    ``E[D | D >= sales]`` under a local level x weekday-profile negative-binomial model fitted on
    the series' periods in stock (see :mod:`stockopt.signals.censored`); periods in stock keep their
    sales.  ``demand - y`` summed over a series is its estimated lost sales.

    Parameters
    ----------
    sales : table, Parquet path or GroupedSeries
        Long history ``unique_id, ds, y`` with the censoring column.
    freq : str, optional
        Frequency alias; inferred when omitted.
    censored : str
        A boolean in-stock column (False = sales capped by a stockout) or a numeric stock-level
        column (a period is censored when it is at or below zero).
    id_col, time_col, target_col : str
        Column names.
    missing : {"error", "zero", "interpolate"}
        Null or NaN sales: refused, read as zero, or interpolated within the series, as in
        :func:`stockopt.forecast` (:func:`stockopt.group_series`).
    fill_gaps : {"zero", "interpolate", "error"}
        Periods absent inside a series: inserted with zero sales (default), interpolated, or
        refused, as in :func:`stockopt.forecast`; inserted periods carry the extra columns (the
        in-stock flag, the stock level) of the period before them.

    Returns
    -------
    pyarrow.Table
        ``unique_id, ds, y, demand, censored`` (pieces per period; ``censored`` True where the
        period was out of stock), one row per series and period (gaps filled as ``fill_gaps``
        says; ``y`` holds the sales as filled).

    Examples
    --------
    >>> import pyarrow as pa, datetime as dt
    >>> y = [4.0, 6.0, 5.0, 0.0, 0.0, 5.0, 4.0, 6.0]
    >>> t = pa.table({"unique_id": ["a"] * 8, "ds": [dt.date(2024, 1, d) for d in range(1, 9)], "y": y,
    ...               "in_stock": [True, True, True, False, False, True, True, True]})
    >>> d = estimate_demand(t, freq="D")["demand"].to_pylist()
    >>> [round(v, 1) for v in d[3:5]], d[:3] == y[:3]
    ([5.0, 5.0], True)
    """
    grouped = as_grouped(sales, freq=freq, extra_cols=(censored,), id_col=id_col, time_col=time_col,
                         target_col=target_col, missing=missing, fill_gaps=fill_gaps)
    out = censor_mask(grouped, censored)
    demand, _ = impute(grouped, out)
    rows = np.repeat(np.arange(grouped.n_series, dtype=np.int64), grouped.lengths)
    return pa.table({
        grouped.id_col: grouped._id_column(rows),
        grouped.time_col: days_to_time(grouped.freq.to_days(grouped.periods()), grouped.time_type),
        grouped.target_col: pa.array(grouped.values, pa.float64()),
        "demand": pa.array(demand, pa.float64()),
        "censored": pa.array(out),
    })
