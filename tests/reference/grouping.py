"""Slow, obviously correct twins of the grouping kernels (plain Python over lists)."""

from __future__ import annotations

import math


def group_rows(rows: list[tuple[object, int, float]], fill: str = "zero") -> dict[object, list[tuple[int, float]]]:
    """Group (id, period, value) rows into {id: [(period, value), ...]} on a full period grid.

    Missing periods between a series' first and last are inserted with 0 (``fill="zero"``) or a
    linear interpolation of the neighbours (``fill="interpolate"``).
    """
    by_id: dict[object, dict[int, float]] = {}
    for sid, t, v in rows:
        by_id.setdefault(sid, {})[t] = v
    out = {}
    for sid in sorted(by_id):
        obs = by_id[sid]
        ts = sorted(obs)
        series = []
        for a, b in zip(ts, ts[1:] + [None]):
            series.append((a, obs[a]))
            if b is None:
                continue
            for k in range(a + 1, b):
                if fill == "zero":
                    series.append((k, 0.0))
                else:
                    series.append((k, obs[a] + (k - a) / (b - a) * (obs[b] - obs[a])))
        out[sid] = series
    return out


def interpolate_nan(values: list[float]) -> list[float]:
    """Linear interpolation of NaNs in one series; ends take the nearest value; all-NaN -> zeros."""
    known = [i for i, v in enumerate(values) if not math.isnan(v)]
    if not known:
        return [0.0] * len(values)
    out = list(values)
    for i in range(len(values)):
        if not math.isnan(values[i]):
            continue
        left = [k for k in known if k < i]
        right = [k for k in known if k > i]
        if not left:
            out[i] = values[right[0]]
        elif not right:
            out[i] = values[left[-1]]
        else:
            a, b = left[-1], right[0]
            out[i] = values[a] + (i - a) / (b - a) * (values[b] - values[a])
    return out
