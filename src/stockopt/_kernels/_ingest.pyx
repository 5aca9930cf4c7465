# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Ingest kernels: timestamps to whole days in one pass over their int64 buffer, and the gathers
that put grouped rows in series order.

Arrays only.  Nothing here raises for data reasons; functions return counts and first positions and
the Python layer (``stockopt._arrow``, ``stockopt.data``) decides.  The run finders over id columns
live with the other grouping kernels in ``_grouping.pyx``.
"""

import numpy as np
cimport numpy as cnp
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


cdef inline i64 _floor_div(i64 x, i64 d) noexcept nogil:
    cdef i64 q = x / d
    if (x % d != 0) and (x < 0):
        q -= 1
    return q


cdef inline void _days_loop(const i64* raw, Py_ssize_t n, const i64 per_day, const i64 per_hour,
                            const i64* hour_offset, const uint8_t* exact_hour, i64 base_hour,
                            Py_ssize_t n_hours, day_t* days, uint8_t* off_midnight, i64* exact_rows,
                            i64 max_exact, i64* out) noexcept nogil:
    """The loop of :func:`timestamp_days` for one constant ``per_day`` (inlined once per unit, so the
    divisions are by compile-time constants)."""
    cdef Py_ssize_t j
    cdef i64 x, h, q, r, n_exact = 0, lo = 0, hi = 0
    cdef bint seen = False
    for j in range(n):
        x = raw[j]
        if n_hours > 0:
            h = _floor_div(x, per_hour) - base_hour
            if h < 0 or h >= n_hours or exact_hour[h]:
                if n_exact < max_exact:
                    exact_rows[n_exact] = j
                n_exact += 1
                days[j] = 0
                off_midnight[j] = 0
                continue
            x = x + hour_offset[h]
        q = x / per_day
        r = x - q * per_day
        if r < 0:
            q -= 1
            r += per_day
        days[j] = <day_t>q
        off_midnight[j] = r != 0
        if not seen:
            lo = q
            hi = q
            seen = True
        elif q < lo:
            lo = q
        elif q > hi:
            hi = q
    out[0] = n_exact
    out[1] = lo
    out[2] = hi


def timestamp_days(const i64[::1] raw, int unit, const i64[::1] hour_offset, const uint8_t[::1] exact_hour,
                   i64 base_hour, day_t[::1] days, uint8_t[::1] off_midnight, i64[::1] exact_rows):
    """Whole days since 1970-01-01 and the "has a time of day" flag of int64 timestamps, in one pass.

    ``unit`` is 0, 1, 2, 3 for seconds, milliseconds, microseconds, nanoseconds.  With a
    non-empty ``hour_offset`` (time-zone aware timestamps), hour ``base_hour + h`` since the epoch
    (UTC) is shifted by ``hour_offset[h]`` (in the unit) to local wall-clock time, except hours
    flagged in ``exact_hour`` (an offset change happens inside) and hours outside the table: those
    rows are listed in ``exact_rows`` (up to its size) for the caller to convert exactly.
    ``days`` may be int32: the caller checks ``min_day``/``max_day`` fit.  Returns ``(n_exact,
    min_day, max_day)`` (the minimum and maximum over the rows converted here).
    """
    cdef Py_ssize_t n = raw.shape[0]
    cdef Py_ssize_t n_hours = hour_offset.shape[0]
    cdef i64 out[3]
    cdef const i64* ho = &hour_offset[0] if n_hours > 0 else NULL
    cdef const uint8_t* eh = &exact_hour[0] if n_hours > 0 else NULL
    cdef i64* er = &exact_rows[0] if exact_rows.shape[0] > 0 else NULL
    out[0] = 0
    out[1] = 0
    out[2] = 0
    if n == 0:
        return 0, 0, 0
    with nogil:
        if unit == 0:
            _days_loop(&raw[0], n, 86_400, 3_600, ho, eh, base_hour, n_hours, &days[0], &off_midnight[0],
                       er, exact_rows.shape[0], out)
        elif unit == 1:
            _days_loop(&raw[0], n, 86_400_000, 3_600_000, ho, eh, base_hour, n_hours, &days[0],
                       &off_midnight[0], er, exact_rows.shape[0], out)
        elif unit == 2:
            _days_loop(&raw[0], n, 86_400_000_000LL, 3_600_000_000LL, ho, eh, base_hour, n_hours, &days[0],
                       &off_midnight[0], er, exact_rows.shape[0], out)
        else:
            _days_loop(&raw[0], n, 86_400_000_000_000LL, 3_600_000_000_000LL, ho, eh, base_hour, n_hours,
                       &days[0], &off_midnight[0], er, exact_rows.shape[0], out)
    return out[0], out[1], out[2]
