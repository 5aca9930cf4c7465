"""The demo's demand-signals figures (issue 13): bias of a forecast of censored sales against the true
demand, hold-out accuracy with promotions, recomputed here from the tables and the generator's truth."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

import stockopt as so
from stockopt.cli import main
from stockopt.errors import ParameterError
from stockopt.signals._demo import signals_demo


@pytest.fixture(scope="module")
def demo():
    return signals_demo(seed=0)


def _joined(fc: pa.Table, truth: pa.Table, col: str, value: str) -> tuple[np.ndarray, np.ndarray, list]:
    """Forecast and truth matched by (unique_id, ds), not by row order."""
    keys = ["unique_id", "ds"]
    j = fc.select([*keys, col]).join(truth.select([*keys, value]), keys)
    assert j.num_rows == fc.num_rows == truth.num_rows
    return j[col].to_numpy(), j[value].to_numpy(), j["unique_id"].to_pylist()


def test_censored_history_is_the_true_demand_cut_by_the_stockouts(demo):
    h = demo.censored_history
    y, d = h["y"].to_numpy(), h["demand"].to_numpy()
    ok = h["in_stock"].to_numpy(zero_copy_only=False)
    assert np.array_equal(y, np.where(ok, d, 0.0))
    out = ~ok.reshape(200, 365)
    assert demo.censored_series == int(out.any(axis=1).sum()) > 20
    assert out[:, -1].sum() >= 10  # series still out of stock at the end of the history


def test_bias_recomputed_from_the_tables_and_the_truth(demo):
    h = demo.censored_history
    out = ~h["in_stock"].to_numpy(zero_copy_only=False)
    hit = set(pa.compute.unique(h["unique_id"].filter(pa.array(out))).to_pylist())
    col = demo.censored_forecasts["sales"].column_names[2]
    got = {}
    for k, fc in demo.censored_forecasts.items():
        f, d, ids = _joined(fc, demo.censored_truth, col, "demand")
        m = np.array([i in hit for i in ids])
        got[k] = (f[m] - d[m]).sum() / d[m].sum()
    assert got["sales"] == pytest.approx(demo.bias_sales, abs=1e-12)
    assert got["censored"] == pytest.approx(demo.bias_censored, abs=1e-12)
    assert got["oracle"] == pytest.approx(demo.bias_oracle, abs=1e-12)
    # the correction removes the low bias of sales read as demand, to within 3 points of the model's own
    assert abs(demo.bias_censored) < abs(demo.bias_sales)
    assert demo.bias_sales < -0.2
    assert abs(demo.bias_censored - demo.bias_oracle) < 0.03


def test_oracle_forecast_is_the_model_fitted_on_the_true_demand(demo):
    h = demo.censored_history
    want = so.forecast(pa.table({"unique_id": h["unique_id"], "ds": h["ds"], "y": h["demand"]}), 28, freq="D",
                       models=["ses_optimized"])
    assert demo.censored_forecasts["oracle"].equals(want)


def test_promotion_accuracy_and_uplift(demo):
    fut = demo.promo_future
    col = demo.promo_forecasts["plain"].column_names[2]
    w = {}
    for k, fc in demo.promo_forecasts.items():
        f, y, _ = _joined(fc, fut, col, "y")
        w[k] = np.abs(f - y).sum() / y.sum()
    assert w["plain"] == pytest.approx(demo.wape_plain, abs=1e-12)
    assert w["drivers"] == pytest.approx(demo.wape_drivers, abs=1e-12)
    assert demo.wape_drivers < demo.wape_plain
    assert fut["on_promotion"].to_numpy(zero_copy_only=False).mean() > 0.03  # the horizon has promotions
    assert demo.true_uplift == 1.5 and abs(demo.uplift / demo.true_uplift - 1) < 0.10


def test_lines_show_the_figures(demo):
    text = "\n".join(demo.lines())
    nums = [float(x) for x in re.findall(r"[+-]?\d+\.\d+", text)]
    assert [round(100 * demo.bias_sales, 1), round(100 * demo.bias_censored, 1)] == nums[:2]
    assert round(100 * demo.wape_plain, 1) in nums and round(100 * demo.wape_drivers, 1) in nums
    assert "censored=in_stock" in text and f"{demo.uplift:.2f}x (true 1.50x)" in text


def test_generator_promotion_uplift():
    a = so.datasets.synthetic_retail(300, 60, seed=4, return_truth=True)
    b = so.datasets.synthetic_retail(300, 60, seed=4, return_truth=True, promotion_uplift=(1.3, 2.5))
    assert a.equals(b)  # the default is the earlier generator, bit for bit
    # one known uplift: smooth series' mean demand on promotion days over the mean on the others (same
    # series, same weekday mix) is the uplift, within sampling error
    t = so.datasets.synthetic_retail(600, 365, seed=5, return_truth=True, stockouts=False,
                                     promotion_uplift=(2.0, 2.0))
    d = t["demand"].to_numpy().reshape(600, 365)
    p = t["on_promotion"].to_numpy(zero_copy_only=False).reshape(600, 365)
    smooth = t["demand_class"].to_numpy().reshape(600, 365)[:, 0] == 0
    ratio = [d[i, p[i]].mean() / d[i, ~p[i]].mean() for i in np.flatnonzero(smooth & (p.sum(axis=1) > 10))]
    assert 1.85 < np.exp(np.mean(np.log(ratio))) < 2.15
    with pytest.raises(ParameterError, match="promotion_uplift"):
        so.datasets.synthetic_retail(3, 10, promotion_uplift=(2.0, 1.5))
    with pytest.raises(ParameterError, match="promotion_uplift"):
        so.datasets.synthetic_retail(3, 10, promotion_uplift=(0.5, 1.5))


@pytest.mark.slow
def test_demo_command_prints_the_signals(tmp_path):
    args = ["demo", "--out", str(tmp_path), "--n-series", "30", "--n-days", "120", "--horizon", "14"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CliRunner().invoke(main, args)
        r2 = CliRunner().invoke(main, [*args, "--no-signals"])
    assert r.exit_code == 0 and r2.exit_code == 0, r.output + r2.output
    want = signals_demo(seed=0).lines()
    assert all(line in r.output.splitlines() for line in want)
    assert "censored demand: forecast bias" in r.output and "promotions: WAPE" in r.output
    assert r.output.index("orders:") < r.output.index("censored demand")
    assert "censored demand" not in r2.output and "orders:" in r2.output
