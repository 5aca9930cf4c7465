"""Sample paths of future demand (``so.simulate``), the input of simulation-based inventory work."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._arrow import days_to_time
from stockopt._kernels.codes import DIST_NEGBIN, DIST_NORMAL, DIST_POISSON
from stockopt._kernels.forecast.paths import seeds_from_bytes, simulate_paths
from stockopt.errors import ParameterError, raise_error
from stockopt.forecasting import _as_grouped, _conformal_scores, _finalise, _series_var, run_model
from stockopt.models import resolve_models
from stockopt.models._base import Model, without_fitted

__all__ = ["simulate"]

_CODES = {"normal": DIST_NORMAL, "negbin": DIST_NEGBIN, "poisson": DIST_POISSON}


def series_seeds(ids: pa.Array, seed: int) -> np.ndarray:
    """A 32-bit seed per series from the run's seed and the series id's text (so independent of
    partitioning and of the other series in the table)."""
    text = ids.cast(pa.string()) if not pa.types.is_string(ids.type) else ids
    text = pa.concat_arrays([text]) if isinstance(text, pa.Array) else text.combine_chunks()
    bufs = text.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=len(text) + 1, offset=text.offset * 4)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    out = np.empty(len(text), dtype=np.uint32)
    seeds_from_bytes(offsets.astype(np.int64), data, np.uint64(seed & 0xFFFFFFFFFFFFFFFF), out)
    return out


def simulate(
    sales: Any,
    h: int,
    freq: str | None = None,
    model: Model | str = "auto",
    n_paths: int = 100,
    seed: int = 0,
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
    """Draw ``n_paths`` sample paths of the next ``h`` periods of every series.

    Paths follow the model's predictive distribution: normal models (ETS, Theta, naive family) with
    errors accumulating as independent increments whose variances give each step the model's
    analytic variance; intermittent models (Croston family, TSB, ADIDA, IMAPA) with independent
    negative-binomial (gamma-Poisson) demand per period.  Models without a model-based variance
    use the conformal (backtest) error spread as a normal variance.

    Parameters
    ----------
    sales, h, freq, season_length, id_col, time_col, target_col, missing, fill_gaps
        As in :func:`stockopt.forecast`.
    model : Model or str
        One model (default ``"auto"``).
    n_paths : int
        Paths per series.
    seed : int
        Seed; each series' paths depend only on it and the series id, whatever ``n_jobs`` is and
        whichever other series are in the table.
    nonnegative : bool
        Clip normal draws at 0 (demand cannot be negative); this raises the paths' mean slightly
        where the forecast is near zero.

    Returns
    -------
    pyarrow.Table
        ``unique_id, ds, sample_id, value`` (``sample_id`` 0..n_paths-1), series in id order, then
        sample, then date; ``n_series * n_paths * h`` rows.
    """
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise_error(ParameterError, "bad forecast horizon", column="h", expected="an integer >= 1", got=h)
    if n_paths < 1:
        raise_error(ParameterError, "bad number of paths", column="n_paths", expected="an integer >= 1", got=n_paths)
    grouped = _as_grouped(sales, freq, dict(id_col=id_col, time_col=time_col, target_col=target_col,
                                            missing=missing, fill_gaps=fill_gaps))
    sl = season_length or grouped.freq.season_length
    m = without_fitted(resolve_models([model], sl)[0])
    res = run_model(m, grouped.values, grouped.indptr, int(h), n_jobs)
    res, _ = _finalise(m, res, grouped.values, grouped.indptr, int(h))
    n = grouped.n_series
    var = np.full((n, h), np.nan) if res.var is None else res.var.copy()
    dists = res.dist if isinstance(res.dist, np.ndarray) else np.full(n, res.dist, dtype=object)
    missing_var = ~np.isfinite(var).all(axis=1)
    if missing_var.any():
        scores = _conformal_scores(m, grouped, int(h), 2, n_jobs)
        # a central 68.3 % conformal half-width stands in for one standard deviation
        half = np.sort(scores, axis=0)[-1]
        var[missing_var] = half[missing_var] ** 2
        no_window = np.flatnonzero(~np.isfinite(var).all(axis=1))
        if no_window.size:  # too short for any backtest window: the series' historic variance
            var[no_window] = _series_var(grouped, no_window, int(h))
        dists = dists.copy()
        dists[missing_var] = "normal"
    codes = np.array([_CODES.get(d, DIST_NORMAL) for d in dists], dtype=np.int8)
    out = np.empty((n, n_paths, h), dtype=np.float64)
    simulate_paths(np.ascontiguousarray(res.mean), np.ascontiguousarray(var), codes,
                   series_seeds(grouped.ids, seed), nonnegative, out)
    rows_series = np.repeat(np.arange(n, dtype=np.int64), n_paths * h)
    dates = grouped.freq.to_days(grouped.future_periods(int(h)))  # (n, h)
    ds = np.broadcast_to(dates[:, None, :], (n, n_paths, h)).ravel()
    sample = np.broadcast_to(np.arange(n_paths, dtype=np.int32)[None, :, None], (n, n_paths, h)).ravel()
    return pa.table({
        grouped.id_col: grouped._id_column(rows_series),
        grouped.time_col: days_to_time(ds, grouped.time_type),
        "sample_id": pa.array(sample),
        "value": pa.array(out.ravel()),
    })
