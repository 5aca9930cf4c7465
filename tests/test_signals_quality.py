"""check_data and detect_stockouts: planted defects found, nothing else on clean data; kernels vs twins."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import stockopt as so
from stockopt._kernels.forecast.quality import series_quantiles, zero_runs_block
from stockopt.errors import ParameterError
from stockopt.signals import check_data, detect_stockouts, mark_stockouts
from tests.reference import signals as ref

N, DAYS = 240, 400


@pytest.fixture(scope="module")
def clean():
    t = so.datasets.synthetic_retail(N, DAYS, seed=21, stockouts=False, return_truth=True)
    return t.drop_columns(["demand"])


def _ids(t, cls, k):
    """The first ``k`` series of generator class ``cls`` (class 0: with a mean of at least 3 a day)."""
    c = t["demand_class"].to_numpy()[::DAYS]
    mean = t["y"].to_numpy().reshape(N, DAYS).mean(axis=1)
    ok = np.flatnonzero((c == cls) & ((mean >= 3) if cls == 0 else True))
    return [f"item_{i:06d}" for i in ok[:k]]


def _set(t, uid, day, **values):
    """Change the row of ``uid`` on day number ``day`` (0-based)."""
    ids = t["unique_id"].to_numpy(zero_copy_only=False)
    row = int(np.flatnonzero(ids == uid)[day])
    for col, v in values.items():
        arr = t[col].to_pylist()
        arr[row] = v
        t = t.set_column(t.column_names.index(col), col, pa.array(arr, t[col].type))
    return t


def _drop(t, uid, days):
    ids = t["unique_id"].to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(ids == uid)[list(days)]
    keep = np.ones(t.num_rows, bool)
    keep[rows] = False
    return t.filter(pa.array(keep))


def _found(rep):
    return {(r["unique_id"], r["check"]) for r in rep.findings.to_pylist()}


def test_clean_synthetic_data_has_no_finding(clean):
    rep = check_data(clean.drop_columns(["demand_class"]), freq="D")
    assert rep.findings.num_rows == 0 and rep.ok
    assert rep.n_rows == N * DAYS and rep.n_series == N


@pytest.mark.slow
def test_every_planted_defect_is_found_and_nothing_else(clean):
    smooth = _ids(clean, 0, 12)
    inter = _ids(clean, 1, 2)
    t = clean.drop_columns(["demand_class"])
    plant = {}
    t = _set(t, smooth[0], 50, y=None); plant[(smooth[0], "missing_value")] = 1
    t = _set(t, smooth[1], 60, y=float("inf")); plant[(smooth[1], "infinite_value")] = 1
    t = _set(t, smooth[2], 70, y=-2.0); plant[(smooth[2], "negative_quantity")] = 1
    dup_row = t.filter(pc.equal(t["unique_id"], smooth[3])).slice(80, 2)
    t = pa.concat_tables([t, dup_row]); plant[(smooth[3], "duplicate")] = 2
    t = _drop(t, smooth[4], [d for d in range(DAYS) if d % 7]); plant[(smooth[4], "spacing")] = DAYS // 7 + 1
    t = _drop(t, smooth[5], [100, 101, 150]); plant[(smooth[5], "gap")] = 3
    for uid, day in ((smooth[6], 120), (inter[0], None)):
        y = t.filter(pc.equal(t["unique_id"], uid))["y"].to_numpy()
        d = int(np.flatnonzero(y >= np.median(y[y > 0]))[3]) if day is None else day
        t = _set(t, uid, d, y=float(max(y[d], np.median(y[y > 0])) * 100)); plant[(uid, "outlier")] = 1
    for d in range(200, 214):  # two weeks without a sale of a 3+ a day item, in stock as far as anyone knows
        t = _set(t, smooth[7], d, y=0.0)
    plant[(smooth[7], "unrecorded_stockout")] = None
    t = _drop(t, smooth[8], range(DAYS - 40, DAYS)); plant[(smooth[8], "stale")] = 40
    t = _set(t, smooth[9], 10, ds=None); plant[(smooth[9], "null_date")] = 1
    t = _set(t, smooth[10], 11, unique_id=None); plant[(None, "null_id")] = 1
    plant[(smooth[9], "gap")] = plant[(smooth[10], "gap")] = 1  # rows that cannot be placed leave gaps
    t = t.take(pa.array(np.random.default_rng(0).permutation(t.num_rows)))  # any row order
    all_ids = [f"item_{i:06d}" for i in range(N)]
    items = pa.table({"unique_id": [u for u in all_ids if u != smooth[11]] + ["ghost"],
                      "lead_time": [7.0] * (N - 1) + [3.0]})
    items = items.set_column(1, "lead_time", pa.array([-1.0] + [7.0] * (N - 1), pa.float64()))
    plant[(smooth[11], "missing_in_items")] = 1
    plant[(all_ids[0], "invalid_item")] = 1
    plant[("ghost", "missing_in_sales")] = 1
    stock = pa.table({"unique_id": all_ids[1:] + [all_ids[2], "ghost2"],
                      "on_hand": [5.0] * (N - 1) + [1.0, -1.0]})
    plant[(all_ids[0], "missing_in_stock")] = 1
    plant[(all_ids[2], "invalid_stock")] = 2
    plant[("ghost2", "invalid_stock")] = 1
    plant[("ghost2", "missing_in_sales")] = 1
    rep = check_data(t, items=items, stock=stock, freq="D")
    assert _found(rep) == set(plant), (sorted(_found(rep) - set(plant), key=str),
                                       sorted(set(plant) - _found(rep), key=str))
    counts = {(r["unique_id"], r["check"]): r["count"] for r in rep.findings.to_pylist()}
    for key, n in plant.items():
        if n is not None:
            assert counts[key] == n, key
    row = rep.findings.filter(pc.equal(rep.findings["check"], "unrecorded_stockout")).to_pylist()[0]
    assert row["first_date"] == dt.date(2023, 1, 2) + dt.timedelta(days=200) and row["count"] >= 14
    assert not rep.ok
    summary = {r["check"]: (r["series"], r["count"]) for r in rep.summary.to_pylist()}
    assert summary["invalid_stock"] == (2, 3) and summary["outlier"] == (2, 2)
    # the caller's column names: every table keyed by id_col, the same findings under that name
    names = {"unique_id": "sku", "ds": "day", "y": "qty"}
    ren = check_data(t.rename_columns([names.get(c, c) for c in t.column_names]),
                     items=items.rename_columns(["sku", "lead_time"]),
                     stock=stock.rename_columns(["sku", "on_hand"]), freq="D", id_col="sku", time_col="day",
                     target_col="qty")
    assert ren.findings.column_names[0] == "sku"
    assert ren.findings.rename_columns(rep.findings.column_names).equals(rep.findings)
    assert ren.summary.equals(rep.summary)


@pytest.mark.slow
def test_phantom_inventory_needs_stock_on_hand(clean):
    uid = _ids(clean, 0, 1)[0]
    t = clean.drop_columns(["demand_class"]).append_column("on_hand", pa.array(np.full(N * DAYS, 10.0)))
    for d in range(200, 214):
        t = _set(t, uid, d, y=0.0)
    assert _found(check_data(t, freq="D")) == {(uid, "phantom_inventory")}
    for d in range(200, 214):  # the shelf was recorded empty: a stockout everyone knew about, not a finding
        t = _set(t, uid, d, on_hand=0.0)
    assert check_data(t, freq="D").findings.num_rows == 0
    # a stockout still going on at the end, with the stock snapshot saying there is stock
    t2 = clean.drop_columns(["demand_class"])
    for d in range(DAYS - 14, DAYS):
        t2 = _set(t2, uid, d, y=0.0)
    stock = pa.table({"unique_id": [f"item_{i:06d}" for i in range(N)], "on_hand": [4.0] * N})
    assert _found(check_data(t2, stock=stock, freq="D")) == {(uid, "phantom_inventory")}
    assert _found(check_data(t2, freq="D")) == {(uid, "unrecorded_stockout")}


def test_clean_caps_outliers_fills_gaps_and_reports_every_change(clean):
    uid = _ids(clean, 0, 2)
    t = clean.drop_columns(["demand_class"])
    promo = t.filter(pc.equal(t["unique_id"], uid[0]))["on_promotion"].to_numpy(zero_copy_only=False)
    t = _set(t, uid[0], int(np.flatnonzero(~promo)[30]), y=5000.0)  # a promotion spike is no outlier
    t = _drop(t, uid[1], [40, 41])
    rep = check_data(t, freq="D", clean=["outliers", "gaps"])
    ch = rep.changes.to_pylist()
    assert [(c["unique_id"], c["action"], c["old"]) for c in ch] == [
        (uid[0], "cap_outlier", 5000.0), (uid[1], "fill_gap", None), (uid[1], "fill_gap", None)]
    assert ch[0]["new"] < 5000 and ch[1]["new"] == 0.0
    assert [c["ds"] for c in ch[1:]] == [dt.date(2023, 1, 2) + dt.timedelta(days=d) for d in (40, 41)]
    out = rep.cleaned
    assert out.num_rows == t.num_rows + 2 and out.schema == t.schema
    assert check_data(out, freq="D").findings.num_rows == 0
    # nothing dropped: every input row is in the output, unchanged but for the capped quantity
    key = [("unique_id", "ascending"), ("ds", "ascending")]
    a = t.sort_by(key)
    b = out.filter(pc.invert(pc.and_(pc.equal(out["unique_id"], uid[1]),
                                     pc.is_in(out["ds"], pa.array([ch[1]["ds"], ch[2]["ds"]]))))).sort_by(key)
    diff = np.flatnonzero(a["y"].to_numpy() != b["y"].to_numpy())
    assert diff.size == 1 and a.drop_columns(["y"]).equals(b.drop_columns(["y"]))
    # the inserted rows carry the previous day's other columns
    ins = out.filter(pc.and_(pc.equal(out["unique_id"], uid[1]),
                             pc.equal(out["ds"], ch[1]["ds"]))).to_pylist()[0]
    prev = t.filter(pc.and_(pc.equal(t["unique_id"], uid[1]),
                            pc.equal(t["ds"], pa.scalar(ch[1]["ds"] - dt.timedelta(days=1))))).to_pylist()[0]
    assert ins["price"] == prev["price"] and ins["y"] == 0.0


def test_frequency_and_time_of_day_checks():
    ds = pa.array([dt.datetime(2024, 1, 7), dt.datetime(2024, 1, 14, 13, 0), dt.datetime(2024, 1, 23),
                   dt.datetime(2024, 1, 28), dt.datetime(2024, 2, 4), dt.datetime(2024, 2, 11)],
                  pa.timestamp("us"))
    t = pa.table({"unique_id": ["a"] * 6, "ds": ds, "y": [1.0, 2.0, 3.0, 4.0, 3.0, 2.0]})
    rep = check_data(t, freq="W-SUN")
    got = {(r["check"], r["count"]) for r in rep.findings.to_pylist()}
    # the weeks of Jan 14 (a time of day) and Jan 21 (Jan 23 is off the Sunday grid) have no usable row
    assert got == {("time_of_day", 1), ("off_frequency", 1), ("gap", 2)}


def test_bad_arguments():
    t = pa.table({"unique_id": ["a"], "ds": [dt.date(2024, 1, 1)], "y": [1.0]})
    with pytest.raises(ParameterError, match="clean"):
        check_data(t, clean=["drop"])
    with pytest.raises(ParameterError, match="outlier_z"):
        check_data(t, outlier_z=0)
    with pytest.raises(ParameterError, match="alpha"):
        detect_stockouts(t, alpha=1.5)


# ---------------------------------------------------------------- kernels against slow twins
def _block(series):
    lens = np.array([len(s) for s in series], dtype=np.int64)
    indptr = np.zeros(len(series) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(lens)
    return (np.concatenate([np.asarray(s, np.float64) for s in series]) if series else np.empty(0)), indptr


def test_series_quantiles_match_numpy():
    rng = np.random.default_rng(2)
    series = [rng.gamma(1.0, 3.0, n) for n in (0, 1, 2, 3, 10, 101)]
    values, indptr = _block(series)
    probs = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    out = np.empty((len(series), probs.size))
    series_quantiles(values, indptr, probs, out)
    assert np.isnan(out[0]).all()
    for i, s in enumerate(series[1:], start=1):
        np.testing.assert_allclose(out[i], np.quantile(s, probs), rtol=1e-14)
        assert out[i, 3] == pytest.approx(ref.quantile(sorted(s), 0.9))


def test_zero_run_kernel_matches_slow_twin():
    rng = np.random.default_rng(4)
    series, phases, known, irregs = [], [], [], []
    for n in (0, 1, 5, 30, 120, 300):
        for rate in (0.3, 3.0, 12.0):
            y = rng.poisson(rate, n).astype(float)
            for _ in range(2 if n > 40 else 0):
                a = int(rng.integers(0, n - 30))
                y[a:a + int(rng.integers(3, 30))] = 0.0
            series.append(y)
            phases.append((np.arange(n) + int(rng.integers(0, 7))) % 7)
            known.append(rng.random(n) < 0.05)
            irregs.append(rng.random(n) < 0.1)
    values, indptr = _block(series)
    phase = np.concatenate(phases).astype(np.int64)
    kn = np.concatenate(known)
    irr = np.concatenate(irregs)
    for window, kappa, n_iter in ((5, 3.0, 1), (30, 10.0, 3), (1000, 0.5, 5)):
        got = zero_runs_block(values, indptr, phase, 7, kn, irr, np.log(0.2), window, kappa, n_iter)
        k = 0
        for i, (y, ph, kw, ir) in enumerate(zip(series, phases, known, irregs)):
            want = ref.zero_runs(list(y), list(ph), 7, list(kw), np.log(0.2), window, kappa, n_iter, list(ir))
            for start, length, lp, ex in want:
                assert (got[0][k], got[1][k], got[2][k]) == (i, start, length)
                assert got[3][k] == pytest.approx(lp, rel=1e-12) and got[4][k] == pytest.approx(ex, rel=1e-12)
                k += 1
        assert k == got[0].size and k >= 8


# ---------------------------------------------------------------- detect_stockouts vs the generator's truth
def test_detected_stockouts_are_true_stockouts():
    t = so.datasets.synthetic_retail(600, 540, seed=8, return_truth=True)
    runs = detect_stockouts(t.drop_columns(["in_stock"]), freq="D")
    marked = mark_stockouts(t.drop_columns(["in_stock"]), runs)
    flagged = ~marked["in_stock"].to_numpy(zero_copy_only=False)
    truth = ~t["in_stock"].to_numpy(zero_copy_only=False)
    smooth = np.repeat(t["demand_class"].to_numpy()[::540] == 0, 540)
    precision = (flagged & truth).sum() / flagged.sum()
    recall_smooth = (flagged & truth & smooth).sum() / (truth & smooth).sum()
    assert precision > 0.95 and recall_smooth > 0.6, (precision, recall_smooth)
    # expected demand of a flagged run is close to the demand that was really lost
    lost = t["demand"].to_numpy()[flagged & truth].sum()
    assert runs["expected_demand"].to_numpy().sum() == pytest.approx(lost, rel=0.15)
    # recorded stockouts are not reported again
    again = detect_stockouts(t, freq="D", in_stock="in_stock")
    assert again.num_rows < runs.num_rows / 5


def test_mark_stockouts_keeps_rows_and_combines_flags():
    days = [dt.date(2024, 1, d) for d in range(1, 9)]
    s = pa.table({"unique_id": ["b"] * 8 + ["a"] * 8, "ds": days * 2, "y": [1.0] * 16,
                  "in_stock": [True] * 15 + [False]})
    runs = pa.table({"unique_id": ["a", "a", "b"], "start": [days[1], days[2], days[6]],
                     "end": [days[5], days[3], days[7]]})
    out = mark_stockouts(s, runs)
    assert out["in_stock"].to_pylist() == ([True] * 6 + [False] * 2 + [True] + [False] * 5 + [True, False])
    assert out.drop_columns(["in_stock"]).equals(s.drop_columns(["in_stock"]))


def test_empty_and_one_row_tables():
    empty = pa.table({"unique_id": pa.array([], pa.string()), "ds": pa.array([], pa.date32()),
                      "y": pa.array([], pa.float64())})
    rep = check_data(empty, freq="D")
    assert rep.findings.num_rows == 0 and rep.n_series == 0 and rep.ok
    one = pa.table({"unique_id": ["a"], "ds": [dt.date(2024, 1, 1)], "y": [3.0]})
    rep = check_data(one, freq="D", clean=True)
    assert rep.findings.num_rows == 0 and rep.cleaned.equals(one) and rep.changes.num_rows == 0
    assert detect_stockouts(one, freq="D").num_rows == 0


def test_every_row_fault_the_api_refuses_is_an_error_finding():
    """What group_series refuses (the rule table's row checks) check_data reports as an error."""
    from stockopt._rules import SALES_CHECKS
    from stockopt.errors import ValidationError

    days = [dt.date(2024, 1, d) for d in range(1, 11)]
    base = {"unique_id": ["a"] * 10, "ds": days, "y": [float(d % 4 + 1) for d in range(10)]}
    faults = {  # rule-table check -> (the planted fault, check_data's name for it)
        "null_time": ({"ds": 3}, "null_date"),
        "time_of_day": ({"ds": (3, dt.datetime(2024, 1, 4, 13, 0))}, "time_of_day"),
        "null_target": ({"y": 5}, "missing_value"),
        "inf_target": ({"y": (5, float("inf"))}, "infinite_value"),
        "negative_target": ({"y": (5, -2.0)}, "negative_quantity"),
        "duplicate": ({"ds": (6, days[5])}, "duplicate"),
    }
    for rule, (plant, name) in faults.items():
        assert rule in SALES_CHECKS
        cols = {k: list(v) for k, v in base.items()}
        for col, spec in plant.items():
            row, val = (spec, None) if isinstance(spec, int) else spec
            cols[col][row] = val
        typ = pa.timestamp("us") if rule == "time_of_day" else pa.date32()
        if rule == "time_of_day":
            cols["ds"] = [v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time())
                          for v in cols["ds"]]
        t = pa.table({"unique_id": cols["unique_id"], "ds": pa.array(cols["ds"], typ), "y": cols["y"]})
        with pytest.raises(ValidationError):
            so.group_series(t, freq="D")
        found = {(r["check"], r["severity"]) for r in check_data(t, freq="D").findings.to_pylist()}
        assert (name, "error") in found, (rule, found)
