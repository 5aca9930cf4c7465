"""Demand-pattern classification kernel (Syntetos, Boylan & Croston 2005) over grouped series."""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS


@numba.njit(**NUMBA_OPTS)
def classify_demand(values, indptr, adi_cut, cv2_cut, out_adi, out_cv2, out_code):  # pragma: no cover - compiled
    """Write ADI, CV^2 of non-zero sizes and the class code (0 smooth, 1 erratic, 2 intermittent, 3 lumpy).

    ADI is the number of periods divided by the number of periods with demand (inf when none);
    CV^2 is the population variance of the non-zero sizes over their squared mean (0 with fewer
    than two non-zero periods).
    """
    n = indptr.shape[0] - 1
    for i in range(n):
        a = indptr[i]
        b = indptr[i + 1]
        k = 0
        s = 0.0
        for j in range(a, b):
            if values[j] > 0.0:
                k += 1
                s += values[j]
        if k == 0:
            out_adi[i] = np.inf
            out_cv2[i] = 0.0
        else:
            m = s / k
            ss = 0.0
            for j in range(a, b):
                if values[j] > 0.0:
                    d = values[j] - m
                    ss += d * d
            out_adi[i] = (b - a) / k
            out_cv2[i] = (ss / k) / (m * m) if k > 1 else 0.0
        c = 0
        if out_adi[i] >= adi_cut:
            c = 2
        if out_cv2[i] >= cv2_cut:
            c += 1
        out_code[i] = c
