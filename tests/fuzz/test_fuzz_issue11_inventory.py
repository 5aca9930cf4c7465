"""The inventory findings of issue 11, each as a case asserting its outcome class (docs/limits.md).

Cases that exhausted memory or ran for minutes before the work bounds run in a child process with a
3 GiB address-space limit and a timeout (:func:`tests.fuzz.outcomes.run_limited`); each also checks
the child's peak memory against the budget the docs state.  Their time is measured side by side
with an ordinary item in ``benchmarks/work_bounds.py`` (no wall-clock assertion here).
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

import stockopt as so
from stockopt.errors import ParameterError, ValidationError

from .outcomes import assert_sane_policy, expect_error, run_limited

Z95 = stats.norm.ppf(0.95)

#: peak resident memory of a child sizing one extreme item (docs/limits.md), its own ~250 MB included
PEAK_MB = 1024 + 400


def _demand(mean: float, std: float) -> pa.Table:
    return pa.table({"unique_id": ["a"], "demand_mean": [mean], "demand_std": [std]})


def _items(**kw) -> pa.Table:
    return pa.table({"unique_id": ["a"], "lead_time": [7.0], **{k: [v] for k, v in kw.items()}})


# --- silent wrong outputs -----------------------------------------------------------------------

def test_an_item_at_the_largest_demand_does_not_change_the_next_items():
    """Before: one item at 1e20 (effects from 1e15) set order_up_to and safety_stock of every later
    item to 0 (one cumulative sum over all items in inventory/demand.py)."""
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(28)]
    fc = pa.table({"unique_id": ["a"] * 28 + ["b"] * 28 + ["c"] * 28, "ds": pa.array(days * 3, pa.date32()),
                   "M": [1e15] * 28 + [5.0] * 28 + [0.25] * 28})
    items = pa.table({"unique_id": ["a", "b", "c"], "lead_time": [7.0] * 3, "demand_std": [1.0] * 3})
    pol = so.inventory_policy(fc, items, policy="RS", distribution="normal")
    assert_sane_policy(pol)
    got = dict(zip(pol["unique_id"].to_pylist(), pol["order_up_to"].to_pylist()))
    # RS, normal, L = 7 and R = 1 days: S = 8 d + z sqrt(8) sd (Silver, Pyke & Thomas 2017, ch. 7)
    assert got["b"] == pytest.approx(40.0 + Z95 * np.sqrt(8.0), rel=1e-12)
    assert got["c"] == pytest.approx(2.0 + Z95 * np.sqrt(8.0), rel=1e-12)
    assert got["a"] == pytest.approx(8e15 + Z95 * np.sqrt(8.0), rel=1e-12)
    fc_big = fc.set_column(2, "M", pa.array([1e20] * 28 + [5.0] * 56))
    expect_error(lambda: so.inventory_policy(fc_big, items), ParameterError, "forecast", "column 'M'",
                 "series 'a'", "row 0", "[0, 1e15]")


@pytest.mark.parametrize("column, value, what", [
    ("moq", 1e300, "minimum order quantity in [0, 1e15]"),
    ("unit_cost", 1e-300, "unit cost in [1e-6, 1e12]"),
    ("order_cost", 1e308, "order cost in [0, 1e12]"),
    ("lead_time", 1e9, "lead time in [0, 3650] days"),
    ("lead_time_std", 1e6, "standard deviation in [0, 3650] days"),
    ("review_period", 1e5, "review period in [0, 3650] days"),
    ("holding_rate", 1e-30, "holding rate in [1e-6, 100] per year"),
    ("pack_size", 1e16, "pack size in [1e-6, 1e15]"),
])
def test_absurd_item_parameters_are_refused_by_name_and_quarantined_alone(column, value, what):
    """Before: moq=1e300 or unit_cost=1e-300 gave NaN or inf service figures with status ok or
    floored; order_cost=1e308 an error not naming order_cost; lead_time=1e9 asked for 3.7 GiB."""
    exc = expect_error(lambda: so.inventory_policy(_demand(5.0, 2.0), _items(**{column: value})),
                       ParameterError, "items", f"column '{column}'", "series 'a'", "row 0", what)
    assert exc.column == column
    sales = pa.table({"unique_id": ["a"] * 60 + ["b"] * 60,
                      "ds": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(60)] * 2),
                      "y": np.random.default_rng(0).poisson(5, 120).astype(float)})
    items = pa.table({"unique_id": ["a", "b"], "lead_time": [7.0, 7.0]})
    items = items.append_column(column, pa.array([value, None], pa.float64())) if column != "lead_time" else \
        items.set_column(1, "lead_time", pa.array([value, 7.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(sales, items, 28, freq="D", models=["naive"])
    assert plan.policy["unique_id"].to_pylist() == ["b"]
    assert plan.quarantine.select(["unique_id", "table"]).to_pylist() == [{"unique_id": "a",
                                                                            "table": "items"}]
    assert plan.quarantine["reason"][0].as_py().startswith(f"{column}: expected")


def test_demand_std_beyond_1e15_is_refused():
    """Before: demand std 1e200 with gamma gave NaN or inf service figures with status ok."""
    expect_error(lambda: so.inventory_policy(_demand(5.0, 1e200), _items(), distribution="gamma"),
                 ParameterError, "demand", "column 'demand_std'", "[0, 1e15]")


# --- crashes and hangs: each case in a child with a memory limit and a timeout ------------------

SETUP = """
def dm(m, s):
    return pa.table({"unique_id": ["a"], "demand_mean": [m], "demand_std": [s]})

def it(**kw):
    return pa.table({"unique_id": ["a"], "lead_time": [7.0], **{k: [v] for k, v in kw.items()}})

def row(t):
    r = t.to_pylist()[0]
    return {k: r[k] for k in ("distribution", "status", "order_up_to", "reorder_point", "order_quantity",
                              "expected_cycle_service", "expected_fill_rate", "expected_ready_rate")}
"""

#: case -> (expression, expected status, expected distribution)
EXTREME = {
    # before: auto picked negative binomial and asked for 22 GiB
    "negbin_mean_1e-6_std_10": ("row(so.inventory_policy(dm(1e-6, 10.0), it()))", "continuous", "gamma"),
    # before: Poisson with lead_time=1e9 asked for 3.7 GiB (now refused; the longest accepted is 3650)
    "poisson_lead_time_3650": ("row(so.inventory_policy(dm(1.0, 1.0), it(lead_time=3650.0), "
                               "distribution='poisson'))", "ok", "poisson"),
    "poisson_1e6_lead_time_3650": ("row(so.inventory_policy(dm(1e6, 1e3), it(lead_time=3650.0), "
                                   "distribution='poisson'))", "continuous", "normal"),
    # before: moq=1e9 in sQ failed to allocate, moq=1e8 took 1.1 GB
    "sq_moq_1e9": ("row(so.inventory_policy(dm(1.0, 1.0), it(moq=1e9), policy='sQ', "
                   "distribution='poisson'))", "continuous", "normal"),
    "sq_moq_1e15": ("row(so.inventory_policy(dm(1.0, 1.0), it(moq=1e15), policy='sQ', "
                    "distribution='poisson'))", "continuous", "normal"),
    "ss_moq_1e9": ("row(so.inventory_policy(dm(1.0, 1.0), it(moq=1e9), policy='sS', "
                   "distribution='poisson'))", "continuous", "normal"),
    # before: demand 1e6/day with Poisson or negative binomial ran for minutes
    "poisson_1e6_a_day": ("row(so.inventory_policy(dm(1e6, 1e3), it(), distribution='poisson'))",
                          "continuous", "normal"),
    "negbin_1e6_a_day": ("row(so.inventory_policy(dm(1e6, 1e4), it(), distribution='negbin'))",
                         "continuous", "normal"),
    "poisson_ready_rate_3e4_a_day": ("row(so.inventory_policy(dm(3e4, 200.0), it(review_period=30.0), "
                                     "distribution='poisson', ready_rate=True))", "continuous", "normal"),
    # before: RS normal with lead_time_std=1e6 hung (time grows with its square); 3650 is the longest now
    "rs_normal_lead_time_std_3650": ("row(so.inventory_policy(dm(5.0, 2.0), it(lead_time_std=3650.0), "
                                     "policy='RS', distribution='normal'))", "moment_matched", "normal"),
    "ss_normal_lead_time_std_3650": ("row(so.inventory_policy(dm(5.0, 2.0), it(lead_time_std=3650.0), "
                                     "policy='sS', distribution='normal'))", "moment_matched", "normal"),
    "rs_poisson_lead_time_std_3650": ("row(so.inventory_policy(dm(5.0, 2.0), it(lead_time_std=3650.0), "
                                      "policy='RS', distribution='poisson'))", "continuous", "normal"),
    "cost_search_1e5_a_day": ("row(so.inventory_policy(dm(1e5, 1e3), it(stockout_cost=1.0, "
                              "order_cost=10.0), policy='sS', distribution='poisson', objective='cost'))",
                              "too_large", "poisson"),
    "gamma_mean_1e-6_std_1e15": ("row(so.inventory_policy(dm(1e-6, 1e15), it(), distribution='gamma'))",
                                 "floored", "gamma"),
    "sq_cost_1e-6_order_cost_1e12": ("row(so.inventory_policy(dm(5.0, 2.0), it(unit_cost=1e-6, "
                                     "holding_rate=1e-6, order_cost=1e12), policy='sQ', "
                                     "distribution='normal'))",
                                     "ok", "normal"),
}


@pytest.mark.slow
def test_extreme_accepted_inputs_stay_within_the_work_bounds():
    out = run_limited({k: v[0] for k, v in EXTREME.items()}, setup=SETUP, mem_gb=3.0, timeout=600)
    for name, (_, status, dist) in EXTREME.items():
        rec = out[name]
        assert rec["kind"] == "result", (name, rec)
        r = rec["result"]
        assert (r["status"], r["distribution"]) == (status, dist), (name, r)
        assert rec["peak_mb"] < PEAK_MB, (name, rec["seconds"], rec["peak_mb"])
        if status == "too_large":
            assert r["order_up_to"] is None and r["expected_cycle_service"] is None
            continue
        for k in ("order_up_to", "reorder_point", "order_quantity"):
            assert np.isfinite(r[k]) and r[k] >= 0, (name, k, r[k])
        assert 0 <= r["expected_cycle_service"] <= 1 and 0 <= r["expected_fill_rate"] <= 1, (name, r)
        assert r["expected_cycle_service"] >= 0.95 - 1e-9, (name, r)  # the default target is met


HISTORY_SETUP = SETUP + """
import datetime as dt

def hist(big):
    y = np.zeros(100); y[::10] = 3.0; y[50] = big
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(100)]
    return pa.table({"unique_id": ["a"] * 100, "ds": pa.array(days, pa.date32()), "y": y}), y

def with_history(big, **kw):
    h, y = hist(big)
    return row(so.inventory_policy(dm(float(y.mean()), float(y.std())), it(**kw), history=h))

def service(m):
    return so.optimize_service(dm(m, m ** 0.5), it(), target_fill=0.95).num_rows
"""

#: compound laws and service optimisation (inventory_policy(history=...), optimize_service):
#: case -> (expression, expected outcome: (status, distribution) or an error class)
EXTREME_HISTORY = {
    # one demand of 1e9 units in the history: its size pmf alone would take 8 GB
    "history_size_1e9": ("with_history(1e9)", ("ok", "gamma")),
    "history_size_1e9_compound": ("row(so.inventory_policy(dm(1e7, 1e8), it(), history=hist(1e9)[0], "
                                  "distribution='compound'))", ("ok", "gamma")),
    # sizes inside the compound bound, a protection interval of ten years: past the integer bound
    "history_size_2e5_lead_time_3650": ("with_history(2e5, lead_time=3650.0)", ("continuous", "normal")),
    "optimize_service_1e6_a_day": ("service(1e6)", "ParameterError"),
}


@pytest.mark.slow
def test_compound_laws_and_service_curves_stay_within_the_work_bounds():
    """The bounds also hold for the laws built from the items' own history and for optimize_service's
    integer level curves (an item past them is refused naming it, before any curve is built)."""
    out = run_limited({k: v[0] for k, v in EXTREME_HISTORY.items()}, setup=HISTORY_SETUP, mem_gb=3.0,
                      timeout=600)
    for name, (_, want) in EXTREME_HISTORY.items():
        rec = out[name]
        assert rec["peak_mb"] < PEAK_MB, (name, rec["seconds"], rec["peak_mb"])
        if isinstance(want, str):
            assert rec["kind"] == "error" and rec["cls"] == want, (name, rec)
            assert "series 'a'" in rec["message"] and "docs/limits.md" in rec["message"], rec["message"]
            continue
        assert rec["kind"] == "result", (name, rec)
        r = rec["result"]
        assert (r["status"], r["distribution"]) == want, (name, r)
        assert np.isfinite(r["order_up_to"]) and 0 <= r["expected_fill_rate"] <= 1, (name, r)


def test_history_beyond_1e15_is_refused_by_row():
    """Before: a history value of 1e20 overflowed the integer sizes (a raw numpy ValueError)."""
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(30)]
    y = np.full(30, 2.0)
    y[17] = 1e20
    hist = pa.table({"unique_id": ["a"] * 30, "ds": pa.array(days, pa.date32()), "y": y})
    expect_error(lambda: so.inventory_policy(_demand(2.0, 1.0), _items(), history=hist), ValidationError,
                 "history", "column 'y'", "series 'a'", "row 17", "[0, 1e15]")


def test_switched_items_keep_the_closed_form_of_their_continuous_law():
    """Past the integer bound a Poisson item is sized as the normal of the same mean and variance:
    order-up-to ``m + z sqrt(m)`` (RS), and that normal is within two units of the Poisson's quantiles."""
    pol = so.inventory_policy(_demand(1e6, 1e3), _items(), policy="RS", distribution="poisson")
    m = 8e6
    assert pol["status"][0].as_py() == "continuous" and pol["distribution"][0].as_py() == "normal"
    assert pol["order_up_to"][0].as_py() == pytest.approx(m + Z95 * np.sqrt(m), rel=1e-12)
    p = np.linspace(0.01, 0.99, 99)
    for mean in (1e5, 8e6):
        gap = np.abs(stats.poisson.ppf(p, mean) - stats.norm.ppf(p, mean, np.sqrt(mean)))
        assert gap.max() < 2.0  # the docs' claim (inventory/_bounds.py): under two units


def test_moment_matched_lead_time_is_the_textbook_variance():
    """Past the crossing window an RS item is sized on ``L sd_d^2 + d^2 sd_L^2`` (Silver, Pyke &
    Thomas 2017, ch. 6): S = d (L + R) + z sqrt((L + R) sd_d^2 + d^2 sd_L^2)."""
    pol = so.inventory_policy(_demand(5.0, 2.0), _items(lead_time=30.0, lead_time_std=2000.0), policy="RS",
                              distribution="normal")
    assert pol["status"][0].as_py() == "moment_matched"
    want = 5.0 * 31 + Z95 * np.sqrt(31 * 4.0 + 25.0 * 2000.0**2)
    assert pol["order_up_to"][0].as_py() == pytest.approx(want, rel=1e-9)
    small = so.inventory_policy(_demand(5.0, 2.0), _items(lead_time=30.0, lead_time_std=20.0), policy="RS",
                                distribution="normal")
    assert small["status"][0].as_py() == "ok"  # below the window: the exact crossing-orders model


def test_a_non_finite_number_flags_its_row_and_nothing_else():
    """The last guard: an out-of-range number never reaches the table; its row says out_of_range."""
    from stockopt.inventory._schema import QUANTITY_COLUMNS, SHARE_COLUMNS, guard_rows

    cols = {c: np.array([1.0, 2.0, 3.0]) for c in QUANTITY_COLUMNS}
    cols.update({c: np.array([0.5, 0.6, 0.7]) for c in SHARE_COLUMNS})
    cols["expected_cycle_service"] = np.array([0.5, np.nan, 0.9])
    cols["order_quantity"] = np.array([1.0, 2.0, -5.0])
    st = np.zeros(3, np.int8)
    out = guard_rows(cols, st, out_of_range=5, no_numbers=np.array([False, False, False]), ready_asked=True)
    assert st.tolist() == [0, 5, 5]
    assert out["order_up_to"].to_pylist() == [1.0, None, None]
    assert out["expected_ready_rate"].to_pylist() == [0.5, None, None]
