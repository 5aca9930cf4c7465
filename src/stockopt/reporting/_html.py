"""HTML pieces of the run report: escaping, number formats, tables, PNG data URIs, the run folder."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, time_to_days


def _matplotlib() -> Any:
    """matplotlib's ``Figure`` class, imported on first use (the ``plot`` extra)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised with a blocked import in the tests
        raise ImportError("stockopt.report draws its charts with matplotlib, which is not installed: "
                          "pip install stockopt[plot]  (or pip install matplotlib)") from exc
    return Figure


# --- small helpers -----------------------------------------------------------------------------------
def _e(value: Any) -> str:
    """Escape any value for HTML text or an attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value: Any) -> str:
    """A number as a reader wants it (thousands separators, few digits); text escaped."""
    if value is None:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10 or v == int(v):
            return f"{v:,.1f}".rstrip("0").rstrip(".")
        return f"{v:.3g}"
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, default=str)
        return _e(text if len(text) <= 300 else text[:297] + "...")
    return _e(value)


def _table(headers: list[str], rows: list[list[Any]], *, cls: str = "") -> str:
    """An HTML table; numbers are right-aligned."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for v in row:
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            cells.append(f"<td class=\"num\">{_fmt(v)}</td>" if num else f"<td>{_fmt(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class=\"{_e(cls)}\"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _note(text: str) -> str:
    return f"<p class=\"note\">{_e(text)}</p>"


def _png(fig: Any) -> str:
    """A figure as an ``<img>`` data URI (no metadata, so the same run gives the same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plain(text: Any, limit: int = 60) -> str:
    """Text for a matplotlib title: no mathtext (``$``), at most ``limit`` characters."""
    s = str(text).replace("$", r"\$")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _days(col: pa.ChunkedArray | pa.Array, name: str) -> np.ndarray:
    """Dates (date32/date64/timestamp) as int64 days since 1970-01-01."""
    days, _ = time_to_days(col, table="report", column=name)
    return days.astype(np.int64)


def _as_date_days(value: Any) -> int | None:
    """An ISO date string (``as_of`` of a summary) as days since 1970-01-01, else None."""
    try:
        return (dt.date.fromisoformat(str(value)[:10]) - dt.date(1970, 1, 1)).days
    except (TypeError, ValueError):
        return None


def _str_ids(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Ids as one large-string array (dictionary, integer or string ids alike)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return pc.cast(col, pa.large_string())


@dataclass
class _Run:
    """What the run folder holds: tables (None when absent) and notes on unreadable files."""

    folder: Path
    summary: dict[str, Any] | None
    summary_name: str | None
    tables: dict[str, pa.Table | None]
    problems: dict[str, str]


def _read_run(folder: Path) -> _Run:
    import pyarrow.parquet as pq

    summary, summary_name = None, None
    problems: dict[str, str] = {}
    for name in ("summary.json", "run.json"):
        path = folder / name
        if path.exists():
            try:
                summary, summary_name = json.loads(path.read_text()), name
                break
            except (OSError, ValueError) as exc:
                problems[name] = f"{name} could not be read ({exc})"
    tables: dict[str, pa.Table | None] = {}
    for name in ("forecast", "policy", "quarantine", "orders", "alerts", "kpis", "stock", "open_orders"):
        path = folder / f"{name}.parquet"
        tables[name] = None
        if path.exists():
            try:
                tables[name] = pq.read_table(path)
            except (OSError, pa.ArrowException) as exc:
                problems[name] = f"{name}.parquet could not be read ({exc})"
    return _Run(folder, summary if isinstance(summary, dict) else None, summary_name, tables, problems)


def _absent(run: _Run, name: str, what: str) -> str:
    why = run.problems.get(name, f"This run folder has no {name}.parquet")
    return _note(f"{why}: {what}")


def _num(tbl: pa.Table, name: str) -> np.ndarray:
    return _to_numpy(pc.fill_null(pc.cast(tbl[name], pa.float64()), float("nan")), np.float64)


def _rows_for(tbl: pa.Table, col: str, ids: list[str]) -> pa.Table:
    """The rows of ``tbl`` whose ``col`` is one of ``ids`` (given as strings)."""
    values, typ = tbl[col], tbl[col].type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        mask = pc.is_in(values, value_set=pa.array(ids, typ))
    elif pa.types.is_integer(typ):
        mask = pc.is_in(values, value_set=pa.array([int(i) for i in ids if i.lstrip("-").isdigit()], typ))
    else:
        mask = pc.is_in(_str_ids(values), value_set=pa.array(ids, pa.large_string()))
    return tbl.filter(mask)


_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1d2733;margin:0;
background:#f4f6f8}
main{max-width:1280px;margin:0 auto;padding:18px 28px 40px}
h1{font-size:24px;margin:8px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #d0d7de;
padding-bottom:4px}.sub{color:#57606a;margin:0 0 12px}
section{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:4px 18px 14px;margin-top:16px}
.note{color:#57606a;font-size:13px;margin:8px 0}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px;max-width:100%}
th,td{border-bottom:1px solid #e5e9ee;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafbfc}table.kv td:first-child{color:#3b4652}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:8px 16px;min-width:120px;
font-size:12px;color:#57606a}.card .big{font-size:22px;color:#1d2733;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
figure{margin:0;border:1px solid #e5e9ee;border-radius:4px;padding:4px;background:#fff}
figure img{width:100%;max-width:620px;height:auto;display:block}
figcaption{font-size:12px;color:#3b4652;padding:2px 4px}
figure.empty{padding:12px;color:#8c959f}
"""
