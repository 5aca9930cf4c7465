"""The command line and the nightly pipeline (quarantine, outputs, summary)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import stockopt as so
from stockopt.cli import main


def test_help_and_version():
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0 and all(cmd in r.output for cmd in ("demo", "forecast", "plan"))
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0 and so.__version__ in r.output


@pytest.mark.slow
def test_demo_writes_outputs(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--n-series", "30", "--n-days", "120",
                                      "--horizon", "14"])
    assert r.exit_code == 0, r.output
    fc = pq.read_table(tmp_path / "forecast.parquet")
    assert fc.num_rows == 30 * 14
    assert (tmp_path / "summary.json").exists() and "series_forecast" in r.output
    # the whole plan: tonight's stock and open orders next to the outputs, so the report projects from them
    sup = so.datasets.synthetic_supply(so.datasets.synthetic_retail(30, 120, seed=0), seed=0, max_lead_time=4)
    assert pq.read_table(tmp_path / "stock.parquet").equals(sup.stock)
    assert pq.read_table(tmp_path / "open_orders.parquet").equals(sup.open_orders)
    page = tmp_path / "report.html"
    html = page.read_text()
    assert "Projected stock of the top items" in html and "data:image/png;base64," in html
    assert "Start: tonight&#x27;s net stock (on hand - backorders - reserved, from the stock table)" in html
    lines = r.output.splitlines()
    assert lines[-1].startswith(f"report: {page}")
    folder, files = lines[-2].split(": ", 1)
    assert folder == f"outputs in {tmp_path.resolve()}/"
    assert sorted(files.split(", ")) == sorted(f.name for f in tmp_path.iterdir())
    # the compile note: the demo's kernels are in numba's cache now; an empty cache folder has none
    from stockopt.cli import _kernels_cold

    assert not _kernels_cold()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path.parent / "empty_numba_cache")}
    code = "from stockopt.cli import _kernels_cold; print(_kernels_cold())"
    cold = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert cold.stdout.strip() == "True"


def test_demo_says_why_there_is_no_report_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--n-series", "6", "--n-days", "60",
                                      "--horizon", "14"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == (f"report: not written, matplotlib is not installed "
                                         f"(pip install \"stockopt[plot]\", then stockopt report {tmp_path})")
    assert not (tmp_path / "report.html").exists() and (tmp_path / "kpis.parquet").exists()


def test_forecast_command(tmp_path):
    sales = so.datasets.synthetic_retail(10, 60, seed=1)
    pq.write_table(sales, tmp_path / "s.parquet")
    r = CliRunner().invoke(main, ["forecast", str(tmp_path / "s.parquet"), "--horizon", "7",
                                  "--model", "naive", "--model", "croston_sba", "--level", "80",
                                  "--out", str(tmp_path / "f.parquet")])
    assert r.exit_code == 0, r.output
    fc = pq.read_table(tmp_path / "f.parquet")
    want = so.forecast(sales, h=7, models=["naive", "croston_sba"], level=[80])
    assert fc.equals(want)


def test_quarantine_names_each_bad_series_once_and_keeps_the_rest():
    t = pa.table({"unique_id": ["a", "a", "b", "b", "c", "c", "d", "d", "e", None],
                  "ds": pa.array([0, 1, 0, 1, 0, 0, 0, None, 0, 3], type=pa.date32()),
                  "y": [1.0, 2.0, -1.0, math.nan, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0]})
    clean, rep = so.quarantine(t, freq="D")
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
        summary = so.run_nightly(sales, out=tmp_path, h=14, models=["naive"]).summary
    assert summary["series_quarantined"] == 1 and summary["series_forecast"] == 7
    rep = pq.read_table(tmp_path / "quarantine.parquet").to_pylist()
    assert rep == [{"unique_id": "item_000001", "reason": "negative demand", "first_row": 65, "table": "sales"}]
    fc = pq.read_table(tmp_path / "forecast.parquet")
    assert "item_000001" not in set(fc["unique_id"].to_pylist())
    assert np.isfinite(fc["Naive"].to_numpy()).all()


def test_warmup_compiles_the_named_models():
    r = CliRunner().invoke(main, ["warmup", "--model", "naive", "--model", "croston_sba"])
    assert r.exit_code == 0, r.output
    assert "naive" in r.output and "croston_sba" in r.output and "compiled and cached" in r.output
    r = CliRunner().invoke(main, ["warmup", "--model", "prophet"])
    assert r.exit_code == 1 and "unknown model name" in r.output  # the message, not a traceback


def test_nightly_summary_counts_fallbacks_and_selected_models():
    sales = so.datasets.synthetic_retail(6, 40, seed=1).select(["unique_id", "ds", "y"])
    short = pa.table({"unique_id": ["zz_short"] * 3, "ds": pa.array([0, 1, 2], pa.date32()), "y": [1.0, 0.0, 2.0]})
    sales = pa.concat_tables([sales, short.cast(sales.schema)])
    models = [so.models.SeasonalNaive(season_length=7), "auto"]
    summary = so.run_nightly(sales, h=14, models=models).summary
    assert summary["models"]["SeasonalNaive"]["fallback_series"] == 1
    selected = summary["models"]["AutoModel"]["selected"]
    assert sum(selected.values()) == 7


def _items_for(sales, **cols):
    ids = sorted(set(sales["unique_id"].to_pylist()))
    base = {"unique_id": ids, "lead_time": [5.0] * len(ids)}
    base.update({k: v(len(ids)) if callable(v) else v for k, v in cols.items()})
    return pa.table(base)


def test_nightly_run_quarantines_bad_item_rows_and_plans_the_rest(tmp_path):
    sales = so.datasets.synthetic_retail(8, 90, seed=4).select(["unique_id", "ds", "y"])
    items = _items_for(sales, service_level=[0.95, 1.5, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95],
                       pack_size=[1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    items = items.slice(0, 7)  # the last series has no items row
    extra = pa.table({"unique_id": ["item_000005"], "lead_time": [3.0], "service_level": [0.9], "pack_size": [1.0]})
    items = pa.concat_tables([items, extra])  # item_000005 twice
    summary = so.run_nightly(sales, items=items, out=tmp_path, h=14, models=["naive"]).summary
    assert summary["series_forecast"] == 8 and summary["items_quarantined"] == 4
    rep = {r["unique_id"]: r for r in pq.read_table(tmp_path / "quarantine.parquet").to_pylist()}
    assert rep["item_000001"]["reason"].startswith("service_level") and rep["item_000001"]["first_row"] == 1
    assert rep["item_000003"]["reason"].startswith("pack_size") and rep["item_000003"]["first_row"] == 3
    assert rep["item_000005"]["reason"] == "duplicate item row" and rep["item_000005"]["first_row"] == 5
    assert rep["item_000007"]["reason"] == "no items row for this series" and rep["item_000007"]["first_row"] == -1
    assert {r["table"] for r in rep.values()} == {"items"}
    pol = pq.read_table(tmp_path / "policy.parquet")
    assert sorted(pol["unique_id"].to_pylist()) == ["item_000000", "item_000002", "item_000004", "item_000006"]
    # the clean items get exactly the policy inventory_policy gives them on their own
    fc = pq.read_table(tmp_path / "forecast.parquet")
    assert fc.num_rows == 8 * 14
    keep = pa.array(["item_000000", "item_000002", "item_000004", "item_000006"])
    want = so.inventory_policy(fc.filter(pc.is_in(fc["unique_id"], value_set=keep)),
                               items.filter(pc.is_in(items["unique_id"], value_set=keep)), model="Naive")
    assert pol.select(["unique_id", "reorder_point", "order_up_to"]).equals(
        want.select(["unique_id", "reorder_point", "order_up_to"]))


def test_quarantine_items_flags_each_kind_of_bad_row():
    items = pa.table({"unique_id": ["a", "b", "c", "d", "e", "f"],
                      "lead_time": [1.0, None, -2.0, 3.0, 4.0, 5.0],
                      "lead_time_std": [None, 0.0, 0.0, math.inf, 0.0, 0.0],
                      "service_metric": ["cycle", "cycle", "fill_rate", "cycle", "fil", None]})
    clean, rep = so.quarantine_items(items, pa.array(["a", "b", "c", "d", "e", "f"]))
    assert clean["unique_id"].to_pylist() == ["a", "f"]  # null optional fields take their defaults
    got = {r["unique_id"]: (r["reason"].split(":")[0], r["first_row"]) for r in rep.to_pylist()}
    assert got == {"b": ("lead_time", 1), "c": ("lead_time", 2), "d": ("lead_time_std", 3),
                   "e": ("service_metric", 4)}
    # the same rows make inventory_policy refuse the table, naming the first of them
    demand = pa.table({"unique_id": list("abcdef"), "demand_mean": [1.0] * 6, "demand_std": [0.5] * 6})
    with pytest.raises(so.errors.ValidationError, match="lead_time"):
        so.inventory_policy(demand, items)


def test_nightly_run_sizes_continuous_review_items_for_a_daily_review(tmp_path):
    sales = so.datasets.synthetic_retail(6, 120, seed=5).select(["unique_id", "ds", "y"])
    items = _items_for(sales, review_period=[0.0, 0.0, 1.0, 7.0, None, 0.0], order_cost=[50.0] * 6)
    daily = so.run_nightly(sales, items=items, h=14, models=["naive"], out=tmp_path / "daily").summary
    assert daily["continuous_review_as_daily"] == 3
    kept = so.run_nightly(sales, items=items, h=14, models=["naive"], out=tmp_path / "keep",
                          continuous_review="keep").summary
    assert kept["continuous_review_as_daily"] == 0
    p_daily = pq.read_table(tmp_path / "daily" / "policy.parquet").to_pylist()
    p_keep = pq.read_table(tmp_path / "keep" / "policy.parquet").to_pylist()
    n_continuous = 0
    for a, b, rp in zip(p_daily, p_keep, [0.0, 0.0, 1.0, 7.0, None, 0.0]):
        if rp == 0.0 and b["distribution"] in ("normal", "gamma"):  # integer methods review daily anyway
            n_continuous += 1
            assert a["review_period"] == 1.0 and b["review_period"] == 0.0
            assert a["reorder_point"] > b["reorder_point"]  # one more day of demand and the undershoot
        else:
            assert a["reorder_point"] == b["reorder_point"] and a["review_period"] == b["review_period"]
    assert n_continuous >= 1
    with pytest.raises(so.errors.ParameterError, match="continuous_review"):
        so.run_nightly(sales, items=items, h=14, models=["naive"], continuous_review="hourly")
