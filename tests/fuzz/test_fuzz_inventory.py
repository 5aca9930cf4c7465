"""Fuzzed inventory parameters: every items column across its whole float range.

Oracles: the documented accepted range of every column (``ITEM_RANGES`` in
:mod:`tests.fuzz.strategies`, docs/limits.md) - a value outside it must be refused naming its column,
values inside must give a sane policy (:func:`tests.fuzz.outcomes.assert_sane_policy`); each item's
policy does not depend on the other items of the table; and the closed form of the periodic-review
order-up-to level with normal demand (Silver, Pyke & Thomas 2017, ch. 7).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import stockopt as so
from stockopt.errors import StockoptError

from .outcomes import assert_sane_policy
from .strategies import (
    EXTREME_VALID,
    ITEM_RANGES,
    ORDINARY,
    any_float,
    fuzz_settings,
    item_params,
    rows_table,
    sales_rows,
)

POLICIES = st.sampled_from(["auto", "RS", "sQ", "sS", "base_stock", "newsvendor"])
DISTS = st.sampled_from(["auto", "normal", "gamma", "poisson", "negbin"])


def _out_of_range(name: str, v: float) -> bool:
    if name == "service_level":
        return not (0.0 < v < 1.0)
    lo, hi = ITEM_RANGES[name]
    return not (math.isfinite(v) and lo <= v <= hi)


def _table(rows: list[dict[str, float]], ids: list[str]) -> pa.Table:
    cols = {"unique_id": ids}
    for name in rows[0]:
        cols[name] = pa.array([r[name] for r in rows], pa.float64())
    return pa.table(cols)


@fuzz_settings(ci=60)
@given(items=st.lists(item_params(), min_size=1, max_size=3),
       means=st.lists(any_float(0.0, 200.0), min_size=3, max_size=3),
       policy=POLICIES, distribution=DISTS, lost_sales=st.booleans(), ready_rate=st.booleans(),
       lead_time_model=st.sampled_from(["compound", "normal", "single"]))
def test_any_item_parameters_give_a_named_error_or_a_sane_policy(items, means, policy, distribution,
                                                                 lost_sales, ready_rate, lead_time_model):
    ids = [f"i{k}" for k in range(len(items))]
    demand = pa.table({"unique_id": ids, "demand_mean": pa.array(means[:len(items)], pa.float64()),
                       "demand_std": pa.array([r["demand_std"] for r in items], pa.float64())})
    table = _table([{k: v for k, v in r.items() if k != "demand_std"} for r in items], ids)
    bad_items = {(name, ids[i]) for i, r in enumerate(items) for name, v in r.items()
                 if _out_of_range(name, v)}
    bad_demand = {("demand_mean", ids[i]) for i, m in enumerate(means[:len(items)])
                  if not (math.isfinite(m) and 0.0 <= m <= 1e15)}
    bad = bad_items | bad_demand
    kw = dict(policy=policy, distribution=distribution, lost_sales=lost_sales, ready_rate=ready_rate,
              lead_time_model=lead_time_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pol = so.inventory_policy(demand, table, **kw)
        except StockoptError as exc:
            assert bad, f"refused a table whose every value is in range: {exc}"
            assert (exc.column, exc.series) in bad, (exc, bad)
            assert f"column '{exc.column}'" in str(exc) and f"series '{exc.series}'" in str(exc)
            return
    assert not bad, f"accepted out-of-range values {bad}"
    assert_sane_policy(pol)
    # each item's policy is its own: the same alone as among the others
    k = len(items) - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = so.inventory_policy(demand.slice(k, 1), table.slice(k, 1), **kw)
    assert alone.to_pylist()[0] == pol.to_pylist()[k]


@fuzz_settings(ci=40)
@given(mean=st.floats(0.0, 1e6), std=st.floats(0.0, 1e4), lead_time=st.floats(0.0, 365.0),
       review=st.floats(1.0, 60.0), level=st.floats(0.01, 0.999))
def test_periodic_review_normal_order_up_to_is_the_closed_form(mean, std, lead_time, review, level):
    """RS, normal demand, cycle service: ``S = d (L + R) + max(z_p, 0) sd sqrt(L + R)`` (the
    zero-safety-stock floor binds below the median: status ``floored``)."""
    demand = pa.table({"unique_id": ["a"], "demand_mean": [mean], "demand_std": [std]})
    items = pa.table({"unique_id": ["a"], "lead_time": [lead_time], "review_period": [review],
                      "service_level": [level]})
    pol = so.inventory_policy(demand, items, policy="RS", distribution="normal").to_pylist()[0]
    span = lead_time + review
    z = stats.norm.ppf(level)
    want = mean * span + max(z, 0.0) * std * math.sqrt(span)
    assert pol["order_up_to"] == pytest.approx(want, rel=1e-9, abs=1e-9)
    if mean > 0 and abs(z) * std * math.sqrt(span) > 1e-9 * (1.0 + want):  # a safety stock that shows
        assert pol["status"] == ("floored" if z < 0 else "ok")


@pytest.mark.parametrize("dist", ["poisson", "negbin"])
def test_integer_items_just_inside_the_bound_stay_exact(dist):
    """Below the integer bound the exact method runs (status ok): the bound switches only the items
    past it, never a whole table."""
    demand = pa.table({"unique_id": ["small", "big"], "demand_mean": [5.0, 1e6], "demand_std": [3.0, 2e3]})
    items = pa.table({"unique_id": ["small", "big"], "lead_time": [7.0, 7.0]})
    pol = so.inventory_policy(demand, items, policy="RS", distribution=dist)
    assert pol["status"].to_pylist() == ["ok", "continuous"]
    assert pol["distribution"].to_pylist() == [dist, "normal"]
    exact = so.inventory_policy(demand.slice(0, 1), items.slice(0, 1), policy="RS", distribution=dist)
    assert exact.to_pylist()[0] == pol.to_pylist()[0]
    assert float(pol["order_up_to"][0].as_py()).is_integer()


def test_pmf_support_float_is_the_kernels():
    from stockopt._kernels.codes import DIST_NEGBIN, DIST_POISSON
    from stockopt._kernels.inventory.core import pmf_support
    from stockopt.inventory._bounds import pmf_support_float

    rng = np.random.default_rng(3)
    for _ in range(300):
        dist = int(rng.choice([DIST_POISSON, DIST_NEGBIN]))
        m = float(10 ** rng.uniform(-6, 6))
        v = m * float(10 ** rng.uniform(-1, 4))
        got = pmf_support_float(np.array([dist]), np.array([m]), np.array([v]))[0]
        assert got == pmf_support(dist, m, v)


#: values a history refuses (NaN, like null, is a period not observed)
HISTORY_BAD = st.sampled_from([math.inf, -math.inf, -1.0, 1e15 * 1.0001, 1e20, 1.7e308])


@fuzz_settings(ci=25)
@given(rows=sales_rows(freq="D", clean=True, max_series=3, max_len=40,
                       values=st.one_of(ORDINARY, EXTREME_VALID, st.none())),
       bad=st.one_of(st.none(), st.tuples(st.integers(0, 10**6), HISTORY_BAD)),
       means=st.lists(st.floats(0.0, 200.0), min_size=3, max_size=3),
       distribution=st.sampled_from(["auto", "compound"]), lead_time_std=st.sampled_from([0.0, 2.0]),
       policy=st.sampled_from(["auto", "RS", "sQ", "sS"]))
def test_any_history_gives_a_named_error_or_a_sane_policy(rows, bad, means, distribution, lead_time_std,
                                                          policy):
    """``history=``: values across the float range (null or NaN = not observed), series with gaps,
    rows in any order.  Oracle: a value outside [0, 1e15] is refused naming its series and its row
    in the caller's table; a series with unequal steps (the history needs one row per period of its
    own, regular spacing) is refused naming such a series and a row of it; a compound law that
    cannot be built (no demand, not intermittent) is refused naming the series; anything else gives
    a sane policy for every item."""
    if bad is not None:
        k = bad[0] % len(rows)
        rows = [*rows[:k], (rows[k][0], rows[k][1], bad[1]), *rows[k + 1:]]
    hist = rows_table(rows)
    ids = sorted({r[0] for r in rows}, key=str)
    days = {i: sorted(r[1] for r in rows if r[0] == i) for i in ids}
    gapped = {i for i, d in days.items() if len({b - a for a, b in zip(d, d[1:])}) > 1}  # unequal steps
    one_row = all(len(d) == 1 for d in days.values())
    demand = pa.table({"unique_id": pa.array(ids, hist["unique_id"].type),
                       "demand_mean": means[:len(ids)], "demand_std": [m / 2 for m in means[:len(ids)]]})
    items = pa.table({"unique_id": pa.array(ids, hist["unique_id"].type), "lead_time": [7.0] * len(ids),
                      "lead_time_std": [lead_time_std] * len(ids)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pol = so.inventory_policy(demand, items, history=hist, distribution=distribution, policy=policy)
        except StockoptError as exc:
            assert exc.table == "history", exc
            if bad is not None:
                assert (str(exc.series), exc.row) == (str(rows[k][0]), k), (exc, k)
                assert "[0, 1e15]" in str(exc)
            elif "irregular spacing" in str(exc):  # series named as text, whatever the id type
                assert str(exc.series) in {str(i) for i in gapped}, (exc, gapped)
                assert str(rows[exc.row][0]) == str(exc.series), (exc, rows[exc.row])
            elif "one row per series" in str(exc):
                assert one_row, exc
            else:
                assert distribution == "compound" and "compound law" in str(exc), exc
                assert str(exc.series) in {str(i) for i in ids}
            return
    assert bad is None, f"accepted {bad[1]} at row {k}"
    assert not gapped, f"accepted series with gaps {gapped}"
    assert pol.num_rows == len(ids)
    assert_sane_policy(pol)


def test_renewal_grid_of_a_tiny_gamma_shape_is_flagged_not_a_crash():
    """Found by the slow profile: (s, S) with a mean of 1.8e-158 a day and a deviation of 1 (gamma
    shape ~3e-316) asked the renewal kernel for an array of negative size (ValueError).  Past the
    renewal bound the row says too_large and carries nulls; the other items are sized as alone."""
    demand = pa.table({"unique_id": ["tiny", "ok"], "demand_mean": [1.7868625491652087e-158, 5.0],
                       "demand_std": [1.0, 4.0]})
    items = pa.table({"unique_id": ["tiny", "ok"], "lead_time": [0.0, 7.0], "review_period": [0.0, 7.0],
                      "service_level": [0.5, 0.95]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pol = so.inventory_policy(demand, items, policy="sS")
        alone = so.inventory_policy(demand.slice(1, 1), items.slice(1, 1), policy="sS")
    assert pol["status"].to_pylist()[0] == "too_large" and pol["order_up_to"][0].as_py() is None
    assert pol.to_pylist()[1] == alone.to_pylist()[0]
    assert_sane_policy(pol)
