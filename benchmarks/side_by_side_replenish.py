"""Side-by-side timing of ``replenish_plan`` against the plain approach: every supplier's whole model
handed to CP-SAT (one model per supplier, every grid point of every item; what a direct implementation
pays).

``cases(n_series, length)`` returns ``(label, ours, peer)`` closures; here ``n_series`` is the number of items
(one supplier per 200; ``length`` is unused).  Data: ``synthetic_retail`` sales of 120 days,
``synthetic_supply`` items / stock / open orders / suppliers, policies from ``inventory_policy`` (prepared
once, outside the timing).  ``ours`` is ``replenish_plan`` as shipped: suppliers without a binding
constraint in closed form, the others through GLOP (bound) + CP-SAT on the core; ``peer`` is the
same call with ``structure=False, method="full"``: every supplier with something to order goes to
CP-SAT as one whole model, stopped at the same gap (0.5 %).  The plans agree up to that gap.  The
case with a global budget (90 % of the unconstrained value) also runs the budget allocation.

The full-size figure (100,000 items over 500 suppliers, gap distribution, peak RSS) is
``benchmarks/replenish_scale.py``.
"""

from __future__ import annotations

import warnings
from typing import Callable

NAMES = ("unconstrained", "global budget")


def cases(n_series: int, length: int) -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    import stockopt as so

    n = max(int(n_series), 200)
    sales = so.datasets.synthetic_retail(n, 120, seed=0, promotions=False)
    sup = so.datasets.synthetic_supply(sales, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pol = so.inventory_policy(sup.demand, sup.items)

    def run(structure: bool, budget: float | None = None) -> Callable[[], object]:
        method = "core" if structure else "full"
        return lambda: so.replenish_plan(
            sup.stock,
            pol,
            sup.items,
            sup.suppliers,
            as_of=sup.as_of,
            open_orders=sup.open_orders,
            budget=budget,
            structure=structure,
            method=method,
        )

    free = run(True)()
    budget = 0.9 * free.summary["value"]
    m = sup.suppliers.num_rows
    return [
        (f"replenish ({n} items, {m} suppliers)", run(True), run(False)),
        (f"replenish, global budget ({n} items)", run(True, budget), run(False, budget)),
    ]
