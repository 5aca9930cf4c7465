"""Exponential smoothing state-space models (ETS): ``AutoETS``, ``ETS``, ``Holt`` and ``HoltWinters``.

The family of Hyndman, Koehler, Snyder & Grose (2002) and Hyndman, Koehler, Ord & Snyder (2008):
error A/M, trend N/A/Ad, season N/A/M, fitted by maximum likelihood (sigma^2 concentrated out) in
the usual parameter region ``0 < beta < alpha < 1``, ``0 < gamma < 1 - alpha``,
``0.8 <= phi <= 0.98`` (bounds 1e-4 / 0.9999 as R's ``forecast::ets`` and statsforecast), with the
initial states estimated, and selected per series by AICc.  By default the search also keeps
the extra upper bounds on beta and gamma that statsforecast 2.1.1 effectively applies
(``region="statsforecast"``; ``region="usual"`` drops them).  Names and meanings follow statsforecast
2.1.1 (``AutoETS(season_length, model="ZZZ", damped=None)``; ``Holt`` is ETS with additive trend
and no season, ``HoltWinters`` ETS with trend and a season of the error's kind; both try damped
and undamped trends as statsforecast does).

How the fit differs from R / statsforecast (see :mod:`stockopt._kernels.forecast.ets`): for additive-error
models the initial states are solved exactly by least squares at every trial of the smoothing
parameters, so the optimiser only searches 1-4 dimensions; multiplicative models start from their
additive twin and alternate Gauss-Newton steps on the states with a search over the smoothing
parameters, refined further only when they can still win on AICc.  Multiplicative trend
is not offered (statsforecast's default excludes it too).

References
----------
Hyndman, R. J., Koehler, A. B., Snyder, R. D. & Grose, S. (2002). A state space framework for
automatic forecasting using exponential smoothing methods. *International Journal of Forecasting*
18(3), 439-454.

Hyndman, R. J., Koehler, A. B., Ord, J. K. & Snyder, R. D. (2008). *Forecasting with Exponential
Smoothing: The State Space Approach*. Springer (ch. 2 models, ch. 5 estimation, ch. 6 variances).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from stockopt._kernels.forecast import ets as _ke
from stockopt._kernels.forecast import ets_forward as _kef
from stockopt._kernels.forecast.ets_core import REGION_STATSFORECAST, REGION_USUAL
from stockopt.errors import ParameterError, raise_error
from stockopt.models._base import ForecastResult, Model, Params
from stockopt.models.baselines import check_block

__all__ = ["AutoETS", "ETS", "Holt", "HoltWinters", "ETS_MODELS", "candidate_mask"]

#: model names by the codes found in ``ForecastResult.info["model"]`` (-1: no model)
ETS_MODELS: tuple[str, ...] = _ke.MODEL_NAMES
_REGIONS = {"usual": REGION_USUAL, "statsforecast": REGION_STATSFORECAST}


def candidate_mask(model: str, damped: bool | None, season_length: int, who: str = "ETS") -> np.ndarray:
    """Boolean mask over the 18 model codes allowed by a spec such as ``"ZZZ"`` or ``"MAN"``.

    ``model`` has three letters (error, trend, season); ``Z`` means "select".  ``damped=None``
    tries both damped and undamped trends, ``True`` only damped, ``False`` only undamped.
    Additive error with multiplicative season is excluded (unstable; R's ``restrict=TRUE``).

    Examples
    --------
    >>> [ETS_MODELS[c] for c in np.flatnonzero(candidate_mask("AZN", None, 1))]
    ['ANN', 'AAN', 'AAdN']
    """
    if not isinstance(model, str) or len(model) != 3:
        raise_error(ParameterError, "bad model spec", table=who, parameter="model",
                    expected="three letters error/trend/season, e.g. 'ZZZ', 'AAN', 'MAM'", got=model)
    e, t, s = model.upper()
    if e not in "AMZ" or t not in "NAMZ" or s not in "NAMZ":
        raise_error(ParameterError, "bad model spec", table=who, parameter="model",
                    expected="error in A/M/Z, trend in N/A/Z, season in N/A/M/Z", got=model)
    if t == "M":
        raise_error(ParameterError, "multiplicative trend is not supported", table=who, parameter="model",
                    expected="trend N, A or Z (use damped=True for a damped trend)", got=model)
    if damped not in (None, True, False):
        raise_error(ParameterError, "bad argument", table=who, parameter="damped",
                    expected="None, True or False", got=damped)
    if damped and t == "N":
        raise_error(ParameterError, "damped trend without a trend", table=who, parameter="damped",
                    expected="damped=None/False with trend N, or trend A/Z", got=(model, damped))
    if season_length <= 1 and s in "AM":
        raise_error(ParameterError, f"seasonal model {model!r} with season_length={season_length}",
                    table=who, parameter="model", expected="season N or Z when season_length is 1", got=model)
    errs = [0, 1] if e == "Z" else [0 if e == "A" else 1]
    trends = {"N": [0], "A": [1, 2], "Z": [0, 1, 2]}[t]
    if damped is True:
        trends = [x for x in trends if x == 2]
    elif damped is False:
        trends = [x for x in trends if x != 2]
    seasons = {"N": [0], "A": [1], "M": [2], "Z": [0, 1, 2] if season_length > 1 else [0]}[s]
    mask = np.zeros(_ke.N_MODELS, dtype=np.uint8)
    for ee in errs:
        for tt in trends:
            for ss in seasons:
                if ee == 0 and ss == 2:
                    continue
                mask[9 * ee + 3 * tt + ss] = 1
    if not mask.any():
        raise_error(ParameterError, "no admissible ETS model in spec", table=who, parameter="model",
                    expected="a spec other than additive error with multiplicative season", got=model)
    return mask


class AutoETS(Model):
    """ETS state-space exponential smoothing with automatic model selection by AICc.

    Every admissible model of the spec is fitted per series by maximum likelihood and the one with
    the smallest AICc is kept (Hyndman et al. 2002; 2008, ch. 7).  Multiplicative-error and
    multiplicative-season models are only tried on strictly positive series, seasonal ones only when
    the series is longer than one season and has enough observations for their parameters.  When a
    series is too short for every model of the spec, a simpler model (no season, then no trend) is
    used and the status says ``STATUS_FALLBACK``; with fewer than 5 observations nothing is fitted
    (``STATUS_TOO_SHORT``, NaN forecasts).

    Parameters
    ----------
    season_length : int
        Periods per season ``m`` (7 for daily data with a weekly cycle, 12 for monthly data).
    model : str
        Three letters error/trend/season, each ``A``, ``M``, ``N`` (none) or ``Z`` (select).
    damped : bool or None
        ``None`` tries damped and undamped trends, ``True``/``False`` forces one.
    alias : str, optional
        Output column name (default the class name, as statsforecast).
    nonnegative : bool
        Clip point forecasts at 0 (demand cannot be negative); unclipped ones stay in
        ``info["mean_raw"]``.
    fitted : bool
        Also return the one-step in-sample fitted values.
    max_eval : int
        Evaluation budget of one Nelder-Mead run over the smoothing parameters.
    margin : float
        AICc margin within which multiplicative candidates get further refinement rounds after the
        first; candidates further behind the best are rejected early.
    region : {"statsforecast", "usual"}
        Parameter region searched.  ``"usual"``: ``beta <= alpha``, ``gamma <= 1 - alpha``
        (HKOS sec. 5.4, R's ``forecast::ets``).  ``"statsforecast"`` (default): the usual region
        with the extra upper bounds statsforecast 2.1.1 effectively applies (its ``initparam``
        lowers a bounds array shared by all candidates to each model's starting alpha; for
        monthly data ``beta <= 0.2001`` for ``AAN``/``AAdN`` and ``beta <= 0.0168`` for the
        trended models fitted after the first seasonal one; see
        :func:`stockopt._kernels.forecast.ets_core.upper_bounds`).  The slowly changing trends it forces
        forecast better on short series: on the 350 Stallion monthly series (12-month hold-out)
        mean MASE 2.67 vs 3.19 with ``"usual"`` (statsforecast 2.66).

    Notes
    -----
    ``ForecastResult.var`` holds the forecast-error variance per step (units of ``values``
    squared), from the closed forms of Hyndman et al. (2008, ch. 6): exact for classes 1-2, the
    small-sigma approximation for multiplicative season.  ``info`` has ``model`` (code into
    :data:`ETS_MODELS`), ``model_name``, ``loglik`` (Gaussian, sigma^2 concentrated out), ``aicc``,
    ``sigma2``, ``alpha``, ``beta``, ``gamma``, ``phi`` (NaN when absent), ``init_states``
    (``(l, b, s_1..s_m)`` with ``s_1`` the latest season) and ``n_evals`` (likelihood evaluations).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = 10 + np.tile([0.0, 1, 2, 3, 2, 1, 5], 20) + rng.normal(0, 0.3, 140)
    >>> res = AutoETS(season_length=7).forecast_arrays(y, np.array([0, 140]), h=7)
    >>> res.info["model_name"][0][2], res.mean.shape
    ('A', (1, 7))
    """

    _name: ClassVar[str] = "AutoETS"
    min_length = 5
    forward_mode: ClassVar[str] = "frozen"

    def __init__(self, season_length: int = 1, model: str = "ZZZ", damped: bool | None = None,
                 alias: str | None = None, *, nonnegative: bool = False, fitted: bool = True,
                 max_eval: int = 200, margin: float = 10.0, region: str = "statsforecast") -> None:
        super().__init__(alias)
        self.season_length = season_length
        self.model = model
        self.damped = damped
        self.nonnegative = nonnegative
        self.fitted = fitted
        self.max_eval = max_eval
        self.margin = margin
        self.region = region

    def _spec(self) -> tuple[str, bool | None]:
        return self.model, self.damped

    def _check(self) -> tuple[int, np.ndarray]:
        m = self.season_length
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise_error(ParameterError, "bad argument", table=self._name, parameter="season_length",
                        expected="an integer >= 1", got=m)
        if isinstance(self.max_eval, bool) or not isinstance(self.max_eval, (int, np.integer)) or self.max_eval < 10:
            raise_error(ParameterError, "bad argument", table=self._name, parameter="max_eval",
                        expected="an integer >= 10", got=self.max_eval)
        if not np.isfinite(self.margin) or self.margin < 0:
            raise_error(ParameterError, "bad argument", table=self._name, parameter="margin",
                        expected="a finite number >= 0", got=self.margin)
        if not isinstance(self.region, str) or self.region not in _REGIONS:
            raise_error(ParameterError, "bad argument", table=self._name, parameter="region",
                        expected="'statsforecast' or 'usual'", got=self.region)
        model, damped = self._spec()
        return int(m), candidate_mask(model, damped, int(m), who=self._name)

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        """Fit every series of ``(values, indptr)`` and forecast ``h`` periods ahead.

        Parameters
        ----------
        values : ndarray of float64
            All series back to back (demand per period, finite).
        indptr : ndarray of int64
            Series ``i`` is ``values[indptr[i]:indptr[i + 1]]``.
        h : int
            Forecast horizon in periods (>= 1).

        Returns
        -------
        ForecastResult
            Point forecasts, forecast-error variances, status, fitted values and ``info``.
        """
        m, mask = self._check()
        values, indptr, h = self._check_values(values, indptr, h)
        n = indptr.shape[0] - 1
        mean = np.empty((n, h))
        var = np.empty((n, h))
        fit = np.full(values.shape[0], np.nan)
        status = np.empty(n, dtype=np.int8)
        code = np.empty(n, dtype=np.int16)
        params = np.empty((n, 4))
        states = np.empty((n, 2 + m))
        loglik = np.empty(n)
        aicc = np.empty(n)
        sigma2 = np.empty(n)
        nevals = np.empty(n, dtype=np.int64)
        _ke.ets_fit_block(values, indptr, m, mask, h, int(self.max_eval), float(self.margin),
                          _REGIONS[self.region],
                          mean, var, fit, status, code, params, states, loglik, aicc, sigma2, nevals)
        return self._result(mean, var, fit, status, code, params, states, loglik, aicc, sigma2, nevals)

    def _check_values(self, values: np.ndarray, indptr: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray, int]:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        if indptr.shape[0] > 1:
            seg = values[indptr[0]:indptr[-1]]
            if not np.isfinite(seg).all():
                bad = int(np.flatnonzero(~np.isfinite(seg))[0]) + int(indptr[0])
                raise_error(ParameterError, f"non-finite value given to {self._name}", column="y", row=bad,
                            expected="finite values (fill or drop missing periods first)", got=float(values[bad]))
        return values, indptr, h

    def _result(self, mean: np.ndarray, var: np.ndarray, fit: np.ndarray, status: np.ndarray, code: np.ndarray,
                params: np.ndarray, states: np.ndarray, loglik: np.ndarray, aicc: np.ndarray,
                sigma2: np.ndarray, nevals: np.ndarray) -> ForecastResult:
        names = np.array(list(ETS_MODELS) + [""], dtype=object)[code]
        info = {
            "model": code,
            "model_name": names,
            "loglik": loglik,
            "aicc": aicc,
            "sigma2": sigma2,
            "alpha": params[:, 0],
            "beta": params[:, 1],
            "gamma": params[:, 2],
            "phi": params[:, 3],
            "init_states": states,
            "n_evals": nevals,
        }
        if self.nonnegative:
            info["mean_raw"] = mean.copy()
            np.maximum(mean, 0.0, out=mean)
        return ForecastResult(mean=mean, var=var, status=status, fitted=fit if self.fitted else None,
                              dist="normal", info=info)

    def fit_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> tuple[ForecastResult, Params]:
        """:meth:`forecast_arrays` plus the parameter record that :meth:`forward_arrays` reuses.

        The record has, per series, ``model`` (code), ``par`` (alpha, beta, gamma, phi),
        ``init_states`` (``l, b, s_1..s_m`` at the start of the series), ``status`` and
        ``fitted`` (a model was fitted: code >= 0).
        """
        res = self.forecast_arrays(values, indptr, h)
        info = res.info
        params = {
            "model": info["model"].copy(),
            "par": np.column_stack([info["alpha"], info["beta"], info["gamma"], info["phi"]]),
            "init_states": info["init_states"].copy(),
            "status": res.status.copy(),
            "fitted": info["model"] >= 0,
        }
        return res, params

    def forward_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int, params: Params) -> ForecastResult:
        """Forecast from the frozen fit in ``params`` run over the histories ``(values, indptr)``.

        Nothing is re-estimated (statsforecast's ``AutoETS.forward``, Hyndman et al. 2008 ch. 2):
        the selected model, its smoothing parameters and its initial states are kept, the state
        recursion runs from the start of each (longer) history to its end, and the forecasts
        start from the end state.  The variances use sigma^2 re-computed from the one-step errors
        on the new history (as statsforecast's ``forward_ets``); ``info`` has the same fields as
        :meth:`forecast_arrays`' (``n_evals`` 0).  A series whose recursion breaks down on the new
        data gets ``STATUS_FAILED`` (the API then refits it).

        Parameters
        ----------
        values, indptr, h
            As in :meth:`forecast_arrays`; the series are those of the fit, in the same order,
            each starting where its fitted history started.
        params : Params
            Rows of :meth:`fit_arrays`' record for these series.
        """
        m, _ = self._check()
        values, indptr, h = self._check_values(values, indptr, h)
        n = indptr.shape[0] - 1
        code = np.ascontiguousarray(params["model"], dtype=np.int16)
        par = np.ascontiguousarray(params["par"], dtype=np.float64)
        states = np.ascontiguousarray(params["init_states"], dtype=np.float64)
        if code.shape != (n,) or par.shape != (n, 4) or states.shape != (n, 2 + m):
            raise_error(ParameterError, f"parameter record does not match the series for {self._name}",
                        column="params", expected=f"{n} rows with 4 parameters and {2 + m} states",
                        got=(code.shape, par.shape, states.shape))
        mean = np.empty((n, h))
        var = np.empty((n, h))
        fit = np.full(values.shape[0], np.nan)
        status = np.ascontiguousarray(params["status"], dtype=np.int8).copy()
        loglik = np.empty(n)
        aicc = np.empty(n)
        sigma2 = np.empty(n)
        _kef.ets_forward_block(values, indptr, m, h, code, par, states, mean, var, fit, status, loglik, aicc,
                              sigma2)
        return self._result(mean, var, fit, status, code.copy(), par.copy(), states.copy(), loglik, aicc, sigma2,
                            np.zeros(n, dtype=np.int64))


class ETS(AutoETS):
    """One ETS model given by its code, e.g. ``ETS("AAdA", season_length=7)``.

    Same fitting as :class:`AutoETS` restricted to one model (``"AAdN"`` style codes: error,
    trend ``N``/``A``/``Ad``, season).  A series too short (or not positive) for it falls back to a
    simpler model (``STATUS_FALLBACK``).

    Examples
    --------
    >>> ETS("MAdM", season_length=12).model, ETS("MAdM", season_length=12).damped
    ('MAM', True)
    """

    _name: ClassVar[str] = "ETS"

    def __init__(self, spec: str = "ANN", season_length: int = 1, alias: str | None = None, *,
                 nonnegative: bool = False, fitted: bool = True, max_eval: int = 200,
                 margin: float = 10.0, region: str = "statsforecast") -> None:
        if not isinstance(spec, str) or spec not in ETS_MODELS:
            raise_error(ParameterError, "bad ETS model code", column="spec",
                        expected=f"one of {', '.join(ETS_MODELS)}", got=spec)
        damped = "Ad" in spec
        super().__init__(season_length, spec.replace("Ad", "A"), damped if damped else False, alias,
                         nonnegative=nonnegative, fitted=fitted, max_eval=max_eval, margin=margin,
                         region=region)
        self.spec = spec
        if spec[1] == "N":
            self.damped = None


class Holt(AutoETS):
    """Holt's linear trend method as an ETS model (statsforecast's ``Holt``).

    ETS with additive trend (damped or not, chosen by AICc) and no season; ``error_type`` ``"A"``
    or ``"M"``.

    Examples
    --------
    >>> Holt(error_type="M").model
    'MAN'
    """

    _name: ClassVar[str] = "Holt"

    def __init__(self, season_length: int = 1, error_type: str = "A", alias: str | None = None, *,
                 nonnegative: bool = False, fitted: bool = True, region: str = "statsforecast") -> None:
        if error_type not in ("A", "M"):
            raise_error(ParameterError, "bad argument", table="Holt", parameter="error_type",
                        expected="'A' or 'M'", got=error_type)
        super().__init__(season_length, error_type + "AN", None, alias, nonnegative=nonnegative, fitted=fitted,
                         region=region)
        self.error_type = error_type


class HoltWinters(AutoETS):
    """Holt-Winters' method as an ETS model (statsforecast's ``HoltWinters``).

    ETS with additive trend (damped or not, chosen by AICc) and a season of the error's kind:
    ``AAA`` for ``error_type="A"``, ``MAM`` for ``"M"``.

    Examples
    --------
    >>> HoltWinters(season_length=12, error_type="M").model
    'MAM'
    """

    _name: ClassVar[str] = "HoltWinters"

    def __init__(self, season_length: int = 1, error_type: str = "A", alias: str | None = None, *,
                 nonnegative: bool = False, fitted: bool = True, region: str = "statsforecast") -> None:
        if error_type not in ("A", "M"):
            raise_error(ParameterError, "bad argument", table="HoltWinters", parameter="error_type",
                        expected="'A' or 'M'", got=error_type)
        super().__init__(season_length, error_type + "A" + error_type, None, alias, nonnegative=nonnegative,
                         fitted=fitted, region=region)
        self.error_type = error_type
