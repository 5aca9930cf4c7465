"""Quantiles of (mean, var, family) predictive distributions against scipy.stats."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from stockopt.errors import ParameterError
from stockopt.models._distributions import intervals, negbin_params, quantiles

PROBS = [0.01, 0.05, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99]


def _draw(shape, seed=0):
    rng = np.random.default_rng(seed)
    mean = rng.gamma(0.6, 4.0, shape)
    disp = rng.gamma(1.0, 2.0, shape)
    var = mean * (1.0 + disp)
    return mean, var


def test_negbin_quantiles_match_scipy():
    mean, var = _draw((300, 14))
    q = quantiles(mean, var, "negbin", PROBS)
    assert q.shape == (300, 14, len(PROBS))
    r, p = negbin_params(mean, var)
    for j, pr in enumerate(PROBS):
        np.testing.assert_array_equal(q[..., j], stats.nbinom.ppf(pr, r, p))


def test_negbin_params_reproduce_moments():
    mean, var = _draw((50,), seed=3)
    r, p = negbin_params(mean, var)
    m2, v2 = stats.nbinom.stats(r, p, moments="mv")
    np.testing.assert_allclose(m2, mean, rtol=1e-12)
    np.testing.assert_allclose(v2, var, rtol=1e-10)


def test_negbin_heavy_tail_and_tiny_means():
    mean = np.array([1e-6, 0.01, 0.3, 50.0, 2000.0])
    var = np.array([1e-3, 5.0, 100.0, 5e4, 2e7])
    q = quantiles(mean, var, "negbin", PROBS)
    r, p = negbin_params(mean, var)
    for j, pr in enumerate(PROBS):
        np.testing.assert_array_equal(q[:, j], stats.nbinom.ppf(pr, r, p))


def test_underdispersed_falls_back_to_poisson():
    mean = np.array([0.5, 3.0, 12.0, 7.0])
    var = np.array([0.5, 1.0, 12.0, 0.0])  # var <= mean
    q = quantiles(mean, var, "negbin", PROBS)
    for j, pr in enumerate(PROBS):
        np.testing.assert_array_equal(q[:, j], stats.poisson.ppf(pr, mean))
    qp = quantiles(mean, None, "poisson", PROBS)
    np.testing.assert_array_equal(qp, q)


def test_zero_mean_is_point_mass_and_nan_propagates():
    mean = np.array([0.0, np.nan, 2.0])
    var = np.array([0.0, 1.0, np.nan])
    q = quantiles(mean, var, "negbin", [0.5, 0.99])
    assert (q[0] == 0).all()
    assert np.isnan(q[1:]).all()


def test_discrete_quantile_definition():
    # smallest k with P(D <= k) >= p, checked directly on the CDF
    mean, var = _draw((200,), seed=5)
    r, p = negbin_params(mean, var)
    for pr in (0.3, 0.8, 0.95):
        k = quantiles(mean, var, "negbin", [pr])[:, 0]
        assert (stats.nbinom.cdf(k, r, p) >= pr - 1e-12).all()
        below = k > 0
        assert (stats.nbinom.cdf(k[below] - 1, r[below], p[below]) < pr).all()


def test_normal_quantiles_match_scipy():
    rng = np.random.default_rng(1)
    mean = rng.normal(10, 5, (40, 7))
    var = rng.gamma(2.0, 3.0, (40, 7))
    q = quantiles(mean, var, "normal", PROBS)
    for j, pr in enumerate(PROBS):
        np.testing.assert_allclose(q[..., j], stats.norm.ppf(pr, mean, np.sqrt(var)), rtol=1e-12, atol=1e-12)
    qn = quantiles(mean, var, "normal", [0.01], nonnegative=True)
    assert (qn >= 0).all()


def test_intervals_are_quantile_pairs():
    mean, var = _draw((20, 3), seed=2)
    lo, hi = intervals(mean, var, "negbin", [80, 95])
    q = quantiles(mean, var, "negbin", [0.1, 0.025, 0.9, 0.975])
    np.testing.assert_array_equal(lo, q[..., :2])
    np.testing.assert_array_equal(hi, q[..., 2:])
    assert (lo <= hi).all()


def test_no_input_mutation_and_determinism():
    mean, var = _draw((30, 4), seed=9)
    m0, v0 = mean.copy(), var.copy()
    a = quantiles(mean, var, "negbin", PROBS)
    b = quantiles(mean, var, "negbin", PROBS)
    np.testing.assert_array_equal(mean, m0)
    np.testing.assert_array_equal(var, v0)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("probs", [[0.0], [1.0], [1.5], []])
def test_bad_probabilities(probs):
    with pytest.raises(ParameterError):
        quantiles(np.ones(2), np.ones(2), "negbin", probs)


def test_bad_family_and_missing_var():
    with pytest.raises(ParameterError):
        quantiles(np.ones(2), np.ones(2), "gamma", [0.5])
    with pytest.raises(ParameterError):
        quantiles(np.ones(2), None, "negbin", [0.5])
    with pytest.raises(ParameterError):
        intervals(np.ones(2), np.ones(2), "normal", [100])


def test_fast_walk_and_slow_path_agree_with_scipy():
    # small counts go through the compiled walk, large means / long tails through cdflib
    mean = np.array([0.02, 0.7, 3.0, 40.0, 650.0, 900.0, 5.0, 2000.0])
    var = np.array([0.5, 0.7, 40.0, 41.0, 700.0, 900.0, 1e6, 2e7])
    q = quantiles(mean, var, "negbin", PROBS)
    r, p = negbin_params(mean, var)
    for j, pr in enumerate(PROBS):
        exp = np.where(var > mean, stats.nbinom.ppf(pr, r, p), stats.poisson.ppf(pr, mean))
        np.testing.assert_array_equal(q[:, j], exp)


def test_flat_rows_solved_once_equal_full_solution():
    mean, var = _draw((120, 1), seed=4)
    flat_m = np.repeat(mean, 28, axis=1)
    flat_v = np.repeat(var, 28, axis=1)
    flat_m[5, :] = np.nan
    q = quantiles(flat_m, flat_v, "negbin", [0.8, 0.95, 0.5])
    assert q.shape == (120, 28, 3)
    bumped = flat_m.copy()
    bumped[0, -1] += 1e-9  # not flat any more: the element-wise path
    q2 = quantiles(bumped, flat_v, "negbin", [0.8, 0.95, 0.5])
    np.testing.assert_array_equal(q[1:], q2[1:])
    assert np.isnan(q[5]).all()
    r, p = negbin_params(mean[:, 0], var[:, 0])
    expected = stats.nbinom.ppf(0.8, r, p)
    expected[5] = np.nan
    np.testing.assert_array_equal(q[:, 3, 0], expected)
