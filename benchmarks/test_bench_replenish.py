"""``replenish_plan`` against every supplier's whole model handed to CP-SAT (ratios.py prints
peer / ours).

Cases and data: ``benchmarks/side_by_side_replenish.py``; timing: ``benchmarks/conftest.py``.
"""

from __future__ import annotations

import pytest
import side_by_side_replenish as family

FAMILY = "replenish"


@pytest.fixture(scope="module")
def cases(bench_size):  # type: ignore[no-untyped-def]
    return family.cases(*bench_size(FAMILY))


# each case twice: our side, then the peer's (or the floor's) in the same benchmark group
SIDES = [pytest.param(i, side, id=f"{name}-{side}") for i, name in enumerate(family.NAMES)
         for side in ("ours", getattr(family, "OTHER", {}).get(name, "peer"))]


@pytest.mark.parametrize(("index", "side"), SIDES)
def test_replenish(run_side, bench_size, cases, index: int, side: str) -> None:  # type: ignore[no-untyped-def]
    run_side(FAMILY, bench_size(FAMILY), family.NAMES[index], cases[index], side)
