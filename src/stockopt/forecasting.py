"""The forecasting API: :func:`forecast` and the per-model output it builds.

Tables go in and out; in between, series are grouped once (:func:`stockopt.group_series`) and each
model's compiled kernel runs over blocks of series through the executor seam
(:mod:`stockopt._exec`; each series is computed independently, so results are bit-identical
whatever ``n_jobs`` is).  Intervals and quantiles come from :mod:`stockopt._conformal`; backtests
live in :mod:`stockopt.backtest`.

Output naming follows statsforecast: ``<Model>``, ``<Model>-lo-<L>`` / ``<Model>-hi-<L>`` for each
level ``L`` in percent, plus ``<Model>-q<P>`` for each requested quantile, ``P`` in percent
(``quantiles=[0.5, 0.95]`` gives ``-q50`` and ``-q95``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._conformal import conformal_scores, interval_columns
from stockopt._params import Boolean, Instance, Integer, Real, SequenceOf, validate_params
from stockopt._runner import finalise, prepare, run_model, series_var
from stockopt.data import SALES_PARAMS, GroupedSeries, as_grouped
from stockopt.errors import ParameterError, raise_error, warn_fallback
from stockopt.models import MODEL_SPEC, resolve_models
from stockopt.models._base import ForecastResult, Model

__all__ = ["forecast", "forecast_grouped", "model_output", "normalise_levels", "FORECAST_PARAMS",
           "CENSORED_PARAM", "extra_columns"]

#: the rules of the arguments :func:`forecast`, :func:`~stockopt.cross_validation`,
#: :func:`~stockopt.simulate` and :func:`~stockopt.run_nightly` share
FORECAST_PARAMS = {
    **SALES_PARAMS,
    "h": Integer(1),
    "models": [MODEL_SPEC, SequenceOf(MODEL_SPEC, min_len=1)],
    "level": [None, SequenceOf(Real(0, 100, lo_open=True, hi_open=True), unique=True)],
    "quantiles": [None, SequenceOf(Real(0, 1, lo_open=True, hi_open=True), unique=True)],
    "season_length": [None, Integer(1)],
    "nonnegative": Boolean(),
    "conformal_windows": Integer(1),
    "n_jobs": Integer(1),
}

#: the rule of ``censored`` (the name of an in-stock flag or on_hand column, see
#: :mod:`stockopt.signals.censored`), shared by :func:`forecast`, :func:`~stockopt.run_nightly` and
#: the demand-signal functions
CENSORED_PARAM = {"censored": [None, Instance(str)]}


def normalise_levels(level: Sequence[float] | None,
                     quantiles: Sequence[float] | None) -> tuple[list[float], list[float]]:
    """Levels sorted as floats and quantiles as floats (both already checked by the rules)."""
    return sorted(float(x) for x in (level or [])), [float(q) for q in (quantiles or [])]


def extra_columns(models: Sequence[Model | str] | Model | str) -> tuple[str, ...]:
    """The extra columns the given models read (``Model.uses_extra``), in first-use order."""
    specs = [models] if isinstance(models, (str, Model)) else list(models)
    out: list[str] = []
    for m in specs:
        for col in (m.uses_extra if isinstance(m, Model) else ()):
            if col not in out:
                out.append(col)
    return tuple(out)


@validate_params({**FORECAST_PARAMS, **CENSORED_PARAM})
def forecast(
    sales: Any,
    h: int,
    *,
    freq: str | None = None,
    models: Sequence[Model | str] | Model | str = ("auto",),
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
    censored: str | None = None,
    X_future: Any = None,
    allow_negative: bool = False,
) -> pa.Table:
    """Forecast every series ``h`` periods ahead with one or more models.

    Parameters
    ----------
    sales : table, Parquet path or GroupedSeries
        Long demand history ``unique_id, ds, y`` (see :func:`stockopt.group_series`).
    h : int
        Forecast horizon, in periods of ``freq``.
    freq : str, optional
        ``"D"``, ``"W"``, ``"MS"`` ...; inferred from the dates when omitted.
    models : Model, str or a sequence of them
        Model objects (``so.models.AutoETS(season_length=7)``) or names (``"auto_ets"``, ``"auto"``).
    level : sequence of float, optional
        Prediction-interval levels in percent (``[80, 95]``).
    quantiles : sequence of float, optional
        Probabilities in (0, 1) of the quantile forecasts to add (one-sided ones like ``[0.95]``).
    season_length : int, optional
        Season length (periods, >= 1) of the models given by name; defaults to the frequency's
        usual one (7 daily, 52 weekly, 12 monthly).
    nonnegative : bool
        ``True``: clip forecasts, bounds and quantiles of demand at 0.  ``False``: no output is
        clipped, not even by models whose own ``nonnegative`` is True (the forecast-level option
        wins; see :mod:`stockopt.models._base`).
    conformal_windows : int
        Backtest windows (>= 1) used for conformal intervals of models without a model-based
        variance.
    n_jobs : int
        Threads; results are identical for every value.
    id_col, time_col, target_col, missing, fill_gaps
        Passed to :func:`stockopt.group_series`.
    censored : str, optional
        Name of an in-stock flag of ``sales`` (False = sales capped by a stockout) or of an
        ``on_hand`` column (out of stock at or below zero): every model then forecasts demand, not
        sales (see :mod:`stockopt.signals.censored`).
    X_future : table or Drivers, optional
        Demand drivers over the horizon: ``unique_id, ds`` and one column per driver (promotion
        flags, prices, other numbers; the same columns in ``sales``) for the ``h`` periods after
        each series, or a :class:`stockopt.Drivers`.  Their effects are estimated on the history and
        applied to every model's forecasts (:func:`stockopt.forecast_drivers`, which also returns
        the effects).
    allow_negative : bool
        Accept negative demand (returns booked as negative sales).  The models then see net demand
        clipped at 0 (:func:`stockopt.data.clip_returns`): a period with more returned than sold
        counts as a period without demand.  ``False`` (default) refuses negative demand with a
        :class:`~stockopt.errors.NegativeValueError` naming the series and row.

    Returns
    -------
    pyarrow.Table
        ``unique_id, ds, <Model>`` plus ``<Model>-lo-<L>``, ``<Model>-hi-<L>`` and ``<Model>-q<P>``
        columns; ``h`` rows per series, series in id order.  Series a model cannot fit get their
        historic mean, with a :class:`stockopt.errors.FallbackWarning`.

    References
    ----------
    Hyndman, R. J. & Athanasopoulos, G. (2021), *Forecasting: Principles and Practice*, 3rd ed.,
    ch. 5 (the forecaster's toolbox, prediction intervals); the models' own pages cite their methods.

    Examples
    --------
    >>> import datetime as dt
    >>> import pyarrow as pa
    >>> sales = pa.table({"unique_id": ["a"] * 4, "ds": [dt.date(2024, 1, d) for d in range(1, 5)],
    ...                   "y": [3.0, 5.0, 4.0, 6.0]})
    >>> fc = forecast(sales, 2, models=["naive"], level=[80])
    >>> fc.column_names
    ['unique_id', 'ds', 'Naive', 'Naive-lo-80', 'Naive-hi-80']
    >>> fc["Naive"].to_pylist(), [d.isoformat() for d in fc["ds"].to_pylist()]
    ([6.0, 6.0], ['2024-01-05', '2024-01-06'])
    """
    if censored is not None or X_future is not None:  # demand signals: censored sales, drivers
        from stockopt.signals.forecast import forecast_signals

        if allow_negative:
            raise_error(ParameterError, "allow_negative=True cannot be combined with censored= or X_future=",
                        parameter="allow_negative", got=True,
                        expected="False, or net demand clipped first (stockopt.data.clip_returns)")

        return forecast_signals(sales, h, freq=freq, models=models, level=level, quantiles=quantiles,
                                season_length=season_length, nonnegative=nonnegative,
                                conformal_windows=conformal_windows, n_jobs=n_jobs, censored=censored,
                                X_future=X_future, id_col=id_col, time_col=time_col, target_col=target_col,
                                missing=missing, fill_gaps=fill_gaps)
    levels, qs = normalise_levels(level, quantiles)
    grouped = as_grouped(sales, freq=freq, id_col=id_col, time_col=time_col, target_col=target_col,
                         missing=missing, fill_gaps=fill_gaps, allow_negative=allow_negative,
                         extra_cols=extra_columns(models))
    sl = season_length if season_length is not None else grouped.freq.season_length
    mods = resolve_models(models, season_length=sl)
    table, _ = forecast_grouped(grouped, int(h), mods, levels, qs, n_jobs=n_jobs, nonnegative=nonnegative,
                                conformal_windows=conformal_windows)
    return table


def forecast_grouped(
    grouped: GroupedSeries,
    h: int,
    models: list[Model],
    levels: list[float],
    qs: list[float],
    *,
    n_jobs: int = 1,
    nonnegative: bool = True,
    conformal_windows: int = 2,
) -> tuple[pa.Table, dict[str, dict[str, Any]]]:
    """:func:`forecast` on already grouped series; also returns per-model run statistics.

    The statistics give, per model name, ``fallback_series`` (series forecast by the historic-mean
    fallback), ``status_counts`` (kernel status codes) and, where the model reports one, the count
    of series per selected sub-model (``selected``).
    """
    columns: dict[str, np.ndarray] = {}
    stats: dict[str, dict[str, Any]] = {}
    for model in models:
        model = prepare(model, nonnegative=nonnegative)
        res = run_model(model, grouped.values, grouped.indptr, h, n_jobs, extra=grouped.extra)
        cols, stats[model.name] = model_output(model, res, grouped, h, levels, qs, n_jobs=n_jobs,
                                               nonnegative=nonnegative, conformal_windows=conformal_windows)
        columns.update(cols)
    return grouped.future_table(h, columns), stats


def model_output(
    model: Model, res: ForecastResult, grouped: GroupedSeries, h: int, levels: list[float],
    qs: list[float], *, n_jobs: int, nonnegative: bool, conformal_windows: int,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Output columns (forecast, bounds, quantiles) and run statistics of one model's result."""
    columns: dict[str, np.ndarray] = {}
    res, n_fallback = finalise(model, res, grouped.values, grouped.indptr, h)
    mean = np.maximum(res.mean, 0.0) if nonnegative else res.mean
    columns[model.name] = mean
    conformal = None
    if (levels or qs) and (res.var is None or not np.isfinite(res.var).all()):
        conformal = conformal_scores(model, grouped, h, conformal_windows, n_jobs, extra=grouped.extra)
    bounds, n_interval_fallback = interval_columns(
        model.name, res, levels, qs, conformal, nonnegative,
        fallback_var=lambda rows: series_var(grouped, rows, h))
    columns.update(bounds)
    if n_interval_fallback:
        warn_fallback(f"{model.name}: {n_interval_fallback} series have neither a model variance nor a "
                      "backtest window; their bounds use their historic variance")
    codes, counts = np.unique(res.status, return_counts=True)
    st: dict[str, Any] = {"fallback_series": n_fallback, "interval_fallback_series": n_interval_fallback,
                          "status_counts": {int(c): int(k) for c, k in zip(codes, counts)}}
    if "model" in res.info:
        names, k = np.unique(np.asarray(res.info["model"]).astype(str), return_counts=True)
        st["selected"] = {str(a): int(b) for a, b in zip(names, k)}
    return columns, st
