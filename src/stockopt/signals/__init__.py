"""Retail demand signals: demand classes, data quality, stockout-censored demand and demand drivers.

- :func:`classify_demand` - ADI, CV^2 and the demand class of each series, with new and dead items;
"""

from __future__ import annotations

from stockopt.signals.classify import classify_demand

__all__ = ["classify_demand"]
