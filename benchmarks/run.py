"""Run the pytest-benchmark suites of one profile, then print the ratio tables (ours vs the peers).

    python benchmarks/run.py --profile smoke      # CI (make bench-smoke): small sizes
    python benchmarks/run.py --profile full       # by hand (make bench): the sizes of docs/benchmarks.md
    python benchmarks/run.py --only fast ets --n-series 1000 --length 730

The suites are ``benchmarks/test_bench_<family>.py`` (families: api, cv, ets, fast, floor, grouping,
inventory, quarantine, replenish, theta); each case times our side and the peer's (statsforecast, stockpyl,
pyarrow) or a speed floor in one pytest-benchmark group.  Results go to ``--json`` (pytest-benchmark's
``--benchmark-json`` format, default ``.benchmarks/<profile>.json``); ``benchmarks/ratios.py`` turns
that file into the ratio tables.  Extra arguments after ``--`` go to pytest (e.g. ``-- -k SESOpt``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FAMILIES = sorted(p.stem.removeprefix("test_bench_") for p in HERE.glob("test_bench_*.py"))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=["smoke", "full"], default="smoke")
    ap.add_argument("--only", nargs="*", choices=FAMILIES, default=None,
                    help="families to run (default: all)")
    ap.add_argument("--n-series", type=int, default=None)
    ap.add_argument("--length", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="pytest-benchmark JSON output")
    args, extra = ap.parse_known_args(argv)
    extra = [a for a in extra if a != "--"]
    out = args.json or HERE.parent / ".benchmarks" / f"{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    files = [str(HERE / f"test_bench_{f}.py") for f in (args.only or FAMILIES)]
    cmd = [sys.executable, "-m", "pytest", *files, "-o", "addopts=", "-p", "no:cacheprovider", "-q", "-rfE",
           f"--bench-profile={args.profile}", f"--benchmark-json={out}",
           "--benchmark-columns=min,median,max,rounds", "--benchmark-sort=name"]
    if args.n_series:
        cmd.append(f"--bench-n-series={args.n_series}")
    if args.length:
        cmd.append(f"--bench-length={args.length}")
    failed = subprocess.call(cmd + extra, cwd=HERE.parent)
    if not out.exists():
        return failed or 1
    print()
    return subprocess.call([sys.executable, str(HERE / "ratios.py"), str(out)]) or failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
