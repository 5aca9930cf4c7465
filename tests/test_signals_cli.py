"""``stockopt check``: the report files, the cleaned table and the exit status."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from stockopt.cli import main


def test_check_writes_findings_summary_and_cleaned_table(tmp_path):
    days = [dt.date(2024, 1, d) for d in (1, 2, 2, 4, 5, 6, 7, 8)]
    sales = pa.table({"unique_id": ["a"] * 8, "ds": days, "y": [3.0, 4.0, 4.0, 5.0, 3.0, 4.0, 5.0, 4.0]})
    items = pa.table({"unique_id": ["a", "b"], "lead_time": [3.0, 2.0]})
    pq.write_table(sales, tmp_path / "sales.parquet")
    pq.write_table(items, tmp_path / "items.parquet")
    args = ["check", str(tmp_path / "sales.parquet"), "--items", str(tmp_path / "items.parquet"),
            "--out", str(tmp_path / "report.parquet"), "--freq", "D"]
    res = CliRunner().invoke(main, args + ["--clean", "gaps", "--cleaned-out",
                                           str(tmp_path / "clean.parquet")])
    assert res.exit_code == 0, res.output
    found = pq.read_table(tmp_path / "report.parquet").select(["unique_id", "check", "count"]).to_pylist()
    assert found == [{"unique_id": "a", "check": "duplicate", "count": 1},
                     {"unique_id": "a", "check": "gap", "count": 1},
                     {"unique_id": "b", "check": "missing_in_sales", "count": 1}]
    summary = pq.read_table(tmp_path / "report.summary.parquet")
    assert summary["check"].to_pylist() == ["duplicate", "gap", "missing_in_sales"]
    cleaned = pq.read_table(tmp_path / "clean.parquet")
    assert cleaned.num_rows == 9 and cleaned["ds"].to_pylist()[3] == dt.date(2024, 1, 3)
    assert pq.read_table(tmp_path / "clean.changes.parquet")["action"].to_pylist() == ["fill_gap"]
    assert "duplicate" in res.output
    res = CliRunner().invoke(main, args + ["--fail-on-error"])
    assert res.exit_code == 2
    res = CliRunner().invoke(main, args + ["--clean", "gaps"])
    assert res.exit_code != 0 and "--cleaned-out" in res.output
    # the caller's column names, in every table and in the report
    pq.write_table(sales.rename_columns(["sku", "day", "qty"]), tmp_path / "sales2.parquet")
    pq.write_table(items.rename_columns(["sku", "lead_time"]), tmp_path / "items2.parquet")
    res = CliRunner().invoke(main, ["check", str(tmp_path / "sales2.parquet"), "--items",
                                    str(tmp_path / "items2.parquet"), "--out", str(tmp_path / "r2.parquet"),
                                    "--freq", "D", "--id-col", "sku", "--time-col", "day",
                                    "--target-col", "qty"])
    assert res.exit_code == 0, res.output
    assert pq.read_table(tmp_path / "r2.parquet").select(["sku", "check", "count"]).to_pylist() == [
        {"sku": r["unique_id"], "check": r["check"], "count": r["count"]} for r in found]


@pytest.mark.slow
def test_nightly_plan_with_censored_sales(tmp_path):
    import numpy as np

    import stockopt as so

    sales = so.datasets.synthetic_retail(30, 200, seed=3, stockout_share=0.5, stockout_days=(7, 21))
    pq.write_table(sales, tmp_path / "sales.parquet")
    res = CliRunner().invoke(main, ["plan", str(tmp_path / "sales.parquet"), "--out", str(tmp_path / "plan"),
                                    "--horizon", "14", "--freq", "D", "--censored", "in_stock"])
    assert res.exit_code == 0, res.output
    summary = so.run_nightly(sales, h=14, freq="D", censored="in_stock").summary
    plain = so.run_nightly(sales, h=14, freq="D").summary
    assert summary["censored"]["series_censored"] > 0 and "censored" not in plain
    fc = pq.read_table(tmp_path / "plan" / "forecast.parquet")
    want = so.forecast(sales, h=14, freq="D", models=["auto"], level=[80, 95], censored="in_stock")
    np.testing.assert_allclose(fc["AutoModel"].to_numpy(), want["AutoModel"].to_numpy())
    sold = so.forecast(sales, h=14, freq="D", models=["auto"])
    assert fc["AutoModel"].to_numpy().sum() > 1.02 * sold["AutoModel"].to_numpy().sum()  # demand, not sales
