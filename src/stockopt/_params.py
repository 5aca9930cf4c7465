"""Declarative checks of public function arguments: each function states its parameters' rules once.

A public function is decorated with :func:`validate_params` and a mapping from parameter names to
constraints; the decorator checks the arguments the caller passed (defaults are trusted) before the
body runs, and raises :class:`~stockopt.errors.ParameterError` through
:func:`~stockopt.errors.raise_error`, so that every refusal reads the same way::

    forecast: bad argument for parameter 'h': expected an integer >= 1, got 0

A list of constraints means "any of them".  Each constraint also produces a value it refuses
(:meth:`Constraint.invalid`), which the common tests use to check every declared parameter of every
public function.  The idea is scikit-learn's ``validate_params`` (``sklearn/utils/_param_validation.py``);
this is a much smaller implementation of our own.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from stockopt.errors import ParameterError, raise_error

__all__ = [
    "Constraint",
    "Integer",
    "Real",
    "Options",
    "Boolean",
    "Instance",
    "SequenceOf",
    "PathLike",
    "validate_params",
    "check_param",
    "describe_rule",
]

F = TypeVar("F", bound=Callable[..., Any])


class Constraint(ABC):
    """One accepted kind of value: :meth:`ok` tests it, :meth:`describe` says it in words."""

    @abstractmethod
    def ok(self, value: Any) -> bool:
        """Whether ``value`` is accepted."""

    @abstractmethod
    def describe(self) -> str:
        """The accepted values in words (for error messages)."""

    def invalid(self) -> Any:
        """A value this constraint refuses (used by the common tests)."""
        return object()


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class Integer(Constraint):
    """An integer (not a bool) in ``[lo, hi]``; ``None`` leaves a side open."""

    def __init__(self, lo: int | None = None, hi: int | None = None) -> None:
        self.lo, self.hi = lo, hi

    def ok(self, value: Any) -> bool:
        return _is_int(value) and (self.lo is None or value >= self.lo) and \
            (self.hi is None or value <= self.hi)

    def describe(self) -> str:
        if self.lo is not None and self.hi is not None:
            return f"an integer in [{self.lo}, {self.hi}]"
        if self.lo is not None:
            return f"an integer >= {self.lo}"
        if self.hi is not None:
            return f"an integer <= {self.hi}"
        return "an integer"

    def invalid(self) -> Any:
        return self.lo - 1 if self.lo is not None else (self.hi + 1 if self.hi is not None else 0.5)


class Real(Constraint):
    """A real number (ints accepted, bools refused) between ``lo`` and ``hi``.

    ``lo_open``/``hi_open`` exclude the bounds; ``finite`` refuses infinities (NaN is always refused).
    """

    def __init__(self, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
                 hi_open: bool = False, finite: bool = True) -> None:
        self.lo, self.hi, self.lo_open, self.hi_open, self.finite = lo, hi, lo_open, hi_open, finite

    def ok(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            return False
        v = float(value)
        if math.isnan(v) or (self.finite and math.isinf(v)):
            return False
        if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
            return False
        return not (self.hi is not None and (v >= self.hi if self.hi_open else v > self.hi))

    def describe(self) -> str:
        kind = "a finite number" if self.finite else "a number"
        if self.lo is not None and self.hi is not None:
            left, right = "(" if self.lo_open else "[", ")" if self.hi_open else "]"
            return f"{kind} in {left}{self.lo:g}, {self.hi:g}{right}"
        if self.lo is not None:
            return f"{kind} {'>' if self.lo_open else '>='} {self.lo:g}"
        if self.hi is not None:
            return f"{kind} {'<' if self.hi_open else '<='} {self.hi:g}"
        return kind

    def invalid(self) -> Any:
        if self.lo is not None:
            return self.lo if self.lo_open else self.lo - 1.0
        if self.hi is not None:
            return self.hi if self.hi_open else self.hi + 1.0
        return float("nan")


class Options(Constraint):
    """One of a few fixed values (compared with ``==``)."""

    def __init__(self, *choices: Any) -> None:
        self.choices = tuple(choices)

    def ok(self, value: Any) -> bool:
        try:
            return any(type(value) is type(c) and value == c for c in self.choices)
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        names = [repr(c) for c in self.choices]
        return "one of " + ", ".join(names) if len(names) > 1 else names[0]

    def invalid(self) -> Any:
        return "not-an-option" if all(isinstance(c, str) for c in self.choices) else object()


class Boolean(Constraint):
    """``True`` or ``False`` (NumPy booleans too; not 0 or 1)."""

    def ok(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def describe(self) -> str:
        return "True or False"

    def invalid(self) -> Any:
        return "yes"


class Instance(Constraint):
    """An instance of one of ``types`` (``None`` in ``types`` allows None)."""

    def __init__(self, *types: type | None, name: str | None = None) -> None:
        self.types = tuple(type(None) if t is None else t for t in types)
        self.name = name

    def ok(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def describe(self) -> str:
        if self.name:
            return self.name
        names = ["None" if t is type(None) else f"a {t.__name__}" for t in self.types]
        return " or ".join(names)

    def invalid(self) -> Any:
        return 12345 if int not in self.types else object()


class PathLike(Instance):
    """A folder or file path (``str`` or ``os.PathLike``)."""

    def __init__(self) -> None:
        super().__init__(str, os.PathLike, name="a path (str or os.PathLike)")


class SequenceOf(Constraint):
    """A list or tuple (not a string) whose items each satisfy ``item``; at least ``min_len`` items,
    and with ``unique`` no two equal items."""

    def __init__(self, item: Constraint | list[Constraint], *, min_len: int = 0,
                 unique: bool = False) -> None:
        self.item = item
        self.min_len = min_len
        self.unique = unique

    def ok(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
            return False
        if len(value) < self.min_len or not all(_satisfies(self.item, v) for v in value):
            return False
        if self.unique:
            try:
                return len(set(value)) == len(value)
            except TypeError:  # unhashable items: compare them pairwise
                return all(a != b for i, a in enumerate(value) for b in value[i + 1:])
        return True

    def describe(self) -> str:
        what = describe_rule(self.item)
        size = f"at least {self.min_len} " if self.min_len > 1 else ("one or more " if self.min_len else "")
        distinct = "distinct " if self.unique else ""
        return f"a list of {size}{distinct}items, each {what}"

    def invalid(self) -> Any:
        return [_invalid(self.item)]


def _satisfies(rule: Constraint | list[Constraint] | None, value: Any) -> bool:
    if rule is None:
        return value is None
    if isinstance(rule, list):
        return any(_satisfies(r, value) for r in rule)
    return rule.ok(value)


def describe_rule(rule: Constraint | list[Constraint] | None) -> str:
    """The sentence of what a rule (a constraint, ``None`` or a list of them) accepts."""
    if rule is None:
        return "None"
    if isinstance(rule, list):
        return " or ".join(describe_rule(r) for r in rule)
    return rule.describe()


def _invalid(rule: Constraint | list[Constraint] | None) -> Any:
    """A value refused by every alternative of ``rule``."""
    options = rule if isinstance(rule, list) else [rule]
    for r in options:
        if r is None:
            continue
        cand = r.invalid()
        if not _satisfies(rule, cand):
            return cand
    return object()


def invalid_value(rule: Constraint | list[Constraint] | None) -> Any:
    """A value that ``rule`` refuses (the common tests call each function with it)."""
    return _invalid(rule)


def check_param(value: Any, rule: Constraint | list[Constraint] | None, *, name: str, where: str) -> None:
    """Raise :class:`~stockopt.errors.ParameterError` when ``value`` breaks ``rule``.

    ``where`` names the function (or model) the argument was given to.
    """
    if not _satisfies(rule, value):
        raise_error(ParameterError, "bad argument", table=where, parameter=name, expected=describe_rule(rule),
                    got=value)


def validate_params(rules: Mapping[str, Constraint | list[Constraint] | None]) -> Callable[[F], F]:
    """Decorate a public function with the rules of its parameters.

    The arguments the caller passes are checked against ``rules`` before the function runs;
    defaults are trusted.  The rules are kept on the function as ``param_rules``.

    Examples
    --------
    >>> rules = {"h": Integer(1), "level": [None, SequenceOf(Real(0, 100, lo_open=True, hi_open=True))]}
    >>> @validate_params(rules)
    ... def f(data, h, *, level=None):
    ...     return h
    >>> f(None, 3)
    3
    >>> f(None, 0)
    Traceback (most recent call last):
    ...
    stockopt.errors.ParameterError: f: bad argument for parameter 'h': expected an integer >= 1, got 0
    >>> f(None, 2, level=[80, 120])
    Traceback (most recent call last):
    ...
    stockopt.errors.ParameterError: f: bad argument for parameter 'level': expected None or a list of items, \
each a finite number in (0, 100), got [80, 120]
    """

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        unknown = set(rules) - set(sig.parameters)
        if unknown:  # a rule for a parameter the function does not have is a programming error
            raise TypeError(f"{fn.__qualname__}: rules for unknown parameters {sorted(unknown)}")
        name = fn.__name__

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            for pname, value in bound.arguments.items():
                if pname in rules:
                    check_param(value, rules[pname], name=pname, where=name)
            return fn(*args, **kwargs)

        wrapper.param_rules = dict(rules)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
