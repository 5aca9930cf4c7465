"""The plan's configuration: a dict or a TOML file, checked key by key before any work.

Keys are the options of :func:`stockopt.run_nightly` (``h``, ``models``, ``level``, ``freq``,
``id_col`` ...: whatever the installed ``run_nightly`` takes besides its tables and ``out``), the
plan's own options (``n_partitions``, ``n_jobs``, ``backend``, ``partition_by``, ``batch_rows``,
``out_dir``, ``keep_parts``) and the input paths (``sales``, ``items``, ``stock``, ``suppliers``,
``open_orders``, ``x_future``: the ``X_future`` drivers over the horizon; relative paths are read
from the TOML file's folder).  An unknown key is refused by name; a bad value by the rule of the
option it names.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stockopt._params import Boolean, Instance, Integer, Options, PathLike, check_param
from stockopt.errors import ParameterError, raise_error

__all__ = ["PLAN_PARAMS", "TABLES", "PER_ID_TABLES", "run_options", "load_config", "resolve"]

#: the tables a plan reads, in the order run_nightly takes them
TABLES = ("sales", "items", "stock", "suppliers", "open_orders", "x_future")
#: tables keyed by the series id (cut into partitions like the sales); the others go whole to each partition
PER_ID_TABLES = ("items", "stock", "open_orders", "x_future")

#: options of the plan itself (not passed to run_nightly)
PLAN_PARAMS = {
    "config": [None, PathLike(), Instance(dict, name="a dict")],
    "out_dir": [None, PathLike()],
    "n_partitions": [None, Integer(1, 1 << 16)],
    "n_jobs": Integer(1),
    "backend": Options("processes", "threads"),
    "partition_by": [None, Instance(str)],
    "batch_rows": Integer(1024),
    "keep_parts": Boolean(),
}

#: run_nightly parameters that are not options of a plan (tables, where it writes, its threads)
_NOT_OPTIONS = {"out", "n_jobs", "X_future", *TABLES}


def run_options() -> dict[str, Any]:
    """The options of the installed :func:`stockopt.run_nightly` and their rules (``None``: no rule)."""
    from stockopt.pipeline import run_nightly

    rules = getattr(run_nightly, "param_rules", {})
    params = inspect.signature(run_nightly).parameters
    return {name: rules.get(name) for name in params if name not in _NOT_OPTIONS}


def load_config(config: str | os.PathLike | Mapping[str, Any] | None) -> tuple[dict[str, Any], Path | None]:
    """The config as a flat dict and the folder relative input paths are read from.

    A TOML file may group keys in tables (``[forecast]``, ``[inputs]`` ...): their keys are read as
    if written at the top level (a key given twice is refused).
    """
    if config is None:
        return {}, None
    if isinstance(config, Mapping):
        return dict(config), None
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    path = Path(config)
    if not path.is_file():
        raise_error(ParameterError, "no config file", table="plan", parameter="config",
                    expected="a TOML file or a dict", got=str(path))
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise_error(ParameterError, f"unreadable TOML ({exc})", table="plan", parameter="config",
                    expected="a TOML file of plan options", got=str(path))
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        items = value.items() if isinstance(value, dict) else [(key, value)]
        for k, v in items:
            if k in flat:
                raise_error(ParameterError, "key given twice in the config", table="plan", parameter=k,
                            expected="each key once", got=str(path))
            flat[k] = list(v) if isinstance(v, list) else v
    return flat, path.parent


def resolve(config: Mapping[str, Any], explicit: Mapping[str, Any], base: Path | None
            ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Merge the config with the explicitly passed arguments (which win) and check every key.

    Returns ``(tables, plan_options, run_options)``.
    """
    opts = run_options()
    known = set(opts) | set(PLAN_PARAMS) | set(TABLES)
    unknown = sorted(k for k in config if k not in known or k == "config")
    if unknown:
        raise_error(ParameterError, "unknown config key", table="plan", parameter=unknown[0],
                    expected=f"one of {sorted(known - {'config'})}", got=unknown[0])
    merged = {**config, **{k: v for k, v in explicit.items() if v is not None}}
    tables: dict[str, Any] = {}
    plan_opts: dict[str, Any] = {}
    run: dict[str, Any] = {}
    for key, value in merged.items():
        if key in TABLES:
            if isinstance(value, (str, os.PathLike)) and base is not None and not Path(value).is_absolute():
                value = base / value
            tables[key] = value
        elif key in PLAN_PARAMS:
            check_param(value, PLAN_PARAMS[key], name=key, where="plan")
            plan_opts[key] = value
        else:
            if opts[key] is not None:
                check_param(value, opts[key], name=key, where="plan")
            run[key] = value
    if "out_dir" in plan_opts and base is not None and not Path(plan_opts["out_dir"]).is_absolute():
        plan_opts["out_dir"] = base / plan_opts["out_dir"]
    return tables, plan_opts, run
