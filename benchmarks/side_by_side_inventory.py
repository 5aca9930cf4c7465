"""Side-by-side timing of ``inventory_policy`` against stockpyl (the peer computes one item per call).

``cases(n_series, length)`` returns ``(label, ours, peer)`` closures over prepared data; here
``n_series`` is the number of items (``length`` is unused: policies need a demand summary, drawn
from a small private generator).  ``ours`` sizes every item in one call (one thread); ``peer`` loops
over the same items calling stockpyl:

* newsvendor, normal demand: ``stockpyl.newsvendor.newsvendor_normal`` per item;
* base stock with a lead time, normal demand: ``newsvendor_normal(..., lead_time=L)`` per item;
* (s, Q), normal demand: ``stockpyl.rq.r_q_loss_function_approximation`` per item (stockpyl
  optimises cost, we size s for a fill-rate target: same family of loss-function computations);
* (s, S), Poisson demand on slow movers: ``stockpyl.ss.s_s_discrete_exact`` (Zheng & Federgruen)
  per item, against our service-level (s, S) and against our own Zheng & Federgruen
  (``objective="cost"``: exactly the same problem and answer)
  (stockpyl optimises cost; we find the exact service-level (s, S) by the same stationary analysis).

The two slow stockpyl methods run on at most ``R_Q_CAP`` = 300 and ``S_S_CAP`` = 40 items (ours on
the same items), so the whole family takes ~15-20 s at the smoke size (``run.py --profile smoke``:
2000 items).  For those capped cases the label gives the number of items both sides really run,
e.g. ``(300 items)``, and ``ratios.py`` (like this file's ``__main__``) reads the item count and
items/s from it.  Ratios are like for like.  The closed-form gamma case has no
stockpyl counterpart and is not a case here; ``--closed-forms N`` times the normal and gamma
closed forms alone (N items end to end, best of 5).  Run by hand:
``PYTHONPATH=src .venv/bin/python benchmarks/side_by_side_inventory.py 2000`` or
``PYTHONPATH=src .venv/bin/python benchmarks/side_by_side_inventory.py --closed-forms 1000000``.
"""

from __future__ import annotations

import resource
import sys
import time
import warnings
from typing import Callable

import numpy as np
import pyarrow as pa

R_Q_CAP = 300
S_S_CAP = 40
#: the cases of ``cases()``, in its order (the pytest-benchmark suite parametrises over them)
NAMES = ("newsvendor normal", "base-stock normal, lead time", "(s,Q) normal, loss functions",
         "(s,S) Poisson, exact", "(s,S) Poisson, cost-optimal Z&F")


def _data(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    mean = rng.lognormal(1.5, 1.0, n)  # units per day
    return {
        "ids": np.array([f"item{i:07d}" for i in range(n)]),
        "mean": mean,
        "std": mean * rng.uniform(0.3, 1.0, n),
        "lead": rng.integers(1, 15, n).astype(float),
        "cost": rng.uniform(1, 100, n),
        "order_cost": rng.uniform(5, 100, n),
        "h_ratio": rng.uniform(0.5, 0.99, n),  # critical ratio p / (p + h)
    }


def _tables(d: dict[str, np.ndarray], sl: slice, **extra) -> tuple[pa.Table, pa.Table]:
    ids = pa.array(d["ids"][sl])
    dem = pa.table({"unique_id": ids, "demand_mean": d["mean"][sl], "demand_std": d["std"][sl]})
    cols = {"unique_id": ids, "lead_time": d["lead"][sl], "unit_cost": d["cost"][sl],
            "holding_rate": np.full(len(ids), 0.25), "order_cost": d["order_cost"][sl],
            "service_level": d["h_ratio"][sl]}
    cols.update({k: (v[sl] if isinstance(v, np.ndarray) else v) for k, v in extra.items()})
    return dem, pa.table(cols)


def _quiet(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` with warnings silenced (stockpyl's fsolve warns on some items; the output is noise)."""

    def run() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()

    return run


def cases(n_series: int, length: int) -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    from stockpyl import newsvendor, rq, ss

    from stockopt.inventory import inventory_policy

    n = max(int(n_series), 1)
    d = _data(n)
    h = d["cost"] * 0.25 / 365  # holding cost per unit per day
    p = h * d["h_ratio"] / (1 - d["h_ratio"])  # stockout cost giving the same critical ratio
    out: list[tuple[str, Callable[[], object], Callable[[], object]]] = []

    # newsvendor (one day, perishable)
    dem, items = _tables(d, slice(None), shelf_life_days=np.full(n, 1.0), review_period=np.full(n, 1.0))
    out.append((f"newsvendor normal ({n} items)",
                lambda: inventory_policy(dem, items, policy="newsvendor", distribution="normal"),
                lambda: [newsvendor.newsvendor_normal(h[i], p[i], d["mean"][i], d["std"][i])
                         for i in range(n)]))

    # base stock with lead time L (daily review: protection L + 1 days)
    dem2, items2 = _tables(d, slice(None), review_period=np.full(n, 1.0))
    out.append((f"base-stock normal, lead time ({n} items)",
                lambda: inventory_policy(dem2, items2, policy="base_stock", distribution="normal"),
                lambda: [newsvendor.newsvendor_normal(h[i], p[i], d["mean"][i], d["std"][i],
                                                      lead_time=d["lead"][i]) for i in range(n)]))

    # (s, Q) continuous review
    m = min(n, R_Q_CAP)
    sl = slice(0, m)
    dem3, items3 = _tables(d, sl, review_period=np.zeros(m), service_metric=["fill_rate"] * m)
    out.append((f"(s,Q) normal, loss functions ({m} items)",
                lambda: inventory_policy(dem3, items3, policy="sQ", distribution="normal"),
                lambda: [rq.r_q_loss_function_approximation(h[i], p[i], d["order_cost"][i], d["mean"][i],
                                                            d["std"][i], d["lead"][i]) for i in range(m)]))

    # (s, S) Poisson, exact, on slow movers (mean <= 8 units a day; stockpyl's time grows fast with it)
    slow = np.flatnonzero(d["mean"] <= 8.0)[:S_S_CAP]
    m2 = len(slow)
    ds = {k: v[slow] for k, v in d.items()}
    # textbook cost scale (Snyder & Shen Example 4.7: h = 1 per unit-day, K = 5..50)
    ds["cost"] = np.full(m2, 4 * 365.0)
    ds["order_cost"] = np.random.default_rng(1).uniform(5, 50, m2)
    dem4, items4 = _tables(ds, slice(None), review_period=np.ones(m2))
    h4 = np.ones(m2)
    p4 = ds["h_ratio"] / (1 - ds["h_ratio"])
    out.append((f"(s,S) Poisson, exact ({m2} items)",
                lambda: inventory_policy(dem4, items4, policy="sS", distribution="poisson"),
                lambda: [ss.s_s_discrete_exact(h4[i], p4[i], ds["order_cost"][i], True, ds["mean"][i])
                         for i in range(m2)]))
    # the same problem as stockpyl: cost-optimal (s, S) by Zheng & Federgruen's exact algorithm
    dem5, items5 = _tables(ds, slice(None), review_period=np.ones(m2), stockout_cost=p4)
    out.append((f"(s,S) Poisson, cost-optimal Z&F ({m2} items)",
                lambda: inventory_policy(dem5, items5, policy="sS", distribution="poisson", objective="cost"),
                lambda: [ss.s_s_discrete_exact(h4[i], p4[i], ds["order_cost"][i], True, ds["mean"][i])
                         for i in range(m2)]))
    return [(label, ours, _quiet(peer)) for label, ours, peer in out]


def closed_forms(n: int, repeats: int = 5) -> None:  # pragma: no cover - manual benchmark
    """Normal / gamma closed forms end to end (Arrow in, Arrow out), ``n`` items, best of ``repeats``.

    Items: mean demand lognormal(2, 1) per day, coefficient of variation U(0.6, 1.5), lead time
    1-14 days, weekly review, targets U(0.8, 0.99); with and without ``expected_ready_rate``.
    ``python benchmarks/side_by_side_inventory.py --closed-forms 1000000``.
    """
    from stockopt.inventory import inventory_policy

    rng = np.random.default_rng(0)
    mean = rng.lognormal(2.0, 1.0, n)
    ids = pa.array([f"i{i:07d}" for i in range(n)])
    dem = pa.table({"unique_id": ids, "demand_mean": mean, "demand_std": mean * rng.uniform(0.6, 1.5, n)})
    base = {"unique_id": ids, "lead_time": rng.integers(1, 15, n).astype(float),
            "order_cost": rng.uniform(5, 100, n), "unit_cost": rng.uniform(1, 100, n),
            "service_level": rng.uniform(0.8, 0.99, n), "review_period": np.full(n, 7.0)}
    for dist in ("normal", "gamma"):
        for pol in ("RS", "sQ"):
            for met in ("cycle", "fill_rate"):
                items = pa.table({**base, "service_metric": pa.array([met] * n)})
                for ready in (False, True):
                    kw = {"policy": pol, "distribution": dist, "ready_rate": ready}
                    inventory_policy(dem.slice(0, 100), items.slice(0, 100), **kw)  # compile / load cache
                    wall = [_time(lambda: inventory_policy(dem, items, **kw)) for _ in range(repeats)]
                    print(f"{dist:6s} {pol:3s} {met:9s} ready_rate={ready!s:5s} best {min(wall):6.2f} s  "
                          f"median {np.median(wall):6.2f} s", flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _main() -> None:  # pragma: no cover - manual benchmark
    if len(sys.argv) > 2 and sys.argv[1] == "--closed-forms":
        closed_forms(int(sys.argv[2]))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    for label, ours, peer in cases(n, 0):
        t = time.perf_counter()
        ours()
        warm = time.perf_counter() - t
        best_o = min(_time(ours) for _ in range(3))
        best_p = min(_time(peer) for _ in range(1 if "(s," in label else 2))
        items = int(label.rsplit("(", 1)[1].split()[0])
        print(f"{label:45s} ours {best_o:8.4f}s ({items / best_o:12,.0f} items/s, warm-up {warm:.2f}s)  "
              f"stockpyl {best_p:8.3f}s ({items / best_p:10,.1f} items/s)  ratio {best_p / best_o:8.1f}x")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _time(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    _main()
