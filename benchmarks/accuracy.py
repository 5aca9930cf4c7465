"""Hold-out accuracy and interval coverage, ours against statsforecast, on real and synthetic data.

For each data set the last ``h`` periods of every series are held out; both libraries forecast them
from the rest.  Reported per model: mean MASE (scale: in-sample seasonal naive MAE), the share of
held-out actuals inside the 80 % and 95 % intervals (coverage) for both libraries (statsforecast's
model-based intervals where it has them, its conformal intervals with 2 windows otherwise, as ours),
plus wall time.

    python benchmarks/accuracy.py                 # every data set, default sizes (minutes)
    python benchmarks/accuracy.py --sets m5 raf    # a subset
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pyarrow as pa

import stockopt as so
from stockopt.datasets import DATASETS, load_dataset, shared_data_dir

SETS = {  # name: (h, season, max series)
    "synthetic": (28, 7, 300),
    "m5": (28, 7, None),
    "stallion": (6, 12, None),
    "raf": (6, 12, 1000),
    "manufacturing": (8, 52, 500),
}


def _load(name: str, limit: int | None) -> pa.Table:
    if name == "synthetic":
        return so.datasets.synthetic_retail(limit or 300, 730, seed=42).select(["unique_id", "ds", "y"])
    t = load_dataset(name, columns=["unique_id", "ds", "y"])
    g = so.group_series(t, freq=DATASETS[name].freq, missing="zero")
    if limit is not None and g.n_series > limit:
        g = g.take(np.arange(limit))
    return g.to_arrow()


def _split(g: so.GroupedSeries, h: int):
    keep = np.flatnonzero(g.lengths > 2 * h)
    g = g.take(keep)
    tl = g.lengths - h
    train = g.take(np.arange(g.n_series), lengths=tl)
    test = g.values[g.indptr[:-1][:, None] + tl[:, None] + np.arange(h)[None, :]]
    return train, test


def _mase(train: so.GroupedSeries, test: np.ndarray, pred: np.ndarray, m: int) -> np.ndarray:
    scale = np.empty(train.n_series)
    for i in range(train.n_series):  # evaluation only, not a hot path
        s = train.series(i)
        d = np.abs(s[m:] - s[:-m]) if s.size > m else np.abs(np.diff(s))
        scale[i] = d.mean() if d.size and d.mean() > 0 else np.nan
    return np.abs(test - pred).mean(axis=1) / scale


def run(name: str) -> None:
    h, m, limit = SETS[name]
    g = so.group_series(_load(name, limit), missing="zero")
    train, test = _split(g, h)
    df = train.to_arrow().to_pandas()
    import pandas as pd

    df["ds"] = pd.to_datetime(df["ds"])
    from statsforecast import StatsForecast
    from statsforecast import models as sfm
    from statsforecast.utils import ConformalIntervals

    pairs = [
        ("SeasonalNaive", so.models.SeasonalNaive(m), sfm.SeasonalNaive(m)),
        ("CrostonSBA", so.models.CrostonSBA(),
         sfm.CrostonSBA(prediction_intervals=ConformalIntervals(h=h, n_windows=2))),
        ("AutoTheta", so.models.AutoTheta(season_length=m), sfm.AutoTheta(season_length=m)),
        ("AutoETS", so.models.AutoETS(season_length=m), sfm.AutoETS(season_length=m)),
        ("AutoModel", so.models.AutoModel(season_length=m), None),
    ]
    print(f"\n== {name}: {train.n_series} series, h={h}, season {m}")
    print(f"{'model':<14} {'MASE ours':>10} {'MASE peer':>10} {'cov80':>7} {'cov95':>7} {'peer80':>7} {'peer95':>7} "
          f"{'ours s':>8} {'peer s':>8}")
    for label, ours, peer in pairs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            fc = so.forecast(train, h=h, models=[ours], level=[80, 95])
            t_ours = time.perf_counter() - t
        pred = fc[ours.name].to_numpy().reshape(-1, h)
        lo80, hi80 = (fc[f"{ours.name}-{s}-80"].to_numpy().reshape(-1, h) for s in ("lo", "hi"))
        lo95, hi95 = (fc[f"{ours.name}-{s}-95"].to_numpy().reshape(-1, h) for s in ("lo", "hi"))
        cov80 = np.mean((test >= lo80) & (test <= hi80))
        cov95 = np.mean((test >= lo95) & (test <= hi95))
        mase_o = np.nanmean(_mase(train, test, pred, m))
        mase_p, t_peer, pc80, pc95 = (float("nan"),) * 4
        if peer is not None:
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pf = StatsForecast(models=[peer], freq=train.freq.alias, n_jobs=1).forecast(df=df, h=h,
                                                                                            level=[80, 95])
            t_peer = time.perf_counter() - t
            pf = pf.sort_values(["unique_id", "ds"])
            pcol = [c for c in pf.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c][0]
            pp = np.maximum(pf[pcol].to_numpy().reshape(-1, h), 0)
            mase_p = np.nanmean(_mase(train, test, pp, m))
            bounds = {c: np.maximum(pf[f"{pcol}-{c}"].to_numpy().reshape(-1, h), 0)
                      for c in ("lo-80", "hi-80", "lo-95", "hi-95")}
            pc80 = np.mean((test >= bounds["lo-80"]) & (test <= bounds["hi-80"]))
            pc95 = np.mean((test >= bounds["lo-95"]) & (test <= bounds["hi-95"]))
        print(f"{label:<14} {mase_o:>10.4f} {mase_p:>10.4f} {cov80:>7.3f} {cov95:>7.3f} {pc80:>7.3f} {pc95:>7.3f} "
              f"{t_ours:>8.2f} {t_peer:>8.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    args = ap.parse_args()
    for name in args.sets:
        if name != "synthetic" and shared_data_dir() is None:
            print(f"skip {name}: the shared data folder is absent")
            continue
        run(name)


if __name__ == "__main__":
    main()
