"""The nightly quarantine against its floor: grouping the same table with ``so.group_series``.

The quarantine applies the rules ``group_series`` raises on, row by row, to set bad series aside;
it should cost about one grouping.  ``cases`` (for ``benchmarks/test_bench_quarantine.py``) times the
quarantine as "ours" and the grouping of the same rows as the floor: ``ratios.py`` prints ours /
floor, and a ratio near 1 means the quarantine costs one grouping.  Run alone, ``python benchmarks/side_by_side_quarantine.py 20000 730``
prints best-of-3 times for rows ordered by series and date, for shuffled rows, and for ordered rows
with a negative demand in some series, and the process's peak RSS.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
import warnings

import numpy as np
import pyarrow as pa

import stockopt as so


#: the cases of ``cases()``, in its order; each is compared with a floor (grouping), not a peer
NAMES = ("ordered", "shuffled", "ordered, bad series")
OTHER = dict.fromkeys(NAMES, "floor")


def _tables(n_series: int, length: int) -> list[tuple[str, pa.Table]]:
    sales = so.datasets.synthetic_retail(n_series, length, seed=0).select(["unique_id", "ds", "y"])
    shuffled = sales.take(pa.array(np.random.default_rng(0).permutation(sales.num_rows)))
    y = sales["y"].to_numpy().copy()
    y[:: max(sales.num_rows // 150, 1)] = -1.0
    spoilt = sales.set_column(2, "y", pa.array(y))
    return [("ordered", sales), ("shuffled", shuffled), ("ordered, bad series", spoilt)]


def cases(n_series: int, length: int):
    """``(label, quarantine, group_series of the same rows)``, one per name of NAMES."""
    logging.getLogger("stockopt").setLevel(logging.ERROR)
    out = []
    for name, table in _tables(n_series, length):
        clean, _ = so.quarantine(table, freq="D")
        out.append((f"{name} vs grouping", lambda t=table: so.quarantine(t, freq="D"),
                    lambda c=clean: so.group_series(c, freq="D")))
    return out


def _best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(n_series: int, length: int) -> None:
    warnings.simplefilter("ignore")
    logging.getLogger("stockopt").setLevel(logging.ERROR)
    tables = _tables(n_series, length)
    print(f"{n_series} x {length} = {tables[0][1].num_rows / 1e6:.1f} M rows, daily")
    for name, table in tables:
        q = _best(lambda: so.quarantine(table, freq="D"))
        clean, report = so.quarantine(table, freq="D")
        g = _best(lambda: so.group_series(clean, freq="D"))
        print(f"  {name:<26} quarantine {q:7.3f} s   group_series {g:7.3f} s   ratio {q / g:5.2f}   "
              f"({report.num_rows} series quarantined)")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000, int(sys.argv[2]) if len(sys.argv) > 2 else 730)
