"""A data-quality report for the tables of a replenishment run, and an optional cleaning step.

:func:`check_data` reads the sales history as it is - duplicates, nulls, returns, stamps off the
frequency included, which :func:`stockopt.group_series` would refuse - and reports one row per
series and problem with a suggested fix.  Nothing is dropped: rows that cannot be placed in a
series (no id, no date) are counted under a null id, and the optional ``clean=`` step returns every
input row plus the inserted ones, with a table of each change it made.

The checks run on grouped arrays (one sort, then vectorised passes and two compiled kernels), so a
10,000 x 730 history is checked in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, time_to_days, to_table
from stockopt._kernels.forecast.quality import series_quantiles
from stockopt._params import Boolean, Instance, Integer, Options, Real, SequenceOf, validate_params
from stockopt._rules import SALES, numeric_values
from stockopt.data import _encode_ids, row_order
from stockopt.frequency import Frequency, infer_freq, parse_freq
from stockopt.replenishment._tables import AS_OF, as_of_day
from stockopt.signals._common import SALES_COLS, first_last, segment_sum
from stockopt.signals._tables import Findings, clean_table, cross_table_findings
from stockopt.signals.stockouts import window_periods, zero_run_scan

__all__ = ["check_data", "DataCheck", "CHECKS"]

_TARGET = SALES["target"]

#: every check: (severity, what it means / the suggested fix)
CHECKS: dict[str, tuple[str, str]] = {
    "null_id": ("error", "rows without a series id cannot be used: fill the id or drop the rows at the "
                         "source"),
    "null_date": ("error", "rows without a date cannot be placed in time: fill the date"),
    "time_of_day": ("error", "stamps carry a time of day: truncate them to the date"),
    "off_frequency": ("error", "dates that do not sit on the frequency: re-stamp them (or pass the right "
                               "freq)"),
    "missing_value": ("error", "null or NaN quantities: fill them (0 if nothing sold) or pass "
                               "missing='zero'"),
    "infinite_value": ("error", "infinite quantities: correct the source"),
    "negative_quantity": ("error", "negative quantities (returns): net them against sales of the same "
                                   "period"),
    "duplicate": ("error", "several rows for one series and period: sum them (split receipts) or drop the "
                           "repeated load"),
    "spacing": ("warning", "the rows are several periods apart: the data look coarser than the frequency"),
    "gap": ("info", "periods without a row inside the series: they will be read as zero sales "
                    "(clean=['gaps'] writes them)"),
    "outlier": ("warning", "quantities far above the series' usual ones: check the entry (clean=['outliers'] "
                           "caps them)"),
    "unrecorded_stockout": ("warning", "a run of zero sales too long to be chance: likely out of stock; "
                                       "review and mark in_stock=False (detect_stockouts / mark_stockouts)"),
    "phantom_inventory": ("warning", "zero sales for too long while the system shows stock on hand: count "
                                     "the shelf (phantom inventory)"),
    "stale": ("warning", "the series stops before the others: the feed is late or the item was delisted"),
    "missing_in_items": ("error", "a sales series without an items row gets no policy: add the item"),
    "invalid_item": ("error", "an items row the inventory sizing refuses: correct the parameter"),
    "missing_in_stock": ("warning", "a sales series without a stock row: its stock is taken as zero"),
    "invalid_stock": ("error", "a stock row with a null, negative or repeated entry: correct it"),
    "missing_in_sales": ("info", "an id of this table has no sales history: new item, or an id mismatch"),
}

_CLEAN = ("outliers", "gaps")


@dataclass(frozen=True)
class DataCheck:
    """The result of :func:`check_data`.

    Attributes
    ----------
    findings : pyarrow.Table
        One row per series and check: the id (column named ``id_col``, ``unique_id`` by default;
        string; null for rows without an id),
        ``table`` (``sales``, ``items`` or ``stock``), ``check``, ``first_date`` (first period
        concerned; null when it has none), ``count`` (rows or periods concerned), ``severity``
        (``error``: stockopt refuses or quarantines the series; ``warning``: results will be
        distorted; ``info``: handled by a default you may want to know about) and
        ``suggestion``.
    summary : pyarrow.Table
        One row per check found: ``check, severity, series, count, suggestion``.
    cleaned : pyarrow.Table or None
        With ``clean=``: every input row, grouped by series and date, with the changes applied
        and the inserted gap rows; rows without an id or usable date come last, unchanged.
    changes : pyarrow.Table or None
        With ``clean=``: ``unique_id, ds`` (named ``id_col``, ``time_col``), ``column, action, old,
        new`` for every value changed or row inserted.
    n_rows, n_series : int
        Rows read and series found in the sales table.
    """

    findings: pa.Table
    summary: pa.Table
    cleaned: pa.Table | None = None
    changes: pa.Table | None = None
    n_rows: int = 0
    n_series: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no finding has severity ``error``."""
        return not bool(pc.any(pc.equal(self.findings["severity"], "error")).as_py() or False)

    def __repr__(self) -> str:
        lines = [f"DataCheck({self.n_rows} rows, {self.n_series} series, {self.findings.num_rows} findings)"]
        for r in self.summary.to_pylist():
            lines.append(f"  {r['severity']:<7} {r['check']:<20} {r['series']:>7} series "
                         f"{r['count']:>9} rows")
        return "\n".join(lines)


@validate_params({**SALES_COLS, "outlier_z": Real(0, lo_open=True),
                  "zero_run_alpha": Real(0, 1, lo_open=True, hi_open=True),
                  "stale_periods": [None, Integer(1)],
                  "clean": [None, Boolean(), Options(*_CLEAN), SequenceOf(Options(*_CLEAN))],
                  "in_stock": Instance(str), "on_hand": Instance(str), "promotion": Instance(str),
                  "last_date": [None, AS_OF]})
def check_data(
    sales: Any,
    items: Any = None,
    stock: Any = None,
    *,
    freq: str | None = None,
    outlier_z: float = 10.0,
    zero_run_alpha: float = 1e-4,
    stale_periods: int | None = None,
    clean: Any = None,
    in_stock: str = "in_stock",
    on_hand: str = "on_hand",
    promotion: str = "on_promotion",
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    last_date: Any = None,
) -> DataCheck:
    """Check the sales history (and the items and stock tables) and report every problem found.

    Checks, per series: rows without an id or a date; stamps with a time of day or off the
    frequency; null, NaN, infinite and negative quantities (returns); duplicate periods; rows
    spaced several periods apart (data coarser than the frequency); gaps; outliers; runs of zero
    sales too long to be chance (an unrecorded stockout, or - where ``on_hand`` shows stock - phantom
    inventory); series that stop before the others (stale); and ids present in one table but
    missing from another.  See :data:`CHECKS` for each check's severity and suggested fix.

    Outliers are quantities whose robust z-score ``(sqrt(y) - m) / s`` exceeds ``outlier_z``, where
    ``m`` is the median of the square roots of the series' own non-zero quantities and
    ``s = max((q90 - m) / 1.2816, 0.5)`` their spread from the median to the 90 % quantile (the
    normal-consistent scale; the floor 0.5 is the standard deviation of the square root of a
    Poisson count, so no series is taken as steadier than Poisson).  The square root stabilises
    the variance of counts (Anscombe 1948) and the upper quantile, rather than the MAD
    (Iglewicz & Hoaglin 1993), keeps lumpy series' legitimately heavy tails from being flagged:
    on the synthetic generator's clean series (10,000 x 730 days, three seeds) no score exceeds 9,
    while a hundred-fold entry error on a day at or above the median scores above 11 on smooth and
    intermittent series.  Series with fewer than 8 non-zero quantities are not scored.

    Zero runs use :func:`stockopt.signals.detect_stockouts`' test at ``zero_run_alpha``.

    Parameters
    ----------
    sales : table or Parquet path
        Long history ``unique_id, ds, y``; optional ``in_stock`` (bool) and ``on_hand`` columns.
    items, stock : table, optional
        Item parameters (checked as :func:`stockopt.quarantine_items` does) and the stock
        snapshot (``unique_id, on_hand``), both keyed by ``id_col``.
    freq : str, optional
        Frequency alias; inferred from the dates when omitted.
    outlier_z : float
        Robust z-score above which a quantity is an outlier (see above).
    zero_run_alpha : float
        Per-series chance of reporting a zero run that is only bad luck.
    stale_periods : int, optional
        A series whose last row is this many periods or more before the table's last date is
        stale.  Default: the periods covering 28 days.
    clean : sequence of {"outliers", "gaps"}, str or bool, optional
        Also return a cleaned table: outliers capped at the largest quantity that is not one
        (``(m + outlier_z s)^2``, rounded down), gaps inserted with zero quantity and the other
        columns carried forward from the row before.  Every change is listed in ``changes``.
    in_stock, on_hand, promotion : str
        Names of the optional in-stock flag, stock-level and promotion-flag (boolean or 0/1)
        columns of ``sales`` (used when present: recorded stockouts are no zero runs; promotion
        periods give no zero-sale rate and are not scored as outliers).
    id_col, time_col, target_col : str
        Column names of the sales table (``id_col`` also keys ``items``, ``stock`` and the
        findings).
    last_date : date, optional
        The date the ``stale`` check measures from (default: the table's last date); a run on a
        part of the series (:func:`stockopt.plan`) passes the whole input's.

    Returns
    -------
    DataCheck

    References
    ----------
    Anscombe, F. J. (1948). The transformation of Poisson, binomial and negative-binomial data.
    Biometrika, 35(3/4), 246-254.
    Iglewicz, B. & Hoaglin, D. C. (1993). How to Detect and Handle Outliers. ASQC Quality Press.

    Examples
    --------
    >>> import pyarrow as pa, datetime as dt
    >>> days = [dt.date(2024, 1, d) for d in (1, 2, 2, 4, 5)]
    >>> t = pa.table({"unique_id": ["a"] * 5, "ds": days, "y": [3.0, 4.0, 4.0, -1.0, 5.0]})
    >>> rep = check_data(t, freq="D")
    >>> rep.findings.select(["unique_id", "check", "count", "severity"]).to_pylist()
    [{'unique_id': 'a', 'check': 'negative_quantity', 'count': 1, 'severity': 'error'},
     {'unique_id': 'a', 'check': 'duplicate', 'count': 1, 'severity': 'error'},
     {'unique_id': 'a', 'check': 'gap', 'count': 1, 'severity': 'info'}]
    >>> rep.ok
    False
    """
    steps = _CLEAN if clean is True else () if clean is None or clean is False else (
        (clean,) if isinstance(clean, str) else tuple(clean))
    tbl = to_table(sales, table="sales")
    require_columns(tbl, {"id_col": id_col, "time_col": time_col, "target_col": target_col}, table="sales")
    f = Findings(id_col)
    g = _SalesGrid.build(tbl, freq, f, id_col=id_col, time_col=time_col, target_col=target_col,
                         in_stock=in_stock, on_hand=on_hand, promotion=promotion)
    stale_p = stale_periods if stale_periods is not None else (
        max(int(np.ceil(28 / g.freq.days_per_period - 1e-9)), 1) if g.freq is not None else 1)
    caps = None
    if g.n_series:
        g.check_spacing_and_gaps(f)
        caps = g.check_outliers(f, outlier_z)
        g.check_zero_runs(f, zero_run_alpha, stock, id_col)
        g.check_stale(f, int(stale_p), _end_period(last_date, g.freq))
    cross_table_findings(f, g.ids, items, stock, id_col)
    findings = f.table()
    cleaned = changes = None
    if steps:
        cleaned, changes = clean_table(g, tbl, steps, caps, target_col, time_col, id_col)
    return DataCheck(findings=findings, summary=f.summary(findings), cleaned=cleaned, changes=changes,
                     n_rows=tbl.num_rows, n_series=g.n_series,
                     params={"freq": g.freq.alias if g.freq else None, "outlier_z": outlier_z,
                             "zero_run_alpha": zero_run_alpha, "stale_periods": int(stale_p)})


def _end_period(last_date: Any, freq: Frequency | None) -> int | None:
    """The period of ``last_date`` under ``freq`` (None without either)."""
    if last_date is None or freq is None:
        return None
    day = as_of_day(last_date, "check_data")
    return int(freq.to_period(np.array([day], np.int64))[0][0])


@dataclass
class _SalesGrid:
    """The usable sales rows grouped by series and placed on each series' full period grid."""

    ids: pa.Array  # sorted unique ids of the usable rows
    freq: Frequency | None
    time_type: pa.DataType
    order: np.ndarray  # usable input rows in (series, period) order
    code: np.ndarray  # series of each ordered row
    t: np.ndarray  # period of each ordered row (int64)
    dup: np.ndarray  # ordered row repeats the previous row's period
    first_t: np.ndarray  # per series
    grid_ptr: np.ndarray  # offsets of each series' full grid
    grid: np.ndarray  # quantity per grid period (first row of a period; 0 in gaps; NaN if not finite)
    present: np.ndarray  # grid period has a row
    grid_row: np.ndarray  # input row of each grid period's first row (-1 in gaps)
    known_out: np.ndarray  # grid period recorded out of stock (in_stock False or on_hand <= 0)
    stock_level: np.ndarray | None  # on_hand per grid period (NaN in gaps), when the column exists
    promo: np.ndarray | None  # promotion flag per grid period, when the column exists
    n_series: int = 0

    @classmethod
    def build(cls, tbl: pa.Table, freq: Any, f: Findings, *, id_col: str, time_col: str, target_col: str,
              in_stock: str, on_hand: str, promotion: str) -> _SalesGrid:
        n = tbl.num_rows
        id_arr = tbl.column(id_col)
        time_arr = tbl.column(time_col)
        null_id = _to_numpy(pc.is_null(id_arr), np.bool_) if id_arr.null_count else np.zeros(n, bool)
        null_t = _to_numpy(pc.is_null(time_arr), np.bool_) if time_arr.null_count else np.zeros(n, bool)
        if null_id.any():
            f.add_rows("null_id", None, null_id, None)
        y, _ = numeric_values(tbl, target_col, _TARGET, table="sales")  # nulls as NaN
        keep = ~(null_id | null_t)
        rows = np.flatnonzero(keep) if not keep.all() else None
        sub_id = id_arr if rows is None else id_arr.take(pa.array(rows))
        sub_t = time_arr if rows is None else time_arr.take(pa.array(rows))
        empty = cls(ids=pa.array([], pa.string()), freq=parse_freq(freq) if freq else None,
                    time_type=time_arr.type if pa.types.is_temporal(time_arr.type) else pa.date32(),
                    order=np.empty(0, np.int64), code=np.empty(0, np.int64), t=np.empty(0, np.int64),
                    dup=np.empty(0, bool), first_t=np.empty(0, np.int64), grid_ptr=np.zeros(1, np.int64),
                    grid=np.empty(0), present=np.empty(0, bool), grid_row=np.empty(0, np.int64),
                    known_out=np.empty(0, bool), stock_level=None,
                    promo=None)
        if len(sub_id) == 0:
            if null_t.any():
                f.add_rows("null_date", None, null_t, None)
            return empty
        codes, ids, _, run_starts = _encode_ids(sub_id, table="sales", column=id_col)
        if codes is None:  # grouped ids: the runs are the series (in any order of the series)
            in_input = np.argsort(run_starts, kind="stable")
            counts = np.diff(np.r_[run_starts[in_input], len(sub_id)])
            codes = np.repeat(in_input.astype(np.int32), counts)
        if null_t.any():  # null dates belong to a series when the id is there
            bad = np.flatnonzero(null_t & ~null_id)
            if bad.size:
                f.add_grouped_rows("null_date", _codes_of(id_arr, bad, ids), None, None)
        days, off_midnight = time_to_days(sub_t, table="sales", column=time_col)
        fq = parse_freq(freq) if freq is not None else infer_freq(days)
        t, on_grid = fq.to_period(days)
        t = np.ascontiguousarray(t, dtype=np.int32)
        unusable = off_midnight | ~on_grid
        f.add_grouped_rows("time_of_day", codes[off_midnight], t[off_midnight], None)
        off = ~on_grid & ~off_midnight
        f.add_grouped_rows("off_frequency", codes[off], t[off], None)
        yy = y if rows is None else y[rows]
        nan = np.isnan(yy)
        inf = _TARGET.non_finite(yy) & ~nan
        neg = _TARGET.out_of_range(yy) & ~nan & ~inf  # the API's rule: a demand >= 0
        f.add_grouped_rows("missing_value", codes[nan], t[nan], None)
        f.add_grouped_rows("infinite_value", codes[inf], t[inf], None)
        f.add_grouped_rows("negative_quantity", codes[neg], t[neg], None)
        use = np.flatnonzero(~unusable) if unusable.any() else None
        perm = _sorted_rows(codes, t, use, len(ids))  # None: every row usable and already in order
        if perm is None:
            code_o, t_o, dup = codes, t, np.zeros(codes.size, dtype=bool)
        else:
            code_o, t_o = codes[perm], t[perm]
            dup = np.zeros(perm.size, dtype=bool)
            if perm.size > 1:
                dup[1:] = (code_o[1:] == code_o[:-1]) & (t_o[1:] == t_o[:-1])
            f.add_grouped_rows("duplicate", code_o[dup], t_o[dup], None)
        n_series = len(ids)
        first_t = np.zeros(n_series, dtype=np.int64)
        last_t = np.full(n_series, -1, dtype=np.int64)
        if code_o.size:
            starts = np.flatnonzero(np.r_[True, code_o[1:] != code_o[:-1]])
            ends = np.r_[starts[1:], code_o.size] - 1
            first_t[code_o[starts]] = t_o[starts]
            last_t[code_o[starts]] = t_o[ends]
        full_len = np.where(last_t >= first_t, last_t - first_t + 1, 0)
        grid_ptr = np.zeros(n_series + 1, dtype=np.int64)
        np.cumsum(full_len, out=grid_ptr[1:])
        total = int(grid_ptr[-1])
        # input row of each ordered row; grid position of each ordered row that is not a repeat
        order = (np.arange(len(sub_id), dtype=np.int64) if perm is None else perm)
        order = order if rows is None else rows[order]
        if perm is None and total == code_o.size:  # no gaps, no repeats: the grid is the rows
            first_of = None
            src = order
        else:
            keep = ~dup
            first_of = (grid_ptr[:-1][code_o[keep]] + t_o[keep]) - first_t[code_o[keep]]
            src = order[keep]
        grid = _scatter(y, first_of, src, total, 0.0)
        present = _scatter(np.ones(tbl.num_rows, dtype=bool), first_of, src, total, False)
        grid_row = src if first_of is None else _scatter(np.arange(tbl.num_rows, dtype=np.int64), first_of,
                                                          src, total, -1)
        known_out = ~np.isfinite(grid) | (grid < 0)  # not usable as sales for the rate estimates
        stock_level = None
        if in_stock in tbl.column_names and pa.types.is_boolean(tbl.column(in_stock).type):
            flag = _to_numpy(pc.fill_null(tbl.column(in_stock), True), np.bool_)
            known_out |= ~_scatter(flag, first_of, src, total, True)
        if on_hand in tbl.column_names:
            col = tbl.column(on_hand)
            if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
                level = _to_numpy(pc.fill_null(col.cast(pa.float64()), float("nan")), np.float64)
                stock_level = _scatter(level, first_of, src, total, np.nan)
                known_out |= stock_level <= 0
        promo = None
        if promotion in tbl.column_names:
            col = tbl.column(promotion)
            typ = col.type
            if pa.types.is_boolean(typ) or pa.types.is_integer(typ) or pa.types.is_floating(typ):
                flag = _to_numpy(pc.fill_null(pc.not_equal(col, pa.scalar(0).cast(typ)), False), np.bool_)
                promo = _scatter(flag, first_of, src, total, False)
        g = cls(ids=ids, freq=fq, time_type=time_arr.type, order=order, code=code_o, t=t_o, dup=dup,
                first_t=first_t, grid_ptr=grid_ptr, grid=grid, present=present, grid_row=grid_row,
                known_out=known_out, stock_level=stock_level, promo=promo, n_series=n_series)
        f.set_grid(g.ids, g.freq, g.time_type)
        return g

    def period_of(self, grid_pos: np.ndarray, series: np.ndarray) -> np.ndarray:
        """Period number of grid positions of the given series."""
        return self.first_t[series] + grid_pos - self.grid_ptr[:-1][series]

    def check_spacing_and_gaps(self, f: Findings) -> None:
        """Series recorded every k > 1 periods (median step), and gaps in the others."""
        c, t = (self.code[~self.dup], self.t[~self.dup]) if self.dup.any() else (self.code, self.t)
        rows_per = np.bincount(c, minlength=self.n_series)
        n_steps = np.maximum(rows_per - 1, 0)
        big = np.flatnonzero((t[1:] - t[:-1] > 1) & (c[1:] == c[:-1]))  # steps over a gap
        n_big = np.bincount(c[1:][big], minlength=self.n_series)
        # the median step exceeds 1 exactly when at least half the steps do (steps are >= 1); judged on
        # three steps or more
        coarse = np.flatnonzero((n_steps >= 3) & (2 * n_big >= n_steps))
        if coarse.size:
            sub_rows = np.isin(c, coarse)
            cc, tt = c[sub_rows].astype(np.int64), t[sub_rows].astype(np.int64)
            same = cc[1:] == cc[:-1]
            steps = np.ascontiguousarray((tt[1:] - tt[:-1])[same], dtype=np.float64)
            ptr = np.zeros(coarse.size + 1, dtype=np.int64)
            np.cumsum(n_steps[coarse], out=ptr[1:])
            med = np.empty((coarse.size, 1))
            series_quantiles(steps, ptr, np.array([0.5]), med)
            f.add_series("spacing", coarse, self.first_t[coarse], rows_per[coarse],
                         [f"rows are {m:g} periods apart: the data look coarser than {self.freq.alias} "
                          f"(pass the matching freq)" for m in med[:, 0]])
        gaps = np.diff(self.grid_ptr) - rows_per
        first_gap, _ = first_last(~self.present, self.grid_ptr)
        has = gaps > 0
        has[coarse] = False
        idx = np.flatnonzero(has)
        f.add_series("gap", idx, self.first_t[idx] + first_gap[idx], gaps[idx])

    def check_outliers(self, f: Findings, z: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Robust z-scores of the square roots of non-zero quantities; returns (grid positions, caps)."""
        ok = self.present & np.isfinite(self.grid) & (self.grid > 0)
        if self.promo is not None:  # a spike during a promotion is the promotion, not an entry error
            ok &= ~self.promo
        counts = segment_sum(ok, self.grid_ptr)
        ptr = np.zeros(self.n_series + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        root = np.sqrt(self.grid[ok])
        q = np.empty((self.n_series, 2))
        series_quantiles(root, ptr, np.array([0.5, 0.9]), q)
        scale = np.maximum((q[:, 1] - q[:, 0]) / 1.2815515655446004, 0.5)
        owner = np.repeat(np.arange(self.n_series), counts)
        score = (root - q[owner, 0]) / scale[owner]
        hit = (score > z) & (counts[owner] >= 8)
        if not hit.any():
            return None
        pos = np.flatnonzero(ok)[hit]
        series = owner[hit]
        cap = np.floor((q[series, 0] + z * scale[series]) ** 2)
        uniq, first_i, n_hit = np.unique(series, return_index=True, return_counts=True)
        cap_s = np.floor((q[uniq, 0] + z * scale[uniq]) ** 2)
        f.add_series("outlier", uniq, self.period_of(pos[first_i], uniq), n_hit,
                     [f"quantities above {c:g} are {z:g} times the usual spread off the median: check "
                      f"the entries (clean=['outliers'] caps them at {c:g})" for c in cap_s])
        return pos, cap

    def check_zero_runs(self, f: Findings, alpha: float, stock: Any, id_col: str) -> None:
        """Improbable zero runs: phantom inventory where stock shows on hand, else unrecorded stockouts."""
        lengths = np.diff(self.grid_ptr)
        period = np.repeat(self.first_t - self.grid_ptr[:-1], lengths) + np.arange(self.grid.size)
        days = self.freq.to_days(period)
        if self.freq.kind == "D":
            phase, n_ph = (days + 3) % 7, 7
        else:
            phase, n_ph = np.zeros(self.grid.size, np.int64), 1
        vals = np.where(np.isfinite(self.grid), self.grid, 0.0)
        runs = zero_run_scan(vals, self.grid_ptr, phase, n_ph, self.known_out, alpha,
                             window_periods(self.freq), not_regular=self.promo)
        if runs.series.size == 0:
            return
        phantom = np.zeros(runs.series.size, dtype=bool)
        first = self.grid_ptr[:-1][runs.series] + runs.start
        if self.stock_level is not None:
            lvl = np.where(np.isnan(self.stock_level), 0.0, self.stock_level)
            cs = np.zeros(lvl.size + 1, dtype=np.int64)
            np.cumsum(lvl > 0, out=cs[1:])
            phantom = (cs[first + runs.length] - cs[first]) == runs.length
        if stock is not None:
            snap = _stock_on_hand(stock, self.ids, id_col)
            if snap is not None:
                phantom |= runs.at_end & (snap[runs.series] > 0)
        for name, sel in (("phantom_inventory", phantom), ("unrecorded_stockout", ~phantom)):
            if not sel.any():
                continue
            s = runs.series[sel]
            uniq, first_i = np.unique(s, return_index=True)
            periods = np.bincount(s, weights=runs.length[sel], minlength=self.n_series)[uniq].astype(np.int64)
            lost = np.bincount(s, weights=runs.expected[sel], minlength=self.n_series)[uniq]
            worst = np.minimum.reduceat(runs.log10_p[sel], first_i)
            f.add_series(name, uniq, self.first_t[uniq] + runs.start[sel][first_i], periods,
                         [f"{int(p)} periods of zero sales (chance 1e{w:.0f}); about {x:.0f} pieces of "
                          f"demand lost" for p, w, x in zip(periods, worst, lost)])

    def check_stale(self, f: Findings, stale: int, end: int | None = None) -> None:
        """Series whose last period is ``stale`` or more periods before the latest of the table (or
        the period ``end``)."""
        last = self.first_t + np.diff(self.grid_ptr) - 1
        has = np.diff(self.grid_ptr) > 0
        behind = (last.max(initial=0) if end is None else end) - last
        idx = np.flatnonzero(has & (behind >= stale))
        f.add_series("stale", idx, last[idx] + 1, behind[idx])


def _scatter(values: np.ndarray, pos: np.ndarray | None, src: np.ndarray | None, total: int, fill: Any
             ) -> np.ndarray:
    """``values[src]`` placed at grid positions ``pos`` of a grid of ``total`` filled with ``fill``.

    ``pos`` None means the grid is the rows themselves (``src`` None: all of ``values``)."""
    if pos is None:  # src lists rows in order; all of them is the identity
        return values if src is None or src.size == values.size else values[src]
    out = np.full(total, fill, dtype=values.dtype)
    out[pos] = values if src is None else values[src]
    return out


def _sorted_rows(codes: np.ndarray, t: np.ndarray, use: np.ndarray | None,
                 n_series: int) -> np.ndarray | None:
    """Positions of the rows ``use`` (all when None) ordered by (series code, period), stable; None
    when every row is used and they already are in strictly increasing (code, period) order."""
    c = codes if use is None else codes[use]
    tt = t if use is None else t[use]
    c = np.ascontiguousarray(c, dtype=np.int32)
    tt = np.ascontiguousarray(tt, dtype=np.int32)
    perm = row_order(c, None, c.size, n_series, tt)[1] if c.size >= 2 else None
    if perm is None:
        return None if use is None else use.astype(np.int64)
    return perm if use is None else use.astype(np.int64)[perm]


def _codes_of(id_arr: Any, rows: np.ndarray, ids: pa.Array) -> np.ndarray:
    """Series codes (positions in ``ids``) of the given rows of the id column."""
    vals = id_arr.take(pa.array(rows))
    if pa.types.is_dictionary(vals.type):
        vals = vals.cast(vals.type.value_type)
    return _to_numpy(pc.index_in(vals, value_set=ids), np.int64)


def _stock_on_hand(stock: Any, ids: pa.Array, id_col: str) -> np.ndarray | None:
    """Snapshot on-hand per series (NaN without a usable row), or None without an on_hand column."""
    tbl = to_table(stock, table="stock")
    if "on_hand" not in tbl.column_names or id_col not in tbl.column_names:
        return None
    from stockopt.inventory._validate import id_strings

    sid = id_strings(tbl.column(id_col))
    pos = _to_numpy(pc.fill_null(pc.index_in(id_strings(ids), value_set=sid), -1), np.int64)
    level = _to_numpy(pc.fill_null(tbl.column("on_hand").cast(pa.float64()), float("nan")), np.float64)
    return np.where(pos >= 0, level[np.maximum(pos, 0)], np.nan)


