"""The gap and null options of the demand-signal functions, and censored nulls in the nightly run.

Oracle of ``missing=`` / ``fill_gaps=``: the same history with the gaps and nulls filled by hand (NumPy,
no stockopt code) gives the same classes, detections and demand estimates.  Oracle of the quarantine
of a null in-stock flag: the run without that series gives the same forecasts for the others.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import stockopt as so
from stockopt.errors import FrequencyError, NullValueError

START = dt.date(2024, 1, 1)


def _history(seed=3, n_series=6, n_days=150):
    """Daily sales of a few series with stockout spells (in_stock False, sales 0) and an on_hand level."""
    rng = np.random.default_rng(seed)
    ids, ds, y, flag, on_hand = [], [], [], [], []
    for k in range(n_series):
        rate = [6.0, 0.6, 3.0][k % 3]
        d = rng.poisson(rate, n_days).astype(float)
        ok = np.ones(n_days, dtype=bool)
        for s in rng.choice(n_days - 10, 2, replace=False):
            ok[s:s + rng.integers(2, 8)] = False
        d[~ok] = 0.0
        ids += [f"s{k}"] * n_days
        ds += [START + dt.timedelta(days=i) for i in range(n_days)]
        y += d.tolist()
        flag += ok.tolist()
        on_hand += np.where(ok, rng.integers(1, 30, n_days), 0).astype(float).tolist()
    return pa.table({"unique_id": ids, "ds": pa.array(ds, pa.date32()), "y": y, "in_stock": flag,
                     "on_hand": on_hand})


def _damage(full, seed=4, share=0.06):
    """Drop some inner rows (gaps) and null some sales, never a series' first or last row."""
    rng = np.random.default_rng(seed)
    n = full.num_rows
    ids = np.asarray(full["unique_id"].to_pylist())
    edge = np.zeros(n, dtype=bool)
    edge[0] = edge[-1] = True
    edge[1:] |= ids[1:] != ids[:-1]
    edge[:-1] |= ids[1:] != ids[:-1]
    drop = (rng.random(n) < share) & ~edge
    null = (rng.random(n) < share) & ~edge & ~drop
    y = pa.array(np.asarray(full["y"]), mask=null)
    damaged = full.set_column(2, "y", y).filter(pa.array(~drop))
    return damaged, drop, null


def _by_hand(full, drop, null, *, missing, fill_gaps):
    """The history ``missing`` / ``fill_gaps`` describe, filled with NumPy: dropped rows come back with the
    flags of the row before them and zero or interpolated sales; nulls become zero or interpolated."""
    y = np.asarray(full["y"], dtype=float).copy()
    ids = np.asarray(full["unique_id"].to_pylist())
    flag = np.asarray(full["in_stock"]).copy()
    on_hand = np.asarray(full["on_hand"]).copy()
    for i in np.flatnonzero(drop):  # in row order, so a run of dropped rows carries the last kept one
        flag[i], on_hand[i] = flag[i - 1], on_hand[i - 1]
    for sid in np.unique(ids):
        rows = np.flatnonzero(ids == sid)
        v = y[rows]
        gap, nul = drop[rows], null[rows]
        if fill_gaps == "zero":
            v[gap] = 0.0
        if missing == "zero":
            v[nul] = 0.0
        holes = (gap if fill_gaps == "interpolate" else np.zeros_like(gap)) | \
            (nul if missing == "interpolate" else np.zeros_like(nul))
        if holes.any():
            x = np.arange(v.size)
            v[holes] = np.interp(x[holes], x[~holes], v[~holes])
        y[rows] = v
    return pa.table({"unique_id": full["unique_id"], "ds": full["ds"], "y": y, "in_stock": flag,
                     "on_hand": on_hand})


CASES = [("zero", "zero"), ("interpolate", "zero"), ("zero", "interpolate"), ("interpolate", "interpolate")]


@pytest.mark.parametrize("missing,fill_gaps", CASES)
def test_classify_demand_with_gaps_and_nulls_equals_the_history_filled_by_hand(missing, fill_gaps):
    full = _history()
    damaged, drop, null = _damage(full)
    hand = _by_hand(full, drop, null, missing=missing, fill_gaps=fill_gaps)
    for censored in (None, "in_stock", "on_hand"):
        got = so.classify_demand(damaged, freq="D", censored=censored, missing=missing, fill_gaps=fill_gaps,
                                 new_periods=20, dead_periods=30)
        want = so.classify_demand(hand, freq="D", censored=censored, new_periods=20, dead_periods=30)
        assert got.equals(want), censored


@pytest.mark.parametrize("missing,fill_gaps", CASES)
def test_estimate_demand_with_gaps_and_nulls_equals_the_history_filled_by_hand(missing, fill_gaps):
    full = _history(seed=7)
    damaged, drop, null = _damage(full, seed=8)
    hand = _by_hand(full, drop, null, missing=missing, fill_gaps=fill_gaps)
    for censored in ("in_stock", "on_hand"):
        got = so.estimate_demand(damaged, freq="D", censored=censored, missing=missing, fill_gaps=fill_gaps)
        want = so.estimate_demand(hand, freq="D", censored=censored)
        assert got.num_rows == full.num_rows
        np.testing.assert_allclose(np.asarray(got["demand"]), np.asarray(want["demand"]), rtol=1e-12)
        assert got.select(["unique_id", "ds", "y", "censored"]).equals(
            want.select(["unique_id", "ds", "y", "censored"]))


@pytest.mark.parametrize("missing,fill_gaps", CASES)
def test_detect_stockouts_with_gaps_and_nulls_equals_the_history_filled_by_hand(missing, fill_gaps):
    full = _history(seed=11, n_series=9, n_days=200)
    # a long unrecorded stockout in a fast mover, with a gap and a null inside it
    y = np.asarray(full["y"]).copy()
    y[60:75] = 0.0
    full = full.set_column(2, "y", pa.array(y))
    damaged, drop, null = _damage(full, seed=12)
    hand = _by_hand(full, drop, null, missing=missing, fill_gaps=fill_gaps)
    for in_stock in (None, "in_stock"):
        got = so.detect_stockouts(damaged, freq="D", in_stock=in_stock, missing=missing, fill_gaps=fill_gaps)
        want = so.detect_stockouts(hand, freq="D", in_stock=in_stock)
        assert got.num_rows >= 1
        assert got.equals(want), in_stock


def test_gap_and_null_options_refuse_as_forecast_does():
    full = _history(n_series=2, n_days=40)
    damaged, drop, null = _damage(full, share=0.1)
    assert drop.any() and null.any()
    for fn, kw in ((so.classify_demand, {}), (so.detect_stockouts, {}), (so.estimate_demand, {})):
        with pytest.raises(NullValueError, match="null or NaN demand"):
            fn(damaged, freq="D", fill_gaps="zero", **kw)
        with pytest.raises(FrequencyError, match="missing periods"):
            fn(damaged, freq="D", missing="zero", fill_gaps="error", **kw)
        with pytest.raises(so.errors.ParameterError, match="fill_gaps"):
            fn(damaged, freq="D", fill_gaps="ffill", **kw)
    # forecast refuses the same table for the same reasons
    with pytest.raises(NullValueError, match="null or NaN demand"):
        so.forecast(damaged, 3, freq="D", models=["naive"])


def test_mark_stockouts_output_fed_back_with_gaps():
    """A run detected on a gapped history, marked and fed back, censors every period of the run (the gap
    periods inside it take the flag of the period before them)."""
    full = _history(seed=11, n_series=3, n_days=200)
    y = np.asarray(full["y"]).copy()
    y[60:75] = 0.0
    full = full.set_column(2, "y", pa.array(y)).drop_columns(["in_stock", "on_hand"])
    keep = np.ones(full.num_rows, dtype=bool)
    keep[[63, 64, 70]] = False  # gaps inside the run
    damaged = full.filter(pa.array(keep))
    runs = so.detect_stockouts(damaged, freq="D", fill_gaps="zero")
    run = runs.filter(pc.and_(pc.equal(runs["unique_id"], "s0"),
                              pc.equal(runs["start"], pa.scalar(START + dt.timedelta(days=60), pa.date32()))))
    assert run.num_rows == 1 and run["end"][0].as_py() >= START + dt.timedelta(days=74)
    marked = so.mark_stockouts(damaged, run)
    est = so.estimate_demand(marked, freq="D", censored="in_stock", fill_gaps="zero")
    est = est.filter(pc.equal(est["unique_id"], "s0"))
    cens = np.asarray(est["censored"])
    days = np.arange(cens.size)
    first = (run["start"][0].as_py() - START).days
    last = (run["end"][0].as_py() - START).days
    np.testing.assert_array_equal(cens, (days >= first) & (days <= last))


# --- a null in-stock flag in the nightly run --------------------------------------------------------------
def _nightly_sales():
    sales = so.datasets.synthetic_retail(6, 120, seed=2, stockout_share=0.5, stockout_days=(3, 10))
    flag = np.asarray(sales["in_stock"]).astype(object)
    ids = np.asarray(sales["unique_id"].to_pylist())
    bad_id = sorted(set(ids))[2]
    rows = np.flatnonzero(ids == bad_id)
    flag[rows[[40, 41, 90]]] = None
    with_null = sales.set_column(sales.column_names.index("in_stock"), "in_stock", pa.array(flag.tolist(),
                                                                                           pa.bool_()))
    on_hand = np.where(np.asarray(sales["in_stock"]), 5.0, 0.0)
    on_hand[rows[7]] = np.nan
    with_nan = sales.append_column("on_hand", pa.array(on_hand))
    return sales, with_null, with_nan, bad_id, int(rows[40]), int(rows[7])


def test_null_in_stock_flag_quarantines_its_series_and_the_run_goes_on():
    sales, with_null, with_nan, bad_id, row_null, row_nan = _nightly_sales()
    others = with_null.filter(pc.not_equal(with_null["unique_id"], bad_id))
    for tbl, col, row in ((with_null, "in_stock", row_null), (with_nan, "on_hand", row_nan)):
        with pytest.raises(NullValueError, match=col):  # forecast (not a nightly run) keeps refusing
            so.forecast(tbl, 14, freq="D", models=["naive"], censored=col)
        plan = so.run_nightly(tbl, h=14, freq="D", models=["ses"], censored=col)
        assert plan.quarantine.to_pylist() == [{"unique_id": bad_id, "reason": f"null in-stock flag ({col})",
                                                "first_row": row, "table": "sales"}]
        assert plan.summary["series_quarantined"] == 1
        assert plan.summary["quarantine_reasons"] == {f"null in-stock flag ({col})": 1}
        want = so.forecast(others if col == "in_stock" else
                           with_nan.filter(pc.not_equal(with_nan["unique_id"], bad_id)),
                           14, freq="D", models=["ses"], level=[80, 95], censored=col)
        assert plan.forecast.equals(want)
    # without censored= the flag is not read, and nothing is quarantined
    assert so.run_nightly(with_null, h=14, freq="D", models=["naive"]).quarantine.num_rows == 0
    clean, report = so.quarantine(with_null, freq="D", censored="in_stock")
    assert report["unique_id"].to_pylist() == [bad_id] and clean.num_rows == others.num_rows


def test_censoring_column_faults_of_the_whole_table_still_raise():
    sales, *_ = _nightly_sales()
    with pytest.raises(so.errors.MissingColumnError, match="stock_flag"):
        so.run_nightly(sales, h=14, freq="D", models=["naive"], censored="stock_flag")
    text = sales.append_column("status", pa.array(["in"] * sales.num_rows))
    with pytest.raises(so.errors.ColumnTypeError, match="status"):
        so.run_nightly(text, h=14, freq="D", models=["naive"], censored="status")


def test_plan_and_cli_quarantine_null_flags(tmp_path):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from stockopt.cli import main

    sales, with_null, _, bad_id, row_null, _ = _nightly_sales()
    res = so.plan(with_null, h=14, freq="D", models=["naive"], censored="in_stock", n_partitions=2,
                  backend="threads")
    assert res.quarantine.to_pylist() == [{"unique_id": bad_id, "reason": "null in-stock flag (in_stock)",
                                           "first_row": row_null, "table": "sales"}]
    direct = so.run_nightly(with_null, h=14, freq="D", models=["naive"], censored="in_stock")
    assert res.forecast.equals(direct.forecast)
    # a partition holding only the bad series: its report still names it
    from stockopt.nightly._plan import plan_partition

    alone = with_null.filter(pc.equal(with_null["unique_id"], bad_id))
    part = plan_partition({"sales": alone}, {"h": 14, "models": ["naive"], "freq": "D",
                                             "censored": "in_stock"})
    assert part.quarantine["unique_id"].to_pylist() == [bad_id]
    assert part.quarantine["reason"].to_pylist() == ["null in-stock flag (in_stock)"]
    pq.write_table(with_null, tmp_path / "sales.parquet")
    out = CliRunner().invoke(main, ["plan", str(tmp_path / "sales.parquet"), "--out", str(tmp_path / "plan"),
                                    "--horizon", "14", "--freq", "D", "--model", "naive", "--censored", "in_stock"])
    assert out.exit_code == 3, out.output
    q = pq.read_table(tmp_path / "plan" / "quarantine.parquet")
    assert q["unique_id"].to_pylist() == [bad_id] and q["first_row"].to_pylist() == [row_null]
