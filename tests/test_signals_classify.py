"""classify_demand: hand-computed ADI/CV^2, a slow twin, AutoModel's own classes and the generator's truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

import stockopt as so
from stockopt.errors import MissingColumnError, ParameterError
from stockopt.signals import classify_demand
from tests.reference import signals as ref


def _table(series, start=dt.date(2024, 1, 1), extra=None):
    ids, ds, y = [], [], []
    for k, s in enumerate(series):
        ids += [f"s{k:03d}"] * len(s)
        ds += [start + dt.timedelta(days=i) for i in range(len(s))]
        y += list(map(float, s))
    cols = {"unique_id": ids, "ds": pa.array(ds, pa.date32()), "y": y}
    if extra:
        cols.update(extra)
    return pa.table(cols)


def test_hand_computed_adi_cv2_and_classes():
    series = [
        [0, 2, 0, 0, 6, 0, 0, 4],   # 3 demands in 8 periods: ADI 8/3; sizes 2, 6, 4: CV2 (8/3)/16 = 1/6
        [5, 6, 4, 5, 7, 5, 6, 5],   # ADI 1; sizes mean 43/8, tiny CV2 -> smooth
        [1, 20, 1, 1, 30, 1, 1, 1],  # ADI 1; CV2 large -> erratic
        [0, 0, 1, 0, 0, 0, 40, 0],  # ADI 4; sizes 1, 40: mean 20.5, var 380.25 -> CV2 0.905 -> lumpy
        [0, 0, 0, 0, 0, 0, 0, 0],   # never sold: ADI inf, CV2 0 -> intermittent (AutoModel's choice)
        [0, 0, 0, 0, 0, 0, 0, 3],   # one demand: CV2 0
    ]
    c = classify_demand(_table(series), freq="D", new_periods=3, dead_periods=5)
    adi = c["adi"].to_numpy()
    cv2 = c["cv2"].to_numpy()
    np.testing.assert_allclose(adi, [8 / 3, 1, 1, 4, np.inf, 8])
    np.testing.assert_allclose(cv2[[0, 3, 4, 5]], [(8 / 3) / 16, 380.25 / 20.5**2, 0, 0])
    sizes = np.array([5, 6, 4, 5, 7, 5, 6, 5.0])
    assert cv2[1] == pytest.approx(sizes.var() / sizes.mean() ** 2)
    assert c["demand_class"].to_pylist() == ["intermittent", "smooth", "erratic", "lumpy", "intermittent",
                                             "intermittent"]
    assert c["n_demands"].to_pylist() == [3, 8, 8, 2, 0, 1]
    # new: fewer than 3 periods since the first sale (and never sold); dead: >= 5 periods without a sale
    assert c["new"].to_pylist() == [False, False, False, False, True, True]
    assert c["dead"].to_pylist() == [False] * 6
    assert c["periods_since_sale"].to_pylist() == [0, 0, 0, 1, 8, 0]
    assert c["last_sale"].to_pylist()[3] == dt.date(2024, 1, 7) and c["last_sale"][4].as_py() is None


def test_matches_slow_twin_on_random_series():
    rng = np.random.default_rng(5)
    series, outs = [], []
    for n in [1, 2, 3, 7, 30, 90, 200]:
        for _ in range(6):
            p = rng.uniform(0.05, 1.0)
            y = np.where(rng.random(n) < p, rng.negative_binomial(rng.uniform(0.3, 5), 0.3, n) + 1, 0)
            if rng.random() < 0.3:
                y[-rng.integers(1, n + 1):] = 0  # a trailing run without sales
            series.append(y)
            outs.append(list(rng.random(n) < 0.15))
    flat_out = [o for s in outs for o in s]
    tbl = _table(series, extra={"in_stock": pa.array([not o for o in flat_out])})
    for cens in (None, "in_stock"):
        c = classify_demand(tbl, freq="D", new_periods=20, dead_periods=15, censored=cens)
        for k, (y, out) in enumerate(zip(series, outs)):
            kept = [v for v, o in zip(y, out) if not o] if cens else list(y)
            adi, cv2 = ref.adi_cv2(kept)
            new, dead, since = ref.life_cycle(list(y), out if cens else None, 20, 15)
            row = c.slice(k, 1).to_pylist()[0]
            assert row["adi"] == pytest.approx(adi) and row["cv2"] == pytest.approx(cv2, abs=1e-12), k
            assert row["demand_class"] == ref.sbc_class(adi, cv2), k
            assert (row["new"], row["dead"], row["periods_since_sale"]) == (new, dead, since), k
            assert row["n_periods"] == len(kept)


def test_same_classes_as_automodel_and_generator_truth():
    t = so.datasets.synthetic_retail(400, 365, seed=3, return_truth=True)
    c = classify_demand(t, freq="D")
    g = so.group_series(t, freq="D")
    auto = so.models.AutoModel(season_length=7, smooth="naive", erratic="naive")
    res = auto.forecast_arrays(g.values, g.indptr, 1)
    names = np.array(so.models.auto.DEMAND_CLASSES)[res.info["demand_class"]]
    assert c["demand_class"].to_pylist() == names.tolist()
    # the generator's processes: intermittent ones are classified so; lumpy ones too except where a year
    # of sizes happens to vary little (sample CV^2 < 0.49 though the process' is ~1); smooth ones with a
    # mean demand of 3 or more per day (almost no zero days) are smooth or erratic
    truth = t["demand_class"].to_numpy()[::365]
    mean = t["demand"].to_numpy().reshape(400, 365).mean(axis=1)
    cls = np.array(c["demand_class"].to_pylist())
    assert (cls[truth == 1] == "intermittent").all()
    assert np.mean(cls[truth == 2] == "lumpy") > 0.97
    assert np.isin(cls[(truth == 0) & (mean >= 3)], ["smooth", "erratic"]).all()


def test_stockouts_do_not_make_an_item_dead_and_defaults_follow_the_frequency():
    y = [3.0] * 40 + [0.0] * 200
    in_stock = [True] * 40 + [False] * 200
    tbl = _table([y], extra={"in_stock": pa.array(in_stock)})
    assert classify_demand(tbl, freq="D")["dead"].to_pylist() == [True]  # 200 days >= 182
    c = classify_demand(tbl, freq="D", censored="in_stock")
    assert c["dead"].to_pylist() == [False] and c["periods_since_sale"].to_pylist() == [0]
    assert c["adi"].to_pylist() == [1.0]


def test_bad_arguments_are_named():
    tbl = _table([[1, 2, 3]])
    with pytest.raises(ParameterError, match="dead_periods"):
        classify_demand(tbl, freq="D", dead_periods=0)
    with pytest.raises(ParameterError, match="adi_cut"):
        classify_demand(tbl, freq="D", adi_cut=float("nan"))
    with pytest.raises(MissingColumnError, match="in_stock"):
        classify_demand(tbl, freq="D", censored="in_stock")
