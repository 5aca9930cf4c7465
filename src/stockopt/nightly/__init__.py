"""The nightly plan at scale: partitions of whole series, streamed, parallel, atomic and resumable.

:func:`plan` is the entry point (``so.plan``); :func:`plan_partition` is the pure per-partition
function that :func:`plan`, :mod:`stockopt.dask` and a Spark ``applyInArrow`` all run, with the
horizon :func:`plan_horizon` derives once from the whole items and suppliers tables;
:func:`id_partitions` gives the partition of each series id (a stable FNV-1a hash).
"""

from stockopt.nightly._partition import fnv1a_64, id_partitions
from stockopt.nightly._plan import PartTask, merge_summaries, plan, plan_horizon, plan_partition, run_part

__all__ = ["plan", "plan_partition", "plan_horizon", "run_part", "PartTask", "merge_summaries",
           "id_partitions", "fnv1a_64"]
