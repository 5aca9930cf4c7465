"""``alerts``: stock situations a buyer should look at today, each valued in money.

Kinds (one row per item and kind that fires):

* ``stockout_risk`` -- probability that demand before the next possible arrival (the supplier's
  next order day plus the lead time) exceeds what is available until then (on hand - backorders
  - reserved + open orders arriving earlier); money: expected units short times the unit cost;
* ``low_cover`` -- days of cover (available stock / mean daily demand) shorter than the days to the
  next possible arrival; money: the demand value left uncovered;
* ``excess`` -- on hand above the policy's order-up-to level plus ``excess_days`` of demand;
  money: the excess units at unit cost;
* ``dormant`` -- stock on hand and no sale for ``dormant_days`` days (needs the sales table);
  money: the stock on hand at unit cost.

Demand over a day range comes from the forecast as in :func:`stockopt.replenish_plan` (normal when
the policy's distribution is normal, otherwise a gamma with the same mean and variance).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import special, stats

from stockopt._arrow import _to_numpy, require_columns, time_to_days
from stockopt._kernels.codes import DIST_NORMAL
from stockopt._params import Instance, Integer, Real, validate_params
from stockopt.inventory._validate import ID, as_table, id_strings
from stockopt.replenishment._reasons import num
from stockopt.replenishment._sizing import size_orders
from stockopt.replenishment._tables import AS_OF, SUP, as_of_day, read_tables
from stockopt.replenishment.orders import rekey

__all__ = ["alerts", "ALERT_SCHEMA"]

ALERT_SCHEMA = pa.schema(
    [
        ("unique_id", pa.string()),
        ("kind", pa.string()),
        ("severity", pa.string()),
        ("value", pa.float64()),
        ("message", pa.string()),
        ("money", pa.float64()),
    ]
)
_KIND_ORDER = {"stockout_risk": 0, "low_cover": 1, "excess": 2, "dormant": 3}


def _short(dist: np.ndarray, m: np.ndarray, v: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P(D > x)`` and ``E[(D - x)^+]`` for normal or gamma demand with mean ``m``, variance ``v``."""
    sd = np.sqrt(v)
    point = v <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - m) / np.where(point, 1.0, sd)
        p_n = stats.norm.sf(z)
        e_n = sd * (stats.norm.pdf(z) - z * p_n)
        a = np.where(point | (m <= 0), 1.0, m * m / np.where(point, 1.0, v))
        scale = np.where(point | (m <= 0), 1.0, v / np.where(m > 0, m, 1.0))
        y = np.maximum(x, 0.0) / scale
        p_g = special.gammaincc(a, y)
        e_g = m * special.gammaincc(a + 1.0, y) - np.maximum(x, 0.0) * p_g
    p = np.where(dist == DIST_NORMAL, p_n, np.where(x < 0, 1.0, p_g))
    e = np.where(dist == DIST_NORMAL, e_n, np.where(x < 0, m - x, e_g))
    p = np.where(point, (m > x).astype(np.float64), p)
    e = np.where(point, np.maximum(m - x, 0.0), e)
    return np.clip(np.nan_to_num(p), 0.0, 1.0), np.maximum(np.nan_to_num(e), 0.0)


def _last_sale(sales: Any, ids: pa.Array, day0: int, id_col: str, time_col: str,
               target_col: str) -> np.ndarray:
    """Days since the last positive sale per item (since the table's first day when none)."""
    tbl = as_table(sales, "sales")
    require_columns(tbl, {"id_col": id_col, "time_col": time_col, "target_col": target_col}, table="sales")
    days = np.asarray(time_to_days(tbl.column(time_col), table="sales", column=time_col)[0], dtype=np.int64)
    y = _to_numpy(pc.fill_null(tbl.column(target_col).cast(pa.float64()), 0.0), np.float64)
    first = int(days.min(initial=day0))
    sold = (y > 0) & (days <= day0)
    # the latest sale day per id among the rows with a sale (hash aggregation), then matched by id: the
    # ids of every row are never turned into strings one by one
    keys = tbl.column(id_col).filter(pa.array(sold))
    if pa.types.is_dictionary(keys.type):
        keys = keys.cast(keys.type.value_type)
    by = pa.table({"k": keys, "d": pa.array(days[sold])}).group_by("k", use_threads=False).aggregate(
        [("d", "max")])
    pos = _to_numpy(pc.fill_null(pc.index_in(ids, value_set=id_strings(by.column("k"))), -1), np.int64)
    latest = _to_numpy(by.column("d_max"), np.int64)
    last = np.where(pos >= 0, latest[np.maximum(pos, 0)] if latest.size else first - 1, first - 1)
    return (day0 - np.where(last < first, first, last)).astype(np.float64)


@validate_params({"as_of": AS_OF, "risk": Real(0, 1), "excess_days": Real(0), "dormant_days": Integer(1),
                  "model": [None, Instance(str)], "period_days": [None, Real(0, lo_open=True)],
                  "id_col": Instance(str), "time_col": Instance(str), "target_col": Instance(str)})
def alerts(
    stock: Any,
    policy: Any,
    forecast: Any,
    items: Any,
    *,
    as_of: Any,
    suppliers: Any = None,
    open_orders: Any = None,
    sales: Any = None,
    risk: float = 0.05,
    excess_days: float = 28.0,
    dormant_days: int = 90,
    model: str | None = None,
    period_days: float | None = None,
    id_col: str = ID,
    time_col: str = "ds",
    target_col: str = "y",
) -> pa.Table:
    """Stockout risk, low cover, excess and dormant stock per item, each with its value in money.

    Parameters
    ----------
    stock, policy, items, suppliers, open_orders, as_of, model, period_days
        As in :func:`stockopt.replenish_plan`.  Without ``suppliers``, every item can be ordered
        today (the next possible arrival is today plus its own ``lead_time``, days).
    forecast : Arrow-compatible table or None
        The demand forecast (None: the policy's protection demand scaled to days).
    sales : Arrow-compatible table, optional
        ``unique_id, ds, y`` history, for ``dormant`` alerts.
    risk : float
        Smallest stockout probability (in [0, 1]) reported (``>= 0.5`` is ``critical``, ``>= 0.2`` ``high``).
    excess_days : float
        Days of demand above the order-up-to level that are not yet excess.
    dormant_days : int
        Days without a sale that make stock on hand dormant.
    id_col, time_col, target_col : str
        Names of the item id column (of every table, and of the output), of the time column of
        ``forecast`` and ``sales``, and of the demand column of ``sales``.

    Returns
    -------
    pyarrow.Table
        ``unique_id, kind, severity, value, message, money``: ``value`` is a probability
        (``stockout_risk``), days (``low_cover``, ``dormant``) or units (``excess``); ``money`` in
        the items' currency.  Sorted by kind, then money (largest first), then item.

    Examples
    --------
    >>> import pyarrow as pa
    >>> import stockopt as so
    >>> demand = pa.table({"unique_id": ["A", "B"], "demand_mean": [10.0, 1.0], "demand_std": [3.0, 1.0]})
    >>> items = pa.table({"unique_id": ["A", "B"], "supplier_id": ["S", "S"], "lead_time": [5.0, 5.0],
    ...                   "review_period": [7.0, 7.0], "unit_cost": [4.0, 10.0]})
    >>> pol = so.inventory_policy(demand, items, policy="RS", distribution="normal")
    >>> stock = pa.table({"unique_id": ["A", "B"], "on_hand": [30.0, 200.0]})
    >>> al = so.alerts(stock, pol, None, items, as_of="2026-11-23")
    >>> al.select(["unique_id", "kind", "severity"]).to_pylist()
    [{'unique_id': 'A', 'kind': 'stockout_risk', 'severity': 'critical'}, \
{'unique_id': 'A', 'kind': 'low_cover', 'severity': 'warning'}, \
{'unique_id': 'B', 'kind': 'excess', 'severity': 'warning'}]
    """
    day0 = as_of_day(as_of, "alerts")
    it = as_table(items, "items")
    if suppliers is None:  # order any day, no supplier terms
        sup_col = pc.fill_null(id_strings(it.column(SUP)), "-") if SUP in it.column_names else \
            pa.array(["-"] * it.num_rows, pa.large_string())
        it = it.drop_columns([SUP]) if SUP in it.column_names else it
        it = it.append_column(SUP, sup_col)
        suppliers = pa.table({SUP: pc.unique(sup_col)})
    tb = read_tables(stock, policy, it, suppliers, open_orders, "raise", id_col=id_col)
    sz = size_orders(tb, day0, forecast=forecast, model=model, period_days=period_days, time_col=time_col)
    n = sz.n
    cost = tb.item["unit_cost"]
    soon = np.bincount(
        tb.on_order_item,
        weights=np.where(tb.on_order_day < sz.arrival[tb.on_order_item], tb.on_order_qty, 0.0),
        minlength=n,
    )
    now = sz.on_hand - sz.backorders - sz.reserved
    avail = now + soon
    t1 = (sz.arrival - day0).astype(np.float64)
    p, short = _short(sz.dist, sz.m_arrival, sz.v_arrival, avail)
    p = np.where(t1 > 0, p, 0.0)
    short = np.where(t1 > 0, short, 0.0)
    parts = []

    def rows(mask, kind, severity, value, message, money) -> None:
        r = np.flatnonzero(mask)
        if r.size:
            parts.append(
                pa.table(
                    {
                        "unique_id": tb.ids.take(pa.array(r)).cast(pa.string()),
                        "kind": pa.array(np.full(r.size, kind, dtype=object), pa.string()),
                        "severity": pa.array(
                            np.asarray(severity, dtype=object)[r]
                            if np.ndim(severity)
                            else np.full(r.size, severity, dtype=object),
                            pa.string(),
                        ),
                        "value": np.asarray(value, dtype=np.float64)[r],
                        "message": message(r),
                        "money": np.asarray(money, dtype=np.float64)[r],
                    },
                    schema=ALERT_SCHEMA,
                )
            )

    def text(*parts_) -> pa.Array:
        k = max(len(x) for x in parts_ if not isinstance(x, str))
        return pc.binary_join_element_wise(
            *[
                pa.array(np.full(k, x, dtype=object), pa.string()) if isinstance(x, str) else x
                for x in parts_
            ],
            "",
        )

    sev = np.where(p >= 0.5, "critical", np.where(p >= 0.2, "high", "warning"))
    rows(
        p >= risk,
        "stockout_risk",
        sev,
        p,
        lambda r: text(
            num(p[r] * 100, 1),
            " % chance of running out before the next possible arrival in ",
            num(t1[r], 0),
            " days: ",
            num(avail[r]),
            " available, ",
            num(sz.m_arrival[r]),
            " expected demand",
        ),
        short * cost,
    )
    rate = sz.rate
    cover = np.divide(now, rate, out=np.full(n, np.inf), where=rate > 0)
    gap_days = np.maximum(t1 - np.maximum(cover, 0.0), 0.0)
    rows(
        (cover < t1) & (rate > 0),
        "low_cover",
        "warning",
        np.maximum(cover, 0.0),
        lambda r: text(
            num(np.maximum(cover[r], 0.0)),
            " days of cover, the next possible arrival is in ",
            num(t1[r], 0),
            " days",
        ),
        gap_days * rate * cost,
    )
    limit = tb.pol["order_up_to"] + rate * excess_days
    extra = sz.on_hand - limit
    rows(
        extra > 0,
        "excess",
        "warning",
        extra,
        lambda r: text(
            num(extra[r]),
            " units above the order-up-to level ",
            num(tb.pol["order_up_to"][r]),
            " plus ",
            num(np.full(r.size, excess_days), 0),
            " days of demand",
        ),
        np.maximum(extra, 0.0) * cost,
    )
    if sales is not None:
        idle = _last_sale(sales, tb.ids, day0, id_col, time_col, target_col)
        rows(
            (idle >= dormant_days) & (sz.on_hand > 0),
            "dormant",
            "warning",
            idle,
            lambda r: text(num(sz.on_hand[r]), " units on hand and no sale for ", num(idle[r], 0), " days"),
            sz.on_hand * cost,
        )
    if not parts:
        return rekey(ALERT_SCHEMA.empty_table(), id_col)
    out = pa.concat_tables(parts)
    rank = pc.index_in(out.column("kind"), value_set=pa.array(list(_KIND_ORDER)))
    out = out.append_column("_rank", rank)
    out = out.sort_by([("_rank", "ascending"), ("money", "descending"), ("unique_id", "ascending")])
    return rekey(out.drop_columns(["_rank"]), id_col)
