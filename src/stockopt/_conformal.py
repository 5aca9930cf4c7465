"""Prediction intervals and quantiles: from a model's distribution, or split-conformal from backtests.

Output naming follows statsforecast: ``<Model>-lo-<L>`` / ``<Model>-hi-<L>`` for each level ``L`` in
percent, plus ``<Model>-q<P>`` for each requested quantile, ``P`` in percent.  A model with an
analytic forecast-error variance gives its bounds from its predictive distribution; the others
get split-conformal bounds from their absolute errors over the last backtest windows (Vovk,
Gammerman & Shafer 2005; Angelopoulos & Bates 2023).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

import numpy as np

from stockopt._runner import run_model
from stockopt.data import GroupedSeries, series_index
from stockopt.models._base import ForecastResult, Model
from stockopt.models._distributions import quantiles as dist_quantiles

__all__ = ["level_name", "quantile_name", "interval_columns", "conformal_bound", "conformal_scores"]


def _decimal(x: float, scale: int = 1) -> str:
    """``x * scale`` written exactly from the shortest decimal form of ``x`` (no rounding, no exponent),
    so that distinct numbers always give distinct column names."""
    d = Decimal(repr(float(x))) * scale
    return format(d.normalize(), "f")


def level_name(model: str, side: str, level: float) -> str:
    """Column name of a prediction-interval bound, e.g. ``AutoETS-lo-80``.

    Examples
    --------
    >>> level_name("M", "hi", 80), level_name("M", "lo", 99.5), level_name("M", "hi", 80.1234561)
    ('M-hi-80', 'M-lo-99.5', 'M-hi-80.1234561')
    """
    return f"{model}-{side}-{_decimal(level)}"


def quantile_name(model: str, q: float) -> str:
    """Column name of a quantile forecast, e.g. ``AutoETS-q95`` for ``q=0.95``; the percentage is
    written exactly, so distinct quantiles never share a column.

    Examples
    --------
    >>> quantile_name("M", 0.95), quantile_name("M", 0.025), quantile_name("M", 0.1234561)
    ('M-q95', 'M-q2.5', 'M-q12.34561')
    """
    return f"{model}-q{_decimal(q, 100)}"


def interval_columns(
    name: str, res: ForecastResult, levels: list[float], qs: list[float], conformal: np.ndarray | None,
    nonnegative: bool, fallback_var: Callable[[np.ndarray], np.ndarray] | None = None,
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
        dists = res.dist if isinstance(res.dist, np.ndarray) else \
            np.full(res.mean.shape[0], res.dist, dtype=object)
        has_var = np.isfinite(res.var).all(axis=1)
        for d in {d for d in dists if d is not None}:
            rows = np.flatnonzero((dists == d) & has_var)
            if rows.size:
                table[rows] = dist_quantiles(res.mean[rows], res.var[rows], d, plist)
    missing = ~np.isfinite(table).all(axis=(1, 2)) if table.size else np.zeros(res.mean.shape[0], dtype=bool)
    if missing.any() and conformal is not None:
        for j, p in enumerate(plist):
            table[missing, :, j] = conformal_bound(res.mean[missing], conformal[:, missing], p)
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


def conformal_bound(mean: np.ndarray, scores: np.ndarray, p: float) -> np.ndarray:
    """Split-conformal bound at probability ``p`` from absolute backtest errors.

    ``scores`` has shape (n_windows, n_series, h).  A central interval of coverage ``c = |2p - 1|``
    uses the ``ceil((n + 1) c) / n`` empirical quantile of the scores (Vovk, Gammerman & Shafer
    2005; Angelopoulos & Bates 2023), capped at the largest score when too few windows exist.

    Examples
    --------
    >>> scores = np.array([1.0, 2.0, 3.0, 4.0]).reshape(4, 1, 1)
    >>> conformal_bound(np.array([[10.0]]), scores, 0.9).tolist()  # ceil(5 * 0.8) = 4th smallest
    [[14.0]]
    """
    if p == 0.5:
        return mean.copy()
    c = abs(2 * p - 1)
    n = scores.shape[0]
    k = min(int(np.ceil((n + 1) * c)), n)
    srt = np.sort(scores, axis=0)  # NaN last
    q = srt[k - 1]
    return mean + np.sign(p - 0.5) * q


def conformal_scores(model: Model, grouped: GroupedSeries, h: int, n_windows: int, n_jobs: int,
                     extra: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Absolute errors of ``model`` on the last ``n_windows`` windows of ``h`` periods of each series.

    Returns shape (n_windows, n_series, h); NaN where a series is too short for a window.
    """
    lengths = grouped.lengths
    scores = np.full((n_windows, grouped.n_series, h), np.nan)
    for w in range(n_windows):
        train_len = lengths - h * (w + 1)
        ok = train_len >= max(model.min_length, 1)
        if not ok.any():
            continue
        idx = np.flatnonzero(ok)
        tl = train_len[idx]
        src, ptr = series_index(grouped.indptr, idx, tl)
        sub_extra = {k: v[src] for k, v in extra.items()} if extra else None
        res = run_model(model, np.ascontiguousarray(grouped.values[src]), ptr, h, n_jobs, extra=sub_extra)
        actual_idx = grouped.indptr[idx][:, None] + tl[:, None] + np.arange(h)[None, :]
        scores[w, idx] = np.abs(grouped.values[actual_idx] - res.mean)
    return scores
