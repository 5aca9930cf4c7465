"""Validation of the inventory tables (demand summary, items, policy) at the API boundary.

The rules themselves (accepted ranges, defaults, sentences) live in :mod:`stockopt._rules`; this
module applies them to whole columns at once and raises a :mod:`stockopt.errors` exception whose
message names the table, the column, the item and the first offending row.  The nightly
quarantine (:func:`stockopt.quarantine_items`) reads the same rules through :func:`item_problems`.
The id column is whatever the caller named it (``id_col``, default ``"unique_id"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, to_table
from stockopt._rules import (
    ITEM_DEFAULTS,
    ITEMS,
    SERVICE_METRICS,
    ColumnRule,
    Problem,
    numeric_values,
    problems,
    raise_first,
    text_problems,
)
from stockopt.errors import DuplicateRowError, EmptyInputError, NullValueError, ValidationError, raise_error

__all__ = ["ID", "ITEM_DEFAULTS", "as_table", "id_strings", "check_ids", "column", "align", "check_unique",
           "items_arrays", "item_problems", "rule_problems", "require_nonempty"]

#: the default name of the id column
ID = "unique_id"


def as_table(obj: Any, table: str) -> pa.Table:
    """Arrow table from a pyarrow Table or anything with ``__arrow_c_stream__`` (pandas, polars)."""
    return to_table(obj, table=table)


def id_strings(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Ids as one ``large_string`` array (for joins between tables of different id types)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col.cast(pa.large_string())


def check_ids(tbl: pa.Table, table: str, id_col: str = ID, *, role: str = "id_col",
              what: str = "item") -> pa.Array:
    """The id column as strings, checked for presence and nulls.

    ``role`` is the argument that names the column (``id_col``; the column's own name for a fixed
    one such as ``supplier_id``) and ``what`` the kind of thing identified, for messages.
    """
    require_columns(tbl, {role: id_col}, table=table)
    ids = id_strings(tbl.column(id_col))
    if ids.null_count:
        row = int(np.argmax(~_to_numpy(pc.is_valid(ids), np.bool_)))
        raise_error(NullValueError, "null id", table=table, column=id_col, row=row,
                    expected=f"a non-null {what} id")
    return ids


def column(tbl: pa.Table, name: str, table: str, ids: pa.Array, rule: ColumnRule) -> np.ndarray:
    """Column ``name`` as float64 after ``rule`` (nulls and absence mean its default, where it has one)."""
    vals, null = numeric_values(tbl, name, rule, table=table)
    raise_first(problems(vals, null, rule, name), rule, table=table, column=name,
                series_of=lambda row: ids[row].as_py(), got_of=lambda row: float(vals[row]))
    return vals


def align(ids_needed: pa.Array, ids_have: pa.Array, *, table: str, needed_by: str,
          id_col: str = ID) -> np.ndarray:
    """Row of ``ids_have`` for each of ``ids_needed``; error naming the first id with no row."""
    idx = pc.index_in(ids_needed, value_set=ids_have)
    if idx.null_count:
        miss = int(np.argmax(~_to_numpy(pc.is_valid(idx), np.bool_)))
        raise_error(ValidationError, f"no row for an item of the {needed_by} table", table=table,
                    column=id_col, series=ids_needed[miss].as_py(),
                    expected=f"one {table} row per item of the {needed_by}")
    return _to_numpy(idx, np.int64)


def _duplicated(ids: pa.Array) -> np.ndarray:
    """True for every row whose id appears in more than one row."""
    counts = pc.value_counts(ids)
    dup_vals = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    return _to_numpy(pc.is_in(ids, value_set=dup_vals), np.bool_) if len(dup_vals) else \
        np.zeros(len(ids), dtype=bool)


def check_unique(ids: pa.Array, table: str, id_col: str = ID, *, what: str = "item") -> None:
    """Raise :class:`DuplicateRowError` at the second row of the first repeated id."""
    if len(ids) == 0 or len(pc.unique(ids)) == len(ids):
        return
    dup = _duplicated(ids)
    first = ids[int(np.argmax(dup))].as_py()
    row = int(np.flatnonzero(_to_numpy(pc.equal(ids, first), np.bool_))[1])
    raise_error(DuplicateRowError, f"duplicate {what}", table=table, column=id_col, series=first, row=row,
                expected=f"one row per {id_col}")


def _item_columns(tbl: pa.Table) -> list[str]:
    """The numeric item columns to read: the required ones, the optional ones with a default, and
    the optional ones without one that the table has."""
    return [name for name, r in ITEMS.items()
            if r.kind == "number" and (r.required or r.default is not None or name in tbl.column_names)]


def item_problems(tbl: pa.Table) -> tuple[dict[str, np.ndarray], list[tuple[str, Problem]]]:
    """Every item column read by the rules: values, and each kind of violation with its column.

    Table-level faults (a missing required column, a non-numeric or non-text column) raise.
    """
    out: dict[str, np.ndarray] = {}
    found: list[tuple[str, Problem]] = []
    for name in _item_columns(tbl):
        vals, null = numeric_values(tbl, name, ITEMS[name], table="items")
        out[name] = vals
        found += [(name, p) for p in problems(vals, null, ITEMS[name], name)]
    codes, text = text_problems(tbl, "service_metric", ITEMS["service_metric"], table="items")
    out["metric"] = codes
    found += [("service_metric", p) for p in text]
    return out, found


def items_arrays(items: Any, ids_needed: pa.Array, *, needed_by: str,
                 id_col: str = ID) -> dict[str, np.ndarray]:
    """Validate the items table and return its columns aligned with ``ids_needed``.

    ``metric`` holds the service-measure codes (:data:`stockopt._rules.SERVICE_METRICS`).
    """
    tbl = as_table(items, "items")
    ids = check_ids(tbl, "items", id_col)
    same = ids.equals(ids_needed)  # common case: same ids in the same order (already unique)
    if not same:
        check_unique(ids, "items", id_col)
    out, found = item_problems(tbl)
    for name, p in found:  # the first problem in the order of the rule table
        vals = out.get(name)
        got_of = (lambda row: float(vals[row])) if ITEMS[name].kind == "number" else \
            (lambda row: tbl.column(name)[row].as_py())
        raise_first([p], ITEMS[name], table="items", column=name, series_of=lambda row: ids[row].as_py(),
                    got_of=got_of)
    if same:
        return out
    rows = align(ids_needed, ids, table="items", needed_by=needed_by, id_col=id_col)
    return {k: v[rows] for k, v in out.items()}


def rule_problems(tbl: pa.Table, rules: dict[str, ColumnRule],
                  table: str) -> tuple[dict[str, np.ndarray], list[tuple[str, Problem]]]:
    """The numeric columns of ``rules`` read row by row: values, and each kind of violation with its column.

    Columns the table lacks are read as their default (skipped when they have none and are
    optional); a missing required column or a non-numeric column raises.  This is how the nightly
    run sets bad rows of a table aside instead of refusing the table (:func:`item_problems` is the
    same for the inventory's items columns).
    """
    out: dict[str, np.ndarray] = {}
    found: list[tuple[str, Problem]] = []
    for name, rule in rules.items():
        absent = name not in tbl.column_names
        if rule.kind != "number" or (absent and not rule.required and rule.default is None):
            continue
        vals, null = numeric_values(tbl, name, rule, table=table)
        out[name] = vals
        found += [(name, p) for p in problems(vals, null, rule, name)]
    return out, found


def require_nonempty(tbl: pa.Table, table: str) -> None:
    """Raise :class:`EmptyInputError` for a table without rows."""
    if tbl.num_rows == 0:
        raise_error(EmptyInputError, "the table has no rows", table=table, expected="at least one row")


__all__ += ["SERVICE_METRICS"]
