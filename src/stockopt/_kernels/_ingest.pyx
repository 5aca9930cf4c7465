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
from libc.string cimport memcpy, memset
from libc.stdint cimport INT64_MAX, int32_t, int64_t, uint8_t, uint64_t

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


cdef inline Py_ssize_t _arith_len(const i64* p, Py_ssize_t m, i64 step) noexcept nogil:
    """Number of leading rows of ``p[0 .. m)`` (``m >= 1``) that step by exactly ``step``: checked 64
    rows at a time without a branch per row (the compiler vectorises the block), then located."""
    cdef Py_ssize_t k = 1, b, e
    cdef i64 acc
    while k < m:
        e = k + 64 if k + 64 < m else m
        acc = 0
        for b in range(k, e):
            acc |= (p[b] - p[b - 1]) ^ step
        if acc != 0:
            while p[k] - p[k - 1] == step:
                k += 1
            return k
        k = e
    return m


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
    ``h`` with the same offset (no flagged hour inside).  ``days`` may be int32: the caller checks
    that ``min_day`` and ``max_day`` fit.  Returns ``(n_exact, min_day, max_day)`` (over the rows
    converted here).

    With non-empty ``run_starts`` and ``indptr`` (grouped rows, see :func:`run_rows`) the output is in
    series order: output row ``k`` of series ``i`` is input row ``run_starts[i] + k - indptr[i]``, so
    the days of grouped rows need no second pass to be moved; ``exact_rows`` then lists output rows.

    Rows are read in stretches of one step (a whole, positive number of days) and one UTC offset:
    the stretch's first row is divided, the step is checked over the stretch 64 rows at a time and
    its days are written as ``first day + k * step days`` (daily data cost a vectorised comparison
    and store per row instead of a division).  A stretch of time-zone aware stamps ends before the
    next change of offset (known from the span of its first row).
    """
    cdef Py_ssize_t n = raw.shape[0], j, k, L, kmax
    cdef Py_ssize_t n_hours = hour_offset.shape[0]
    cdef Py_ssize_t max_exact = exact_rows.shape[0]
    cdef i64 per_hour = per_day // 24, x, h = 0, q = 0, r = 0, lo = 0, hi = 0, n_exact = 0
    cdef i64 step, step_days, last
    cdef double inv_day = 1.0 / <double>per_day, inv_hour = 1.0 / <double>per_hour
    cdef bint first = True
    cdef uint8_t flag
    # the time-zone offset in force over the raw stamps [tz_lo, tz_hi) (empty at first)
    cdef i64 tz_lo = 0, tz_hi = 0, tz_off = 0
    cdef uint64_t tz_width = 0
    # segments of output rows [seg_lo, seg_hi) read from input rows shifted by ``shift``
    cdef Py_ssize_t n_seg = indptr.shape[0] - 1 if run_starts.shape[0] > 0 else 1, g
    cdef Py_ssize_t seg_lo = 0, seg_hi = n
    cdef i64 shift = 0
    cdef const i64* src
    cdef day_t* dst
    with nogil:
        for g in range(n_seg):
            if run_starts.shape[0] > 0:
                seg_lo = indptr[g]
                seg_hi = indptr[g + 1]
                shift = run_starts[g] - seg_lo
            j = seg_lo
            while j < seg_hi:
                src = &raw[j + shift]
                x = src[0]
                kmax = seg_hi - j
                if n_hours > 0:
                    # one unsigned comparison for ``x < tz_lo or x >= tz_hi`` (tz_lo <= tz_hi)
                    if <uint64_t>x - <uint64_t>tz_lo >= tz_width:
                        h = _floor_div(x, per_hour, inv_hour) - base_hour
                        if h < 0 or h >= n_hours or exact_hour[h]:
                            if n_exact < max_exact:
                                exact_rows[n_exact] = j
                            n_exact += 1
                            days[j] = 0
                            off_midnight[j] = 0
                            j += 1
                            continue
                        tz_off = hour_offset[h]
                        tz_lo = span_lo[h]
                        tz_hi = span_hi[h]
                        tz_width = <uint64_t>tz_hi - <uint64_t>tz_lo
                    x = x + tz_off
                q = _floor_div(x, per_day, inv_day)
                r = x - q * per_day
                flag = r != 0
                L = 1
                if kmax > 1:
                    step = src[1] - src[0]
                    # a stretch is tried when the first two steps agree (rows in no order, as in a
                    # shuffled table, then cost no division), and the step is a whole number of days
                    step_days = 0
                    if (kmax == 2 or src[2] - src[1] == step) and step >= per_day:
                        step_days = _floor_div(step, per_day, inv_day)
                    if step_days > 0 and step_days * per_day == step:
                        # rows k of the stretch stay below the span's end (tz) and int64's maximum
                        if n_hours > 0:
                            last = (tz_hi - 1 - src[0]) // step + 1
                        else:
                            last = (INT64_MAX - src[0]) // step + 1
                        if last < kmax:
                            kmax = last
                        if kmax > 1:
                            L = _arith_len(src, kmax, step)
                if L == 1:
                    days[j] = <day_t>q
                    off_midnight[j] = flag
                    last = q
                else:
                    dst = &days[j]
                    for k in range(L):
                        dst[k] = <day_t>(q + k * step_days)
                    memset(&off_midnight[j], flag, <size_t>L)
                    last = q + (L - 1) * step_days
                if first:
                    lo = q
                    hi = last
                    first = False
                lo = q if q < lo else lo
                hi = last if last > hi else hi
                j += L
    return n_exact, lo, hi
