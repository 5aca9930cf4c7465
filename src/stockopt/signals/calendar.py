"""Calendar effects: country holidays as event tables, event flags on a grouping's periods, and a
yearly seasonal profile per series for daily data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from stockopt._arrow import require_columns, time_to_days, to_table
from stockopt._params import Boolean, Instance, Integer, SequenceOf, validate_params
from stockopt.data import GroupedSeries
from stockopt.errors import ParameterError, raise_error

__all__ = ["holiday_calendar", "event_flags", "yearly_profile"]


@validate_params({"country": Instance(str), "years": [Integer(1), SequenceOf(Integer(1), min_len=1),
                                                     Instance(range, name="a range of years")],
                  "subdiv": [None, Instance(str)], "observed": Boolean()})
def holiday_calendar(country: str, years: Any, *, subdiv: str | None = None,
                     observed: bool = True) -> pa.Table:
    """Public holidays of ``country`` as an event table ``ds, event``, from the maintained ``holidays``
    package (not a hand-written list).

    Parameters
    ----------
    country : str
        ISO 3166 code (``"US"``, ``"DE"``, ``"MX"`` ...).
    years : int, list of int or range
        Calendar years to list (cover the history and the horizon).
    subdiv : str, optional
        Subdivision (state, province) code, e.g. ``"CA"``.
    observed : bool
        Include the days a holiday is observed on when it falls on a weekend.

    Returns
    -------
    pyarrow.Table
        ``ds`` (date32) and ``event`` (the holiday's name), one row per date and holiday, sorted.

    Examples
    --------
    >>> t = holiday_calendar("US", 2016)
    >>> [r for r in t.to_pylist() if r["event"] == "Independence Day"]
    [{'ds': datetime.date(2016, 7, 4), 'event': 'Independence Day'}]
    """
    import holidays

    yrs = [int(years)] if isinstance(years, (int, np.integer)) else [int(y) for y in years]
    try:
        cal = holidays.country_holidays(country, subdiv=subdiv, years=yrs, observed=observed)
    except NotImplementedError as err:
        raise_error(ParameterError, f"bad argument ({err})", table="holiday_calendar",
                    parameter="country" if subdiv is None else "subdiv",
                    expected="an ISO 3166 code (and subdivision) the holidays package knows",
                    got=country if subdiv is None else subdiv)
    rows = sorted((d, name) for d, names in cal.items() for name in str(names).split("; "))
    return pa.table({"ds": pa.array([d for d, _ in rows], pa.date32()),
                     "event": pa.array([n for _, n in rows], pa.string())})


def event_flags(grouped: GroupedSeries, calendar: Any, periods: np.ndarray) -> dict[str, np.ndarray]:
    """One 0/1 column per event name of ``calendar`` (``ds, event``) over the given period numbers:
    1 where a date of the event falls in the period (a week or month holding the holiday)."""
    tbl = to_table(calendar, table="calendar")
    require_columns(tbl, {"ds": "ds", "event": "event"}, table="calendar")
    days, _ = time_to_days(tbl.column("ds"), table="calendar", column="ds")
    ev_period, _ = grouped.freq.to_period(np.asarray(days, np.int64))
    names = tbl.column("event").to_pylist()
    out: dict[str, np.ndarray] = {}
    for name in sorted(set(n for n in names if n is not None)):  # a loop over event names, not rows
        sel = np.array([n == name for n in names])
        hit = np.unique(np.asarray(ev_period, np.int64)[sel])
        out[f"event:{name}"] = np.isin(periods, hit).astype(np.float64)
    return out


def yearly_profile(grouped: GroupedSeries, values: np.ndarray, use: np.ndarray, smooth: np.ndarray,
                   h: int, n_pairs: int = 2, window: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Per-series yearly seasonal factors for the history and the next ``h`` periods (daily data).

    For each series with ``smooth`` True and at least 365 usable periods, the log of its centred
    ``window``-day moving average (over ``use`` periods, relative to the series mean) is regressed
    on ``n_pairs`` Fourier pairs of the day of the year; the factors are ``exp`` of the fit, scaled
    to average 1 over the history.  Other series get 1.  Returns ``(history factors, future
    factors (n_series, h))``.
    """
    n = grouped.n_series
    lengths = grouped.lengths
    hist_f = np.ones(values.shape[0])
    fut_f = np.ones((n, h))
    if grouped.freq.kind != "D":
        return hist_f, fut_f
    owner = np.repeat(np.arange(n), lengths)
    v = np.where(use, values, 0.0)
    c = use.astype(np.float64)
    cs_v = np.concatenate([[0.0], np.cumsum(v)])
    cs_c = np.concatenate([[0.0], np.cumsum(c)])
    pos = np.arange(values.shape[0])
    lo = np.maximum(pos - window // 2, grouped.indptr[:-1][owner])
    hi = np.minimum(pos + window // 2 + 1, grouped.indptr[1:][owner])
    cnt = cs_c[hi] - cs_c[lo]
    ma = (cs_v[hi] - cs_v[lo]) / np.maximum(cnt, 1.0)
    used = np.bincount(owner, weights=c, minlength=n)
    mean = np.bincount(owner, weights=v, minlength=n) / np.maximum(used, 1)
    eps = 0.1 * mean[owner] + 1e-9
    target = np.log((ma + eps) / (mean[owner] + eps))
    days = grouped.freq.to_days(grouped.periods())
    design = _fourier(days, n_pairs)
    ok_series = smooth & (np.bincount(owner, weights=c, minlength=n) >= 365)
    w = ((cnt >= window // 2) & ok_series[owner]).astype(np.float64)
    k = design.shape[1]
    # per-series normal equations from sums of products (one bincount per pair of columns)
    xtx = np.zeros((n, k, k))
    xty = np.zeros((n, k))
    for a in range(k):
        xty[:, a] = np.bincount(owner, weights=w * design[:, a] * target, minlength=n)
        for b in range(a, k):
            s = np.bincount(owner, weights=w * design[:, a] * design[:, b], minlength=n)
            xtx[:, a, b] = s
            xtx[:, b, a] = s
    fit_rows = np.flatnonzero(ok_series)
    if fit_rows.size == 0:
        return hist_f, fut_f
    coef = np.zeros((n, k))
    coef[fit_rows] = np.linalg.solve(xtx[fit_rows] + 1e-6 * np.eye(k), xty[fit_rows][..., None])[..., 0]
    coef[:, 0] = 0.0  # the intercept is the level's business
    log_hist = np.einsum("ij,ij->i", design, coef[owner])
    norm = np.bincount(owner, weights=np.exp(log_hist), minlength=n) / np.maximum(lengths, 1)
    hist_f = np.exp(log_hist) / norm[owner]
    fut_days = grouped.freq.to_days(grouped.future_periods(h).ravel())
    fd = _fourier(fut_days, n_pairs)
    fut_f = (np.exp(np.einsum("ij,ij->i", fd, np.repeat(coef, h, axis=0))).reshape(n, h) / norm[:, None])
    return hist_f, fut_f


def _fourier(days: np.ndarray, n_pairs: int) -> np.ndarray:
    """Intercept and ``n_pairs`` sine/cosine pairs of the day of the year (period 365.25 days)."""
    ang = 2 * np.pi * np.asarray(days, np.float64) / 365.25
    cols = [np.ones(ang.shape)]
    for k in range(1, n_pairs + 1):
        cols += [np.sin(k * ang), np.cos(k * ang)]
    return np.column_stack(cols)

