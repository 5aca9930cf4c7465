"""The charts of the run report: top items, forecast fan charts and projected stock curves."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stockopt._arrow import _to_numpy, to_table
from stockopt._kernels.codes import POL_NEWS, POL_SQ, POL_SS
from stockopt.data import _encode_ids
from stockopt.inventory.policy import POLICY_NAMES
from stockopt.reporting._html import (
    _absent,
    _as_date_days,
    _days,
    _e,
    _fmt,
    _note,
    _num,
    _plain,
    _png,
    _rows_for,
    _Run,
    _str_ids,
    _table,
)

_BAND = re.compile(r"^(?P<model>.+)-(?P<side>lo|hi)-(?P<level>\d+(?:\.\d+)?)$")
_QUANTILE = re.compile(r"^.+-q\d+(?:\.\d+)?$")


# --- the deterministic stock projection ---------------------------------------------------------
def project_stock(daily_demand: np.ndarray, *, reorder_point: float, order_up_to: float,
                  order_quantity: float, lead_time: float, review_period: float, policy: str,
                  on_hand: float, arrivals: dict[int, float] | None = None,
                  first_review: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Project net stock day by day under mean demand, the policy placing the later orders.

    Each day ``t``: what arrives that day is received, then on a review day (every ``review_period``
    days from ``first_review``; 0 means daily) the policy orders on the inventory position (net
    stock plus everything on order): order-up-to policies (``RS``, ``base_stock``) up to
    ``order_up_to`` when the position is below it, ``sS`` up to ``order_up_to`` when the position
    is at or below ``reorder_point``, ``sQ`` the smallest number of lots of ``order_quantity`` that
    lifts the position above ``reorder_point``.  An order arrives ``ceil(lead_time)`` days later.
    Then the day's demand is taken out; net stock below zero is backordered demand.  The
    ``newsvendor`` (perishables, docs/inventory.md) orders a fresh ``order_up_to`` at every review;
    a delivery replaces what is left (leftovers perish) and unmet demand is lost (stock stays >= 0).
    This is the textbook sawtooth of the policy (Silver, Pyke & Thomas 2017, ch. 6-7; the timing of
    docs/inventory.md) with the mean forecast as demand: what the plan intends, not a simulation of
    its risk.

    Parameters
    ----------
    daily_demand : ndarray
        Mean demand per day (units), one value per projected day.
    reorder_point, order_up_to, order_quantity : float
        The policy's levels (units).
    lead_time, review_period : float
        Days.
    policy : str
        ``"RS"``, ``"sQ"``, ``"sS"``, ``"base_stock"`` or ``"newsvendor"``.
    on_hand : float
        Net stock at the start of day 0 (units).
    arrivals : dict, optional
        Orders already placed: day index -> units arriving (overdue orders at day 0).
    first_review : int
        First day on which the policy may order (1 when tonight's order is given in ``arrivals``).

    Returns
    -------
    net : ndarray
        Net stock at the end of each day (units).
    orders : ndarray
        Units ordered by the policy on each day.

    Examples
    --------
    >>> import numpy as np
    >>> net, orders = project_stock(np.full(6, 10.0), reorder_point=25.0, order_up_to=60.0,
    ...                             order_quantity=0.0, lead_time=2, review_period=1, policy="sS",
    ...                             on_hand=50.0)
    >>> net.tolist(), orders.tolist()
    ([40.0, 30.0, 20.0, 10.0, 0.0, 30.0], [0.0, 0.0, 0.0, 40.0, 0.0, 0.0])
    """
    d = np.asarray(daily_demand, dtype=np.float64)
    n = d.size
    code = POLICY_NAMES[policy]
    lag = max(int(math.ceil(lead_time - 1e-9)), 0)
    every = max(int(round(review_period)), 1)
    pipe = np.zeros(n + lag + 1)
    for day, qty in (arrivals or {}).items():
        pipe[min(max(int(day), 0), n + lag)] += float(qty)
    net = np.empty(n)
    orders = np.zeros(n)
    stock = float(on_hand)
    news = code == POL_NEWS
    for t in range(n):  # a sequential recursion over days (the position depends on earlier orders)
        if news and pipe[t] > 0:
            stock = pipe[t]  # a fresh delivery; what was left perishes
        else:
            stock += pipe[t]
        if t >= first_review and (t - first_review) % every == 0:
            position = stock + pipe[t + 1:].sum()
            if news:
                q = order_up_to
            elif code == POL_SQ:
                q = 0.0
                if position <= reorder_point:
                    lot = order_quantity if order_quantity > 0 else max(order_up_to - position, 0.0)
                    q = lot * max(math.floor((reorder_point - position) / lot) + 1, 1) if lot > 0 else 0.0
            elif code == POL_SS:
                q = order_up_to - position if position <= reorder_point else 0.0
            else:
                q = order_up_to - position if position < order_up_to else 0.0
            if q > 0:
                orders[t] = q
                if lag == 0:
                    stock = q if news else stock + q
                else:
                    pipe[t + lag] += q
        stock = max(stock - d[t], 0.0) if news else stock - d[t]
        net[t] = stock
    return net, orders


def _model_columns(fc: pa.Table) -> tuple[str | None, dict[float, tuple[str, str]]]:
    """The first model's column and its bands {level: (lo, hi)} in a forecast table."""
    names = fc.column_names[2:]
    models = [c for c in names if not _BAND.match(c) and not _QUANTILE.match(c)]
    if not models:
        return None, {}
    model = models[0]
    bands: dict[float, tuple[str, str]] = {}
    for c in names:
        m = _BAND.match(c)
        if m and m.group("model") == model and m.group("side") == "lo":
            hi = f"{model}-hi-{m.group('level')}"
            if hi in names:
                bands[float(m.group("level"))] = (c, hi)
    return model, dict(sorted(bands.items(), reverse=True))


def _top_items(run: _Run, top: int) -> tuple[list[str], list[list[Any]], str]:
    """The ``top`` ids by forecast value (or volume), their table rows and the sentence saying how."""
    fc = run.tables["forecast"]
    id_col = fc.column_names[0]
    model, _ = _model_columns(fc)
    # group_series' own id encoding: one pass when the rows are grouped by id in id order (as written)
    codes, uniq, _, starts = _encode_ids(fc[id_col], table="forecast", column=id_col)
    y = np.nan_to_num(_num(fc, model), nan=0.0)
    if codes is None:
        volume = np.add.reduceat(y, starts) if y.size else np.zeros(0)
    else:
        volume = np.bincount(codes, weights=y, minlength=len(uniq))
    uniq = _str_ids(uniq)  # sorted ids
    cost = np.full(len(uniq), np.nan)
    pol = run.tables["policy"]
    has_cost = pol is not None and "unit_cost" in pol.column_names and pol.column_names[0] == id_col
    if has_cost:
        idx = pc.index_in(uniq, value_set=_str_ids(pol[id_col]))
        found = _to_numpy(pc.is_valid(idx), np.bool_)
        cost[found] = _num(pol, "unit_cost")[_to_numpy(pc.drop_null(idx), np.int64)]
    value = volume * np.where(np.isfinite(cost), cost, 0.0)
    key = value if has_cost else volume
    nocost = ~np.isfinite(cost) if has_cost else np.zeros(len(uniq), bool)
    pick = np.lexsort((np.arange(len(uniq)), -key, nocost))[:top]  # ties: by id
    top_ids = uniq.take(pa.array(pick)).to_pylist()
    rows = [[sid, float(volume[i]), float(cost[i]) if np.isfinite(cost[i]) else None,
             float(value[i]) if np.isfinite(cost[i]) else None] for sid, i in zip(top_ids, pick)]
    how = (f"ranked by forecast value: the {model} forecast summed over the horizon (units) x the policy's "
           "unit cost; items without a policy row follow, by volume" if has_cost else
           f"ranked by forecast volume: the {model} forecast summed over the horizon (units); "
           "no unit cost in this run")
    return top_ids, rows, how


def _history(run: _Run, sales: Any, id_col: str, time_col: str, target_col: str,
             ids: list[str]) -> tuple[pa.Table | None, str]:
    """Sales rows of ``ids`` from ``sales``, the run folder's sales.parquet or the input run.json names."""
    import pyarrow.dataset as pds

    source, where = sales, "the sales given"
    if source is None and (run.folder / "sales.parquet").exists():
        source, where = run.folder / "sales.parquet", "sales.parquet in the run folder"
    if source is None and run.summary_name == "run.json":
        entry = (run.summary or {}).get("inputs", {})
        entry = entry.get("sales") if isinstance(entry, dict) else None
        path = entry.get("path") if isinstance(entry, dict) else entry
        if isinstance(path, str) and Path(path).exists():
            source, where = Path(path), f"the sales input recorded in run.json ({path})"
    if source is None:
        return None, "no sales history (pass sales= or keep sales.parquet in the run folder)"
    try:
        if isinstance(source, (str, Path)):
            dset = pds.dataset(source, format="parquet")
            if not {id_col, time_col, target_col} <= set(dset.schema.names):
                return None, f"{where} lacks {id_col}, {time_col} or {target_col}: no history drawn"
            id_type = dset.schema.field(id_col).type
            if pa.types.is_string(id_type) or pa.types.is_large_string(id_type):  # read only these rows
                tbl = dset.to_table(columns=[id_col, time_col, target_col],
                                    filter=pc.field(id_col).isin(pa.array(ids, id_type)))
            else:
                tbl = _rows_for(dset.to_table(columns=[id_col, time_col, target_col]), id_col, ids)
        else:
            tbl = to_table(source, table="sales")
            if not {id_col, time_col, target_col} <= set(tbl.column_names):
                return None, f"{where} lacks {id_col}, {time_col} or {target_col}: no history drawn"
            tbl = _rows_for(tbl.select([id_col, time_col, target_col]), id_col, ids)
    except (OSError, pa.ArrowException) as exc:
        return None, f"the sales history could not be read ({exc})"
    return tbl, f"history from {where}"


def _series(tbl: pa.Table, id_col: str, time_col: str, cols: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Per id: sorted days and the columns as float arrays (one sort, then contiguous slices)."""
    if tbl.num_rows == 0:
        return {}
    ids = _str_ids(tbl[id_col])
    days = _days(tbl[time_col], time_col)
    order = _to_numpy(pc.sort_indices(pa.table({"id": ids, "d": days}),
                                      sort_keys=[("id", "ascending"), ("d", "ascending")]), np.int64)
    sid = np.asarray(ids.take(pa.array(order)).to_pylist(), dtype=object)
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
    ends = np.r_[starts[1:], sid.size]
    vals = {c: _num(tbl, c)[order] for c in cols}
    d = days[order]
    return {sid[a]: {"days": d[a:b], **{c: v[a:b] for c, v in vals.items()}} for a, b in zip(starts, ends)}


def _dates(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]")


def _axes(Figure: Any) -> tuple[Any, Any]:
    """One chart's figure and axes: 620 x 270 px, concise dates, the legend above the plot."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    fig = Figure(figsize=(6.2, 2.7))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.83, bottom=0.17)
    ax = fig.add_subplot()
    locator = AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, lw=0.5)
    return fig, ax


def _legend(ax: Any) -> None:
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.01), frameon=False, ncol=4,
              borderaxespad=0.0, handlelength=1.6, columnspacing=1.2)


def _fan_chart(Figure: Any, fc: dict[str, np.ndarray], model: str, bands: dict[float, tuple[str, str]],
               hist: dict[str, np.ndarray] | None, target_col: str) -> str:
    fig, ax = _axes(Figure)
    x = _dates(fc["days"])
    shades = ["#c6dbef", "#9ecae1", "#6baed6", "#4292c6"]
    for k, (level, (lo, hi)) in enumerate(bands.items()):
        ax.fill_between(x, fc[lo], fc[hi], color=shades[min(k, len(shades) - 1)], lw=0,
                        label=f"{level:g} % interval")
    if hist is not None and hist["days"].size:
        ax.plot(_dates(hist["days"]), hist[target_col], color="#525252", lw=0.9, label="sales history")
    ax.plot(x, fc[model], color="#08306b", lw=1.6, label=f"forecast ({_plain(model, 30)})")
    ax.axvline(x[0], color="#888888", lw=0.8, ls=":")
    ax.set_ylabel("units per period", fontsize=8)
    ax.set_ylim(bottom=0)
    _legend(ax)
    return _png(fig)


def _forecast_section(run: _Run, Figure: Any, top_ids: list[str], top_rows: list[list[Any]], how: str,
                      sales: Any, target_col: str) -> tuple[str, dict[str, dict[str, np.ndarray]]]:
    fc_tbl = run.tables["forecast"]
    id_col, time_col = fc_tbl.column_names[:2]
    model, bands = _model_columns(fc_tbl)
    sel = _rows_for(fc_tbl, id_col, top_ids)
    per = _series(sel, id_col, time_col, [model] + [c for pair in bands.values() for c in pair])
    hist_tbl, hist_note = _history(run, sales, id_col, time_col, target_col, top_ids)
    hist = _series(hist_tbl, id_col, time_col, [target_col]) if hist_tbl is not None else {}
    parts = [_note(f"The top {len(top_ids)} items, {how}."),
             _table([id_col, "forecast total (units)", "unit cost", "forecast value"], top_rows),
             _note(f"Fan charts: the {model} forecast (line) and its prediction intervals "
                   f"({', '.join(f'{lv:g} %' for lv in bands) or 'none in this run'}; lighter = wider); "
                   f"{hist_note}.")]
    figs = []
    for sid in top_ids:
        if sid not in per:
            continue
        h = per[sid]["days"].size
        past = hist.get(sid)
        if past is not None:
            keep = max(3 * h, 8)
            past = {k: v[-keep:] for k, v in past.items()}
        uri = _fan_chart(Figure, per[sid], model, bands, past, target_col)
        figs.append(f"<figure><img src=\"{uri}\" alt=\"forecast of {_e(sid)}\">"
                    f"<figcaption>{_e(sid)}</figcaption></figure>")
    parts.append("<div class=\"grid\">" + "".join(figs) + "</div>")
    return "".join(parts), per


def _daily(series: dict[str, np.ndarray], model: str) -> np.ndarray:
    """Forecast per period spread evenly over the period's days (mean demand per day)."""
    days, y = series["days"], np.nan_to_num(series[model], nan=0.0)
    if days.size == 1:
        return y.copy()
    lengths = np.diff(days)
    lengths = np.r_[lengths, lengths[-1]].clip(min=1)
    return np.repeat(y / lengths, lengths)


def _stock_chart(Figure: Any, start_day: int, start: float, net: np.ndarray, orders: np.ndarray,
                 s: float, S: float, markers: list[tuple[int, float]]) -> str:
    fig, ax = _axes(Figure)
    x = _dates(start_day + np.arange(net.size + 1))
    y = np.r_[start, net]
    ax.plot(x, y, color="#2171b5", lw=1.6, label="net stock")
    if (y < 0).any():
        ax.fill_between(x, y, 0, where=y < 0, color="#de2d26", alpha=0.35, lw=0, label="backorders")
    if abs(S - s) < 1e-9:
        ax.axhline(S, color="#238b45", ls="--", lw=1.1, label="reorder point = order-up-to")
    else:
        ax.axhline(S, color="#238b45", ls="--", lw=1.1, label="order-up-to")
        ax.axhline(s, color="#d94801", ls="--", lw=1.1, label="reorder point")
    placed = np.flatnonzero(orders > 0)
    if placed.size:
        ax.plot(x[placed], y[placed], "v", color="#6a51a3", ms=5, label="policy orders")
    ax.axhline(0, color="#555555", lw=0.6)
    for k, (day, qty) in enumerate(markers):
        if 0 <= day <= net.size:
            ax.axvline(x[day], color="#6a51a3", lw=0.8, ls=":",
                       label=None if k else "tonight's order arrives")
            ax.annotate(f" +{qty:,.0f}", (x[day], 0.04), xycoords=("data", "axes fraction"), fontsize=7,
                        color="#6a51a3", va="bottom", ha="left")
    ax.set_ylabel("units", fontsize=8)
    _legend(ax)
    return _png(fig)


def _stock_section(run: _Run, Figure: Any, top_ids: list[str], per: dict[str, dict[str, np.ndarray]],
                   stock: Any, open_orders: Any) -> str:
    pol = run.tables["policy"]
    if pol is None:
        return _absent(run, "policy", "no reorder points or order-up-to levels to draw.")
    fc_tbl = run.tables["forecast"]
    id_col = fc_tbl.column_names[0]
    model, _ = _model_columns(fc_tbl)
    need = {"reorder_point", "order_up_to", "lead_time", "review_period", "policy"}
    if id_col not in pol.column_names or not need <= set(pol.column_names):
        return _note(f"policy.parquet lacks {', '.join(sorted(need - set(pol.column_names))) or id_col}: "
                     "no stock projection.")
    pol = _rows_for(pol, id_col, top_ids)
    prow = {r[id_col] if isinstance(r[id_col], str) else str(r[id_col]): r for r in pol.to_pylist()}
    stock_tbl = to_table(stock, table="stock") if stock is not None else run.tables["stock"]
    oo_tbl = (to_table(open_orders, table="open_orders") if open_orders is not None
              else run.tables["open_orders"])
    orders = run.tables["orders"]
    kpis = run.tables["kpis"]
    stock_rows = ({str(r[id_col]): r for r in _rows_for(stock_tbl, id_col, top_ids).to_pylist()}
                  if stock_tbl is not None and id_col in stock_tbl.column_names else {})
    as_of = _as_date_days((run.summary or {}).get("as_of"))

    def arrivals(tbl: pa.Table | None, date_col: str) -> dict[str, list[tuple[int, float]]]:
        if tbl is None or not {id_col, date_col, "quantity"} <= set(tbl.column_names):
            return {}
        sub = _rows_for(tbl, id_col, top_ids)
        out: dict[str, list[tuple[int, float]]] = {}
        for sid, day, q in zip(_str_ids(sub[id_col]).to_pylist(), _days(sub[date_col], date_col).tolist(),
                               _num(sub, "quantity").tolist()):
            out.setdefault(sid, []).append((int(day), float(q)))
        return out

    tonight = arrivals(orders, "arrival_date")
    pipeline = arrivals(oo_tbl, "arrival_date")
    kpi_rows = ({str(r[id_col]): r for r in _rows_for(kpis, id_col, top_ids).to_pylist()}
                if kpis is not None and id_col in kpis.column_names else {})
    if stock_rows:
        later = ("; tonight's orders from orders.parquet arrive on their arrival dates (dotted line) and "
                 "the policy places the later ones" if orders is not None else
                 "; the policy places tonight's and later orders")
        how = ("Start: tonight's net stock (on hand - backorders - reserved, from the stock table); "
               "open orders arrive on their dates" + later)
    else:
        how = ("No stock table in this run: each item starts at its order-up-to level with nothing on order "
               "(the policy's own cycle), and the policy places every order" +
               ("; tonight's orders from orders.parquet are marked where they arrive (dotted line, +units), "
                "not added" if orders is not None else ""))
    parts = [_note("Projected net stock per day under the mean forecast (the textbook sawtooth of each "
                   "item's policy: reviews every review period, orders arriving a lead time later), drawn "
                   f"against the reorder point and the order-up-to level. {how}. Below zero: backordered "
                   "demand."
                   + (" Fill rate and stockout days are the simulated projection of kpis.parquet."
                      if kpi_rows else ""))]
    figs = []
    for sid in top_ids:
        p, f = prow.get(sid), per.get(sid)
        if p is None or f is None:
            figs.append(f"<figure class=\"empty\"><figcaption>{_e(sid)}: no policy row (see the quarantine)"
                        "</figcaption></figure>")
            continue
        levels = [p["reorder_point"], p["order_up_to"], p["lead_time"], p["review_period"]]
        if any(v is None or not math.isfinite(v) for v in levels) or p["policy"] not in POLICY_NAMES:
            figs.append(f"<figure class=\"empty\"><figcaption>{_e(sid)}: the policy has no finite levels "
                        f"(status {_e(p.get('status'))})</figcaption></figure>")
            continue
        demand = _daily(f, model)
        day0 = as_of if as_of is not None else int(f["days"][0])
        shift = day0 - int(f["days"][0])  # the run's as_of may differ from the first forecast day
        if shift > 0:
            demand = demand[shift:]
        elif shift < 0 and demand.size:
            demand = np.r_[np.full(-shift, demand[0]), demand]
        start = float(p["order_up_to"])
        arr: dict[int, float] = {}
        markers = [(d - day0, q) for d, q in tonight.get(sid, [])]
        first_review = 0
        if sid in stock_rows:
            r = stock_rows[sid]
            start = sum(float(r.get(c) or 0.0) * sign for c, sign in
                        (("on_hand", 1), ("backorders", -1), ("reserved", -1)))
            for d, q in pipeline.get(sid, []) + tonight.get(sid, []):
                arr[d - day0] = arr.get(d - day0, 0.0) + q
            if orders is not None:
                first_review = 1
        net, placed = project_stock(demand, reorder_point=float(p["reorder_point"]),
                                    order_up_to=float(p["order_up_to"]),
                                    order_quantity=float(p.get("order_quantity") or 0.0),
                                    lead_time=float(p["lead_time"]), review_period=float(p["review_period"]),
                                    policy=p["policy"], on_hand=start, arrivals=arr,
                                    first_review=first_review)
        uri = _stock_chart(Figure, day0, start, net, placed, float(p["reorder_point"]),
                           float(p["order_up_to"]), markers)
        cap = (f"{sid}: {p['policy']}, lead time {_fmt(float(p['lead_time']))} d, review "
               f"{_fmt(float(p['review_period']))} d, reorder point {_fmt(float(p['reorder_point']))}, "
               f"order-up-to {_fmt(float(p['order_up_to']))}")
        k = kpi_rows.get(sid)
        if k is not None and k.get("fill_rate") is not None:
            cap += f"; projected fill rate {100 * float(k['fill_rate']):.1f} %"
            if k.get("stockout_days") is not None:
                cap += f", stockout days {_fmt(float(k['stockout_days']))}"
        figs.append(f"<figure><img src=\"{uri}\" alt=\"projected stock of {_e(sid)}\">"
                    f"<figcaption>{_e(cap)}</figcaption></figure>")
    parts.append("<div class=\"grid\">" + "".join(figs) + "</div>")
    return "".join(parts)
