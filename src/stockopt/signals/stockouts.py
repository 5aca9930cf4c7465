"""Unrecorded stockouts: runs of zero sales too long to be chance, given the series' own rate.

A shelf that empties without anyone recording it shows up in the sales history as a run of zeros.
Under the series' own demand (its share of zero-sale periods on each weekday, estimated from the
rest of its history), the probability of a run of ``k`` zero periods is the product of the
per-period zero probabilities; a run whose probability is below ``alpha / m`` (``m`` the series'
periods: a Bonferroni bound over the possible run starts) is flagged.  Flagged runs are taken out
and the zero probabilities re-estimated (runs that were unrecorded stockouts inflate them), twice.

The result is a table a buyer reviews and can feed back as the ``in_stock`` flag
(:func:`mark_stockouts`), which :func:`stockopt.forecast` then treats as censored demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import require_columns, time_to_days, to_table
from stockopt._kernels.forecast.quality import zero_runs_block
from stockopt._params import Instance, Real, validate_params
from stockopt.data import GroupedSeries
from stockopt.errors import ColumnTypeError, raise_error
from stockopt.signals._common import GAP_OPTIONS, SALES_COLS, as_grouped, censor_mask, period_dates

__all__ = ["detect_stockouts", "mark_stockouts", "ZeroRuns", "zero_run_scan"]


@dataclass(frozen=True)
class ZeroRuns:
    """Improbable zero runs found by :func:`zero_run_scan` (one entry per run).

    Attributes
    ----------
    series : ndarray of int64
        Series index of each run.
    start : ndarray of int64
        Position of the run's first period within its series.
    length : ndarray of int64
        Periods in the run.
    log10_p : ndarray of float64
        log10 of the run's probability under the series' zero-sale rates.
    expected : ndarray of float64
        Expected demand over the run (the series' mean sales on the run's weekdays), pieces.
    at_end : ndarray of bool
        The run reaches the series' last period (a stockout still going on).
    """

    series: np.ndarray
    start: np.ndarray
    length: np.ndarray
    log10_p: np.ndarray
    expected: np.ndarray
    at_end: np.ndarray

    def mask(self, indptr: np.ndarray, n_values: int) -> np.ndarray:
        """Boolean mask over the grouped values: True inside a run."""
        return _mask(indptr[self.series] + self.start, self.length, n_values)


def window_periods(freq: Any) -> int:
    """Periods on each side of a zero run from which its local rates are estimated: 91 days' worth."""
    return max(int(np.ceil(91.0 / freq.days_per_period - 1e-9)), 1)


def _phase(grouped: GroupedSeries) -> tuple[np.ndarray, int]:
    """Weekday of every period (0 = Monday) for daily data, else 0; and the number of phases."""
    if grouped.freq.kind != "D":
        return np.zeros(grouped.values.shape[0], dtype=np.int64), 1
    # period numbers of daily data are days since 1970-01-01, a Thursday
    return (grouped.periods() + 3) % 7, 7


def zero_run_scan(values: np.ndarray, indptr: np.ndarray, phase: np.ndarray, n_phases: int,
                  known_out: np.ndarray | None = None, alpha: float = 0.01, window: int = 91,
                  kappa: float = 10.0, n_iter: int = 3, not_regular: np.ndarray | None = None) -> ZeroRuns:
    """Find runs of zero sales improbable under each series' own per-phase zero-sale rate.

    Parameters
    ----------
    values, indptr : ndarray
        Grouped sales (pieces per period).
    phase : ndarray of int64
        Phase of each period (weekday for daily data), in ``[0, n_phases)``.
    n_phases : int
        Number of phases.
    known_out : ndarray of bool, optional
        Periods already recorded as stocked out: they take part in no run and no rate.
    alpha : float
        Family-wise false-alarm rate per series (Bonferroni over the series' periods).
    window : int
        Periods on each side of a run whose usable periods give its local rates.
    kappa : float
        Weight, in periods, of the series' whole-history rate of the same phase in each local
        rate (empirical-Bayes shrinkage: short windows of a sparse series stay near its own rate).
    n_iter : int
        Rounds of flagging and re-estimating the rates without the flagged runs.
    not_regular : ndarray of bool, optional
        Periods whose demand is not the usual one (promotions): they may be part of a run but
        give no rate.

    Returns
    -------
    ZeroRuns

    Notes
    -----
    Periods before a series' first sale (an item not yet listed) take part in no run.  The zero
    probability of phase ``w`` is ``(z_w + 1/2) / (n_w + 1)`` (``z_w`` zero periods among ``n_w``
    usable ones: the Jeffreys-prior estimate, never 0 or 1), so a series that never sold zero
    still needs a few zero periods in a row before a run is improbable.
    """
    none = np.empty(0, dtype=np.bool_)
    known = none if known_out is None else np.ascontiguousarray(known_out, dtype=np.bool_)
    irregular = none if not_regular is None else np.ascontiguousarray(not_regular, dtype=np.bool_)
    series, start, length, logp, expected = zero_runs_block(
        np.ascontiguousarray(values, dtype=np.float64), np.ascontiguousarray(indptr, dtype=np.int64),
        np.ascontiguousarray(phase, dtype=np.int64), int(n_phases), known, irregular, float(np.log(alpha)),
        int(window), float(kappa), int(n_iter))
    return ZeroRuns(series=series, start=start, length=length, log10_p=logp / np.log(10.0), expected=expected,
                    at_end=start + length == np.diff(indptr)[series])


def _mask(first: np.ndarray, length: np.ndarray, n: int) -> np.ndarray:
    """True on ``first[k] .. first[k] + length[k] - 1`` (absolute positions) for every k."""
    m = np.zeros(n + 1, dtype=np.int64)
    np.add.at(m, first, 1)
    np.add.at(m, first + length, -1)
    return np.cumsum(m[:-1]) > 0


@validate_params({**SALES_COLS, **GAP_OPTIONS, "alpha": Real(0, 1, lo_open=True, hi_open=True),
                  "in_stock": [None, Instance(str)], "promotion": [None, Instance(str)]})
def detect_stockouts(
    sales: Any,
    *,
    freq: str | None = None,
    alpha: float = 0.01,
    in_stock: str | None = None,
    promotion: str | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    missing: str = "error",
    fill_gaps: str = "zero",
) -> pa.Table:
    """Likely unrecorded stockouts: runs of zero sales improbable under each series' own rate.

    For each series, the probability of a zero-sale period on each weekday (daily data; one rate
    for other frequencies) is estimated from its own history; a run of consecutive zero periods
    whose probability (the product of those rates) is below ``alpha`` divided by the series'
    number of periods is reported.  Runs found are left out and the rates re-estimated, so a long
    unrecorded stockout does not hide itself by inflating its series' zero rate.  This is a
    likelihood screen in the spirit of the retail out-of-stock detectors that compare observed
    zero runs with the item's sales rate (Fisher & Raman 2010, ch. 6; Papakiriakopoulos, Pramatari
    & Doukidis 2009), with a Bonferroni bound instead of a fitted classifier.

    Parameters
    ----------
    sales : table, Parquet path or GroupedSeries
        Long history ``unique_id, ds, y`` (pieces per period).
    freq : str, optional
        Frequency alias; inferred when omitted.
    alpha : float
        Chance, per series, of reporting a run that is only bad luck (0 < alpha < 1).
    in_stock : str, optional
        A boolean in-stock column (False = recorded stockout) or numeric ``on_hand`` column:
        recorded stockouts are not reported again and do not count as zero sales.
    promotion : str, optional
        A boolean promotion column: promotion periods give no zero-sale rate (their demand is not
        the usual one), so that a regular period's rate is not underestimated.
    id_col, time_col, target_col : str
        Column names.
    missing : {"error", "zero", "interpolate"}
        Null or NaN sales: refused, read as zero, or interpolated within the series, as in
        :func:`stockopt.forecast` (:func:`stockopt.group_series`).
    fill_gaps : {"zero", "interpolate", "error"}
        Periods absent inside a series: inserted with zero sales (default), interpolated, or
        refused, as in :func:`stockopt.forecast`; inserted periods carry the extra columns (the
        in-stock flag, the stock level) of the period before them.
        A run may then cover inserted periods (with ``fill_gaps="zero"`` a missing day is a day
        without sales).

    Returns
    -------
    pyarrow.Table
        One row per run: ``unique_id, start, end`` (first and last date of the run),
        ``periods``, ``log10_probability`` (of so long a run by chance), ``expected_demand``
        (pieces the series usually sells on those days: the likely lost sales) and ``at_end``
        (the run reaches the last period: the item may be out of stock now).  Feed the reviewed
        rows back with :func:`mark_stockouts`.

    References
    ----------
    Fisher, M. & Raman, A. (2010). The New Science of Retailing. Harvard Business Press.
    Papakiriakopoulos, D., Pramatari, K. & Doukidis, G. (2009). A decision support system for
    detecting products missing from the shelf based on heuristic rules. Decision Support
    Systems, 46(3), 685-694.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa, datetime as dt
    >>> y = np.full(120, 6.0); y[60:67] = 0.0        # a week without sales for a 6-a-day item
    >>> t = pa.table({"unique_id": ["a"] * 120,
    ...               "ds": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(120)], "y": y})
    >>> r = detect_stockouts(t, freq="D")
    >>> r.select(["unique_id", "start", "periods", "expected_demand", "at_end"]).to_pylist()
    [{'unique_id': 'a', 'start': datetime.date(2024, 3, 1), 'periods': 7, 'expected_demand': 42.0,
      'at_end': False}]
    """
    cols = tuple(c for c in (in_stock, promotion) if c)
    grouped = as_grouped(sales, freq=freq, extra_cols=cols, id_col=id_col, time_col=time_col,
                         target_col=target_col, missing=missing, fill_gaps=fill_gaps)
    phase, n_phases = _phase(grouped)
    promo = None
    if promotion:
        promo = grouped.extra[promotion]
        if promo.dtype != np.bool_:
            raise_error(ColumnTypeError, "promotion column is not boolean", table="sales", column=promotion,
                        expected="a boolean column (True during a promotion)", got=str(promo.dtype))
    runs = zero_run_scan(grouped.values, grouped.indptr, phase, n_phases, censor_mask(grouped, in_stock),
                         alpha, window_periods(grouped.freq), not_regular=promo)
    return runs_table(grouped, runs)


def runs_table(grouped: GroupedSeries, runs: ZeroRuns) -> pa.Table:
    """The Arrow table of :func:`detect_stockouts` for ``runs`` of ``grouped``."""
    first = grouped.start[runs.series] + runs.start
    ids = grouped._id_column(runs.series)
    return pa.table({
        grouped.id_col: ids,
        "start": period_dates(grouped, first),
        "end": period_dates(grouped, first + runs.length - 1),
        "periods": pa.array(runs.length, pa.int64()),
        "log10_probability": pa.array(runs.log10_p, pa.float64()),
        "expected_demand": pa.array(runs.expected, pa.float64()),
        "at_end": pa.array(runs.at_end, pa.bool_()),
    })


@validate_params({"column": Instance(str), "id_col": Instance(str), "time_col": Instance(str)})
def mark_stockouts(
    sales: Any,
    stockouts: Any,
    *,
    column: str = "in_stock",
    id_col: str = "unique_id",
    time_col: str = "ds",
) -> pa.Table:
    """Set ``column`` to False in the periods of reviewed stockout runs (rows of :func:`detect_stockouts`).

    Parameters
    ----------
    sales : table or Parquet path
        The sales history.
    stockouts : table
        Rows ``unique_id, start, end`` (dates inclusive; the id column named ``id_col``), e.g. the
        reviewed output of :func:`detect_stockouts`.
    column : str
        The in-stock flag to write; created (True everywhere else) when the sales table lacks it,
        otherwise only switched to False inside the runs.
    id_col, time_col : str
        Column names of the sales table (``id_col`` also names the id column of ``stockouts``).

    Returns
    -------
    pyarrow.Table
        ``sales`` with ``column`` set; rows, order and other columns unchanged.

    Examples
    --------
    >>> import pyarrow as pa, datetime as dt
    >>> days = [dt.date(2024, 1, d) for d in range(1, 6)]
    >>> s = pa.table({"unique_id": ["a"] * 5, "ds": days, "y": [3.0, 0, 0, 0, 2]})
    >>> runs = pa.table({"unique_id": ["a"], "start": [days[1]], "end": [days[3]]})
    >>> mark_stockouts(s, runs)["in_stock"].to_pylist()
    [True, False, False, False, True]
    """
    tbl = to_table(sales, table="sales")
    require_columns(tbl, {"id_col": id_col, "time_col": time_col}, table="sales")
    runs = to_table(stockouts, table="stockouts")
    require_columns(runs, {"id_col": id_col, "start": "start", "end": "end"}, table="stockouts")
    days, _ = time_to_days(tbl.column(time_col), table="sales", column=time_col)
    days = days.astype(np.int64)
    r_start, _ = time_to_days(runs.column("start"), table="stockouts", column="start")
    r_end, _ = time_to_days(runs.column("end"), table="stockouts", column="end")
    id_type = tbl.column(id_col).type
    id_type = id_type.value_type if pa.types.is_dictionary(id_type) else id_type
    run_ids = runs.column(id_col).cast(id_type)
    sales_ids = tbl.column(id_col).cast(id_type)
    # one code per id over both tables, then per sales row: is its day inside a run of its id
    uniq = pc.unique(pa.chunked_array(run_ids.chunks + sales_ids.chunks, type=id_type))
    code_r = pc.index_in(run_ids, value_set=uniq).to_numpy(zero_copy_only=False).astype(np.int64)
    code_s = pc.index_in(sales_ids, value_set=uniq).to_numpy(zero_copy_only=False).astype(np.int64)
    out = np.zeros(tbl.num_rows, dtype=bool)
    if runs.num_rows:
        order = np.lexsort((r_start, code_r))
        code_r, r_start, r_end = code_r[order], r_start[order].astype(np.int64), r_end[order].astype(np.int64)
        every = np.concatenate([days, r_start, r_end])
        base = int(every.min())
        span = int(every.max()) - base + 1
        key_r = code_r * span + (r_start - base)
        key_s = code_s * span + (days - base)
        # a run may end before an earlier-starting one of the same id: cover both with a running maximum
        # of the end within each id (ids sorted ascending, so the id part of the key dominates)
        end_key = np.maximum.accumulate(code_r * span + (r_end - base))
        j = np.searchsorted(key_r, key_s, side="right") - 1
        jj = np.maximum(j, 0)
        out = (j >= 0) & (code_r[jj] == code_s) & (key_s <= end_key[jj])
    flag = pa.array(~out)
    if column in tbl.column_names:
        old = tbl.column(column)
        if not pa.types.is_boolean(old.type):
            raise_error(ColumnTypeError, "in-stock column is not boolean", table="sales", column=column,
                        expected="a boolean column (or a new column name)", got=str(old.type))
        flag = pc.and_kleene(old, flag)
        return tbl.set_column(tbl.column_names.index(column), column, flag)
    return tbl.append_column(column, flag)
