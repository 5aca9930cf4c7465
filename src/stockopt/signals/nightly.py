"""Demand signals in the nightly run: drivers over the horizon (``X_future``), demand classes and a
data-quality summary.

:func:`stockopt.run_nightly` calls these; they keep its rule that one bad series never stops the night:
a series whose ``X_future`` rows are missing, repeated or unusable is quarantined with
``table = "X_future"``, like a series with bad sales rows.  Faults of the whole ``X_future`` table (a
missing key column, a driver that the sales do not carry, a driver of the wrong type) raise before
any forecasting, as the sales' do.  The rules are those of :mod:`stockopt._rules` (``X_FUTURE``).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, time_to_days, to_table
from stockopt._rules import X_FUTURE, X_FUTURE_CHECKS, is_id_type
from stockopt.errors import ColumnTypeError, ParameterError, raise_error

__all__ = ["read_x_future", "quarantine_x_future", "class_counts", "quality_summary", "drivers_summary",
           "whole_input_drivers"]

_C = X_FUTURE_CHECKS


def read_x_future(x_future: Any, sales_columns: list[str], *, id_col: str, time_col: str,
                  allow_negative: bool = False) -> tuple[pa.Table, list[str]]:
    """The ``X_future`` table and its driver columns, after the whole-table checks.

    The drivers are the columns of ``X_future`` other than the id and time (as in
    :func:`stockopt.forecast`); each must be a boolean or numeric column of ``X_future`` and also
    a column of the sales.
    """
    if allow_negative:
        raise_error(ParameterError, "allow_negative=True cannot be combined with X_future=",
                    table="run_nightly", parameter="allow_negative",
                    expected="False with X_future (as in stockopt.forecast)", got=True)
    tbl = to_table(x_future, table="X_future")
    require_columns(tbl, {"id_col": id_col, "time_col": time_col}, table="X_future")
    if not is_id_type(tbl.schema.field(id_col).type):
        raise_error(ColumnTypeError, "series id of the wrong type", table="X_future", column=id_col,
                    expected=X_FUTURE["id"].accepted, got=str(tbl.schema.field(id_col).type))
    names = [c for c in tbl.column_names if c not in (id_col, time_col)]
    if not names:
        raise_error(ParameterError, "no driver column", table="X_future", parameter="X_future",
                    expected=X_FUTURE["driver"].accepted, got=tbl.column_names)
    for c in names:
        typ = tbl.schema.field(c).type
        if not (pa.types.is_boolean(typ) or pa.types.is_integer(typ) or pa.types.is_floating(typ)):
            raise_error(ColumnTypeError, "driver of the wrong type", table="X_future", column=c,
                        expected=X_FUTURE["driver"].accepted, got=str(typ))
    require_columns(pa.table({c: pa.nulls(0) for c in sales_columns}), {f"driver {c}": c for c in names},
                    table="sales")
    return tbl, names


def quarantine_x_future(tbl: pa.Table, names: list[str], grouped: Any, h: int,
                        sales_ids: pa.Array) -> pa.Table:
    """The series whose ``X_future`` rows the forecast cannot use, and ids of ``X_future`` the sales lack.

    Per series of ``grouped`` (first problem found, in the order of ``X_FUTURE_CHECKS``): a row with
    a null date, a time of day or a date off the frequency, a null or non-finite driver value in the
    horizon, a price at or below zero in the horizon, a horizon period given twice, a horizon period
    without a row.  Rows after the horizon are not read.  Ids of ``X_future`` not in ``sales_ids``
    (the whole sales table, quarantined series included) are reported as unknown; rows with a
    null id are counted under a null id.  Rows of series quarantined for their sales are not read.

    Returns
    -------
    pyarrow.Table
        ``<id_col>, reason, first_row`` (``first_row``: 0-based row of ``X_future``; -1 for a
        missing period).
    """
    id_col, time_col = grouped.id_col, grouped.time_col
    ids = tbl.column(id_col)
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    n_rows = tbl.num_rows
    null_id = _to_numpy(pc.is_null(ids), np.bool_)
    try:
        sid = ids.cast(grouped.ids.type) if ids.type != grouped.ids.type else ids
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise_error(ColumnTypeError, "series id of another type than the sales'", table="X_future",
                    column=id_col, expected=f"ids of the sales' type ({grouped.ids.type})", got=str(ids.type))
    code = _to_numpy(pc.fill_null(pc.index_in(sid, value_set=grouped.ids), -1), np.int64)
    in_sales = pc.is_in(sid, value_set=sales_ids.cast(grouped.ids.type))
    known = _to_numpy(pc.fill_null(in_sales, False), np.bool_)
    mine = code >= 0  # rows of a series this run forecasts
    reasons: list[tuple[np.ndarray, str]] = [(~null_id & ~known, _C["unknown_id"].what)]
    tcol = tbl.column(time_col)
    null_t = _to_numpy(pc.is_null(tcol), np.bool_)
    reasons.append((mine & null_t, _C["null_time"].what))
    step = np.full(n_rows, -1, np.int64)
    if not null_t.all():
        filled = pc.fill_null(tcol, tcol[int(np.argmin(null_t))]) if null_t.any() else tcol
        days, off = time_to_days(filled, table="X_future", column=time_col)
        period, on_grid = grouped.freq.to_period(np.asarray(days, np.int64))
        reasons.append((mine & ~null_t & off, _C["time_of_day"].what))
        reasons.append((mine & ~null_t & ~off & ~on_grid, f"{_C['off_frequency'].what} {grouped.freq.alias}"))
        ok = mine & ~null_t & ~off & on_grid
        step = np.where(ok, np.asarray(period, np.int64) - grouped.end[np.maximum(code, 0)] - 1, -1)
    in_h = mine & (step >= 0) & (step < h)
    for c in names:
        v = _to_numpy(pc.fill_null(tbl.column(c).cast(pa.float64()), float("nan")), np.float64)
        reasons.append((in_h & ~np.isfinite(v), f"{_C['null_driver'].what}: {c}"))
        if "price" in c.lower():
            with np.errstate(invalid="ignore"):
                reasons.append((in_h & (v <= 0), f"{_C['bad_price'].what}: {c}"))
    pos = np.where(in_h, code * h + step, -1)
    order = np.argsort(pos, kind="stable")
    ps = pos[order]
    dup = np.zeros(n_rows, dtype=bool)
    dup[order[1:][(ps[1:] == ps[:-1]) & (ps[1:] >= 0)]] = True
    reasons.append((dup, _C["duplicate"].what))
    seen = np.zeros(grouped.n_series * h, dtype=bool)
    seen[pos[in_h]] = True
    rows: dict[str, list[Any]] = {id_col: [], "reason": [], "first_row": []}
    bad: set[Any] = set()
    for mask, why in reasons:
        hit = np.flatnonzero(mask)
        if not hit.size:
            continue
        _, first = np.unique(np.asarray(sid.take(pa.array(hit)).to_pylist(), dtype=object).astype(str),
                             return_index=True)
        for r in np.sort(hit[first]).tolist():
            key = sid[r].as_py()
            if key not in bad:
                bad.add(key)
                rows[id_col].append(key)
                rows["reason"].append(why)
                rows["first_row"].append(r)
    lacking = ~seen.reshape(grouped.n_series, h)
    for s in np.flatnonzero(lacking.any(axis=1)).tolist():
        key = grouped.ids[s].as_py()
        if key not in bad:
            bad.add(key)
            k = int(np.argmax(lacking[s]))
            rows[id_col].append(key)
            rows["reason"].append(f"{_C['missing_period'].what}: period {k + 1} of {h}")
            rows["first_row"].append(-1)
    if null_id.any():
        rows[id_col].append(None)
        rows["reason"].append(f"{int(null_id.sum())} rows with a null id ignored")
        rows["first_row"].append(int(np.argmax(null_id)))
    return pa.table({id_col: pa.array(rows[id_col], grouped.ids.type),
                     "reason": pa.array(rows["reason"], pa.string()),
                     "first_row": pa.array(rows["first_row"], pa.int64())})


def drivers_summary(coefficients: pa.Table) -> dict[str, Any]:
    """The summary entry of a run with drivers: each driver's kind and pooled effect (uplift factor of a
    flag, elasticity of a price, log effect per unit otherwise), from a coefficients table."""
    return {r["driver"]: {"kind": r["kind"], "effect": round(float(r["effect"]), 6)}
            for r in coefficients.to_pylist()}


def class_counts(grouped: Any, censored: str | None) -> dict[str, int]:
    """Series per demand class (smooth, erratic, intermittent, lumpy) and new / dead items, by
    :func:`stockopt.signals.classify_demand` (the classes :class:`stockopt.models.AutoModel` uses)."""
    from stockopt.models.auto import DEMAND_CLASSES
    from stockopt.signals.classify import classify_demand

    cls = classify_demand(grouped, censored=censored)
    names, counts = np.unique(np.asarray(cls["demand_class"].to_pylist(), dtype=object).astype(str),
                              return_counts=True)
    got = dict(zip(names.tolist(), counts.tolist()))
    out = {c: int(got.get(c, 0)) for c in DEMAND_CLASSES}
    out["new"] = int(pc.sum(cls["new"]).as_py() or 0)
    out["dead"] = int(pc.sum(cls["dead"]).as_py() or 0)
    return out


def quality_summary(sales: pa.Table, *, freq: str, id_col: str, time_col: str, target_col: str,
                    last_date: Any = None) -> dict[str, Any]:
    """Findings of :func:`stockopt.check_data` on the sales as read (before the quarantine), counted by
    check: ``{check: {"severity", "series", "count"}}`` (series concerned, rows or periods concerned)."""
    from stockopt.signals.quality import check_data

    rep = check_data(sales, freq=freq, id_col=id_col, time_col=time_col, target_col=target_col,
                     last_date=last_date)
    return {r["check"]: {"severity": r["severity"], "series": int(r["series"]), "count": int(r["count"])}
            for r in rep.summary.to_pylist()}


def whole_input_drivers(sales: pa.Table, x_future: pa.Table,
                        run: dict[str, Any]) -> tuple[pa.Table, pa.Table]:
    """The pooled driver effects of the whole input, and its ``X_future`` rows of ids the sales lack.

    :func:`stockopt.plan` calls this once before its partitions: the effects are pooled across every
    series, so each partition applies these (``forecast_drivers(effects=)``) and forecasts each series
    as :func:`stockopt.run_nightly` on the whole input would.  The steps are run_nightly's: the sales
    quarantine, the grouping, the ``X_future`` quarantine, then the fit on the series left.
    """
    from stockopt.data import group_series
    from stockopt.pipeline import _quarantine, _quarantine_x_future, run_nightly
    from stockopt.signals.forecast import _fit

    defaults = {k: p.default for k, p in inspect.signature(run_nightly).parameters.items()}
    opt = {**defaults, **run}
    cols = {k: opt[k] for k in ("id_col", "time_col", "target_col", "missing", "fill_gaps")}
    xf, names = read_x_future(x_future, sales.column_names, id_col=cols["id_col"], time_col=cols["time_col"],
                              allow_negative=bool(opt["allow_negative"]))
    censored = opt["censored"]
    clean, report, f = _quarantine(sales, freq=opt["freq"], allow_negative=False, table="sales",
                                   censored=censored, **cols)
    extra = ([censored] if censored is not None else []) + names
    grouped = group_series(clean, freq=f or opt["freq"], extra_cols=extra, **cols)
    h = int(opt["h"])
    grouped, _, x_report, _ = _quarantine_x_future(xf, names, grouped, clean, report, h, extra, cols)
    p = _fit(grouped, h, xf, freq=None, models=opt["models"], censored=censored, effects=None, **cols)
    unknown = x_report.filter(pc.starts_with(x_report["reason"], _C["unknown_id"].what))
    return p.fit.effect_table(), unknown
