"""The columns of the policy table :func:`stockopt.inventory_policy` returns, declared once.

A nightly run whose every item is quarantined still writes a policy table with these columns and no
row, so that readers of ``policy.parquet`` never meet a file without columns.  A test checks this
schema against the table ``inventory_policy`` builds.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["POLICY_COLUMNS", "policy_schema"]

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
