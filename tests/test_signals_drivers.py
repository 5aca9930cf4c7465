"""Demand drivers: known uplift, elasticity and holiday effects recovered; pooling per category; the
effects table adds up; yearly seasonality; X_future checked; baseline kernel against a slow twin."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pyarrow as pa
import pytest

import stockopt as so
from stockopt._kernels.forecast.drivers import baseline_block
from stockopt.errors import DuplicateRowError, MissingColumnError, ParameterError, ValidationError
from stockopt.signals import Drivers, forecast_drivers, holiday_calendar
from stockopt.signals.drivers import ppml

START = dt.date(2022, 1, 3)


def _synthetic(n=240, days=420, h=28, uplift=(1.8,), elasticity=-1.5, holiday=1.0, yearly=0.0, seed=0):
    """Known effects: mean = level x weekday x yearly x uplift^promo x (price / 2)^elasticity x holiday."""
    rng = np.random.default_rng(seed)
    total = days + h
    d = np.arange(total)
    dates = [START + dt.timedelta(days=int(k)) for k in d]
    level = np.exp(rng.normal(1.5, 0.6, n))[:, None]
    week = (1 + 0.3 * np.sin(2 * np.pi * (d % 7) / 7))[None, :]
    year = np.exp(yearly * np.sin(2 * np.pi * (d + rng.integers(0, 365, n)[:, None]) / 365.25))
    promo = np.zeros((n, total), bool)
    for i in range(n):
        for s in np.flatnonzero(rng.random(total) < 1 / 40):
            promo[i, s:s + rng.integers(3, 8)] = True
    # regular price steps every few months, and temporary cuts (10-30 % for 3-14 days) of their own
    step = np.cumsum((rng.random((n, total)) < 1 / 90) * rng.normal(0, 0.12, (n, total)), axis=1)
    cut = np.zeros((n, total))
    for i in range(n):
        for s in np.flatnonzero(rng.random(total) < 1 / 45):
            cut[i, s:s + rng.integers(3, 15)] = np.log(1 - rng.uniform(0.1, 0.3))
    price = 2.0 * np.exp(rng.normal(0, 0.12, (n, 1)) + step + cut)
    cat = np.arange(n) % len(uplift)
    up = np.asarray(uplift)[cat][:, None]
    hol_dates = set(holiday_calendar("US", [2022, 2023, 2024]).column("ds").to_pylist())
    hol = np.array([day in hol_dates for day in dates])[None, :]
    mu = level * week * year * np.where(promo, up, 1.0) * (price / 2.0) ** elasticity
    mu = mu * np.where(hol, holiday, 1.0)
    y = rng.poisson(rng.gamma(10.0, mu / 10.0)).astype(float)
    ids = np.array([f"s{i:04d}" for i in range(n)])
    hist = pa.table({"unique_id": np.repeat(ids, days), "ds": dates[:days] * n, "y": y[:, :days].ravel(),
                     "promo": promo[:, :days].ravel(), "price": price[:, :days].ravel(),
                     "category": np.repeat(np.array(["a", "b", "c"])[cat], days)})
    fut = pa.table({"unique_id": np.repeat(ids, h), "ds": dates[days:] * n, "promo": promo[:, days:].ravel(),
                    "price": price[:, days:].ravel()})
    return hist, fut, y[:, days:], mu[:, days:]


@pytest.mark.slow
def test_known_uplift_and_elasticity_are_recovered_within_10_percent():
    hist, fut, _, _ = _synthetic()
    res = forecast_drivers(hist, 28, fut, freq="D", models=["seasonal_naive"])
    eff = {r["driver"]: r for r in res.coefficients.to_pylist()}
    assert eff["promo"]["kind"] == "flag" and eff["price"]["kind"] == "price"
    assert eff["promo"]["effect"] == pytest.approx(1.8, rel=0.10)
    assert eff["price"]["effect"] == pytest.approx(-1.5, rel=0.10)


@pytest.mark.slow
def test_pooled_per_category():
    hist, fut, _, _ = _synthetic(n=300, uplift=(1.4, 1.8, 2.4), seed=1)
    res = forecast_drivers(hist, 28, Drivers(future=fut, pool_by="category"), freq="D", models=["naive"])
    got = {(r["pool"], r["driver"]): r["effect"] for r in res.coefficients.to_pylist()}
    for pool, want in zip("abc", (1.4, 1.8, 2.4)):
        assert got[(pool, "promo")] == pytest.approx(want, rel=0.10), pool


@pytest.mark.slow
def test_holiday_effect_from_the_calendar_and_yearly_profile():
    hist, fut, y_true, mu = _synthetic(holiday=2.5, yearly=0.35, days=800, seed=2)
    cal = holiday_calendar("US", [2022, 2023, 2024])
    res = forecast_drivers(hist, 28, Drivers(future=fut.select(["unique_id", "ds", "promo", "price"]),
                                             calendar=cal, yearly=True), freq="D", models=["ses_optimized"])
    eff = {r["driver"]: r["effect"] for r in res.coefficients.to_pylist()}
    hol = [v for k, v in eff.items() if k.startswith("event:")]
    assert len(hol) >= 8 and np.exp(np.mean(np.log(hol))) == pytest.approx(2.5, rel=0.15)
    plain = forecast_drivers(hist, 28, fut, freq="D", models=["ses_optimized"]).forecast
    err_y = np.abs(res.forecast["SESOpt"].to_numpy() - mu.ravel()).mean()
    err_n = np.abs(plain["SESOpt"].to_numpy() - mu.ravel()).mean()
    assert err_y < err_n  # the yearly profile helps where the season moves over the horizon


@pytest.mark.slow
def test_drivers_beat_no_drivers_and_effects_add_up():
    hist, fut, y_true, _ = _synthetic(seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = forecast_drivers(hist, 28, fut, freq="D", models=["ses_optimized", "auto_theta"], level=[80])
        plain = so.forecast(hist.select(["unique_id", "ds", "y"]), h=28, freq="D",
                            models=["ses_optimized", "auto_theta"])
    for m in ("SESOpt", "AutoTheta"):
        mae_d = np.abs(res.forecast[m].to_numpy() - y_true.ravel()).mean()
        mae_p = np.abs(plain[m].to_numpy() - y_true.ravel()).mean()
        assert mae_d < 0.9 * mae_p, m
        e = res.effects.filter(pa.compute.equal(res.effects["model"], m))
        total = np.zeros(res.forecast.num_rows)
        for drv in ("baseline", "promo", "price"):
            part = e.filter(pa.compute.equal(e["driver"], drv))
            total += part["contribution"].to_numpy()
        np.testing.assert_allclose(total, res.forecast[m].to_numpy(), rtol=1e-9, atol=1e-9)
    lo, hi = res.forecast["SESOpt-lo-80"].to_numpy(), res.forecast["SESOpt-hi-80"].to_numpy()
    assert (lo <= res.forecast["SESOpt"].to_numpy() + 1e-9).all() and (hi >= lo).all()
    # so.forecast(X_future=...) is the same forecast
    again = so.forecast(hist, h=28, freq="D", models=["ses_optimized", "auto_theta"], level=[80],
                        X_future=fut)
    assert again.equals(res.forecast)


def test_x_future_must_cover_every_horizon_period_once():
    hist, fut, _, _ = _synthetic(n=6, days=120)
    with pytest.raises(ValidationError, match="missing.*s0002"):
        forecast_drivers(hist, 28, fut.filter(pa.compute.not_equal(fut["unique_id"], "s0002")), freq="D",
                         models=["naive"])
    with pytest.raises(DuplicateRowError, match="repeated") as info:
        forecast_drivers(hist, 28, pa.concat_tables([fut, fut.slice(0, 1)]), freq="D", models=["naive"])
    assert info.value.row == fut.num_rows and info.value.series == "s0000"
    with pytest.raises(MissingColumnError, match="discount"):
        forecast_drivers(hist, 28, fut.append_column("discount", pa.array(np.zeros(fut.num_rows))), freq="D",
                         models=["naive"])


@pytest.mark.slow
def test_ppml_matches_statsmodels_poisson_glm():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(4)
    n = 4000
    x = np.column_stack([rng.random(n) < 0.2, rng.normal(0, 0.3, n)]).astype(float)
    off = rng.normal(1.0, 0.5, n)
    y = rng.poisson(np.exp(off + x @ np.array([0.6, -1.2]))).astype(float)
    coef, g = ppml(y, off, x, np.zeros(n, np.int64), 1, np.ones(n, bool), shrink=0.0)
    ref = sm.GLM(y, x, family=sm.families.Poisson(), offset=off).fit()
    np.testing.assert_allclose(g, ref.params, rtol=1e-6)


def test_baseline_kernel_matches_slow_twin():
    rng = np.random.default_rng(5)
    series = [rng.poisson(r, n).astype(float) for n, r in ((1, 2.0), (6, 4.0), (50, 0.5), (200, 9.0))]
    skips = [rng.random(len(s)) < 0.1 for s in series]
    phases = [(np.arange(len(s)) + k) % 7 for k, s in enumerate(series)]
    values = np.concatenate(series)
    indptr = np.r_[0, np.cumsum([len(s) for s in series])].astype(np.int64)
    out = np.empty_like(values)
    phase = np.concatenate(phases).astype(np.int64)
    baseline_block(values, indptr, np.concatenate(skips), phase, 7, 0.1, out)
    for i, (y, sk, ph) in enumerate(zip(series, skips, phases)):
        np.testing.assert_allclose(out[indptr[i]:indptr[i + 1]], _baseline_twin(y, sk, ph, 0.1), rtol=1e-12)


def _baseline_twin(y, skip, phase, alpha):
    used = [t for t in range(len(y)) if not skip[t]]
    if not used:
        return [np.nan] * len(y)
    mean = sum(y[t] for t in used) / len(used)
    prof = []
    for k in range(7):
        ts = [t for t in used if phase[t] == k]
        prof.append(max((sum(y[t] for t in ts) + 2 * mean) / (len(ts) + 2) / mean, 0.05) if mean > 0 and ts
                    else 1.0)
    warm = round(2 / alpha)
    lev = np.mean([y[t] / prof[phase[t]] for t in used[:warm]])
    fwd = []
    for t in range(len(y)):
        fwd.append(lev)
        if not skip[t]:
            lev += alpha * (y[t] / prof[phase[t]] - lev)
    lev = np.mean([y[t] / prof[phase[t]] for t in used[::-1][:warm]])
    out = [0.0] * len(y)
    for t in range(len(y) - 1, -1, -1):
        out[t] = 0.5 * (fwd[t] + lev) * prof[phase[t]]
        if not skip[t]:
            lev += alpha * (y[t] / prof[phase[t]] - lev)
    return out


class _PromoShare(so.models.Model):
    """Reads the exogenous ``promo`` column: forecasts the share of promotion periods in the history."""

    _name = "PromoShare"
    uses_extra = ("promo",)

    def forecast_arrays(self, values, indptr, h, *, extra=None):
        from stockopt.models._base import ForecastResult

        n = indptr.shape[0] - 1
        share = np.add.reduceat(extra["promo"].astype(float), indptr[:-1]) / np.diff(indptr)
        return ForecastResult(mean=np.repeat(share[:, None], h, axis=1), var=np.ones((n, h)),
                              status=np.zeros(n, dtype=np.int8))


def test_models_reading_extra_columns_get_them_beside_the_drivers_and_are_refused_with_censoring():
    hist, fut, _, _ = _synthetic(n=6, days=120)
    res = forecast_drivers(hist, 7, fut.drop_columns(["price"]), freq="D", models=[_PromoShare()])
    base = res.effects.filter(pa.compute.equal(res.effects["driver"], "baseline"))
    share = hist.group_by("unique_id").aggregate([("promo", "mean")]).sort_by("unique_id")
    np.testing.assert_allclose(base["contribution"].to_numpy()[::7], share["promo_mean"].to_numpy(),
                               rtol=1e-12)
    cens = hist.append_column("in_stock", pa.array(np.ones(hist.num_rows, bool)))
    with pytest.raises(ParameterError, match="models") as info:
        so.forecast(cens, 7, freq="D", models=[_PromoShare()], censored="in_stock")
    assert info.value.parameter == "models"


def test_grouped_input_gives_the_same_forecast():
    hist, fut, _, _ = _synthetic(n=6, days=120)
    hist = hist.drop_columns(["category"]).rename_columns(["sku", "day", "qty", "promo", "price"])
    fut = fut.rename_columns(["sku", "day", "promo", "price"])
    cols = dict(id_col="sku", time_col="day", target_col="qty")
    want = so.forecast(hist, 7, freq="D", models=["naive"], X_future=fut, **cols)
    grouped = so.group_series(hist, freq="D", extra_cols=["promo", "price"], **cols)
    assert so.forecast(grouped, 7, models=["naive"], X_future=fut).equals(want)
