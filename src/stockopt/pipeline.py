"""The nightly run: validate and quarantine, forecast, size inventory, write outputs and a summary.

Each stage is usable alone; this module only composes them and makes a run survive bad series: rows
that would make :func:`stockopt.group_series` refuse the whole table (null, NaN, infinite or
negative demand, stamps off the frequency, duplicate periods ...) put their series in quarantine,
and the run goes on with the others and says so in its summary.  Both read the same rules
(:mod:`stockopt._rules`), so the quarantine sets aside exactly the series the API would refuse.
"""

from __future__ import annotations

import logging
import time
import warnings
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, check_output_dir, require_columns, time_to_days, to_table
from stockopt._horizon import (
    DEFAULT_LEAD_TIME,
    DEFAULT_SERVICE_LEVEL,
    MAX_HORIZON_DAYS,
    Horizon,
    derive_horizon,
    fill_item_defaults,
    first_forecast_day,
    item_need_days,
)
from stockopt._params import Boolean, Instance, Integer, Options, PathLike, Real, validate_params
from stockopt._rules import ITEMS, MAX_QUANTITY, SALES, SALES_CHECKS, is_id_type, is_numeric_type
from stockopt.data import SALES_PARAMS, _encode_ids, coarser_spacing, row_order
from stockopt.errors import (
    ColumnTypeError,
    EmptyInputError,
    FallbackWarning,
    raise_error,
)
from stockopt.forecasting import CENSORED_PARAM, FORECAST_PARAMS
from stockopt.frequency import Frequency, infer_freq, parse_freq
from stockopt.inventory.policy import POLICY_PARAMS
from stockopt.replenishment._tables import AS_OF

__all__ = ["quarantine", "quarantine_items", "run_nightly", "PlanResult"]

logger = logging.getLogger(__name__)

_C = SALES_CHECKS

#: facts of the whole input that :func:`stockopt.plan` fixes once for all its partitions (the pooled
#: driver ``effects`` table, the ``last_date`` the stale check measures from); empty for a plain run
WHOLE_INPUT: ContextVar[dict[str, Any]] = ContextVar("stockopt_whole_input", default={})


@dataclass(frozen=True)
class PlanResult:
    """What :func:`run_nightly` produced: Arrow tables and the run's summary.

    Attributes
    ----------
    forecast : pyarrow.Table
        ``unique_id, ds, <Model>, <Model>-lo-<L>, <Model>-hi-<L> ...`` for every series not
        quarantined (``h`` rows per series).
    policy : pyarrow.Table
        One row per planned item (see :func:`stockopt.inventory_policy`).
    quarantine : pyarrow.Table
        ``unique_id, reason, first_row, table``: the series set aside and why (``table`` is
        ``"sales"``, ``"X_future"``, ``"items"`` or a supply table).
    summary : dict
        Counts and timings of the run (series read, quarantined, gaps filled, models, policy
        statuses, seconds by stage; with a replenishment stage also order lines, their money and
        the projected fill rate); JSON-serialisable.
    orders, alerts, kpis : pyarrow.Table or None
        With stock and suppliers: the order lines (:func:`stockopt.replenish`), the alerts
        (:func:`stockopt.alerts`) and the projected KPIs per item (``items`` of
        :func:`stockopt.project_kpis`); None otherwise.
    """

    forecast: pa.Table
    policy: pa.Table
    quarantine: pa.Table
    summary: dict[str, Any] = field(default_factory=dict)
    orders: pa.Table | None = None
    alerts: pa.Table | None = None
    kpis: pa.Table | None = None

    def write(self, out: str | Path) -> None:
        """Write ``forecast.parquet``, ``policy.parquet``, ``quarantine.parquet`` (and ``orders.parquet``,
        ``alerts.parquet``, ``kpis.parquet`` when there are orders) into ``out``."""
        import pyarrow.parquet as pq

        out = check_output_dir(out, parameter="out", where="PlanResult.write")
        pq.write_table(self.forecast, out / "forecast.parquet")
        pq.write_table(self.quarantine, out / "quarantine.parquet")
        pq.write_table(self.policy, out / "policy.parquet")
        for name in ("orders", "alerts", "kpis"):
            if getattr(self, name) is not None:
                pq.write_table(getattr(self, name), out / f"{name}.parquet")


@validate_params({**SALES_PARAMS, **CENSORED_PARAM, "table": Instance(str)})
def quarantine(
    sales: Any,
    *,
    freq: str | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
    allow_negative: bool = False,
    censored: str | None = None,
    table: str = "sales",
) -> tuple[pa.Table, pa.Table]:
    """Split a sales table into the rows of clean series and a report of quarantined series.

    A series is quarantined when :func:`stockopt.group_series`, given the same options, would refuse
    it: a row with a null time, a time of day, a stamp off the frequency or out of range, a
    repeated period, a null/NaN demand (unless ``missing`` fills it), an infinite demand, a negative
    demand (unless ``allow_negative``), or missing periods inside it when ``fill_gaps="error"``;
    with ``censored``, also a null in-stock flag (or a null or NaN stock level), which
    :func:`stockopt.forecast` with ``censored=`` refuses.  Rows with a null id cannot be attributed
    to a series and are dropped (and counted in the report under a null id).  Faults of the whole
    table (a missing column, a column of the wrong type) raise as in :func:`stockopt.group_series`.

    Parameters
    ----------
    sales : Arrow-compatible table or Parquet path
        Long demand history ``unique_id, ds, y``.
    freq, id_col, time_col, target_col, missing, fill_gaps, allow_negative
        As in :func:`stockopt.group_series`.
    censored : str, optional
        The in-stock flag (boolean, False = stocked out) or ``on_hand`` column of a censored run
        (:func:`stockopt.forecast` ``censored=``); a series with a null there is quarantined with the
        reason ``"null in-stock flag (<column>)"``.  A column that is absent or neither boolean nor
        numeric raises, as it would in the forecast.
    table : str
        The table's role, used in messages.

    Returns
    -------
    clean : pyarrow.Table
        The rows of every series without a problem (original row order).
    report : pyarrow.Table
        ``<id_col>, reason, first_row`` for each quarantined series (``first_row`` 0-based in the
        input).

    Examples
    --------
    >>> import datetime as dt
    >>> import pyarrow as pa
    >>> sales = pa.table({"unique_id": ["a", "a", "b", "b"],
    ...                   "ds": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)] * 2, "y": [1.0, 2.0, 3.0, -1.0]})
    >>> clean, report = quarantine(sales, freq="D")
    >>> clean["unique_id"].to_pylist(), report.to_pylist()
    (['a', 'a'], [{'unique_id': 'b', 'reason': 'negative demand', 'first_row': 3}])
    >>> flagged = sales.set_column(2, "y", pa.array([1.0, 2.0, 3.0, 4.0])).append_column(
    ...     "in_stock", pa.array([True, None, True, False]))
    >>> quarantine(flagged, freq="D", censored="in_stock")[1].to_pylist()
    [{'unique_id': 'a', 'reason': 'null in-stock flag (in_stock)', 'first_row': 1}]
    """
    clean, report, _ = _quarantine(sales, freq=freq, id_col=id_col, time_col=time_col, target_col=target_col,
                                   missing=missing, fill_gaps=fill_gaps, allow_negative=allow_negative,
                                   table=table, censored=censored)
    return clean, report


def _censor_nulls(tbl: pa.Table, column: str, *, table: str) -> np.ndarray:
    """Rows whose censoring value is unusable: a null flag, or a null or NaN stock level.

    A missing column or one of the wrong type is a fault of the whole table and raises (as
    :func:`stockopt.group_series` and :func:`stockopt.signals._common.censor_mask` would)."""
    require_columns(tbl, {"censored": column}, table=table)
    col = tbl.column(column)
    if not (pa.types.is_boolean(col.type) or is_numeric_type(col.type)):
        raise_error(ColumnTypeError, "censoring column of the wrong type", table=table, column=column,
                    expected="boolean (in stock) or numeric (on hand)", got=str(col.type))
    return _to_numpy(pc.is_null(col, nan_is_null=pa.types.is_floating(col.type)), np.bool_)


def _quarantine(sales: Any, *, freq: str | None, id_col: str, time_col: str, target_col: str, missing: str,
                fill_gaps: str, allow_negative: bool, table: str,
                censored: str | None = None) -> tuple[pa.Table, pa.Table, Frequency | None]:
    """:func:`quarantine`, also returning the frequency it judged the rows by (None when no row has
    a time stamp), so that the grouping of the clean rows uses the same one."""
    tbl = to_table(sales, table=table)
    require_columns(tbl, {"id_col": id_col, "time_col": time_col, "target_col": target_col}, table=table)
    ids = tbl.column(id_col)
    if not is_id_type(ids.type):
        raise_error(ColumnTypeError, "series id of the wrong type", table=table, column=id_col,
                    expected=SALES["id"].accepted, got=str(ids.type))
    y = tbl.column(target_col)
    if not is_numeric_type(y.type):
        raise_error(ColumnTypeError, "target of the wrong type", table=table, column=target_col,
                    expected="an integer or floating-point column", got=str(y.type))
    reasons: list[tuple[np.ndarray, str]] = []
    time_col_arr = tbl.column(time_col)
    null_time = _to_numpy(pc.is_null(time_col_arr), np.bool_)
    reasons.append((null_time, _C["null_time"].what))
    y_f = pc.cast(y, pa.float64()) if not pa.types.is_floating(y.type) else y
    y_np = _to_numpy(pc.fill_null(y_f, float("nan")), np.float64)
    if missing == "error":
        reasons.append((np.isnan(y_np), _C["null_target"].what))
    reasons.append((np.isinf(y_np), _C["inf_target"].what))
    with np.errstate(invalid="ignore"):
        reasons.append((np.abs(y_np) > MAX_QUANTITY, _C["big_target"].what))
    if not allow_negative:
        reasons.append((y_np < 0, _C["negative_target"].what))
    if censored is not None:  # the flag forecast(censored=) reads: a null there refuses the series
        why = f"{_C['null_censored'].what} ({censored})"
        reasons.append((_censor_nulls(tbl, censored, table=table), why))
    f = None
    if not null_time.all():
        if null_time.any():  # null rows are already flagged; give them any valid stamp to go on
            time_col_arr = pc.fill_null(time_col_arr, time_col_arr[int(np.argmin(null_time))])
        days, off = time_to_days(time_col_arr, table=table, column=time_col)
        f = parse_freq(freq) if freq is not None else infer_freq(days[~null_time])
        periods, on_grid = f.to_period(days)
        reasons.append((off, _C["time_of_day"].what))
        reasons.append((~on_grid, f"{_C['off_frequency'].what} {f.alias}"))
        reasons.append(((periods < -(2**31)) | (periods >= 2**31), _C["time_range"].what))
    null_id = _to_numpy(pc.is_null(ids), np.bool_)
    if not null_time.all():
        dup, gapped, coarse = _pair_checks(ids, periods, ~null_time & ~null_id, f)
        reasons.append((dup, _C["duplicate"].what))
        reasons.append((coarse, f"{_C['spacing'].what} {f.alias}"))
        if fill_gaps == "error":
            reasons.append((gapped, _C["gap"].what))
    rows: dict[str, list[Any]] = {id_col: [], "reason": [], "first_row": []}
    bad_ids: set[Any] = set()
    any_null_id = bool(null_id.any())
    for mask, why in reasons:
        if not mask.any():
            continue
        hit = np.flatnonzero(mask & ~null_id if any_null_id else mask)
        first_by_id: dict[Any, int] = {}
        for r, sid in zip(hit.tolist(), ids.take(pa.array(hit)).to_pylist()):
            first_by_id.setdefault(sid, r)
        for sid, r in first_by_id.items():
            if sid in bad_ids:
                continue
            bad_ids.add(sid)
            rows[id_col].append(sid)
            rows["reason"].append(why)
            rows["first_row"].append(r)
    if null_id.any():
        rows[id_col].append(None)
        rows["reason"].append(f"{int(null_id.sum())} rows with a null id dropped")
        rows["first_row"].append(int(np.argmax(null_id)))
    keep = ~null_id
    id_type = ids.type.value_type if pa.types.is_dictionary(ids.type) else ids.type
    if bad_ids:
        bad = pa.array(list(bad_ids), type=id_type)
        keep &= ~_to_numpy(pc.fill_null(pc.is_in(ids, value_set=bad), False), np.bool_)
    clean = tbl if keep.all() else tbl.filter(pa.array(keep))
    report = pa.table({id_col: pa.array(rows[id_col], type=id_type),
                       "reason": pa.array(rows["reason"], type=pa.string()),
                       "first_row": pa.array(rows["first_row"], type=pa.int64())})
    if report.num_rows:
        logger.warning("%s: %d series quarantined", table, report.num_rows)
    return clean, report, f


def _pair_checks(ids: pa.ChunkedArray, periods: np.ndarray, rows: np.ndarray,
                 freq: Frequency) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Duplicate (id, period) pairs, series with missing periods and series spaced more coarsely
    than ``freq`` (:func:`stockopt.data.coarser_spacing`), among the rows ``rows``.

    Returns three masks over all rows: rows whose pair appeared in an earlier row, the first row
    of each series whose periods leave a gap, and the first row of each coarser series.  The rows
    are ordered by (series, period) with group_series' own stable counting sort, and not at all when
    they already are (one pass), so this costs about what grouping costs.
    """
    n = len(ids)
    dup = np.zeros(n, dtype=bool)
    gapped = np.zeros(n, dtype=bool)
    coarse = np.zeros(n, dtype=bool)
    sel = None if rows.all() else np.flatnonzero(rows)  # None: every row
    m = n if sel is None else sel.size
    if m == 0:
        return dup, gapped, coarse
    sub_ids = ids if sel is None else ids.take(pa.array(sel))
    t = periods if sel is None else periods[sel]
    if t.dtype != np.int32:  # out-of-range periods are reported on their own; keep them distinct here
        lo, hi = (int(t.min()), int(t.max())) if t.size else (0, 0)
        t = t.astype(np.int32) if lo >= -(2**31) and hi < 2**31 else \
            np.clip(t, -(2**31), 2**31 - 1).astype(np.int32)
    codes, uniq, _, run_starts = _encode_ids(sub_ids, table="sales", column="id")
    indptr, perm = row_order(codes, run_starts, m, len(uniq), t)  # stable: earlier rows first
    ts = t if perm is None else t[perm]
    if perm is not None:  # strictly increasing periods within each series have no duplicate
        same = np.zeros(m, dtype=bool)
        same[1:] = ts[1:] == ts[:-1]
        same[indptr[:-1]] = False  # the first row of a series never repeats the previous series
        hit = perm[same]
        dup[hit if sel is None else sel[hit]] = True
    lengths = np.diff(indptr)
    distinct = lengths - (np.add.reduceat(same, indptr[:-1]) if perm is not None else 0)
    span = ts[indptr[1:] - 1].astype(np.int64) - ts[indptr[:-1]] + 1
    first = indptr[:-1] if perm is None else np.minimum.reduceat(perm, indptr[:-1])
    hit = first[span > distinct]
    gapped[hit if sel is None else sel[hit]] = True
    wide, _ = coarser_spacing(ts, indptr, freq, span - distinct)
    hit = first[wide]
    coarse[hit if sel is None else sel[hit]] = True
    return dup, gapped, coarse


_NIGHTLY_PARAMS = {k: v for k, v in FORECAST_PARAMS.items()
                   if k not in ("quantiles", "season_length", "nonnegative", "conformal_windows")}


#: the run's item defaults and the horizon's cap (see :mod:`stockopt._horizon`)
_ITEM_OPTIONS = {
    "h": [None, Integer(1)],
    "policy": POLICY_PARAMS["policy"],
    "service_level": Real(0, 1, lo_open=True, hi_open=True),
    "lead_time": [None, Real(0, float(ITEMS["lead_time"].hi))],
    "review_period": Real(0, float(ITEMS["review_period"].hi)),
    "max_horizon_days": Real(1, float(ITEMS["lead_time"].hi) * 2),
}

#: the order stage's solver limits in a nightly run (``docs/scale.md``, "The order stage")
NIGHTLY_GAP_LIMIT = 0.01
_SOLVER_OPTIONS = {"gap_limit": Real(0, 1), "work_limit": Real(0, lo_open=True)}


@validate_params({**_NIGHTLY_PARAMS, **CENSORED_PARAM, **_ITEM_OPTIONS, **_SOLVER_OPTIONS,
                  "out": [None, PathLike()],
                  "as_of": [None, AS_OF], "continuous_review": Options("daily", "keep"),
                  "quality": Boolean()})
def run_nightly(
    sales: Any,
    items: Any = None,
    h: int | None = None,
    *,
    out: str | Path | None = None,
    freq: str | None = None,
    models: Any = ("auto",),
    level: tuple[float, ...] = (80, 95),
    n_jobs: int = 1,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
    allow_negative: bool = False,
    continuous_review: str = "daily",
    stock: Any = None,
    suppliers: Any = None,
    open_orders: Any = None,
    as_of: Any = None,
    censored: str | None = None,
    policy: str = "auto",
    service_level: float = DEFAULT_SERVICE_LEVEL,
    lead_time: float | None = None,
    review_period: float = 1.0,
    max_horizon_days: float = MAX_HORIZON_DAYS,
    X_future: Any = None,
    quality: bool = True,
    gap_limit: float = NIGHTLY_GAP_LIMIT,
    work_limit: float = 10.0,
) -> PlanResult:
    """Run the nightly job: quarantine, forecast, size policies; return the tables and a summary.

    Stages: quarantine bad series, group, forecast ``h`` periods with ``models``, then compute
    inventory policies from the first model's forecasts and intervals, with the ``items``
    parameters (or, without an items table, ``lead_time`` (7 days), ``review_period`` (1 day) and
    ``service_level`` (a 95 % cycle service level)).
    With ``out``, the tables are also written there as ``forecast.parquet``, ``policy.parquet``
    and ``quarantine.parquet`` (:meth:`PlanResult.write`).  Everything that can be refused is
    checked before any forecasting: the arguments, the output folder (it must be writable), whole-table
    faults of ``sales`` and ``items`` (a missing column, a column of the wrong type, an unreadable
    file).

    Items whose row is unusable (no row for a forecast series, a duplicated id, a null, non-finite
    or out-of-range parameter, an unknown ``service_metric``, a lead time plus review period longer
    than ``max_horizon_days``) are quarantined too: their series keep their forecasts but get no
    policy, and the quarantine table names them with ``table = "items"``, the reason and the first
    offending row.

    Parameters
    ----------
    sales : Arrow-compatible table or Parquet path
        Long demand history ``unique_id, ds, y``.
    items : Arrow-compatible table or Parquet path, optional
        One row per item (see :func:`stockopt.inventory_policy`), keyed by ``id_col`` like the
        sales.
    h : int, optional
        Forecast horizon in periods of the sales' frequency.  Default: derived, the fewest periods
        covering the longest lead time + review period of the usable items rows (a review period of
        0 counts as one day), and with a replenishment stage the days from the first forecast day
        to the arrival of each item's order after the next (``as_of``, its supplier's order days,
        its lead time).  A shorter ``h`` is extended to that, never refused; the summary gives
        ``horizon``, ``horizon_requested``, ``horizon_needed`` (periods) and ``horizon_reason``
        (which item needed it).  Every usable items row counts, also one without sales, so that a
        partitioned run (:func:`stockopt.plan`) forecasts the same horizon.
    out : str or Path, optional
        Folder to write the Parquet outputs to (created if needed; checked writable first).
    freq, models, level, n_jobs, id_col, time_col, target_col, missing, fill_gaps
        As in :func:`stockopt.forecast`; the quarantine applies the same ``missing`` and
        ``fill_gaps``.  Series spaced more coarsely than the frequency (weekly rows in daily data)
        are quarantined, never regridded.
    allow_negative : bool
        Accept returns booked as negative demand: net demand is clipped at 0 before forecasting
        (:func:`stockopt.data.clip_returns`) and the summary counts the clipped periods
        (``returns``).  ``False`` (default) quarantines series with negative demand.
    continuous_review : {"daily", "keep"}
        What ``review_period = 0`` (continuous review) means in a nightly job, which can only order
        once a day.  ``"daily"`` (default) sizes those items for a daily review
        (``review_period = 1`` day): the textbook continuous-review (s, Q) assumes the position
        is watched after every unit of demand, and an (s, Q) sized that way reaches only about
        73 % of a 95 % cycle-service target when orders go out once a day (docs/inventory.md).
        ``"keep"`` keeps the textbook continuous-review sizing.  The summary counts the items
        changed (``continuous_review_as_daily``).
    stock, suppliers, open_orders : Arrow-compatible table or Parquet path, optional
        With ``stock`` and ``suppliers`` (and ``items`` carrying ``supplier_id``), the run also
        proposes orders, raises alerts and projects KPIs (``docs/replenishment.md``), written as
        ``orders.parquet``, ``alerts.parquet`` and ``kpis.parquet``.  Items with an unusable stock,
        open-order, supplier or supply-column row are quarantined (``table`` names where) and get
        no order, like items set aside by an earlier stage.
    as_of : str, datetime.date or numpy.datetime64, optional
        The day orders are planned from.  Default: the first forecast day of a series ending on the
        latest day of the sales (the day after it for daily sales), the same for every series and,
        in :func:`stockopt.plan`, for every partition (the latest day of the whole input).
    censored : str, optional
        An in-stock flag (False = stocked out) or ``on_hand`` column of ``sales``: the models
        forecast demand, not sales (:mod:`stockopt.signals.censored`); the summary gains the
        ``censored`` counts.  A series with a null flag (or a null or NaN stock level) is
        quarantined (reason ``"null in-stock flag (<column>)"``) and the run goes on.
    policy : {"auto", "RS", "sQ", "sS", "base_stock", "newsvendor"}
        The policy of every item (:func:`stockopt.inventory_policy`).
    service_level : float
        Service level of the items without one (no items table, no column, or a null): default
        0.95, with ``service_metric`` "cycle" unless the items row says otherwise.
    lead_time : float, optional
        Lead time (days) of the items without one.  Without an items table: every item's (None:
        7 days).  With one, a value here fills null lead times and an absent column; None keeps
        the column required and quarantines a row whose lead time is null.
    review_period : float
        Review period (days) of the items without one (default 1 day, a nightly order).
    max_horizon_days : float
        An items row whose lead time + review period exceeds this many days (default 365, or the
        days of a longer requested ``h``) is a fault of that row, quarantined, not a reason to
        forecast that far for every series: the forecast costs about the same per period of
        horizon for every series (``docs/limits.md``, ``docs/scale.md``).
    X_future : Arrow-compatible table or Parquet path, optional
        Drivers over the horizon, ``unique_id, ds, <driver> ...`` (``docs/data_contract.md``): the
        forecasts (and so the policies and orders) apply the drivers' effects, pooled across series
        on a de-promoted baseline, exactly as :func:`stockopt.forecast` with ``X_future=`` does
        (:func:`stockopt.signals.forecast_drivers`); the driver columns are those of ``X_future``
        besides the id and time, and the sales must carry them over the history.  A series whose
        ``X_future`` rows are missing, repeated or unusable is quarantined (``table = "X_future"``);
        the summary's ``drivers`` gives each driver's kind and pooled effect (uplift factor of a
        flag, elasticity of a price).  Not with ``allow_negative``.
    gap_limit, work_limit : float
        The order stage's solver limits per supplier, as in :func:`stockopt.replenish_plan`: the
        relative optimality gap of the expected cost (holding, ordering, trucks, expected shortage) at
        which CP-SAT stops, and its deterministic work limit (seconds of its deterministic clock, so
        the orders do not depend on the machine's load).  The nightly default ``gap_limit`` is 0.01,
        looser than ``replenish_plan``'s 0.005: on 20,000 synthetic items the solve takes 3.3
        processor-seconds instead of 42, for +0.06 % expected cost, 13,749 order lines instead of
        13,751 and the same projected fill rate (``docs/scale.md``, "The order stage"); the
        summary's ``solver_max_gap`` reports the largest gap left.
    quality : bool
        Add to the summary the data-quality findings of the sales as read (``data_quality``: per
        check of :func:`stockopt.check_data`, its severity, the series and the rows concerned):
        about 1.3 processor-seconds per 10,000 series x 730 days, some 4 % of a run with ``auto``
        and a quarter of one with a fast model (``docs/scale.md``).  The summary always counts the
        forecast series per demand class (``demand_classes``: smooth / erratic / intermittent /
        lumpy, and new / dead, by :func:`stockopt.classify_demand`; about 0.1 s per 10,000
        series).

    Returns
    -------
    PlanResult
        ``.forecast``, ``.policy`` and ``.quarantine`` tables and the ``.summary`` dict (series
        read, quarantined and why, gaps filled, returns clipped, models and their fallbacks, policy
        statuses, seconds by stage).  The policy table always has its columns, even with no row.

    Raises
    ------
    stockopt.errors.EmptyInputError
        When every series is quarantined (the quarantine report is written to ``out`` first).

    Examples
    --------
    >>> import stockopt as so
    >>> sales = so.datasets.synthetic_retail(3, 60, seed=1).rename_columns(["sku", "ds", "y", "in_stock",
    ...                                                                     "price", "on_promotion"])
    >>> plan = so.run_nightly(sales, h=14, models=["naive"], id_col="sku")
    >>> plan.forecast.num_rows, plan.policy.column_names[:3], plan.summary["series_forecast"]
    (42, ['sku', 'policy', 'distribution'], 3)
    """
    from stockopt.data import clip_returns, group_series
    from stockopt.forecasting import forecast_grouped, normalise_levels
    from stockopt.models import resolve_models
    from stockopt.replenishment._nightly import check_arguments, plan_supply

    supply = check_arguments(items, stock, suppliers, open_orders)
    if out is not None:
        out = check_output_dir(out, parameter="out", where="run_nightly")
    if items is not None:  # the run's defaults in place of absent columns and nulls (orders read them too)
        items = fill_item_defaults(to_table(items, table="items"), lead_time=lead_time,
                                   review_period=review_period, service_level=service_level)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    cols = dict(id_col=id_col, time_col=time_col, target_col=target_col, missing=missing, fill_gaps=fill_gaps)
    sales = to_table(sales, table="sales")
    if X_future is not None:  # demand drivers (stockopt.signals.nightly): whole-table faults raise here
        from stockopt.signals.nightly import read_x_future

        X_future, drivers = read_x_future(X_future, sales.column_names, id_col=id_col, time_col=time_col,
                                          allow_negative=allow_negative)
    clean, report, f = _quarantine(sales, freq=freq, allow_negative=allow_negative, table="sales",
                                   censored=censored, **cols)
    if clean.num_rows == 0:
        if out is not None:
            import pyarrow.parquet as pq

            pq.write_table(_with_table(report, "sales"), out / "quarantine.parquet")
        raise_error(EmptyInputError, "every series was quarantined", table="sales",
                    expected="at least one series without a problem (see the quarantine report"
                    + (f" {out / 'quarantine.parquet'})" if out is not None else ")"),
                    got=_reason_counts(report))
    extra = ([censored] if censored is not None else []) + (drivers if X_future is not None else [])
    grouped = group_series(clean, freq=f or freq, allow_negative=allow_negative, extra_cols=extra, **cols)
    whole_last = WHOLE_INPUT.get().get("last_date")  # so.plan: the latest day of the whole input
    last_day = (int(np.datetime64(whole_last, "D").astype(np.int64)) if whole_last is not None
                else _last_day(sales, time_col))
    if supply and as_of is None and last_day is not None:  # one order day for every series and partition
        as_of = np.datetime64(first_forecast_day(grouped.freq, last_day), "D")
    hz = derive_horizon(items, suppliers if supply else None, freq=grouped.freq,
                        last_day=last_day, as_of=as_of, h=h, id_col=id_col,
                        lead_time=lead_time, review_period=review_period, max_horizon_days=max_horizon_days)
    h = hz.h  # the drivers must cover the derived horizon
    x_report = None
    if X_future is not None:
        grouped, clean, x_report, n_x_bad = _quarantine_x_future(X_future, drivers, grouped, clean, report,
                                                                 h, extra, cols)
    if allow_negative:
        grouped = clip_returns(grouped)
    defaults = {"lead_time": DEFAULT_LEAD_TIME if lead_time is None else float(lead_time),
                "service_level": float(service_level), "review_period": float(review_period)}
    items_clean, item_report, n_remapped = _plan_items(items, grouped, hz, continuous_review, defaults)
    timings["validate_group"] = time.perf_counter() - t

    t = time.perf_counter()
    levels, _ = normalise_levels(level, None)
    with warnings.catch_warnings():  # fallbacks are counted in the summary instead
        warnings.simplefilter("ignore", FallbackWarning)
        mods = resolve_models(models, season_length=grouped.freq.season_length)
        if X_future is not None:  # demand drivers, as stockopt.forecast(X_future=) (stockopt.signals)
            from stockopt.signals.forecast import forecast_drivers

            drv = forecast_drivers(grouped, h, X_future, models=mods, level=level, censored=censored,
                                   n_jobs=n_jobs, effects=WHOLE_INPUT.get().get("driver_effects"))
            fc, model_stats = drv.forecast, dict(drv.stats)
            censored_counts = model_stats.pop("censored", None)
            model_stats.pop("drivers", None)
        elif censored is not None:  # demand signals: stockout-censored sales (stockopt.signals)
            from stockopt.signals._common import censor_mask
            from stockopt.signals.censored import forecast_censored

            fc, model_stats, censored_counts = forecast_censored(grouped, censor_mask(grouped, censored), h,
                                                                 mods, levels, [], n_jobs=n_jobs)
        else:
            fc, model_stats = forecast_grouped(grouped, h, mods, levels, [], n_jobs=n_jobs)
    timings["forecast"] = time.perf_counter() - t

    rep = grouped.report
    summary: dict[str, Any] = {
        "series": grouped.n_series + report.num_rows,
        "series_forecast": grouped.n_series,
        "series_quarantined": report.num_rows,
        "rows": rep.n_rows if rep else None,
        "frequency": grouped.freq.alias,
        "gaps_filled": rep.total_gaps_filled if rep else 0,
        "series_mostly_gap_filled": int(rep.mostly_filled.size) if rep else 0,
        **hz.summary(),
        "forecast_rows": fc.num_rows,
        "models": model_stats,
    }
    if censored is not None:
        summary["censored"] = censored_counts
    if X_future is not None:
        from stockopt.signals.nightly import drivers_summary

        given = WHOLE_INPUT.get().get("driver_effects")
        summary["drivers"] = drivers_summary(drv.coefficients if given is None else given)
        summary["series"] += n_x_bad
        summary["series_quarantined"] += n_x_bad
    from stockopt.signals.nightly import class_counts, quality_summary  # demand classes, data quality

    t = time.perf_counter()
    summary["demand_classes"] = class_counts(grouped, censored)
    if quality:
        summary["data_quality"] = quality_summary(sales, freq=grouped.freq.alias, id_col=id_col,
                                                  time_col=time_col, target_col=target_col,
                                                  last_date=WHOLE_INPUT.get().get("last_date"))
    timings["signals"] = time.perf_counter() - t
    if allow_negative:
        clipped = rep.returns_clipped if rep is not None and rep.returns_clipped is not None else np.zeros(0)
        summary["returns"] = {"series_with_returns": int(np.count_nonzero(clipped)),
                              "periods_clipped": int(clipped.sum())}
    t = time.perf_counter()
    first_model = next(iter(model_stats))  # policies, orders, alerts and KPIs all use the first model
    policy = _policies(fc, grouped, items_clean, item_report, first_model, n_jobs, policy)
    timings["inventory"] = time.perf_counter() - t
    report = _with_table(report, "sales")
    if x_report is not None and x_report.num_rows:
        report = pa.concat_tables([report, _with_table(x_report, "X_future").cast(report.schema)])
    if item_report.num_rows:
        report = pa.concat_tables([report, _with_table(item_report, "items").cast(report.schema)])
        logger.warning("items: %d series quarantined (no policy)", item_report.num_rows)
    summary["items_quarantined"] = item_report.num_rows
    summary["continuous_review_as_daily"] = n_remapped
    summary["policies"] = policy.num_rows
    names, counts = np.unique(np.asarray(policy["status"].to_pylist(), dtype=object).astype(str),
                              return_counts=True)
    summary["policy_status"] = {str(a): int(b) for a, b in zip(names, counts)}
    summary["total_safety_stock"] = (round(float(pc.sum(policy["safety_stock"]).as_py() or 0.0), 1)
                                     if policy.num_rows else 0.0)
    sr = None
    if supply:
        t = time.perf_counter()
        sr = plan_supply(policy, fc, items, clean, stock=stock, suppliers=suppliers, open_orders=open_orders,
                         as_of=as_of, model=first_model, period_days=grouped.freq.days_per_period,
                         id_col=id_col, time_col=time_col, target_col=target_col, n_jobs=n_jobs,
                         gap_limit=gap_limit, work_limit=work_limit)
        report = pa.concat_tables([report, sr.report.cast(report.schema)])
        summary.update(sr.summary)
        timings["replenish"] = time.perf_counter() - t
    summary["quarantine_reasons"] = _reason_counts(report)
    result = PlanResult(forecast=fc, policy=policy, quarantine=report, summary=summary,
                        **({} if sr is None else dict(orders=sr.orders, alerts=sr.alerts, kpis=sr.kpis)))
    if out is not None:
        result.write(out)
    summary["seconds_by_stage"] = {k: round(v, 3) for k, v in timings.items()}
    return result


def _quarantine_x_future(x_future: pa.Table, drivers: list[str], grouped: Any, clean: pa.Table,
                         report: pa.Table, h: int, extra: list[str],
                         cols: dict[str, Any]) -> tuple[Any, pa.Table, pa.Table, int]:
    """Set aside the series whose ``X_future`` rows the forecast cannot use: the grouping and clean
    rows of the others, the report (:func:`stockopt.signals.nightly.quarantine_x_future`) and the
    number of series it set aside (the report also names ids the sales lack)."""
    from stockopt.data import group_series
    from stockopt.signals.nightly import quarantine_x_future

    id_col = cols["id_col"]
    quarantined = report[id_col].combine_chunks().drop_null().cast(grouped.ids.type)
    known = pa.concat_arrays([grouped.ids, quarantined])
    x_report = quarantine_x_future(x_future, drivers, grouped, h, known)
    bad = x_report[id_col].combine_chunks().drop_null()
    bad = bad.filter(pc.is_in(bad, value_set=grouped.ids))
    if len(bad):
        logger.warning("X_future: %d series quarantined", len(bad))
        keep = pc.invert(pc.fill_null(pc.is_in(clean[id_col], value_set=bad.cast(clean[id_col].type)), False))
        clean = clean.filter(keep)
        if clean.num_rows == 0:
            try:
                raise_error(EmptyInputError, "every series was quarantined", table="X_future",
                            expected="at least one series with usable X_future rows (see the quarantine "
                            "report)",
                            got=_reason_counts(x_report))
            except EmptyInputError as exc:  # the report, for a partition of so.plan to return
                sales_part = _with_table(report, "sales")
                exc.quarantine = pa.concat_tables([sales_part, _with_table(x_report, "X_future").cast(
                    sales_part.schema)])
                raise
        grouped = group_series(clean, freq=grouped.freq, extra_cols=extra, **cols)
    return grouped, clean, x_report, len(bad)


def _reason_counts(report: pa.Table) -> dict[str, int]:
    """How many series the quarantine set aside for each reason (reasons in first-seen order)."""
    out: dict[str, int] = {}
    for why in report["reason"].to_pylist():
        key = why.split(":")[0] if why else str(why)  # "lead_time: expected ..." counts as "lead_time"
        out[key] = out.get(key, 0) + 1
    return out


def _with_table(report: pa.Table, table: str) -> pa.Table:
    """The quarantine report with a ``table`` column naming where each problem was found."""
    return report.append_column("table", pa.array([table] * report.num_rows, pa.string()))


@validate_params({"id_col": Instance(str)})
def quarantine_items(items: Any, ids: pa.Array | pa.ChunkedArray, *,
                     id_col: str = "unique_id") -> tuple[pa.Table, pa.Table]:
    """Split an items table into the usable rows for ``ids`` and a report of unusable items.

    An item is unusable when a forecast series has no row, when its id appears in more than one
    row, or when a parameter breaks the rules of :func:`stockopt.inventory_policy` (a null in a
    required column, NaN, infinite or out of range, an unknown ``service_metric``): the same
    rules (:mod:`stockopt._rules`), applied to every row at once so that one bad row cannot stop a
    nightly run.  Faults of the whole table (a missing required column, a non-numeric column)
    raise.

    Parameters
    ----------
    items : Arrow-compatible table or Parquet path
        One row per item, keyed by ``id_col``.
    ids : pyarrow.Array
        The ids of the series that need a row.
    id_col : str
        Name of the id column of ``items``.

    Returns
    -------
    clean : pyarrow.Table
        The rows of usable items among ``ids`` (items table order).
    report : pyarrow.Table
        ``<id_col>, reason, first_row`` per unusable item (``first_row`` 0-based in the items
        table; -1 for a series with no row).

    Examples
    --------
    >>> import pyarrow as pa
    >>> items = pa.table({"unique_id": ["a", "b"], "lead_time": [3.0, -1.0]})
    >>> clean, report = quarantine_items(items, pa.array(["a", "b", "c"]))
    >>> clean["unique_id"].to_pylist()
    ['a']
    >>> [(r["unique_id"], r["reason"], r["first_row"]) for r in report.to_pylist()]
    [('b', 'lead_time: expected a finite lead time in [0, 3650] days', 1),
     ('c', 'no items row for this series', -1)]
    """
    from stockopt.inventory._validate import _duplicated, check_ids, id_strings, item_problems

    tbl = to_table(items, table="items")
    item_ids = check_ids(tbl, "items", id_col)
    n = tbl.num_rows
    reasons: list[tuple[np.ndarray, str]] = [(_duplicated(item_ids), "duplicate item row")]
    _, found = item_problems(tbl)
    reasons += [(p.mask, f"{name}: expected {ITEMS[name].accepted}") for name, p in found]
    rows: dict[str, list[Any]] = {id_col: [], "reason": [], "first_row": []}
    bad_rows = np.zeros(n, dtype=bool)
    seen: set[Any] = set()
    for mask, why in reasons:
        hit = np.flatnonzero(mask & ~bad_rows)
        for r, sid in zip(hit.tolist(), item_ids.take(pa.array(hit)).to_pylist()):
            if sid not in seen:  # a duplicated id is reported once, at its first row
                seen.add(sid)
                rows[id_col].append(sid)
                rows["reason"].append(why)
                rows["first_row"].append(r)
        bad_rows |= mask
    want = id_strings(ids)
    missing = np.flatnonzero(~_to_numpy(pc.is_in(want, value_set=item_ids), np.bool_))
    rows[id_col] += want.take(pa.array(missing)).to_pylist()
    rows["reason"] += ["no items row for this series"] * missing.size
    rows["first_row"] += [-1] * missing.size
    keep = ~bad_rows & _to_numpy(pc.is_in(item_ids, value_set=want), np.bool_)
    clean = tbl if keep.all() else tbl.filter(pa.array(keep))
    report = pa.table({id_col: pa.array(rows[id_col], pa.large_string()),
                       "reason": pa.array(rows["reason"], pa.string()),
                       "first_row": pa.array(rows["first_row"], pa.int64())})
    return clean, report


def _last_day(sales: pa.Table, time_col: str) -> int | None:
    """The latest stamp of the sales (days since 1970-01-01), None without a dated row."""
    col = sales.column(time_col)
    if not pa.types.is_temporal(col.type) or col.null_count == len(col):
        return None
    latest = pc.max(col)
    days, _ = time_to_days(pa.array([latest.as_py()], type=col.type), table="sales", column=time_col)
    return int(days[0])


def _plan_items(items: pa.Table | None, grouped: Any, hz: Horizon, continuous_review: str,
                defaults: dict[str, float]) -> tuple[pa.Table, pa.Table, int]:
    """The items to size, before any forecasting: the run's defaults without an items table,
    otherwise the usable rows (:func:`quarantine_items`; whole-table faults raise here, before the
    forecast) minus those whose lead time plus review period exceeds the horizon's limit
    (``max_horizon_days``).

    Returns the items, the report of quarantined items and the number of continuous-review items
    sized for a daily review.
    """
    from stockopt._rules import numeric_values

    id_col = grouped.id_col
    if items is None:
        n = grouped.n_series
        items = pa.table({id_col: grouped.ids, **{k: pa.array(np.full(n, v)) for k, v in defaults.items()}})
        report = pa.table({id_col: pa.array([], pa.large_string()), "reason": pa.array([], pa.string()),
                           "first_row": pa.array([], pa.int64())})
        return items, report, 0
    row_col = "__stockopt_row__"  # each row's number in the caller's items table, for the report
    items = items.append_column(row_col, pa.array(np.arange(items.num_rows, dtype=np.int64)))
    items, report = quarantine_items(items, grouped.ids, id_col=id_col)
    n_remapped = 0
    if continuous_review == "daily" and "review_period" in items.column_names:
        rp = items["review_period"]
        zero = _to_numpy(pc.fill_null(pc.equal(rp, 0), False), np.bool_)
        n_remapped = int(zero.sum())
        if n_remapped:
            new = pc.if_else(pa.array(zero), pa.scalar(1.0), pc.cast(rp, pa.float64()))
            items = items.set_column(items.column_names.index("review_period"), "review_period", new)
            logger.info("items: %d continuous-review items sized for a daily review", n_remapped)
    lt, _ = numeric_values(items, "lead_time", ITEMS["lead_time"], table="items")
    rv, _ = numeric_values(items, "review_period", ITEMS["review_period"], table="items")
    need = item_need_days(lt, rv)
    long = need > hz.limit_days * (1 + 1e-12)
    if long.any():  # a fault of the row, not a horizon for every series (docs/limits.md)
        hit = np.flatnonzero(long)
        ids = items[id_col].take(pa.array(hit))
        more = pa.table({id_col: pa.array([str(x) for x in ids.to_pylist()], pa.large_string()),
                         "reason": pa.array([f"lead time + review period of {x:g} days beyond the longest "
                                             f"horizon a run derives (max_horizon_days = {hz.limit_days:g})"
                                             for x in need[hit]], pa.string()),
                         "first_row": items[row_col].take(pa.array(hit))})
        report = pa.concat_tables([report, more])
        items = items.filter(pa.array(~long))
    return items.drop_columns([row_col]), report, n_remapped


def _policies(fc: pa.Table, grouped: Any, items: pa.Table, item_report: pa.Table, model: str,
              n_jobs: int, policy: str = "auto") -> pa.Table:
    """Inventory policies from the first model's forecasts for the usable ``items``; a table with
    every policy column and no row when no item is left."""
    from stockopt.inventory import inventory_policy
    from stockopt.inventory._schema import policy_schema

    id_col = grouped.id_col
    if item_report.num_rows:
        bad = pa.array(item_report[id_col].to_pylist(), pa.large_string())
        drop = _to_numpy(pc.is_in(pc.cast(fc[id_col], pa.large_string()), value_set=bad), np.bool_)
        fc = fc.filter(pa.array(~drop))
    if fc.num_rows == 0:
        return policy_schema(fc.schema.field(id_col).type, id_col).empty_table()
    return inventory_policy(fc, items, policy=policy, model=model, n_jobs=n_jobs, id_col=id_col,
                            time_col=grouped.time_col, period_days=grouped.freq.nominal_days)
