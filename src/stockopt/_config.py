"""One place for the compiled-kernel settings (numba flags).

Every numba kernel is declared with ``@njit(**NUMBA_OPTS)`` so that caching, GIL release and
floating-point strictness are decided here and nowhere else.  ``fastmath`` stays off: results must
be bit-identical whatever the thread count or partitioning.
"""

from __future__ import annotations

NUMBA_OPTS: dict[str, bool] = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}
