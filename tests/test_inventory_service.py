"""optimize_service / service_frontier: exact item curves, optimal frontier points, the allocation.

Oracles: the Markov-chain reference of the discrete policies and a direct on-hand formula
(tests/reference/), brute-force enumeration of every combination of item levels, long
simulations of the chosen policies, and the uniform-service policy of ``inventory_policy``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from stockopt.errors import ParameterError
from stockopt.inventory import inventory_policy, optimize_service, service_frontier, simulate_inventory
from stockopt.inventory._discrete import item_pmfs
from stockopt.inventory.policy import prepare_items
from stockopt.inventory.service import _curves
from tests.reference import inventory as ref
from tests.reference.inventory_service import on_hand


def _case(n=4, seed=0, policy_cost=0.0, review=7.0):
    rng = np.random.default_rng(seed)
    ids = [f"p{i}" for i in range(n)]
    m = rng.uniform(0.05, 0.6, n)
    dem = pa.table({"unique_id": ids, "demand_mean": m, "demand_std": np.sqrt(m * rng.uniform(1.0, 2.5, n))})
    items = pa.table({"unique_id": ids, "lead_time": rng.integers(3, 15, n).astype(float),
                      "review_period": np.full(n, review), "unit_cost": rng.uniform(1, 50, n),
                      "order_cost": np.full(n, policy_cost)})
    return dem, items


def _arrays(dem, items, policy):
    _, it, _, a, _ = prepare_items(dem, items, policy, "auto", lost_sales=False, model=None, period_days=None,
                                   objective="service", ready_rate=False, lead_time_model="single", n_jobs=1,
                                   history=None, integer=True)
    return a, it


@pytest.mark.parametrize("policy,cost", [("RS", 0.0), ("sQ", 40.0), ("sS", 40.0)])
def test_level_curves_match_the_reference(policy, cost) -> None:
    dem, items = _case(3, seed=1, policy_cost=cost)
    a, it = _arrays(dem, items, policy)
    c = _curves(a)
    vl, il, vr, ir, vt, itp = item_pmfs(a, np.arange(3), "parametric")
    code = {"RS": ref.RS, "sQ": ref.SQ, "sS": ref.SS}[policy]
    for i in range(3):
        p_l, p_r, p_t = vl[il[i]:il[i + 1]], vr[ir[i]:ir[i + 1]], vt[itp[i]:itp[i + 1]]
        n = max(len(p_l), len(p_r), len(p_t)) + 40
        p_l, p_r, p_t = (np.pad(x, (0, n - len(x))) for x in (p_l, p_r, p_t))
        q = 1 if policy == "RS" else int(np.ceil(a.q[i] - 1e-9))
        for j in range(0, min(c.ip[i + 1] - c.ip[i], 8)):
            s = j - 1 if policy == "RS" else j
            want_fill = ref.service_discrete(s, code, 1, False, q, p_l, p_r, p_t)
            want_oh = on_hand(s, code, q, 7.0, p_l, p_r, p_t)
            assert c.fill[c.ip[i] + j] == pytest.approx(want_fill, abs=1e-9), (i, j)
            assert c.on_hand[c.ip[i] + j] == pytest.approx(want_oh, abs=1e-9), (i, j)
        assert c.fill[c.ip[i + 1] - 1] == pytest.approx(1.0, abs=1e-9)  # the curve reaches full service


@pytest.mark.parametrize("seed,policy,weight", [(0, "RS", "units"), (1, "RS", "value"), (2, "sQ", "units"),
                                                (3, "auto", "crit")])
def test_every_frontier_point_is_optimal(seed, policy, weight) -> None:
    """Brute force over every combination of levels (up to 40^4 per case): the best combination
    with at most a frontier point's stock value fills exactly as much demand as that point."""
    dem, items = _case(4, seed=seed, policy_cost=30.0 if policy != "RS" else 0.0)
    items = items.append_column("crit", pa.array([1.0, 3.0, 0.5, 2.0]))
    fr = service_frontier(dem, items, policy=policy, weight=weight)
    a, it = _arrays(dem, items, policy)
    c = _curves(a)
    rate = a.m_r / np.maximum(a.r_eff, 1.0)
    w = {"units": np.ones(4), "value": it["unit_cost"], "crit": np.array([1.0, 3.0, 0.5, 2.0])}[weight]
    values, gains = [], []
    for i in range(4):
        sl = slice(c.ip[i], min(c.ip[i + 1], c.ip[i] + 40))
        values.append(it["unit_cost"][i] * c.on_hand[sl])
        gains.append(w[i] * rate[i] * c.fill[sl])
    total = float((w * rate).sum())
    v_all = np.add.outer(np.add.outer(np.add.outer(values[0], values[1]), values[2]), values[3]).ravel()
    g_all = np.add.outer(np.add.outer(np.add.outer(gains[0], gains[1]), gains[2]), gains[3]).ravel()
    order = np.argsort(v_all, kind="stable")
    best_up_to = np.maximum.accumulate(g_all[order])
    v_sorted = v_all[order]
    fv = fr["stock_value"].to_numpy()
    ff = fr["aggregate_fill"].to_numpy()
    checked = 0
    for v, f in zip(fv, ff):
        k = np.searchsorted(v_sorted, v * (1 + 1e-12) + 1e-12, side="right")
        if k == 0 or f > 0.9999:
            continue
        assert best_up_to[k - 1] / total == pytest.approx(f, abs=1e-9), (v, f)
        checked += 1
    assert checked > 10
    assert (np.diff(fv) >= -1e-9).all() and (np.diff(ff) >= -1e-12).all()


def test_target_and_budget_cut_the_frontier() -> None:
    dem, items = _case(30, seed=5)
    fr = service_frontier(dem, items)
    fv, ff = fr["stock_value"].to_numpy(), fr["aggregate_fill"].to_numpy()
    for target in (0.5, 0.8, 0.95, 0.99):
        pol = optimize_service(dem, items, target_fill=target)
        k = int(np.argmax(ff >= target))
        got_fill = float(pol.schema.metadata[b"aggregate_fill"])
        got_value = float(pol.schema.metadata[b"stock_value"])
        assert got_fill == pytest.approx(ff[k], abs=1e-9) and got_fill >= target
        assert got_value == pytest.approx(fv[k], rel=1e-9)
        rate = dem["demand_mean"].to_numpy()
        agg = float(np.dot(rate, pol["expected_fill_rate"].to_numpy()) / rate.sum())
        assert agg == pytest.approx(got_fill)
        oh = pol["expected_on_hand"].to_numpy()
        assert float(np.dot(oh, items["unit_cost"].to_numpy())) == pytest.approx(got_value, rel=1e-9)
    for budget in (fv[0] * 1.5, fv[len(fv) // 3], fv[-1] * 0.9):
        pol = optimize_service(dem, items, budget=budget)
        got_value = float(pol.schema.metadata[b"stock_value"])
        got_fill = float(pol.schema.metadata[b"aggregate_fill"])
        assert got_value <= budget * (1 + 1e-9)
        k = int(np.searchsorted(fv, budget, side="right")) - 1
        assert got_fill >= ff[k] - 1e-12  # at least the frontier point the budget pays for
    assert set(pol["status"].to_pylist()) == {"ok"}
    assert pol.column_names == inventory_policy(dem, items).column_names


def test_chosen_policies_simulate_to_the_promised_aggregate_fill() -> None:
    """Daily review (the on-hand formula is then exact): 40 slow movers simulated for 100,000 days."""
    rng = np.random.default_rng(9)
    n = 40
    ids = [f"s{i}" for i in range(n)]
    m = rng.uniform(0.05, 2.0, n)
    dem = pa.table({"unique_id": ids, "demand_mean": m, "demand_std": np.sqrt(m * rng.uniform(1, 2, n))})
    items = pa.table({"unique_id": ids, "lead_time": rng.integers(2, 12, n).astype(float),
                      "review_period": np.ones(n), "unit_cost": rng.lognormal(2, 1, n)})
    pol = optimize_service(dem, items, target_fill=0.93)
    kpi = simulate_inventory(pol, dem, n_periods=100_000, seed=3)
    d = kpi["demand"].to_numpy()
    sim_fill = float(np.dot(kpi["fill_rate"].to_numpy(), d) / d.sum())
    assert sim_fill == pytest.approx(float(pol.schema.metadata[b"aggregate_fill"]), abs=0.005)
    sim_value = float(np.dot(kpi["average_on_hand"].to_numpy(), items["unit_cost"].to_numpy()))
    assert sim_value == pytest.approx(float(pol.schema.metadata[b"stock_value"]), rel=0.02)


def test_beats_a_uniform_target_at_equal_fill() -> None:
    """Per-item 95 % fill targets are one feasible allocation; the optimum for the same money fills
    at least as much, and reaching the same aggregate fill costs clearly less."""
    rng = np.random.default_rng(21)
    n = 200
    ids = [f"u{i}" for i in range(n)]
    m = rng.lognormal(-1.5, 1.0, n)
    dem = pa.table({"unique_id": ids, "demand_mean": m, "demand_std": np.sqrt(m * rng.uniform(1, 3, n))})
    items = pa.table({"unique_id": ids, "lead_time": rng.integers(5, 40, n).astype(float),
                      "review_period": np.full(n, 7.0), "unit_cost": rng.lognormal(3, 1.5, n),
                      "service_level": np.full(n, 0.95), "service_metric": ["fill_rate"] * n})
    uni = inventory_policy(dem, items, policy="RS")
    f_uni = float(np.dot(m, uni["expected_fill_rate"].to_numpy()) / m.sum())
    v_uni = float(np.dot(uni["expected_on_hand"].to_numpy(), items["unit_cost"].to_numpy()))
    opt = optimize_service(dem, items, policy="RS", budget=v_uni)
    assert float(opt.schema.metadata[b"aggregate_fill"]) >= f_uni
    same = optimize_service(dem, items, policy="RS", target_fill=f_uni)
    assert float(same.schema.metadata[b"stock_value"]) < 0.8 * v_uni


def test_history_items_and_errors() -> None:
    rng = np.random.default_rng(2)
    t = 300
    y = np.where(rng.random((3, t)) < [[0.1], [0.3], [0.05]], rng.integers(1, 9, (3, t)), 0).astype(float)
    ids = ["a", "b", "c"]
    ds = pa.array((np.tile(np.arange(t), 3) * 7).astype("datetime64[D]"))
    hist = pa.table({"unique_id": np.repeat(ids, t), "ds": ds, "y": y.ravel()})
    from stockopt.inventory import demand_summary

    dem = demand_summary(hist)
    items = pa.table({"unique_id": ids, "lead_time": [21.0, 35.0, 14.0], "review_period": [7.0] * 3,
                      "unit_cost": [5.0, 1.0, 20.0]})
    pol = optimize_service(dem, items, target_fill=0.9, history=hist)
    assert pol["distribution"].to_pylist() == ["compound"] * 3
    assert float(pol.schema.metadata[b"aggregate_fill"]) >= 0.9
    with pytest.raises(ParameterError, match="exactly one"):
        optimize_service(dem, items)
    with pytest.raises(ParameterError, match="exactly one"):
        optimize_service(dem, items, target_fill=0.9, budget=10.0)
    with pytest.raises(ParameterError, match="target_fill"):
        optimize_service(dem, items, target_fill=1.5)
    with pytest.raises(ParameterError, match="perishable"):
        optimize_service(dem, items.append_column("shelf_life_days", pa.array([5.0, np.inf, np.inf])),
                         target_fill=0.9)
    from stockopt.errors import MissingColumnError

    with pytest.raises(MissingColumnError, match="criticality"):
        optimize_service(dem, items, target_fill=0.9, weight="criticality")
