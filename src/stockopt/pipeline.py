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
from stockopt.errors import EmptyInputError, FallbackWarning
from stockopt.frequency import infer_freq, parse_freq

__all__ = ["quarantine", "run_nightly"]

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
) -> dict[str, Any]:
    """Run the nightly job and return its summary (and write Parquet outputs to ``out``).

    Stages: quarantine bad series, group, forecast ``h`` periods with ``models``, then compute
    inventory policies from the first model's forecasts and intervals, with the ``items``
    parameters (or, without an items table, a 7-day lead time and a 95 % cycle service level).
    Outputs: ``forecast.parquet``, ``policy.parquet`` and ``quarantine.parquet``.

    Returns
    -------
    dict
        Counts and timings of the run (series read, quarantined, gaps filled, models, seconds).
    """
    from stockopt.data import group_series
    from stockopt.forecasting import _check_levels, forecast_grouped
    from stockopt.models import resolve_models

    timings: dict[str, float] = {}
    t = time.perf_counter()
    clean, report = quarantine(sales, freq, id_col=id_col, time_col=time_col, target_col=target_col)
    if clean.num_rows == 0:
        raise EmptyInputError("sales: every series was quarantined; see the quarantine report")
    grouped = group_series(clean, freq, id_col=id_col, time_col=time_col, target_col=target_col)
    timings["validate_group"] = time.perf_counter() - t

    t = time.perf_counter()
    levels, _ = _check_levels(level, None)
    with warnings.catch_warnings():  # fallbacks are counted in the summary instead
        warnings.simplefilter("ignore", FallbackWarning)
        fc, model_stats = forecast_grouped(grouped, h, resolve_models(models, grouped.freq.season_length), levels,
                                           [], n_jobs)
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
    policy = _policies(fc, grouped, items, next(iter(model_stats)), n_jobs)
    timings["inventory"] = time.perf_counter() - t
    summary["policies"] = policy.num_rows
    summary["total_safety_stock"] = round(float(pc.sum(policy["safety_stock"]).as_py() or 0.0), 1)
    if out is not None:
        import pyarrow.parquet as pq

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(fc, out / "forecast.parquet")
        pq.write_table(report, out / "quarantine.parquet")
        pq.write_table(policy, out / "policy.parquet")
    summary["seconds_by_stage"] = {k: round(v, 3) for k, v in timings.items()}
    return summary


def _policies(fc: pa.Table, grouped: Any, items: Any, model: str, n_jobs: int) -> pa.Table:
    """Inventory policies from the first model's forecasts; default item parameters without items."""
    from stockopt.inventory import inventory_policy

    if items is None:
        items = pa.table({"unique_id": grouped.ids, "lead_time": pa.array(np.full(grouped.n_series, 7.0)),
                          "service_level": pa.array(np.full(grouped.n_series, 0.95))})
    else:
        items = to_table(items, table="items")
    return inventory_policy(fc, items, model=model, n_jobs=n_jobs)
