"""Speed of the demand-signal functions, and what stockout correction costs each model.

For each model: ``so.forecast`` on the sales as they are, and with ``censored="in_stock"``, best of
``--repeat`` warm runs (numba compiled beforehand), in the same process on the same table; the ratio
is the price of the correction.  Then the data-quality functions on the same table (sorted input,
and the same rows shuffled).  Peak RSS at the end.

    python benchmarks/signals_speed.py                          # 10,000 x 730 fast models, 2,000 for ETS
    python benchmarks/signals_speed.py --n-series 2000 --slow-series 500
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pyarrow as pa

import stockopt as so
from stockopt.signals import check_data, classify_demand, detect_stockouts, estimate_demand

FAST = ["ses_optimized", "croston_sba", "tsb", "adida", "seasonal_naive", "historic_average", "auto_theta"]
SLOW = ["auto_ets", "auto"]


def best(fn, repeat):
    t_best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t_best = min(t_best, time.perf_counter() - t0)
    return t_best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-series", type=int, default=10_000)
    ap.add_argument("--slow-series", type=int, default=2_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", nargs="*", default=FAST, help="models run on --n-series")
    ap.add_argument("--slow-models", nargs="*", default=SLOW, help="models run on --slow-series")
    ap.add_argument("--no-quality", action="store_true", help="skip the data-quality timings")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    sales = so.datasets.synthetic_retail(args.n_series, args.days, seed=3, stockout_share=0.3,
                                         stockout_rate=1 / 120, stockout_days=(7, 28))
    sales = sales.select(["unique_id", "ds", "y", "in_stock"])
    plain = sales.select(["unique_id", "ds", "y"])
    small = sales.slice(0, 40 * args.days)
    share_out = np.mean(~sales["in_stock"].to_numpy(zero_copy_only=False))
    print(f"{args.n_series} x {args.days} days, {share_out:.1%} "
          f"of days out of stock; best of {args.repeat}\n")
    print(f"{'model':<18} {'series':>7} {'sales':>8} {'censored=':>10} {'ratio':>6}")
    for names, n in ((args.models, args.n_series), (args.slow_models, args.slow_series)):
        rows = n * args.days
        s_c, s_p = sales.slice(0, rows), plain.slice(0, rows)
        rep = args.repeat if names is args.models else 1
        for name in names:
            so.forecast(small, h=28, freq="D", models=[name], censored="in_stock")  # compile
            so.forecast(small.select(["unique_id", "ds", "y"]), h=28, freq="D", models=[name])
            t_p = best(lambda: so.forecast(s_p, h=28, freq="D", models=[name]), rep)
            t_c = best(lambda: so.forecast(s_c, h=28, freq="D", models=[name], censored="in_stock"), rep)
            print(f"{name:<18} {n:>7} {t_p:>7.2f}s {t_c:>9.2f}s {t_c / t_p:>6.2f}")
    if args.no_quality:
        return
    shuffled = sales.take(pa.array(np.random.default_rng(0).permutation(sales.num_rows)))
    print()
    for label, fn in (
        ("group_series (reference)", lambda: so.group_series(plain, freq="D")),
        ("classify_demand", lambda: classify_demand(plain, freq="D")),
        ("estimate_demand", lambda: estimate_demand(sales, freq="D")),
        ("detect_stockouts", lambda: detect_stockouts(plain, freq="D")),
        ("check_data", lambda: check_data(sales, freq="D")),
        ("check_data, shuffled rows", lambda: check_data(shuffled, freq="D")),
        ("check_data, clean=True", lambda: check_data(sales, freq="D", clean=True)),
    ):
        fn_small = {"check_data": lambda: check_data(small, freq="D")}.get(label)
        if fn_small:
            fn_small()
        print(f"{label:<28} {best(fn, args.repeat):>7.2f}s")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()
