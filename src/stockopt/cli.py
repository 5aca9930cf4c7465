"""The ``stockopt`` command line, for nightly batch jobs.

``stockopt demo --out DIR`` runs the whole nightly plan on the bundled synthetic data (and writes its
HTML report);
``stockopt forecast`` and ``stockopt plan`` run the stages on the user's Parquet files.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click

from stockopt._version import __version__
from stockopt.errors import StockoptError

logger = logging.getLogger("stockopt")


class _Group(click.Group):
    """The command group: a stockopt error (bad input, bad argument, unwritable output) ends the
    command with its message and exit code 1, not with a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StockoptError as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stockopt")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def main(verbose: int) -> None:
    """stockopt: forecast demand, size safety stock and propose orders for many item-locations."""
    _setup_logging(verbose)


def _write(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _echo_summary(summary: dict[str, Any], out: Path | None) -> None:
    width = max(len(k) for k in summary)
    for k, v in summary.items():
        if isinstance(v, dict):
            click.echo(f"  {k}")
            for k2, v2 in v.items():
                shown = ", ".join(f"{a}={b}" for a, b in v2.items()) if isinstance(v2, dict) else v2
                click.echo(f"    {k2:<{width - 2}}  {shown}")
        else:
            click.echo(f"  {k:<{width}}  {v}")
    if out is not None:
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))


def _kernels_cold() -> bool:
    """Whether numba's on-disk cache lacks the kernels the demo starts and ends with (reads two small
    index files; True when it cannot tell)."""
    try:
        from stockopt._kernels.forecast.classify import classify_demand
        from stockopt._kernels.inventory.project import project_items

        return any(not f._cache._cache_file._load_index() for f in (classify_demand, project_items))
    except Exception:  # numba internals moved: say it anyway
        return True


@main.command()
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo_out"),
              show_default=True, help="Folder for the inputs, Parquet outputs, summary.json and report.html.")
@click.option("--n-series", default=500, show_default=True, help="Item-locations to simulate.")
@click.option("--n-days", default=730, show_default=True, help="Days of sales history.")
@click.option("--horizon", default=28, show_default=True, help="Days to forecast.")
@click.option("--seed", default=0, show_default=True, help="Seed of the synthetic data.")
@click.option("--no-signals", is_flag=True, help="Skip the censored-demand and promotion figures.")
def demo(out: Path, n_series: int, n_days: int, horizon: int, seed: int, no_signals: bool) -> None:
    """Run the whole nightly plan on synthetic retail and supply data: forecasts, policies, orders,
    alerts, KPIs and the HTML report, all written into one folder; then the demand-signal figures."""
    from stockopt import datasets
    from stockopt._arrow import check_output_dir
    from stockopt.pipeline import run_nightly

    t0 = time.perf_counter()
    out = check_output_dir(out, parameter="--out", where="stockopt demo")
    sales = datasets.synthetic_retail(n_series, n_days, seed=seed)
    sup = datasets.synthetic_supply(sales, seed=seed, max_lead_time=max(1, horizon - 10))  # h covers them
    inputs = {"sales": sales, "stock": sup.stock, "open_orders": sup.open_orders}  # the report reads them
    for name, tbl in inputs.items():
        _write(tbl, out / f"{name}.parquet")
    click.echo(f"stockopt {__version__} demo: {n_series} item-locations x {n_days} days, "
               f"{sup.suppliers.num_rows} suppliers -> {out}/")
    if _kernels_cold():
        click.echo("note: first run, numba compiles the kernels once (about a minute, cached afterwards; "
                   "`stockopt warmup` does it at deploy time)")
    res = run_nightly(sales, sup.items, horizon, out=out, freq="D", stock=sup.stock,
                      suppliers=sup.suppliers, open_orders=sup.open_orders, as_of=sup.as_of)
    summary = res.summary
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    _echo_summary(summary, out)
    _echo_orders(summary)
    _echo_signals(summary)
    if not no_signals:  # issue 13: bias and accuracy against a known true demand (stockopt.signals._demo)
        from stockopt.signals._demo import signals_demo
        click.echo("\n".join(signals_demo(seed=seed).lines()))
    written = [f"{name}.parquet" for name in inputs]
    written += [f"{name}.parquet" for name in ("forecast", "policy", "quarantine", "orders", "alerts", "kpis")
                if getattr(res, name) is not None]
    written.append("summary.json")
    try:
        from stockopt.reporting._html import _matplotlib

        _matplotlib()
    except ImportError:
        note = "report: not written, matplotlib is not installed (pip install \"stockopt[plot]\", then " \
               f"stockopt report {out})"
    else:
        from stockopt.reporting import report

        t = time.perf_counter()
        page = report(out, top=6)  # charts cost about 0.5 s an item: `stockopt report --top` for more
        written.append(page.name)
        note = f"report: {page}  ({time.perf_counter() - t:.1f} s; open it in a browser)"
    click.echo(f"outputs in {out.resolve()}/: {', '.join(written)}")
    click.echo(note)


def _echo_signals(summary: dict[str, Any]) -> None:
    """Drivers, demand classes and data quality, one line each (when the run has them)."""
    drivers = summary.get("drivers")
    if isinstance(drivers, dict) and drivers:
        label = {"flag": "uplift x", "price": "elasticity "}
        click.echo("drivers: " + ", ".join(f"{k} {label.get(v.get('kind'), '')}{v.get('effect'):.3g}"
                                           for k, v in drivers.items()))
    classes = summary.get("demand_classes")
    if isinstance(classes, dict) and classes:
        life = {k: classes[k] for k in ("new", "dead") if k in classes}
        click.echo("demand classes: " + ", ".join(f"{v} {k}" for k, v in classes.items() if k not in life)
                   + (" (" + ", ".join(f"{v} {k}" for k, v in life.items()) + ")" if life else ""))
    quality = summary.get("data_quality")
    if isinstance(quality, dict):
        by = {"error": 0, "warning": 0, "info": 0}
        for v in quality.values():
            by[v.get("severity", "info")] = by.get(v.get("severity", "info"), 0) + 1
        checks = ", ".join(f"{k} ({v.get('severity')}, {v.get('series')} series)" for k, v in quality.items())
        click.echo(f"data quality: {by['error']} error, {by['warning']} warning, {by['info']} info checks"
                   + (f": {checks}" if checks else "") + " (details: stockopt check)")


def _echo_orders(summary: dict[str, Any]) -> None:
    """The replenishment stage in one line: order lines, money and projected fill rate."""
    if "order_lines" in summary:
        fill = summary["projected_fill_rate"]
        click.echo(f"orders: {summary['order_lines']} lines, {summary['order_value']:,.2f} in money; "
                   f"projected fill rate {'-' if fill is None else f'{100 * fill:.1f} %'}")


@main.command()
@click.argument("sales", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Parquet file to write the forecast table to.")
@click.option("--horizon", "horizon", type=int, required=True, help="Periods to forecast.")
@click.option("--freq", default=None, help="Frequency alias (D, W, W-MON, MS ...); inferred if omitted.")
@click.option("--model", "models", multiple=True, default=("auto",), show_default=True,
              help="Model name (repeatable), e.g. auto_ets, croston_sba, auto.")
@click.option("--level", "levels", multiple=True, type=float, help="Prediction-interval level in percent.")
@click.option("--quantile", "quantiles", multiple=True, type=float, help="Quantile in (0, 1).")
@click.option("--n-jobs", default=1, show_default=True, help="Threads.")
@click.option("--id-col", default="unique_id", show_default=True)
@click.option("--time-col", default="ds", show_default=True)
@click.option("--target-col", default="y", show_default=True)
@click.option("--allow-negative", is_flag=True,
              help="Accept returns booked as negative demand (net demand clipped at 0 before forecasting).")
@click.option("--x-future", "x_future", type=click.Path(exists=True, path_type=Path), default=None,
              help="File of drivers over the horizon (unique_id, ds, on_promotion, price ...; the same "
                   "columns in SALES): forecasts apply their pooled effects.")
@click.option("--censored", default=None,
              help="In-stock flag (False = stocked out) or on_hand column: forecast demand, not sales.")
def forecast(sales: Path, out: Path, horizon: int, freq: str | None, models: tuple[str, ...],
             levels: tuple[float, ...], quantiles: tuple[float, ...], n_jobs: int, id_col: str, time_col: str,
             target_col: str, allow_negative: bool, x_future: Path | None, censored: str | None) -> None:
    """Forecast every series of the SALES Parquet file (long format) and write the forecasts."""
    from stockopt._arrow import check_output_file
    from stockopt.forecasting import forecast as run_forecast

    check_output_file(out, parameter="--out", where="stockopt forecast")  # before any work
    fc = run_forecast(sales, h=horizon, freq=freq, models=list(models), level=list(levels) or None,
                      quantiles=list(quantiles) or None, n_jobs=n_jobs, id_col=id_col, time_col=time_col,
                      target_col=target_col, allow_negative=allow_negative, X_future=x_future,
                      censored=censored)
    _write(fc, out)
    click.echo(f"wrote {fc.num_rows} rows x {fc.num_columns} columns to {out}")


def _choices(rule: Any) -> list[str]:
    """The choices of an ``Options`` rule, for a ``click.Choice`` that cannot drift from the API."""
    return [str(c) for c in rule.choices]


def _plan_rules() -> tuple[Any, Any, Any]:
    from stockopt.data import SALES_PARAMS
    from stockopt.inventory.policy import POLICY_PARAMS
    from stockopt.nightly._config import PLAN_PARAMS

    return SALES_PARAMS, POLICY_PARAMS, PLAN_PARAMS


_SALES_RULES, _POLICY_RULES, _PLAN_RULES = _plan_rules()

#: ``stockopt plan``'s flags whose option name is not the flag's name with ``_`` for ``-``
PLAN_FLAG_NAMES = {"h": "--horizon", "models": "--model", "level": "--level", "out_dir": "--out",
                   "n_partitions": "--partitions"}
#: the plan's own options (``so.plan``), passed apart from run_nightly's
_PLAN_OWN = ("n_jobs", "n_partitions", "backend", "partition_by", "batch_rows", "keep_parts")
_TABLE_NAMES = ("items", "stock", "suppliers", "open_orders", "x_future")


@main.command()
@click.argument("sales", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="TOML file of plan options and input paths (docs/scale.md); flags given here win.")
@click.option("--items", type=click.Path(exists=True, path_type=Path), default=None,
              help="File of item parameters (lead_time, service_level ...); defaults apply if omitted.")
@click.option("--stock", type=click.Path(exists=True, path_type=Path), default=None,
              help="File of stock (on_hand ...); with --suppliers, adds orders, alerts and KPIs.")
@click.option("--suppliers", type=click.Path(exists=True, path_type=Path), default=None,
              help="File of suppliers (supplier_id, lead_time, order_days ...).")
@click.option("--open-orders", type=click.Path(exists=True, path_type=Path), default=None,
              help="File of open orders (arrival_date, quantity).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the outputs and run.json (or out_dir in the config).")
@click.option("--horizon", "h", type=int, default=None,
              help="Periods to forecast [default: derived from the items' lead time + review period; a "
              "shorter one is extended to that].")
@click.option("--freq", default=None, help="Frequency alias; inferred if omitted.")
@click.option("--model", "models", multiple=True, help="Model name (repeatable) [default: auto].")
@click.option("--level", "level", multiple=True, type=float,
              help="Prediction-interval level in percent (repeatable) [default: 80 and 95].")
@click.option("--id-col", default=None, help="Series id column [default: unique_id].")
@click.option("--time-col", default=None, help="Time column of the sales [default: ds].")
@click.option("--target-col", default=None, help="Demand column of the sales [default: y].")
@click.option("--missing", type=click.Choice(_choices(_SALES_RULES["missing"])), default=None,
              help="Null demand: quarantine the series (error), or fill it [default: error].")
@click.option("--fill-gaps", type=click.Choice(_choices(_SALES_RULES["fill_gaps"])), default=None,
              help="Missing periods inside a series [default: zero].")
@click.option("--allow-negative/--no-allow-negative", "allow_negative", default=None,
              help="Accept returns booked as negative demand (net demand clipped at 0 before forecasting); "
              "without it, series with negative demand are quarantined.")
@click.option("--continuous-review", type=click.Choice(["daily", "keep"]), default=None,
              help="Size items with review_period 0 for a daily review, or keep continuous review.")
@click.option("--as-of", default=None,
              help="Day orders are planned from (ISO date; default: the first forecast day).")
@click.option("--censored", default=None,
              help="In-stock flag (False = stocked out) or on_hand column: forecast demand, not sales.")
@click.option("--policy", type=click.Choice(_choices(_POLICY_RULES["policy"])), default=None,
              help="Inventory policy of every item [default: auto].")
@click.option("--service-level", type=float, default=None,
              help="Service level of items without one (no items file, column or value) [default: 0.95].")
@click.option("--lead-time", type=float, default=None,
              help="Lead time (days) of items without one [default: 7 without an items file; with one, a "
              "null lead time quarantines its item].")
@click.option("--review-period", type=float, default=None,
              help="Review period (days) of items without one [default: 1].")
@click.option("--max-horizon-days", type=float, default=None,
              help="Longest lead time + review period (days) an item may ask the forecast to cover; longer "
              "items rows are quarantined [default: 365].")
@click.option("--gap-limit", type=float, default=None,
              help="Relative optimality gap of each supplier's order at which the solver stops "
              "[default: 0.01].")
@click.option("--work-limit", type=float, default=None,
              help="Solver's deterministic work limit per supplier (seconds of its clock) [default: 10].")
@click.option("--n-jobs", default=None, type=int, help="Partitions planned at once [default: 1].")
@click.option("--partitions", "n_partitions", default=None, type=int,
              help="Partitions of series [default: one per 2 million input rows].")
@click.option("--backend", type=click.Choice(_choices(_PLAN_RULES["backend"])), default=None,
              help="Where parallel partitions run [default: processes].")
@click.option("--partition-by", default=None,
              help="Items column keeping its items in one partition [default: supplier_id with suppliers].")
@click.option("--batch-rows", default=None, type=int, help="Rows read per batch while partitioning.")
@click.option("--keep-parts/--no-keep-parts", "keep_parts", default=None,
              help="Keep out/.parts after a complete run.")
@click.option("--x-future", "x_future", type=click.Path(exists=True, path_type=Path), default=None,
              help="File of drivers over the horizon (unique_id, ds, on_promotion, price ...; the same "
                   "columns in SALES): forecasts, policies and orders apply their pooled effects.")
@click.option("--quality/--no-quality", "quality", default=None,
              help="Count the data-quality findings (stockopt check's) in the summary [default: on].")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary (for schedulers).")
@click.option("--debug", is_flag=True, help="Print the traceback of an error.")
def plan(sales: Path | None, config: Path | None, quiet: bool, debug: bool, **flags: Any) -> None:
    """Run the nightly plan on SALES (and ITEMS): forecasts, policies, orders, quarantine and run.json.

    Every option of the config file is also a flag (a flag given here wins).  Streams the input in
    partitions of whole series, writes every output atomically and resumes a run that was stopped.
    Exit codes: 0 all planned, 3 some series or items quarantined, 4 nothing planned, 1 error (one
    line; --debug for the traceback), 2 bad command line.
    """
    from stockopt.nightly._cli import run_plan_command

    tables, plan_opts, options = plan_arguments(sales, config, flags)
    code, summary = run_plan_command(tables, plan_opts, options, quiet=quiet, debug=debug, echo=click.echo)
    if summary is not None and not quiet:
        _echo_summary(summary, None)
        _echo_orders(summary)
        _echo_signals(summary)
    sys.exit(code)


def plan_arguments(sales: Path | None, config: Path | None,
                   flags: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``stockopt plan``'s flags as the tables, plan options and run_nightly options of ``so.plan``
    (flags not given are left out, so that the config's or the defaults apply)."""
    given = {k: (list(v) if isinstance(v, tuple) else v) for k, v in flags.items()
             if v is not None and v != ()}
    tables = {"sales": sales, **{k: given.pop(k, None) for k in _TABLE_NAMES}}
    plan_opts: dict[str, Any] = {"config": config}
    for k in ("out_dir", *_PLAN_OWN):
        if k in given:
            plan_opts[k] = given.pop(k)
    return tables, plan_opts, given


@main.command()
@click.option("--model", "models", multiple=True, help="Only these models (repeatable); default every model.")
def warmup(models: tuple[str, ...]) -> None:
    """Compile every kernel once and store it in numba's on-disk cache (run at deploy time).

    Later processes then load the compiled kernels instead of compiling them on first use
    (NUMBA_CACHE_DIR chooses where the cache lives).
    """
    import warnings

    from stockopt import datasets
    from stockopt.forecasting import forecast as run_forecast
    from stockopt.models import MODEL_NAMES

    sales = datasets.synthetic_retail(8, 60, seed=0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in models or MODEL_NAMES:
            t = time.perf_counter()
            run_forecast(sales, h=7, models=[name], level=[80], quantiles=[0.9])
            click.echo(f"  {name:<26} {time.perf_counter() - t:6.2f} s")
    click.echo(f"compiled and cached every model in {time.perf_counter() - t0:.1f} s")


@main.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write [default: RUN_DIR/report.html].")
@click.option("--top", default=12, show_default=True, type=click.IntRange(min=0), help="Items charted.")
@click.option("--sales", type=click.Path(exists=True, path_type=Path), default=None,
              help="Sales Parquet, for the history before each forecast [default: RUN_DIR/sales.parquet].")
def report_cmd(run_dir: Path, out: Path | None, top: int, sales: Path | None) -> None:
    """Write a self-contained HTML report of the run folder RUN_DIR and print its path."""
    from stockopt.reporting import report

    click.echo(str(report(run_dir, out=out, top=top, sales=sales)))


@main.command()
@click.argument("sales", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Parquet file for the findings (one row per series and problem); the summary goes beside "
                   "it as <out>.summary.parquet.")
@click.option("--items", type=click.Path(exists=True, path_type=Path), default=None,
              help="Items Parquet file.")
@click.option("--stock", type=click.Path(exists=True, path_type=Path), default=None,
              help="Stock Parquet file.")
@click.option("--freq", default=None, help="Frequency alias; inferred if omitted.")
@click.option("--outlier-z", default=10.0, show_default=True, help="Robust z-score above which a quantity is "
              "an outlier.")
@click.option("--clean", "clean", multiple=True, type=click.Choice(["outliers", "gaps"]),
              help="Also write a cleaned sales table (repeatable); needs --cleaned-out.")
@click.option("--cleaned-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Parquet file for the cleaned sales; the list of changes goes beside it as "
                   "<cleaned-out>.changes.parquet.")
@click.option("--fail-on-error", is_flag=True, help="Exit with status 2 when a finding has severity 'error'.")
@click.option("--id-col", default="unique_id", show_default=True, help="Id column of sales, items and stock.")
@click.option("--time-col", default="ds", show_default=True)
@click.option("--target-col", default="y", show_default=True)
def check(sales: Path, out: Path, items: Path | None, stock: Path | None, freq: str | None, outlier_z: float,
          clean: tuple[str, ...], cleaned_out: Path | None, fail_on_error: bool, id_col: str, time_col: str,
          target_col: str) -> None:
    """Check the SALES Parquet file (and items, stock) and write a data-quality report."""
    from stockopt.signals import check_data

    if clean and cleaned_out is None:
        raise click.UsageError("--clean needs --cleaned-out")
    rep = check_data(sales, items=items, stock=stock, freq=freq, outlier_z=outlier_z,
                     clean=list(clean) or None, id_col=id_col, time_col=time_col, target_col=target_col)
    _write(rep.findings, out)
    _write(rep.summary, out.with_name(out.stem + ".summary.parquet"))
    click.echo(repr(rep))
    if clean:
        _write(rep.cleaned, cleaned_out)
        _write(rep.changes, cleaned_out.with_name(cleaned_out.stem + ".changes.parquet"))
        click.echo(f"wrote {rep.cleaned.num_rows} cleaned rows ({rep.changes.num_rows} changes) to "
                   f"{cleaned_out}")
    if fail_on_error and not rep.ok:
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
