# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Ingest kernels: timestamps to whole days in one pass over their int64 buffer, and the gathers
that put grouped rows in series order.

Arrays only.  Nothing here raises for data reasons; functions return counts and first positions and
the Python layer (``stockopt._arrow``, ``stockopt.data``) decides.  The run finders over id columns
live with the other grouping kernels in ``_grouping.pyx``.
"""

import numpy as np
cimport numpy as cnp
from libc.math cimport floor
from libc.stdint cimport int32_t, int64_t, uint8_t

cnp.import_array()

ctypedef cnp.int64_t i64
ctypedef cnp.int32_t i32


ctypedef fused day_t:
    int32_t
    int64_t


ctypedef fused item_t:
    double
    int32_t
    int64_t
    uint8_t


def run_rows(const i64[::1] run_starts, const i64[::1] indptr, i64[::1] perm):
    """The row permutation of grouped rows put in series order: series ``i`` is the run of input rows
    starting at ``run_starts[i]``, of length ``indptr[i + 1] - indptr[i]``."""
    cdef Py_ssize_t n_series = indptr.shape[0] - 1, i
    cdef i64 k, s
    with nogil:
        for i in range(n_series):
            s = run_starts[i] - indptr[i]
            for k in range(indptr[i], indptr[i + 1]):
                perm[k] = s + k
    return None


def take(const item_t[::1] src, const i64[::1] perm, item_t[::1] out):
    """``out[k] = src[perm[k]]`` (the caller guarantees ``0 <= perm[k] < len(src)``)."""
    cdef Py_ssize_t n = perm.shape[0], k
    with nogil:
        for k in range(n):
            out[k] = src[perm[k]]
    return None


cdef inline i64 _floor_div(i64 x, i64 d, double inv) noexcept nogil:
    """``floor(x / d)`` for ``d >= 2**11`` without an integer division: a truncated floating-point
    estimate (within 2 of the result for any int64 ``x``), corrected by exact integer steps."""
    cdef i64 q = <i64>(<double>x * inv)
    cdef i64 r = x - q * d
    if r < 0:
        q -= 1
        r += d
        if r < 0:
            q -= 1
    elif r >= d:
        q += 1
        r -= d
        if r >= d:
            q += 1
    return q


def timestamp_days(const i64[::1] raw, i64 per_day, const i64[::1] hour_offset, const uint8_t[::1] exact_hour,
                   i64 base_hour, day_t[::1] days, uint8_t[::1] off_midnight, i64[::1] exact_rows):
    """Whole days since 1970-01-01 and the "has a time of day" flag of int64 timestamps, in one pass.

    ``per_day`` is the number of timestamp units in a day (86,400 for seconds ... 86,400e9 for
    nanoseconds).  With a non-empty ``hour_offset`` (time-zone aware timestamps), UTC hour
    ``base_hour + h`` since the epoch is shifted by ``hour_offset[h]`` (in the unit) to local
    wall-clock time, except in hours flagged in ``exact_hour`` (the offset changes inside) and
    outside the table: those rows get day 0 and are listed in ``exact_rows`` (up to its size) for
    the caller to convert exactly.  ``days`` may be int32: the caller checks that ``min_day`` and
    ``max_day`` fit.  Returns ``(n_exact, min_day, max_day)`` (over the rows converted here).
    """
    cdef Py_ssize_t n = raw.shape[0], j
    cdef Py_ssize_t n_hours = hour_offset.shape[0]
    cdef Py_ssize_t max_exact = exact_rows.shape[0]
    cdef i64 per_hour = per_day // 24, x, h, q, lo = 0, hi = 0, n_exact = 0
    cdef double inv_day = 1.0 / <double>per_day, inv_hour = 1.0 / <double>per_hour
    cdef bint first
    with nogil:
        if n_hours == 0:
            if n:
                lo = _floor_div(raw[0], per_day, inv_day)
                hi = lo
            for j in range(n):
                x = raw[j]
                q = _floor_div(x, per_day, inv_day)
                days[j] = <day_t>q
                off_midnight[j] = x != q * per_day
                lo = q if q < lo else lo
                hi = q if q > hi else hi
        else:
            first = True
            for j in range(n):
                x = raw[j]
                h = _floor_div(x, per_hour, inv_hour) - base_hour
                if h < 0 or h >= n_hours or exact_hour[h]:
                    if n_exact < max_exact:
                        exact_rows[n_exact] = j
                    n_exact += 1
                    days[j] = 0
                    off_midnight[j] = 0
                    continue
                x = x + hour_offset[h]
                q = _floor_div(x, per_day, inv_day)
                days[j] = <day_t>q
                off_midnight[j] = x != q * per_day
                if first:
                    lo = q
                    hi = q
                    first = False
                lo = q if q < lo else lo
                hi = q if q > hi else hi
    return n_exact, lo, hi
