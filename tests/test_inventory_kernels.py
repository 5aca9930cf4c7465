"""Inventory kernels against scipy, stockpyl and the slow twins in tests/reference/inventory.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from stockpyl import loss_functions as lf
from stockpyl import ss as sp_ss

from stockopt._kernels import codes
from stockopt._kernels.inventory import core as km
from stockopt._kernels.inventory import discrete as kd
from stockopt._kernels.inventory import policy as kp
from stockopt._kernels.inventory.sim import item_seed, simulate_items
from tests.helpers import slow
from tests.reference import inventory as ref

RNG = np.random.default_rng(20260101)


# ------------------------------------------------------------------ scalar distribution helpers


def test_norm_ppf_matches_scipy() -> None:
    p = np.concatenate([10.0 ** -np.arange(1, 15), RNG.uniform(0, 1, 200), 1 - 10.0 ** -np.arange(1, 12)])
    got = np.array([km.norm_ppf(x) for x in p])
    np.testing.assert_allclose(got, stats.norm.ppf(p), rtol=1e-13, atol=1e-13)


def test_gamma_pq_matches_scipy() -> None:
    a = RNG.uniform(0.05, 500, 300)
    x = a * RNG.uniform(0.01, 3, 300)
    got = np.array([km.gamma_pq(ai, xi)[0] for ai, xi in zip(a, x)])
    np.testing.assert_allclose(got, stats.gamma.cdf(x, a), rtol=1e-10, atol=1e-14)


@pytest.mark.slow
@pytest.mark.parametrize("dist", [codes.DIST_NORMAL, codes.DIST_GAMMA])
def test_loss_functions_match_stockpyl(dist: int) -> None:
    for _ in range(60):
        m = RNG.uniform(0.5, 200)
        sd = m * RNG.uniform(0.05, 1.5)
        x = m + sd * RNG.uniform(-3, 4)
        if dist == codes.DIST_GAMMA:
            x = abs(x) + 1e-3  # stockpyl's gamma loss is defined for x > 0
            a, b = m * m / sd ** 2, sd ** 2 / m
            n1, _ = lf.gamma_loss(x, a, b)
            n2, _ = lf.gamma_second_loss(x, a, b)
        else:
            n1, _ = lf.normal_loss(x, m, sd)
            n2, _ = lf.normal_second_loss(x, m, sd)
        l1, l2 = km.c_loss(x, dist, m, sd * sd)
        assert l1 == pytest.approx(n1, rel=1e-8, abs=1e-10 * m)
        assert l2 == pytest.approx(n2, rel=1e-7, abs=1e-9 * m * m)
        assert km.c_cdf(x, dist, m, sd * sd) == pytest.approx(ref.frozen(dist, m, sd * sd).cdf(x), abs=1e-12)
        assert km.c_loss3(x, dist, m, sd * sd) == pytest.approx(ref.loss(x, dist, m, sd * sd, 3),
                                                               rel=1e-6, abs=1e-8 * m ** 3)


def test_path_cumsum_sums_each_path_on_its_own() -> None:
    """Per-path running sums (leading zero) equal ``np.cumsum`` of the path alone, bit for bit,
    whatever precedes the path (lengths 0, 1 and more; ``indptr`` a slice not starting at 0)."""
    lens = np.array([0, 1, 5, 0, 28, 3, 1])
    big = np.full(10, 1e12)  # large sums before the paths: a running total over the table loses digits
    paths = [RNG.gamma(0.3, 2.0, k) for k in lens]
    values = np.concatenate([big, *paths])
    indptr = np.r_[0, np.cumsum(lens)] + big.size
    out = np.full(lens.sum() + lens.size, np.nan)
    km.path_cumsum(values, indptr, out)
    want = np.concatenate([np.r_[0.0, np.cumsum(p)] for p in paths])
    np.testing.assert_array_equal(out, want)


@pytest.mark.slow
def test_ppf_inverts_cdf() -> None:
    for dist in (codes.DIST_NORMAL, codes.DIST_GAMMA):
        for _ in range(40):
            m = RNG.uniform(0.5, 500)
            v = (m * RNG.uniform(0.05, 2)) ** 2
            p = RNG.uniform(0.01, 0.9999)
            assert km.c_ppf(p, dist, m, v) == pytest.approx(ref.frozen(dist, m, v).ppf(p), rel=1e-9)


def test_degenerate_distribution_is_a_point_mass() -> None:
    assert km.c_cdf(4.9, codes.DIST_NORMAL, 5.0, 0.0) == 0.0
    assert km.c_cdf(5.0, codes.DIST_GAMMA, 5.0, 0.0) == 1.0
    assert km.c_loss(3.0, codes.DIST_NORMAL, 5.0, 0.0) == (2.0, 2.0)
    assert km.c_ppf(0.9, codes.DIST_GAMMA, 5.0, 0.0) == 5.0


@pytest.mark.parametrize("dist", [codes.DIST_POISSON, codes.DIST_NEGBIN, codes.DIST_NORMAL, codes.DIST_GAMMA])
def test_integer_pmfs_match_scipy_and_stockpyl_loss(dist: int) -> None:
    for m in (0.3, 4.0, 37.5):
        v = m * 2.5 if dist != codes.DIST_POISSON else m
        if dist in (codes.DIST_NORMAL, codes.DIST_GAMMA):
            v = (0.4 * m) ** 2
        n = km.pmf_support(dist, m, v)
        out = np.zeros(n)
        km.pmf_add(out, 1.0, dist, m, v)
        np.testing.assert_allclose(out, ref.day_pmf(dist, m, v, n), atol=1e-14)
        assert out.sum() == pytest.approx(1.0, abs=1e-10)
        cdf, loss = np.empty(n), np.empty(n)
        kd._cdf_and_loss(out / out.sum(), cdf, loss)
        for y in (0, 1, int(m), int(m + 3 * math.sqrt(v))):
            if dist == codes.DIST_POISSON:
                want = lf.poisson_loss(y, m)[0]
            elif dist == codes.DIST_NEGBIN:
                want = lf.negative_binomial_loss(y, mean=m, sd=math.sqrt(v))[0]
            else:
                want = ref._loss_at(out, y)
            assert loss[y] == pytest.approx(want, rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------ continuous policy kernel


def _cont_params(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    d = rng.uniform(2, 200, n)
    cv = rng.uniform(0.1, 0.9, n)
    lt = rng.integers(0, 15, n).astype(float)
    rv = rng.choice([0.0, 1.0, 7.0], n)
    pol = np.where(rng.uniform(size=n) < 0.5, codes.POL_RS, codes.POL_SQ).astype(np.int8)
    rv = np.where(pol == codes.POL_RS, np.maximum(rv, 1.0), rv)
    lsd = rng.uniform(0, 2, n) * (rng.uniform(size=n) < 0.3)
    var_d = (cv * d) ** 2
    return {
        "pol": pol,
        "dist": rng.integers(0, 2, n).astype(np.int8),
        "metric": rng.integers(0, 2, n).astype(np.int8),
        "target": rng.uniform(0.8, 0.995, n),
        "r_days": rv,
        "m_l": d * lt,
        "v_l": var_d * lt + d ** 2 * lsd ** 2,
        "m_r": d * rv,
        "v_r": var_d * rv,
        "q": np.where(pol == codes.POL_SQ, d * rng.uniform(0.5, 30, n), 0.0),
    }


@pytest.mark.parametrize("n", [0, 1, slow(2), slow(7), slow(40)])
@pytest.mark.parametrize("lost", [False, True])
def test_policy_continuous_matches_reference(n: int, lost: bool) -> None:
    rng = np.random.default_rng(n + 100 * lost)
    prm = _cont_params(n, rng)
    out = kp.empty_outputs(n)
    kp.policy_continuous(*prm.values(), lost, True, out["s"], out["S"], out["ss"], out["cycle"],
                         out["fill"], out["bo"], out["oh"], out["status"])
    for i in range(n):
        args = [prm[k][i] for k in ("pol", "metric")]
        s, cyc, fil = ref.policy_continuous(prm["target"][i], args[0], args[1], lost, prm["dist"][i],
                                            prm["r_days"][i], prm["m_l"][i], prm["v_l"][i],
                                            prm["m_r"][i], prm["v_r"][i], prm["q"][i])
        scale = 1.0 + math.sqrt(prm["v_l"][i] + prm["v_r"][i])
        tol_c = 1e-7
        assert out["s"][i] == pytest.approx(s, abs=1e-6 * scale), i
        assert out["cycle"][i] == pytest.approx(cyc, abs=tol_c)
        assert out["fill"][i] == pytest.approx(fil, abs=tol_c)
        got = out["cycle"][i] if prm["metric"][i] == 0 else out["fill"][i]
        assert got >= prm["target"][i] - 1e-9
        if out["status"][i] == codes.POLICY_OK:
            assert got == pytest.approx(prm["target"][i], abs=1e-8)
    assert np.all(out["ss"] >= -1e-9)


@pytest.mark.parametrize("n", [0, 1, slow(2), slow(7), slow(40)])
def test_ready_rate_matches_reference(n: int) -> None:
    rng = np.random.default_rng(n + 7)
    prm = _cont_params(n, rng)
    prm["r_days"] = np.where(rng.uniform(size=n) < 0.2, 45.0, prm["r_days"])  # block averaging
    out = kp.empty_outputs(n)
    kp.policy_continuous(*prm.values(), False, True, out["s"], out["S"], out["ss"], out["cycle"],
                         out["fill"], out["bo"], out["oh"], out["status"])
    d = rng.uniform(2, 200, n)
    vd = (d * rng.uniform(0.1, 0.9, n)) ** 2
    ready = np.full(n, np.nan)
    kp.ready_rate_continuous(prm["pol"], prm["dist"], prm["r_days"], prm["m_l"], prm["v_l"], d, vd,
                             out["s"], prm["q"], ready)
    for i in range(n):
        want = ref.ready_rate(prm["pol"][i], prm["dist"][i], prm["r_days"][i], prm["m_l"][i],
                              prm["v_l"][i], d[i], vd[i], out["s"][i], prm["q"][i])
        assert ready[i] == pytest.approx(want, abs=1e-9), i
    assert np.all((ready >= 0) & (ready <= 1))


@pytest.mark.slow
def test_gamma_shift_matches_scipy_and_refuses_long_steps() -> None:
    """Incremental P(a, y) from a nearby anchor equals a fresh evaluation (scipy) to ~1e-14."""
    from scipy import special

    for _ in range(400):
        a = math.exp(RNG.uniform(math.log(0.05), math.log(800)))
        y0 = a * RNG.uniform(0.05, 3) + RNG.uniform(0, 2)
        y1 = y0 + RNG.normal() * RNG.choice([1e-9, 1e-4, 0.05, 0.2]) * max(math.sqrt(a), 1)
        if y1 <= 0:
            continue
        p0, q0 = special.gammainc(a, y0), special.gammaincc(a, y0)
        p1, q1, ok = km.gamma_shift(a, math.lgamma(a), y0, p0, q0, y1)
        if ok:
            assert p1 == pytest.approx(special.gammainc(a, y1), abs=1e-13)
            assert q1 == pytest.approx(special.gammaincc(a, y1), abs=1e-13, rel=1e-10)
    # a step of several standard deviations is refused (the caller then evaluates afresh)
    assert not km.gamma_shift(50.0, math.lgamma(50.0), 50.0, 0.5, 0.5, 80.0)[2]
    anc = np.full(3, np.nan)
    for x in (30.0, 30.01, 30.02, 45.0):  # fresh, shifted, shifted, fresh: same numbers as c_eval
        got = km.c_eval_at(x, codes.DIST_GAMMA, 30.0, 90.0, math.lgamma(10.0), anc, 0)
        np.testing.assert_allclose(got, km.c_eval(x, codes.DIST_GAMMA, 30.0, 90.0), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ discrete policy kernel


def _disc_case(rng: np.random.Generator):
    dist = int(rng.choice([codes.DIST_POISSON, codes.DIST_NEGBIN, codes.DIST_NORMAL, codes.DIST_GAMMA]))
    d = rng.uniform(0.2, 4)
    vd = d * rng.uniform(1.2, 4) if dist != codes.DIST_POISSON else d
    if dist in (codes.DIST_NORMAL, codes.DIST_GAMMA):
        d = rng.uniform(3, 8)
        vd = (0.5 * d) ** 2
    lt = float(rng.integers(0, 5))
    lsd = float(rng.choice([0.0, 1.2]))
    rv = float(rng.choice([1.0, 3.0]))
    pol = int(rng.choice([codes.POL_RS, codes.POL_SQ, codes.POL_SS]))
    q = int(rng.integers(2, 12)) if pol != codes.POL_RS else 1
    return dist, d, vd, lt, lsd, rv, pol, q


@pytest.mark.parametrize("n", [0, 1, 2, 6, 14])
def test_policy_discrete_matches_markov_chain_reference(n: int) -> None:
    rng = np.random.default_rng(7 + n)
    cases = [_disc_case(rng) for _ in range(n)]
    arr = lambda j, dt: np.array([c[j] for c in cases], dtype=dt)  # noqa: E731
    dist, d, vd, lt, lsd, rv = (arr(0, np.int8), arr(1, float), arr(2, float), arr(3, float),
                                arr(4, float), arr(5, float))
    pol, q = arr(6, np.int8), arr(7, np.int64)
    metric = rng.integers(0, 2, n).astype(np.int8)
    target = rng.uniform(0.8, 0.98, n)
    sl, sr, st = (np.empty(n, np.int64) for _ in range(3))
    kd.pmf_sizes(dist, d, vd, lt, lsd, rv, sl, sr, st)
    ips = [np.concatenate(([0], np.cumsum(x))).astype(np.int64) for x in (sl, sr, st)]
    vals = [np.zeros(int(ip[-1])) for ip in ips]
    kd.pmf_fill(dist, d, vd, lt, lsd, rv, vals[0], ips[0], vals[1], ips[1], vals[2], ips[2])
    out = kp.empty_outputs(n)
    freq = np.empty(n)
    kd.policy_discrete(pol, metric, target, rv, q, False, True, vals[0], ips[0], vals[1], ips[1],
                       vals[2], ips[2], out["s"], out["S"], out["ss"], out["cycle"], out["fill"],
                       out["bo"], out["oh"], freq, out["status"], np.empty(0, np.int64))
    for i in range(n):
        size = int(st[i])
        p_l, p_r, p_t = ref.pmfs(dist[i], d[i], vd[i], lt[i], lsd[i], rv[i], size)
        np.testing.assert_allclose(vals[2][ips[2][i]:ips[2][i + 1]], p_t, atol=1e-12)
        s, big_s, cyc, fil = ref.policy_discrete(target[i], pol[i], metric[i], False, q[i], p_l, p_r, p_t)
        assert (out["s"][i], out["S"][i]) == (s, big_s), (i, cases[i])
        assert out["cycle"][i] == pytest.approx(cyc, abs=1e-9)
        assert out["fill"][i] == pytest.approx(fil, abs=1e-9)


def test_stationary_distribution_cost_matches_stockpyl_ss() -> None:
    """g(s, S) of Zheng & Federgruen (1991) for Poisson demand, L = 0, one-day reviews."""
    cases = []
    for _ in range(12):
        mean = RNG.uniform(0.5, 15)
        s = int(RNG.integers(0, int(mean) + 3))
        big_s = s + int(RNG.integers(1, 15))
        h, p, k = RNG.uniform(0.1, 2), RNG.uniform(1, 20), RNG.uniform(1, 50)
        cases.append((mean, s, big_s, h, p, k))
    n = len(cases)
    arr = lambda j: np.array([c[j] for c in cases])  # noqa: E731
    dist = np.full(n, codes.DIST_POISSON, np.int8)
    d = arr(0)
    zeros, ones = np.zeros(n), np.ones(n)
    sl, sr, st = (np.empty(n, np.int64) for _ in range(3))
    kd.pmf_sizes(dist, d, d, zeros, zeros, ones, sl, sr, st)
    ips = [np.concatenate(([0], np.cumsum(x))).astype(np.int64) for x in (sl, sr, st)]
    vals = [np.zeros(int(ip[-1])) for ip in ips]
    kd.pmf_fill(dist, d, d, zeros, zeros, ones, vals[0], ips[0], vals[1], ips[1], vals[2], ips[2])
    cost = np.empty(n)
    s_arr = arr(1).astype(np.int64)
    kd.evaluate_discrete(np.full(n, codes.POL_SS, np.int8), s_arr, (arr(2) - arr(1)).astype(np.int64),
                         arr(3), arr(4), arr(5), vals[1], ips[1], vals[2], ips[2], cost)
    for i, (mean, s, big_s, h, p, k) in enumerate(cases):
        assert cost[i] == pytest.approx(sp_ss.s_s_cost_discrete(s, big_s, h, p, k, True, mean), rel=1e-9)
    # Snyder & Shen (2019), Example 4.7: s = 4, S = 10, h = 1, p = 4, K = 5, Poisson(6): g = 8.0341
    assert cost[0] == pytest.approx(sp_ss.s_s_cost_discrete(*cases[0][1:3], *cases[0][3:], True, cases[0][0]))


# ------------------------------------------------------------------ simulator kernel


def _sim_block(pol, s, big_s, q, rp, lt, demand_rows, lost):
    n = len(pol)
    ip = np.concatenate(([0], np.cumsum([len(r) for r in demand_rows]))).astype(np.int64)
    vals = np.concatenate(demand_rows) if n else np.zeros(0)
    out = np.zeros((n, 11))
    simulate_items(np.asarray(pol, np.int8), np.asarray(s, float), np.asarray(big_s, float),
                   np.asarray(q, float), np.asarray(rp, np.int64), np.asarray(lt, float), np.zeros(n),
                   np.zeros(n, np.int8), np.zeros(n), np.zeros(n), vals, ip, True, lost, 0, 0, 0, 0, out)
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 9])
@pytest.mark.parametrize("lost", [False, True])
def test_simulator_replay_matches_reference_loop(n: int, lost: bool) -> None:
    rng = np.random.default_rng(3 * n + lost)
    pol = rng.integers(0, 3, n)
    s = rng.integers(5, 40, n).astype(float)
    q = rng.integers(1, 30, n).astype(float)
    big_s = np.where(pol == codes.POL_RS, s, s + q)
    rp = rng.integers(1, 5, n)
    lt = rng.integers(0, 6, n).astype(float)
    rows = [rng.poisson(rng.uniform(0.5, 6), int(rng.integers(1, 400))).astype(float) for _ in range(n)]
    out = _sim_block(pol, s, big_s, q, rp, lt, rows, lost)
    for i in range(n):
        cyc, fil, so, oh = ref.simulate(int(pol[i]), s[i], big_s[i], q[i], int(rp[i]), int(lt[i]),
                                        rows[i], lost)
        assert out[i, 0] == pytest.approx(cyc, abs=1e-12)
        assert out[i, 1] == pytest.approx(fil, abs=1e-12)
        assert out[i, 2] == so
        assert out[i, 3] == pytest.approx(oh, abs=1e-9)


def test_simulator_streams_do_not_depend_on_block_split() -> None:
    n = 6
    args = dict(pol=np.zeros(n, np.int8), s=np.full(n, 60.0), big_s=np.full(n, 60.0), q=np.zeros(n),
                rp=np.full(n, 2, np.int64), lt=np.full(n, 3.0), lsd=np.full(n, 1.0),
                dist=np.full(n, codes.DIST_NEGBIN, np.int8), mean=np.full(n, 8.0), var=np.full(n, 20.0))

    def run(a: int, b: int, seed: int) -> np.ndarray:
        out = np.zeros((b - a, 11))
        simulate_items(*[v[a:b] for v in args.values()], np.zeros(1), np.zeros(b - a + 1, np.int64),
                       False, False, 2000, 50, seed, a, out)
        return out

    whole = run(0, n, 5)
    split = np.vstack([run(0, 2, 5), run(2, 3, 5), run(3, n, 5)])
    np.testing.assert_array_equal(whole, split)
    assert not np.array_equal(whole, run(0, n, 6))
    assert len({item_seed(5, i) for i in range(1000)}) == 1000


@pytest.mark.slow
def test_zheng_federgruen_matches_stockpyl_exact() -> None:
    """Cost-optimal (s, S) for Poisson demand (Zheng & Federgruen 1991) against stockpyl's
    s_s_discrete_exact, including Snyder & Shen (2019) Example 4.7: (s, S) = (4, 10), g = 8.0341."""
    cases = [(1.0, 4.0, 5.0, 6.0)] + [(RNG.uniform(0.2, 3), RNG.uniform(1, 30), RNG.uniform(1, 80),
                                       RNG.uniform(0.3, 12)) for _ in range(15)]
    n = len(cases)
    h, p, k, mean = (np.array(c) for c in zip(*cases))
    dist = np.full(n, codes.DIST_POISSON, np.int8)
    zeros, ones = np.zeros(n), np.ones(n)
    sl, sr, st = (np.empty(n, np.int64) for _ in range(3))
    kd.pmf_sizes(dist, mean, mean, zeros, zeros, ones, sl, sr, st)
    ips = [np.concatenate(([0], np.cumsum(x))).astype(np.int64) for x in (sl, sr, st)]
    vals = [np.zeros(int(ip[-1])) for ip in ips]
    kd.pmf_fill(dist, mean, mean, zeros, zeros, ones, vals[0], ips[0], vals[1], ips[1], vals[2], ips[2])
    s, big_s, cost = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
    kd.policy_zheng_federgruen(h, p, k, vals[1], ips[1], vals[2], ips[2], s, big_s, cost)
    for i in range(n):
        ws, wbig, wcost = sp_ss.s_s_discrete_exact(h[i], p[i], k[i], True, mean[i])
        assert (s[i], big_s[i]) == (ws, wbig), cases[i]
        assert cost[i] == pytest.approx(wcost, rel=1e-9)
    assert (s[0], big_s[0]) == (4, 10) and cost[0] == pytest.approx(8.034111561471642)


@pytest.mark.slow
def test_zheng_federgruen_matches_bruteforce_twin() -> None:
    """Exhaustive search over (s, S) with Markov-chain costs (tests/reference) finds the same optimum,
    also with a lead time (D_T over L + 1 days) and negative-binomial demand."""
    cases = [(1.0, 9.0, 20.0, codes.DIST_POISSON, 1.5, 1.5, 0.0),
             (0.5, 6.0, 8.0, codes.DIST_NEGBIN, 1.0, 3.0, 2.0),
             (2.0, 30.0, 40.0, codes.DIST_POISSON, 0.7, 0.7, 1.0)]
    n = len(cases)
    h, p, k, dist, d, vd, lt = (np.array(c) for c in zip(*cases))
    dist = dist.astype(np.int8)
    zeros, ones = np.zeros(n), np.ones(n)
    sl, sr, st = (np.empty(n, np.int64) for _ in range(3))
    kd.pmf_sizes(dist, d, vd, lt, zeros, ones, sl, sr, st)
    ips = [np.concatenate(([0], np.cumsum(x))).astype(np.int64) for x in (sl, sr, st)]
    vals = [np.zeros(int(ip[-1])) for ip in ips]
    kd.pmf_fill(dist, d, vd, lt, zeros, ones, vals[0], ips[0], vals[1], ips[1], vals[2], ips[2])
    s, big_s, cost = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
    kd.policy_zheng_federgruen(h, p, k, vals[1], ips[1], vals[2], ips[2], s, big_s, cost)
    for i in range(n):
        p_r = vals[1][ips[1][i]:ips[1][i + 1]]
        p_t = vals[2][ips[2][i]:ips[2][i + 1]]
        bs, bbig, bcost = ref.ss_cost_bruteforce(h[i], p[i], k[i], p_r, p_t, range(-2, 12), 20)
        assert (s[i], big_s[i]) == (bs, bbig), i
        assert cost[i] == pytest.approx(bcost, rel=1e-9)


@pytest.mark.parametrize("n", [0, 1, 2, 6, slow(14)])
def test_ready_rate_discrete_matches_markov_chain_reference(n: int) -> None:
    """Ready rate on integer demand (RS, sQ, sS; Poisson, negbin, rounded normal/gamma; random lead
    times; review periods past the 32-day block averaging) against the transition-matrix twin."""
    from tests.reference import inventory_ss as ref_ss

    rng = np.random.default_rng(70 + n)
    cases = [_disc_case(rng) for _ in range(n)]
    arr = lambda j, dt: np.array([c[j] for c in cases], dtype=dt)
    dist, d, vd, lt, lsd = arr(0, np.int8), arr(1, float), arr(2, float), arr(3, float), arr(4, float)
    rv = np.where(rng.uniform(size=n) < 0.25, 40.0, arr(5, float))
    pol, q = arr(6, np.int8), arr(7, np.int64)
    pol = np.where((pol == codes.POL_RS) & (rng.uniform(size=n) < 0.3), codes.POL_NEWS, pol).astype(np.int8)
    big_s = np.rint(d * (lt + rv) + rng.uniform(-2, 6, n)).astype(np.int64) + np.where(pol >= 1, q, 0)
    sl, sr, st = (np.empty(n, np.int64) for _ in range(3))
    kd.pmf_sizes(dist, d, vd, lt, lsd, rv, sl, sr, st)
    ir = np.concatenate(([0], np.cumsum(sr))).astype(np.int64)
    vals = [np.zeros(int(x.sum())) for x in (sl, sr, st)]
    ips = [np.concatenate(([0], np.cumsum(x))).astype(np.int64) for x in (sl, sr, st)]
    kd.pmf_fill(dist, d, vd, lt, lsd, rv, vals[0], ips[0], vals[1], ips[1], vals[2], ips[2])
    npts = np.array([kd.ready_points(r).size for r in rv], np.int64)
    jp = np.concatenate(([0], np.cumsum(npts))).astype(np.int64)
    sizes = np.empty(int(jp[-1]), np.int64)
    kd.pmf_ready_sizes(dist, d, vd, lt, lsd, rv, jp, sizes)
    ij = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    vj = np.zeros(int(ij[-1]))
    kd.pmf_ready_fill(dist, d, vd, lt, lsd, rv, jp, vj, ij)
    ready = np.full(n, np.nan)
    kd.ready_rate_discrete(pol, q, big_s, vals[1], ir, jp, vj, ij, ready)
    for i in range(n):
        p_r = vals[1][ir[i]:ir[i + 1]]
        size = int(sizes[jp[i]:jp[i + 1]].max())
        pmfs_j = ref_ss.ready_pmfs(dist[i], d[i], vd[i], lt[i], lsd[i], rv[i], size)
        for k, p in enumerate(pmfs_j):
            got = vj[ij[jp[i] + k]:ij[jp[i] + k + 1]]
            np.testing.assert_allclose(got, p[:got.size], atol=1e-12)
        want = ref_ss.ready_discrete(int(pol[i]), int(big_s[i]), int(q[i]), p_r, pmfs_j)
        assert ready[i] == pytest.approx(want, abs=1e-10), (i, cases[i])
    assert np.all((ready >= 0) & (ready <= 1))


def _rnq_pmfs(dist, d, vd, lt, rv):
    n = len(d)
    sl, sr, st = (np.empty(n, np.int64) for _ in range(3))
    zeros = np.zeros(n)
    kd.pmf_sizes(dist, d, vd, lt, zeros, rv, sl, sr, st)
    ips = [np.concatenate(([0], np.cumsum(x))).astype(np.int64) for x in (sl, sr, st)]
    vals = [np.zeros(int(ip[-1])) for ip in ips]
    kd.pmf_fill(dist, d, vd, lt, zeros, rv, vals[0], ips[0], vals[1], ips[1], vals[2], ips[2])
    return vals, ips


@pytest.mark.slow
def test_rnq_cost_continuous_review_matches_stockpyl_exact() -> None:
    """Continuous-review (r, Q) with Poisson demand: Federgruen & Zheng (1992) in stockpyl, including
    Snyder & Shen (2019) Example 5.8: (r, Q) = (3, 5), g = 107.9236."""
    from stockpyl import rq as sp_rq

    cases = [(20.0, 150.0, 100.0, 1.5, 2.0)] + [
        (RNG.uniform(0.5, 5), RNG.uniform(5, 100), RNG.uniform(5, 200), RNG.uniform(0.3, 8),
         float(RNG.integers(1, 6))) for _ in range(12)]
    h, p, k, lam, lt = (np.array(c) for c in zip(*cases))
    n = len(cases)
    dist = np.full(n, codes.DIST_POISSON, np.int8)
    vals, ips = _rnq_pmfs(dist, lam, lam, lt, np.ones(n))
    s, q, cost = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
    # continuous review: G on D_L (vals[0]), orders per time unit lambda / Q from one day's demand
    kd.policy_rnq_cost(h, p, k, np.ones(n, np.bool_), vals[1], ips[1], vals[0], ips[0], vals[2], ips[2], s, q,
                       cost)
    for i in range(n):
        wr, wq, wcost = sp_rq.r_q_poisson_exact(h[i], p[i], k[i], lam[i], lt[i])
        assert cost[i] == pytest.approx(wcost, rel=1e-9), cases[i]
        assert cost[i] == pytest.approx(sp_rq.r_q_cost_poisson(int(s[i]), int(q[i]), h[i], p[i], k[i], lam[i],
                                                               lt[i]), rel=1e-9)
        if (s[i], q[i]) != (wr, wq):  # ties only
            assert sp_rq.r_q_cost_poisson(wr, wq, h[i], p[i], k[i], lam[i], lt[i]) == pytest.approx(cost[i])
    assert (s[0], q[0]) == (3, 5) and cost[0] == pytest.approx(107.92358063314975)


@pytest.mark.slow
def test_rnq_cost_periodic_matches_bruteforce_twin() -> None:
    """Periodic (R, s, nQ): exhaustive search with Markov-chain costs finds the same optimum
    (Poisson and negative binomial, lead times, review periods 1-3 days)."""
    from tests.reference import inventory_ss as ref_ss

    cases = [(1.0, 9.0, 20.0, codes.DIST_POISSON, 1.5, 1.5, 0.0, 1.0),
             (0.5, 6.0, 8.0, codes.DIST_NEGBIN, 1.0, 3.0, 2.0, 2.0),
             (2.0, 30.0, 40.0, codes.DIST_POISSON, 0.7, 0.7, 1.0, 3.0),
             (0.3, 4.0, 30.0, codes.DIST_NEGBIN, 2.0, 5.0, 3.0, 1.0)]
    n = len(cases)
    h, p, k, dist, d, vd, lt, rv = (np.array(c) for c in zip(*cases))
    dist = dist.astype(np.int8)
    vals, ips = _rnq_pmfs(dist, d, vd, lt, rv)
    s, q, cost = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
    kd.policy_rnq_cost(h, p, k, np.zeros(n, np.bool_), vals[1], ips[1], vals[0], ips[0], vals[2], ips[2],
                       s, q, cost)
    for i in range(n):
        p_r = vals[1][ips[1][i]:ips[1][i + 1]]
        p_t = vals[2][ips[2][i]:ips[2][i + 1]]
        bs, bq, bcost = ref_ss.sq_cost_bruteforce(h[i], p[i], k[i], p_r, p_t, range(-3, 16), 30)
        assert cost[i] == pytest.approx(bcost, rel=1e-9), i
        assert (s[i], q[i]) == (bs, bq), i
