"""The executor seam: blocks of series (or items) fanned out to a backend, results back in block order.

Every parallel stage of stockopt is written as a *per-block function* that reads one block and
returns its results, and an executor that decides where the blocks run.  Today the executors are
:class:`SerialExecutor` (one block, in the caller's thread) and :class:`ThreadExecutor` (one thread
per block; the numba kernels release the GIL).  A Dask or Spark executor implements the same one
method, :meth:`Executor.map`, with the cluster's ``map``/``gather``: blocks carry their own arrays
(:class:`SeriesBlock` holds views of the block's values and offsets rebased to 0), so a block can
be shipped to another process as it is.  The scheme follows the one statsforecast uses to plug
its multiprocessing, Fugue and Ray backends behind ``ParallelBackend``; the code is our own.

Results never depend on the executor or on ``n_jobs``: each series (item) is computed on its own
and blocks are joined in series order.

Two kinds of per-block function exist:

* pure ones (:func:`map_series`, :func:`map_items`): ``fn(block) -> result``; any executor;
* in-place ones (:func:`for_item_blocks`): ``fn(a, b)`` writes items ``a..b-1`` into output
  arrays the caller owns.  They need an executor whose workers share the caller's memory
  (``Executor.shares_memory``), which threads do; the inventory kernels use them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

import numpy as np

from stockopt.data import value_blocks

__all__ = [
    "Executor",
    "SerialExecutor",
    "ThreadExecutor",
    "ProcessExecutor",
    "get_executor",
    "SeriesBlock",
    "series_blocks",
    "split_series",
    "item_blocks",
    "map_series",
    "map_items",
    "for_item_blocks",
]

T = TypeVar("T")
R = TypeVar("R")

#: fewest items worth a thread of their own for the cheap closed-form inventory kernels
MIN_ITEMS_PER_BLOCK = 20_000


class Executor(ABC):
    """Where per-block functions run.

    Subclasses implement :meth:`map`; a backend whose workers do not share the caller's memory
    (processes, a cluster) sets ``shares_memory = False`` and then only runs pure functions.
    """

    #: the workers see the caller's arrays (in-place block functions are allowed)
    shares_memory: ClassVar[bool] = True

    def __init__(self, n_workers: int = 1) -> None:
        self.n_workers = max(int(n_workers), 1)

    @abstractmethod
    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        """``[fn(t) for t in tasks]``, possibly run concurrently; results in the order of ``tasks``."""


class SerialExecutor(Executor):
    """Runs every block in the caller's thread, one after the other."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        return [fn(t) for t in tasks]


class ThreadExecutor(Executor):
    """One thread per block (at most ``n_workers`` at a time); kernels release the GIL."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        if len(tasks) <= 1 or self.n_workers == 1:
            return [fn(t) for t in tasks]
        with ThreadPoolExecutor(max_workers=min(self.n_workers, len(tasks))) as pool:
            return list(pool.map(fn, tasks))


class ProcessExecutor(Executor):
    """One worker process per block (at most ``n_workers`` at a time), for pure functions only.

    For work that holds the GIL between kernels (Arrow and NumPy glue, many small calls): whole
    partitions of a nightly plan.  Workers are forked where the platform allows it (they start in
    milliseconds with the parent's compiled kernels; stockopt's thread pools end with each call,
    numba's parallel threading layer is not used, and the plan's progress watcher sleeps while the
    pool forks all its workers at the start of ``map``), else spawned (then the caller's script
    needs the ``if __name__ == "__main__":`` guard).  ``fn`` and the tasks must be
    picklable and ``fn`` importable by name.
    """

    shares_memory = False

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        if len(tasks) <= 1 or self.n_workers == 1:
            return [fn(t) for t in tasks]
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(max_workers=min(self.n_workers, len(tasks)), mp_context=ctx) as pool:
            return list(pool.map(fn, tasks))


def get_executor(n_jobs: int) -> Executor:
    """The executor for ``n_jobs`` workers: serial for one, threads otherwise."""
    return SerialExecutor(1) if n_jobs <= 1 else ThreadExecutor(n_jobs)


@dataclass(frozen=True)
class SeriesBlock:
    """A contiguous run of series, self-contained: ``values`` and ``indptr`` from 0.

    Attributes
    ----------
    start, stop : int
        The block holds series ``start .. stop - 1`` of the whole.
    values : ndarray of float64
        The block's values (a view of the whole's when the executor shares memory).
    indptr : ndarray of int64, shape (stop - start + 1,)
        Offsets of the block's series in ``values``.
    extra : dict of str to ndarray
        The extra columns (``GroupedSeries.extra``), sliced like ``values``.
    offset : int
        Position of ``values[0]`` in the whole's values.
    """

    start: int
    stop: int
    values: np.ndarray
    indptr: np.ndarray
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)
    offset: int = 0


def series_blocks(indptr: np.ndarray, n_jobs: int) -> list[tuple[int, int]]:
    """Split series into at most ``n_jobs`` contiguous blocks of about equal numbers of values."""
    n = indptr.shape[0] - 1
    if n_jobs <= 1 or n < 2:
        return [(0, n)]
    return value_blocks(indptr, -(-int(indptr[-1] - indptr[0]) // n_jobs))


def split_series(values: np.ndarray, indptr: np.ndarray, bounds: Sequence[tuple[int, int]],
                 extra: Mapping[str, np.ndarray] | None = None) -> list[SeriesBlock]:
    """The :class:`SeriesBlock` of each ``(start, stop)`` range of series (views, no copies).

    One block covering everything is ``(values, indptr)`` themselves.
    """
    extra = extra or {}
    n = indptr.shape[0] - 1
    if len(bounds) == 1 and tuple(bounds[0]) == (0, n):
        return [SeriesBlock(0, n, values, indptr, dict(extra), 0)]
    out = []
    for a, b in bounds:
        lo, hi = int(indptr[a]), int(indptr[b])
        out.append(SeriesBlock(a, b, values[lo:hi], indptr[a:b + 1] - lo,
                               {k: v[lo:hi] for k, v in extra.items()}, lo))
    return out


def map_series(fn: Callable[[SeriesBlock], R], values: np.ndarray, indptr: np.ndarray, n_jobs: int = 1, *,
               extra: Mapping[str, np.ndarray] | None = None,
               executor: Executor | None = None) -> tuple[list[SeriesBlock], list[R]]:
    """Run the pure ``fn`` over blocks of the series of ``(values, indptr)``.

    Returns the blocks and ``fn``'s result for each, in series order.
    """
    blocks = split_series(values, indptr, series_blocks(indptr, n_jobs), extra)
    ex = executor if executor is not None else get_executor(len(blocks))
    return blocks, ex.map(fn, blocks)


def item_blocks(n: int, n_jobs: int, min_items: int = MIN_ITEMS_PER_BLOCK) -> list[tuple[int, int]]:
    """Contiguous item ranges, one per worker (one range when there are too few items to split)."""
    if n_jobs <= 1 or n < min_items:
        return [(0, n)]
    edges = np.linspace(0, n, n_jobs + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def map_items(fn: Callable[[int, int], R], blocks: Sequence[tuple[int, int]],
              executor: Executor | None = None) -> list[R]:
    """The pure ``fn(a, b)`` over item ranges; results in range order."""
    ex = executor if executor is not None else get_executor(len(blocks))
    return ex.map(lambda ab: fn(*ab), list(blocks))


def for_item_blocks(blocks: Sequence[tuple[int, int]], fn: Callable[[int, int], None],
                    executor: Executor | None = None) -> None:
    """Run the in-place ``fn(a, b)`` over item ranges (it writes into arrays the caller owns)."""
    ex = executor if executor is not None else get_executor(len(blocks))
    if not ex.shares_memory:
        raise TypeError(f"{type(ex).__name__} does not share memory: in-place block functions need threads")
    ex.map(lambda ab: fn(*ab), list(blocks))
