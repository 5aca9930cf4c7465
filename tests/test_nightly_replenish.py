"""The nightly run's replenishment stage: orders, alerts and KPIs next to the forecast and policy,
quarantine of unusable supply rows, and the demo and ``plan`` commands that write them."""

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


@pytest.fixture(scope="module")
def world():
    sales = so.datasets.synthetic_retail(40, 150, seed=11).select(["unique_id", "ds", "y", "price"])
    return sales, so.datasets.synthetic_supply(sales, seed=11)


def _set(tbl: pa.Table, name: str, row: int, value, typ=None) -> pa.Table:
    vals = tbl.column(name).to_pylist()
    vals[row] = value
    typ = typ or tbl.schema.field(name).type
    return tbl.set_column(tbl.column_names.index(name), name, pa.array(vals, typ))


def _only(tbl: pa.Table, ids) -> pa.Table:
    return tbl.filter(pc.is_in(tbl["unique_id"], value_set=pa.array(sorted(ids))))


def test_the_nightly_orders_are_those_of_replenish_on_the_runs_own_forecast_and_policy(world, tmp_path):
    sales, sup = world
    res = so.run_nightly(sales, sup.items, 28, models=["naive"], freq="D", out=tmp_path, stock=sup.stock,
                         suppliers=sup.suppliers, open_orders=sup.open_orders)
    s = res.summary
    assert s["as_of"] == sup.as_of  # the first forecast day: the day after the sales
    # the independent call of the public functions on the run's forecast and policy
    plan = so.replenish_plan(sup.stock, res.policy, sup.items, sup.suppliers, as_of=sup.as_of,
                             forecast=res.forecast, open_orders=sup.open_orders, period_days=1.0)
    assert res.orders.equals(plan.orders) and res.orders.num_rows > 0
    assert res.alerts.equals(so.alerts(sup.stock, res.policy, res.forecast, sup.items, as_of=sup.as_of,
                                       suppliers=sup.suppliers, open_orders=sup.open_orders, sales=sales,
                                       period_days=1.0))
    kpis = so.project_kpis(plan).items
    assert res.kpis.equals(kpis)
    # the summary's counts are those of the tables
    assert s["order_lines"] == res.orders.num_rows
    assert s["order_value"] == pytest.approx(float(np.sum(res.orders["value"].to_numpy())), abs=0.01)
    d = kpis["demand"].to_numpy()
    fill = (d * kpis["fill_rate"].to_numpy()).sum() / d.sum()
    assert s["projected_fill_rate"] == pytest.approx(fill, abs=1e-4)
    kinds = res.alerts["kind"].to_pylist()
    assert s["alerts"] == {k: kinds.count(k) for k in set(kinds)}
    assert s["items_quarantined_supply"] == 0 and res.quarantine.num_rows == 0
    for name in ("orders", "alerts", "kpis"):
        assert pq.read_table(tmp_path / f"{name}.parquet").equals(getattr(res, name))
    # no supply tables: no stage, nothing written
    bare = so.run_nightly(sales, sup.items, 28, models=["naive"], freq="D", out=tmp_path / "bare")
    assert bare.orders is None and "order_lines" not in bare.summary
    assert not (tmp_path / "bare" / "orders.parquet").exists()


def test_unusable_supply_rows_quarantine_their_items_and_the_rest_is_planned_as_alone(world):
    sales, sup = world
    ids = sup.items["unique_id"].to_pylist()
    sup_of = dict(zip(ids, sup.items["supplier_id"].to_pylist()))
    # a second supplier, whose order_days hold an 8: every item of it is set aside
    items = sup.items
    for r in (5, 6):
        items = _set(items, "supplier_id", r, "sup_bad")
    bad_sup = pa.table({"supplier_id": ["sup_bad"], "lead_time": [3.0],
                        "order_days": pa.array([[1, 8]], pa.list_(pa.int8()))})
    bad_sup = bad_sup.cast(sup.suppliers.select(bad_sup.column_names).schema)
    suppliers = pa.concat_tables([sup.suppliers, bad_sup], promote_options="default")
    items = _set(items, "volume", 9, float("nan"))
    stock = _set(sup.stock, "on_hand", 2, -4.0)
    stock = stock.filter(pc.not_equal(stock["unique_id"], ids[3]))  # no stock row
    oo = pa.concat_tables([sup.open_orders, pa.table({
        "unique_id": [ids[4], "not_an_item"], "arrival_date": pa.array([None, 0], pa.date32()),
        "quantity": [5.0, -1.0]}).cast(sup.open_orders.schema)])
    y = sales["y"].to_numpy().copy()
    y[sales["unique_id"].to_pylist().index(ids[7])] = -1.0  # a negative sale: no forecast, no policy
    sales_bad = sales.set_column(2, "y", pa.array(y))
    res = so.run_nightly(sales_bad, items, 28, models=["naive"], freq="D", stock=stock, suppliers=suppliers,
                         open_orders=oo)
    rep = {r["unique_id"]: r for r in res.quarantine.to_pylist()}
    assert rep[ids[7]]["table"] == "sales"
    assert rep[ids[2]]["table"] == "stock" and rep[ids[2]]["reason"].startswith("on_hand: expected")
    assert rep[ids[2]]["first_row"] == 2
    assert rep[ids[3]] == {"unique_id": ids[3], "reason": "no stock row for this item", "first_row": -1,
                           "table": "stock"}
    assert rep[ids[4]]["table"] == "open_orders" and rep[ids[4]]["reason"].startswith("arrival_date")
    assert rep[ids[4]]["first_row"] == sup.open_orders.num_rows
    for r in (5, 6):
        assert rep[ids[r]]["table"] == "suppliers"
        assert rep[ids[r]]["reason"].startswith("supplier sup_bad: order_days")
        assert rep[ids[r]]["first_row"] == sup.suppliers.num_rows
    assert rep[ids[9]]["table"] == "items" and rep[ids[9]]["reason"].startswith("volume: expected")
    assert "not_an_item" not in rep  # open orders of items outside the plan are not read
    out = set(rep)
    assert res.summary["items_quarantined_supply"] == len(out) - 1
    for tbl in (res.orders, res.alerts, res.kpis):
        assert not out & set(tbl["unique_id"].to_pylist())
    # the others get exactly what replenish gives them on their own
    keep = sorted(set(ids) - out)
    plan = so.replenish_plan(_only(sup.stock, keep), _only(res.policy, keep), _only(sup.items, keep),
                             sup.suppliers, as_of=sup.as_of, forecast=res.forecast,
                             open_orders=_only(sup.open_orders, keep), period_days=1.0)
    assert res.orders.equals(plan.orders) and res.orders.num_rows > 0
    ordered = res.orders["unique_id"].to_pylist()
    assert {sup_of[i] for i in ordered} <= set(sup.suppliers["supplier_id"].to_pylist())


def test_supply_tables_come_together_and_are_refused_before_any_work():
    with pytest.raises(so.errors.ParameterError, match="suppliers"):
        so.run_nightly("/no/such/sales.parquet", pa.table({"unique_id": ["a"]}), 7,
                       stock=pa.table({"unique_id": ["a"], "on_hand": [1.0]}))
    with pytest.raises(so.errors.ParameterError, match="items"):
        so.run_nightly("/no/such/sales.parquet", stock=pa.table({"unique_id": ["a"], "on_hand": [1.0]}),
                       suppliers=pa.table({"supplier_id": ["s"]}))
    with pytest.raises(so.errors.ParameterError, match="as_of"):
        so.run_nightly("/no/such/sales.parquet", as_of=20240101)


def test_demo_and_plan_commands_write_orders_alerts_and_kpis(world, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "demo"), "--n-series", "30", "--n-days",
                                      "120", "--horizon", "14"])
    assert r.exit_code == 0, r.output
    orders = pq.read_table(tmp_path / "demo" / "orders.parquet")
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    value = float(np.sum(orders["value"].to_numpy()))
    assert summary["order_lines"] == orders.num_rows > 0
    assert f"orders: {orders.num_rows} lines, {value:,.2f} in money; projected fill rate" in r.output
    assert (tmp_path / "demo" / "alerts.parquet").exists() and (tmp_path / "demo" / "kpis.parquet").exists()

    sales, sup = world
    files = {}
    for name, tbl in (("sales", sales), ("items", sup.items), ("stock", sup.stock),
                      ("suppliers", sup.suppliers), ("open_orders", sup.open_orders)):
        files[name] = str(tmp_path / f"{name}.parquet")
        pq.write_table(tbl, files[name])
    r = CliRunner().invoke(main, ["plan", files["sales"], "--items", files["items"], "--out",
                                  str(tmp_path / "p"), "--horizon", "28", "--freq", "D",
                                  "--stock", files["stock"],
                                  "--suppliers", files["suppliers"], "--open-orders", files["open_orders"],
                                  "--as-of", sup.as_of])
    assert r.exit_code == 0, r.output
    got = pq.read_table(tmp_path / "p" / "orders.parquet")
    want = so.run_nightly(sales, sup.items, 28, freq="D", stock=sup.stock, suppliers=sup.suppliers,
                          open_orders=sup.open_orders, as_of=sup.as_of).orders
    assert got.equals(want) and f"orders: {got.num_rows} lines" in r.output


def test_no_usable_supplier_leaves_empty_tables_and_names_every_item(world):
    sales, sup = world
    res = so.run_nightly(sales, sup.items, 28, models=["naive"], freq="D", stock=sup.stock,
                         suppliers=sup.suppliers.slice(0, 0))
    assert res.orders.num_rows == res.alerts.num_rows == res.kpis.num_rows == 0
    assert res.orders.schema.names[0] == "unique_id" and "reason" in res.orders.schema.names
    assert res.summary["order_lines"] == 0 and res.summary["items_quarantined_supply"] == sup.items.num_rows
    assert set(res.quarantine["reason"].to_pylist()) == {"supplier_id not in the suppliers table"}


def test_the_supply_stage_honours_id_col(world):
    sales, sup = world

    def ren(t: pa.Table) -> pa.Table:
        return t.rename_columns(["sku" if c == "unique_id" else c for c in t.column_names])

    opts = dict(models=["naive"], freq="D", suppliers=sup.suppliers)
    res = so.run_nightly(ren(sales), ren(sup.items), 28, id_col="sku", stock=ren(sup.stock),
                         open_orders=ren(sup.open_orders), **opts)
    base = so.run_nightly(sales, sup.items, 28, stock=sup.stock, open_orders=sup.open_orders, **opts)
    for name in ("orders", "alerts", "kpis"):
        assert getattr(res, name).equals(ren(getattr(base, name))), name


def test_with_two_models_the_orders_alerts_and_kpis_use_the_first_models_forecast(world):
    sales, sup = world
    supply = dict(stock=sup.stock, suppliers=sup.suppliers, open_orders=sup.open_orders)
    two = so.run_nightly(sales, sup.items, 28, models=["croston_sba", "naive"], freq="D", **supply)
    one = so.run_nightly(sales, sup.items, 28, models=["croston_sba"], freq="D", **supply)
    assert {"CrostonSBA", "Naive"} <= set(two.forecast.column_names)
    assert two.policy.equals(one.policy) and two.orders.num_rows > 0
    for name in ("orders", "alerts", "kpis"):
        assert getattr(two, name).equals(getattr(one, name)), name
    # the public functions told to read the first model's column of the two-model forecast
    plan = so.replenish_plan(sup.stock, two.policy, sup.items, sup.suppliers, as_of=sup.as_of,
                             forecast=two.forecast, model="CrostonSBA", open_orders=sup.open_orders,
                             period_days=1.0)
    assert two.orders.equals(plan.orders)
    assert two.kpis.equals(so.project_kpis(plan).items)
    naive = so.replenish_plan(sup.stock, two.policy, sup.items, sup.suppliers, as_of=sup.as_of,
                              forecast=two.forecast, model="Naive", open_orders=sup.open_orders,
                              period_days=1.0)
    assert not naive.orders.equals(plan.orders)  # the column read matters


def test_the_solver_limits_reach_the_order_stage():
    # two suppliers with binding rules: a gap of 0 and one of 0.2 give different orders, and the run's
    # orders are replenish_plan's at the same limits
    sales = so.datasets.synthetic_retail(200, 120, seed=5).select(["unique_id", "ds", "y", "price"])
    sup = so.datasets.synthetic_supply(sales, n_suppliers=2, seed=5)
    orders = {}
    for gap in (0.0, 0.2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = so.run_nightly(sales, sup.items, models=["naive"], freq="D", quality=False, stock=sup.stock,
                                 suppliers=sup.suppliers, open_orders=sup.open_orders, gap_limit=gap,
                                 work_limit=5.0)
            plan = so.replenish_plan(sup.stock, res.policy, sup.items, sup.suppliers, as_of=sup.as_of,
                                     forecast=res.forecast, open_orders=sup.open_orders, period_days=1.0,
                                     gap_limit=gap, work_limit=5.0)
        assert res.orders.equals(plan.orders)
        assert res.summary["solver_max_gap"] == round(plan.summary["max_gap"], 5)
        orders[gap] = plan
    assert not orders[0.0].orders.equals(orders[0.2].orders)
    assert orders[0.0].summary["objective"] <= orders[0.2].summary["objective"]
    assert orders[0.2].summary["max_gap"] <= 0.2
    with pytest.raises(so.errors.ParameterError, match="gap_limit"):
        so.run_nightly(sales, gap_limit=-0.1)
