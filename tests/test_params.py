"""Declarative argument checks: every declared parameter of every public function refuses a bad value
the same way, and the constraint classes accept exactly what they describe."""

from __future__ import annotations

import datetime as dt
import inspect
import math

import numpy as np
import pyarrow as pa
import pytest

import stockopt as so
from stockopt._params import (
    Boolean,
    Instance,
    Integer,
    Options,
    Real,
    SequenceOf,
    check_param,
    describe_rule,
    invalid_value,
    validate_params,
)
from stockopt.errors import ParameterError


def _sales() -> pa.Table:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(30)]
    return pa.table({"unique_id": ["a"] * 30 + ["b"] * 30, "ds": days * 2,
                     "y": [float(i % 7) for i in range(60)]})


def _demand() -> pa.Table:
    return pa.table({"unique_id": ["a", "b"], "demand_mean": [3.0, 1.0], "demand_std": [1.0, 0.5]})


def _items() -> pa.Table:
    return pa.table({"unique_id": ["a", "b"], "lead_time": [2.0, 3.0]})


def _runs() -> pa.Table:
    return pa.table({"unique_id": ["a"], "start": [dt.date(2024, 1, 3)], "end": [dt.date(2024, 1, 5)]})


def _sales_promo() -> pa.Table:
    return _sales().append_column("promo", pa.array([i % 5 == 0 for i in range(60)]))


def _future_promo() -> pa.Table:
    days = [dt.date(2024, 1, 31), dt.date(2024, 2, 1)]
    return pa.table({"unique_id": ["a", "a", "b", "b"], "ds": days * 2, "promo": [True, False, False, True]})


#: every public function with argument rules, and a valid call's positional arguments
PUBLIC = {
    "forecast": (so.forecast, lambda: (_sales(), 2)),
    "cross_validation": (so.cross_validation, lambda: (_sales(), 2)),
    "simulate": (so.simulate, lambda: (_sales(), 2)),
    "evaluate": (so.evaluate, lambda: (pa.table({"unique_id": ["a"], "y": [1.0], "M": [1.0]}),)),
    "group_series": (so.group_series, lambda: (_sales(),)),
    "quarantine": (so.quarantine, lambda: (_sales(),)),
    "quarantine_items": (so.quarantine_items, lambda: (_items(), pa.array(["a", "b"]))),
    "run_nightly": (so.run_nightly, lambda: (_sales(),)),
    "plan": (so.plan, lambda: (_sales(),)),
    "inventory_policy": (so.inventory_policy, lambda: (_demand(), _items())),
    "simulate_inventory": (so.simulate_inventory,
                           lambda: (so.inventory_policy(_demand(), _items()), _demand())),
    "optimize_service": (so.optimize_service, lambda: (_demand(), _items())),
    "service_frontier": (so.service_frontier, lambda: (_demand(), _items())),
    "history_profile": (so.history_profile, lambda: (_sales(),)),
    "demand_summary": (so.demand_summary, lambda: (_sales(),)),
    "replenish_plan": (so.replenish_plan, lambda: (*_supply(), {"as_of": "2024-01-31"})),
    "replenish": (so.replenish, lambda: (*_supply(), {"as_of": "2024-01-31"})),
    "alerts": (so.alerts, lambda: (*_supply()[:2], None, _supply()[2], {"as_of": "2024-01-31"})),
    "project_kpis": (so.project_kpis, lambda: (so.replenish_plan(*_supply(), as_of="2024-01-31"),)),
    "synthetic_retail": (so.datasets.synthetic_retail, lambda: ()),
    "synthetic_supply": (so.datasets.synthetic_supply, lambda: (_sales(),)),
    "load_dataset": (so.datasets.load_dataset, lambda: ("m5",)),
    "make_model": (so.models.make_model, lambda: ("naive",)),
    "resolve_models": (so.models.resolve_models, lambda: (["naive"],)),
    "report": (so.report, lambda: ("no_such_run_folder",)),
    "classify_demand": (so.classify_demand, lambda: (_sales(),)),
    "check_data": (so.check_data, lambda: (_sales(),)),
    "detect_stockouts": (so.detect_stockouts, lambda: (_sales(),)),
    "mark_stockouts": (so.mark_stockouts, lambda: (_sales(), _runs())),
    "estimate_demand": (so.estimate_demand,
                        lambda: (_sales().append_column("in_stock", pa.array([True] * 60)),)),
    "forecast_drivers": (so.forecast_drivers, lambda: (_sales_promo(), 2, _future_promo())),
    "holiday_calendar": (so.holiday_calendar, lambda: ("US", 2024)),
}

def _supply() -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """stock, policy, items and suppliers of two items."""
    items = _items().append_column("supplier_id", pa.array(["s", "s"]))
    stock = pa.table({"unique_id": ["a", "b"], "on_hand": [1.0, 9.0]})
    return stock, so.inventory_policy(_demand(), _items()), items, pa.table({"supplier_id": ["s"]})


def _bind(fn, args: tuple) -> dict:
    """A valid call's arguments by name (a trailing dict holds the keyword-only data)."""
    kw = args[-1] if args and isinstance(args[-1], dict) else {}
    return {**inspect.signature(fn).bind_partial(*args[:len(args) - bool(kw)]).arguments, **kw}


#: parameters that hold the data itself (checked by the rule table of columns, not by argument rules)
DATA_ARGS = {"sales", "cv", "train", "demand", "items", "policy", "ids", "data", "name", "models",
             "history", "stock", "suppliers", "open_orders", "forecast", "plan", "X_future", "drivers",
             "stockouts", "effects",
             "options"}  # so.plan(**options): run_nightly's options, checked by run_nightly's rules

CASES = [(fname, pname) for fname, (fn, _) in PUBLIC.items() for pname in fn.param_rules]


def test_every_public_function_declares_its_options():
    for fname, (fn, _) in PUBLIC.items():
        params = set(inspect.signature(fn).parameters)
        undeclared = params - set(fn.param_rules) - DATA_ARGS
        assert not undeclared, (fname, undeclared)
    # the top-level namespace has no other public function taking options
    checked = {fn for fn, _ in PUBLIC.values()}
    for name in so.__all__:
        obj = getattr(so, name)
        if inspect.isfunction(obj) and len(inspect.signature(obj).parameters) > 1:
            assert obj in checked or name in ("parse_freq", "infer_freq"), name


@pytest.mark.parametrize("fname,pname", CASES)
def test_a_bad_value_of_every_declared_parameter_is_refused_by_name(fname, pname):
    fn, args = PUBLIC[fname]
    rule = fn.param_rules[pname]
    bad = invalid_value(rule)
    call = _bind(fn, args())
    call[pname] = bad
    with pytest.raises(ParameterError) as info:
        fn(**call)
    err = info.value
    assert err.parameter == pname and err.table == fname
    want = f"{fname}: bad argument for parameter {pname!r}: expected {describe_rule(rule)}"
    assert str(err).startswith(want)


def test_defaults_satisfy_their_own_rules():
    for fname, (fn, _) in PUBLIC.items():
        for pname, p in inspect.signature(fn).parameters.items():
            if pname in fn.param_rules and p.default is not inspect.Parameter.empty:
                check_param(p.default, fn.param_rules[pname], name=pname, where=fname)


def test_constraints_accept_exactly_what_they_describe():
    assert Integer(1).ok(1) and Integer(1).ok(np.int64(3)) and not Integer(1).ok(0)
    assert not Integer(0).ok(True) and not Integer(0).ok(1.0) and not Integer(0, 5).ok(6)
    r = Real(0, 1, lo_open=True, hi_open=True)
    assert r.ok(0.5) and r.ok(1e-12) and not r.ok(0) and not r.ok(1) and not r.ok(math.nan) and not r.ok(True)
    assert Real(0).ok(0) and not Real(0).ok(math.inf) and Real(0, finite=False).ok(math.inf)
    assert Options("a", "b").ok("a") and not Options("a", "b").ok("c") and not Options(1, 2).ok(True)
    assert Boolean().ok(True) and Boolean().ok(np.bool_(False)) and not Boolean().ok(1)
    assert Instance(str).ok("x") and not Instance(str).ok(1)
    s = SequenceOf(Real(0, 100, lo_open=True, hi_open=True), min_len=1)
    assert s.ok([80, 95.0]) and s.ok((50,)) and s.ok(np.array([80.0])) and not s.ok([]) and not s.ok("80")
    assert not s.ok([80, 100])
    assert describe_rule([None, Integer(1)]) == "None or an integer >= 1"
    assert describe_rule(Real(0, 1, lo_open=True)) == "a finite number in (0, 1]"


def test_invalid_values_break_every_alternative():
    rules = [Integer(1), [None, Integer(1)], [Boolean(), Integer(0)], SequenceOf(Instance(str)),
             [Instance(str), SequenceOf(Instance(str), min_len=1)], Options("x", "y"), Real(0, lo_open=True)]
    for rule in rules:
        bad = invalid_value(rule)
        with pytest.raises(ParameterError):
            check_param(bad, rule, name="p", where="f")


def test_a_rule_for_a_parameter_the_function_lacks_is_a_programming_error():
    with pytest.raises(TypeError, match="unknown parameters"):
        @validate_params({"hh": Integer(1)})
        def f(h):  # pragma: no cover - never called
            return h


def test_the_rules_run_before_any_work():
    """A bad option is refused even when the data could not be read at all."""
    with pytest.raises(ParameterError, match="n_jobs"):
        so.forecast("/no/such/file.parquet", 3, n_jobs=0)
    with pytest.raises(ParameterError, match="season_length"):
        so.forecast(_sales(), 3, season_length=0)  # no silent replacement by the frequency's 7
