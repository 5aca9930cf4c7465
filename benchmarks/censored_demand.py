"""Stockout-censored demand: forecast bias against the true demand, with and without the correction,
and the fill rate a policy sized on each forecast achieves on the true demand.

Data: the synthetic retail generator with long stockouts - 30 % of the series stock out for 1 to 4
weeks at a time (about one spell every four months) - plus, on a third of those, a spell of 1 to 4
weeks that is still going on at the end of the history.  Sales are zero while out of stock; the
generator's uncensored ``demand`` is the truth.  Each model forecasts the 28 days after the
history three ways: from the sales as they are ("uncorrected"), from the sales with
``censored="in_stock"`` ("corrected") and from the true demand history ("oracle", what a model
could do if no sale were ever lost).  Bias = sum(forecast - demand) / sum(demand) over the horizon,
on the series that had a stockout in their history, and on all series.

Fill rate: an RS policy (7-day review, 7-day lead time, 95 % fill-rate target, gamma demand) is
sized from each forecast and its 80 % interval, then replayed on the next 182 days of true demand
(``so.simulate_inventory``, lost sales).

Lost sales (``--lost-sales``): partial stockouts - on each stocked-out day the shelf held
``C ~ U(0, 2 x the series' mean)`` pieces at the start; an empty shelf or demand reaching ``C``
censors the day (``min(D, C)`` sold) - and the share of the censored days' true demand that
``so.estimate_demand`` recovers, with its EM rounds, without them, and with the sales ignored.

    python benchmarks/censored_demand.py --n-series 10000     # every model (half an hour)
    python benchmarks/censored_demand.py --n-series 500 --models ses_optimized croston_sba
    python benchmarks/censored_demand.py --lost-sales
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pyarrow as pa

import stockopt as so

H = 28
HISTORY = 730
REPLAY = 182
MODELS = ["ses_optimized", "croston_sba", "tsb", "adida", "historic_average", "seasonal_naive", "auto_theta",
          "auto_ets", "auto"]


def make_data(n_series: int, seed: int = 0) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    """History table (censored sales + in_stock), true future demand (n, REPLAY), true history demand,
    and the mask of series with a stockout in their history."""
    n_days = HISTORY + REPLAY
    t = so.datasets.synthetic_retail(n_series, n_days, seed=seed, return_truth=True, stockout_share=0.3,
                                     stockout_rate=1 / 120, stockout_days=(7, 28))
    demand = t["demand"].to_numpy().reshape(n_series, n_days)
    in_stock = t["in_stock"].to_numpy(zero_copy_only=False).reshape(n_series, n_days).copy()
    rng = np.random.default_rng(seed + 1)
    prone = ~in_stock.all(axis=1)
    at_end = prone & (rng.random(n_series) < 1 / 3)
    length = rng.integers(7, 29, size=n_series)
    for i in np.flatnonzero(at_end):  # a stockout still going on at the end of the history
        in_stock[i, HISTORY - length[i]:HISTORY] = False
    sales = np.where(in_stock, demand, 0.0)
    hist = t.slice(0, 0)  # schema
    keep = np.zeros((n_series, n_days), dtype=bool)
    keep[:, :HISTORY] = True
    keep = keep.ravel()
    hist = pa.table({"unique_id": t["unique_id"].filter(pa.array(keep)), "ds": t["ds"].filter(pa.array(keep)),
                     "y": sales[:, :HISTORY].ravel(), "in_stock": in_stock[:, :HISTORY].ravel()})
    affected = ~in_stock[:, :HISTORY].all(axis=1)
    return hist, demand[:, HISTORY:], demand[:, :HISTORY], affected


def fill_rate(fc: pa.Table, model: str, future: np.ndarray, ids: pa.Array) -> np.ndarray:
    items = pa.table({"unique_id": ids, "lead_time": np.full(len(ids), 7.0),
                      "review_period": np.full(len(ids), 7.0),
                      "service_level": np.full(len(ids), 0.95), "service_metric": ["fill_rate"] * len(ids)})
    # gamma demand: distribution="auto" picks a negative binomial for slow movers, and sizing one whose
    # forecast is ~0 with a wide interval (an uncorrected series out of stock at the end) tries to
    # allocate its pmf over billions of units (a limit of inventory_policy, reported separately)
    pol = so.inventory_policy(fc, items, policy="RS", model=model, distribution="gamma")
    n = len(ids)
    days = np.arange(REPLAY, dtype=np.int32) + 20000
    replay = pa.table({"unique_id": ids.take(pa.array(np.repeat(np.arange(n), REPLAY))),
                       "ds": pa.array(np.tile(days, n), pa.date32()), "y": future.ravel()})
    kpi = so.simulate_inventory(pol, replay, lost_sales=True)
    return kpi["fill_rate"].to_numpy(), kpi["demand"].to_numpy()


def lost_sales(n_series: int, seed: int) -> None:
    import stockopt.signals.censored as cens

    days = 400
    t = so.datasets.synthetic_retail(n_series, days, seed=seed, return_truth=True, stockout_share=0.3,
                                     stockout_rate=1 / 100, stockout_days=(7, 28))
    d = t["demand"].to_numpy()
    out = ~t["in_stock"].to_numpy(zero_copy_only=False)
    rng = np.random.default_rng(seed + 5)
    mean = d.reshape(n_series, days).mean(axis=1, keepdims=True)
    cap = np.floor(rng.random((n_series, days)) * 2 * mean).ravel()
    short = out & ((cap == 0) | (d >= cap))
    base = t.select(["unique_id", "ds"])
    part = base.append_column("y", pa.array(np.where(short, np.minimum(cap, d), d)))
    part = part.append_column("in_stock", pa.array(~short))
    truth = d[short].sum()
    print(f"{n_series} x {days}: {short.mean():.1%} of days censored by a partial stockout")
    for label, rounds, table in (("EM rounds 5 (default)", 5, part), ("no EM round", 0, part),
                                 ("sales ignored (read as 0)", 5,
                                  part.set_column(2, "y", pa.array(np.where(short, 0.0, d))))):
        saved = cens.EM_ROUNDS
        cens.EM_ROUNDS = rounds
        try:
            est = so.estimate_demand(table, freq="D")["demand"].to_numpy()
        finally:
            cens.EM_ROUNDS = saved
        print(f"  {label:<28} estimated / true demand of the censored days: {est[short].sum() / truth:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-series", type=int, default=2000)
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lost-sales", action="store_true")
    args = ap.parse_args()
    if args.lost_sales:
        lost_sales(1500, 12)
        return
    hist, future, true_hist, affected = make_data(args.n_series, args.seed)
    truth = future[:, :H]
    ids = so.group_series(hist.select(["unique_id", "ds", "y"]), freq="D").ids
    oracle_tbl = hist.set_column(2, "y", pa.array(true_hist.ravel()))
    n_out = int((~hist["in_stock"].to_numpy(zero_copy_only=False)).sum())
    print(f"{args.n_series} series x {HISTORY} days; {affected.mean():.0%} of series and "
          f"{n_out / hist.num_rows:.1%} of days out of stock; horizon {H} days\n")
    print(f"{'model':<18} {'bias: uncorrected':>18} {'corrected':>10} {'oracle':>8}   "
          f"{'(all series)':>13} {'fill rate: unc.':>16} {'corr.':>6} {'oracle':>7}   "
          f"{'time unc / corr':>16}")
    for name in args.models:
        res = {}
        for label, tbl, kw in (("unc", hist, {}), ("cor", hist, {"censored": "in_stock"}),
                               ("ora", oracle_tbl, {})):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cols = ["unique_id", "ds", "y", "in_stock"] if kw else ["unique_id", "ds", "y"]
                fc = so.forecast(tbl.select(cols), h=H, freq="D", models=[name], level=[80], **kw)
            secs = time.perf_counter() - t0
            col = fc.column_names[2]
            f = fc[col].to_numpy().reshape(-1, H)
            fr, dem = fill_rate(fc, col, future, ids)
            res[label] = (f, secs, fr, dem)

        def bias(f, rows):
            return (f[rows] - truth[rows]).sum() / truth[rows].sum()

        def fr_all(fr, dem):
            return np.nansum(fr * dem) / dem[np.isfinite(fr)].sum()

        print(f"{name:<18} {bias(res['unc'][0], affected):>+18.1%} {bias(res['cor'][0], affected):>+10.1%} "
              f"{bias(res['ora'][0], affected):>+8.1%}   "
              f"{bias(res['unc'][0], slice(None)):>+5.1%}/{bias(res['cor'][0], slice(None)):>+.1%} "
              f"{fr_all(res['unc'][2][affected], res['unc'][3][affected]):>16.1%} "
              f"{fr_all(res['cor'][2][affected], res['cor'][3][affected]):>6.1%} "
              f"{fr_all(res['ora'][2][affected], res['ora'][3][affected]):>7.1%}   "
              f"{res['unc'][1]:>7.2f} / {res['cor'][1]:.2f} s")


if __name__ == "__main__":
    main()
