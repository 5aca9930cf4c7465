"""inventory_policy: closed forms, stockpyl/scipy oracles, textbook examples, tables and errors."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from stockpyl import eoq as sp_eoq
from stockpyl import loss_functions as lf
from stockpyl import newsvendor as sp_nv
from stockpyl import rq as sp_rq

from stockopt.errors import (
    DuplicateRowError,
    MissingColumnError,
    NegativeValueError,
    NonFiniteValueError,
    ParameterError,
    StockoptError,
    ValidationError,
)
from stockopt.inventory import eoq, inventory_policy, round_order_quantity

RNG = np.random.default_rng(42)


def _summary(ids, mean, std) -> pa.Table:
    return pa.table({"unique_id": list(ids), "demand_mean": np.asarray(mean, float),
                     "demand_std": np.asarray(std, float)})


def _items(ids, **cols) -> pa.Table:
    n = len(ids)
    data = {"unique_id": list(ids)}
    for k, v in cols.items():
        data[k] = v if isinstance(v, list) else np.broadcast_to(np.asarray(v), (n,)).copy()
    return pa.table(data)


def _col(tbl: pa.Table, name: str) -> np.ndarray:
    return tbl.column(name).to_numpy()


# ------------------------------------------------------------------ closed forms and oracles


def test_rs_cycle_service_closed_form() -> None:
    n = 50
    d, sd = RNG.uniform(5, 500, n), RNG.uniform(0.05, 0.45, n)
    sd = sd * d
    lt, rv = RNG.integers(1, 20, n).astype(float), RNG.choice([1.0, 7.0, 14.0], n)
    lsd = RNG.uniform(0, 3, n)
    alpha = RNG.uniform(0.6, 0.999, n)
    ids = [f"i{i}" for i in range(n)]
    pol = inventory_policy(_summary(ids, d, sd), _items(ids, lead_time=lt, lead_time_std=lsd,
                           review_period=rv, service_level=alpha), policy="RS", distribution="normal",
                           lead_time_model="normal")
    mu = d * (lt + rv)
    sigma = np.sqrt(sd ** 2 * (lt + rv) + d ** 2 * lsd ** 2)  # Silver, Pyke & Thomas eq. for L uncertainty
    want = np.maximum(mu + stats.norm.ppf(alpha) * sigma, mu)
    np.testing.assert_allclose(_col(pol, "order_up_to"), want, rtol=1e-12)
    np.testing.assert_allclose(_col(pol, "safety_stock"), want - mu, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(_col(pol, "lead_time_demand_std"), np.sqrt(sd ** 2 * lt + d ** 2 * lsd ** 2))
    assert (pol.column("status").to_pylist().count("floored")) == int((alpha <= 0.5).sum())


def test_rs_fill_rate_uses_stockpyl_loss_functions() -> None:
    n = 30
    d = RNG.uniform(5, 100, n)
    sd = d * RNG.uniform(0.1, 0.5, n)
    lt, rv = RNG.integers(1, 10, n).astype(float), RNG.choice([3.0, 7.0], n)
    beta = RNG.uniform(0.9, 0.995, n)
    ids = [f"i{i}" for i in range(n)]
    pol = inventory_policy(_summary(ids, d, sd), _items(ids, lead_time=lt, review_period=rv,
                                                        service_level=beta,
                           service_metric=["fill_rate"] * n), policy="RS", distribution="normal")
    big_s = _col(pol, "order_up_to")
    for i in range(n):
        nt = lf.normal_loss(big_s[i], d[i] * (lt[i] + rv[i]), sd[i] * math.sqrt(lt[i] + rv[i]))[0]
        nl = lf.normal_loss(big_s[i], d[i] * lt[i], sd[i] * math.sqrt(lt[i]))[0]
        achieved = 1 - (nt - nl) / (d[i] * rv[i])
        assert achieved == pytest.approx(max(beta[i], _col(pol, "expected_fill_rate")[i]), abs=1e-9)


def test_sq_continuous_review_fill_rate_and_cost_match_stockpyl() -> None:
    """Continuous review (s, Q): fill rate 1 - (n(s) - n(s+Q))/Q and the Hadley-Whitin cost
    (stockpyl r_q_cost)."""
    for _ in range(10):
        d, sd = RNG.uniform(10, 200), RNG.uniform(2, 40)
        lt = float(RNG.integers(2, 20))
        k, c, rate = RNG.uniform(20, 200), RNG.uniform(1, 50), RNG.uniform(0.1, 0.4)
        beta = RNG.uniform(0.95, 0.995)
        pol = inventory_policy(_summary(["a"], [d], [sd]),
                               _items(["a"], lead_time=lt, review_period=0.0, order_cost=k, unit_cost=c,
                                      holding_rate=rate, service_level=beta, service_metric=["fill_rate"]),
                               policy="sQ", distribution="normal").to_pylist()[0]
        s, q = pol["reorder_point"], pol["order_quantity"]
        mu, sig = d * lt, sd * math.sqrt(lt)
        assert q == math.ceil(sp_eoq.economic_order_quantity(k, rate * c / 365, d)[0] - 1e-9)
        if pol["status"] == "ok":
            fill = 1 - (lf.normal_loss(s, mu, sig)[0] - lf.normal_loss(s + q, mu, sig)[0]) / q
            assert fill == pytest.approx(beta, abs=1e-9)
        h, p = rate * c / 365, RNG.uniform(1, 10) * rate * c / 365
        cost = k * d / q + h * pol["expected_on_hand"] + p * pol["expected_backorders"]
        assert cost == pytest.approx(sp_rq.r_q_cost(s, q, h, p, k, d, sd, lt), rel=1e-6)


def test_snyder_shen_example_5_6_rq_inversion() -> None:
    """Snyder & Shen (2019) Example 5.6 (h=0.225, p=7.5, K=8, lambda=1300/yr, tau=150, L=1/12 yr):
    stockpyl's loss-function (r, Q) = (126.87, 328.45).  A fill-rate target equal to that policy's
    fill rate must give back the same reorder point in stockopt's daily units."""
    r_star, q_star = sp_rq.r_q_loss_function_approximation(0.225, 7.5, 8, 1300, 150, 1 / 12)
    mu, sig = 1300 / 12, 150 * math.sqrt(1 / 12)
    beta = 1 - (lf.normal_loss(r_star, mu, sig)[0] - lf.normal_loss(r_star + q_star, mu, sig)[0]) / q_star
    pol = inventory_policy(_summary(["x"], [1300 / 365], [150 / math.sqrt(365)]),
                           _items(["x"], lead_time=365 / 12, review_period=0.0, service_level=beta,
                                  service_metric=["fill_rate"], order_cost=8.0, unit_cost=1.0,
                                  holding_rate=0.225, pack_size=q_star),
                           policy="sQ", distribution="normal")
    assert pol["order_quantity"][0].as_py() == pytest.approx(q_star)
    assert pol["reorder_point"][0].as_py() == pytest.approx(r_star, abs=1e-6)
    assert pol["lead_time_demand_mean"][0].as_py() == pytest.approx(mu)


@pytest.mark.parametrize("dist", ["normal", "poisson"])
def test_newsvendor_matches_stockpyl(dist: str) -> None:
    """Snyder & Shen (2019) Example 4.1 (h=0.18, p=0.70, N(50, 8)) plus random instances."""
    cases = [(0.18, 0.70, 50.0, 8.0)] + [(RNG.uniform(0.1, 2), RNG.uniform(0.5, 10), RNG.uniform(1, 60),
                                          0.0) for _ in range(15)]
    ids = [f"n{i}" for i in range(len(cases))]
    h, p, m, s = (np.array(x) for x in zip(*cases))
    s = np.where(s > 0, s, np.sqrt(m) * RNG.uniform(0.5, 1.5, len(m)))
    pol = inventory_policy(_summary(ids, m, s), _items(ids, lead_time=3.0, shelf_life_days=1.0,
                           service_level=p / (p + h)), distribution=dist)
    assert set(pol.column("policy").to_pylist()) == {"newsvendor"}
    for i in range(len(cases)):
        if dist == "normal":
            want = sp_nv.newsvendor_normal(h[i], p[i], m[i], s[i])[0]
        else:
            want = sp_nv.newsvendor_poisson(h[i], p[i], m[i])[0]
        got = pol["order_up_to"][i].as_py()
        if got > m[i] + 1e-9 or dist == "poisson":  # zero-safety-stock floor otherwise
            assert got == pytest.approx(max(want, math.ceil(m[i] - 1e-9) if dist == "poisson" else m[i]),
                                        rel=1e-10)
    if dist == "normal":  # the book's answer, S* = 56.6
        assert pol["order_up_to"][0].as_py() == pytest.approx(56.6, abs=0.01)


def test_eoq_and_rounding_match_stockpyl() -> None:
    for _ in range(20):
        k, d = RNG.uniform(1, 500), RNG.uniform(0.1, 1000)
        c, i = RNG.uniform(0.5, 100), RNG.uniform(0.05, 0.5)
        want = sp_eoq.economic_order_quantity(k, i * c, 365 * d)[0]
        assert eoq(np.array([k]), np.array([d]), np.array([c]), np.array([i]))[0] == pytest.approx(want)
    q = round_order_quantity(np.array([13.2, 0.0, 250.0]), np.array([0.0, 30.0, 0.0]),
                             np.array([12.0, 12.0, 1.0]))
    np.testing.assert_array_equal(q, [24.0, 36.0, 250.0])


def test_moq_and_pack_size_in_policy() -> None:
    pol = inventory_policy(_summary(["a", "b"], [10.0, 10.0], [3.0, 3.0]),
                           _items(["a", "b"], lead_time=5.0, order_cost=[1.0, 1.0],
                                  moq=[500.0, 0.0], pack_size=[1.0, 48.0]), policy="sQ")
    q = _col(pol, "order_quantity")
    assert q[0] == 500.0  # EOQ sqrt(2 * 1 * 3650 / 0.25) = 170.9 raised to the MOQ
    assert q[1] == 192.0  # 170.9 rounded up to 4 packs of 48


# ------------------------------------------------------------------ demand from forecasts and samples


def test_daily_forecast_with_intervals_equals_summary() -> None:
    d, sd, h = 20.0, 5.0, 40
    z = stats.norm.ppf(0.9)
    ds = pa.array(np.arange(h, dtype=np.int32) + 19000, pa.date32())
    fc = pa.table({"unique_id": ["a"] * h, "ds": ds, "M": np.full(h, d), "M-lo-80": np.full(h, d - z * sd),
                   "M-hi-80": np.full(h, d + z * sd)})
    items = _items(["a"], lead_time=9.0, review_period=7.0, lead_time_std=1.5)
    a = inventory_policy(fc, items, policy="RS", distribution="normal")
    b = inventory_policy(_summary(["a"], [d], [sd]), items, policy="RS", distribution="normal")
    for name in ("order_up_to", "safety_stock", "lead_time_demand_mean", "lead_time_demand_std"):
        assert a[name][0].as_py() == pytest.approx(b[name][0].as_py(), rel=1e-12)


def test_forecast_sums_exact_days_and_prorates_periods() -> None:
    # daily, non-flat: L = 3 days, R = 2 days -> lead time 1+2+3, protection 1+...+5
    h = 10
    fc = pa.table({"unique_id": ["a"] * h, "ds": pa.array(np.arange(h, dtype=np.int32) + 19000, pa.date32()),
                   "M": np.arange(1, h + 1, dtype=float)})
    items = _items(["a"], lead_time=3.0, review_period=2.0, demand_std=1.0)
    pol = inventory_policy(fc, items, policy="RS", distribution="normal").to_pylist()[0]
    assert pol["lead_time_demand_mean"] == pytest.approx(6.0)
    assert pol["protection_demand_mean"] == pytest.approx(15.0)
    # monthly: a 45-day lead time is 1.5 months (month 1 fully, half of month 2)
    months = pa.array(np.array(["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"],
                               dtype="datetime64[D]"))
    fcm = pa.table({"unique_id": ["m"] * 4, "ds": months, "M": [300.0, 600.0, 900.0, 900.0]})
    pol = inventory_policy(fcm, _items(["m"], lead_time=45.0, review_period=30.0, demand_std=2.0),
                           policy="RS", distribution="normal").to_pylist()[0]
    assert pol["lead_time_demand_mean"] == pytest.approx(300 + 0.5 * 600)
    assert pol["protection_demand_mean"] == pytest.approx(300 + 600 + 0.5 * 900)
    # weekly with intervals: 10 days = 1 + 3/7 weeks; variance prorated the same way
    z = stats.norm.ppf(0.975)
    weeks = pa.array(np.array([19000, 19007, 19014], np.int32), pa.date32())
    fcw = pa.table({"unique_id": ["w"] * 3, "ds": weeks,
                    "M": [70.0, 140.0, 70.0], "M-hi-95": [70 + 14 * z, 140 + 28 * z, 70 + 14 * z]})
    pol = inventory_policy(fcw, _items(["w"], lead_time=10.0, review_period=4.0), policy="RS",
                           distribution="normal").to_pylist()[0]
    assert pol["lead_time_demand_mean"] == pytest.approx(70 + 3 / 7 * 140)
    assert pol["lead_time_demand_std"] ** 2 == pytest.approx(14 ** 2 + 3 / 7 * 28 ** 2)


def test_forecast_errors() -> None:
    fc = pa.table({"unique_id": ["a"] * 5, "ds": pa.array(np.arange(5, dtype=np.int32), pa.date32()),
                   "M": np.ones(5)})
    with pytest.raises(MissingColumnError, match="demand_std"):
        inventory_policy(fc, _items(["a"], lead_time=2.0))
    with pytest.raises(ValidationError, match="horizon.*'a'"):
        inventory_policy(fc, _items(["a"], lead_time=9.0, demand_std=1.0))
    fc2 = fc.append_column("N", pa.array(np.ones(5)))
    with pytest.raises(ValidationError, match="model"):
        inventory_policy(fc2, _items(["a"], lead_time=2.0, demand_std=1.0))
    assert inventory_policy(fc2, _items(["a"], lead_time=2.0, demand_std=1.0), model="N").num_rows == 1


def test_empirical_from_sample_paths_matches_poisson() -> None:
    rng = np.random.default_rng(0)
    n_paths, h = 4000, 12
    vals = rng.poisson(2.0, (n_paths, h)).astype(float)
    tbl = pa.table({"unique_id": ["p"] * (n_paths * h),
                    "ds": pa.array(np.tile(np.arange(h, dtype=np.int32), n_paths), pa.date32()),
                    "sample_id": np.repeat(np.arange(n_paths), h), "value": vals.ravel()})
    items = _items(["p"], lead_time=4.0, review_period=3.0, service_level=0.95)
    emp = inventory_policy(tbl, items, policy="RS", ready_rate=True).to_pylist()[0]
    poi = inventory_policy(_summary(["p"], [2.0], [math.sqrt(2.0)]), items, policy="RS",
                           distribution="poisson", ready_rate=True).to_pylist()[0]
    assert emp["distribution"] == "empirical"
    assert abs(emp["order_up_to"] - poi["order_up_to"]) <= 1
    assert emp["expected_cycle_service"] == pytest.approx(poi["expected_cycle_service"], abs=0.02)
    assert emp["lead_time_demand_mean"] == pytest.approx(8.0, rel=0.02)
    # ready rate: share of paths whose demand over the first L + j days is at most S, averaged
    # over the R days of a cycle -- counted directly on the sample paths
    big_s = emp["order_up_to"]
    direct = np.mean([np.mean(vals[:, :4 + j].sum(axis=1) <= big_s) for j in (1, 2, 3)])
    assert emp["expected_ready_rate"] == pytest.approx(direct, abs=1e-12)
    assert emp["expected_ready_rate"] == pytest.approx(poi["expected_ready_rate"], abs=0.02)
    # (R, s, S) on the same paths: a random position, so between the RS value at s+1 and at S
    ss = inventory_policy(tbl, _items(["p"], lead_time=4.0, review_period=3.0, order_cost=5.0), policy="sS",
                          ready_rate=True).to_pylist()[0]
    low = np.mean([np.mean(vals[:, :4 + j].sum(axis=1) <= ss["reorder_point"] + 1) for j in (1, 2, 3)])
    high = np.mean([np.mean(vals[:, :4 + j].sum(axis=1) <= ss["order_up_to"]) for j in (1, 2, 3)])
    assert low < ss["expected_ready_rate"] < high


# ------------------------------------------------------------------ selection, shapes, common checks


def test_auto_selection() -> None:
    ids = ["slow", "lumpy", "fast", "skewed", "fresh", "cont"]
    dem = _summary(ids, [0.5, 0.5, 100, 100, 50, 30], [0.7, 3.0, 20, 300, 10, 5])
    items = _items(ids, lead_time=5.0, review_period=[7.0, 7.0, 7.0, 7.0, 1.0, 0.0],
                   shelf_life_days=[np.inf] * 4 + [2.0, np.inf], order_cost=[0.0] * 6)
    pol = inventory_policy(dem, items)
    assert pol.column("distribution").to_pylist()[:4] == ["poisson", "negbin", "normal", "gamma"]
    assert pol.column("policy").to_pylist() == ["RS", "RS", "RS", "RS", "newsvendor", "sQ"]
    assert pol.column("reorder_point").to_pylist()[0] == int(pol.column("reorder_point").to_pylist()[0])


def test_outputs_finite_nonnegative_including_zero_demand() -> None:
    n = 300
    ids = [f"i{i}" for i in range(n)]
    mean = np.where(RNG.uniform(size=n) < 0.1, 0.0, RNG.lognormal(0, 2, n))
    std = mean * RNG.uniform(0, 2, n)
    items = _items(ids, lead_time=RNG.integers(0, 30, n).astype(float),
                   review_period=RNG.choice([0.0, 1.0, 7.0], n),
                   order_cost=RNG.uniform(0, 50, n), service_level=RNG.uniform(0.5, 0.999, n),
                   service_metric=list(RNG.choice(["cycle", "fill_rate"], n)))
    for policy in ("auto", "RS", "sQ", "sS", "base_stock"):
        pol = inventory_policy(_summary(ids, mean, std), items, policy=policy, ready_rate=True)
        # the ready rate is computed for every distribution and policy when asked
        ready = pol["expected_ready_rate"]
        assert ready.null_count == 0, policy
        r = ready.drop_null().to_numpy()
        assert np.all((r >= 0) & (r <= 1)), policy
        for name in pol.column_names:
            if pa.types.is_floating(pol.schema.field(name).type):
                # shelf_life_days: null = not perishable
                assert pol[name].null_count == 0 or name == "shelf_life_days", (policy, name)
                v = pol[name].drop_null().to_numpy()
                assert np.all(np.isfinite(v)) and np.all(v >= 0), (policy, name)
        met = np.where(np.array(items.column("service_metric").to_pylist()) == "fill_rate",
                       _col(pol, "expected_fill_rate"), _col(pol, "expected_cycle_service"))
        assert np.all(met >= _col(items, "service_level") - 1e-9), policy


def test_polars_input() -> None:
    """A polars frame gives the Arrow table's result (pandas input, no mutation, threads, item order,
    empty and one-item tables: tests/test_contract.py, for every policy and distribution)."""
    pl = pytest.importorskip("polars")
    dem = _summary(["a", "b"], [10.0, 2.0], [3.0, 1.0])
    items = _items(["a", "b"], lead_time=[3.0, 4.0], review_period=7.0)
    assert inventory_policy(pl.from_arrow(dem), pl.from_arrow(items)).equals(inventory_policy(dem, items))


def test_lost_sales_fill_rate_formula() -> None:
    """Lost sales: fill 1 - B / (E[D_R] + B), B the backorder-case shortage per review period."""
    d, sd, lt, rv = 20.0, 8.0, 5.0, 7.0
    dem = _summary(["a"], [d], [sd])
    items = _items(["a"], lead_time=lt, review_period=rv, service_level=0.99, service_metric=["fill_rate"])
    back = inventory_policy(dem, items, policy="RS", distribution="normal").to_pylist()[0]
    lost = inventory_policy(dem, items, policy="RS", distribution="normal", lost_sales=True).to_pylist()[0]
    big_s = lost["order_up_to"]
    b = (lf.normal_loss(big_s, d * (lt + rv), sd * math.sqrt(lt + rv))[0]
         - lf.normal_loss(big_s, d * lt, sd * math.sqrt(lt))[0])
    assert 1 - b / (d * rv + b) == pytest.approx(0.99, abs=1e-9)
    assert lost["expected_fill_rate"] == pytest.approx(0.99, abs=1e-9)
    assert big_s < back["order_up_to"]


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("col", "value", "exc", "pattern"),
    [
        ("lead_time", -1.0, NegativeValueError, "items.*lead_time.*'b'.*row 1"),
        ("service_level", 1.0, ParameterError, "items.*service_level.*'b'"),
        ("service_level", 0.0, ParameterError, "items.*service_level.*'b'"),
        ("pack_size", 0.0, ParameterError, "items.*pack_size.*'b'"),
        ("lead_time", np.nan, NonFiniteValueError, "items.*lead_time.*'b'"),
        ("review_period", np.inf, NonFiniteValueError, "items.*review_period.*'b'"),
    ],
)
def test_bad_item_fields_name_table_item_and_field(col, value, exc, pattern) -> None:
    vals = {"lead_time": [1.0, 2.0], "service_level": [0.9, 0.9], "pack_size": [1.0, 1.0],
            "review_period": [1.0, 1.0]}
    vals[col] = [vals[col][0], value]
    with pytest.raises(exc, match=pattern) as info:
        inventory_policy(_summary(["a", "b"], [1.0, 1.0], [1.0, 1.0]), _items(["a", "b"], **vals))
    assert isinstance(info.value, StockoptError) and info.value.series == "b" and info.value.column == col


def test_other_input_errors() -> None:
    dem = _summary(["a", "b"], [1.0, np.nan], [1.0, 1.0])
    with pytest.raises(NonFiniteValueError, match="demand.*demand_mean.*'b'"):
        inventory_policy(dem, _items(["a", "b"], lead_time=1.0))
    dem = _summary(["a", "b"], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValidationError, match="items.*'b'"):
        inventory_policy(dem, _items(["a"], lead_time=1.0))
    with pytest.raises(ParameterError, match="service_metric.*'a'.*weekly"):
        inventory_policy(dem, _items(["a", "b"], lead_time=1.0, service_metric=["weekly", "cycle"]))
    with pytest.raises(DuplicateRowError, match="items.*'a'"):
        inventory_policy(dem, _items(["a", "a", "b"], lead_time=1.0))
    with pytest.raises(MissingColumnError, match="lead_time"):
        inventory_policy(dem, pa.table({"unique_id": ["a", "b"]}))
    with pytest.raises(ParameterError, match="policy"):
        inventory_policy(dem, _items(["a", "b"], lead_time=1.0), policy="ROP")
    with pytest.raises(ParameterError, match="empirical"):
        inventory_policy(dem, _items(["a", "b"], lead_time=1.0), distribution="empirical")


@pytest.mark.slow
def test_cost_objective_ss_matches_stockpyl_and_reports_its_service() -> None:
    from stockpyl import ss as sp_ss

    rng = np.random.default_rng(5)
    n = 8
    h, p, k, mean = rng.uniform(0.5, 2, n), rng.uniform(2, 20, n), rng.uniform(5, 50, n), rng.uniform(1, 8, n)
    ids = [f"z{i}" for i in range(n)]
    items = _items(ids, lead_time=0.0, review_period=1.0, unit_cost=h * 365 / 0.25, holding_rate=0.25,
                   stockout_cost=p, order_cost=k)
    pol = inventory_policy(_summary(ids, mean, np.sqrt(mean)), items, policy="sS", distribution="poisson",
                           objective="cost")
    for i in range(n):
        ws, wbig, _ = sp_ss.s_s_discrete_exact(h[i], p[i], k[i], True, mean[i])
        assert pol["reorder_point"][i].as_py() == max(ws, 0)
        assert pol["order_up_to"][i].as_py() == wbig
        assert pol["order_quantity"][i].as_py() == wbig - max(ws, 0)
    assert np.all((_col(pol, "expected_fill_rate") > 0) & (_col(pol, "expected_fill_rate") <= 1))
    with pytest.raises(MissingColumnError, match="stockout_cost"):
        inventory_policy(_summary(ids, mean, mean), _items(ids, lead_time=1.0), policy="sS", objective="cost")
    with pytest.raises(ParameterError, match="sS"):
        inventory_policy(_summary(ids, mean, mean), items, policy="RS", objective="cost")


@pytest.mark.slow
def test_cost_objective_sq_matches_stockpyl_r_q_poisson_exact() -> None:
    """Continuous review (review_period 0): the exact (r, Q) of Federgruen & Zheng (1992), as
    stockpyl's r_q_poisson_exact; the order quantity is the optimal Q (no EOQ)."""
    rng = np.random.default_rng(11)
    n = 8
    h, p, k = rng.uniform(0.5, 3, n), rng.uniform(5, 60, n), rng.uniform(10, 150, n)
    mean, lt = rng.uniform(0.5, 6, n), rng.integers(1, 5, n).astype(float)
    ids = [f"q{i}" for i in range(n)]
    items = _items(ids, lead_time=lt, review_period=0.0, unit_cost=h * 365 / 0.25, holding_rate=0.25,
                   stockout_cost=p, order_cost=k)
    pol = inventory_policy(_summary(ids, mean, np.sqrt(mean)), items, policy="sQ", distribution="poisson",
                           objective="cost", ready_rate=True)
    for i in range(n):
        wr, wq, _ = sp_rq.r_q_poisson_exact(h[i], p[i], k[i], mean[i], lt[i])
        assert pol["reorder_point"][i].as_py() == max(wr, 0)
        assert pol["order_quantity"][i].as_py() == wq
        assert pol["order_up_to"][i].as_py() == max(wr, 0) + wq
    for name in ("expected_fill_rate", "expected_cycle_service", "expected_ready_rate"):
        v = _col(pol, name)
        assert np.all((v > 0) & (v <= 1)), name
    # weekly review (the periodic cost, checked against exhaustive search in test_inventory_kernels):
    # the reorder point then protects L + 7 days of more variable demand, so it is not lower
    items7 = _items(ids, lead_time=lt, review_period=7.0, unit_cost=h * 365 / 0.25, holding_rate=0.25,
                    stockout_cost=p, order_cost=k)
    per = inventory_policy(_summary(ids, mean, 2 * np.sqrt(mean)), items7, policy="sQ", distribution="negbin",
                           objective="cost")
    assert np.all(_col(per, "order_quantity") >= 1) and set(per["policy"].to_pylist()) == {"sQ"}
    assert np.all(_col(per, "reorder_point") >= _col(pol, "reorder_point"))


def test_discrete_chunking_does_not_change_results(monkeypatch) -> None:
    import stockopt.inventory._discrete as discrete_mod

    n = 400
    rng = np.random.default_rng(8)
    ids = [f"c{i}" for i in range(n)]
    m = rng.uniform(0.1, 5, n)
    dem = _summary(ids, m, np.sqrt(m) * 1.5)
    items = _items(ids, lead_time=rng.integers(0, 10, n).astype(float), lead_time_std=rng.uniform(0, 2, n),
                   review_period=np.ones(n), order_cost=rng.uniform(5, 50, n))
    whole = inventory_policy(dem, items, policy="sS")
    monkeypatch.setattr(discrete_mod, "PMF_BUDGET", 3000)  # forces dozens of chunks
    assert inventory_policy(dem, items, policy="sS").equals(whole)


def test_ready_rate_switch() -> None:
    ids = ["a", "b"]
    dem = _summary(ids, [10.0, 40.0], [6.0, 9.0])
    items = _items(ids, lead_time=[3.0, 4.0], review_period=7.0)
    on = inventory_policy(dem, items, policy="RS", distribution="gamma", ready_rate=True)
    off = inventory_policy(dem, items, policy="RS", distribution="gamma")
    assert on["expected_ready_rate"].null_count == 0 and off["expected_ready_rate"].null_count == 2
    assert on.drop_columns(["expected_ready_rate"]).equals(off.drop_columns(["expected_ready_rate"]))
    # RS reviewed every 7 days: the last day of a cycle is the worst one (its no-stockout
    # probability is the cycle service), so the average over the cycle's days is higher
    assert np.all(_col(on, "expected_ready_rate") > _col(on, "expected_cycle_service"))
    with pytest.raises(ParameterError):
        inventory_policy(dem, items, ready_rate="yes")
