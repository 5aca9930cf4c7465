"""Forecasting kernels: numba functions over ``(values, indptr)`` arrays, one module per model family."""
