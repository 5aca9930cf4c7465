"""Inventory policies, safety stock and the Monte-Carlo inventory simulator.

* :func:`inventory_policy` -- RS, (R, s, nQ), (R, s, S), base-stock and newsvendor policies sized
  for a cycle-service or fill-rate target under normal, gamma, Poisson, negative binomial or
  empirical demand, from a demand summary, a forecast table or sample paths.
* :func:`simulate_inventory` -- day-by-day simulation of those policies (random or replayed demand,
  random lead times, backorders or lost sales) reporting the service actually achieved.

Methods, definitions and references: ``docs/inventory.md``.
"""

from stockopt.inventory.policy import eoq, inventory_policy, round_order_quantity
from stockopt.inventory.simulate import simulate_inventory

__all__ = ["inventory_policy", "simulate_inventory", "eoq", "round_order_quantity"]
