"""Demand data for demos, tests and benchmarks: a synthetic retail generator and real-data loaders.

:func:`synthetic_retail` draws daily sales of many item-locations, deterministic from a seed, with
the patterns a replenishment engine meets: fast movers with trend, weekly and yearly seasonality;
intermittent and lumpy slow movers (Syntetos, Boylan & Croston 2005 classes); promotions with
uplift and a price cut; and stockout spells during which sales are censored to zero and the
``in_stock`` flag is false.

:func:`load_dataset` reads the real third-party sets kept in the project's ``shared/data`` folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from stockopt._params import Boolean, Instance, Integer, Options, Real, SequenceOf, validate_params
from stockopt.errors import ParameterError, raise_error

__all__ = ["synthetic_retail", "synthetic_supply", "SupplyData", "load_dataset", "shared_data_dir",
           "DATASETS", "DatasetInfo"]

# Demand classes drawn by the generator (also returned per series when asked)
SMOOTH, INTERMITTENT, LUMPY = 0, 1, 2


@validate_params({"n_series": Integer(0), "n_days": Integer(0), "seed": Integer(0), "start": Instance(str),
                  "mix": SequenceOf(Real(0), min_len=3), "promotions": Boolean(), "stockouts": Boolean(),
                  "return_truth": Boolean(), "stockout_share": Real(0, 1), "stockout_rate": Real(0, 1),
                  "stockout_days": SequenceOf(Integer(1), min_len=2),
                  "promotion_uplift": SequenceOf(Real(1), min_len=2)})
def synthetic_retail(
    n_series: int = 1000,
    n_days: int = 730,
    *,
    seed: int = 0,
    start: str = "2023-01-02",
    mix: tuple[float, float, float] = (0.5, 0.3, 0.2),
    promotions: bool = True,
    stockouts: bool = True,
    return_truth: bool = False,
    stockout_share: float = 1.0 / 3.0,
    stockout_rate: float = 1.0 / 90.0,
    stockout_days: tuple[int, int] = (1, 7),
    promotion_uplift: tuple[float, float] = (1.3, 2.5),
) -> pa.Table:
    """Draw daily retail sales for ``n_series`` item-locations over ``n_days`` days.

    Parameters
    ----------
    n_series : int
        Number of item-locations (series).
    n_days : int
        Days of history per series.
    seed : int
        Seed of the random generator; the same arguments always give the same table.  Series are
        drawn in blocks of 256 with one random stream each, which bounds peak memory.
    start : str
        First date (ISO format).
    mix : tuple of 3 floats
        Shares of smooth fast movers, intermittent slow movers and lumpy slow movers.
    promotions : bool
        Add promotion spells (3 to 10 days, about one every two months for a series) with a 10-30 %
        price cut and a demand uplift of 1.3x to 2.5x.
    stockouts : bool
        Add stockout spells (1 to 7 days by default) on a share of the series (a third by default):
        sales are zero and ``in_stock`` is false while they last.
    return_truth : bool
        Also return ``demand`` (the uncensored demand) and ``demand_class`` (0 smooth, 1
        intermittent, 2 lumpy), the ground truth behind censored sales.
    stockout_share : float
        Share (in [0, 1]) of the series that have stockouts (the others never do).
    stockout_rate : float
        Daily probability (in [0, 1]) that a spell starts, for a series that has stockouts.
    stockout_days : (int, int)
        Shortest and longest spell, in days (each series draws one length in this range).
        The defaults give the tables of earlier versions, bit for bit.
    promotion_uplift : (float, float)
        Range of the demand uplift during a promotion (each series draws one factor uniformly in
        it; ``(1.5, 1.5)`` gives every series the same known uplift).  The default gives the
        tables of earlier versions, bit for bit.

    Returns
    -------
    pyarrow.Table
        ``unique_id`` (string ``item_000000``...), ``ds`` (date32), ``y`` (float64 pieces sold),
        ``in_stock`` (bool), ``price`` (float64, currency per piece), ``on_promotion`` (bool);
        sorted by ``unique_id`` then ``ds``.

    Examples
    --------
    >>> t = synthetic_retail(3, 10, seed=1)
    >>> t.num_rows, t.column_names[:3]
    (30, ['unique_id', 'ds', 'y'])
    """
    p = np.asarray(mix, dtype=np.float64)
    if p.shape != (3,) or p.sum() <= 0:
        raise_error(ParameterError, "bad argument", table="synthetic_retail", parameter="mix",
                    expected="three non-negative shares, not all zero", got=mix)
    p = p / p.sum()
    if len(stockout_days) != 2 or stockout_days[0] > stockout_days[1]:
        raise_error(ParameterError, "bad argument", table="synthetic_retail", parameter="stockout_days",
                    expected="a pair (shortest, longest) of spell lengths in days, shortest <= longest",
                    got=stockout_days)
    lo_days, hi_days = (int(d) for d in stockout_days)
    if len(promotion_uplift) != 2 or promotion_uplift[0] > promotion_uplift[1]:
        raise_error(ParameterError, "bad argument", table="synthetic_retail", parameter="promotion_uplift",
                    expected="a pair (lowest, highest) of uplift factors >= 1, lowest <= highest",
                    got=promotion_uplift)
    up_range = (float(promotion_uplift[0]), float(promotion_uplift[1]))
    start_day = int(np.datetime64(start, "D").astype(np.int64))
    n_rows = n_series * n_days
    y = np.empty(n_rows, dtype=np.float64)
    demand = np.empty(n_rows, dtype=np.float64) if return_truth else None
    in_stock = np.empty(n_rows, dtype=bool)
    price = np.empty(n_rows, dtype=np.float64)
    promo = np.empty(n_rows, dtype=bool)
    classes = np.empty(n_series, dtype=np.int8)
    # one independent stream per block of 256 series, so results do not depend on chunk_size
    block = 256
    root = np.random.SeedSequence(seed)
    streams = root.spawn((n_series + block - 1) // block)
    for b0 in range(0, n_series, block):
        b1 = min(b0 + block, n_series)
        rng = np.random.default_rng(streams[b0 // block])
        out = _draw_block(rng, b1 - b0, n_days, start_day, p, promotions, stockouts,
                          (stockout_share, stockout_rate, lo_days, hi_days), up_range)
        sl = slice(b0 * n_days, b1 * n_days)
        y[sl] = out["y"].ravel()
        in_stock[sl] = out["in_stock"].ravel()
        price[sl] = out["price"].ravel()
        promo[sl] = out["promo"].ravel()
        classes[b0:b1] = out["cls"]
        if demand is not None:
            demand[sl] = out["demand"].ravel()
    width = max(6, len(str(max(n_series - 1, 0))))
    names = pa.array([f"item_{i:0{width}d}" for i in range(n_series)], type=pa.string())
    codes = np.repeat(np.arange(n_series, dtype=np.int32), n_days)
    ids = pa.DictionaryArray.from_arrays(pa.array(codes), names).cast(pa.string())
    ds = pa.array(np.tile(np.arange(start_day, start_day + n_days, dtype=np.int32), n_series), type=pa.date32())
    cols = {"unique_id": ids, "ds": ds, "y": y, "in_stock": in_stock, "price": price, "on_promotion": promo}
    if demand is not None:
        cols["demand"] = demand
        cols["demand_class"] = np.repeat(classes, n_days)
    return pa.table(cols)


def _draw_block(
    rng: np.random.Generator, k: int, n_days: int, start_day: int, mix: np.ndarray, promotions: bool,
    stockouts: bool, spells: tuple[float, float, int, int] = (1.0 / 3.0, 1.0 / 90.0, 1, 7),
    up_range: tuple[float, float] = (1.3, 2.5),
) -> dict[str, np.ndarray]:
    """Draw ``k`` series of ``n_days`` days (one block, one random stream)."""
    days = np.arange(start_day, start_day + n_days, dtype=np.int64)
    dow = (days + 3) % 7  # 0 = Monday
    doy = days.astype(float) / 365.25 * 2 * np.pi
    t = np.arange(n_days, dtype=np.float64)
    cls = rng.choice(3, size=k, p=mix).astype(np.int8)

    # promotions: spells of fixed length per series, started at random days
    if promotions:
        length = rng.integers(3, 11, size=k)
        starts = rng.random((k, n_days)) < 1.0 / 60.0
        promo = _spells(starts, length)
        uplift = rng.uniform(up_range[0], up_range[1], size=k)
        cut = rng.uniform(0.1, 0.3, size=k)
    else:
        promo = np.zeros((k, n_days), dtype=bool)
        uplift = np.ones(k)
        cut = np.zeros(k)
    base_price = np.round(np.exp(rng.normal(1.0, 0.7, size=k)), 2)
    price = np.where(promo, np.round(base_price * (1 - cut), 2)[:, None], base_price[:, None])

    # smooth fast movers: level x trend x weekly x yearly x promotion, gamma-Poisson noise
    level = np.exp(rng.normal(2.3, 0.9, size=k))
    slope = rng.normal(0.0, 0.4, size=k) / 365.0
    weekly = 1.0 + rng.normal(0.0, 0.15, size=(k, 7))
    weekly[:, 4:6] += rng.uniform(0.1, 0.5, size=(k, 1))  # Friday/Saturday peak
    weekly = np.maximum(weekly, 0.3)
    amp = rng.uniform(0.0, 0.3, size=k)
    phase = rng.uniform(0, 2 * np.pi, size=k)
    shape = rng.uniform(3.0, 30.0, size=k)
    # intermittent: rare occurrences of small, regular sizes; lumpy: rare and highly variable sizes
    p_occ = np.where(cls == INTERMITTENT, rng.uniform(0.05, 0.4, size=k), rng.uniform(0.02, 0.2, size=k))
    small_mean = rng.uniform(0.3, 2.0, size=k)
    lump_mean = rng.uniform(3.0, 20.0, size=k)

    demand = np.empty((k, n_days), dtype=np.float64)
    s = np.flatnonzero(cls == SMOOTH)
    if s.size:
        trend = np.maximum(1.0 + slope[s, None] * t[None, :], 0.2)
        yearly = 1.0 + amp[s, None] * np.sin(doy[None, :] + phase[s, None])
        mu = level[s, None] * trend * weekly[s][:, dow] * yearly
        mu = np.where(promo[s], mu * uplift[s, None], mu)
        demand[s] = rng.poisson(rng.gamma(shape[s, None], mu / shape[s, None]))
    for c in (INTERMITTENT, LUMPY):
        r = np.flatnonzero(cls == c)
        if not r.size:
            continue
        p_day = np.minimum(p_occ[r, None] * np.where(promo[r], uplift[r, None], 1.0), 0.95)
        occurs = rng.random((r.size, n_days)) < p_day
        m = int(occurs.sum())
        if c == INTERMITTENT:
            sizes = 1 + rng.poisson(np.broadcast_to(small_mean[r, None], occurs.shape)[occurs], size=m)
        else:
            lm = np.broadcast_to(lump_mean[r, None], occurs.shape)[occurs]
            sizes = 1 + rng.negative_binomial(0.7, 0.7 / (0.7 + lm), size=m)
        block = np.zeros((r.size, n_days), dtype=np.float64)
        block[occurs] = sizes
        demand[r] = block
    if stockouts:
        share, rate, lo_days, hi_days = spells
        prone = rng.random(k) < share
        out_starts = (rng.random((k, n_days)) < rate) & prone[:, None]
        out = _spells(out_starts, rng.integers(lo_days, hi_days + 1, size=k))
    else:
        out = np.zeros((k, n_days), dtype=bool)
    sales = np.where(out, 0.0, demand)
    return {"y": sales, "demand": demand, "in_stock": ~out, "price": price, "promo": promo, "cls": cls}


def _spells(starts: np.ndarray, length: np.ndarray) -> np.ndarray:
    """True on each day within ``length[i]`` days after a start in row ``i`` (starts included)."""
    cs = np.cumsum(starts, axis=1, dtype=np.int32)
    n_days = starts.shape[1]
    lag_idx = np.arange(n_days)[None, :] - length[:, None]
    lagged = np.where(lag_idx >= 0, np.take_along_axis(cs, np.maximum(lag_idx, 0), axis=1), 0)
    return (cs - lagged) > 0


@dataclass(frozen=True)
class SupplyData:
    """Synthetic supply-side tables of :func:`synthetic_supply` (Arrow tables; see the data contract)."""

    items: pa.Table
    stock: pa.Table
    open_orders: pa.Table
    suppliers: pa.Table
    demand: pa.Table  # unique_id, demand_mean, demand_std (per day, from the last 91 days of sales)
    as_of: str  # the day after the last sales date (ISO)


_PACKS = np.array([1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 24.0, 48.0])


@validate_params({"n_suppliers": [None, Integer(1)], "seed": Integer(0), "window": Integer(1),
                  "max_lead_time": Integer(1)})
def synthetic_supply(sales: pa.Table, *, n_suppliers: int | None = None, seed: int = 0, window: int = 91,
                     max_lead_time: int = 14) -> SupplyData:
    """Items, stock, open orders and suppliers consistent with a :func:`synthetic_retail` sales table.

    Demand per item is the mean and standard deviation of its last ``window`` days of ``y``; costs
    come from its mean ``price`` (unit cost 60 % of it).  Drawn deterministically from ``seed``:

    * items: ``supplier_id`` (about 200 items per supplier unless ``n_suppliers``), ``pack_size``
      (the usual case size nearest to 1-5 days of demand), an MOQ of 2-5 packs on a quarter of the
      items, ``volume`` (0.001-0.05 per unit) and ``weight`` (0.1-5 per unit), a shelf life of 5-30
      days on a tenth, a ``max_stock`` on a seventh, ``service_level`` 0.90-0.99, ``review_period``
      matching the supplier's order days, ``lead_time`` the supplier's (plus 0-3 days on a fifth);
    * suppliers: ``lead_time`` 1-``max_lead_time`` days, ``order_days`` (one to three weekdays, every day for a
      tenth), a ``min_order_value`` on 60 % (0.3-1.5 times a typical order), trucks on 40 % (a
      typical order fills 0.7-3.5 trucks; a truck costs 1-3 % of the value it carries), a
      ``budget`` on a quarter (0.5-1.2 times a typical order);
    * stock: on hand 0-1.5 protection intervals of demand, a few backorders and reservations;
    * open orders on 30 % of the items, arriving within their lead time.

    Parameters
    ----------
    sales : pyarrow.Table
        ``unique_id, ds, y`` and optionally ``price`` (as :func:`synthetic_retail` returns).
    n_suppliers : int, optional
        Number of suppliers (default: one per 200 items, at least 1).
    seed : int
        Seed; the same arguments give the same tables.
    window : int
        Days of history (at the end) that define each item's demand.
    max_lead_time : int
        Longest supplier lead time in days; an item's lead time plus review period is at most
        ``max_lead_time + 10`` days, so a forecast of that many days covers every item.

    Returns
    -------
    SupplyData

    Examples
    --------
    >>> sales = synthetic_retail(20, 120, seed=1)
    >>> sup = synthetic_supply(sales, seed=1)
    >>> sup.items.num_rows, sup.suppliers.num_rows, sup.as_of
    (20, 1, '2023-05-02')
    """
    import pyarrow.compute as pc

    last = pc.max(sales.column("ds"))
    last_day = int(last.cast(pa.int32()).as_py())
    start = pa.scalar(last_day - window, pa.int32()).cast(pa.date32())
    recent = sales.filter(pc.greater(sales.column("ds"), start))
    aggs = [("y", "mean"), ("y", "stddev")] + ([("price", "mean")] if "price" in sales.column_names else [])
    stats = recent.group_by("unique_id").aggregate(aggs).sort_by("unique_id")
    ids = stats.column("unique_id").cast(pa.string())
    n = stats.num_rows
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
    mean = np.nan_to_num(stats.column("y_mean").to_numpy(zero_copy_only=False).astype(np.float64))
    std = np.nan_to_num(stats.column("y_stddev").to_numpy(zero_copy_only=False).astype(np.float64))
    if "price" in sales.column_names:
        price = stats.column("price_mean").to_numpy(zero_copy_only=False).astype(np.float64)
        price = np.nan_to_num(price, nan=3.0)
    else:
        price = np.exp(rng.normal(1.0, 0.7, n))
    m = max(1, n // 200) if n_suppliers is None else int(n_suppliers)
    sup_of = rng.integers(0, m, n)
    s_lead = rng.integers(1, max_lead_time + 1, m).astype(np.float64)
    n_days = np.where(rng.random(m) < 0.1, 7, rng.choice([1, 1, 1, 2, 2, 3], m))
    day_perm = np.argsort(rng.random((m, 7)), axis=1)
    order_days = [sorted(day_perm[j, :n_days[j]].tolist()) for j in range(m)]  # a loop over suppliers
    cycle = 7.0 / n_days
    unit_cost = np.round(0.6 * np.maximum(price, 0.05), 2)
    target = mean * rng.uniform(1.0, 5.0, n)
    near = np.abs(np.log(np.maximum(target, 0.5))[:, None] - np.log(_PACKS)[None, :])
    pack = _PACKS[np.argmin(near, axis=1)]
    moq = np.where(rng.random(n) < 0.25, pack * rng.integers(2, 6, n), 0.0)
    own_lead = rng.random(n) < 0.2
    lead = s_lead[sup_of] + np.where(own_lead, rng.integers(0, 4, n), 0)
    volume = np.round(rng.uniform(0.001, 0.05, n), 4)
    weight = np.round(rng.uniform(0.1, 5.0, n), 2)
    shelf = np.where(rng.random(n) < 0.1, rng.integers(5, 31, n).astype(np.float64), np.nan)
    protect = lead + cycle[sup_of]
    max_stock = np.where(rng.random(n) < 0.15, np.ceil(mean * (protect + 14.0) * rng.uniform(1.0, 2.0, n)),
                         np.nan)
    items = pa.table({
        "unique_id": ids, "supplier_id": pa.array([f"sup_{j:04d}" for j in sup_of.tolist()], pa.string()),
        "unit_cost": unit_cost, "pack_size": pack, "moq": moq,
        "lead_time": lead, "review_period": cycle[sup_of],
        "holding_rate": np.full(n, 0.25), "order_cost": np.full(n, 20.0),
        "service_level": np.round(rng.uniform(0.90, 0.99, n), 3),
        "shelf_life_days": pa.array(shelf, mask=np.isnan(shelf)),
        "max_stock": pa.array(max_stock, mask=np.isnan(max_stock)),
        "volume": volume, "weight": weight,
    })
    typical = np.bincount(sup_of, weights=mean * cycle[sup_of] * unit_cost, minlength=m)
    typ_vol = np.bincount(sup_of, weights=mean * cycle[sup_of] * volume, minlength=m)
    typ_wt = np.bincount(sup_of, weights=mean * cycle[sup_of] * weight, minlength=m)
    has_min = rng.random(m) < 0.6
    has_truck = rng.random(m) < 0.4
    has_budget = rng.random(m) < 0.25
    fill = rng.uniform(0.7, 3.5, m)
    suppliers = pa.table({
        "supplier_id": pa.array([f"sup_{j:04d}" for j in range(m)], pa.string()),
        "lead_time": s_lead,
        "order_days": pa.array(order_days, pa.list_(pa.int8())),
        "min_order_value": np.where(has_min, np.round(typical * rng.uniform(0.3, 1.5, m), -1), 0.0),
        "truck_volume": pa.array(np.maximum(typ_vol / fill, 1e-3), mask=~has_truck),
        "truck_weight": pa.array(np.maximum(1.5 * typ_wt / fill, 1e-3), mask=~has_truck),
        "truck_cost": np.where(has_truck, np.round(typical / fill * rng.uniform(0.01, 0.03, m), -1), 0.0),
        "budget": pa.array(np.round(typical * rng.uniform(0.5, 1.2, m), -1), mask=~has_budget),
    })
    on_hand = np.round(mean * protect * rng.uniform(0.0, 1.5, n))
    backorders = np.where(rng.random(n) < 0.05, np.round(mean * rng.uniform(0.0, 2.0, n)), 0.0)
    reserved = np.where(rng.random(n) < 0.1, np.round(np.minimum(on_hand, mean * rng.uniform(0.0, 2.0, n))),
                        0.0)
    stock = pa.table({"unique_id": ids, "on_hand": on_hand, "backorders": backorders, "reserved": reserved})
    as_of_day = last_day + 1
    has_oo = np.flatnonzero((rng.random(n) < 0.3) & (mean > 0))
    qty = np.maximum(np.round(mean[has_oo] * cycle[sup_of[has_oo]] / pack[has_oo]), 1.0) * pack[has_oo]
    arrive = as_of_day + np.floor(rng.random(has_oo.size) * np.maximum(lead[has_oo], 1.0)).astype(np.int64)
    open_orders = pa.table({"unique_id": ids.take(pa.array(has_oo)),
                            "arrival_date": pa.array(arrive.astype(np.int32), pa.int32()).cast(pa.date32()),
                            "quantity": qty})
    demand = pa.table({"unique_id": ids, "demand_mean": mean, "demand_std": std})
    return SupplyData(items=items, stock=stock, open_orders=open_orders, suppliers=suppliers, demand=demand,
                      as_of=str(np.datetime64(as_of_day, "D")))


@dataclass(frozen=True)
class DatasetInfo:
    """A real data set kept in ``shared/data``: its file, frequency and usual season length."""

    path: str
    freq: str
    season_length: int
    description: str


DATASETS: dict[str, DatasetInfo] = {
    "m5": DatasetInfo("m5/m5_foods1_8items_full_history.parquet", "D", 7,
                      "Walmart M5, 8 FOODS_1 items, 1969 days, prices and events"),
    "orange_juice": DatasetInfo("dominicks_orange_juice/oj_store_brand_weekly.parquet", "W-THU", 52,
                                "Dominick's orange juice, 913 store x brand weekly series, with gaps"),
    "stallion": DatasetInfo("stallion_beverages/stallion_monthly.parquet", "MS", 12,
                            "Stallion beverages, 350 agency x SKU monthly series"),
    "raf": DatasetInfo("raf_spare_parts/raf_monthly.parquet", "MS", 12,
                       "RAF spare parts, 5000 items x 84 months, intermittent"),
    "automotive": DatasetInfo("automotive_spare_parts/automotive_monthly.parquet", "MS", 1,
                              "Syntetos & Boylan automotive SKUs, 3000 x 24 months (dates are an index)"),
    "manufacturing": DatasetInfo("manufacturing_spare_parts/manufacturing_weekly.parquet", "W-MON", 52,
                                 "industrial spare parts, 3451 SKUs x 150 weeks, with costs, MOQ, lead time"),
    "oil": DatasetInfo("oil_spare_parts/oil_monthly.parquet", "MS", 12,
                       "petrochemical spare parts, 7024 x 56 months, with the company's ROP and max"),
}


def shared_data_dir() -> Path | None:
    """The folder holding the real data sets, or None when it cannot be found.

    Looked up, in order: the ``STOCKOPT_DATA_DIR`` environment variable, ``../shared/data`` from the
    current directory, and ``../shared/data`` beside the source checkout.

    Examples
    --------
    >>> root = shared_data_dir()
    >>> root is None or root.is_dir()
    True
    """
    candidates = []
    if os.environ.get("STOCKOPT_DATA_DIR"):
        candidates.append(Path(os.environ["STOCKOPT_DATA_DIR"]))
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@validate_params({"name": Options(*DATASETS), "columns": [None, SequenceOf(Instance(str))]})
def load_dataset(name: str, *, columns: list[str] | None = None) -> pa.Table:
    """Read one of the real data sets of :data:`DATASETS` as a pyarrow Table.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS` (``"m5"``, ``"raf"``, ``"manufacturing"`` ...).
    columns : list of str, optional
        Read only these columns.

    Raises
    ------
    FileNotFoundError
        When the shared data folder is absent (set ``STOCKOPT_DATA_DIR``).

    Examples
    --------
    >>> t = load_dataset("m5", columns=["unique_id", "ds", "y"])  # doctest: +SKIP
    >>> load_dataset("nope")
    Traceback (most recent call last):
    ...
    stockopt.errors.ParameterError: load_dataset: bad argument for parameter 'name': expected one of ...
    """
    import pyarrow.parquet as pq

    root = shared_data_dir()
    if root is None:
        raise FileNotFoundError(
            "the shared data folder was not found: set STOCKOPT_DATA_DIR or run from the repository root "
            "with ../shared/data beside it"
        )
    return pq.read_table(root / DATASETS[name].path, columns=columns)
