"""The run report: a self-contained HTML file built from a real run folder, checked against the tables
it summarises, hand-computed stock projections, and a render in headless Chromium."""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import stockopt as so
from stockopt.cli import main
from stockopt.errors import EmptyInputError, ParameterError
from stockopt.reporting import project_stock

EVIL = "<script>alert('x')</script>&co"
SECTIONS = ["Run summary", "Forecasts of the top items", "Projected stock of the top items", "Orders",
            "Projected KPIs", "Alerts", "Quarantine"]


def _sales() -> pa.Table:
    sales = so.datasets.synthetic_retail(8, 90, seed=3)
    ids = np.asarray(sales["unique_id"].to_pylist(), dtype=object)
    ids[ids == "item_000004"] = EVIL  # an id a browser would run if it were written unescaped
    y = sales["y"].to_numpy().copy()
    y[np.flatnonzero(ids == "item_000005")[10]] = -1.0  # quarantined: negative demand
    return sales.set_column(0, "unique_id", pa.array(ids.tolist())).set_column(2, "y", pa.array(y))


def _items(sales: pa.Table) -> pa.Table:
    ids = sorted(set(sales["unique_id"].to_pylist()))
    cost = [1.0, 40.0, 3.0, 15.0, 2.0, 6.0, 25.0, 0.5][: len(ids)]
    lead = [3.0] * len(ids)
    lead[ids.index("item_000007")] = -2.0  # quarantined item row: negative lead time
    review = [1.0, 7.0] * (len(ids) // 2)
    return pa.table({"unique_id": ids, "lead_time": lead, "unit_cost": cost, "review_period": review})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    sales = _sales()
    plan = so.run_nightly(sales, _items(sales), 14, models=["naive"], freq="D")
    plan.write(folder)
    (folder / "summary.json").write_text(json.dumps(plan.summary, default=str))  # as the CLI writes it
    pq.write_table(sales, folder / "sales.parquet")  # as the demo records it
    return folder


@pytest.fixture(scope="module")
def page(run_dir) -> str:
    return so.report(run_dir, top=4).read_text()


def _expected_top(run_dir: Path, k: int) -> list[str]:
    """Top ids by forecast value, computed row by row from the files (the oracle)."""
    fc = pq.read_table(run_dir / "forecast.parquet").to_pylist()
    cost = {r["unique_id"]: r["unit_cost"] for r in pq.read_table(run_dir / "policy.parquet").to_pylist()}
    total: dict[str, float] = defaultdict(float)
    for r in fc:
        total[r["unique_id"]] += r["Naive"]
    ranked = sorted(total, key=lambda i: (i not in cost, -total[i] * cost.get(i, 0.0), i))
    return ranked[:k]


def test_the_report_is_one_self_contained_file(run_dir, page):
    assert (run_dir / "report.html").exists()
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page, re.I)
    assert "<link" not in page and "<script" not in page and "@import" not in page
    imgs = re.findall(r"<img [^>]*src=\"([^\"]*)\"", page)
    assert len(imgs) == 8  # 4 fan charts + 4 stock charts
    for src in imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in page


def test_top_items_by_value_appear_in_order(run_dir, page):
    top = _expected_top(run_dir, 4)
    table = page[page.index("<h2>Forecasts of the top items</h2>"):page.index("Fan charts:")]
    shown = re.findall(r"<tr><td>([^<]*)</td>", table)
    assert shown == [html.escape(t, quote=True) for t in top]
    # volume alone would rank differently: the costs matter
    fc = pq.read_table(run_dir / "forecast.parquet")
    vol = fc.group_by("unique_id").aggregate([("Naive", "sum")]).sort_by([("Naive_sum", "descending")])
    assert vol["unique_id"].to_pylist()[:4] != top


def test_quarantine_rows_and_escaping(run_dir, page):
    q = pq.read_table(run_dir / "quarantine.parquet").to_pylist()
    assert {r["unique_id"] for r in q} == {"item_000005", "item_000007"}
    for r in q:
        assert f"<td>{r['unique_id']}</td><td>{html.escape(r['reason'])}</td>" in page
    assert "<script>alert" not in page and EVIL not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;co" in page
    assert EVIL in _expected_top(run_dir, 4)  # the evil id is charted, so it was written, escaped


def test_without_supply_tables_the_sections_say_so(page):
    assert "This run folder has no orders.parquet" in page
    assert "This run folder has no kpis.parquet" in page
    assert "This run folder has no alerts.parquet" in page
    assert "each item starts at its order-up-to level" in page  # no stock table: the policy alone


@pytest.mark.parametrize("missing", ["forecast.parquet", "policy.parquet", "quarantine.parquet",
                                     "summary.json", "sales.parquet", "everything"])
def test_each_section_degrades_when_its_file_is_absent(run_dir, tmp_path, missing):
    folder = tmp_path / "run"
    if missing == "everything":
        folder.mkdir()
    else:
        shutil.copytree(run_dir, folder)
        (folder / missing).unlink()
        (folder / "report.html").unlink(missing_ok=True)
    text = so.report(folder, top=2).read_text()
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in text
    if missing == "summary.json":
        assert "no summary.json or run.json" in text
    elif missing == "sales.parquet":
        assert "no sales history" in text and text.count("data:image/png") == 4
    elif missing == "everything":
        assert text.count("This run folder has no") >= 5 and "data:image/png" not in text
    else:
        assert f"This run folder has no {missing}" in text
    if missing == "policy.parquet":  # ranked by volume then, fan charts still drawn
        assert "ranked by forecast volume" in text and text.count("data:image/png") == 2


def test_unreadable_file_is_named_not_raised(run_dir, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    (folder / "quarantine.parquet").write_bytes(b"not parquet")
    (folder / "summary.json").write_text("{broken")
    text = so.report(folder, top=1).read_text()
    assert "quarantine.parquet could not be read" in text and "summary.json could not be read" in text


def _supply(run_dir: Path, top: list[str]) -> dict[str, pa.Table]:
    """Orders, alerts, KPIs and stock with the documented columns (docs/replenishment.md)."""
    d0 = pq.read_table(run_dir / "forecast.parquet")["ds"][0].as_py()
    orders = pa.table({"unique_id": top[:2], "supplier_id": ["S1", "S2"], "order_date": [d0, d0],
                       "arrival_date": [d0 + dt.timedelta(days=3)] * 2, "quantity": [36.0, 12.0],
                       "packs": [3, 1], "value": [36.0 * 40, 12.0], "volume": [0.0, 0.0],
                       "reason": ["position 2 <= reorder point 18; up to 40 -> 38; 3 packs of 12 = 36",
                                  "x < y"]})
    alerts = pa.table({"unique_id": [top[0], top[1], top[1]],
                       "kind": ["stockout_risk", "excess", "low_cover"],
                       "severity": ["critical", "warning", "high"], "value": [0.7, 12.0, 1.5],
                       "message": ["P(stockout) 70 % <b>", "excess 12", "1.5 days of cover"],
                       "money": [500.0, 80.0, 20.0]})
    kpis = pa.table({"unique_id": top[:3], "supplier_id": ["S1", "S2", "S1"], "days": [7, 7, 7],
                     "demand": [100.0, 50.0, 10.0], "fill_rate": [0.9, 1.0, 0.5],
                     "stockout_days": [1.5, 0.0, 3.0],
                     "average_on_hand": [20.0, 30.0, 1.0], "average_stock_value": [800.0, 30.0, 2.0],
                     "turns": [12.0, 5.0, 3.0], "end_backorders": [2.0, 0.0, 4.0]})
    stock = pa.table({"unique_id": top, "on_hand": [2.0] * len(top), "backorders": [0.0] * len(top)})
    return {"orders": orders, "alerts": alerts, "kpis": kpis, "stock": stock}


def test_orders_kpis_alerts_and_stock_are_summarised(run_dir, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    top = _expected_top(run_dir, 3)
    for name, tbl in _supply(run_dir, top).items():
        pq.write_table(tbl, folder / f"{name}.parquet")
    summary = json.loads((folder / "summary.json").read_text())
    d0 = pq.read_table(run_dir / "forecast.parquet")["ds"][0].as_py()
    summary["as_of"] = str(d0 + dt.timedelta(days=1))  # planned from a later day than the first forecast
    (folder / "summary.json").write_text(json.dumps(summary))
    text = so.report(folder, top=3).read_text()
    # orders: lines, suppliers and value (36 x 40 + 12 = 1,452)
    assert "2 order lines from 2 suppliers; value 1,452" in text
    assert "position 2 &lt;= reorder point 18" in text
    # KPIs: demand-weighted fill rate (0.9 x 100 + 1 x 50 + 0.5 x 10) / 160 = 0.90625
    assert "<td>fill rate (demand-weighted)</td><td class=\"num\">0.906</td>" in text
    assert "<td>expected stockout item-days</td><td class=\"num\">4.5</td>" in text
    assert "90.6 %" in text  # the card
    # alerts: most severe first, message escaped
    first = text.index("P(stockout) 70 % &lt;b&gt;")
    assert first < text.index("1.5 days of cover") < text.index("excess 12")
    # stock: projected from the stock table with tonight's orders
    assert "from the stock table" in text and "tonight&#x27;s orders from orders.parquet arrive" in text
    assert "projected fill rate 90.0 %" in text


def test_the_same_folder_gives_the_same_bytes(run_dir, tmp_path):
    a = so.report(run_dir, top=1, out=tmp_path / "a.html").read_bytes()
    b = so.report(run_dir, top=1, out=tmp_path / "b.html").read_bytes()
    assert a == b


def test_bad_arguments_and_folders(tmp_path):
    with pytest.raises(EmptyInputError, match="no run folder"):
        so.report(tmp_path / "nope")
    with pytest.raises(ParameterError, match="top"):
        so.report(tmp_path, top=-1)


def test_missing_matplotlib_names_the_extra(run_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install stockopt\[plot\]"):
        so.report(run_dir)


def test_cli_report_prints_the_path(run_dir, tmp_path):
    out = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", str(run_dir), "--top", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == str(out) and out.read_text().count("data:image/png") == 2


# --- the stock projection against hand computations ------------------------------------------------
def test_projection_periodic_order_up_to_closed_form():
    # RS: review every 7 days, lead time 3, 10 a day, S = 100, start full: orders on days 7 and 14 of 70
    net, orders = project_stock(np.full(21, 10.0), reorder_point=100.0, order_up_to=100.0, order_quantity=0.0,
                                lead_time=3, review_period=7, policy="RS", on_hand=100.0)
    t = np.arange(21)
    assert np.allclose(net, 100 - 10 * (t + 1) + 70 * ((t >= 10).astype(int) + (t >= 17)))
    assert np.flatnonzero(orders).tolist() == [7, 14] and np.allclose(orders[[7, 14]], 70.0)


def test_projection_lot_sizes_and_mass_balance():
    # (s, nQ) with daily review: s = 30, Q = 25, lead time 2, by hand
    net, orders = project_stock(np.full(10, 10.0), reorder_point=30.0, order_up_to=55.0, order_quantity=25.0,
                                lead_time=2, review_period=0, policy="sQ", on_hand=50.0)
    assert net.tolist() == [40, 30, 20, 10, 25, 15, 5, 20, 10, 25]
    assert np.flatnonzero(orders).tolist() == [2, 5, 7] and set(orders[orders > 0]) == {25.0}
    # a deep deficit takes several lots at once
    net, orders = project_stock(np.full(3, 1.0), reorder_point=30.0, order_up_to=40.0, order_quantity=10.0,
                                lead_time=5, review_period=1, policy="sQ", on_hand=-4.0)
    assert orders[0] == 40.0  # -4 + 40 = 36 > 30, -4 + 30 = 26 is not


def test_projection_with_given_arrivals_and_min_max():
    # overdue arrival at day 0, one on day 3; tonight's order given so the policy reviews from day 1
    net, orders = project_stock(np.full(7, 10.0), reorder_point=20.0, order_up_to=80.0, order_quantity=0.0,
                                lead_time=1, review_period=1, policy="sS", on_hand=5.0,
                                arrivals={-2: 10.0, 3: 50.0}, first_review=1)
    assert net.tolist() == [5, -5, -15, 25, 15, 5, 60]
    assert orders.tolist() == [0, 0, 0, 0, 0, 65, 0]
    # the newsvendor orders a fresh S at each review (every 2 days); a zero lead time arrives the same day
    net, orders = project_stock(np.full(4, 3.0), reorder_point=5.0, order_up_to=9.0, order_quantity=0.0,
                                lead_time=0, review_period=2, policy="newsvendor", on_hand=9.0)
    assert net.tolist() == [6, 3, 6, 3] and orders.tolist() == [9, 0, 9, 0]
    # a delivery replaces the leftovers (they perish) and unmet demand is lost, never backordered
    net, orders = project_stock(np.array([3.0, 3.0, 7.0, 3.0]), reorder_point=5.0, order_up_to=5.0,
                                order_quantity=0.0, lead_time=1, review_period=1, policy="newsvendor",
                                on_hand=5.0)
    assert net.tolist() == [2, 2, 0, 2] and orders.tolist() == [5, 5, 5, 5]
    net, _ = project_stock(np.full(3, 3.0), reorder_point=9.0, order_up_to=9.0, order_quantity=0.0,
                           lead_time=0, review_period=1, policy="base_stock", on_hand=9.0)
    assert net.tolist() == [6, 6, 6]


# --- the render in a real browser ------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(run_dir, page, tmp_path, capsys):
    from matplotlib.image import imread

    shot = tmp_path / "report.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2000",
           (run_dir / "report.html").resolve().as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.exists() and shot.stat().st_size > 10_000
    pixels = imread(shot)
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)
    assert len(colours) > 50  # text, tables and charts, not a blank page
    with capsys.disabled():  # shown in CI's log even when the test passes
        print(f"\nreport screenshot: {shot} ({len(colours)} colours)")


def test_a_run_keyed_by_another_id_column(tmp_path):
    names = ["sku", "day", "qty", "in_stock", "price", "on_promotion"]
    sales = so.datasets.synthetic_retail(3, 40, seed=5).rename_columns(names)
    plan = so.run_nightly(sales, h=14, models=["naive"], id_col="sku", time_col="day", target_col="qty")
    plan.write(tmp_path)
    text = so.report(tmp_path, top=3, sales=sales, target_col="qty").read_text()
    assert text.count("data:image/png") == 6 and "history from the sales given" in text
    assert all(f"<td>{i}</td>" in text for i in set(sales["sku"].to_pylist()))
