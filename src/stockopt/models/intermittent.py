"""Intermittent-demand models with a predictive distribution per period.

``CrostonClassic``, ``CrostonOptimized``, ``CrostonSBA``, ``TSB``, ``ADIDA`` and ``IMAPA`` give
statsforecast's point forecasts (same names, parameters and definitions).  In addition every model
returns ``var``, the variance of the forecast error of demand in each future period: the variance of
a Bernoulli-occurrence x size demand consistent with the model's own mean forecast, plus the
sampling variance of the smoothed estimate; and ``dist="negbin"``: the API turns (mean, var) into a
negative binomial (Poisson when ``var <= mean``) with
:func:`stockopt.models._distributions.quantiles`.  The derivation is in
:mod:`stockopt._kernels.forecast.intermittent` and ``docs/models_fast.md``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from stockopt._kernels.forecast import intermittent as _ki
from stockopt.data import value_blocks
from stockopt.models._base import ForecastResult, Model, Params
from stockopt.models.baselines import _check_alpha, _clip, check_block

__all__ = ["CrostonClassic", "CrostonOptimized", "CrostonSBA", "TSB", "ADIDA", "IMAPA"]


#: values per block of series for the kernels that need scratch proportional to the data (Croston's
#: optimised split, ADIDA / IMAPA block sums): one reused ~16 MB buffer instead of one the size of
#: the whole input, whose first touch costs ~0.5 floors (results do not depend on the blocking:
#: every search is computed on its own, see ``ses_many.optimize_many``)
_BLOCK_VALUES = 1 << 20


class _Intermittent(Model):
    min_length = 1
    #: fixed smoothing constants: forward is forecasting (overridden where something is estimated)
    forward_mode: ClassVar[Literal["none", "frozen", "refit"]] = "none"

    def __init__(self, alias: str | None = None, *, nonnegative: bool = True) -> None:
        super().__init__(alias)
        self.nonnegative = nonnegative


class _Croston(_Intermittent):
    _variant: ClassVar[int] = _ki.CROSTON_CLASSIC
    _has_fitted: ClassVar[bool] = True

    def __init__(self, alias: str | None = None, *, nonnegative: bool = True, fitted: bool = True) -> None:
        super().__init__(alias, nonnegative=nonnegative)
        self.fitted = fitted

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        n = indptr.shape[0] - 1
        want = bool(self.fitted and self._has_fitted)
        mean = np.empty((n, h))
        var = np.empty((n, h))
        fit = np.full(values.shape[0], np.nan) if want else np.empty(0)
        p = np.empty(n)
        alphas = np.empty((n, 2))
        status = np.empty(n, dtype=np.int8)
        if self._variant != _ki.CROSTON_OPTIMIZED:
            _ki.croston_block(values, indptr, self._variant, h, mean, var, fit, want, p, alphas, status,
                              np.empty(0))
        else:  # sizes and intervals of a block of series into one reused NumPy buffer (huge pages)
            blocks = value_blocks(indptr, _BLOCK_VALUES)
            data = np.empty(2 * max((int(indptr[b] - indptr[a]) for a, b in blocks), default=0))
            for a, b in blocks:
                _ki.croston_block(values, indptr[a:b + 1], self._variant, h, mean[a:b], var[a:b], fit, want,
                                  p[a:b], alphas[a:b], status[a:b], data)
        info = {"p": p, "alpha_size": alphas[:, 0].copy(), "alpha_interval": alphas[:, 1].copy()}
        return ForecastResult(
            _clip(mean, self.nonnegative, status), var, status, fit if want else None, "negbin", info,
        )


class CrostonClassic(_Croston):
    """Croston's method (Croston 1972): SES (alpha 0.1) of the non-zero demand sizes divided by SES
    (alpha 0.1) of the intervals between them.

    ``var`` is the per-period demand variance ``p s_z^2 + p (1 - p) mu_z^2`` with ``p`` = 1 / smoothed
    interval, ``mu_z = mean / p`` and ``s_z^2`` the sample variance of the non-zero sizes (units of
    demand squared), plus the sampling variance of the smoothed size and interval (delta method);
    ``dist="negbin"``.  ``info["p"]`` is ``p``.  A series without demand forecasts 0 (variance 0).

    Parameters
    ----------
    alias : str, optional
        Output column name (default ``"CrostonClassic"``).
    nonnegative : bool
        Clip point forecasts at 0.
    fitted : bool
        Return statsforecast's in-sample fitted values.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0.0, 2.0, 0.0, 0.0, 4.0, 0.0])
    >>> res = CrostonClassic().forecast_arrays(y, np.array([0, 6]), h=2)
    >>> [round(float(v), 6) for v in res.mean[0]]
    [1.047619, 1.047619]
    """

    _name: ClassVar[str] = "CrostonClassic"
    _variant: ClassVar[int] = _ki.CROSTON_CLASSIC


class CrostonSBA(_Croston):
    """Syntetos-Boylan approximation (Syntetos & Boylan 2005): Croston's forecast times
    ``1 - alpha / 2 = 0.95``, which removes most of Croston's bias.  Variance as
    :class:`CrostonClassic`, consistent with the reduced mean.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0.0, 2.0, 0.0, 0.0, 4.0, 0.0])
    >>> round(float(CrostonSBA().forecast_arrays(y, np.array([0, 6]), h=1).mean[0, 0]), 6)
    0.995238
    """

    _name: ClassVar[str] = "CrostonSBA"
    _variant: ClassVar[int] = _ki.CROSTON_SBA


class CrostonOptimized(_Croston):
    """Croston's method with each smoothing constant chosen in [0.1, 0.3] by in-sample SSE
    (statsforecast's ``CrostonOptimized``).  On sub-series of 16 points or more our search (grid +
    safeguarded Newton) replaces statsforecast's golden section: same minimiser up to rounding, or a
    lower SSE.  The chosen alphas are in ``info``.  No fitted values (statsforecast's are O(n^2)).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0.0, 2.0, 0.0, 0.0, 4.0, 0.0, 3.0])
    >>> res = CrostonOptimized().forecast_arrays(y, np.array([0, 7]), h=1)
    >>> bool(res.mean[0, 0] > 0), res.fitted is None
    (True, True)
    """

    _name: ClassVar[str] = "CrostonOptimized"
    _variant: ClassVar[int] = _ki.CROSTON_OPTIMIZED
    _has_fitted: ClassVar[bool] = False
    forward_mode: ClassVar[Literal["none", "frozen", "refit"]] = "frozen"

    def fit_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> tuple[ForecastResult, Params]:
        """:meth:`forecast_arrays` plus the two chosen smoothing constants per series
        (``alpha_size``, ``alpha_interval``; ``fitted`` is False for series without demand)."""
        res = self.forecast_arrays(values, indptr, h)
        a_d = res.info["alpha_size"]
        a_q = res.info["alpha_interval"]
        ok = np.isfinite(a_d) & np.isfinite(a_q)
        return res, {"alpha_size": a_d.copy(), "alpha_interval": a_q.copy(), "fitted": ok}

    def forward_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int, params: Params) -> ForecastResult:
        """Croston's forecast with the smoothing constants of an earlier fit, over new histories.

        The sizes and intervals of the longer history are smoothed with the frozen constants (no
        new search); outputs as :meth:`forecast_arrays`.
        """
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        n = indptr.shape[0] - 1
        a_d = np.ascontiguousarray(params["alpha_size"], dtype=np.float64)
        a_q = np.ascontiguousarray(params["alpha_interval"], dtype=np.float64)
        mean = np.empty((n, h))
        var = np.empty((n, h))
        p = np.empty(n)
        status = np.empty(n, dtype=np.int8)
        _ki.croston_forward_block(values, indptr, a_d, a_q, h, mean, var, p, status)
        info = {"p": p, "alpha_size": a_d.copy(), "alpha_interval": a_q.copy()}
        return ForecastResult(_clip(mean, self.nonnegative, status), var, status, None, "negbin", info)


class TSB(_Intermittent):
    """Teunter-Syntetos-Babai method (Teunter, Syntetos & Babai 2011).

    The demand probability is smoothed every period (``alpha_p``) and the demand size at each demand
    (``alpha_d``); the forecast is their product, so it decays during long runs of zeros
    (obsolescence).  ``var`` uses the smoothed probability as ``p``.

    Parameters
    ----------
    alpha_d : float
        Smoothing constant of the sizes, in [0, 1].
    alpha_p : float
        Smoothing constant of the demand probability, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0.0, 2.0, 0.0, 0.0, 4.0, 0.0])
    >>> res = TSB(0.1, 0.1).forecast_arrays(y, np.array([0, 6]), h=1)
    >>> round(float(res.mean[0, 0]), 6), res.dist
    (0.342342, 'negbin')
    """

    _name: ClassVar[str] = "TSB"

    def __init__(
        self,
        alpha_d: float,
        alpha_p: float,
        alias: str | None = None,
        *,
        nonnegative: bool = True,
        fitted: bool = True,
    ) -> None:
        super().__init__(alias, nonnegative=nonnegative)
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p
        self.fitted = fitted

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        ad = _check_alpha(self.alpha_d, "alpha_d", self._name)
        ap = _check_alpha(self.alpha_p, "alpha_p", self._name)
        n = indptr.shape[0] - 1
        want = bool(self.fitted)
        mean = np.empty((n, h))
        var = np.empty((n, h))
        fit = np.full(values.shape[0], np.nan) if want else np.empty(0)
        p = np.empty(n)
        status = np.empty(n, dtype=np.int8)
        _ki.tsb_block(values, indptr, np.full(n, ad), np.full(n, ap), h, mean, var, fit, want, p, status)
        return ForecastResult(
            _clip(mean, self.nonnegative, status), var, status, fit if want else None, "negbin", {"p": p},
        )


class ADIDA(_Intermittent):
    """Aggregate-disaggregate intermittent demand approach (Nikolopoulos et al. 2011).

    Demand is summed over non-overlapping blocks of ``k`` periods (``k`` = mean interval between
    demands, rounded), the block sums are forecast with SES (alpha by golden section on [0.1, 0.3],
    exactly as statsforecast) and the forecast is divided by ``k``.  ``var`` uses ``p = 1 / mean
    interval``; ``info["aggregation_level"]`` is ``k``.

    Parameters
    ----------
    alias : str, optional
        Output column name.
    nonnegative : bool
        Clip point forecasts at 0.
    exact : bool
        ``False`` (default): choose alpha with our search (grid plus Newton on the analytic SSE
        derivative, about 4x fewer passes than a golden section), whose in-sample SSE is never
        higher than statsforecast's; forecasts differ from statsforecast's by ~1e-9 relative where
        both find the same minimum.  ``True``: replicate statsforecast's golden-section search
        step by step, so the forecasts agree to the last bits (about 2x slower; see
        docs/models_fast.md).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0.0, 2.0, 0.0, 0.0, 4.0, 0.0, 1.0, 0.0])
    >>> res = ADIDA().forecast_arrays(y, np.array([0, 8]), h=1)
    >>> int(res.info["aggregation_level"][0]), round(float(res.mean[0, 0]), 6)
    (2, 0.959)
    """

    _name: ClassVar[str] = "ADIDA"
    _imapa: ClassVar[bool] = False
    #: the aggregation level and its alpha are re-derived from each history (see docs/backtesting.md)
    forward_mode: ClassVar[Literal["none", "frozen", "refit"]] = "refit"

    def __init__(self, alias: str | None = None, *, nonnegative: bool = True, exact: bool = False) -> None:
        super().__init__(alias, nonnegative=nonnegative)
        self.exact = exact

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        values, indptr, h = check_block(values, indptr, h, model=self._name)
        n = indptr.shape[0] - 1
        mean = np.empty((n, h))
        var = np.empty((n, h))
        p = np.empty(n)
        level = np.empty(n, dtype=np.int64)
        status = np.empty(n, dtype=np.int8)
        kmax, nd = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        mi, sv = np.empty(n), np.empty(n)
        # exact=True: the block sums of a block of series, one reused NumPy buffer (huge pages)
        data = np.empty(0)
        for a, b in value_blocks(indptr, _BLOCK_VALUES):
            ip = indptr[a:b + 1]
            n_tasks, total = _ki.adida_plan(values, ip, self._imapa, kmax[a:b], nd[a:b], mi[a:b], sv[a:b])
            if self.exact and data.shape[0] < max(int(total), 1):
                data = np.empty(max(int(total), 1, 2 * data.shape[0]))
            _ki.adida_block(values, ip, self._imapa, self.exact, h, kmax[a:b], nd[a:b], mi[a:b], sv[a:b],
                            int(n_tasks), data, mean[a:b], var[a:b], p[a:b], level[a:b], status[a:b])
        info = {"p": p, "aggregation_level": level}
        return ForecastResult(_clip(mean, self.nonnegative, status), var, status, None, "negbin", info)


class IMAPA(ADIDA):
    """Intermittent multiple aggregation prediction algorithm (Petropoulos & Kourentzes 2015).

    The ADIDA forecast at every aggregation level from 1 to the rounded mean interval, averaged.
    ``info["aggregation_level"]`` is the largest level used.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0.0, 2.0, 0.0, 0.0, 4.0, 0.0, 1.0, 0.0])
    >>> res = IMAPA().forecast_arrays(y, np.array([0, 8]), h=1)
    >>> bool(res.mean[0, 0] > 0)
    True
    """

    _name: ClassVar[str] = "IMAPA"
    _imapa: ClassVar[bool] = True
