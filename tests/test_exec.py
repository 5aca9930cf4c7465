"""The executor seam: blocks cover every series once, in order; results never depend on the executor."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import stockopt as so
from stockopt._exec import (
    Executor,
    SerialExecutor,
    ThreadExecutor,
    for_item_blocks,
    item_blocks,
    map_items,
    map_series,
    series_blocks,
    split_series,
)
from stockopt._runner import run_fit, run_forward, run_model
from stockopt.data import series_index, take_series


def test_series_blocks_cover_all_series_in_order():
    indptr = np.array([0, 5, 5, 100, 101, 400], dtype=np.int64)
    for k in range(1, 7):
        bl = series_blocks(indptr, k)
        assert bl[0][0] == 0 and bl[-1][1] == 5 and len(bl) <= k
        assert all(a1 == b0 for (_, a1), (b0, _) in zip(bl[:-1], bl[1:]))


def test_split_series_gives_self_contained_views():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 9, 50)
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    values = rng.normal(size=int(indptr[-1]))
    extra = {"flag": rng.random(values.size) < 0.5}
    blocks = split_series(values, indptr, series_blocks(indptr, 4), extra)
    assert len(blocks) > 1
    for b in blocks:
        assert b.indptr[0] == 0 and np.shares_memory(b.values, values)
        for j in range(b.stop - b.start):  # series j of the block is series start + j of the whole
            i = b.start + j
            np.testing.assert_array_equal(b.values[b.indptr[j]:b.indptr[j + 1]],
                                          values[indptr[i]:indptr[i + 1]])
            np.testing.assert_array_equal(b.extra["flag"][b.indptr[j]:b.indptr[j + 1]],
                                          extra["flag"][indptr[i]:indptr[i + 1]])
    whole = split_series(values, indptr, [(0, 50)])[0]
    assert whole.values is values and whole.indptr is indptr


class _RecordingExecutor(Executor):
    """A stand-in for a remote backend: runs the tasks in reverse and does not share memory."""

    shares_memory = False

    def __init__(self) -> None:
        super().__init__(4)
        self.tasks = 0

    def map(self, fn, tasks):
        self.tasks += len(tasks)
        return [fn(t) for t in tasks[::-1]][::-1]


def test_pure_block_functions_run_on_any_executor():
    indptr = np.array([0, 3, 3, 10, 12, 20], dtype=np.int64)
    values = np.arange(20.0)
    sums = [float(values[indptr[i]:indptr[i + 1]].sum()) for i in range(5)]
    for ex in (SerialExecutor(), ThreadExecutor(3), _RecordingExecutor()):
        def block_sums(b):
            return np.add.reduceat(b.values, b.indptr[:-1]) * (np.diff(b.indptr) > 0)

        blocks, parts = map_series(block_sums, values, indptr, 3, executor=ex)
        assert np.concatenate(parts).tolist() == sums
    ex = _RecordingExecutor()
    assert map_items(lambda a, b: list(range(a, b)), [(0, 2), (2, 5)], executor=ex) == [[0, 1], [2, 3, 4]]
    with pytest.raises(TypeError, match="share memory"):
        for_item_blocks([(0, 1)], lambda a, b: None, executor=ex)


def test_thread_executor_runs_blocks_concurrently():
    seen: set[int] = set()
    lock = threading.Lock()

    def fn(ab):
        with lock:
            seen.add(threading.get_ident())
        return ab

    out = ThreadExecutor(4).map(fn, [(i, i + 1) for i in range(8)])
    assert out == [(i, i + 1) for i in range(8)] and len(seen) >= 1


def test_item_blocks_split_only_large_tables():
    assert item_blocks(100, 4, min_items=1000) == [(0, 100)]
    bl = item_blocks(10_000, 3, min_items=1000)
    assert bl[0][0] == 0 and bl[-1][1] == 10_000 and len(bl) == 3
    assert all(a1 == b0 for (_, a1), (b0, _) in zip(bl[:-1], bl[1:]))


@pytest.mark.parametrize("name", ["naive", "ses_optimized", "croston_optimized", "auto_ets"])
def test_runner_results_identical_whatever_n_jobs(name):
    g = so.group_series(so.datasets.synthetic_retail(23, 90, seed=2), freq="D")
    model = so.models.make_model(name, season_length=7)
    one = run_model(model, g.values, g.indptr, 5, n_jobs=1)
    fit1, par1 = run_fit(model, g.values, g.indptr, 5, n_jobs=1)
    for n_jobs in (2, 7):
        many = run_model(model, g.values, g.indptr, 5, n_jobs=n_jobs)
        np.testing.assert_array_equal(one.mean, many.mean)
        np.testing.assert_array_equal(one.status, many.status)
        if one.var is not None:
            np.testing.assert_array_equal(one.var, many.var)
        if one.fitted is not None:
            np.testing.assert_array_equal(one.fitted, many.fitted)
        fit, par = run_fit(model, g.values, g.indptr, 5, n_jobs=n_jobs)
        np.testing.assert_array_equal(fit.mean, fit1.mean)
        assert par.keys() == par1.keys() and all(np.array_equal(par[k], par1[k], equal_nan=True) for k in par)
        if par1["fitted"].any():
            fw1 = run_forward(model, g.values, g.indptr, 5, par1, n_jobs=1)
            fw = run_forward(model, g.values, g.indptr, 5, par1, n_jobs=n_jobs)
            np.testing.assert_array_equal(fw.mean, fw1.mean)


def test_one_subset_builder_matches_a_python_loop():
    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 7, 40)
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    values = rng.normal(size=int(indptr[-1]))
    rows = rng.permutation(40)[:17]
    keep = np.minimum(lengths[rows], rng.integers(0, 7, 17))
    for ln in (None, keep):
        v, p = take_series(values, indptr, rows, ln)
        want = [values[indptr[r]:indptr[r] + (lengths[r] if ln is None else ln[k])]
                for k, r in enumerate(rows)]
        assert p.dtype == np.int64 and p[0] == 0 and v.flags.c_contiguous
        for k, w in enumerate(want):
            np.testing.assert_array_equal(v[p[k]:p[k + 1]], w)
        src, p2 = series_index(indptr, rows, ln)
        np.testing.assert_array_equal(values[src], v)
        np.testing.assert_array_equal(p2, p)
