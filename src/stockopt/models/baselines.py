"""Baseline models and simple exponential smoothing, over many series per call.

Names, parameters and point forecasts are statsforecast's (``Naive``, ``SeasonalNaive``,
``HistoricAverage``, ``WindowAverage``, ``SeasonalWindowAverage``, ``SES``, ``SESOpt``) so a user can
switch libraries without changing results.  Unlike statsforecast, each model also returns an
analytic forecast-error variance where one exists (see :mod:`stockopt._kernels.forecast.baselines` and
:mod:`stockopt._kernels.forecast.smoothing` for the formulas) and fits every series of a block in one compiled
call.

References
----------
Hyndman, R. J. & Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*, 3rd ed., OTexts,
sections 5.2 (simple methods), 5.5 (their prediction intervals) and 8.1 / 8.7 (SES, ETS(A,N,N)).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from stockopt._kernels.codes import STATUS_FAILED, STATUS_OK
from stockopt._kernels.forecast import baselines as _kb
from stockopt._kernels.forecast import ses_many as _ks
from stockopt.errors import ParameterError, raise_error
from stockopt.models._base import ForecastResult, Model, Params

__all__ = [
    "Naive",
    "SeasonalNaive",
    "HistoricAverage",
    "WindowAverage",
    "SeasonalWindowAverage",
    "SimpleExponentialSmoothing",
    "SimpleExponentialSmoothingOptimized",
    "check_block",
]


def check_block(
    values: np.ndarray, indptr: np.ndarray, h: int, *, model: str,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Check and normalise a block ``(values, indptr, h)`` before a kernel call.

    Returns contiguous ``float64`` values, ``int64`` indptr and ``h`` as an ``int``; raises
    :class:`~stockopt.errors.ParameterError` for a bad horizon or malformed offsets.
    """
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise_error(
            ParameterError,
            "bad argument",
            table=model,
            parameter="h",
            expected="an integer h >= 1",
            got=h,
        )
    values = np.ascontiguousarray(values, dtype=np.float64)
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    if values.ndim != 1 or indptr.ndim != 1 or indptr.shape[0] < 1:
        raise_error(
            ParameterError,
            f"bad grouped arrays for {model}",
            expected="1-D values and 1-D indptr with at least one entry",
            got=(values.shape, indptr.shape),
        )
    if indptr.shape[0] > 1:
        steps = np.diff(indptr)
        if indptr[0] < 0 or indptr[-1] > values.shape[0] or (steps < 0).any():
            raise_error(
                ParameterError,
                "bad argument",
                table=model,
                parameter="indptr",
                expected=f"non-decreasing offsets within [0, {values.shape[0]}]",
                got=(int(indptr[0]), int(indptr[-1])),
            )
    return values, indptr, int(h)


def _check_int(value: int, name: str, model: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise_error(
            ParameterError,
            "bad argument",
            table=model,
            parameter=name,
            expected=f"an integer >= {minimum}",
            got=value,
        )
    return int(value)


def _check_alpha(value: float, name: str, model: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (0.0 <= v <= 1.0):
        raise_error(
            ParameterError, "bad argument", table=model, parameter=name, expected="a number in [0, 1]",
            got=value,
        )
    return v


def _outputs(
    n_series: int, h: int, n_values: int, fitted: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    mean = np.empty((n_series, h))
    var = np.empty((n_series, h))
    fit = np.full(n_values, np.nan) if fitted else np.empty(0)
    status = np.empty(n_series, dtype=np.int8)
    return mean, var, fit, status


def _clip(mean: np.ndarray, nonnegative: bool, status: np.ndarray) -> np.ndarray:
    """Clip forecasts at 0 if asked; a fitted series with a non-finite forecast (NaN or inf in its
    data) is marked failed."""
    if mean.shape[0] and mean.shape[1]:
        bad = (status == STATUS_OK) & ~np.isfinite(mean).all(axis=1)
        status[bad] = STATUS_FAILED
    if nonnegative:
        np.maximum(mean, 0.0, out=mean)  # NaN stays NaN
    return mean


class _Baseline(Model):
    #: nothing estimated: forward is forecasting (SESOpt overrides)
    forward_mode: ClassVar[Literal["none", "frozen", "refit"]] = "none"

    def __init__(self, alias: str | None = None, *, nonnegative: bool = True, fitted: bool = True) -> None:
        super().__init__(alias)
        self.nonnegative = nonnegative
        self.fitted = fitted


class Naive(_Baseline):
    """Naive forecast: the last observation, repeated.

    The forecast-error variance is the random walk's, ``sigma^2 * k`` for ``k`` periods ahead, with
    ``sigma^2`` the mean squared first difference over ``n - 1`` differences (units of ``y`` squared).
    Hyndman & Athanasopoulos (2021), *FPP3*, section 5.2 / 5.5.

    Parameters
    ----------
    alias : str, optional
        Output column name (default ``"Naive"``).
    nonnegative : bool
        Clip point forecasts at 0 (demand cannot be negative).
    fitted : bool
        Also return the one-step in-sample fitted values.

    Examples
    --------
    >>> import numpy as np
    >>> res = Naive().forecast_arrays(np.array([1.0, 3.0, 2.0]), np.array([0, 3]), h=2)
    >>> res.mean.tolist(), res.var.tolist()
    ([[2.0, 2.0]], [[2.5, 5.0]])
    """

    _name: ClassVar[str] = "Naive"
    min_length = 1

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        n = indptr.shape[0] - 1
        mean, var, fit, status = _outputs(n, h, values.shape[0], self.fitted)
        _kb.naive_block(values, indptr, h, mean, var, fit, self.fitted, status)
        return ForecastResult(
            _clip(mean, self.nonnegative, status), var, status, fit if self.fitted else None, "normal",
        )


class SeasonalNaive(_Baseline):
    """Seasonal naive forecast: the value of the same season in the last observed cycle.

    Variance ``sigma^2 * (floor((k - 1) / m) + 1)``, ``sigma^2`` the mean squared seasonal difference
    over ``n - m`` differences.  Series shorter than ``season_length`` get status "too short" (NaN).
    Hyndman & Athanasopoulos (2021), *FPP3*, section 5.2 / 5.5.

    Parameters
    ----------
    season_length : int
        Periods per season ``m`` (7 for daily data with a weekly cycle).
    alias, nonnegative, fitted
        As for :class:`Naive`.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 2.0, 3.0, 2.0, 3.0, 4.0])
    >>> SeasonalNaive(3).forecast_arrays(y, np.array([0, 6]), h=4).mean.tolist()
    [[2.0, 3.0, 4.0, 2.0]]
    """

    _name: ClassVar[str] = "SeasonalNaive"

    def __init__(
        self, season_length: int, alias: str | None = None, *, nonnegative: bool = True, fitted: bool = True,
    ) -> None:
        super().__init__(alias, nonnegative=nonnegative, fitted=fitted)
        self.season_length = season_length

    @property
    def min_length(self) -> int:  # type: ignore[override]
        return int(self.season_length)

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        m = _check_int(self.season_length, "season_length", self._name)
        n = indptr.shape[0] - 1
        mean, var, fit, status = _outputs(n, h, values.shape[0], self.fitted)
        _kb.seasonal_naive_block(values, indptr, m, h, mean, var, fit, self.fitted, status)
        return ForecastResult(
            _clip(mean, self.nonnegative, status), var, status, fit if self.fitted else None, "normal",
        )


class HistoricAverage(_Baseline):
    """Mean of the whole history.

    Variance of the forecast error under an i.i.d. model: ``s^2 * (1 + 1/n)`` with ``s^2`` the sample
    variance (ddof 1).  Hyndman & Athanasopoulos (2021), *FPP3*, section 5.2 / 5.5.

    Examples
    --------
    >>> import numpy as np
    >>> res = HistoricAverage().forecast_arrays(np.array([1.0, 2.0, 3.0]), np.array([0, 3]), h=1)
    >>> res.mean.tolist(), round(float(res.var[0, 0]), 6)
    ([[2.0]], 1.333333)
    """

    _name: ClassVar[str] = "HistoricAverage"

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        n = indptr.shape[0] - 1
        mean, var, fit, status = _outputs(n, h, values.shape[0], self.fitted)
        _kb.historic_average_block(values, indptr, h, mean, var, fit, self.fitted, status)
        return ForecastResult(
            _clip(mean, self.nonnegative, status), var, status, fit if self.fitted else None, "normal",
        )


class WindowAverage(Model):
    """Mean of the last ``window_size`` observations (moving average).

    No model-based variance (``var`` is ``None``: the API builds conformal intervals), as in
    statsforecast.  Series shorter than the window are "too short".

    Parameters
    ----------
    window_size : int
        Number of most recent periods averaged.

    Examples
    --------
    >>> import numpy as np
    >>> WindowAverage(2).forecast_arrays(np.array([1.0, 2.0, 4.0]), np.array([0, 3]), h=2).mean.tolist()
    [[3.0, 3.0]]
    """

    _name: ClassVar[str] = "WindowAverage"
    forward_mode: ClassVar[Literal["none", "frozen", "refit"]] = "none"

    def __init__(self, window_size: int, alias: str | None = None, *, nonnegative: bool = True) -> None:
        super().__init__(alias)
        self.window_size = window_size
        self.nonnegative = nonnegative

    @property
    def min_length(self) -> int:  # type: ignore[override]
        return int(self.window_size)

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        w = _check_int(self.window_size, "window_size", self._name)
        n = indptr.shape[0] - 1
        mean = np.empty((n, h))
        status = np.empty(n, dtype=np.int8)
        _kb.window_average_block(values, indptr, 1, w, h, mean, status)
        return ForecastResult(_clip(mean, self.nonnegative, status), None, status, None, "normal")


class SeasonalWindowAverage(Model):
    """Per season position, the mean of that position over the last ``window_size`` cycles.

    No model-based variance (``var`` is ``None``), as in statsforecast.  Series shorter than
    ``season_length * window_size`` are "too short".

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 5.0, 3.0, 7.0])
    >>> SeasonalWindowAverage(2, 2).forecast_arrays(y, np.array([0, 4]), h=3).mean.tolist()
    [[2.0, 6.0, 2.0]]
    """

    _name: ClassVar[str] = "SeasWA"
    forward_mode: ClassVar[Literal["none", "frozen", "refit"]] = "none"

    def __init__(
        self, season_length: int, window_size: int, alias: str | None = None, *, nonnegative: bool = True,
    ) -> None:
        super().__init__(alias)
        self.season_length = season_length
        self.window_size = window_size
        self.nonnegative = nonnegative

    @property
    def min_length(self) -> int:  # type: ignore[override]
        return int(self.season_length) * int(self.window_size)

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        m = _check_int(self.season_length, "season_length", self._name)
        w = _check_int(self.window_size, "window_size", self._name)
        n = indptr.shape[0] - 1
        mean = np.empty((n, h))
        status = np.empty(n, dtype=np.int8)
        _kb.window_average_block(values, indptr, m, w, h, mean, status)
        return ForecastResult(_clip(mean, self.nonnegative, status), None, status, None, "normal")


class SimpleExponentialSmoothing(_Baseline):
    """Simple exponential smoothing with a fixed smoothing constant (Brown 1959).

    The level starts at the first observation and ``l_t = alpha * y_t + (1 - alpha) * l_{t-1}``; the
    forecast is the last level for every horizon.  Variance of the k-step error as ETS(A,N,N)
    (Hyndman et al. 2008, table 6.1): ``sigma^2 * (1 + (k - 1) * alpha^2)`` with ``sigma^2`` the
    in-sample SSE over ``n - 1``.

    Parameters
    ----------
    alpha : float
        Smoothing constant in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> res = SimpleExponentialSmoothing(0.5).forecast_arrays(np.array([2.0, 4.0]), np.array([0, 2]), 1)
    >>> res.mean.tolist()
    [[3.0]]
    """

    _name: ClassVar[str] = "SES"

    def __init__(
        self, alpha: float, alias: str | None = None, *, nonnegative: bool = True, fitted: bool = True,
    ) -> None:
        super().__init__(alias, nonnegative=nonnegative, fitted=fitted)
        self.alpha = alpha

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        a = _check_alpha(self.alpha, "alpha", self._name)
        n = indptr.shape[0] - 1
        return _run_ses(values, indptr, h, np.full(n, a), False, self.fitted, self.nonnegative)


class SimpleExponentialSmoothingOptimized(_Baseline):
    """Simple exponential smoothing with ``alpha`` chosen per series by in-sample SSE.

    Same model as :class:`SimpleExponentialSmoothing`; alpha minimises the sum of squared one-step
    errors on ``[0.01, 0.99]`` like statsforecast's ``SESOpt``, found with a grid pass and a
    safeguarded Newton iteration on the analytic derivative (a handful of passes over the data
    instead of ~55 golden-section steps).  The alpha used is in ``info["alpha"]``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([3.0, 5.0, 4.0, 6.0, 5.0, 7.0, 6.0, 8.0])
    >>> res = SimpleExponentialSmoothingOptimized().forecast_arrays(y, np.array([0, 8]), 1)
    >>> bool(0.01 <= res.info["alpha"][0] <= 0.99)
    True
    """

    _name: ClassVar[str] = "SESOpt"
    forward_mode: ClassVar[Literal["none", "frozen", "refit"]] = "frozen"

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        n = indptr.shape[0] - 1
        return _run_ses(values, indptr, h, np.empty(n), True, self.fitted, self.nonnegative)

    def fit_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> tuple[ForecastResult, Params]:
        """:meth:`forecast_arrays` plus the chosen ``alpha`` per series (``fitted`` where finite)."""
        res = self.forecast_arrays(values, indptr, h)
        alpha = res.info["alpha"]
        return res, {"alpha": alpha.copy(), "fitted": np.isfinite(alpha) & (res.status == STATUS_OK)}

    def forward_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int, params: Params) -> ForecastResult:
        """SES with the frozen ``params["alpha"]`` over new histories (no new search); outputs
        as :meth:`forecast_arrays`."""
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        alphas = np.ascontiguousarray(params["alpha"], dtype=np.float64)
        return _run_ses(values, indptr, h, alphas, False, self.fitted, self.nonnegative)


def _run_ses(
    values: np.ndarray,
    indptr: np.ndarray,
    h: int,
    alphas: np.ndarray,
    optimize: bool,
    fitted: bool,
    nonnegative: bool,
) -> ForecastResult:
    n = indptr.shape[0] - 1
    mean, var, _, status = _outputs(n, h, 0, False)
    # with a fixed alpha the kernel always writes fitted values (one store per point); optimised, it
    # skips the extra pass over the data unless they are wanted
    want = bool(fitted or not optimize)
    fit = np.full(values.shape[0] if want else 0, np.nan)
    alpha_out = np.empty(n)
    _ks.ses_block(values, indptr, alphas, optimize, 0.01, 0.99, h, mean, var, fit, want, alpha_out, status)
    mean = _clip(mean, nonnegative, status)
    return ForecastResult(mean, var, status, fit if fitted else None, "normal", {"alpha": alpha_out})
