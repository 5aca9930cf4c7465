"""Series ids: from the id column of a long table to the series each row belongs to.

The first half of grouping (:func:`stockopt.data.group_series`).  Most tables users have are
*grouped*: each series' rows are contiguous, whatever the order of the series (a pandas frame built
series by series, a Parquet file written by ``groupby``, ids ``s0, s1, ..., s10`` that are not in
lexicographic order).  Those are recognised in one compiled pass over the Arrow buffers (runs of
equal neighbours), and only the run heads, one per series, are sorted; every other table is
hash-encoded.  Either way the series come out in the same canonical order: sorted ids (bytewise for
strings, numeric for integers).

The second half is stable hashes of ids (:func:`fnv1a_64`, :func:`id_hashes`): the same id gives
the same number in every process and partition (Python's own ``hash`` is salted per process).  They
assign series to partitions (:mod:`stockopt.nightly._partition`) and seed each item's random stream
in :func:`stockopt.project_kpis`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, first_null
from stockopt._kernels import _grouping
from stockopt._rules import SALES, is_id_type
from stockopt.errors import ColumnTypeError, NullValueError, raise_error

__all__ = ["encode_ids", "grouped_runs", "fnv1a_64", "id_hashes"]


def encode_ids(col: pa.ChunkedArray, *, table: str,
               column: str) -> tuple[np.ndarray | None, pa.Array, bool, np.ndarray | None]:
    """Series of every row of the id column ``col``.

    Returns ``(codes, ids, is_dict, run_starts)``: ``ids`` are the sorted unique ids (the series
    order), ``is_dict`` whether the column was dictionary-encoded, and exactly one of

    - ``run_starts`` (int64, one per series, in series order): the first input row of each series
      when each series' rows are contiguous (grouped input, in any order of the series); the series
      then are the runs ``run_starts[i] .. next run start``;
    - ``codes`` (int32, one per row): the series number of every row otherwise.

    int32 codes bound the number of series (not of rows) at 2^31 - 1 and halve the memory of the
    largest temporary of grouping.

    Examples
    --------
    >>> import pyarrow as pa
    >>> codes, ids, is_dict, starts = encode_ids(pa.chunked_array([["s1", "s1", "s10", "s0"]]),
    ...                                          table="sales", column="unique_id")
    >>> codes, ids.to_pylist(), starts.tolist()
    (None, ['s0', 's1', 's10'], [3, 0, 2])
    """
    typ = col.type
    is_dict = pa.types.is_dictionary(typ)
    value_type = typ.value_type if is_dict else typ
    if not is_id_type(typ):
        raise_error(ColumnTypeError, "series id of the wrong type", table=table, column=column,
                    expected=SALES["id"].accepted, got=str(typ))
    if col.null_count:
        row = first_null(col)
        raise_error(NullValueError, "null series id", table=table, column=column, row=row,
                    expected=SALES["id"].accepted)
    runs = grouped_runs(col) if len(col) else None
    if runs is not None:
        return None, runs[1], is_dict, runs[0]
    if pa.types.is_string_view(col.type):
        col = col.cast(pa.string())
    chunks = (col.chunks if is_dict else pc.dictionary_encode(col).chunks) if len(col) else []
    # the sorted set of ids over every chunk's dictionary (small: one entry per series and chunk)
    ids = _sorted_ids(chunks, value_type)
    # codes written chunk by chunk through each chunk's small dictionary -> id map (no big copies)
    codes = np.empty(len(col), dtype=np.int32)
    pos = 0
    for c in chunks:
        k = len(c)
        codes[pos : pos + k] = _dictionary_codes(c, ids)[c.indices.to_numpy(zero_copy_only=False)]
        pos += k
    used = _grouping.count_codes(codes, len(ids)) > 0
    if not used.all():  # dictionaries may carry entries no row uses
        remap = (np.cumsum(used) - 1).astype(np.int32)
        codes = remap[codes]
        ids = ids.filter(pa.array(used))
    return np.ascontiguousarray(codes, dtype=np.int32), ids, is_dict, None


def _sorted_ids(chunks: list[pa.DictionaryArray], value_type: pa.DataType) -> pa.Array:
    """The sorted set of the values of the chunks' dictionaries."""
    dicts: list[pa.Array] = []
    for c in chunks:
        if not any(c.dictionary is d or c.dictionary.equals(d) for d in dicts[-1:]):
            dicts.append(c.dictionary)
    uniq = pc.unique(pa.concat_arrays(dicts)) if dicts else pa.array([], type=value_type)
    if pa.types.is_string_view(uniq.type):
        uniq = uniq.cast(pa.string())
    return uniq.take(pc.sort_indices(uniq))


def _dictionary_codes(chunk: pa.DictionaryArray, ids: pa.Array) -> np.ndarray:
    """Position in ``ids`` of every entry of the chunk's dictionary (int32)."""
    return pc.index_in(chunk.dictionary.cast(ids.type), value_set=ids).to_numpy(
        zero_copy_only=False).astype(np.int32)


def _chunk_runs(chunk: pa.Array, starts: np.ndarray, max_unordered: int) -> tuple[int, int]:
    """Runs of equal ids of one chunk (see :func:`stockopt._kernels._grouping.string_runs`)."""
    typ = chunk.type
    k = len(chunk)
    if pa.types.is_dictionary(typ):
        return _grouping.int_runs(chunk.indices.to_numpy(zero_copy_only=False), starts, max_unordered)
    if pa.types.is_integer(typ):
        return _grouping.int_runs(chunk.to_numpy(zero_copy_only=False), starts, max_unordered)
    bufs = chunk.buffers()
    if pa.types.is_string_view(typ):
        views = np.frombuffer(bufs[1], dtype=np.uint8)[16 * chunk.offset : 16 * (chunk.offset + k)]
        data = [np.frombuffer(b, dtype=np.uint8) if b is not None else np.zeros(0, np.uint8)
                for b in bufs[2:]]
        return _grouping.view_runs(views, data, starts, max_unordered)
    wide = pa.types.is_large_string(typ)
    offsets = np.frombuffer(bufs[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[chunk.offset : chunk.offset + k + 1]
    data = np.zeros(1, np.uint8) if bufs[2] is None or bufs[2].size == 0 else np.frombuffer(bufs[2], np.uint8)
    return _grouping.string_runs(offsets, data, starts, max_unordered)


def grouped_runs(col: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array] | None:
    """First row of each series and the sorted ids, when every series' rows are contiguous.

    One compiled pass over each chunk finds the runs of equal ids (neighbours compared on the
    string, string-view or integer buffers, or on a dictionary's indices); runs that continue
    across a chunk boundary are joined.  The rows are grouped when no id has two runs: checked by
    sorting the run ids only (one per series).  Returns ``(run_starts, ids)`` with both in sorted-id
    order, or None when some id has rows in several places (or when the runs are out of order and
    more than a quarter as many as the rows: hashing is then cheaper).
    """
    n = len(col)
    is_dict = pa.types.is_dictionary(col.type)
    chunks = [c for c in col.chunks if len(c)]
    starts = np.empty(n, dtype=np.int64)
    max_unordered = n // 4 + 16
    n_runs = 0
    ordered = True
    chunk_of_run: list[np.ndarray] = []
    pos = 0
    prev_last = None
    for c in chunks:
        k = len(c)
        runs, descent = _chunk_runs(c, starts[n_runs:], max_unordered)
        if runs < 0:
            return None
        local = starts[n_runs : n_runs + runs]
        local += pos
        if is_dict:  # runs of indices -> runs of sorted-id codes, resolved below
            chunk_of_run.append(c.indices.take(pa.array(local - pos)).to_numpy(zero_copy_only=False))
        else:
            first = c[0].as_py()
            if prev_last is not None and first == prev_last:  # the previous chunk's last run goes on
                starts[n_runs : n_runs + runs - 1] = starts[n_runs + 1 : n_runs + runs]
                runs -= 1
            elif prev_last is not None and first < prev_last:
                ordered = False
            prev_last = c[k - 1].as_py()
        ordered = ordered and descent < 0
        n_runs += runs
        pos += k
        if not ordered and n_runs > max_unordered:
            return None
    starts = starts[:n_runs].copy()
    if is_dict:
        return _dictionary_runs(chunks, starts, chunk_of_run)
    if pa.types.is_string_view(col.type):
        run_ids = _take_views(chunks, starts)
    else:
        run_ids = col.take(pa.array(starts))
        run_ids = run_ids.combine_chunks() if isinstance(run_ids, pa.ChunkedArray) else run_ids
    if ordered:
        return starts, run_ids
    order = pc.sort_indices(run_ids)
    ids = run_ids.take(order)
    if len(ids) > 1 and pc.any(pc.equal(ids[1:], ids[:-1])).as_py():
        return None  # an id has rows in two places: not grouped
    return starts[order.to_numpy()], ids


def _take_views(chunks: list[pa.Array], rows: np.ndarray) -> pa.Array:
    """The string-view rows ``rows`` (increasing) of the chunks, as a string array (pyarrow has no
    ``take`` for string views: their 16-byte views are taken, over the same data buffers)."""
    bounds = np.cumsum([0] + [len(c) for c in chunks])
    which = np.searchsorted(bounds, rows, side="right") - 1
    parts = []
    for i, c in enumerate(chunks):
        local = rows[which == i] - bounds[i] + c.offset
        if local.size == 0:
            continue
        views = np.frombuffer(c.buffers()[1], dtype=np.uint8).reshape(-1, 16)[local]
        arr = pa.Array.from_buffers(pa.string_view(), int(local.size),
                                    [None, pa.py_buffer(np.ascontiguousarray(views)), *c.buffers()[2:]])
        parts.append(arr.cast(pa.string()))
    return pa.concat_arrays(parts)


def _dictionary_runs(chunks: list[pa.DictionaryArray], starts: np.ndarray,
                     chunk_keys: list[np.ndarray]) -> tuple[np.ndarray, pa.Array] | None:
    """:func:`grouped_runs` for dictionary ids: each run's dictionary index, through its chunk's
    dictionary, becomes a sorted-id code; neighbouring runs of one code (across chunks, or a
    dictionary listing a value twice) are joined."""
    ids = _sorted_ids(chunks, chunks[0].type.value_type)
    codes = np.concatenate([_dictionary_codes(c, ids)[keys] for c, keys in zip(chunks, chunk_keys)])
    keep = np.ones(codes.size, dtype=bool)
    keep[1:] = codes[1:] != codes[:-1]
    codes, starts = codes[keep], starts[keep]
    count = np.bincount(codes, minlength=len(ids))
    if (count > 1).any():
        return None
    used = count > 0
    run_starts = np.empty(len(ids), dtype=np.int64)
    run_starts[codes] = starts
    if not used.all():  # dictionaries may carry entries no row uses
        run_starts = run_starts[used]
        ids = ids.filter(pa.array(used))
    return run_starts, ids


# --- stable hashes of ids (FNV-1a, Fowler-Noll-Vo; IETF draft-eastlake-fnv) ---

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


def fnv1a_64(strings: pa.Array) -> np.ndarray:
    """64-bit FNV-1a hash of each UTF-8 string of ``strings`` (nulls hash as the empty string).

    Vectorised over the Arrow offsets and data buffers: one NumPy pass per byte position of the
    longest string.

    Examples
    --------
    >>> import pyarrow as pa
    >>> [hex(int(v)) for v in fnv1a_64(pa.array(["", "a", "foobar"]))]
    ['0xcbf29ce484222325', '0xaf63dc4c8601ec8c', '0x85944171f73967e8']
    """
    arr = strings.cast(pa.large_string()) if not pa.types.is_large_string(strings.type) else strings
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    out = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    if n == 0:
        return out
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    if arr.null_count:
        lengths = np.where(_to_numpy(pc.is_valid(arr), np.bool_), lengths, 0)
    with np.errstate(over="ignore"):
        for j in range(int(lengths.max()) if n else 0):
            live = np.flatnonzero(lengths > j)
            h = out[live] ^ data[starts[live] + j].astype(np.uint64)
            out[live] = h * _FNV_PRIME
    return out


def _id_text(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Ids as UTF-8 text (integers in decimal), one chunk."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if pa.types.is_dictionary(ids.type):
        ids = ids.dictionary_decode()
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        ids = pc.cast(ids, pa.large_string())
    return ids


def id_hashes(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """:func:`fnv1a_64` of each id as UTF-8 text (integers in decimal; nulls as the empty string).

    Examples
    --------
    >>> import pyarrow as pa
    >>> id_hashes(pa.array([1, None])).tolist() == fnv1a_64(pa.array(["1", ""])).tolist()
    True
    """
    return fnv1a_64(_id_text(ids))
