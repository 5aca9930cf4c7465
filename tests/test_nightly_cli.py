"""stockopt plan: the plan from the command line, its config file, exit codes and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

import stockopt as so
from stockopt.cli import main


def _sales(bad: bool) -> pa.Table:
    s = so.datasets.synthetic_retail(12, 80, seed=2).select(["unique_id", "ds", "y"])
    if bad:
        y = s["y"].to_numpy().copy()
        y[5] = -1.0
        s = s.set_column(2, "y", pa.array(y))
    return s


def test_plan_command_writes_the_plan_and_exits_by_what_was_planned(tmp_path):
    pq.write_table(_sales(False), tmp_path / "good.parquet")
    pq.write_table(_sales(True), tmp_path / "bad.parquet")
    run = CliRunner()
    r = run.invoke(main, ["plan", str(tmp_path / "good.parquet"), "--out", str(tmp_path / "a"),
                          "--horizon", "14", "--model", "naive", "--partitions", "3", "--quiet"])
    assert r.exit_code == 0, r.output
    want = so.plan(tmp_path / "good.parquet", h=14, models=["naive"], n_partitions=3)
    assert pq.read_table(tmp_path / "a" / "forecast.parquet").replace_schema_metadata(None).equals(
        want.forecast.replace_schema_metadata(None))
    assert json.loads((tmp_path / "a" / "run.json").read_text())["summary"]["partitions"] == 3
    # one series quarantined: planned, exit code 3; the quarantine names it at its row of the input
    r = run.invoke(main, ["plan", str(tmp_path / "bad.parquet"), "--out", str(tmp_path / "b"),
                          "--horizon", "14", "--model", "naive"])
    assert r.exit_code == 3, r.output
    q = pq.read_table(tmp_path / "b" / "quarantine.parquet")
    assert q["first_row"].to_pylist() == [5] and "series_forecast" in r.output


def test_plan_command_reads_a_config_and_reports_errors_in_one_line(tmp_path):
    s = _sales(False)
    pq.write_table(s, tmp_path / "s.parquet")
    (tmp_path / "plan.toml").write_text('sales = "s.parquet"\nout_dir = "out"\nh = 14\nmodels = ["naive"]\n')
    r = CliRunner().invoke(main, ["plan", "--config", str(tmp_path / "plan.toml"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "policy.parquet").exists()
    (tmp_path / "bad.toml").write_text('sales = "s.parquet"\nhorizon = 14\n')
    r = CliRunner().invoke(main, ["plan", "--config", str(tmp_path / "bad.toml")])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.output.strip().count("\n") == 0 and "'horizon'" in r.output
    # every series quarantined: exit code 4
    y = np.full(s.num_rows, -1.0)
    pq.write_table(s.set_column(2, "y", pa.array(y)), tmp_path / "all_bad.parquet")
    r = CliRunner().invoke(main, ["plan", str(tmp_path / "all_bad.parquet"), "--out", str(tmp_path / "c"),
                                  "--horizon", "14", "--model", "naive"])
    assert r.exit_code == 4 and "every series was quarantined" in r.output
