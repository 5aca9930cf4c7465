"""Slow, obviously-correct twins of the demand-signal computations (one series at a time, plain Python).

Nothing here imports stockopt.
"""

from __future__ import annotations

import math


# ---------------------------------------------------------------- demand classes
def adi_cv2(y):
    """ADI (periods per non-zero period; inf without any) and CV^2 of the non-zero sizes (population)."""
    sizes = [v for v in y if v > 0]
    if not sizes:
        return math.inf, 0.0
    m = sum(sizes) / len(sizes)
    var = sum((s - m) ** 2 for s in sizes) / len(sizes)
    return len(y) / len(sizes), (var / (m * m) if len(sizes) > 1 else 0.0)


def sbc_class(adi, cv2, adi_cut=1.32, cv2_cut=0.49):
    if adi < adi_cut:
        return "smooth" if cv2 < cv2_cut else "erratic"
    return "intermittent" if cv2 < cv2_cut else "lumpy"


def life_cycle(y, out, new_periods, dead_periods):
    """(new, dead, periods_since_sale) of one series; ``out`` flags stocked-out periods (or None)."""
    out = out or [False] * len(y)
    sold = [t for t, v in enumerate(y) if v > 0]
    if not sold:
        return True, False, sum(1 for o in out if not o)
    age = len(y) - sold[0]
    since = sum(1 for t in range(sold[-1] + 1, len(y)) if not out[t])
    new = age < new_periods
    return new, (since >= dead_periods) and not new, since
