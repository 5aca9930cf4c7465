"""The Theta family: ``Theta``, ``OptimizedTheta``, ``DynamicTheta``, ``DynamicOptimizedTheta`` and
``AutoTheta``, over many series per call.

Names, parameters, parameter spaces and point forecasts follow statsforecast 2.1.1 so a user can
switch libraries: the standard theta model (STM, theta = 2), the optimised one (OTM, theta fitted
in [1, 1e10]), and their dynamic versions (DSTM, DOTM) whose trend line is updated as data arrive;
the smoothing parameter alpha lies in [0.1, 0.99] and the initial level is fitted as well.  When the
series passes the 90% test of its lag-``m`` autocorrelation it is deseasonalised by a classical
multiplicative decomposition (additive when the data are not all positive or an index falls below
0.01) and the forecasts are reseasonalised.  ``AutoTheta`` keeps, per series, the variant with the
smallest in-sample mean squared one-step error.

Unlike statsforecast, the fit is exact for the initial level and theta (closed form at each alpha)
and searches alpha globally on a grid refined by Brent's method, so the in-sample error is never
worse up to the search tolerance; and the forecast-error variance is computed analytically from the
state-space form instead of by simulation.

References
----------
Assimakopoulos, V. & Nikolopoulos, K. (2000). The theta model: a decomposition approach to
forecasting. *International Journal of Forecasting* 16(4), 521-530.

Fiorucci, J. A., Pellegrini, T. R., Louzada, F., Petropoulos, F. & Koehler, A. B. (2016). Models
for optimising the theta method and their relationship to state space models. *International
Journal of Forecasting* 32(4), 1151-1161.

Hyndman, R. J. & Billah, B. (2003). Unmasking the Theta method. *International Journal of
Forecasting* 19(2), 287-290 (the seasonality test and decomposition of ``forecast::thetaf``).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from stockopt._kernels.forecast import theta as _kt
from stockopt._kernels.forecast import theta_forward as _ktf
from stockopt.errors import ParameterError, raise_error
from stockopt.models._base import ForecastResult, Model, Params
from stockopt.models.baselines import check_block

__all__ = [
    "AutoTheta",
    "Theta",
    "OptimizedTheta",
    "DynamicTheta",
    "DynamicOptimizedTheta",
    "THETA_MODELS",
]

#: variant names by the codes found in ``ForecastResult.info["model"]`` (-1 = fallback to the mean)
THETA_MODELS: tuple[str, ...] = ("STM", "OTM", "DSTM", "DOTM")
_DECOMPOSITIONS = {"multiplicative": _kt.DECOMP_MULTIPLICATIVE, "additive": _kt.DECOMP_ADDITIVE}



def _outputs(n: int, h: int, n_values: int) -> tuple[np.ndarray, ...]:
    """The arrays the Theta kernels fill for ``n`` series, ``h`` steps and ``n_values`` points:
    mean, var, fitted, status, chosen variant, decomposition and the six per-series parameters."""
    return (np.empty((n, h)), np.empty((n, h)), np.full(n_values, np.nan), np.empty(n, dtype=np.int8),
            np.empty(n, dtype=np.int8), np.empty(n, dtype=np.int8), np.empty((n, 6)))


class AutoTheta(Model):
    """Theta models (Fiorucci et al. 2016) with automatic choice of the variant per series.

    Each series is first tested for seasonality (lag-``season_length`` autocorrelation beyond 1.645
    Bartlett standard errors, needs ``m >= 4`` and ``2m`` observations) and, if seasonal,
    deseasonalised by a classical decomposition.  The candidate variants (all four unless ``model``
    names one) are fitted by least squares of the one-step errors from the fourth observation on and
    the one with the smallest in-sample MSE is kept (ties: STM, OTM, DSTM, DOTM order).  Forecasts
    are reseasonalised.

    Parameters
    ----------
    season_length : int
        Periods per season ``m`` (7 for daily data with a weekly cycle, 12 for monthly data).
    decomposition_type : {"multiplicative", "additive"}
        Seasonal decomposition asked for; multiplicative falls back to additive per series when the
        data are not all positive or a seasonal index is below 0.01.
    model : {None, "STM", "OTM", "DSTM", "DOTM"}
        Restrict the choice to one variant.
    alias : str, optional
        Output column name (default ``"AutoTheta"``).
    nonnegative : bool
        Clip point forecasts at 0 (demand cannot be negative).  The unclipped forecasts stay in
        ``info["mean_raw"]``.
    fitted : bool
        Also return the one-step in-sample fitted values (reseasonalised).

    Notes
    -----
    ``ForecastResult`` fields: ``mean`` (units of ``y``), ``var`` (variance of the k-step forecast
    error, units of ``y`` squared, exact for the linear state recursion: the state-error
    covariance is propagated step by step; times the squared seasonal index for a multiplicative
    decomposition; ``sigma^2`` is the ddof-1 variance of the deseasonalised one-step errors from the
    fourth on), ``status`` and ``info`` arrays ``model`` (code into :data:`THETA_MODELS`),
    ``alpha``, ``theta``, ``initial_smoothed``, ``mse`` (deseasonalised scale), ``sigma2`` and
    ``decomposition`` (0 none, 1 multiplicative, 2 additive) and ``converged`` (the search over
    alpha met its tolerance; ``initial_smoothed`` and ``theta`` are exact given alpha).  Series with 1-3 values get the
    mean forecast and status ``STATUS_FALLBACK``; empty series ``STATUS_TOO_SHORT``.

    Examples
    --------
    >>> import numpy as np
    >>> y = 10.0 + 0.5 * np.arange(40.0) + np.tile([1.0, -1.0], 20)
    >>> res = AutoTheta().forecast_arrays(y, np.array([0, 40]), h=3)
    >>> [THETA_MODELS[k] for k in res.info["model"]], res.mean.shape, bool((res.var > 0).all())
    (['OTM'], (1, 3), True)
    """

    _name: ClassVar[str] = "AutoTheta"
    min_length = 1
    forward_mode: ClassVar[str] = "frozen"
    _fixed_model: ClassVar[str | None] = None

    def __init__(
        self,
        season_length: int = 1,
        decomposition_type: str = "multiplicative",
        model: str | None = None,
        alias: str | None = None,
        *,
        nonnegative: bool = True,
        fitted: bool = True,
    ) -> None:
        super().__init__(alias)
        self.season_length = season_length
        self.decomposition_type = decomposition_type
        self.model = model
        self.nonnegative = nonnegative
        self.fitted = fitted

    def _check(self) -> tuple[int, int, int]:
        m = self.season_length
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise_error(ParameterError, "bad argument", table=self._name, parameter="season_length",
                        expected="an integer >= 1", got=m)
        if self.decomposition_type not in _DECOMPOSITIONS:
            raise_error(ParameterError, "bad argument", table=self._name, parameter="decomposition_type",
                        expected="'multiplicative' or 'additive'", got=self.decomposition_type)
        model = self._fixed_model if self._fixed_model is not None else self.model
        if model is None:
            mask = 15
        elif model in THETA_MODELS:
            mask = 1 << THETA_MODELS.index(model)
        else:
            raise_error(ParameterError, "bad argument", table=self._name, parameter="model",
                        expected="None, 'STM', 'OTM', 'DSTM' or 'DOTM'", got=model)
        return int(m), _DECOMPOSITIONS[self.decomposition_type], mask

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        """Fit every series of ``(values, indptr)`` and forecast ``h`` periods ahead.

        Parameters
        ----------
        values : ndarray of float64
            All series back to back (demand per period).
        indptr : ndarray of int64
            Series ``i`` is ``values[indptr[i]:indptr[i + 1]]``.
        h : int
            Forecast horizon in periods (>= 1).

        Returns
        -------
        ForecastResult
            See the class notes for the ``info`` arrays.
        """
        m, decomposition, mask = self._check()
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        n = indptr.shape[0] - 1
        out = _outputs(n, h, values.shape[0])
        _kt.auto_theta_kernel(values, indptr, h, m, decomposition, mask, *out)
        return self._result(*out)

    def _result(self, mean: np.ndarray, var: np.ndarray, fit: np.ndarray, status: np.ndarray, chosen: np.ndarray,
                decomp: np.ndarray, params: np.ndarray) -> ForecastResult:
        info = {
            "model": chosen,
            "alpha": params[:, 0],
            "theta": params[:, 1],
            "initial_smoothed": params[:, 2],
            "mse": params[:, 3],
            "sigma2": params[:, 4],
            "decomposition": decomp,
            "converged": params[:, 5] == 1.0,
        }
        if self.nonnegative:
            info["mean_raw"] = mean.copy()
            np.maximum(mean, 0.0, out=mean)  # NaN stays NaN
        return ForecastResult(mean, var, status, fit if self.fitted else None, "normal", info)

    def fit_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> tuple[ForecastResult, Params]:
        """:meth:`forecast_arrays` plus the record :meth:`forward_arrays` reuses.

        Fields per series: ``model`` (variant code), ``alpha``, ``theta``, ``initial_smoothed``
        and ``fitted`` (a variant was fitted; series of 1-3 values get the mean and are not).
        """
        res = self.forecast_arrays(values, indptr, h)
        info = res.info
        params = {"model": info["model"].copy(), "alpha": info["alpha"].copy(), "theta": info["theta"].copy(),
                  "initial_smoothed": info["initial_smoothed"].copy(), "fitted": info["model"] >= 0}
        return res, params

    def forward_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int, params: Params) -> ForecastResult:
        """Forecast with frozen Theta parameters over the histories ``(values, indptr)``.

        The variant, ``alpha``, ``theta`` and the initial level are kept (Fiorucci et al. 2016's
        state recursion is run from the start of the longer history); as statsforecast's
        ``forward_theta`` does, the seasonality test and decomposition are redone on the new
        history, and sigma^2 of the variance comes from the new one-step errors.  Same outputs as
        :meth:`forecast_arrays`.

        Parameters
        ----------
        values, indptr, h
            As in :meth:`forecast_arrays`: the fitted series, in order, with longer histories.
        params : Params
            Rows of :meth:`fit_arrays`' record for these series.
        """
        m, decomposition, _ = self._check()
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        n = indptr.shape[0] - 1
        code = np.ascontiguousarray(params["model"], dtype=np.int8)
        if code.shape != (n,):
            raise_error(ParameterError, f"parameter record does not match the series for {self._name}",
                        column="params", expected=f"{n} rows", got=code.shape)
        out = _outputs(n, h, values.shape[0])
        _ktf.theta_forward_kernel(values, indptr, h, m, decomposition, code,
                                 np.ascontiguousarray(params["alpha"], dtype=np.float64),
                                 np.ascontiguousarray(params["theta"], dtype=np.float64),
                                 np.ascontiguousarray(params["initial_smoothed"], dtype=np.float64),
                                 *out)
        return self._result(*out)


class Theta(AutoTheta):
    """Standard Theta Model (STM): theta = 2, alpha and initial level fitted.

    Equivalent to the theta method of Assimakopoulos & Nikolopoulos (2000) in the state-space form
    of Fiorucci et al. (2016); same parameters as :class:`AutoTheta` without ``model``.

    Examples
    --------
    >>> import numpy as np
    >>> res = Theta().forecast_arrays(np.arange(1.0, 21.0), np.array([0, 20]), h=2)
    >>> float(res.info["theta"][0]), res.mean.shape
    (2.0, (1, 2))
    """

    _name: ClassVar[str] = "Theta"
    _fixed_model: ClassVar[str | None] = "STM"

    def __init__(self, season_length: int = 1, decomposition_type: str = "multiplicative",
                 alias: str | None = None, *, nonnegative: bool = True, fitted: bool = True) -> None:
        super().__init__(season_length, decomposition_type, self._fixed_model, alias, nonnegative=nonnegative,
                         fitted=fitted)


class OptimizedTheta(Theta):
    """Optimised Theta Model (OTM): theta in [1, 1e10] fitted with alpha and the initial level.

    Fiorucci et al. (2016), section 3; same parameters as :class:`Theta`.

    Examples
    --------
    >>> import numpy as np
    >>> y = 5.0 + np.arange(30.0) + np.tile([0.5, -0.5], 15)
    >>> OptimizedTheta().forecast_arrays(y, np.array([0, 30]), h=1).info["model"].tolist()
    [1]
    """

    _name: ClassVar[str] = "OptimizedTheta"
    _fixed_model: ClassVar[str | None] = "OTM"


class DynamicTheta(Theta):
    """Dynamic Standard Theta Model (DSTM): theta = 2, trend line re-estimated at each period.

    Fiorucci et al. (2016), section 4; same parameters as :class:`Theta`.

    Examples
    --------
    >>> import numpy as np
    >>> DynamicTheta().forecast_arrays(np.arange(1.0, 11.0), np.array([0, 10]), h=1).info["model"].tolist()
    [2]
    """

    _name: ClassVar[str] = "DynamicTheta"
    _fixed_model: ClassVar[str | None] = "DSTM"


class DynamicOptimizedTheta(Theta):
    """Dynamic Optimised Theta Model (DOTM): theta fitted, trend line re-estimated at each period.

    Fiorucci et al. (2016), section 4; same parameters as :class:`Theta`.

    Examples
    --------
    >>> import numpy as np
    >>> DynamicOptimizedTheta().forecast_arrays(np.arange(1.0, 11.0), np.array([0, 10]), h=1).info["model"].tolist()
    [3]
    """

    _name: ClassVar[str] = "DynamicOptimizedTheta"
    _fixed_model: ClassVar[str | None] = "DOTM"
