"""Ratio tables from a pytest-benchmark JSON file: ours against the peer (or the floor), per case.

    python benchmarks/ratios.py .benchmarks/smoke.json

Every case of ``benchmarks/test_bench_*.py`` times our side and the other side in one benchmark
group.  For each group this prints the best time of each side, our series (items) per second, the
first call of ours (numba compilation or cache load, excluded from the timings) and the ratio:
peer / ours for a peer (> 1: we are faster), ours / floor for a speed floor (how many floors our
side costs).  The machine is shared and noisy: ratios move by up to ~30 % between runs, which is why
nothing here fails on a number; the exit status is 1 only when a case has no result for both sides.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def rows(report: dict) -> tuple[list[tuple], list[str]]:
    """``(family, label, size, ours_s, other_s, other_side, first_call_s, per_s)`` per complete group,
    and the groups missing a side."""
    groups: dict[str, dict[str, dict]] = {}
    for b in report["benchmarks"]:
        groups.setdefault(b["group"], {})[b["extra_info"]["side"]] = b
    out, missing = [], []
    for group, sides in groups.items():
        other = "peer" if "peer" in sides else "floor"
        if "ours" not in sides or other not in sides:
            missing.append(group)
            continue
        ours, oth = sides["ours"], sides[other]
        info = ours["extra_info"]
        n = info["n_series"]
        items = re.search(r"\((\d+) items\)", info["case"])  # capped inventory cases say how many
        count = int(items.group(1)) if items else n
        size = f"{n} x {info['length']}" if info["length"] else f"{count} items"
        t_o, t_p = ours["stats"]["min"], oth["stats"]["min"]
        out.append((info["family"], info["case"], size, t_o, t_p, other, info["first_call_s"], count / t_o))
    return out, missing


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path(".benchmarks/smoke.json")
    report = json.loads(path.read_text())
    table, missing = rows(report)
    print(f"{'family':<10} {'case':<46} {'size':>12} {'ours s':>9} {'other s':>9} {'ours ser/s':>11} "
          f"{'1st call':>8}  ratio")
    for fam, label, size, t_o, t_p, other, first, per_s in table:
        ratio = f"{t_p / t_o:8.1f}x vs peer" if other == "peer" else f"{t_o / t_p:8.2f}x the floor"
        print(f"{fam:<10} {label[:46]:<46} {size:>12} {t_o:>9.4f} {t_p:>9.4f} {per_s:>11,.0f} "
              f"{first:>8.2f} {ratio}")
    rss = max((b["extra_info"].get("peak_rss_mb", 0.0) for b in report["benchmarks"]), default=0.0)
    commit = report.get("commit_info", {}).get("id", "?")[:10]
    print(f"{len(table)} cases; peak RSS of the benchmark process {rss:.0f} MB; commit {commit}; {path}")
    for group in missing:
        print(f"incomplete (a side failed or was deselected): {group}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
