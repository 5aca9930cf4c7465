"""The demand-signals part of ``stockopt demo``: what stockout censoring and promotions do to a forecast,
measured on synthetic data whose true demand is known.

* Censored demand: :func:`stockopt.datasets.synthetic_retail` with long stockouts (30 % of the series
  out for 1 to 4 weeks at a time, a third of those still out at the end of the history; sales zero
  while out of stock, the uncensored ``demand`` kept as the truth).  One fast model forecasts the
  ``horizon`` days after the history from the sales as if they were demand, with
  ``censored="in_stock"``, and from the true demand history (the model's own bias); bias =
  ``sum(forecast - true demand) / sum(true demand)`` over the horizon, on the series that stocked out.
* Promotions: the same generator with one known uplift for every series and no stockouts; the last
  ``horizon`` days are held out; WAPE = ``sum|forecast - sales| / sum(sales)`` over them, without and
  with the promotion flag of the held-out days as a driver (:func:`stockopt.signals.forecast_drivers`),
  and the pooled uplift it estimates against the true one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

__all__ = ["SignalsDemo", "signals_demo"]


@dataclass(frozen=True)
class SignalsDemo:
    """Figures and tables of :func:`signals_demo` (fractions, not percent).

    Attributes
    ----------
    model : str
        The model used (its name; the forecast tables' column is its alias).
    horizon : int
        Days forecast.
    censored_series : int
        Series with at least one stocked-out day in their history.
    bias_sales, bias_censored, bias_oracle : float
        Forecast bias against the true demand over the horizon, on the censored series: forecast
        from the sales as demand, with ``censored="in_stock"``, and from the true demand history.
    wape_plain, wape_drivers : float
        Hold-out WAPE without and with the promotion driver (all series).
    uplift, true_uplift : float
        The estimated pooled promotion uplift and the generator's.
    censored_history : pyarrow.Table
        ``unique_id, ds, y, in_stock, demand`` of the censored example's history.
    censored_truth : pyarrow.Table
        ``unique_id, ds, demand``: the true demand over the horizon.
    censored_forecasts : dict of str to pyarrow.Table
        ``"sales"``, ``"censored"``, ``"oracle"``: the three forecast tables.
    promo_history, promo_future : pyarrow.Table
        The promotion example's history and its held-out days (``unique_id, ds, y, on_promotion``).
    promo_forecasts : dict of str to pyarrow.Table
        ``"plain"`` and ``"drivers"``.
    seconds : float
        Wall time of the whole computation.
    """

    model: str
    horizon: int
    censored_series: int
    bias_sales: float
    bias_censored: float
    bias_oracle: float
    wape_plain: float
    wape_drivers: float
    uplift: float
    true_uplift: float
    censored_history: pa.Table
    censored_truth: pa.Table
    censored_forecasts: dict[str, pa.Table]
    promo_history: pa.Table
    promo_future: pa.Table
    promo_forecasts: dict[str, pa.Table]
    seconds: float

    def lines(self) -> list[str]:
        """The figures in a few lines a buyer reads (as ``stockopt demo`` prints them)."""
        return [
            f"demand signals, on synthetic data whose true demand is known ({self.model}, "
            f"{self.horizon} days ahead):",
            f"  censored demand: forecast bias {100 * self.bias_sales:+.1f} % from sales as demand, "
            f"{100 * self.bias_censored:+.1f} % with censored=in_stock",
            f"    ({self.censored_series} series stocked out; the model's own bias, fitted on the true "
            f"demand: {100 * self.bias_oracle:+.1f} %)",
            f"  promotions: WAPE {100 * self.wape_plain:.1f} % without drivers, "
            f"{100 * self.wape_drivers:.1f} % with; uplift recovered {self.uplift:.2f}x "
            f"(true {self.true_uplift:.2f}x)",
        ]


def _split(t: pa.Table, n_series: int, n_days: int, horizon: int) -> tuple[pa.Table, pa.Table]:
    """The first ``n_days`` and the last ``horizon`` rows of every series of a generator table."""
    rows = np.arange(n_series * (n_days + horizon)).reshape(n_series, n_days + horizon)
    return t.take(pa.array(rows[:, :n_days].ravel())), t.take(pa.array(rows[:, n_days:].ravel()))


def signals_demo(n_series: int = 200, n_days: int = 365, horizon: int = 28, *, seed: int = 0,
                 model: str = "ses_optimized", true_uplift: float = 1.5) -> SignalsDemo:
    """Bias of a forecast of censored sales and accuracy with promotions, against a known truth.

    Parameters
    ----------
    n_series : int
        Item-locations of each example.
    n_days : int
        Days of history (the ``horizon`` days after it are the truth).
    horizon : int
        Days forecast.
    seed : int
        Seed of the synthetic data.
    model : str
        A model name of :data:`stockopt.models.MODEL_NAMES` (a fast one: the demo runs it five times).
    true_uplift : float
        The promotion uplift (>= 1) every series of the promotion example has.

    Returns
    -------
    SignalsDemo
        The figures and the tables they were computed from.

    Notes
    -----
    Censored demand: the correction of :mod:`stockopt.signals.censored` (Conrad 1976; Nahmias 1994);
    promotions: pooled Poisson pseudo-maximum likelihood on a de-promoted baseline
    (:mod:`stockopt.signals.drivers`; Santos Silva & Tenreyro 2006).  WAPE: Kolassa & Schütz (2007),
    "Advantages of the MAD/MEAN ratio over the MAPE", Foresight 6.

    Examples
    --------
    >>> d = signals_demo(40, 150, 14, seed=1)
    >>> abs(d.bias_censored) < abs(d.bias_sales)
    True
    >>> len(d.lines())
    4
    """
    import time

    import stockopt as so
    from stockopt.signals.drivers import Drivers
    from stockopt.signals.forecast import forecast_drivers

    t0 = time.perf_counter()
    total = n_days + horizon
    # (a) censored demand: 30 % of the series stock out for 1-4 weeks at a time (benchmarks/censored_demand)
    t = so.datasets.synthetic_retail(n_series, total, seed=seed, return_truth=True, promotions=False,
                                     stockout_share=0.3, stockout_rate=1 / 120, stockout_days=(7, 28))
    # and, as the oracle asks, a third of those are still out at the end of the history
    demand = t["demand"].to_numpy().reshape(n_series, total)
    in_stock = t["in_stock"].to_numpy(zero_copy_only=False).reshape(n_series, total).copy()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC3]))
    at_end = ~in_stock.all(axis=1) & (rng.random(n_series) < 1 / 3)
    length = rng.integers(7, 29, size=n_series)
    in_stock[at_end] &= np.arange(total)[None, :] < (n_days - length[at_end])[:, None]
    t = t.set_column(t.column_names.index("y"), "y", pa.array(np.where(in_stock, demand, 0.0).ravel()))
    t = t.set_column(t.column_names.index("in_stock"), "in_stock", pa.array(in_stock.ravel()))
    hist, fut = _split(t.select(["unique_id", "ds", "y", "in_stock", "demand"]), n_series, n_days, horizon)
    truth = fut.select(["unique_id", "ds", "demand"])
    oracle_hist = hist.select(["unique_id", "ds", "demand"]).rename_columns(["unique_id", "ds", "y"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fcs = {"sales": so.forecast(hist.select(["unique_id", "ds", "y"]), horizon, freq="D", models=[model]),
               "censored": so.forecast(hist.select(["unique_id", "ds", "y", "in_stock"]), horizon, freq="D",
                                       models=[model], censored="in_stock"),
               "oracle": so.forecast(oracle_hist, horizon, freq="D", models=[model])}
    col = fcs["sales"].column_names[2]
    out = ~hist["in_stock"].to_numpy(zero_copy_only=False).reshape(n_series, n_days)
    hit = out.any(axis=1)
    true_f = truth["demand"].to_numpy().reshape(n_series, horizon)[hit]

    def bias(fc: pa.Table) -> float:
        f = fc[col].to_numpy().reshape(n_series, horizon)[hit]
        return float((f - true_f).sum() / true_f.sum()) if true_f.sum() > 0 else 0.0

    # (b) promotions: one known uplift, no stockouts; the last `horizon` days held out
    p = so.datasets.synthetic_retail(n_series, total, seed=seed + 1, stockouts=False,
                                     promotion_uplift=(true_uplift, true_uplift))
    p_hist, p_fut = _split(p.select(["unique_id", "ds", "y", "on_promotion"]), n_series, n_days, horizon)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = so.forecast(p_hist.select(["unique_id", "ds", "y"]), horizon, freq="D", models=[model])
        res = forecast_drivers(p_hist, horizon, Drivers(future=p_fut.drop_columns(["y"])), freq="D",
                               models=[model])
    actual = p_fut["y"].to_numpy()

    def wape(fc: pa.Table) -> float:
        return float(np.abs(fc[col].to_numpy() - actual).sum() / actual.sum())

    coefs = res.coefficients.to_pylist()
    uplift = next(r["effect"] for r in coefs if r["driver"] == "on_promotion")
    return SignalsDemo(model=model, horizon=horizon, censored_series=int(hit.sum()),
                       bias_sales=bias(fcs["sales"]),
                       bias_censored=bias(fcs["censored"]), bias_oracle=bias(fcs["oracle"]),
                       wape_plain=wape(plain), wape_drivers=wape(res.forecast), uplift=float(uplift),
                       true_uplift=float(true_uplift), censored_history=hist, censored_truth=truth,
                       censored_forecasts=fcs, promo_history=p_hist, promo_future=p_fut,
                       promo_forecasts={"plain": plain, "drivers": res.forecast},
                       seconds=time.perf_counter() - t0)
