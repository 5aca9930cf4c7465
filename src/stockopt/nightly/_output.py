"""Atomic, resumable output of a plan: run ids, part folders, done markers and the final files.

Layout of ``out_dir``::

    forecast.parquet policy.parquet quarantine.parquet [orders|alerts|kpis.parquet] summary.json  run.json
    .parts/<run-id>/input/<table>/part-00007.arrow     the spilled inputs (and input/_spilled.json)
    .parts/<run-id>/part-00007/<table>.parquet         one partition's outputs, then _done.json

Every file is written to a ``.tmp`` name in its final folder and renamed (``os.replace``, atomic on
POSIX) when complete; a partition counts as done only once its ``_done.json`` exists, so a run
killed part-way resumes from its completed partitions.  The final files are replaced in place:
``run.json`` is removed first, each output renamed over the previous one, the previous run's
outputs this run does not produce are removed, and ``run.json`` is written last.  A folder without
``run.json`` therefore holds no complete run, and every final file carries its run id in its
Parquet metadata (``stockopt.run_id``), so files of two runs can always be told apart.  A run that
fails before assembling (an error in a partition, a kill) leaves the previous output untouched.

One run at a time per folder: a run holds an exclusive lock on ``out_dir/.lock`` (an advisory
``flock``, released by the system when the process ends, even by ``kill -9``) from before it
touches the folder until its outputs are published; a second run into the same folder is refused
with :class:`~stockopt.errors.FileError` naming the process that holds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["run_id", "atomic_write_parquet", "atomic_write_json", "OUTPUTS", "publish", "folder_lock"]

#: every final table a plan may write (``<name>.parquet``), in the order they are published
OUTPUTS = ("forecast", "policy", "quarantine", "orders", "alerts", "kpis")
#: Parquet row groups of the final files (fixed so that the bytes depend on the rows only)
ROW_GROUP = 1 << 17


def _digest_source(src: Any, h: Any) -> None:
    """Feed what identifies one input to the hash: a file's path, size and mtime, a table's bytes."""
    if src is None:
        h.update(b"none")
    elif isinstance(src, (str, os.PathLike)):
        p = Path(src).resolve()
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            st = f.stat()
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    else:
        from stockopt._arrow import to_table

        tbl = src if isinstance(src, pa.Table) else to_table(src)
        h.update(tbl.schema.serialize().to_pybytes())
        for batch in tbl.to_batches():
            h.update(memoryview(batch.serialize()))


def run_id(tables: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """A digest of the inputs (file path, size and mtime; or an in-memory table's bytes) and settings.

    Examples
    --------
    >>> import pyarrow as pa
    >>> a = run_id({"sales": pa.table({"x": [1]})}, {"h": 7})
    >>> b = run_id({"sales": pa.table({"x": [2]})}, {"h": 7})
    >>> a == run_id({"sales": pa.table({"x": [1]})}, {"h": 7}), a == b
    (True, False)
    """
    h = hashlib.blake2b(digest_size=10)
    for name in sorted(tables):
        h.update(f"[{name}]".encode())
        _digest_source(tables[name], h)
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


def atomic_write_parquet(tbl: pa.Table, path: Path, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``tbl`` to ``path`` through a temporary name in the same folder (fixed row groups)."""
    if metadata:
        meta = dict(tbl.schema.metadata or {})
        meta.update({k.encode(): v.encode() for k, v in metadata.items()})
        tbl = tbl.replace_schema_metadata(meta)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(tbl, tmp, row_group_size=ROW_GROUP)
    os.replace(tmp, path)


def atomic_write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as JSON to ``path`` through a temporary name (fsynced before the rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=2, default=_json_default, sort_keys=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, Path):
        return str(o)
    return str(o)


def publish(out_dir: Path, tables: Mapping[str, pa.Table], run: Mapping[str, Any], rid: str) -> None:
    """Put a run's final tables into ``out_dir`` (see the module docstring for the order of steps).

    ``summary.json`` (the run's summary, as the nightly run has always written it) is published with
    the tables.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = []
    for name, tbl in tables.items():  # write everything beside its final name first
        tmp = out_dir / f"{name}.parquet.staged"
        atomic_write_parquet(tbl, tmp, {"stockopt.run_id": rid})
        staged.append((tmp, out_dir / f"{name}.parquet"))
    atomic_write_json(dict(run.get("summary", {})), out_dir / "summary.json.staged")
    staged.append((out_dir / "summary.json.staged", out_dir / "summary.json"))
    done = out_dir / "run.json"
    if done.exists():
        done.unlink()  # from here until run.json is back, the folder says: no complete run
    for tmp, final in staged:
        os.replace(tmp, final)
    for name in OUTPUTS:
        if name not in tables and (out_dir / f"{name}.parquet").exists():
            (out_dir / f"{name}.parquet").unlink()
    atomic_write_json(dict(run), done)


def clear_parts(out_dir: Path, keep: str | None = None) -> None:
    """Remove the part folders of every run but ``keep`` (all of them when ``keep`` is None)."""
    parts = out_dir / ".parts"
    if not parts.is_dir():
        return
    for d in parts.iterdir():
        if d.name != keep:
            shutil.rmtree(d, ignore_errors=True)
    if keep is None:
        shutil.rmtree(parts, ignore_errors=True)


@contextmanager
def folder_lock(out_dir: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``out_dir`` (``out_dir/.lock``) for the duration of the block.

    The lock is an advisory ``fcntl.flock`` on the file, so the system releases it when the process
    ends in any way; the file itself (holding the owner's process id, for the message) may stay.
    Where ``fcntl`` does not exist (Windows) no lock is taken.

    Raises
    ------
    stockopt.errors.FileError
        When another process holds the lock (another plan is writing to the same folder).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    from stockopt.errors import FileError, raise_error

    path = out_dir / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise_error(FileError, "another plan is writing to this folder", table="plan",
                        parameter="out_dir", got=f"{out_dir} locked by process {owner}",
                        expected="one run per output folder at a time (wait, or choose another folder)")
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
