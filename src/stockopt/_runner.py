"""Run a model over many series through the executor seam, and repair what it could not fit.

:func:`run_model`, :func:`run_fit` and :func:`run_forward` call one method of the model contract
(:mod:`stockopt.models._base`) on blocks of series (:mod:`stockopt._exec`) and join the blocks'
results in series order, so the result does not depend on ``n_jobs``.  Models that declare
exogenous columns (``Model.uses_extra``) receive those columns of each block.
:func:`finalise` gives series a model could not fit their historic mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stockopt._exec import SeriesBlock, map_series
from stockopt._rules import MAX_QUANTITY
from stockopt.data import GroupedSeries, take_series
from stockopt.errors import MissingColumnError, raise_error, warn_fallback
from stockopt.models._base import (
    ForecastResult,
    Model,
    Params,
    concat_params,
    take_params,
    with_params,
    without_fitted,
)

__all__ = [
    "run_model",
    "run_fit",
    "run_forward",
    "concat_results",
    "historic_fallback",
    "series_var",
    "finalise",
    "prepare",
]


def prepare(model: Model, *, nonnegative: bool = True) -> Model:
    """The model as the forecasting API runs it: without in-sample fitted values (never read) and,
    for ``nonnegative=False``, without any clipping of its own (the forecast-level option wins).

    The caller's object is left untouched (a shallow copy is made when something changes), so the
    same model object can be shared by threads.
    """
    model = without_fitted(model)
    if not nonnegative and getattr(model, "nonnegative", False) is not False:
        model = with_params(model, nonnegative=False)
    return model


def _check_extra(model: Model, extra: Mapping[str, np.ndarray] | None) -> None:
    """Refuse to run a model without the extra columns it declares."""
    missing = [c for c in model.uses_extra if c not in (extra or {})]
    if missing:
        raise_error(MissingColumnError, f"{model.name} reads extra columns the series do not carry",
                    table="sales", column=missing[0],
                    expected=f"the columns {list(model.uses_extra)} (group_series extra_cols=...)",
                    got=sorted(extra or {}))


def _extra_kw(model: Model, block: SeriesBlock) -> dict[str, Any]:
    """``{"extra": ...}`` with the block's columns a model declares it uses; empty for the others."""
    if not model.uses_extra:
        return {}
    return {"extra": {k: block.extra[k] for k in model.uses_extra}}


def run_model(model: Model, values: np.ndarray, indptr: np.ndarray, h: int, n_jobs: int = 1, *,
              extra: Mapping[str, np.ndarray] | None = None) -> ForecastResult:
    """:meth:`Model.forecast_arrays` over all series of ``(values, indptr)``, in blocks over ``n_jobs``.

    The result does not depend on ``n_jobs``: every series is fitted on its own and blocks are
    concatenated in series order.  ``extra`` holds the columns aligned with ``values``
    (:attr:`GroupedSeries.extra`) that models declaring ``uses_extra`` receive.
    """
    _check_extra(model, extra)
    blocks, parts = map_series(lambda b: model.forecast_arrays(b.values, b.indptr, h, **_extra_kw(model, b)),
                               values, indptr, n_jobs, extra=extra)
    return parts[0] if len(parts) == 1 else concat_results(parts, blocks)


def run_fit(model: Model, values: np.ndarray, indptr: np.ndarray, h: int, n_jobs: int = 1, *,
            extra: Mapping[str, np.ndarray] | None = None) -> tuple[ForecastResult, Params]:
    """:meth:`Model.fit_arrays` over all series, in blocks like :func:`run_model`.

    The forecasts are :func:`run_model`'s; the parameter record has one row per series.
    """
    _check_extra(model, extra)
    blocks, parts = map_series(lambda b: model.fit_arrays(b.values, b.indptr, h, **_extra_kw(model, b)),
                               values, indptr, n_jobs, extra=extra)
    if len(parts) == 1:
        return parts[0]
    return concat_results([r for r, _ in parts], blocks), concat_params([p for _, p in parts])


def run_forward(model: Model, values: np.ndarray, indptr: np.ndarray, h: int, params: Params, n_jobs: int = 1,
                *, extra: Mapping[str, np.ndarray] | None = None) -> ForecastResult:
    """:meth:`Model.forward_arrays` over all series (``params``: one row per series), in blocks."""
    _check_extra(model, extra)

    def call(b: SeriesBlock) -> ForecastResult:
        block_params = params if (b.start, b.stop) == (0, indptr.shape[0] - 1) else \
            take_params(params, slice(b.start, b.stop))
        return model.forward_arrays(b.values, b.indptr, h, block_params, **_extra_kw(model, b))

    blocks, parts = map_series(call, values, indptr, n_jobs, extra=extra)
    return parts[0] if len(parts) == 1 else concat_results(parts, blocks)


def concat_results(parts: list[ForecastResult], blocks: list[SeriesBlock]) -> ForecastResult:
    """Join per-block results in series order; fitted values (aligned with each block's values) too."""
    first = parts[0]
    fitted = None
    n_values = sum(b.values.shape[0] for b in blocks)
    if all(p.fitted is not None and p.fitted.shape[0] == b.values.shape[0] for p, b in zip(parts, blocks)):
        fitted = np.full(n_values, np.nan)
        for p, b in zip(parts, blocks):
            fitted[b.offset:b.offset + b.values.shape[0]] = p.fitted
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


def historic_fallback(values: np.ndarray, indptr: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of each series' history (zeros for an empty series), shape (n, h)."""
    lengths = np.diff(indptr)
    sums = np.add.reduceat(values, indptr[:-1]) if values.size else np.zeros(lengths.shape)
    sums = np.where(lengths > 0, sums, 0.0)
    mean = sums / np.maximum(lengths, 1)
    dev = values - np.repeat(mean, lengths)
    ss = np.add.reduceat(dev * dev, indptr[:-1]) if values.size else np.zeros(lengths.shape)
    var = np.where(lengths > 1, np.where(lengths > 0, ss, 0.0) / np.maximum(lengths - 1, 1), 0.0)
    return np.repeat(mean[:, None], h, axis=1), np.repeat(var[:, None], h, axis=1)


def series_var(grouped: GroupedSeries, rows: np.ndarray, h: int) -> np.ndarray:
    """Historic variance of the given series, repeated over ``h`` steps (0 for one value)."""
    return historic_fallback(*take_series(grouped.values, grouped.indptr, rows), h)[1]


def finalise(model: Model, res: ForecastResult, values: np.ndarray, indptr: np.ndarray,
             h: int) -> tuple[ForecastResult, int]:
    """Replace the forecasts of series a model could not fit by their historic mean; count them.

    A series "could not be fitted" when a forecast is NaN, infinite or beyond the largest quantity
    stockopt accepts (:data:`stockopt._rules.MAX_QUANTITY`, e.g. an exploding multiplicative
    trend), so every forecast the API returns is finite and in range.
    """
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(res.mean) <= MAX_QUANTITY).all(axis=1)  # NaN compares False
    n_bad = int(bad.sum())
    if n_bad:
        idx = np.flatnonzero(bad)
        fb_mean, fb_var = historic_fallback(*take_series(values, indptr, idx), h)
        res.mean[idx] = fb_mean
        if res.var is not None:
            res.var[idx] = fb_var
        warn_fallback(f"{model.name}: {n_bad} series could not be fitted (too short or failed); "
                      "their forecast is the historic mean")
    return res, n_bad
