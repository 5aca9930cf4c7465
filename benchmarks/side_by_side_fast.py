"""Side-by-side timing of the fast models (baselines, SES, intermittent family) against statsforecast.

``cases(n_series, length)`` returns ``(label, ours, peer)`` closures over prepared data: ``ours``
runs one stockopt model over all series in one call (one thread), ``peer`` runs
``StatsForecast(models=[...], freq="D", n_jobs=1).forecast(df=..., h=28)`` on the same series.
A ``floor`` case times one plain compiled SES pass over the same data (the "single compiled pass"
yardstick of PERFORMANCE.md).

Run by hand: ``PYTHONPATH=src .venv/bin/python benchmarks/side_by_side_fast.py 1000 730``.
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
NAMES = ("Naive", "SeasonalNaive", "HistoricAverage", "WindowAverage", "SeasWA", "SES", "SESOpt",
         "CrostonClassic", "CrostonSBA", "CrostonOptimized", "TSB", "ADIDA", "IMAPA", "ADIDA(exact=True)",
         "IMAPA(exact=True)")


def _floor_kernel():  # type: ignore[no-untyped-def]
    import numba

    from stockopt._config import NUMBA_OPTS

    @numba.njit(**NUMBA_OPTS)
    def ses_pass(values, indptr, alpha, out):  # pragma: no cover - compiled
        for i in range(indptr.shape[0] - 1):
            f = values[indptr[i]]
            for t in range(indptr[i] + 1, indptr[i + 1]):
                f = alpha * values[t - 1] + (1.0 - alpha) * f
            out[i] = f

    return ses_pass


def cases(n_series: int, length: int) -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    """(label, ours, peer) for every fast model at horizon 28 (season 7 where it applies)."""
    from statsforecast import models as sfm

    from stockopt.models import baselines as b
    from stockopt.models import intermittent as im

    values, indptr, df = daily_series(n_series, length)
    pairs = [
        ("Naive", b.Naive(fitted=False), sfm.Naive()),
        ("SeasonalNaive", b.SeasonalNaive(SEASON, fitted=False), sfm.SeasonalNaive(SEASON)),
        ("HistoricAverage", b.HistoricAverage(fitted=False), sfm.HistoricAverage()),
        ("WindowAverage", b.WindowAverage(SEASON), sfm.WindowAverage(SEASON)),
        ("SeasWA", b.SeasonalWindowAverage(SEASON, 4), sfm.SeasonalWindowAverage(SEASON, 4)),
        ("SES", b.SimpleExponentialSmoothing(0.1, fitted=False), sfm.SimpleExponentialSmoothing(0.1)),
        (
            "SESOpt",
            b.SimpleExponentialSmoothingOptimized(fitted=False),
            sfm.SimpleExponentialSmoothingOptimized(),
        ),
        ("CrostonClassic", im.CrostonClassic(fitted=False), sfm.CrostonClassic()),
        ("CrostonSBA", im.CrostonSBA(fitted=False), sfm.CrostonSBA()),
        ("CrostonOptimized", im.CrostonOptimized(), sfm.CrostonOptimized()),
        ("TSB", im.TSB(0.1, 0.1, fitted=False), sfm.TSB(0.1, 0.1)),
        ("ADIDA", im.ADIDA(), sfm.ADIDA()),
        ("IMAPA", im.IMAPA(), sfm.IMAPA()),
        # statsforecast's golden section replicated step by step (see docs/models_fast.md)
        ("ADIDA(exact=True)", im.ADIDA(exact=True), sfm.ADIDA()),
        ("IMAPA(exact=True)", im.IMAPA(exact=True), sfm.IMAPA()),
    ]
    return model_cases(pairs, values, indptr, df, H)


def floor(n_series: int, length: int) -> Callable[[], object]:
    """One plain compiled SES pass over the same data (the speed floor)."""
    values, indptr, _ = daily_series(n_series, length)
    kern = _floor_kernel()
    res = np.empty(n_series)
    return lambda: kern(values, indptr, 0.1, res)



def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str]) -> None:
    n_series = int(argv[1]) if len(argv) > 1 else 200
    length = int(argv[2]) if len(argv) > 2 else 730
    repeat = int(argv[3]) if len(argv) > 3 else 3
    fl = floor(n_series, length)
    fl()
    t_floor = best(fl, repeat)
    print(f"{n_series} series x {length} days; one compiled SES pass: {t_floor * 1e3:.2f} ms "
          f"({n_series / t_floor:,.0f} series/s)")
    print(f"{'case':<24}{'ours ms':>10}{'peer ms':>10}{'ratio':>9}{'ours series/s':>16}{'x floor':>9}")
    for label, ours, peer in cases(n_series, length):
        t0 = time.perf_counter()
        ours()
        cold = time.perf_counter() - t0
        peer()
        t_ours = best(ours, repeat)
        t_peer = best(peer, repeat)
        print(f"{label:<24}{t_ours * 1e3:>10.2f}{t_peer * 1e3:>10.1f}{t_peer / t_ours:>9.1f}"
              f"{n_series / t_ours:>16,.0f}{t_ours / t_floor:>9.1f}   (first call {cold * 1e3:.0f} ms)")
    print(f"peak RSS {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main(sys.argv)
