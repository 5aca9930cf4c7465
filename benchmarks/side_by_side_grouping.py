"""Grouping long tables into contiguous series: a shuffled Parquet file against pyarrow sort + numpy
split, and every kind of input users have against our own sorted ``date32`` path.

1. Shuffled Parquet.  The baseline is what a careful user would write without stockopt: read the
   file with pyarrow, ``Table.sort_by([id, ds])``, then find series boundaries with numpy and take
   ``y`` as float64.  Both read the same file, so the ratio includes I/O.
2. Input speed (issue 12).  The same series as an Arrow table with sorted string ids and ``date32``
   dates (the fast path), and as users hand them over: ids grouped but not in lexicographic order
   (``s0, s1, ..., s10, ...``) with ``timestamp[ns]`` (also ``us``, tz-aware) dates, dictionary ids,
   pandas frames (object strings, ``string[pyarrow]``, categorical ids), a polars frame, and fully
   shuffled rows.  For each: ``group_series`` and CrostonSBA through ``so.forecast`` against the
   same call on the sorted ``date32`` table; the printed ratio is sorted / ours, so the target
   "within 1.5x of the sorted path" reads ratio >= 0.67.  A pandas or polars frame is timed from
   the frame, conversion to Arrow included (reading object strings is a floor no library avoids:
   ``pa.array`` of the object id column alone is timed as its own line).
3. The fast models end to end from the pandas frame (conversion included) against statsforecast on
   the same frame (ratio statsforecast / ours).

    PYTHONPATH=src .venv/bin/python benchmarks/side_by_side_grouping.py --inputs 10000 730
    PYTHONPATH=src .venv/bin/python benchmarks/side_by_side_grouping.py --inputs 10000 730 --no-peer  # no 3.
    PYTHONPATH=src .venv/bin/python benchmarks/side_by_side_grouping.py 30000 1000   # Parquet + memory
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import stockopt as so


def make_file(n_series: int, length: int, directory: Path) -> Path:
    tbl = so.datasets.synthetic_retail(n_series, length, seed=0, promotions=False, stockouts=False)
    tbl = tbl.select(["unique_id", "ds", "y"])
    perm = np.random.default_rng(0).permutation(tbl.num_rows)
    path = directory / f"shuffled_{n_series}x{length}.parquet"
    pq.write_table(tbl.take(pa.array(perm)), path, row_group_size=1 << 20)
    return path


def baseline(path: Path) -> tuple[np.ndarray, np.ndarray]:
    tbl = pq.read_table(path).sort_by([("unique_id", "ascending"), ("ds", "ascending")])
    ids = tbl.column("unique_id").combine_chunks()
    change = np.flatnonzero(pa.compute.not_equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)) + 1
    indptr = np.concatenate(([0], change, [tbl.num_rows])).astype(np.int64)
    values = tbl.column("y").to_numpy().astype(np.float64)
    return values, indptr


def ours(path: Path) -> tuple[np.ndarray, np.ndarray]:
    g = so.group_series(path, freq="D")
    return g.values, g.indptr


_TMP: list[tempfile.TemporaryDirectory] = []
#: the cases of ``cases()``, in its order (the pytest-benchmark suite parametrises over them)
NAMES = ("group", "group grouped ids timestamp[ns]", "CrostonSBA from grouped ids timestamp[ns]",
         "group grouped ids timestamp[ns, Europe/Paris]", "group pandas object ids",
         "CrostonSBA from pandas vs statsforecast")
#: the input-speed cases are compared with our own sorted date32 path (ratios.py prints ours / floor)
OTHER = {name: "floor" for name in NAMES[1:-1]}
#: input kinds of the benchmark suite's cases (the --inputs table runs them all)
_SUITE_KINDS = {"grouped ids, timestamp[ns]": "grouped ids timestamp[ns]",
                "grouped ids, timestamp[ns, Europe/Paris]": "grouped ids timestamp[ns, Europe/Paris]",
                "pandas, object ids, datetime64[ns]": "pandas object ids"}


def input_kinds(n_series: int, length: int) -> dict[str, object]:
    """The same ``n_series x length`` daily series in every form users hand them over."""
    import pandas as pd

    base = so.datasets.synthetic_retail(n_series, length, seed=0, promotions=False, stockouts=False)
    base = base.select(["unique_id", "ds", "y"])  # sorted ids, date32
    names = pa.array([f"s{i}" for i in range(n_series)])  # grouped in s0, s1, ..., s9, s10 order: unsorted
    rows = np.repeat(np.arange(n_series, dtype=np.int32), length)
    ids = pa.DictionaryArray.from_arrays(pa.array(rows), names)
    ns = base.column("ds").cast(pa.timestamp("ns"))
    grouped = pa.table({"unique_id": ids.cast(pa.string()), "ds": ns, "y": base.column("y")})
    paris = pa.compute.assume_timezone(ns, "Europe/Paris")  # local midnights, summer and winter time
    kinds: dict[str, object] = {
        "sorted ids, date32 (the fast path)": base,
        "grouped ids, timestamp[ns]": grouped,
        "grouped ids, timestamp[us]": grouped.set_column(1, "ds", ns.cast(pa.timestamp("us"))),
        "grouped ids, timestamp[ns, Europe/Paris]": grouped.set_column(1, "ds", paris),
        "grouped dictionary ids, timestamp[ns]": grouped.set_column(0, "unique_id", ids),
        "grouped large_string ids, timestamp[ns]": grouped.set_column(
            0, "unique_id", ids.cast(pa.large_string())),
    }
    df = grouped.to_pandas()
    kinds["pandas, object ids, datetime64[ns]"] = df
    kinds["pandas, string[pyarrow] ids"] = df.astype({"unique_id": "string[pyarrow]"})
    kinds["pandas, categorical ids"] = df.astype({"unique_id": pd.CategoricalDtype(names.to_pylist())})
    try:
        import polars as pl

        kinds["polars frame"] = pl.from_pandas(df)
    except ImportError:  # pragma: no cover - polars is optional
        pass
    shuffle = np.random.default_rng(0).permutation(len(rows))
    kinds["shuffled rows, timestamp[ns]"] = grouped.take(pa.array(shuffle))
    return kinds


def input_cases(n_series: int, length: int, *, end_to_end: bool = True):
    """``(label, ours, sorted_path)``: each input kind against the sorted ``date32`` table, grouping
    alone and CrostonSBA through ``so.forecast``; outputs checked identical first."""
    kinds = input_kinds(n_series, length)
    ref = kinds["sorted ids, date32 (the fast path)"]
    want = so.group_series(ref, freq="D")
    model = so.models.CrostonSBA()
    out = []
    for label, data in kinds.items():
        got = so.group_series(data, freq="D")
        # the sorted table names series item_000000..., the others s0, s1, ...: same series, same order
        # once both are sorted, except that s10 sorts before s2; compare through the id of each series
        key = np.argsort(np.array([int(str(x).split("_")[-1].lstrip("s")) for x in got.ids.to_pylist()]))
        assert np.array_equal(np.diff(got.indptr)[key], np.diff(want.indptr)), label
        assert np.array_equal(np.concatenate([got.series(i) for i in key]), want.values), label
        if label.startswith("sorted"):
            continue
        out.append((f"group {label} (sorted/ours)", lambda d=data: so.group_series(d, freq="D"),
                    lambda: so.group_series(ref, freq="D")))
        if label.startswith("pandas, object"):  # its own conversion, a floor no library avoids
            out.append(("pandas object ids: pa.array of the id strings alone (sorted/ours)",
                        lambda d=data: pa.array(d["unique_id"]), lambda: so.group_series(ref, freq="D")))
        if end_to_end:
            out.append((f"CrostonSBA h=28 from {label} (sorted/ours)",
                        lambda d=data: so.forecast(d, h=28, freq="D", models=[model]),
                        lambda: so.forecast(ref, h=28, freq="D", models=[model])))
    return out


def pandas_cases(n_series: int, length: int):
    """``(label, ours, statsforecast)`` from the same pandas frame (object ids, datetime64[ns])."""
    import warnings

    from statsforecast import StatsForecast
    from statsforecast import models as sfm

    df = input_kinds(n_series, length)["pandas, object ids, datetime64[ns]"]
    m = so.models
    ours_fast = [m.Naive(), m.SeasonalNaive(7), m.HistoricAverage(), m.WindowAverage(7),
                 m.SeasonalWindowAverage(7, 4), m.SimpleExponentialSmoothing(0.1),
                 m.SimpleExponentialSmoothingOptimized(), m.CrostonClassic(), m.CrostonSBA(),
                 m.CrostonOptimized(), m.TSB(0.1, 0.1), m.ADIDA(), m.IMAPA()]
    peer_fast = [sfm.Naive(), sfm.SeasonalNaive(7), sfm.HistoricAverage(), sfm.WindowAverage(7),
                 sfm.SeasonalWindowAverage(7, 4), sfm.SimpleExponentialSmoothing(0.1),
                 sfm.SimpleExponentialSmoothingOptimized(), sfm.CrostonClassic(), sfm.CrostonSBA(),
                 sfm.CrostonOptimized(), sfm.TSB(0.1, 0.1), sfm.ADIDA(), sfm.IMAPA()]

    def peer(models):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return StatsForecast(models=models, freq="D", n_jobs=1).forecast(df=df, h=28)

    return [
        ("CrostonSBA h=28 from pandas vs statsforecast",
         lambda: so.forecast(df, h=28, freq="D", models=[m.CrostonSBA()]), lambda: peer([sfm.CrostonSBA()])),
        ("13 fast models h=28 from pandas vs statsforecast",
         lambda: so.forecast(df, h=28, freq="D", models=ours_fast), lambda: peer(peer_fast)),
    ]


def cases(n_series: int, length: int):
    tmp = tempfile.TemporaryDirectory()
    _TMP.append(tmp)
    path = make_file(n_series, length, Path(tmp.name))
    v1, p1 = ours(path)
    v2, p2 = baseline(path)
    assert np.array_equal(p1, p2) and np.array_equal(v1, v2), "grouping differs from the baseline"
    label = f"group {n_series * length / 1e6:.1f}M shuffled rows"
    by_label = {c[0]: c for c in input_cases(n_series, length)}
    out = [(label, lambda: ours(path), lambda: baseline(path))]
    for name in NAMES[1:-1]:
        kind = next(k for k, v in _SUITE_KINDS.items() if name.endswith(v))
        e2e = name.startswith("CrostonSBA")
        key = f"CrostonSBA h=28 from {kind} (sorted/ours)" if e2e else f"group {kind} (sorted/ours)"
        out.append((name, *by_label[key][1:]))
    return [*out, (NAMES[-1], *pandas_cases(n_series, length)[0][1:])]


def _inputs_main(n: int, length: int, repeats: int = 7, peer: bool = True) -> None:
    """Print the input-speed table: each input kind against the sorted date32 path, then the pandas
    frame against statsforecast.  Wall and CPU time (``process_time``: steadier on a shared
    machine; it also counts pyarrow's helper threads converting pandas frames), best of
    ``repeats``, the two sides interleaved."""
    import resource
    import time

    def best(fn_a, fn_b):
        fn_a(), fn_b()
        res = [float("inf")] * 4
        for _ in range(repeats):
            for k, fn in enumerate((fn_a, fn_b)):
                w, c = time.perf_counter(), time.process_time()
                fn()
                res[k] = min(res[k], time.perf_counter() - w)
                res[k + 2] = min(res[k + 2], time.process_time() - c)
        return res

    print(f"{n} series x {length} days = {n * length / 1e6:.1f}M rows; best of {repeats}")
    print(f"{'case':<76}{'ours s':>8}{'other s':>8}{'ratio':>7}{'ours cpu':>9}{'other cpu':>10}{'ratio':>7}")
    for label, fn_ours, fn_other in [*input_cases(n, length), *(pandas_cases(n, length) if peer else [])]:
        w_o, w_p, c_o, c_p = best(fn_ours, fn_other)
        print(f"{label:<76}{w_o:>8.4f}{w_p:>8.4f}{w_p / w_o:>7.2f}{c_o:>9.4f}{c_p:>10.4f}{c_p / c_o:>7.2f}",
              flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__" and "--inputs" in sys.argv:
    args = [a for a in sys.argv[1:] if a not in ("--inputs", "--no-peer")]
    _inputs_main(int(args[0]) if args else 10000, int(args[1]) if len(args) > 1 else 730,
                 peer="--no-peer" not in sys.argv)
elif __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
    length = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    import subprocess

    # peak memory of our grouping alone, in a fresh process, against the input's in-memory size
    with tempfile.TemporaryDirectory() as d:
        path = make_file(n, length, Path(d))
        size = pq.read_table(path).nbytes
        # peak RSS of the child's own address space (VmHWM): ru_maxrss would also count the parent's
        # memory at fork time, since it survives exec
        hwm = ("def HWM():\n    for line in open('/proc/self/status'):\n"
               "        if line.startswith('VmHWM'):\n            return int(line.split()[1]) * 1024\n")
        code = (hwm + "import time, stockopt as so; t=time.perf_counter(); "
                f"g = so.group_series({str(path)!r}, freq='D'); dt=time.perf_counter()-t; "
                "print(dt, HWM())")
        runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True
                               ).stdout.split() for _ in range(3)]  # peak RSS varies run to run
        dt = min(float(r[0]) for r in runs)
        rss = min(int(r[1]) for r in runs)
        rss_max = max(int(r[1]) for r in runs)
        code_b = (hwm + f"import sys, time; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                  "import side_by_side_grouping as b; t=time.perf_counter(); "
                  f"b.baseline({str(path)!r}); dt=time.perf_counter()-t; "
                  "print(dt, HWM())")
        dt_b, rss_b = subprocess.run([sys.executable, "-c", code_b], capture_output=True, text=True, check=True
                                     ).stdout.split()
        print(f"{n} x {length} = {n * length / 1e6:.0f}M rows; input in memory {size / 1e9:.2f} GB")
        print(f"ours:     {float(dt):7.2f} s  peak RSS {int(rss) / 1e9:5.2f} GB = {int(rss) / size:4.2f}x input "
              f"(max of 3 runs {rss_max / 1e9:.2f} GB = {rss_max / size:.2f}x)")
        print(f"baseline: {float(dt_b):7.2f} s  peak RSS {int(rss_b) / 1e9:5.2f} GB = {int(rss_b) / size:4.2f}x input")
        print(f"ratio baseline/ours: {float(dt_b) / float(dt):.1f}x")
