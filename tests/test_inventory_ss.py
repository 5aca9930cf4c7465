"""(R, s, S) min-max for continuous (normal, gamma) demand: renewal kernel vs slow twin, closed forms,
grid refinement and long simulations."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import integrate, stats

from stockopt._kernels import codes
from stockopt._kernels.inventory import policy as kp
from stockopt._kernels.inventory import ss as ks
from stockopt.inventory import inventory_policy, simulate_inventory
from tests.helpers import slow
from tests.reference import inventory_ss as ref

NAMES = ("s", "S", "ss", "cycle", "fill", "bo", "oh", "ready")


def _kernel(items, lost=False, ready=True, grid_k=ks.GRID_K, floor=True):
    """Run the kernel on a list of item dicts (dist, metric, target, L, R, d, sd, q[, lsd])."""
    n = len(items)
    col = lambda k, dt=float, default=0.0: np.array([it.get(k, default) for it in items], dtype=dt)
    d, sd, lt, rv = col("d"), col("sd"), col("L"), col("R")
    outs = {k: np.empty(n) for k in NAMES}
    status = np.empty(n, np.int8)
    ks.policy_ss_continuous(col("dist", np.int8), col("metric", np.int8), col("target"), rv, d * lt,
                            sd ** 2 * lt, d * rv, sd ** 2 * rv, col("q"), d, sd ** 2, lt, col("lsd"), lost,
                            floor, ready, float(grid_k), *outs.values(), status)
    outs["status"] = status
    return outs


def _twin(it):
    d, sd, lt, rv = it["d"], it["sd"], it["L"], it["R"]
    return ref.SS(it["dist"], d * lt, sd * sd * lt, d * rv, sd * sd * rv, it["q"], d, sd * sd, lt,
                  it.get("lsd", 0.0))


def _random_items(n, rng):
    out = []
    for _ in range(n):
        dist = int(rng.integers(0, 2))
        d = rng.uniform(2, 50)
        cv = rng.uniform(0.15, 1.0) if dist == codes.DIST_GAMMA else rng.uniform(0.1, 0.5)
        rv = float(rng.choice([1.0, 3.0, 7.0]))
        if dist == codes.DIST_GAMMA:
            cv = min(cv, math.sqrt(rv))  # the twin's trapezoidal rule needs a finite density at 0
        out.append({"dist": dist, "metric": int(rng.integers(0, 2)), "target": rng.uniform(0.85, 0.995),
                    "L": float(rng.integers(0, 8)), "R": rv, "d": d, "sd": cv * d,
                    "q": d * rv * rng.choice([0.05, 0.7, 2.0, 6.0]),
                    "lsd": float(rng.choice([0.0, 0.0, 1.3]))})
    return out


@pytest.mark.parametrize("n", [0, 1, slow(2), slow(7)])
def test_kernel_matches_slow_twin(n: int) -> None:
    """Levels and all service measures against the trapezoidal renewal-density twin (scipy)."""
    rng = np.random.default_rng(40 + n)
    items = _random_items(n, rng)
    out = _kernel(items)
    for i, it in enumerate(items):
        tw = _twin(it)
        floor = it["d"] * (it["L"] + it["R"])
        s = tw.solve(it["target"], it["metric"], floor)
        sd_t = it["sd"] * math.sqrt(it["L"] + it["R"]) + it["d"] * it.get("lsd", 0.0)
        assert out["s"][i] == pytest.approx(s, abs=0.01 * sd_t), (i, it)
        assert out["S"][i] == pytest.approx(out["s"][i] + it["q"], rel=1e-12)
        s_k = out["s"][i]
        assert out["cycle"][i] == pytest.approx(tw.cycle(s_k), abs=5e-4), (i, it)
        assert out["fill"][i] == pytest.approx(tw.fill(s_k), abs=2e-4), (i, it)
        assert out["ready"][i] == pytest.approx(tw.ready(s_k, it["R"]), abs=2e-4), (i, it)
        assert out["bo"][i] == pytest.approx(tw.backorders(s_k), abs=1e-3 * sd_t), (i, it)
        got = out["cycle"][i] if it["metric"] == 0 else out["fill"][i]
        if out["status"][i] == codes.POLICY_OK:
            assert got == pytest.approx(it["target"], abs=1e-9)
        else:
            assert out["status"][i] == codes.POLICY_FLOORED and s_k == pytest.approx(floor)
            assert got >= it["target"]


@pytest.mark.slow
def test_lost_sales_fill_matches_twin() -> None:
    items = [{"dist": 0, "metric": 1, "target": 0.97, "L": 3.0, "R": 1.0, "d": 10.0, "sd": 4.0, "q": 30.0},
             {"dist": 1, "metric": 1, "target": 0.995, "L": 2.0, "R": 7.0, "d": 5.0, "sd": 4.0, "q": 50.0}]
    out = _kernel(items, lost=True)
    for i, it in enumerate(items):
        tw = _twin(it)
        s = tw.solve(it["target"], 1, it["d"] * (it["L"] + it["R"]), lost=True)
        assert out["s"][i] == pytest.approx(s, abs=0.02 * it["sd"])
        assert out["status"][i] == codes.POLICY_OK
        assert out["fill"][i] == pytest.approx(it["target"], abs=1e-9)
        assert tw.fill(out["s"][i], lost=True) == pytest.approx(it["target"], abs=2e-4)


def test_exponential_demand_closed_forms() -> None:
    """Exponential review-period demand (gamma, shape 1): the renewal measure is exactly
    ``delta_0 + dx / mu`` (a Poisson process), the undershoot is exponential (memoryless), so
    (Hadley & Whitin 1963) ``cycle = P(D_L + V <= s)`` with ``D_L + V ~ Gamma(L + 1, mu)`` and
    ``B = [g(S) + (1/mu) int_s^S g(y) dy] / (1 + Q / mu)``, ``g = n_T - n_L``."""
    mu, lt, q = 10.0, 4.0, 35.0
    h = mu / ks.GRID_K
    a, c, f0, _ = ks.review_kernel(codes.DIST_GAMMA, mu, mu * mu, h)
    assert f0 == 0.0 and a.sum() == pytest.approx(1.0, abs=1e-12) and c.sum() == pytest.approx(1.0, abs=1e-12)
    n_cells = int(round(q / h))
    u0, nu = ks.renewal_cells(a, c, f0, n_cells)
    assert u0 == 1.0
    np.testing.assert_allclose(nu, h / mu, rtol=3e-3)  # hat discretisation: O(h^2) away from 0
    v = ks.undershoot_cells(a, c, u0, nu)
    j = np.arange(v.size) * h
    np.testing.assert_allclose(v[:40], np.exp(-j[:40] / mu) * (1 - np.exp(-h / mu)), atol=2e-4)
    items = [{"dist": 1, "metric": m, "target": t, "L": lt, "R": 1.0, "d": mu, "sd": mu, "q": q}
             for m, t in ((0, 0.9), (1, 0.99))]
    out = _kernel(items)

    def g(y):
        return ref.loss1(y, 1, mu * (lt + 1), mu * mu * (lt + 1)) - ref.loss1(y, 1, mu * lt, mu * mu * lt)

    for i in range(2):
        s = out["s"][i]
        cyc = stats.gamma(lt + 1, scale=mu).cdf(s)
        b = (g(s + q) + integrate.quad(g, s, s + q, epsabs=1e-12)[0] / mu) / (1 + q / mu)
        assert out["cycle"][i] == pytest.approx(cyc, abs=2e-4)
        assert out["fill"][i] == pytest.approx(1 - b / mu, abs=5e-5)


def test_grid_refinement_error_is_small() -> None:
    """The documented discretisation error: services at the default grid (8 cells per sd of D_R)
    within 2e-4 of a 64-cell grid, levels within 0.01 sd."""
    rng = np.random.default_rng(3)
    items = _random_items(12, rng)
    coarse = _kernel(items)
    fine = _kernel(items, grid_k=64)
    for i, it in enumerate(items):
        sd_t = it["sd"] * math.sqrt(it["L"] + it["R"])
        assert coarse["s"][i] == pytest.approx(fine["s"][i], abs=0.01 * sd_t)
        for k in ("cycle", "fill", "ready"):
            assert coarse[k][i] == pytest.approx(fine[k][i], abs=2e-4), (k, it)


@pytest.mark.slow
def test_grid_refinement_skewed_gamma() -> None:
    """Gamma review-period demand with shape below 1 (daily CV 1.2-3, density singular at 0): the
    cells are 1/shape times narrower (at most 8x); services within 5e-4 of a 64-cells-per-sd grid."""
    rng = np.random.default_rng(5)
    items = [{"dist": 1, "metric": m, "target": 0.95, "L": lt, "R": 1.0, "d": 5.0, "sd": cv * 5.0,
              "q": 5.0 * float(rng.choice([0.5, 3.0, 20.0]))}
             for cv in (1.2, 2.0, 3.0) for lt in (0.0, 2.0, 7.0) for m in (0, 1)]
    coarse = _kernel(items)
    fine = _kernel(items, grid_k=64)
    for i, it in enumerate(items):
        sd_t = it["sd"] * math.sqrt(it["L"] + it["R"])
        assert coarse["s"][i] == pytest.approx(fine["s"][i], abs=0.01 * sd_t), it
        for k in ("cycle", "fill", "ready"):
            assert coarse[k][i] == pytest.approx(fine[k][i], abs=5e-4), (k, it)


def test_no_demand_unreachable_and_split_invariance() -> None:
    base = {"dist": 0, "metric": 1, "target": 0.95, "L": 2.0, "R": 1.0, "d": 10.0, "sd": 3.0, "q": 20.0}
    items = [dict(base, d=0.0, sd=0.0), dict(base, target=1.5), base, dict(base, dist=1, q=0.0),
             dict(base, metric=0, q=1e6)]
    out = _kernel(items)
    assert out["fill"][0] == 1.0 and out["status"][0] == codes.POLICY_FLOORED
    assert out["status"][1] == codes.POLICY_UNREACHABLE
    assert np.all(np.isfinite(out["s"])) and np.all(out["oh"] >= 0) and np.all(out["bo"] >= 0)
    assert np.all((out["ready"] >= 0) & (out["ready"] <= 1))
    # one item at a time gives bit-identical results (threads split items into blocks)
    for i, it in enumerate(items):
        one = _kernel([it])
        for k in NAMES:
            assert one[k][0] == out[k][i] or (np.isnan(one[k][0]) and np.isnan(out[k][i]))
    # S - s = 0: every review orders, i.e. RS with S = s: the closed form of the RS kernel
    for metric in (0, 1):
        rs_items = [dict(base, dist=dist, metric=metric, q=q) for dist in (0, 1) for q in (0.0, 1e-4)]
        got = _kernel(rs_items)
        for i, it in enumerate(rs_items):
            d, sd, lt, rv = it["d"], it["sd"], it["L"], it["R"]
            o = kp.empty_outputs(1)
            kp.policy_continuous(np.array([codes.POL_RS], np.int8), np.array([it["dist"]], np.int8),
                                 np.array([metric], np.int8), np.array([it["target"]]), np.array([rv]),
                                 np.array([d * lt]), np.array([sd * sd * lt]), np.array([d * rv]),
                                 np.array([sd * sd * rv]), np.zeros(1), False, True, *o.values())
            sd_t = sd * math.sqrt(lt + rv)  # within the documented discretisation error
            assert got["s"][i] == pytest.approx(o["s"][0], abs=0.01 * sd_t), it
            assert got["cycle"][i] == pytest.approx(o["cycle"][0], abs=2e-4)
            assert got["fill"][i] == pytest.approx(o["fill"][0], abs=2e-4)
    off = _kernel(items, ready=False)
    assert np.all(np.isnan(off["ready"])) and np.array_equal(off["s"], out["s"])


# ------------------------------------------------------------------ simulation


DISTS = {"normal": (20.0, 5.0), "gamma": (10.0, 8.0)}


# weekly review of the normal item: the zero-safety-stock floor already gives 99.25 % cycle service
# and 99.97 % fill, so higher targets make the level bind
SIM_CASES = [(dist, metric, target, review)
             for dist in ("normal", "gamma") for review in (1.0, 7.0)
             for metric, target in (("cycle", 0.9), ("fill_rate", 0.995))
             if not (dist == "normal" and review == 7.0)] + [
    ("normal", "cycle", 0.995, 7.0), ("normal", "fill_rate", 0.9999, 7.0)]


@pytest.mark.slow
@pytest.mark.parametrize(("dist", "metric", "target", "review"), SIM_CASES)
def test_simulated_service_within_half_a_point(dist, metric, target, review) -> None:
    """20 items x 200,000 days each (>= 40,000 replenishment cycles per case): simulated cycle
    service, fill rate and ready rate within 0.5 points of the expected values, and the target met
    (every case here is sized above the floor: status ok)."""
    mean, std = DISTS[dist]
    k = 20
    ids = [f"i{i}" for i in range(k)]
    dem = pa.table({"unique_id": ids, "demand_mean": np.full(k, mean), "demand_std": np.full(k, std)})
    items = pa.table({"unique_id": ids, "lead_time": np.full(k, 5.0), "review_period": np.full(k, review),
                      "order_cost": np.full(k, 1.0), "service_level": np.full(k, target),
                      "service_metric": [metric] * k})
    pol = inventory_policy(dem, items, policy="sS", distribution=dist, ready_rate=True)
    kpi = simulate_inventory(pol, dem, n_periods=200_000, seed=11)
    cycles = kpi["cycles"].to_numpy()
    assert cycles.sum() >= 40_000
    cyc = float(np.average(kpi["cycle_service"].to_numpy(), weights=cycles))
    fill = float(np.average(kpi["fill_rate"].to_numpy(), weights=kpi["demand"].to_numpy()))
    ready = float(np.mean(kpi["ready_rate"].to_numpy()))
    exp_c, exp_f, exp_r = (pol[c][0].as_py() for c in ("expected_cycle_service", "expected_fill_rate",
                                                        "expected_ready_rate"))
    assert abs(cyc - exp_c) < 0.005, (cyc, exp_c)
    assert abs(fill - exp_f) < 0.005, (fill, exp_f)
    assert abs(ready - exp_r) < 0.005, (ready, exp_r)
    achieved = cyc if metric == "cycle" else fill
    assert achieved > target - 0.005
    assert set(pol["status"].to_pylist()) == {"ok"}
    assert abs(achieved - target) < 0.005
    assert (exp_c if metric == "cycle" else exp_f) == pytest.approx(target, abs=1e-9)
    # the on-hand and backorder expectations agree with the simulation too
    np.testing.assert_allclose(kpi["average_on_hand"].to_numpy().mean(), pol["expected_on_hand"][0].as_py(),
                               rtol=0.03)


@pytest.mark.slow
@pytest.mark.parametrize("dist", ["normal", "gamma"])
@pytest.mark.parametrize(("metric", "target"), [("cycle", 0.95), ("fill_rate", 0.995)])
def test_random_lead_time_mixture_simulated(dist, metric, target) -> None:
    """L ~ N(6, 1.5) days (rounded, crossing orders allowed in the simulator), daily review: the
    exact lead-time mixture lands within 0.5 points of target (20 items x 200,000 days)."""
    mean, std = DISTS[dist]
    k = 20
    ids = [f"i{i}" for i in range(k)]
    dem = pa.table({"unique_id": ids, "demand_mean": np.full(k, mean), "demand_std": np.full(k, std)})
    items = pa.table({"unique_id": ids, "lead_time": np.full(k, 6.0), "lead_time_std": np.full(k, 1.5),
                      "review_period": np.ones(k), "order_cost": np.ones(k),
                      "service_level": np.full(k, target),
                      "service_metric": [metric] * k})
    pol = inventory_policy(dem, items, policy="sS", distribution=dist, ready_rate=True)
    assert set(pol["status"].to_pylist()) == {"ok"}
    kpi = simulate_inventory(pol, dem, n_periods=200_000, seed=11)
    cyc = float(np.average(kpi["cycle_service"].to_numpy(), weights=kpi["cycles"].to_numpy()))
    fill = float(np.average(kpi["fill_rate"].to_numpy(), weights=kpi["demand"].to_numpy()))
    ready = float(np.mean(kpi["ready_rate"].to_numpy()))
    assert abs((cyc if metric == "cycle" else fill) - target) < 0.005
    assert abs(cyc - pol["expected_cycle_service"][0].as_py()) < 0.005
    assert abs(fill - pol["expected_fill_rate"][0].as_py()) < 0.005
    assert abs(ready - pol["expected_ready_rate"][0].as_py()) < 0.005


def test_cost_objective_keeps_the_integer_path() -> None:
    """objective='cost' keeps the integer Zheng-Federgruen path (thread splits: tests/test_contract.py)."""
    n = 5
    rng = np.random.default_rng(9)
    ids = [f"t{i}" for i in range(n)]
    m = rng.lognormal(2, 0.7, n)
    dem = pa.table({"unique_id": ids, "demand_mean": m, "demand_std": m * rng.uniform(0.3, 1.2, n)})
    items = pa.table({"unique_id": ids, "lead_time": rng.integers(0, 10, n).astype(float),
                      "review_period": rng.choice([1.0, 7.0], n), "order_cost": rng.uniform(1, 30, n),
                      "service_level": rng.uniform(0.8, 0.99, n), "stockout_cost": np.full(n, 2.0)})
    cost = inventory_policy(dem, items, policy="sS", distribution="normal", objective="cost")
    s = cost["reorder_point"].to_numpy()
    assert np.array_equal(s, np.round(s))  # integer levels: the exact integer method


@pytest.mark.slow
def test_lost_sales_simulated() -> None:
    """Lost sales (fill ``1 - B / (E[D_R] + B)``): gamma demand, daily review, 98 % fill target,
    simulated with lost sales within 0.5 points (observed 98.00 %)."""
    mean, std = DISTS["gamma"]
    k = 20
    ids = [f"i{i}" for i in range(k)]
    dem = pa.table({"unique_id": ids, "demand_mean": np.full(k, mean), "demand_std": np.full(k, std)})
    items = pa.table({"unique_id": ids, "lead_time": np.full(k, 5.0), "review_period": np.ones(k),
                      "order_cost": np.ones(k), "service_level": np.full(k, 0.98),
                      "service_metric": ["fill_rate"] * k})
    pol = inventory_policy(dem, items, policy="sS", distribution="gamma", lost_sales=True)
    assert set(pol["status"].to_pylist()) == {"ok"}
    kpi = simulate_inventory(pol, dem, n_periods=200_000, seed=11, lost_sales=True)
    fill = float(np.average(kpi["fill_rate"].to_numpy(), weights=kpi["demand"].to_numpy()))
    assert abs(fill - 0.98) < 0.005
    assert kpi["lost_sales"].to_numpy().sum() > 0
