"""Putting the rows of a long table in series order: the second half of grouping
(:func:`stockopt.data.group_series`; the first, which series each row belongs to, is
:mod:`stockopt._ids`).

Sorted input needs no permutation; grouped rows (each series contiguous, the series in any order)
are moved run by run (:class:`RunPermutation`, built only when asked for); anything else is put in
order by a stable counting sort on (series, period).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stockopt._kernels import _grouping, _ingest

__all__ = ["row_order", "series_runs", "RunPermutation"]


def series_runs(run_starts: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets of the series of grouped rows in series order, for the runs starting at ``run_starts``
    (one per series, in series order; the runs cover all ``n_rows`` rows).

    Returns ``(indptr, by_row, in_ptr)``: the series offsets in series order, the series of each run
    in row order, and the run offsets in row order.

    Examples
    --------
    >>> indptr, by_row, in_ptr = series_runs(np.array([3, 0]), 5)  # series 0 is rows 3-4, 1 is rows 0-2
    >>> indptr.tolist(), by_row.tolist(), in_ptr.tolist()
    ([0, 2, 5], [1, 0], [0, 3, 5])
    """
    n_series = run_starts.shape[0]
    by_row = np.argsort(run_starts, kind="stable")  # the series of each run, in row order
    in_ptr = np.empty(n_series + 1, dtype=np.int64)
    in_ptr[:-1] = run_starts[by_row]
    in_ptr[-1] = n_rows
    lengths = np.empty(n_series, dtype=np.int64)
    lengths[by_row] = np.diff(in_ptr)
    indptr = np.zeros(n_series + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return indptr, by_row, in_ptr


def row_order(codes: np.ndarray | None, run_starts: np.ndarray | None, n_rows: int, n_series: int,
              t: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Offsets of each series and the stable permutation ordering rows by (series, period).

    ``codes``/``run_starts`` come from :func:`_encode_ids` (one of them is None) and ``t`` holds the
    int32 periods.  The permutation is None when the rows already are in order (one pass; periods
    strictly increasing inside each series, so no period repeats); otherwise rows of the same
    series and period keep their input order (a stable counting sort).  Grouped rows whose series
    are in another order cost one pass more: their runs are moved whole.
    """
    if run_starts is not None and not _increasing(run_starts):  # grouped, series in another order
        return _runs_order(run_starts, n_rows, t)[:2]
    if run_starts is not None:  # rows grouped by id in id order: the runs are the series
        indptr = np.empty(n_series + 1, dtype=np.int64)
        indptr[:-1] = run_starts
        indptr[-1] = n_rows
        if _grouping.first_unsorted_runs(indptr, t) < 0:
            return indptr, None
        codes = np.repeat(np.arange(n_series, dtype=np.int32), np.diff(indptr))  # for the sort below
    else:
        indptr = np.zeros(n_series + 1, dtype=np.int64)
        np.cumsum(_grouping.count_codes(codes, n_series), out=indptr[1:])
        if _grouping.first_unsorted(codes, t) < 0:
            return indptr, None
    return indptr, _grouping.sort_permutation(codes, t, indptr)


def _increasing(a: np.ndarray) -> bool:
    return bool(a.size < 2 or (a[1:] > a[:-1]).all())


def _runs_order(run_starts: np.ndarray, n_rows: int, t: np.ndarray, y: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """:func:`row_order` for rows grouped by series, the series in any order (``run_starts[i]`` is the
    first row of series ``i``): the permutation moves each run whole, then sorts by period the
    series whose periods do not increase (rows of one period keep their input order).

    With ``y``, also returns ``t`` and ``y`` in series order (runs copied whole when the periods
    already increase in each); otherwise the last two are None.
    """
    indptr, by_row, in_ptr = series_runs(run_starts, n_rows)
    perm = RunPermutation(np.ascontiguousarray(run_starts, dtype=np.int64), indptr)
    if y is None and _grouping.first_unsorted_runs(in_ptr, t) < 0:
        return indptr, np.asarray(perm), None, None
    if y is not None:
        t_out = np.empty(n_rows, dtype=np.int32)
        y_out = np.empty(n_rows, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        if _ingest.move_runs(perm.run_starts, indptr, t, y, t_out, y_out) < 0:  # periods increase in each
            return indptr, perm, t_out, y_out
        del t_out, y_out
    codes = np.repeat(by_row.astype(np.int32), np.diff(in_ptr))
    perm = _grouping.sort_permutation(codes, t, indptr)
    return indptr, perm, (None if y is None else _take(t, perm)), (None if y is None else _take(y, perm))


def _order_rows(codes: np.ndarray | None, run_starts: np.ndarray | None, n_rows: int, n_series: int,
                t: np.ndarray, y: np.ndarray, series_indptr: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """:func:`row_order`, and the periods ``t`` and values ``y`` in that order (as given when the
    permutation is None).

    ``series_indptr`` (grouped rows, the series in another order) says that ``t`` already is in
    series order with those offsets, its periods increasing in each series (converted so by
    :func:`stockopt._arrow.time_to_days` with ``runs``): only ``y`` is moved, run by run."""
    if series_indptr is not None:
        perm = RunPermutation(np.ascontiguousarray(run_starts, dtype=np.int64), series_indptr)
        y_out = np.empty(n_rows, dtype=np.float64)
        _ingest.copy_runs(perm.run_starts, perm.indptr, np.ascontiguousarray(y, dtype=np.float64), y_out)
        return series_indptr, perm, t, y_out
    if run_starts is not None and not _increasing(run_starts):
        return _runs_order(run_starts, n_rows, t, y)  # type: ignore[return-value]
    indptr, perm = row_order(codes, run_starts, n_rows, n_series, t)
    if perm is None:
        return indptr, None, t, y
    return indptr, perm, _take(t, perm), _take(y, perm)


class RunPermutation:
    """The row permutation of grouped rows whose runs were moved whole, built only when asked for.

    Output row ``k`` of series ``i`` is input row ``run_starts[i] + k - indptr[i]``.  An integer
    index is answered by a binary search over ``indptr`` (error messages need a row or two);
    ``np.asarray`` builds the whole int64 permutation once (extra columns need it), so grouping the
    common case allocates none.

    Examples
    --------
    >>> p = RunPermutation(np.array([3, 0]), np.array([0, 2, 5]))  # series 0 is rows 3-4, series 1 rows 0-2
    >>> p[1], p[2], np.asarray(p).tolist()
    (4, 0, [3, 4, 0, 1, 2])
    """

    def __init__(self, run_starts: np.ndarray, indptr: np.ndarray) -> None:
        self.run_starts = np.asarray(run_starts, dtype=np.int64)
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self._full: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.indptr[-1])

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, (int, np.integer)):
            k = int(k) + (len(self) if k < 0 else 0)
            i = int(np.searchsorted(self.indptr, k, side="right")) - 1
            return int(self.run_starts[i] + (k - self.indptr[i]))
        return np.asarray(self)[k]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._full is None:
            self._full = np.empty(len(self), dtype=np.int64)
            _ingest.run_rows(self.run_starts, self.indptr, self._full)
        return self._full if dtype is None else self._full.astype(dtype)


def _take(a: np.ndarray, perm: np.ndarray | RunPermutation) -> np.ndarray:
    """``a[perm]`` in one compiled pass (float64 and int32 columns; numpy for the others)."""
    perm = np.asarray(perm)
    if a.dtype in (np.float64, np.int32) and perm.dtype == np.int64:
        out = np.empty(perm.shape[0], dtype=a.dtype)
        _ingest.take(np.ascontiguousarray(a), perm, out)
        return out
    return a[perm]
