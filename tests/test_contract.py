"""The contract every forecasting model and every inventory method keeps (scikit-learn's common
checks, written for stockopt): a model is tested here by registering it in ``stockopt.models``.

Forecasting, for every distinct model of :data:`stockopt.models.MODEL_NAMES` and the options in
``OPTIONS``, through :func:`stockopt.forecast` on daily series of unequal lengths (1 to 150 days,
an all-zero and a constant one):

* no mutation of the caller's pandas frame, grouped arrays or model object;
* identical bytes whatever ``n_jobs``, and for two calls in a row;
* series order: shuffled rows give the same table, and relabelled ids (series processed in another
  order) give each series the same forecast;
* partitions: forecasting a subset of the series gives exactly their rows of the full forecast;
* finite, non-negative output, ``lo-95 <= lo-80 <= mean <= hi-80 <= hi-95``, quantile columns
  non-decreasing in the probability;
* an empty table raises :class:`~stockopt.errors.EmptyInputError`; one series works;
* the kernel contract of ``Model.forecast_arrays``: blocks given as slices of ``indptr`` (also with
  ``indptr[0] != 0``) give bit-identical results, the inputs are left untouched, an empty block
  gives empty arrays.

Inventory, for :func:`stockopt.inventory.inventory_policy` over every policy x distribution it
accepts: no mutation of the caller's frames, identical results whatever ``n_jobs`` (the thread split
is forced down to a few items), whatever the items' row order and for any subset of the items.
"""

from __future__ import annotations

import io
import pickle
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import stockopt as so
from stockopt import errors
from stockopt._kernels.codes import STATUS_OK
from stockopt.models import (
    ADIDA,
    ETS,
    IMAPA,
    TSB,
    AutoETS,
    AutoModel,
    AutoTheta,
    Holt,
    HoltWinters,
    SeasonalNaive,
    SimpleExponentialSmoothing,
)
from tests.helpers import SEASON, grouped_arrays, registry, slow

H = 10
LEVEL = [95, 80]
QUANTILES = [0.05, 0.5, 0.2, 0.8, 0.95]  # deliberately unsorted

# registered models with non-default options (the defaults are covered through MODEL_NAMES)
OPTIONS = {
    "SeasonalNaive(nonnegative=False)": SeasonalNaive(SEASON, nonnegative=False),
    "SES(alpha=0.6)": SimpleExponentialSmoothing(0.6),
    "TSB(0.3, 0.05)": TSB(0.3, 0.05),
    "ADIDA(exact=True)": ADIDA(exact=True),
    "IMAPA(exact=True)": IMAPA(exact=True),
    "AutoETS(damped=True)": AutoETS(SEASON, damped=True),
    "AutoETS(nonnegative=True)": AutoETS(SEASON, nonnegative=True),
    "ETS(MAdM)": ETS("MAdM", season_length=SEASON),
    "Holt(M)": Holt(SEASON, error_type="M"),
    "HoltWinters(M)": HoltWinters(SEASON, error_type="M"),
    "AutoTheta(additive)": AutoTheta(SEASON, decomposition_type="additive"),
    "AutoTheta(nonnegative=False)": AutoTheta(SEASON, nonnegative=False),
    "AutoModel(select=backtest)": AutoModel(SEASON, smooth=["naive", "seasonal_naive"],
                                            erratic=["ses_optimized", "auto_theta"], select="backtest"),
    "AutoModel(mixed families)": AutoModel(SEASON, smooth="auto_theta", erratic="ses_optimized",
                                           intermittent="tsb", lumpy="adida"),
}
MODELS = {**registry(), **OPTIONS}
IDS = list(MODELS)


@pytest.fixture(scope="module")
def sales(sales_mixed: pa.Table) -> pa.Table:
    """Daily series of 1 to 150 days, an all-zero and a constant one (``conftest.sales_mixed``)."""
    return sales_mixed


@pytest.fixture(scope="module")
def baseline(sales: pa.Table) -> dict[str, pa.Table]:
    """Each model's forecast of ``sales`` with ``n_jobs=1``, computed once."""
    return {}


def _forecast(data, model, **kw) -> pa.Table:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.FallbackWarning)
        return so.forecast(data, h=H, freq="D", models=[model], level=LEVEL, quantiles=QUANTILES, **kw)


def _base(baseline: dict[str, pa.Table], sales: pa.Table, key: str) -> pa.Table:
    if key not in baseline:
        baseline[key] = _forecast(sales, MODELS[key], n_jobs=1)
    return baseline[key]


def _bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


def _rows_of(table: pa.Table, ids: list[str]) -> pa.Table:
    """The rows of ``table`` whose id is in ``ids``, in ``table``'s order."""
    return table.filter(pc.is_in(table["unique_id"], value_set=pa.array(ids)))


def test_every_model_class_is_in_the_battery() -> None:
    """Each public model class is run by the battery, through a registered name or ``OPTIONS``: a
    class added to ``stockopt.models`` without either fails here."""
    classes = {type(m).__name__ for m in MODELS.values()}
    missing = sorted(set(so.models._CLASSES) - classes)
    assert not missing, f"model classes the contract battery never runs: {missing}"


@pytest.mark.parametrize("key", IDS)
def test_no_input_mutation(key: str, sales: pa.Table, baseline: dict[str, pa.Table]) -> None:
    pd = pytest.importorskip("pandas")
    model = MODELS[key]
    state = pickle.dumps(model)
    df = sales.to_pandas()
    df["y"] = df["y"].to_numpy().copy()  # a writable float64 buffer Arrow may read zero-copy
    before = df.copy(deep=True)
    fc = _forecast(df, model, n_jobs=2)
    pd.testing.assert_frame_equal(df, before)
    assert pickle.dumps(model) == state
    want = _base(baseline, sales, key)
    assert fc.drop_columns(["ds"]).equals(want.drop_columns(["ds"]))  # same numbers from pandas
    g = so.group_series(sales, freq="D")
    values, indptr = g.values.copy(), g.indptr.copy()
    assert _forecast(g, model).equals(want)
    np.testing.assert_array_equal(g.values, values)
    np.testing.assert_array_equal(g.indptr, indptr)


@pytest.mark.parametrize("key", IDS)
def test_n_jobs_and_repeated_calls_give_identical_bytes(key: str, sales: pa.Table,
                                                        baseline: dict[str, pa.Table]) -> None:
    one = _bytes(_base(baseline, sales, key))
    assert _bytes(_forecast(sales, MODELS[key], n_jobs=1)) == one
    assert _bytes(_forecast(sales, MODELS[key], n_jobs=2)) == one


@pytest.mark.parametrize("key", IDS)
def test_series_order_invariance(key: str, sales: pa.Table, baseline: dict[str, pa.Table]) -> None:
    want = _base(baseline, sales, key)
    rng = np.random.default_rng(7)
    shuffled = sales.take(pa.array(rng.permutation(sales.num_rows)))
    assert _forecast(shuffled, MODELS[key]).equals(want)
    # relabel the ids so that the series are processed (and split over threads) in another order
    ids = sorted(set(sales["unique_id"].to_pylist()))
    new = dict(zip(ids, [f"s{k:03d}" for k in rng.permutation(len(ids))]))
    back = {v: k for k, v in new.items()}
    relabelled = sales.set_column(0, "unique_id", pa.array([new[i] for i in sales["unique_id"].to_pylist()]))
    got = _forecast(relabelled, MODELS[key], n_jobs=2)
    got = got.set_column(0, "unique_id", pa.array([back[i] for i in got["unique_id"].to_pylist()]))
    got = got.sort_by([("unique_id", "ascending"), ("ds", "ascending")])
    assert got.equals(want)


@pytest.mark.parametrize("key", IDS)
def test_partition_invariance(key: str, sales: pa.Table, baseline: dict[str, pa.Table]) -> None:
    want = _base(baseline, sales, key)
    ids = sorted(set(sales["unique_id"].to_pylist()))
    for part in (ids[::3], ids[10:17], ids[4:5]):
        got = _forecast(_rows_of(sales, part), MODELS[key])
        assert got.equals(_rows_of(want, part)), part


@pytest.mark.parametrize("key", IDS)
def test_output_finite_ordered_and_complete(key: str, sales: pa.Table, baseline: dict[str, pa.Table]) -> None:
    """Every bound and quantile column is non-decreasing in its probability; the mean lies inside the
    intervals where the predictive distribution is continuous (normal, or conformal around the
    mean).  A discrete one (negative binomial, Poisson) may put the mean above its 90 % quantile:
    with a mean of 0.5 and P(0) > 0.9, hi-80 is 0."""
    model = MODELS[key]
    fc = _base(baseline, sales, key)
    name = model.name
    g = so.group_series(sales, freq="D")
    n = g.n_series
    assert fc.num_rows == n * H
    by_p = {f"{name}-lo-95": 0.025, f"{name}-q5": 0.05, f"{name}-lo-80": 0.1, f"{name}-q20": 0.2,
            f"{name}-q50": 0.5, f"{name}-q80": 0.8, f"{name}-hi-80": 0.9, f"{name}-q95": 0.95,
            f"{name}-hi-95": 0.975}
    assert sorted(fc.column_names) == sorted(["unique_id", "ds", name, *by_p])
    col = {c: fc[c].to_numpy().reshape(n, H) for c in fc.column_names[2:]}
    for c, v in col.items():
        assert np.isfinite(v).all() and (v >= 0).all(), c
    chain = sorted(by_p, key=by_p.get)
    for a, b in zip(chain, chain[1:]):
        bad = np.argwhere(col[a] > col[b])
        assert bad.size == 0, (a, b, bad[:3])
    res = model.forecast_arrays(g.values, g.indptr, H)
    dist = np.broadcast_to(np.asarray(res.dist, dtype=object), (n,))
    continuous = ~np.isin(dist, ["negbin", "poisson"]) if res.var is not None else np.ones(n, bool)
    mean = col[name][continuous]
    assert (col[f"{name}-lo-80"][continuous] <= mean).all()
    assert (mean <= col[f"{name}-hi-80"][continuous]).all()


@pytest.mark.parametrize("key", IDS)
def test_empty_table_and_one_series(key: str, sales: pa.Table, baseline: dict[str, pa.Table]) -> None:
    with pytest.raises(errors.EmptyInputError):
        _forecast(sales.slice(0, 0), MODELS[key])
    first = sales["unique_id"][0].as_py()
    one = _forecast(_rows_of(sales, [first]), MODELS[key])
    assert one.num_rows == H and one.equals(_rows_of(_base(baseline, sales, key), [first]))


@pytest.mark.parametrize("key", IDS)
def test_forecast_arrays_block_contract(key: str, sales: pa.Table) -> None:
    """Kernels index ``values`` through ``indptr`` only: blocks given as slices of ``indptr`` give
    bit-identical results, inputs are not written, an empty block gives empty arrays."""
    model = MODELS[key]
    g = so.group_series(sales, freq="D")
    edge = [np.empty(0), np.array([3.0]), np.zeros(2), np.full(4, 3.0), np.r_[np.zeros(20), 5.0],
            np.r_[7.0, np.zeros(20)]]  # kernels also get series the API would not send (length 0)
    series = [g.series(i) for i in range(g.n_series)]
    values, indptr = grouped_arrays(series[:8] + edge + series[8:], offset=5)
    v0, i0 = values.copy(), indptr.copy()
    whole = model.forecast_arrays(values, indptr, H)
    again = model.forecast_arrays(values, indptr, H)
    np.testing.assert_array_equal(values, v0)
    np.testing.assert_array_equal(indptr, i0)
    n = indptr.shape[0] - 1
    assert whole.mean.shape == (n, H) and whole.status.shape == (n,)
    ok = whole.status == STATUS_OK
    assert np.isfinite(whole.mean[ok]).all()
    if getattr(model, "nonnegative", False):
        assert (whole.mean[ok] >= 0).all()
    if whole.var is not None:  # NaN: no variance for that series (the API then goes conformal)
        assert not (whole.var[ok] < 0).any()
    cuts = [(0, 1), (1, 11), (11, n - 1), (n - 1, n)]
    parts = [model.forecast_arrays(values, indptr[a : b + 1], H) for a, b in cuts]
    def dists(res, k: int) -> np.ndarray:  # the predictive family of each series
        return np.broadcast_to(np.asarray(res.dist, dtype=object), (k,))

    np.testing.assert_array_equal(dists(again, n), dists(whole, n))
    joined = np.concatenate([dists(p, b - a) for (a, b), p in zip(cuts, parts)])
    np.testing.assert_array_equal(joined, dists(whole, n))
    np.testing.assert_array_equal(again.mean, whole.mean)
    np.testing.assert_array_equal(np.vstack([p.mean for p in parts]), whole.mean)
    np.testing.assert_array_equal(np.concatenate([p.status for p in parts]), whole.status)
    if whole.var is not None:
        np.testing.assert_array_equal(again.var, whole.var)
        np.testing.assert_array_equal(np.vstack([p.var for p in parts]), whole.var)
    if whole.fitted is not None:
        assert whole.fitted.shape == values.shape
        np.testing.assert_array_equal(again.fitted, whole.fitted)
        for (a, b), p in zip(cuts, parts):
            span = slice(indptr[a], indptr[b])
            np.testing.assert_array_equal(p.fitted[span], whole.fitted[span])
    for k, v in whole.info.items():
        if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
            joined = np.concatenate([p.info[k] for p in parts])
            assert np.array_equal(joined, v, equal_nan=v.dtype.kind == "f"), k
    empty = model.forecast_arrays(np.empty(0), np.zeros(1, dtype=np.int64), 3)
    assert empty.mean.shape == (0, 3) and empty.status.shape == (0,)


# ------------------------------------------------------------------------------------------ inventory
POLICIES = ["auto", "RS", "sQ", "sS", "base_stock", "newsvendor"]
PARAMETRIC = ["auto", "normal", "gamma", "poisson", "negbin"]
INVENTORY_CASES = {
    **{f"{p}-{d}": ("summary", {"policy": p, "distribution": d}) for p in POLICIES for d in PARAMETRIC},
    **{f"{p}-empirical": ("paths", {"policy": p, "distribution": "empirical"}) for p in POLICIES},
    "auto-auto-paths": ("paths", {}),
    "auto-auto-forecast": ("forecast", {}),
    **{f"{p}-{d}-cost": ("summary", {"policy": p, "distribution": d, "objective": "cost"})
       for p in ("sS", "sQ") for d in ("normal", "poisson")},
    "auto-auto-lost-sales-ready-rate": ("summary", {"lost_sales": True, "ready_rate": True}),
    "RS-negbin-ready-rate": ("summary", {"policy": "RS", "distribution": "negbin", "ready_rate": True}),
    "sS-gamma-ready-rate": ("summary", {"policy": "sS", "distribution": "gamma", "ready_rate": True}),
    **{f"auto-auto-lead-time-{m}": ("summary", {"lead_time_model": m}) for m in ("single", "normal")},
}


def _inventory_inputs(n: int = 48, seed: int = 0) -> dict[str, pa.Table]:
    """Items with every feature a method reads (random lead times on half, continuous, daily and
    weekly review, shelf lives, MOQ and packs), and their demand as a summary, as daily sample paths
    and as a forecast with intervals."""
    rng = np.random.default_rng(seed)
    ids = [f"i{k:03d}" for k in range(n)]
    mean = rng.lognormal(1.0, 1.2, n)  # pieces per day
    lt = rng.integers(0, 15, n).astype(float)
    items = pa.table({
        "unique_id": ids, "lead_time": lt,
        "lead_time_std": np.where(rng.uniform(size=n) < 0.5, 0.0, 0.3 * lt),
        "review_period": rng.choice([0.0, 1.0, 7.0], n), "order_cost": rng.uniform(0, 50, n),
        "unit_cost": rng.uniform(1, 20, n), "service_level": rng.uniform(0.8, 0.99, n),
        "service_metric": rng.choice(["cycle", "fill_rate"], n).tolist(),
        "shelf_life_days": np.where(rng.uniform(size=n) < 0.3, rng.choice([2.0, 5.0, 30.0], n), np.inf),
        "stockout_cost": rng.uniform(0.5, 5, n), "moq": rng.choice([0.0, 10.0], n),
        "pack_size": rng.choice([1.0, 6.0], n)})
    summary = pa.table({"unique_id": ids, "demand_mean": mean, "demand_std": mean * rng.uniform(0.3, 1.5, n)})
    n_paths, days = 8, 60
    day0 = np.datetime64("2024-01-01")
    paths = pa.table({"unique_id": np.repeat(ids, n_paths * days),
                      "ds": np.tile(day0 + np.arange(days), n * n_paths),
                      "sample_id": np.tile(np.repeat(np.arange(n_paths), days), n),
                      "value": rng.poisson(np.repeat(mean, n_paths * days)).astype(float)})
    sd = np.repeat(summary["demand_std"].to_numpy(), days)
    m = np.repeat(mean, days)
    fc = pa.table({"unique_id": np.repeat(ids, days), "ds": np.tile(day0 + np.arange(days), n), "F": m,
                   "F-lo-80": np.maximum(m - 1.2816 * sd, 0), "F-hi-80": m + 1.2816 * sd})
    return {"items": items, "summary": summary, "paths": paths, "forecast": fc}


@pytest.fixture(scope="module")
def inventory_inputs() -> dict[str, pa.Table]:
    return _inventory_inputs()


@pytest.fixture
def split_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``n_jobs`` split any number of items over threads (the API splits only large tables):
    every stockopt module's binding of ``stockopt._exec.item_blocks`` is replaced."""
    import sys

    from stockopt import _exec

    blocks = _exec.item_blocks
    forced = lambda n, n_jobs, min_items=0: blocks(n, n_jobs, min_items=1)  # noqa: E731
    patched = 0
    for name, mod in list(sys.modules.items()):
        if name.startswith("stockopt.") and mod is not None:
            for attr, value in list(vars(mod).items()):
                if value is blocks:
                    monkeypatch.setattr(mod, attr, forced)
                    patched += 1
    assert patched >= 2  # the inventory families and _exec itself


def _policy(demand, items, **kw) -> pa.Table:
    from stockopt.inventory import inventory_policy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return inventory_policy(demand, items, **kw)


def _items_subset(table: pa.Table, ids: list[str]) -> pa.Table:
    return table.filter(pc.is_in(table["unique_id"], value_set=pa.array(ids)))


@pytest.mark.parametrize("case", [slow(c) if c.startswith("sS-gamma") else c for c in INVENTORY_CASES])
def test_inventory_policy_contract(case: str, inventory_inputs: dict[str, pa.Table],
                                   split_everything: None) -> None:
    pd = pytest.importorskip("pandas")
    kind, kw = INVENTORY_CASES[case]
    demand, items = inventory_inputs[kind], inventory_inputs["items"]
    want = _policy(demand, items, **kw)
    ids = items["unique_id"].to_pylist()
    assert want.num_rows == len(ids) and want["unique_id"].to_pylist() == ids
    if kw.get("ready_rate"):
        assert want["expected_ready_rate"].null_count == 0
    for name in want.column_names:  # nulls only where a value does not apply; never NaN
        if pa.types.is_floating(want.schema.field(name).type):
            v = want[name].drop_null().to_numpy()
            assert not np.isnan(v).any(), name
    # determinism and threads (split forced down to a few items per block)
    assert _bytes(_policy(demand, items, **kw)) == _bytes(want)
    for n_jobs in (2, 3):
        assert _policy(demand, items, n_jobs=n_jobs, **kw).equals(want), n_jobs
    # the caller's frames are not written; pandas in gives the same numbers
    dem_pd, items_pd = demand.to_pandas(), items.to_pandas()
    before = dem_pd.copy(deep=True), items_pd.copy(deep=True)
    got = _policy(dem_pd, items_pd, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(dem_pd, before[0])
    pd.testing.assert_frame_equal(items_pd, before[1])
    assert got.equals(want)
    # item order: shuffled rows of both tables give every item the same row
    rng = np.random.default_rng(3)
    shuffled = _policy(demand.take(pa.array(rng.permutation(demand.num_rows))),
                       items.take(pa.array(rng.permutation(items.num_rows))), **kw)
    assert shuffled.sort_by("unique_id").equals(want.sort_by("unique_id"))
    # no item: a named error; one item: its row of the whole
    with pytest.raises(errors.EmptyInputError):
        _policy(demand.slice(0, 0), items.slice(0, 0), **kw)
    # partitions: a subset of the items gets exactly its rows of the whole
    for part in (ids[::5], ids[7:13], ids[20:21]):
        sub = _policy(_items_subset(demand, part), _items_subset(items, part), **kw)
        assert sub.sort_by("unique_id").equals(_items_subset(want, part).sort_by("unique_id")), part
