"""Inventory policies, safety stock and the Monte-Carlo inventory simulator.

* :func:`inventory_policy` -- RS, (R, s, nQ), (R, s, S), base-stock and newsvendor policies sized
  for a cycle-service or fill-rate target under normal, gamma, Poisson, negative binomial or
  empirical demand, from a demand summary, a forecast table or sample paths.
* :func:`simulate_inventory` -- day-by-day simulation of those policies (random or replayed demand,
  random lead times, backorders or lost sales) reporting the service actually achieved.
* :func:`optimize_service` / :func:`service_frontier` -- levels across all items for an aggregate
  fill rate or a stock budget (Sherbrooke's marginal analysis), and the efficient frontier.
* :func:`demand_summary` -- a stationary demand summary from a sales history; passed with
  ``history=`` the same sales, intermittent items are sized on the compound law of their history.
* :func:`history_profile` -- that history's per-item occurrence and size laws (optionally pooling
  the sizes across items), accepted by ``history=``.

Methods, definitions and references: ``docs/inventory.md``.
"""

from stockopt.inventory.history import HistoryProfile, demand_summary, history_profile
from stockopt.inventory.policy import eoq, inventory_policy, round_order_quantity
from stockopt.inventory.service import optimize_service, service_frontier
from stockopt.inventory.simulate import simulate_inventory

__all__ = ["inventory_policy", "simulate_inventory", "demand_summary", "history_profile", "HistoryProfile",
           "optimize_service", "service_frontier", "eoq", "round_order_quantity"]
