"""``forecast`` with demand signals: the entry point :func:`stockopt.forecast` delegates to when it is
given ``censored=`` (stockout-censored sales) or ``X_future=`` (drivers over the horizon)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, days_to_time, require_columns, to_table
from stockopt._params import validate_params
from stockopt.data import GroupedSeries, group_series
from stockopt.errors import ParameterError, raise_error, warn_fallback
from stockopt.forecasting import (
    CENSORED_PARAM,
    FORECAST_PARAMS,
    extra_columns,
    forecast_grouped,
    normalise_levels,
)
from stockopt.models import Model, resolve_models
from stockopt.models.auto import demand_classes
from stockopt.signals._common import as_grouped, censor_mask, compress
from stockopt.signals.calendar import event_flags, yearly_profile
from stockopt.signals.censored import forecast_censored
from stockopt.signals.drivers import Drivers, driver_kinds, fit_drivers, future_matrix, transform

__all__ = ["forecast_signals", "forecast_drivers", "DriverForecast"]


@dataclass(frozen=True)
class DriverForecast:
    """The result of :func:`forecast_drivers`.

    Attributes
    ----------
    forecast : pyarrow.Table
        The forecast table of :func:`stockopt.forecast` (drivers applied).
    effects : pyarrow.Table
        ``unique_id, ds, model, driver, factor, contribution``: for every forecast period and
        driver, its multiplicative effect and the pieces it adds to (or takes from) the model's
        baseline forecast (``baseline`` rows hold the de-promoted forecast itself); the
        contributions of a period add up to the forecast (log-share attribution of the combined
        effect).
    coefficients : pyarrow.Table
        ``pool, driver, kind, coef, effect, periods`` (see :meth:`DriverFit.effect_table`).
    stats : dict
        Per-model run statistics (and ``"censored"`` counts when censoring was given).
    """

    forecast: pa.Table
    effects: pa.Table
    coefficients: pa.Table
    stats: dict[str, Any]


def forecast_signals(
    sales: Any,
    h: int,
    *,
    freq: str | None = None,
    models: Sequence[Model | str] | Model | str = ("auto",),
    level: Sequence[float] | None = None,
    quantiles: Sequence[float] | None = None,
    n_jobs: int = 1,
    season_length: int | None = None,
    nonnegative: bool = True,
    conformal_windows: int = 2,
    censored: str | None = None,
    X_future: Any = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
) -> pa.Table:
    """:func:`stockopt.forecast` of demand from censored sales and/or with drivers; same arguments.

    ``censored`` names an in-stock flag (False = stocked out) or an ``on_hand`` column of
    ``sales`` (see :mod:`stockopt.signals.censored`); ``X_future`` is a table of drivers over the
    horizon or a :class:`stockopt.signals.Drivers` (see :func:`forecast_drivers`).
    """
    if X_future is not None:
        return forecast_drivers(sales, h, X_future, freq=freq, models=models, level=level,
                                quantiles=quantiles, season_length=season_length, nonnegative=nonnegative,
                                conformal_windows=conformal_windows, n_jobs=n_jobs, censored=censored,
                                id_col=id_col, time_col=time_col, target_col=target_col, missing=missing,
                                fill_gaps=fill_gaps).forecast
    if not censored:
        raise_error(ParameterError, "bad argument", table="forecast", parameter="censored",
                    expected="the name of an in-stock flag or on_hand column", got=censored)
    levels, qs = normalise_levels(level, quantiles)
    grouped = as_grouped(sales, freq=freq, extra_cols=(censored,), id_col=id_col,
                         time_col=time_col, target_col=target_col, missing=missing, fill_gaps=fill_gaps)
    out = censor_mask(grouped, censored)
    mods = resolve_models(models, season_length=season_length or grouped.freq.season_length)
    table, _, _ = forecast_censored(grouped, out, int(h), mods, levels, qs, n_jobs=n_jobs,
                                    nonnegative=nonnegative, conformal_windows=conformal_windows)
    return table


@validate_params({**{k: v for k, v in FORECAST_PARAMS.items() if k != "allow_negative"}, **CENSORED_PARAM})
def forecast_drivers(
    sales: Any,
    h: int,
    drivers: Drivers | Any,
    *,
    freq: str | None = None,
    models: Sequence[Model | str] | Model | str = ("auto",),
    level: Sequence[float] | None = None,
    quantiles: Sequence[float] | None = None,
    season_length: int | None = None,
    nonnegative: bool = True,
    conformal_windows: int = 2,
    n_jobs: int = 1,
    censored: str | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
    effects: Any = None,
) -> DriverForecast:
    """Forecast with promotions, prices and events: pooled driver effects on a de-promoted baseline.

    The drivers' effects are estimated on the history with pooling across series
    (:mod:`stockopt.signals.drivers`: Poisson pseudo-maximum likelihood against a two-sided
    baseline, per pool shrunk towards the global effects); every model is fitted on the history
    divided by those effects (and, with ``Drivers(yearly=True)``, by a yearly profile), and its
    forecasts, bounds and quantiles are multiplied by the effects over the horizon.

    Parameters
    ----------
    sales : table, Parquet path or GroupedSeries
        Long history ``unique_id, ds, y`` with the driver columns (and ``pool_by``, ``censored``;
        a GroupedSeries must carry them as extra columns).
    h : int
        Forecast horizon (periods).
    drivers : Drivers or table
        The drivers over the horizon (a table is ``Drivers(future=table)``).
    freq, models, level, quantiles, n_jobs, season_length, nonnegative, conformal_windows
        As in :func:`stockopt.forecast`.
    censored : str, optional
        In-stock flag or on_hand column: stocked-out periods take no part in the driver estimates
        and are then handled as in :mod:`stockopt.signals.censored`.
    id_col, time_col, target_col, missing, fill_gaps
        As in :func:`stockopt.group_series`.
    effects : table, optional
        Driver effects fitted beforehand (the ``coefficients`` table of an earlier result:
        ``pool, driver, kind, coef``), applied as given instead of estimated: a run on a subset
        of the series (one partition of :func:`stockopt.plan`) then forecasts each series as the
        run on every series would.

    Returns
    -------
    DriverForecast

    Examples
    --------
    >>> import numpy as np, pyarrow as pa, datetime as dt
    >>> rng = np.random.default_rng(0)
    >>> n, days = 20, 200
    >>> promo = rng.random((n, days + 7)) < 0.08
    >>> y = rng.poisson(np.where(promo, 10.0, 5.0))
    >>> ds = [dt.date(2024, 1, 1) + dt.timedelta(days=d) for d in range(days + 7)]
    >>> ids = [f"s{i}" for i in range(n)]
    >>> hist = pa.table({"unique_id": np.repeat(ids, days), "ds": ds[:days] * n,
    ...                  "y": y[:, :days].ravel().astype(float), "promo": promo[:, :days].ravel()})
    >>> fut = pa.table({"unique_id": np.repeat(ids, 7), "ds": ds[days:] * n,
    ...                 "promo": promo[:, days:].ravel()})
    >>> res = forecast_drivers(hist, 7, fut, freq="D", models=["historic_average"])
    >>> round(res.coefficients["effect"][0].as_py(), 1)    # the uplift: 10 / 5
    2.0
    """
    h = int(h)
    censored = censored or None
    levels, qs = normalise_levels(level, quantiles)
    p = _fit(sales, h, drivers, freq=freq, models=models, censored=censored, effects=effects, id_col=id_col,
             time_col=time_col, target_col=target_col, missing=missing, fill_gaps=fill_gaps)
    grouped, spec, names, fit, out, n = p.grouped, p.spec, p.names, p.fit, p.out, p.grouped.n_series
    x_fut, pool, fut_owner = p.x_fut, p.pool, np.repeat(np.arange(n), h)
    deflated = fit.deflated
    fut_factor = np.exp(x_fut @ np.zeros(len(names)) if not names else
                        np.einsum("ij,ij->i", x_fut, fit.coef[pool[fut_owner]])).reshape(n, h)
    year_hist = np.ones_like(deflated)
    year_fut = np.ones((n, h))
    if spec.yearly:
        cls, _, _ = demand_classes(*compress(deflated, grouped.indptr, ~out))
        year_hist, year_fut = yearly_profile(grouped, deflated, ~out, cls < 2, h)
        deflated = deflated / year_hist
    adj = GroupedSeries(values=np.ascontiguousarray(deflated), indptr=grouped.indptr, ids=grouped.ids,
                        start=grouped.start, freq=grouped.freq, time_type=grouped.time_type,
                        id_col=grouped.id_col, time_col=grouped.time_col, target_col=grouped.target_col,
                        extra=grouped.extra, id_dictionary=grouped.id_dictionary)
    sl = season_length or grouped.freq.season_length
    mods = resolve_models(models, season_length=sl)
    opts = dict(n_jobs=n_jobs, nonnegative=nonnegative, conformal_windows=conformal_windows)
    if censored:
        base_tbl, stats, stats["censored"] = forecast_censored(adj, out, h, mods, levels, qs, **opts)
    else:
        base_tbl, stats = forecast_grouped(adj, h, mods, levels, qs, **opts)
    factor = fut_factor * year_fut
    columns = {c: base_tbl.column(c).to_numpy().reshape(n, h) * factor for c in base_tbl.column_names[2:]}
    forecast = grouped.future_table(h, columns)
    per_driver = {nm: np.exp(x_fut[:, j] * fit.coef[pool[fut_owner], j]).reshape(n, h)
                  for j, nm in enumerate(names)}
    if spec.yearly:
        per_driver["yearly"] = year_fut
    effects = _effects(grouped, h, [m.name for m in mods], base_tbl, columns, per_driver)
    stats["drivers"] = {"history_periods_unusable": int(p.bad_hist.sum()),
                        "future_periods_unusable": p.n_bad_future}
    return DriverForecast(forecast=forecast, effects=effects, coefficients=fit.effect_table(), stats=stats)


@dataclass
class _Fitted:
    """What :func:`forecast_drivers` fits before it forecasts (see :func:`_fit`)."""

    grouped: GroupedSeries
    spec: Drivers
    names: list[str]
    fit: Any
    out: np.ndarray
    x_fut: np.ndarray
    pool: np.ndarray
    bad_hist: np.ndarray
    n_bad_future: int


def _fit(sales: Any, h: int, drivers: Any, *, freq: Any, models: Any, censored: str | None, effects: Any,
         id_col: str, time_col: str, target_col: str, missing: str, fill_gaps: str) -> _Fitted:
    """Group the history with its driver columns, transform the drivers and fit (or take) their effects.

    A GroupedSeries that already carries every column needed is used as it is (grouping its long
    table again gives the same arrays)."""
    spec = drivers if isinstance(drivers, Drivers) else Drivers(future=drivers)
    names: list[str] = []
    fut_tbl = None
    if spec.future is not None:
        fut_tbl = to_table(spec.future, table="X_future")
        key_id = sales.id_col if isinstance(sales, GroupedSeries) else id_col
        key_time = sales.time_col if isinstance(sales, GroupedSeries) else time_col
        names = [c for c in fut_tbl.column_names if c not in (key_id, key_time)]
    extra = list(dict.fromkeys(names + ([censored] if censored else []) + list(extra_columns(models))))
    if isinstance(sales, GroupedSeries) and spec.pool_by is None and set(extra) <= set(sales.extra or {}) \
            and freq is None:
        grouped, tbl = sales, None
    else:
        if isinstance(sales, GroupedSeries):  # regrouped from its long table, its own frequency and names
            freq = sales.freq if freq is None else freq
            id_col, time_col, target_col = sales.id_col, sales.time_col, sales.target_col
        tbl = to_table(sales, table="sales")
        require_columns(tbl, {f"driver {c}": c for c in names}, table="sales")
        grouped = group_series(tbl, freq=freq, id_col=id_col, time_col=time_col, target_col=target_col,
                               missing=missing, fill_gaps=fill_gaps, extra_cols=extra)
    n, lengths = grouped.n_series, grouped.lengths
    owner = np.repeat(np.arange(n), lengths)
    out = censor_mask(grouped, censored) if censored else np.zeros(grouped.values.shape[0], dtype=bool)
    hist_cols = {c: np.asarray(grouped.extra[c], dtype=np.float64) for c in names}
    fixed, fixed_kinds = _given_effects(effects, names) if effects is not None and names else (None, None)
    kinds = fixed_kinds or driver_kinds(names, hist_cols)
    x_hist, ref, bad_hist = transform(kinds, names, hist_cols, owner, None, n)
    fut_owner = np.repeat(np.arange(n), h)
    x_fut = np.empty((n * h, 0))
    n_bad_future = 0
    if names:
        fut_cols = future_matrix(grouped, fut_tbl, names, h)
        x_fut, _, bad_fut = transform(kinds, names, fut_cols, fut_owner, ref, n)
        n_bad_future = int(bad_fut.sum())
        if n_bad_future:
            warn_fallback(f"X_future: {n_bad_future} periods have a driver value that cannot be used (NaN, "
                          "or a price <= 0); they are forecast at the series' reference (no effect)")
    if spec.calendar is not None:
        ev_hist = event_flags(grouped, spec.calendar, grouped.periods())
        ev_fut = event_flags(grouped, spec.calendar, grouped.future_periods(h).ravel())
        keep = [k for k in ev_hist if ev_hist[k].any()]  # events the history has seen can be estimated
        names += keep
        kinds += ["flag"] * len(keep)
        x_hist = np.column_stack([x_hist] + [ev_hist[k] for k in keep]) if keep else x_hist
        x_fut = np.column_stack([x_fut] + [ev_fut[k] for k in keep]) if keep else x_fut
    if not names and not spec.yearly:
        raise_error(ParameterError, "bad argument: no driver", table="forecast_drivers", parameter="drivers",
                    expected="driver columns in the future table, a calendar, or yearly=True")
    pool, pool_names = _pools(tbl, grouped, spec.pool_by, id_col)
    if fixed is not None and (spec.calendar is not None or spec.pool_by is not None):
        raise_error(ParameterError, "bad argument", table="forecast_drivers", parameter="effects",
                    expected="effects only with one pool and no calendar", got="pool_by or calendar given")
    fit = fit_drivers(grouped, names, kinds, x_hist, pool, pool_names, ref, out | bad_hist, fixed=fixed)
    return _Fitted(grouped=grouped, spec=spec, names=names, fit=fit, out=out, x_fut=x_fut, pool=pool,
                   bad_hist=bad_hist, n_bad_future=n_bad_future)


def _given_effects(effects: Any, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """The (1, n_drivers) coefficients and the kinds of ``names`` from an effects table (one pool)."""
    tbl = to_table(effects, table="effects")
    require_columns(tbl, {"driver": "driver", "kind": "kind", "coef": "coef"}, table="effects")
    rows = {r["driver"]: r for r in tbl.select(["driver", "kind", "coef"]).to_pylist()}
    missing = [c for c in names if c not in rows]
    if missing or len(rows) != tbl.num_rows:
        raise_error(ParameterError, "bad argument", table="forecast_drivers", parameter="effects",
                    expected=f"one row per driver of X_future {names}",
                    got=f"no row for {missing[0]}" if missing else "a driver given twice")
    coef = np.array([[float(rows[c]["coef"]) for c in names]])
    if not np.isfinite(coef).all():
        raise_error(ParameterError, "bad argument", table="forecast_drivers", parameter="effects",
                    expected="finite coefficients", got=coef.ravel().tolist())
    return coef, [str(rows[c]["kind"]) for c in names]


def _pools(tbl: pa.Table | None, grouped: GroupedSeries, pool_by: str | None,
           id_col: str) -> tuple[np.ndarray, list[Any]]:
    """The pool (index into the pool names) of every series: one pool, or one per value of ``pool_by``."""
    if pool_by is None:
        return np.zeros(grouped.n_series, dtype=np.int64), ["all"]
    require_columns(tbl, {"pool_by": pool_by}, table="sales")
    per = tbl.group_by(id_col, use_threads=False).aggregate([(pool_by, "min")])
    ids = per.column(id_col)
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    pos = _to_numpy(pc.index_in(grouped.ids, value_set=ids.cast(grouped.ids.type)), np.int64)
    vals = per.column(f"{pool_by}_min").take(pa.array(pos))
    names = pc.unique(vals).to_pylist()
    names = sorted(names, key=lambda v: (v is None, str(v)))
    code = _to_numpy(pc.fill_null(pc.index_in(vals, value_set=pa.array(names, vals.type)), 0), np.int64)
    return code, names


def _effects(grouped: GroupedSeries, h: int, model_names: list[str], base_tbl: pa.Table,
             columns: dict[str, np.ndarray], per_driver: dict[str, np.ndarray]) -> pa.Table:
    """Long table of each driver's factor and contribution (pieces) per series, period and model."""
    n = grouped.n_series
    rows = np.repeat(np.arange(n, dtype=np.int64), h)
    ids = grouped._id_column(rows)
    ds = days_to_time(grouped.freq.to_days(grouped.future_periods(h).ravel()), grouped.time_type)
    logs = {k: np.log(np.maximum(v, 1e-300)).ravel() for k, v in per_driver.items()}
    total_log = np.sum(list(logs.values()), axis=0) if logs else np.zeros(n * h)
    parts = []
    for m in model_names:
        base = base_tbl.column(m).to_numpy()
        final = columns[m].ravel()
        moved = final - base
        share = {k: np.where(np.abs(total_log) > 1e-12, lv / np.where(total_log == 0, 1, total_log), 0.0)
                 for k, lv in logs.items()}
        for drv in ["baseline", *logs]:
            parts.append(pa.table({
                grouped.id_col: ids, grouped.time_col: ds, "model": pa.array([m] * (n * h), pa.string()),
                "driver": pa.array([drv] * (n * h), pa.string()),
                "factor": pa.array(np.ones(n * h) if drv == "baseline" else np.exp(logs[drv])),
                "contribution": pa.array(base if drv == "baseline" else moved * share[drv]),
            }))
    return pa.concat_tables(parts) if parts else pa.table({})
