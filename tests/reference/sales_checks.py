"""Slow, obviously correct twin of the sales checks: which series a clean run must set aside, and why.

Plain Python over rows ``(id, day, value)`` (``day``: int days since 1970-01-01 or None, ``value``:
float or None), written from the rules in ``docs/limits.md`` / ``stockopt._rules`` without reading
the library's code: the fuzz corpus compares :func:`stockopt.quarantine`, :func:`stockopt.group_series`
and :func:`stockopt.run_nightly` with it.
"""

from __future__ import annotations

import datetime as dt
import math

MAX_QUANTITY = 1e15
SPACING_MIN_ROWS = 5

#: problem kinds, with the wording the quarantine report uses
KINDS = {
    "null_time": "null time stamp",
    "off_frequency": "time stamp off the frequency",
    "null_target": "null or NaN demand",
    "inf_target": "infinite demand",
    "big_target": "demand beyond 1e15",
    "negative_target": "negative demand",
    "duplicate": "duplicate (series, time) pair",
    "spacing": "series spaced more coarsely than the frequency",
    "gap": "missing periods inside a series",
}


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def on_grid(day: int, freq: str) -> bool:
    """Whether a date sits on the frequency: any day for D, the anchor weekday for W-XXX, the first
    (last) day of a month for MS (ME)."""
    d = _date(day)
    if freq == "D":
        return True
    if freq.startswith("W"):
        anchor = "MON TUE WED THU FRI SAT SUN".split().index(freq.split("-")[1] if "-" in freq else "SUN")
        return d.weekday() == anchor
    if freq == "MS":
        return d.day == 1
    if freq == "ME":
        return (d + dt.timedelta(days=1)).day == 1
    raise ValueError(freq)


def period(day: int, freq: str) -> int:
    """Period number of an on-grid date (days, weeks, months since the epoch)."""
    if freq == "D":
        return day
    if freq.startswith("W"):
        return (day + 3) // 7  # weeks are numbered by their days since the Monday 1969-12-29
    d = _date(day)
    return (d.year - 1970) * 12 + d.month - 1


def coarser(days: list[int], freq: str) -> bool:
    """A series of daily (monthly) data whose own dates sit on a coarser calendar: every step longer
    than one period and all dates on one weekday or on month / quarter / year starts or month ends
    (daily data), or on every third / twelfth month (monthly data)."""
    days = sorted(set(days))
    if len(days) < SPACING_MIN_ROWS or freq.startswith("W"):
        return False
    ps = [period(d, freq) for d in days]
    if any(b - a < 2 for a, b in zip(ps, ps[1:])):
        return False
    dates = [_date(d) for d in days]
    if freq == "D":
        if len({d.weekday() for d in dates}) == 1:
            return True
        if all(d.day == 1 for d in dates):
            return True  # month, quarter and year starts
        return all((d + dt.timedelta(days=1)).day == 1 for d in dates)
    return any(len({p % k for p in ps}) == 1 for k in (3, 12))


def problems(rows: list[tuple[object, int | None, float | None]], freq: str, *, allow_negative: bool = False,
             fill_gaps: str = "zero") -> dict[object, set[str]]:
    """Problem kinds per series id (rows with a null id are left out; series without a problem are
    absent) for a run with ``missing="error"``."""
    out: dict[object, set[str]] = {}
    seen: dict[object, set[int]] = {}
    days: dict[object, list[int]] = {}
    for sid, day, v in rows:
        if sid is None:
            continue
        kinds = out.setdefault(sid, set())
        if day is None:
            kinds.add("null_time")
        elif not on_grid(day, freq):
            kinds.add("off_frequency")
        else:
            p = period(day, freq)
            if p in seen.setdefault(sid, set()):
                kinds.add("duplicate")
            seen[sid].add(p)
            days.setdefault(sid, []).append(day)
        if v is None or math.isnan(v):
            kinds.add("null_target")
        elif math.isinf(v):
            kinds.add("inf_target")
        elif abs(v) > MAX_QUANTITY:
            kinds.add("big_target")
        elif v < 0 and not allow_negative:
            kinds.add("negative_target")
    for sid, ds in days.items():
        if coarser(ds, freq):
            out[sid].add("spacing")
        ps = sorted({period(d, freq) for d in ds})
        if fill_gaps == "error" and ps and ps[-1] - ps[0] + 1 > len(ps):
            out[sid].add("gap")
    return {k: v for k, v in out.items() if v}
