"""Helpers shared by the demand-signal modules: grouping with optional columns, per-series tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._arrow import days_to_time
from stockopt.data import SALES_PARAMS, GroupedSeries
from stockopt.data import as_grouped as _as_grouped
from stockopt.errors import ColumnTypeError, MissingColumnError, NullValueError, raise_error

#: the argument rules of the column names every demand-signal function reading a sales table takes
SALES_COLS = {k: SALES_PARAMS[k] for k in ("freq", "id_col", "time_col", "target_col")}
#: ... and of the gap and null-target options they share with :func:`stockopt.forecast`
GAP_OPTIONS = {k: SALES_PARAMS[k] for k in ("missing", "fill_gaps")}


def as_grouped(sales: Any, *, freq: Any = None, extra_cols: tuple[str, ...] = (),
               **options: Any) -> GroupedSeries:
    """:func:`stockopt.data.as_grouped` with ``extra_cols`` carried (checked when already grouped)."""
    if isinstance(sales, GroupedSeries):
        for c in extra_cols:
            if c not in sales.extra:
                raise_error(MissingColumnError, "column not carried by the grouped series", table="sales",
                            column=c, expected=f"group_series(..., extra_cols=[{c!r}])")
    return _as_grouped(sales, freq=freq, extra_cols=list(extra_cols), **options)


def series_table(grouped: GroupedSeries, columns: dict[str, Any]) -> pa.Table:
    """A table with one row per series: the id column, then ``columns`` (arrays of length n_series)."""
    ids = grouped._id_column(np.arange(grouped.n_series, dtype=np.int64))
    return pa.table({grouped.id_col: ids, **columns})


def period_dates(grouped: GroupedSeries, periods: np.ndarray) -> pa.Array:
    """Arrow dates (the input's time type) of period numbers; nulls where ``periods`` is negative-sentinel."""
    periods = np.asarray(periods, dtype=np.int64)
    return days_to_time(grouped.freq.to_days(periods), grouped.time_type)


def periods_for_days(grouped: GroupedSeries, days: float) -> int:
    """The number of whole periods of the grouping's frequency covering ``days`` days (at least 1)."""
    return max(int(np.ceil(days / grouped.freq.days_per_period - 1e-9)), 1)


def censor_mask(grouped: GroupedSeries, censored: str | None) -> np.ndarray | None:
    """Boolean mask over ``grouped.values``: True where sales were capped by availability.

    ``censored`` names a boolean column (False = out of stock, the ``in_stock`` convention) or a
    numeric stock column (``on_hand``; a period is censored when it is at or below zero).
    """
    if censored is None:
        return None
    if censored not in grouped.extra:
        raise_error(MissingColumnError, "censoring column absent", table="sales", column=censored,
                    expected="a boolean in-stock column (False = stocked out) or a numeric on_hand column")
    col = grouped.extra[censored]
    if col.dtype == np.bool_:
        return ~col
    if col.dtype.kind in "fiu":
        c = np.asarray(col, dtype=np.float64)
        bad = np.isnan(c)
        if bad.any():  # a null or NaN of the caller's rows, or a gap filled without a stock level
            pos = int(np.argmax(bad))
            i = int(np.searchsorted(grouped.indptr, pos, side="right") - 1)
            day = period_dates(grouped, grouped.start[i:i + 1] + pos - int(grouped.indptr[i]))[0]
            raise_error(NullValueError, f"null or NaN stock level on {day}", table="sales", column=censored,
                        series=grouped.ids[i].as_py(),
                        expected="a stock level in every period (fill the gaps, or use a boolean in-stock "
                        "column)")
        return c <= 0.0
    raise_error(ColumnTypeError, "censoring column of the wrong type", table="sales", column=censored,
                expected="boolean (in stock) or numeric (on hand)", got=str(col.dtype))
    raise AssertionError  # unreachable


def compress(values: np.ndarray, indptr: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kept values of every series back to back, with their offsets (series order kept)."""
    kept = segment_sum(keep, indptr)
    ptr = np.zeros(indptr.size, dtype=np.int64)
    np.cumsum(kept, out=ptr[1:])
    return np.ascontiguousarray(values[keep]), ptr


def segment_sum(x: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Per-series sums of ``x`` (booleans and integers exactly; 0 for empty series)."""
    if x.dtype == np.bool_:  # counts: positions of the True values against the offsets (no cumsum pass)
        return np.diff(np.searchsorted(np.flatnonzero(x), indptr)).astype(np.int64)
    dtype = np.int64 if x.dtype.kind in "iu" else np.float64
    cs = np.zeros(x.size + 1, dtype=dtype)
    np.cumsum(x, out=cs[1:], dtype=dtype)
    return cs[indptr[1:]] - cs[indptr[:-1]]


def first_last(mask: np.ndarray, indptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per series, the position (within the series) of the first and last True of ``mask``; -1 if none."""
    n = indptr.size - 1
    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    hit = np.flatnonzero(mask)
    if hit.size:  # the hits before each series' start and end (one binary search per series, no sort)
        k = np.searchsorted(hit, indptr)
        has = np.flatnonzero(k[1:] > k[:-1])
        first[has] = hit[k[has]] - indptr[has]
        last[has] = hit[k[has + 1] - 1] - indptr[has]
    return first, last
