"""stockopt: demand forecasting, safety stock and purchase orders for many item-locations at once."""

from stockopt._version import __version__

__all__ = ["__version__"]
