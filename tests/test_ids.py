"""Reading the id and time columns of the inputs users have (stockopt._ids, _arrow.time_to_days).

Every fast path is checked against a plain-Python twin: runs and series codes against a dict over the
ids, days against Python integer division of pyarrow's own local time, and ``group_series`` of
every input kind (grouped in any order, shuffled, timestamp units, time zones, pandas, polars,
large strings, string views, dictionaries, integers) against the slow grouping twin.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stockopt as so
from stockopt import errors
from stockopt._arrow import time_to_days
from stockopt._ids import encode_ids, grouped_runs
from stockopt._kernels import _grouping
from tests.reference import grouping as ref

# ---------------------------------------------------------------- plain-Python twins


def _key(x):
    return x.encode() if isinstance(x, str) else x


def _runs_twin(ids: list) -> tuple[list[int], list] | None:
    """First row of each series and the sorted ids when every id's rows are contiguous, else None."""
    starts: dict = {}
    prev = object()
    for row, s in enumerate(ids):
        if s != prev:
            if s in starts:
                return None
            starts[s] = row
            prev = s
    order = sorted(starts, key=_key)
    return [starts[s] for s in order], order


def _codes_of(codes, run_starts, n):
    """Per-row series numbers from either form encode_ids returns."""
    if codes is not None:
        return np.asarray(codes).tolist()
    by_row = np.argsort(run_starts)
    bounds = np.append(np.asarray(run_starts)[by_row], n)
    out = np.empty(n, dtype=np.int64)
    for s, a, b in zip(by_row, bounds[:-1], bounds[1:]):
        out[a:b] = s
    return out.tolist()


def _column(ids: list, kind: str, cuts: list[int]) -> pa.ChunkedArray:
    bounds = sorted({c % len(ids) for c in cuts} | {0, len(ids)})
    parts = [ids[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    typ = {"string": pa.string(), "large_string": pa.large_string(), "string_view": pa.string_view(),
           "int64": pa.int64(), "int16": pa.int16(), "uint32": pa.uint32()}.get(kind)
    if kind == "dictionary":  # each chunk with its own dictionary, in its own order
        return pa.chunked_array([pa.array(p).dictionary_encode() for p in parts])
    return pa.chunked_array([pa.array(p, type=typ) for p in parts], type=typ)


# ---------------------------------------------------------------- runs and codes


KINDS = ["string", "large_string", "string_view", "dictionary", "int64", "int16", "uint32"]


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="ab\u00e9", max_size=13), st.integers(1, 30)), min_size=1,
                max_size=12),
       st.sampled_from(KINDS), st.lists(st.integers(1, 200), max_size=4),
       st.sampled_from(["sorted", "reversed", "as drawn", "rows shuffled"]),
       st.randoms(use_true_random=False))
def test_runs_and_codes_match_the_twin(runs, kind, cuts, layout, rnd):
    """Runs found on the Arrow buffers (galloping over strings, views inline and out of line, integer
    and dictionary indices) against a dict over the ids, for every layout: sorted, grouped in
    another order, not grouped; several chunks, chunk boundaries inside runs; empty strings and
    prefixes ("a" < "ab")."""
    lens: dict = {}
    for k, n in runs:
        lens.setdefault(k, n)
    keys = list(lens)
    if kind.startswith("int") or kind == "uint32":
        keys = [(sum(ord(c) for c in k) * 31 + len(k)) % 30_000 for k in keys]  # small integers
        if len(set(keys)) < len(keys):
            return
        lens = dict(zip(keys, lens.values()))
    if layout == "sorted":
        keys = sorted(keys, key=_key)
    elif layout == "reversed":
        keys = sorted(keys, key=_key, reverse=True)
    ids = [k for k in keys for _ in range(lens[k])]
    if layout == "rows shuffled":
        rnd.shuffle(ids)
    col = _column(ids, kind, cuts)
    want = _runs_twin(ids)
    got = grouped_runs(col)
    if want is None:
        assert got is None
    else:  # at most 12 runs: never cut short by the "too many unordered runs" rule
        assert got is not None
        assert got[0].tolist() == want[0]
        assert got[1].to_pylist() == want[1]
    codes, uniq, is_dict, starts = encode_ids(col, table="sales", column="unique_id")
    order = sorted(set(ids), key=_key)
    assert uniq.to_pylist() == order
    assert is_dict == (kind == "dictionary")
    pos = {s: i for i, s in enumerate(order)}
    assert _codes_of(codes, starts, len(ids)) == [pos[s] for s in ids]


def test_string_runs_kernel_finds_each_change_the_first_descent_and_stops_early():
    ids = ["a"] * 5 + ["ab"] * 1 + ["b"] * 300 + ["ba"] * 2 + ["aa"] * 3
    arr = pa.array(ids)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[: len(ids) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    starts = np.empty(len(ids), np.int64)
    assert _grouping.string_runs(offsets, data, starts, 100) == (5, 4)  # "aa" after "ba": run 4
    assert starts[:5].tolist() == [0, 5, 6, 306, 308]
    assert _grouping.string_runs(offsets, data, starts, 4) == (-1, 4)  # out of order and too many
    shuffled = pa.array(["b", "a"] * 50)
    off = np.frombuffer(shuffled.buffers()[1], dtype=np.int32)[:101]
    dat = np.frombuffer(shuffled.buffers()[2], dtype=np.uint8)
    assert _grouping.string_runs(off, dat, np.empty(100, np.int64), 10)[0] == -1


def test_view_runs_compare_long_views_by_their_bytes_not_their_place():
    """Equal 20-byte ids stored twice in the data buffer are one run; the order of long ids
    with a common 4-byte prefix is read from the buffer."""
    ids = ["item_000001_store_01"] * 3 + ["item_000001_store_02"] * 2 + ["item_000001_store_01"]
    col = pa.chunked_array([pa.array(ids, pa.string_view())])
    assert grouped_runs(col) is None  # store_01 comes back after store_02
    col = pa.chunked_array([pa.array(ids[:5][::-1], pa.string_view())])
    starts, run_ids = grouped_runs(col)
    assert starts.tolist() == [2, 0]
    assert run_ids.to_pylist() == ["item_000001_store_01", "item_000001_store_02"]


@pytest.mark.parametrize("kind", ["string", "string_view", "dictionary", "int64"])
def test_ids_of_a_sliced_table(kind):
    ids = ["x"] * 3 + ["y"] * 4 + ["z"] * 2 if kind != "int64" else [7] * 3 + [8] * 4 + [9] * 2
    first = _column(ids, kind, []).chunk(0).slice(2)
    tail = ["z", "zz"] if kind != "int64" else [9, 10]
    second = _column(tail, kind, []).chunk(0)
    col = pa.chunked_array([first, second])
    starts, run_ids = grouped_runs(col)
    assert starts.tolist() == [0, 1, 5, 8]
    assert run_ids.to_pylist() == (["x", "y", "z", "zz"] if kind != "int64" else [7, 8, 9, 10])


def test_dictionary_ids_with_unused_entries_and_a_repeated_value():
    dictionary = pa.array(["q", "b", "a", "b"])  # "q" unused, "b" listed twice
    idx = pa.array([1, 1, 3, 2, 2], pa.int32())  # b b b a a: one run of "b" through two indices
    col = pa.chunked_array([pa.DictionaryArray.from_arrays(idx, dictionary)])
    starts, run_ids = grouped_runs(col)
    assert starts.tolist() == [3, 0] and run_ids.to_pylist() == ["a", "b"]


# ---------------------------------------------------------------- time to days


UNIT = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def _days_twin(col: pa.Array) -> tuple[list[int], list[bool]]:
    """Days and time-of-day flags by Python integer division of pyarrow's local wall-clock time."""
    typ = col.type
    local = pc.local_timestamp(col) if typ.tz is not None else col
    per_day = 86_400 * UNIT[typ.unit]
    raw = local.cast(pa.int64()).to_pylist()
    return [r // per_day for r in raw], [r % per_day != 0 for r in raw]


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.sampled_from(list(UNIT)),
       st.sampled_from([None, "UTC", "Europe/Paris", "America/St_Johns", "Asia/Kathmandu",
                        "Australia/Lord_Howe", "+05:30"]),
       st.lists(st.integers(-3 * 10**9, 3 * 10**9), min_size=1, max_size=40), st.booleans(), st.booleans())
def test_time_to_days_matches_pyarrow_local_time(unit, tz, seconds, midnight, narrow):
    """Naive and tz-aware timestamps of every unit, before and after 1970, at local midnight or any
    time, across daylight-saving changes (also half-hour and 45-minute offsets)."""
    secs = np.array(seconds, dtype=np.int64)
    if midnight:
        secs = secs - secs % 86_400
    col = pa.array(secs * UNIT[unit], pa.timestamp(unit))
    if tz is not None:
        col = pc.assume_timezone(col, tz, ambiguous="earliest", nonexistent="earliest") if midnight else \
            col.cast(pa.timestamp(unit, tz=tz))
    days, off = time_to_days(col, table="sales", column="ds", narrow=narrow)
    want_days, want_off = _days_twin(col)
    assert days.tolist() == want_days
    assert off.tolist() == want_off
    assert days.dtype == (np.int32 if narrow else np.int64)


def test_time_to_days_at_the_hour_of_a_clock_change_and_over_centuries():
    """Rows inside the hour when Paris goes to summer time are converted one by one; a column
    spanning more hours than the offset table holds is converted by pyarrow."""
    change = 1_711_846_800  # 2024-03-31 01:00 UTC: Paris goes from +1 to +2
    secs = np.array([change - 1800, change - 1, change, change + 1800, change + 3599], dtype=np.int64)
    col = pa.array(secs * 10**9, pa.timestamp("ns", tz="Europe/Paris"))
    days, off = time_to_days(col, table="sales", column="ds")
    assert (days.tolist(), off.tolist()) == _days_twin(col)
    secs = np.array([-2_208_988_800, 0, 4_102_444_800], dtype=np.int64)  # 1900, 1970, 2100
    wide = pa.array(secs, pa.timestamp("s", tz="Europe/Paris"))
    assert time_to_days(wide, table="sales", column="ds")[0].tolist() == _days_twin(wide)[0]
    big = pa.array(np.array([0, 10**17], dtype=np.int64), pa.timestamp("s"))  # beyond int32 days
    assert time_to_days(big, table="sales", column="ds", narrow=True)[0].dtype == np.int64


# ---------------------------------------------------------------- group_series on every input kind


def _reference(ids, days, y):
    return ref.group_rows([(i, int(d), float(v)) for i, d, v in zip(ids, days, y)])


def _check(g, want):
    assert g.ids.to_pylist() == list(want)
    for i, (sid, series) in enumerate(want.items()):
        assert g.start[i] == series[0][0]
        np.testing.assert_array_equal(g.series(i), [v for _, v in series])


def _series_table(seed: int, n_series: int = 14, shuffle_periods: bool = False):
    rng = np.random.default_rng(seed)
    ids, days, y = [], [], []
    for s in rng.permutation(n_series):  # grouped, series in random (not lexicographic) order
        length = int(rng.integers(1, 25))
        d = np.sort(rng.choice(np.arange(19_700, 19_760), size=length, replace=False))  # gaps inside
        if shuffle_periods:
            rng.shuffle(d)
        ids += [f"s{s}"] * length
        days += d.tolist()
        y += rng.integers(0, 9, size=length).astype(float).tolist()
    return ids, days, y


@pytest.mark.parametrize("layout", ["grouped", "grouped, periods unsorted", "shuffled", "sorted"])
@pytest.mark.parametrize("id_kind", ["string", "large_string", "string_view", "dictionary", "int64"])
@pytest.mark.parametrize("time_kind", ["date32", "timestamp[s]", "timestamp[ms]", "timestamp[us]",
                                       "timestamp[ns]", "timestamp[ns, Europe/Paris]", "timestamp[us, UTC]"])
def test_group_series_of_every_input_kind_matches_the_twin(layout, id_kind, time_kind):
    ids, days, y = _series_table(7, shuffle_periods=layout == "grouped, periods unsorted")
    if id_kind == "int64":
        ids = [int(s[1:]) * 13 for s in ids]
    want = _reference(ids, days, y)
    perm = np.arange(len(ids))
    if layout == "shuffled":
        perm = np.random.default_rng(1).permutation(len(ids))
    elif layout == "sorted":
        perm = np.lexsort((days, [_key(i) for i in ids]))
    ids = [ids[k] for k in perm]
    days = np.asarray(days)[perm]
    y = np.asarray(y)[perm]
    col_ids = _column(ids, {"int64": "int64"}.get(id_kind, id_kind), [len(ids) // 3])
    ds = pa.array(days.astype(np.int32), pa.date32())
    if time_kind != "date32":
        unit = time_kind.split("[")[1].split(",")[0].rstrip("]")
        ds = ds.cast(pa.timestamp(unit))
        if "," in time_kind:
            ds = pc.assume_timezone(ds, time_kind.split(", ")[1].rstrip("]"))
    g = so.group_series(pa.table({"unique_id": col_ids, "ds": ds, "y": y}), freq="D")
    gaps = {s: len(v) for s, v in want.items()}
    _check(g, want)
    assert g.report.gaps_filled.tolist() == [gaps[s] - ids.count(s) for s in want]
    assert g.report.sorted_input == (layout == "sorted")
    assert g.time_type == ds.type


def test_group_series_from_pandas_and_polars_frames():
    pd = pytest.importorskip("pandas")
    ids, days, y = _series_table(3)
    want = _reference(ids, days, y)
    ds = np.asarray(days).astype("datetime64[D]").astype("datetime64[ns]")
    df = pd.DataFrame({"unique_id": ids, "ds": ds, "y": y})
    frames = {"object": df, "string[pyarrow]": df.astype({"unique_id": "string[pyarrow]"}),
              "category": df.astype({"unique_id": "category"}),
              "tz-aware": df.assign(ds=df["ds"].dt.tz_localize("America/New_York"))}
    try:
        import polars as pl

        frames["polars"] = pl.from_pandas(df)
    except ImportError:  # pragma: no cover - polars is optional
        pass
    for name, frame in frames.items():
        g = so.group_series(frame, freq="D")
        _check(g, want)


def test_grouped_input_errors_name_the_callers_row():
    """A repeated period inside a grouped series (series in another order) is reported at the
    caller's row, as on the sorted path."""
    ids = ["s2", "s2", "s10", "s10", "s10"]
    days = [5, 6, 7, 9, 7]
    t = pa.table({"unique_id": ids, "ds": pa.array(days, pa.int32()).cast(pa.date32()), "y": [1.0] * 5})
    with pytest.raises(errors.DuplicateRowError) as e:
        so.group_series(t, freq="D")
    assert e.value.row == 4 and e.value.series == "s10"
    t = t.set_column(1, "ds", pa.array([5, 6, 7, 8, 10], pa.int32()).cast(pa.date32()))
    with pytest.raises(errors.FrequencyError) as e:
        so.group_series(t, freq="D", fill_gaps="error")
    assert e.value.row == 4 and e.value.series == "s10"


def test_forecast_is_identical_whatever_the_input_order():
    """Same forecast table, bit for bit, from the sorted table and from the grouped-unsorted,
    shuffled and tz-aware forms of it."""
    ids, days, y = _series_table(11, n_series=20)
    ds = pa.array(np.asarray(days, np.int32), pa.date32())
    base = pa.table({"unique_id": ids, "ds": ds, "y": y})
    order = np.lexsort((days, [_key(i) for i in ids]))
    sorted_tbl = base.take(pa.array(order))
    want = so.forecast(sorted_tbl, h=5, freq="D", models=[so.models.CrostonSBA(), so.models.Naive()])
    shuffled = base.take(pa.array(np.random.default_rng(0).permutation(len(ids))))
    for tbl in (base, shuffled, base.set_column(1, "ds", ds.cast(pa.timestamp("ns")))):
        got = so.forecast(tbl, h=5, freq="D", models=[so.models.CrostonSBA(), so.models.Naive()])
        assert got.drop_columns(["ds"]).equals(want.drop_columns(["ds"]))
        as_ns = [pc.cast(t.column("ds"), pa.timestamp("ns")) for t in (got, want)]
        assert as_ns[0].equals(as_ns[1])


@pytest.mark.parametrize("tz", ["Europe/Paris", "America/St_Johns", "Australia/Lord_Howe"])
@pytest.mark.parametrize("unit", list(UNIT))
def test_days_to_time_gives_the_local_midnights_pyarrow_gives(tz, unit):
    """Output dates of a tz-aware table: each distinct day converted once, mapped back to every row
    (also through spring-forward and fall-back days)."""
    from stockopt._arrow import days_to_time

    typ = pa.timestamp(unit, tz=tz)
    days = np.tile(np.arange(19_000, 19_400, dtype=np.int64), 30)
    for d in (days, days[:7], days[:0]):
        naive = pa.array(d * 86_400 * UNIT[unit], pa.int64()).cast(pa.timestamp(unit))
        want = pc.assume_timezone(naive, tz, ambiguous="earliest", nonexistent="earliest")
        assert days_to_time(d, typ).equals(want)
