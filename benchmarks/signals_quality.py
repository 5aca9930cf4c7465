"""Calibration of the data-quality checks on the synthetic generator, where the truth is known.

1. Outliers: ``check_data`` on clean tables (no stockouts) must flag nothing; a hundred-fold entry
   error planted on one day at or above the median of every series must be flagged.  Reported per
   generator class: series flagged on clean data, and the share of planted errors found.
2. Unrecorded stockouts: ``detect_stockouts`` on tables whose in-stock flag is hidden, against the
   generator's spells: share of stocked-out days of smooth series found (recall), share of flagged
   days that were out of stock (precision), and runs flagged on tables without any stockout.

    python benchmarks/signals_quality.py                  # 10,000 x 730, seeds 1-3 (minutes)
    python benchmarks/signals_quality.py --n-series 2000 --seeds 1
"""

from __future__ import annotations

import argparse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import stockopt as so
from stockopt.signals import check_data, detect_stockouts, mark_stockouts

DAYS = 730


def outliers(n: int, seed: int) -> None:
    t = so.datasets.synthetic_retail(n, DAYS, seed=seed, stockouts=False, return_truth=True)
    cls = t["demand_class"].to_numpy()[::DAYS]
    base = t.drop_columns(["demand", "demand_class"])
    rep = check_data(base, freq="D")
    flagged = set(rep.findings.filter(pc.equal(rep.findings["check"], "outlier"))["unique_id"].to_pylist())
    y = t["y"].to_numpy().reshape(n, DAYS).copy()
    promo = t["on_promotion"].to_numpy(zero_copy_only=False).reshape(n, DAYS)
    rng = np.random.default_rng(seed)
    planted = np.zeros(n, dtype=bool)
    for i in range(n):  # one planted error per series (a loop over series to build the test table)
        nz = np.flatnonzero((y[i] > 0) & ~promo[i])
        if nz.size < 8:
            continue
        cand = nz[y[i, nz] >= np.median(y[i, nz])]
        j = rng.choice(cand)
        y[i, j] *= 100
        planted[i] = True
    bad = base.set_column(2, "y", pa.array(y.ravel()))
    rep2 = check_data(bad, freq="D")
    found = set(rep2.findings.filter(pc.equal(rep2.findings["check"], "outlier"))["unique_id"].to_pylist())
    ids = np.array([f"item_{i:06d}" for i in range(n)])
    for c, name in enumerate(("smooth", "intermittent", "lumpy")):
        sel = cls == c
        n_clean = sum(u in flagged for u in ids[sel])
        hit = np.array([u in found for u in ids[sel & planted]])
        print(f"  seed {seed} {name:<12} series {sel.sum():>5}: flagged on clean data {n_clean:>3}; "
              f"x100 errors found {hit.mean():.1%} of {hit.size}")


def stockouts(n: int, seed: int) -> None:
    for alpha in (0.01, 0.001):
        t = so.datasets.synthetic_retail(n, DAYS, seed=seed, return_truth=True)
        cls = np.repeat(t["demand_class"].to_numpy()[::DAYS] == 0, DAYS)
        runs = detect_stockouts(t.drop_columns(["in_stock"]), freq="D", alpha=alpha)
        flag = ~mark_stockouts(t.drop_columns(["in_stock"]), runs)["in_stock"].to_numpy(zero_copy_only=False)
        truth = ~t["in_stock"].to_numpy(zero_copy_only=False)
        clean = so.datasets.synthetic_retail(n, DAYS, seed=seed, stockouts=False)
        false_runs = detect_stockouts(clean.drop_columns(["in_stock"]), freq="D", alpha=alpha).num_rows
        recall = (flag & truth & cls).sum() / (truth & cls).sum()
        precision = (flag & truth).sum() / max(flag.sum(), 1)
        print(f"  seed {seed} alpha {alpha:<6} smooth recall {recall:.1%}  precision {precision:.1%}  "
              f"runs flagged on {n} series without stockouts: {false_runs}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-series", type=int, default=10_000)
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    args = ap.parse_args()
    print(f"outliers (robust z of sqrt quantities > 10), {args.n_series} x {DAYS}:")
    for seed in args.seeds:
        outliers(args.n_series, seed)
    print(f"\nunrecorded stockouts, {args.n_series} x {DAYS}:")
    for seed in args.seeds:
        stockouts(args.n_series, seed)


if __name__ == "__main__":
    main()
