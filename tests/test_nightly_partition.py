"""Partitions of whole series: the FNV-1a hash against its published test vectors and a slow twin,
stability across processes and batch sizes, every input format read to the same rows."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from stockopt.nightly._partition import (
    ROW_COL,
    KeyMap,
    fnv1a_64,
    id_partitions,
    iter_batches,
    parquet_pieces,
    read_partition,
    spill,
    split_table,
)


def _fnv_slow(text: str) -> int:
    """The FNV-1a definition, one byte at a time in Python (the slow twin)."""
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) % (1 << 64)
    return h


def test_fnv1a_matches_the_published_vectors_and_the_slow_twin():
    # test vectors of the FNV reference (draft-eastlake-fnv, Appendix C)
    assert [int(v) for v in fnv1a_64(pa.array(["", "a", "foobar"]))] == [
        0xCBF29CE484222325, 0xAF63DC4C8601EC8C, 0x85944171F73967E8]
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcXYZ019_-é"), size=int(n))) for n in rng.integers(0, 40, 300)]
    arr = pa.array(words)
    assert [int(v) for v in fnv1a_64(arr)] == [_fnv_slow(w) for w in words]
    # a slice (non-zero offset), large strings and chunked input hash the same
    assert [int(v) for v in fnv1a_64(arr.slice(7, 50))] == [_fnv_slow(w) for w in words[7:57]]
    assert np.array_equal(fnv1a_64(arr.cast(pa.large_string())), fnv1a_64(arr))


def test_partitions_depend_on_the_id_text_only():
    ids = pa.array([f"s{i}" for i in range(500)] + [None])
    part = id_partitions(ids, 7)
    want = [_fnv_slow(s) % 7 for s in ids.to_pylist()[:-1]] + [_fnv_slow("") % 7]
    assert part.tolist() == want
    # dictionary-encoded, chunked, and integer ids (hashed as their decimal text) agree
    assert np.array_equal(id_partitions(ids.dictionary_encode(), 7), part)
    assert np.array_equal(id_partitions(pa.chunked_array([ids[:100], ids[100:]]), 7), part)
    assert np.array_equal(id_partitions(pa.array(np.arange(300)), 5),
                          id_partitions(pa.array([str(i) for i in range(300)]), 5))


@pytest.mark.slow
def test_partitions_are_the_same_in_another_process_with_another_hash_seed():
    code = ("import pyarrow as pa; from stockopt.nightly._partition import id_partitions; "
            "print(id_partitions(pa.array([f'item_{i}' for i in range(200)]), 11).tolist())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    here = id_partitions(pa.array([f"item_{i}" for i in range(200)]), 11).tolist()
    assert out.stdout.strip() == str(here)


def test_key_map_places_every_item_of_a_supplier_in_one_partition():
    items = pa.table({"unique_id": [f"i{k}" for k in range(60)],
                      "supplier_id": [f"sup{k % 4}" for k in range(60)]})
    key = KeyMap(5, items, "unique_id", "supplier_id")
    part = key(pa.array([f"i{k}" for k in range(60)] + ["unknown"]))
    sup = id_partitions(items["supplier_id"], 5)
    assert np.array_equal(part[:60], sup)
    assert part[60] == id_partitions(pa.array(["unknown"]), 5)[0]  # ids without an items row: own hash


def _sales(n_series: int = 13, n_days: int = 17) -> pa.Table:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n_days)]
    ids = [f"s{(i * 7) % n_series}" for i in range(n_series)]  # grouped, not sorted
    return pa.table({"unique_id": np.repeat(ids, n_days), "ds": days * n_series,
                     "y": np.arange(n_series * n_days, dtype=float)})


def test_spill_writes_the_same_partition_files_whatever_the_batch_size(tmp_path):
    sales = _sales()
    key = KeyMap(4)
    runs = []
    for batch_rows in (5, 64, 10_000):
        res = spill(sales, tmp_path / str(batch_rows), 4, key=key, id_col="unique_id", time_col="ds",
                    table="sales", batch_rows=batch_rows)
        runs.append([read_partition(p, res.schema) if p else None for p in res.paths])
        assert res.n_rows == sales.num_rows and res.rows.sum() == sales.num_rows
        first = (dt.date(2024, 1, 1) - dt.date(1970, 1, 1)).days
        assert np.array_equal(res.days, first + np.arange(17))
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert (a is None and b is None) or a.equals(b)
    # each partition holds whole series, in input order, with their rows in the whole input
    part = id_partitions(sales["unique_id"], 4)
    for p, tbl in enumerate(runs[0]):
        rows = np.flatnonzero(part == p)
        if tbl is None:
            assert rows.size == 0
            continue
        assert tbl[ROW_COL].to_pylist() == rows.tolist()
        assert tbl.drop_columns([ROW_COL]).equals(sales.take(pa.array(rows)))


def test_a_spill_in_pieces_gives_each_partition_the_rows_of_a_one_worker_spill(tmp_path):
    sales = _sales(29, 40)
    pq.write_table(sales, tmp_path / "s.parquet", row_group_size=97)
    key = KeyMap(3)
    opts = dict(key=key, id_col="unique_id", time_col="ds", table="sales", batch_rows=50)
    one = spill(tmp_path / "s.parquet", tmp_path / "one", 3, **opts)
    pieces = parquet_pieces(tmp_path / "s.parquet", 4)
    assert len(pieces) == 4 and sum(len(p.row_groups) for p in pieces) == 12
    many = [spill(p, tmp_path / "many", 3, piece=k, **opts) for k, p in enumerate(pieces)]
    assert sum(r.n_rows for r in many) == sales.num_rows
    for p in range(3):
        files = [r.paths[p] for r in many if r.paths[p] is not None]
        assert read_partition(files, None).equals(read_partition(one.paths[p], None))


def test_every_input_format_streams_the_same_rows(tmp_path):
    sales = _sales()
    pq.write_table(sales, tmp_path / "s.parquet")
    (tmp_path / "ds").mkdir()
    pq.write_table(sales.slice(0, 100), tmp_path / "ds" / "a.parquet")
    pq.write_table(sales.slice(100), tmp_path / "ds" / "b.parquet")
    pcsv.write_csv(sales, tmp_path / "s.csv")
    with pa.OSFile(str(tmp_path / "s.arrow"), "wb") as f, pa.ipc.new_file(f, sales.schema) as w:
        w.write_table(sales, max_chunksize=50)
    with pa.OSFile(str(tmp_path / "s.arrows"), "wb") as f, pa.ipc.new_stream(f, sales.schema) as w:
        w.write_table(sales, max_chunksize=50)
    for src in ("s.parquet", "ds", "s.csv", "s.arrow", "s.arrows"):
        got = pa.Table.from_batches(list(iter_batches(tmp_path / src, table="sales", batch_rows=40)))
        assert got.num_rows == sales.num_rows, src
        assert got["unique_id"].to_pylist() == sales["unique_id"].to_pylist(), src
        assert got["y"].to_pylist() == sales["y"].to_pylist(), src
        assert got["ds"].cast(pa.date32()).equals(sales["ds"]), src
    with pytest.raises(Exception, match="no file"):
        list(iter_batches(tmp_path / "absent.parquet", table="sales"))


def test_split_table_keeps_each_rows_position(tmp_path):
    items = pa.table({"unique_id": [f"s{k}" for k in range(10)], "lead_time": np.arange(10.0)})
    parts = split_table(items, KeyMap(3), "unique_id", table="items")
    got = pa.concat_tables(parts)
    assert sorted(got[ROW_COL].to_pylist()) == list(range(10))
    for p, tbl in enumerate(parts):
        assert set(id_partitions(tbl["unique_id"], 3).tolist()) <= {p}
