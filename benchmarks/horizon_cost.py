"""What a long lead time costs the nightly run: processor seconds per stage and forecast size against h.

The derived horizon (``stockopt._horizon``) forecasts every series as far as the item with the longest lead
time + review period needs, so one long-lead-time item sets the horizon of all.  This measures, for the
same sales, ``run_nightly`` with items whose longest lead time + review period asks for ``h`` days::

    python benchmarks/horizon_cost.py --series 2000 --days 730 --h 28 91 182 365 --models croston_sba auto

Printed per (model, h): the wall seconds of validate+group, forecast and inventory as the run's summary
reports them, the processor seconds of the whole run (``time.process_time``, steadier than wall time on a
shared machine), the forecast table's rows and megabytes, and ratios against h = the first value.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pyarrow as pa


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=2000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--h", type=int, nargs="+", default=[28, 91, 182, 365])
    ap.add_argument("--models", nargs="+", default=["croston_sba", "auto"])
    args = ap.parse_args()

    import stockopt as so

    sales = so.datasets.synthetic_retail(args.series, args.days, seed=0).select(["unique_id", "ds", "y"])
    ids = np.unique(sales["unique_id"].to_numpy(zero_copy_only=False))
    warnings.simplefilter("ignore")
    so.run_nightly(sales.slice(0, args.days * 4), h=7, models=args.models[:1])  # compile outside the timing
    print(f"{args.series} series x {args.days} days; wall s by stage, total processor s "
          f"(ratio to h={args.h[0]})")
    for model in args.models:
        base = None
        for h in args.h:
            lead = np.full(ids.size, 3.0)
            lead[0] = h - 1.0  # one item needs h days (lead time + a 1-day review)
            items = pa.table({"unique_id": ids, "lead_time": lead})
            so.run_nightly(sales.slice(0, args.days * 4), items.slice(0, 4), h=h, models=[model])  # warm
            t = time.process_time()
            res = so.run_nightly(sales, items, models=[model])
            total = time.process_time() - t
            st = res.summary["seconds_by_stage"]
            row = (st["validate_group"], st["forecast"], st["inventory"], total, res.forecast.nbytes / 1e6)
            base = base or row
            assert res.summary["horizon"] == h
            print(f"  {model:<12} h={h:<4} group {row[0]:6.2f}  forecast {row[1]:6.2f} "
                  f"({row[1] / base[1]:4.1f}x)  inventory {row[2]:6.2f} ({row[2] / base[2]:4.1f}x)  "
                  f"total {row[3]:6.2f} "
                  f"({row[3] / base[3]:4.1f}x)  forecast table {res.forecast.num_rows:>9,} rows "
                  f"{row[4]:7.1f} MB")


if __name__ == "__main__":
    main()
