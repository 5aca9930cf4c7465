"""The contract between forecasting models and the forecasting API.

A model is a small object that stores its hyper-parameters (scikit-learn style: the constructor only
stores, nothing is fitted there) and knows how to run its compiled kernel over grouped arrays::

    result = model.forecast_arrays(values, indptr, h)

``values`` is a contiguous ``float64`` array holding every series back to back and ``indptr`` the
``int64`` offsets (series ``i`` is ``values[indptr[i]:indptr[i + 1]]``).  ``indptr`` may be a slice
of a larger offsets array (``indptr[0]`` need not be 0): the API layer splits series over threads
that way, so kernels must always index ``values`` through ``indptr``.  Kernels are single-threaded,
release the GIL (``nogil=True``) and never raise for data reasons; they report a status per series.

Backtests that do not refit (``cross_validation(refit=False)``) use a second, optional pair::

    result, params = model.fit_arrays(values, indptr, h)         # fit + forecast, keep parameters
    result = model.forward_arrays(values2, indptr2, h, params)   # frozen parameters, new history

``params`` is a :data:`Params` record: a dict of NumPy arrays with one row per series, including
the boolean ``"fitted"`` (the series has parameters to forward).  ``forward_mode`` says what forward
does: ``"none"`` (the model estimates nothing, forward is forecasting), ``"frozen"`` (estimated
parameters are kept and only the states are run over the new history) or ``"refit"`` (the model
re-estimates; the default for models that do not implement forward).

Exogenous columns (promotions, prices, stock flags ...).  A model that reads extra columns of the
sales table names them in the class attribute ``uses_extra`` (default: none).  The API then reads
those columns with the sales (:func:`stockopt.group_series` ``extra_cols``; a missing one is a
:class:`~stockopt.errors.MissingColumnError`) and passes them to the model's three methods as
the keyword ``extra``: a dict from column name to an array aligned with ``values`` (read through
the same ``indptr``; bools for flags, float64 otherwise, gaps carried forward), cut exactly like
``values`` for every block of series, backtest window and conformal window::

    result = model.forecast_arrays(values, indptr, h, extra={"on_promotion": flags})

Models that declare nothing are called without ``extra``, so existing models need no change.
Values of the regressors over the forecast horizon are not part of the contract yet.

Clipping.  Models that forecast demand take ``nonnegative``: clip the point forecast at 0 before
intervals are built from it.  At the API level, ``forecast(nonnegative=True)`` (the default) clips
every output column at 0 whatever the model does; ``forecast(nonnegative=False)`` runs every model
with ``nonnegative=False``, so no output is clipped anywhere: the forecast-level option wins.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

#: per-series parameter record of :meth:`Model.fit_arrays`: arrays whose first axis is the series
Params = dict[str, np.ndarray]


@dataclass
class ForecastResult:
    """What a model returns for a block of ``n`` series and horizon ``h``.

    Attributes
    ----------
    mean : ndarray, shape (n, h)
        Point forecasts (the mean of the predictive distribution), in the units of ``values``.
    var : ndarray of shape (n, h) or None
        Model-based variance of the ``k``-step-ahead forecast error, or ``None`` when the model has
        no analytic variance; the API then builds conformal intervals from backtest residuals.
    status : ndarray of int8, shape (n,)
        One of the ``STATUS_*`` codes per series.
    fitted : ndarray of shape (len(values),) or None
        One-step-ahead in-sample fitted values aligned with ``values`` (NaN where undefined).
    dist : str
        Family of the predictive distribution: ``"normal"`` (mean, var) or ``"negbin"`` (mean, var
        with var >= mean) or ``"empirical"``.
    info : dict
        Extra per-series arrays (selected model code, parameters, log-likelihood, AICc ...).
    """

    mean: np.ndarray
    var: np.ndarray | None
    status: np.ndarray
    fitted: np.ndarray | None = None
    dist: str = "normal"
    info: dict[str, np.ndarray] = field(default_factory=dict)


class Model(ABC):
    """Base class of every forecasting model.

    Subclasses set ``_name`` (the default output column, statsforecast's name for the same model)
    and ``min_length`` (the fewest observations a series needs), store their hyper-parameters in
    ``__init__`` and implement :meth:`forecast_arrays`.
    """

    _name: ClassVar[str] = "Model"
    #: fewest observations a series needs for this model (shorter ones get STATUS_TOO_SHORT)
    min_length: int = 1
    #: what :meth:`forward_arrays` does: "none" (nothing is estimated: forward is forecasting),
    #: "frozen" (estimated parameters are reused) or "refit" (parameters are re-estimated)
    forward_mode: ClassVar[Literal["none", "frozen", "refit"]] = "refit"
    #: names of the extra (exogenous) columns the model reads; each method then takes ``extra=``
    uses_extra: ClassVar[tuple[str, ...]] = ()

    def __init__(self, alias: str | None = None) -> None:
        self.alias = alias

    @property
    def name(self) -> str:
        """Column name of this model's forecasts in output tables."""
        return self.alias or self._name

    @abstractmethod
    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        """Fit every series in ``(values, indptr)`` and forecast ``h`` periods ahead."""

    def fit_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> tuple[ForecastResult, Params]:
        """Fit every series, forecast ``h`` periods ahead and return the fitted parameters.

        The forecast is exactly :meth:`forecast_arrays`'s.  The default (models with nothing to
        freeze) returns a record whose only field ``"fitted"`` is all False.

        Returns
        -------
        (ForecastResult, Params)
            The forecasts and a :data:`Params` record with one row per series.
        """
        res = self.forecast_arrays(values, indptr, h)
        return res, {"fitted": np.zeros(res.mean.shape[0], dtype=bool)}

    def forward_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int, params: Params) -> ForecastResult:
        """Forecast with the parameters of an earlier :meth:`fit_arrays`, run over a new history.

        ``params`` holds the rows of the series of ``(values, indptr)``, in the same order, all with
        ``params["fitted"]`` True.  The default forecasts afresh (``forward_mode`` ``"none"`` or
        ``"refit"``).
        """
        return self.forecast_arrays(values, indptr, h)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


def with_params(model: Model, **changes: Any) -> Model:
    """``model``, or a shallow copy of it with the given hyper-parameters changed.

    Only attributes the model has and whose value differs are changed; when none does, the
    model itself is returned.  The caller's object is never modified (safe to share across threads).

    Examples
    --------
    >>> from stockopt.models import Naive
    >>> m = Naive()
    >>> with_params(m, nonnegative=False).nonnegative, m.nonnegative, with_params(m, nonnegative=True) is m
    (False, True, True)
    """
    todo = {k: v for k, v in changes.items() if hasattr(model, k) and getattr(model, k) != v}
    if not todo:
        return model
    clone = copy.copy(model)
    for k, v in todo.items():
        setattr(clone, k, v)
    return clone


def without_fitted(model: Model) -> Model:
    """``model``, or a shallow copy of it that skips in-sample fitted values when it can.

    The forecasting API never reads fitted values, and computing them costs a full array and a
    pass per model; the caller's object is left untouched (thread-safe).
    """
    if getattr(model, "fitted", False) is True:
        return with_params(model, fitted=False)
    return model


def take_params(params: Params, rows: np.ndarray) -> Params:
    """The rows ``rows`` (indices or a boolean mask over series) of every field of ``params``."""
    return {k: v[rows] for k, v in params.items()}


def put_params(store: Params | None, n_series: int, rows: np.ndarray, params: Params) -> Params:
    """Write ``params`` (one row per entry of ``rows``) into ``store`` (``n_series`` rows).

    ``store`` is created on first use: float fields start as NaN, the others as zeros (so
    ``"fitted"`` starts False).  Returns the store.
    """
    if store is None:
        store = {}
    for key, val in params.items():
        if key not in store:
            fill = np.nan if np.issubdtype(val.dtype, np.floating) else 0
            store[key] = np.full((n_series,) + val.shape[1:], fill, dtype=val.dtype)
        store[key][rows] = val
    return store


def concat_params(parts: list[Params]) -> Params:
    """Join the parameter records of consecutive blocks of series (series order kept)."""
    keys = [k for k in parts[0] if all(k in p for p in parts)]
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}
