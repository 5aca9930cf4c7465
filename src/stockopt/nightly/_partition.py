"""Partitions of whole series by a stable hash of their id, and the streaming spill of the inputs.

A series belongs to partition ``fnv1a_64(id as UTF-8 text) % n_partitions``.  The hash is the
64-bit FNV-1a of Fowler, Noll and Vo (:func:`stockopt._ids.fnv1a_64`, shared with the per-item
random streams of :func:`stockopt.project_kpis`); Python's own ``hash`` is salted per process and
would scatter series differently in every worker.  Integer ids are hashed as their decimal
text, so a sales table with integer ids and an items table with the same ids as strings land in
the same partitions.

Each input batch is hashed on its distinct ids only (a sales batch holds long runs of one id), and
its rows are appended to one Arrow IPC file per partition.  Memory is bounded by one batch plus the
writers' buffers, and the partition files hold exactly the rows of their series in input order,
whatever the batch size, so that the same input always gives the same partition files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, time_to_days, to_table
from stockopt._ids import _id_text, fnv1a_64
from stockopt.errors import ColumnTypeError, EmptyInputError, raise_error

__all__ = ["fnv1a_64", "id_partitions", "iter_batches", "read_whole", "spill", "split_table", "SpillResult",
           "ROW_COL"]

#: the column added to each partition file: the row's 0-based position in the whole input
ROW_COL = "__stockopt_row"

#: rows per batch read from a file or cut from an in-memory table
DEFAULT_BATCH_ROWS = 1 << 20


def id_partitions(ids: pa.Array | pa.ChunkedArray, n_partitions: int) -> np.ndarray:
    """The partition (``int32`` in ``[0, n_partitions)``) of each id; only distinct ids are hashed.

    Examples
    --------
    >>> import pyarrow as pa
    >>> id_partitions(pa.array(["a", "b", "a", "c"]), 4).tolist()
    [0, 1, 0, 2]
    """
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks() if ids.num_chunks != 1 else ids.chunk(0)
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int32)
    enc = ids if pa.types.is_dictionary(ids.type) else pc.dictionary_encode(ids)
    codes = _to_numpy(pc.fill_null(enc.indices, 0), np.int64)
    part = (fnv1a_64(_id_text(enc.dictionary)) % np.uint64(n_partitions)).astype(np.int32)
    out = part[codes] if part.size else np.zeros(len(ids), dtype=np.int32)
    if ids.null_count:  # rows without an id go with the empty string's partition (they are reported there)
        empty = int(fnv1a_64(pa.array([""]))[0] % np.uint64(n_partitions))
        out[~_to_numpy(pc.is_valid(ids), np.bool_)] = empty
    return out


class KeyMap:
    """Partition of each id, optionally through another column of a per-id table (``items``).

    With ``via`` (e.g. ``"supplier_id"``), an id listed in ``table`` goes to the partition of its
    ``via`` value, so that every item of one supplier lands in one partition; other ids go to the
    partition of their own id.
    """

    def __init__(self, n_partitions: int, table: pa.Table | None = None, id_col: str = "unique_id",
                 via: str | None = None) -> None:
        self.n = n_partitions
        self.keys: pa.Array | None = None
        self.parts: np.ndarray | None = None
        if via is not None and table is not None and table.num_rows:
            require_columns(table, {"partition_by": via, "id_col": id_col}, table="items")
            self.keys = _id_text(table.column(id_col))
            self.parts = id_partitions(table.column(via), n_partitions)

    def __call__(self, ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        part = id_partitions(ids, self.n)
        if self.keys is not None and len(ids):
            if isinstance(ids, pa.ChunkedArray):
                ids = ids.combine_chunks()
            enc = ids if pa.types.is_dictionary(ids.type) else pc.dictionary_encode(ids)
            pos = pc.index_in(_id_text(enc.dictionary), value_set=self.keys)
            hit = _to_numpy(pc.is_valid(pos), np.bool_)
            if hit.any():
                per_code = np.full(len(enc.dictionary), -1, dtype=np.int64)
                per_code[hit] = self.parts[_to_numpy(pc.fill_null(pos, 0), np.int64)[hit]]
                via = per_code[_to_numpy(pc.fill_null(enc.indices, 0), np.int64)]
                valid = via >= 0
                if ids.null_count:
                    valid &= _to_numpy(pc.is_valid(ids), np.bool_)
                part[valid] = via[valid]
        return part


def iter_batches(source: Any, *, table: str,
                 batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Record batches of a Parquet file or dataset directory, a CSV file, an Arrow IPC file or stream,
    or any in-memory Arrow-compatible table, in row order, never holding more than one batch of a file.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise_error(EmptyInputError, "no file or directory", table=table,
                        expected="an existing Parquet, CSV or Arrow IPC file, or a Parquet dataset directory",
                        got=str(path))
        yield from _file_batches(path, table=table, batch_rows=batch_rows)
        return
    if isinstance(source, pa.RecordBatchReader):
        yield from source
        return
    if isinstance(source, RowGroups):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(source.path)
        yield from pf.iter_batches(batch_size=batch_rows, row_groups=list(source.row_groups),
                                   use_threads=False)
        return
    tbl = to_table(source, table=table)
    yield from tbl.to_batches(max_chunksize=batch_rows)


def read_whole(source: Any, *, table: str) -> pa.Table:
    """A small table (items, stock, suppliers ...) from any source :func:`iter_batches` reads."""
    if not isinstance(source, (str, os.PathLike)):
        return to_table(source, table=table)
    batches = list(iter_batches(source, table=table))
    if not batches:
        return to_table(source, table=table)
    return pa.Table.from_batches(batches)


def _file_batches(path: Path, *, table: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if path.is_dir():
        dataset = ds.dataset(path, format="parquet")
        for frag in dataset.get_fragments():
            yield from frag.to_batches(batch_size=batch_rows, use_threads=False, schema=dataset.schema)
        return
    with open(path, "rb") as fh:
        head = fh.read(6)
    suffix = path.suffix.lower()
    if head[:4] == b"PAR1":
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows, use_threads=False)
    elif head == b"ARROW1":
        with pa.memory_map(str(path)) as src:
            reader = pa.ipc.open_file(src)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)
    elif suffix in (".arrow", ".ipc", ".arrows", ".feather") and head[:4] == b"\xff\xff\xff\xff":
        with pa.OSFile(str(path)) as src:
            yield from pa.ipc.open_stream(src)
    elif suffix in (".csv", ".txt", ".gz", ".bz2", ".zst") or suffix == "":
        import pyarrow.csv as pcsv

        opts = pcsv.ReadOptions(block_size=max(batch_rows * 32, 1 << 20))
        conv = pcsv.ConvertOptions(timestamp_parsers=["%Y-%m-%d", pcsv.ISO8601])
        with pcsv.open_csv(path, read_options=opts, convert_options=conv) as reader:
            yield from reader
    else:
        raise_error(ColumnTypeError, "cannot read the input file", table=table,
                    expected="a Parquet file or dataset directory, a CSV file or an Arrow IPC file or stream",
                    got=str(path))


@dataclass
class SpillResult:
    """Where the spill put each partition's rows, and what it saw on the way.

    Attributes
    ----------
    paths : list of Path or None
        Arrow IPC file of each partition (None: no row).
    rows : ndarray of int64
        Rows per partition.
    n_rows : int
        Rows read.
    days : ndarray of int64
        The distinct period stamps (days since 1970-01-01) of the input, for one frequency inference
        over the whole input.
    schema : pyarrow.Schema or None
        Schema of the input (without the row column).
    """

    paths: list[Path | None]
    rows: np.ndarray
    n_rows: int = 0
    days: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    schema: pa.Schema | None = None


@dataclass(frozen=True)
class RowGroups:
    """Some row groups of one Parquet file (a piece of the input read by one worker)."""

    path: str
    row_groups: tuple[int, ...]
    first_row: int


def parquet_pieces(source: Any, n_pieces: int) -> list[RowGroups] | None:
    """The row groups of a Parquet file cut into up to ``n_pieces`` contiguous pieces of about equal
    rows, or None when the source is not a Parquet file with at least two row groups."""
    import pyarrow.parquet as pq

    if n_pieces <= 1 or not isinstance(source, (str, os.PathLike)) or not Path(source).is_file():
        return None
    with open(source, "rb") as fh:
        if fh.read(4) != b"PAR1":
            return None
    meta = pq.ParquetFile(source).metadata
    if meta.num_row_groups < 2:
        return None
    sizes = np.array([meta.row_group(i).num_rows for i in range(meta.num_row_groups)], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    cut = np.searchsorted(starts, np.linspace(0, starts[-1], n_pieces + 1)[1:-1])
    edges = np.unique(np.concatenate([[0], cut, [sizes.size]]))
    return [RowGroups(str(source), tuple(range(int(a), int(b))), int(starts[a]))
            for a, b in zip(edges[:-1], edges[1:]) if b > a]


def spill(source: Any, work: Path, n_partitions: int, *, key: KeyMap, id_col: str, time_col: str | None,
          table: str, batch_rows: int = DEFAULT_BATCH_ROWS, piece: int | None = None) -> SpillResult:
    """Stream ``source`` and append each row to its partition's Arrow IPC file ``work/part-XXXXX.arrow``.

    Each file gets the input's columns plus ``ROW_COL`` (the row's position in the input).  Written
    to ``.tmp`` names and renamed when the whole input has been read.  With ``piece`` (a
    :class:`RowGroups` source read by one of several workers), the files are named
    ``part-XXXXX.pNNNN.arrow`` and the pieces of a partition, read in piece order, are its rows.
    """
    work.mkdir(parents=True, exist_ok=True)
    writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
    rows = np.zeros(n_partitions, dtype=np.int64)
    schema: pa.Schema | None = None
    out_schema: pa.Schema | None = None
    seen_days: list[np.ndarray] = []
    n_read = source.first_row if isinstance(source, RowGroups) else 0
    first = n_read
    tag = "" if piece is None else f".p{piece:04d}"
    try:
        for batch in iter_batches(source, table=table, batch_rows=batch_rows):
            if schema is None:
                schema = batch.schema
                require_columns(pa.Table.from_batches([], schema=schema), {"id_col": id_col}, table=table)
                out_schema = schema.append(pa.field(ROW_COL, pa.int64()))
            elif batch.schema != schema:
                if not batch.num_rows:
                    continue
                batch = pa.Table.from_batches([batch]).cast(schema).combine_chunks().to_batches()[0]
            m = batch.num_rows
            if m == 0:
                continue
            if time_col is not None and time_col in schema.names:
                tcol = batch.column(time_col)
                if tcol.null_count < m and (pa.types.is_temporal(tcol.type)):
                    tcol = tcol.drop_null() if tcol.null_count else tcol
                    days, _ = time_to_days(tcol, table=table, column=time_col)
                    seen_days.append(_distinct(days))
            part = key(batch.column(id_col))
            order = np.argsort(part, kind="stable")
            counts = np.bincount(part, minlength=n_partitions)
            bounds = np.concatenate([[0], np.cumsum(counts)])
            full = pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(np.arange(n_read, n_read + m, dtype=np.int64))], schema=out_schema)
            sorted_batch = full.take(pa.array(order))
            for p in np.flatnonzero(counts):
                p = int(p)
                if p not in writers:
                    writers[p] = pa.ipc.new_file(str(work / f"part-{p:05d}{tag}.arrow.tmp"), out_schema)
                writers[p].write_batch(sorted_batch.slice(int(bounds[p]), int(counts[p])))
            rows += counts
            n_read += m
            if len(seen_days) > 64:
                seen_days = [np.unique(np.concatenate(seen_days))]
    finally:
        for w in writers.values():
            w.close()
    paths: list[Path | None] = [None] * n_partitions
    for p in writers:
        final = work / f"part-{p:05d}{tag}.arrow"
        os.replace(work / f"part-{p:05d}{tag}.arrow.tmp", final)
        paths[p] = final
    days = np.unique(np.concatenate(seen_days)) if seen_days else np.zeros(0, np.int64)
    return SpillResult(paths, rows, n_read - first, days, schema)


def _distinct(days: np.ndarray) -> np.ndarray:
    """The distinct values of ``days`` (int64), by a mask over their range when it is short."""
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > 4 * days.size + 100_000:
        return np.unique(days.astype(np.int64))
    mask = np.zeros(hi - lo + 1, dtype=bool)
    mask[days - lo] = True
    return np.flatnonzero(mask).astype(np.int64) + lo


def split_table(tbl: pa.Table, key: KeyMap, id_col: str, *, table: str) -> list[pa.Table]:
    """A small per-id table (items, stock, open orders) cut into its partitions (input order kept),
    each with ``ROW_COL`` (the row's position in the whole table)."""
    require_columns(tbl, {"id_col": id_col}, table=table)
    part = key(tbl.column(id_col))
    full = tbl.append_column(ROW_COL, pa.array(np.arange(tbl.num_rows, dtype=np.int64)))
    order = np.argsort(part, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(part, minlength=key.n))])
    ordered = full.take(pa.array(order))
    return [ordered.slice(int(bounds[p]), int(bounds[p + 1] - bounds[p])) for p in range(key.n)]


def read_partition(path: Path | str | list | None, schema: pa.Schema | None) -> pa.Table | None:
    """The rows of one spilled partition: one file, or its pieces in order (None: no row)."""
    if path is None or (isinstance(path, list) and not path):
        return None if schema is None else pa.Table.from_batches([], schema=schema.append(
            pa.field(ROW_COL, pa.int64())))
    if isinstance(path, list):
        parts = [read_partition(p, schema) for p in path]
        return parts[0] if len(parts) == 1 else pa.concat_tables(parts)
    with pa.OSFile(str(path)) as src:
        return pa.ipc.open_file(src).read_all()
