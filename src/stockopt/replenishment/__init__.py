"""Purchase orders under supplier constraints, stock alerts and the projected result of a plan.

* :func:`replenish_plan` / :func:`replenish` -- tonight's order lines per supplier (packs, MOQ,
  maximum stock, shelf life, order days, minimum order values, trucks, supplier and global
  budgets), each with a sentence saying why, the solver's report per supplier and warning rows.
* :func:`alerts` -- stockout risk before the next possible arrival, days of cover, excess and
  dormant stock, each valued in money.
* :func:`project_kpis` -- fill rate, stockout days, stock value and turns of a plan, simulated.

Method and cost model: ``docs/replenishment.md``.
"""

from stockopt.replenishment.alerts import alerts
from stockopt.replenishment.kpis import ProjectedKPIs, project_kpis
from stockopt.replenishment.orders import ReplenishmentPlan, replenish, replenish_plan

__all__ = ["replenish", "replenish_plan", "ReplenishmentPlan", "alerts", "project_kpis", "ProjectedKPIs"]
