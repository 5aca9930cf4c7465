"""Backtests without refitting: ``cross_validation(refit=False | int)`` and the forward contract.

Checked: the refit schedule (statsforecast's rule), window 0 identical to refitting, models without
estimated parameters identical whatever ``refit``, forward kernels against slow twins over edge
lengths, statsforecast's own ``forward`` / ``cross_validation(refit=False)`` on real and synthetic
data, series that become long enough only at a later cutoff, failed forwards, threads.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import stockopt as so
from stockopt._kernels.codes import STATUS_FAILED
from stockopt._runner import run_fit
from stockopt.backtest import _fit_or_forward
from stockopt.errors import ParameterError
from stockopt.models import (
    ADIDA,
    ETS,
    IMAPA,
    TSB,
    AutoETS,
    AutoModel,
    AutoTheta,
    CrostonClassic,
    CrostonOptimized,
    CrostonSBA,
    DynamicOptimizedTheta,
    HistoricAverage,
    Holt,
    HoltWinters,
    Naive,
    SeasonalNaive,
    SeasonalWindowAverage,
    SimpleExponentialSmoothing,
    SimpleExponentialSmoothingOptimized,
    WindowAverage,
)
from stockopt.models._base import take_params
from stockopt.models.ets import ETS_MODELS
from stockopt.models.theta import THETA_MODELS
from tests.helpers import real_data, slow
from tests.reference import refit as ref

H = 7


def _grouped(ys):
    vals = np.concatenate([np.asarray(y, float) for y in ys]) if ys else np.empty(0)
    ptr = np.zeros(len(ys) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(y) for y in ys])
    return vals, ptr


def _long_table(ys, freq="D"):
    rows = []
    for i, y in enumerate(ys):
        ds = pd.date_range("2020-01-06", periods=len(y), freq=freq)
        rows.append(pd.DataFrame({"unique_id": f"s{i:03d}", "ds": ds, "y": np.asarray(y, float)}))
    return pd.concat(rows, ignore_index=True)


def _seasonal(rng, n, level=20.0, amp=4.0, trend=0.0, noise=1.0, m=7):
    t = np.arange(n)
    return level + trend * t + amp * np.sin(2 * np.pi * t / m) + rng.normal(0, noise, n)


@pytest.fixture(scope="module")
def sales():
    return so.datasets.synthetic_retail(24, 140, seed=3)


# ------------------------------------------------------------------ argument checks and schedule
@pytest.mark.parametrize("bad", [-1, 1.5, "yes", None, [1]])
def test_bad_refit_is_named(sales, bad):
    with pytest.raises(ParameterError, match="refit"):
        so.cross_validation(sales, h=H, n_windows=2, models=["naive"], refit=bad)


class _Spy(SimpleExponentialSmoothingOptimized):
    """SESOpt that records, per call, whether it fitted or forwarded and how many series."""

    _name = "Spy"

    def __init__(self, log):
        super().__init__()
        self.log = log

    def fit_arrays(self, values, indptr, h):
        self.log.append(("fit", indptr.shape[0] - 1))
        return super().fit_arrays(values, indptr, h)

    def forward_arrays(self, values, indptr, h, params):
        self.log.append(("forward", indptr.shape[0] - 1))
        return super().forward_arrays(values, indptr, h, params)


@pytest.mark.parametrize("refit", [False, 0, 2, 3, np.int64(2)])
def test_refit_schedule_is_statsforecasts(sales, refit):
    log: list = []
    so.cross_validation(sales, h=H, n_windows=6, models=[_Spy(log)], refit=refit)
    expected = ref.refit_windows(refit, 6)
    assert [kind == "fit" for kind, _ in log] == expected
    assert all(n == 24 for _, n in log)


@pytest.mark.slow
def test_refit_int_windows_match_refit_true_where_refitted(sales):
    models = [AutoETS(season_length=7), SimpleExponentialSmoothingOptimized(), CrostonOptimized()]
    full = so.cross_validation(sales, h=H, n_windows=5, models=models, refit=True, level=[80])
    every2 = so.cross_validation(sales, h=H, n_windows=5, models=models, refit=2, level=[80])
    never = so.cross_validation(sales, h=H, n_windows=5, models=models, refit=False, level=[80])
    cut = full["cutoff"].to_numpy()
    cutoffs = np.unique(cut)
    for col in full.column_names[4:]:
        a, b, c = (t[col].to_numpy() for t in (full, every2, never))
        for wi, co in enumerate(cutoffs):
            rows = cut == co
            if wi % 2 == 0:
                np.testing.assert_array_equal(b[rows], a[rows], err_msg=f"{col} window {wi}")
            if wi == 0:
                np.testing.assert_array_equal(c[rows], a[rows], err_msg=f"{col} window 0")
            if wi == 1:  # forwarded from window 0 in both
                np.testing.assert_array_equal(b[rows], c[rows], err_msg=f"{col} window 1")
        assert not np.array_equal(c, a), f"{col}: refit=False changed nothing"


# ------------------------------------------------------------------ window 0 and deterministic models
STATELESS = [Naive(), SeasonalNaive(7), HistoricAverage(), WindowAverage(7), SeasonalWindowAverage(7, 2),
             SimpleExponentialSmoothing(0.2), CrostonClassic(), CrostonSBA(), TSB(0.1, 0.2), ADIDA(), IMAPA(),
             AutoModel(season_length=7)]


@pytest.mark.slow
def test_models_without_frozen_parameters_are_identical_whatever_refit(sales):
    kw = {"h": H, "n_windows": 3, "models": STATELESS, "level": [80], "quantiles": [0.9]}
    a = so.cross_validation(sales, refit=True, **kw)
    for refit in (False, 2):
        b = so.cross_validation(sales, refit=refit, **kw)
        assert a.column_names == b.column_names
        for col in a.column_names:
            assert a[col].equals(b[col]), (refit, col)
    assert {m.forward_mode for m in STATELESS} == {"none", "refit"}


@pytest.mark.slow
def test_window0_of_frozen_models_equals_refit(sales):
    models = [AutoETS(season_length=7), Holt(), AutoTheta(season_length=7), DynamicOptimizedTheta(season_length=7),
              SimpleExponentialSmoothingOptimized(), CrostonOptimized()]
    a = so.cross_validation(sales, h=H, n_windows=3, models=models, refit=True, level=[80, 95], quantiles=[0.5])
    b = so.cross_validation(sales, h=H, n_windows=3, models=models, refit=False, level=[80, 95], quantiles=[0.5])
    first = a["cutoff"].to_numpy() == np.min(a["cutoff"].to_numpy())
    for col in a.column_names[4:]:
        np.testing.assert_array_equal(a[col].to_numpy()[first], b[col].to_numpy()[first], err_msg=col)
        assert np.isfinite(b[col].to_numpy()).all(), col
    assert {m.forward_mode for m in models} == {"frozen"}


def test_threads_do_not_change_forward_results(sales):
    models = [AutoETS(season_length=7), AutoTheta(season_length=7), CrostonOptimized()]
    a = so.cross_validation(sales, h=H, n_windows=3, models=models, refit=False, level=[80], n_jobs=1)
    b = so.cross_validation(sales, h=H, n_windows=3, models=models, refit=False, level=[80], n_jobs=2)
    assert a.equals(b)


# ------------------------------------------------------------------ forward kernels vs slow twins
LENGTHS = [0, 1, 2, 5, 30, 160]


def _close(a, b, tol=1e-8):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, float(np.nanmax(np.abs(b))) if b.size else 1.0))


@pytest.mark.parametrize("code", ["ANN", "AAdN", "AAA", "AAdA", "MNN", "MAN", "MAdA", "MNM", "MAM"])
def test_ets_forward_kernel_vs_reference_over_edge_lengths(code):
    rng = np.random.default_rng(abs(hash(code)) % 2**32)
    m = 7
    cid = ETS_MODELS.index(code)
    tt, st = (cid // 3) % 3, cid % 3
    ys = [_seasonal(rng, n, level=30.0, amp=5.0, trend=0.05) for n in LENGTHS]
    vals, ptr = _grouped(ys)
    k = len(ys)
    par = np.full((k, 4), np.nan)
    par[:, 0] = rng.uniform(0.05, 0.5, k)
    if tt:
        par[:, 1] = par[:, 0] * rng.uniform(0.05, 0.5, k)
    if st:
        par[:, 2] = (1 - par[:, 0]) * rng.uniform(0.05, 0.4, k)
    if tt == 2:
        par[:, 3] = rng.uniform(0.85, 0.97, k)
    states = np.full((k, 2 + m), np.nan)
    states[:, 0] = 30.0 + rng.normal(0, 1, k)
    if tt:
        states[:, 1] = 0.05
    if st == 1:
        states[:, 2:] = 5.0 * np.sin(2 * np.pi * -np.arange(m) / m)
    elif st == 2:
        states[:, 2:] = 1.0 + 5.0 / 30.0 * np.sin(2 * np.pi * -np.arange(m) / m)
    params = {"model": np.full(k, cid, np.int16), "par": par, "init_states": states,
              "status": np.zeros(k, np.int8), "fitted": np.ones(k, bool)}
    res = ETS(code, season_length=m, nonnegative=False).forward_arrays(vals, ptr, 12, params)
    for i, y in enumerate(ys):
        if len(y) == 0:
            assert res.status[i] == STATUS_FAILED and np.isnan(res.mean[i]).all()
            continue
        out = ref.ets_forward(y, cid, par[i], states[i], m, 12)
        assert out is not None
        mean, var, sigma2 = out
        _close(res.mean[i], mean)
        _close(res.info["sigma2"][i], sigma2)
        if var is not None:
            _close(res.var[i], var)
        else:
            assert np.isfinite(res.var[i]).all() and (res.var[i] > 0).all()


@pytest.mark.parametrize("model", [AutoETS(season_length=7), HoltWinters(season_length=7, error_type="M"),
                                   Holt(error_type="M"), ETS("AAdA", season_length=7)])
def test_ets_fit_then_forward_on_longer_history_vs_reference(model):
    rng = np.random.default_rng(7)
    full = [_seasonal(rng, n, level=40.0, amp=6.0, trend=tr) for n, tr in [(60, 0.0), (90, 0.1), (150, -0.05),
                                                                          (200, 0.02)]]
    short = [y[: len(y) - 2 * H] for y in full]
    res0, params = model.fit_arrays(*_grouped(short), H)
    assert params["fitted"].all()
    # the forward on the fitted history reproduces the fit bit for bit
    same = model.forward_arrays(*_grouped(short), H, params)
    np.testing.assert_array_equal(same.mean, res0.mean)
    np.testing.assert_array_equal(same.var, res0.var)
    longer = model.forward_arrays(*_grouped(full), H, params)
    for i, y in enumerate(full):
        out = ref.ets_forward(y, int(params["model"][i]), params["par"][i], params["init_states"][i], 7, H)
        mean, var, sigma2 = out
        _close(longer.mean[i], mean)
        _close(longer.info["sigma2"][i], sigma2)
        if var is not None:
            _close(longer.var[i], var)
    np.testing.assert_array_equal(longer.info["alpha"], res0.info["alpha"])
    np.testing.assert_array_equal(longer.info["model"], res0.info["model"])


def test_ets_forward_that_breaks_down_is_refitted_by_the_api():
    rng = np.random.default_rng(2)
    ys = [30 + rng.normal(0, 1, 80), 50 + rng.normal(0, 2, 80)]
    vals, ptr = _grouped(ys)
    model = ETS("MNN")
    _, params = run_fit(model, vals, ptr, H)
    params["init_states"][1, 0] = -5.0  # a negative level: the multiplicative recursion breaks down
    assert model.forward_arrays(*_grouped(ys[1:]), H, take_params(params, [1])).status[0] == STATUS_FAILED
    store = {k: v.copy() for k, v in params.items()}
    res, store, counts = _fit_or_forward(model, vals, ptr, np.arange(2), H, store, 2, False, 1)
    assert counts == {"fitted": 0, "forwarded": 1, "refitted": 1}
    fresh = model.forecast_arrays(vals, ptr, H)
    np.testing.assert_array_equal(res.mean[1], fresh.mean[1])
    assert store["init_states"][1, 0] > 0


@pytest.mark.parametrize("variant", THETA_MODELS)
@pytest.mark.parametrize("decomposition", ["multiplicative", "additive"])
def test_theta_forward_kernel_vs_reference_over_edge_lengths(variant, decomposition):
    rng = np.random.default_rng(5)
    m = 7
    ys = [_seasonal(rng, n, level=30.0, amp=8.0, trend=0.1) for n in LENGTHS]
    vals, ptr = _grouped(ys)
    k = len(ys)
    code = THETA_MODELS.index(variant)
    params = {"model": np.full(k, code, np.int8), "alpha": rng.uniform(0.1, 0.9, k),
              "theta": np.where(variant in ("STM", "DSTM"), 2.0, rng.uniform(1.0, 4.0, k)),
              "initial_smoothed": 30.0 + rng.normal(0, 2, k), "fitted": np.ones(k, bool)}
    model = AutoTheta(season_length=m, decomposition_type=decomposition, nonnegative=False)
    res = model.forward_arrays(vals, ptr, 10, params)
    kind = 1 if decomposition == "multiplicative" else 2
    for i, y in enumerate(ys):
        if len(y) < 4:
            assert res.status[i] == STATUS_FAILED and np.isnan(res.mean[i]).all()
            continue
        mean, var = ref.theta_forward(y, code, params["alpha"][i], params["theta"][i],
                                      params["initial_smoothed"][i], m, kind, 10)
        _close(res.mean[i], mean)
        if np.isfinite(var).all():
            _close(res.var[i], var)
    assert (res.info["decomposition"][np.array(LENGTHS) >= 14] != 0).all()


def test_theta_fit_then_forward_vs_reference():
    rng = np.random.default_rng(9)
    full = [_seasonal(rng, n, level=25.0, amp=amp, trend=0.08) for n, amp in [(40, 0.0), (80, 6.0), (160, 3.0)]]
    short = [y[: len(y) - 2 * H] for y in full]
    model = AutoTheta(season_length=7, nonnegative=False)
    res0, params = model.fit_arrays(*_grouped(short), H)
    longer = model.forward_arrays(*_grouped(full), H, params)
    for i, y in enumerate(full):
        mean, var = ref.theta_forward(y, int(params["model"][i]), params["alpha"][i], params["theta"][i],
                                      params["initial_smoothed"][i], 7, 1, H)
        _close(longer.mean[i], mean)
        _close(longer.var[i], var)
    np.testing.assert_array_equal(longer.info["model"], res0.info["model"])


def test_ses_and_croston_forward_vs_reference_over_edge_lengths():
    rng = np.random.default_rng(4)
    ys = [rng.poisson(3.0, n).astype(float) * (rng.random(n) < 0.4) for n in LENGTHS]
    ys[2] = np.array([0.0, 2.0])
    vals, ptr = _grouped(ys)
    k = len(ys)
    alpha = rng.uniform(0.01, 0.99, k)
    ses = SimpleExponentialSmoothingOptimized(nonnegative=False).forward_arrays(
        vals, ptr, 5, {"alpha": alpha, "fitted": np.ones(k, bool)})
    a_d, a_q = rng.uniform(0.1, 0.3, k), rng.uniform(0.1, 0.3, k)
    cro = CrostonOptimized(nonnegative=False).forward_arrays(
        vals, ptr, 5, {"alpha_size": a_d, "alpha_interval": a_q, "fitted": np.ones(k, bool)})
    for i, y in enumerate(ys):
        if len(y) == 0:
            assert np.isnan(ses.mean[i]).all() and np.isnan(cro.mean[i]).all()
            continue
        mean, var = ref.ses_forward(y, alpha[i], 5)
        _close(ses.mean[i], mean)
        if len(y) > 1:
            _close(ses.var[i], var)
        mean, var = ref.croston_forward(y, a_d[i], a_q[i], 5)
        _close(cro.mean[i], mean)
        _close(cro.var[i], var)


# ------------------------------------------------------------------ the API: late series, intervals
def test_series_too_short_at_the_first_cutoff_is_fitted_when_long_enough():
    rng = np.random.default_rng(1)
    ys = [_seasonal(rng, 100), _seasonal(rng, 100)[-(H + 2 * H + 3):]]  # second: 3 points at window 0
    df = _long_table(ys)
    df = df.assign(ds=df.groupby("unique_id").ds.transform(lambda s: s - s.iloc[-1] + pd.Timestamp("2021-01-01")))
    model = AutoETS(season_length=7)
    kw = {"h": H, "n_windows": 3, "models": [model], "level": [80]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = so.cross_validation(df, refit=True, **kw).to_pandas()
        b = so.cross_validation(df, refit=False, **kw).to_pandas()
    short = b.unique_id == "s001"
    cut = np.sort(b.cutoff.unique())
    # window 0: too short for ETS (historic-mean fallback, as with refit); window 1: first fit
    for wi in (0, 1):
        rows = short & (b.cutoff == cut[wi])
        np.testing.assert_array_equal(b.loc[rows, "AutoETS"], a.loc[rows, "AutoETS"])
    # window 2: forwarded from the window-1 fit
    vals, ptr = _grouped([ys[1][: 3 + H]])
    _, params = model.fit_arrays(vals, ptr, H)
    vals2, ptr2 = _grouped([ys[1][: 3 + 2 * H]])
    fwd = model.forward_arrays(vals2, ptr2, H, params)
    rows = short & (b.cutoff == cut[2])
    np.testing.assert_allclose(b.loc[rows, "AutoETS"], np.maximum(fwd.mean[0], 0), rtol=1e-12)


def test_forward_windows_use_the_model_variance(sales):
    from scipy.stats import norm

    model = AutoETS(season_length=7)
    cv = so.cross_validation(sales, h=H, n_windows=2, models=[model], refit=False, level=[90],
                             nonnegative=False).to_pandas()
    g = so.group_series(sales)
    last = cv.cutoff == cv.cutoff.max()
    vals, ptr = g.values, g.indptr
    short = [vals[ptr[i]: ptr[i + 1] - 2 * H] for i in range(g.n_series)]
    longer = [vals[ptr[i]: ptr[i + 1] - H] for i in range(g.n_series)]
    _, params = model.fit_arrays(*_grouped(short), H)
    fwd = model.forward_arrays(*_grouped(longer), H, params)
    z = norm.ppf(0.95)
    np.testing.assert_allclose(cv.loc[last, "AutoETS"], fwd.mean.ravel(), rtol=1e-12)
    np.testing.assert_allclose(cv.loc[last, "AutoETS-hi-90"], (fwd.mean + z * np.sqrt(fwd.var)).ravel(), rtol=1e-9)


# ------------------------------------------------------------------ statsforecast
def _sf_damped_excess(sf_model, y, h):
    """What statsforecast 2.1.1 adds to damped-trend forecasts beyond HKOS's ``l + (phi + ... +
    phi^k) b``: its forecast loop sums ``phi + phi + phi^2 + ... + phi^(k-1)`` (the first power
    twice), i.e. ``(phi - phi^k) b`` more at step ``k``, ``b`` the end trend of the history ``y``."""
    from statsforecast.ets import forward_ets

    fw = forward_ets(sf_model, y)
    if fw["components"][3] == "N":
        return np.zeros(h)
    phi, b = float(fw["par"][3]), float(fw["states"][-1][1])
    k = np.arange(1, h + 1)
    return (phi - phi ** k) * b


def _sf_ets_params(sf_model, m):
    comp, par = sf_model["components"], np.asarray(sf_model["par"], float)
    damped = comp[3] not in ("N", False)
    name = comp[0] + ("Ad" if damped else comp[1]) + comp[2]
    x0 = np.full(2 + m, np.nan)
    x0[0] = par[4]
    j = 5
    if comp[1] != "N":
        x0[1] = par[5]
        j = 6
    if comp[2] != "N":
        x0[2:2 + m] = par[j:j + m]
    return name, par[:4], x0


def _stallion(n):
    path = real_data("stallion_beverages", "stallion_monthly.parquet")
    df = pd.read_parquet(path, columns=["unique_id", "ds", "y"])
    ids = sorted(df.unique_id.unique())[:n]
    df = df[df.unique_id.isin(ids)].copy()
    df["ds"] = pd.to_datetime(df["ds"])
    return df.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def _m5():
    path = real_data("m5", "m5_foods1_8items_full_history.parquet")
    df = pd.read_parquet(path, columns=["unique_id", "ds", "y"])
    df["ds"] = pd.to_datetime(df["ds"])
    return df.sort_values(["unique_id", "ds"]).groupby("unique_id").tail(300).reset_index(drop=True)


def _synthetic_positive(n_series, n, m, seed):
    """Positive seasonal series: a local level (random walk) with a drift, a season and noise."""
    rng = np.random.default_rng(seed)
    ys = [np.maximum(_seasonal(rng, n, level=50.0, amp=rng.uniform(0, 10), trend=rng.uniform(-0.05, 0.1),
                               noise=rng.uniform(1, 4), m=m) + np.cumsum(rng.normal(0, rng.uniform(0.2, 1.5), n)),
                     1.0) for _ in range(n_series)]
    return _long_table(ys)


@pytest.mark.slow
@pytest.mark.parametrize("data", ["stallion", "m5", "synthetic"])
def test_forward_with_statsforecasts_parameters_matches_statsforecasts_forward(data):
    from statsforecast.models import AutoETS as SFAutoETS
    from statsforecast.models import AutoTheta as SFAutoTheta

    df, m, h = {"stallion": lambda: (_stallion(16), 12, 6), "m5": lambda: (_m5(), 7, 28),
                "synthetic": lambda: (_synthetic_positive(8, 120, 7, 0), 7, 7)}[data]()
    n_checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, g in df.groupby("unique_id"):
            y = g.y.to_numpy()
            y0, y1 = y[: len(y) - 3 * h], y[: len(y) - 2 * h]
            sf = SFAutoETS(season_length=m).fit(y0)
            name, par, x0 = _sf_ets_params(sf.model_, m)
            if name not in ETS_MODELS:
                continue
            params = {"model": np.array([ETS_MODELS.index(name)], np.int16), "par": par[None], "init_states": x0[None],
                      "status": np.zeros(1, np.int8), "fitted": np.ones(1, bool)}
            ours = AutoETS(season_length=m).forward_arrays(*_grouped([y1]), h, params)
            _close(ours.mean[0], sf.forward(y=y1, h=h)["mean"] - _sf_damped_excess(sf.model_, y1, h), 1e-8)
            st = SFAutoTheta(season_length=m).fit(y0)
            p = st.model_["par"]
            tparams = {"model": np.array([THETA_MODELS.index(st.model_["modeltype"])], np.int8),
                       "alpha": np.array([p["alpha"]]), "theta": np.array([p["theta"]]),
                       "initial_smoothed": np.array([p["initial_smoothed"]]), "fitted": np.ones(1, bool)}
            ours = AutoTheta(season_length=m, nonnegative=False).forward_arrays(*_grouped([y1]), h, tparams)
            _close(ours.mean[0], st.forward(y=y1, h=h)["mean"], 1e-8)
            n_checked += 1
    assert n_checked >= 6


def _agreement(df, m, h, freq, ours, theirs, fit_close, excess=None):
    """Share of series whose window-0 fits agree with statsforecast's (same model, close parameters
    and window-0 forecasts within 1 %), and the largest relative gap of their later-window
    forecasts to statsforecast's ``cross_validation(refit=False)``."""
    from statsforecast import StatsForecast

    name = ours.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sf = StatsForecast(models=[theirs], freq=freq, n_jobs=1).cross_validation(
            df=df, h=h, n_windows=3, step_size=h, refit=False)
        cv = so.cross_validation(df, h=h, n_windows=3, step_size=h, models=[ours], refit=False,
                                 nonnegative=False).to_pandas()
    sf = sf.sort_values(["unique_id", "cutoff", "ds"]).reset_index(drop=True)
    cv = cv.sort_values(["unique_id", "cutoff", "ds"]).reset_index(drop=True)
    cv["cutoff"] = pd.to_datetime(cv["cutoff"])
    assert len(sf) == len(cv) and (sf.unique_id.to_numpy() == cv.unique_id.to_numpy()).all()
    first = cv.cutoff.min()
    agree, gaps = [], []
    for uid, g in df.groupby("unique_id"):
        y0 = g.y.to_numpy()[: len(g) - 3 * h]
        res, params = ours.fit_arrays(*_grouped([y0]), h)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = type(theirs)(season_length=m).fit(y0).model_
        w0 = (cv.unique_id == uid) & (cv.cutoff == first)
        a0, b0 = cv.loc[w0, name].to_numpy(), sf.loc[w0, name].to_numpy()
        if excess is not None:
            b0 = b0 - excess(fitted, y0, h)
        same_start = np.max(np.abs(a0 - b0)) <= 0.01 * max(float(np.max(np.abs(b0))), 1e-9)
        if not (fit_close(res, params, fitted) and same_start):
            continue
        agree.append(uid)
        later = (cv.unique_id == uid) & (cv.cutoff > first)
        a, b = cv.loc[later, name].to_numpy(), sf.loc[later, name].to_numpy()
        if excess is not None:  # statsforecast's damped-trend forecast formula, per later window
            y = g.y.to_numpy()
            b = b - np.concatenate([excess(fitted, y[: len(y) - w * h], h) for w in (2, 1)])
        gaps.append(float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-9)))
    return len(agree) / df.unique_id.nunique(), (max(gaps) if gaps else math.nan)


def _ets_fit_close(m):
    def close(res, params, sf_model):
        name, par, _ = _sf_ets_params(sf_model, m)
        if ETS_MODELS[int(params["model"][0])] != name:
            return False
        return bool(np.nanmax(np.abs(np.nan_to_num(params["par"][0]) - np.nan_to_num(par))) < 0.01)
    return close


def _theta_fit_close(res, params, sf_model):
    p = sf_model["par"]
    return (THETA_MODELS[int(params["model"][0])] == sf_model["modeltype"]
            and abs(params["alpha"][0] - p["alpha"]) < 0.01
            and abs(1.0 / params["theta"][0] - 1.0 / p["theta"]) < 0.01)  # c = 1 - 1/theta


def _peer(name, m):
    from statsforecast import models as sfm

    return {"AutoETS": (AutoETS(season_length=m), sfm.AutoETS(season_length=m), _ets_fit_close(m), _sf_damped_excess),
            "Holt": (Holt(season_length=m), sfm.Holt(season_length=m), _ets_fit_close(m), _sf_damped_excess),
            "HoltWinters": (HoltWinters(season_length=m), sfm.HoltWinters(season_length=m), _ets_fit_close(m),
                            _sf_damped_excess),
            "AutoTheta": (AutoTheta(season_length=m, nonnegative=False), sfm.AutoTheta(season_length=m),
                          _theta_fit_close, None)}[name]


# Share of series whose window-0 fit agrees with statsforecast's (same model, parameters within
# 0.01, window-0 forecasts within 1 %) and, among them, the largest relative gap of the
# later-window (forwarded) forecasts, measured when this test was written (stallion 16 series /
# M5 8 / synthetic 16):  AutoETS 0.56 / 0.75 / 0.75, gap <= 0.5 %;  AutoTheta 0.88 / 0.12 / 0.19,
# gap <= 0.3 %;  Holt 0.62 / - / 0.50, gap <= 0.7 %;  HoltWinters 0.06 / - / 0.69, gap <= 0.6 %.
# Where the fits differ (our exact fits reach lower in-sample errors, e.g. theta at its upper bound
# where statsforecast's Nelder-Mead stops near 30; different initial states on 42 monthly points)
# the forecasts differ by construction; the forward itself is checked exactly against
# statsforecast's in the test above.
@pytest.mark.parametrize("data,name", [slow("stallion", "AutoETS"), slow("m5", "AutoETS"),
                                       slow("synthetic", "AutoETS"), slow("stallion", "AutoTheta"),
                                       slow("m5", "AutoTheta"), slow("synthetic", "AutoTheta"),
                                       ("stallion", "Holt"), slow("synthetic", "Holt"),
                                       slow("stallion", "HoltWinters"), slow("synthetic", "HoltWinters")])
def test_cross_validation_refit_false_agrees_with_statsforecast(data, name):
    df, m, h, freq = {"stallion": lambda: (_stallion(16), 12, 6, "MS"), "m5": lambda: (_m5(), 7, 28, "D"),
                      "synthetic": lambda: (_synthetic_positive(16, 120, 7, 1), 7, 7, "D")}[data]()
    ours, theirs, close, excess = _peer(name, m)
    share, gap = _agreement(df, m, h, freq, ours, theirs, close, excess)
    print(f"{data} {name}: share {share:.2f}, gap {gap:.4f}")
    assert share > 0 and gap < 0.02, (share, gap)


def test_intermittent_forward_on_m5_vs_reference():
    df = _m5()
    ys = [g.y.to_numpy() for _, g in df.groupby("unique_id")]
    short = [y[: len(y) - 2 * 28] for y in ys]
    longer = [y[: len(y) - 28] for y in ys]
    for model in (CrostonOptimized(nonnegative=False), SimpleExponentialSmoothingOptimized(nonnegative=False)):
        _, params = model.fit_arrays(*_grouped(short), 28)
        assert params["fitted"].all()
        fwd = model.forward_arrays(*_grouped(longer), 28, params)
        for i, y in enumerate(longer):
            if isinstance(model, CrostonOptimized):
                mean, var = ref.croston_forward(y, params["alpha_size"][i], params["alpha_interval"][i], 28)
            else:
                mean, var = ref.ses_forward(y, params["alpha"][i], 28)
            _close(fwd.mean[i], mean)
            _close(fwd.var[i], var)
        np.testing.assert_array_equal(fwd.info["alpha" if "alpha" in params else "alpha_size"],
                                      params["alpha" if "alpha" in params else "alpha_size"])
    # SESOpt's alphas are frozen, not re-searched: a fresh fit on the longer history picks others
    fresh = model.fit_arrays(*_grouped(longer), 28)[1]
    assert not np.array_equal(fresh["alpha"], params["alpha"])


@pytest.mark.slow
def test_forward_intervals_cover_on_simulated_ets():
    # ETS(A,N,N) with alpha 0.3, sigma 1: the forwarded windows' 80 % intervals cover about 80 %
    rng = np.random.default_rng(12)
    n_series, n = 300, 150
    ys = []
    for _ in range(n_series):
        e = rng.normal(0, 1, n)
        lev = 50.0 + np.concatenate([[0.0], np.cumsum(0.3 * e[:-1])])
        ys.append(lev + e)
    df = _long_table(ys)
    cv = so.cross_validation(df, h=5, n_windows=3, models=[ETS("ANN")], refit=False, level=[80],
                             nonnegative=False).to_pandas()
    later = cv.cutoff > cv.cutoff.min()
    inside = (cv.y >= cv["ETS-lo-80"]) & (cv.y <= cv["ETS-hi-80"])
    assert 0.75 < inside[later].mean() < 0.85, inside[later].mean()
