"""Side-by-side benchmark runner: our engine against the peer, same process, same data.

Every ``benchmarks/side_by_side_<family>.py`` exposes ``cases(n_series, length)`` returning
``(label, ours, peer)`` closures over prepared data.  For each case both are warmed up once (the
warm-up, which includes numba compilation or cache loading, is reported separately), then timed
best-of-N; the table prints seconds, series per second and the ratio peer / ours (> 1: we are faster).
Peak RSS of the process is printed at the end.

    python benchmarks/run.py --profile smoke      # CI: small sizes, seconds per family
    python benchmarks/run.py --profile full       # by hand: the sizes quoted in docs/benchmarks.md
    python benchmarks/run.py --only fast --n-series 1000 --length 730
"""

from __future__ import annotations

import argparse
import importlib
import resource
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PROFILES = {
    # family: (n_series, length) per profile
    "smoke": {"grouping": (2000, 500), "fast": (300, 365), "api": (300, 365), "theta": (40, 365),
              "ets": (20, 365), "inventory": (2000, 0), "cv": (20, 365), "quarantine": (2000, 365),
              "replenish": (1000, 0)},
    "full": {"grouping": (30000, 1000), "fast": (10000, 730), "api": (10000, 730), "theta": (1000, 730),
             "ets": (200, 730), "inventory": (100000, 0), "cv": (200, 730), "quarantine": (20000, 730),
             "replenish": (20000, 0)},
}


def _best(fn, repeats: int, budget: float) -> float:
    best = float("inf")
    spent = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best = min(best, dt)
        spent += dt
        if spent > budget:
            break
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=sorted(PROFILES), default="smoke")
    ap.add_argument("--only", nargs="*", default=None, help="families to run (default: all)")
    ap.add_argument("--n-series", type=int, default=None)
    ap.add_argument("--length", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    families = sorted(p.stem.removeprefix("side_by_side_") for p in HERE.glob("side_by_side_*.py"))
    if args.only:
        families = [f for f in families if f in args.only]
    rows = []
    failures = 0
    for fam in families:
        n, length = PROFILES[args.profile].get(fam, (100, 365))
        n = args.n_series or n
        length = args.length or length
        try:
            mod = importlib.import_module(f"side_by_side_{fam}")
            cases = mod.cases(n, length)
        except Exception:  # a broken family must not hide the others' numbers
            traceback.print_exc()
            failures += 1
            continue
        for label, ours, peer in cases:
            try:
                t = time.perf_counter()
                ours()
                warm_ours = time.perf_counter() - t
                t_ours = _best(ours, args.repeats, 30.0)
                t = time.perf_counter()
                peer()
                warm_peer = time.perf_counter() - t
                t_peer = _best(peer, args.repeats if warm_peer < 20 else 1, 60.0) if warm_peer < 120 else warm_peer
            except Exception:
                traceback.print_exc()
                failures += 1
                continue
            rows.append((fam, label, n, length, warm_ours, t_ours, t_peer, t_peer / t_ours))
            print(f"  {fam:<10} {label:<44} ours {t_ours:9.4f}s  peer {t_peer:9.4f}s  ratio {t_peer / t_ours:8.1f}x",
                  flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"{'family':<10} {'case':<44} {'series':>7} {'len':>5} {'warm-up':>8} {'ours s':>9} "
          f"{'peer s':>9} {'ours ser/s':>11} {'ratio':>8}")
    for fam, label, n, length, warm, t_o, t_p, ratio in rows:
        print(f"{fam:<10} {label:<44} {n:>7} {length:>5} {warm:>8.2f} {t_o:>9.4f} {t_p:>9.4f} "
              f"{n / t_o:>11.0f} {ratio:>7.1f}x")
    print(f"peak RSS of this process: {rss:.0f} MB; profile {args.profile}; {failures} failed case(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
