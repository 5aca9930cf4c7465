"""Properties of replenish over random small instances (hypothesis): every supplier rule holds on every line,
nothing negative or NaN, the same input gives the same output whatever the row order."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stockopt as so

EPOCH = dt.date(1970, 1, 1)


@st.composite
def instances(draw):
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    ids = [f"it{i:02d}" for i in range(n)]
    mean = rng.uniform(0.5, 15.0, n)
    dem = pa.table({"unique_id": ids, "demand_mean": mean, "demand_std": mean * rng.uniform(0.2, 1.0, n)})
    pack = rng.choice([1.0, 4.0, 6.0, 12.0], n)
    items = pa.table(
        {
            "unique_id": ids,
            "supplier_id": [f"S{j}" for j in rng.integers(0, m, n)],
            "lead_time": rng.integers(0, 8, n) + rng.choice([0.0, 0.5], n),
            "review_period": np.full(n, 7.0),
            "unit_cost": np.round(rng.uniform(0.5, 30.0, n), 2),
            "pack_size": pack,
            "moq": np.where(rng.random(n) < 0.3, pack * rng.integers(2, 4, n), 0.0),
            "max_stock": pa.array(mean * rng.uniform(3, 20, n), mask=rng.random(n) >= 0.3),
            "shelf_life_days": pa.array(rng.uniform(2, 30, n), mask=rng.random(n) >= 0.2),
            "volume": np.round(rng.uniform(0.0, 0.05, n), 3),
            "weight": np.round(rng.uniform(0.0, 2.0, n), 2),
            "order_cost": np.full(n, 10.0),
        }
    )
    policy = draw(st.sampled_from(["RS", "sS", "sQ", "auto"]))
    pol = so.inventory_policy(
        dem, items, policy=policy, distribution=draw(st.sampled_from(["normal", "auto"]))
    )
    stock = pa.table(
        {
            "unique_id": ids,
            "on_hand": np.round(mean * rng.uniform(0, 12, n)),
            "backorders": np.where(rng.random(n) < 0.2, 2.0, 0.0),
            "reserved": np.where(rng.random(n) < 0.2, 1.0, 0.0),
        }
    )
    days = [sorted(set(rng.integers(0, 7, rng.integers(1, 4)).tolist())) for _ in range(m)]
    has_truck = rng.random(m) < 0.6
    sup = pa.table(
        {
            "supplier_id": [f"S{j}" for j in range(m)],
            "order_days": days,
            "min_order_value": np.where(rng.random(m) < 0.6, rng.uniform(10, 800, m), 0.0),
            "budget": pa.array(rng.uniform(50, 3000, m), mask=rng.random(m) >= 0.5),
            "truck_volume": pa.array(rng.uniform(0.05, 1.0, m), mask=~has_truck),
            "truck_cost": np.where(has_truck, rng.uniform(1, 50, m), 0.0),
            "max_trucks": pa.array(rng.integers(1, 4, m).astype(float), mask=rng.random(m) >= 0.3),
        }
    )
    as_of = dt.date(2026, 11, 23) + dt.timedelta(days=int(rng.integers(0, 7)))
    oo_rows = rng.random(n) < 0.3
    oo = pa.table(
        {
            "unique_id": pa.array([i for i, r in zip(ids, oo_rows) if r], pa.string()),
            "arrival_date": pa.array(
                [as_of + dt.timedelta(days=int(d)) for d in rng.integers(-1, 10, oo_rows.sum())], pa.date32()
            ),
            "quantity": np.round(mean[oo_rows] * 5),
        }
    )
    budget = draw(st.sampled_from([None, 0.5, 2.0]))
    return stock, pol, items, sup, oo, as_of, budget, seed


def _check(res, stock, items, sup, as_of, budget):
    o = res.orders.to_pydict()
    it = {r["unique_id"]: r for r in items.to_pylist()}
    sp = {r["supplier_id"]: r for r in sup.to_pylist()}
    for col in ("quantity", "value", "volume", "weight"):
        x = np.asarray(o[col], dtype=float)
        assert np.isfinite(x).all() and (x >= 0).all()
    for i, uid in enumerate(o["unique_id"]):
        item = it[uid]
        s = sp[o["supplier_id"][i]]
        assert o["packs"][i] >= 1
        assert o["quantity"][i] == o["packs"][i] * item["pack_size"]  # whole packs, exactly
        assert o["quantity"][i] >= item["moq"] - 1e-9
        wd = o["order_date"][i].weekday()
        assert wd in s["order_days"] and as_of <= o["order_date"][i] < as_of + dt.timedelta(days=7)
        assert (o["arrival_date"][i] - o["order_date"][i]).days == int(np.ceil(item["lead_time"] - 1e-9))
        assert o["supplier_id"][i] == item["supplier_id"]
    warned = set(res.warnings.filter(pc.equal(res.warnings["kind"], "max_stock"))["unique_id"].to_pylist())
    for row in res.suppliers.to_pylist():
        s = sp[row["supplier_id"]]
        v = row["order_value"]
        assert v == 0 or v >= s["min_order_value"] - 1e-6
        assert s["budget"] is None or v <= s["budget"] + 1e-6
        vol = sum(x for x, sid in zip(o["volume"], o["supplier_id"]) if sid == row["supplier_id"])
        if s["truck_volume"] is not None and v > 0:
            assert vol <= row["trucks"] * s["truck_volume"] * (1 + 1e-9)
            assert s["max_trucks"] is None or row["trucks"] <= s["max_trucks"]
    if budget is not None:
        assert sum(o["value"]) <= budget + 1e-6
    tb, sz, pl = res._state
    ms = tb.item["max_stock"]
    over = (sz.y + pl.k * sz.pk > ms + 1e-6) & (pl.k > 0)
    assert set(np.asarray(tb.ids.to_pylist(), dtype=object)[over]) <= warned


def _shuffle(tbl: pa.Table, rng) -> pa.Table:
    return tbl.take(pa.array(rng.permutation(tbl.num_rows)))


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_rules_hold_and_row_order_does_not_matter(inst):
    stock, pol, items, sup, oo, as_of, scale, seed = inst
    free = so.replenish_plan(stock, pol, items, sup, as_of=as_of, open_orders=oo, work_limit=2.0)
    budget = None if scale is None else scale * free.summary["value"]
    res = so.replenish_plan(
        stock, pol, items, sup, as_of=as_of, open_orders=oo, budget=budget, work_limit=2.0
    )
    _check(res, stock, items, sup, as_of, budget)
    again = so.replenish_plan(
        stock, pol, items, sup, as_of=as_of, open_orders=oo, budget=budget, work_limit=2.0
    )
    assert again.orders.equals(res.orders) and again.suppliers.equals(res.suppliers)
    assert again.warnings.equals(res.warnings)
    rng = np.random.default_rng(seed)
    moved = so.replenish_plan(
        _shuffle(stock, rng),
        _shuffle(pol, rng),
        _shuffle(items, rng),
        _shuffle(sup, rng),
        as_of=as_of,
        open_orders=_shuffle(oo, rng),
        budget=budget,
        work_limit=2.0,
    )
    assert moved.orders.equals(res.orders)
