"""Stable hashes of series ids: the same id gives the same number in every process and partition.

:func:`fnv1a_64` is the 64-bit FNV-1a hash of Fowler, Noll and Vo (IETF draft-eastlake-fnv),
computed with NumPy over the Arrow string buffers, one byte position at a time for all ids at
once (ids are short, so a few vectorised passes).  Python's own ``hash`` is salted per process.
It assigns series to partitions (:mod:`stockopt.nightly._partition`) and seeds each item's random
stream in :func:`stockopt.project_kpis` (so an item's projection does not depend on which other
items are in the table, or their order).  Integer ids are hashed as their decimal text.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy

__all__ = ["fnv1a_64", "id_hashes"]

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
