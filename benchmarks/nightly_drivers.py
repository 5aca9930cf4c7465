"""Hold-out accuracy of the nightly run with and without drivers (``run_nightly(X_future=)``) on the real
sets that carry prices and promotions: the worked example of docs/signals.md.

The split is :mod:`benchmarks.drivers_accuracy`'s (the last ``h`` periods of every series held out;
the drivers' values over them - prices, deals, features, events, known in advance in practice - are
the ``X_future`` table).  The nightly run forecasts from the history (a) from the sales alone and
(b) with ``X_future``; its effects are pooled over every series (the nightly run has one pool, where
``drivers_accuracy.py`` pools per brand).  Reported: MAE, MASE (scale: the in-sample MAE of the
seasonal naive forecast), share of series where (b) has the lower absolute error, and the summary's
drivers, demand classes and data-quality findings.  The same through ``so.plan`` with 3 partitions
gives the identical forecast (checked here).

    python benchmarks/nightly_drivers.py                       # Dominick's orange juice and the M5 sample
    python benchmarks/nightly_drivers.py --sets orange_juice
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import stockopt as so

sys.path.insert(0, str(Path(__file__).resolve().parent))
from drivers_accuracy import SETS, split  # noqa: E402

MODELS = {"orange_juice": ["ses_optimized", "auto_theta"], "m5": ["ses_optimized", "auto"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", nargs="*", default=list(MODELS))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'set':<13} {'model':<14} {'series':>6} {'h':>3}  {'MAE plain':>9} {'drivers':>8}  "
          f"{'MASE plain':>10} {'drivers':>8}  {'better':>6}  {'seconds':>9}")
    for name in args.sets:
        train, spec, actual, scale, h, freq, season, _ = split(name)
        fill = SETS[name][3]
        pool_by = SETS[name][6]
        hist = train.drop_columns([pool_by]) if pool_by else train
        fut = spec.future
        n = actual.shape[0]
        opts = dict(freq=freq, fill_gaps=fill, missing="zero", level=[80])
        for model in MODELS[name]:
            t0 = time.perf_counter()
            plain = so.run_nightly(hist.select(["unique_id", "ds", "y"]), h=h, models=[model], **opts)
            t1 = time.perf_counter()
            drv = so.run_nightly(hist, h=h, models=[model], X_future=fut, **opts)
            t2 = time.perf_counter()
            col = plain.forecast.column_names[2]
            fp = plain.forecast.sort_by("unique_id")[col].to_numpy().reshape(n, h)
            fd = drv.forecast.sort_by("unique_id")[col].to_numpy().reshape(n, h)
            ok = scale > 0
            e_p = np.abs(fp - actual).mean(axis=1)
            e_d = np.abs(fd - actual).mean(axis=1)
            print(f"{name:<13} {model:<14} {n:>6} {h:>3}  {e_p.mean():>9.3f} {e_d.mean():>8.3f}  "
                  f"{(e_p[ok] / scale[ok]).mean():>10.3f} {(e_d[ok] / scale[ok]).mean():>8.3f}  "
                  f"{(e_d < e_p).mean():>6.0%}  {t1 - t0:>4.1f}/{t2 - t1:.1f}", flush=True)
        s = drv.summary
        print("   drivers:", ", ".join(f"{k} {v['kind']} {v['effect']:.3f}" for k, v in s["drivers"].items()))
        print("   demand classes:", s["demand_classes"])
        print("   data quality:", {k: (v["severity"], v["series"]) for k, v in s["data_quality"].items()})
        parts = so.plan(hist, h=h, models=[MODELS[name][-1]], X_future=fut, n_partitions=3, **opts)
        assert parts.forecast.equals(drv.forecast.sort_by([("unique_id", "ascending"), ("ds", "ascending")]))
        print("   so.plan with 3 partitions: identical forecast")


if __name__ == "__main__":
    main()
