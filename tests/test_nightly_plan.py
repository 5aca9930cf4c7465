"""so.plan against run_nightly on the whole input (the oracle): same rows, same numbers, whatever the
partitions, batch size, backend or input format; config checks; atomic, resumable output (kill -9)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

import stockopt as so
from stockopt.errors import EmptyInputError, MissingColumnError, ParameterError

MODELS = ["naive", "croston_sba"]
H = 14


def _sales(n: int = 40, days: int = 90, seed: int = 3) -> pa.Table:
    """Synthetic sales with three bad series (negative, infinite demand, a repeated day)."""
    s = so.datasets.synthetic_retail(n, days, seed=seed).select(["unique_id", "ds", "y"])
    y = s["y"].to_numpy().copy()
    y[days * 5 + 3] = -1.0
    y[days * 9 + 10] = np.inf
    s = s.set_column(2, "y", pa.array(y))
    dup = s.slice(days * 17 + 4, 1)
    return pa.concat_tables([s, dup])


def _items(sales: pa.Table) -> pa.Table:
    ids = pc.unique(sales["unique_id"]).to_pylist()[:-1]  # the last series has no items row
    lt = np.linspace(2.0, 9.0, len(ids))
    lt[7] = -3.0  # an unusable row
    return pa.table({"unique_id": ids, "lead_time": lt, "service_level": np.full(len(ids), 0.9),
                     "unit_cost": np.linspace(1.0, 5.0, len(ids))})


def _sorted(tbl: pa.Table, keys: list[str]) -> pa.Table:
    return tbl.sort_by([(k, "ascending") for k in keys if k in tbl.column_names])


@pytest.fixture(scope="module")
def whole():
    sales = _sales()
    items = _items(sales)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = so.run_nightly(sales, items, H, models=MODELS)
    return sales, items, res


def _check_same(res, ref):
    assert res.forecast.equals(_sorted(ref.forecast, ["unique_id", "ds"]))
    assert res.policy.equals(_sorted(ref.policy, ["unique_id"]))
    assert _sorted(res.quarantine, ["table", "unique_id"]).equals(
        _sorted(ref.quarantine, ["table", "unique_id"]))
    s, r = res.summary, ref.summary
    for key in ("series", "series_forecast", "series_quarantined", "items_quarantined", "rows", "frequency",
                "gaps_filled", "horizon", "forecast_rows", "policies", "policy_status", "total_safety_stock"):
        assert s[key] == r[key], key
    assert s["models"] == json.loads(json.dumps(r["models"]))


@pytest.mark.parametrize("n_partitions,batch_rows", [(1, 1 << 20), (3, 1024), (8, 1500)])
def test_plan_equals_run_nightly_on_the_whole_input(whole, n_partitions, batch_rows):
    sales, items, ref = whole
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = so.plan(sales, items, h=H, models=MODELS, n_partitions=n_partitions, batch_rows=batch_rows)
    _check_same(res, ref)
    assert res.quarantine.num_rows == 5  # 3 bad series, 1 bad item row, 1 series without items row
    assert res.summary["partitions"] == n_partitions


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_plan_in_parallel_equals_one_job(whole, tmp_path, backend):
    sales, items, ref = whole
    pq.write_table(sales, tmp_path / "sales.parquet", row_group_size=997)  # spilled by both workers
    pcsv.write_csv(items, tmp_path / "items.csv")
    res = so.plan(tmp_path / "sales.parquet", tmp_path / "items.csv", h=H, models=MODELS, n_partitions=4,
                  n_jobs=2, backend=backend, batch_rows=2048)
    _check_same(res, ref)


def test_config_from_toml_and_unknown_or_bad_keys_refused_by_name(whole, tmp_path):
    sales, items, ref = whole
    pq.write_table(sales, tmp_path / "sales.parquet")
    pq.write_table(items, tmp_path / "items.parquet")
    (tmp_path / "plan.toml").write_text(textwrap.dedent(f"""
        sales = "sales.parquet"
        items = "items.parquet"
        out_dir = "out"
        n_partitions = 3
        [forecast]
        h = {H}
        models = ["naive", "croston_sba"]
    """))
    res = so.plan(config=tmp_path / "plan.toml")
    _check_same(res, ref)
    assert (tmp_path / "out" / "forecast.parquet").exists()
    with pytest.raises(ParameterError, match="'horizon'"):
        so.plan(sales, config={"horizon": 7})
    with pytest.raises(ParameterError, match="parameter 'h'.*integer >= 1"):
        so.plan(sales, config={"h": 0})
    with pytest.raises(ParameterError, match="parameter 'n_partitions'"):
        so.plan(sales, config={"n_partitions": 0})
    with pytest.raises(EmptyInputError, match="no sales"):
        so.plan(config={"h": 7})


def test_outputs_are_atomic_tagged_and_replace_a_previous_run(whole, tmp_path):
    sales, items, ref = whole
    out = tmp_path / "out"
    out.mkdir()
    pq.write_table(pa.table({"x": [1]}), out / "orders.parquet")
    res = so.plan(sales, items, h=H, models=MODELS, n_partitions=3, out_dir=out)
    names = sorted(set(os.listdir(out)) - {".lock"})  # the folder lock file stays
    assert names == ["forecast.parquet", "policy.parquet", "quarantine.parquet", "run.json", "summary.json"]
    run = json.loads((out / "run.json").read_text())
    rid = run["run_id"]
    for name in ("forecast", "policy", "quarantine"):
        tbl = pq.read_table(out / f"{name}.parquet")
        assert tbl.schema.metadata[b"stockopt.run_id"].decode() == rid
        assert tbl.replace_schema_metadata(None).equals(getattr(res, name).replace_schema_metadata(None))
        assert run["outputs"][name]["rows"] == tbl.num_rows
    assert run["inputs"]["sales"]["rows"] == sales.num_rows
    assert run["inputs"]["items"]["rows"] == items.num_rows
    assert sum(run["rejected"]["sales"].values()) == 3 and sum(run["rejected"]["items"].values()) == 2
    assert run["config"]["run"]["h"] == H and run["versions"]["stockopt"] == so.__version__
    assert json.loads((out / "summary.json").read_text()) == run["summary"]

    # a failing run (an items table without lead_time) leaves the complete output untouched
    before = {n: (out / n).read_bytes() for n in os.listdir(out) if not n.startswith(".")}
    with pytest.raises(MissingColumnError):
        so.plan(sales, items.drop_columns(["lead_time"]), h=H, models=MODELS, n_partitions=3, out_dir=out)
    assert {n: (out / n).read_bytes() for n in os.listdir(out) if not n.startswith(".")} == before


_CHILD = """
import sys, warnings
warnings.simplefilter("ignore")
import stockopt as so
so.plan(sys.argv[1], sys.argv[2], h={h}, models=["auto"], n_partitions=8, n_jobs=1, out_dir=sys.argv[3])
"""


@pytest.mark.slow
def test_a_run_killed_part_way_resumes_to_byte_identical_outputs(tmp_path):
    sales = so.datasets.synthetic_retail(96, 120, seed=5).select(["unique_id", "ds", "y"])
    items = _items(sales)
    pq.write_table(sales, tmp_path / "sales.parquet")
    pq.write_table(items, tmp_path / "items.parquet")
    args = [str(tmp_path / "sales.parquet"), str(tmp_path / "items.parquet")]
    code = _CHILD.format(h=H)
    env = {**os.environ, "PYTHONPATH": str(Path(so.__file__).parents[1])}
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", code, *args, str(killed)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    try:
        while not list(killed.glob(".parts/*/part-*/_done.json")):
            assert proc.poll() is None, "the run ended before its first partition was done"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    n_done = len(list(killed.glob(".parts/*/part-*/_done.json")))
    assert 1 <= n_done < 8 and not (killed / "run.json").exists()
    # the re-run resumes from the completed partitions
    subprocess.run([sys.executable, "-c", code, *args, str(killed)], env=env, check=True, timeout=600)
    clean = tmp_path / "clean"
    subprocess.run([sys.executable, "-c", code, *args, str(clean)], env=env, check=True, timeout=600)
    run = json.loads((killed / "run.json").read_text())
    assert run["summary"]["resumed_partitions"] >= n_done
    for name in ("forecast.parquet", "policy.parquet", "quarantine.parquet"):
        assert (killed / name).read_bytes() == (clean / name).read_bytes(), name
    assert not (killed / ".parts").exists()


def test_partition_by_supplier_keeps_each_suppliers_items_together_and_the_same_numbers(whole, tmp_path):
    sales, items, ref = whole
    items = items.append_column("supplier_id", pa.array([f"sup{k % 3}" for k in range(items.num_rows)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = so.run_nightly(sales, items, H, models=MODELS)
    res = so.plan(sales, items, h=H, models=MODELS, n_partitions=5, partition_by="supplier_id",
                  out_dir=tmp_path, keep_parts=True)
    _check_same(res, ref)
    # every partition's policy rows belong to one supplier's partition
    sup = dict(zip(items["unique_id"].to_pylist(), items["supplier_id"].to_pylist()))
    where: dict[str, set] = {}
    for f in tmp_path.glob(".parts/*/part-*/policy.parquet"):
        for i in pq.read_table(f)["unique_id"].to_pylist():
            where.setdefault(sup[i], set()).add(f.parent.name)
    assert where and all(len(parts) == 1 for parts in where.values())


def test_progress_counts_the_done_partitions(whole):
    from stockopt.nightly._plan import _plan

    sales, items, ref = whole
    seen = []
    _plan(dict(sales=sales), dict(config=None, n_partitions=4), dict(h=H, models=MODELS), executor=None,
          progress=lambda n, total: seen.append((n, total)))
    assert seen and seen[-1] == (4, 4) and all(t == 4 for _, t in seen)
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)


@pytest.fixture(scope="module")
def supply_world():
    sales = so.datasets.synthetic_retail(60, 120, seed=5).select(["unique_id", "ds", "y", "price"])
    sup = so.datasets.synthetic_supply(sales, n_suppliers=4, seed=5)
    tables = dict(stock=sup.stock, suppliers=sup.suppliers, open_orders=sup.open_orders)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = so.run_nightly(sales, sup.items, 28, models=MODELS, freq="D", **tables)
    return sales, sup, tables, ref


@pytest.mark.parametrize("n_partitions", [1, 3])
def test_plan_with_supply_tables_equals_run_nightly_orders_alerts_and_kpis(supply_world, n_partitions):
    sales, sup, tables, ref = supply_world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = so.plan(sales, sup.items, h=28, models=MODELS, freq="D", n_partitions=n_partitions, **tables)
    _check_same(res, ref)
    assert ref.orders.num_rows > 0 and ref.alerts.num_rows > 0 and ref.kpis.num_rows == ref.policy.num_rows
    for name, keys in (("orders", ["unique_id", "order_date"]), ("alerts", ["unique_id", "kind"]),
                       ("kpis", ["unique_id"])):
        assert getattr(res, name).equals(_sorted(getattr(ref, name), keys)), name
    for key in ("order_lines", "order_value", "suppliers_ordering", "projected_fill_rate", "alerts"):
        assert res.summary[key] == ref.summary[key], key


@pytest.mark.skipif(sys.platform == "win32", reason="the folder lock is an fcntl.flock")
def test_a_second_run_into_a_locked_folder_is_refused_and_writes_nothing(tmp_path):
    import fcntl

    from stockopt.errors import FileError

    sales = so.datasets.synthetic_retail(4, 60, seed=2).select(["unique_id", "ds", "y"])
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as other:  # another run (same host) holds the folder
        other.write("4242")
        other.flush()
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(FileError, match="another plan is writing to this folder.*4242"):
            so.plan(sales, h=H, models=["naive"], out_dir=out)
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
        fcntl.flock(other, fcntl.LOCK_UN)
    res = so.plan(sales, h=H, models=["naive"], out_dir=out)  # released: the run goes ahead
    assert res.forecast.num_rows == 4 * H and (out / "run.json").exists()
    with open(out / ".lock", "w") as probe:  # and the run released the lock when it ended
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_orders_are_planned_as_of_the_day_after_the_latest_sales_in_every_partition(supply_world):
    # series of one supplier end 20 days early: a partition holding only them must still plan orders
    # as of the day after the latest sales day of the whole input, as the run on the whole input does
    sales, sup, tables, _ = supply_world
    early = sup.items.filter(pc.equal(sup.items["supplier_id"], sup.items["supplier_id"][0]))["unique_id"]
    last = pc.max(sales["ds"]).as_py()
    cut = pc.and_(pc.is_in(sales["unique_id"], value_set=early),
                  pc.greater(sales["ds"], pa.scalar(last - dt.timedelta(days=20))))
    short = sales.filter(pc.invert(cut))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = so.run_nightly(short, sup.items, 28, models=MODELS, freq="D", **tables)
        res = so.plan(short, sup.items, h=28, models=MODELS, freq="D", n_partitions=4, **tables)
    day_after = str(last + dt.timedelta(days=1))
    assert ref.summary["as_of"] == res.summary["as_of"] == day_after
    assert pc.min(ref.forecast["ds"]).as_py() < last  # the early series' forecasts start earlier
    # 28 days of forecast from 20 days before as_of leave 8: too short for this supplier's next orders
    # (7 days of lead time): its items get no order and are named, the others are planned
    q = ref.quarantine.filter(pc.starts_with(ref.quarantine["reason"], "forecast too short"))
    assert sorted(q["unique_id"].to_pylist()) == sorted(early.to_pylist())
    assert set(q["table"].to_pylist()) == {"sales"}
    assert ref.orders.num_rows > 0 and not set(ref.orders["unique_id"].to_pylist()) & set(early.to_pylist())
    assert set(ref.policy["unique_id"].to_pylist()) >= set(early.to_pylist())  # their policies stand
    # replenish_plan reads only its policy items' forecasts: the early series' short ones beside them do
    # not matter (they stopped the whole stage before)
    keep = pc.invert(pc.is_in(ref.policy["unique_id"], value_set=early))
    kw = dict(as_of=day_after, open_orders=sup.open_orders, period_days=1.0, model="Naive")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        every = so.replenish_plan(sup.stock, ref.policy.filter(keep), sup.items, sup.suppliers,
                                  forecast=ref.forecast, **kw)
        own = so.replenish_plan(sup.stock, ref.policy.filter(keep), sup.items, sup.suppliers,
                                forecast=ref.forecast.filter(pc.invert(pc.is_in(ref.forecast["unique_id"],
                                                                                value_set=early))), **kw)
    assert every.orders.equals(own.orders) and every.orders.num_rows > 0
    # a horizon that covers them plans them too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        long = so.run_nightly(short, sup.items, 60, models=MODELS, freq="D", **tables)
    assert long.quarantine.num_rows == 0 and long.summary["as_of"] == day_after
    for name, keys in (("orders", ["unique_id", "order_date"]), ("alerts", ["unique_id", "kind"]),
                       ("kpis", ["unique_id"])):
        assert getattr(res, name).equals(_sorted(getattr(ref, name), keys)), name
