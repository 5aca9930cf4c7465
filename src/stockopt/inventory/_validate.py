"""Validation of the inventory tables (demand summary, items, policy) at the API boundary.

Every check runs once, vectorised over rows, and raises a :mod:`stockopt.errors` exception whose
message names the table, the column, the item and the first offending row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import to_table
from stockopt.errors import (
    ColumnTypeError,
    DuplicateRowError,
    EmptyInputError,
    MissingColumnError,
    NegativeValueError,
    NonFiniteValueError,
    NullValueError,
    ParameterError,
    ValidationError,
    raise_error,
)

ID = "unique_id"

#: optional item columns and their defaults (units: days, money, per year, selling units)
ITEM_DEFAULTS: dict[str, float] = {
    "lead_time_std": 0.0,
    "review_period": 1.0,
    "unit_cost": 1.0,
    "holding_rate": 0.25,
    "order_cost": 0.0,
    "service_level": 0.95,
    "moq": 0.0,
    "pack_size": 1.0,
    "shelf_life_days": np.inf,
}

#: (lower bound, lower inclusive, upper bound, upper inclusive, allow +inf, what is accepted)
_RANGES: dict[str, tuple[float, bool, float, bool, bool, str]] = {
    "lead_time": (0.0, True, np.inf, False, False, "a finite lead time >= 0 days"),
    "lead_time_std": (0.0, True, np.inf, False, False, "a finite standard deviation >= 0 days"),
    "review_period": (0.0, True, np.inf, False, False, "a finite review period >= 0 days"),
    "unit_cost": (0.0, False, np.inf, False, False, "a finite unit cost > 0"),
    "holding_rate": (0.0, False, np.inf, False, False, "a finite holding rate > 0 per year"),
    "order_cost": (0.0, True, np.inf, False, False, "a finite order cost >= 0"),
    "service_level": (0.0, False, 1.0, False, False, "a service level strictly between 0 and 1"),
    "moq": (0.0, True, np.inf, False, False, "a finite minimum order quantity >= 0"),
    "pack_size": (0.0, False, np.inf, False, False, "a finite pack size > 0"),
    "shelf_life_days": (0.0, False, np.inf, True, True, "a shelf life > 0 days (inf = not perishable)"),
    "demand_std": (0.0, True, np.inf, False, False, "a finite demand standard deviation >= 0 per day"),
    "stockout_cost": (0.0, False, np.inf, False, False, "a finite backorder cost > 0 per unit per day"),
}

METRICS = {"cycle": 0, "fill_rate": 1}


def as_table(obj: Any, table: str) -> pa.Table:
    """Arrow table from a pyarrow Table or anything with ``__arrow_c_stream__`` (pandas, polars)."""
    tbl = to_table(obj, table=table)
    return tbl


def id_strings(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Ids as one ``large_string`` array (for joins between tables of different id types)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col.cast(pa.large_string())


def check_ids(tbl: pa.Table, table: str) -> pa.Array:
    """The id column as strings, checked for presence and nulls."""
    if ID not in tbl.column_names:
        raise MissingColumnError(
            f"{table}: missing column {ID!r}; the table has columns {tbl.column_names}",
            table=table, column=ID)
    ids = id_strings(tbl.column(ID))
    if ids.null_count:
        row = int(np.flatnonzero(~np.asarray(pc.is_valid(ids)))[0])
        raise_error(NullValueError, "null id", table=table, column=ID, row=row,
                    expected="a non-null item id")
    return ids


def numeric(tbl: pa.Table, name: str, table: str, ids: pa.Array, *,
            default: float | None = None, lo: float = -np.inf, lo_incl: bool = True,
            hi: float = np.inf, hi_incl: bool = True, allow_inf: bool = False,
            expected: str = "a finite number") -> np.ndarray:
    """Column ``name`` as float64, with nulls replaced by ``default`` (or an error if None)."""
    n = tbl.num_rows
    if name not in tbl.column_names:
        if default is None:
            raise MissingColumnError(
                f"{table}: missing required column {name!r}; the table has columns {tbl.column_names}",
                table=table, column=name)
        return np.full(n, default, dtype=np.float64)
    col = tbl.column(name)
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
            or pa.types.is_decimal(col.type) or pa.types.is_null(col.type)):
        raise_error(ColumnTypeError, "non-numeric column", table=table, column=name,
                    expected=expected, got=str(col.type))
    valid = np.asarray(pc.is_valid(col)) if col.null_count else np.ones(n, dtype=bool)
    vals = np.asarray(pc.fill_null(col.cast(pa.float64()), np.nan)).astype(np.float64, copy=True) \
        if n else np.empty(0)
    if not valid.all():
        if default is None:
            row = int(np.flatnonzero(~valid)[0])
            raise_error(NullValueError, f"null {name}", table=table, column=name,
                        series=ids[row].as_py(), row=row, expected=expected)
        vals[~valid] = default
    bad = np.isnan(vals) | (np.isinf(vals) & ~(allow_inf & (vals > 0)))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise_error(NonFiniteValueError, f"non-finite {name}", table=table, column=name,
                    series=ids[row].as_py(), row=row, expected=expected, got=float(vals[row]))
    too_low = vals < lo if lo_incl else vals <= lo
    too_high = vals > hi if hi_incl else vals >= hi
    if too_low.any() or too_high.any():
        row = int(np.flatnonzero(too_low | too_high)[0])
        cls = NegativeValueError if (too_low[row] and lo == 0.0 and vals[row] < 0) else ParameterError
        raise_error(cls, f"{name} out of range", table=table, column=name,
                    series=ids[row].as_py(), row=row, expected=expected, got=float(vals[row]))
    return vals


def ranged(tbl: pa.Table, name: str, table: str, ids: pa.Array, default: float | None) -> np.ndarray:
    lo, lo_incl, hi, hi_incl, allow_inf, expected = _RANGES[name]
    return numeric(tbl, name, table, ids, default=default, lo=lo, lo_incl=lo_incl, hi=hi,
                   hi_incl=hi_incl, allow_inf=allow_inf, expected=expected)


def align(ids_needed: pa.Array, ids_have: pa.Array, *, table: str, needed_by: str) -> np.ndarray:
    """Row of ``ids_have`` for each of ``ids_needed``; error naming the first id with no row."""
    idx = pc.index_in(ids_needed, value_set=ids_have)
    if idx.null_count:
        miss = int(np.flatnonzero(~np.asarray(pc.is_valid(idx)))[0])
        raise_error(ValidationError,
                    f"no row for an item of the {needed_by} table", table=table, column=ID,
                    series=ids_needed[miss].as_py(), expected=f"one {table} row per item of the {needed_by}")
    return np.asarray(idx, dtype=np.int64)


def check_unique(ids: pa.Array, table: str) -> None:
    if len(ids) == 0:
        return
    uniq = pc.unique(ids)
    if len(uniq) != len(ids):
        counts = pc.value_counts(ids)
        vals = counts.field("values")
        cnt = np.asarray(counts.field("counts"))
        dup = vals[int(np.flatnonzero(cnt > 1)[0])].as_py()
        row = int(np.flatnonzero(np.asarray(pc.equal(ids, dup)))[1])
        raise_error(DuplicateRowError, "duplicate item", table=table, column=ID, series=dup, row=row,
                    expected="one row per unique_id")


def items_arrays(items: Any, ids_needed: pa.Array, *, needed_by: str) -> dict[str, np.ndarray]:
    """Validate the items table and return its columns aligned with ``ids_needed``."""
    tbl = as_table(items, "items")
    ids = check_ids(tbl, "items")
    same = ids.equals(ids_needed)  # common case: same ids in the same order (already unique)
    if not same:
        check_unique(ids, "items")
    out: dict[str, np.ndarray] = {}
    out["lead_time"] = ranged(tbl, "lead_time", "items", ids, None)
    for name, default in ITEM_DEFAULTS.items():
        out[name] = ranged(tbl, name, "items", ids, default)
    for name in ("demand_std", "stockout_cost"):
        if name in tbl.column_names:
            out[name] = ranged(tbl, name, "items", ids, None)
    if "service_metric" in tbl.column_names:
        col = tbl.column("service_metric")
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
                or pa.types.is_dictionary(col.type) or pa.types.is_null(col.type)):
            raise_error(ColumnTypeError, "service_metric must be text", table="items",
                        column="service_metric", expected="'cycle' or 'fill_rate'", got=str(col.type))
        vals = id_strings(col)
        allowed = pa.array(list(METRICS), pa.large_string())
        ok = np.asarray(pc.fill_null(pc.is_in(vals, value_set=allowed), True))
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            raise_error(ParameterError, "unknown service_metric", table="items",
                        column="service_metric", series=ids[row].as_py(), row=row,
                        expected="'cycle' or 'fill_rate'", got=vals[row].as_py())
        codes = np.asarray(pc.fill_null(pc.equal(vals, "fill_rate"), False)).astype(np.int8)
        out["metric"] = codes
    else:
        out["metric"] = np.zeros(tbl.num_rows, dtype=np.int8)
    if same:
        return out
    rows = align(ids_needed, ids, table="items", needed_by=needed_by)
    return {k: v[rows] for k, v in out.items()}


def require_nonempty(tbl: pa.Table, table: str) -> None:
    if tbl.num_rows == 0:
        raise EmptyInputError(f"{table}: the table has no rows", table=table)
