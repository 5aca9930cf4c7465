"""The one exception family of stockopt.

Every error raised for bad input is a :class:`StockoptError` and also a ``ValueError`` (bad data or
arguments) or ``RuntimeError`` (a computation that could not be carried out), so callers can catch
either the family or the builtin they already handle.  Messages name the table, the column, the
series and the first offending row, and say what would be accepted; build them with
:func:`describe` so they all read the same way.
"""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

__all__ = [
    "StockoptError",
    "ValidationError",
    "MissingColumnError",
    "ColumnTypeError",
    "NullValueError",
    "NegativeValueError",
    "NonFiniteValueError",
    "DuplicateRowError",
    "FrequencyError",
    "EmptyInputError",
    "SeriesTooShortError",
    "ParameterError",
    "FileError",
    "ComputationError",
    "StockoptWarning",
    "FallbackWarning",
    "DataQualityWarning",
    "describe",
    "raise_error",
    "warn_fallback",
]


class StockoptError(Exception):
    """Base class of every stockopt error.

    Attributes
    ----------
    table, column, series, row : optional
        Where the problem is: the table's role (``"sales"``, ``"items"`` ...), the column name, the
        series id and the 0-based row number in the table as the caller passed it.
    parameter : str, optional
        For a bad argument: the parameter's name (``table`` is then the function's name).
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        series: Any = None,
        row: int | None = None,
        parameter: str | None = None,
    ) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.series = series
        self.row = row
        self.parameter = parameter


class ValidationError(StockoptError, ValueError):
    """Input data or arguments that stockopt cannot accept."""


class MissingColumnError(ValidationError):
    """A required column is absent."""


class ColumnTypeError(ValidationError):
    """A column has a type stockopt cannot use."""


class NullValueError(ValidationError):
    """A null where none is allowed (ids, times, or targets without a ``missing`` policy)."""


class NegativeValueError(ValidationError):
    """A negative quantity where only non-negative ones make sense."""


class NonFiniteValueError(ValidationError):
    """NaN or infinity in a quantity."""


class DuplicateRowError(ValidationError):
    """The same (series, time) pair appears twice."""


class FrequencyError(ValidationError):
    """A time stamp does not sit on the declared frequency, or the frequency is unknown."""


class EmptyInputError(ValidationError):
    """The table has no rows (or no series left to work on)."""


class SeriesTooShortError(ValidationError):
    """A series has fewer observations than the method needs."""


class ParameterError(ValidationError):
    """An argument or a per-item parameter is out of its allowed range."""


class FileError(ValidationError):
    """A file or folder cannot be used: an input that is not a readable Parquet file or dataset
    (corrupt, truncated, not Parquet), or an output path that cannot be written (a file where a
    folder is expected, a read-only folder)."""


class ComputationError(StockoptError, RuntimeError):
    """A computation failed for a reason other than the input's shape (should be rare)."""


class StockoptWarning(UserWarning):
    """Base class of stockopt warnings."""


class FallbackWarning(StockoptWarning):
    """A method could not be applied as asked and a simpler one was used instead."""


class DataQualityWarning(StockoptWarning):
    """The input was accepted but looks doubtful (e.g. most of a series' periods were missing and
    filled), so its results deserve a look."""


def describe(
    what: str,
    *,
    table: str | None = None,
    column: str | None = None,
    series: Any = None,
    row: int | None = None,
    parameter: str | None = None,
    expected: str | None = None,
    got: Any = None,
) -> str:
    """Build an error message that names where the problem is and what would be accepted.

    Examples
    --------
    >>> describe("negative demand", table="sales", column="y", series="A", row=3,
    ...          expected="y >= 0", got=-2.0)
    "sales: negative demand in column 'y', series 'A', row 3: expected y >= 0, got -2.0"
    >>> describe("bad argument", table="forecast", parameter="h", expected="an integer >= 1", got=0)
    "forecast: bad argument for parameter 'h': expected an integer >= 1, got 0"
    """
    if parameter is not None:
        what = f"{what} for parameter {parameter!r}"
    where = []
    if column is not None:
        where.append(f"column {column!r}")
    if series is not None:
        where.append(f"series {series!r}")
    if row is not None:
        where.append(f"row {row}")
    msg = f"{table}: {what}" if table else what
    if where:
        msg += " in " + ", ".join(where)
    tail = []
    if expected is not None:
        tail.append(f"expected {expected}")
    if got is not None:
        tail.append(f"got {got!r}")
    if tail:
        msg += ": " + ", ".join(tail)
    return msg


def raise_error(
    cls: type[StockoptError],
    what: str,
    *,
    table: str | None = None,
    column: str | None = None,
    series: Any = None,
    row: int | None = None,
    parameter: str | None = None,
    expected: str | None = None,
    got: Any = None,
) -> NoReturn:
    """Raise ``cls`` with a :func:`describe` message and the location attributes set.

    Examples
    --------
    >>> raise_error(ParameterError, "bad argument", table="forecast", parameter="h",
    ...             expected="an integer >= 1", got=0)
    Traceback (most recent call last):
    ...
    stockopt.errors.ParameterError: forecast: bad argument for parameter 'h': expected an integer >= 1, got 0
    """
    msg = describe(what, table=table, column=column, series=series, row=row, parameter=parameter,
                   expected=expected, got=got)
    raise cls(msg, table=table, column=column, series=series, row=row, parameter=parameter)


def warn_fallback(message: str, stacklevel: int = 3) -> None:
    """Emit a :class:`FallbackWarning` (a method fell back to a simpler one)."""
    warnings.warn(message, FallbackWarning, stacklevel=stacklevel)
