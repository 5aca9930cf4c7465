"""Hold-out accuracy with and without demand drivers on the real sets that carry prices, promotions and
events (Dominick's orange juice, Stallion beverages, the M5 sample), plus the synthetic generator's
promotions.

For every series the last ``h`` periods are held out; each model forecasts them from the rest (a)
from the sales alone and (b) with ``so.forecast(..., X_future=...)``: the drivers' values over the
held-out periods (planned prices, deals, features, events - known in advance in practice), their
pooled effects estimated on the history.  Reported: MAE and MASE (scale: the in-sample MAE of the
seasonal naive forecast), and the share of series where (b) has the lower absolute error.

    python benchmarks/drivers_accuracy.py                 # every set (a few minutes)
    python benchmarks/drivers_accuracy.py --sets stallion m5
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pyarrow as pa

import stockopt as so
from stockopt.datasets import load_dataset
from stockopt.signals import Drivers, holiday_calendar

# name: (h, freq, season, fill_gaps, driver columns, models, pool_by, yearly, calendar)
SETS = {
    "orange_juice": (8, "W-THU", 52, "interpolate", ["price", "on_deal", "feature"],
                     ["ses_optimized", "auto_theta", "historic_average"], "brand_id", False, None),
    "stallion": (6, "MS", 12, "zero", ["price_actual", "discount_in_percent", "easter_day", "good_friday",
                                       "new_year", "christmas", "labor_day", "independence_day",
                                       "revolution_day_memorial", "regional_games", "fifa_u_17_world_cup",
                                       "football_gold_cup", "beer_capital", "music_fest"],
                 ["ses_optimized", "auto_theta", "auto_ets"], "sku", False, None),
    "m5": (28, "D", 7, "zero", ["sell_price", "event_type_Cultural", "event_type_National",
                                "event_type_Religious", "event_type_Sporting", "snap_CA", "snap_TX",
                                "snap_WI"],
           ["ses_optimized", "seasonal_naive", "auto_ets", "auto"], None, True, None),
    "synthetic": (28, "D", 7, "zero", ["on_promotion", "price"], ["ses_optimized", "auto_theta", "auto"],
                  None, False, "US"),
}


def split(name: str):
    h, freq, season, fill, cols, models, pool_by, yearly, country = SETS[name]
    if name == "synthetic":
        t = so.datasets.synthetic_retail(1000, 730 + h, seed=7, stockouts=False)
    else:
        t = load_dataset(name)
    keep = ["unique_id", "ds", "y", *cols] + ([pool_by] if pool_by else [])
    t = t.select(keep)
    if pool_by:  # a pool column is not numeric for the grouping: carried by id instead
        t = t.set_column(t.column_names.index(pool_by), pool_by, t[pool_by].cast(pa.string()))
    g = so.group_series(t.drop_columns([pool_by]) if pool_by else t, freq=freq, extra_cols=cols,
                        fill_gaps=fill, missing="zero")
    ok = np.flatnonzero(g.lengths > 3 * h)
    g = g.take(ok)
    tl = g.lengths - h
    train = g.take(np.arange(g.n_series), lengths=tl).to_arrow()  # the first tl periods of each series
    test_idx = g.indptr[:-1][:, None] + tl[:, None] + np.arange(h)[None, :]
    actual = g.values[test_idx]
    fut_days = g.freq.to_days(g.start[:, None] + tl[:, None] + np.arange(h)[None, :]).ravel()
    fut = {"unique_id": g.ids.take(pa.array(np.repeat(np.arange(g.n_series), h))),
           "ds": so._arrow.days_to_time(fut_days, g.time_type)}
    for c in cols:
        fut[c] = g.extra[c][test_idx].ravel()
    fut = pa.table(fut)
    if pool_by:
        first = t.group_by("unique_id", use_threads=False).aggregate([(pool_by, "min")])
        pos = pa.compute.index_in(train["unique_id"], value_set=first["unique_id"])
        train = train.append_column(pool_by, first[f"{pool_by}_min"].take(pos))
    # the seasonal-naive in-sample MAE of each series (MASE scale)
    m = season if season < tl.min() // 2 else 1
    scale = np.array([np.mean(np.abs(g.values[a + m:a + n] - g.values[a:a + n - m]))
                      for a, n in zip(g.indptr[:-1], tl)])
    cal = None
    if country:
        years = [int(str(np.datetime64(int(d), "D"))[:4]) for d in (fut_days.min() - 3000, fut_days.max())]
        cal = holiday_calendar(country, range(years[0], years[-1] + 1))
    spec = Drivers(future=fut, pool_by=pool_by, yearly=yearly, calendar=cal)
    return train, spec, actual, scale, h, freq, season, models


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'set':<14} {'model':<16} {'series':>6} {'h':>3}  {'MAE plain':>10} {'drivers':>9}  "
          f"{'MASE plain':>10} {'drivers':>8}  {'better':>6}  {'seconds':>8}")
    for name in args.sets:
        train, spec, actual, scale, h, freq, season, models = split(name)
        n = actual.shape[0]
        plain_tbl = train.select(["unique_id", "ds", "y"])
        for model in models:
            t0 = time.perf_counter()
            plain = so.forecast(plain_tbl, h=h, freq=freq, models=[model], season_length=season)
            t1 = time.perf_counter()
            res = so.signals.forecast_drivers(train, h, spec, freq=freq, models=[model], season_length=season)
            t2 = time.perf_counter()
            col = plain.column_names[2]
            fp = plain[col].to_numpy().reshape(n, h)
            fd = res.forecast[col].to_numpy().reshape(n, h)
            ok = scale > 0
            e_p = np.abs(fp - actual).mean(axis=1)
            e_d = np.abs(fd - actual).mean(axis=1)
            print(f"{name:<14} {model:<16} {n:>6} {h:>3}  {e_p.mean():>10.3f} {e_d.mean():>9.3f}  "
                  f"{(e_p[ok] / scale[ok]).mean():>10.3f} {(e_d[ok] / scale[ok]).mean():>8.3f}  "
                  f"{(e_d < e_p).mean():>6.0%}  {t1 - t0:>4.1f}/{t2 - t1:.1f}")
        eff = res.coefficients.to_pandas()
        show = eff[eff["pool"] == eff["pool"].iloc[0]][["driver", "kind", "effect", "periods"]]
        print("   effects (first pool):", ", ".join(f"{r.driver}={r.effect:.2f}" for r in show.itertuples()
                                                  if r.periods > 0 or r.kind != "flag")[:400])


if __name__ == "__main__":
    main()
