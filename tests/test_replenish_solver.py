"""The constrained step of replenish: brute-force oracle on small instances, the cost model against numerical
integration, and the certified bounds."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import integrate, stats

import stockopt as so
from stockopt._kernels.codes import DIST_GAMMA, DIST_NORMAL
from stockopt._kernels.inventory.cover import cover_cost, newsvendor_levels
from stockopt.replenishment import _plan

AS_OF = "2026-11-23"  # a Monday


def instance(seed: int, n_items: int = 4, n_sup: int = 2, *, mov=None, budget=None, trucks=None, moq=True):
    """A small random instance whose pack ranges stay small enough to enumerate."""
    rng = np.random.default_rng(seed)
    ids = [f"i{i}" for i in range(n_items)]
    mean = rng.uniform(2.0, 12.0, n_items)
    dem = pa.table(
        {"unique_id": ids, "demand_mean": mean, "demand_std": mean * rng.uniform(0.3, 0.8, n_items)}
    )
    pack = rng.choice([6.0, 12.0, 24.0], n_items)
    sup_of = np.arange(n_items) % n_sup
    items = pa.table(
        {
            "unique_id": ids,
            "supplier_id": [f"S{j}" for j in sup_of],
            "lead_time": rng.integers(1, 5, n_items) * 1.0,
            "review_period": np.full(n_items, 7.0),
            "unit_cost": np.round(rng.uniform(1.0, 20.0, n_items), 2),
            "pack_size": pack,
            "moq": np.where(moq & (rng.random(n_items) < 0.4), pack * 2, 0.0),
            "volume": np.round(rng.uniform(0.01, 0.05, n_items), 3),
            "weight": np.round(rng.uniform(0.5, 3.0, n_items), 2),
            "service_level": rng.uniform(0.85, 0.98, n_items),
            "order_cost": np.full(n_items, 5.0),
        }
    )
    pol = so.inventory_policy(dem, items, policy=str(rng.choice(["RS", "sS"])), distribution="normal")
    stock = pa.table({"unique_id": ids, "on_hand": np.round(mean * rng.uniform(0.0, 6.0, n_items))})
    sups = {"supplier_id": [f"S{j}" for j in range(n_sup)], "order_days": [[0, 3]] * n_sup}
    for name, val in (("min_order_value", mov), ("budget", budget)):
        if val is not None:
            sups[name] = [float(v) for v in val]
    if trucks is not None:
        sups["truck_volume"] = [float(v) for v in trucks[0]]
        sups["truck_cost"] = [float(v) for v in trucks[1]]
    return stock, pol, items, pa.table(sups)


def brute_force(res, budget=np.inf):
    """The exact optimum over every pack combination, with the library's own exact item costs."""
    tb, sz, pl = res._state
    s = tb.sup
    cand = pl.cand
    sup = tb.item_sup[cand]
    ranges = [[0] + list(range(max(int(sz.kmin[i]), 1), int(sz.kmax[i]) + 1)) for i in cand]
    assert math.prod(len(r) for r in ranges) <= 2_000_000, "instance too large to enumerate"
    combos = np.array(list(itertools.product(*ranges)), dtype=np.int64).reshape(-1, cand.size)
    obj = np.zeros(combos.shape[0])
    for j, i in enumerate(cand):  # exact objective per item and pack count (cost + shortfall penalty)
        ks = np.array(ranges[j])
        o, _ = _plan._evaluate(sz, np.full(ks.size, i), ks)
        obj += o[np.searchsorted(ks, combos[:, j])] - pl.freight[i] * combos[:, j]
    ok = np.ones(combos.shape[0], dtype=bool)
    value = combos * sz.value_per_pack[cand]
    for j in range(len(tb.sup_ids)):
        mine = sup == j
        v = value[:, mine].sum(axis=1)
        ok &= (v == 0) | (v >= s["min_order_value"][j] - 1e-9)
        ok &= v <= s["budget"][j] + 1e-9
        load = (combos[:, mine] * sz.volume_per_pack[cand][mine]).sum(axis=1) / s["truck_volume"][j]
        n = np.where(v > 0, np.ceil(load - 1e-9), 0)
        ok &= n <= s["max_trucks"][j]
        obj += np.where(np.isfinite(s["truck_volume"][j]), s["truck_cost"][j] * n, 0.0)
    ok &= value.sum(axis=1) <= budget + 1e-9
    best = int(np.argmin(np.where(ok, obj, np.inf)))
    return float(obj[best]), combos[best]


@pytest.mark.parametrize("seed", range(6))
def test_supplier_constraints_reach_the_enumerated_optimum(seed):
    rng = np.random.default_rng(100 + seed)
    mov = rng.uniform(100, 1200, 2)
    stock, pol, items, sups = instance(
        seed,
        mov=mov,
        budget=mov + rng.uniform(100, 2000, 2),
        trucks=(rng.uniform(0.2, 1.0, 2), rng.uniform(5, 60, 2)),
    )
    res = so.replenish_plan(stock, pol, items, sups, as_of=AS_OF, max_cover_cycles=0.5, gap_limit=1e-6)
    best, _ = brute_force(res)
    got = float(res.suppliers["objective"].to_numpy().sum())
    status = res.suppliers["status"].to_pylist()
    assert any(x in ("solved", "feasible") for x in status), "the instance must go through the solver"
    assert got == pytest.approx(best, rel=1e-6)  # the enumerated optimum, exactly (same costs, same packs)
    assert res.summary["bound"] <= best + 1e-6 * max(abs(best), 1.0)  # the certified bound is a bound


@pytest.mark.parametrize("seed", range(3))
def test_global_budget_reaches_the_enumerated_optimum_within_the_certified_gap(seed):
    stock, pol, items, sups = instance(50 + seed, n_items=4, mov=[100.0, 0.0])
    free = so.replenish_plan(stock, pol, items, sups, as_of=AS_OF, max_cover_cycles=0.5)
    budget = 0.6 * free.summary["value"]
    res = so.replenish_plan(stock, pol, items, sups, as_of=AS_OF, max_cover_cycles=0.5, budget=budget)
    best, _ = brute_force(res, budget)
    got = res.summary["objective"]
    assert res.orders["value"].to_numpy().sum() <= budget + 1e-6
    assert got >= best - 1e-6 * abs(best)
    assert res.summary["bound"] <= best + 1e-6 * abs(best)
    assert got - best <= res.summary["global_gap"] * abs(got) + 1e-9


@pytest.mark.parametrize("dist", [DIST_NORMAL, DIST_GAMMA])
def test_cover_cost_matches_numerical_integration(dist):
    # three cover days: demand through each day has mean 10, 20, 30 and variance 16, 32, 48
    pm, pv, pw = np.array([10.0, 20.0, 30.0]), np.array([16.0, 32.0, 48.0]), np.ones(3)
    h, b = 0.02, 0.5

    def law(m, v):
        if dist == DIST_NORMAL:
            return stats.norm(m, math.sqrt(v))
        return stats.gamma(m * m / v, scale=v / m)

    for x in (5.0, 25.0, 42.5):
        want = 0.0
        for m, v in zip(pm, pv):
            d = law(m, v)
            lo = -np.inf if dist == DIST_NORMAL else 0.0
            over = (
                integrate.quad(lambda z: (x - z) * d.pdf(z), lo, x)[0]
                if x > 0 or dist == DIST_NORMAL
                else 0.0
            )
            under = integrate.quad(lambda z: (z - x) * d.pdf(z), max(x, 0.0 if lo == 0.0 else x), np.inf)[0]
            want += h * over + b * under
        got, slope, _ = cover_cost(x, 0, 3, pm, pv, pw, dist, h, b)
        assert got == pytest.approx(want, rel=1e-6)
        fd = (
            cover_cost(x + 1e-4, 0, 3, pm, pv, pw, dist, h, b)[0]
            - cover_cost(x - 1e-4, 0, 3, pm, pv, pw, dist, h, b)[0]
        ) / 2e-4
        assert slope == pytest.approx(fd, rel=1e-5)


def test_newsvendor_level_is_the_critical_ratio_over_the_cover():
    pm, pv, pw = (
        np.array([10.0, 20.0, 30.0, 7.0]),
        np.array([16.0, 32.0, 48.0, 25.0]),
        np.array([1.0, 1, 1, 2]),
    )
    ip = np.array([0, 3, 4])
    h, b = np.array([0.02, 0.1]), np.array([0.38, 0.1])
    out = np.empty(2)
    newsvendor_levels(ip, pm, pv, pw, np.array([DIST_NORMAL, DIST_GAMMA]), h, b, out)
    f0 = np.mean([stats.norm(m, math.sqrt(v)).cdf(out[0]) for m, v in zip(pm[:3], pv[:3])])
    assert f0 == pytest.approx(0.38 / 0.40, abs=1e-9)
    assert stats.gamma(49 / 25, scale=25 / 7).cdf(out[1]) == pytest.approx(0.5, abs=1e-9)
