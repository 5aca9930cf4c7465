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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, time_to_days, to_table
from stockopt._params import Boolean, Instance, Options, PathLike, validate_params
from stockopt._rules import ITEMS, SALES, SALES_CHECKS, is_id_type, is_numeric_type
from stockopt.data import SALES_PARAMS, _encode_ids, row_order
from stockopt.errors import ColumnTypeError, EmptyInputError, FallbackWarning, raise_error
from stockopt.forecasting import FORECAST_PARAMS
from stockopt.frequency import infer_freq, parse_freq
from stockopt.replenishment._tables import AS_OF

__all__ = ["quarantine", "quarantine_items", "run_nightly", "PlanResult"]

logger = logging.getLogger(__name__)

_C = SALES_CHECKS


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
        ``"sales"`` or ``"items"``).
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

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(self.forecast, out / "forecast.parquet")
        pq.write_table(self.quarantine, out / "quarantine.parquet")
        pq.write_table(self.policy, out / "policy.parquet")
        for name in ("orders", "alerts", "kpis"):
            if getattr(self, name) is not None:
                pq.write_table(getattr(self, name), out / f"{name}.parquet")


@validate_params({**SALES_PARAMS, "allow_negative": Boolean(), "table": Instance(str)})
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
    table: str = "sales",
) -> tuple[pa.Table, pa.Table]:
    """Split a sales table into the rows of clean series and a report of quarantined series.

    A series is quarantined when :func:`stockopt.group_series`, given the same options, would refuse
    it: a row with a null time, a time of day, a stamp off the frequency or out of range, a
    repeated period, a null/NaN demand (unless ``missing`` fills it), an infinite demand, a negative
    demand (unless ``allow_negative``), or missing periods inside it when ``fill_gaps="error"``.
    Rows with a null id cannot be attributed to a series and are dropped (and counted in the report
    under a null id).  Faults of the whole table (a missing column, a column of the wrong type)
    raise as in :func:`stockopt.group_series`.

    Parameters
    ----------
    sales : Arrow-compatible table or Parquet path
        Long demand history ``unique_id, ds, y``.
    freq, id_col, time_col, target_col, missing, fill_gaps, allow_negative
        As in :func:`stockopt.group_series`.
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
    """
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
    if not allow_negative:
        reasons.append((y_np < 0, _C["negative_target"].what))
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
        dup, gapped = _pair_checks(ids, periods, ~null_time & ~null_id, fill_gaps == "error")
        reasons.append((dup, _C["duplicate"].what))
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
    return clean, report


def _pair_checks(ids: pa.ChunkedArray, periods: np.ndarray, rows: np.ndarray,
                 gaps: bool) -> tuple[np.ndarray, np.ndarray]:
    """Duplicate (id, period) pairs and series with missing periods, among the rows ``rows``.

    Returns two masks over all rows: rows whose pair appeared in an earlier row, and (with
    ``gaps``) the first row of each series whose periods leave a gap.  The rows are ordered by
    (series, period) with group_series' own stable counting sort, and not at all when they already
    are (one pass), so this costs about what grouping costs.
    """
    n = len(ids)
    dup = np.zeros(n, dtype=bool)
    gapped = np.zeros(n, dtype=bool)
    sel = None if rows.all() else np.flatnonzero(rows)  # None: every row
    m = n if sel is None else sel.size
    if m == 0:
        return dup, gapped
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
    if gaps:
        lengths = np.diff(indptr)
        distinct = lengths - (np.add.reduceat(same, indptr[:-1]) if perm is not None else 0)
        span = ts[indptr[1:] - 1].astype(np.int64) - ts[indptr[:-1]] + 1
        first = indptr[:-1] if perm is None else np.minimum.reduceat(perm, indptr[:-1])
        hit = first[span > distinct]
        gapped[hit if sel is None else sel[hit]] = True
    return dup, gapped


_NIGHTLY_PARAMS = {k: v for k, v in FORECAST_PARAMS.items()
                   if k not in ("quantiles", "season_length", "nonnegative", "conformal_windows")}


@validate_params({**_NIGHTLY_PARAMS, "out": [None, PathLike()], "as_of": [None, AS_OF],
                  "continuous_review": Options("daily", "keep")})
def run_nightly(
    sales: Any,
    items: Any = None,
    h: int = 28,
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
    continuous_review: str = "daily",
    stock: Any = None,
    suppliers: Any = None,
    open_orders: Any = None,
    as_of: Any = None,
) -> PlanResult:
    """Run the nightly job: quarantine, forecast, size policies; return the tables and a summary.

    Stages: quarantine bad series, group, forecast ``h`` periods with ``models``, then compute
    inventory policies from the first model's forecasts and intervals, with the ``items``
    parameters (or, without an items table, a 7-day lead time and a 95 % cycle service level).
    With ``out``, the tables are also written there as ``forecast.parquet``, ``policy.parquet``
    and ``quarantine.parquet`` (:meth:`PlanResult.write`).

    Items whose row is unusable (no row for a forecast series, a duplicated id, a null, non-finite
    or out-of-range parameter, an unknown ``service_metric``) are quarantined too: their series
    keep their forecasts but get no policy, and the quarantine table names them with
    ``table = "items"``, the reason and the first offending row.

    Parameters
    ----------
    sales : Arrow-compatible table or Parquet path
        Long demand history ``unique_id, ds, y``.
    items : Arrow-compatible table or Parquet path, optional
        One row per item (see :func:`stockopt.inventory_policy`), keyed by ``id_col`` like the
        sales.
    h : int
        Forecast horizon in periods of the sales' frequency.
    out : str or Path, optional
        Folder to write the Parquet outputs to.
    freq, models, level, n_jobs, id_col, time_col, target_col, missing, fill_gaps
        As in :func:`stockopt.forecast`; the quarantine applies the same ``missing`` and
        ``fill_gaps``.
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
        The day orders are planned from (default: the first day of the forecast).

    Returns
    -------
    PlanResult
        ``.forecast``, ``.policy`` and ``.quarantine`` tables and the ``.summary`` dict (series
        read, quarantined, gaps filled, models, policy statuses, seconds by stage).

    Examples
    --------
    >>> import stockopt as so
    >>> sales = so.datasets.synthetic_retail(3, 60, seed=1).rename_columns(["sku", "ds", "y", "in_stock",
    ...                                                                     "price", "on_promotion"])
    >>> plan = so.run_nightly(sales, h=14, models=["naive"], id_col="sku")
    >>> plan.forecast.num_rows, plan.policy.column_names[:3], plan.summary["series_forecast"]
    (42, ['sku', 'policy', 'distribution'], 3)
    """
    from stockopt.data import group_series
    from stockopt.forecasting import forecast_grouped, normalise_levels
    from stockopt.models import resolve_models
    from stockopt.replenishment._nightly import check_arguments, plan_supply

    supply = check_arguments(items, stock, suppliers, open_orders)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    cols = dict(id_col=id_col, time_col=time_col, target_col=target_col, missing=missing, fill_gaps=fill_gaps)
    clean, report = quarantine(sales, freq=freq, **cols)
    if clean.num_rows == 0:
        raise_error(EmptyInputError, "every series was quarantined", table="sales",
                    expected="at least one series without a problem (see the quarantine report)")
    grouped = group_series(clean, freq=freq, **cols)
    timings["validate_group"] = time.perf_counter() - t

    t = time.perf_counter()
    levels, _ = normalise_levels(level, None)
    with warnings.catch_warnings():  # fallbacks are counted in the summary instead
        warnings.simplefilter("ignore", FallbackWarning)
        mods = resolve_models(models, season_length=grouped.freq.season_length)
        fc, model_stats = forecast_grouped(grouped, h, mods, levels, [], n_jobs=n_jobs)
    timings["forecast"] = time.perf_counter() - t

    summary: dict[str, Any] = {
        "series": grouped.n_series + report.num_rows,
        "series_forecast": grouped.n_series,
        "series_quarantined": report.num_rows,
        "rows": grouped.report.n_rows if grouped.report else None,
        "frequency": grouped.freq.alias,
        "gaps_filled": grouped.report.total_gaps_filled if grouped.report else 0,
        "horizon": h,
        "forecast_rows": fc.num_rows,
        "models": model_stats,
    }
    t = time.perf_counter()
    first_model = next(iter(model_stats))  # policies, orders, alerts and KPIs all use the first model
    policy, item_report, n_remapped = _policies(fc, grouped, items, first_model, n_jobs, continuous_review)
    timings["inventory"] = time.perf_counter() - t
    report = _with_table(report, "sales")
    if item_report.num_rows:
        report = pa.concat_tables([report, _with_table(item_report, "items").cast(report.schema)])
        logger.warning("items: %d series quarantined (no policy)", item_report.num_rows)
    summary["items_quarantined"] = item_report.num_rows
    summary["continuous_review_as_daily"] = n_remapped
    summary["policies"] = policy.num_rows
    if policy.num_rows:
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
                         id_col=id_col, time_col=time_col, target_col=target_col, n_jobs=n_jobs)
        report = pa.concat_tables([report, sr.report.cast(report.schema)])
        summary.update(sr.summary)
        timings["replenish"] = time.perf_counter() - t
    result = PlanResult(forecast=fc, policy=policy, quarantine=report, summary=summary,
                        **({} if sr is None else dict(orders=sr.orders, alerts=sr.alerts, kpis=sr.kpis)))
    if out is not None:
        result.write(out)
    summary["seconds_by_stage"] = {k: round(v, 3) for k, v in timings.items()}
    return result


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
    [('b', 'lead_time: expected a finite lead time >= 0 days', 1), ('c', 'no items row for this series', -1)]
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


def _policies(fc: pa.Table, grouped: Any, items: Any, model: str, n_jobs: int,
              continuous_review: str = "daily") -> tuple[pa.Table, pa.Table, int]:
    """Inventory policies from the first model's forecasts (default item parameters without items).

    Returns the policy table, the report of quarantined items and the number of continuous-review
    items sized for a daily review.
    """
    from stockopt.inventory import inventory_policy

    id_col = grouped.id_col
    if items is None:
        items = pa.table({id_col: grouped.ids, "lead_time": pa.array(np.full(grouped.n_series, 7.0)),
                          "service_level": pa.array(np.full(grouped.n_series, 0.95))})
        report = pa.table({id_col: pa.array([], pa.large_string()), "reason": pa.array([], pa.string()),
                           "first_row": pa.array([], pa.int64())})
    else:
        items, report = quarantine_items(items, grouped.ids, id_col=id_col)
        if report.num_rows:
            bad = pa.array(report[id_col].to_pylist(), pa.large_string())
            drop = _to_numpy(pc.is_in(pc.cast(fc[id_col], pa.large_string()), value_set=bad), np.bool_)
            fc = fc.filter(pa.array(~drop))
    n_remapped = 0
    if continuous_review == "daily" and "review_period" in items.column_names:
        rp = items["review_period"]
        zero = _to_numpy(pc.fill_null(pc.equal(rp, 0), False), np.bool_)
        n_remapped = int(zero.sum())
        if n_remapped:
            new = pc.if_else(pa.array(zero), pa.scalar(1.0), pc.cast(rp, pa.float64()))
            items = items.set_column(items.column_names.index("review_period"), "review_period", new)
            logger.info("items: %d continuous-review items sized for a daily review", n_remapped)
    if fc.num_rows == 0:
        return pa.table({}), report, n_remapped
    return inventory_policy(fc, items, model=model, n_jobs=n_jobs, id_col=id_col,
                            time_col=grouped.time_col), report, n_remapped
