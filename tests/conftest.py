"""Fixtures shared by every test module: the real data sets, small synthetic sales tables, the models.

* ``data_dir`` and ``real_data(*parts)`` -> the shared real data folder (``../shared/data``, or
  ``STOCKOPT_DATA_DIR``, as :func:`stockopt.datasets.shared_data_dir` finds it) and the path of a
  file in it; the test is skipped, with the path in the reason, when the folder or the file is
  absent.
* ``sales_small`` (40 series x 120 days) and ``sales_mixed`` (series of unequal lengths, an
  all-zero and a constant series): synthetic daily sales, built once per session (Arrow tables
  are immutable, so tests can share them).
* ``registered_models``: every distinct model of :data:`stockopt.models.MODEL_NAMES`, built by
  name with a weekly season, keyed by name (aliases naming the same model appear once).

The same as plain functions (``real_data``, ``grouped_arrays``, ``mixed_sales``, ``registry``) are in
``tests/helpers.py``, for helpers and ``parametrize``.

The ``slow`` marker (``pyproject.toml``) flags tests that take seconds even with a warm numba cache:
``python -m pytest -m "not slow"`` skips them; ``make test`` runs everything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

import stockopt as so
from tests.helpers import mixed_sales, real_data, registry


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real data folder; skips the test when it is absent."""
    return real_data()


@pytest.fixture(name="real_data", scope="session")
def _real_data() -> Callable[..., Path]:
    """``real_data("m5", "file.parquet")``: that file's path; skips the test when it is absent."""
    return real_data


@pytest.fixture(scope="session")
def sales_small() -> pa.Table:
    """40 synthetic daily series of 120 days (smooth, intermittent and lumpy), ``unique_id, ds, y`` ..."""
    return so.datasets.synthetic_retail(40, 120, seed=11)


@pytest.fixture(scope="session")
def sales_mixed() -> pa.Table:
    return mixed_sales()


@pytest.fixture(scope="session")
def registered_models() -> dict[str, so.models.Model]:
    return registry()
