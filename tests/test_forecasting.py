"""The forecasting API: output naming, fallbacks, intervals, backtests, metrics (the contract every
model keeps, n_jobs and row-order invariance included, is tests/test_contract.py)."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pyarrow as pa
import pytest

import stockopt as so
from stockopt import errors
from stockopt._conformal import conformal_bound


@pytest.fixture(scope="module")
def sales(sales_small):
    """40 synthetic daily series of 120 days (``conftest.sales_small``)."""
    return sales_small


def test_output_columns_follow_statsforecast_naming(sales):
    fc = so.forecast(sales, h=5, models=["naive", so.models.CrostonSBA(alias="SBA")], level=[95, 80],
                     quantiles=[0.5, 0.95])
    assert fc.column_names == [
        "unique_id", "ds",
        "Naive", "Naive-lo-95", "Naive-lo-80", "Naive-hi-80", "Naive-hi-95", "Naive-q50", "Naive-q95",
        "SBA", "SBA-lo-95", "SBA-lo-80", "SBA-hi-80", "SBA-hi-95", "SBA-q50", "SBA-q95",
    ]
    assert fc.num_rows == 40 * 5
    for c in fc.column_names[2:]:
        v = fc[c].to_numpy()
        assert np.isfinite(v).all() and (v >= 0).all(), c
    lo, hi = fc["Naive-lo-95"].to_numpy(), fc["Naive-hi-95"].to_numpy()
    lo80, hi80 = fc["Naive-lo-80"].to_numpy(), fc["Naive-hi-80"].to_numpy()
    assert (lo <= lo80).all() and (hi80 <= hi).all()


def test_naive_forecast_and_interval_against_closed_form():
    y = np.array([3.0, 5.0, 4.0, 8.0, 6.0])
    tbl = pa.table({"unique_id": ["a"] * 5, "ds": pa.array(np.arange(5, dtype=np.int32), pa.date32()), "y": y})
    fc = so.forecast(tbl, h=3, models=["naive"], level=[95], nonnegative=False)
    np.testing.assert_allclose(fc["Naive"].to_numpy(), [6.0, 6.0, 6.0])
    sigma = np.sqrt(np.mean(np.diff(y) ** 2))
    from scipy.stats import norm

    z = norm.ppf(0.975)
    np.testing.assert_allclose(fc["Naive-hi-95"].to_numpy(), 6.0 + z * sigma * np.sqrt([1, 2, 3]), rtol=1e-9)
    assert fc["ds"].to_pylist()[0].isoformat() == "1970-01-06"


def test_short_series_fall_back_to_the_historic_mean():
    tbl = pa.table({"unique_id": ["a", "b", "b", "b", "b", "b", "b", "b", "b"],
                    "ds": pa.array([0, 0, 1, 2, 3, 4, 5, 6, 7], pa.date32()),
                    "y": [4.0, 1, 2, 3, 1, 2, 3, 1, 2]})
    with pytest.warns(errors.FallbackWarning, match="1 series"):
        fc = so.forecast(tbl, h=2, models=[so.models.SeasonalNaive(season_length=7)], level=[80])
    a = fc.filter(pa.compute.equal(fc["unique_id"], "a"))
    assert a["SeasonalNaive"].to_pylist() == [4.0, 4.0]
    assert np.isfinite(fc["SeasonalNaive-hi-80"].to_numpy()).all()


def test_conformal_bound_is_the_empirical_quantile():
    scores = np.array([[[1.0]], [[3.0]], [[2.0]], [[5.0]]])  # 4 windows, 1 series, h=1
    mean = np.array([[10.0]])
    # coverage 0.5 -> ceil(5 * 0.5) = 3rd smallest score = 3
    assert conformal_bound(mean, scores, 0.75)[0, 0] == 13.0
    assert conformal_bound(mean, scores, 0.25)[0, 0] == 7.0
    # coverage 0.9 -> ceil(4.5) = 5 > n -> the largest score
    assert conformal_bound(mean, scores, 0.95)[0, 0] == 15.0


def test_model_without_variance_gets_conformal_intervals(sales):
    m = so.models.WindowAverage(window_size=7)
    res = m.forecast_arrays(np.zeros(3), np.array([0, 3]), 2)
    assert res.var is None  # as in statsforecast: no model variance, so the API goes conformal
    fc = so.forecast(sales, h=7, models=[m], level=[80])
    assert np.isfinite(fc["WindowAverage-hi-80"].to_numpy()).all()
    assert (fc["WindowAverage-hi-80"].to_numpy() >= fc["WindowAverage"].to_numpy()).all()


def test_auto_model_classifies_and_dispatches():
    t = so.datasets.synthetic_retail(60, 200, seed=4, return_truth=True)
    from stockopt.models.auto import AutoModel, demand_classes

    g = so.group_series(t, freq="D")
    code, adi, cv2 = demand_classes(g.values, g.indptr)
    truth = t["demand_class"].to_numpy()[g.indptr[:-1]]
    # every generated intermittent/lumpy series is classed intermittent or lumpy by ADI
    assert (code[truth > 0] >= 2).mean() > 0.9
    model = AutoModel(7, smooth="seasonal_naive", erratic="seasonal_naive", intermittent="croston_sba",
                      lumpy="croston_sba")
    res = model.forecast_arrays(g.values, g.indptr, 7)
    assert set(res.info["model"]) <= {"SeasonalNaive", "CrostonSBA"}
    np.testing.assert_array_equal(res.info["demand_class"], code)
    fc = so.forecast(g, h=7, models=[model], level=[80])
    assert np.isfinite(fc["AutoModel-lo-80"].to_numpy()).all()


def test_auto_model_backtest_selection_picks_the_lower_error():
    from stockopt.models.auto import AutoModel

    # a pure weekly pattern: seasonal naive is exact, naive is not
    week = np.array([1.0, 2, 3, 4, 5, 6, 7])
    y = np.tile(week, 8)
    tbl = pa.table({"unique_id": ["a"] * y.size, "ds": pa.array(np.arange(y.size, dtype=np.int32), pa.date32()), "y": y})
    m = AutoModel(7, smooth=["naive", "seasonal_naive"], erratic=["naive", "seasonal_naive"], select="backtest")
    fc = so.forecast(tbl, h=7, models=[m])
    np.testing.assert_allclose(fc["AutoModel"].to_numpy(), week[(y.size % 7):].tolist() + week[:y.size % 7].tolist())


def test_cross_validation_windows_and_actuals(sales):
    cv = so.cross_validation(sales, h=7, n_windows=3, step_size=5, models=["naive"])
    assert cv.column_names[:4] == ["unique_id", "ds", "cutoff", "y"]
    assert cv.num_rows == 40 * 7 * 3
    g = so.group_series(sales, freq="D")
    # the last window's actuals are each series' last 7 values; its cutoff the 8th-last date
    last = cv.slice(cv.num_rows - 40 * 7)
    np.testing.assert_array_equal(last["y"].to_numpy().reshape(40, 7),
                                  np.stack([g.series(i)[-7:] for i in range(40)]))
    naive_pred = last["Naive"].to_numpy().reshape(40, 7)
    np.testing.assert_array_equal(naive_pred[:, 0], [g.series(i)[-8] for i in range(40)])
    cutoffs = sorted(set(cv["cutoff"].to_pylist()))
    assert [(b - a).days for a, b in zip(cutoffs, cutoffs[1:])] == [5, 5]


def test_bad_arguments_are_named(sales):
    with pytest.raises(errors.ParameterError, match="h"):
        so.forecast(sales, h=0, models=["naive"])
    with pytest.raises(errors.ParameterError, match="level"):
        so.forecast(sales, h=2, models=["naive"], level=[120])
    with pytest.raises(errors.ParameterError, match="quantile"):
        so.forecast(sales, h=2, models=["naive"], quantiles=[1.5])
    with pytest.raises(errors.ParameterError, match="unknown model name"):
        so.forecast(sales, h=2, models=["prophet"])
    with pytest.raises(errors.ParameterError, match="share the output name"):
        so.forecast(sales, h=2, models=["naive", "naive"])


def test_thread_safe_concurrent_calls(sales):
    want = so.forecast(sales, h=4, models=["croston_sba", "naive"])
    got: list[pa.Table] = []

    def work():
        got.append(so.forecast(sales, h=4, models=["croston_sba", "naive"]))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(g.equals(want) for g in got)


def test_library_code_prints_nothing(sales, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        so.forecast(sales, h=3, models=["naive"], level=[80])
        so.run_nightly(sales, h=14, models=["naive"])
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_fitted_values_join_by_span_across_threads(sales):
    from stockopt._runner import run_model

    g = so.group_series(sales, freq="D")
    model = so.models.Naive()
    one = run_model(model, g.values, g.indptr, 3, n_jobs=1)
    three = run_model(model, g.values, g.indptr, 3, n_jobs=3)
    assert one.fitted is not None and one.fitted.shape == g.values.shape
    np.testing.assert_array_equal(one.fitted, three.fitted)
    np.testing.assert_array_equal(one.mean, three.mean)


def test_the_api_does_not_touch_the_callers_model(sales):
    model = so.models.Naive(fitted=True)
    so.forecast(sales, h=3, models=[model], n_jobs=2)
    assert model.fitted is True
    from stockopt.models._base import without_fitted

    clone = without_fitted(model)
    assert clone is not model and clone.fitted is False and without_fitted(clone) is clone


def test_no_nan_bounds_for_a_series_too_short_for_any_backtest():
    y = [1.0, 2.0, 3.0]
    tbl = pa.table({"unique_id": ["a"] * 3 + ["b"] * 40,
                    "ds": pa.array(list(range(3)) + list(range(40)), pa.date32()),
                    "y": y + list(np.arange(40.0) % 5)})
    with pytest.warns(errors.FallbackWarning, match="historic variance"):
        fc = so.forecast(tbl, h=4, models=[so.models.WindowAverage(window_size=2)], level=[80], quantiles=[0.9],
                         nonnegative=False)
    a = fc.slice(0, 4)
    from scipy.stats import norm

    sd = np.std(y, ddof=1)
    np.testing.assert_allclose(a["WindowAverage-hi-80"].to_numpy(), 2.5 + norm.ppf(0.9) * sd, rtol=1e-9)
    np.testing.assert_allclose(a["WindowAverage-q90"].to_numpy(), 2.5 + norm.ppf(0.9) * sd, rtol=1e-9)
    for c in fc.column_names[2:]:
        assert np.isfinite(fc[c].to_numpy()).all(), c


class _PromoShare(so.models.Model):
    """A test model that reads an exogenous column: its forecast is the share of promotion days."""

    _name = "PromoShare"
    uses_extra = ("on_promotion",)

    def forecast_arrays(self, values, indptr, h, *, extra=None):
        from stockopt.models._base import ForecastResult

        flags = extra["on_promotion"]
        assert flags.dtype == np.bool_ and flags.shape == values.shape
        n = indptr.shape[0] - 1
        share = np.array([flags[indptr[i]:indptr[i + 1]].mean() for i in range(n)])
        return ForecastResult(mean=np.repeat(share[:, None], h, axis=1), var=np.ones((n, h)),
                              status=np.zeros(n, dtype=np.int8))


def _promo_share(table: pa.Table) -> dict:
    agg = table.group_by("unique_id").aggregate([("on_promotion", "mean")])
    return dict(zip(agg["unique_id"].to_pylist(), agg["on_promotion_mean"].to_pylist()))


def test_models_declaring_extra_columns_receive_them(sales):
    want = _promo_share(sales)
    for n_jobs in (1, 3):
        fc = so.forecast(sales, 3, models=[_PromoShare(), "naive"], n_jobs=n_jobs)
        got = dict(zip(fc["unique_id"].to_pylist()[::3], fc["PromoShare"].to_pylist()[::3]))
        assert got == pytest.approx(want, abs=1e-15)
    cv = so.cross_validation(sales, 7, models=[_PromoShare()], n_windows=2, refit=False, level=[80])
    for cutoff in set(cv["cutoff"].to_pylist()):
        part = cv.filter(pa.compute.equal(cv["cutoff"], pa.scalar(cutoff, pa.date32())))
        train = sales.filter(pa.compute.less_equal(sales["ds"], pa.scalar(cutoff, pa.date32())))
        got = dict(zip(part["unique_id"].to_pylist(), part["PromoShare"].to_pylist()))
        assert got == pytest.approx(_promo_share(train), abs=1e-15)
    with pytest.raises(errors.MissingColumnError, match="on_promotion"):
        so.forecast(sales.drop_columns(["on_promotion"]), 3, models=[_PromoShare()])
    with pytest.raises(errors.MissingColumnError, match="on_promotion"):  # grouped without the column
        so.forecast(so.group_series(sales, freq="D"), 3, models=[_PromoShare()])


def test_forecast_level_nonnegative_false_clips_no_model():
    """AutoTheta clips its own forecast by default; forecast(nonnegative=False) must not."""
    t = np.arange(60.0)
    y = np.maximum(40.0 - 0.7 * t + 2.0 * np.sin(t), 0.5)
    ds = pa.array(np.arange(60, dtype=np.int32), pa.date32())
    tbl = pa.table({"unique_id": ["a"] * 60, "ds": ds, "y": y})
    raw = so.models.AutoTheta(season_length=7, nonnegative=False).forecast_arrays(y, np.array([0, 60]), 20)
    assert (raw.mean < 0).any()  # the oracle: the model itself, unclipped
    fc = so.forecast(tbl, 20, models=[so.models.AutoTheta(season_length=7)], nonnegative=False)
    np.testing.assert_array_equal(fc["AutoTheta"].to_numpy(), raw.mean[0])
    auto = so.forecast(tbl, 20, models=["auto_theta", so.models.AutoModel(7, smooth="auto_theta", alias="A")],
                       nonnegative=False)
    np.testing.assert_array_equal(auto["AutoTheta"].to_numpy(), raw.mean[0])
    clipped = so.forecast(tbl, 20, models=[so.models.AutoTheta(season_length=7)])
    np.testing.assert_array_equal(clipped["AutoTheta"].to_numpy(), np.maximum(raw.mean[0], 0.0))


def test_cross_validation_exposes_conformal_windows(sales):
    sub = sales.slice(0, 120 * 6)  # six series
    kw = dict(models=["window_average"], level=[80], season_length=7)
    cv3 = so.cross_validation(sub, 7, n_windows=2, conformal_windows=3, **kw)
    cv1 = so.cross_validation(sub, 7, n_windows=2, conformal_windows=1, **kw)
    assert not np.array_equal(cv3["WindowAverage-hi-80"].to_numpy(),
                              cv1["WindowAverage-hi-80"].to_numpy())
    for cutoff in sorted(set(cv3["cutoff"].to_pylist())):  # oracle: a forecast from the cutoff
        part = cv3.filter(pa.compute.equal(cv3["cutoff"], pa.scalar(cutoff, pa.date32())))
        train = sub.filter(pa.compute.less_equal(sub["ds"], pa.scalar(cutoff, pa.date32())))
        fc = so.forecast(train, 7, conformal_windows=3, **kw)
        assert part.select(fc.column_names).equals(fc)
