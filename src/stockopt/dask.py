"""The nightly plan on a Dask cluster: the same per-partition function, run by ``dask.distributed`` workers.

:func:`plan_dask` is :func:`stockopt.plan` with a :class:`DaskExecutor` in the executor seam
(:mod:`stockopt._exec`): the driver streams the inputs into partition files, the cluster's workers
each plan whole partitions (:func:`stockopt.nightly.run_part`, which reads a partition's files,
calls :func:`stockopt.nightly.plan_partition` and writes its outputs), and the driver assembles
the result.  The partition files and outputs live under ``out_dir``, which every worker must see
(a shared file system such as NFS, or a mounted bucket).  Results are identical to the local run.
Needs ``pip install "stockopt[dask]"``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from stockopt._exec import Executor
from stockopt._params import Instance, validate_params
from stockopt.nightly._config import PLAN_PARAMS
from stockopt.nightly._partition import DEFAULT_BATCH_ROWS
from stockopt.pipeline import PlanResult

__all__ = ["DaskExecutor", "plan_dask"]

T = TypeVar("T")
R = TypeVar("R")


class DaskExecutor(Executor):
    """Runs each block as one task on a ``dask.distributed`` client; results in task order.

    Pure block functions only (workers do not share the caller's memory).
    """

    shares_memory = False

    def __init__(self, client: Any) -> None:
        workers = client.scheduler_info().get("workers", {}) if hasattr(client, "scheduler_info") else {}
        super().__init__(max(len(workers), 1))
        self.client = client

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        if not tasks:
            return []
        futures = self.client.map(fn, list(tasks), pure=False)
        return self.client.gather(futures)


@validate_params({**{k: v for k, v in PLAN_PARAMS.items() if k not in ("n_jobs", "backend")},
                  "client": Instance(object)})
def plan_dask(
    sales: Any = None,
    items: Any = None,
    stock: Any = None,
    suppliers: Any = None,
    open_orders: Any = None,
    *,
    client: Any,
    config: str | os.PathLike | Mapping[str, Any] | None = None,
    out_dir: str | os.PathLike | None = None,
    n_partitions: int | None = None,
    partition_by: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    keep_parts: bool = False,
    **options: Any,
) -> PlanResult:
    """:func:`stockopt.plan` with the partitions planned by the workers of a Dask cluster.

    Parameters
    ----------
    sales, items, stock, suppliers, open_orders, config, out_dir, n_partitions, partition_by, batch_rows,
    keep_parts, **options
        As in :func:`stockopt.plan`.  ``out_dir`` must be on storage every worker can read and write
        (without it, a temporary folder of the driver is used: only for a cluster on this machine).
    client : dask.distributed.Client
        The cluster to run on; ``n_partitions`` defaults to twice its number of workers (at least one
        per 2 million rows).

    Returns
    -------
    PlanResult
        Identical to :func:`stockopt.plan` (and :func:`stockopt.run_nightly`) on the same inputs.

    Examples
    --------
    On a real cluster: ``client = Client("tcp://scheduler:8786")`` and ``out_dir`` on shared storage.
    Here, a cluster of one in-process worker:

    >>> import stockopt as so
    >>> from dask.distributed import Client, LocalCluster
    >>> sales = so.datasets.synthetic_retail(6, 60, seed=1)
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \\
    ...         Client(cluster) as client:
    ...     res = plan_dask(sales, client=client, h=14, models=["naive"], n_partitions=2)
    >>> res.forecast.num_rows, res.summary["partitions"]
    (84, 2)
    """
    from stockopt.nightly._plan import _plan

    ex = DaskExecutor(client)
    if n_partitions is None and not (isinstance(config, Mapping) and "n_partitions" in config):
        from stockopt.nightly._plan import _default_partitions

        n_partitions = _default_partitions(sales, 2 * ex.n_workers) if sales is not None else None
    return _plan(dict(sales=sales, items=items, stock=stock, suppliers=suppliers, open_orders=open_orders),
                 dict(config=config, out_dir=out_dir, n_partitions=n_partitions, partition_by=partition_by,
                      batch_rows=batch_rows, keep_parts=keep_parts),
                 options, executor=ex)
