"""Backtests on rolling origins (:func:`cross_validation`) and the store of frozen parameters behind them.

With ``refit=True`` every window is an ordinary :func:`~stockopt.forecast` of the history before
its cutoff.  Otherwise models are fitted at some windows and *forwarded* at the others: their
parameters, kept per series in a store (:mod:`stockopt.models._base` ``Params``), are run over the
longer history without re-estimation (see ``docs/backtesting.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._arrow import days_to_time
from stockopt._kernels.codes import STATUS_FAILED
from stockopt._params import Boolean, Instance, Integer, SequenceOf, validate_params
from stockopt._runner import prepare, run_fit, run_forward, run_model
from stockopt.data import as_grouped, series_index
from stockopt.errors import ParameterError, raise_error
from stockopt.forecasting import (
    CENSORED_PARAM,
    FORECAST_PARAMS,
    extra_columns,
    forecast,
    model_output,
    normalise_levels,
)
from stockopt.models import resolve_models
from stockopt.models._base import ForecastResult, Model, Params, put_params, take_params
from stockopt.signals.drivers import Drivers

__all__ = ["cross_validation"]

logger = logging.getLogger(__name__)


def _refit_period(refit: bool | int) -> int:
    """``refit`` as a refit period: 1 every window (``True``), 0 only the first (``False``), n every n."""
    if isinstance(refit, (bool, np.bool_)):
        return 1 if refit else 0
    return int(refit)


def _scatter(parts: list[tuple[np.ndarray, ForecastResult]], n: int, h: int) -> ForecastResult:
    """One result for ``n`` series from results on disjoint row subsets (``(rows, result)`` pairs).

    Fitted values are dropped (the API never reads them); ``info`` keeps the fields every part has
    with the same trailing shape and a common dtype kind.
    """
    parts = [(rows, r) for rows, r in parts if rows.size]
    mean = np.full((n, h), np.nan)
    has_var = all(r.var is not None for _, r in parts)
    var = np.full((n, h), np.nan) if has_var else None
    status = np.zeros(n, dtype=np.int8)
    dists = np.empty(n, dtype=object)
    for rows, r in parts:
        mean[rows] = r.mean
        if var is not None:
            var[rows] = r.var
        status[rows] = r.status
        dists[rows] = r.dist
    info: dict[str, np.ndarray] = {}
    for key in parts[0][1].info if parts else []:
        vals = [np.asarray(r.info.get(key)) if key in r.info else None for _, r in parts]
        if any(v is None or v.shape[1:] != vals[0].shape[1:] for v in vals):
            continue
        dtype = np.result_type(*[v.dtype for v in vals]) if all(v.dtype != object for v in vals) else object
        fill = np.nan if np.issubdtype(dtype, np.floating) else (None if dtype == object else 0)
        out = np.full((n,) + vals[0].shape[1:], fill, dtype=dtype)
        for (rows, _), v in zip(parts, vals):
            out[rows] = v
        info[key] = out
    names = {d for d in dists if isinstance(d, str)}
    uniform = len(names) == 1 and all(isinstance(d, str) for d in dists)
    dist: str | np.ndarray = names.pop() if uniform else dists
    return ForecastResult(mean=mean, var=var, status=status, fitted=None, dist=dist, info=info)


def _take(res: ForecastResult, sel: np.ndarray) -> ForecastResult:
    """The series ``sel`` (mask or indices) of a result; fitted values are dropped."""
    info = {k: v[sel] for k, v in res.info.items()
            if isinstance(v, np.ndarray) and v.shape[:1] == res.status.shape}
    dist = res.dist[sel] if isinstance(res.dist, np.ndarray) else res.dist
    return ForecastResult(mean=res.mean[sel], var=None if res.var is None else res.var[sel],
                          status=res.status[sel], fitted=None, dist=dist, info=info)


def _subset(values: np.ndarray, indptr: np.ndarray, rows: np.ndarray, extra: Mapping[str, np.ndarray] | None
            ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
    """Contiguous values, offsets and extra columns of the series ``rows`` of ``(values, indptr)``."""
    src, ptr = series_index(indptr, rows)
    return np.ascontiguousarray(values[src]), ptr, ({k: v[src] for k, v in extra.items()} if extra else None)


def _fit_or_forward(model: Model, values: np.ndarray, indptr: np.ndarray, idx: np.ndarray, h: int,
                    store: Params | None, n_series: int, should_fit: bool, n_jobs: int, *,
                    extra: Mapping[str, np.ndarray] | None = None,
                    ) -> tuple[ForecastResult, Params | None, dict[str, int]]:
    """One backtest window of one model: fit (and store parameters) or forward from the store.

    ``idx`` are the window's series (rows of the full grouping, ``n_series`` of them) whose
    histories are ``(values, indptr)`` (and ``extra``).  Series without stored parameters (too
    short, or not fittable, at earlier windows) are fitted now; series whose forward fails are
    refitted.
    """
    n = idx.size
    if model.forward_mode != "frozen":
        # nothing to freeze ("none": forecasting is forwarding) or the model refits by design
        res = run_model(model, values, indptr, h, n_jobs, extra=extra)
        return res, store, {"fitted": n, "forwarded": 0, "refitted": 0}
    have = np.zeros(n, dtype=bool) if (should_fit or store is None) else store["fitted"][idx].astype(bool)
    if not have.any():
        res, params = run_fit(model, values, indptr, h, n_jobs, extra=extra)
        return res, put_params(store, n_series, idx, params), {"fitted": n, "forwarded": 0, "refitted": 0}
    fwd = np.flatnonzero(have)
    v_f, p_f, e_f = (values, indptr, extra) if fwd.size == n else _subset(values, indptr, fwd, extra)
    res_f = run_forward(model, v_f, p_f, h, take_params(store, idx[fwd]), n_jobs, extra=e_f)
    bad = res_f.status == STATUS_FAILED
    failed = fwd[bad]
    ok = fwd[~bad]
    parts = [(ok, _take(res_f, ~bad))] if failed.size else [(fwd, res_f)]
    to_fit = np.concatenate([np.flatnonzero(~have), failed])
    to_fit.sort()
    if to_fit.size:
        v_t, p_t, e_t = _subset(values, indptr, to_fit, extra)
        res_t, params = run_fit(model, v_t, p_t, h, n_jobs, extra=e_t)
        store = put_params(store, n_series, idx[to_fit], params)
        parts.append((to_fit, res_t))
    counts = {"fitted": int((~have).sum()), "forwarded": int(ok.size), "refitted": int(failed.size)}
    return _scatter(parts, n, h), store, counts


@validate_params({**FORECAST_PARAMS, **CENSORED_PARAM, "n_windows": Integer(1),
                  "step_size": [None, Integer(1)], "refit": [Boolean(), Integer(0)],
                  "X_future": [None, Boolean(), SequenceOf(Instance(str), min_len=1, unique=True),
                               Instance(Drivers)]})
def cross_validation(
    sales: Any,
    h: int,
    *,
    freq: str | None = None,
    models: Sequence[Model | str] | Model | str = ("auto",),
    n_windows: int = 1,
    step_size: int | None = None,
    refit: bool | int = True,
    level: Sequence[float] | None = None,
    quantiles: Sequence[float] | None = None,
    season_length: int | None = None,
    nonnegative: bool = True,
    conformal_windows: int = 2,
    n_jobs: int = 1,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
    allow_negative: bool = False,
    censored: str | None = None,
    X_future: bool | Sequence[str] | Drivers | None = None,
) -> pa.Table:
    """Backtest models on rolling origins: forecast ``h`` periods from ``n_windows`` cutoffs.

    The last cutoff leaves exactly ``h`` periods of each series for evaluation; earlier ones are
    ``step_size`` periods apart (default ``h``).  Series with too little history before a cutoff
    are left out of that window.

    Parameters
    ----------
    sales, h, freq, models, level, quantiles, season_length, nonnegative, n_jobs
        As in :func:`stockopt.forecast`.
    n_windows : int
        Number of forecast origins per series (>= 1).
    step_size : int, optional
        Periods between consecutive origins (default ``h``).
    refit : bool or int
        ``True`` (default): every model is refitted at every cutoff.  ``False``: models are fitted
        at the first (earliest) cutoff only; at later cutoffs the fitted parameters are run over
        the longer history without re-estimating anything ("forward", as statsforecast's
        ``refit=False``; see ``docs/backtesting.md`` for what each model freezes).  An integer
        ``n`` refits at windows 0, n, 2n ... (counted from the earliest) and forwards in between;
        ``0`` is ``False`` and ``1`` is ``True``.  Series too short for a fit at a refit window
        are fitted at the first window where they can be, and forwarded from then on.
    conformal_windows : int
        Backtest windows inside each training history for the conformal intervals of models
        without a model-based variance (as in :func:`stockopt.forecast`).
    id_col, time_col, target_col, missing, fill_gaps
        Passed to :func:`stockopt.group_series`.
    allow_negative : bool
        As in :func:`stockopt.forecast`: returns accepted, net demand (actuals too) clipped at 0.
    censored : str, optional
        An in-stock flag (False = stocked out) or ``on_hand`` column of ``sales``: every window is
        fitted as :func:`stockopt.forecast` with ``censored=`` on its training history (demand, not
        sales, is forecast).  The output gains a boolean column ``in_stock`` over the hold-out
        periods: **score only the rows where it is True** (``cv.filter(cv["in_stock"])``), since
        in a stocked-out period the sales are a lower bound of demand, which is unobserved there;
        scored against those sales a demand forecast would look biased high.
    X_future : bool, list of str or Drivers, optional
        Demand drivers (:func:`stockopt.forecast_drivers`).  Their values over each window's
        horizon are taken from ``sales`` itself, since in a backtest they are known; their effects
        are estimated on each training window only.  ``True``: every boolean or numeric column of
        ``sales`` besides the id, time, target and ``censored`` columns is a driver (the
        convention of statsforecast's ``cross_validation``, which reads the table's other columns
        as exogenous); a list names the driver columns; a :class:`stockopt.Drivers` adds pooling
        (``pool_by``), a holiday ``calendar`` and ``yearly`` seasonality, its ``future`` being
        ``None`` (no driver column), ``True`` or a list of names.  Each window is then
        :func:`stockopt.forecast` with ``X_future`` = those columns over the window's horizon.

        With ``censored`` or ``X_future``, ``refit`` must be True (the correction and the driver
        effects are estimated again at each cutoff) and ``allow_negative`` False.

    Returns
    -------
    pyarrow.Table
        ``unique_id, ds, cutoff, y`` (the sales of the hold-out periods), with ``censored`` an
        ``in_stock`` column, and the forecast columns of :func:`forecast`.

    References
    ----------
    Tashman, L. J. (2000), Out-of-sample tests of forecasting accuracy: an analysis and review,
    *International Journal of Forecasting* 16(4), 437-450 (rolling-origin evaluation).
    Nahmias, S. (1994), Demand estimation in lost sales inventory systems, *Naval Research
    Logistics* 41(6), 739-757 (sales in stocked-out periods only bound demand from below).

    Examples
    --------
    >>> import datetime as dt
    >>> import pyarrow as pa
    >>> sales = pa.table({"unique_id": ["a"] * 6, "ds": [dt.date(2024, 1, d) for d in range(1, 7)],
    ...                   "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    >>> cv = cross_validation(sales, 1, models=["naive"], n_windows=2)
    >>> cv.select(["cutoff", "y", "Naive"]).to_pylist()  # doctest: +NORMALIZE_WHITESPACE
    [{'cutoff': datetime.date(2024, 1, 4), 'y': 5.0, 'Naive': 4.0},
     {'cutoff': datetime.date(2024, 1, 5), 'y': 6.0, 'Naive': 5.0}]

    A censored backtest scores demand forecasts on the periods in stock only:

    >>> import pyarrow.compute as pc
    >>> import stockopt as so
    >>> sales = so.datasets.synthetic_retail(20, 200, seed=1, stockout_share=0.6)
    >>> cv = cross_validation(sales, 14, models=["ses"], n_windows=2, censored="in_stock",
    ...                       X_future=["on_promotion", "price"])
    >>> cv.column_names[:5], cv.num_rows
    (['unique_id', 'ds', 'cutoff', 'y', 'in_stock'], 560)
    >>> scored = so.evaluate(cv.filter(cv["in_stock"]), metrics=["mae"])
    """
    period = _refit_period(refit)
    step = h if step_size is None else int(step_size)
    if X_future is False:
        X_future = None
    if censored is not None or X_future is not None:  # demand signals: censored sales, drivers
        from stockopt.signals.backtest import cross_validation_signals

        if period != 1 or allow_negative:
            bad, got = ("refit", refit) if period != 1 else ("allow_negative", allow_negative)
            raise_error(ParameterError, f"{bad}={got!r} cannot be combined with censored= or X_future=",
                        table="cross_validation", parameter=bad, got=got,
                        expected="refit=True and allow_negative=False (each window is a forecast with the "
                        "signals on its training history)")
        return cross_validation_signals(
            sales, int(h), freq=freq, models=models, n_windows=n_windows, step=step, level=level,
            quantiles=quantiles, season_length=season_length, nonnegative=nonnegative,
            conformal_windows=conformal_windows, n_jobs=n_jobs, id_col=id_col, time_col=time_col,
            target_col=target_col, missing=missing, fill_gaps=fill_gaps, censored=censored, X_future=X_future)
    grouped = as_grouped(sales, freq=freq, id_col=id_col, time_col=time_col, target_col=target_col,
                         missing=missing, fill_gaps=fill_gaps, allow_negative=allow_negative,
                         extra_cols=extra_columns(models))
    sl = season_length if season_length is not None else grouped.freq.season_length
    mods = resolve_models(models, season_length=sl)
    levels, qs = normalise_levels(level, quantiles)
    tables = []
    lengths = grouped.lengths
    stores: dict[str, Params | None] = {m.name: None for m in mods}
    for wi, w in enumerate(range(n_windows - 1, -1, -1)):
        train_len = lengths - h - w * step
        idx = np.flatnonzero(train_len >= 1)
        if idx.size == 0:
            continue
        tl = train_len[idx]
        sub = grouped.take(idx, lengths=tl)
        if period == 1:
            fc = forecast(sub, h, models=mods, level=levels or None, quantiles=qs or None, n_jobs=n_jobs,
                          season_length=sl, nonnegative=nonnegative, conformal_windows=conformal_windows)
        else:
            should_fit = wi == 0 or (period > 0 and wi % period == 0)
            columns: dict[str, np.ndarray] = {}
            for model in mods:
                model = prepare(model, nonnegative=nonnegative)
                res, stores[model.name], counts = _fit_or_forward(
                    model, sub.values, sub.indptr, idx, h, stores[model.name], grouped.n_series, should_fit,
                    n_jobs, extra=sub.extra)
                logger.info("cross_validation window %d, %s: %s", wi, model.name, counts)
                cols, _ = model_output(model, res, sub, h, levels, qs, n_jobs=n_jobs, nonnegative=nonnegative,
                                       conformal_windows=conformal_windows)
                columns.update(cols)
            fc = sub.future_table(h, columns)
        actual_idx = grouped.indptr[idx][:, None] + tl[:, None] + np.arange(h)[None, :]
        cutoff_days = grouped.freq.to_days(sub.end)
        cutoff = days_to_time(np.repeat(cutoff_days, h), grouped.time_type)
        fc = fc.add_column(2, "cutoff", cutoff)
        fc = fc.add_column(3, grouped.target_col, pa.array(grouped.values[actual_idx].ravel()))
        tables.append(fc)
    if not tables:
        raise_error(ParameterError, "no series is long enough for a window", table="cross_validation",
                    expected=f"a series longer than h + (n_windows - 1) * step_size = "
                    f"{h + (n_windows - 1) * step}",
                    got=f"at most {int(lengths.max(initial=0))} periods")
    return pa.concat_tables(tables)
