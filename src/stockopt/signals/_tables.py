"""The findings table of :func:`stockopt.signals.check_data`, its cross-table checks and its cleaning step."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, days_to_time, to_table
from stockopt.errors import ValidationError
from stockopt.frequency import Frequency


class Findings:
    """Collects findings per check, as series codes and periods, and builds the report tables at the end."""

    def __init__(self, id_col: str = "unique_id") -> None:
        self.id_col = id_col  # the name of the findings' id column (the sales table's)
        self._parts: list[dict[str, Any]] = []
        self.ids: pa.Array | None = None
        self.freq: Frequency | None = None

    def set_grid(self, ids: pa.Array, freq: Frequency, time_type: pa.DataType) -> None:
        self.ids, self.freq = ids, freq

    def add_rows(self, check: str, table_name: str | None, mask: np.ndarray, suggestion: str | None) -> None:
        """Rows that belong to no series (no id): one finding with a null id."""
        n = int(mask.sum())
        if n:
            self._parts.append({"check": check, "table": table_name or "sales",
                                "ids": pa.array([None], pa.string()),
                                "days": np.array([0]), "has_day": np.array([False]), "count": np.array([n]),
                                "suggestion": [suggestion]})

    def add_grouped_rows(self, check: str, codes: np.ndarray, periods: np.ndarray | None,
                         suggestion: str | None) -> None:
        """Offending rows given by series code (and period): one finding per series, first period, count."""
        if codes.size == 0:
            return
        if periods is None:
            uniq, n = np.unique(codes, return_counts=True)
            self._parts.append({"check": check, "codes": uniq, "periods": None, "count": n,
                                "suggestion": [suggestion] * uniq.size})
            return
        order = np.lexsort((periods, codes))
        c, p = codes[order], periods[order]
        uniq, first, n = np.unique(c, return_index=True, return_counts=True)
        self._parts.append({"check": check, "codes": uniq, "periods": p[first], "count": n,
                            "suggestion": [suggestion] * uniq.size})

    def add_series(self, check: str, series: np.ndarray, first_period: np.ndarray, count: np.ndarray,
                   suggestions: list[str] | None = None) -> None:
        """One finding per given series."""
        if series.size:
            self._parts.append({"check": check, "codes": np.asarray(series),
                                "periods": np.asarray(first_period), "count": np.asarray(count),
                                "suggestion": suggestions or [None] * series.size})

    def add_ids(self, check: str, table_name: str, ids: pa.Array, count: np.ndarray,
                suggestions: list[str | None]) -> None:
        """Findings on ids of another table (no dates)."""
        if len(ids):
            self._parts.append({"check": check, "table": table_name, "ids": ids.cast(pa.string()),
                                "days": np.zeros(len(ids), np.int64), "has_day": np.zeros(len(ids), bool),
                                "count": np.asarray(count), "suggestion": suggestions})

    def table(self) -> pa.Table:
        from stockopt.signals.quality import CHECKS

        order = {name: k for k, name in enumerate(CHECKS)}
        cols: dict[str, list[Any]] = {k: [] for k in ("id", "table", "check", "first_date", "count",
                                                      "severity", "suggestion")}
        for part in sorted(self._parts, key=lambda p: order[p["check"]]):
            check = part["check"]
            severity, default = CHECKS[check]
            if "ids" in part:
                ids = part["ids"]
                day = np.where(part["has_day"], part["days"], 0)
                dates = pc.if_else(pa.array(part["has_day"]), pa.array(day.astype(np.int32), pa.date32()),
                                   pa.scalar(None, pa.date32()))
                table_name = part["table"]
            else:
                ids = _as_string(self.ids.take(pa.array(part["codes"])))
                if part["periods"] is None:
                    dates = pa.nulls(len(ids), pa.date32())
                else:
                    days = self.freq.to_days(np.asarray(part["periods"], np.int64))
                    dates = pa.array(days.astype(np.int32), pa.date32())
                table_name = "sales"
            k = len(ids)
            cols["id"].append(ids)
            cols["table"].append(pa.array([table_name] * k, pa.string()))
            cols["check"].append(pa.array([check] * k, pa.string()))
            cols["first_date"].append(dates)
            cols["count"].append(pa.array(np.asarray(part["count"], np.int64)))
            cols["severity"].append(pa.array([severity] * k, pa.string()))
            cols["suggestion"].append(pa.array([s or default for s in part["suggestion"]], pa.string()))
        types = {"id": pa.string(), "table": pa.string(), "check": pa.string(),
                 "first_date": pa.date32(), "count": pa.int64(), "severity": pa.string(),
                 "suggestion": pa.string()}
        out = pa.table({self.id_col if name == "id" else name: pa.chunked_array(cols[name], typ)
                        for name, typ in types.items()})
        return out.combine_chunks()

    @staticmethod
    def summary(findings: pa.Table) -> pa.Table:
        """One row per check found: severity, series concerned, total count, the check's meaning."""
        from stockopt.signals.quality import CHECKS

        if findings.num_rows == 0:
            return pa.table({"check": pa.array([], pa.string()), "severity": pa.array([], pa.string()),
                             "series": pa.array([], pa.int64()), "count": pa.array([], pa.int64()),
                             "suggestion": pa.array([], pa.string())})
        agg = findings.group_by(["check", "severity"], use_threads=False).aggregate(
            [("table", "count", pc.CountOptions(mode="all")), ("count", "sum")])  # rows = series
        names = agg["check"].to_pylist()
        order = np.argsort([list(CHECKS).index(c) for c in names], kind="stable")
        agg = agg.take(pa.array(order))
        return pa.table({"check": agg["check"], "severity": agg["severity"],
                         "series": agg["table_count"].cast(pa.int64()), "count": agg["count_sum"],
                         "suggestion": pa.array([CHECKS[c][1] for c in agg["check"].to_pylist()],
                                                pa.string())})


def _as_string(arr: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr.cast(pa.string())


def cross_table_findings(f: Findings, ids: pa.Array, items: Any, stock: Any,
                         id_col: str = "unique_id") -> None:
    """Ids present in one table and missing from another; unusable items and stock rows (every table
    keyed by ``id_col``)."""
    from stockopt.inventory._validate import id_strings
    from stockopt.pipeline import quarantine_items

    sales_ids = id_strings(ids) if len(ids) else pa.array([], pa.large_string())
    if items is not None:
        tbl = to_table(items, table="items")
        try:
            clean, report = quarantine_items(tbl, sales_ids, id_col=id_col)
        except ValidationError as err:  # the table itself is unusable (no id or lead_time column, null ids)
            f.add_ids("invalid_item", "items", pa.array([None], pa.string()), np.array([tbl.num_rows]),
                      [str(err)])
        else:
            missing = pc.equal(report["reason"], "no items row for this series")
            rep_m, rep_bad = report.filter(missing), report.filter(pc.invert(missing))
            f.add_ids("missing_in_items", "items", rep_m[id_col], np.ones(rep_m.num_rows, np.int64),
                      [None] * rep_m.num_rows)
            f.add_ids("invalid_item", "items", rep_bad[id_col], np.ones(rep_bad.num_rows, np.int64),
                      [f"row {r}: {why}" for r, why in zip(rep_bad["first_row"].to_pylist(),
                                                          rep_bad["reason"].to_pylist())])
            _not_in_sales(f, "items", id_strings(tbl.column(id_col)), sales_ids)
    if stock is not None:
        tbl = to_table(stock, table="stock")
        if id_col not in tbl.column_names:
            f.add_ids("invalid_stock", "stock", pa.array([None], pa.string()), np.array([tbl.num_rows]),
                      [f"stock: no {id_col!r} column (columns {tbl.column_names})"])
            return
        sid = tbl.column(id_col)
        null = _to_numpy(pc.is_null(sid), np.bool_)
        if null.any():
            f.add_ids("invalid_stock", "stock", pa.array([None], pa.string()), np.array([int(null.sum())]),
                      ["stock rows without an id"])
        sid = id_strings(sid.filter(pa.array(~null)))
        counts = pc.value_counts(sid)
        dup = counts.filter(pc.greater(counts.field("counts"), 1))
        f.add_ids("invalid_stock", "stock", dup.field("values"), _to_numpy(dup.field("counts"), np.int64),
                  ["the id has several stock rows"] * len(dup))
        if "on_hand" in tbl.column_names:
            lvl = _to_numpy(pc.fill_null(tbl.column("on_hand").cast(pa.float64()), float("nan")),
                            np.float64)[~null]
            bad = ~np.isfinite(lvl) | (lvl < 0)
            if bad.any():
                f.add_ids("invalid_stock", "stock", sid.filter(pa.array(bad)),
                          np.ones(int(bad.sum()), np.int64),
                          [f"on_hand is {v}: expected a finite number >= 0" for v in lvl[bad]])
        miss = sales_ids.filter(pc.invert(pc.is_in(sales_ids, value_set=sid)))
        f.add_ids("missing_in_stock", "stock", miss, np.ones(len(miss), np.int64), [None] * len(miss))
        _not_in_sales(f, "stock", sid, sales_ids)


def _not_in_sales(f: Findings, table_name: str, other: pa.Array, sales_ids: pa.Array) -> None:
    other = pc.unique(other.filter(pc.is_valid(other)))
    extra = other.filter(pc.invert(pc.is_in(other, value_set=sales_ids)))
    f.add_ids("missing_in_sales", table_name, extra, np.ones(len(extra), np.int64), [None] * len(extra))


def clean_table(g: Any, tbl: pa.Table, steps: tuple[str, ...], caps: Any,
                target_col: str, time_col: str, id_col: str) -> tuple[pa.Table, pa.Table]:
    """Apply the cleaning ``steps`` to the sales table; return the cleaned table and the changes made.

    Grouped rows keep their values except capped outliers; gap rows are inserted (quantity 0, the
    other columns carried forward from the series' previous row); rows that could not be grouped
    (no id, no usable date) follow, unchanged.
    """
    n_grid = g.grid.size
    y_orig = tbl.column(target_col)
    y = _to_numpy(pc.fill_null(y_orig.cast(pa.float64()), float("nan")), np.float64).copy()
    change_pos: list[np.ndarray] = []
    change_old: list[np.ndarray] = []
    change_new: list[np.ndarray] = []
    change_act: list[str] = []
    if "outliers" in steps and caps is not None:
        pos, cap = caps
        rows = g.grid_row[pos]
        change_pos.append(pos)
        change_old.append(y[rows].copy())
        change_new.append(cap)
        change_act += ["cap_outlier"] * pos.size
        y[rows] = cap
    # rows in final order: each grid position's rows (the first and its duplicates), gaps in between
    grid_pos_of_row = g.grid_ptr[:-1][g.code] + g.t - g.first_t[g.code]
    keys = [grid_pos_of_row]
    srcs = [g.order]
    is_gap = [np.zeros(g.order.size, bool)]
    if "gaps" in steps:
        gap_pos = np.flatnonzero(~g.present)
        if gap_pos.size:
            prev = np.maximum.accumulate(np.where(g.present, np.arange(n_grid), -1))[gap_pos]
            keys.append(gap_pos)
            srcs.append(g.grid_row[prev])
            is_gap.append(np.ones(gap_pos.size, bool))
            change_pos.append(gap_pos)
            change_old.append(np.full(gap_pos.size, np.nan))
            change_new.append(np.zeros(gap_pos.size))
            change_act += ["fill_gap"] * gap_pos.size
    key = np.concatenate(keys)
    src = np.concatenate(srcs)
    gap = np.concatenate(is_gap)
    final = np.argsort(key, kind="stable")
    key, src, gap = key[final], src[final], gap[final]
    rest = np.setdiff1d(np.arange(tbl.num_rows), g.order, assume_unique=True)
    out = tbl.take(pa.array(np.concatenate([src, rest])))
    owner = np.searchsorted(g.grid_ptr, key, side="right") - 1
    period = g.first_t[owner] + key - g.grid_ptr[:-1][owner]
    new_y = np.concatenate([np.where(gap, 0.0, y[src]), y[rest]])
    y_col = pa.array(new_y, pa.float64(), mask=np.isnan(new_y)).cast(y_orig.type, safe=False)
    out = out.set_column(out.column_names.index(target_col), target_col, y_col)
    if gap.any():
        ds = days_to_time(g.freq.to_days(period), tbl.column(time_col).type)
        ds = pa.concat_arrays([ds, _combine(tbl.column(time_col).take(pa.array(rest)))])
        out = out.set_column(out.column_names.index(time_col), time_col, ds)
    pos = np.concatenate(change_pos) if change_pos else np.empty(0, np.int64)
    owner_c = np.searchsorted(g.grid_ptr, pos, side="right") - 1
    changes = pa.table({
        id_col: _as_string(g.ids.take(pa.array(owner_c))) if pos.size else pa.array([], pa.string()),
        time_col: days_to_time(g.freq.to_days(g.first_t[owner_c] + pos - g.grid_ptr[:-1][owner_c]),
                               tbl.column(time_col).type),
        "column": pa.array([target_col] * pos.size, pa.string()),
        "action": pa.array(change_act, pa.string()),
        "old": pa.array(np.concatenate(change_old) if change_old else np.empty(0), pa.float64(),
                        mask=np.isnan(np.concatenate(change_old)) if change_old else None),
        "new": pa.array(np.concatenate(change_new) if change_new else np.empty(0), pa.float64()),
    })
    if pos.size:
        changes = changes.take(pc.sort_indices(changes, [(id_col, "ascending"), (time_col, "ascending")]))
    return out, changes


def _combine(col: Any) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
