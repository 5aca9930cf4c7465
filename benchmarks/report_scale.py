"""Time of ``so.report`` on a large run folder: N items x 28 days of forecasts, their policies and a
quarantine of N / 20 series (synthetic tables written to a temporary folder).

    PYTHONPATH=src python benchmarks/report_scale.py [N=100000]

Prints wall and CPU seconds (the machine is shared: CPU time is the figure to compare), the page's
size and the peak RSS. The charts are a fixed cost (2 x top figures); reading the forecast, ranking
the items and slicing the top ones grow with N.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import stockopt as so


def build(folder: Path, n: int, h: int = 28, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    ids = np.array([f"item_{i:07d}" for i in range(n)])
    days = (np.datetime64("2026-01-01") + np.arange(h)).astype("datetime64[D]")
    mean = rng.gamma(1.0, 5.0, n)
    pq.write_table(pa.table({"unique_id": np.repeat(ids, h), "ds": pa.array(np.tile(days, n)),
                             "M": np.repeat(mean, h), "M-lo-80": np.repeat(mean * 0.5, h),
                             "M-hi-80": np.repeat(mean * 1.5, h)}), folder / "forecast.parquet")
    pq.write_table(pa.table({"unique_id": ids, "policy": ["RS"] * n, "reorder_point": mean * 12,
                             "order_up_to": mean * 12, "order_quantity": mean * 7,
                             "lead_time": np.full(n, 5.0), "review_period": np.full(n, 7.0),
                             "unit_cost": rng.uniform(1, 50, n), "status": ["ok"] * n}),
                   folder / "policy.parquet")
    k = n // 20
    pq.write_table(pa.table({"unique_id": ids[:k], "reason": ["negative demand"] * k,
                             "first_row": np.arange(k), "table": ["sales"] * k}),
                   folder / "quarantine.parquet")
    (folder / "summary.json").write_text(json.dumps({"series": n}))


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build(folder, n)
        so.report(folder, top=1)  # imports and font cache, not timed
        t, c = time.perf_counter(), time.process_time()
        path = so.report(folder, top=12)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        size = path.stat().st_size / 1e6
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{n:,} items x 28 days: report (top 12) {wall:.2f} s wall, {cpu:.2f} s CPU; "
          f"{size:.2f} MB page; peak RSS {rss:.2f} GB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
