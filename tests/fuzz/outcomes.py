"""The outcome classes every fuzz case asserts: a named stockopt error, or a sane result.

* :func:`expect_error` - the call raises the given :mod:`stockopt.errors` class (never a bare
  ``IndexError``, numpy or pyarrow error) and its message names what is wrong (argument, table,
  column, series or row).
* :func:`assert_sane_forecast` / :func:`assert_sane_policy` - every number is finite and in range
  (forecasts and bounds >= 0, ``lo <= hi`` and wider levels outside narrower ones, quantiles ordered
  (an interval of a skewed integer distribution need not contain the mean); policy quantities >= 0,
  ``reorder_point <= order_up_to``, service figures in [0, 1]) or the policy row's
  status says why not (and its numbers are then null, never NaN).
* :func:`run_limited` - a case that could exhaust memory or hang runs in a child process with an
  address-space limit and a timeout; the child prints its outcome as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import stockopt as so
from stockopt.errors import StockoptError

SRC = str(Path(so.__file__).resolve().parents[1])

#: policy statuses and whether a row with that status carries numbers
POLICY_STATUSES = {"ok": True, "unreachable": True, "floored": True, "continuous": True,
                   "moment_matched": True, "out_of_range": False, "too_large": False}
QUANTITY_COLUMNS = ("safety_stock", "reorder_point", "order_up_to", "order_quantity", "expected_backorders",
                    "expected_on_hand", "lead_time_demand_mean", "lead_time_demand_std",
                    "protection_demand_mean", "protection_demand_std")
SERVICE_COLUMNS = ("expected_cycle_service", "expected_fill_rate", "expected_ready_rate")


def expect_error(fn, cls: type[StockoptError], *names: str) -> StockoptError:
    """Call ``fn``; it must raise ``cls`` (a stockopt error) whose message contains every ``names``."""
    with pytest.raises(StockoptError) as info:
        fn()
    exc = info.value
    assert isinstance(exc, cls), f"expected {cls.__name__}, got {type(exc).__name__}: {exc}"
    msg = str(exc)
    for name in names:
        assert name in msg, f"{name!r} not named in: {msg}"
    return exc


def _num(tbl: pa.Table, name: str) -> np.ndarray:
    return tbl.column(name).to_numpy(zero_copy_only=False).astype(np.float64)


def assert_sane_forecast(fc: pa.Table, *, nonnegative: bool = True) -> None:
    """Every forecast, bound and quantile finite and >= 0 when ``nonnegative``, point forecasts at most
    1e15, ``lo <= hi``, wider levels outside narrower ones, quantiles non-decreasing in ``q``."""
    names = [c for c in fc.column_names if pa.types.is_floating(fc.schema.field(c).type)]
    for c in names:
        v = _num(fc, c)
        assert np.isfinite(v).all(), f"{c}: non-finite {v[~np.isfinite(v)][:3]}"
        if nonnegative:
            assert (v >= 0).all(), f"{c}: negative forecast {v.min()}"
    models = [c for c in names if "-lo-" not in c and "-hi-" not in c and "-q" not in c]
    for m in models:
        point = _num(fc, m)
        tol = 1e-9 * (1 + np.abs(point))
        assert (np.abs(point) <= 1e15).all(), f"{m}: forecast beyond 1e15"
        los = sorted((float(c.rsplit("-", 1)[1]), c) for c in names if c.startswith(m + "-lo-"))
        his = sorted((float(c.rsplit("-", 1)[1]), c) for c in names if c.startswith(m + "-hi-"))
        prev_lo, prev_hi = np.full(point.shape, np.inf), np.full(point.shape, -np.inf)
        for (_, lo), (_, hi) in zip(los, his):  # levels ascending: each interval contains the narrower one
            lv, hv = _num(fc, lo), _num(fc, hi)
            assert (lv <= hv + tol).all(), f"{lo} above {hi}"
            assert (lv <= np.minimum(prev_lo, hv) + tol).all() and (hv >= prev_hi - tol).all(), \
                f"{lo}/{hi} not nested"
            prev_lo, prev_hi = lv, hv
        qs = sorted((float(c.split("-q")[-1]), c) for c in names if c.startswith(m + "-q"))
        for (_, a), (_, b) in zip(qs, qs[1:]):
            assert (_num(fc, a) <= _num(fc, b) + tol).all(), f"{a} > {b}"


def assert_sane_policy(pol: pa.Table, *, id_col: str = "unique_id") -> None:
    """Every policy row: a known status; numbers finite and >= 0 and service figures in [0, 1], or
    status ``out_of_range`` / ``too_large`` with null numbers.  Never NaN.  (Quantities over a
    protection interval may pass 1e15: 1e15 a day over years.)"""
    status = pol.column("status").to_pylist()
    assert set(status) <= set(POLICY_STATUSES), set(status)
    has_numbers = np.array([POLICY_STATUSES[s] for s in status], dtype=bool)
    for c in QUANTITY_COLUMNS + SERVICE_COLUMNS:
        col = pol.column(c)
        null = np.asarray(col.is_null().to_pylist(), dtype=bool) if col.null_count else \
            np.zeros(len(col), bool)
        v = col.to_numpy(zero_copy_only=False).astype(np.float64)
        assert not np.isnan(v[~null]).any(), f"{c}: NaN reached the output"
        if c == "expected_ready_rate":
            ok = ~null  # null unless ready_rate=True
        else:
            assert not null[has_numbers].any(), f"{c}: null in a row whose status has numbers"
            assert null[~has_numbers].all(), f"{c}: a number in an out_of_range row"
            ok = has_numbers
        vals = v[ok]
        assert np.isfinite(vals).all(), f"{c}: non-finite {vals[~np.isfinite(vals)][:3]}"
        if c in SERVICE_COLUMNS:
            assert ((vals >= -1e-12) & (vals <= 1 + 1e-12)).all(), f"{c}: outside [0, 1]: {vals}"
        else:
            assert (vals >= 0).all(), f"{c}: negative: {vals}"
    rows = has_numbers
    if rows.any():
        s, big_s = _num(pol, "reorder_point")[rows], _num(pol, "order_up_to")[rows]
        assert (s <= big_s * (1 + 1e-9) + 1e-6).all(), "reorder point above order-up-to level"


def run_limited(cases: dict[str, str], *, setup: str = "", mem_gb: float = 3.0,
                timeout: float = 300.0) -> dict[str, dict[str, Any]]:
    """Run each expression of ``cases`` in one child Python whose address space is limited to
    ``mem_gb`` GiB, with a timeout for the whole child; ``setup`` runs first (imports, helpers).

    The child evaluates the cases in order after one warm-up call of each (numba compiles or loads
    its kernels on first use, which is not the case's own time), and prints one JSON line per case:
    ``{"kind": "result", "result": <the value>}`` or ``{"kind": "error", "cls": <stockopt error
    class>, "message": ...}``, with ``seconds`` (the timed call) and ``peak_mb`` (the child's peak
    resident memory so far).  Any other exception (a MemoryError ...) is reported as
    ``{"kind": "crash", ...}``; a hang fails the test naming the case that did not finish.
    """
    limit = int(mem_gb * 2**30)
    script = f"""
import json, resource, sys, time, warnings
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
warnings.simplefilter("ignore")
import numpy as np, pyarrow as pa
import stockopt as so
from stockopt.errors import StockoptError
{textwrap.dedent(setup)}
CASES = {json.dumps(cases)}
for name, expr in CASES.items():
    out = {{"case": name}}
    for attempt in (0, 1):
        t0 = time.perf_counter()
        try:
            out.update(kind="result", result=eval(expr))
        except StockoptError as exc:
            out.update(kind="error", cls=type(exc).__name__, message=str(exc))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent as a crash
            out.update(kind="crash", cls=type(exc).__name__, message=str(exc)[:500])
            break
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("OUTCOME " + json.dumps(out, default=float), flush=True)
"""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
                              env=env)
        stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stderr, code = "timeout", None
    done = {}
    for line in stdout.splitlines():
        if line.startswith("OUTCOME "):
            rec = json.loads(line[len("OUTCOME "):])
            done[rec.pop("case")] = rec
    missing = [c for c in cases if c not in done]
    if missing:
        pytest.fail(f"case {missing[0]!r} did not finish (exit {code}, {timeout} s limit):\n{stderr[-3000:]}")
    crashed = {k: v for k, v in done.items() if v["kind"] == "crash"}
    assert not crashed, f"cases crashed: {crashed}"
    return done
