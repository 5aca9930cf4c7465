"""ETS "forward": fitted models run over new histories without re-estimating anything.

Used by ``cross_validation(refit=False)``: the model code, smoothing parameters and initial
states of an earlier :func:`stockopt._kernels.forecast.ets.ets_fit_block` fit are kept and the state
recursion of Hyndman et al. (2008, ch. 2) runs over the longer history.
"""

from __future__ import annotations

import numba
import numpy as np

from stockopt._config import NUMBA_OPTS
from stockopt._kernels.codes import STATUS_FAILED
from stockopt._kernels.forecast.ets import HUGE, _finish, clear_outputs, run

__all__ = ["ets_forward_block"]


@numba.njit(**NUMBA_OPTS)
def ets_forward_block(values, indptr, m, h, model, params, init_states, mean, var, fitted, status,
                      loglik, aicc, sigma2):
    """Run fitted ETS models over new histories without re-estimating anything ("forward").

    Per series ``i`` the model code ``model[i]``, the smoothing parameters ``params[i]`` (alpha,
    beta, gamma, phi; NaN where absent) and the initial states ``init_states[i]`` (``l, b,
    s_1..s_m`` at the start of the series) come from an earlier :func:`ets_fit_block`; the
    recursion runs from them over ``values[indptr[i]:indptr[i + 1]]`` (the same start, a longer
    history) to the end state, whose forecasts and variances (sigma^2 from the new one-step
    errors) are written as :func:`ets_fit_block` does, together with ``loglik``, ``aicc`` and
    ``sigma2`` on the new history.  ``fitted`` receives the one-step forecasts.  A series whose
    code is negative or whose recursion breaks down on the new data (e.g. a non-positive
    forecast of a multiplicative model) gets ``STATUS_FAILED`` and NaN outputs; ``status`` is
    otherwise left as the caller set it (the status of the fit).
    """
    ns_ = indptr.shape[0] - 1
    mm = max(m, 1)
    P = 2 + mm
    ring = np.empty(mm)
    par = np.empty(6)
    x0 = np.empty(P)
    xend = np.empty(P)
    cj = np.empty(h + 1)
    prow = np.empty(4)
    srow = np.empty(P)
    code = np.empty(1, dtype=np.int16)
    i0 = np.int64(0)
    yes = np.bool_(True)
    for i in range(ns_):
        a = indptr[i]
        bnd = indptr[i + 1]
        y = values[a:bnd]
        n = bnd - a
        clear_outputs(i, a, bnd, fitted, mean, var, loglik, aicc, sigma2)
        cid = model[i]
        if cid < 0 or n < 1:
            status[i] = STATUS_FAILED
            continue
        tt = (cid // 3) % 3
        st = cid % 3
        par[0] = params[i, 0]
        par[1] = params[i, 1] if tt > 0 else 0.0
        par[2] = params[i, 2] if st > 0 else 0.0
        par[3] = params[i, 3] if tt == 2 else 1.0
        for j in range(P):
            x0[j] = init_states[i, j] if init_states[i, j] == init_states[i, j] else 0.0
        lik, sse, _ = run(y, cid // 9, tt, st, m, par[0], par[1], par[2], par[3], x0, ring,
                           fitted[a:bnd], yes, xend)
        if lik >= HUGE:
            status[i] = STATUS_FAILED
            for t in range(a, bnd):
                fitted[t] = np.nan
            continue
        # _finish also writes the (unchanged) parameters and states: into scratch rows
        _finish(i0, cid, n, m, h, par, x0, xend, lik, sse, i0, mean[i:i + 1], var[i:i + 1],
                prow.reshape(1, 4), srow.reshape(1, P), code, loglik[i:i + 1], aicc[i:i + 1],
                sigma2[i:i + 1], cj)
