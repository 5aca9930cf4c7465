"""alerts and project_kpis against closed forms, numerical integration and a plain NumPy simulation."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import integrate, stats

import stockopt as so
from stockopt.errors import MissingColumnError, ParameterError

AS_OF = "2026-11-23"  # a Monday


def policy(ids, mean=10.0, std=3.0, lead=5.0, review=7.0, big_s=150.0, dist="normal"):
    n = len(ids)
    return pa.table(
        {
            "unique_id": ids,
            "policy": ["RS"] * n,
            "distribution": [dist] * n,
            "reorder_point": np.full(n, big_s),
            "order_up_to": np.full(n, big_s),
            "order_quantity": np.zeros(n),
            "protection_demand_mean": np.full(n, mean * (lead + review)),
            "protection_demand_std": np.full(n, std * math.sqrt(lead + review)),
            "lead_time": np.full(n, lead),
            "review_period": np.full(n, review),
        }
    )


def test_stockout_risk_and_its_money_match_the_demand_law():
    items = pa.table({"unique_id": ["A"], "supplier_id": ["S"], "lead_time": [5.0], "unit_cost": [4.0]})
    stock = pa.table({"unique_id": ["A"], "on_hand": [40.0], "backorders": [2.0], "reserved": [3.0]})
    oo = pa.table(
        {
            "unique_id": ["A", "A"],
            "arrival_date": [dt.date(2026, 11, 25), dt.date(2026, 11, 28)],
            "quantity": [5.0, 100.0],
        }
    )
    al = so.alerts(stock, policy(["A"]), None, items, as_of=AS_OF, open_orders=oo)
    row = al.filter(pa.compute.equal(al["kind"], "stockout_risk")).to_pylist()[0]
    # next possible arrival: today + 5 days; available 40 - 2 - 3 + 5 (the order of the 28th comes later)
    d = stats.norm(50.0, 3.0 * math.sqrt(5.0))
    assert row["value"] == pytest.approx(d.sf(40.0), rel=1e-9)
    short = integrate.quad(lambda z: (z - 40.0) * d.pdf(z), 40.0, np.inf)[0]
    assert row["money"] == pytest.approx(4.0 * short, rel=1e-6)
    assert row["severity"] == "critical"


def test_gamma_risk_low_cover_excess_and_dormant():
    ids = ["A", "B", "C"]
    items = pa.table(
        {"unique_id": ids, "supplier_id": ["S"] * 3, "lead_time": [5.0] * 3, "unit_cost": [4.0, 10.0, 2.0]}
    )
    sup = pa.table({"supplier_id": ["S"], "order_days": [[2]]})  # Wednesday: next arrival in 2 + 5 days
    stock = pa.table({"unique_id": ids, "on_hand": [50.0, 500.0, 30.0]})
    pol = policy(ids, dist="gamma")
    sales = pa.table(
        {
            "unique_id": ["A", "B", "C", "C"],
            "ds": [dt.date(2026, 11, 20), dt.date(2026, 11, 20), dt.date(2026, 6, 1), dt.date(2026, 7, 1)],
            "y": [3.0, 1.0, 2.0, 0.0],
        }
    )
    al = so.alerts(stock, pol, None, items, as_of=AS_OF, suppliers=sup, sales=sales)
    got = {(r["unique_id"], r["kind"]): r for r in al.to_pylist()}
    g = stats.gamma(70.0**2 / (9.0 * 7), scale=9.0 * 7 / 70.0)
    assert got[("A", "stockout_risk")]["value"] == pytest.approx(g.sf(50.0), rel=1e-9)
    assert got[("A", "low_cover")]["value"] == pytest.approx(5.0)  # 50 units at 10 a day, arrival in 7 days
    assert got[("A", "low_cover")]["money"] == pytest.approx(2 * 10 * 4.0)
    assert got[("B", "excess")]["value"] == pytest.approx(500 - 150 - 28 * 10)
    assert got[("B", "excess")]["money"] == pytest.approx(70 * 10.0)
    assert got[("C", "dormant")]["value"] == (dt.date(2026, 11, 23) - dt.date(2026, 6, 1)).days
    assert got[("C", "dormant")]["money"] == pytest.approx(60.0)
    assert ("B", "dormant") not in got and ("B", "stockout_risk") not in got
    kinds = al["kind"].to_pylist()
    assert kinds == sorted(kinds, key=["stockout_risk", "low_cover", "excess", "dormant"].index)


def test_alerts_arguments():
    items = pa.table({"unique_id": ["A"], "supplier_id": ["S"], "lead_time": [5.0]})
    stock = pa.table({"unique_id": ["A"], "on_hand": [40.0]})
    with pytest.raises(ParameterError, match="risk"):
        so.alerts(stock, policy(["A"]), None, items, as_of=AS_OF, risk=-1)
    with pytest.raises(MissingColumnError, match="sales"):
        so.alerts(stock, policy(["A"]), None, items, as_of=AS_OF, sales=pa.table({"unique_id": ["A"]}))
    empty = so.alerts(
        pa.table({"unique_id": ["A"], "on_hand": [120.0]}), policy(["A"]), None, items, as_of=AS_OF
    )
    assert empty.num_rows == 0 and empty.column_names == [
        "unique_id",
        "kind",
        "severity",
        "value",
        "message",
        "money",
    ]


def _plan(on_hand, std, **kw):
    items = pa.table(
        {
            "unique_id": ["A"],
            "supplier_id": ["S"],
            "lead_time": [2.0],
            "pack_size": [10.0],
            "unit_cost": [3.0],
        }
    )
    sup = pa.table({"supplier_id": ["S"], "order_days": [[0]]})
    pol = policy(["A"], mean=10.0, std=std, lead=2.0, review=7.0, big_s=100.0)
    return so.replenish_plan(
        pa.table({"unique_id": ["A"], "on_hand": [on_hand]}), pol, items, sup, as_of=AS_OF, **kw
    )


def test_projection_with_known_demand_by_hand():
    res = _plan(15.0, 0.0)
    q = res.orders["quantity"][0].as_py()  # arrives on day 2 (Wednesday)
    kpi = so.project_kpis(res, n_paths=3)
    row = kpi.items.to_pylist()[0]
    # days 0..8 (until the next order arrives): 10 a day; day 0 serves 10, day 1 serves 5 (net -5), the order
    # arrives on day 2 and clears the backorder
    assert row["days"] == 9 and row["demand"] == pytest.approx(90.0)
    assert row["stockout_days"] == pytest.approx(1.0)
    served = 10 + 5 + sum(10 for _ in range(2, 9))
    assert row["fill_rate"] == pytest.approx(served / 90.0)
    net = [5.0, -5.0] + [-5.0 + q - 10.0 * (d - 1) for d in range(2, 9)]
    assert row["average_on_hand"] == pytest.approx(sum(max(x, 0.0) for x in net) / 9)
    assert row["average_stock_value"] == pytest.approx(3.0 * row["average_on_hand"])
    assert row["turns"] == pytest.approx(served * 365 / 9 / row["average_on_hand"])


def _reference(net0, arrivals, mean, sd, horizon, n_paths, seed):
    """Plain NumPy twin of the projection (normal demand clipped at 0, no later orders)."""
    rng = np.random.default_rng(seed)
    dem = np.maximum(mean + sd * rng.standard_normal((n_paths, horizon)), 0.0)
    net = np.full(n_paths, net0)
    served = 0.0
    for d in range(horizon):
        net += arrivals.get(d, 0.0)
        served += np.minimum(dem[:, d], np.maximum(net, 0.0)).sum()
        net -= dem[:, d]
    return served / dem.sum()


def test_projection_fill_rate_agrees_with_a_plain_simulation():
    res = _plan(30.0, 6.0)
    q = res.orders["quantity"][0].as_py()
    got = so.project_kpis(res, n_paths=4000, seed=3).items["fill_rate"][0].as_py()
    want = _reference(30.0, {2: q}, 10.0, 6.0, 9, 40000, 7)  # daily sd: 6 sqrt(9) over the 9-day protection
    assert got == pytest.approx(want, abs=0.005)
    with pytest.raises(ParameterError, match="n_paths"):
        so.project_kpis(res, n_paths=0)
    longer = so.project_kpis(res, horizon_days=60, n_paths=200, seed=3)
    assert longer.horizon_days == 60 and longer.suppliers["fill_rate"][0].as_py() > 0.8


def test_an_items_kpis_do_not_depend_on_the_other_items_or_the_row_order():
    ids = [f"item-{k}" for k in range(12)]
    n = len(ids)
    rng = np.random.default_rng(5)
    items = pa.table({"unique_id": ids, "supplier_id": ["S"] * n, "lead_time": np.full(n, 3.0),
                      "unit_cost": rng.uniform(1.0, 9.0, n)})
    stock = pa.table({"unique_id": ids, "on_hand": rng.uniform(0.0, 120.0, n)})
    sup = pa.table({"supplier_id": ["S"], "order_days": [[0, 3]]})
    pol = policy(ids, mean=10.0, std=4.0, lead=3.0, review=3.0, big_s=90.0)

    def kpis(rows):
        take = pa.array(rows)
        res = so.replenish_plan(stock.take(take), pol.take(take), items.take(take), sup, as_of=AS_OF)
        return {r["unique_id"]: r for r in so.project_kpis(res, n_paths=300, seed=9).items.to_pylist()}

    whole = kpis(list(range(n)))
    assert len({r["fill_rate"] for r in whole.values()}) > 3  # different items, different numbers
    subset = kpis([9, 2, 7])
    assert subset == {i: whole[i] for i in subset}
    shuffled = kpis(rng.permutation(n).tolist())
    assert shuffled == whole
    other = so.project_kpis(so.replenish_plan(stock, pol, items, sup, as_of=AS_OF), n_paths=300, seed=10)
    assert other.items["fill_rate"].to_pylist() != [whole[i]["fill_rate"] for i in ids]  # the seed counts


@pytest.mark.parametrize("dictionary", [False, True])
def test_days_since_the_last_sale_against_a_loop_over_the_rows(dictionary):
    from stockopt.replenishment.alerts import _last_sale

    rng = np.random.default_rng(3)
    n = 400
    ids = [f"i{k % 37}" for k in range(n)]
    days = rng.integers(100, 160, n)
    y = np.where(rng.random(n) < 0.4, 0.0, rng.integers(1, 5, n).astype(float))
    y[rng.random(n) < 0.05] = np.nan  # a null demand is no sale
    col = pa.array(ids).dictionary_encode() if dictionary else pa.array(ids)
    sales = pa.table({"unique_id": col, "ds": pa.array(days.astype("datetime64[D]")),
                      "y": pa.array(y, from_pandas=True)})
    want_ids = pa.array([f"i{k}" for k in range(40)])  # i37-i39 never appear
    day0 = 150
    got = _last_sale(sales, want_ids, day0, "unique_id", "ds", "y")
    first = int(days.min())
    for j, item in enumerate(want_ids.to_pylist()):
        sold = [d for i, d, v in zip(ids, days, y) if i == item and v > 0 and d <= day0]
        assert got[j] == day0 - (max(sold) if sold else first), item
