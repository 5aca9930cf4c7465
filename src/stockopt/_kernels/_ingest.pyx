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
from libc.string cimport memcpy
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

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


def move_runs(const i64[::1] run_starts, const i64[::1] indptr, const int32_t[::1] t, const double[::1] y,
              int32_t[::1] t_out, double[::1] y_out):
    """The periods and values of grouped rows put in series order (see :func:`run_rows`), each run
    copied whole instead of row by row through a permutation; the periods are checked on the way.

    Returns the first series whose periods do not strictly increase (the caller then sorts), or -1.
    """
    cdef Py_ssize_t n_series = indptr.shape[0] - 1, i
    cdef i64 s, a, L, k, bad_series = -1
    cdef int32_t prev, v
    cdef int bad
    with nogil:
        for i in range(n_series):
            a = indptr[i]
            L = indptr[i + 1] - a
            if L <= 0:
                continue
            s = run_starts[i]
            memcpy(&y_out[a], &y[s], <size_t>L * sizeof(double))
            bad = 0
            prev = t[s]
            t_out[a] = prev
            for k in range(1, L):
                v = t[s + k]
                bad |= v <= prev
                t_out[a + k] = v
                prev = v
            if bad:
                bad_series = i
                break
    return bad_series


def copy_runs(const i64[::1] run_starts, const i64[::1] indptr, const double[::1] y, double[::1] y_out):
    """The values of grouped rows put in series order (see :func:`run_rows`), each run copied whole."""
    cdef Py_ssize_t n_series = indptr.shape[0] - 1, i
    cdef i64 L
    with nogil:
        for i in range(n_series):
            L = indptr[i + 1] - indptr[i]
            if L > 0:
                memcpy(&y_out[indptr[i]], &y[run_starts[i]], <size_t>L * sizeof(double))
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
                   const i64[::1] span_lo, const i64[::1] span_hi, i64 base_hour, day_t[::1] days,
                   uint8_t[::1] off_midnight, i64[::1] exact_rows, const i64[::1] run_starts,
                   const i64[::1] indptr):
    """Whole days since 1970-01-01 and the "has a time of day" flag of int64 timestamps, in one pass.

    ``per_day`` is the number of timestamp units in a day (86,400 for seconds ... 86,400e9 for
    nanoseconds).  With a non-empty ``hour_offset`` (time-zone aware timestamps), UTC hour
    ``base_hour + h`` since the epoch is shifted by ``hour_offset[h]`` (in the unit) to local
    wall-clock time, except in hours flagged in ``exact_hour`` (the offset changes inside) and
    outside the table: those rows get day 0 and are listed in ``exact_rows`` (up to its size) for
    the caller to convert exactly.  ``[span_lo[h], span_hi[h])`` are the raw stamps around hour
    ``h`` with the same offset (no flagged hour inside): a row in the span of the previous row's
    hour needs no lookup.  ``days`` may be int32: the caller checks that ``min_day`` and
    ``max_day`` fit.  Returns ``(n_exact, min_day, max_day)`` (over the rows converted here).

    With non-empty ``run_starts`` and ``indptr`` (grouped rows, see :func:`run_rows`) the output is in
    series order: output row ``k`` of series ``i`` is input row ``run_starts[i] + k - indptr[i]``, so
    the days of grouped rows need no second pass to be moved; ``exact_rows`` then lists output rows.

    A row one step after the previous one, the step being the last one seen and a whole number of
    days, is read by adding that step: daily data cost a comparison per row instead of a division.
    """
    cdef Py_ssize_t n = raw.shape[0], j
    cdef Py_ssize_t n_hours = hour_offset.shape[0]
    cdef Py_ssize_t max_exact = exact_rows.shape[0]
    cdef i64 per_hour = per_day // 24, x, h = 0, q = 0, r = 0, lo = 0, hi = 0, n_exact = 0
    cdef double inv_day = 1.0 / <double>per_day, inv_hour = 1.0 / <double>per_hour
    # the step shortcut: previous local stamp, its day and remainder, the step (valid when has_step)
    cdef i64 px = 0, pq = 0, pr = -1, step = 0, step_days = 0
    cdef bint has_step = False, p_off = False, first = True
    # the time-zone offset in force over the raw stamps [tz_lo, tz_hi) (empty at first)
    cdef i64 tz_lo = 0, tz_hi = 0, tz_off = 0
    # segments of output rows [seg_lo, seg_hi) read from input rows shifted by ``shift``
    cdef Py_ssize_t n_seg = indptr.shape[0] - 1 if run_starts.shape[0] > 0 else 1, g
    cdef Py_ssize_t seg_lo = 0, seg_hi = n
    cdef i64 shift = 0
    with nogil:
        for g in range(n_seg):
            if run_starts.shape[0] > 0:
                seg_lo = indptr[g]
                seg_hi = indptr[g + 1]
                shift = run_starts[g] - seg_lo
            for j in range(seg_lo, seg_hi):
                x = raw[j + shift]
                if n_hours > 0:
                    if x < tz_lo or x >= tz_hi:
                        h = _floor_div(x, per_hour, inv_hour) - base_hour
                        if h < 0 or h >= n_hours or exact_hour[h]:
                            if n_exact < max_exact:
                                exact_rows[n_exact] = j
                            n_exact += 1
                            days[j] = 0
                            off_midnight[j] = 0
                            has_step = False
                            continue
                        tz_off = hour_offset[h]
                        tz_lo = span_lo[h]
                        tz_hi = span_hi[h]
                    x = x + tz_off
                if has_step and <uint64_t>x - <uint64_t>px == <uint64_t>step:
                    q = pq + step_days
                else:
                    q = _floor_div(x, per_day, inv_day)
                    r = x - q * per_day
                    has_step = not first and r == pr and -1_000 <= q - pq <= 1_000
                    if has_step:
                        step = x - px
                        step_days = q - pq
                    pr = r
                    p_off = r != 0
                px = x
                pq = q
                days[j] = <day_t>q
                off_midnight[j] = p_off
                if first:
                    lo = q
                    hi = q
                    first = False
                lo = q if q < lo else lo
                hi = q if q > hi else hi
    return n_exact, lo, hi
