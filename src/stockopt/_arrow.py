"""Accept anything that speaks Arrow and hand back a :class:`pyarrow.Table`.

Accepted: ``pyarrow.Table``, ``pyarrow.RecordBatch``, ``pyarrow.RecordBatchReader``, any object with
``__arrow_c_stream__`` (pandas >= 2.2, polars, duckdb relations, ...), a path to a Parquet file or a
directory holding a Parquet dataset, and - as a convenience - a pandas DataFrame of older pandas.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pyarrow as pa

from stockopt.errors import (
    ColumnTypeError,
    EmptyInputError,
    FileError,
    MissingColumnError,
    describe,
    raise_error,
)

__all__ = ["to_table", "pandas_columns", "require_columns", "time_to_days", "days_to_time",
           "check_output_dir", "check_output_file"]

#: what pyarrow raises for a file it cannot read (corrupt, truncated, not Parquet, unreadable)
_READ_ERRORS = (pa.ArrowException, OSError)

_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def to_table(
    data: Any,
    *,
    table: str = "input",
    columns: list[str] | None = None,
    dictionary_columns: list[str] | None = None,
) -> pa.Table:
    """Return ``data`` as a :class:`pyarrow.Table` (zero-copy where the source allows it).

    Parameters
    ----------
    data : Arrow-compatible object or path
        See the module docstring for what is accepted.
    table : str
        The table's role, used in error messages (``"sales"``, ``"items"`` ...).
    columns : list of str, optional
        For Parquet paths and pandas frames, read only these columns (absent ones are left to the
        caller to report).  A pandas frame's columns are then converted one by one, zero-copy where
        pandas holds them as NumPy or Arrow memory (see :func:`pandas_columns`).
    dictionary_columns : list of str, optional
        For Parquet paths, string columns to read dictionary-encoded (far less memory for the
        repeated ids of long tables).
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if isinstance(data, (str, os.PathLike)):
        return _read_parquet(Path(data), table=table, columns=columns, dictionary_columns=dictionary_columns)
    if columns is not None and _is_pandas_frame(data) and data.columns.is_unique:
        return pandas_columns(data, columns)
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    if hasattr(data, "to_arrow") and callable(data.to_arrow):  # polars / duckdb without the protocol
        return to_table(data.to_arrow(), table=table)
    try:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
    except ImportError:  # pragma: no cover - pandas is optional
        pass
    raise_error(ColumnTypeError, "cannot read the input", table=table,
                expected="a pyarrow Table, RecordBatchReader, an object with __arrow_c_stream__ (pandas, "
                "polars, duckdb) or a Parquet path", got=type(data).__name__)


def _is_pandas_frame(data: Any) -> bool:
    pd = sys.modules.get("pandas")  # a frame can only exist once pandas was imported
    return pd is not None and isinstance(data, pd.DataFrame)


def pandas_columns(df: Any, columns: list[str]) -> pa.Table:
    """The columns ``columns`` of the pandas DataFrame ``df`` (those it has; its column names
    unique) as an Arrow table.

    The same arrays as ``pa.Table.from_pandas(df[columns], preserve_index=False)`` (NaN and NaT are
    nulls there too), without its pandas schema metadata, built column by column so that most
    columns are not copied: ``pa.Table.from_pandas`` scans every float and datetime column to build
    a validity bitmap of its NaN/NaT, at the cost of a copy.  Here one reduction (``sum``, ``min``)
    tells whether a float or datetime column holds any NaN or NaT; without any, its NumPy buffer is
    wrapped as it is, and with some the column goes through ``pa.array``.  Arrow-backed columns
    (``string[pyarrow]``, ``ArrowDtype``) are zero-copy already, and a categorical column wraps its
    codes under the dictionary pyarrow builds from its categories.  Object columns (Python strings)
    are converted by pyarrow: a floor no library avoids.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    ...                    "y": [1.0, float("nan")], "other": [0, 1]})
    >>> t = pandas_columns(df, ["unique_id", "ds", "y", "absent"])
    >>> t.column_names, str(t.schema.field("ds").type), t.column("y").null_count
    (['unique_id', 'ds', 'y'], 'timestamp[ns]', 1)
    """
    names = list(dict.fromkeys(c for c in columns if c in df.columns))
    return pa.table({name: _pandas_array(df[name]) for name in names})


def _pandas_array(s: Any) -> pa.Array:
    """One pandas Series as the Arrow array ``pa.array(s)`` gives, without a copy where it can."""
    import pandas as pd

    dtype = s.dtype
    n = len(s)
    if n == 0:
        return pa.array(s)
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize in (4, 8):
        v = np.ascontiguousarray(s.to_numpy(copy=False))
        with np.errstate(all="ignore"):  # NaN (or inf - inf) in the sum: go through pyarrow
            if not np.isnan(v.sum()):
                return pa.array(v)
        return pa.array(s)
    if isinstance(dtype, np.dtype) and dtype.kind == "M" or isinstance(dtype, pd.DatetimeTZDtype):
        typ = pa.array(s.iloc[:1]).type  # the unit and time zone name as pyarrow writes them
        v = s.array.tz_convert(None) if isinstance(dtype, pd.DatetimeTZDtype) else s.array
        raw = np.ascontiguousarray(np.asarray(v).view(np.int64))
        if int(raw.min()) != np.iinfo(np.int64).min:  # no NaT
            return pa.Array.from_buffers(typ, n, [None, pa.py_buffer(raw)])
        return pa.array(s)
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.ascontiguousarray(s.cat.codes.to_numpy())
        if int(codes.min()) >= 0:  # no missing value
            head = pa.array(s.iloc[:1])  # the dictionary and its type, as pyarrow builds them
            if head.type.index_type == pa.from_numpy_dtype(codes.dtype):
                # pandas keeps codes in [-1, len(categories)) and none is -1: pyarrow's check of every
                # index against the dictionary (a pass over the rows) is not needed
                return pa.DictionaryArray.from_arrays(pa.array(codes), head.dictionary,
                                                      ordered=head.type.ordered, safe=False)
        return pa.array(s)
    return pa.array(s)


def parquet_schema(path: str | os.PathLike, *, table: str = "input") -> pa.Schema:
    """Arrow schema of a Parquet file or dataset directory, without reading the data.

    A file that is not readable Parquet raises :class:`~stockopt.errors.FileError` naming it.
    """
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    p = Path(path)
    try:
        return ds.dataset(p, format="parquet").schema if p.is_dir() else pq.read_schema(p)
    except _READ_ERRORS as exc:
        _unreadable(p, exc, table=table)


def _unreadable(path: Path, exc: BaseException, *, table: str) -> NoReturn:
    """Raise :class:`FileError` for a Parquet file or dataset pyarrow could not read.

    For a dataset folder the files are looked at one by one (footers only) to name the first one
    that is not readable Parquet, or whose column types differ from the dataset's (a string such as
    ``'n/a'`` in a numeric column): then :class:`ColumnTypeError` names that column and file.
    """
    import pyarrow.parquet as pq

    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.is_file() and not f.name.startswith(("_", ".")))
        schema = None
        for f in files:
            try:
                fs = pq.read_schema(f)
            except _READ_ERRORS as inner:
                first = str(inner).splitlines()[0] if str(inner) else type(inner).__name__
                raise_error(FileError, "a file of the Parquet dataset cannot be read", table=table,
                            expected="readable Parquet files only (corrupt, truncated or not Parquet?)",
                            got=f"{f}: {first}")
            if schema is None:
                schema = fs
                continue
            for field in fs:
                want = schema.field(field.name).type if field.name in schema.names else None
                if want is not None and not _castable(field.type, want):
                    raise_error(ColumnTypeError, "a file of the Parquet dataset has another column type",
                                table=table, column=field.name,
                                expected=f"{want} in every file, as in {files[0].name}",
                                got=f"{field.type} in {f}")
        raise_error(FileError, "cannot read the Parquet dataset", table=table,
                    expected="Parquet files with one schema", got=f"{path}: {reason}")
    raise_error(FileError, "cannot read the Parquet file", table=table,
                expected="a readable Parquet file (corrupt, truncated or not Parquet?)",
                got=f"{path}: {reason}")


def _castable(src: pa.DataType, dst: pa.DataType) -> bool:
    """Whether values of ``src`` read into a column of ``dst`` without a parse (same kind of value)."""
    if src.equals(dst):
        return True
    kinds = (
        lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
        lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
        or pa.types.is_dictionary(t),
        lambda t: pa.types.is_temporal(t),
        pa.types.is_boolean,
    )
    return any(k(src) and k(dst) for k in kinds) or pa.types.is_null(src)


def _read_parquet(path: Path, *, table: str, columns: list[str] | None,
                  dictionary_columns: list[str] | None) -> pa.Table:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if not path.exists():
        raise_error(EmptyInputError, "no file or directory", table=table,
                    expected="an existing Parquet file or dataset directory", got=str(path))
    schema = parquet_schema(path, table=table)
    if columns is not None:
        columns = [c for c in columns if c in schema.names]  # absent ones are reported by the caller
    dict_cols = [c for c in (dictionary_columns or []) if c in schema.names
                 and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))]
    try:
        if path.is_dir():
            fmt = ds.ParquetFileFormat(read_options={"dictionary_columns": dict_cols})
            return ds.dataset(path, format=fmt).to_table(columns=columns)
        return pq.read_table(path, columns=columns, read_dictionary=dict_cols or None)
    except _READ_ERRORS as exc:  # a truncated page, or a dataset file whose types differ
        _unreadable(path, exc, table=table)


def check_output_dir(path: str | os.PathLike, *, parameter: str, where: str) -> Path:
    """Create the output folder ``path`` (and its parents) if needed and check a file can be written
    there, before any work is done; :class:`~stockopt.errors.FileError` naming ``parameter`` otherwise.

    Examples
    --------
    >>> import tempfile
    >>> d = check_output_dir(tempfile.mkdtemp() + "/out", parameter="out", where="run_nightly")
    >>> d.is_dir()
    True
    """
    import tempfile

    p = Path(path)
    if p.exists() and not p.is_dir():
        raise_error(FileError, "the output folder is a file", table=where, parameter=parameter,
                    expected="a folder (existing or to create)", got=str(p))
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".stockopt-write-check-"):
            pass
    except OSError as exc:
        raise_error(FileError, "cannot write to the output folder", table=where, parameter=parameter,
                    expected="a folder this process can create and write files in",
                    got=f"{p}: {exc.strerror or exc}")
    return p


def check_output_file(path: str | os.PathLike, *, parameter: str, where: str) -> Path:
    """Check the output file ``path`` can be written (its folder is created if needed) before any
    work is done; :class:`~stockopt.errors.FileError` naming ``parameter`` otherwise.  An existing
    file is left as it is."""
    p = Path(path)
    if p.is_dir():
        raise_error(FileError, "the output file is a folder", table=where, parameter=parameter,
                    expected="a file path", got=str(p))
    check_output_dir(p.parent, parameter=parameter, where=where)
    existed = p.exists()
    try:
        with open(p, "ab"):
            pass
    except OSError as exc:
        raise_error(FileError, "cannot write the output file", table=where, parameter=parameter,
                    expected="a file this process can write", got=f"{p}: {exc.strerror or exc}")
    if not existed:
        p.unlink()
    return p


def require_columns(tbl: pa.Table, names: dict[str, str], *, table: str) -> None:
    """Raise :class:`MissingColumnError` if a required column is absent.

    ``names`` maps each role (``"id_col"``) to the column name the caller configured; a role equal
    to the name (``{"lead_time": "lead_time"}``) is a column whose name is fixed.
    """
    have = set(tbl.column_names)
    for role, name in names.items():
        if name not in have:
            how = f" (the {role}); pass {role}=... to name another column" if role != name else ""
            msg = describe(f"missing column {name!r}", table=table, expected=f"a column {name!r}{how}",
                           got=tbl.column_names)
            raise MissingColumnError(msg, table=table, column=name)


def time_to_days(col: pa.ChunkedArray | pa.Array, *, table: str, column: str, narrow: bool = False,
                 runs: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Convert a date or timestamp column to integer days since 1970-01-01 (int32 for date32, else int64).

    Returns ``(days, off_midnight)`` where ``off_midnight`` marks timestamps with a time of day (the
    frequencies stockopt supports are whole days).  Time-zone aware timestamps are read in their
    local wall-clock time (the day is the local calendar day, not the UTC one).  With ``narrow``,
    days are int32 whenever they all fit.

    ``runs = (run_starts, indptr)`` (timestamps only) returns both arrays in the series order of
    grouped rows instead of the input order: output row ``k`` of series ``i`` is input row
    ``run_starts[i] + k - indptr[i]`` (:class:`stockopt.data.RunPermutation`), converted and moved
    in the same pass.

    Timestamps are read in one compiled pass over their int64 buffer, in stretches of one step (a
    whole number of days): the first row of a stretch is divided by the unit's day, the others are
    checked 64 at a time and get ``first day + k * step``.  For time-zone aware ones the UTC offset
    of every hour the data spans is looked up once, a stretch ends before the next change of
    offset, and only rows in an hour where the offset changes are converted one by one.

    Examples
    --------
    >>> import pyarrow as pa
    >>> ts = pa.array([0, 86_400_000_000_000, 90_000_000_000_000], pa.timestamp("ns"))
    >>> days, off = time_to_days(ts, table="sales", column="ds")
    >>> days.tolist(), off.tolist()
    ([0, 1, 1], [False, False, True])
    >>> paris = pa.array([-3_600_000, 82_800_000], pa.timestamp("ms", tz="Europe/Paris"))  # local midnights
    >>> time_to_days(paris, table="sales", column="ds")[0].tolist()
    [0, 1]
    """
    typ = col.type
    if pa.types.is_date32(typ):  # int32 days as stored (callers widen if they need to)
        days = _to_numpy(col.cast(pa.int32()), np.int32)
        return days, np.zeros(days.shape, dtype=bool)
    if pa.types.is_date64(typ):
        ms = _to_numpy(col.cast(pa.int64()), np.int64)
        return np.floor_divide(ms, _DAY["ms"]), np.remainder(ms, _DAY["ms"]) != 0
    if pa.types.is_timestamp(typ):
        return _timestamp_days(col, narrow=narrow, runs=runs)
    raise_error(ColumnTypeError, "time of the wrong type", table=table, column=column,
                expected="date32, date64 or timestamp", got=str(typ))


_NO_RUNS = (np.empty(0, dtype=np.int64), np.empty(1, dtype=np.int64))

#: beyond this many hours spanned (~114 years), time zones are converted row by row by pyarrow
_MAX_TZ_HOURS = 1_000_000


def _timestamp_days(col: pa.ChunkedArray | pa.Array, *, narrow: bool,
                    runs: tuple[np.ndarray, np.ndarray] | None = None,
                    scan_bounds: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`time_to_days` for a timestamp column (see there).

    The hours of the offset table of a time-zone aware column span the first and last stamps of the
    runs when ``runs`` is given (their bounds when each series' stamps increase, as grouped sales
    have them: no pass over the rows), else - or with ``scan_bounds``, when too many rows fell
    outside - the column's minimum and maximum.  Rows outside the table are converted exactly.
    """
    import pyarrow.compute as pc

    from stockopt._kernels import _ingest

    typ = col.type
    raw = _to_numpy(col.cast(pa.int64()) if len(col) else pa.array([], pa.int64()), np.int64)
    raw = np.ascontiguousarray(raw)
    n = raw.shape[0]
    per_day = _DAY[typ.unit]
    per_hour = per_day // 24
    hour_offset = span_lo = span_hi = np.empty(0, dtype=np.int64)
    exact_hour = np.empty(0, dtype=np.uint8)
    base = 0
    exact_cap = 0
    estimated = False
    if typ.tz is not None and n:
        if runs is not None and not scan_bounds and len(runs[0]):
            starts = np.asarray(runs[0], dtype=np.int64)
            ends = starts + np.diff(np.asarray(runs[1], dtype=np.int64)) - 1
            heads, tails = raw[starts], raw[np.maximum(ends, starts)]
            lo_h = int(min(heads.min(), tails.min())) // per_hour
            hi_h = int(max(heads.max(), tails.max())) // per_hour
            estimated = True
        else:
            lo_h = int(raw.min()) // per_hour
            hi_h = int(raw.max()) // per_hour
        if hi_h - lo_h + 2 > _MAX_TZ_HOURS:
            col = pc.local_timestamp(col)
            return _timestamp_days(col, narrow=narrow, runs=runs)
        probes = (lo_h + np.arange(hi_h - lo_h + 2, dtype=np.int64)) * per_hour
        local = pc.local_timestamp(pa.array(probes, type=typ)).cast(pa.int64()).to_numpy()
        offset = local - probes
        hour_offset = np.ascontiguousarray(offset[:-1])
        exact = offset[:-1] != offset[1:]  # the offset changes inside the hour
        exact_hour = exact.astype(np.uint8)
        # spans of hours with one offset and no change inside: [first hour's start, last hour's end)
        new_span = np.ones(exact.size, dtype=bool)
        new_span[1:] = (hour_offset[1:] != hour_offset[:-1]) | exact[1:] | exact[:-1]
        span = np.cumsum(new_span) - 1
        heads = np.flatnonzero(new_span)
        span_lo = np.ascontiguousarray(probes[heads][span])
        span_hi = np.ascontiguousarray(probes[np.append(heads[1:], exact.size)][span])
        base = lo_h
        exact_cap = 1 << 16
    exact_rows = np.empty(exact_cap, dtype=np.int64)
    off = np.empty(n, dtype=np.uint8)
    days = np.empty(n, dtype=np.int32 if narrow else np.int64)
    run_starts, indptr = _NO_RUNS if runs is None else (np.ascontiguousarray(runs[0], dtype=np.int64),
                                                         np.ascontiguousarray(runs[1], dtype=np.int64))
    n_exact, lo, hi = _ingest.timestamp_days(raw, per_day, hour_offset, exact_hour, span_lo, span_hi, base,
                                             days, off, exact_rows, run_starts, indptr)
    if n_exact > exact_cap and estimated:  # many rows outside the runs' bounds: span the whole column
        return _timestamp_days(col, narrow=narrow, runs=runs, scan_bounds=True)
    if n_exact > exact_cap:  # many rows at the hour of a clock change: let pyarrow convert them all
        return _timestamp_days(pc.local_timestamp(col), narrow=narrow, runs=runs)
    if n_exact:
        rows = exact_rows[:n_exact]
        src = rows
        if runs is not None:  # output rows -> input rows
            series = np.searchsorted(indptr, rows, side="right") - 1
            src = run_starts[series] + (rows - indptr[series])
        loc = pc.local_timestamp(pa.array(raw[src], type=typ)).cast(pa.int64()).to_numpy()
        d = np.floor_divide(loc, per_day)
        off[rows] = np.remainder(loc, per_day) != 0
        d_lo, d_hi = int(d.min()), int(d.max())
        lo, hi = (min(lo, d_lo), max(hi, d_hi)) if n_exact < n else (d_lo, d_hi)
        days[rows] = d if not narrow else np.clip(d, -(2**31), 2**31 - 1)
    if narrow and (lo < -(2**31) or hi >= 2**31):  # they do not fit in int32: redo wide
        return _timestamp_days(col, narrow=False, runs=runs)
    return days, off.view(bool)


def days_to_time(days: np.ndarray, typ: pa.DataType) -> pa.Array:
    """Build an Arrow array of type ``typ`` (date32/date64/timestamp) from int64 days since epoch."""
    days = np.asarray(days, dtype=np.int64)
    if pa.types.is_date32(typ):
        return pa.array(days.astype(np.int32), type=pa.date32())
    if pa.types.is_date64(typ):
        return pa.array(days * _DAY["ms"], type=pa.int64()).cast(pa.date64())
    if pa.types.is_timestamp(typ):
        if typ.tz is not None:
            return _local_midnights(days, typ)
        return pa.array(days * _DAY[typ.unit], type=pa.int64()).cast(pa.timestamp(typ.unit))
    raise_error(ColumnTypeError, "cannot build a time column", expected="date32, date64 or timestamp",
                got=str(typ))


def first_null(arr: pa.ChunkedArray | pa.Array) -> int:
    """Row of the first null of ``arr``."""
    import pyarrow.compute as pc

    return int(np.argmax(_to_numpy(pc.is_null(arr), np.bool_)))


def _local_midnights(days: np.ndarray, typ: pa.DataType) -> pa.Array:
    """Time-zone aware timestamps of the local midnights of ``days``: each distinct day is converted
    once by pyarrow (a forecast table repeats the same few dates for every series), then looked up
    by its offset in the range of days when that range is small."""
    import pyarrow.compute as pc

    from stockopt.frequency import distinct_days

    def convert(d: np.ndarray) -> np.ndarray:
        raw = pa.array(d * _DAY[typ.unit], type=pa.int64()).cast(pa.timestamp(typ.unit))
        utc = pc.assume_timezone(raw, typ.tz, ambiguous="earliest", nonexistent="earliest")
        return utc.cast(pa.int64()).to_numpy()

    if days.size == 0:
        return pa.array(days, type=pa.int64()).cast(typ)
    lo, hi = int(days.min()), int(days.max())
    if (hi - lo + 1) * 4 <= days.size:  # few days, densely used: every day of the range, looked up
        out = convert(np.arange(lo, hi + 1, dtype=np.int64))[days - lo]
        return pa.array(out, type=pa.int64()).cast(typ)
    uniq = distinct_days(days)
    if uniq.size * 4 > days.size:
        out = convert(days)
    else:
        out = convert(uniq)[np.searchsorted(uniq, days)]
    return pa.array(out, type=pa.int64()).cast(typ)


def _to_numpy(col: pa.ChunkedArray | pa.Array, dtype: Any) -> np.ndarray:
    """Contiguous NumPy view (zero-copy for one null-free chunk) or copy of a primitive column."""
    if isinstance(col, pa.ChunkedArray):
        if col.num_chunks == 1:
            col = col.chunk(0)
        elif col.num_chunks == 0:
            return np.empty(0, dtype=dtype)
        else:
            out = np.empty(len(col), dtype=dtype or col.type.to_pandas_dtype())
            pos = 0
            for chunk in col.chunks:
                n = len(chunk)
                out[pos : pos + n] = chunk.to_numpy(zero_copy_only=False)
                pos += n
            return out
    arr = col.to_numpy(zero_copy_only=False)
    return arr if dtype is None else np.asarray(arr, dtype=dtype)
