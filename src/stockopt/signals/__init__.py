"""Retail demand signals: demand classes, data quality, stockout-censored demand and demand drivers.

- :func:`classify_demand` - ADI, CV^2 and the demand class of each series, with new and dead items;
- :func:`check_data` - a data-quality report (one row per series and problem) and a cleaning step;
- :func:`detect_stockouts` / :func:`mark_stockouts` - likely unrecorded stockouts, and feeding the
  reviewed ones back as an in-stock flag;
- :func:`estimate_demand` - the demand behind stockout-censored sales; ``forecast(..., censored=)``
  forecasts it with any model (:mod:`stockopt.signals.censored`);
- :func:`forecast_drivers` / :class:`Drivers` / :func:`holiday_calendar` - promotions, prices, events
  and yearly peaks (:mod:`stockopt.signals.drivers`); ``forecast(..., X_future=)`` applies them.
"""

from __future__ import annotations

from stockopt.signals.calendar import holiday_calendar
from stockopt.signals.censored import estimate_demand
from stockopt.signals.classify import classify_demand
from stockopt.signals.drivers import Drivers
from stockopt.signals.forecast import DriverForecast, forecast_drivers
from stockopt.signals.quality import CHECKS, DataCheck, check_data
from stockopt.signals.stockouts import detect_stockouts, mark_stockouts

__all__ = ["classify_demand", "check_data", "DataCheck", "CHECKS", "detect_stockouts", "mark_stockouts",
           "estimate_demand", "forecast_drivers", "Drivers", "DriverForecast", "holiday_calendar"]
