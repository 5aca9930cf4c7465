"""Sample paths of future demand (``so.simulate``), the input of simulation-based inventory work."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._arrow import days_to_time
from stockopt._conformal import conformal_scores
from stockopt._kernels.codes import DIST_NEGBIN, DIST_NORMAL, DIST_POISSON
from stockopt._kernels.forecast.paths import seeds_from_bytes, simulate_paths
from stockopt._params import Integer, validate_params
from stockopt._runner import finalise, prepare, run_model, series_var
from stockopt.data import as_grouped
from stockopt.forecasting import FORECAST_PARAMS, extra_columns
from stockopt.models import MODEL_SPEC, resolve_models
from stockopt.models._base import Model

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


_SIM_PARAMS = {k: v for k, v in FORECAST_PARAMS.items() if k not in ("models", "level", "quantiles")}


@validate_params({**_SIM_PARAMS, "model": MODEL_SPEC,
                  "n_paths": Integer(1), "seed": Integer(0)})
def simulate(
    sales: Any,
    h: int,
    *,
    freq: str | None = None,
    model: Model | str = "auto",
    n_paths: int = 100,
    seed: int = 0,
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
) -> pa.Table:
    """Draw ``n_paths`` sample paths of the next ``h`` periods of every series.

    Paths follow the model's predictive distribution: normal models (ETS, Theta, naive family) with
    errors accumulating as independent increments whose variances give each step the model's
    analytic variance; intermittent models (Croston family, TSB, ADIDA, IMAPA) with independent
    negative-binomial (gamma-Poisson) demand per period.  Models without a model-based variance
    use the conformal (backtest) error spread as a normal variance.

    Parameters
    ----------
    sales, h, freq, season_length, n_jobs, id_col, time_col, target_col, missing, fill_gaps, allow_negative
        As in :func:`stockopt.forecast`.
    model : Model or str
        One model (default ``"auto"``).
    n_paths : int
        Paths per series (>= 1).
    seed : int
        Seed (>= 0); each series' paths depend only on it and the series id, whatever ``n_jobs``
        is and whichever other series are in the table.
    nonnegative : bool
        Clip normal draws at 0 (demand cannot be negative); this raises the paths' mean slightly
        where the forecast is near zero.  ``False`` also runs the model without clipping its
        point forecast (as in :func:`stockopt.forecast`).
    conformal_windows : int
        Backtest windows whose error spread stands in for the variance of models without a
        model-based one (>= 1).

    Returns
    -------
    pyarrow.Table
        ``unique_id, ds, sample_id, value`` (``sample_id`` 0..n_paths-1), series in id order, then
        sample, then date; ``n_series * n_paths * h`` rows.

    References
    ----------
    Hyndman, R. J. & Athanasopoulos, G. (2021), *Forecasting: Principles and Practice*, 3rd ed.,
    section 5.5 (prediction intervals from bootstrapped or simulated future sample paths).

    Examples
    --------
    >>> import datetime as dt
    >>> import pyarrow as pa
    >>> sales = pa.table({"unique_id": ["a"] * 5, "ds": [dt.date(2024, 1, d) for d in range(1, 6)],
    ...                   "y": [3.0, 5.0, 4.0, 6.0, 5.0]})
    >>> paths = simulate(sales, 3, model="naive", n_paths=4, seed=1)
    >>> paths.num_rows, paths.column_names
    (12, ['unique_id', 'ds', 'sample_id', 'value'])
    >>> paths.equals(simulate(sales, 3, model="naive", n_paths=4, seed=1))  # same seed, same paths
    True
    """
    grouped = as_grouped(sales, freq=freq, id_col=id_col, time_col=time_col, target_col=target_col,
                         missing=missing, fill_gaps=fill_gaps, allow_negative=allow_negative,
                         extra_cols=extra_columns(model))
    sl = season_length if season_length is not None else grouped.freq.season_length
    m = prepare(resolve_models([model], season_length=sl)[0], nonnegative=nonnegative)
    res = run_model(m, grouped.values, grouped.indptr, int(h), n_jobs, extra=grouped.extra)
    res, _ = finalise(m, res, grouped.values, grouped.indptr, int(h))
    n = grouped.n_series
    var = np.full((n, h), np.nan) if res.var is None else res.var.copy()
    dists = res.dist if isinstance(res.dist, np.ndarray) else np.full(n, res.dist, dtype=object)
    missing_var = ~np.isfinite(var).all(axis=1)
    if missing_var.any():
        scores = conformal_scores(m, grouped, int(h), conformal_windows, n_jobs, extra=grouped.extra)
        # a central 68.3 % conformal half-width stands in for one standard deviation
        half = np.sort(scores, axis=0)[-1]
        var[missing_var] = half[missing_var] ** 2
        no_window = np.flatnonzero(~np.isfinite(var).all(axis=1))
        if no_window.size:  # too short for any backtest window: the series' historic variance
            var[no_window] = series_var(grouped, no_window, int(h))
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
