"""stockopt.dask: the plan on a LocalCluster of two worker processes equals the local run."""

from __future__ import annotations

import warnings

import pyarrow.parquet as pq
import pytest

import stockopt as so

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_plan_dask_on_two_worker_processes_equals_the_local_run(tmp_path):
    from stockopt.dask import plan_dask

    sales = so.datasets.synthetic_retail(30, 90, seed=4).select(["unique_id", "ds", "y"])
    pq.write_table(sales, tmp_path / "sales.parquet")
    opts = dict(h=14, models=["naive", "croston_sba"], n_partitions=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = so.plan(tmp_path / "sales.parquet", **opts)
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        with cluster, distributed.Client(cluster) as client:
            res = plan_dask(tmp_path / "sales.parquet", client=client, out_dir=tmp_path / "out", **opts)
            pids = set(client.run(lambda: __import__("os").getpid()).values())
    assert len(pids) == 2
    for name in ("forecast", "policy", "quarantine"):
        assert getattr(res, name).equals(getattr(local, name)), name
    written = pq.read_table(tmp_path / "out" / "forecast.parquet").replace_schema_metadata(None)
    assert written.equals(local.forecast.replace_schema_metadata(None))
    assert res.summary["series_forecast"] == 30
