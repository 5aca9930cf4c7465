"""Accuracy metrics against hand-computed values and against utilsforecast."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import stockopt as so


def test_hand_computed_values():
    cv = pa.table({"unique_id": ["a"] * 4, "ds": pa.array([10, 11, 12, 13], pa.date32()),
                   "y": [1.0, 0.0, 4.0, 2.0], "M": [2.0, 0.0, 1.0, 2.0],
                   "M-lo-80": [0.0, 0.0, 2.0, 0.0], "M-hi-80": [3.0, 1.0, 3.0, 3.0], "M-q90": [3.0, 1.0, 5.0, 3.0]})
    ev = so.evaluate(cv, metrics=["mae", "rmse", "bias", "smape", "coverage", "pinball"])
    got = dict(zip(ev["metric"].to_pylist(), ev["M"].to_pylist()))
    assert got["mae"] == pytest.approx((1 + 0 + 3 + 0) / 4)
    assert got["rmse"] == pytest.approx(np.sqrt((1 + 9) / 4))
    assert got["bias"] == pytest.approx((1 + 0 - 3 + 0) / 4)
    assert got["smape"] == pytest.approx((1 / 3 + 0 + 3 / 5 + 0) / 4)
    assert got["coverage_80"] == pytest.approx(3 / 4)
    # pinball at tau=0.9 for y - q = [-2, -1, -1, -1]: (1 - 0.9) * [2, 1, 1, 1]
    assert got["pinball_q90"] == pytest.approx(0.1 * 5 / 4)


def test_mase_uses_history_up_to_each_cutoff():
    train = pa.table({"unique_id": ["a"] * 6, "ds": pa.array(range(6), pa.date32()),
                      "y": [1.0, 3.0, 2.0, 6.0, 0.0, 0.0]})
    cv = pa.table({"unique_id": ["a", "a"], "ds": pa.array([3, 4], pa.date32()),
                   "cutoff": pa.array([2, 3], pa.date32()), "y": [6.0, 0.0], "M": [4.0, 3.0]})
    ev = so.evaluate(cv, metrics=["mase"], season_length=1, train=train)
    # cutoff day 2: history [1, 3, 2] -> scale mean(|2|, |1|) = 1.5, error 2 -> 4/3
    # cutoff day 3: history [1, 3, 2, 6] -> scale (2 + 1 + 4) / 3, error 3 -> 9/7
    np.testing.assert_allclose(ev["M"].to_numpy(), [2 / 1.5, 3 / (7 / 3)])


def test_against_utilsforecast():
    pd = pytest.importorskip("pandas")
    uf_losses = pytest.importorskip("utilsforecast.losses")
    from functools import partial

    from utilsforecast.evaluation import evaluate as uf_evaluate

    sales = so.datasets.synthetic_retail(12, 150, seed=2)
    cv = so.cross_validation(sales, h=7, n_windows=2, models=["naive", "croston_sba"], level=[80],
                             quantiles=[0.9])
    ours = so.evaluate(cv, metrics=["mae", "rmse", "smape", "bias", "mase", "rmsse", "coverage"], season_length=7,
                       train=sales).to_pandas()
    cv_pd = cv.to_pandas()
    train_pd = sales.select(["unique_id", "ds", "y"]).to_pandas()
    theirs = uf_evaluate(
        cv_pd.drop(columns=["Naive-q90", "CrostonSBA-q90"]),
        metrics=[uf_losses.mae, uf_losses.rmse, uf_losses.smape, uf_losses.bias,
                 partial(uf_losses.mase, seasonality=7), partial(uf_losses.rmsse, seasonality=7),
                 uf_losses.coverage],
        models=["Naive", "CrostonSBA"], train_df=train_pd, level=[80],
    )
    for metric in ["mae", "rmse", "smape", "bias", "mase", "rmsse", "coverage_80"]:
        uf_name = "coverage_level80" if metric == "coverage_80" else metric
        a = ours[ours.metric == metric].sort_values(["unique_id", "cutoff"])
        b = theirs[theirs.metric == uf_name].sort_values(["unique_id", "cutoff"])
        assert len(a) == len(b) == 24, metric
        for m in ["Naive", "CrostonSBA"]:
            np.testing.assert_allclose(a[m].to_numpy(), b[m].to_numpy(), rtol=1e-9, err_msg=f"{metric} {m}")
    # pinball against utilsforecast's quantile loss
    q = uf_losses.quantile_loss(cv_pd, models={"Naive": "Naive-q90"}, q=0.9)
    ev = so.evaluate(cv, metrics=["pinball"]).to_pandas()
    a = ev[ev.metric == "pinball_q90"].sort_values(["unique_id", "cutoff"])["Naive"].to_numpy()
    np.testing.assert_allclose(a, q.sort_values(["unique_id", "cutoff"])["Naive"].to_numpy(), rtol=1e-9)
    assert pd is not None


def test_mase_needs_train():
    cv = pa.table({"unique_id": ["a"], "y": [1.0], "M": [1.0]})
    with pytest.raises(so.errors.ParameterError, match="train"):
        so.evaluate(cv, metrics=["mase"])
