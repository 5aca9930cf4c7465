"""Side-by-side timing of the Theta family against statsforecast 2.1.1 (same data, same process).

``cases(n_series, length)`` returns ``(label, ours, peer)`` closures over prepared data: ``ours``
runs one stockopt model over all series in one call, ``peer`` runs
``StatsForecast(models=[...], freq="D", n_jobs=1).forecast(df=..., h=28)`` on the same series.

Run by hand: ``PYTHONPATH=src .venv/bin/python benchmarks/side_by_side_theta.py 100 730``.
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Callable

import numpy as np

from _data import best, daily_series, model_cases

H = 28
SEASON = 7
#: the cases of ``cases()``, in its order (the pytest-benchmark suite parametrises over them)
NAMES = ("AutoTheta", "Theta", "OptimizedTheta", "DynamicTheta", "DynamicOptimizedTheta")


def cases(n_series: int, length: int) -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    """(label, ours, peer) for AutoTheta and the four fixed variants at horizon 28, season 7."""
    from statsforecast import models as sfm

    from stockopt.models import theta as ours_mod

    values, indptr, df = daily_series(n_series, length)
    pairs = [
        ("AutoTheta", ours_mod.AutoTheta(SEASON), sfm.AutoTheta(season_length=SEASON)),
        ("Theta", ours_mod.Theta(SEASON), sfm.Theta(season_length=SEASON)),
        ("OptimizedTheta", ours_mod.OptimizedTheta(SEASON), sfm.OptimizedTheta(season_length=SEASON)),
        ("DynamicTheta", ours_mod.DynamicTheta(SEASON), sfm.DynamicTheta(season_length=SEASON)),
        ("DynamicOptimizedTheta", ours_mod.DynamicOptimizedTheta(SEASON),
         sfm.DynamicOptimizedTheta(season_length=SEASON)),
    ]
    return model_cases(pairs, values, indptr, df, H)



def main(argv: list[str]) -> None:
    n_series = int(argv[1]) if len(argv) > 1 else 100
    length = int(argv[2]) if len(argv) > 2 else 730
    t0 = time.perf_counter()
    from stockopt.models.theta import AutoTheta

    AutoTheta(SEASON).forecast_arrays(np.arange(40.0), np.array([0, 40]), 3)
    print(f"stockopt theta warm-up (numba load/compile): {time.perf_counter() - t0:.2f} s")
    print(f"{n_series} series x {length} days, h={H}, season {SEASON}, one thread")
    for label, ours, peer in cases(n_series, length):
        ours()
        peer()
        t_ours = best(ours, 5)
        t_peer = best(peer, 1 if n_series * length > 20_000 else 3)
        print(f"{label:32s} ours {t_ours:9.4f} s ({n_series / t_ours:10.1f} series/s)   "
              f"statsforecast {t_peer:9.3f} s ({n_series / t_peer:8.1f} series/s)   ratio {t_peer / t_ours:8.1f}x")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main(sys.argv)
