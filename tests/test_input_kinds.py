"""Input speed paths (issue 12) give the same output as the plain paths.

- ``pandas_columns`` (a pandas frame's columns converted one by one, zero-copy) gives the arrays
  ``pa.Table.from_pandas`` gives, NaN/NaT included, for every column dtype;
- timestamps converted straight into the series order of grouped rows (``time_to_days(runs=...)``)
  equal the input-order conversion permuted afterwards, also at clock changes;
- ``group_series`` of every input kind (units, time zones, pandas / polars frames, id types) equals
  the slow sort-based twin and, field by field, the same table with ``date32`` dates (the path
  that converts nothing); errors name the caller's first offending row as before.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import stockopt as so
from stockopt import errors
from stockopt._arrow import pandas_columns, time_to_days, to_table
from stockopt._order import series_runs
from tests.reference import grouping as ref

pd = pytest.importorskip("pandas")

UNIT = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def _grouped_table(seed: int, n_series: int = 12):
    """Grouped rows, series in random (not lexicographic) order, gaps inside; days since epoch."""
    rng = np.random.default_rng(seed)
    ids, days, y = [], [], []
    for s in rng.permutation(n_series):
        length = int(rng.integers(1, 30))
        d = np.sort(rng.choice(np.arange(19_780, 19_840), size=length, replace=False))  # spans March 2024
        ids += [f"s{s}"] * length
        days += d.tolist()
        y += rng.integers(0, 9, size=length).astype(float).tolist()
    return ids, np.asarray(days, dtype=np.int64), np.asarray(y)


def _local_midnights(days: np.ndarray, unit: str, tz: str | None) -> pa.Array:
    naive = pa.array(days * 86_400 * UNIT[unit], pa.int64()).cast(pa.timestamp(unit))
    if tz is None:
        return naive
    return pc.assume_timezone(naive, tz, ambiguous="earliest", nonexistent="earliest")


def _same(g, h):
    """Two GroupedSeries equal field by field (values bit for bit)."""
    assert g.ids.to_pylist() == h.ids.to_pylist()
    assert np.array_equal(g.indptr, h.indptr) and np.array_equal(g.start, h.start)
    assert g.values.tobytes() == h.values.tobytes()
    assert g.freq == h.freq
    assert np.array_equal(g.report.gaps_filled, h.report.gaps_filled)
    assert g.report.sorted_input == h.report.sorted_input


def _check_twin(g, ids, days, y):
    want = ref.group_rows([(i, int(d), float(v)) for i, d, v in zip(ids, days, y)])
    assert g.ids.to_pylist() == list(want)
    for i, series in enumerate(want.values()):
        assert g.start[i] == series[0][0]
        np.testing.assert_array_equal(g.series(i), [v for _, v in series])


# ---------------------------------------------------------------- pandas columns


def _frame():
    n = 9
    ts = pd.Series(pd.date_range("2024-03-29", periods=n, freq="D"))
    return pd.DataFrame({
        "f64": np.linspace(0, 1, n), "f32": np.linspace(0, 1, n, dtype=np.float32),
        "f64_nan": [1.0, np.nan, 3.0, np.inf, -np.inf, 0.0, 1.0, 2.0, 3.0],
        "f64_infs": [np.inf, -np.inf] + [0.0] * (n - 2),  # their sum is NaN: no NaN inside
        "i64": np.arange(n), "b": np.arange(n) % 2 == 0,
        "nullable": pd.array([1, None] + [2] * (n - 2), "Int64"),
        "ns": ts, "nat": ts.where(ts.dt.day != 31),
        "s": ts.astype("datetime64[s]"), "ms": ts.astype("datetime64[ms]"), "us": ts.astype("datetime64[us]"),
        "paris": ts.dt.tz_localize("Europe/Paris"), "kathmandu": ts.dt.tz_localize("Asia/Kathmandu"),
        "paris_nat": ts.where(ts.dt.day != 31).dt.tz_localize("Europe/Paris"),
        "obj": [f"s{i % 3}" for i in range(n)],
        "pyarrow": pd.array([f"s{i % 3}" for i in range(n)], "string[pyarrow]"),
        "cat": pd.Categorical([f"s{i % 3}" for i in range(n)], categories=["s2", "s0", "s1"]),
        "cat_nan": pd.Categorical(["a", None] + ["b"] * (n - 2)),
        "cat_ordered": pd.Categorical([i % 3 for i in range(n)], ordered=True),
        "arrow_dtype": pd.array(np.arange(n), dtype=pd.ArrowDtype(pa.int32())),
    }, index=pd.RangeIndex(n))


def test_pandas_columns_equal_from_pandas_for_every_dtype():
    df = _frame()
    got = pandas_columns(df, [*df.columns, "absent"])
    want = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    assert got.column_names == list(df.columns)
    for name in df.columns:
        assert got.column(name).type == want.column(name).type, name
        assert got.column(name).equals(want.column(name)), name
    assert got.column("f64_nan").null_count == 1 and got.column("nat").null_count == 1
    assert got.column("cat_nan").null_count == 1 and got.column("paris_nat").null_count == 1
    # floats and naive datetimes without NaN/NaT are the frame's own memory
    v = got.column("f64").chunk(0).to_numpy()
    assert np.shares_memory(v, df["f64"].to_numpy())


def test_pandas_columns_of_odd_frames():
    df = _frame()
    sub = df.iloc[2:7]  # a slice: a range index not starting at 0
    assert pandas_columns(sub, ["ns", "f64"]).equals(
        pa.Table.from_pandas(sub[["ns", "f64"]], preserve_index=False).replace_schema_metadata(None))
    empty = df.iloc[:0]
    assert pandas_columns(empty, ["ns", "obj", "cat"]).equals(
        pa.Table.from_pandas(empty[["ns", "obj", "cat"]], preserve_index=False).replace_schema_metadata(None))
    dup = pd.DataFrame([[1.0, 2.0]], columns=["y", "y"])  # left to pyarrow, which refuses it as before
    with pytest.raises(ValueError, match="Duplicate column names"):
        to_table(dup, columns=["y"])


# ---------------------------------------------------------------- timestamps straight into series order


@pytest.mark.parametrize("unit", list(UNIT))
@pytest.mark.parametrize("tz", [None, "Europe/Paris", "America/St_Johns"])
def test_time_to_days_in_series_order_equals_the_input_order_permuted(unit, tz):
    ids, days, _ = _grouped_table(5)
    col = _local_midnights(days, unit, tz)
    if tz is not None:  # a few rows at any time of day, some inside the hour of the clock change
        change = 1_711_846_800 * UNIT[unit]  # 2024-03-31 01:00 UTC, Paris goes from +1 to +2
        raw = col.cast(pa.int64()).to_numpy().copy()
        raw[[3, 10, 11, 25]] = [change + 1, change + 1800 * UNIT[unit], change + 7 * UNIT[unit], change - 1]
        col = pa.array(raw, pa.int64()).cast(col.type)
    starts = np.array([ids.index(s) for s in sorted(set(ids))], dtype=np.int64)
    indptr = series_runs(starts, len(ids))[0]
    perm = np.concatenate([np.arange(a, a + (b - c)) for a, b, c in zip(starts, indptr[1:], indptr[:-1])])
    for narrow in (False, True):
        d0, o0 = time_to_days(col, table="sales", column="ds", narrow=narrow)
        d1, o1 = time_to_days(col, table="sales", column="ds", narrow=narrow, runs=(starts, indptr))
        assert d1.tolist() == d0[perm].tolist() and o1.tolist() == o0[perm].tolist()
        assert d1.dtype == d0.dtype


@pytest.mark.parametrize("tz", ["Europe/Paris", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu",
                                "America/Sao_Paulo"])
def test_time_to_days_of_a_tz_window_matches_pyarrow_local_time(tz):
    """Dense tz-aware stamps over three years (each clock change inside): local midnights walked day
    by day, hour by hour and at random times, in order and shuffled, against pyarrow's local time."""
    rng = np.random.default_rng(abs(hash(tz)) % 2**32)
    days = np.arange(19_000, 20_100, dtype=np.int64)
    mid = _local_midnights(days, "s", tz).cast(pa.int64()).to_numpy()
    hourly = np.arange(mid[0], mid[-1], 3_600 - 1)[:30_000]  # every hour, drifting by a second
    anytime = rng.integers(mid[0], mid[-1], size=5_000)
    raw = np.concatenate([mid, hourly, mid[::-1], anytime, rng.permutation(mid)])
    for unit in ("s", "ns"):
        col = pa.array(raw * UNIT[unit], pa.timestamp(unit, tz=tz))
        local = pc.local_timestamp(col).cast(pa.int64()).to_numpy()
        per_day = 86_400 * UNIT[unit]
        d, off = time_to_days(col, table="sales", column="ds")
        assert np.array_equal(d, np.floor_divide(local, per_day))
        assert np.array_equal(off, np.remainder(local, per_day) != 0)


# ---------------------------------------------------------------- group_series of every input kind


TIME_KINDS = ["timestamp[s]", "timestamp[ms]", "timestamp[us]", "timestamp[ns]",
              "timestamp[ns, Europe/Paris]", "timestamp[ms, America/New_York]"]


@pytest.mark.parametrize("time_kind", TIME_KINDS)
@pytest.mark.parametrize("id_kind", ["string", "large_string", "string_view", "dictionary", "int64"])
def test_group_series_of_grouped_timestamps_equals_date32_and_the_twin(time_kind, id_kind):
    ids, days, y = _grouped_table(3)
    if id_kind == "int64":
        ids = [int(s[1:]) * 7 for s in ids]
    col = pa.array(ids).dictionary_encode() if id_kind == "dictionary" else pa.array(
        ids, type={"large_string": pa.large_string(), "string_view": pa.string_view()}.get(id_kind))
    unit = time_kind.split("[")[1].split(",")[0].rstrip("]")
    tz = time_kind.split(", ")[1].rstrip("]") if "," in time_kind else None
    plain = pa.table({"unique_id": col, "ds": pa.array(days.astype(np.int32), pa.date32()), "y": y})
    tbl = plain.set_column(1, "ds", _local_midnights(days, unit, tz))
    for freq in ("D", None):
        g = so.group_series(tbl, freq=freq)
        _same(g, so.group_series(plain, freq=freq))
        _check_twin(g, ids, days, y)
        assert g.time_type == tbl.column("ds").type


@pytest.mark.parametrize("kind", ["object", "string[pyarrow]", "category", "Europe/Paris", "Asia/Kathmandu",
                                  "polars", "polars Europe/Paris"])
def test_group_series_of_frames_equals_the_arrow_table(kind):
    ids, days, y = _grouped_table(8)
    ds = days.astype("datetime64[D]").astype("datetime64[ns]")
    df = pd.DataFrame({"unique_id": ids, "ds": ds, "y": y, "price": y * 2})
    tz = next((z for z in ("Europe/Paris", "Asia/Kathmandu") if z in kind), None)
    if tz is not None:
        df["ds"] = df["ds"].dt.tz_localize(tz)
    if kind == "string[pyarrow]":
        df = df.astype({"unique_id": "string[pyarrow]"})
    elif kind == "category":
        df = df.astype({"unique_id": "category"})
    frame = df
    if kind.startswith("polars"):
        pl = pytest.importorskip("polars")
        frame = pl.from_pandas(df)
    want = so.group_series(pa.Table.from_pandas(df, preserve_index=False), freq="D", extra_cols=["price"])
    g = so.group_series(frame, freq="D", extra_cols=["price"])
    _same(g, want)
    assert g.extra["price"].tobytes() == want.extra["price"].tobytes()
    _check_twin(g, ids, days, y)


def test_frames_with_nan_and_nat_behave_as_from_pandas():
    ids, days, y = _grouped_table(2)
    df = pd.DataFrame({"unique_id": ids, "ds": days.astype("datetime64[D]").astype("datetime64[ns]"), "y": y})
    df.loc[4, "y"] = np.nan
    for missing in ("zero", "interpolate"):
        got = so.group_series(df, freq="D", missing=missing)
        _same(got, so.group_series(pa.Table.from_pandas(df, preserve_index=False), freq="D", missing=missing))
    with pytest.raises(errors.NullValueError) as e:
        so.group_series(df, freq="D")
    assert e.value.row == 4
    df.loc[6, "ds"] = pd.NaT
    with pytest.raises(errors.NullValueError) as e:
        so.group_series(df.fillna({"y": 0.0}), freq="D")
    assert e.value.row == 6 and e.value.column == "ds"


def test_grouped_timestamps_that_need_the_input_order():
    """Periods out of order inside a series are sorted; a time of day or a date off the weekly grid
    is reported at the caller's first offending row, whatever the series order."""
    ids = ["s2", "s2", "s2", "s10", "s10", "s1", "s1"]
    days = np.array([5, 7, 6, 7, 9, 3, 4], dtype=np.int64)
    y = np.arange(7.0)
    tbl = pa.table({"unique_id": ids, "ds": _local_midnights(days, "ns", None), "y": y})
    g = so.group_series(tbl, freq="D")
    _check_twin(g, ids, days, y)
    assert not g.report.sorted_input
    raw = tbl.column("ds").cast(pa.int64()).to_numpy().copy()
    raw[[1, 4]] += 3_600 * 10**9  # 1 am in s2 (row 1) and in s10 (row 4, earlier in series order)
    bad = tbl.set_column(1, "ds", pa.array(raw, pa.int64()).cast(pa.timestamp("ns")))
    with pytest.raises(errors.FrequencyError) as e:
        so.group_series(bad, freq="D")
    assert (e.value.row, e.value.series) == (1, "s2")
    weekly = np.array([0, 7, 14, 7, 15, 0, 8]) + 4  # day 4 is a Monday; rows 4 and 6 are off the grid
    tbl = tbl.set_column(1, "ds", _local_midnights(weekly, "us", "Europe/Paris"))
    with pytest.raises(errors.FrequencyError) as e:
        so.group_series(tbl, freq="W-MON")
    assert (e.value.row, e.value.series) == (4, "s10")


def test_string_view_runs_of_short_ids_differing_after_their_prefix():
    """Inline ids (<= 12 bytes) equal in length and first 4 bytes are told apart by the rest of
    their view; equal views are one run (polars hands ids over as string views)."""
    from stockopt._ids import grouped_runs

    ids = ["abcd1234"] * 3 + ["abcd1235"] * 2 + ["abcd12345678"] * 2 + ["abcd12345679"]
    starts, run_ids = grouped_runs(pa.chunked_array([pa.array(ids[::-1], pa.string_view())]))
    assert run_ids.to_pylist() == ["abcd1234", "abcd12345678", "abcd12345679", "abcd1235"]
    assert starts.tolist() == [5, 1, 0, 3]
    back = ids + ["abcd1234"]  # the first id comes back: not grouped
    assert grouped_runs(pa.chunked_array([pa.array(back, pa.string_view())])) is None


@pytest.mark.parametrize("tz", ["Europe/Paris", "America/St_Johns"])
def test_output_dates_of_every_layout_of_days_are_the_local_midnights(tz):
    """Dense ranges (looked up by offset), few distinct days far apart (looked up by search) and
    all-distinct days (converted row by row) give pyarrow's local midnights."""
    from stockopt._arrow import days_to_time

    typ = pa.timestamp("ms", tz=tz)
    rng = np.random.default_rng(0)
    layouts = [np.tile(np.arange(19_800, 19_828, dtype=np.int64), 50),
               np.tile(np.array([-3_000, 19_813, 40_000], dtype=np.int64), 20),
               rng.permutation(np.arange(19_000, 19_700, dtype=np.int64))]
    for days in layouts:
        want = _local_midnights(days, "ms", tz)
        assert days_to_time(days, typ).equals(want)


# ---------------------------------------------------------------- stretches of one step, categorical ids


@pytest.mark.parametrize("tz", [None, "Europe/Paris", "America/New_York", "America/Santiago",
                                "America/Havana", "Australia/Lord_Howe"])
def test_time_to_days_of_stepped_stretches_matches_pyarrow_local_time(tz):
    """Series read in stretches of one step (daily, weekly, every 3 days, at a fixed time of day,
    hourly, irregular), broken at any row of a 64-row block and at every clock change (in zones
    where midnight itself is skipped or repeated too), in input and in series order, against
    pyarrow's local time."""
    rng = np.random.default_rng(7)
    parts = []
    for k in range(40):
        length = int(rng.integers(1, 300))
        start = int(rng.integers(16_000, 20_000))
        kind = k % 7
        if kind in (0, 1, 2):  # local midnights every 1, 7 or 3 days
            days = start + (1, 7, 3)[kind] * np.arange(length)
            v = _local_midnights(days, "s", tz).cast(pa.int64()).to_numpy()
        elif kind == 3:  # 22:30 UTC every day: the local day moves at a clock change (Paris: 23:30 / 00:30)
            v = (start + np.arange(length)) * 86_400 + 22 * 3_600 + 1_800
        elif kind == 4:  # hourly
            v = start * 86_400 + 3_600 * np.arange(length)
        elif kind == 5:  # daily, one row moved (the stretch breaks inside a block)
            v = (start + np.arange(length)) * 86_400
            v[rng.integers(0, length)] += 86_400 * int(rng.integers(-3, 3))
        else:  # irregular
            v = np.sort(rng.integers(start * 86_400, (start + 900) * 86_400, length))
        parts.append(np.asarray(v, dtype=np.int64))
    raw = np.concatenate(parts)
    lengths = np.array([p.size for p in parts])
    first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    order = rng.permutation(len(parts))
    starts = first[order]
    indptr = series_runs(starts, raw.size)[0]
    perm = np.concatenate([np.arange(a, a + lengths[i]) for a, i in zip(starts, order)])
    for unit in ("s", "ms", "ns"):
        col = pa.array(raw * UNIT[unit], pa.timestamp(unit, tz=tz))
        local = (pc.local_timestamp(col) if tz else col).cast(pa.int64()).to_numpy()
        per_day = 86_400 * UNIT[unit]
        for narrow in (False, True):
            d, off = time_to_days(col, table="sales", column="ds", narrow=narrow)
            assert np.array_equal(d, np.floor_divide(local, per_day))
            assert np.array_equal(off, np.remainder(local, per_day) != 0)
            d, off = time_to_days(col, table="sales", column="ds", narrow=narrow, runs=(starts, indptr))
            assert np.array_equal(d, np.floor_divide(local, per_day)[perm])
            assert np.array_equal(off, (np.remainder(local, per_day) != 0)[perm])


def test_time_to_days_at_the_ends_of_int64():
    """Stamps stepping by whole days up to int64's maximum (and from its minimum) are read as by a
    floor division, and too wide for int32 they are redone wide."""
    top, bottom = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    for raw in (top - 86_400 * np.arange(5)[::-1], bottom + 86_400 * np.arange(5),
                np.array([bottom, bottom + 1, 0, top - 1, top])):
        raw = raw.astype(np.int64)
        for narrow in (False, True):
            d, off = time_to_days(pa.array(raw, pa.timestamp("s")), table="sales", column="ds", narrow=narrow)
            assert d.dtype == np.int64
            assert d.tolist() == np.floor_divide(raw, 86_400).tolist()
            assert off.tolist() == (np.remainder(raw, 86_400) != 0).tolist()


def test_tz_runs_whose_ends_do_not_bound_them():
    """The offset table spans the first and last stamps of the runs; a series whose stamps go down
    (sorted afterwards) has most rows outside it, and is read over the column's whole span."""
    n = 70_000  # more rows outside than are converted one by one
    up = 86_400 * np.arange(n, dtype=np.int64)
    down = up[::-1] // 7 + 3_600
    raw = np.concatenate([up[n // 2 : n // 2 + 2], down])
    col = pa.array(raw * 10**9, pa.timestamp("ns", tz="Europe/Paris"))
    starts = np.array([2, 0])
    indptr = series_runs(starts, raw.size)[0]
    perm = np.concatenate([np.arange(2, raw.size), [0, 1]])
    local = pc.local_timestamp(col).cast(pa.int64()).to_numpy()[perm]
    d, off = time_to_days(col, table="sales", column="ds", runs=(starts, indptr))
    assert np.array_equal(d, np.floor_divide(local, 86_400 * 10**9))
    assert np.array_equal(off, np.remainder(local, 86_400 * 10**9) != 0)


@pytest.mark.parametrize("n_categories", [5, 300, 40_000])  # int8, int16 and int32 codes
def test_group_series_of_categorical_ids(n_categories):
    """Categories not in lexicographic order, some unused, ordered or not: the same series as the
    Arrow table pyarrow builds from the frame and as the twin; a missing id is refused at its row."""
    ids, days, y = _grouped_table(11)
    used = sorted(set(ids))
    rng = np.random.default_rng(n_categories)
    categories = list(rng.permutation(used + [f"unused{i}" for i in range(n_categories - len(used))]))
    ds = days.astype("datetime64[D]").astype("datetime64[ns]")
    for ordered in (False, True):
        cat = pd.Categorical(ids, categories=categories, ordered=ordered)
        df = pd.DataFrame({"unique_id": cat, "ds": ds, "y": y})
        assert df["unique_id"].cat.codes.dtype.itemsize == (1 if n_categories < 128 else
                                                              2 if n_categories < 32_768 else 4)
        g = so.group_series(df, freq="D")
        _same(g, so.group_series(pa.Table.from_pandas(df, preserve_index=False), freq="D"))
        _check_twin(g, ids, days, y)
        assert g.ids.to_pylist() == used
    df.loc[5, "unique_id"] = None
    with pytest.raises(errors.NullValueError) as e:
        so.group_series(df, freq="D")
    assert e.value.row == 5


def test_int_runs_equal_a_row_by_row_walk():
    """Runs of equal integer ids read 64 rows at a time equal a plain walk: starts, the first
    descent and the early stop, for every key width, runs ending anywhere in a block."""
    from stockopt._kernels import _grouping

    def walk(keys, max_unordered):
        starts, descent = [0], -1
        for j in range(1, len(keys)):
            if keys[j] != keys[j - 1]:
                if descent < 0 and keys[j] < keys[j - 1]:
                    descent = len(starts)
                if descent >= 0 and len(starts) >= max_unordered:
                    return -1, descent, None
                starts.append(j)
        return len(starts), descent, starts

    rng = np.random.default_rng(3)
    for it in range(400):
        dtype = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64][it % 8]
        keys = np.repeat(rng.integers(0, 100, 30), rng.integers(1, 90, 30)).astype(dtype)
        if it % 3 == 0:
            keys = np.sort(keys)
        max_unordered = int(rng.integers(1, 40))
        starts = np.empty(keys.size, dtype=np.int64)
        runs, descent = _grouping.int_runs(keys, starts, max_unordered)
        want_runs, want_descent, want_starts = walk(keys.tolist(), max_unordered)
        assert (runs, descent) == (want_runs, want_descent)
        if runs >= 0:
            assert starts[:runs].tolist() == want_starts
