"""The fast models with a search, kernels only, against one plain compiled SES pass over the same values
(the issue's "within 3x of a single pass"; ratios.py prints ours / floor).

Cases and data: ``benchmarks/floor.py``; how the sides are timed: ``benchmarks/conftest.py``.
"""

from __future__ import annotations

import floor as family
import pytest

FAMILY = "floor"


@pytest.fixture(scope="module")
def cases(bench_size):  # type: ignore[no-untyped-def]
    return family.cases(*bench_size(FAMILY))


# each case twice: our side, then the peer's (or the floor's) in the same benchmark group
SIDES = [pytest.param(i, side, id=f"{name}-{side}") for i, name in enumerate(family.NAMES)
         for side in ("ours", getattr(family, "OTHER", {}).get(name, "peer"))]


@pytest.mark.parametrize(("index", "side"), SIDES)
def test_floor(run_side, bench_size, cases, index: int, side: str) -> None:  # type: ignore[no-untyped-def]
    run_side(FAMILY, bench_size(FAMILY), family.NAMES[index], cases[index], side)
