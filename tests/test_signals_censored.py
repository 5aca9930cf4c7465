"""Stockout-censored demand: kernels against scipy and a slow twin, the exact construction of each
model's input, and the generator's truth (bias of the corrected forecast, lost-sales estimates)."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

import stockopt as so
from stockopt._kernels.forecast.censored import impute_block, tail_mean
from stockopt.errors import MissingColumnError, ParameterError
from stockopt.signals import estimate_demand
from stockopt.signals.censored import censored_history
from tests.reference import signals as ref

START = dt.date(2024, 1, 1)


def _table(series, flags, extra=None):
    ids, ds, y, ins = [], [], [], []
    for k, (s, f) in enumerate(zip(series, flags)):
        ids += [f"s{k:03d}"] * len(s)
        ds += [START + dt.timedelta(days=i) for i in range(len(s))]
        y += list(map(float, s))
        ins += list(f)
    cols = {"unique_id": ids, "ds": pa.array(ds, pa.date32()), "y": y, "in_stock": ins}
    cols.update(extra or {})
    return pa.table(cols)


@pytest.mark.parametrize("mu,size,s", [(3.0, math.inf, 2.0), (3.0, math.inf, 7.0), (12.5, 2.0, 9.0),
                                       (0.4, 0.5, 1.0), (40.0, 8.0, 30.5), (5.0, 3.0, 0.0),
                                       (2.0, math.inf, 60.0)])
def test_tail_mean_against_scipy(mu, size, s):
    assert tail_mean(mu, size, s) == pytest.approx(ref.tail_mean(mu, size, s), rel=1e-9)


def test_tail_mean_normal_branch_against_truncnorm():
    mu, size, s = 400.0, 50.0, 430.0
    sd = math.sqrt(mu + mu * mu / size)
    want = stats.truncnorm((s - mu) / sd, np.inf, loc=mu, scale=sd).mean()
    assert tail_mean(mu, size, s) == pytest.approx(want, rel=1e-9)


@pytest.mark.slow
def test_impute_kernel_matches_slow_twin():
    rng = np.random.default_rng(3)
    series, outs, phases = [], [], []
    for n in (1, 2, 5, 40, 150):
        for rate in (0.5, 4.0, 30.0):
            y = rng.negative_binomial(3, 3 / (3 + rate), n).astype(float)
            out = rng.random(n) < 0.2
            if n > 20:
                out[-5:] = True
                out[:3] = True
            y = np.where(out & (rng.random(n) < 0.5), 0.0, np.where(out, np.floor(y * 0.5), y))
            series.append(y)
            outs.append(out)
            phases.append((np.arange(n) + int(rng.integers(0, 7))) % 7)
    lens = np.array([len(s) for s in series])
    indptr = np.r_[0, np.cumsum(lens)].astype(np.int64)
    values = np.concatenate(series)
    out = np.concatenate(outs)
    phase = np.concatenate(phases).astype(np.int64)
    demand = np.empty_like(values)
    n_used = np.empty(len(series), dtype=np.int64)
    for n_em in (0, 2):
        impute_block(values, indptr, out, phase, 7, 0.1, n_em, demand, n_used)
        for i, (y, o, ph) in enumerate(zip(series, outs, phases)):
            want = ref.impute(list(y), list(o), list(ph), 7, 0.1, n_em)
            np.testing.assert_allclose(demand[indptr[i]:indptr[i + 1]], want, rtol=1e-9, atol=1e-12)
            assert n_used[i] == (~o).sum()
        assert (demand >= values).all()


def test_history_adjustment_per_series_kind():
    smooth = [5, 6, 4, 0, 0, 5, 6, 5, 4, 6, 0, 0]     # interior spell (3, 4), trailing spell of 2
    sparse = [0, 0, 3, 0, 0, 0, 0, 2, 0, 0, 0, 4]      # intermittent: censored zeros are left out
    never = [0, 0, 0, 0]                                 # never in stock: kept as it is
    flags = [[True] * 3 + [False] * 2 + [True] * 5 + [False] * 2,
             [True, False, True, True, False, False, True, True, True, False, False, True],
             [False] * 4]
    g = so.group_series(_table([smooth, sparse, never], flags), freq="D", extra_cols=["in_stock"])
    hist = censored_history(g, ~g.extra["in_stock"])
    adj = hist.grouped
    assert hist.trailing.tolist() == [2, 0, 0]
    assert hist.imputed.tolist() == [2, 0, 0] and hist.removed.tolist() == [0, 5, 0]
    assert hist.uncorrectable.tolist() == [False, False, True]
    s0 = adj.series(0)
    assert s0.size == 10 and (s0[3:5] > 3).all() and s0[5:].tolist() == smooth[5:10]
    assert adj.series(1).tolist() == [0, 3, 0, 0, 2, 0, 4]
    assert adj.series(2).tolist() == never
    assert hist.summary() == {"series_censored": 2, "periods_imputed": 2, "periods_removed": 5,
                              "series_out_at_end": 1, "series_uncorrectable": 1}


@pytest.mark.slow
def test_forecast_is_each_model_run_on_the_adjusted_history():
    """censored=: a trailing spell is forecast across (h + g ahead from the last day in stock), an
    intermittent series' censored zeros are left out - exactly, for any model."""
    rng = np.random.default_rng(7)
    n = 120
    y0 = rng.poisson(8.0, n).astype(float)
    f0 = np.ones(n, bool)
    f0[-9:] = False
    y0[-9:] = 0.0
    y1 = np.where(rng.random(n) < 0.2, rng.integers(1, 5, n), 0).astype(float)
    f1 = np.ones(n, bool)
    f1[30:50] = False
    y1[30:50] = 0.0
    tbl = _table([y0, y1], [f0, f1])
    h = 10
    models = (so.models.Holt(), so.models.CrostonSBA(), so.models.SeasonalNaive(7), so.models.TSB(0.1, 0.2))
    for model in models:
        fc = so.forecast(tbl, h=h, freq="D", models=[model], censored="in_stock")
        got = fc[model.name].to_numpy().reshape(2, h)
        r0 = model.forecast_arrays(np.ascontiguousarray(y0[:-9]), np.array([0, n - 9]), h + 9)
        keep = np.r_[y1[:30], y1[50:]]
        r1 = model.forecast_arrays(np.ascontiguousarray(keep), np.array([0, keep.size]), h)
        np.testing.assert_allclose(got[0], np.maximum(r0.mean[0, 9:], 0), rtol=1e-12)
        np.testing.assert_allclose(got[1], np.maximum(r1.mean[0], 0), rtol=1e-12)
    dates = fc["ds"].to_pylist()
    assert dates[0] == START + dt.timedelta(days=n) and dates[h] == START + dt.timedelta(days=n)


def test_on_hand_at_zero_is_the_same_censoring_and_results_do_not_depend_on_threads():
    t = so.datasets.synthetic_retail(60, 200, seed=4, stockout_share=0.5, stockout_days=(5, 20))
    on_hand = np.where(t["in_stock"].to_numpy(zero_copy_only=False), 7.0, 0.0)
    t2 = t.append_column("on_hand", pa.array(on_hand))
    models = ["ses_optimized", "croston_sba"]
    a = so.forecast(t, h=14, freq="D", models=models, level=[80], censored="in_stock")
    b = so.forecast(t2, h=14, freq="D", models=models, level=[80], censored="on_hand", n_jobs=2)
    shuffled = t.take(pa.array(np.random.default_rng(0).permutation(t.num_rows)))
    c = so.forecast(shuffled, h=14, freq="D", models=["ses_optimized", "croston_sba"], level=[80],
                    censored="in_stock", n_jobs=3)
    assert a.equals(b) and a.equals(c)
    for col in a.column_names[2:]:
        v = a[col].to_numpy()
        assert np.isfinite(v).all() and (v >= 0).all()
    with pytest.raises(MissingColumnError, match="stock"):
        so.forecast(t.drop_columns(["in_stock"]), h=7, freq="D", models=["naive"], censored="in_stock")
    with pytest.raises(ParameterError, match="censored"):
        so.forecast(t, h=7, freq="D", models=["naive"], censored=True)


@pytest.fixture(scope="module")
def long_stockouts():
    """1,500 series x 400 + 28 days: 30 % stock out for 1-4 weeks at a time; a third of those are out at
    the end of the history.  Returns (history table, true future demand, true history demand, affected)."""
    n, hist_len, h = 1500, 400, 28
    t = so.datasets.synthetic_retail(n, hist_len + h, seed=12, return_truth=True, stockout_share=0.3,
                                     stockout_rate=1 / 100, stockout_days=(7, 28))
    demand = t["demand"].to_numpy().reshape(n, -1)
    ins = t["in_stock"].to_numpy(zero_copy_only=False).reshape(n, -1).copy()
    rng = np.random.default_rng(1)
    end = ~ins.all(axis=1) & (rng.random(n) < 1 / 3)
    for i, L in zip(np.flatnonzero(end), rng.integers(7, 29, size=int(end.sum()))):
        ins[i, hist_len - L:hist_len] = False
    keep = np.zeros_like(ins)
    keep[:, :hist_len] = True
    hist = pa.table({"unique_id": t["unique_id"].filter(pa.array(keep.ravel())),
                     "ds": t["ds"].filter(pa.array(keep.ravel())),
                     "y": np.where(ins, demand, 0.0)[:, :hist_len].ravel(),
                     "in_stock": ins[:, :hist_len].ravel()})
    return hist, demand[:, hist_len:], demand[:, :hist_len], ~ins[:, :hist_len].all(axis=1)


@pytest.mark.parametrize("model", ["ses_optimized", "croston_sba", "seasonal_naive"])
def test_corrected_forecast_is_unbiased_where_the_uncorrected_is_low(long_stockouts, model):
    hist, future, true_hist, affected = long_stockouts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unc = so.forecast(hist.select(["unique_id", "ds", "y"]), h=28, freq="D", models=[model])
        cor = so.forecast(hist, h=28, freq="D", models=[model], censored="in_stock")
        ora = so.forecast(hist.select(["unique_id", "ds"]).append_column("y", pa.array(true_hist.ravel())),
                          h=28, freq="D", models=[model])
    truth = future[affected]

    def bias(fc):
        f = fc.column(2).to_numpy().reshape(-1, 28)[affected]
        return (f - truth).sum() / truth.sum()

    b_unc, b_cor, b_ora = bias(unc), bias(cor), bias(ora)
    assert b_unc < -0.05, b_unc
    assert abs(b_cor) < 0.05 and abs(b_cor - b_ora) < 0.03, (b_cor, b_ora)


@pytest.mark.slow
def test_estimated_lost_sales_match_the_true_demand(long_stockouts):
    hist, _, true_hist, _ = long_stockouts
    est = estimate_demand(hist, freq="D")
    out = est["censored"].to_numpy(zero_copy_only=False)
    demand = est["demand"].to_numpy()
    assert demand[out].sum() == pytest.approx(true_hist.ravel()[out].sum(), rel=0.05)
    # partial stockouts: on each stocked-out day the shelf held C ~ U(0, 2 x the series' mean) pieces at
    # the start: an empty shelf, or demand reaching C, censors the day (min(D, C) sold); otherwise the
    # day was in stock.  Sales are then a lower bound of demand, and E[D | D >= sales] its posterior mean.
    n = true_hist.shape[0]
    rng = np.random.default_rng(5)
    cap = np.floor(rng.random(true_hist.shape) * 2 * true_hist.mean(axis=1, keepdims=True)).ravel()
    d = true_hist.ravel()
    short = out & ((cap == 0) | (d >= cap))
    part = hist.set_column(2, "y", pa.array(np.where(short, np.minimum(cap, d), d)))
    part = part.set_column(3, "in_stock", pa.array(~short))
    d2 = estimate_demand(part, freq="D")["demand"].to_numpy()
    assert (d2[short] >= np.minimum(cap, d)[short]).all() and short.sum() > 5000 and n == 1500
    assert d2[short].sum() == pytest.approx(d[short].sum(), rel=0.05)
    # leaving the bound out (every short day read as a lost day) underestimates: the sales carry information
    part0 = part.set_column(2, "y", pa.array(np.where(short, 0.0, d)))
    d0 = estimate_demand(part0, freq="D")["demand"].to_numpy()
    assert abs(d2[short].sum() / d[short].sum() - 1) < abs(d0[short].sum() / d[short].sum() - 1)
