"""Side-by-side timing and accuracy of the ETS family against statsforecast 2.1.1.

``cases(n_series, length)`` returns ``(label, ours, peer)`` closures over prepared data: ``ours``
runs one stockopt model over all series in one call (one thread), ``peer`` runs
``StatsForecast(models=[...], freq="D", n_jobs=1).forecast(df=..., h=28)`` on the same series
(``stockopt.datasets.synthetic_retail``, daily, season 7).

Run by hand: ``PYTHONPATH=src .venv/bin/python benchmarks/side_by_side_ets.py 200 730``; it also
prints the mean AICc difference and the 28-day hold-out MASE of both (AutoETS only).
"""

from __future__ import annotations

import resource
import sys
import time
import warnings
from typing import Callable

import numpy as np

from _data import best, daily_series, model_cases

H = 28
SEASON = 7
#: the cases of ``cases()``, in its order (the pytest-benchmark suite parametrises over them)
NAMES = ("AutoETS", "HoltWinters", "Holt")


def cases(n_series: int, length: int) -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    """``(label, ours, peer)`` for AutoETS, Holt and HoltWinters on ``n_series`` daily series."""
    import statsforecast.models as sfm

    import stockopt.models.ets as ours_mod

    values, indptr, df = daily_series(n_series, length)
    pairs = [
        ("AutoETS", ours_mod.AutoETS(season_length=SEASON), sfm.AutoETS(season_length=SEASON)),
        ("HoltWinters", ours_mod.HoltWinters(season_length=SEASON), sfm.HoltWinters(season_length=SEASON)),
        ("Holt", ours_mod.Holt(season_length=SEASON), sfm.Holt(season_length=SEASON)),
    ]
    return model_cases(pairs, values, indptr, df, H)


def accuracy(n_series: int, length: int) -> dict[str, float]:
    """Hold-out MASE (last 28 days, seasonal-naive scale) and AICc difference, ours vs statsforecast."""
    from statsforecast.models import AutoETS as SfAutoETS

    from stockopt.models.ets import AutoETS

    values, indptr, _ = daily_series(n_series, length)
    ys = [values[indptr[i]:indptr[i + 1]] for i in range(n_series)]
    train = [y[:-H] for y in ys]
    tv = np.concatenate(train)
    tp = np.r_[0, np.cumsum([len(y) for y in train])].astype(np.int64)
    res = AutoETS(season_length=SEASON).forecast_arrays(tv, tp, H)
    mo, ms, d = [], [], []
    for i, y in enumerate(ys):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = SfAutoETS(season_length=SEASON).fit(train[i])
            fc = fit.predict(H)["mean"]
        scale = np.mean(np.abs(train[i][SEASON:] - train[i][:-SEASON]))
        if scale > 0:
            mo.append(np.mean(np.abs(y[-H:] - res.mean[i])) / scale)
            ms.append(np.mean(np.abs(y[-H:] - fc)) / scale)
        d.append(res.info["aicc"][i] - fit.model_["aicc"])
    d = np.array(d)
    return {"mase_ours": float(np.mean(mo)), "mase_peer": float(np.mean(ms)),
            "aicc_diff_mean": float(np.mean(d)), "share_aicc_no_worse": float(np.mean(d <= 0.5)),
            "evals_per_series": float(np.mean(res.info["n_evals"]))}



def main(argv: list[str]) -> None:
    n_series = int(argv[1]) if len(argv) > 1 else 100
    length = int(argv[2]) if len(argv) > 2 else 730
    t0 = time.perf_counter()
    from stockopt.models.ets import AutoETS

    AutoETS(season_length=SEASON).forecast_arrays(np.arange(1.0, 41.0), np.array([0, 40]), 3)
    print(f"stockopt ETS warm-up (numba load/compile): {time.perf_counter() - t0:.2f} s")
    print(f"{n_series} series x {length} days, h={H}, season {SEASON}, one thread")
    for label, ours, peer in cases(n_series, length):
        ours()
        t_ours = best(ours, 3)
        t_peer = best(peer, 1)
        print(f"{label:24s} ours {t_ours:9.3f} s ({n_series / t_ours:8.1f} series/s)   "
              f"statsforecast {t_peer:9.3f} s ({n_series / t_peer:7.2f} series/s)   ratio {t_peer / t_ours:6.1f}x")
    if "--accuracy" in argv:
        print("accuracy (AutoETS):", accuracy(n_series, length))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main([a for a in sys.argv])
