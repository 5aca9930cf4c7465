"""Frequencies of demand series and the mapping between dates and integer period numbers.

Kernels work on integer period numbers (day, week or month counts since 1970-01-01); this module
converts dates to those numbers and back.  Frequencies are named with the pandas aliases users know:

========  ==================================================  =====================
alias     meaning                                             days per period
========  ==================================================  =====================
``D``     calendar days                                       1
``W``     weeks ending Sunday (pandas ``W`` = ``W-SUN``);     7
          ``W-MON`` ... ``W-SAT`` anchor on another weekday
``MS``    months, stamped on the first day                    365.25 / 12
``ME``    months, stamped on the last day (``M`` accepted)    365.25 / 12
``QS``    quarters, stamped on the first day (Jan/Apr/Jul/Oct) 365.25 / 4
``YS``    years, stamped on January 1st                       365.25
========  ==================================================  =====================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stockopt.errors import FrequencyError, raise_error

__all__ = ["Frequency", "parse_freq", "infer_freq", "weekday"]

_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# 1970-01-01 was a Thursday (weekday 3 with Monday = 0)
_EPOCH_WEEKDAY = 3


@dataclass(frozen=True)
class Frequency:
    """A regular calendar frequency.

    Parameters
    ----------
    kind : {"D", "W", "MS", "ME", "QS", "YS"}
        The unit of a period.
    anchor : int
        For weekly frequencies, the weekday every stamp falls on (0 = Monday ... 6 = Sunday).
    """

    kind: str
    anchor: int = 0

    @property
    def alias(self) -> str:
        """The pandas-style alias (``"D"``, ``"W-SUN"``, ``"MS"`` ...)."""
        if self.kind == "W":
            return f"W-{_WEEKDAYS[self.anchor]}"
        return self.kind

    @property
    def days_per_period(self) -> float:
        """Average number of days in one period (used to convert lead times given in days)."""
        return {"D": 1.0, "W": 7.0, "MS": 365.25 / 12, "ME": 365.25 / 12, "QS": 365.25 / 4, "YS": 365.25}[
            self.kind
        ]

    @property
    def nominal_days(self) -> float:
        """Length in days the inventory stage gives one period of a forecast table: 1, 7, 30 for a
        month, 91 for a quarter, 365 for a year (``stockopt.inventory.demand``: a 45-day lead time is
        1.5 monthly periods)."""
        return {"D": 1.0, "W": 7.0, "MS": 30.0, "ME": 30.0, "QS": 91.0, "YS": 365.0}[self.kind]

    @property
    def season_length(self) -> int:
        """The usual seasonal period: 7 for daily, 52 for weekly, 12 for monthly, 4 quarterly, 1 yearly."""
        return {"D": 7, "W": 52, "MS": 12, "ME": 12, "QS": 4, "YS": 1}[self.kind]

    def to_period(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map dates (integer days since 1970-01-01) to period numbers (same integer width for weeks and days).

        Returns
        -------
        periods : ndarray of int64
        on_grid : ndarray of bool
            False where a date does not sit on this frequency (e.g. a Tuesday in ``W-SUN`` data).
        """
        days = np.asarray(days)
        if days.dtype.kind != "i":
            days = days.astype(np.int64)
        if self.kind == "D":  # the same array (int32 or int64, as given): no copy
            return days, np.ones(days.shape, dtype=bool)
        if self.kind == "W":
            shifted = days + (_EPOCH_WEEKDAY - self.anchor)
            return np.floor_divide(shifted, 7), np.remainder(shifted, 7) == 0
        months = days.astype("datetime64[D]").astype("datetime64[M]")
        m = months.astype(np.int64)
        if self.kind == "MS":
            return m, months.astype("datetime64[D]").astype(np.int64) == days
        if self.kind == "ME":
            last = (months + 1).astype("datetime64[D]").astype(np.int64) - 1
            return m, last == days
        if self.kind == "QS":
            first = months.astype("datetime64[D]").astype(np.int64) == days
            return np.floor_divide(m, 3), first & (np.remainder(m, 3) == 0)
        # YS
        first = months.astype("datetime64[D]").astype(np.int64) == days
        return np.floor_divide(m, 12), first & (np.remainder(m, 12) == 0)

    def to_days(self, periods: np.ndarray) -> np.ndarray:
        """Map period numbers back to dates (int64 days since 1970-01-01); inverse of :meth:`to_period`."""
        p = np.asarray(periods, dtype=np.int64)
        if self.kind == "D":
            return p.copy()
        if self.kind == "W":
            return p * 7 - (_EPOCH_WEEKDAY - self.anchor)
        if self.kind == "MS":
            return p.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        if self.kind == "ME":
            return (p + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1
        if self.kind == "QS":
            return (p * 3).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        return (p * 12).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)

    def __str__(self) -> str:
        return self.alias


def weekday(days: np.ndarray) -> np.ndarray:
    """Weekday (0 = Monday ... 6 = Sunday) of dates given as integer days since 1970-01-01.

    Examples
    --------
    >>> weekday(np.array([0, 4])).tolist()  # 1970-01-01 was a Thursday, 1970-01-05 a Monday
    [3, 0]
    """
    return np.remainder(np.asarray(days, dtype=np.int64) + _EPOCH_WEEKDAY, 7)


def parse_freq(freq: str | Frequency) -> Frequency:
    """Parse a pandas-style frequency alias.

    Examples
    --------
    >>> parse_freq("W").alias
    'W-SUN'
    >>> parse_freq("W-MON").anchor
    0
    >>> parse_freq("M").alias
    'ME'
    """
    if isinstance(freq, Frequency):
        return freq
    if not isinstance(freq, str):
        raise_error(FrequencyError, "unknown frequency", parameter="freq",
                    expected="a string such as 'D', 'W-MON' or 'MS'", got=freq)
    f = freq.strip().upper()
    if f in ("D", "1D", "B"):
        if f == "B":
            raise_error(FrequencyError, "business-day frequency 'B' is not supported", parameter="freq",
                        expected="'D' (and fill closed days)", got=freq)
        return Frequency("D")
    if f in ("W", "1W"):
        return Frequency("W", 6)
    if f.startswith("W-") and f[2:] in _WEEKDAYS:
        return Frequency("W", _WEEKDAYS.index(f[2:]))
    if f in ("MS", "1MS"):
        return Frequency("MS")
    if f in ("M", "ME", "1M", "1ME"):
        return Frequency("ME")
    if f in ("QS", "QS-JAN"):
        return Frequency("QS")
    if f in ("YS", "AS", "YS-JAN", "AS-JAN"):
        return Frequency("YS")
    raise_error(FrequencyError, "unknown frequency", parameter="freq",
                expected="'D', 'W' (= 'W-SUN'), 'W-MON'..'W-SAT', 'MS', 'ME', 'QS' or 'YS'", got=freq)


def distinct_days(days: np.ndarray) -> np.ndarray:
    """Sorted distinct values (int64) of integer dates: one pass marking a table over their range when
    it is short next to their count (years of dates over millions of rows), a sort otherwise.

    Examples
    --------
    >>> distinct_days(np.array([5, 3, 5, 4, 3], dtype=np.int32)).tolist()
    [3, 4, 5]
    """
    d = np.asarray(days)
    if d.size == 0:
        return np.empty(0, dtype=np.int64)
    lo, hi = int(d.min()), int(d.max())
    if hi - lo < 4 * d.size + 4096:
        seen = np.bincount(d - d.dtype.type(lo), minlength=hi - lo + 1)  # d - lo: no overflow in d's width
        return np.flatnonzero(seen).astype(np.int64) + lo
    return np.unique(d.astype(np.int64))


def infer_freq(days: np.ndarray) -> Frequency:
    """Infer the frequency of dates (int64 days since 1970-01-01) from their calendar pattern.

    Monthly if every date is a first of month (``MS``) or a month end (``ME``) and they span more
    than one month; weekly, anchored on the common weekday, if all dates share one weekday;
    otherwise daily.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array(["2024-01-07", "2024-01-14"], dtype="datetime64[D]").astype(np.int64)
    >>> infer_freq(d).alias
    'W-SUN'
    """
    days = distinct_days(days)
    if days.size <= 1:
        return Frequency("D")
    for kind in ("YS", "QS", "MS", "ME"):
        f = Frequency(kind)
        periods, on_grid = f.to_period(days)
        if on_grid.all() and np.unique(periods).size == days.size:
            return f
    wd = weekday(days)
    if (wd == wd[0]).all():
        return Frequency("W", int(wd[0]))
    return Frequency("D")
