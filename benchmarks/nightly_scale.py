"""The nightly plan at scale: peak memory and series/s per stage of ``so.plan`` on synthetic data.

Not a test (the machine is shared and noisy).  Each measured run is its own child process, so that
its peak RSS (``getrusage``: the driver itself, and the largest worker process) is its own::

    python benchmarks/nightly_scale.py --series 10000 --days 730 --jobs 1 2 --backend processes threads
    python benchmarks/nightly_scale.py --series 137000 --days 730 --jobs 2       # 100 M rows
    python benchmarks/nightly_scale.py --series 10000 --jobs 1 --quality on off   # cost of the summary's
                                                                                  # classes + data quality
    python benchmarks/nightly_scale.py --series 10000 --jobs 1 --drivers          # with X_future
    python benchmarks/nightly_scale.py --series 1000000 --jobs 2 --supply         # the whole plan, orders too

The sales are generated once into ``--data-dir`` (default ``/tmp/stockopt-bench``) as a Parquet file,
5,000 series at a time (``stockopt.datasets.synthetic_retail`` with one seed per chunk, ids renumbered
so that they are unique), so the generator's own memory never counts.  Printed per run: wall seconds
per step (partition / plan the partitions / assemble), processor seconds per stage summed over
partitions (validate+group, forecast, inventory) with series/s, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

CHUNK = 5_000
SUPPLY_TABLES = ("items", "stock", "open_orders", "suppliers")


def make_data(n_series: int, n_days: int, data_dir: Path) -> Path:
    """Synthetic sales ``unique_id, ds, y`` (plus the generator's other columns) in one Parquet file."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    import stockopt as so

    path = data_dir / f"sales_{n_series}x{n_days}.parquet"
    if path.exists():
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    writer = None
    for k, start in enumerate(range(0, n_series, CHUNK)):
        n = min(CHUNK, n_series - start)
        tbl = so.datasets.synthetic_retail(n, n_days, seed=k)
        ids = pa.array([f"item_{start + i:07d}" for i in range(n)])
        code = pa.array(np.repeat(np.arange(n), n_days))
        tbl = tbl.set_column(0, "unique_id", ids.take(code))
        if writer is None:
            writer = pq.ParquetWriter(tmp, tbl.schema)
        writer.write_table(tbl, row_group_size=1 << 20)
    writer.close()
    os.replace(tmp, path)
    return path


def make_supply(n_series: int, n_days: int, data_dir: Path) -> dict[str, Path]:
    """Items, stock, open orders and suppliers for :func:`make_data`'s sales, one
    :func:`stockopt.datasets.synthetic_supply` per chunk of 5,000 series (about 200 items per supplier,
    supplier ids prefixed by the chunk), each in its own Parquet file."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    import stockopt as so

    paths = {k: data_dir / f"{k}_{n_series}x{n_days}.parquet" for k in SUPPLY_TABLES}
    if all(p.exists() for p in paths.values()):
        return paths
    writers: dict[str, pq.ParquetWriter] = {}
    for k, start in enumerate(range(0, n_series, CHUNK)):
        n = min(CHUNK, n_series - start)
        tbl = so.datasets.synthetic_retail(n, n_days, seed=k)  # the chunk's sales, as make_data draws them
        sup = so.datasets.synthetic_supply(tbl, seed=k)
        old = pc.unique(tbl["unique_id"])
        new = pa.array([f"item_{start + i:07d}" for i in range(len(old))])
        for name in SUPPLY_TABLES:
            t = getattr(sup, name)
            if "unique_id" in t.column_names:
                t = t.set_column(0, "unique_id", new.take(pc.index_in(t["unique_id"], value_set=old)))
            if "supplier_id" in t.column_names:
                j = t.column_names.index("supplier_id")
                t = t.set_column(j, "supplier_id",
                                 pc.binary_join_element_wise(f"c{k:04d}", t["supplier_id"], "_"))
            if name not in writers:
                writers[name] = pq.ParquetWriter(paths[name].with_suffix(".tmp"), t.schema)
            writers[name].write_table(t)
    for name, w in writers.items():
        w.close()
        os.replace(paths[name].with_suffix(".tmp"), paths[name])
    return paths


def make_drivers(n_series: int, n_days: int, h: int, data_dir: Path) -> tuple[Path, Path]:
    """Sales of ``n_days`` and the generator's own ``on_promotion, price`` of the ``h`` days after them
    (``X_future``), from one history of ``n_days + h`` days per chunk as :func:`make_data` makes it."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    sales = data_dir / f"dsales_{n_series}x{n_days}.parquet"
    xf = data_dir / f"xfuture_{n_series}x{n_days}_h{h}.parquet"
    if sales.exists() and xf.exists():
        return sales, xf
    full = pq.read_table(make_data(n_series, n_days + h, data_dir))
    cut = pc.max(full["ds"]).as_py().toordinal() - h
    import datetime as dt

    last = dt.date.fromordinal(cut)
    hist = full.filter(pc.less_equal(full["ds"], pa_scalar(last)))
    fut = full.filter(pc.greater(full["ds"], pa_scalar(last)))
    fut = fut.select(["unique_id", "ds", "on_promotion", "price"])
    pq.write_table(hist, sales, row_group_size=1 << 20)
    pq.write_table(fut, xf)
    return sales, xf


def pa_scalar(day):
    import pyarrow as pa

    return pa.scalar(day, pa.date32())


def child(args: argparse.Namespace) -> None:
    """One measured run, in this (fresh) process; prints one JSON line."""
    import warnings

    import stockopt as so

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    if args.whole:  # the reference: run_nightly on the whole input, in memory
        res = so.run_nightly(args.sales, h=args.h, models=args.models, freq="D", n_jobs=args.jobs)
        s = res.summary
        me = resource.getrusage(resource.RUSAGE_SELF)
        print(json.dumps({"wall": time.perf_counter() - t0, "cpu": me.ru_utime + me.ru_stime, "steps": {},
                          "stages": s["seconds_by_stage"],
                          "series": s["series"], "partitions": 0,
                          "rss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "rss_worker_mb": 0.0}))
        return
    extra = {"X_future": str(args.x_future)} if args.x_future else {}
    if args.supply_files:
        extra.update({k: str(v) for k, v in zip(SUPPLY_TABLES, args.supply_files)})
    res = so.plan(args.sales, h=args.h, models=args.models, freq="D", n_jobs=args.jobs, backend=args.backend,
                  out_dir=args.out, n_partitions=args.partitions, quality=args.quality == "on", **extra)
    wall = time.perf_counter() - t0
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    self_kb, kids_kb = me.ru_maxrss, kids.ru_maxrss
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    s = res.summary
    orders = {k: s[k] for k in ("order_lines", "order_value", "projected_fill_rate", "solver_max_gap",
                                "items_quarantined_supply") if k in s}
    print(json.dumps({"wall": wall, "cpu": cpu, "steps": s["seconds_by_step"], "orders": orders,
                      "stages": s.get("seconds_by_stage", {}),
                      "series": s["series"], "partitions": s["partitions"], "rss_self_mb": self_kb / 1024,
                      "rss_worker_mb": kids_kb / 1024, "selected": s["models"]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, nargs="+", default=[10_000])
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--h", type=int, default=28)
    ap.add_argument("--models", nargs="+", default=["auto"])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--backend", nargs="+", default=["processes"])
    ap.add_argument("--partitions", type=int, default=None)
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/stockopt-bench"))
    ap.add_argument("--whole", action="store_true", help="also run run_nightly on the whole input (threads)")
    ap.add_argument("--quality", nargs="+", default=["on"], choices=["on", "off"],
                    help="demand classes and data-quality findings in the summary (run_nightly(quality=))")
    ap.add_argument("--drivers", action="store_true",
                    help="forecast with the generator's promotions and prices over the horizon (X_future)")
    ap.add_argument("--supply", action="store_true",
                    help="the whole plan with orders: items, stock, open orders and suppliers "
                    "(stockopt.datasets.synthetic_supply per chunk of 5,000 series)")
    ap.add_argument("--x-future", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--supply-files", type=Path, nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--sales", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.jobs = args.jobs[0]
        args.backend = args.backend[0]
        args.quality = args.quality[0]
        child(args)
        return
    for n in args.series:
        t = time.perf_counter()
        xf = None
        if args.drivers:
            sales, xf = make_drivers(n, args.days, args.h, args.data_dir)
        else:
            sales = make_data(n, args.days, args.data_dir)
        supply = make_supply(n, args.days, args.data_dir) if args.supply else None
        print(f"data {n} x {args.days}: {sales}{' with supply tables' if supply else ''} "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
        base = None
        runs = [(b, j, q) for b in args.backend for j in args.jobs for q in args.quality
                if j > 1 or b == args.backend[0]]
        if args.whole:
            runs = [("whole", j, "on") for j in args.jobs] + runs
        for backend, jobs, quality in runs:
            out = args.data_dir / f"out_{n}_{backend}_{jobs}{'_supply' if supply else ''}"
            cmd = [sys.executable, __file__, "--child", "--sales", str(sales), "--out", str(out),
                   "--h", str(args.h), "--jobs", str(jobs), "--models", *args.models, "--quality", quality]
            if xf is not None:
                cmd += ["--x-future", str(xf)]
            if supply is not None:
                cmd += ["--supply-files", *(str(supply[k]) for k in SUPPLY_TABLES)]
            cmd += ["--whole"] if backend == "whole" else ["--backend", backend]
            if args.partitions:
                cmd += ["--partitions", str(args.partitions)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr[-3000:])
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            base = r["wall"] if jobs == 1 and backend != "whole" and base is None else base
            st = r["stages"]
            rate = {k: f"{n / v:,.0f}" for k, v in st.items() if v}
            speedup = f"  speed-up vs plan n_jobs=1: {base / r['wall']:.2f}x" if base and jobs > 1 else ""
            print(f"{n:>8} series  {backend:<9} n_jobs={jobs}  quality={quality}  "
                  f"{r['partitions']} partitions  "
                  f"wall {r['wall']:.1f} s ({n / r['wall']:,.0f} series/s){speedup}, "
                  f"processor time {r['cpu']:.1f} s\n"
                  f"    steps (wall s) {r['steps']}\n"
                  f"    stages (processor s, summed over partitions) {st}  series/s per core {rate}\n"
                  + (f"    orders {r['orders']}\n" if r.get("orders") else "")
                  + f"    peak RSS: driver {r['rss_self_mb']:.0f} MB, "
                  f"largest worker {r['rss_worker_mb']:.0f} MB",
                  flush=True)


if __name__ == "__main__":
    main()
