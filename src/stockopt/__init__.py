"""stockopt: demand forecasting, safety stock and purchase orders for many item-locations at once.

The stable top-level namespace (``import stockopt as so``):

- :func:`forecast`, :func:`cross_validation`, :func:`evaluate`, :func:`simulate` and :mod:`stockopt.models`;
- :func:`group_series` / :class:`GroupedSeries` - validate and group long ``unique_id, ds, y`` tables;
- :func:`inventory_policy` / :func:`simulate_inventory` - safety stock, reorder points, order-up-to
  levels, and their Monte-Carlo check; :func:`demand_summary` / :func:`history_profile` - a demand
  summary and the per-item demand laws from sales;
- :func:`optimize_service` / :func:`service_frontier` - levels across all items for an aggregate
  fill rate or a stock budget, and the efficient frontier between them;
- :func:`replenish` / :func:`replenish_plan` - purchase orders under supplier constraints (packs, MOQ,
  order days, minimum order values, trucks, budgets), :func:`alerts` and :func:`project_kpis`;
- :func:`run_nightly` (returning a :class:`PlanResult`) / :func:`quarantine` / :func:`quarantine_items` -
  the nightly job and its quarantine of bad series and bad item rows; :func:`report` - the run's
  self-contained HTML report (charts need the ``plot`` extra, matplotlib);
- :mod:`stockopt.datasets` - the synthetic retail generator and the real-data loaders;
- :mod:`stockopt.errors` - the exception family.

Nothing here prints, keeps global mutable state or compiles at import time; compiled kernels are
built (or loaded from numba's on-disk cache) on first use.
"""

from stockopt import datasets, errors, models
from stockopt._version import __version__
from stockopt.backtest import cross_validation
from stockopt.data import GroupedSeries, GroupReport, group_series
from stockopt.evaluation import evaluate
from stockopt.forecasting import forecast
from stockopt.frequency import Frequency, infer_freq, parse_freq
from stockopt.inventory import (
    demand_summary,
    history_profile,
    inventory_policy,
    optimize_service,
    service_frontier,
    simulate_inventory,
)
from stockopt.pipeline import PlanResult, quarantine, quarantine_items, run_nightly
from stockopt.replenishment import (
    ProjectedKPIs,
    ReplenishmentPlan,
    alerts,
    project_kpis,
    replenish,
    replenish_plan,
)
from stockopt.reporting import report
from stockopt.simulation import simulate

__all__ = [
    "__version__",
    "datasets",
    "errors",
    "models",
    "forecast",
    "cross_validation",
    "evaluate",
    "simulate",
    "group_series",
    "GroupedSeries",
    "GroupReport",
    "Frequency",
    "parse_freq",
    "infer_freq",
    "quarantine",
    "quarantine_items",
    "inventory_policy",
    "simulate_inventory",
    "demand_summary",
    "history_profile",
    "optimize_service",
    "service_frontier",
    "replenish",
    "replenish_plan",
    "ReplenishmentPlan",
    "alerts",
    "project_kpis",
    "ProjectedKPIs",
    "run_nightly",
    "PlanResult",
    "report",
]
