"""``forecast`` with demand signals: the entry point :func:`stockopt.forecast` delegates to when it is
given ``censored=`` (stockout-censored sales) or ``X_future=`` (drivers over the horizon)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from stockopt.errors import ParameterError, raise_error
from stockopt.models import Model, resolve_models
from stockopt.signals._common import as_grouped, censor_mask
from stockopt.signals.censored import forecast_censored

__all__ = ["forecast_signals"]


def forecast_signals(
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
    censored: str | None = None,
    X_future: Any = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
    return_stats: bool = False,
) -> pa.Table | tuple[pa.Table, dict[str, Any]]:
    """:func:`stockopt.forecast` of demand from censored sales (and, later, drivers); same arguments.

    ``censored`` names an in-stock flag (False = stocked out) or an ``on_hand`` column of
    ``sales``; see :mod:`stockopt.signals.censored` for how every model is then fitted to demand.
    With ``return_stats`` the run statistics (per model, plus the ``"censored"`` counts) come too.
    """
    from stockopt.forecasting import _check_levels

    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise_error(ParameterError, "bad forecast horizon", column="h", expected="an integer >= 1", got=h)
    if n_jobs < 1:
        raise_error(ParameterError, "bad n_jobs", column="n_jobs", expected="an integer >= 1", got=n_jobs)
    if X_future is not None:
        raise_error(ParameterError, "X_future needs the drivers module", column="X_future",
                    expected="None (drivers are not available in this build)")
    if censored is None:
        raise_error(ParameterError, "nothing to do", column="censored", expected="a censoring column name")
    levels, qs = _check_levels(level, quantiles)
    grouped = as_grouped(sales, freq, (censored,), id_col=id_col, time_col=time_col, target_col=target_col,
                         missing=missing, fill_gaps=fill_gaps)
    sl = season_length or grouped.freq.season_length
    out = censor_mask(grouped, censored)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        table, stats = forecast_censored(grouped, out, int(h), resolve_models(models, sl), levels, qs, n_jobs,
                                         nonnegative=nonnegative, conformal_windows=conformal_windows)
    return (table, stats) if return_stats else table
