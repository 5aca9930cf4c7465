"""Grouping and validation of long demand tables (stockopt.data)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stockopt as so
from stockopt import errors
from stockopt._kernels import _grouping
from stockopt.data import group_series
from tests.reference import grouping as ref

EPOCH = dt.date(1970, 1, 1)


def _table(ids, days, y, id_type=pa.string(), time_type=pa.date32()):
    ds = pa.array(np.asarray(days, dtype=np.int32), type=pa.date32()).cast(time_type)
    return pa.table({"unique_id": pa.array(ids, type=id_type), "ds": ds, "y": pa.array(y, type=pa.float64())})


# ---------------------------------------------------------------- property-based round trip


@st.composite
def long_tables(draw):
    n_series = draw(st.integers(1, 6))
    id_kind = draw(st.sampled_from(["string", "dictionary", "int64"]))
    rows = []
    for s in range(n_series):
        length = draw(st.integers(1, 12))
        start = draw(st.integers(0, 40))
        values = draw(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=length, max_size=length))
        sid = f"s{s}" if id_kind != "int64" else 1000 - 7 * s
        rows += [(sid, start + k, v) for k, v in enumerate(values)]
    perm = draw(st.permutations(range(len(rows))))
    shuffled = draw(st.booleans())
    if shuffled:
        rows = [rows[i] for i in perm]
    return rows, id_kind


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(long_tables())
def test_round_trip_any_valid_table(case):
    rows, id_kind = case
    ids = [r[0] for r in rows]
    if id_kind == "int64":
        id_arr = pa.array(ids, type=pa.int64())
    elif id_kind == "dictionary":
        id_arr = pa.array(ids).dictionary_encode()
    else:
        id_arr = pa.array(ids, type=pa.string())
    tbl = pa.table({"unique_id": id_arr, "ds": pa.array([r[1] for r in rows], type=pa.date32()),
                    "y": pa.array([r[2] for r in rows], type=pa.float64())})
    g = group_series(tbl, freq="D", fill_gaps="error")
    back = g.to_arrow()
    assert back.schema.field("unique_id").type == tbl.schema.field("unique_id").type
    got = sorted(zip(back["unique_id"].to_pylist(), back["ds"].to_pylist(), back["y"].to_pylist()))
    want = sorted(zip(tbl["unique_id"].to_pylist(), tbl["ds"].to_pylist(), tbl["y"].to_pylist()))
    assert got == want
    # series come out in id order and each is strictly increasing in time
    assert g.ids.to_pylist() == sorted(set(ids))
    assert g.report.sorted_input == (rows == sorted(rows, key=lambda r: (r[0], r[1])))


@settings(max_examples=40, deadline=None)
@given(long_tables(), st.sampled_from(["zero", "interpolate"]))
def test_gap_filling_matches_reference(case, fill):
    rows, _ = case
    rows = [r for i, r in enumerate(rows) if i % 3 != 1] or rows[:1]  # punch holes
    tbl = pa.table({"unique_id": pa.array([str(r[0]) for r in rows]),
                    "ds": pa.array([r[1] for r in rows], type=pa.date32()),
                    "y": pa.array([r[2] for r in rows], type=pa.float64())})
    g = group_series(tbl, freq="D", fill_gaps=fill)
    want = ref.group_rows([(str(a), b, c) for a, b, c in rows], fill=fill)
    assert g.ids.to_pylist() == list(want)
    for i, sid in enumerate(want):
        periods = g.periods()[g.indptr[i]:g.indptr[i + 1]].tolist()
        assert periods == [p for p, _ in want[sid]]
        np.testing.assert_allclose(g.series(i), [v for _, v in want[sid]], rtol=1e-12, atol=1e-9)
    observed = {}
    for a, b, _ in rows:
        observed.setdefault(str(a), set()).add(b)
    assert g.report.gaps_filled.tolist() == [len(want[s]) - len(observed[s]) for s in want]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17])
def test_interpolate_kernel_matches_reference(n):
    rng = np.random.default_rng(n)
    for pattern in range(5):
        v = rng.normal(size=n)
        v[rng.random(n) < 0.2 * pattern] = np.nan
        got = v.copy()
        _grouping.interpolate_nan(got, np.array([0, n], dtype=np.int64))
        np.testing.assert_allclose(got, ref.interpolate_nan(list(v)), rtol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 1000])
def test_sort_permutation_is_a_stable_lexicographic_sort(n):
    rng = np.random.default_rng(n)
    codes = rng.integers(0, 4, size=n).astype(np.int32)
    t = rng.integers(-3, 9, size=n).astype(np.int32)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=4)))).astype(np.int64)
    perm = _grouping.sort_permutation(codes, t, indptr)
    want = sorted(range(n), key=lambda j: (codes[j], t[j], j))
    assert perm.tolist() == want


def test_sorted_float_input_is_zero_copy():
    tbl = _table(["a", "a", "b"], [0, 1, 5], [1.0, 2.0, 3.0])
    g = group_series(tbl, freq="D")
    assert g.report.zero_copy and g.report.sorted_input
    assert np.shares_memory(g.values, tbl["y"].chunk(0).to_numpy())


def test_pandas_polars_and_parquet_inputs(tmp_path):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    import pyarrow.parquet as pq

    tbl = so.datasets.synthetic_retail(5, 20, seed=3)
    want = group_series(tbl, freq="D")
    path = tmp_path / "sales.parquet"
    pq.write_table(tbl, path)
    for src in (tbl.to_pandas(), pl.from_arrow(tbl), path, str(path), tbl.to_reader()):
        got = group_series(src, freq="D")
        np.testing.assert_array_equal(got.values, want.values)
        np.testing.assert_array_equal(got.indptr, want.indptr)
    assert isinstance(pd.DataFrame, type)


def test_integer_target_and_timestamps():
    ts = pa.array([dt.datetime(2024, 1, d) for d in (1, 2, 3)], type=pa.timestamp("ns"))
    tbl = pa.table({"unique_id": [1, 1, 1], "ds": ts, "y": pa.array([1, 2, 3], type=pa.int32())})
    g = group_series(tbl, freq="D")
    assert g.values.dtype == np.float64 and g.values.tolist() == [1.0, 2.0, 3.0]
    out = g.future_table(2, {"m": np.array([[7.0, 8.0]])})
    assert out["ds"].type == pa.timestamp("ns")
    assert out["ds"].to_pylist() == [dt.datetime(2024, 1, 4), dt.datetime(2024, 1, 5)]


@pytest.mark.parametrize(
    "freq, dates, next_dates",
    [
        ("W", [dt.date(2024, 1, 7), dt.date(2024, 1, 14)], [dt.date(2024, 1, 21), dt.date(2024, 1, 28)]),
        ("W-MON", [dt.date(2024, 1, 1), dt.date(2024, 1, 8)], [dt.date(2024, 1, 15), dt.date(2024, 1, 22)]),
        ("MS", [dt.date(2023, 11, 1), dt.date(2023, 12, 1)], [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]),
        ("ME", [dt.date(2024, 1, 31), dt.date(2024, 2, 29)], [dt.date(2024, 3, 31), dt.date(2024, 4, 30)]),
    ],
)
def test_weekly_and_monthly_frequencies(freq, dates, next_dates):
    tbl = pa.table({"unique_id": ["a", "a"], "ds": pa.array(dates, type=pa.date32()), "y": [1.0, 2.0]})
    for f in (freq, None):  # declared and inferred
        g = group_series(tbl, freq=f)
        out = g.future_table(2, {"m": np.zeros((1, 2))})
        assert out["ds"].to_pylist() == next_dates


def test_gaps_on_weekly_data_are_counted():
    dates = [dt.date(2024, 1, 1), dt.date(2024, 1, 22)]
    tbl = pa.table({"unique_id": ["a", "a"], "ds": pa.array(dates, type=pa.date32()), "y": [1.0, 4.0]})
    g = group_series(tbl, freq="W-MON")
    assert g.values.tolist() == [1.0, 0.0, 0.0, 4.0]
    assert g.report.total_gaps_filled == 2 and g.report.series_with_gaps == 1


# ---------------------------------------------------------------- validation errors


def _bad(**cols):
    base = {"unique_id": ["a", "a", "b", "b"], "ds": pa.array([0, 1, 0, 1], type=pa.date32()),
            "y": [1.0, 2.0, 3.0, 4.0]}
    base.update(cols)
    return pa.table(base)


def _check(exc_info, cls, column=None, series=None, row=None):
    e = exc_info.value
    assert isinstance(e, cls) and isinstance(e, ValueError)
    msg = str(e)
    if column is not None:
        assert f"column {column!r}" in msg and e.column == column
    if series is not None:
        assert f"series {series!r}" in msg and e.series == series
    if row is not None:
        assert f"row {row}" in msg and e.row == row


def test_missing_column():
    with pytest.raises(errors.MissingColumnError) as ei:
        group_series(pa.table({"unique_id": ["a"], "ds": pa.array([0], type=pa.date32())}))
    _check(ei, errors.MissingColumnError, column="y")
    with pytest.raises(errors.MissingColumnError, match="sku"):
        group_series(_bad(), id_col="sku")


def test_wrong_types():
    with pytest.raises(errors.ColumnTypeError) as ei:
        group_series(_bad(y=["1", "2", "3", "4"]))
    _check(ei, errors.ColumnTypeError, column="y")
    with pytest.raises(errors.ColumnTypeError) as ei:
        group_series(_bad(ds=["2024-01-01"] * 4))
    _check(ei, errors.ColumnTypeError, column="ds")
    with pytest.raises(errors.ColumnTypeError) as ei:
        group_series(_bad(unique_id=[1.5, 1.5, 2.5, 2.5]))
    _check(ei, errors.ColumnTypeError, column="unique_id")


def test_null_ids_and_times():
    with pytest.raises(errors.NullValueError) as ei:
        group_series(_bad(unique_id=["a", None, "b", "b"]))
    _check(ei, errors.NullValueError, column="unique_id", row=1)
    with pytest.raises(errors.NullValueError) as ei:
        group_series(_bad(ds=pa.array([0, 1, None, 1], type=pa.date32())))
    _check(ei, errors.NullValueError, column="ds", series="b", row=2)


def test_nan_and_null_targets_and_policies():
    for y in ([1.0, 2.0, None, 4.0], [1.0, 2.0, math.nan, 4.0]):
        with pytest.raises(errors.NullValueError) as ei:
            group_series(_bad(y=y))
        _check(ei, errors.NullValueError, column="y", series="b", row=2)
    tbl = pa.table({"unique_id": ["a"] * 4, "ds": pa.array([0, 1, 2, 3], type=pa.date32()),
                    "y": [1.0, None, math.nan, 4.0]})
    assert group_series(tbl, missing="zero").values.tolist() == [1.0, 0.0, 0.0, 4.0]
    g = group_series(tbl, missing="interpolate")
    assert g.values.tolist() == [1.0, 2.0, 3.0, 4.0] and g.report.missing_filled == 2


def test_infinite_and_negative_demand():
    with pytest.raises(errors.NonFiniteValueError) as ei:
        group_series(_bad(y=[1.0, math.inf, 3.0, 4.0]))
    _check(ei, errors.NonFiniteValueError, column="y", series="a", row=1)
    with pytest.raises(errors.NegativeValueError) as ei:
        group_series(_bad(y=[1.0, 2.0, 3.0, -4.0]))
    _check(ei, errors.NegativeValueError, column="y", series="b", row=3)
    assert group_series(_bad(y=[1.0, 2.0, 3.0, -4.0]), allow_negative=True).values[-1] == -4.0


def test_duplicates_name_both_rows():
    tbl = _bad(unique_id=["b", "a", "b", "a"], ds=pa.array([1, 0, 1, 1], type=pa.date32()))
    with pytest.raises(errors.DuplicateRowError) as ei:
        group_series(tbl)
    _check(ei, errors.DuplicateRowError, column="ds", series="b", row=2)
    assert "also at row 0" in str(ei.value)


def test_off_frequency_dates():
    dates = pa.array([dt.date(2024, 1, 7), dt.date(2024, 1, 14), dt.date(2024, 1, 7), dt.date(2024, 1, 16)])
    with pytest.raises(errors.FrequencyError) as ei:
        group_series(_bad(ds=dates), freq="W")
    _check(ei, errors.FrequencyError, column="ds", series="b", row=3)
    with pytest.raises(errors.FrequencyError) as ei:
        group_series(_bad(ds=pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 1, 1),
                                       dt.date(2024, 2, 2)])), freq="MS")
    _check(ei, errors.FrequencyError, series="b", row=3)
    ts = pa.array([dt.datetime(2024, 1, 1, 0), dt.datetime(2024, 1, 2, 13)] * 2, type=pa.timestamp("s"))
    with pytest.raises(errors.FrequencyError) as ei:
        group_series(_bad(ds=ts))
    _check(ei, errors.FrequencyError, series="a", row=1)
    with pytest.raises(errors.FrequencyError, match="unknown frequency"):
        group_series(_bad(), freq="fortnightly")


def test_gaps_refused_when_asked():
    tbl = _bad(ds=pa.array([0, 1, 0, 3], type=pa.date32()))
    with pytest.raises(errors.FrequencyError) as ei:
        group_series(tbl, fill_gaps="error")
    _check(ei, errors.FrequencyError, series="b", row=3)


def test_empty_input():
    tbl = _bad().slice(0, 0)
    with pytest.raises(errors.EmptyInputError):
        group_series(tbl)


def test_short_series_are_reported_not_raised():
    g = group_series(_bad(unique_id=["a", "b", "b", "b"], ds=pa.array([0, 0, 1, 2], type=pa.date32())))
    assert g.short_series(2).tolist() == [0]


def test_input_is_not_mutated_and_result_deterministic():
    tbl = so.datasets.synthetic_retail(20, 30, seed=5)
    shuffled = tbl.take(np.random.default_rng(0).permutation(tbl.num_rows))
    snapshot = shuffled["y"].to_numpy().copy()
    g1 = group_series(shuffled, freq="D", extra_cols=["in_stock", "price"])
    g2 = group_series(tbl, freq="D", extra_cols=["in_stock", "price"])
    np.testing.assert_array_equal(shuffled["y"].to_numpy(), snapshot)
    np.testing.assert_array_equal(g1.values, g2.values)
    np.testing.assert_array_equal(g1.extra["in_stock"], g2.extra["in_stock"])
    assert not g1.report.sorted_input and g2.report.sorted_input


def test_take_keeps_series_intact():
    g = group_series(so.datasets.synthetic_retail(6, 9, seed=2), freq="D")
    sub = g.take(np.array([4, 1]))
    assert sub.ids.to_pylist() == [g.ids[4].as_py(), g.ids[1].as_py()]
    np.testing.assert_array_equal(sub.series(0), g.series(4))
    np.testing.assert_array_equal(sub.series(1), g.series(1))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.5, -2.0, math.nan, math.inf, -math.inf, 3.0, 2e15, -3e15]),
                max_size=30))
def test_scan_target_matches_numpy(vals):
    y = np.array(vals, dtype=np.float64)

    def first(mask):
        return int(np.argmax(mask)) if mask.any() else -1

    big = np.isfinite(y) & (np.abs(y) > 1e15)
    assert _grouping.scan_target(y, 1e15) == (int(np.isnan(y).sum()), first(np.isnan(y)), first(np.isinf(y)),
                                              first(y < 0), first(big))
    assert _grouping.scan_target(y)[4] == -1  # no bound by default
