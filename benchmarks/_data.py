"""The data every side-by-side benchmark shares: synthetic daily retail series, as grouped arrays
for our kernels and as the pandas frame statsforecast wants (the same numbers in both)."""

from __future__ import annotations

import numpy as np


def daily_series(n_series: int, length: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, object]:
    """``(values, indptr, df)`` for ``n_series`` synthetic daily series of ``length`` days."""

    import stockopt as so

    table = so.datasets.synthetic_retail(n_series, length, seed=seed).select(["unique_id", "ds", "y"])
    g = so.group_series(table, freq="D")
    df = table.to_pandas()
    df["ds"] = df["ds"].astype("datetime64[ns]")
    return g.values, g.indptr, df


def model_cases(pairs, values: np.ndarray, indptr: np.ndarray, df: object, h: int, freq: str = "D"):
    """``(label, ours, peer)`` closures for ``(name, our_model, statsforecast_model)`` pairs:
    ours runs the kernel over all series in one call, the peer runs ``StatsForecast.forecast``."""
    import warnings

    from statsforecast import StatsForecast

    out = []
    for name, ours, peer in pairs:
        def run_ours(model=ours) -> object:
            return model.forecast_arrays(values, indptr, h)

        def run_peer(model=peer) -> object:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return StatsForecast(models=[model], freq=freq, n_jobs=1).forecast(df=df, h=h)

        out.append((f"{name} h={h}", run_ours, run_peer))
    return out


def best(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls of ``fn`` (seconds)."""
    import time

    t_best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t_best = min(t_best, time.perf_counter() - t0)
    return t_best
