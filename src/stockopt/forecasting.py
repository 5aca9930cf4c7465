"""The forecasting API: ``forecast``, ``cross_validation`` and the model runner behind them.

Tables go in and out; in between, series are grouped once (:func:`stockopt.group_series`) and each
model's compiled kernel runs over blocks of series, one block per thread (kernels release the GIL;
each series is computed independently, so results are bit-identical whatever ``n_jobs`` is).

Output naming follows statsforecast: ``<Model>``, ``<Model>-lo-<L>`` / ``<Model>-hi-<L>`` for each
level ``L`` in percent, plus ``<Model>-q<P>`` for each requested quantile, ``P`` in percent
(``quantiles=[0.5, 0.95]`` gives ``-q50`` and ``-q95``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._arrow import days_to_time
from stockopt._kernels.codes import STATUS_FAILED
from stockopt.data import GroupedSeries, _ranges, _value_blocks, group_series
from stockopt.errors import ParameterError, raise_error, warn_fallback
from stockopt.models import resolve_models
from stockopt.models._base import (
    ForecastResult,
    Model,
    Params,
    concat_params,
    put_params,
    take_params,
    without_fitted,
)
from stockopt.models._distributions import quantiles as dist_quantiles

__all__ = ["forecast", "forecast_grouped", "cross_validation", "run_model", "run_fit", "run_forward", "level_name",
           "quantile_name"]

logger = logging.getLogger(__name__)


def level_name(model: str, side: str, level: float) -> str:
    """Column name of a prediction-interval bound, e.g. ``AutoETS-lo-80``."""
    return f"{model}-{side}-{level:g}"


def quantile_name(model: str, q: float) -> str:
    """Column name of a quantile forecast, e.g. ``AutoETS-q95`` for ``q=0.95``."""
    return f"{model}-q{100 * q:g}"


def _check_levels(level: Sequence[float] | None, quantiles: Sequence[float] | None) -> tuple[list[float], list[float]]:
    levels = sorted(float(x) for x in (level or []))
    for lv in levels:
        if not 0 < lv < 100:
            raise_error(ParameterError, "bad prediction-interval level", column="level",
                        expected="levels in percent, strictly between 0 and 100", got=lv)
    qs = [float(q) for q in (quantiles or [])]
    for q in qs:
        if not 0 < q < 1:
            raise_error(ParameterError, "bad quantile", column="quantiles", expected="probabilities in (0, 1)", got=q)
    return levels, qs


def _blocks(indptr: np.ndarray, n_jobs: int) -> list[tuple[int, int]]:
    """Split series into at most ``n_jobs`` contiguous blocks of about equal numbers of values."""
    n = indptr.shape[0] - 1
    if n_jobs <= 1 or n < 2:
        return [(0, n)]
    return _value_blocks(indptr, -(-int(indptr[-1] - indptr[0]) // n_jobs))


def run_model(model: Model, values: np.ndarray, indptr: np.ndarray, h: int, n_jobs: int = 1) -> ForecastResult:
    """Run ``model`` over all series of ``(values, indptr)``, spread over ``n_jobs`` threads.

    The result does not depend on ``n_jobs``: every series is fitted on its own and blocks are
    concatenated in series order.
    """
    blocks = _blocks(indptr, n_jobs)
    if len(blocks) == 1:
        return model.forecast_arrays(values, indptr, h)
    with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
        parts = list(pool.map(lambda ab: model.forecast_arrays(values, indptr[ab[0] : ab[1] + 1], h), blocks))
    return _concat(parts, [(int(indptr[a]), int(indptr[b])) for a, b in blocks], values.shape[0])


def run_fit(model: Model, values: np.ndarray, indptr: np.ndarray, h: int,
            n_jobs: int = 1) -> tuple[ForecastResult, Params]:
    """:meth:`Model.fit_arrays` over all series, spread over ``n_jobs`` threads like :func:`run_model`.

    The forecasts are :func:`run_model`'s; the parameter record has one row per series.
    """
    blocks = _blocks(indptr, n_jobs)
    if len(blocks) == 1:
        return model.fit_arrays(values, indptr, h)
    with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
        parts = list(pool.map(lambda ab: model.fit_arrays(values, indptr[ab[0] : ab[1] + 1], h), blocks))
    res = _concat([r for r, _ in parts], [(int(indptr[a]), int(indptr[b])) for a, b in blocks], values.shape[0])
    return res, concat_params([p for _, p in parts])


def run_forward(model: Model, values: np.ndarray, indptr: np.ndarray, h: int, params: Params,
                n_jobs: int = 1) -> ForecastResult:
    """:meth:`Model.forward_arrays` over all series (``params``: one row per series), in threads."""
    blocks = _blocks(indptr, n_jobs)
    if len(blocks) == 1:
        return model.forward_arrays(values, indptr, h, params)
    with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
        parts = list(pool.map(lambda ab: model.forward_arrays(values, indptr[ab[0] : ab[1] + 1], h,
                                                              take_params(params, slice(ab[0], ab[1]))), blocks))
    return _concat(parts, [(int(indptr[a]), int(indptr[b])) for a, b in blocks], values.shape[0])


def _concat(parts: list[ForecastResult], spans: list[tuple[int, int]], n_values: int) -> ForecastResult:
    """Join per-block results in series order; fitted values (aligned with ``values``) by span."""
    first = parts[0]
    fitted = None
    if all(p.fitted is not None and p.fitted.shape[0] == n_values for p in parts):
        fitted = np.full(n_values, np.nan)
        for p, (lo, hi) in zip(parts, spans):
            fitted[lo:hi] = p.fitted[lo:hi]
    info: dict[str, np.ndarray] = {}
    for key in first.info:
        if all(key in p.info for p in parts):
            info[key] = np.concatenate([p.info[key] for p in parts])
    return ForecastResult(
        mean=np.concatenate([p.mean for p in parts]),
        var=None if any(p.var is None for p in parts) else np.concatenate([p.var for p in parts]),
        status=np.concatenate([p.status for p in parts]),
        fitted=fitted,
        dist=_concat_dist(parts),
        info=info,
    )


def _concat_dist(parts: list[ForecastResult]) -> str | np.ndarray:
    """One family name when every block agrees, else the per-series families of all blocks."""
    names = {p.dist for p in parts if isinstance(p.dist, str)}
    if len(names) == 1 and all(isinstance(p.dist, str) for p in parts):
        return names.pop()
    return np.concatenate([p.dist if isinstance(p.dist, np.ndarray)
                           else np.full(p.mean.shape[0], p.dist, dtype=object) for p in parts])


def _historic_fallback(values: np.ndarray, indptr: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of each series' history (zeros for an empty series), shape (n, h)."""
    lengths = np.diff(indptr)
    sums = np.add.reduceat(values, indptr[:-1]) if values.size else np.zeros(lengths.shape)
    sums = np.where(lengths > 0, sums, 0.0)
    mean = sums / np.maximum(lengths, 1)
    dev = values - np.repeat(mean, lengths)
    ss = np.add.reduceat(dev * dev, indptr[:-1]) if values.size else np.zeros(lengths.shape)
    var = np.where(lengths > 1, np.where(lengths > 0, ss, 0.0) / np.maximum(lengths - 1, 1), 0.0)
    return np.repeat(mean[:, None], h, axis=1), np.repeat(var[:, None], h, axis=1)


def _series_var(grouped: GroupedSeries, rows: np.ndarray, h: int) -> np.ndarray:
    """Historic variance of the given series, repeated over ``h`` steps (0 for one value)."""
    lengths = grouped.lengths[rows]
    src = _ranges(grouped.indptr[rows], lengths)
    ptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    return _historic_fallback(grouped.values[src], ptr, h)[1]


def _finalise(model: Model, res: ForecastResult, grouped_values: np.ndarray, indptr: np.ndarray, h: int) -> tuple[ForecastResult, int]:
    """Replace the forecasts of series a model could not fit by their historic mean; count them."""
    bad = ~np.isfinite(res.mean).all(axis=1)
    n_bad = int(bad.sum())
    if n_bad:
        idx = np.flatnonzero(bad)
        lengths = np.diff(indptr)[idx]
        src = _ranges(indptr[idx], lengths)
        sub_ptr = np.zeros(idx.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=sub_ptr[1:])
        fb_mean, fb_var = _historic_fallback(grouped_values[src], sub_ptr, h)
        res.mean[idx] = fb_mean
        if res.var is not None:
            res.var[idx] = fb_var
        warn_fallback(f"{model.name}: {n_bad} series could not be fitted (too short or failed); "
                      "their forecast is the historic mean")
    return res, n_bad


def _interval_columns(
    name: str, res: ForecastResult, levels: list[float], qs: list[float], conformal: np.ndarray | None,
    nonnegative: bool, fallback_var: Any = None,
) -> tuple[dict[str, np.ndarray], int]:
    """Columns ``-lo-L``, ``-hi-L`` and ``-qP`` from the model's distribution or conformal scores.

    Series left without finite bounds (no model variance and too short for any backtest window)
    get normal bounds around the model's forecast with ``fallback_var(rows)`` (their historic
    variance), so no NaN reaches the output; their count is returned.
    """
    out: dict[str, np.ndarray] = {}
    probs: list[tuple[str, float]] = []
    for lv in reversed(levels):
        probs.append((level_name(name, "lo", lv), 0.5 - lv / 200.0))
    for lv in levels:
        probs.append((level_name(name, "hi", lv), 0.5 + lv / 200.0))
    for q in qs:
        probs.append((quantile_name(name, q), q))
    if not probs:
        return out, 0
    plist = [p for _, p in probs]
    table = np.full(res.mean.shape + (len(probs),), np.nan)
    if res.var is not None:
        dists = res.dist if isinstance(res.dist, np.ndarray) else np.full(res.mean.shape[0], res.dist, dtype=object)
        has_var = np.isfinite(res.var).all(axis=1)
        for d in {d for d in dists if d is not None}:
            rows = np.flatnonzero((dists == d) & has_var)
            if rows.size:
                table[rows] = dist_quantiles(res.mean[rows], res.var[rows], d, plist)
    missing = ~np.isfinite(table).all(axis=(1, 2)) if table.size else np.zeros(res.mean.shape[0], dtype=bool)
    if missing.any() and conformal is not None:
        for j, p in enumerate(plist):
            table[missing, :, j] = _conformal_bound(res.mean[missing], conformal[:, missing], p)
    missing = ~np.isfinite(table).all(axis=(1, 2)) if table.size else missing
    n_fallback = int(missing.sum())
    if n_fallback and fallback_var is not None:
        rows = np.flatnonzero(missing)
        table[rows] = dist_quantiles(res.mean[rows], fallback_var(rows), "normal", plist)
    for j, (col, _) in enumerate(probs):
        out[col] = table[..., j]
    if nonnegative:
        for col in out:
            np.maximum(out[col], 0.0, out=out[col])
    return out, n_fallback


def _conformal_bound(mean: np.ndarray, scores: np.ndarray, p: float) -> np.ndarray:
    """Split-conformal bound at probability ``p`` from absolute backtest errors.

    ``scores`` has shape (n_windows, n_series, h).  A central interval of coverage ``c = |2p - 1|``
    uses the ``ceil((n + 1) c) / n`` empirical quantile of the scores (Vovk, Gammerman & Shafer
    2005; Angelopoulos & Bates 2023), capped at the largest score when too few windows exist.
    """
    if p == 0.5:
        return mean.copy()
    c = abs(2 * p - 1)
    n = scores.shape[0]
    k = min(int(np.ceil((n + 1) * c)), n)
    srt = np.sort(scores, axis=0)  # NaN last
    q = srt[k - 1]
    return mean + np.sign(p - 0.5) * q


def _conformal_scores(model: Model, grouped: GroupedSeries, h: int, n_windows: int, n_jobs: int) -> np.ndarray:
    """Absolute errors of ``model`` on the last ``n_windows`` windows of ``h`` periods of each series."""
    lengths = grouped.lengths
    scores = np.full((n_windows, grouped.n_series, h), np.nan)
    for w in range(n_windows):
        train_len = lengths - h * (w + 1)
        ok = train_len >= max(model.min_length, 1)
        if not ok.any():
            continue
        idx = np.flatnonzero(ok)
        tl = train_len[idx]
        src = _ranges(grouped.indptr[idx], tl)
        ptr = np.zeros(idx.size + 1, dtype=np.int64)
        np.cumsum(tl, out=ptr[1:])
        res = run_model(model, np.ascontiguousarray(grouped.values[src]), ptr, h, n_jobs)
        actual_idx = grouped.indptr[idx][:, None] + tl[:, None] + np.arange(h)[None, :]
        scores[w, idx] = np.abs(grouped.values[actual_idx] - res.mean)
    return scores


def _as_grouped(sales: Any, freq: Any, kw: dict[str, Any]) -> GroupedSeries:
    if isinstance(sales, GroupedSeries):
        return sales
    return group_series(sales, freq, **kw)


def forecast(
    sales: Any,
    h: int,
    freq: str | None = None,
    models: Sequence[Model | str] | Model | str = ("auto",),
    level: Sequence[float] | None = None,
    quantiles: Sequence[float] | None = None,
    n_jobs: int = 1,
    *,
    season_length: int | None = None,
    nonnegative: bool = True,
    conformal_windows: int = 2,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
    censored: str | None = None,
    X_future: Any = None,
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
    n_jobs : int
        Threads; results are identical for every value.
    season_length : int, optional
        Season length used for models given by name; defaults to the frequency's usual one
        (7 daily, 52 weekly, 12 monthly).
    nonnegative : bool
        Clip forecasts, bounds and quantiles of demand at 0.
    conformal_windows : int
        Backtest windows used for conformal intervals of models without a model-based variance.
    id_col, time_col, target_col, missing, fill_gaps
        Passed to :func:`stockopt.group_series`.
    censored : str, optional
        Name of an in-stock flag of ``sales`` (False = sales capped by a stockout) or of an
        ``on_hand`` column (out of stock at or below zero): every model then forecasts demand, not
        sales (see :mod:`stockopt.signals.censored`).
    X_future : table, optional
        Demand drivers over the horizon (see :mod:`stockopt.signals`).

    Returns
    -------
    pyarrow.Table
        ``unique_id, ds, <Model>`` plus ``<Model>-lo-<L>``, ``<Model>-hi-<L>`` and ``<Model>-q<P>``
        columns; ``h`` rows per series, series in id order.  Series a model cannot fit get their
        historic mean, with a :class:`stockopt.errors.FallbackWarning`.
    """
    if censored is not None or X_future is not None:  # demand signals: censored sales, drivers
        from stockopt.signals.forecast import forecast_signals

        return forecast_signals(sales, h, freq, models, level, quantiles, n_jobs, season_length=season_length,
                                nonnegative=nonnegative, conformal_windows=conformal_windows,
                                censored=censored, X_future=X_future, id_col=id_col, time_col=time_col,
                                target_col=target_col, missing=missing, fill_gaps=fill_gaps)
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise_error(ParameterError, "bad forecast horizon", column="h", expected="an integer >= 1", got=h)
    if n_jobs < 1:
        raise_error(ParameterError, "bad n_jobs", column="n_jobs", expected="an integer >= 1", got=n_jobs)
    levels, qs = _check_levels(level, quantiles)
    grouped = _as_grouped(sales, freq, dict(id_col=id_col, time_col=time_col, target_col=target_col,
                                            missing=missing, fill_gaps=fill_gaps))
    sl = season_length or grouped.freq.season_length
    table, _ = forecast_grouped(grouped, int(h), resolve_models(models, sl), levels, qs, n_jobs,
                                nonnegative=nonnegative, conformal_windows=conformal_windows)
    return table


def forecast_grouped(
    grouped: GroupedSeries,
    h: int,
    models: list[Model],
    levels: list[float],
    qs: list[float],
    n_jobs: int = 1,
    *,
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
    for model in map(without_fitted, models):
        res = run_model(model, grouped.values, grouped.indptr, h, n_jobs)
        cols, stats[model.name] = _model_output(model, res, grouped, h, levels, qs, n_jobs, nonnegative,
                                                conformal_windows)
        columns.update(cols)
    return grouped.future_table(h, columns), stats


def _model_output(
    model: Model, res: ForecastResult, grouped: GroupedSeries, h: int, levels: list[float], qs: list[float],
    n_jobs: int, nonnegative: bool, conformal_windows: int,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Output columns (forecast, bounds, quantiles) and run statistics of one model's result."""
    columns: dict[str, np.ndarray] = {}
    res, n_fallback = _finalise(model, res, grouped.values, grouped.indptr, h)
    mean = np.maximum(res.mean, 0.0) if nonnegative else res.mean
    columns[model.name] = mean
    conformal = None
    if (levels or qs) and (res.var is None or not np.isfinite(res.var).all()):
        conformal = _conformal_scores(model, grouped, h, conformal_windows, n_jobs)
    bounds, n_interval_fallback = _interval_columns(
        model.name, res, levels, qs, conformal, nonnegative,
        fallback_var=lambda rows: _series_var(grouped, rows, h))
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


def _check_refit(refit: Any) -> int:
    """``refit`` as a refit period: 1 every window (``True``), 0 only the first (``False``), n every n."""
    if isinstance(refit, (bool, np.bool_)):
        return 1 if refit else 0
    if isinstance(refit, (int, np.integer)) and refit >= 0:
        return int(refit)
    raise_error(ParameterError, "bad refit", column="refit",
                expected="True, False or an integer n >= 0 (refit every n windows; 0 is False)", got=refit)
    raise AssertionError  # unreachable: raise_error raises


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
    dist: str | np.ndarray = names.pop() if len(names) == 1 and all(isinstance(d, str) for d in dists) else dists
    return ForecastResult(mean=mean, var=var, status=status, fitted=None, dist=dist, info=info)


def _take(res: ForecastResult, sel: np.ndarray) -> ForecastResult:
    """The series ``sel`` (mask or indices) of a result; fitted values are dropped."""
    info = {k: v[sel] for k, v in res.info.items() if isinstance(v, np.ndarray) and v.shape[:1] == res.status.shape}
    dist = res.dist[sel] if isinstance(res.dist, np.ndarray) else res.dist
    return ForecastResult(mean=res.mean[sel], var=None if res.var is None else res.var[sel],
                          status=res.status[sel], fitted=None, dist=dist, info=info)


def _subset(values: np.ndarray, indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous values and offsets of the series ``rows`` of ``(values, indptr)``."""
    lengths = np.diff(indptr)[rows]
    ptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    return np.ascontiguousarray(values[_ranges(indptr[:-1][rows], lengths)]), ptr


def _fit_or_forward(model: Model, values: np.ndarray, indptr: np.ndarray, idx: np.ndarray, h: int,
                    store: Params | None, n_series: int, should_fit: bool, n_jobs: int,
                    ) -> tuple[ForecastResult, Params | None, dict[str, int]]:
    """One backtest window of one model: fit (and store parameters) or forward from the store.

    ``idx`` are the window's series (rows of the full grouping, ``n_series`` of them) whose
    histories are ``(values, indptr)``.  Series without stored parameters (too short, or not
    fittable, at earlier windows) are fitted now; series whose forward fails are refitted.
    """
    n = idx.size
    if model.forward_mode != "frozen":
        # nothing to freeze ("none": forecasting is forwarding) or the model refits by design
        return run_model(model, values, indptr, h, n_jobs), store, {"fitted": n, "forwarded": 0, "refitted": 0}
    have = np.zeros(n, dtype=bool) if (should_fit or store is None) else store["fitted"][idx].astype(bool)
    if not have.any():
        res, params = run_fit(model, values, indptr, h, n_jobs)
        return res, put_params(store, n_series, idx, params), {"fitted": n, "forwarded": 0, "refitted": 0}
    fwd = np.flatnonzero(have)
    v_f, p_f = (values, indptr) if fwd.size == n else _subset(values, indptr, fwd)
    res_f = run_forward(model, v_f, p_f, h, take_params(store, idx[fwd]), n_jobs)
    bad = res_f.status == STATUS_FAILED
    failed = fwd[bad]
    ok = fwd[~bad]
    parts = [(ok, _take(res_f, ~bad))] if failed.size else [(fwd, res_f)]
    to_fit = np.concatenate([np.flatnonzero(~have), failed])
    to_fit.sort()
    if to_fit.size:
        v_t, p_t = _subset(values, indptr, to_fit)
        res_t, params = run_fit(model, v_t, p_t, h, n_jobs)
        store = put_params(store, n_series, idx[to_fit], params)
        parts.append((to_fit, res_t))
    counts = {"fitted": int((~have).sum()), "forwarded": int(ok.size), "refitted": int(failed.size)}
    return _scatter(parts, n, h), store, counts


def cross_validation(
    sales: Any,
    h: int,
    n_windows: int = 1,
    step_size: int | None = None,
    models: Sequence[Model | str] | Model | str = ("auto",),
    refit: bool | int = True,
    freq: str | None = None,
    level: Sequence[float] | None = None,
    quantiles: Sequence[float] | None = None,
    n_jobs: int = 1,
    *,
    season_length: int | None = None,
    nonnegative: bool = True,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
) -> pa.Table:
    """Backtest models on rolling origins: forecast ``h`` periods from ``n_windows`` cutoffs.

    The last cutoff leaves exactly ``h`` periods of each series for evaluation; earlier ones are
    ``step_size`` periods apart (default ``h``).  Series with too little history before a cutoff
    are left out of that window.

    Parameters
    ----------
    sales, h, models, freq, level, quantiles, n_jobs, season_length, nonnegative
        As in :func:`forecast`.
    n_windows : int
        Number of forecast origins per series.
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

    Returns
    -------
    pyarrow.Table
        ``unique_id, ds, cutoff, y`` and the forecast columns of :func:`forecast`.
    """
    period = _check_refit(refit)
    if n_windows < 1:
        raise_error(ParameterError, "bad n_windows", column="n_windows", expected="an integer >= 1", got=n_windows)
    step = h if step_size is None else int(step_size)
    if step < 1:
        raise_error(ParameterError, "bad step_size", column="step_size", expected="an integer >= 1", got=step_size)
    grouped = _as_grouped(sales, freq, dict(id_col=id_col, time_col=time_col, target_col=target_col,
                                            missing=missing, fill_gaps=fill_gaps))
    sl = season_length or grouped.freq.season_length
    mods = resolve_models(models, sl)
    levels, qs = _check_levels(level, quantiles)
    tables = []
    lengths = grouped.lengths
    stores: dict[str, Params | None] = {m.name: None for m in mods}
    for wi, w in enumerate(range(n_windows - 1, -1, -1)):
        train_len = lengths - h - w * step
        idx = np.flatnonzero(train_len >= 1)
        if idx.size == 0:
            continue
        tl = train_len[idx]
        src = _ranges(grouped.indptr[idx], tl)
        ptr = np.zeros(idx.size + 1, dtype=np.int64)
        np.cumsum(tl, out=ptr[1:])
        sub = GroupedSeries(values=np.ascontiguousarray(grouped.values[src]), indptr=ptr,
                            ids=grouped.ids.take(pa.array(idx)), start=grouped.start[idx], freq=grouped.freq,
                            time_type=grouped.time_type, id_col=grouped.id_col, time_col=grouped.time_col,
                            target_col=grouped.target_col, id_dictionary=grouped.id_dictionary)
        if period == 1:
            fc = forecast(sub, h, models=mods, level=levels or None, quantiles=qs or None, n_jobs=n_jobs,
                          season_length=sl, nonnegative=nonnegative)
        else:
            should_fit = wi == 0 or (period > 0 and wi % period == 0)
            columns: dict[str, np.ndarray] = {}
            for model in map(without_fitted, mods):
                res, stores[model.name], counts = _fit_or_forward(
                    model, sub.values, sub.indptr, idx, h, stores[model.name], grouped.n_series, should_fit, n_jobs)
                logger.info("cross_validation window %d, %s: %s", wi, model.name, counts)
                cols, _ = _model_output(model, res, sub, h, levels, qs, n_jobs, nonnegative, 2)
                columns.update(cols)
            fc = sub.future_table(h, columns)
        actual_idx = grouped.indptr[idx][:, None] + tl[:, None] + np.arange(h)[None, :]
        cutoff_days = grouped.freq.to_days(sub.end)
        cutoff = days_to_time(np.repeat(cutoff_days, h), grouped.time_type)
        fc = fc.add_column(2, "cutoff", cutoff)
        fc = fc.add_column(3, grouped.target_col, pa.array(grouped.values[actual_idx].ravel()))
        tables.append(fc)
    if not tables:
        raise ParameterError(f"cross_validation: no series is longer than h + (n_windows - 1) * step_size = "
                             f"{h + (n_windows - 1) * step}")
    return pa.concat_tables(tables)
