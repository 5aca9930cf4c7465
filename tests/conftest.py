"""Fixtures shared by the test modules: the real data folder and small synthetic sales tables.

* ``data_dir`` -> the shared real data folder (``../shared/data``, or ``STOCKOPT_DATA_DIR``, as
  :func:`stockopt.datasets.shared_data_dir` finds it); the test is skipped, saying so, when it is
  absent.  Module helpers use ``tests.helpers.real_data("m5", "file.parquet")``, which skips the
  same way and also when the file is absent.
* ``sales_small`` (40 series x 120 days) and ``sales_mixed`` (series of unequal lengths, an
  all-zero and a constant series): synthetic daily sales, built once per session (Arrow tables
  are immutable, so tests can share them).

``tests/helpers.py`` holds the plain functions, for module helpers and ``parametrize``: ``real_data``,
``mixed_sales``, ``grouped_arrays``, ``registry()`` (every distinct model of
:data:`stockopt.models.MODEL_NAMES`, the parametrisation of the contract battery) and ``slow(...)``.

The ``slow`` marker (``pyproject.toml``) flags tests that take seconds even with a warm numba cache:
``python -m pytest -m "not slow"`` skips them; ``make test`` runs everything.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import stockopt as so
from tests.helpers import mixed_sales, real_data


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real data folder; skips the test when it is absent."""
    return real_data()


@pytest.fixture(scope="session")
def sales_small() -> pa.Table:
    """40 synthetic daily series of 120 days (smooth, intermittent and lumpy), ``unique_id, ds, y`` ..."""
    return so.datasets.synthetic_retail(40, 120, seed=11)


@pytest.fixture(scope="session")
def sales_mixed() -> pa.Table:
    """30 synthetic daily series of 1 to 150 days, an all-zero and a constant one (``mixed_sales``)."""
    return mixed_sales()
