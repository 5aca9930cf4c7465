# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Grouping kernels: turn (series code, period) pairs into contiguous grouped series.

Arrays only: ``codes`` are dense int32 series numbers 0..n_series-1 (already in output order), ``t`` the
int32 period index of each row (days, weeks or months since 1970).  Nothing here raises for data reasons; functions return the first
offending position (or -1) and the Python layer names the series and row.
"""

import numpy as np
cimport numpy as cnp
from libc.math cimport INFINITY
from libc.string cimport memcmp

cnp.import_array()

ctypedef cnp.int64_t i64
ctypedef cnp.int32_t i32

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy


def first_unsorted(const i32[::1] codes, const i32[::1] t):
    """Index j of the first row breaking the (code, t) strictly increasing order, or -1.

    Rows are in order when codes never decrease and, within one code, ``t`` strictly increases.
    """
    cdef Py_ssize_t n = codes.shape[0], j
    cdef i64 found = -1
    with nogil:
        for j in range(1, n):
            if codes[j] < codes[j - 1] or (codes[j] == codes[j - 1] and t[j] <= t[j - 1]):
                found = j
                break
    return found


ctypedef fused offset_t:
    cnp.int32_t
    cnp.int64_t


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


cdef inline int _cmp_bytes(const unsigned char* a, i64 la, const unsigned char* b, i64 lb) noexcept nogil:
    """Bytewise order of two strings (-1, 0, 1), shorter first on a common prefix (Arrow's order)."""
    cdef i64 m = la if la < lb else lb
    cdef int c = memcmp(a, b, <size_t>m) if m > 0 else 0
    if c != 0:
        return -1 if c < 0 else 1
    return -1 if la < lb else (1 if la > lb else 0)


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


ctypedef fused key_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
    uint16_t
    uint32_t
    uint64_t


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
                    memcpy(&ha, v + 16 * j + 8, 8)  # equal views: the same inline bytes, or the same
                    memcpy(&hb, v + 16 * j - 8, 8)  # buffer and offset (short ids: no data lookup)
                    if ha == hb:
                        continue
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
    values, whether they increase, and the same early stop.

    Rows are read 64 at a time: a block equal to the row before it (the inside of a long run) costs
    one branch-free comparison per row, which the compiler vectorises; other blocks are walked row
    by row."""
    cdef Py_ssize_t n = keys.shape[0], j, b, e
    cdef i64 runs = 0, descent = -1
    cdef key_t prev, acc
    if n <= 0:
        return 0, -1
    with nogil:
        starts[0] = 0
        runs = 1
        j = 1
        while j < n and runs >= 0:
            e = j + 64 if j + 64 < n else n
            prev = keys[j - 1]
            acc = 0
            for b in range(j, e):
                acc |= keys[b] ^ prev
            if acc != 0:
                for b in range(j, e):
                    if keys[b] != keys[b - 1]:
                        if descent < 0 and keys[b] < keys[b - 1]:
                            descent = runs
                        if descent >= 0 and runs >= max_unordered:
                            runs = -1
                            break
                        starts[runs] = b
                        runs += 1
            j = e
    return runs, descent


def scan_target(const double[::1] y, double hi=INFINITY):
    """One pass over the demand: ``(n_nan, first_nan, first_inf, first_negative, first_beyond)`` (rows;
    -1 when none).

    ``first_negative`` ignores NaN (NaN < 0 is false), as ``y < 0`` does; ``first_beyond`` is the
    first finite value with ``|v| > hi``.
    """
    cdef Py_ssize_t n = y.shape[0], j
    cdef i64 n_nan = 0, first_nan = -1, first_inf = -1, first_neg = -1, first_big = -1
    cdef double v
    with nogil:
        for j in range(n):
            v = y[j]
            if v - v != 0.0:  # NaN or +-inf (the only values whose difference with themselves is not 0)
                if v != v:
                    n_nan += 1
                    if first_nan < 0:
                        first_nan = j
                elif first_inf < 0:
                    first_inf = j
                if v < 0.0 and first_neg < 0:
                    first_neg = j
            else:
                if v < 0.0 and first_neg < 0:
                    first_neg = j
                if (v > hi or v < -hi) and first_big < 0:
                    first_big = j
    return n_nan, first_nan, first_inf, first_neg, first_big


def first_unsorted_runs(const i64[::1] indptr, const i32[::1] t):
    """Index j of the first row whose period does not exceed the previous one of its series, or -1.

    The series are the row ranges ``indptr[i]..indptr[i+1]`` (grouped input); the inner loop has no
    early exit, so it vectorises, and a series with a problem is rescanned for its first row.
    """
    cdef Py_ssize_t n_series = indptr.shape[0] - 1, i
    cdef i64 j, found = -1
    cdef int bad
    with nogil:
        for i in range(n_series):
            bad = 0
            for j in range(indptr[i] + 1, indptr[i + 1]):
                bad |= t[j] <= t[j - 1]
            if bad:
                for j in range(indptr[i] + 1, indptr[i + 1]):
                    if t[j] <= t[j - 1]:
                        found = j
                        break
                break
    return found


def count_codes(const i32[::1] codes, Py_ssize_t n_codes):
    """Rows per code (like ``np.bincount`` without its int64 copy of the codes)."""
    out_np = np.zeros(n_codes, dtype=np.int64)
    cdef i64[::1] out = out_np
    cdef Py_ssize_t j
    with nogil:
        for j in range(codes.shape[0]):
            out[codes[j]] += 1
    return out_np


cdef void _merge_sort_pairs(i64* key, i64* idx, i64* key_tmp, i64* idx_tmp, i64 n) noexcept nogil:
    """Stable bottom-up merge sort of (key, idx) pairs by key, in place, with scratch buffers."""
    cdef i64 width = 1, lo, mid, hi, a, b, k
    cdef i64* src_k = key
    cdef i64* src_i = idx
    cdef i64* dst_k = key_tmp
    cdef i64* dst_i = idx_tmp
    cdef i64* swap
    while width < n:
        lo = 0
        while lo < n:
            mid = lo + width if lo + width < n else n
            hi = lo + 2 * width if lo + 2 * width < n else n
            a = lo
            b = mid
            k = lo
            while a < mid and b < hi:
                if src_k[b] < src_k[a]:
                    dst_k[k] = src_k[b]
                    dst_i[k] = src_i[b]
                    b += 1
                else:
                    dst_k[k] = src_k[a]
                    dst_i[k] = src_i[a]
                    a += 1
                k += 1
            while a < mid:
                dst_k[k] = src_k[a]
                dst_i[k] = src_i[a]
                a += 1
                k += 1
            while b < hi:
                dst_k[k] = src_k[b]
                dst_i[k] = src_i[b]
                b += 1
                k += 1
            lo = hi
        swap = src_k
        src_k = dst_k
        dst_k = swap
        swap = src_i
        src_i = dst_i
        dst_i = swap
        width *= 2
    if src_k != key:
        for k in range(n):
            key[k] = src_k[k]
            idx[k] = src_i[k]


def sort_permutation(const i32[::1] codes, const i32[::1] t, const i64[::1] indptr):
    """Stable permutation ordering rows by (code, t).

    One counting-sort pass by code (``indptr`` gives each code's offset), then each series whose
    periods are not already increasing is merge-sorted by period in small scratch buffers.  Memory:
    the permutation plus buffers the size of the longest series.
    """
    cdef Py_ssize_t n = codes.shape[0], j
    cdef Py_ssize_t n_codes = indptr.shape[0] - 1, g
    cdef i64 a, b, k, L, max_len = 0
    perm_np = np.empty(n, dtype=np.int64)
    pos_np = np.array(indptr[:n_codes], dtype=np.int64, copy=True)
    cdef i64[::1] perm = perm_np, pos = pos_np
    for g in range(n_codes):
        if indptr[g + 1] - indptr[g] > max_len:
            max_len = indptr[g + 1] - indptr[g]
    buf_np = np.empty((4, max(max_len, 1)), dtype=np.int64)
    cdef i64[:, ::1] buf = buf_np
    cdef bint ordered
    with nogil:
        for j in range(n):
            perm[pos[codes[j]]] = j
            pos[codes[j]] += 1
        for g in range(n_codes):
            a = indptr[g]
            b = indptr[g + 1]
            ordered = True
            for k in range(a + 1, b):
                if t[perm[k]] <= t[perm[k - 1]]:
                    ordered = False
                    break
            if ordered:
                continue
            L = b - a
            for k in range(L):
                buf[0, k] = t[perm[a + k]]
                buf[1, k] = perm[a + k]
            _merge_sort_pairs(&buf[0, 0], &buf[1, 0], &buf[2, 0], &buf[3, 0], L)
            for k in range(L):
                perm[a + k] = buf[1, k]
    return perm_np


def first_duplicate(const i64[::1] indptr, const i32[::1] t):
    """Position j (in grouped order) of the first period equal to the previous one, or -1."""
    cdef Py_ssize_t n_series = indptr.shape[0] - 1, i
    cdef i64 j, found = -1
    with nogil:
        for i in range(n_series):
            for j in range(indptr[i] + 1, indptr[i + 1]):
                if t[j] == t[j - 1]:
                    found = j
                    break
            if found >= 0:
                break
    return found


def gap_counts(const i64[::1] indptr, const i32[::1] t, i64[::1] out_full_len):
    """Per series, the length it has once every missing period between first and last is filled.

    Writes ``t[last] - t[first] + 1`` (0 for an empty series) into ``out_full_len`` and returns the
    total; rows must already be in grouped, strictly increasing order.
    """
    cdef Py_ssize_t n_series = indptr.shape[0] - 1, i
    cdef i64 total = 0, L
    with nogil:
        for i in range(n_series):
            if indptr[i + 1] > indptr[i]:
                L = t[indptr[i + 1] - 1] - t[indptr[i]] + 1
            else:
                L = 0
            out_full_len[i] = L
            total += L
    return total


def fill_gaps_float(const double[::1] values, const i64[::1] indptr, const i32[::1] t,
                    const i64[::1] out_indptr, double[::1] out, int mode):
    """Scatter each series onto its full period grid and fill the missing periods.

    ``mode`` 0 writes zeros, 1 interpolates linearly between the neighbours, 2 carries the last
    observed value forward.  The grid of series i starts at ``t[indptr[i]]``.
    """
    cdef Py_ssize_t n_series = indptr.shape[0] - 1, i
    cdef i64 j, k, o, t0, prev_k, step
    cdef double prev_v, v, frac
    with nogil:
        for i in range(n_series):
            o = out_indptr[i]
            if indptr[i + 1] == indptr[i]:
                continue
            t0 = t[indptr[i]]
            prev_k = -1
            prev_v = 0.0
            for j in range(indptr[i], indptr[i + 1]):
                k = t[j] - t0
                v = values[j]
                if prev_k >= 0:
                    for step in range(prev_k + 1, k):
                        if mode == 0:
                            out[o + step] = 0.0
                        elif mode == 1:
                            frac = <double>(step - prev_k) / <double>(k - prev_k)
                            out[o + step] = prev_v + frac * (v - prev_v)
                        else:
                            out[o + step] = prev_v
                out[o + k] = v
                prev_k = k
                prev_v = v


def fill_gaps_index(const i64[::1] indptr, const i32[::1] t, const i64[::1] out_indptr,
                    i64[::1] out_src):
    """For every slot of the full grid, the grouped row that fills it (last observed at or before).

    Used to carry extra columns (prices, flags) onto the filled grid by forward fill.
    """
    cdef Py_ssize_t n_series = indptr.shape[0] - 1, i
    cdef i64 j, k, o, t0, prev_k, step
    with nogil:
        for i in range(n_series):
            o = out_indptr[i]
            if indptr[i + 1] == indptr[i]:
                continue
            t0 = t[indptr[i]]
            prev_k = -1
            for j in range(indptr[i], indptr[i + 1]):
                k = t[j] - t0
                if prev_k >= 0:
                    for step in range(prev_k + 1, k):
                        out_src[o + step] = j - 1
                out_src[o + k] = j
                prev_k = k


def interpolate_nan(double[::1] values, const i64[::1] indptr):
    """Replace NaNs in place by linear interpolation within each series.

    Leading NaNs take the first observed value and trailing NaNs the last one; a series of only
    NaNs becomes zeros.  Returns the number of values replaced.
    """
    cdef Py_ssize_t n_series = indptr.shape[0] - 1, i
    cdef i64 j, a, b, last, count = 0, k
    cdef double lv, frac
    with nogil:
        for i in range(n_series):
            a = indptr[i]
            b = indptr[i + 1]
            last = -1
            for j in range(a, b):
                if values[j] == values[j]:
                    if last == -1:
                        for k in range(a, j):
                            values[k] = values[j]
                            count += 1
                    elif j - last > 1:
                        lv = values[last]
                        for k in range(last + 1, j):
                            frac = <double>(k - last) / <double>(j - last)
                            values[k] = lv + frac * (values[j] - lv)
                            count += 1
                    last = j
            if last == -1:
                for k in range(a, b):
                    values[k] = 0.0
                    count += 1
            else:
                for k in range(last + 1, b):
                    values[k] = values[last]
                    count += 1
    return count
