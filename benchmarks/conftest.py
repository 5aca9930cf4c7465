"""pytest-benchmark suites: our engine and the peer on the same data, in one benchmark group per case.

Each ``test_bench_<family>.py`` takes the ``(label, ours, peer)`` closures of
``side_by_side_<family>.cases(n_series, length)`` (data built once per module) and times both sides
under the same group, so pytest-benchmark's table shows them one above the other; ``ratios.py``
reads the ``--benchmark-json`` file and prints peer / ours per case.  The first call of each side
(numba compilation or cache load, the peer's own warm-up) is timed apart and stored in
``extra_info["first_call_s"]``; a second call sets how many rounds fit the profile's budget (one
second per side and case in the smoke profile, at most 20 rounds, at least one); the best round is
what the ratios use.

    python -m pytest benchmarks -p no:doctest --bench-profile smoke --benchmark-json=bench.json
    python benchmarks/ratios.py bench.json

``--bench-profile full`` runs the sizes quoted in ``docs/benchmarks.md``; ``--bench-n-series`` and
``--bench-length`` override a profile's sizes for every family.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: family -> (n_series, length) per profile (inventory: number of items, length unused)
PROFILES: dict[str, dict[str, tuple[int, int]]] = {
    "smoke": {"grouping": (2000, 500), "fast": (300, 365), "api": (300, 365), "theta": (40, 365),
              "ets": (20, 365), "inventory": (2000, 0), "cv": (20, 365), "floor": (3000, 1000),
              "quarantine": (2000, 365), "replenish": (1000, 0)},
    "full": {"grouping": (30000, 1000), "fast": (10000, 730), "api": (10000, 730), "theta": (1000, 730),
             "ets": (200, 730), "inventory": (100000, 0), "cv": (200, 730), "floor": (30000, 1000),
             "quarantine": (20000, 730), "replenish": (20000, 0)},
}
#: seconds of timed rounds aimed at per side and case (at least one round, at most MAX_ROUNDS)
BUDGET = {"smoke": 1.0, "full": 10.0}
MAX_ROUNDS = 20


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stockopt benchmarks")
    group.addoption("--bench-profile", choices=sorted(PROFILES), default="smoke",
                    help="sizes per family: smoke (CI, seconds per family) or full (docs/benchmarks.md)")
    group.addoption("--bench-n-series", type=int, default=None, help="override the profile's series count")
    group.addoption("--bench-length", type=int, default=None, help="override the profile's series length")


@pytest.fixture(scope="session")
def bench_size(request: pytest.FixtureRequest) -> Callable[[str], tuple[int, int]]:
    """``bench_size(family)`` -> ``(n_series, length)`` of the chosen profile and overrides."""
    cfg = request.config

    def size(family: str) -> tuple[int, int]:
        n, length = PROFILES[cfg.getoption("--bench-profile")][family]
        if length:  # inventory has no series length
            length = cfg.getoption("--bench-length") or length
        return cfg.getoption("--bench-n-series") or n, length

    return size


@pytest.fixture
def run_side(request: pytest.FixtureRequest, benchmark) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """``run_side(family, (n, length), name, case, side)`` times one side of one case.

    ``case`` is one ``(label, ours, other)`` of a family's ``cases()`` (``label`` starts with
    ``name``); ``side`` is ``"ours"``, ``"peer"`` or ``"floor"`` (``other`` is then a speed floor
    rather than a peer: ratios.py prints ours / floor for it).
    """
    budget = BUDGET[request.config.getoption("--bench-profile")]

    def run(family: str, size: tuple[int, int], name: str, case: tuple, side: str) -> None:
        label, ours, other = case
        # NAMES and cases() list the same cases in the same order
        assert label.startswith(name) and label[len(name):][:1] in ("", " ", ","), (label, name)
        fn = ours if side == "ours" else other
        n, length = size
        benchmark.group = f"{family}: {label} " + (f"[{n} x {length}]" if length else f"[{n} items]")
        t = time.perf_counter()
        fn()
        first = time.perf_counter() - t
        if first < budget:  # the first call may compile: a second one tells how many rounds fit
            t = time.perf_counter()
            fn()
            first_warm = time.perf_counter() - t
        else:
            first_warm = first
        rounds = max(1, min(MAX_ROUNDS, int(budget / max(first_warm, 1e-9))))
        benchmark.extra_info.update({"family": family, "case": label, "side": side, "n_series": n,
                                     "length": length, "first_call_s": first})
        benchmark.pedantic(fn, rounds=rounds, iterations=1)
        benchmark.extra_info["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    return run
