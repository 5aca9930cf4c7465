"""The data every side-by-side benchmark shares: synthetic daily retail series, as grouped arrays
for our kernels and as the pandas frame statsforecast wants (the same numbers in both)."""

from __future__ import annotations

import numpy as np


def daily_series(n_series: int, length: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, object]:
    """``(values, indptr, df)`` for ``n_series`` synthetic daily series of ``length`` days."""
    import pandas as pd

    import stockopt as so

    table = so.datasets.synthetic_retail(n_series, length, seed=seed).select(["unique_id", "ds", "y"])
    g = so.group_series(table, freq="D")
    df = table.to_pandas()
    df["ds"] = df["ds"].astype("datetime64[ns]")
    return g.values, g.indptr, df
