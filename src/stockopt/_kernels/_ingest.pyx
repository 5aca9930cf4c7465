# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Ingest kernels: read the id and time columns of a long table from their Arrow buffers in one pass.

Arrays only (the buffers of one Arrow chunk seen as NumPy arrays): runs of equal ids in string,
string-view and integer columns (also dictionary indices), timestamps to whole days, and the
gathers that put grouped rows in series order.  Nothing here raises for data reasons; functions
return counts and first positions and the Python layer (``stockopt._ids``, ``stockopt._arrow``)
decides.
"""

import numpy as np
cimport numpy as cnp
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp, memcpy

cnp.import_array()

ctypedef cnp.int64_t i64
ctypedef cnp.int32_t i32


ctypedef fused offset_t:
    int32_t
    int64_t


ctypedef fused key_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
    uint16_t
    uint32_t
    uint64_t


ctypedef fused day_t:
    int32_t
    int64_t


ctypedef fused item_t:
    double
    int32_t
    int64_t
    uint8_t


cdef inline int _cmp_bytes(const unsigned char* a, i64 la, const unsigned char* b, i64 lb) noexcept nogil:
    """Bytewise order of two strings (-1, 0, 1), shorter first on a common prefix (Arrow's order)."""
    cdef i64 m = la if la < lb else lb
    cdef int c = memcmp(a, b, <size_t>m) if m > 0 else 0
    if c != 0:
        return -1 if c < 0 else 1
    return -1 if la < lb else (1 if la > lb else 0)


cdef inline bint _same_rows(const offset_t* off, const unsigned char* base, Py_ssize_t e, Py_ssize_t hi,
                            i64 L) noexcept nogil:
    """True when rows e..hi-1 all have length L and equal row e - 1 (also of length L)."""
    cdef Py_ssize_t r
    for r in range(e, hi):
        if off[r + 1] - off[r] != L:
            return False
    if L == 0 or hi <= e:
        return True
    return memcmp(base + off[e], base + off[e] - L, <size_t>((hi - e) * L)) == 0


def string_runs(const offset_t[::1] offsets, const unsigned char[::1] data, i64[::1] starts,
                i64 max_unordered):
    """Runs of equal ids in one Arrow string or large-string array without nulls.

    ``offsets`` (``n + 1`` entries, already sliced to the array's rows) and ``data`` are its
    buffers.  Row ``j`` starts a run when its bytes differ from row ``j - 1``'s; the row of each
    run's start is written to ``starts`` (room for ``n`` entries).  Returns ``(n_runs,
    first_descent)``: ``first_descent`` is the first run whose id is smaller than the previous
    run's (bytewise), -1 when the runs are in strictly increasing id order.  Once the runs are out of
    order and more than ``max_unordered`` of them are found, the scan stops and ``n_runs`` is -1
    (rows that are not grouped: the caller hashes them instead).

    A run of identical ids is found by galloping: blocks of rows of doubling size are checked at
    once (their lengths, then one ``memcmp`` of the block against itself shifted by one row), and
    the first block that fails is bisected, so each row costs about one length comparison and its
    bytes once.
    """
    cdef Py_ssize_t n = offsets.shape[0] - 1, j, e, hi, step, lo_b, hi_b, mid
    cdef i64 runs = 0, L, descent = -1
    cdef const unsigned char* base = &data[0]
    cdef const offset_t* off = &offsets[0]
    if n <= 0:
        return 0, -1
    with nogil:
        j = 0
        while j < n:
            if runs > 0 and descent < 0:
                if _cmp_bytes(base + off[j], off[j + 1] - off[j], base + off[j - 1], off[j] - off[j - 1]) < 0:
                    descent = runs
            if descent >= 0 and runs >= max_unordered:
                runs = -1
                break
            starts[runs] = j
            L = off[j + 1] - off[j]
            e = j + 1
            step = 1
            while e < n:
                hi = e + step
                if hi > n:
                    hi = n
                if _same_rows(off, base, e, hi, L):
                    e = hi
                    step *= 2
                    continue
                lo_b = e
                hi_b = hi
                while hi_b - lo_b > 1:
                    mid = lo_b + (hi_b - lo_b) // 2
                    if _same_rows(off, base, lo_b, mid, L):
                        lo_b = mid
                    else:
                        hi_b = mid
                if _same_rows(off, base, lo_b, lo_b + 1, L):
                    lo_b += 1
                e = lo_b
                break
            runs += 1
            j = e
    return runs, descent


cdef inline const unsigned char* _view_bytes(const unsigned char* v, const unsigned char** bufs,
                                             i64* length) noexcept nogil:
    """Pointer to the bytes of one 16-byte Arrow string view, and its length."""
    cdef int32_t L, b, o
    memcpy(&L, v, 4)
    length[0] = L
    if L <= 12:
        return v + 4
    memcpy(&b, v + 8, 4)
    memcpy(&o, v + 12, 4)
    return bufs[b] + o


def view_runs(const unsigned char[::1] views, list buffers, i64[::1] starts, i64 max_unordered):
    """:func:`string_runs` for one Arrow string-view array without nulls.

    ``views`` holds the array's 16-byte views (already sliced to its rows), ``buffers`` its variadic
    data buffers as uint8 arrays.  Same result and early stop as :func:`string_runs`.
    """
    cdef Py_ssize_t n = views.shape[0] // 16, j, k
    cdef Py_ssize_t nb = len(buffers)
    cdef i64 runs = 0, descent = -1, la = 0, lb = 0
    cdef const unsigned char* a
    cdef const unsigned char* b
    cdef const unsigned char* v
    cdef const unsigned char[::1] mv
    cdef uint64_t ha, hb
    if n <= 0:
        return 0, -1
    cdef const unsigned char** bufs = <const unsigned char**>malloc((nb + 1) * sizeof(void*))
    if bufs == NULL:
        raise MemoryError()
    try:
        for k in range(nb):
            mv = buffers[k]
            bufs[k] = &mv[0] if mv.shape[0] > 0 else NULL
        v = &views[0]
        with nogil:
            starts[0] = 0
            runs = 1
            for j in range(1, n):
                memcpy(&ha, v + 16 * j, 8)  # length and first bytes: most changes show here
                memcpy(&hb, v + 16 * (j - 1), 8)
                if ha == hb:
                    a = _view_bytes(v + 16 * j, bufs, &la)
                    b = _view_bytes(v + 16 * (j - 1), bufs, &lb)
                    if la <= 4 or memcmp(a, b, <size_t>la) == 0:
                        continue
                else:
                    a = _view_bytes(v + 16 * j, bufs, &la)
                    b = _view_bytes(v + 16 * (j - 1), bufs, &lb)
                    if la == lb and memcmp(a, b, <size_t>la) == 0:
                        continue
                if descent < 0 and _cmp_bytes(a, la, b, lb) < 0:
                    descent = runs
                if descent >= 0 and runs >= max_unordered:
                    runs = -1
                    break
                starts[runs] = j
                runs += 1
    finally:
        free(bufs)
    return runs, descent


def int_runs(const key_t[::1] keys, i64[::1] starts, i64 max_unordered):
    """:func:`string_runs` for integer ids (or the indices of a dictionary array): runs of equal
    values, whether they increase, and the same early stop."""
    cdef Py_ssize_t n = keys.shape[0], j
    cdef i64 runs = 0, descent = -1
    if n <= 0:
        return 0, -1
    with nogil:
        starts[0] = 0
        runs = 1
        for j in range(1, n):
            if keys[j] != keys[j - 1]:
                if descent < 0 and keys[j] < keys[j - 1]:
                    descent = runs
                if descent >= 0 and runs >= max_unordered:
                    runs = -1
                    break
                starts[runs] = j
                runs += 1
    return runs, descent


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
