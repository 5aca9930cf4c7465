"""Every finding of issue 11, each as a case asserting its outcome class (docs/limits.md).

Data, forecasting, the nightly run and the command line; the inventory findings are in
``test_fuzz_issue11_inventory.py``.  Each case says what the issue saw before the fix.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import stockopt as so
from stockopt.cli import main
from stockopt.errors import (
    ColumnTypeError,
    DataQualityWarning,
    EmptyInputError,
    FileError,
    FrequencyError,
    NegativeValueError,
    ParameterError,
)
from tests.helpers import real_data

from .outcomes import assert_sane_forecast, assert_sane_policy, expect_error

D0 = dt.date(2024, 1, 1)


def _sales(series: dict[str, list[float]], *, start: dt.date = D0, step: int = 1) -> pa.Table:
    ids, ds, ys = [], [], []
    for sid, vals in series.items():
        ids += [sid] * len(vals)
        ds += [start + dt.timedelta(days=step * i) for i in range(len(vals))]
        ys += vals
    return pa.table({"unique_id": ids, "ds": pa.array(ds, pa.date32()), "y": pa.array(ys, pa.float64())})


def _noisy(n: int, seed: int, mean: float = 5.0) -> list[float]:
    return np.random.default_rng(seed).poisson(mean, n).astype(float).tolist()


# --- silent wrong outputs -----------------------------------------------------------------------

@pytest.mark.parametrize("spike", [1e200, 1.7e308, 1e15 * 1.01])
def test_demand_beyond_1e15_is_refused_by_name_and_quarantined_alone(spike):
    """Before: a 1e200 spike gave AutoETS-hi-80 = inf; 1.7e308 an inf HistoricAverage and a NaN bound."""
    sales = _sales({"a": _noisy(59, 1) + [spike], "b": _noisy(60, 2)})
    exc = expect_error(lambda: so.forecast(sales, 7, freq="D", models=["auto_ets"], level=[80]),
                       ParameterError, "demand beyond 1e15", "'y'", "series 'a'", "row 59")
    assert exc.series == "a" and exc.row == 59
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(sales, h=14, freq="D", models=["naive"])
    assert plan.quarantine.select(["unique_id", "reason"]).to_pylist() == [
        {"unique_id": "a", "reason": "demand beyond 1e15"}]
    assert plan.policy["unique_id"].to_pylist() == ["b"]
    assert_sane_policy(plan.policy)


@pytest.mark.parametrize("models", [["auto_ets"], ["holt"], ["auto"], ["historic_average"], ["ses"]])
def test_demand_at_1e15_gives_finite_nested_bounds(models):
    """At the largest accepted demand every output (points, bounds, quantiles) is finite and ordered."""
    sales = _sales({"a": _noisy(59, 3) + [1e15], "b": [1e15] * 30, "c": _noisy(40, 4)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = so.forecast(sales, 14, freq="D", models=models, level=[80, 95], quantiles=[0.1, 0.9])
    assert_sane_forecast(fc)


def test_constant_series_at_1e15_forecasts_1e15():
    sales = _sales({"a": [1e15] * 20})
    fc = so.forecast(sales, 3, freq="D", models=["historic_average", "naive"], level=[80])
    assert fc["HistoricAverage"].to_pylist() == [1e15] * 3 and fc["Naive"].to_pylist() == [1e15] * 3
    assert_sane_forecast(fc)


def test_daily_and_weekly_series_in_one_table_are_reported_not_regridded():
    """Before: frequency inferred as D, 54 zero days inserted without a word, the weekly series
    forecast at 14.2/day against a true 10/day."""
    daily = _sales({"d": [10.0] * 120})
    weekly = _sales({"w": [70.0] * 17}, start=dt.date(2024, 1, 7), step=7)
    mixed = pa.concat_tables([daily, weekly])
    exc = expect_error(lambda: so.forecast(mixed, 7, models=["historic_average"]), FrequencyError,
                       "series 'w'", "spaced more coarsely", "W-SUN", "periods of D")
    assert exc.row == 120  # the weekly series' first row
    clean, report = so.quarantine(mixed)
    assert report.to_pylist() == [{"unique_id": "w", "first_row": 120,
                                   "reason": "series spaced more coarsely than the frequency D"}]
    assert set(clean["unique_id"].to_pylist()) == {"d"}
    # each frequency on its own: the right forecasts (70 a week, 10 a day)
    assert so.forecast(weekly, 2, models=["historic_average"])["HistoricAverage"].to_pylist() == [70.0, 70.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(mixed, h=14, models=["naive"])
    assert plan.summary["quarantine_reasons"] == {"series spaced more coarsely than the frequency D": 1}
    assert plan.policy["unique_id"].to_pylist() == ["d"]


def test_monthly_and_quarterly_spacing_inside_a_monthly_table():
    months = [dt.date(2020 + k // 12, k % 12 + 1, 1) for k in range(0, 36)]
    t = pa.table({"unique_id": ["m"] * 36 + ["q"] * 12, "ds": pa.array(months + months[::3], pa.date32()),
                  "y": [1.0] * 48})
    expect_error(lambda: so.group_series(t, freq="MS"), FrequencyError, "series 'q'", "every 3 periods of MS")


def test_plan_with_freq_d_on_weekly_data_fails_loudly(tmp_path):
    """Before: `plan --freq D` on weekly data zero-filled 3 M days, exited 0 and cut total safety
    stock by 75 %."""
    weekly = pa.concat_tables([_sales({f"s{i}": _noisy(30, i, 40.0)}, start=dt.date(2024, 1, 7), step=7)
                               for i in range(4)])
    pq.write_table(weekly, tmp_path / "weekly.parquet")
    out = tmp_path / "plan"
    r = CliRunner().invoke(main, ["plan", str(tmp_path / "weekly.parquet"), "--freq", "D", "--out", str(out),
                                  "--horizon", "14"])
    # exit 4: nothing could be planned (the plan command's documented codes: 0, 3 some quarantined, 4, 1 error)
    assert r.exit_code == 4 and "EmptyInputError" in r.output and "every series was quarantined" in r.output
    assert "spaced more coarsely" in r.output and "Traceback" not in r.output
    rep = pq.read_table(out / "quarantine.parquet")
    assert rep.num_rows == 4 and set(rep["reason"].to_pylist()) == {
        "series spaced more coarsely than the frequency D"}
    assert not (out / "policy.parquet").exists()
    r = CliRunner().invoke(main, ["plan", str(tmp_path / "weekly.parquet"), "--out", str(out),
                                  "--horizon", "4"])
    assert r.exit_code == 0, r.output
    assert "W-SUN" in r.output


def test_mostly_filled_series_are_counted_and_warned_about():
    """Zero-filled gaps are counted per series; past half of a series' periods a warning names it."""
    sparse = _sales({"a": [3.0, 1.0, 2.0]}, step=5)  # 3 rows over 11 days: 8 of 11 periods filled
    dense = _sales({"b": _noisy(30, 5)})
    with pytest.warns(DataQualityWarning, match=r"1 series have more than 50% .* first: 'a', 8 of 11"):
        g = so.group_series(pa.concat_tables([sparse, dense]), freq="D")
    assert g.report.gaps_filled.tolist() == [8, 0] and g.report.mostly_filled.tolist() == [0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(pa.concat_tables([sparse, dense]), h=14, freq="D", models=["naive"])
    assert plan.summary["gaps_filled"] == 8 and plan.summary["series_mostly_gap_filled"] == 1


def test_quantiles_rounding_to_one_name_keep_their_own_columns():
    """Before: quantiles=[0.1234561, 0.1234562] returned one column; the other quantile was lost."""
    sales = _sales({"a": _noisy(60, 6)})
    fc = so.forecast(sales, 2, freq="D", models=["naive"], quantiles=[0.1234561, 0.1234562], level=[80.5])
    assert fc.column_names == ["unique_id", "ds", "Naive", "Naive-lo-80.5", "Naive-hi-80.5",
                               "Naive-q12.34561", "Naive-q12.34562"]
    assert_sane_forecast(fc)
    expect_error(lambda: so.forecast(sales, 2, freq="D", models=["naive"], quantiles=[0.5, 0.5]),
                 ParameterError, "'quantiles'", "distinct")
    expect_error(lambda: so.forecast(sales, 2, freq="D", models=["naive"], level=[80, 80.0]), ParameterError,
                 "'level'", "distinct")


def test_season_length_zero_is_refused_everywhere():
    """Before: evaluate(season_length=0) returned all NaN; seasonal_naive with 0 quietly used 7."""
    sales = _sales({"a": _noisy(60, 7)})
    cv = so.cross_validation(sales, 7, freq="D", models=["naive"])
    expect_error(lambda: so.evaluate(cv, metrics=["mase"], season_length=0, train=sales), ParameterError,
                 "evaluate", "'season_length'")
    expect_error(lambda: so.forecast(sales, 2, freq="D", models=["seasonal_naive"], season_length=0),
                 ParameterError, "forecast", "'season_length'")
    expect_error(lambda: so.models.make_model("seasonal_naive", season_length=0), ParameterError,
                 "'season_length'")


def test_policy_table_keeps_its_columns_when_every_item_is_quarantined(tmp_path):
    """Before: policy.parquet was written with no columns at all."""
    sales = _sales({"a": _noisy(60, 8), "b": _noisy(60, 9)})
    items = pa.table({"unique_id": ["a", "b"], "lead_time": [-1.0, float("nan")]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(sales, items, 14, freq="D", models=["naive"], out=tmp_path)
    written = pq.read_table(tmp_path / "policy.parquet")
    from stockopt.inventory._schema import policy_schema

    assert written.num_rows == 0 and written.schema.equals(policy_schema(pa.string()))
    assert plan.summary["policies"] == 0 and plan.summary["items_quarantined"] == 2
    assert plan.summary["policy_status"] == {}


def test_policy_schema_is_what_inventory_policy_returns():
    from stockopt.inventory._schema import policy_schema

    demand = pa.table({"sku": ["a"], "demand_mean": [3.0], "demand_std": [1.0]})
    pol = so.inventory_policy(demand, pa.table({"sku": ["a"], "lead_time": [5.0]}), id_col="sku")
    assert pol.schema.equals(policy_schema(pa.string(), "sku"))


# --- unclear errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("windows", [0, -1])
def test_conformal_windows_below_one_is_a_named_error(windows):
    """Before: an IndexError or a numpy error."""
    sales = _sales({"a": _noisy(60, 10)})
    for fn in (so.forecast, so.cross_validation):
        expect_error(lambda: fn(sales, 3, freq="D", models=["naive"], level=[80], conformal_windows=windows),
                     ParameterError, "'conformal_windows'", "an integer >= 1")


@pytest.mark.parametrize("h", [0, 2.5, -3])
def test_bad_horizons_name_h(h):
    """Before: cross_validation(h=0) blamed step_size and h=2.5 gave a numpy casting error."""
    sales = _sales({"a": _noisy(60, 11)})
    for fn in (so.forecast, so.cross_validation, so.simulate):
        expect_error(lambda: fn(sales, h, freq="D"), ParameterError, "'h'", "an integer >= 1")


def test_season_longer_than_the_history():
    """Before: evaluate with a season longer than the history gave an IndexError."""
    sales = _sales({"a": _noisy(60, 12), "b": _noisy(20, 13)})
    cv = so.cross_validation(sales, 5, freq="D", models=["naive"])
    expect_error(lambda: so.evaluate(cv, metrics=["mase"], season_length=100, train=sales), ParameterError,
                 "'season_length'", "shorter than the training history")
    with pytest.warns(DataQualityWarning, match="1 series have a training history of at most"):
        scores = so.evaluate(cv, metrics=["mase", "mae"], season_length=30, train=sales)
    mase = {r["unique_id"]: r["Naive"] for r in scores.to_pylist() if r["metric"] == "mase"}
    assert np.isnan(mase["b"]) and np.isfinite(mase["a"])
    # the scale of 'a' by hand: mean |y_t - y_{t-30}| over its 55 training periods
    y = np.array(_noisy(60, 12))[:55]
    mae = np.mean(np.abs(np.array(cv.filter(pc.equal(cv["unique_id"], "a"))["y"]) - np.array(
        cv.filter(pc.equal(cv["unique_id"], "a"))["Naive"])))
    assert mase["a"] == pytest.approx(mae / np.mean(np.abs(y[30:] - y[:-30])))


def _corrupt_files(tmp_path):
    sales = so.datasets.synthetic_retail(3, 60, seed=1)
    pq.write_table(sales, tmp_path / "ok.parquet")
    raw = (tmp_path / "ok.parquet").read_bytes()
    (tmp_path / "truncated.parquet").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "garbage.parquet").write_bytes(b"not parquet at all" * 20)
    flipped = bytearray(raw)
    flipped[len(raw) // 3: len(raw) // 3 + 64] = b"\xff" * 64  # a damaged page, footer intact
    (tmp_path / "damaged.parquet").write_bytes(bytes(flipped))
    return sales


@pytest.mark.parametrize("name", ["truncated", "garbage"])
def test_corrupt_parquet_is_a_file_error_naming_the_file(tmp_path, name):
    """Before: raw pyarrow errors."""
    _corrupt_files(tmp_path)
    path = str(tmp_path / f"{name}.parquet")
    for fn in (lambda: so.forecast(path, 3, models=["naive"]), lambda: so.group_series(path),
               lambda: so.run_nightly(path, h=14, models=["naive"]),
               lambda: so.inventory_policy(path, pa.table({"unique_id": ["a"], "lead_time": [1.0]}))):
        expect_error(fn, FileError, f"{name}.parquet", "cannot read the Parquet file")


def test_damaged_page_gives_a_named_error_or_validated_values(tmp_path):
    _corrupt_files(tmp_path)
    try:
        g = so.group_series(str(tmp_path / "damaged.parquet"), freq="D")
    except so.errors.StockoptError as exc:
        assert isinstance(exc, so.errors.ValidationError)
    else:  # the damage hit bytes that still decode: the values passed every check
        assert np.isfinite(g.values).all() and (g.values >= 0).all()


def test_string_in_a_numeric_column_of_a_parquet_dataset(tmp_path):
    """Before: ArrowInvalid "Failed to parse string: 'n/a' as a scalar of type double"."""
    sales = so.datasets.synthetic_retail(4, 60, seed=1).select(["unique_id", "ds", "y"])
    (tmp_path / "ds").mkdir()
    pq.write_table(sales.slice(0, 120), tmp_path / "ds" / "part-0.parquet")
    bad = sales.slice(120, 120).set_column(2, "y", pa.array(["n/a"] * 120))
    pq.write_table(bad, tmp_path / "ds" / "part-1.parquet")
    for fn in (lambda: so.forecast(str(tmp_path / "ds"), 3, models=["naive"]),
               lambda: so.run_nightly(str(tmp_path / "ds"), h=14, models=["naive"])):
        exc = expect_error(fn, ColumnTypeError, "column 'y'", "part-1.parquet", "string", "double")
        assert exc.column == "y"


def test_unwritable_output_is_refused_before_any_work(tmp_path, monkeypatch):
    """Before: an output path that is a file, or a read-only folder, gave raw OS errors, the last one
    only after all the computing."""
    import stockopt.forecasting

    def no_forecast(*a, **k):
        raise AssertionError("the forecast ran before the output path was checked")

    monkeypatch.setattr(stockopt.forecasting, "forecast_grouped", no_forecast)
    sales = _sales({"a": _noisy(60, 14)})
    (tmp_path / "afile").write_text("x")
    expect_error(lambda: so.run_nightly(sales, h=14, out=tmp_path / "afile"), FileError, "'out'",
                 "the output folder is a file", "afile")
    expect_error(lambda: so.run_nightly(sales, h=14, out=tmp_path / "afile" / "sub"), FileError, "'out'",
                 "cannot write to the output folder")
    ro = tmp_path / "ro"
    ro.mkdir()
    locked = _lock(ro)
    try:
        expect_error(lambda: so.run_nightly(sales, h=14, out=ro), FileError, "'out'",
                     "cannot write to the output folder", str(ro))
    finally:
        _unlock(ro, locked)
    pq.write_table(sales, tmp_path / "s.parquet")
    r = CliRunner().invoke(main, ["forecast", str(tmp_path / "s.parquet"), "--horizon", "3", "--out",
                                  str(tmp_path / "afile" / "f.parquet")])
    assert r.exit_code == 1 and "FileError" in r.output and "'--out'" in r.output


def _lock(path) -> str:
    """Make a folder unwritable: immutable for root (``chattr +i``), read-only mode otherwise."""
    if os.geteuid() == 0:
        import shutil
        import subprocess

        if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(path)]).returncode == 0:
            return "chattr"
        pytest.skip("running as root without chattr: no way to make a folder unwritable")
    path.chmod(0o500)
    return "chmod"


def _unlock(path, how: str) -> None:
    if how == "chattr":
        import subprocess

        subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.chmod(0o700)


def test_negative_demand_is_a_real_option_of_forecast_nightly_and_cli(tmp_path):
    """Before: the message suggested allow_negative=True, which forecast and the CLI did not accept."""
    sales = _sales({"a": [5.0, -2.0, 3.0, 4.0, -1.0, 6.0] * 5, "b": _noisy(30, 15)})
    exc = expect_error(lambda: so.forecast(sales, 3, freq="D", models=["naive"]), NegativeValueError,
                       "allow_negative=True", "series 'a'", "row 1")
    assert exc.row == 1
    fc = so.forecast(sales, 3, freq="D", models=["historic_average"], allow_negative=True)
    net = np.maximum(np.array([5.0, -2.0, 3.0, 4.0, -1.0, 6.0] * 5), 0.0)  # net demand clipped at 0
    assert fc["HistoricAverage"].to_pylist()[:3] == pytest.approx([net.mean()] * 3)
    g = so.data.as_grouped(sales, freq="D", allow_negative=True)
    assert g.report.returns_clipped.tolist() == [10, 0] and g.report.total_returns_clipped == 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(sales, h=14, freq="D", models=["naive"], allow_negative=True)
        refused = so.run_nightly(sales, h=14, freq="D", models=["naive"])
    assert plan.summary["returns"] == {"series_with_returns": 1, "periods_clipped": 10}
    assert plan.policy.num_rows == 2 and plan.quarantine.num_rows == 0
    assert_sane_policy(plan.policy)
    assert refused.quarantine["reason"].to_pylist() == ["negative demand"]
    pq.write_table(sales, tmp_path / "s.parquet")
    r = CliRunner().invoke(main, ["forecast", str(tmp_path / "s.parquet"), "--horizon", "3",
                                  "--model", "naive", "--allow-negative", "--out", str(tmp_path / "f.parquet")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["plan", str(tmp_path / "s.parquet"), "--horizon", "14", "--allow-negative",
                                  "--out", str(tmp_path / "plan")])
    assert r.exit_code == 0, r.output
    assert pq.read_table(tmp_path / "plan" / "policy.parquet").num_rows == 2


@pytest.mark.slow
def test_oil_spare_parts_with_returns_plan_end_to_end(real_oil):
    """23 % of the oil spare-parts series carry returns; with allow_negative they are all planned."""
    sales = real_oil.select(["unique_id", "ds", "y"])
    neg_ids = set(pc.unique(sales.filter(pc.less(sales["y"], 0))["unique_id"]).to_pylist())
    assert len(neg_ids) / len(set(sales["unique_id"].to_pylist())) > 0.2
    per_item = real_oil.group_by("unique_id").aggregate([("delivery_time_days", "max"),
                                                         ("unit_price", "max")])
    items = pa.table({"unique_id": per_item["unique_id"],
                      "lead_time": pc.cast(per_item["delivery_time_days_max"], pa.float64()),
                      "unit_cost": per_item["unit_price_max"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(sales, items, 12, freq="MS", models=["croston_sba"], allow_negative=True)
    s = plan.summary
    assert s["series_quarantined"] == 0 and s["returns"]["series_with_returns"] == len(neg_ids)
    assert all(r.startswith(("unit_cost", "lead time + review period")) for r in s["quarantine_reasons"])
    planned = set(plan.policy["unique_id"].to_pylist())
    items_rep = plan.quarantine.filter(pc.equal(plan.quarantine["table"], "items"))
    no_policy = set(items_rep["unique_id"].to_pylist())
    assert neg_ids <= planned | no_policy  # a series with returns lacks a policy only for its items row
    assert len(planned & neg_ids) > 0.7 * len(neg_ids)  # 1228 of 1631 (others: no price, long lead times)
    assert plan.policy.num_rows + s["items_quarantined"] == s["series_forecast"]
    assert_sane_policy(plan.policy)


@pytest.fixture
def real_oil():
    return pq.read_table(real_data("oil_spare_parts", "oil_monthly.parquet"))


# --- findings of this work (beyond the issue) -------------------------------------------------------

def test_horizon_shorter_than_lead_time_is_extended_and_item_faults_refused_before_forecasting(monkeypatch):
    """Before: the whole run died in the inventory stage, after forecasting; then (issue 11) a too-short
    horizon was refused or its items quarantined.  Now (issue 12) the horizon is extended to what the
    items need, and only a whole-table fault of the items stops the run, before any forecast."""
    import stockopt.forecasting

    sales = _sales({"a": _noisy(60, 16), "b": _noisy(60, 17)})

    def no_forecast(*a, **k):
        raise AssertionError("forecast ran")

    with monkeypatch.context() as m:
        m.setattr(stockopt.forecasting, "forecast_grouped", no_forecast)
        expect_error(lambda: so.run_nightly(sales, pa.table({"unique_id": ["a", "b"]}), h=28, freq="D"),
                     so.errors.MissingColumnError, "lead_time")
        expect_error(lambda: so.run_nightly(sales, h=3, freq="D", lead_time=400.0), ParameterError,
                     "'lead_time'", "max_horizon_days")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(sales, h=3, freq="D", models=["naive"])
        assert plan.summary["horizon"] == 8 and plan.summary["horizon_requested"] == 3  # 7 + 1 days
        items = pa.table({"unique_id": ["a", "b"], "lead_time": [3.0, 30.0]})
        plan = so.run_nightly(sales, items, 14, freq="D", models=["naive"])
    assert plan.policy["unique_id"].to_pylist() == ["a", "b"] and plan.quarantine.num_rows == 0
    assert plan.summary["horizon"] == 31 and "'b'" in plan.summary["horizon_reason"]


def test_one_row_forecasts_still_plan():
    """h=1: a forecast with one row per series has no spacing to read its period from."""
    sales = _sales({"a": _noisy(60, 18)}, start=dt.date(2024, 1, 7), step=7)
    items = pa.table({"unique_id": ["a"], "lead_time": [3.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(sales, items, 1, models=["naive"])
    assert plan.policy.num_rows == 1
    assert_sane_policy(plan.policy)


def test_cli_errors_are_messages_not_tracebacks(tmp_path):
    r = CliRunner().invoke(main, ["forecast", str(tmp_path), "--horizon", "3",
                                  "--out", str(tmp_path / "f.parquet")])
    assert r.exit_code == 1 and "Error:" in r.output and "Traceback" not in r.output


def test_every_series_quarantined_is_one_clear_error(tmp_path):
    sales = _sales({"a": [-1.0] * 10, "b": [float("nan")] * 10})
    exc = expect_error(lambda: so.run_nightly(sales, h=14, freq="D", out=tmp_path), EmptyInputError,
                       "every series was quarantined", "quarantine.parquet", "'negative demand': 1")
    assert exc.table == "sales"
    assert pq.read_table(tmp_path / "quarantine.parquet").num_rows == 2
