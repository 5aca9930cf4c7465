"""Tests of the Theta family: kernels vs slow twins, closed forms, simulation, and statsforecast.

Oracles: the slow reference in ``tests/reference/theta.py``; statsforecast 2.1.1 (its recursion
``thetamodel``/``forecast_theta``, its automatic fit ``auto_theta`` and the statsmodels helpers it
calls for the seasonality test and the decomposition); scipy's L-BFGS-B for the fit; the closed-form
variance of the static models; Monte Carlo simulation for the dynamic ones; real data sets.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from stockopt._kernels.codes import STATUS_FAILED, STATUS_FALLBACK, STATUS_OK, STATUS_TOO_SHORT
from stockopt._kernels.forecast import theta as K
from stockopt.errors import ParameterError
from stockopt.models.theta import (
    THETA_MODELS,
    AutoTheta,
    DynamicOptimizedTheta,
    DynamicTheta,
    OptimizedTheta,
    Theta,
)
from tests.helpers import real_data, slow
from tests.reference import theta as R


def _block(series: list[np.ndarray], offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate([np.full(offset, -7.0)] + [np.asarray(s, float) for s in series])
    indptr = np.r_[0, np.cumsum([len(s) for s in series])].astype(np.int64) + offset
    return values, indptr


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-10) -> bool:
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    scale = np.maximum(np.abs(b), 1.0)
    return bool(np.all((np.abs(a - b) <= rtol * scale) | (np.isnan(a) & np.isnan(b))))


def _fixed(values, indptr, model, level0, alpha, theta, h):
    ns = indptr.shape[0] - 1
    fit = np.full(values.shape[0], np.nan)
    sse = np.empty(ns)
    s2 = np.empty(ns)
    mean = np.empty((ns, h))
    var = np.empty((ns, h))
    K.theta_fixed_kernel(values, indptr, np.asarray(model, np.int8), np.asarray(level0, float),
                         np.asarray(alpha, float), np.asarray(theta, float), h, fit, sse, s2, mean, var)
    return fit, sse, s2, mean, var


def _sf():
    pytest.importorskip("statsforecast")
    from statsforecast import theta as sft

    return sft


# ---------------------------------------------------------------------------------------------
# fixed-parameter kernel vs slow twin
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [K.STM, K.OTM, K.DSTM, K.DOTM])
def test_fixed_kernel_matches_reference(model):
    rng = np.random.default_rng(model)
    lengths = [0, 1, 2, 3, 4, 5, 14, 60, 300]
    series = [rng.gamma(2.0, 3.0, n) + 0.02 * np.arange(n) for n in lengths]
    values, indptr = _block(series, offset=5)  # indptr[0] != 0
    ns = len(series)
    level0 = rng.normal(3.0, 2.0, ns)
    alpha = rng.uniform(0.1, 0.99, ns)
    theta = rng.uniform(1.0, 6.0, ns) if model in (K.OTM, K.DOTM) else np.full(ns, 2.0)
    h = 9
    fit, sse, s2, mean, var = _fixed(values, indptr, np.full(ns, model), level0, alpha, theta, h)
    for i, y in enumerate(series):
        n = len(y)
        if n == 0:
            assert np.isnan(mean[i]).all() and np.isnan(sse[i])
            continue
        states, mu, ref_sse = R.theta_filter(y, model, level0[i], alpha[i], theta[i])
        ref_s2 = R.sigma2(y, mu)
        ref_mean, ref_var = R.theta_forecast(states, n, model, alpha[i], theta[i], h, ref_s2)
        assert _close(fit[indptr[i]:indptr[i + 1]], mu)
        assert _close(sse[i], ref_sse)
        assert _close(s2[i], ref_s2)
        assert _close(mean[i], ref_mean)
        if n >= 2:
            assert _close(var[i], ref_var, rtol=1e-9)


@pytest.mark.parametrize("modeltype,model", [("STM", K.STM), ("OTM", K.OTM), ("DSTM", K.DSTM), ("DOTM", K.DOTM)])
def test_fixed_recursion_matches_statsforecast(modeltype, model):
    """Same parameters -> same one-step fits, criterion and point forecasts as statsforecast."""
    sft = _sf()
    rng = np.random.default_rng(11)
    y = rng.poisson(8.0, 120).astype(float) + 0.05 * np.arange(120)
    level0, alpha, theta, h = 3.7, 0.35, (2.0 if model in (K.STM, K.DSTM) else 3.3), 14
    obj = sft.thetamodel(y=y, m=1, modeltype=modeltype, initial_smoothed=level0, alpha=alpha, theta=theta, nmse=3)
    fc = sft.forecast_theta(obj, h)["mean"]
    values, indptr = _block([y])
    fit, sse, _, mean, _ = _fixed(values, indptr, [model], [level0], [alpha], [theta], h)
    assert _close(fit, y - obj["residuals"], 1e-9)
    assert _close(sse[0] / np.mean(np.abs(y)), obj["mse"], 1e-9)
    assert _close(mean[0], fc, 1e-9)


# ---------------------------------------------------------------------------------------------
# forecast-error variance: closed form (static) and simulation (dynamic)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [K.STM, K.OTM])
def test_static_variance_closed_form(model):
    """Static models: y_{n+k} - yhat = eps_{n+k} + alpha * sum_{j<k} eps_{n+j} -> s2 (1 + (k-1) alpha^2)."""
    rng = np.random.default_rng(3)
    y = rng.normal(20.0, 3.0, 80)
    values, indptr = _block([y])
    alpha = 0.37
    _, _, s2, _, var = _fixed(values, indptr, [model], [19.0], [alpha], [2.6], 12)
    k = np.arange(1, 13)
    np.testing.assert_allclose(var[0], s2[0] * (1 + (k - 1) * alpha**2), rtol=1e-12)


@pytest.mark.parametrize("model", [K.DSTM, K.DOTM])
def test_dynamic_variance_by_simulation(model):
    rng = np.random.default_rng(5)
    n, h, alpha, theta = 40, 10, 0.45, (2.0 if model == K.DSTM else 4.0)
    y = rng.normal(10.0, 2.0, n) + 0.1 * np.arange(n)
    values, indptr = _block([y])
    _, _, s2, mean, var = _fixed(values, indptr, [model], [9.0], [alpha], [theta], h)
    states, _, _ = R.theta_filter(y, model, 9.0, alpha, theta)
    paths = 40_000
    level, meany, a, b = (np.full(paths, v) for v in states[-1, :4])
    sims = np.empty((h, paths))
    c = 1 - 1 / theta
    for j in range(h):
        i = n + j
        mu = level + c * (a * (1 - alpha) ** i + b * (1 - (1 - alpha) ** (i + 1)) / alpha)
        yy = mu + rng.normal(0.0, np.sqrt(s2[0]), paths)
        sims[j] = yy
        nb = ((i - 1) * b + 6 * (yy - meany) / (i + 1)) / (i + 2)
        meany = (i * meany + yy) / (i + 1)
        a, b = meany - nb * (i + 2) / 2, nb
        level = alpha * yy + (1 - alpha) * level
    np.testing.assert_allclose(sims.mean(axis=1), mean[0], atol=4 * np.sqrt(var[0] / paths).max())
    np.testing.assert_allclose(sims.var(axis=1), var[0], rtol=0.05)
    assert np.all(np.diff(var[0]) > 0)


# ---------------------------------------------------------------------------------------------
# seasonality test and decomposition vs statsforecast's helpers (statsmodels acf / decompose)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("m", [4, 7, 12])
def test_seasonal_decomposition_vs_statsforecast_helpers(m):
    sft = _sf()
    from scipy.stats import norm

    rng = np.random.default_rng(m)
    series = []
    for k in range(18):
        n = [m - 1, 2 * m - 1, 2 * m, 2 * m + 1, 5 * m + 3, 120][k % 6]
        amp = [0.0, 0.4, 0.9][k // 6]
        pattern = 1 + amp * np.sin(2 * np.pi * np.arange(n) / m)
        y = rng.gamma(50.0, 0.2, n) * pattern + 1.0
        if k % 4 == 3:
            y = y - 3.0  # some non-positive values -> additive
        series.append(y)
    # positive data with a season index below 0.01 -> statsforecast switches to additive
    n = 6 * m
    spike = np.where(np.arange(n) % m == 0, 1e-4, 1.0)
    series.append(rng.gamma(50.0, 0.2, n) * spike)
    values, indptr = _block(series, offset=2)
    for kind, name in ((K.DECOMP_MULTIPLICATIVE, "multiplicative"), (K.DECOMP_ADDITIVE, "additive")):
        seas = np.empty_like(values)
        typ = np.empty(len(series), np.int8)
        K.seasonal_decompose_kernel(values, indptr, m, kind, seas, typ)
        n_seasonal = 0
        for i, y in enumerate(series):
            # statsforecast's test, written with its own helpers
            expect = False
            if m >= 4 and len(y) >= 2 * m:
                r = sft.acf(y, nlags=m, fft=False)[1:]
                stat = np.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / len(y))
                expect = bool(np.abs(r[-1]) / stat > norm.ppf(0.95))
            assert (typ[i] != K.DECOMP_NONE) == expect
            assert R.seasonality_test(y, m) == expect
            ref_kind, ref_idx = R.decompose(y, m, kind)
            assert ref_kind == typ[i]
            if not expect:
                continue
            n_seasonal += 1
            dtype = "multiplicative" if typ[i] == K.DECOMP_MULTIPLICATIVE else "additive"
            if name == "multiplicative" and min(y) > 0:
                sm = sft.seasonal_decompose(y, model="multiplicative", period=m).seasonal
                if dtype == "additive":
                    assert np.any(sm < 0.01)
            if name == "multiplicative" and min(y) <= 0:
                assert dtype == "additive"
            sm = sft.seasonal_decompose(y, model=dtype, period=m).seasonal
            got = seas[indptr[i]:indptr[i + 1]]
            assert _close(got, sm, 1e-10)
            assert _close(got, ref_idx[np.arange(len(y)) % m], 1e-10)
        assert n_seasonal >= 4
    assert typ[-1] == K.DECOMP_ADDITIVE


# ---------------------------------------------------------------------------------------------
# the fit
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,code", [slow(Theta, 0), slow(OptimizedTheta, 1), (DynamicTheta, 2),
                                      slow(DynamicOptimizedTheta, 3)])
def test_fit_at_least_as_good_as_scipy(cls, code):
    """The closed-form/Brent fit reaches the SSE of a multi-start L-BFGS-B on the slow twin."""
    pytest.importorskip("scipy")
    rng = np.random.default_rng(20 + code)
    series = [rng.poisson(6.0, 35).astype(float) + 0.2 * np.arange(35), 50 + np.cumsum(rng.normal(0, 2, 30))]
    values, indptr = _block(series)
    res = cls(nonnegative=False).forecast_arrays(values, indptr, 3)
    assert (res.info["model"] == code).all() and (res.status == STATUS_OK).all()
    assert res.info["converged"].all()
    for i, y in enumerate(series):
        ours = res.info["mse"][i] * (len(y) - 3)
        ref = R.fit_sse_scipy(y, code)
        assert ours <= ref * (1 + 1e-6) + 1e-9
        # the reported parameters reproduce the reported fit through the slow twin
        _, mu, sse = R.theta_filter(y, code, res.info["initial_smoothed"][i], res.info["alpha"][i], res.info["theta"][i])
        assert _close(sse, ours, 1e-8)
        assert _close(res.fitted[indptr[i]:indptr[i + 1]], mu, 1e-8)
        assert 0.1 <= res.info["alpha"][i] <= 0.99 and res.info["theta"][i] >= 1.0


def _sf_auto(y, m, model, h):
    sft = _sf()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = sft.auto_theta(y, m, model=model)
        return obj, sft.forecast_theta(obj, h)["mean"]


def _compare_with_statsforecast(series, m, h, models=(None,)):
    """Per model: share of series with in-sample MSE <= statsforecast's, and mean hold-out MASE."""
    train = [s[:-h] for s in series]
    test = [s[-h:] for s in series]
    values, indptr = _block(train)
    seas = np.empty_like(values)
    typ = np.empty(len(train), np.int8)
    K.seasonal_decompose_kernel(values, indptr, m, K.DECOMP_MULTIPLICATIVE, seas, typ)
    out = {}
    for model in models:
        res = AutoTheta(m, model=model, nonnegative=False).forecast_arrays(values, indptr, h)
        assert (res.status == STATUS_OK).all()
        ok, mase_ours, mase_sf = [], [], []
        for i, (a, b) in enumerate(zip(train, test)):
            obj, fc = _sf_auto(a, m, model, h)
            s = seas[indptr[i]:indptr[i + 1]]
            yd = a / s if typ[i] == K.DECOMP_MULTIPLICATIVE else (a - s if typ[i] == K.DECOMP_ADDITIVE else a)
            # statsforecast's criterion is SSE(t >= 3) / mean|y| on the deseasonalised series
            sf_mse = obj["mse"] * max(np.mean(np.abs(yd)), 1e-10) / (len(a) - 3)
            ok.append(res.info["mse"][i] <= sf_mse * (1 + 1e-6) + 1e-12)
            if model is not None:
                assert THETA_MODELS[res.info["model"][i]] == model == obj["modeltype"]
            lag = m if len(a) > m else 1
            scale = np.mean(np.abs(a[lag:] - a[:-lag]))
            mase_ours.append(np.mean(np.abs(b - res.mean[i])) / scale)
            mase_sf.append(np.mean(np.abs(b - fc)) / scale)
        out[model] = (float(np.mean(ok)), float(np.mean(mase_ours)), float(np.mean(mase_sf)))
    return out


def _check(out):
    for model, (share, ours, peer) in out.items():
        assert share >= 0.95, (model, share)
        assert ours <= 1.01 * peer, (model, ours, peer)


@pytest.mark.slow
def test_vs_statsforecast_synthetic_daily():
    try:
        from stockopt.datasets import synthetic_retail

        t = synthetic_retail(24, 400, seed=0)
        y = t.column("y").to_numpy()
        ids = t.column("unique_id").to_numpy()
        cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        series = np.split(y, cuts)
    except ImportError:  # pragma: no cover - generator not available
        rng = np.random.default_rng(0)
        series = [rng.poisson(rng.uniform(1, 20) * (1 + 0.4 * np.sin(2 * np.pi * np.arange(400) / 7))).astype(float)
                  for _ in range(24)]
    _check(_compare_with_statsforecast(series, 7, 28))


def _read(path: Path, no_gaps: bool = False):
    pq = pytest.importorskip("pyarrow.parquet")
    t = pq.read_table(path, columns=["unique_id", "ds", "y"]).sort_by([("unique_id", "ascending"), ("ds", "ascending")])
    ids = t.column("unique_id").to_numpy(zero_copy_only=False)
    days = t.column("ds").cast("int32").to_numpy()
    y = t.column("y").to_numpy()
    cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    out = []
    for yy, dd in zip(np.split(y, cuts), np.split(days, cuts)):
        if no_gaps and np.any(np.diff(dd) != 7):
            continue
        out.append(yy.astype(float))
    return out


@pytest.mark.slow
def test_vs_statsforecast_m5_daily():
    series = _read(real_data("m5", "m5_foods1_8items_full_history.parquet"))
    series = [s[-500:] for s in series]
    _check(_compare_with_statsforecast(series, 7, 28))


@pytest.mark.slow
def test_vs_statsforecast_stallion_monthly_all_variants():
    series = _read(real_data("stallion_beverages", "stallion_monthly.parquet"))
    rng = np.random.default_rng(0)
    series = [series[i] for i in sorted(rng.choice(len(series), 60, replace=False))]
    _check(_compare_with_statsforecast(series, 12, 12, models=(None, "STM", "OTM", "DSTM", "DOTM")))


@pytest.mark.slow
def test_vs_statsforecast_orange_juice_weekly():
    series = _read(real_data("dominicks_orange_juice", "oj_store_brand_weekly.parquet"), no_gaps=True)
    assert len(series) >= 30
    _check(_compare_with_statsforecast(series[:30], 52, 13))


# ---------------------------------------------------------------------------------------------
# the model layer: contract, edge cases, determinism
# ---------------------------------------------------------------------------------------------
def test_edge_lengths_and_bad_data():
    series = [np.array([]), np.array([4.0]), np.array([1.0, 3.0]), np.array([1.0, 2.0, 6.0]),
              np.array([2.0, 4.0, 3.0, 5.0]), np.full(30, 7.0), np.zeros(25), np.array([1.0, np.nan, 2.0, 3.0, 4.0])]
    values, indptr = _block(series)
    res = AutoTheta(7).forecast_arrays(values, indptr, 5)
    st = res.status
    assert st[0] == STATUS_TOO_SHORT and np.isnan(res.mean[0]).all()
    assert (st[1:4] == STATUS_FALLBACK).all()
    for i in (1, 2, 3):
        np.testing.assert_allclose(res.mean[i], np.mean(series[i]))
    assert np.isnan(res.var[1]).all()
    np.testing.assert_allclose(res.var[2], np.var(series[2], ddof=1) * 1.5)
    assert st[4] == STATUS_OK and st[5] == STATUS_OK and st[6] == STATUS_OK
    np.testing.assert_allclose(res.mean[5], 7.0, rtol=1e-9)
    np.testing.assert_allclose(res.mean[6], 0.0, atol=1e-12)
    assert st[7] == STATUS_FAILED and np.isnan(res.mean[7]).all()
    assert res.fitted.shape == values.shape


def test_nonnegative_clip_keeps_raw_and_auto_picks_best():
    y = np.r_[np.linspace(30, 1, 40)]  # falling demand: raw forecasts go below 0
    values, indptr = _block([y])
    clipped = AutoTheta().forecast_arrays(values, indptr, 20)
    raw = AutoTheta(nonnegative=False).forecast_arrays(values, indptr, 20)
    assert (raw.mean < 0).any() and (clipped.mean >= 0).all()
    np.testing.assert_array_equal(clipped.info["mean_raw"], raw.mean)
    np.testing.assert_array_equal(clipped.mean, np.maximum(raw.mean, 0))
    mses = [cls(nonnegative=False).forecast_arrays(values, indptr, 1).info["mse"][0]
            for cls in (Theta, OptimizedTheta, DynamicTheta, DynamicOptimizedTheta)]
    assert raw.info["mse"][0] == min(mses)
    assert raw.info["model"][0] == int(np.argmin(mses))


def test_names_and_parameter_errors():
    assert [c().name for c in (AutoTheta, Theta, OptimizedTheta, DynamicTheta, DynamicOptimizedTheta)] == [
        "AutoTheta", "Theta", "OptimizedTheta", "DynamicTheta", "DynamicOptimizedTheta"]
    assert AutoTheta(alias="x").name == "x"
    assert "model='DOTM'" in repr(DynamicOptimizedTheta(7)) and DynamicOptimizedTheta(7).season_length == 7
    values, indptr = _block([np.arange(10.0)])
    for bad in (AutoTheta(season_length=0), AutoTheta(decomposition_type="mult"), AutoTheta(model="ETS")):
        with pytest.raises(ParameterError):
            bad.forecast_arrays(values, indptr, 2)
    with pytest.raises(ParameterError):
        AutoTheta().forecast_arrays(values, indptr, 0)


def test_multiplicative_reseasonalisation():
    """A clean multiplicative weekly pattern is detected and carried into forecasts and variances."""
    rng = np.random.default_rng(9)
    pattern = np.array([0.6, 0.8, 1.0, 1.0, 1.1, 1.5, 1.0])
    n, h = 140, 14
    y = 50 * pattern[np.arange(n) % 7] * rng.gamma(400, 1 / 400, n)
    values, indptr = _block([y])
    res = AutoTheta(7, nonnegative=False).forecast_arrays(values, indptr, h)
    assert res.info["decomposition"][0] == K.DECOMP_MULTIPLICATIVE
    ratio = res.mean[0] / pattern[np.arange(n, n + h) % 7]
    assert np.ptp(ratio) / ratio.mean() < 0.05
    seas = np.empty_like(values)
    typ = np.empty(1, np.int8)
    K.seasonal_decompose_kernel(values, indptr, 7, K.DECOMP_MULTIPLICATIVE, seas, typ)
    index = seas[np.arange(n, n + h) % 7]
    np.testing.assert_allclose(index, R.seasonal_indices(y, 7, True)[np.arange(n, n + h) % 7], rtol=1e-10)
    vr = res.var[0] / index**2  # deseasonalised variance grows with the horizon
    assert np.all(np.diff(vr) >= -1e-12)
    add = AutoTheta(7, decomposition_type="additive").forecast_arrays(values, indptr, h)
    assert add.info["decomposition"][0] == K.DECOMP_ADDITIVE


def test_long_horizon_variance_stays_finite():
    """The forecast variance stays finite and positive 400 steps ahead (threads and block splits:
    tests/test_contract.py)."""
    rng = np.random.default_rng(4)
    series = [rng.poisson(rng.uniform(1, 30), 200).astype(float) for _ in range(20)]
    values, indptr = _block(series)
    whole = DynamicOptimizedTheta(7).forecast_arrays(values, indptr, 400)
    assert np.isfinite(whole.var).all() and (whole.var > 0).all()


@pytest.mark.parametrize("modeltype", ["OTM", "DSTM"])
def test_pipeline_matches_statsforecast_with_our_parameters(modeltype):
    """Decompose -> fit -> forecast -> reseasonalise equals statsforecast's steps run with our parameters."""
    sft = _sf()
    rng = np.random.default_rng(8)
    m, n, h = 7, 210, 17
    pattern = np.array([0.7, 0.9, 1.0, 1.0, 1.2, 1.4, 0.8])
    y = (20 + 0.03 * np.arange(n)) * pattern[np.arange(n) % m] * rng.gamma(100, 0.01, n)
    values, indptr = _block([y])
    res = AutoTheta(m, model=modeltype, nonnegative=False).forecast_arrays(values, indptr, h)
    assert res.info["decomposition"][0] == K.DECOMP_MULTIPLICATIVE
    seasonal = sft.seasonal_decompose(y, model="multiplicative", period=m).seasonal
    obj = sft.thetamodel(y=y / seasonal, m=m, modeltype=modeltype, initial_smoothed=res.info["initial_smoothed"][0],
                         alpha=res.info["alpha"][0], theta=res.info["theta"][0], nmse=3)
    season_fc = sft._repeat_val_seas(sft._seasonal_naive(y=seasonal, h=m, season_length=m, fitted=False)["mean"], h)
    expected = sft.forecast_theta(obj, h)["mean"] * season_fc
    assert _close(res.mean[0], expected, 1e-9)
    assert _close(res.fitted, (y / seasonal - obj["residuals"]) * seasonal, 1e-9)
    assert _close(res.info["mse"][0] * (n - 3), obj["mse"] * np.mean(np.abs(y / seasonal)), 1e-9)


def test_fixed_kernel_matches_reference_random_cases():
    hyp = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")

    @hyp.settings(max_examples=40, deadline=None, derandomize=True)
    @hyp.given(n=st.integers(1, 40), model=st.integers(0, 3), alpha=st.floats(0.1, 0.99),
               theta=st.floats(1.0, 50.0), level0=st.floats(-100, 100), seed=st.integers(0, 2**16), h=st.integers(1, 8))
    def check(n, model, alpha, theta, level0, seed, h):
        y = np.random.default_rng(seed).normal(10.0, 5.0, n)
        values, indptr = _block([y], offset=3)
        fit, sse, s2, mean, var = _fixed(values, indptr, [model], [level0], [alpha], [theta], h)
        states, mu, ref_sse = R.theta_filter(y, model, level0, alpha, theta)
        ref_s2 = R.sigma2(y, mu)
        ref_mean, ref_var = R.theta_forecast(states, n, model, alpha, theta, h, ref_s2)
        assert _close(fit[3:], mu) and _close(sse[0], ref_sse) and _close(mean[0], ref_mean)
        assert _close(var[0], ref_var, 1e-9)

    check()
