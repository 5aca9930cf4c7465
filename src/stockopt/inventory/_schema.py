"""The columns of the policy table :func:`stockopt.inventory_policy` returns, declared once, and the
range every computed number of it keeps.

A nightly run whose every item is quarantined still writes a policy table with these columns and no
row, so that readers of ``policy.parquet`` never meet a file without columns (a test checks this
schema against the table ``inventory_policy`` builds).  :func:`guard_rows` is the last step of
``inventory_policy``: a number that came out NaN, infinite or out of range never reaches a buyer;
its row carries the status ``out_of_range`` and nulls instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["POLICY_COLUMNS", "policy_schema", "guard_rows", "QUANTITY_COLUMNS", "SHARE_COLUMNS"]

_F = pa.float64()
_S = pa.string()

#: every column after the id, in output order
POLICY_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("policy", _S),
    ("distribution", _S),
    ("safety_stock", _F),
    ("reorder_point", _F),
    ("order_up_to", _F),
    ("order_quantity", _F),
    ("lead_time_demand_mean", _F),
    ("lead_time_demand_std", _F),
    ("expected_cycle_service", _F),
    ("expected_fill_rate", _F),
    ("expected_ready_rate", _F),
    ("expected_backorders", _F),
    ("expected_on_hand", _F),
    ("holding_cost", _F),
    ("protection_demand_mean", _F),
    ("protection_demand_std", _F),
    ("lead_time", _F),
    ("lead_time_std", _F),
    ("review_period", _F),
    ("unit_cost", _F),
    ("holding_rate", _F),
    ("shelf_life_days", _F),
    ("status", _S),
)


def policy_schema(id_type: pa.DataType, id_col: str = "unique_id") -> pa.Schema:
    """Schema of a policy table keyed by ``id_col`` of type ``id_type`` (a dictionary type's values).

    Examples
    --------
    >>> policy_schema(pa.string()).empty_table().column_names[:4]
    ['unique_id', 'policy', 'distribution', 'safety_stock']
    """
    if pa.types.is_dictionary(id_type):
        id_type = id_type.value_type
    return pa.schema([(id_col, id_type), *POLICY_COLUMNS])


#: computed quantities of a policy row (units, money per year): finite and >= 0, else the row is
#: ``out_of_range``
QUANTITY_COLUMNS = ("safety_stock", "reorder_point", "order_up_to", "order_quantity", "lead_time_demand_mean",
                    "lead_time_demand_std", "expected_backorders", "expected_on_hand", "holding_cost",
                    "protection_demand_mean", "protection_demand_std")
#: computed shares of a policy row: in [0, 1], else the row is ``out_of_range``
SHARE_COLUMNS = ("expected_cycle_service", "expected_fill_rate", "expected_ready_rate")


def guard_rows(cols: dict[str, Any], status: np.ndarray, *, out_of_range: int, no_numbers: np.ndarray,
               ready_asked: bool) -> dict[str, Any]:
    """Every computed number of the policy table finite and in range, or its row flagged.

    A row with a NaN or infinite quantity, a quantity below 0 (beyond rounding), a share outside
    [0, 1] or a reorder point above its order-up-to level gets the status code ``out_of_range`` and
    nulls in every computed column; the rows of ``no_numbers`` get nulls and keep their status;
    the other rows are clipped to their ranges (0 for quantities, [0, 1] for shares).  The
    ``expected_ready_rate`` column is null unless ``ready_asked``.  ``status`` is changed in place;
    returns the columns (Arrow arrays where nulls were set).

    Examples
    --------
    >>> st = np.array([0, 0], np.int8)
    >>> cols = {c: np.array([1.0, 2.0]) for c in QUANTITY_COLUMNS + SHARE_COLUMNS[:2]}
    >>> cols["expected_ready_rate"] = np.full(2, np.nan)
    >>> cols["order_up_to"] = np.array([5.0, np.inf])
    >>> out = guard_rows(cols, st, out_of_range=5, no_numbers=np.zeros(2, bool), ready_asked=False)
    >>> st.tolist(), out["order_up_to"].to_pylist()
    ([0, 5], [5.0, None])
    """
    n = status.shape[0]
    bad = np.zeros(n, dtype=bool)
    tol = 1e-9
    with np.errstate(invalid="ignore"):
        for name in QUANTITY_COLUMNS:
            v = np.asarray(cols[name], dtype=np.float64)
            bad |= ~(np.isfinite(v) & (v >= -tol * (1.0 + np.abs(v))))
        for name in SHARE_COLUMNS:
            v = cols[name].to_numpy(zero_copy_only=False) if isinstance(cols[name], pa.Array) else cols[name]
            v = np.asarray(v, dtype=np.float64)
            if name == "expected_ready_rate" and not ready_asked:
                continue
            bad |= ~((v >= -tol) & (v <= 1.0 + tol))  # NaN fails both
        s, big_s = np.asarray(cols["reorder_point"]), np.asarray(cols["order_up_to"])
        bad |= s > big_s + tol * (1.0 + np.abs(big_s))
    status[bad & ~no_numbers] = out_of_range
    null = bad | no_numbers
    out = dict(cols)
    for name in QUANTITY_COLUMNS + SHARE_COLUMNS:
        v = out[name].to_numpy(zero_copy_only=False) if isinstance(out[name], pa.Array) else out[name]
        v = np.asarray(v, dtype=np.float64)
        lo_hi = (0.0, 1.0) if name in SHARE_COLUMNS else (0.0, np.inf)
        with np.errstate(invalid="ignore"):
            v = np.clip(v, *lo_hi)
        mask = null | (np.isnan(v) if name == "expected_ready_rate" else np.zeros(n, dtype=bool))
        if name == "expected_ready_rate" and not ready_asked:
            mask = np.ones(n, dtype=bool)
        out[name] = pa.array(v, mask=mask) if mask.any() else v
    return out
