"""stockopt: demand forecasting, safety stock and purchase orders for many item-locations at once.

The stable top-level namespace (``import stockopt as so``):

- :func:`group_series` / :class:`GroupedSeries` - validate and group long ``unique_id, ds, y`` tables;
- :mod:`stockopt.datasets` - the synthetic retail generator and the real-data loaders;
- :mod:`stockopt.errors` - the exception family.
"""

from stockopt import datasets, errors
from stockopt._version import __version__
from stockopt.data import GroupedSeries, GroupReport, group_series
from stockopt.frequency import Frequency, infer_freq, parse_freq

__all__ = [
    "__version__",
    "datasets",
    "errors",
    "group_series",
    "GroupedSeries",
    "GroupReport",
    "Frequency",
    "parse_freq",
    "infer_freq",
]
