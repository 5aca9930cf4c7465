"""Sample paths (so.simulate) against closed forms and for partition-independent determinism."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import stockopt as so
from stockopt.simulation import series_seeds


def _one_series(y):
    return pa.table({"unique_id": ["a"] * len(y), "ds": pa.array(np.arange(len(y), dtype=np.int32), pa.date32()),
                     "y": np.asarray(y, dtype=float)})


def test_naive_paths_have_random_walk_covariance():
    rng = np.random.default_rng(0)
    y = 100 + np.cumsum(rng.normal(0, 2.0, 300))
    h, n = 6, 40000
    p = so.simulate(_one_series(y), h, model="naive", n_paths=n, seed=3, nonnegative=False)
    v = p["value"].to_numpy().reshape(n, h)
    sigma2 = np.mean(np.diff(y) ** 2)  # the model's one-step variance
    np.testing.assert_allclose(v.mean(axis=0), y[-1], atol=4 * np.sqrt(sigma2 * h / n))
    cov = np.cov(v, rowvar=False)
    k = np.arange(1, h + 1)
    want = sigma2 * np.minimum.outer(k, k)
    np.testing.assert_allclose(cov, want, rtol=0.05)
    # the lead-time demand over the horizon: variance of the sum = sigma^2 * sum_ij min(i, j)
    assert v.sum(axis=1).var() == pytest.approx(want.sum(), rel=0.05)


def test_intermittent_paths_match_the_negative_binomial_marginals_and_are_independent():
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.3) * rng.integers(1, 6, 400)
    model = so.models.CrostonSBA()
    res = model.forecast_arrays(y.astype(float), np.array([0, 400]), 5)
    assert res.dist == "negbin"
    n = 60000
    p = so.simulate(_one_series(y), 5, model=model, n_paths=n, seed=9)
    v = p["value"].to_numpy().reshape(n, 5)
    assert (v == np.round(v)).all() and (v >= 0).all()
    np.testing.assert_allclose(v.mean(axis=0), res.mean[0], rtol=0.03)
    np.testing.assert_allclose(v.var(axis=0), res.var[0], rtol=0.06)
    corr = np.corrcoef(v, rowvar=False)[np.triu_indices(5, 1)]
    assert np.abs(corr).max() < 0.02


def test_paths_do_not_depend_on_partitioning_or_threads():
    sales = so.datasets.synthetic_retail(12, 90, seed=2)
    full = so.simulate(sales, 7, model="croston_sba", n_paths=30, seed=5, n_jobs=1)
    again = so.simulate(sales, 7, model="croston_sba", n_paths=30, seed=5, n_jobs=3)
    assert full.equals(again)
    part = sales.filter(pa.compute.is_in(sales["unique_id"], pa.array(["item_000003", "item_000007"])))
    sub = so.simulate(part, 7, model="croston_sba", n_paths=30, seed=5)
    mask = pa.compute.is_in(full["unique_id"], pa.array(["item_000003", "item_000007"]))
    assert full.filter(mask).equals(sub)
    other = so.simulate(sales, 7, model="croston_sba", n_paths=30, seed=6)
    assert not other.equals(full)
    assert full.column_names == ["unique_id", "ds", "sample_id", "value"]
    assert full.num_rows == 12 * 30 * 7


def test_series_seeds_depend_on_id_text_only():
    a = series_seeds(pa.array(["x", "y", "x"]), 1)
    assert a[0] == a[2] != a[1]
    assert series_seeds(pa.array(["x"]), 1)[0] == a[0]
    assert series_seeds(pa.array(["x"]), 2)[0] != a[0]
