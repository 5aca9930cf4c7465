"""cross_validation with censored= and X_future=: each window against forecast() on the truncated history,
and the generator's uncensored truth (the censored backtest is unbiased where the plain one is low)."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import stockopt as so
from stockopt.errors import ParameterError


@pytest.fixture(scope="module")
def retail():
    t = so.datasets.synthetic_retail(12, 150, seed=4, stockout_share=0.6, stockout_days=(3, 12))
    return t.append_column("category", pa.array([f"c{int(s[-1]) % 2}" for s in t["unique_id"].to_pylist()]))


def _window(tbl, cutoff, h):
    """The rows up to ``cutoff`` (history) and the driver rows of the ``h`` days after it (future)."""
    ds = tbl["ds"]
    end = pa.scalar(cutoff + dt.timedelta(days=h), pa.date32())
    hist = tbl.filter(pc.less_equal(ds, pa.scalar(cutoff, pa.date32())))
    fut = tbl.filter(pc.and_(pc.greater(ds, pa.scalar(cutoff, pa.date32())), pc.less_equal(ds, end)))
    return hist, fut


CASES = [
    dict(censored="in_stock"),
    dict(X_future=["on_promotion", "price"]),
    dict(censored="in_stock", X_future=["on_promotion", "price"]),
    dict(censored="in_stock", X_future=so.Drivers(future=["on_promotion"], pool_by="category")),
]


@pytest.mark.parametrize("kw", CASES)
def test_each_window_is_forecast_with_the_signals_on_its_truncated_history(retail, kw):
    h, models = 7, ["ses", "croston_sba"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = so.cross_validation(retail, h, models=models, n_windows=3, step_size=5, level=[80], freq="D",
                                 **kw)
        assert cv.num_rows == 3 * 12 * h
        for cutoff in pc.unique(cv["cutoff"]).to_pylist():
            hist, fut = _window(retail, cutoff, h)
            x = kw.get("X_future")
            if isinstance(x, list):
                x = fut.select(["unique_id", "ds", *x])
            elif x is not None:
                x = so.Drivers(future=fut.select(["unique_id", "ds", *x.future]), pool_by=x.pool_by)
            want = so.forecast(hist, h, models=models, level=[80], freq="D", censored=kw.get("censored"),
                               X_future=x)
            got = cv.filter(pc.equal(cv["cutoff"], pa.scalar(cutoff, pa.date32())))
            assert got["unique_id"].to_pylist() == want["unique_id"].to_pylist()
            assert got["ds"].equals(want["ds"])
            for c in want.column_names[2:]:
                np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12, atol=1e-12,
                                           err_msg=f"{cutoff} {c}")
            # actuals and flags: the rows of the hold-out periods
            assert got["y"].to_pylist() == fut["y"].to_pylist()
            if "censored" in kw:
                assert got["in_stock"].to_pylist() == fut["in_stock"].to_pylist()
            else:
                assert "in_stock" not in got.column_names


def test_x_future_true_reads_the_other_columns_as_drivers(retail):
    base = retail.drop_columns(["category"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = so.cross_validation(base, 7, models=["ses"], n_windows=2, freq="D", censored="in_stock",
                                   X_future=True)
        named = so.cross_validation(base, 7, models=["ses"], n_windows=2, freq="D", censored="in_stock",
                                    X_future=["price", "on_promotion"])
        plain = so.cross_validation(base, 7, models=["ses"], n_windows=2, freq="D", censored="in_stock")
    assert auto.equals(named)
    assert not auto.equals(plain)  # the drivers moved the forecasts
    assert so.cross_validation(base, 7, models=["ses"], n_windows=2, freq="D", censored="in_stock",
                               X_future=False).equals(plain)


def test_argument_rules(retail):
    kw = dict(models=["ses"], n_windows=2, freq="D")
    with pytest.raises(ParameterError, match="refit"):
        so.cross_validation(retail, 7, censored="in_stock", refit=False, **kw)
    with pytest.raises(ParameterError, match="X_future"):
        so.cross_validation(retail, 7, X_future="price", **kw)
    with pytest.raises(ParameterError, match="X_future"):
        so.cross_validation(retail, 7, X_future=["y"], **kw)
    only = retail.select(["unique_id", "ds", "y", "in_stock"])
    with pytest.raises(ParameterError, match="no driver"):
        so.cross_validation(only, 7, censored="in_stock", X_future=True, **kw)
    with pytest.raises(so.errors.MissingColumnError, match="promo"):
        so.cross_validation(retail, 7, X_future=["promo"], **kw)


@pytest.fixture(scope="module")
def stockouts_at_cutoffs():
    """300 series x 280 days with the generator's stockouts, plus, in 40 % of the series, a stockout of 1-3
    weeks running up to one of the two cutoffs.  Returns (history, true demand, cutoff window of the
    forced spell per series or -1)."""
    n, T, h, W = 300, 280, 14, 2
    t = so.datasets.synthetic_retail(n, T, seed=21, return_truth=True, stockout_share=0.3,
                                     stockout_rate=1 / 100, stockout_days=(7, 21))
    demand = t["demand"].to_numpy().reshape(n, T)
    ins = t["in_stock"].to_numpy(zero_copy_only=False).reshape(n, T).copy()
    rng = np.random.default_rng(3)
    hit = rng.random(n) < 0.4
    window = np.where(hit, rng.integers(0, W, n), -1)  # 0: the first cutoff (T - 2h), 1: the last (T - h)
    for i in np.flatnonzero(hit):
        cut = T - h * (W - window[i])
        ins[i, cut - rng.integers(7, 22):cut] = False
    sales = pa.array(np.where(ins, demand, 0.0).ravel())
    hist = t.drop_columns(["demand", "demand_class"]).set_column(2, "y", sales)
    return hist.set_column(3, "in_stock", pa.array(ins.ravel())), demand, window


def test_censored_backtest_is_unbiased_where_the_plain_one_is_low(stockouts_at_cutoffs):
    hist, demand, window = stockouts_at_cutoffs
    n, T = demand.shape
    h, W = 14, 2
    # (window, series, h)
    truth = np.stack([demand[:, T - h * (W - w):T - h * (W - w) + h] for w in range(W)])
    affected = np.arange(W)[:, None] == window[None, :]
    out = {}
    true_hist = hist.set_column(2, "y", pa.array(demand.ravel()))  # the oracle: fitted on the true demand
    for censored in (None, "in_stock", "oracle"):
        cv = so.cross_validation(true_hist if censored == "oracle" else hist, h, models=["ses"], n_windows=W,
                                 freq="D",
                                 censored=None if censored == "oracle" else censored,
                                 X_future=["on_promotion", "price"])
        f = cv["SES"].to_numpy().reshape(W, n, h)
        out[censored] = ((f[affected] - truth[affected]).sum() / truth[affected].sum(),
                         (f - truth).sum() / truth.sum())
        if censored == "in_stock":
            # scored as the docstring says, on the periods in stock (where sales are the true demand)
            ok = cv["in_stock"].to_numpy(zero_copy_only=False)
            y = cv["y"].to_numpy()
            np.testing.assert_array_equal(y[ok], truth.ravel()[ok])
            in_stock_bias = (f.ravel()[ok] - y[ok]).sum() / y[ok].sum()
            scored = so.evaluate(cv.filter(cv["in_stock"]), metrics=["bias"])
            assert scored.column_names == ["unique_id", "cutoff", "metric", "SES"]  # in_stock is no model
    (plain_aff, plain_all), (cens_aff, cens_all) = out[None], out["in_stock"]
    ora_aff, ora_all = out["oracle"]
    assert plain_aff < -0.5 and plain_all < -0.1, out
    assert abs(cens_aff) < 0.08 and abs(cens_all) < 0.02, out
    assert abs(cens_aff - ora_aff) < 0.05 and abs(cens_all - ora_all) < 0.01, out
    assert abs(in_stock_bias) < 0.02, in_stock_bias
    print(f"bias of SES on the affected windows / all: plain {plain_aff:+.1%} / {plain_all:+.1%}, censored "
          f"{cens_aff:+.1%} / {cens_all:+.1%}, oracle {ora_aff:+.1%} / {ora_all:+.1%}; censored scored on "
          f"in-stock sales {in_stock_bias:+.1%}")
