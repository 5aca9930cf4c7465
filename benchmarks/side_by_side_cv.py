"""Side-by-side timing of backtests without refitting: ``cross_validation(refit=False)``.

``cases(n_series, length)`` returns ``(label, ours, peer)`` closures: ``ours`` runs
``stockopt.cross_validation(grouped, h=28, n_windows=3, step_size=28, models=[...], refit=False)``
over all series (one thread; the series are grouped beforehand, as statsforecast gets its frame
ready-made), ``peer`` runs ``StatsForecast(models=[...], freq="D", n_jobs=1).cross_validation(df=...,
h=28, n_windows=3, step_size=28, refit=False)`` on the same series
(``stockopt.datasets.synthetic_retail``, daily, season 7).

Run by hand: ``PYTHONPATH=src .venv/bin/python benchmarks/side_by_side_cv.py 100 365``; it also
prints how much ``refit=False`` saves over ``refit=True`` for us.
"""

from __future__ import annotations

import resource
import sys
import time
import warnings
from collections.abc import Callable

from _data import best

H = 28
SEASON = 7
N_WINDOWS = 3
#: the cases of ``cases()``, in its order (the pytest-benchmark suite parametrises over them)
NAMES = ("AutoETS CV", "AutoTheta CV")


def _data(n_series: int, length: int):
    import stockopt as so

    table = so.datasets.synthetic_retail(n_series, length, seed=0).select(["unique_id", "ds", "y"])
    grouped = so.group_series(table, freq="D")
    df = table.to_pandas()
    df["ds"] = df["ds"].astype("datetime64[ns]")
    return grouped, df


def _ours(grouped, model, refit: bool | int) -> Callable[[], object]:
    import stockopt as so

    def run() -> object:
        return so.cross_validation(grouped, h=H, n_windows=N_WINDOWS, step_size=H, models=[model], refit=refit)

    return run


def cases(n_series: int, length: int) -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    """``(label, ours, peer)`` for AutoETS and AutoTheta backtests with ``refit=False``."""
    import statsforecast.models as sfm
    from statsforecast import StatsForecast

    from stockopt.models import AutoETS, AutoTheta

    grouped, df = _data(n_series, length)
    out = []
    for name, ours, peer in [("AutoETS", AutoETS(season_length=SEASON), sfm.AutoETS(season_length=SEASON)),
                             ("AutoTheta", AutoTheta(season_length=SEASON), sfm.AutoTheta(season_length=SEASON))]:
        def run_peer(model=peer) -> object:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return StatsForecast(models=[model], freq="D", n_jobs=1).cross_validation(
                    df=df, h=H, n_windows=N_WINDOWS, step_size=H, refit=False)

        out.append((f"{name} CV refit=False w={N_WINDOWS} h={H}", _ours(grouped, ours, False), run_peer))
    return out


def main(argv: list[str]) -> None:
    n_series = int(argv[1]) if len(argv) > 1 else 50
    length = int(argv[2]) if len(argv) > 2 else 365
    from stockopt.models import AutoETS, AutoTheta

    print(f"{n_series} series x {length} days, h={H}, {N_WINDOWS} windows, season {SEASON}, one thread")
    for label, ours, peer in cases(n_series, length):
        t0 = time.perf_counter()
        ours()
        warm = time.perf_counter() - t0
        t_ours = best(ours, 3)
        t_peer = best(peer, 1)
        print(f"{label:34s} ours {t_ours:8.3f} s (first call {warm:6.2f} s)   statsforecast {t_peer:8.3f} s   "
              f"ratio {t_peer / t_ours:6.1f}x")
    grouped, _ = _data(n_series, length)
    for model in (AutoETS(season_length=SEASON), AutoTheta(season_length=SEASON)):
        t_true = best(_ours(grouped, model, True), 3)
        t_false = best(_ours(grouped, model, False), 3)
        print(f"{model.name:10s} ours refit=True {t_true:8.3f} s   refit=False {t_false:8.3f} s   "
              f"saving {t_true / t_false:5.2f}x")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main(list(sys.argv))
