"""Work bounds of the inventory methods (docs/limits.md): time and peak memory of one extreme item.

Runs every extreme-but-accepted case of ``tests/fuzz/test_fuzz_issue11_inventory.py`` (those that
exhausted memory or ran for minutes before the bounds) in one child process with a 3 GiB
address-space limit, each after a warm-up call (numba compiles or loads its kernels), and prints
its seconds, the child's peak resident memory so far, and the ratio to the floor: the same call
for an ordinary item (Poisson, 5 a day, lead time 7 days).

    python benchmarks/work_bounds.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOR = "row(so.inventory_policy(dm(5.0, 3.0), it(), distribution='poisson'))"
#: items just inside the bounds: the exact methods at their most expensive (status ok)
EDGE = {
    "edge: poisson 6e4/day": "row(so.inventory_policy(dm(6e4, 250.0), it(), distribution='poisson'))",
    "edge: sQ poisson moq 1e6": "row(so.inventory_policy(dm(1.0, 1.0), it(moq=1e6), policy='sQ', "
                                "distribution='poisson'))",
    "edge: RS poisson 500/day, L 30 +- 100": "row(so.inventory_policy(dm(500.0, 30.0), it(lead_time=30.0, "
                                              "lead_time_std=100.0), policy='RS', distribution='poisson'))",
    "edge: cost sS poisson 1200/day": "row(so.inventory_policy(dm(1200.0, 40.0), it(stockout_cost=1.0, "
                                      "order_cost=10.0), policy='sS', distribution='poisson', "
                                      "objective='cost'))",
    "edge: ready rate poisson 800/day R 30": "row(so.inventory_policy(dm(800.0, 30.0), "
                                              "it(review_period=30.0), distribution='poisson', "
                                              "ready_rate=True))",
    "edge: RS normal L 30 +- 500": "row(so.inventory_policy(dm(5.0, 2.0), it(lead_time=30.0, "
                                   "lead_time_std=500.0), policy='RS', distribution='normal'))",
    "edge: sS normal L 30 +- 255": "row(so.inventory_policy(dm(5.0, 2.0), it(lead_time=30.0, "
                                   "lead_time_std=255.0), policy='sS', distribution='normal'))",
    "edge: sQ gamma L 30 +- 255": "row(so.inventory_policy(dm(5.0, 4.0), it(lead_time=30.0, "
                                  "lead_time_std=255.0, moq=100.0), policy='sQ', distribution='gamma'))",
}


def main() -> int:
    from tests.fuzz.outcomes import run_limited
    from tests.fuzz.test_fuzz_issue11_inventory import EXTREME, EXTREME_HISTORY, HISTORY_SETUP

    cases = {"floor (poisson 5/day)": FLOOR, **{k: v[0] for k, v in EXTREME.items()},
             **{k: v[0] for k, v in EXTREME_HISTORY.items()}, **EDGE}
    out = run_limited(cases, setup=HISTORY_SETUP, mem_gb=3.0, timeout=900)
    floor = max(out["floor (poisson 5/day)"]["seconds"], 1e-9)
    print(f"{'case':<40} {'outcome':<24} {'seconds':>8} {'x floor':>8} {'peak MB':>8}")
    for name, rec in out.items():
        res = rec.get("result")
        what = "{status}/{distribution}".format(**res) if rec["kind"] == "result" else rec.get("cls")
        print(f"{name:<40} {what:<24} {rec['seconds']:>8.3f} {rec['seconds'] / floor:>8.0f} "
              f"{rec['peak_mb']:>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
