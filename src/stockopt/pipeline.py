"""The nightly run: validate and quarantine, forecast, size inventory, write outputs and a summary.

Each stage is usable alone; this module only composes them and makes a run survive bad series: rows
that would make :func:`stockopt.group_series` refuse the whole table (null, NaN, infinite or
negative demand, stamps off the frequency, duplicate periods) put their series in quarantine, and
the run goes on with the others and says so in its summary.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, time_to_days, to_table
from stockopt.errors import EmptyInputError, FallbackWarning, ParameterError, raise_error
from stockopt.frequency import infer_freq, parse_freq

__all__ = ["quarantine", "quarantine_items", "run_nightly"]

logger = logging.getLogger(__name__)


def quarantine(
    sales: Any,
    freq: str | None = None,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    table: str = "sales",
) -> tuple[pa.Table, pa.Table]:
    """Split a sales table into the rows of clean series and a report of quarantined series.

    A series is quarantined when any of its rows has a null time, a null/NaN/infinite or negative
    demand, a stamp off the frequency, or repeats a period.  Rows with a null id cannot be
    attributed to a series and are dropped (and counted in the report under a null id).

    Returns
    -------
    clean : pyarrow.Table
        The rows of every series without a problem (original row order).
    report : pyarrow.Table
        ``unique_id, reason, first_row`` for each quarantined series (``first_row`` 0-based in the
        input).
    """
    tbl = to_table(sales, table=table)
    require_columns(tbl, {"id_col": id_col, "time_col": time_col, "target_col": target_col}, table=table)
    reasons: list[tuple[np.ndarray, str]] = []
    ids = tbl.column(id_col)
    time_col_arr = tbl.column(time_col)
    null_time = _to_numpy(pc.is_null(time_col_arr), np.bool_)
    reasons.append((null_time, "null time stamp"))
    y = tbl.column(target_col)
    y_f = pc.cast(y, pa.float64()) if not pa.types.is_floating(y.type) else y
    y_np = _to_numpy(pc.fill_null(y_f, float("nan")), np.float64)
    reasons.append((np.isnan(y_np), "null or NaN demand"))
    reasons.append((np.isinf(y_np), "infinite demand"))
    reasons.append((y_np < 0, "negative demand"))
    if not null_time.all():
        if null_time.any():  # null rows are already flagged; give them any valid stamp to go on
            time_col_arr = pc.fill_null(time_col_arr, time_col_arr[int(np.argmin(null_time))])
        days, off = time_to_days(time_col_arr, table=table, column=time_col)
        f = parse_freq(freq) if freq is not None else infer_freq(days[~null_time])
        periods, on_grid = f.to_period(days)
        reasons.append((off | ~on_grid, f"time stamp off the frequency {f.alias}"))
        # duplicates: a (id, period) pair seen before
        key = pa.table({"i": ids, "p": periods})
        dup = _duplicated(key)
        reasons.append((dup & ~null_time, "duplicate (series, time) pair"))
    null_id = _to_numpy(pc.is_null(ids), np.bool_)
    rows = {"unique_id": [], "reason": [], "first_row": []}
    bad_ids: set[Any] = set()
    for mask, why in reasons:
        mask = mask & ~null_id
        if not mask.any():
            continue
        hit = np.flatnonzero(mask)
        first_by_id: dict[Any, int] = {}
        for r, sid in zip(hit.tolist(), ids.take(pa.array(hit)).to_pylist()):
            first_by_id.setdefault(sid, r)
        for sid, r in first_by_id.items():
            if sid in bad_ids:
                continue
            bad_ids.add(sid)
            rows["unique_id"].append(sid)
            rows["reason"].append(why)
            rows["first_row"].append(r)
    if null_id.any():
        rows["unique_id"].append(None)
        rows["reason"].append(f"{int(null_id.sum())} rows with a null id dropped")
        rows["first_row"].append(int(np.argmax(null_id)))
    keep = ~null_id
    if bad_ids:
        value_set = pa.array(list(bad_ids), type=ids.type.value_type if pa.types.is_dictionary(ids.type) else ids.type)
        keep &= ~_to_numpy(pc.fill_null(pc.is_in(ids, value_set=value_set), False), np.bool_)
    clean = tbl if keep.all() else tbl.filter(pa.array(keep))
    id_type = ids.type.value_type if pa.types.is_dictionary(ids.type) else ids.type
    report = pa.table({"unique_id": pa.array(rows["unique_id"], type=id_type),
                       "reason": pa.array(rows["reason"], type=pa.string()),
                       "first_row": pa.array(rows["first_row"], type=pa.int64())})
    if report.num_rows:
        logger.warning("%s: %d series quarantined", table, report.num_rows)
    return clean, report


def _duplicated(key: pa.Table) -> np.ndarray:
    """True for each row whose (i, p) pair appeared in an earlier row."""
    n = key.num_rows
    idx = pa.array(np.arange(n, dtype=np.int64))
    first = key.append_column("row", idx).group_by(["i", "p"], use_threads=False).aggregate([("row", "min")])
    is_first = np.zeros(n, dtype=bool)
    is_first[_to_numpy(first.column("row_min"), np.int64)] = True
    return ~is_first


def run_nightly(
    sales: Any,
    *,
    items: Any = None,
    out: str | Path | None = None,
    h: int = 28,
    freq: str | None = None,
    models: Any = ("auto",),
    level: tuple[float, ...] = (80, 95),
    n_jobs: int = 1,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    continuous_review: str = "daily",
    censored: str | None = None,
) -> dict[str, Any]:
    """Run the nightly job and return its summary (and write Parquet outputs to ``out``).

    Stages: quarantine bad series, group, forecast ``h`` periods with ``models``, then compute
    inventory policies from the first model's forecasts and intervals, with the ``items``
    parameters (or, without an items table, a 7-day lead time and a 95 % cycle service level).
    Outputs: ``forecast.parquet``, ``policy.parquet`` and ``quarantine.parquet``.

    Items whose row is unusable (no row for a forecast series, a duplicated id, a null, non-finite
    or out-of-range parameter, an unknown ``service_metric``) are quarantined too: their series
    keep their forecasts but get no policy, and ``quarantine.parquet`` names them with
    ``table = "items"``, the reason and the first offending row.

    Parameters
    ----------
    continuous_review : {"daily", "keep"}
        What ``review_period = 0`` (continuous review) means in a nightly job, which can only order
        once a day.  ``"daily"`` (default) sizes those items for a daily review
        (``review_period = 1`` day): the textbook continuous-review (s, Q) assumes the position
        is watched after every unit of demand, and an (s, Q) sized that way reaches only about
        73 % of a 95 % cycle-service target when orders go out once a day (docs/inventory.md).
        ``"keep"`` keeps the textbook continuous-review sizing.  The summary counts the items
        changed (``continuous_review_as_daily``).
    censored : str, optional
        An in-stock flag (False = stocked out) or ``on_hand`` column of ``sales``: the models
        forecast demand, not sales (:mod:`stockopt.signals.censored`); the summary gains the
        ``censored`` counts.

    Returns
    -------
    dict
        Counts and timings of the run (series read, quarantined, gaps filled, models, policy
        statuses, seconds).
    """
    from stockopt.data import group_series
    from stockopt.forecasting import _check_levels, forecast_grouped
    from stockopt.models import resolve_models

    if continuous_review not in ("daily", "keep"):
        raise_error(ParameterError, "bad continuous_review", column="continuous_review",
                    expected="'daily' or 'keep'", got=continuous_review)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    clean, report = quarantine(sales, freq, id_col=id_col, time_col=time_col, target_col=target_col)
    if clean.num_rows == 0:
        raise EmptyInputError("sales: every series was quarantined; see the quarantine report")
    grouped = group_series(clean, freq, id_col=id_col, time_col=time_col, target_col=target_col,
                           extra_cols=[censored] if censored else [])
    timings["validate_group"] = time.perf_counter() - t

    t = time.perf_counter()
    levels, _ = _check_levels(level, None)
    with warnings.catch_warnings():  # fallbacks are counted in the summary instead
        warnings.simplefilter("ignore", FallbackWarning)
        mods = resolve_models(models, grouped.freq.season_length)
        if censored:  # demand signals: stockout-censored sales (stockopt.signals)
            from stockopt.signals._common import censor_mask
            from stockopt.signals.censored import forecast_censored

            fc, model_stats = forecast_censored(grouped, censor_mask(grouped, censored), h, mods, levels, [],
                                                n_jobs)
        else:
            fc, model_stats = forecast_grouped(grouped, h, mods, levels, [], n_jobs)
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
        "models": {k: v for k, v in model_stats.items() if k != "censored"},
    }
    if "censored" in model_stats:
        summary["censored"] = model_stats["censored"]
    t = time.perf_counter()
    policy, item_report, n_remapped = _policies(fc, grouped, items, next(iter(summary["models"])), n_jobs,
                                                continuous_review)
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
    if out is not None:
        import pyarrow.parquet as pq

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(fc, out / "forecast.parquet")
        pq.write_table(report, out / "quarantine.parquet")
        pq.write_table(policy, out / "policy.parquet")
    summary["seconds_by_stage"] = {k: round(v, 3) for k, v in timings.items()}
    return summary


def _with_table(report: pa.Table, table: str) -> pa.Table:
    """The quarantine report with a ``table`` column naming where each problem was found."""
    return report.append_column("table", pa.array([table] * report.num_rows, pa.string()))


def quarantine_items(items: Any, ids: pa.Array) -> tuple[pa.Table, pa.Table]:
    """Split an items table into the usable rows for ``ids`` and a report of unusable items.

    An item is unusable when a forecast series has no row, when its id appears in more than one
    row, or when a parameter is null (required ones), NaN, infinite or out of range, or its
    ``service_metric`` is unknown: the checks of :func:`stockopt.inventory.inventory_policy`,
    done for every row at once so that one bad row cannot stop a nightly run.

    Returns
    -------
    clean : pyarrow.Table
        The rows of usable items among ``ids`` (items table order).
    report : pyarrow.Table
        ``unique_id, reason, first_row`` per unusable item (``first_row`` 0-based in the items
        table; -1 for a series with no row).
    """
    from stockopt.inventory._validate import _RANGES, ITEM_DEFAULTS, METRICS, check_ids, id_strings

    tbl = to_table(items, table="items")
    item_ids = check_ids(tbl, "items")
    n = tbl.num_rows
    reasons: list[tuple[np.ndarray, str]] = []
    counts = pc.value_counts(item_ids)
    dup_vals = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    reasons.append((_to_numpy(pc.is_in(item_ids, value_set=dup_vals), np.bool_), "duplicate item row"))
    if "lead_time" not in tbl.column_names:
        raise_error(ParameterError, "missing required column", table="items", column="lead_time",
                    expected="a lead_time column (days)")
    for name, (lo, lo_incl, hi, hi_incl, allow_inf, expected) in _RANGES.items():
        if name not in tbl.column_names:
            continue
        col = tbl.column(name)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_null(col.type)
                or pa.types.is_decimal(col.type)):
            raise_error(ParameterError, "non-numeric column", table="items", column=name, expected=expected,
                        got=str(col.type))
        vals = _to_numpy(pc.fill_null(col.cast(pa.float64()), np.nan), np.float64) if n else np.empty(0)
        null = _to_numpy(pc.is_null(col), np.bool_) if n else np.zeros(0, bool)
        if name in ITEM_DEFAULTS:  # optional: null means the default
            vals = np.where(null, ITEM_DEFAULTS[name], vals)
        bad = np.isnan(vals) | (np.isinf(vals) & ~(allow_inf & (vals > 0)))
        with np.errstate(invalid="ignore"):
            bad |= (vals < lo if lo_incl else vals <= lo) | (vals > hi if hi_incl else vals >= hi)
        reasons.append((bad, f"{name}: expected {expected}"))
    if "service_metric" in tbl.column_names:
        metric = id_strings(tbl.column("service_metric"))
        ok = _to_numpy(pc.or_(pc.is_in(metric, value_set=pa.array(list(METRICS), pa.large_string())),
                              pc.is_null(metric)), np.bool_)
        reasons.append((~ok, "service_metric: expected 'cycle' or 'fill_rate'"))
    rows: dict[str, list[Any]] = {"unique_id": [], "reason": [], "first_row": []}
    bad_rows = np.zeros(n, dtype=bool)
    seen: set[Any] = set()
    for mask, why in reasons:
        hit = np.flatnonzero(mask & ~bad_rows)
        for r, sid in zip(hit.tolist(), item_ids.take(pa.array(hit)).to_pylist()):
            if sid not in seen:  # a duplicated id is reported once, at its first row
                seen.add(sid)
                rows["unique_id"].append(sid)
                rows["reason"].append(why)
                rows["first_row"].append(r)
        bad_rows |= mask
    want = id_strings(ids)
    missing = np.flatnonzero(~_to_numpy(pc.is_in(want, value_set=item_ids), np.bool_))
    rows["unique_id"] += want.take(pa.array(missing)).to_pylist()
    rows["reason"] += ["no items row for this series"] * missing.size
    rows["first_row"] += [-1] * missing.size
    keep = ~bad_rows & _to_numpy(pc.is_in(item_ids, value_set=want), np.bool_)
    clean = tbl if keep.all() else tbl.filter(pa.array(keep))
    report = pa.table({"unique_id": pa.array(rows["unique_id"], pa.large_string()),
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

    if items is None:
        items = pa.table({"unique_id": grouped.ids, "lead_time": pa.array(np.full(grouped.n_series, 7.0)),
                          "service_level": pa.array(np.full(grouped.n_series, 0.95))})
        report = pa.table({"unique_id": pa.array([], pa.large_string()), "reason": pa.array([], pa.string()),
                           "first_row": pa.array([], pa.int64())})
    else:
        items, report = quarantine_items(items, grouped.ids)
        if report.num_rows:
            bad = pa.array(report["unique_id"].to_pylist(), pa.large_string())
            drop = _to_numpy(pc.is_in(pc.cast(fc["unique_id"], pa.large_string()), value_set=bad), np.bool_)
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
    return inventory_policy(fc, items, model=model, n_jobs=n_jobs), report, n_remapped
