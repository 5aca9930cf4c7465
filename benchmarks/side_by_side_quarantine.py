"""The nightly quarantine against its floor: grouping the same table with ``so.group_series``.

The quarantine applies the rules ``group_series`` raises on, row by row, to set bad series aside;
it should cost about one grouping.  Run: ``python benchmarks/side_by_side_quarantine.py 20000 730``
(prints best-of-3 times for rows already ordered by series and date, for shuffled rows, and for
ordered rows with a negative demand in some series, with the ratio to ``group_series``, and the
process's peak RSS).
"""

from __future__ import annotations

import resource
import sys
import time
import warnings

import numpy as np
import pyarrow as pa

import stockopt as so


def _best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(n_series: int, length: int) -> None:
    warnings.simplefilter("ignore")
    sales = so.datasets.synthetic_retail(n_series, length, seed=0).select(["unique_id", "ds", "y"])
    shuffled = sales.take(pa.array(np.random.default_rng(0).permutation(sales.num_rows)))
    y = sales["y"].to_numpy().copy()
    y[:: max(sales.num_rows // 150, 1)] = -1.0
    spoilt = sales.set_column(2, "y", pa.array(y))
    print(f"{n_series} x {length} = {sales.num_rows / 1e6:.1f} M rows, daily")
    for name, table in (("ordered", sales), ("shuffled", shuffled), ("ordered, some bad series", spoilt)):
        q = _best(lambda: so.quarantine(table, freq="D"))
        clean, report = so.quarantine(table, freq="D")
        g = _best(lambda: so.group_series(clean, freq="D"))
        print(f"  {name:<26} quarantine {q:7.3f} s   group_series {g:7.3f} s   ratio {q / g:5.2f}   "
              f"({report.num_rows} series quarantined)")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000, int(sys.argv[2]) if len(sys.argv) > 2 else 730)
