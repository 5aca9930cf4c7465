"""The nightly plan at scale: whole series cut into partitions, each planned by :func:`run_nightly`.

:func:`plan_partition` is the pure per-partition function (tables in, :class:`PlanResult` out);
:func:`plan` streams the inputs into partitions on disk, runs the partitions through an executor
(processes, threads, or a cluster: :mod:`stockopt.dask`), and assembles one result in a canonical
order.  Every stage of ``run_nightly`` works series by series (items by item), so the concatenated
partitions equal ``run_nightly`` on the whole input; the few whole-input facts are fixed once for
all partitions: the frequency is inferred from every period stamp of the input before any
partition runs, and quarantine rows give their row in the whole input.  Steps that couple items
(a supplier's order minimums, trucks and budget) need every item of a group in one partition:
``partition_by="supplier_id"`` places each item with its supplier (its id in the items table).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy
from stockopt._horizon import (
    DEFAULT_SERVICE_LEVEL,
    MAX_HORIZON_DAYS,
    Horizon,
    derive_horizon,
    fill_item_defaults,
    fixed_horizon,
)
from stockopt._params import validate_params
from stockopt._version import __version__
from stockopt.errors import EmptyInputError, ParameterError, raise_error
from stockopt.nightly._config import PER_ID_TABLES, PLAN_PARAMS, TABLES, load_config, resolve
from stockopt.nightly._output import (
    atomic_write_json,
    atomic_write_parquet,
    clear_parts,
    folder_lock,
    publish,
    run_id,
)
from stockopt.nightly._partition import (
    DEFAULT_BATCH_ROWS,
    ROW_COL,
    KeyMap,
    RowGroups,
    parquet_pieces,
    read_partition,
    read_whole,
    spill,
    split_table,
)
from stockopt.pipeline import WHOLE_INPUT, PlanResult, _reason_counts, quarantine, run_nightly

__all__ = ["plan", "plan_partition", "plan_horizon", "PartTask"]

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- one partition
def plan_partition(tables: Mapping[str, pa.Table | None], config: Mapping[str, Any], *,
                   horizon: Mapping[str, Any] | None = None) -> PlanResult:
    """Plan one partition of whole series: :func:`stockopt.run_nightly` on its tables.

    Parameters
    ----------
    tables : dict of str to pyarrow.Table
        ``sales`` and, when given, ``items``, ``stock``, ``open_orders`` (the partition's rows) and
        ``suppliers`` (whole).  A table may carry the column ``__stockopt_row`` (the row's position
        in the whole input, added by the partitioning); the quarantine's ``first_row`` then names
        that row, so that reports read the same as for the whole input.
    config : dict
        Options of :func:`stockopt.run_nightly` (``h``, ``models``, ``freq``, ``id_col``, ``n_jobs``
        ...), and ``_whole``: facts of the whole input fixed by :func:`plan` (the pooled driver
        ``driver_effects``, the ``last_date`` of the sales), so that a partition plans its series
        as a run on the whole input would.
    horizon : dict, optional
        The whole run's horizon (:func:`plan_horizon`): every partition forecasts it, whatever
        items it holds.  Without it the partition derives its own from its tables, which may be
        shorter than another partition's.

    Returns
    -------
    PlanResult
        The partition's tables (each sorted by id, then time) and summary.  A partition whose every
        series is quarantined gives empty tables and its quarantine report.

    Examples
    --------
    >>> import stockopt as so
    >>> sales = so.datasets.synthetic_retail(4, 60, seed=1)
    >>> part = plan_partition({"sales": sales}, {"h": 14, "models": ["naive"], "freq": "D"})
    >>> part.forecast.num_rows, part.policy.num_rows
    (56, 4)
    """
    rows: dict[str, np.ndarray] = {}
    given: dict[str, Any] = {}
    for name, tbl in tables.items():
        if tbl is None:
            continue
        if ROW_COL in tbl.column_names:
            rows[name] = _to_numpy(tbl.column(ROW_COL), np.int64)
            tbl = tbl.drop_columns([ROW_COL])
        given[name] = tbl
    if "x_future" in given:  # the table run_nightly takes as X_future, reported under that name
        given["X_future"] = given.pop("x_future")
        if "x_future" in rows:
            rows["X_future"] = rows.pop("x_future")
    config = dict(config)
    whole = config.pop("_whole", None) or {}
    sales = given.pop("sales")
    items = given.pop("items", None)
    id_col = config.get("id_col", "unique_id")
    time_col = config.get("time_col", "ds")
    token = WHOLE_INPUT.set(whole)
    try:
        with fixed_horizon(dict(horizon) if horizon is not None else None):
            res = run_nightly(sales, items, **given, **config)
    except EmptyInputError as exc:
        if "every series was quarantined" not in str(exc):
            raise
        report = getattr(exc, "quarantine", None)
        if report is None:
            qopts = {k: config[k] for k in ("freq", "id_col", "time_col", "target_col", "missing",
                                            "fill_gaps", "allow_negative", "censored") if k in config}
            _, report = quarantine(sales, **qopts)
            report = report.append_column("table", pa.array(["sales"] * report.num_rows, pa.string()))
        res = PlanResult(forecast=pa.table({}), policy=pa.table({}), quarantine=report,
                         summary={"series": report.num_rows, "series_forecast": 0,
                                  "series_quarantined": report.num_rows})
    finally:
        WHOLE_INPUT.reset(token)
    changes: dict[str, Any] = {}
    for f in _table_fields(res):
        tbl = getattr(res, f)
        if f == "quarantine":
            tbl = _global_rows(tbl, rows)
        changes[f] = _canonical(tbl, id_col, time_col)
    return dataclasses.replace(res, **changes)


def _table_fields(res: PlanResult) -> list[str]:
    return [f.name for f in dataclasses.fields(res) if isinstance(getattr(res, f.name), pa.Table)]


def _global_rows(report: pa.Table, rows: Mapping[str, np.ndarray]) -> pa.Table:
    """Quarantine ``first_row`` mapped from the partition's rows to the whole input's."""
    if not report.num_rows or "first_row" not in report.column_names or not rows:
        return report
    first = _to_numpy(pc.fill_null(report["first_row"], -1), np.int64).copy()
    which = report["table"].to_pylist() if "table" in report.column_names else ["sales"] * report.num_rows
    for name, map_rows in rows.items():
        hit = np.flatnonzero((np.asarray(which, dtype=object) == name) & (first >= 0))
        if hit.size:
            first[hit] = map_rows[first[hit]]
    col = pa.array(first, pa.int64(), mask=_to_numpy(pc.is_null(report["first_row"]), np.bool_))
    return report.set_column(report.column_names.index("first_row"), "first_row", col)


def _canonical(tbl: pa.Table, id_col: str, time_col: str) -> pa.Table:
    """Rows sorted by (table), id, then time (or step): the order of every table a plan writes."""
    if tbl.num_rows <= 1 or id_col not in tbl.column_names:
        return tbl
    keys = [(c, "ascending") for c in ("table", id_col) if c in tbl.column_names]
    keys += [(c, "ascending") for c in (time_col, "step", "order_date", "kind", "first_row", "reason")
             if c in tbl.column_names and c != id_col]
    try:  # pyarrow >= 25 takes the null placement per key (the table-wide option is deprecated)
        idx = pc.sort_indices(tbl, sort_keys=[(c, o, "at_start") for c, o in keys])
    except (TypeError, ValueError):  # older pyarrow: one placement for every key
        idx = pc.sort_indices(tbl, sort_keys=keys, null_placement="at_start")
    return tbl.take(idx)


def plan_horizon(tables: Mapping[str, pa.Table | None], config: Mapping[str, Any], *,
                 last_day: int | None) -> Horizon:
    """The horizon of a partitioned run, derived once from the whole items and suppliers tables.

    Parameters
    ----------
    tables : dict of str to pyarrow.Table
        ``items`` and, with a replenishment stage, ``stock`` and ``suppliers`` (whole; the sales
        are not read).
    config : dict
        Options of :func:`stockopt.run_nightly`; ``freq`` is required (a partition cannot infer it
        alone).
    last_day : int or None
        The latest sales stamp of the whole input (days since 1970-01-01), which fixes the first
        forecast day the order stage counts from when ``as_of`` is given.

    Returns
    -------
    stockopt._horizon.Horizon
        ``h``, ``requested``, ``needed``, ``limit_days`` and ``reason``; pass
        ``dataclasses.asdict`` of it to :func:`plan_partition` as ``horizon``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> items = pa.table({"unique_id": ["a", "b"], "lead_time": [3.0, 40.0]})
    >>> hz = plan_horizon({"items": items}, {"h": 28, "freq": "D"}, last_day=None)
    >>> hz.h, hz.requested, hz.reason
    (41, 28, "item 'b': lead time 40 + review period 1 days")
    """
    from stockopt.frequency import parse_freq

    freq = config.get("freq")
    if freq is None:
        raise_error(ParameterError, "bad argument", table="plan", parameter="freq",
                    expected="a frequency: the horizon is derived before any partition is read", got=None)
    items = tables.get("items")
    lead_time = config.get("lead_time")
    review_period = float(config.get("review_period", 1.0))
    if items is not None:
        items = fill_item_defaults(items, lead_time=lead_time, review_period=review_period,
                                   service_level=config.get("service_level", DEFAULT_SERVICE_LEVEL))
    supply = tables.get("stock") is not None and tables.get("suppliers") is not None
    return derive_horizon(items, tables.get("suppliers") if supply else None,
                          freq=parse_freq(freq) if isinstance(freq, str) else freq, last_day=last_day,
                          as_of=config.get("as_of"), h=config.get("h"),
                          id_col=config.get("id_col", "unique_id"), lead_time=lead_time,
                          review_period=review_period,
                          max_horizon_days=config.get("max_horizon_days", MAX_HORIZON_DAYS))


# ---------------------------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class PartTask:
    """One partition to plan: where its input tables are, where its outputs go, and the run options.

    Self-contained and picklable, so that any executor (threads, processes, a Dask worker sharing the
    file system) can run it with :func:`run_part`.
    """

    index: int
    inputs: Mapping[str, Sequence[str]]
    out: str
    config: Mapping[str, Any]
    horizon: Mapping[str, Any] | None = None


def run_part(task: PartTask) -> dict[str, Any]:
    """Plan one partition from its files and write its outputs atomically; returns its summary.

    Outputs go to ``task.out/<table>.parquet`` (through temporary names) and ``_done.json`` last.
    """
    out = Path(task.out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {name: read_partition(list(paths), None) for name, paths in task.inputs.items()}
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = plan_partition(tables, task.config, horizon=task.horizon)
    written = []
    for f in _table_fields(res):
        tbl = getattr(res, f)
        if tbl.num_columns:
            atomic_write_parquet(tbl, out / f"{f}.parquet")
            written.append(f)
    summary = dict(res.summary)
    summary["seconds"] = round(time.perf_counter() - t, 3)
    done = {"index": task.index, "tables": written, "summary": summary}
    atomic_write_json(done, out / "_done.json")
    return done


def _read_done(out: Path) -> dict[str, Any] | None:
    p = out / "_done.json"
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):  # pragma: no cover - a torn marker cannot happen (renamed into place)
        return None


# ---------------------------------------------------------------------------------------------- summaries
#: summary entries that are facts of the whole run (the same in every partition), never added up
_FACTS = frozenset({"horizon", "horizon_requested", "horizon_needed", "horizon_reason", "frequency", "as_of",
                    "h", "level", "models_requested", "drivers"})
#: summary entries that are a maximum over items (the worst partition's is the run's)
_MAXIMA = frozenset({"solver_max_gap"})


def merge_summaries(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One summary from the partitions': counts added, nested counts merged, equal facts kept.

    Keys of nested counts become strings (as in JSON); ``horizon`` and ``frequency`` are kept, not
    added.

    Examples
    --------
    >>> merge_summaries([{"series": 2, "frequency": "D", "models": {"A": {"selected": {"x": 1}}}},
    ...                  {"series": 3, "frequency": "D", "models": {"A": {"selected": {"x": 2, "y": 1}}}}])
    {'series': 5, 'frequency': 'D', 'models': {'A': {'selected': {'x': 3, 'y': 1}}}}
    """
    out: dict[str, Any] = {}
    for s in parts:
        for k, v in s.items():
            v = json.loads(json.dumps(v, default=str)) if isinstance(v, dict) else v
            if k not in out:
                out[k] = v
            elif k in _MAXIMA:
                out[k] = max(x for x in (out[k], v) if x is not None) if (out[k], v) != (None, None) else None
            elif k in _FACTS:
                out[k] = out[k] if out[k] == v or v is None else max(out[k], v) if out[k] is not None else v
            else:
                out[k] = _merge_value(out[k], v)
    return out


def _merge_value(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        res = dict(a)
        for k, v in b.items():
            res[k] = _merge_value(res[k], v) if k in res else v
        return res
    if isinstance(a, bool) or isinstance(b, bool):
        return a if a == b else [a, b]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a + b
    if a is None:
        return b
    return a if a == b or b is None else a


# ---------------------------------------------------------------------------------------------- the plan
_INPUT_DOC = "a Parquet file or dataset directory, a CSV or Arrow IPC file, or an in-memory table"


@validate_params(PLAN_PARAMS)
def plan(
    sales: Any = None,
    items: Any = None,
    stock: Any = None,
    suppliers: Any = None,
    open_orders: Any = None,
    *,
    X_future: Any = None,
    config: str | os.PathLike | Mapping[str, Any] | None = None,
    out_dir: str | os.PathLike | None = None,
    n_partitions: int | None = None,
    n_jobs: int = 1,
    backend: str = "processes",
    partition_by: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    keep_parts: bool = False,
    **options: Any,
) -> PlanResult:
    """The nightly plan for any number of series: streamed, partitioned, parallel, atomic and resumable.

    The sales are read in batches of ``batch_rows`` and each row is appended to the partition of its
    series (a stable FNV-1a hash of the id, :mod:`stockopt.nightly._partition`), so memory is bounded
    by one batch while reading and by one partition (per worker) while planning.  Each partition is
    planned by :func:`stockopt.run_nightly` (through :func:`plan_partition`); the result is the
    concatenation of the partitions' tables sorted by id then time, identical to ``run_nightly`` on
    the whole input (the frequency, when not given, is inferred once from the whole input).

    Parameters
    ----------
    sales : path or Arrow-compatible table
        Long demand history ``unique_id, ds, y``: {input}.  May instead be named in ``config``.
    items, stock, open_orders : path or table, optional
        Per-item tables (keyed by ``id_col``), cut into the same partitions.
    suppliers : path or table, optional
        Per-supplier table, given whole to every partition.
    X_future : path or table, optional
        Drivers over the horizon (``unique_id, ds, <driver> ...``; config key ``x_future``), cut into
        the partitions like the items; see :func:`stockopt.run_nightly`.  The drivers' pooled effects
        are fitted once on the whole input before the partitions (this reads the whole sales into
        memory once) and applied in every partition, so the result is the same for any partitioning.
    config : dict or path of a TOML file, optional
        Any argument of this function and any option of :func:`stockopt.run_nightly` (``h``,
        ``models``, ``level``, ``freq``, ``id_col``, ``as_of`` ...); arguments passed here win.  An
        unknown key raises :class:`~stockopt.errors.ParameterError` naming it.
    out_dir : path, optional
        Folder of the outputs: ``forecast.parquet``, ``policy.parquet``, ``quarantine.parquet`` (and
        ``orders``, ``alerts``, ``kpis`` when planned), then ``run.json`` (inputs and row counts,
        rows rejected and why, models chosen, seconds per stage, versions, the config).  Written
        atomically; a re-run over the same inputs and options resumes from the partitions already
        done (kept in ``out_dir/.parts`` until the run completes).  Without it, a temporary folder
        holds the partitions and only the returned tables remain.
    n_partitions : int, optional
        Partitions of series (default: about one per 2 million input rows, at least ``n_jobs``; a
        partition of ``r`` rows needs about ``r`` x 100 bytes of memory while it is planned).
    n_jobs : int
        Partitions planned at once.
    backend : {{"processes", "threads"}}
        Where parallel partitions run: worker processes (default; each plans one partition on one
        core) or threads of this process.
    partition_by : str, optional
        A column of ``items`` (e.g. ``"supplier_id"``) whose value decides an item's partition, so
        that items planned together (one supplier's order) stay together.  Default: ``"supplier_id"``
        when ``suppliers`` is given and the items have that column, else the series id.
    batch_rows : int
        Rows read per batch while partitioning.
    keep_parts : bool
        Keep ``out_dir/.parts`` after a complete run.
    **options
        Options of :func:`stockopt.run_nightly`.

    Returns
    -------
    PlanResult
        The tables of every partition, concatenated and sorted by id then time, and the merged
        ``summary`` (counts added over partitions, plus ``partitions`` and ``run_id``).

    Notes
    -----
    The run id is a digest of the inputs (a file's path, size and modification time; an in-memory
    table's bytes), the options, ``n_partitions`` and the stockopt version.

    Examples
    --------
    >>> import stockopt as so
    >>> sales = so.datasets.synthetic_retail(6, 60, seed=1)
    >>> res = so.plan(sales, h=14, models=["naive"], n_partitions=3)
    >>> res.forecast.num_rows, res.summary["series_forecast"], res.summary["partitions"]
    (84, 6, 3)
    """
    return _plan(dict(sales=sales, items=items, stock=stock, suppliers=suppliers, open_orders=open_orders,
                      x_future=X_future),
                 dict(config=config, out_dir=out_dir, n_partitions=n_partitions, n_jobs=n_jobs,
                      backend=backend, partition_by=partition_by, batch_rows=batch_rows,
                      keep_parts=keep_parts),
                 options, executor=None)


if plan.__doc__:
    plan.__doc__ = plan.__doc__.replace("{input}", _INPUT_DOC).replace("{{", "{").replace("}}", "}")

_PLAN_DEFAULTS = {"out_dir": None, "n_partitions": None, "n_jobs": 1, "backend": "processes",
                  "partition_by": None, "batch_rows": DEFAULT_BATCH_ROWS, "keep_parts": False}


def _plan(tables_in: dict[str, Any], plan_in: dict[str, Any], options: dict[str, Any], *,
          executor: Any, progress: Callable[[int, int], None] | None = None) -> PlanResult:
    t_start = time.perf_counter()
    cfg, base = load_config(plan_in.pop("config"))
    explicit = {k: v for k, v in plan_in.items() if v != _PLAN_DEFAULTS.get(k, object())}
    explicit.update(options)
    explicit.update({k: v for k, v in tables_in.items() if v is not None})
    tables, popts, run = resolve(cfg, explicit, base)
    popts = {**_PLAN_DEFAULTS, **popts}
    if tables.get("sales") is None:
        raise_error(EmptyInputError, "no sales table", table="plan", parameter="sales",
                    expected=f"the sales: {_INPUT_DOC}, as an argument or in the config")
    id_col = run.get("id_col", "unique_id")
    time_col = run.get("time_col", "ds")
    n_jobs = int(popts["n_jobs"])
    timings: dict[str, float] = {}

    # small per-id tables are read whole (one row per item); the key map may route ids through them
    t = time.perf_counter()
    small = {name: read_whole(tables[name], table=name) for name in TABLES[1:]
             if tables.get(name) is not None}
    n_parts = popts["n_partitions"] or _default_partitions(tables["sales"], n_jobs)
    if popts["partition_by"] is None and "suppliers" in small and "items" in small \
            and "supplier_id" in small["items"].column_names:
        popts["partition_by"] = "supplier_id"  # one supplier's order (minimums, trucks) needs all its items
    key = KeyMap(n_parts, small.get("items"), id_col, popts["partition_by"])
    settings = {"run": run, "n_partitions": n_parts, "partition_by": popts["partition_by"],
                "version": __version__}
    rid = run_id(tables, settings)

    out_dir = Path(popts["out_dir"]) if popts["out_dir"] is not None else None
    tmp_root = None
    lock = contextlib.ExitStack()
    if out_dir is None:
        tmp_root = tempfile.mkdtemp(prefix="stockopt-plan-")
        work = Path(tmp_root) / rid
    else:
        _check_out_dir(out_dir)
        lock.enter_context(folder_lock(out_dir))  # one run per folder, until its outputs are published
        work = out_dir / ".parts" / rid
        clear_parts(out_dir, keep=rid)  # parts of other (older) runs can never be resumed
    try:
        ex = executor if executor is not None else _executor(popts["backend"], n_jobs, n_jobs)
        spilled = _spill_inputs(tables["sales"], small, work / "input", key, id_col, time_col, n_parts,
                                popts["batch_rows"], ex)
        timings["partition"] = time.perf_counter() - t
        if run.get("freq") is None and spilled["days"]:
            from stockopt.frequency import infer_freq

            run["freq"] = infer_freq(np.asarray(spilled["days"], dtype=np.int64)).alias
        hz = None  # without a frequency (no dated row) the partitions derive their own
        if run.get("freq") is not None:
            hz = plan_horizon(small, run, last_day=max(spilled["days"]) if spilled["days"] else None)
        part_cfg = dict(run)
        t = time.perf_counter()
        whole_run = dict(run, h=hz.h) if hz is not None else run  # the drivers cover the derived horizon
        part_cfg["_whole"], unknown = _whole_input(tables["sales"], small, spilled, whole_run, time_col)
        if unknown is not None:
            timings["drivers"] = time.perf_counter() - t
        inner_jobs = max(1, n_jobs // max(1, sum(1 for r in spilled["rows"] if r)))
        part_cfg["n_jobs"] = inner_jobs
        tasks, done = [], {}
        for p in range(n_parts):
            if not spilled["rows"][p]:
                continue
            out = work / f"part-{p:05d}"
            marker = _read_done(out)
            if marker is not None:
                done[p] = marker
                continue
            inputs = {name: [str(work / "input" / name / f"part-{p:05d}.arrow")]
                      for name in spilled["tables"]}
            inputs["sales"] = [str(work / "input" / "sales" / f) for f in spilled["sales_files"][p]]
            inputs.update({name: [str(work / "input" / f"{name}.arrow")] for name in spilled["whole"]})
            tasks.append(PartTask(p, inputs, str(out), part_cfg,
                                  dataclasses.asdict(hz) if hz is not None else None))
        logger.info("plan %s: %d partitions, %d to plan (%d already done)", rid, len(tasks) + len(done),
                    len(tasks), len(done))
        t = time.perf_counter()
        if executor is None:
            ex = _executor(popts["backend"], n_jobs, len(tasks))
        total = len(tasks) + len(done)
        watch = _Watch(work, total, progress) if progress is not None and tasks else None
        try:
            for marker in ex.map(run_part, tasks):
                done[marker["index"]] = marker
        finally:
            if watch is not None:
                watch.stop()
        timings["plan_partitions"] = time.perf_counter() - t

        t = time.perf_counter()
        result = _assemble(work, done, id_col, time_col)
        if unknown is not None:
            result = _add_unknown(result, unknown, id_col, time_col)
        timings["assemble"] = time.perf_counter() - t
        summary = result.summary
        summary.update(hz.summary() if hz is not None else {})
        summary["partitions"] = n_parts
        summary["run_id"] = rid
        summary["resumed_partitions"] = len(done) - len(tasks)
        if not summary.get("series_forecast"):
            if out_dir is not None and result.quarantine.num_rows:
                atomic_write_parquet(result.quarantine, out_dir / "quarantine.parquet",
                                     {"stockopt.run_id": rid})
            where = f" {out_dir / 'quarantine.parquet'}" if out_dir is not None else ""
            raise_error(EmptyInputError, "every series was quarantined", table="sales",
                        expected=f"at least one series without a problem (see the quarantine report{where})",
                        got=_reason_counts(result.quarantine) if result.quarantine.num_rows else None)
        timings["total"] = time.perf_counter() - t_start
        summary["seconds_by_step"] = {k: round(v, 3) for k, v in timings.items()}
        if out_dir is not None:
            tables_out = {f: getattr(result, f) for f in _table_fields(result)
                          if getattr(result, f).num_columns}
            run_json = _run_json(rid, tables, spilled, summary, cfg, run, popts, result, tables_out)
            publish(out_dir, tables_out, run_json, rid)
            if not popts["keep_parts"]:
                clear_parts(out_dir, keep=None)
        return result
    finally:
        lock.close()
        if tmp_root is not None:
            shutil.rmtree(tmp_root, ignore_errors=True)


def _whole_input(sales: Any, small: Mapping[str, pa.Table], spilled: Mapping[str, Any],
                 run: Mapping[str, Any], time_col: str) -> tuple[dict[str, Any], pa.Table | None]:
    """The facts every partition shares (see :func:`plan_partition`), and with drivers the ``X_future``
    rows of ids the sales lack (a partition without sales rows would never report them)."""
    whole: dict[str, Any] = {}
    if spilled["days"]:
        whole["last_date"] = str(np.datetime64(int(max(spilled["days"])), "D"))
    unknown = None
    if "x_future" in small:
        from stockopt.nightly._partition import read_whole
        from stockopt.signals.nightly import whole_input_drivers

        whole["driver_effects"], unknown = whole_input_drivers(read_whole(sales, table="sales"),
                                                               small["x_future"], dict(run))
        unknown = unknown.append_column("table", pa.array(["X_future"] * unknown.num_rows, pa.string()))
    return whole, unknown


def _add_unknown(result: PlanResult, unknown: pa.Table, id_col: str, time_col: str) -> PlanResult:
    """The quarantine with the unknown ``X_future`` ids no partition reported (summary counts too)."""
    q = result.quarantine
    if unknown.num_rows == 0:
        return result
    if q.num_rows and "table" in q.column_names:
        seen = q.filter(pc.equal(q["table"], "X_future"))[id_col]
        new = unknown.filter(pc.invert(pc.is_in(unknown[id_col], value_set=seen.combine_chunks().cast(
            unknown[id_col].type))))
    else:
        new = unknown
    if new.num_rows == 0:
        return result
    q = pa.concat_tables([q, new.cast(q.schema)]) if q.num_columns else new
    reasons = result.summary.setdefault("quarantine_reasons", {})
    for why, n in _reason_counts(new).items():
        reasons[why] = reasons.get(why, 0) + n
    return dataclasses.replace(result, quarantine=_canonical(q, id_col, time_col).combine_chunks())


class _Watch:
    """Reports ``progress(done, total)`` from a thread that counts the partitions' done markers (so it
    works whatever the executor: threads, processes or a cluster writing to a shared folder)."""

    def __init__(self, work: Path, total: int, progress: Callable[[int, int], None]) -> None:
        import threading

        self.work, self.total, self.progress = work, total, progress
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _count(self) -> int:
        return sum(1 for _ in self.work.glob("part-*/_done.json"))

    def _run(self) -> None:
        last = -1
        while not self.halt.wait(0.5):
            n = self._count()
            if n != last:
                self.progress(n, self.total)
                last = n

    def stop(self) -> None:
        self.halt.set()
        self.thread.join()
        self.progress(self._count(), self.total)


def _default_partitions(sales: Any, n_jobs: int) -> int:
    """About one partition per 2 million rows (known for files from their metadata), at least n_jobs."""
    rows = None
    if isinstance(sales, (str, os.PathLike)):
        p = Path(sales)
        try:
            if p.is_dir() or p.suffix.lower() in (".parquet", ".pq"):
                import pyarrow.dataset as ds

                rows = ds.dataset(p, format="parquet").count_rows()
            else:
                rows = p.stat().st_size // 20  # CSV / IPC: ~20 bytes a row
        except Exception:  # noqa: BLE001 - the reader reports unreadable inputs with its own error
            rows = None
    elif isinstance(sales, pa.Table):
        rows = sales.num_rows
    n = -(-rows // 2_000_000) if rows else 1
    return max(int(n), n_jobs, 1)


def _check_out_dir(out_dir: Path) -> None:
    from stockopt.errors import ParameterError

    if out_dir.exists() and not out_dir.is_dir():
        raise_error(ParameterError, "the output folder is a file", table="plan", parameter="out_dir",
                    expected="a folder (created if absent)", got=str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(out_dir, os.W_OK):
        raise_error(ParameterError, "the output folder is not writable", table="plan", parameter="out_dir",
                    expected="a writable folder", got=str(out_dir))


def _spill_piece(args: tuple) -> Any:
    """One worker's share of the spill: some row groups of a Parquet file (picklable, importable)."""
    piece, k, work, n_parts, key, id_col, time_col, batch_rows = args
    return spill(piece, Path(work), n_parts, key=key, id_col=id_col, time_col=time_col, table="sales",
                 batch_rows=batch_rows, piece=k)


def _spill_inputs(sales: Any, small: Mapping[str, pa.Table], work: Path, key: KeyMap, id_col: str,
                  time_col: str, n_parts: int, batch_rows: int, ex: Any) -> dict[str, Any]:
    """Spill the sales and cut the small tables into partition files, once per run (resumable).

    A Parquet file of several row groups is spilled by all of ``ex``'s workers at once, each over
    contiguous row groups into its own piece files; a partition's pieces, read in order, hold the
    same rows as a one-worker spill.
    """
    marker = work / "_spilled.json"
    if marker.exists():
        return json.loads(marker.read_text())
    if work.exists():
        shutil.rmtree(work)
    pieces: list[RowGroups] | None = parquet_pieces(sales, ex.n_workers)
    if pieces and len(pieces) > 1:
        (work / "sales").mkdir(parents=True, exist_ok=True)
        args = [(pc_, k, str(work / "sales"), n_parts, key, id_col, time_col, batch_rows)
                for k, pc_ in enumerate(pieces)]
        parts = ex.map(_spill_piece, args)
        res = parts[0]
        res.paths = [[q for q in (r.paths[p] for r in parts) if q is not None] for p in range(n_parts)]
        res.rows = np.sum([r.rows for r in parts], axis=0)
        res.n_rows = sum(r.n_rows for r in parts)
        res.days = np.unique(np.concatenate([r.days for r in parts]))
    else:
        res = spill(sales, work / "sales", n_parts, key=key, id_col=id_col, time_col=time_col, table="sales",
                    batch_rows=batch_rows)
        res.paths = [[q] if q is not None else [] for q in res.paths]
    if res.n_rows == 0:
        raise_error(EmptyInputError, "no rows", table="sales", expected="at least one sales row")
    per_id, whole = ["sales"], []
    counts = {"sales": res.n_rows}
    for name, tbl in small.items():
        counts[name] = tbl.num_rows
        if name in PER_ID_TABLES:
            (work / name).mkdir(parents=True, exist_ok=True)
            for p, part in enumerate(split_table(tbl, key, id_col, table=name)):
                if res.rows[p]:
                    _write_ipc(part, work / name / f"part-{p:05d}.arrow")
            per_id.append(name)
        else:
            _write_ipc(tbl, work / f"{name}.arrow")
            whole.append(name)
    info = {"rows": [int(r) for r in res.rows], "days": [int(d) for d in res.days], "tables": per_id[1:],
            "sales_files": [[q.name for q in qs] for qs in res.paths], "whole": whole, "input_rows": counts}
    atomic_write_json(info, marker)
    return info


def _write_ipc(tbl: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, tbl.schema) as w:
        w.write_table(tbl)
    os.replace(tmp, path)


def _executor(backend: str, n_jobs: int, n_tasks: int) -> Any:
    from stockopt._exec import ProcessExecutor, get_executor

    if n_jobs <= 1 or n_tasks <= 1:
        return get_executor(1)
    if backend == "threads":
        return get_executor(min(n_jobs, n_tasks))
    return ProcessExecutor(min(n_jobs, n_tasks))


def _assemble(work: Path, done: Mapping[int, Mapping[str, Any]], id_col: str, time_col: str) -> PlanResult:
    """The partitions' outputs concatenated (partition order) and sorted by id then time."""
    import pyarrow.parquet as pq

    names: list[str] = []
    for p in sorted(done):
        for f in done[p]["tables"]:
            if f not in names:
                names.append(f)
    tables: dict[str, pa.Table] = {}
    for f in names:
        parts = [pq.read_table(work / f"part-{p:05d}" / f"{f}.parquet") for p in sorted(done)
                 if f in done[p]["tables"]]
        parts = [t.replace_schema_metadata(None) for t in parts]
        tbl = pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]
        tables[f] = _canonical(tbl, id_col, time_col).combine_chunks()
    summary = merge_summaries([done[p]["summary"] for p in sorted(done)])
    for key in ("seconds_by_stage",):  # processor-seconds over all partitions
        if isinstance(summary.get(key), dict):
            summary[key] = {k: round(v, 3) for k, v in summary[key].items()}
    _whole_run_figures(summary, tables)
    kwargs = {}
    for f in dataclasses.fields(PlanResult):
        if f.name != "summary":  # an optional table (default None) stays None when no partition made it
            kwargs[f.name] = tables.get(f.name, None if f.default is None else pa.table({}))
    return PlanResult(**kwargs, summary=summary)


def _whole_run_figures(summary: dict[str, Any], tables: Mapping[str, pa.Table]) -> None:
    """Summary figures that are not sums over partitions, recomputed from the assembled tables."""
    pol, orders, kpis = tables.get("policy"), tables.get("orders"), tables.get("kpis")
    if pol is not None and "safety_stock" in pol.column_names:
        summary["total_safety_stock"] = round(float(pc.sum(pol["safety_stock"]).as_py() or 0.0), 1)
    if orders is not None and "order_value" in summary and "value" in orders.column_names:
        summary["order_value"] = round(float(pc.sum(orders["value"]).as_py() or 0.0), 2)
    if orders is not None and "suppliers_ordering" in summary and "supplier_id" in orders.column_names:
        summary["suppliers_ordering"] = len(pc.unique(orders["supplier_id"]))
    if kpis is not None and "projected_fill_rate" in summary \
            and {"demand", "fill_rate"} <= set(kpis.column_names):
        demand = _to_numpy(pc.fill_null(kpis["demand"], 0.0), np.float64)
        served = demand * _to_numpy(pc.fill_null(kpis["fill_rate"], 0.0), np.float64)
        summary["projected_fill_rate"] = round(float(served.sum() / demand.sum()), 4) if demand.sum() > 0 \
            else (1.0 if kpis.num_rows else None)


def _run_json(rid: str, tables: Mapping[str, Any], spilled: Mapping[str, Any], summary: Mapping[str, Any],
              cfg: Mapping[str, Any], run: Mapping[str, Any], popts: Mapping[str, Any], result: PlanResult,
              tables_out: Mapping[str, pa.Table]) -> dict[str, Any]:
    import platform

    import numba

    inputs = {}
    for name, src in tables.items():
        if src is None:
            continue
        inputs[name] = {"source": str(src) if isinstance(src, (str, os.PathLike)) else type(src).__name__,
                        "rows": spilled["input_rows"].get(name)}
    q = result.quarantine
    rejected: dict[str, Any] = {}
    if q.num_rows and "reason" in q.column_names:
        by = q.group_by(["table", "reason"] if "table" in q.column_names else ["reason"]).aggregate(
            [("reason", "count")])
        for r in by.to_pylist():
            rejected.setdefault(r.get("table", "sales"), {})[r["reason"]] = r["reason_count"]
    return {
        "run_id": rid,
        "status": "complete",
        "inputs": inputs,
        "outputs": {name: {"file": f"{name}.parquet", "rows": t.num_rows} for name, t in tables_out.items()},
        "rejected": rejected,
        "summary": dict(summary),
        "config": {"file": {k: v for k, v in cfg.items()}, "run": dict(run),
                   "plan": {k: (str(v) if isinstance(v, Path) else v) for k, v in popts.items()}},
        "versions": {"stockopt": __version__, "python": platform.python_version(), "numpy": np.__version__,
                     "pyarrow": pa.__version__, "numba": numba.__version__},
    }
