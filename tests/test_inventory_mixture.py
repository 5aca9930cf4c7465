"""Random lead times for normal and gamma demand: the exact lead-time mixture (kernel
``_kernels/inventory/mixture.py``) against a slow scipy reference and against the simulator."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from stockopt._kernels.codes import DIST_GAMMA, DIST_NORMAL, POL_RS, POL_SQ
from stockopt._kernels.inventory.mixture import mix_eval, mix_service, policy_mixture
from stockopt._kernels.inventory.policy import empty_outputs
from stockopt.errors import ParameterError
from stockopt.inventory import inventory_policy, simulate_inventory
from tests.reference import inventory as ref

# (l_mean, l_sd): lead-time supports of 3 points with all mass on one (near-degenerate), 2 points
# including L = 0 (a point mass at zero demand), a few points, typical, and a long one (81 points)
LEADS = [(5.0, 1e-12), (0.3, 0.2), (2.0, 0.6), (6.0, 1.5), (60.0, 10.0)]


@pytest.mark.slow
@pytest.mark.parametrize("dist", [DIST_NORMAL, DIST_GAMMA])
@pytest.mark.parametrize(("l_mean", "l_sd"), LEADS)
def test_mixture_cdf_and_loss_match_scipy(dist, l_mean, l_sd) -> None:
    d, vd = (20.0, 25.0) if dist == DIST_NORMAL else (10.0, 64.0)
    for add_m, add_v in ((0.0, 0.0), (70.0, 175.0)):
        mean = d * l_mean + add_m
        sd = math.sqrt(vd * l_mean + d * d * l_sd * l_sd + add_v)
        xs = (0.0, mean - sd, mean, mean + 0.5 * sd, mean + 2.5 * sd)
        for x in (xs if l_mean < 30 else xs[1::2]):  # fewer points on the long (slow) reference
            c, _, l1, l2 = mix_eval(x, dist, d, vd, l_mean, l_sd, add_m, add_v)
            rc, r1, r2 = ref.mixture_cdf_loss(x, dist, d, vd, l_mean, l_sd, add_m, add_v)
            assert c == pytest.approx(rc, abs=1e-10)
            assert l1 == pytest.approx(r1, rel=1e-7, abs=1e-9 * (1 + mean))
            assert l2 == pytest.approx(r2, rel=1e-7, abs=1e-9 * (1 + mean) ** 2)


@pytest.mark.parametrize("dist", [DIST_NORMAL, DIST_GAMMA])
@pytest.mark.parametrize(("pol", "metric", "rd"), [(POL_RS, 0, 7.0), (POL_RS, 1, 7.0), (POL_SQ, 0, 1.0),
                                                   (POL_SQ, 1, 1.0), (POL_SQ, 1, 0.0)])
def test_mixture_service_derivatives(dist, pol, metric, rd) -> None:
    """Analytic slope (and curvature for fill rates) against central differences."""
    d, vd, lm, ls, q = 20.0, 60.0, 6.0, 1.5, 150.0
    mr, vr = d * max(rd, 1.0), vd * max(rd, 1.0)
    mj, vj = 30.0, 200.0
    h = 1e-3
    for s in (150.0, 200.0, 260.0):
        g, dg, d2g = mix_service(s, pol, metric, False, dist, rd, d, vd, lm, ls, mr, vr, q, mj, vj)
        gp = mix_service(s + h, pol, metric, False, dist, rd, d, vd, lm, ls, mr, vr, q, mj, vj)
        gm = mix_service(s - h, pol, metric, False, dist, rd, d, vd, lm, ls, mr, vr, q, mj, vj)
        assert dg == pytest.approx((gp[0] - gm[0]) / (2 * h), rel=1e-5, abs=1e-9)
        if metric == 1:
            assert d2g == pytest.approx((gp[1] - gm[1]) / (2 * h), rel=1e-4, abs=1e-9)


def _items(n, rng):
    dist = rng.integers(0, 2, n).astype(np.int8)
    pol = rng.integers(0, 2, n).astype(np.int8)
    metric = rng.integers(0, 2, n).astype(np.int8)
    target = rng.uniform(0.8, 0.99, n)
    rd = np.where(pol == POL_RS, rng.choice([1.0, 7.0], n), rng.choice([0.0, 1.0, 7.0], n))
    d = rng.uniform(2.0, 50.0, n)
    vd = d * d * rng.uniform(0.1, 1.0, n)
    lm = rng.uniform(0.5, 12.0, n)
    ls = lm * rng.uniform(0.05, 0.4, n)
    r1 = np.maximum(rd, 1.0)
    m_r, v_r = d * np.where(rd > 0, rd, 0.0), vd * np.where(rd > 0, rd, 0.0)
    m_r = np.where(pol == POL_RS, d * r1, m_r)
    v_r = np.where(pol == POL_RS, vd * r1, v_r)
    q = np.where(pol == POL_SQ, d * rng.uniform(1.0, 15.0, n), 0.0)
    return [pol, dist, metric, target, rd, d, vd, lm, ls, d * lm, m_r, v_r, q]


def _run_kernel(args, lost):
    out = empty_outputs(args[0].shape[0])
    keys = ("s", "S", "ss", "cycle", "fill", "bo", "oh", "status")
    policy_mixture(*args, lost, True, *[out[k] for k in keys])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("lost", [False, True])
def test_policy_mixture_matches_reference(lost) -> None:
    rng = np.random.default_rng(3 + lost)
    args = _items(5, rng)
    out = _run_kernel(args, lost)
    for i in range(5):
        pol, dist, metric, target, rd, d, vd, lm, ls, _, m_r, v_r, q = (a[i] for a in args)
        s, cyc, fil = ref.policy_mixture(target, int(pol), int(metric), lost, int(dist), rd, d, vd, lm, ls,
                                         m_r, v_r, q)
        sd = math.sqrt(vd * lm + d * d * ls * ls + v_r)
        assert out["s"][i] == pytest.approx(s, abs=1e-6 * sd), (i, pol, metric, rd)
        assert out["cycle"][i] == pytest.approx(cyc, abs=1e-7)
        assert out["fill"][i] == pytest.approx(fil, abs=1e-7)
        if out["status"][i] == 0:  # met exactly (never just short)
            assert (cyc if metric == 0 else fil) == pytest.approx(target, abs=1e-7)
            assert (out["cycle"][i] if metric == 0 else out["fill"][i]) >= target - 1e-12
        else:
            assert out["status"][i] == 2 and (cyc if metric == 0 else fil) >= target - 1e-9
        assert out["S"][i] == pytest.approx(out["s"][i] + (q if pol == POL_SQ else 0.0))


def test_policy_mixture_split_invariant() -> None:
    """Bit-identical whatever the block split (the API layer splits items over threads)."""
    args = _items(64, np.random.default_rng(7))
    whole = _run_kernel(args, False)
    parts = [_run_kernel([a[lo:hi] for a in args], False) for lo, hi in ((0, 1), (1, 30), (30, 64))]
    for k in whole:
        assert np.array_equal(whole[k], np.concatenate([p[k] for p in parts]))
    empty = _run_kernel([a[:0] for a in args], False)
    assert empty["s"].shape == (0,)


DISTS = {"normal": (20.0, 5.0), "gamma": (10.0, 8.0)}


def _setup(dist, policy, metric, target, review, cost, lsd=1.5, model="compound", k=20):
    mean, std = DISTS[dist]
    ids = [f"i{i}" for i in range(k)]
    dem = pa.table({"unique_id": ids, "demand_mean": np.full(k, mean), "demand_std": np.full(k, std)})
    items = pa.table({"unique_id": ids, "lead_time": np.full(k, 6.0), "lead_time_std": np.full(k, lsd),
                      "review_period": np.full(k, review), "order_cost": np.full(k, cost),
                      "service_level": np.full(k, target), "service_metric": [metric] * k})
    pol = inventory_policy(dem, items, policy=policy, distribution=dist, lead_time_model=model)
    return dem, items, pol


def _achieved(kpi):
    cyc = float(np.average(kpi["cycle_service"].to_numpy(), weights=kpi["cycles"].to_numpy()))
    fill = float(np.average(kpi["fill_rate"].to_numpy(), weights=kpi["demand"].to_numpy()))
    return cyc, fill


# L ~ N(6, 1.5) days rounded, crossing orders allowed; 20 items x 200,000 days per case
# (>= 28,000 cycles: binomial standard error of the cycle service <= 0.13 point at 95 %).
# The RS cases take the crossing-orders model (the default for order-up-to policies, see
# tests/test_inventory_crossing.py, which also covers daily-reviewed base stock); the sQ cases the
# mixture over one random lead time.
@pytest.mark.slow
@pytest.mark.parametrize("dist", list(DISTS))
@pytest.mark.parametrize(("policy", "metric", "target", "review", "cost"), [
    ("RS", "cycle", 0.95, 7.0, 0.0),
    ("RS", "fill_rate", 0.98, 7.0, 0.0),
    ("sQ", "cycle", 0.95, 1.0, 30.0),
    ("sQ", "fill_rate", 0.995, 1.0, 30.0),
    ("sQ", "cycle", 0.95, 7.0, 30.0),
    ("sQ", "fill_rate", 0.999, 7.0, 5.0),
])
def test_simulated_service_with_random_lead_time(dist, policy, metric, target, review, cost) -> None:
    dem, _, pol = _setup(dist, policy, metric, target, review, cost)
    exp_c = pol["expected_cycle_service"][0].as_py()
    exp_f = pol["expected_fill_rate"][0].as_py()
    cyc, fill = _achieved(simulate_inventory(pol, dem, n_periods=200_000, seed=2))
    assert abs(cyc - exp_c) < 0.005, (cyc, exp_c)
    assert abs(fill - exp_f) < 0.005, (fill, exp_f)
    achieved = cyc if metric == "cycle" else fill
    assert achieved > target - 0.005
    assert pol["status"][0].as_py() == "ok"  # the cases are chosen so that the target binds
    assert (exp_c if metric == "cycle" else exp_f) == pytest.approx(target, abs=1e-7)
    assert abs(achieved - target) < 0.005


def test_normal_approximation_still_available() -> None:
    """``lead_time_model="normal"``: the moment-matched variance L sigma_d^2 + d^2 sigma_L^2, i.e.
    the closed form ``S = mean + z sd``; fixed lead times are identical under both models."""
    _, _, pol = _setup("normal", "RS", "cycle", 0.95, 7.0, 0.0, model="normal", k=3)
    sd = math.sqrt(13 * 25.0 + 400.0 * 1.5 ** 2)
    assert pol["order_up_to"][0].as_py() == pytest.approx(260.0 + 1.6448536269514722 * sd, rel=1e-9)
    _, _, exact = _setup("normal", "RS", "cycle", 0.95, 7.0, 0.0, k=3)
    assert exact["order_up_to"][0].as_py() != pytest.approx(pol["order_up_to"][0].as_py(), rel=1e-4)
    for dist in DISTS:
        a = _setup(dist, "sQ", "fill_rate", 0.97, 7.0, 30.0, lsd=0.0, k=3)[2]
        b = _setup(dist, "sQ", "fill_rate", 0.97, 7.0, 30.0, lsd=0.0, model="normal", k=3)[2]
        assert a.equals(b)
    with pytest.raises(ParameterError):
        _setup("normal", "RS", "cycle", 0.95, 7.0, 0.0, model="exact", k=3)
