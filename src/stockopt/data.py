"""Validation and grouping of long-format demand tables into contiguous per-series arrays.

This is the one boundary between Arrow tables and the kernels.  :func:`group_series` validates a
``unique_id, ds, y`` table once, orders it by series and time (zero-copy when it already is, one
O(n) stable counting sort otherwise), fills gaps per an explicit policy and returns a
:class:`GroupedSeries`: ``values`` (float64) and ``indptr`` (int64 offsets) that every kernel works
on, with the ids, first period and frequency needed to turn kernel outputs back into tables.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, days_to_time, parquet_schema, require_columns, time_to_days, to_table
from stockopt._arrow import first_null as _first_null
from stockopt._ids import encode_ids as _encode_ids
from stockopt._kernels import _grouping
from stockopt._order import RunPermutation, _increasing, _order_rows, _take, series_runs
from stockopt._order import row_order  # noqa: F401  (imported from here by pipeline and signals)
from stockopt._params import Boolean, Instance, Options, SequenceOf, validate_params
from stockopt._rules import MAX_QUANTITY, SALES, SALES_CHECKS, is_numeric_type
from stockopt.errors import (
    ColumnTypeError,
    DataQualityWarning,
    DuplicateRowError,
    EmptyInputError,
    FrequencyError,
    NegativeValueError,
    NonFiniteValueError,
    NullValueError,
    ParameterError,
    raise_error,
)
from stockopt.frequency import Frequency, infer_freq, parse_freq, weekday

__all__ = ["GroupedSeries", "GroupReport", "group_series", "series_index", "take_series", "value_blocks",
           "as_grouped", "clip_returns", "SALES_PARAMS", "coarser_spacing", "SPACING_MIN_ROWS",
           "GAP_WARN_SHARE"]

logger = logging.getLogger(__name__)

_C = SALES_CHECKS

#: a series is judged for its own spacing once it has this many rows.  A sparse daily series (sale
#: days only) whose rows all fall on one weekday by chance then has a probability of (1/7)**4, 0.04 %.
SPACING_MIN_ROWS = 5
#: share of a series' periods that may be inserted gaps before :func:`group_series` warns
GAP_WARN_SHARE = 0.5

#: the rules of the arguments every function reading a sales table shares
SALES_PARAMS = {
    "freq": [None, Instance(str, Frequency, name="a frequency alias such as 'D', 'W-MON', 'MS'")],
    "id_col": Instance(str),
    "time_col": Instance(str),
    "target_col": Instance(str),
    "missing": Options("error", "zero", "interpolate"),
    "fill_gaps": Options("zero", "interpolate", "error"),
    "allow_negative": Boolean(),
}


@dataclass(frozen=True)
class GroupReport:
    """What :func:`group_series` did to the input.

    Attributes
    ----------
    n_rows : int
        Rows read from the input table.
    sorted_input : bool
        True when the input was already ordered by series then time (no sort was needed).
    zero_copy : bool
        True when ``values`` is a view of the input's memory.
    gaps_filled : ndarray of int64
        Per series, how many missing periods were inserted.
    missing_filled : int
        How many null/NaN targets were replaced per the ``missing`` policy.
    observed : ndarray of int64, optional
        Per series, how many periods the input had (so ``gaps_filled / (observed + gaps_filled)`` is
        the share of a series that was filled).
    returns_clipped : ndarray of int64, optional
        Per series, how many periods of negative net demand (returns) were set to 0 by
        :func:`clip_returns` (None when returns were not accepted).
    """

    n_rows: int
    sorted_input: bool
    zero_copy: bool
    gaps_filled: np.ndarray
    missing_filled: int
    observed: np.ndarray | None = None
    returns_clipped: np.ndarray | None = None

    @property
    def total_returns_clipped(self) -> int:
        """Periods whose negative net demand (returns) was set to 0 (:func:`clip_returns`)."""
        return 0 if self.returns_clipped is None else int(self.returns_clipped.sum())

    @property
    def mostly_filled(self) -> np.ndarray:
        """Indices of the series more than :data:`GAP_WARN_SHARE` of whose periods were inserted gaps."""
        if self.observed is None:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self.gaps_filled > GAP_WARN_SHARE * (self.observed + self.gaps_filled))

    @property
    def total_gaps_filled(self) -> int:
        """Missing periods inserted over all series."""
        return int(self.gaps_filled.sum())

    @property
    def series_with_gaps(self) -> int:
        """Number of series that had at least one missing period."""
        return int(np.count_nonzero(self.gaps_filled))


@dataclass(frozen=True)
class GroupedSeries:
    """Many series stored back to back: the only structure kernels ever see.

    Series ``i`` has values ``values[indptr[i]:indptr[i + 1]]`` observed on consecutive periods of
    ``freq`` starting at period number ``start[i]`` (see :mod:`stockopt.frequency`).  Series are
    ordered by id (lexicographic for strings, numeric for integers), which makes every result
    independent of the input's row order and partitioning.

    Attributes
    ----------
    values : ndarray of float64
        Demand of every series, back to back, in selling units per period.
    indptr : ndarray of int64, shape (n_series + 1,)
        Offsets of each series in ``values``.
    ids : pyarrow.Array
        The id of each series (string or integer), in series order.
    start : ndarray of int64
        Period number of each series' first value.
    freq : Frequency
        The common frequency.
    extra : dict of str to ndarray
        Optional columns aligned with ``values`` (``in_stock``, ``price`` ...).
    """

    values: np.ndarray
    indptr: np.ndarray
    ids: pa.Array
    start: np.ndarray
    freq: Frequency
    time_type: pa.DataType = field(default_factory=pa.date32)
    id_col: str = "unique_id"
    time_col: str = "ds"
    target_col: str = "y"
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    id_dictionary: bool = False
    report: GroupReport | None = None

    @property
    def n_series(self) -> int:
        """Number of series."""
        return int(self.indptr.shape[0] - 1)

    @property
    def lengths(self) -> np.ndarray:
        """Number of periods of each series."""
        return np.diff(self.indptr)

    @property
    def end(self) -> np.ndarray:
        """Period number of each series' last value."""
        return self.start + self.lengths - 1

    def series(self, i: int) -> np.ndarray:
        """Values of series ``i`` (a view)."""
        return self.values[self.indptr[i] : self.indptr[i + 1]]

    def periods(self) -> np.ndarray:
        """Period number of every value (aligned with ``values``)."""
        lengths = self.lengths
        within = np.arange(self.values.shape[0], dtype=np.int64) - np.repeat(self.indptr[:-1], lengths)
        return np.repeat(self.start, lengths) + within

    def short_series(self, min_length: int) -> np.ndarray:
        """Indices of the series with fewer than ``min_length`` values."""
        return np.flatnonzero(self.lengths < min_length)

    def _id_column(self, take: np.ndarray) -> pa.Array:
        if self.id_dictionary:
            return pa.DictionaryArray.from_arrays(pa.array(take.astype(np.int32)), self.ids)
        return self.ids.take(pa.array(take))

    def to_arrow(self) -> pa.Table:
        """The long table ``id, time, target`` (plus extra columns) these arrays represent."""
        rows = np.repeat(np.arange(self.n_series, dtype=np.int64), self.lengths)
        cols: dict[str, pa.Array] = {
            self.id_col: self._id_column(rows),
            self.time_col: days_to_time(self.freq.to_days(self.periods()), self.time_type),
            self.target_col: pa.array(self.values, type=pa.float64()),
        }
        for name, arr in self.extra.items():
            cols[name] = pa.array(arr)
        return pa.table(cols)

    def future_periods(self, h: int) -> np.ndarray:
        """Period numbers of the ``h`` periods after each series' end, shape (n_series, h)."""
        return self.end[:, None] + np.arange(1, h + 1, dtype=np.int64)[None, :]

    def future_table(self, h: int, columns: Mapping[str, np.ndarray]) -> pa.Table:
        """Build the output table ``id, time, <columns>`` for an ``h``-step forecast.

        ``columns`` maps each output column name to an array of shape (n_series, h).
        """
        rows = np.repeat(np.arange(self.n_series, dtype=np.int64), h)
        out: dict[str, pa.Array] = {
            self.id_col: self._id_column(rows),
            self.time_col: days_to_time(self.freq.to_days(self.future_periods(h).ravel()), self.time_type),
        }
        for name, arr in columns.items():
            a = np.asarray(arr, dtype=np.float64)
            if a.shape != (self.n_series, h):
                raise_error(ParameterError, "forecast column of the wrong shape", column=name,
                            expected=f"shape {(self.n_series, h)}", got=a.shape)
            out[name] = pa.array(a.ravel(), type=pa.float64())
        return pa.table(out)

    def take(self, series: np.ndarray, lengths: np.ndarray | None = None) -> GroupedSeries:
        """A new GroupedSeries holding only the given series (in the given order); values are copied.

        With ``lengths``, only the first ``lengths[k]`` values of each series are kept (a training
        window); extra columns are cut the same way.

        Examples
        --------
        >>> import numpy as np, pyarrow as pa
        >>> from stockopt.frequency import parse_freq
        >>> g = GroupedSeries(values=np.arange(6.0), indptr=np.array([0, 2, 6]), ids=pa.array(["a", "b"]),
        ...                   start=np.array([0, 0]), freq=parse_freq("D"))
        >>> sub = g.take(np.array([1]), lengths=np.array([3]))
        >>> sub.values.tolist(), sub.indptr.tolist(), sub.ids.to_pylist()
        ([2.0, 3.0, 4.0], [0, 3], ['b'])
        """
        series = np.asarray(series, dtype=np.int64)
        src, indptr = series_index(self.indptr, series, lengths)
        return GroupedSeries(
            values=np.ascontiguousarray(self.values[src]),
            indptr=indptr,
            ids=self.ids.take(pa.array(series)),
            start=self.start[series].copy(),
            freq=self.freq,
            time_type=self.time_type,
            id_col=self.id_col,
            time_col=self.time_col,
            target_col=self.target_col,
            extra={k: v[src] for k, v in self.extra.items()},
            id_dictionary=self.id_dictionary,
        )


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for each (s, l), without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(total, dtype=np.int64) + offsets


def series_index(indptr: np.ndarray, rows: np.ndarray,
                 lengths: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Where a subset of series lies: positions in ``values`` and the subset's own ``indptr``.

    The one place that builds a subset of grouped series.  ``rows`` are series indices (in the
    order wanted); ``lengths`` keeps only the first ``lengths[k]`` values of series ``rows[k]``
    (default: all).  Returns ``(src, sub_indptr)``: ``values[src]`` are the subset's values.

    Examples
    --------
    >>> src, ptr = series_index(np.array([0, 2, 5, 9]), np.array([2, 0]), lengths=np.array([3, 2]))
    >>> src.tolist(), ptr.tolist()
    ([5, 6, 7, 0, 1], [0, 3, 5])
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = np.asarray(indptr, dtype=np.int64)[:-1][rows]
    if lengths is None:
        lengths = np.diff(indptr)[rows]
    lengths = np.asarray(lengths, dtype=np.int64)
    sub = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=sub[1:])
    return _ranges(starts, lengths), sub


def take_series(values: np.ndarray, indptr: np.ndarray, rows: np.ndarray,
                lengths: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous values and ``int64`` offsets of the series ``rows`` of ``(values, indptr)``.

    ``lengths`` keeps the first ``lengths[k]`` values of each (see :func:`series_index`).

    Examples
    --------
    >>> v, p = take_series(np.arange(9.0), np.array([0, 2, 5, 9]), np.array([1]))
    >>> v.tolist(), p.tolist()
    ([2.0, 3.0, 4.0], [0, 3])
    """
    src, sub = series_index(indptr, rows, lengths)
    return np.ascontiguousarray(values[src]), sub


def value_blocks(indptr: np.ndarray, per_block: int) -> list[tuple[int, int]]:
    """Contiguous ranges of series holding about ``per_block`` values each (each at least one series)."""
    n = indptr.shape[0] - 1
    if n <= 0:
        return []
    total = int(indptr[-1] - indptr[0])
    per_block = max(int(per_block), 1)
    cuts = np.searchsorted(indptr, indptr[0] + np.arange(per_block, total, per_block))
    bounds = np.unique(np.concatenate(([0], np.clip(cuts, 1, n), [n])))
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


@validate_params({**SALES_PARAMS, "extra_cols": SequenceOf(Instance(str)),
                  "table": Instance(str)})
def group_series(
    data: Any,
    *,
    freq: str | Frequency | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
    allow_negative: bool = False,
    extra_cols: Sequence[str] = (),
    table: str = "sales",
) -> GroupedSeries:
    """Validate a long demand table and group it into contiguous series.

    Parameters
    ----------
    data : Arrow-compatible table or Parquet path
        A ``pyarrow.Table``, ``RecordBatchReader``, anything with ``__arrow_c_stream__`` (pandas,
        polars, duckdb) or the path of a Parquet file or dataset directory; one row per series and
        period.
    freq : str or Frequency, optional
        ``"D"``, ``"W"`` (= ``"W-SUN"``), ``"W-MON"``..., ``"MS"``, ``"ME"``, ``"QS"``, ``"YS"``.
        Inferred from the dates when omitted.
    id_col, time_col, target_col : str
        Column names of the series id (string, dictionary or integer), the period stamp (date32,
        date64 or timestamp at midnight) and the demand (integer or float, pieces per period).
    missing : {"error", "zero", "interpolate"}
        What to do with null or NaN targets: raise, replace by 0, or interpolate linearly within
        the series (ends take the nearest observed value).
    fill_gaps : {"zero", "interpolate", "error"}
        Periods absent between a series' first and last row are inserted with zero demand
        (default: a missing day in sales data is a day without sales), interpolated, or refused.
        Extra columns are carried forward into inserted periods.  The count per series is in
        ``report.gaps_filled``.
    allow_negative : bool
        Accept negative demand (returns); refused by default.
    extra_cols : sequence of str
        Further numeric or boolean columns to carry along (e.g. ``in_stock``, ``price``).
    table : str
        The table's role, used in error messages.

    Returns
    -------
    GroupedSeries

    Raises
    ------
    stockopt.errors.ValidationError
        Subclasses name the column, the series and the first offending row (0-based, in the
        caller's table): missing columns, wrong types, nulls, NaN/infinite or negative targets,
        duplicate (id, time) pairs, stamps off the frequency, empty input.

    Examples
    --------
    >>> import pyarrow as pa, datetime as dt
    >>> t = pa.table({"unique_id": ["b", "a", "a"],
    ...               "ds": [dt.date(2024, 1, 1), dt.date(2024, 1, 3), dt.date(2024, 1, 1)],
    ...               "y": [5.0, 2.0, 1.0]})
    >>> g = group_series(t, freq="D")
    >>> g.ids.to_pylist(), g.values.tolist(), g.indptr.tolist(), g.report.gaps_filled.tolist()
    (['a', 'b'], [1.0, 0.0, 2.0, 5.0], [0, 3, 4], [1, 0])
    """
    wanted = [id_col, time_col, target_col, *extra_cols]
    from_path = isinstance(data, (str, os.PathLike))
    tbl = to_table(data, table=table, columns=wanted, dictionary_columns=[id_col] if from_path else None)
    require_columns(tbl, {"id_col": id_col, "time_col": time_col, "target_col": target_col}, table=table)
    require_columns(tbl, {f"extra_cols[{i}]": c for i, c in enumerate(extra_cols)}, table=table)
    n = tbl.num_rows
    if n == 0:
        raise_error(EmptyInputError, "the table has no rows", table=table,
                    expected="at least one row per series")

    id_arr = tbl.column(id_col)

    def id_of(row: int) -> Any:
        return id_arr[int(row)].as_py()

    codes, ids, id_is_dict, run_starts = _encode_ids(id_arr, table=table, column=id_col)
    if from_path:  # ids were read dictionary-encoded to save memory; give them back as the file has them
        id_is_dict = pa.types.is_dictionary(parquet_schema(data).field(id_col).type)

    # --- time -----------------------------------------------------------------------------------
    time_arr = tbl.column(time_col)
    if time_arr.null_count:
        row = _first_null(time_arr)
        raise_error(NullValueError, _C["null_time"].what, table=table, column=time_col, series=id_of(row),
                    row=row, expected=_C["null_time"].accepted)
    # grouped rows, series in another order: timestamps converted straight into series order
    runs = None
    if run_starts is not None and pa.types.is_timestamp(time_arr.type) and not _increasing(run_starts):
        runs = series_runs(run_starts, n)[0]
    t, f, series_indptr = _periods(time_arr, freq, run_starts, runs, table=table, time_col=time_col,
                                   id_of=id_of)
    time_type = time_arr.type
    del time_arr

    # --- target ---------------------------------------------------------------------------------
    y_arr = tbl.column(target_col)
    if not is_numeric_type(y_arr.type):
        raise_error(ColumnTypeError, "target of the wrong type", table=table, column=target_col,
                    expected="an integer or floating-point column", got=str(y_arr.type))
    y, zero_copy = _target_to_numpy(y_arr)
    n_missing, first_nan, first_inf, first_neg, first_big = _grouping.scan_target(
        np.ascontiguousarray(y, dtype=np.float64), MAX_QUANTITY)
    if n_missing:
        if missing == "error":
            raise_error(NullValueError, _C["null_target"].what, table=table, column=target_col,
                        series=id_of(first_nan), row=first_nan, expected=_C["null_target"].accepted)
        if missing == "zero":
            y = np.where(np.isnan(y), 0.0, y)
            zero_copy = False
    if first_inf >= 0:
        row = int(first_inf)
        raise_error(NonFiniteValueError, _C["inf_target"].what, table=table, column=target_col,
                    series=id_of(row), row=row, expected=_C["inf_target"].accepted, got=float(y[row]))
    if first_big >= 0:
        row = int(first_big)
        raise_error(ParameterError, _C["big_target"].what, table=table, column=target_col,
                    series=id_of(row), row=row, expected=_C["big_target"].accepted, got=float(y[row]))
    if not allow_negative and first_neg >= 0:
        row = int(first_neg)
        raise_error(NegativeValueError, _C["negative_target"].what, table=table, column=target_col,
                    series=id_of(row), row=row, expected=_C["negative_target"].accepted, got=float(y[row]))

    extra_raw = {name: _extra_to_numpy(tbl.column(name), table=table, column=name, id_of=id_of)
                 for name in extra_cols}
    del tbl, y_arr  # for a Parquet path nothing else holds the table: free it before sorting
    if from_path:
        pa.default_memory_pool().release_unused()  # hand the reader's freed buffers back to the OS

    # --- order by (series, period) -------------------------------------------------------------
    n_series = len(ids)
    indptr, perm, t, y = _order_rows(codes, run_starts, n, n_series, t, y, series_indptr)
    del codes
    counts = np.diff(indptr)
    if perm is not None:
        zero_copy = False
    # sorted input passed first_unsorted, which also refuses a repeated period
    # runs moved whole had strictly increasing periods (checked while moving): no period repeats
    moved_runs = isinstance(perm, RunPermutation)
    dup = _grouping.first_duplicate(indptr, t) if perm is not None and not moved_runs else -1
    if dup >= 0:
        row = int(perm[dup]) if perm is not None else int(dup)
        first = int(perm[dup - 1]) if perm is not None else int(dup - 1)
        raise_error(DuplicateRowError, f"{_C['duplicate'].what} (also at row {first})", table=table,
                    column=time_col, series=id_of(row), row=row, expected=_C["duplicate"].accepted,
                    got=str(np.datetime64(int(f.to_days(np.array([t[dup]]))[0]), "D")))

    extra = {name: (arr if perm is None else _take(arr, perm)) for name, arr in extra_raw.items()}
    del extra_raw
    start = t[indptr[:-1]].astype(np.int64)

    # --- gaps -----------------------------------------------------------------------------------
    full_len = np.empty(n_series, dtype=np.int64)
    total = _grouping.gap_counts(indptr, t, full_len)
    gaps = full_len - counts
    coarse, own = coarser_spacing(t, indptr, f, gaps)
    if coarse.size:  # never regrid a weekly (monthly ...) series onto daily (weekly ...) periods
        i = int(coarse[0])
        row = int(perm[indptr[i]]) if perm is not None else int(indptr[i])
        raise_error(FrequencyError, _C["spacing"].what, table=table, column=time_col, series=ids[i].as_py(),
                    row=row, expected=_C["spacing"].accepted.format(freq=f.alias, own=own[0]),
                    got=f"{int(counts[i])} rows over {int(full_len[i])} periods")
    if total > n:
        if fill_gaps == "error":
            i = int(np.argmax(gaps > 0))
            j = int(indptr[i] + np.argmax(np.diff(t[indptr[i] : indptr[i + 1]]) > 1) + 1)
            row = int(perm[j]) if perm is not None else j
            raise_error(FrequencyError, _C["gap"].what, table=table, column=time_col,
                        series=ids[i].as_py(), row=row, expected=_C["gap"].accepted)
        new_indptr = np.zeros(n_series + 1, dtype=np.int64)
        np.cumsum(full_len, out=new_indptr[1:])
        filled = np.empty(total, dtype=np.float64)
        _grouping.fill_gaps_float(np.ascontiguousarray(y), indptr, t, new_indptr, filled,
                                  0 if fill_gaps == "zero" else 1)
        if extra:
            src = np.empty(total, dtype=np.int64)
            _grouping.fill_gaps_index(indptr, t, new_indptr, src)
            extra = {k: v[src] for k, v in extra.items()}
        y, indptr, zero_copy = filled, new_indptr, False
        logger.info("%s: filled %d missing periods in %d series", table, int(gaps.sum()), int((gaps > 0).sum()))
    y = np.ascontiguousarray(y, dtype=np.float64)
    if missing == "interpolate" and n_missing:
        if not y.flags.writeable:
            y = y.copy()
            zero_copy = False
        _grouping.interpolate_nan(y, indptr)

    report = GroupReport(n_rows=n, sorted_input=perm is None, zero_copy=zero_copy, gaps_filled=gaps,
                         missing_filled=n_missing, observed=counts)
    mostly = report.mostly_filled
    if mostly.size:
        i = int(mostly[0])
        warnings.warn(f"{table}: {mostly.size} series have more than {GAP_WARN_SHARE:.0%} of their periods "
                      f"inserted as gaps (fill_gaps={fill_gaps!r}); first: {ids[i].as_py()!r}, "
                      f"{int(gaps[i])} of {int(full_len[i])} periods of {f.alias}", DataQualityWarning,
                      stacklevel=2)
    return GroupedSeries(values=y, indptr=indptr, ids=ids, start=start, freq=f, time_type=time_type,
                         id_col=id_col, time_col=time_col, target_col=target_col, extra=extra,
                         id_dictionary=id_is_dict, report=report)


def _periods(time_arr: pa.ChunkedArray, freq: Any, run_starts: np.ndarray | None, indptr: np.ndarray | None,
             *, table: str, time_col: str, id_of: Any) -> tuple[np.ndarray, Frequency, np.ndarray | None]:
    """Periods (int32) of the time column of :func:`group_series` and its frequency, checked.

    With ``indptr`` (grouped rows whose series are in another order; ``run_starts`` as from
    :func:`stockopt._ids.encode_ids`) the periods come in series order, converted and moved in one
    pass, and ``indptr`` is returned; when a check fails or the periods do not increase in some
    series, everything is done again in input order (so errors name the caller's first offending
    row, and the rows are then sorted) and None is returned in its place.
    """
    try:
        days, off_midnight = time_to_days(time_arr, table=table, column=time_col, narrow=True,
                                          runs=None if indptr is None else (run_starts, indptr))
        if not pa.types.is_date32(time_arr.type) and off_midnight.any():  # date32 has no time of day
            row = int(np.argmax(off_midnight))
            raise_error(FrequencyError, _C["time_of_day"].what, table=table, column=time_col,
                        series=id_of(row), row=row, expected=_C["time_of_day"].accepted,
                        got=str(time_arr[row].as_py()))
        f = parse_freq(freq) if freq is not None else infer_freq(days)
        t, on_grid = f.to_period(days)
        if f.kind != "D" and not on_grid.all():  # every date is on the daily grid
            row = int(np.argmin(on_grid))
            raise_error(FrequencyError, _C["off_frequency"].what, table=table, column=time_col,
                        series=id_of(row), row=row, got=str(time_arr[row].as_py()),
                        expected=_C["off_frequency"].accepted.format(freq=f.alias))
        if t.dtype != np.int32 and t.size and (int(t.min()) < -(2**31) or int(t.max()) >= 2**31):
            row = int(np.argmax((t < -(2**31)) | (t >= 2**31)))
            raise_error(FrequencyError, _C["time_range"].what, table=table, column=time_col,
                        series=id_of(row), row=row, expected=_C["time_range"].accepted,
                        got=str(time_arr[row].as_py()))
    except FrequencyError:
        if indptr is None:
            raise
        return _periods(time_arr, freq, None, None, table=table, time_col=time_col, id_of=id_of)
    t = t.astype(np.int32, copy=False)  # int32 periods halve the largest temporaries of grouping
    if indptr is not None and _grouping.first_unsorted_runs(indptr, t) >= 0:
        return _periods(time_arr, freq, None, None, table=table, time_col=time_col, id_of=id_of)
    return t, f, indptr


def _coarser(freq: Frequency) -> list[tuple[str, int]]:
    """The coarser spacings a series on ``freq`` could have: calendar grids (``(alias, 0)``) for daily
    data, whole multiples of a period (``("", k)``) for monthly and quarterly data; coarsest first."""
    if freq.kind == "D":
        return [("YS", 0), ("QS", 0), ("MS", 0), ("ME", 0), ("W", 0)]
    if freq.kind in ("MS", "ME"):
        return [("", 12), ("", 3)]
    if freq.kind == "QS":
        return [("", 4)]
    return []


def coarser_spacing(t: np.ndarray, indptr: np.ndarray, freq: Frequency,
                    gaps: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Series whose own dates sit on a coarser spacing than ``freq`` (weekly rows in daily data ...).

    ``t`` holds the sorted periods of every series (``indptr`` offsets) and ``gaps`` the periods
    missing inside each.  A series of at least :data:`SPACING_MIN_ROWS` rows with every step longer
    than one period is checked: daily data against the weekly (one weekday), month-start, month-end,
    quarter and year grids; monthly data against every third and every twelfth month; quarterly data
    against every fourth quarter.  Only those series are read, so the check costs nothing for
    series without gaps.  Returns their indices and the spacing found (``"W-MON"``, ``"MS"``,
    ``"every 3 periods of MS"`` ...).

    Examples
    --------
    >>> from stockopt.frequency import parse_freq
    >>> t = np.array([0, 1, 2, 3, 4, 4, 11, 18, 25, 32], dtype=np.int32)  # days; the 2nd series weekly
    >>> idx, own = coarser_spacing(t, np.array([0, 5, 10]), parse_freq("D"), np.array([0, 24]))
    >>> idx.tolist(), own
    ([1], ['W-MON'])
    """
    lengths = np.diff(indptr)
    cand = np.flatnonzero((lengths >= SPACING_MIN_ROWS) & (gaps >= lengths - 1))
    checks = _coarser(freq)
    if cand.size == 0 or not checks:
        return np.empty(0, dtype=np.int64), []
    src, sub = series_index(indptr, cand)
    p = np.asarray(t)[src].astype(np.int64)
    days = freq.to_days(p) if freq.kind == "D" else None
    own = np.full(cand.size, None, dtype=object)
    firsts = sub[:-1]
    sizes = np.diff(sub)
    for alias, k in checks:
        if alias == "W":
            wd = weekday(days)
            first = wd[firsts]
            off = wd != np.repeat(first, sizes)
            names = np.array([Frequency("W", int(w)).alias for w in range(7)], dtype=object)[first]
        elif alias:
            off = ~Frequency(alias).to_period(days)[1]
            names = np.full(cand.size, alias, dtype=object)
        else:
            r = np.remainder(p, k)
            off = r != np.repeat(r[firsts], sizes)
            names = np.full(cand.size, f"every {k} periods of {freq.alias}", dtype=object)
        hit = (np.add.reduceat(off, firsts) == 0) & np.equal(own, None)
        own[hit] = names[hit]
    found = np.flatnonzero(np.not_equal(own, None))
    return cand[found], [str(x) for x in own[found]]


def _target_to_numpy(col: pa.ChunkedArray) -> tuple[np.ndarray, bool]:
    """float64 values with NaN for nulls; True when the array is a view of Arrow memory."""
    if pa.types.is_float64(col.type) and col.num_chunks == 1 and col.null_count == 0:
        return col.chunk(0).to_numpy(zero_copy_only=True), True
    if pa.types.is_null(col.type):
        return np.full(len(col), np.nan), False
    if not pa.types.is_floating(col.type):
        col = col.cast(pa.float64())
    if col.null_count:
        col = pc.fill_null(col.cast(pa.float64()), float("nan"))
    return _to_numpy(col, np.float64), False


def _extra_to_numpy(col: pa.ChunkedArray, *, table: str, column: str, id_of: Any) -> np.ndarray:
    if pa.types.is_boolean(col.type):
        if col.null_count:
            row = _first_null(col)
            raise_error(NullValueError, "null flag", table=table, column=column, series=id_of(row), row=row,
                        expected="true or false in every row")
        return _to_numpy(col, np.bool_)
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_decimal(col.type):
        if col.null_count:
            col = pc.fill_null(col.cast(pa.float64()), float("nan"))
        return _to_numpy(col.cast(pa.float64()), np.float64)
    raise_error(ColumnTypeError, "extra column of the wrong type", table=table, column=column,
                expected=SALES["extra"].accepted, got=str(col.type))


def clip_returns(grouped: GroupedSeries) -> GroupedSeries:
    """Net demand clipped at zero: how forecasting and the nightly run treat returns.

    Sales tables that book returns as negative demand (``allow_negative=True``) give the models
    ``max(y, 0)``: a period in which more came back than went out counts as a period without
    demand, and the returned units count as stock coming back, not as negative demand (a return does
    not lower the demand the stock must cover; see ``docs/limits.md``).  The count of clipped
    periods per series is kept in ``report.returns_clipped``.  The values are copied only when a
    period is negative.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from stockopt.frequency import parse_freq
    >>> g = GroupedSeries(values=np.array([3.0, -2.0, 1.0, -1.0]), indptr=np.array([0, 3, 4]),
    ...                   ids=pa.array(["a", "b"]), start=np.array([0, 0]), freq=parse_freq("D"))
    >>> c = clip_returns(g)
    >>> c.values.tolist(), c.report.returns_clipped.tolist()
    ([3.0, 0.0, 1.0, 0.0], [1, 1])
    """
    import dataclasses

    neg = grouped.values < 0.0
    running = np.concatenate(([0], np.cumsum(neg, dtype=np.int64)))  # per-series counts, empty series too
    counts = running[grouped.indptr[1:]] - running[grouped.indptr[:-1]]
    report = grouped.report or GroupReport(n_rows=int(grouped.values.size), sorted_input=True,
                                           zero_copy=False, gaps_filled=np.zeros(grouped.n_series, np.int64),
                                           missing_filled=0)
    report = dataclasses.replace(report, returns_clipped=counts,
                                 zero_copy=report.zero_copy and not neg.any())
    values = np.maximum(grouped.values, 0.0) if neg.any() else grouped.values
    return dataclasses.replace(grouped, values=values, report=report)


def as_grouped(sales: Any, *, freq: Any = None, allow_negative: bool = False,
               **options: Any) -> GroupedSeries:
    """``sales`` itself when it is already a :class:`GroupedSeries`, else :func:`group_series` of it;
    with ``allow_negative``, returns are accepted and net demand clipped at 0 (:func:`clip_returns`)."""
    if isinstance(sales, GroupedSeries):
        return clip_returns(sales) if allow_negative else sales
    grouped = group_series(sales, freq=freq, allow_negative=allow_negative, **options)
    return clip_returns(grouped) if allow_negative else grouped
