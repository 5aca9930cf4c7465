"""Demand signals in the nightly run (issue 13): drivers (``X_future``), demand classes and data quality.

Oracles: ``so.forecast(..., X_future=)`` on the same series (the nightly forecast applies the drivers as
the API does), ``so.inventory_policy`` on that forecast, ``classify_demand`` and ``check_data`` on the
same input, and ``run_nightly`` on the whole input for ``so.plan`` whatever the partitioning.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import stockopt as so
from stockopt.cli import main
from stockopt.errors import ColumnTypeError, MissingColumnError, ParameterError
from stockopt.signals import check_data, classify_demand, forecast_drivers
from tests.test_signals_drivers import _synthetic

H = 14
MODELS = ["ses_optimized", "naive"]
KEYS = [("unique_id", "ascending"), ("ds", "ascending")]


@pytest.fixture(scope="module")
def data():
    hist, fut, _, _ = _synthetic(n=24, days=150, h=H, seed=4)
    return hist.drop_columns(["category"]), fut


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _bad_future(fut: pa.Table) -> tuple[pa.Table, dict[str, tuple[str, int]]]:
    """X_future with four faults: a null price (s0003), a missing day (s0005), a repeated day (s0008), an
    id the sales lack; returns the table and the expected quarantine rows {id: (reason start, row)}."""
    price = fut["price"].to_pylist()
    price[3 * H + 2] = None
    fut = fut.set_column(fut.column_names.index("price"), "price", pa.array(price, pa.float64()))
    keep = np.ones(fut.num_rows, bool)
    keep[5 * H + 6] = False
    fut = fut.filter(pa.array(keep))  # rows after 5*H + 6 move up by one
    dup_src = 8 * H + 4 - 1
    fut = pa.concat_tables([fut, fut.slice(dup_src, 1),
                            pa.table({"unique_id": ["nope"], "ds": [fut["ds"][0].as_py()], "promo": [True],
                                      "price": [2.0]}).cast(fut.schema)])
    n = fut.num_rows
    return fut, {"s0003": ("null or non-finite driver value in the horizon: price", 3 * H + 2),
                 "s0005": ("horizon period missing: period 7 of 14", -1),
                 "s0008": ("horizon period repeated", n - 2), "nope": ("id not in the sales", n - 1)}


def test_run_nightly_forecasts_and_sizes_with_the_drivers_exactly_as_so_forecast(data):
    hist, fut = data
    res = _quiet(so.run_nightly, hist, h=H, models=MODELS, X_future=fut)
    want = _quiet(so.forecast, hist, H, models=MODELS, level=[80, 95], X_future=fut)
    assert res.forecast.sort_by(KEYS).equals(want.sort_by(KEYS).select(res.forecast.column_names))
    plain = _quiet(so.run_nightly, hist, h=H, models=MODELS)
    assert not np.allclose(plain.forecast["SESOpt"].to_numpy(), res.forecast["SESOpt"].to_numpy())
    # the policies read the first model's forecast with drivers (defaults: 7-day lead time, 95 % cycle)
    ids = pc.unique(hist["unique_id"])
    items = pa.table({"unique_id": ids, "lead_time": np.full(len(ids), 7.0),
                      "service_level": np.full(len(ids), .95)})
    pol = so.inventory_policy(want, items, model="SESOpt", period_days=1.0)
    got = res.policy.sort_by("unique_id")
    want_rop = pol.sort_by("unique_id")["reorder_point"].to_numpy()
    np.testing.assert_allclose(got["reorder_point"].to_numpy(), want_rop, rtol=1e-12)
    # the summary names the drivers with the pooled effects forecast_drivers estimated
    coef = _quiet(forecast_drivers, hist, H, fut, models=MODELS).coefficients
    for r in coef.to_pylist():
        assert res.summary["drivers"][r["driver"]] == {"kind": r["kind"], "effect": round(r["effect"], 6)}
    kinds = {k: v["kind"] for k, v in res.summary["drivers"].items()}
    assert kinds == {"promo": "flag", "price": "price"}


def test_fixed_effects_reproduce_the_fit_and_move_the_forecast(data):
    hist, fut = data
    fit = _quiet(forecast_drivers, hist, H, fut, models=["naive"])
    again = _quiet(forecast_drivers, hist, H, fut, models=["naive"], effects=fit.coefficients)
    assert again.forecast.equals(fit.forecast)
    doubled = fit.coefficients.set_column(3, "coef", pc.multiply(fit.coefficients["coef"], 2.0))
    moved = _quiet(forecast_drivers, hist, H, fut, models=["naive"], effects=doubled).forecast
    # naive: y_last / exp(x_last . c) x exp(x_future . c), so log(forecast / y_last) doubles with c
    last = hist.sort_by(KEYS).group_by("unique_id", use_threads=False).aggregate([("y", "last")])
    y_last = np.repeat(last.sort_by("unique_id")["y_last"].to_numpy(), H)
    ok = y_last > 0
    np.testing.assert_allclose(np.log(moved["Naive"].to_numpy()[ok] / y_last[ok]),
                               2 * np.log(fit.forecast["Naive"].to_numpy()[ok] / y_last[ok]), atol=1e-9)
    assert ok.sum() > H * 10
    with pytest.raises(ParameterError, match="effects"):
        forecast_drivers(hist, H, fut, models=["naive"], effects=fit.coefficients.slice(0, 1))


def test_bad_x_future_quarantines_the_series_and_names_them(data):
    hist, fut = data
    bad, expected = _bad_future(fut)
    res = _quiet(so.run_nightly, hist, h=H, models=["naive"], X_future=bad)
    q = res.quarantine.filter(pc.equal(res.quarantine["table"], "X_future"))
    got = {r["unique_id"]: (r["reason"], r["first_row"]) for r in q.to_pylist()}
    assert got == expected
    assert res.summary["series_quarantined"] == 3 and res.summary["series"] == 24
    assert res.summary["quarantine_reasons"]["horizon period missing"] == 1
    # the others are forecast as so.forecast forecasts them without the quarantined series
    bad_ids = pa.array(["s0003", "s0005", "s0008"])
    keep_h = hist.filter(pc.invert(pc.is_in(hist["unique_id"], value_set=bad_ids)))
    keep_f = fut.filter(pc.invert(pc.is_in(fut["unique_id"], value_set=bad_ids)))
    want = _quiet(so.forecast, keep_h, H, models=["naive"], level=[80, 95], X_future=keep_f)
    assert res.forecast.sort_by(KEYS).equals(want.sort_by(KEYS).select(res.forecast.column_names))


def test_whole_table_faults_of_x_future_raise_before_forecasting(data):
    hist, fut = data
    with pytest.raises(MissingColumnError) as info:
        so.run_nightly(hist.drop_columns(["price"]), h=H, models=["naive"], X_future=fut)
    assert info.value.table == "sales" and info.value.column == "price"
    with pytest.raises(ColumnTypeError) as info:
        so.run_nightly(hist, h=H, models=["naive"],
                       X_future=fut.set_column(3, "price", pa.array(["x"] * fut.num_rows)))
    assert info.value.table == "X_future" and info.value.column == "price"
    with pytest.raises(MissingColumnError) as info:
        so.run_nightly(hist, h=H, models=["naive"], X_future=fut.drop_columns(["ds"]))
    assert info.value.table == "X_future"
    for sales, future in ((hist, fut.set_column(0, "unique_id", pa.array(np.arange(fut.num_rows) + 0.5))),
                          (hist.set_column(0, "unique_id", pa.array([int(i[1:]) for i in
                                                                     hist["unique_id"].to_pylist()])), fut)):
        with pytest.raises(ColumnTypeError) as info:  # float ids; string ids for integer sales ids
            so.run_nightly(sales, h=H, models=["naive"], X_future=future)
        assert info.value.table == "X_future" and info.value.column == "unique_id"
    with pytest.raises(ParameterError, match="allow_negative"):
        so.run_nightly(hist, h=H, models=["naive"], X_future=fut, allow_negative=True)


def test_plan_with_x_future_is_the_same_for_any_partitioning_and_equals_run_nightly(data, tmp_path):
    hist, fut = data
    bad, _ = _bad_future(fut)
    whole = _quiet(so.run_nightly, hist, h=H, models=MODELS, X_future=bad)
    runs = [_quiet(so.plan, hist, h=H, models=MODELS, X_future=bad, n_partitions=k) for k in (1, 3, 7)]
    pq.write_table(hist, tmp_path / "s.parquet")
    pq.write_table(bad, tmp_path / "x.parquet")
    cfg = {"sales": str(tmp_path / "s.parquet"), "x_future": str(tmp_path / "x.parquet"), "h": H,
           "models": MODELS, "n_partitions": 5}
    runs.append(_quiet(so.plan, config=cfg))
    for res in runs:
        for name in ("forecast", "policy", "quarantine"):
            assert getattr(res, name).equals(getattr(runs[0], name)), name
        for key in ("series", "series_quarantined", "drivers", "demand_classes", "data_quality"):
            assert res.summary[key] == runs[0].summary[key], key
    assert runs[0].forecast.equals(whole.forecast.sort_by(KEYS))
    assert json.loads(json.dumps(whole.summary["drivers"])) == runs[0].summary["drivers"]
    assert {r["unique_id"] for r in runs[2].quarantine.to_pylist()} == {"s0003", "s0005", "s0008", "nope"}


def test_summary_class_counts_and_findings_equal_classify_demand_and_check_data():
    sales = so.datasets.synthetic_retail(40, 400, seed=2).select(["unique_id", "ds", "y", "in_stock"])
    y = sales["y"].to_numpy().copy()
    y[400 * 3 + 50] = 900.0  # an outlier (kept: a warning, no quarantine)
    y[400 * 6 + 20] = -2.0  # a return: quarantined, and an error finding
    keep = np.ones(sales.num_rows, bool)
    keep[400 * 9 + 300:400 * 10] = False  # a series that stops 100 days early: stale
    sales = sales.set_column(2, "y", pa.array(y)).filter(pa.array(keep))
    res = _quiet(so.run_nightly, sales, h=H, models=["naive"], censored="in_stock")
    clean, _ = so.quarantine(sales)
    cls = classify_demand(clean, censored="in_stock")
    want = {c: int(pc.sum(pc.equal(cls["demand_class"], c)).as_py()) for c in
            ("smooth", "erratic", "intermittent", "lumpy")}
    want["new"] = int(pc.sum(cls["new"]).as_py())
    want["dead"] = int(pc.sum(cls["dead"]).as_py())
    assert res.summary["demand_classes"] == want and sum(want[c] for c in list(want)[:4]) == 39
    rep = check_data(sales)
    assert res.summary["data_quality"] == {r["check"]: {"severity": r["severity"], "series": r["series"],
                                                        "count": r["count"]} for r in rep.summary.to_pylist()}
    assert {"negative_quantity", "outlier", "stale"} <= set(res.summary["data_quality"])
    off = _quiet(so.run_nightly, sales, h=H, models=["naive"], censored="in_stock", quality=False).summary
    assert "data_quality" not in off and off["demand_classes"] == want
    # partitions: the stale check measures from the whole input's last date, so counts add up exactly
    parts = _quiet(so.plan, sales, h=H, models=["naive"], censored="in_stock", n_partitions=6)
    assert parts.summary["data_quality"] == res.summary["data_quality"]
    assert parts.summary["demand_classes"] == res.summary["demand_classes"]


def test_cli_plan_and_forecast_take_x_future(data, tmp_path):
    hist, fut = data
    pq.write_table(hist, tmp_path / "sales.parquet")
    pq.write_table(fut, tmp_path / "xf.parquet")
    sales = str(tmp_path / "sales.parquet")
    out = CliRunner().invoke(main, ["plan", sales, "--x-future", str(tmp_path / "xf.parquet"),
                                    "--horizon", str(H), "--model", "naive", "--out", str(tmp_path / "run")])
    assert out.exit_code == 0, out.output
    assert "drivers: promo uplift x" in out.output and "demand classes: " in out.output
    assert "data quality: " in out.output
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert set(run["summary"]["drivers"]) == {"promo", "price"}
    assert run["inputs"]["x_future"]["rows"] == fut.num_rows
    pytest.importorskip("matplotlib")
    page = so.report(tmp_path / "run", top=0).read_text()  # stockopt report shows them in its run summary
    assert "demand_classes › smooth" in page and "drivers › promo › effect" in page and "data_quality" in page
    want = _quiet(so.forecast, hist, H, models=["naive"], level=[80, 95], X_future=fut).sort_by(KEYS)
    got = pq.read_table(tmp_path / "run" / "forecast.parquet")
    assert got.select(want.column_names).equals(want)
    out = CliRunner().invoke(main, ["forecast", str(tmp_path / "sales.parquet"), "--x-future",
                                    str(tmp_path / "xf.parquet"), "--horizon", str(H), "--model", "naive", "--out",
                                    str(tmp_path / "fc.parquet")])
    assert out.exit_code == 0, out.output
    want = _quiet(so.forecast, hist, H, models=["naive"], X_future=fut)
    assert pq.read_table(tmp_path / "fc.parquet").equals(want)
    bad, _ = _bad_future(fut)
    pq.write_table(bad, tmp_path / "bad.parquet")
    out = CliRunner().invoke(main, ["plan", sales, "--x-future", str(tmp_path / "bad.parquet"), "--horizon", str(H),
                                    "--model", "naive", "--out", str(tmp_path / "run2"), "--quiet"])
    assert out.exit_code == 3  # planned, some series quarantined
    q = pq.read_table(tmp_path / "run2" / "quarantine.parquet")
    assert set(q["table"].to_pylist()) == {"X_future"} and q.num_rows == 4


def test_check_data_reads_grouped_series_in_any_order_of_the_ids():
    """A table grouped by series but not in id order (an id sorting first in the middle) is checked as
    the same rows sorted by id (before: a negative run length stopped check_data, and the nightly run)."""
    sales = so.datasets.synthetic_retail(6, 120, seed=3).select(["unique_id", "ds", "y"])
    ids = np.asarray(sales["unique_id"].to_pylist(), dtype=object)
    ids[ids == "item_000003"] = "a<first>"
    y = sales["y"].to_numpy().copy()
    y[120 * 4 + 7] = -1.0
    y[120 * 3 + 50] = 5000.0
    t = sales.set_column(0, "unique_id", pa.array(ids.tolist())).set_column(2, "y", pa.array(y))
    got = check_data(t)
    want = check_data(t.sort_by([("unique_id", "ascending"), ("ds", "ascending")]))
    cols = ["unique_id", "check", "first_date", "count", "severity"]
    assert got.findings.select(cols).equals(want.findings.select(cols))
    assert {"negative_quantity", "outlier"} <= set(got.findings["check"].to_pylist())
    outliers = got.findings.filter(pc.equal(got.findings["check"], "outlier"))
    assert outliers["unique_id"].to_pylist() == ["a<first>"]


def test_first_last_against_a_loop():
    from stockopt.signals._common import first_last

    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = rng.integers(0, 6, rng.integers(1, 8))
        indptr = np.r_[0, np.cumsum(lengths)]
        mask = rng.random(indptr[-1]) < rng.random()
        first, last = first_last(mask, indptr)
        for s in range(lengths.size):
            hit = np.flatnonzero(mask[indptr[s]:indptr[s + 1]])
            assert (first[s], last[s]) == ((hit[0], hit[-1]) if hit.size else (-1, -1))
