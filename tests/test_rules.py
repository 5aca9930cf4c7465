"""One rule table: the nightly quarantine sets aside exactly what the API refuses, and the caller's
column names are honoured end to end."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import stockopt as so
from stockopt._rules import ITEMS, SALES_CHECKS
from stockopt.errors import ValidationError

CORRUPTIONS = ("none", "null_time", "nan", "inf", "negative", "duplicate", "off_grid", "time_of_day", "gap")


def _sales(rng: np.random.Generator, kinds: list[str]) -> pa.Table:
    """Weekly (Monday) sales of one series per entry of ``kinds``, each spoilt the way it names."""
    ids, ts, ys = [], [], []
    monday = dt.datetime(2024, 1, 1)
    for s, kind in enumerate(kinds):
        n = int(rng.integers(4, 9))
        t = [monday + dt.timedelta(weeks=k) for k in range(n)]
        y = list(rng.poisson(3.0, n).astype(float))
        j = int(rng.integers(1, n - 1))
        if kind == "null_time":
            t[j] = None
        elif kind == "nan":
            y[j] = math.nan if rng.random() < 0.5 else None
        elif kind == "inf":
            y[j] = math.inf
        elif kind == "negative":
            y[j] = -1.0
        elif kind == "duplicate":
            t[j] = t[j - 1]
        elif kind == "off_grid":
            t[j] = t[j] + dt.timedelta(days=1)
        elif kind == "time_of_day":
            t[j] = t[j] + dt.timedelta(hours=6)
        elif kind == "gap":
            del t[j], y[j]
        sid = f"s{s:02d}"
        ids += [sid] * len(t)
        ts += t
        ys += y
    order = rng.permutation(len(ids))  # rows in any order
    return pa.table({"sku": pa.array(ids).take(pa.array(order)),
                     "when": pa.array(ts, pa.timestamp("s")).take(pa.array(order)),
                     "qty": pa.array(ys, pa.float64()).take(pa.array(order))})


@pytest.mark.parametrize("missing,allow_negative,fill_gaps",
                         list(itertools.product(["error", "zero"], [False, True], ["zero", "error"])))
def test_quarantine_sets_aside_exactly_what_group_series_refuses(missing, allow_negative, fill_gaps):
    rng = np.random.default_rng(hash((missing, allow_negative, fill_gaps)) % 2**32)
    kinds = list(CORRUPTIONS) + list(rng.choice(CORRUPTIONS, 12))
    sales = _sales(rng, kinds)
    opts = dict(freq="W-MON", id_col="sku", time_col="when", target_col="qty", missing=missing,
                fill_gaps=fill_gaps)
    clean, report = so.quarantine(sales, allow_negative=allow_negative, **opts)
    quarantined = set(report["sku"].to_pylist())
    refused = set()
    for sid in sorted(set(sales["sku"].to_pylist())):
        rows = sales.filter(pc.equal(sales["sku"], sid))
        try:
            so.group_series(rows, allow_negative=allow_negative, **opts)
        except ValidationError:
            refused.add(sid)
    assert quarantined == refused
    assert refused  # the corruptions above are refused under every option set
    g = so.group_series(clean, allow_negative=allow_negative, **opts)  # what is left groups cleanly
    assert set(g.ids.to_pylist()) == set(sales["sku"].to_pylist()) - refused
    reasons = {c.what for c in SALES_CHECKS.values()}
    assert all(r.split(" W-MON")[0] in reasons for r in report["reason"].to_pylist())


def _items(rng: np.random.Generator, ids: list[str]) -> tuple[pa.Table, dict[str, str]]:
    """An items table keyed by ``sku`` where some rows break one rule of the rule table each."""
    cols = {"sku": list(ids), "lead_time": list(rng.uniform(1, 9, len(ids)).round(1)),
            "service_level": [0.95] * len(ids), "review_period": [None] * len(ids),
            "pack_size": [1.0] * len(ids), "shelf_life_days": [math.inf] * len(ids),
            "service_metric": ["cycle"] * len(ids)}
    spoilt = {}
    bad = [("lead_time", None), ("lead_time", -1.0), ("service_level", 1.0), ("service_level", math.nan),
           ("pack_size", 0.0), ("review_period", math.inf), ("shelf_life_days", -math.inf),
           ("service_metric", "weekly")]
    for i, (col, val) in zip(rng.permutation(len(ids))[:len(bad)], bad):
        cols[col][i] = val
        spoilt[ids[i]] = col
    tbl = pa.table(cols)
    dup = tbl.slice(0, 1)  # the first item twice
    spoilt.setdefault(ids[0], "duplicate")
    return pa.concat_tables([tbl, dup]), spoilt


def test_quarantine_items_sets_aside_exactly_what_inventory_policy_refuses():
    rng = np.random.default_rng(5)
    ids = [f"i{k:02d}" for k in range(14)]
    items, spoilt = _items(rng, ids)
    clean, report = so.quarantine_items(items, pa.array(ids + ["extra"]), id_col="sku")
    got = dict(zip(report["sku"].to_pylist(), report["reason"].to_pylist()))
    assert got.pop("extra") == "no items row for this series"
    refused = set()
    for sid in ids:
        demand = pa.table({"sku": [sid], "demand_mean": [2.0], "demand_std": [1.0]})
        try:
            so.inventory_policy(demand, items.filter(pc.equal(items["sku"], sid)), id_col="sku")
        except ValidationError:
            refused.add(sid)
    assert set(got) == refused == set(spoilt)
    for sid, col in spoilt.items():
        want = "duplicate item row" if col == "duplicate" else f"{col}: expected {ITEMS[col].accepted}"
        assert got[sid] == want
    assert sorted(clean["sku"].to_pylist()) == sorted(set(ids) - refused)


def test_nightly_run_honours_the_callers_column_names_end_to_end(tmp_path):
    base = so.datasets.synthetic_retail(6, 90, seed=8).select(["unique_id", "ds", "y"])
    renamed = base.rename_columns(["sku", "date", "qty"])
    ids = sorted(set(base["unique_id"].to_pylist()))
    items = pa.table({"unique_id": ids, "lead_time": [3.0, 5.0, 2.0, 7.0, 4.0, 1.0],
                      "review_period": [7.0, 1.0, 0.0, 7.0, 14.0, 1.0],
                      "service_level": [0.9, 0.95, 0.99, 0.9, 0.95, 0.97]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = so.run_nightly(base, items, 21, models=["naive", "croston_sba"])
        sku_items = items.rename_columns(["sku", "lead_time", "review_period", "service_level"])
        got = so.run_nightly(renamed, sku_items, 21, models=["naive", "croston_sba"], id_col="sku",
                             time_col="date", target_col="qty", out=tmp_path)
    assert got.policy.num_rows == 6 and got.policy.column_names[0] == "sku"
    assert got.policy.drop_columns(["sku"]).equals(want.policy.drop_columns(["unique_id"]))
    assert got.forecast.column_names[:2] == ["sku", "date"]
    assert got.forecast.drop_columns(["sku", "date"]).equals(want.forecast.drop_columns(["unique_id", "ds"]))
    assert got.summary["policies"] == 6 and got.summary["items_quarantined"] == 0
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "policy.parquet").equals(got.policy)
    assert pq.read_table(tmp_path / "forecast.parquet").equals(got.forecast)
    assert pq.read_table(tmp_path / "quarantine.parquet").equals(got.quarantine)


def test_nightly_run_with_sku_ids_and_no_items_table():
    """The reported failure: ``run_nightly(sales, id_col="sku")`` used to stop in the inventory stage."""
    sales = so.datasets.synthetic_retail(4, 60, seed=2).select(["unique_id", "ds", "y"]).rename_columns(
        ["sku", "ds", "y"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = so.run_nightly(sales, h=14, models=["naive"], id_col="sku")
    assert plan.policy["sku"].to_pylist() == sorted(set(sales["sku"].to_pylist()))
    assert plan.quarantine.column_names == ["sku", "reason", "first_row", "table"]


def test_inventory_tables_keyed_by_another_id_column():
    demand = pa.table({"item": ["a", "b"], "demand_mean": [10.0, 4.0], "demand_std": [3.0, 2.0]})
    items = pa.table({"item": ["b", "a"], "lead_time": [2.0, 4.0], "review_period": [7.0, 7.0]})
    pol = so.inventory_policy(demand, items, policy="RS", distribution="normal", id_col="item")
    ref = so.inventory_policy(demand.rename_columns(["unique_id", "demand_mean", "demand_std"]),
                              items.rename_columns(["unique_id", "lead_time", "review_period"]),
                              policy="RS", distribution="normal")
    assert pol.column_names[0] == "item"
    assert pol.drop_columns(["item"]).equals(ref.drop_columns(["unique_id"]))
    # the textbook order-up-to level: d (L + R) + z sigma sqrt(L + R)
    from scipy.stats import norm

    want = 10 * 11 + norm.ppf(0.95) * 3 * math.sqrt(11)
    assert pol["order_up_to"][0].as_py() == pytest.approx(want, rel=1e-9)
    kpi = so.simulate_inventory(pol, demand, n_periods=400, seed=1, id_col="item")
    assert kpi["item"].to_pylist() == ["a", "b"]
    with pytest.raises(so.errors.MissingColumnError, match="id_col"):
        so.inventory_policy(demand, items)  # keyed by "item", asked for "unique_id"


def test_duplicate_pairs_and_gaps_against_an_arrow_group_by():
    """The quarantine's sort-based pair checks flag the rows an Arrow hash group-by flags."""
    from stockopt.pipeline import _pair_checks

    rng = np.random.default_rng(1)
    for trial in range(120):
        n = int(rng.integers(1, 50))
        raw = rng.integers(0, 5, n)
        ids = pa.chunked_array([pa.array([f"s{k}" for k in raw] if trial % 2 else np.sort(raw))])
        p = rng.integers(0, 8, n).astype(np.int64)
        if trial % 3 == 0:
            p = np.sort(p)
        rows = np.ones(n, dtype=bool) if trial % 4 else rng.random(n) < 0.7
        dup, gap, _ = _pair_checks(ids, p, rows, so.parse_freq("D"))
        idx = np.flatnonzero(rows)
        key = pa.table({"i": ids.take(pa.array(idx)), "p": p[idx], "row": np.arange(idx.size)})
        agg = key.group_by(["i", "p"], use_threads=False).aggregate([("row", "min")])
        want = np.zeros(n, dtype=bool)
        want[idx] = True
        want[idx[agg["row_min"].to_numpy()]] = False  # the first row of each pair is not a duplicate
        np.testing.assert_array_equal(dup, want)
        per = key.group_by("i", use_threads=False).aggregate(
            [("p", "min"), ("p", "max"), ("p", "count_distinct"), ("row", "min")])
        gapped = (per["p_max"].to_numpy() - per["p_min"].to_numpy() + 1) > per["p_count_distinct"].to_numpy()
        want_gap = np.zeros(n, dtype=bool)
        want_gap[idx[per["row_min"].to_numpy()[gapped]]] = True
        np.testing.assert_array_equal(gap, want_gap)
