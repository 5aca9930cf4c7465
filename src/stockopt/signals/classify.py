"""Demand classes per series: ADI, CV^2 and the Syntetos-Boylan-Croston class, plus new and dead items.

The four-class scheme is the one :class:`stockopt.models.AutoModel` uses to choose a model family
(:func:`stockopt.models.auto.demand_classes`, one compiled kernel); this module only exposes it as a
table and adds two life-cycle flags a buyer needs beside it: ``new`` (too little history since the
first sale to trust any class) and ``dead`` (no sale for a long time).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._params import Instance, Integer, Real, validate_params
from stockopt.models.auto import DEMAND_CLASSES, demand_classes
from stockopt.signals._common import (
    GAP_OPTIONS,
    SALES_COLS,
    as_grouped,
    censor_mask,
    compress,
    first_last,
    period_dates,
    periods_for_days,
    segment_sum,
    series_table,
)

__all__ = ["classify_demand"]

#: default horizon of the ``new`` flag, in days of history since the first sale
NEW_DAYS = 90.0
#: default horizon of the ``dead`` flag, in days without a sale
DEAD_DAYS = 182.0


@validate_params({**SALES_COLS, **GAP_OPTIONS, "adi_cut": Real(0, lo_open=True),
                  "cv2_cut": Real(0, lo_open=True),
                  "new_periods": [None, Integer(1)], "dead_periods": [None, Integer(1)],
                  "censored": [None, Instance(str)]})
def classify_demand(
    sales: Any,
    *,
    freq: str | None = None,
    adi_cut: float = 1.32,
    cv2_cut: float = 0.49,
    new_periods: int | None = None,
    dead_periods: int | None = None,
    censored: str | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
) -> pa.Table:
    """Classify each series' demand pattern (smooth, erratic, intermittent, lumpy); flag new and dead items.

    ``ADI`` is the average inter-demand interval (periods per period with a non-zero demand) and
    ``CV2`` the squared coefficient of variation of the non-zero demand sizes (population
    variance over the squared mean); ``ADI >= adi_cut`` makes a series intermittent or lumpy and
    ``CV2 >= cv2_cut`` erratic or lumpy (Syntetos, Boylan & Croston 2005; cut-offs 1.32 and 0.49
    as revised by Kostenko & Hyndman 2006).  These are exactly the classes with which
    :class:`stockopt.models.AutoModel` picks a model (one implementation).

    Parameters
    ----------
    sales : table, Parquet path or GroupedSeries
        Long history ``unique_id, ds, y`` (pieces per period), as for :func:`stockopt.forecast`.
    freq : str, optional
        Frequency alias; inferred when omitted.
    adi_cut, cv2_cut : float
        Class boundaries (periods per demand; dimensionless).
    new_periods : int, optional
        A series is ``new`` when fewer than this many periods run from its first non-zero sale to
        its end (or it never sold).  Default: the periods covering 90 days (90 daily, 13 weekly,
        3 monthly).
    dead_periods : int, optional
        A series is ``dead`` when its last this-many periods (or more) have no sale and it is not
        ``new``.  Default: the periods covering 182 days (182 daily, 26 weekly, 6 monthly).
    censored : str, optional
        Name of an in-stock flag (False = stocked out) or ``on_hand`` column: periods out of stock
        are left out of ADI and CV^2 (zero sales there say nothing about demand), and do not
        count towards ``dead``.
    id_col, time_col, target_col : str
        Column names (see :func:`stockopt.group_series`).
    missing : {"error", "zero", "interpolate"}
        Null or NaN sales: refused, read as zero, or interpolated within the series, as in
        :func:`stockopt.forecast` (:func:`stockopt.group_series`).
    fill_gaps : {"zero", "interpolate", "error"}
        Periods absent inside a series: inserted with zero sales (default), interpolated, or
        refused, as in :func:`stockopt.forecast`; inserted periods carry the extra columns (the
        in-stock flag, the stock level) of the period before them.

    Returns
    -------
    pyarrow.Table
        One row per series, in id order: ``unique_id, n_periods`` (periods observed, censored ones
        excluded), ``n_demands`` (periods with a non-zero sale), ``adi`` (periods per demand; inf
        without any sale), ``cv2``, ``demand_class`` (``smooth``, ``erratic``, ``intermittent``,
        ``lumpy``), ``new``, ``dead``, ``last_sale`` (date of the last non-zero sale, null if
        none) and ``periods_since_sale`` (periods after it to the series' end).

    References
    ----------
    Syntetos, A. A., Boylan, J. E. & Croston, J. D. (2005). On the categorization of demand
    patterns. Journal of the Operational Research Society, 56(5), 495-503.
    Kostenko, A. V. & Hyndman, R. J. (2006). A note on the categorization of demand patterns.
    Journal of the Operational Research Society, 57(10), 1256-1257.

    Examples
    --------
    >>> import pyarrow as pa, datetime as dt
    >>> days = [dt.date(2024, 1, d) for d in range(1, 9)]
    >>> t = pa.table({"unique_id": ["a"] * 8 + ["b"] * 8, "ds": days * 2,
    ...               "y": [0, 2, 0, 0, 6, 0, 0, 4.0] + [5, 6, 4, 5, 7, 5, 6, 5.0]})
    >>> c = classify_demand(t, freq="D", new_periods=2, dead_periods=5)
    >>> c.select(["unique_id", "adi", "demand_class", "new", "dead"]).to_pylist()[0]
    {'unique_id': 'a', 'adi': 2.6666666666666665, 'demand_class': 'intermittent', 'new': False, 'dead': False}
    >>> c["demand_class"][1].as_py()
    'smooth'
    """
    grouped = as_grouped(sales, freq=freq, extra_cols=(censored,) if censored else (), id_col=id_col,
                         time_col=time_col, target_col=target_col, missing=missing, fill_gaps=fill_gaps)
    new_p = periods_for_days(grouped, NEW_DAYS) if new_periods is None else int(new_periods)
    dead_p = periods_for_days(grouped, DEAD_DAYS) if dead_periods is None else int(dead_periods)
    values, indptr = grouped.values, grouped.indptr
    out = censor_mask(grouped, censored)
    if out is not None:
        values, indptr = compress(values, indptr, ~out)
    code, adi, cv2 = demand_classes(values, indptr, adi_cut, cv2_cut)
    n_obs = np.diff(indptr)
    n_dem = segment_sum(values > 0, indptr)
    # life cycle on the calendar (censored periods included): first and last sale
    lengths = grouped.lengths
    first, last = first_last(grouped.values > 0, grouped.indptr)
    age = np.where(first >= 0, lengths - first, 0)
    since = np.where(last >= 0, lengths - 1 - last, lengths)
    if out is not None:  # periods out of stock do not make an item look dead
        in_stock_after = _in_stock_after(out, grouped.indptr, last)
        since = np.where(last >= 0, in_stock_after, since - segment_sum(out, grouped.indptr))
    new = age < new_p
    dead = (since >= dead_p) & ~new
    names = np.array(DEMAND_CLASSES, dtype=object)[code]
    last_day = np.where(last >= 0, grouped.start + last, 0)
    dates = period_dates(grouped, last_day)
    last_sale = pc.if_else(pa.array(last >= 0), dates, pa.scalar(None, dates.type))
    return series_table(grouped, {
        "n_periods": pa.array(n_obs, pa.int64()),
        "n_demands": pa.array(n_dem, pa.int64()),
        "adi": pa.array(adi, pa.float64()),
        "cv2": pa.array(cv2, pa.float64()),
        "demand_class": pa.array(names.tolist(), pa.string()),
        "new": pa.array(new),
        "dead": pa.array(dead),
        "last_sale": last_sale,
        "periods_since_sale": pa.array(since, pa.int64()),
    })


def _in_stock_after(out: np.ndarray, indptr: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Per series, the in-stock periods after position ``last`` (``last >= 0``) to the series' end."""
    cs = np.zeros(out.size + 1, dtype=np.int64)
    np.cumsum(~out, out=cs[1:])
    pos = indptr[:-1] + np.maximum(last, 0) + 1
    return cs[indptr[1:]] - cs[np.minimum(pos, indptr[1:])]
