"""Forecast accuracy metrics over a cross-validation (or any forecast-with-actuals) table.

``evaluate(cv, metrics=[...])`` returns one row per series, cutoff (when the table has one) and
metric, with one column per model, like utilsforecast's ``evaluate``.  Definitions (``y`` actual,
``f`` forecast, means over the ``h`` periods of one series and cutoff):

========== ==========================================================================
mae        mean |y - f|
rmse       sqrt(mean (y - f)^2)
smape      mean |y - f| / (|y| + |f|)  (0 where both are 0; in [0, 1])
bias       mean (f - y)  (positive = over-forecast)
mase       mae / mean |y_t - y_{t-m}| over the training history up to the cutoff
           (Hyndman & Koehler 2006)
rmsse      rmse / sqrt(mean (y_t - y_{t-m})^2) over the same history (M5 competition)
pinball    mean pinball loss of each quantile column ``<Model>-q<P>`` (metric ``pinball_q<P>``)
           and of each interval bound (``pinball_lo_<L>`` / ``pinball_hi_<L>``)
coverage   share of actuals inside ``[<Model>-lo-<L>, <Model>-hi-<L>]`` (metric ``coverage_<L>``)
========== ==========================================================================
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, require_columns, time_to_days, to_table
from stockopt._params import Instance, Integer, Options, SequenceOf, validate_params
from stockopt.errors import DataQualityWarning, ParameterError, raise_error

__all__ = ["evaluate", "METRICS"]

METRICS: tuple[str, ...] = ("mae", "rmse", "mase", "rmsse", "smape", "bias", "pinball", "coverage")
_NON_MODEL = re.compile(r".+-(lo|hi)-[0-9.]+$|.+-q[0-9.]+$")


@validate_params({"metrics": SequenceOf(Options(*METRICS), min_len=1),
                  "models": [None, SequenceOf(Instance(str))], "season_length": Integer(1),
                  "id_col": Instance(str), "time_col": Instance(str), "target_col": Instance(str),
                  "cutoff_col": Instance(str)})
def evaluate(
    cv: Any,
    *,
    metrics: Sequence[str] = ("mae", "rmse"),
    models: Sequence[str] | None = None,
    train: Any = None,
    season_length: int = 1,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    cutoff_col: str = "cutoff",
) -> pa.Table:
    """Accuracy of each model per series (and cutoff).

    Parameters
    ----------
    cv : table
        Output of :func:`stockopt.cross_validation` (or any table with ids, actuals and forecast
        columns).
    metrics : sequence of str
        Any of :data:`METRICS`.
    models : sequence of str, optional
        Model columns to score; default every column that is not an id, time, cutoff, actual,
        interval/quantile or boolean column (the ``in_stock`` flag of a censored backtest).
    train : table, optional
        The sales history (``unique_id, ds, y``) the scaled metrics take their scale from, up to
        each cutoff; required for ``mase`` and ``rmsse``.
    season_length : int
        Seasonal period ``m`` (>= 1) of the naive scale of ``mase`` and ``rmsse`` (periods).
    id_col, time_col, target_col, cutoff_col : str
        Column names of ``cv`` (and of ``train``).

    Returns
    -------
    pyarrow.Table
        ``unique_id, [cutoff,] metric, <model>...``; NaN where a metric is undefined (a zero scale).

    Examples
    --------
    >>> import pyarrow as pa
    >>> cv = pa.table({"unique_id": ["a", "a"], "ds": pa.array([1, 2], pa.date32()),
    ...                "y": [1.0, 3.0], "M": [2.0, 2.0]})
    >>> evaluate(cv, metrics=["mae", "bias"]).to_pylist()
    [{'unique_id': 'a', 'metric': 'mae', 'M': 1.0}, {'unique_id': 'a', 'metric': 'bias', 'M': 0.0}]
    """
    tbl = to_table(cv, table="cv")
    require_columns(tbl, {"id_col": id_col, "target_col": target_col}, table="cv")
    has_cutoff = cutoff_col in tbl.column_names
    sort_keys = [(id_col, "ascending")] + ([(cutoff_col, "ascending")] if has_cutoff else [])
    if time_col in tbl.column_names:
        sort_keys.append((time_col, "ascending"))
    tbl = tbl.sort_by(sort_keys)
    skip = {id_col, time_col, target_col, cutoff_col}
    if models is None:
        models = [c for c in tbl.column_names if c not in skip and not _NON_MODEL.match(c)
                  and not pa.types.is_boolean(tbl.schema.field(c).type)]  # flags (in_stock) are no forecast
    y = _to_numpy(tbl.column(target_col).cast(pa.float64()), np.float64)
    # group boundaries: a new group where id (or cutoff) changes
    keys = [tbl.column(id_col)] + ([tbl.column(cutoff_col)] if has_cutoff else [])
    change = np.zeros(tbl.num_rows, dtype=bool)
    if tbl.num_rows:
        change[0] = True
    for k in keys:
        arr = k.combine_chunks()
        if tbl.num_rows > 1:
            ne = pc.not_equal(arr[1:], arr[:-1])
            change[1:] |= _to_numpy(ne, np.bool_)
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, tbl.num_rows))

    def gmean(x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, starts) / counts if x.size else np.empty(0)

    scales: dict[str, np.ndarray] = {}
    if {"mase", "rmsse"} & set(metrics):
        if train is None:
            raise_error(ParameterError, "mase and rmsse need the sales history for their naive scale",
                        table="evaluate", parameter="train", expected="train=<the sales history>")
        scales = _naive_scales(train, tbl, starts, season_length, id_col, time_col, target_col,
                               cutoff_col if has_cutoff else None)

    out_rows: list[tuple[str, dict[str, np.ndarray]]] = []
    for metric in metrics:
        if metric in ("pinball", "coverage"):
            out_rows.extend(_interval_metrics(metric, tbl, y, models, gmean))
            continue
        vals = {}
        for m in models:
            f = _to_numpy(tbl.column(m).cast(pa.float64()), np.float64)
            e = y - f
            if metric == "mae":
                vals[m] = gmean(np.abs(e))
            elif metric == "rmse":
                vals[m] = np.sqrt(gmean(e * e))
            elif metric == "bias":
                vals[m] = gmean(-e)
            elif metric == "smape":
                den = np.abs(y) + np.abs(f)
                with np.errstate(invalid="ignore", divide="ignore"):
                    vals[m] = gmean(np.where(den > 0, np.abs(e) / den, 0.0))
            elif metric == "mase":
                with np.errstate(invalid="ignore", divide="ignore"):
                    vals[m] = gmean(np.abs(e)) / scales["mae"]
            elif metric == "rmsse":
                with np.errstate(invalid="ignore", divide="ignore"):
                    vals[m] = np.sqrt(gmean(e * e)) / scales["rmse"]
        out_rows.append((metric, vals))
    n_groups = starts.size
    cols: dict[str, Any] = {id_col: pa.concat_arrays([tbl.column(id_col).combine_chunks().take(pa.array(starts))]
                                                    * len(out_rows)) if out_rows else pa.array([])}
    if has_cutoff:
        cols[cutoff_col] = pa.concat_arrays([tbl.column(cutoff_col).combine_chunks().take(pa.array(starts))]
                                            * len(out_rows))
    cols["metric"] = pa.array(np.repeat([name for name, _ in out_rows], n_groups).tolist(), type=pa.string())
    for m in models:
        cols[m] = pa.array(np.concatenate([v.get(m, np.full(n_groups, np.nan)) for _, v in out_rows])
                           if out_rows else np.empty(0))
    return pa.table(cols)


def _interval_metrics(metric: str, tbl: pa.Table, y: np.ndarray, models: Sequence[str], gmean: Any
                      ) -> list[tuple[str, dict[str, np.ndarray]]]:
    rows: dict[str, dict[str, np.ndarray]] = {}
    names = tbl.column_names
    for m in models:
        for c in names:
            if not c.startswith(m + "-"):
                continue
            rest = c[len(m) + 1:]
            col = _to_numpy(tbl.column(c).cast(pa.float64()), np.float64)
            if metric == "pinball":
                if rest.startswith("q"):
                    tau = float(rest[1:]) / 100.0
                elif rest.startswith("lo-"):
                    tau = 0.5 - float(rest[3:]) / 200.0
                elif rest.startswith("hi-"):
                    tau = 0.5 + float(rest[3:]) / 200.0
                else:
                    continue
                d = y - col
                loss = np.maximum(tau * d, (tau - 1.0) * d)
                rows.setdefault(f"pinball_{rest.replace('-', '_')}", {})[m] = gmean(loss)
            elif metric == "coverage" and rest.startswith("lo-"):
                lv = rest[3:]
                hi_name = f"{m}-hi-{lv}"
                if hi_name not in names:
                    continue
                hi = _to_numpy(tbl.column(hi_name).cast(pa.float64()), np.float64)
                inside = ((y >= col) & (y <= hi)).astype(np.float64)
                rows.setdefault(f"coverage_{lv}", {})[m] = gmean(inside)
    return list(rows.items())


def _naive_scales(train: Any, tbl: pa.Table, starts: np.ndarray, m: int, id_col: str, time_col: str,
                  target_col: str, cutoff_col: str | None) -> dict[str, np.ndarray]:
    """Seasonal-naive in-sample MAE and RMSE of each group's series, up to its cutoff."""
    from stockopt.data import group_series

    g = group_series(train, id_col=id_col, time_col=time_col, target_col=target_col, missing="zero")
    ids = tbl.column(id_col).combine_chunks().take(pa.array(starts))
    if pa.types.is_dictionary(ids.type):
        ids = ids.dictionary_decode()
    pos = _to_numpy(pc.index_in(ids, value_set=g.ids).fill_null(-1), np.int64)
    if (pos < 0).any():
        bad = ids[int(np.argmax(pos < 0))].as_py()
        raise_error(ParameterError, "a series of the cv table is not in train", table="evaluate",
                    parameter="train", series=bad, expected="a history for every series of cv")
    lengths = g.lengths[pos]
    if cutoff_col is not None:
        cut_days, _ = time_to_days(tbl.column(cutoff_col).combine_chunks().take(pa.array(starts)),
                                   table="cv", column=cutoff_col)
        cut_p, _ = g.freq.to_period(cut_days)
        lengths = np.clip(cut_p - g.start[pos] + 1, 0, lengths)
    short = lengths <= m  # no seasonal difference at all: the scale is undefined
    if short.all():
        longest = int(lengths.max(initial=0))
        raise_error(ParameterError, "bad argument", table="evaluate", parameter="season_length",
                    expected=f"a season shorter than the training history (at most {max(longest - 1, 0)} "
                    "periods here) for the naive scale of mase / rmsse", got=m)
    if short.any():
        i = int(np.argmax(short))
        warnings.warn(f"evaluate: {int(short.sum())} series have a training history of at most "
                      f"season_length={m} periods, so mase / rmsse are NaN for them (first: "
                      f"{ids[i].as_py()!r}, {int(lengths[i])} periods)", DataQualityWarning, stacklevel=3)
    # prefix sums of seasonal differences per series, over the whole values array
    v = g.values
    d = np.zeros_like(v)
    within = np.arange(v.size) - np.repeat(g.indptr[:-1], g.lengths)
    ok = within >= m
    d[ok] = v[ok] - v[np.flatnonzero(ok) - m]
    ca = np.concatenate(([0.0], np.cumsum(np.abs(d))))
    cs = np.concatenate(([0.0], np.cumsum(d * d)))
    a = g.indptr[pos] + np.minimum(m, lengths)
    b = g.indptr[pos] + lengths
    k = np.maximum(lengths - m, 0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mae = (ca[b] - ca[a]) / k
        rmse = np.sqrt((cs[b] - cs[a]) / k)
    mae = np.where(mae > 0, mae, np.nan)
    rmse = np.where(rmse > 0, rmse, np.nan)
    return {"mae": mae, "rmse": rmse}
