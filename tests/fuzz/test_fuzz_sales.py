"""Fuzzed sales tables: the quarantine, the grouping, the forecast and the nightly run against oracles.

Tables mix ids, frequencies, values across the float range (0, subnormal, 1e15, beyond, NaN, inf,
negative, nulls), duplicates, gaps and off-grid dates (:mod:`tests.fuzz.strategies`).  Oracles: the
slow twin of the sales checks (:mod:`tests.reference.sales_checks`), the slow twin of the grouping
(:mod:`tests.reference.grouping`), the outcome checks of :mod:`tests.fuzz.outcomes`, and the
project's invariance "a series' result does not depend on the other series in the table".
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stockopt as so
from stockopt.errors import (
    DuplicateRowError,
    EmptyInputError,
    FrequencyError,
    NegativeValueError,
    NonFiniteValueError,
    NullValueError,
    ParameterError,
    StockoptError,
)

from ..reference.grouping import group_rows
from ..reference.sales_checks import KINDS, period, problems
from .outcomes import assert_sane_forecast, assert_sane_policy
from .strategies import fuzz_settings, rows_table, sales_rows

FREQS = st.sampled_from(["D", "D", "W-SUN", "MS"])

#: the error group_series raises for each kind of problem
ERROR_OF = {"null_time": NullValueError, "off_frequency": FrequencyError, "null_target": NullValueError,
            "inf_target": NonFiniteValueError, "big_target": ParameterError,
            "negative_target": NegativeValueError, "duplicate": DuplicateRowError, "spacing": FrequencyError,
            "gap": FrequencyError}


def _kind_of_reason(reason: str) -> str:
    """The problem kind of a quarantine reason (reasons may end with the frequency's alias)."""
    for kind, text in KINDS.items():
        if reason.startswith(text):
            return kind
    raise AssertionError(f"unknown quarantine reason {reason!r}")


@fuzz_settings(ci=60)
@given(data=st.data(), freq=FREQS, allow_negative=st.booleans())
def test_quarantine_sets_aside_exactly_the_bad_series(data, freq, allow_negative):
    rows = data.draw(sales_rows(freq=freq))
    tbl = rows_table(rows)
    want = problems(rows, freq, allow_negative=allow_negative)
    clean, report = so.quarantine(tbl, freq=freq, allow_negative=allow_negative)
    got = {r["unique_id"]: r["reason"] for r in report.to_pylist() if r["unique_id"] is not None}
    assert set(got) == set(want)
    for sid, reason in got.items():
        assert _kind_of_reason(reason) in want[sid], (sid, reason, want[sid])
    null_ids = sum(r[0] is None for r in rows)
    assert (report.num_rows - len(got) == 1) == (null_ids > 0)
    kept = [r for r in rows if r[0] is not None and r[0] not in want]
    assert clean.num_rows == len(kept)


@fuzz_settings(ci=60)
@given(data=st.data(), freq=FREQS)
def test_group_series_refuses_a_really_bad_series_or_groups_exactly(data, freq):
    rows = data.draw(sales_rows(freq=freq))
    tbl = rows_table(rows)
    want = problems(rows, freq)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            g = so.group_series(tbl, freq=freq)
        except StockoptError as exc:
            if exc.series is None:  # only a null id is not attributed to a series
                assert "null series id" in str(exc) and any(r[0] is None for r in rows)
                return
            assert exc.series in want, (exc, want)
            assert any(isinstance(exc, ERROR_OF[k]) for k in want[exc.series]), (exc, want[exc.series])
            assert repr(exc.series) in str(exc) and f"row {exc.row}" in str(exc)
            assert rows[exc.row][0] == exc.series  # the row named is the series' own
            return
    assert not want and all(r[0] is not None for r in rows)
    ref = group_rows([(r[0], period(r[1], freq), r[2]) for r in rows])
    assert g.ids.to_pylist() == list(ref)
    np.testing.assert_array_equal(g.values, [v for s in ref.values() for _, v in s])
    assert g.indptr.tolist() == np.concatenate(([0], np.cumsum([len(s) for s in ref.values()]))).tolist()


MODELS = st.sampled_from(["naive", "historic_average", "ses", "croston_sba", "tsb", "auto_ets", "holt",
                          "auto_theta", "auto", "seasonal_naive", "window_average", "imapa"])


@fuzz_settings(ci=25)
@given(data=st.data(), freq=st.sampled_from(["D", "W-SUN", "MS"]), models=st.lists(MODELS, min_size=1,
                                                                                     max_size=2, unique=True),
       h=st.integers(1, 20))
def test_forecast_is_sane_and_each_series_its_own(data, freq, models, h):
    rows = data.draw(sales_rows(freq=freq, clean=True, max_series=4))
    tbl = rows_table(rows)
    kw = dict(freq=freq, models=models, level=[80, 95], quantiles=[0.05, 0.5, 0.95])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = so.forecast(tbl, h, **kw)
        assert_sane_forecast(fc)
        first = rows[0][0]
        alone = so.forecast(tbl.filter(pc.equal(tbl["unique_id"], first)), h, **kw)
    mine = fc.filter(pc.equal(fc["unique_id"], first))
    for c in alone.column_names[2:]:
        np.testing.assert_allclose(mine[c].to_numpy(), alone[c].to_numpy(), rtol=1e-9, atol=0, err_msg=c)


@fuzz_settings(ci=30)
@given(data=st.data(), freq=st.sampled_from(["D", "W-SUN", "MS"]), allow_negative=st.booleans())
def test_nightly_run_is_never_stopped_by_one_series(data, freq, allow_negative):
    rows = data.draw(sales_rows(freq=freq, max_series=6))
    tbl = rows_table(rows)
    want = problems(rows, freq, allow_negative=allow_negative)
    good = sorted({r[0] for r in rows if r[0] is not None and r[0] not in want})
    h = {"D": 14, "W-SUN": 2, "MS": 1}[freq]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            plan = so.run_nightly(tbl, h=h, freq=freq, models=["naive"], allow_negative=allow_negative)
        except EmptyInputError:
            assert not good
            return
        assert good
        sales_q = plan.quarantine.filter(pc.equal(plan.quarantine["table"], "sales"))
        assert {x for x in sales_q["unique_id"].to_pylist() if x is not None} == set(want)
        assert plan.policy[0].to_pylist() == good
        assert_sane_policy(plan.policy)
        # the good series' forecasts are what they get without the bad ones
        keep = pa.array([r[0] in good for r in rows])
        alone = so.forecast(tbl.filter(keep), h, freq=freq, models=["naive"], level=[80, 95],
                            allow_negative=allow_negative)
    assert plan.forecast.equals(alone)


@pytest.mark.parametrize("value", [0.0, 5e-324, 1e-300, 1e15])
def test_constant_extreme_values_forecast_themselves(value):
    t = rows_table([("a", 19358 + i, value) for i in range(30)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = so.forecast(t, 5, freq="D", models=["naive", "historic_average", "ses", "auto_ets"], level=[80])
    assert_sane_forecast(fc)
    for m in ("Naive", "HistoricAverage"):
        assert fc[m].to_pylist() == pytest.approx([value] * 5, rel=1e-12, abs=0)
    assert math.isfinite(fc["AutoETS"][0].as_py())


@fuzz_settings(ci=20)
@given(data=st.data(), freq=st.sampled_from(["D", "W-SUN", "MS"]), on_hand=st.booleans())
def test_censored_nightly_run_quarantines_null_flags_and_goes_on(data, freq, on_hand):
    """A null in-stock flag (or a null / NaN stock level) sets its series aside, at its first such row; the
    other series get exactly the censored forecast they get alone, and forecast itself refuses the table."""
    rows = data.draw(sales_rows(freq=freq, clean=True, max_series=5))
    n = len(rows)
    if on_hand:  # stock levels at or below zero are stockouts; None and NaN are unusable
        levels = data.draw(st.lists(st.sampled_from([0.0, 3.0, 7.0, -1.0, None, math.nan]), min_size=n,
                                    max_size=n))
        col = pa.array(levels, pa.float64(), from_pandas=False)
        bad = [v is None or (isinstance(v, float) and math.isnan(v)) for v in levels]
    else:
        flags = data.draw(st.lists(st.sampled_from([True, True, False, None]), min_size=n, max_size=n))
        col = pa.array(flags, pa.bool_())
        bad = [v is None for v in flags]
    name = "on_hand" if on_hand else "in_stock"
    tbl = rows_table(rows).append_column(name, col)
    first_bad: dict[object, int] = {}
    for i, (r, b) in enumerate(zip(rows, bad)):
        if b:
            first_bad.setdefault(r[0], i)
    good = sorted({r[0] for r in rows} - set(first_bad))
    h = {"D": 14, "W-SUN": 2, "MS": 1}[freq]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if first_bad:
            with pytest.raises(NullValueError):
                so.forecast(tbl, h, freq=freq, models=["naive"], censored=name)
        try:
            plan = so.run_nightly(tbl, h=h, freq=freq, models=["naive"], censored=name)
        except EmptyInputError:
            assert not good
            return
        assert good
        q = plan.quarantine.filter(pc.equal(plan.quarantine["table"], "sales"))
        assert {r["unique_id"]: r["first_row"] for r in q.to_pylist()} == first_bad
        assert set(q["reason"].to_pylist()) <= {f"null in-stock flag ({name})"}
        assert plan.summary["series_quarantined"] == len(first_bad)
        assert plan.policy[0].to_pylist() == good
        keep = pa.array([r[0] in good for r in rows])
        alone = so.forecast(tbl.filter(keep), h, freq=freq, models=["naive"], level=[80, 95], censored=name)
    assert plan.forecast.equals(alone)
