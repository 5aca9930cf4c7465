"""AutoModel: classify each series' demand pattern and forecast it with a model of the right family.

Demand is classified by the Syntetos-Boylan-Croston scheme (Syntetos, Boylan & Croston 2005, "On the
categorization of demand patterns", JORS 56(5); cut-offs as revised by Kostenko & Hyndman 2006):
the average inter-demand interval ``ADI`` (periods per non-zero demand) against 1.32 and the squared
coefficient of variation ``CV2`` of the non-zero sizes against 0.49 give four classes:

============  ==========  ==========  =====================================
class         ADI         CV2         default model
============  ==========  ==========  =====================================
smooth        < 1.32      < 0.49      AutoETS
erratic       < 1.32      >= 0.49     AutoETS
intermittent  >= 1.32     < 0.49      CrostonSBA (negative-binomial output)
lumpy         >= 1.32     >= 0.49     CrostonSBA (negative-binomial output)
============  ==========  ==========  =====================================

With ``select="backtest"`` every candidate model of the series' class is backtested on the last
``h`` periods and the one with the lowest mean absolute error is kept, per series.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stockopt._kernels.codes import STATUS_TOO_SHORT
from stockopt._kernels.forecast.classify import classify_demand
from stockopt._params import Boolean, Options, check_param
from stockopt.data import take_series
from stockopt.models._base import ForecastResult, Model, with_params, without_fitted

__all__ = ["AutoModel", "DEMAND_CLASSES", "demand_classes"]

DEMAND_CLASSES: tuple[str, ...] = ("smooth", "erratic", "intermittent", "lumpy")


def demand_classes(values: np.ndarray, indptr: np.ndarray, adi_cut: float = 1.32, cv2_cut: float = 0.49
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classify every series: returns ``(class_code, adi, cv2)`` arrays.

    ``class_code`` indexes :data:`DEMAND_CLASSES`; ``adi`` is in periods per non-zero demand.
    A series without any non-zero demand is ``intermittent`` (code 2) with ``adi = inf`` and
    ``cv2 = 0``.
    """
    n = indptr.shape[0] - 1
    adi = np.empty(n)
    cv2 = np.empty(n)
    code = np.empty(n, dtype=np.int8)
    classify_demand(np.ascontiguousarray(values, dtype=np.float64), np.ascontiguousarray(indptr, dtype=np.int64),
                    adi_cut, cv2_cut, adi, cv2, code)
    return code, adi, cv2


class AutoModel(Model):
    """Pick a forecasting family per series from its demand class (and optionally by backtest).

    Parameters
    ----------
    season_length : int
        Season length (periods) given to the seasonal candidates.
    smooth, erratic, intermittent, lumpy : str or Model or sequence of them
        The model(s) used for each class; with several and ``select="backtest"`` the best per
        series by backtest MAE is kept, otherwise the first.
    select : {"class", "backtest"}
        ``"class"`` uses the first model of each class; ``"backtest"`` chooses among them by the
        mean absolute error over the last ``h`` periods (series shorter than ``2 h`` keep the first).
    nonnegative : bool, optional
        Given, sets ``nonnegative`` of every candidate model (clip its point forecast at 0); by
        default (``None``) each candidate keeps its own.
    alias : str, optional
        Output column name (default ``"AutoModel"``).

    References
    ----------
    Syntetos, A. A., Boylan, J. E. & Croston, J. D. (2005). On the categorization of demand patterns.
    Journal of the Operational Research Society, 56(5), 495-503.
    """

    _name = "AutoModel"
    min_length = 1
    #: backtests without refitting re-classify and refit (see docs/backtesting.md)
    forward_mode = "refit"

    def __init__(
        self,
        season_length: int = 1,
        smooth: str | Model | Sequence[str | Model] = "auto_ets",
        erratic: str | Model | Sequence[str | Model] = "auto_ets",
        intermittent: str | Model | Sequence[str | Model] = "croston_sba",
        lumpy: str | Model | Sequence[str | Model] = "croston_sba",
        select: str = "class",
        alias: str | None = None,
        *,
        nonnegative: bool | None = None,
    ) -> None:
        super().__init__(alias)
        self.season_length = season_length
        self.smooth = smooth
        self.erratic = erratic
        self.intermittent = intermittent
        self.lumpy = lumpy
        self.select = select
        self.nonnegative = nonnegative

    def _candidates(self) -> list[list[Model]]:
        from stockopt.models import resolve_models

        out = []
        for spec in (self.smooth, self.erratic, self.intermittent, self.lumpy):
            specs = [spec] if isinstance(spec, (str, Model)) else list(spec)
            models = [without_fitted(m) for m in resolve_models(specs, season_length=self.season_length)]
            if self.nonnegative is not None:
                models = [with_params(m, nonnegative=self.nonnegative) for m in models]
            out.append(models)
        return out

    def forecast_arrays(self, values: np.ndarray, indptr: np.ndarray, h: int) -> ForecastResult:
        """Classify the series of ``(values, indptr)`` and forecast each with its class's model."""
        check_param(self.select, Options("class", "backtest"), name="select", where=self._name)
        check_param(self.nonnegative, [None, Boolean()], name="nonnegative", where=self._name)

        values = np.ascontiguousarray(values, dtype=np.float64)
        indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        n = indptr.shape[0] - 1
        code, adi, cv2 = demand_classes(values, indptr)
        mean = np.full((n, h), np.nan)
        var = np.full((n, h), np.nan)
        status = np.full(n, STATUS_TOO_SHORT, dtype=np.int8)
        dist = np.empty(n, dtype=object)
        chosen = np.empty(n, dtype=object)
        for c, models in enumerate(self._candidates()):
            idx = np.flatnonzero(code == c)
            if idx.size == 0:
                continue
            sub_vals, sub_ptr = take_series(values, indptr, idx)
            pick = np.zeros(idx.size, dtype=np.int64)
            if self.select == "backtest" and len(models) > 1:
                pick = self._backtest_pick(models, sub_vals, sub_ptr, h)
            for k, model in enumerate(models):
                sel = np.flatnonzero(pick == k)
                if sel.size == 0:
                    continue
                if sel.size == idx.size:
                    vals_k, ptr_k = sub_vals, sub_ptr
                else:
                    vals_k, ptr_k = take_series(sub_vals, sub_ptr, sel)
                res = model.forecast_arrays(vals_k, ptr_k, h)
                rows = idx[sel]
                mean[rows] = res.mean
                if res.var is not None:
                    var[rows] = res.var
                status[rows] = res.status
                dist[rows] = res.dist
                chosen[rows] = model.name
        info = {"demand_class": code, "adi": adi, "cv2": cv2, "model": chosen}
        has_var = bool(np.isfinite(var).all(axis=1).any()) or n == 0
        uniform = {d for d in dist if d is not None}
        out_dist: str | np.ndarray = uniform.pop() if len(uniform) == 1 else dist
        return ForecastResult(mean=mean, var=var if has_var else None, status=status, dist=out_dist, info=info)

    @staticmethod
    def _backtest_pick(models: list[Model], values: np.ndarray, indptr: np.ndarray, h: int) -> np.ndarray:
        """Per series, the index of the model with the lowest MAE on the last ``h`` periods."""
        lengths = np.diff(indptr)
        ok = lengths >= 2 * h
        pick = np.zeros(lengths.shape[0], dtype=np.int64)
        if not ok.any():
            return pick
        idx = np.flatnonzero(ok)
        tl = lengths[idx] - h
        train, ptr = take_series(values, indptr, idx, tl)
        actual = values[indptr[idx][:, None] + tl[:, None] + np.arange(h)[None, :]]
        errors = np.full((len(models), idx.size), np.inf)
        for k, model in enumerate(models):
            res = model.forecast_arrays(train, ptr, h)
            mae = np.abs(res.mean - actual).mean(axis=1)
            errors[k] = np.where(np.isfinite(mae), mae, np.inf)
        pick[idx] = np.argmin(errors, axis=0)
        return pick
