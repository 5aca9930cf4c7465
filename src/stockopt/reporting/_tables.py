"""The table sections of the run report: summary, orders, projected KPIs, alerts, quarantine."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt.reporting._html import _absent, _e, _fmt, _note, _num, _rows_for, _Run, _str_ids, _table

_SEVERITY_ORDER = ["critical", "error", "high", "warning", "medium", "low", "info"]


def _summary_section(run: _Run) -> str:
    if run.summary is None:
        why = run.problems.get("summary.json") or run.problems.get("run.json") or \
            "This run folder has no summary.json or run.json"
        return _note(f"{why}: no run summary to show.")
    rows: list[list[Any]] = []

    def walk(prefix: str, value: Any, depth: int) -> None:
        if isinstance(value, dict) and depth < 3 and value:
            for k, v in value.items():
                walk(f"{prefix} › {k}" if prefix else str(k), v, depth + 1)
        else:
            rows.append([prefix, value])

    walk("", run.summary, 0)
    return _note(f"From {run.summary_name}.") + _table(["item", "value"], rows, cls="kv")


def _cards(run: _Run) -> str:
    """The few figures a reader looks at first."""
    s = run.summary or {}
    cards: list[tuple[str, Any]] = []
    for key, label in (("series", "series read"), ("series_forecast", "series forecast"),
                       ("series_quarantined", "series quarantined"),
                       ("items_quarantined", "items quarantined"), ("policies", "policies sized")):
        if key in s and not isinstance(s[key], dict):
            cards.append((label, s[key]))
    orders = run.tables["orders"]
    if orders is not None:
        cards.append(("order lines", orders.num_rows))
        if "value" in orders.column_names:
            cards.append(("order value", pc.sum(orders["value"]).as_py() or 0.0))
    kpis = run.tables["kpis"]
    if kpis is not None and {"fill_rate", "demand"} <= set(kpis.column_names):
        fr, dem = _num(kpis, "fill_rate"), _num(kpis, "demand")
        ok = np.isfinite(fr) & np.isfinite(dem)
        if dem[ok].sum() > 0:
            cards.append(("projected fill rate", f"{100 * (fr[ok] * dem[ok]).sum() / dem[ok].sum():.1f} %"))
    alerts = run.tables["alerts"]
    if alerts is not None:
        cards.append(("alerts", alerts.num_rows))
    return "<div class=\"cards\">" + "".join(
        f"<div class=\"card\"><div class=\"big\">{_fmt(v)}</div><div>{_e(k)}</div></div>" for k, v in cards
    ) + "</div>"


def _orders_section(run: _Run, top_ids: list[str], max_rows: int) -> str:
    orders = run.tables["orders"]
    if orders is None:
        return _absent(run, "orders", "no purchase orders in this run (a run without stock and suppliers "
                                      "tables sizes policies only).")
    if orders.num_rows == 0:
        return _note("orders.parquet is empty: no item needed an order tonight.")
    cols = orders.column_names
    parts = []
    if "supplier_id" in cols:
        agg = [("supplier_id", "count")] + [(c, "sum") for c in ("quantity", "value") if c in cols]
        by = orders.group_by("supplier_id").aggregate(agg)
        key = "value_sum" if "value" in cols else "supplier_id_count"
        by = by.sort_by([(key, "descending"), ("supplier_id", "ascending")])
        heads = ["supplier", "lines"] + [f"{c} (sum)" for c, _ in agg[1:]]
        rows = [[r["supplier_id"], r["supplier_id_count"]] + [r[f"{c}_sum"] for c, _ in agg[1:]]
                for r in by.slice(0, max_rows).to_pylist()]
        total = [f"{orders.num_rows:,} order lines from {by.num_rows:,} suppliers"]
        if "value" in cols:
            total.append(f"value {_fmt(pc.sum(orders['value']).as_py())}")
        if by.num_rows > max_rows:
            total.append(f"the {max_rows} largest suppliers shown")
        parts += [_note("; ".join(total) + "."), _table(heads, rows)]
    mine = _rows_for(orders, cols[0], top_ids) if top_ids else orders.slice(0, 0)
    if mine.num_rows:
        wanted = (cols[0], "supplier_id", "order_date", "arrival_date", "quantity", "value", "reason")
        show = [c for c in wanted if c in cols]
        parts += [_note("Order lines of the top items:"),
                  _table(show, [[r[c] for c in show] for r in mine.slice(0, max_rows).to_pylist()])]
    return "".join(parts)


def _kpi_section(run: _Run, max_rows: int) -> str:
    kpis = run.tables["kpis"]
    if kpis is None:
        return _absent(run, "kpis", "no projected KPIs in this run (they come with the orders).")
    if kpis.num_rows == 0:
        return _note("kpis.parquet is empty.")
    cols = kpis.column_names
    rows: list[list[Any]] = [["items", kpis.num_rows]]
    if {"fill_rate", "demand"} <= set(cols):
        fr, dem = _num(kpis, "fill_rate"), _num(kpis, "demand")
        ok = np.isfinite(fr) & np.isfinite(dem)
        if dem[ok].sum() > 0:
            rows.append(["fill rate (demand-weighted)", float((fr[ok] * dem[ok]).sum() / dem[ok].sum())])
    for c, label in (("demand", "projected demand (units)"), ("stockout_days", "expected stockout item-days"),
                     ("average_stock_value", "average stock value"),
                     ("end_backorders", "backorders at the end (units)")):
        if c in cols:
            rows.append([label, float(np.nansum(_num(kpis, c)))])
    if "stockout_days" in cols:
        n_out = int((_num(kpis, "stockout_days") >= 1).sum())
        rows.append(["items with an expected stockout day or more", n_out])
    parts = [_table(["KPI", "value"], rows, cls="kv")]
    if "fill_rate" in cols:
        worst = kpis.sort_by([("fill_rate", "ascending"), (cols[0], "ascending")]).slice(0, min(max_rows, 10))
        parts += [_note("Lowest projected fill rates:"),
                  _table(worst.column_names, [[r[c] for c in worst.column_names] for r in worst.to_pylist()])]
    return "".join(parts)


def _alerts_section(run: _Run, max_rows: int) -> str:
    alerts = run.tables["alerts"]
    if alerts is None:
        return _absent(run, "alerts", "no stock alerts in this run (they come with the supply tables).")
    if alerts.num_rows == 0:
        return _note("alerts.parquet is empty: no alert fired.")
    cols = alerts.column_names
    parts = []
    if {"kind", "severity"} <= set(cols):
        agg = [("kind", "count")] + ([("money", "sum")] if "money" in cols else [])
        by = alerts.group_by(["kind", "severity"]).aggregate(agg)
        rank = {s: i for i, s in enumerate(_SEVERITY_ORDER)}
        recs = sorted(by.to_pylist(),
                      key=lambda r: (rank.get(r["severity"], 99), str(r["severity"]), str(r["kind"])))
        heads = ["kind", "severity", "alerts"] + (["money at stake"] if "money" in cols else [])
        parts.append(_table(heads, [[r["kind"], r["severity"], r["kind_count"]] +
                                    ([r["money_sum"]] if "money" in cols else []) for r in recs]))
    if "severity" in cols:
        sev = pc.fill_null(pc.index_in(pc.cast(alerts["severity"], pa.string()),
                                       value_set=pa.array(_SEVERITY_ORDER)), len(_SEVERITY_ORDER))
    else:
        sev = pa.array(np.zeros(alerts.num_rows, np.int32))
    keys = pa.table({"sev": sev, "money": pc.fill_null(pc.cast(alerts["money"], pa.float64()), 0.0)
                     if "money" in cols else np.zeros(alerts.num_rows), "id": _str_ids(alerts[cols[0]])})
    order = pc.sort_indices(keys, sort_keys=[("sev", "ascending"), ("money", "descending"),
                                             ("id", "ascending")])
    first = alerts.take(order).slice(0, max_rows)
    show = [c for c in (cols[0], "kind", "severity", "value", "money", "message") if c in cols]
    parts += [_note(f"The {first.num_rows} most severe alerts (then by money at stake) of "
                    f"{alerts.num_rows:,}:"),
              _table(show, [[r[c] for c in show] for r in first.to_pylist()])]
    return "".join(parts)


def _quarantine_section(run: _Run, max_rows: int) -> str:
    q = run.tables["quarantine"]
    if q is None:
        return _absent(run, "quarantine", "the quarantine of this run is unknown.")
    if q.num_rows == 0:
        return _note("Nothing was quarantined: every series was forecast and every item sized.")
    cols = q.column_names
    parts = []
    if "reason" in cols:
        keys = ["table", "reason"] if "table" in cols else ["reason"]
        by = q.group_by(keys).aggregate([("reason", "count")]).sort_by([("reason_count", "descending")] +
                                                                      [(k, "ascending") for k in keys])
        parts.append(_table(keys + ["series"],
                            [[r[k] for k in keys] + [r["reason_count"]] for r in by.to_pylist()]))
    rows = [[r[cols[0]] if r[cols[0]] is not None else "(null id)"] + [r[c] for c in cols[1:]]
            for r in q.slice(0, max_rows).to_pylist()]
    more = f" (the first {max_rows} of {q.num_rows:,})" if q.num_rows > max_rows else ""
    parts += [_note(f"Quarantined series and items{more}; first_row is 0-based in the table named, "
                    "-1 when the item has no row."), _table(cols, rows)]
    return "".join(parts)
