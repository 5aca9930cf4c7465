"""Rolling-origin backtests with demand signals: :func:`stockopt.cross_validation` delegates here when it
is given ``censored=`` (stockout-censored sales) or ``X_future=`` (demand drivers).

Each window is exactly :func:`stockopt.forecast` with the same signals on the history before its
cutoff: the censored correction (:mod:`stockopt.signals.censored`) sees only the training window's
flags, and the drivers' effects (:func:`stockopt.forecast_drivers`) are estimated on the training
window only.  The driver values over each window's horizon are read from the history itself: in a
backtest the promotions run and the prices charged are known, which is what a plan would have
supplied as ``X_future`` (the accuracy measured is therefore that of the forecast given the
drivers, not of the drivers' own planning).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._arrow import days_to_time, to_table
from stockopt._rules import is_numeric_type
from stockopt.data import GroupedSeries, group_series
from stockopt.errors import ParameterError, raise_error
from stockopt.forecasting import extra_columns, forecast, normalise_levels
from stockopt.models import Model, resolve_models
from stockopt.signals._common import as_grouped, censor_mask
from stockopt.signals.drivers import Drivers

__all__ = ["cross_validation_signals", "IN_STOCK_COL"]

#: the column of the backtest table that says whether each hold-out period was in stock
IN_STOCK_COL = "in_stock"


def _driver_spec(tbl: pa.Table, X_future: Any, *, exclude: set[str]) -> tuple[Drivers | None, list[str]]:
    """The drivers of a backtest (``None`` without any) and the sales columns read as drivers.

    ``True`` means every boolean or numeric column of the sales other than the id, time, target,
    censoring and pooling columns (statsforecast's convention: the exogenous columns are the
    table's other columns); a list names them; a :class:`Drivers` carries ``pool_by``, ``calendar``
    and ``yearly``, and its ``future`` is ``None`` (no driver column), ``True`` or a list of names.
    """
    spec = X_future if isinstance(X_future, Drivers) else Drivers(future=X_future)
    cols = spec.future
    if cols is None or cols is False:
        if not isinstance(X_future, Drivers):
            return None, []
        cols = []
    if spec.pool_by is not None:
        exclude = exclude | {spec.pool_by}
    if cols is True:
        types = {f.name: f.type for f in tbl.schema}
        cols = [c for c in tbl.column_names if c not in exclude
                and (pa.types.is_boolean(types[c]) or is_numeric_type(types[c]))]
        if not cols and spec.calendar is None and not spec.yearly:
            raise_error(ParameterError, "bad argument: no driver column", table="cross_validation",
                        parameter="X_future", expected="sales columns besides the id, time, target and "
                        "censoring columns (promotion flags, prices ...)", got=tbl.column_names)
    elif isinstance(cols, (str, bytes)) or not isinstance(cols, Sequence) or \
            not all(isinstance(c, str) for c in cols):
        raise_error(ParameterError, "bad argument", table="cross_validation", parameter="X_future.future",
                    expected="None, True or a list of sales column names (the values over each window's "
                    "horizon are read from the history)", got=type(cols).__name__)
    names = list(dict.fromkeys(cols))
    clash = [c for c in names if c in exclude]
    if clash:
        raise_error(ParameterError, "bad argument: not a driver column", table="cross_validation",
                    parameter="X_future", expected="columns other than the id, time, target, censoring and "
                    "pooling columns", got=clash)
    return spec, names


def cross_validation_signals(
    sales: Any,
    h: int,
    *,
    freq: Any,
    models: Sequence[Model | str] | Model | str,
    n_windows: int,
    step: int,
    level: Sequence[float] | None,
    quantiles: Sequence[float] | None,
    season_length: int | None,
    nonnegative: bool,
    conformal_windows: int,
    n_jobs: int,
    id_col: str,
    time_col: str,
    target_col: str,
    missing: str,
    fill_gaps: str,
    censored: str | None,
    X_future: Any,
) -> pa.Table:
    """:func:`stockopt.cross_validation` with ``censored`` and/or ``X_future`` (see its docstring):
    every window is :func:`stockopt.forecast` with the same signals on the history before its
    cutoff, the drivers over the window's horizon taken from the history."""
    from stockopt.signals.forecast import _pools

    if isinstance(sales, GroupedSeries):
        tbl = sales.to_arrow()
        id_col, time_col, target_col = sales.id_col, sales.time_col, sales.target_col
        freq = sales.freq if freq is None else freq
    else:
        tbl = to_table(sales, table="sales")
    spec, names = _driver_spec(tbl, X_future, exclude={id_col, time_col, target_col} | {censored} - {None})
    extra = list(dict.fromkeys(names + ([censored] if censored else []) + list(extra_columns(models))))
    if isinstance(sales, GroupedSeries):
        grouped = as_grouped(sales, extra_cols=tuple(extra))
    else:
        grouped = group_series(tbl, freq=freq, id_col=id_col, time_col=time_col, target_col=target_col,
                               missing=missing, fill_gaps=fill_gaps, extra_cols=extra)
    sl = season_length if season_length is not None else grouped.freq.season_length
    mods = resolve_models(models, season_length=sl)
    levels, qs = normalise_levels(level, quantiles)
    in_stock = None if censored is None else ~censor_mask(grouped, censored)
    pool_code = pool_names = None
    if spec is not None and spec.pool_by is not None:
        pool_code, names_ = _pools(tbl, grouped, spec.pool_by, id_col)
        pool_names = pa.array(names_, tbl.schema.field(spec.pool_by).type)
    opts = dict(models=mods, level=levels or None, quantiles=qs or None, season_length=sl,
                nonnegative=nonnegative, conformal_windows=conformal_windows, n_jobs=n_jobs,
                censored=censored)
    lengths = grouped.lengths
    tables = []
    for w in range(n_windows - 1, -1, -1):
        train_len = lengths - h - w * step
        idx = np.flatnonzero(train_len >= 1)
        if idx.size == 0:
            continue
        tl = train_len[idx]
        sub = grouped.take(idx, lengths=tl)
        actual_idx = grouped.indptr[idx][:, None] + tl[:, None] + np.arange(h)[None, :]
        if spec is None:
            fc = forecast(sub, h, **opts)
        else:
            hist = sub.to_arrow()
            if pool_names is not None:
                pools = pool_names.take(pa.array(np.repeat(pool_code[idx], tl)))
                hist = hist.append_column(spec.pool_by, pools)
            fut = {grouped.id_col: sub._id_column(np.repeat(np.arange(idx.size, dtype=np.int64), h)),
                   grouped.time_col: days_to_time(grouped.freq.to_days(sub.future_periods(h).ravel()),
                                                  grouped.time_type)}
            for c in names:  # known in a backtest: the values the history holds over the window's horizon
                fut[c] = pa.array(grouped.extra[c][actual_idx].ravel())
            drivers = dataclasses.replace(spec, future=pa.table(fut))
            fc = forecast(hist, h, freq=grouped.freq, id_col=grouped.id_col, time_col=grouped.time_col,
                          target_col=grouped.target_col, X_future=drivers, **opts)
        cutoff = days_to_time(np.repeat(grouped.freq.to_days(sub.end), h), grouped.time_type)
        fc = fc.add_column(2, "cutoff", cutoff)
        fc = fc.add_column(3, grouped.target_col, pa.array(grouped.values[actual_idx].ravel()))
        if in_stock is not None:
            fc = fc.add_column(4, IN_STOCK_COL, pa.array(in_stock[actual_idx].ravel()))
        tables.append(fc)
    if not tables:
        raise_error(ParameterError, "no series is long enough for a window", table="cross_validation",
                    expected="a series longer than h + (n_windows - 1) * step_size = "
                    f"{h + (n_windows - 1) * step}",
                    got=f"at most {int(lengths.max(initial=0))} periods")
    return pa.concat_tables(tables)
