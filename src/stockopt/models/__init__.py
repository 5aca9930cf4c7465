"""Forecasting models: each a compiled kernel over grouped arrays behind a small class.

Models are given to :func:`stockopt.forecast` as objects (``so.models.AutoETS(season_length=7)``)
or by name (``"auto_ets"``); :data:`MODEL_NAMES` lists the names.  Classes are imported lazily so
``import stockopt`` stays fast and compiles nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from stockopt._params import Instance, Integer, check_param, validate_params
from stockopt.errors import ParameterError, raise_error
from stockopt.models._base import ForecastResult, Model

# public class name -> module that defines it
_CLASSES: dict[str, str] = {
    "Naive": "baselines",
    "SeasonalNaive": "baselines",
    "HistoricAverage": "baselines",
    "WindowAverage": "baselines",
    "SeasonalWindowAverage": "baselines",
    "SimpleExponentialSmoothing": "baselines",
    "SimpleExponentialSmoothingOptimized": "baselines",
    "CrostonClassic": "intermittent",
    "CrostonOptimized": "intermittent",
    "CrostonSBA": "intermittent",
    "TSB": "intermittent",
    "ADIDA": "intermittent",
    "IMAPA": "intermittent",
    "Theta": "theta",
    "OptimizedTheta": "theta",
    "DynamicTheta": "theta",
    "DynamicOptimizedTheta": "theta",
    "AutoTheta": "theta",
    "ETS": "ets",
    "AutoETS": "ets",
    "Holt": "ets",
    "HoltWinters": "ets",
    "AutoModel": "auto",
}

# string name -> (class name, keyword arguments; "season" marks where season_length goes)
_NAMES: dict[str, tuple[str, dict[str, Any]]] = {
    "naive": ("Naive", {}),
    "seasonal_naive": ("SeasonalNaive", {"season_length": "season"}),
    "historic_average": ("HistoricAverage", {}),
    "window_average": ("WindowAverage", {"window_size": "season"}),
    "seasonal_window_average": ("SeasonalWindowAverage", {"season_length": "season", "window_size": 4}),
    "ses": ("SimpleExponentialSmoothing", {"alpha": 0.1}),
    "ses_optimized": ("SimpleExponentialSmoothingOptimized", {}),
    "croston": ("CrostonClassic", {}),
    "croston_classic": ("CrostonClassic", {}),
    "croston_optimized": ("CrostonOptimized", {}),
    "croston_sba": ("CrostonSBA", {}),
    "tsb": ("TSB", {"alpha_d": 0.1, "alpha_p": 0.1}),
    "adida": ("ADIDA", {}),
    "imapa": ("IMAPA", {}),
    "theta": ("Theta", {"season_length": "season"}),
    "optimized_theta": ("OptimizedTheta", {"season_length": "season"}),
    "dynamic_theta": ("DynamicTheta", {"season_length": "season"}),
    "dynamic_optimized_theta": ("DynamicOptimizedTheta", {"season_length": "season"}),
    "auto_theta": ("AutoTheta", {"season_length": "season"}),
    "ets": ("AutoETS", {"season_length": "season"}),
    "auto_ets": ("AutoETS", {"season_length": "season"}),
    "holt": ("Holt", {}),
    "holt_winters": ("HoltWinters", {"season_length": "season"}),
    "auto": ("AutoModel", {"season_length": "season"}),
}

MODEL_NAMES: tuple[str, ...] = tuple(sorted(_NAMES))

#: the rule of one model given to the API: a name of :data:`MODEL_NAMES` or a Model object
MODEL_SPEC = Instance(str, Model, name="a model name or a stockopt Model")

__all__ = ["Model", "ForecastResult", "MODEL_NAMES", "MODEL_SPEC", "make_model", "resolve_models", *_CLASSES]


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        module = importlib.import_module(f"stockopt.models.{_CLASSES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'stockopt.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


@validate_params({"season_length": Integer(1)})
def make_model(name: str, *, season_length: int = 1) -> Model:
    """Build a model from its string name with default settings.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES` (case and ``-``/``_`` do not matter).
    season_length : int
        Season length (periods, >= 1) given to the seasonal models.

    Examples
    --------
    >>> make_model("seasonal_naive", season_length=7).season_length
    7
    """
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in _NAMES:
        raise_error(ParameterError, "unknown model name", parameter="name",
                    expected=f"one of {', '.join(MODEL_NAMES)} or a Model object", got=name)
    cls_name, kwargs = _NAMES[key]
    cls = __getattr__(cls_name)
    args = {k: (season_length if v == "season" else v) for k, v in kwargs.items()}
    return cls(**args)


@validate_params({"season_length": Integer(1)})
def resolve_models(models: Sequence[Model | str] | Model | str, *, season_length: int = 1) -> list[Model]:
    """Turn a model, a name, or a sequence of them into a list of models with distinct names.

    Examples
    --------
    >>> [m.name for m in resolve_models(["naive", make_model("croston_sba")], season_length=7)]
    ['Naive', 'CrostonSBA']
    """
    if isinstance(models, (str, Model)):
        models = [models]
    if not models:
        raise_error(ParameterError, "no model", parameter="models",
                    expected="at least one model or model name", got=models)
    out = []
    for m in models:
        check_param(m, MODEL_SPEC, name="models", where="resolve_models")
        out.append(m if isinstance(m, Model) else make_model(m, season_length=season_length))
    names = [m.name for m in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise_error(ParameterError, "two models share the output name", parameter="models",
                    expected="distinct names (give one of them alias=...)", got=dup)
    return out
