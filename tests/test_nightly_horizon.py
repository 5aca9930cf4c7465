"""Issue 12: the nightly horizon derived from the items' lead time + review period (and the order stage's
needs), the same in every partition; every option of run_nightly a flag of `stockopt plan`; `-h` means help.

Oracles: the horizon computed here by plain arithmetic and by walking the calendar day by day; run_nightly on
the whole input for so.plan's partitions; explicit items tables for the run's item defaults; the Python call
for the command line.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import stockopt as so
from stockopt.cli import PLAN_FLAG_NAMES, main
from stockopt.errors import ParameterError

MODELS = ["naive"]


def _sales(n: int = 24, days: int = 100, seed: int = 4) -> pa.Table:
    return so.datasets.synthetic_retail(n, days, seed=seed).select(["unique_id", "ds", "y"])


def _ids(sales: pa.Table) -> list[str]:
    return sorted(set(sales["unique_id"].to_pylist()))


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


# --- the derived horizon --------------------------------------------------------------------------------

@pytest.mark.parametrize("freq,step", [("D", 1), ("W-MON", 7)])
def test_derived_horizon_is_the_longest_lead_time_plus_review_period_in_periods(freq, step):
    rng = np.random.default_rng(7)
    start = dt.date(2024, 1, 1)  # a Monday
    n, length = 9, 60
    sales = pa.table({"unique_id": np.repeat([f"s{i}" for i in range(n)], length),
                      "ds": [start + dt.timedelta(days=step * k) for _ in range(n) for k in range(length)],
                      "y": rng.poisson(4.0, n * length).astype(float)})
    lead = rng.uniform(1.0, 50.0, n).round(2)
    review = rng.choice([0.0, 1.0, 7.0, 14.0], n)
    items = pa.table({"unique_id": [f"s{i}" for i in range(n)], "lead_time": lead, "review_period": review})
    want = math.ceil(max(lt + (rv if rv > 0 else 1.0) for lt, rv in zip(lead, review)) / step)
    for h in (None, 1, want - 1):
        res = _quiet(so.run_nightly, sales, items, h, freq=freq, models=MODELS)
        assert res.summary["horizon"] == want and res.summary["horizon_requested"] == h
        assert res.forecast.num_rows == n * want and res.policy.num_rows == n
    res = _quiet(so.run_nightly, sales, items, want + 3, freq=freq, models=MODELS)
    assert res.summary["horizon"] == want + 3 and res.summary["horizon_needed"] == want
    worst = int(np.argmax(lead + np.where(review > 0, review, 1.0)))
    why = _quiet(so.run_nightly, sales, items, freq=freq, models=MODELS).summary["horizon_reason"]
    assert why.startswith(f"item 's{worst}'")


def test_an_item_with_a_60_day_lead_time_is_planned_under_a_28_day_horizon():
    sales = _sales()
    ids = _ids(sales)
    items = pa.table({"unique_id": ids, "lead_time": [60.0 if i == 3 else 5.0 for i in range(len(ids))]})
    short = _quiet(so.run_nightly, sales, items, 28, models=MODELS, freq="D")
    long_ = _quiet(so.run_nightly, sales, items, 60, models=MODELS, freq="D")
    assert ids[3] in short.policy["unique_id"].to_pylist() and short.quarantine.num_rows == 0
    assert short.policy.equals(long_.policy) and short.forecast.equals(long_.forecast)
    assert short.summary["horizon"] == 61 and short.summary["horizon_requested"] == 28
    assert short.summary["horizon_reason"] == f"item '{ids[3]}': lead time 60 + review period 1 days"
    row = short.policy.filter(pc.equal(short.policy["unique_id"], ids[3])).to_pylist()[0]
    assert row["lead_time"] == 60.0 and np.isfinite(row["reorder_point"])


def test_an_absurd_lead_time_is_a_fault_of_its_row_not_a_horizon_for_everyone():
    sales = _sales(8, 80)
    ids = _ids(sales)
    items = pa.table({"unique_id": ids, "lead_time": [3650.0 if i == 2 else 4.0 for i in range(len(ids))]})
    res = _quiet(so.run_nightly, sales, items, models=MODELS, freq="D")
    assert res.summary["horizon"] == 5  # 4 + 1 days: the other items' need
    q = res.quarantine.to_pylist()
    assert [(r["unique_id"], r["table"], r["first_row"]) for r in q] == [(ids[2], "items", 2)]
    assert q[0]["reason"].startswith("lead time + review period of 3651 days beyond the longest horizon")
    # the cap is an option; a requested horizon covering the item plans it too
    assert _quiet(so.run_nightly, sales, items, models=MODELS, freq="D",
                  max_horizon_days=4000.0).summary["horizon"] == 3651
    with pytest.raises(ParameterError, match="'lead_time'"):
        so.run_nightly(sales, models=MODELS, freq="D", lead_time=400.0)


def _supply_world(as_of_gap: int):
    sales = so.datasets.synthetic_retail(40, 100, seed=9).select(["unique_id", "ds", "y", "price"])
    sup = so.datasets.synthetic_supply(sales, n_suppliers=5, seed=9, max_lead_time=30)
    last = pc.max(sales["ds"]).as_py()
    as_of = last + dt.timedelta(days=1 + as_of_gap)
    tables = dict(stock=sup.stock, suppliers=sup.suppliers, open_orders=sup.open_orders)
    return sales, sup, tables, last, as_of


def _order_need_days(sup, last: dt.date, as_of: dt.date) -> int:
    """Days from the first forecast day to the arrival of each item's order after the next, walking the
    calendar day by day (the oracle of the order stage's horizon)."""
    days = {r["supplier_id"]: r["order_days"] for r in sup.suppliers.to_pylist()}
    f0 = last + dt.timedelta(days=1)
    worst = 0
    for it in sup.items.to_pylist():
        allowed = days[it["supplier_id"]]
        found = [d for d in (as_of + dt.timedelta(days=k) for k in range(15))
                 if allowed is None or d.weekday() in allowed]
        arrival = found[1] + dt.timedelta(days=math.ceil(it["lead_time"] - 1e-9))
        review = it["review_period"] if it["review_period"] > 0 else 1.0
        worst = max(worst, (arrival - f0).days, math.ceil(it["lead_time"] + review))
    return worst


@pytest.mark.parametrize("as_of_gap", [0, 5])
def test_the_order_stage_needs_are_covered_and_partitions_equal_the_whole_run(as_of_gap):
    sales, sup, tables, last, as_of = _supply_world(as_of_gap)
    ref = _quiet(so.run_nightly, sales, sup.items, 7, models=MODELS, freq="D", as_of=as_of, **tables)
    assert ref.summary["horizon"] == _order_need_days(sup, last, as_of)
    assert ref.orders.num_rows > 0
    for n_partitions in (1, 4):
        res = _quiet(so.plan, sales, sup.items, h=7, models=MODELS, freq="D", as_of=as_of,
                     n_partitions=n_partitions, **tables)
        for name, keys in (("forecast", ["unique_id", "ds"]), ("policy", ["unique_id"]),
                           ("orders", ["unique_id", "order_date"]), ("kpis", ["unique_id"])):
            want = getattr(ref, name).sort_by([(k, "ascending") for k in keys])
            assert getattr(res, name).equals(want), name
        for key in ("horizon", "horizon_requested", "horizon_needed", "horizon_reason"):
            assert res.summary[key] == ref.summary[key], key


def test_partitions_with_mixed_lead_times_forecast_one_horizon_equal_to_the_whole_run():
    sales = _sales(30, 90, seed=6)
    ids = _ids(sales)
    parts = so.nightly.id_partitions(pa.array(ids), 3)
    lead = np.where(parts == parts[0], 40.0, 2.0)  # one partition's items need 41 days, the others 3
    lead[np.flatnonzero(parts != parts[0])[0]] = 3000.0  # and an absurd row elsewhere
    items = pa.table({"unique_id": ids, "lead_time": lead})
    ref = _quiet(so.run_nightly, sales, items, 14, models=MODELS, freq="D")
    assert ref.summary["horizon"] == 41 and ref.quarantine.num_rows == 1
    for n in (3, 5):
        res = _quiet(so.plan, sales, items, h=14, models=MODELS, n_partitions=n)
        assert res.forecast.equals(ref.forecast.sort_by([("unique_id", "ascending"), ("ds", "ascending")]))
        assert res.policy.equals(ref.policy.sort_by("unique_id"))
        assert res.quarantine.equals(ref.quarantine.sort_by([("table", "ascending"),
                                                             ("unique_id", "ascending")]))
        assert res.summary["horizon"] == 41 and res.summary["horizon_reason"] == ref.summary["horizon_reason"]
    hz = so.nightly.plan_horizon({"items": items}, {"h": 14, "freq": "D"}, last_day=None)
    assert (hz.h, hz.requested, hz.needed) == (41, 14, 41)


# --- the run's item defaults ----------------------------------------------------------------------------

def test_item_defaults_equal_an_items_table_that_says_them():
    sales = _sales(10, 90)
    ids = _ids(sales)
    opts = dict(lead_time=10.0, service_level=0.9, review_period=7.0)
    explicit = pa.table({"unique_id": ids, **{k: np.full(len(ids), v) for k, v in opts.items()}})
    want = _quiet(so.run_nightly, sales, explicit, models=MODELS, freq="D", policy="sQ")
    got = _quiet(so.run_nightly, sales, models=MODELS, freq="D", policy="sQ", **opts)
    assert got.policy.equals(want.policy) and set(got.policy["policy"].to_pylist()) == {"sQ"}
    assert got.summary["horizon"] == 17
    # an items table with nulls and without the columns takes the same defaults
    lead = pa.array([None if i % 2 else 10.0 for i in range(len(ids))], pa.float64())
    holes = pa.table({"unique_id": ids, "lead_time": lead})
    got = _quiet(so.run_nightly, sales, holes, models=MODELS, freq="D", policy="sQ", **opts)
    assert got.policy.equals(want.policy)
    # without the lead_time option a null lead time stays a fault of its row
    got = _quiet(so.run_nightly, sales, holes, models=MODELS, freq="D")
    assert got.summary["items_quarantined"] == len(ids) // 2


# --- the command line -----------------------------------------------------------------------------------

def _flags(command) -> set[str]:
    return {o for p in command.params for o in getattr(p, "opts", [])}


def test_every_option_of_the_plan_is_a_flag_of_stockopt_plan():
    from stockopt.nightly._config import PLAN_PARAMS, TABLES, run_options

    flags = _flags(main.commands["plan"])
    keys = [*run_options(), *(k for k in PLAN_PARAMS if k != "config"), *TABLES[1:], "config"]
    missing = [k for k in keys if PLAN_FLAG_NAMES.get(k, "--" + k.replace("_", "-")) not in flags]
    assert not missing, f"options of so.plan without a flag of stockopt plan: {missing}"


def test_dash_h_means_help_in_every_command():
    r = CliRunner().invoke(main, ["-h"])
    assert r.exit_code == 0 and "-h, --help" in r.output
    for name in main.commands:
        r = CliRunner().invoke(main, [name, "-h"])
        assert r.exit_code == 0 and "-h, --help" in r.output and "Show this message" in r.output, name
        assert "-h, --horizon" not in r.output, name


def test_plan_flags_give_the_same_plan_as_the_python_call(tmp_path):
    sales = _sales(9, 80, seed=8).rename_columns(["sku", "day", "qty"])
    ids = _ids(sales.rename_columns(["unique_id", "ds", "y"]))
    items = pa.table({"sku": ids, "lead_time": [45.0 if i == 1 else 3.0 for i in range(len(ids))],
                      "service_level": pa.array([None, *[0.97] * (len(ids) - 1)], pa.float64())})
    pq.write_table(sales, tmp_path / "s.parquet")
    pq.write_table(items, tmp_path / "i.parquet")
    opts = dict(h=5, freq="D", models=["naive", "historic_average"], level=[90.0], id_col="sku",
                time_col="day", target_col="qty", missing="zero", fill_gaps="error", continuous_review="keep",
                policy="RS", service_level=0.9, review_period=2.0, max_horizon_days=100.0)
    want = _quiet(so.plan, tmp_path / "s.parquet", tmp_path / "i.parquet", n_partitions=2, **opts)
    args = ["plan", str(tmp_path / "s.parquet"), "--items", str(tmp_path / "i.parquet"),
            "--out", str(tmp_path / "o"), "--partitions", "2", "--horizon", "5", "--freq", "D",
            "--model", "naive", "--model", "historic_average", "--level", "90", "--id-col", "sku",
            "--time-col", "day", "--target-col", "qty", "--missing", "zero",
            "--fill-gaps", "error", "--continuous-review", "keep", "--policy", "RS", "--service-level", "0.9",
            "--review-period", "2", "--max-horizon-days", "100", "--quiet"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    for name in ("forecast", "policy"):
        got = pq.read_table(tmp_path / "o" / f"{name}.parquet").replace_schema_metadata(None)
        assert got.equals(getattr(want, name).replace_schema_metadata(None)), name
    assert want.summary["horizon"] == 47 and set(want.policy["policy"].to_pylist()) == {"RS"}
    # a config key and the flag of the same option: the flag wins
    (tmp_path / "plan.toml").write_text('h = 3\nlevel = [80]\nmodels = ["naive"]\nid_col = "sku"\n'
                                        'time_col = "day"\ntarget_col = "qty"\n')
    r = CliRunner().invoke(main, ["plan", str(tmp_path / "s.parquet"),
                                  "--config", str(tmp_path / "plan.toml"), "--out", str(tmp_path / "c"),
                                  "--level", "90", "--quiet"])
    assert r.exit_code == 0, r.output
    cols = pq.read_table(tmp_path / "c" / "forecast.parquet").column_names
    assert cols == ["sku", "day", "Naive", "Naive-lo-90", "Naive-hi-90"]
