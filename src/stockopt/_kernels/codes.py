"""Integer codes shared by the kernels and the Python layer, defined once.

Kernels write these codes into caller-allocated ``int8`` arrays; the Python layer turns them into
names (status strings, distribution and policy labels) or named errors.  numba reads module-level
integers as compile-time constants, so using these names inside a kernel costs nothing.
"""

from __future__ import annotations

# Per-series status of a forecasting kernel (``ForecastResult.status``).
STATUS_OK = 0
STATUS_FALLBACK = 1  # the model could not be fitted as asked; a simpler model was used
STATUS_TOO_SHORT = 2  # too few observations even for the fallback; forecasts are NaN
STATUS_FAILED = 3  # numerical failure; forecasts are NaN

# Per-item status of an inventory sizing kernel (``policy.status``).
POLICY_OK = 0
POLICY_UNREACHABLE = 1  # the target could not be reached within the search range
POLICY_FLOORED = 2  # the zero-safety-stock floor binds: service is above target
POLICY_CONTINUOUS = 3  # past the integer work bound: sized with the continuous (normal/gamma) law
POLICY_MOMENT = 4  # past the lead-time work bound: sized on the moment-matched lead-time demand
POLICY_OUT_OF_RANGE = 5  # a number came out non-finite or out of range: the row's numbers are null
POLICY_TOO_LARGE = 6  # the cost search is past the integer work bound: no numbers (null)

# Demand distributions (inventory sizing, inventory simulation and sample paths).
DIST_NORMAL = 0
DIST_GAMMA = 1
DIST_POISSON = 2
DIST_NEGBIN = 3
DIST_EMPIRICAL = 4
DIST_COMPOUND = 5  # occurrence x size from the item's own history (inventory only)

# Inventory policies.
POL_RS = 0  # periodic review, order up to S
POL_SQ = 1  # (R, s, nQ)
POL_SS = 2  # (R, s, S)
POL_BASE = 3  # base stock
POL_NEWS = 4  # single-period newsvendor

# Service metrics.
METRIC_CYCLE = 0
METRIC_FILL = 1
