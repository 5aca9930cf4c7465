"""The run report: one self-contained HTML page that a planner or buyer reads after a nightly run.

:func:`report` reads the files a run folder holds (``summary.json`` or ``run.json``,
``forecast.parquet``, ``policy.parquet``, ``quarantine.parquet`` and, when the run had supply
tables, ``orders.parquet``, ``alerts.parquet``, ``kpis.parquet``) and writes ``report.html``: the
run summary, forecast fan charts and projected stock curves for the top items by value, order,
KPI and alert summaries and the quarantine table.  Plots are PNG images drawn with matplotlib's
Agg renderer and embedded as ``data:`` URIs, the CSS is inline: the page opens offline, from a mail
attachment or a file share.  Each section says so in a sentence when its file is absent.

The module is named ``reporting`` so that ``stockopt.report`` (the function) does not shadow it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stockopt._params import Instance, Integer, PathLike, validate_params
from stockopt.errors import EmptyInputError, raise_error
from stockopt.reporting._charts import (
    _forecast_section,
    _model_columns,
    _stock_section,
    _top_items,
    project_stock,
)
from stockopt.reporting._html import _CSS, _absent, _e, _matplotlib, _note, _read_run
from stockopt.reporting._tables import (
    _alerts_section,
    _cards,
    _kpi_section,
    _orders_section,
    _quarantine_section,
    _summary_section,
)

__all__ = ["report", "project_stock"]


@validate_params({"run_dir": PathLike(), "out": [None, PathLike()], "top": Integer(0),
                  "target_col": Instance(str), "max_rows": Integer(1)})
def report(
    run_dir: str | Path,
    *,
    out: str | Path | None = None,
    top: int = 12,
    sales: Any = None,
    stock: Any = None,
    open_orders: Any = None,
    target_col: str = "y",
    max_rows: int = 50,
) -> Path:
    """Write a self-contained HTML report of a nightly run folder and return its path.

    Sections: the run summary (``summary.json``, else ``run.json``); the top ``top`` items by
    forecast value (forecast mean summed over the horizon x the policy's unit cost; by volume when
    the run has no costs) with a fan chart each (the first model's forecast and its
    ``-lo-L``/``-hi-L`` intervals, after the recent sales history when ``sales`` is given or the
    folder holds ``sales.parquet``); each top item's projected net stock against its reorder point
    and order-up-to level (:func:`project_stock`: from the stock, open orders and tonight's orders
    when the run has them, otherwise the policy's own cycle; the page says which); order, KPI and
    alert summaries; the quarantine.  A section whose file is absent says so in a sentence.  Every
    string written into the page is HTML-escaped; the charts are PNG data URIs and the CSS is
    inline, so the file opens with no network.  The same folder gives the same bytes.

    Parameters
    ----------
    run_dir : str or Path
        A folder written by a nightly run (:meth:`stockopt.PlanResult.write`, ``stockopt plan``,
        ``stockopt demo``).
    out : str or Path, optional
        File to write (default ``run_dir/report.html``).
    top : int
        Number of items charted (0: none).
    sales : Arrow-compatible table or Parquet path, optional
        The sales history, for the history drawn before each forecast (only the top items' rows
        are read from a Parquet path).
    stock, open_orders : Arrow-compatible table or Parquet path, optional
        Tonight's stock (``on_hand``, ``backorders``, ``reserved``; units) and the open orders
        (``arrival_date``, ``quantity``), keyed like the forecast; default: ``stock.parquet`` /
        ``open_orders.parquet`` in the folder when present.
    target_col : str
        Demand column of ``sales``.
    max_rows : int
        Most rows shown in each long table (quarantine, alerts, order lines, suppliers).

    Returns
    -------
    pathlib.Path
        The HTML file written.

    Raises
    ------
    stockopt.errors.EmptyInputError
        When ``run_dir`` is not a folder.
    ImportError
        When matplotlib (the ``plot`` extra) is not installed.

    Notes
    -----
    Fan charts follow Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed.,
    2021), sec. 5.5; the stock projection is the deterministic sawtooth of the policy under mean
    demand (Silver, Pyke & Thomas, *Inventory and Production Management in Supply Chains*, 4th ed.,
    2017, ch. 6-7).

    Examples
    --------
    >>> import tempfile
    >>> import stockopt as so
    >>> folder = tempfile.mkdtemp()
    >>> sales = so.datasets.synthetic_retail(4, 60, seed=1)
    >>> so.run_nightly(sales, h=14, models=["naive"]).write(folder)
    >>> path = so.report(folder, top=2, sales=sales)
    >>> path.name, "data:image/png;base64," in path.read_text()
    ('report.html', True)
    """
    Figure = _matplotlib()
    folder = Path(run_dir)
    if not folder.is_dir():
        raise_error(EmptyInputError, "no run folder", table="report",
                    expected="a folder written by a nightly run (forecast.parquet, policy.parquet, "
                    "quarantine.parquet, summary.json ...)", got=str(folder))
    target = Path(out) if out is not None else folder / "report.html"
    run = _read_run(folder)
    fc = run.tables["forecast"]
    model = _model_columns(fc)[0] if fc is not None and fc.num_columns > 2 else None
    if fc is None or model is None:
        why = _absent(run, "forecast", "no forecasts, so no top items to chart.") if fc is None else \
            _note("forecast.parquet has no model column: no top items to chart.")
        fc_html = stock_html = why
        top_ids: list[str] = []
    elif top == 0 or fc.num_rows == 0:
        fc_html = stock_html = _note("No items charted (top=0 or an empty forecast).")
        top_ids = []
    else:
        top_ids, top_rows, how = _top_items(run, top)
        fc_html, per = _forecast_section(run, Figure, top_ids, top_rows, how, sales, target_col)
        stock_html = _stock_section(run, Figure, top_ids, per, stock, open_orders)
    sections = [
        ("summary", "Run summary", _summary_section(run)),
        ("forecasts", "Forecasts of the top items", fc_html),
        ("stock", "Projected stock of the top items", stock_html),
        ("orders", "Orders", _orders_section(run, top_ids, max_rows)),
        ("kpis", "Projected KPIs", _kpi_section(run, max_rows)),
        ("alerts", "Alerts", _alerts_section(run, max_rows)),
        ("quarantine", "Quarantine", _quarantine_section(run, max_rows)),
    ]
    nav = " · ".join(f"<a href=\"#{k}\">{_e(t)}</a>" for k, t, _ in sections)
    from stockopt._version import __version__

    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>stockopt run report: {_e(folder.resolve().name)}</title><style>{_CSS}</style>"
            "</head><body><main>"
            f"<h1>stockopt run report</h1><p class=\"sub\">Run folder {_e(folder.resolve())} · stockopt "
            f"{_e(__version__)}</p>{_cards(run)}<p class=\"note\">{nav}</p>"
            + "".join(f"<section id=\"{k}\"><h2>{_e(t)}</h2>{body}</section>" for k, t, body in sections)
            + "</main></body></html>\n")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target
