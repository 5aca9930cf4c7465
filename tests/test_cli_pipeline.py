"""The command line and the nightly pipeline (quarantine, outputs, summary)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

import stockopt as so
from stockopt.cli import main


def test_help_and_version():
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0 and all(cmd in r.output for cmd in ("demo", "forecast", "plan"))
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0 and so.__version__ in r.output


def test_demo_writes_outputs(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--n-series", "30", "--n-days", "120",
                                      "--horizon", "14"])
    assert r.exit_code == 0, r.output
    fc = pq.read_table(tmp_path / "forecast.parquet")
    assert fc.num_rows == 30 * 14
    assert (tmp_path / "summary.json").exists() and "series_forecast" in r.output


def test_forecast_command(tmp_path):
    sales = so.datasets.synthetic_retail(10, 60, seed=1)
    pq.write_table(sales, tmp_path / "s.parquet")
    r = CliRunner().invoke(main, ["forecast", str(tmp_path / "s.parquet"), "-h", "7", "--model", "naive",
                                  "--model", "croston_sba", "--level", "80", "--out", str(tmp_path / "f.parquet")])
    assert r.exit_code == 0, r.output
    fc = pq.read_table(tmp_path / "f.parquet")
    want = so.forecast(sales, h=7, models=["naive", "croston_sba"], level=[80])
    assert fc.equals(want)


def test_quarantine_names_each_bad_series_once_and_keeps_the_rest():
    t = pa.table({"unique_id": ["a", "a", "b", "b", "c", "c", "d", "d", "e", None],
                  "ds": pa.array([0, 1, 0, 1, 0, 0, 0, None, 0, 3], type=pa.date32()),
                  "y": [1.0, 2.0, -1.0, math.nan, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0]})
    clean, rep = so.quarantine(t, "D")
    assert sorted(set(clean["unique_id"].to_pylist())) == ["a", "e"]
    got = {r["unique_id"]: (r["reason"], r["first_row"]) for r in rep.to_pylist()}
    assert got["b"] == ("null or NaN demand", 3) or got["b"] == ("negative demand", 2)
    assert got["c"] == ("duplicate (series, time) pair", 5)
    assert got["d"] == ("null time stamp", 7)
    assert None in got and got[None][1] == 9
    assert rep.num_rows == 4


def test_nightly_run_goes_on_past_bad_series(tmp_path):
    sales = so.datasets.synthetic_retail(8, 60, seed=3)
    y = sales["y"].to_numpy().copy()
    y[65] = -5.0  # a return booked as negative sales in the second series
    sales = sales.set_column(2, "y", pa.array(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = so.run_nightly(sales, out=tmp_path, h=14, models=["naive"])
    assert summary["series_quarantined"] == 1 and summary["series_forecast"] == 7
    rep = pq.read_table(tmp_path / "quarantine.parquet").to_pylist()
    assert rep == [{"unique_id": "item_000001", "reason": "negative demand", "first_row": 65}]
    fc = pq.read_table(tmp_path / "forecast.parquet")
    assert "item_000001" not in set(fc["unique_id"].to_pylist())
    assert np.isfinite(fc["Naive"].to_numpy()).all()


def test_warmup_compiles_the_named_models():
    r = CliRunner().invoke(main, ["warmup", "--model", "naive", "--model", "croston_sba"])
    assert r.exit_code == 0, r.output
    assert "naive" in r.output and "croston_sba" in r.output and "compiled and cached" in r.output
    r = CliRunner().invoke(main, ["warmup", "--model", "prophet"])
    assert r.exit_code != 0 and "unknown model name" in str(r.exception)


def test_nightly_summary_counts_fallbacks_and_selected_models():
    sales = so.datasets.synthetic_retail(6, 40, seed=1).select(["unique_id", "ds", "y"])
    short = pa.table({"unique_id": ["zz_short"] * 3, "ds": pa.array([0, 1, 2], pa.date32()), "y": [1.0, 0.0, 2.0]})
    sales = pa.concat_tables([sales, short.cast(sales.schema)])
    summary = so.run_nightly(sales, h=14, models=[so.models.SeasonalNaive(season_length=7), "auto"])
    assert summary["models"]["SeasonalNaive"]["fallback_series"] == 1
    selected = summary["models"]["AutoModel"]["selected"]
    assert sum(selected.values()) == 7
