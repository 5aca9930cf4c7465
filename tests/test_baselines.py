"""Baselines and simple exponential smoothing: statsforecast as oracle, slow twins, edge cases."""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from statsforecast import models as sfm
from statsforecast._lib import ses as sf_ses

from stockopt._kernels.codes import STATUS_FAILED, STATUS_OK, STATUS_TOO_SHORT
from stockopt._kernels.forecast import lanes as kl
from stockopt._kernels.forecast import ses_many as km
from stockopt._kernels.forecast import smoothing as ks
from stockopt.errors import ParameterError
from stockopt.models.baselines import (
    HistoricAverage,
    Naive,
    SeasonalNaive,
    SeasonalWindowAverage,
    SimpleExponentialSmoothing,
    SimpleExponentialSmoothingOptimized,
    WindowAverage,
)
from tests.helpers import real_data
from tests.reference import fast_models as ref

H = 9


def _block(series):
    lens = np.array([len(s) for s in series], dtype=np.int64)
    indptr = np.zeros(len(series) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(lens)
    values = np.concatenate([np.asarray(s, dtype=np.float64) for s in series]) if series else np.empty(0)
    return values, indptr


def _load(rel, n_series):
    path = real_data(*rel.split("/"))
    tbl = pq.read_table(path, columns=["unique_id", "ds", "y"])
    ids = pc.unique(tbl["unique_id"]).to_pylist()[:n_series]
    tbl = tbl.filter(pc.is_in(tbl["unique_id"], value_set=__import__("pyarrow").array(ids)))
    df = tbl.to_pandas().sort_values(["unique_id", "ds"])
    return [g.to_numpy(np.float64) for _, g in df.groupby("unique_id", sort=True)["y"]]


def _synthetic(seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for n in [2, 3, 7, 8, 15, 40, 100, 365]:
        t = np.arange(n)
        level = 20 + 0.05 * t + 5 * np.sin(2 * np.pi * t / 7)
        out.append(np.maximum(0.0, np.round(level + rng.normal(0, 3, n))))
        out.append(rng.poisson(1.5, n).astype(float))
    return out


def _sf(model, y, h, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.forecast(y=y, h=h, **kw)


def _all_sets():
    sets = [("synthetic", _synthetic())]
    try:
        sets.append(("m5", _load("m5/m5_foods1_8items_full_history.parquet", 8)))
        sets.append(("manufacturing", _load("manufacturing_spare_parts/manufacturing_weekly.parquet", 150)))
    except pytest.skip.Exception:
        pass
    return sets


# ---------------------------------------------------------------- point forecasts vs statsforecast
@pytest.mark.parametrize(
    "ours, theirs, min_len",
    [
        (Naive(), sfm.Naive(), 1),
        (SeasonalNaive(7), sfm.SeasonalNaive(7), 7),
        (HistoricAverage(), sfm.HistoricAverage(), 1),
        (WindowAverage(5), sfm.WindowAverage(5), 1),
        (SeasonalWindowAverage(7, 2), sfm.SeasonalWindowAverage(7, 2), 1),
        (SimpleExponentialSmoothing(0.1), sfm.SimpleExponentialSmoothing(0.1), 1),
        (SimpleExponentialSmoothing(0.73), sfm.SimpleExponentialSmoothing(0.73), 1),
    ],
    ids=lambda m: getattr(m, "name", None) or repr(m),
)
def test_point_forecasts_match_statsforecast(ours, theirs, min_len):
    for label, series in _all_sets():
        series = [s for s in series if len(s) >= min_len]
        values, indptr = _block(series)
        res = ours.forecast_arrays(values, indptr, H)
        expected = np.array([_sf(theirs, y, H)["mean"] for y in series])
        np.testing.assert_allclose(res.mean, expected, rtol=1e-8, atol=1e-10, err_msg=label)
        if res.fitted is not None and not isinstance(ours, (WindowAverage, SeasonalWindowAverage)):
            fit = np.concatenate([_sf(theirs, y, H, fitted=True)["fitted"] for y in series])
            np.testing.assert_allclose(res.fitted, fit, rtol=1e-8, atol=1e-10, err_msg=label)


def _sf_sigmah(model, y, h):
    out = _sf(model, y, h, level=[80])
    z = 1.2815515655446004
    return (out["mean"] - out["lo-80"]) / z


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (Naive(), sfm.Naive()),
        (SeasonalNaive(7), sfm.SeasonalNaive(7)),
        (HistoricAverage(), sfm.HistoricAverage()),
    ],
)
def test_variances_match_statsforecast_intervals(ours, theirs):
    series = [s for s in _synthetic(1) if len(s) > 7]
    values, indptr = _block(series)
    res = ours.forecast_arrays(values, indptr, 16)
    sig = np.array([_sf_sigmah(theirs, y, 16) for y in series])
    np.testing.assert_allclose(np.sqrt(res.var), sig, rtol=1e-9)


@pytest.mark.parametrize("alpha", [0.05, 0.3, 0.9])
def test_ses_variance_is_ets_ann(alpha):
    series = [s for s in _synthetic(2) if len(s) > 2]
    values, indptr = _block(series)
    res = SimpleExponentialSmoothing(alpha).forecast_arrays(values, indptr, 12)
    z = 1.959963984540054
    for i, y in enumerate(series):
        out = sfm.SimpleExponentialSmoothing(alpha).fit(y).predict(12, level=[95])
        np.testing.assert_allclose(np.sqrt(res.var[i]), (out["mean"] - out["lo-95"]) / z, rtol=1e-9)


# ---------------------------------------------------------------- optimised SES
def _sesopt_check(series):
    values, indptr = _block(series)
    res = SimpleExponentialSmoothingOptimized().forecast_arrays(values, indptr, 3)
    ok = 0
    for i, y in enumerate(series):
        a_sf = sf_ses.golden_section_ses(y, 0.01, 0.99)
        s_sf = sf_ses.ses_sse(a_sf, y)
        s_ours = ref.ses_sse(y, res.info["alpha"][i])
        ok += s_ours <= s_sf * (1 + 1e-10) + 1e-12
        np.testing.assert_allclose(
            res.mean[i], max(ref.ses_forecast(y, res.info["alpha"][i]), 0.0), rtol=1e-12,
        )
    return ok / len(series)


def test_sesopt_sse_no_worse_than_statsforecast():
    rng = np.random.default_rng(7)
    series = _synthetic(3) + [np.cumsum(rng.normal(0, 1, 500)) + 50 for _ in range(30)]
    series += [rng.gamma(0.3, 5, 300) * (rng.random(300) < 0.3) for _ in range(30)]
    assert _sesopt_check(series) >= 0.95
    for label, real in _all_sets()[1:]:
        assert _sesopt_check([s for s in real if s.size > 1]) >= 0.95, label


@pytest.mark.slow
def test_ses_optimize_finds_grid_minimum():
    rng = np.random.default_rng(11)
    for _ in range(20):
        y = np.cumsum(rng.normal(0, 1, 200)) + rng.normal(0, rng.uniform(0.1, 3), 200)
        a, s = km.ses_optimize(y, 0.01, 0.99)
        assert 0.01 <= a <= 0.99
        assert s <= ref.ses_opt_sse(list(y), 0.01, 0.99) * (1 + 1e-9)


def test_golden_replica_is_statsforecasts():
    rng = np.random.default_rng(5)
    for n in [1, 2, 3, 10, 60, 300]:
        y = rng.gamma(1.0, 4.0, n)
        assert ks.ses_golden(y, 0.1, 0.3) == sf_ses.golden_section_ses(y, 0.1, 0.3)
        assert ks.ses_golden(y, 0.01, 0.99) == ref.golden(list(y), 0.01, 0.99)


def _many_series(seed, n_rand):
    """Edge lengths, flat series, trends (minimum at the upper bound), noise (at the lower bound) and
    random lengths: more series than one lock-step group holds, lengths that differ within groups."""
    rng = np.random.default_rng(seed)
    lens = np.r_[[0, 1, 2, 3, 15, 16, 17], rng.integers(0, 300, n_rand)].astype(np.int64)
    series = [rng.poisson(rng.gamma(1.0, 3.0), n).astype(float) for n in lens]
    series[3] = np.full(3, 2.0)  # flat: ties end the search at once
    series += [np.full(40, 1.0), np.full(17, 0.3), np.r_[np.full(30, 2.0), 3.0]]
    series += [np.arange(50.0) ** 1.5, rng.normal(10, 1, 120), np.cumsum(rng.normal(0, 1, 200))]
    lens = np.array([len(x) for x in series], dtype=np.int64)
    data = np.concatenate(series)
    starts = np.r_[0, np.cumsum(lens)[:-1]].astype(np.int64)
    return series, data, starts, lens


def test_golden_many_equals_one_at_a_time():
    series, data, starts, lens = _many_series(8, 300)
    out = np.empty(len(series))
    fc = np.empty(len(series))
    km.golden_many(data, starts, lens, 0.1, 0.3, out, fc)
    expected = [ks.ses_golden(s, 0.1, 0.3) if len(s) else 0.2 for s in series]
    np.testing.assert_array_equal(out, expected)
    for s, a, f in zip(series, out, fc):
        if len(s):
            assert a == sf_ses.golden_section_ses(s, 0.1, 0.3)
            assert f == ks.ses_last(s, a)
        else:
            assert np.isnan(f)
    # the grouping does not matter: a reversed subset gives the same bits
    sub = np.arange(len(series))[::-3].copy()
    out2 = np.empty(len(sub))
    km.golden_many(data, starts[sub], lens[sub], 0.1, 0.3, out2, np.empty(0))
    np.testing.assert_array_equal(out2, out[sub])


@pytest.mark.parametrize("lower, upper", [(0.01, 0.99), (0.1, 0.3)])
def test_optimize_many_equals_one_at_a_time(lower, upper):
    series, data, starts, lens = _many_series(9, 200)
    m = len(series)
    a, s, f = np.empty(m), np.empty(m), np.empty(m)
    km.optimize_many(data, starts, lens, lower, upper, a, s, f)
    for j, x in enumerate(series):
        if len(x) == 0:
            assert np.isnan(f[j])
            continue
        ea, es = ref.ses_optimize(list(x), lower, upper)  # plain-Python twin, same operations
        assert (a[j], s[j]) == (ea, es), j
        assert km.ses_optimize(x, lower, upper) == (ea, es)
        assert s[j] == ks.ses_sse(x, ea)
        assert f[j] == ks.ses_last(x, ea)
        assert lower <= a[j] <= upper
    sub = np.arange(m)[::-3].copy()
    a2, s2, f2 = np.empty(len(sub)), np.empty(len(sub)), np.empty(len(sub))
    km.optimize_many(data, starts[sub], lens[sub], lower, upper, a2, s2, f2)
    np.testing.assert_array_equal(a2, a[sub])
    np.testing.assert_array_equal(f2, f[sub])




def test_optimize_blocks_equals_search_of_the_written_block_sums():
    """Aggregated tasks (block sums taken as the lanes are filled) give the bits of the same search
    over the block sums written out: levels mixed within groups of eight lanes, uniform in others,
    flat and short aggregated series included."""
    rng = np.random.default_rng(31)
    series = [rng.poisson(rng.gamma(0.5, 3.0), n).astype(float) for n in rng.integers(2, 700, 150)]
    series += [np.full(90, 2.0), np.r_[np.zeros(40), 1.0, np.zeros(40)], np.full(7, 0.5)]
    n_mixed = len(series)
    # whole groups of eight lanes at one level (the written-out sums of levels 2, 3, 4 and the loop)
    series += [rng.poisson(2.0, 401).astype(float) for _ in range(64)]
    tasks = []  # (series, level): every level 1..4 of some series, a random level of others
    for i, x in enumerate(series):
        if i >= n_mixed:
            levels = [[2, 3, 4, 6][(i - n_mixed) // 16]]
        else:
            levels = range(1, 5) if i % 3 == 0 else [int(rng.integers(1, 6))]
        tasks += [(i, k) for k in levels if len(x) // k >= 1]
    offsets = np.r_[0, np.cumsum([len(x) for x in series])]
    data = np.concatenate(series)
    starts, lens, levels, sums = [], [], [], []
    for i, k in tasks:
        n = len(series[i])
        lost = n % k
        starts.append(offsets[i] + lost)
        lens.append((n - lost) // k)
        levels.append(k)
        # added left to right, as _point adds them
        blocks = series[i][lost:].reshape(-1, k)
        acc = blocks[:, 0].copy()
        for j in range(1, k):
            acc = acc + blocks[:, j]
        sums.append(acc)
    starts, lens, levels = (np.array(v, dtype=np.int64) for v in (starts, lens, levels))
    m = len(tasks)
    a, s, f = np.empty(m), np.empty(m), np.empty(m)
    km.optimize_blocks(data, starts, lens, levels, 0.1, 0.3, a, s, f)
    written = np.concatenate(sums)
    w_starts = np.r_[0, np.cumsum(lens)[:-1]].astype(np.int64)
    a2, s2, f2 = np.empty(m), np.empty(m), np.empty(m)
    km.optimize_many(written, w_starts, lens, 0.1, 0.3, a2, s2, f2)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(s, s2)
    np.testing.assert_array_equal(f, f2)
    for j in range(0, m, 7):  # and the one-series twin
        assert (a[j], s[j]) == ref.ses_optimize(list(sums[j]), 0.1, 0.3), tasks[j]
@pytest.mark.parametrize("shortest", [1, 2, 16, 41])
def test_lane_passes_equal_single_passes(shortest):
    """The lock-step passes (rows four or two at a time, masked tails) reproduce the one-series
    recursions bit for bit, for lanes of different lengths."""
    rng = np.random.default_rng(12)
    lens = np.r_[[60, 59, 58, 57, 43, shortest], rng.integers(shortest, 61, 10)].astype(np.int64)
    series = [rng.gamma(1.0, 4.0, n) for n in lens]
    data = np.concatenate(series)
    starts = np.r_[0, np.cumsum(lens)[:-1]].astype(np.int64)
    order = np.argsort(-lens, kind="mergesort")
    L = len(series)
    X = np.zeros((lens.max(), L))
    rows, nfull, glens = kl._group(data, starts, lens, np.ones(L, dtype=np.int64), order, 0, L, X)
    assert rows == lens.max() and nfull == lens.min()
    A = rng.uniform(0.05, 0.95, (3, L))
    S, F = np.empty((3, L)), np.empty((3, L))
    kl._pass_sse(X, rows, nfull, glens, A, S, F)
    S0, S1, S2, FL = (np.empty(L) for _ in range(4))
    kl._pass_d012(X, rows, nfull, glens, A[0].copy(), S0, S1, S2, FL)
    for lane in range(L):
        x = series[order[lane]]
        for k in range(3):
            assert S[k, lane] == ks.ses_sse(x, A[k, lane])
            if len(x) > 1:
                assert A[k, lane] * x[-1] + (1 - A[k, lane]) * F[k, lane] == ks.ses_last(x, A[k, lane])
        if len(x) > 1:
            assert (S0[lane], S1[lane], S2[lane]) == ref.ses_d012(list(x), A[0, lane])


def test_flat_series_take_the_lower_bound():
    for n in (16, 40, 300):
        for v in (0.0, 1.0, 0.3, 7.25):
            x = np.full(n, v)
            a, s = km.ses_optimize(x, 0.01, 0.99)
            assert a == 0.01 and s == ks.ses_sse(x, 0.01)
            assert ks._flat_sse_level(x, 0.01) == km._sse_level(x, 0.01)


# ---------------------------------------------------------------- fast vs slow twin
EDGE = [0, 1, 2, 6, 7, 8, 13, 14, 15, 16, 17, 200]


def _edge_series(seed=0):
    rng = np.random.default_rng(seed)
    out = [rng.poisson(3.0, n).astype(float) for n in EDGE]
    out += [np.zeros(n) for n in (1, 5, 30)]
    return out


def test_twins_over_edge_lengths():
    series = _edge_series()
    values, indptr = _block(series)
    m, w = 7, 2
    cases = [
        (Naive(), lambda y: ref.naive(y, H)),
        (SeasonalNaive(m), lambda y: ref.seasonal_naive(y, m, H)),
        (HistoricAverage(), lambda y: ref.historic_average(y, H)),
        (SimpleExponentialSmoothing(0.2), lambda y: ref.ses(y, 0.2, H)),
    ]
    for model, slow in cases:
        res = model.forecast_arrays(values, indptr, H)
        for i, y in enumerate(series):
            mean, var, fitted = slow(y)
            np.testing.assert_allclose(
                res.mean[i], mean, rtol=1e-12, atol=1e-12, err_msg=f"{model.name} n={len(y)}",
            )
            np.testing.assert_allclose(
                res.var[i], var, rtol=1e-12, atol=1e-12, err_msg=f"{model.name} n={len(y)}",
            )
            np.testing.assert_allclose(res.fitted[indptr[i] : indptr[i + 1]], fitted, rtol=1e-12, atol=1e-12)
            too_short = len(y) == 0 or (isinstance(model, SeasonalNaive) and len(y) < m)
            assert res.status[i] == (STATUS_TOO_SHORT if too_short else STATUS_OK)
    for model, (mm, ww) in [(WindowAverage(3), (1, 3)), (SeasonalWindowAverage(m, w), (m, w))]:
        res = model.forecast_arrays(values, indptr, H)
        assert res.var is None
        for i, y in enumerate(series):
            np.testing.assert_allclose(
                res.mean[i], ref.window_average(y, mm, ww, H), rtol=1e-12, err_msg=f"{model.name} n={len(y)}",
            )
            assert res.status[i] == (STATUS_TOO_SHORT if len(y) < mm * ww or len(y) == 0 else STATUS_OK)


def test_sesopt_twin_over_edge_lengths():
    series = _edge_series(1)
    values, indptr = _block(series)
    res = SimpleExponentialSmoothingOptimized().forecast_arrays(values, indptr, 2)
    for i, y in enumerate(series):
        if len(y) == 0:
            assert res.status[i] == STATUS_TOO_SHORT and np.isnan(res.mean[i]).all()
            continue
        a = res.info["alpha"][i]
        assert 0.01 <= a <= 0.99
        assert ref.ses_sse(list(y), a) <= ref.ses_opt_sse(list(y), 0.01, 0.99) * (1 + 1e-9) + 1e-12


# ---------------------------------------------------------------- family checks
# (no mutation, determinism, block splits, empty blocks: tests/test_contract.py, for every model)
ALL = [
    Naive(),
    SeasonalNaive(7),
    HistoricAverage(),
    WindowAverage(4),
    SeasonalWindowAverage(7, 2),
    SimpleExponentialSmoothing(0.3),
    SimpleExponentialSmoothingOptimized(),
]


def test_bad_arguments():
    v, ip = np.ones(10), np.array([0, 10])
    for h in (0, -1, 2.5, True):
        with pytest.raises(ParameterError):
            Naive().forecast_arrays(v, ip, h)
    with pytest.raises(ParameterError):
        SimpleExponentialSmoothing(1.5).forecast_arrays(v, ip, 1)
    with pytest.raises(ParameterError):
        SeasonalNaive(0).forecast_arrays(v, ip, 1)
    with pytest.raises(ParameterError):
        WindowAverage(2).forecast_arrays(v, np.array([0, 11]), 1)
    with pytest.raises(ParameterError):
        Naive().forecast_arrays(v, np.array([0, 6, 4]), 1)


def test_nonnegative_clipping():
    y = np.array([5.0, 3.0, -2.0])
    assert Naive().forecast_arrays(y, np.array([0, 3]), 1).mean[0, 0] == 0.0
    assert Naive(nonnegative=False).forecast_arrays(y, np.array([0, 3]), 1).mean[0, 0] == -2.0


@pytest.mark.parametrize("model", ALL, ids=lambda m: m.name)
def test_non_finite_data_marks_series_failed(model):
    series = [np.arange(1.0, 31.0), np.r_[np.arange(1.0, 30.0), np.nan], np.arange(1.0, 31.0)]
    values, indptr = _block(series)
    res = model.forecast_arrays(values, indptr, 7)  # a full week: every season position is used
    assert res.status[0] == STATUS_OK and res.status[2] == STATUS_OK
    # the NaN is the last value, which every model uses: the forecast is NaN and flagged
    assert np.isnan(res.mean[1]).any() and res.status[1] == STATUS_FAILED


@pytest.mark.slow
def test_long_series_get_fewer_lanes_same_bits():
    """A series too long for a full group of lanes is searched with fewer lanes; the results are
    those of the one-series searches all the same."""
    assert kl._lanes_for(700_000, 64) == 8 and kl._lanes_for(730, 64) == 64
    rng = np.random.default_rng(13)
    series = [np.cumsum(rng.normal(0, 1, 600_000)) + 100, rng.poisson(2.0, 300).astype(float)]
    lens = np.array([len(x) for x in series], dtype=np.int64)
    data = np.concatenate(series)
    starts = np.array([0, lens[0]], dtype=np.int64)
    a, s, f = np.empty(2), np.empty(2), np.empty(2)
    km.optimize_many(data, starts, lens, 0.01, 0.99, a, s, f)
    g, fc = np.empty(2), np.empty(2)
    km.golden_many(data, starts, lens, 0.1, 0.3, g, fc)
    for j, x in enumerate(series):
        one = np.empty(1), np.empty(1), np.empty(1)
        km.optimize_many(x, np.zeros(1, dtype=np.int64), lens[j : j + 1], 0.01, 0.99, *one)
        assert (a[j], s[j], f[j]) == (one[0][0], one[1][0], one[2][0])
        assert g[j] == ks.ses_golden(x, 0.1, 0.3) and fc[j] == ks.ses_last(x, g[j])
