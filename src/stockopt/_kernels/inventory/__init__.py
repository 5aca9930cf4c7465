"""Inventory kernels: numba functions over per-item parameter arrays (service levels, policies, simulation)."""
