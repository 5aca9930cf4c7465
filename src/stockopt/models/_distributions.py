"""Quantiles of predictive distributions given by (mean, var, family), vectorised over series x horizon.

The forecasting API uses :func:`quantiles` for the ``<Model>-q<p>`` columns and :func:`intervals` for
``<Model>-lo-<L>`` / ``<Model>-hi-<L>``.  Families:

``"normal"``
    ``mean + sqrt(var) * Phi^{-1}(p)``.
``"negbin"``
    Negative binomial with the given mean ``m`` and variance ``v > m``: ``r = m^2 / (v - m)`` and
    success probability ``q = m / v`` (scipy's ``nbinom(r, q)`` parametrisation), so
    ``P(D <= k) = I_q(r, k + 1)`` (regularised incomplete beta).  When ``v <= m`` (no
    over-dispersion) the Poisson with mean ``m`` is used; ``m = 0`` gives the point mass at 0.
    The quantile is the smallest integer ``k`` with ``P(D <= k) >= p`` (the usual definition for
    discrete laws; Johnson, Kemp & Kotz 2005, *Univariate Discrete Distributions*, ch. 5).
``"poisson"``
    Poisson with mean ``m`` (``var`` ignored).

Computation: for the small counts of intermittent demand a compiled walk up the probability masses
(:func:`stockopt._kernels.forecast.intermittent.count_quantiles`) answers every probability in one pass;
otherwise a continuous inverse from the cdflib routines in :mod:`scipy.special` (``nbdtrik`` /
``pdtrik``) gives a starting integer and the exact CDF (``betainc`` / ``gammaincc``) steps it to the
smallest integer that reaches ``p``.  Rows whose mean and variance are the same at every horizon
(flat forecasts) are solved once and repeated.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from stockopt._kernels.forecast import intermittent as _ki
from stockopt.errors import ParameterError, raise_error

__all__ = ["quantiles", "intervals", "negbin_params", "DISTRIBUTIONS"]

DISTRIBUTIONS = ("normal", "negbin", "poisson")
# above this size parameter the negative binomial is a Poisson to many digits; cdflib gets slow
_R_MAX = 1e8
_MAX_FIX_STEPS = 64


def negbin_params(mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Size ``r`` and success probability ``q`` of the negative binomial with this mean and variance.

    Valid where ``var > mean > 0``; elsewhere ``r`` is ``inf`` (the Poisson limit) and ``q`` is 1.

    Examples
    --------
    >>> r, q = negbin_params(np.array([2.0]), np.array([6.0]))
    >>> float(r[0]), round(float(q[0]), 6)
    (1.0, 0.333333)
    """
    mean = np.asarray(mean, dtype=np.float64)
    var = np.asarray(var, dtype=np.float64)
    over = (var > mean) & (mean > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(over, mean * mean / (var - mean), np.inf)
        q = np.where(over, mean / var, 1.0)
    return r, q


def _discrete_fix(k: np.ndarray, p: np.ndarray, cdf) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Move integer guesses ``k`` to the smallest integer whose CDF reaches ``p``."""
    k = np.maximum(k, 0.0)
    for _ in range(_MAX_FIX_STEPS):
        below = cdf(k) < p
        if not below.any():
            break
        k = np.where(below, k + 1.0, k)
    for _ in range(_MAX_FIX_STEPS):
        km1 = np.maximum(k - 1.0, 0.0)
        down = (k > 0) & (cdf(km1) >= p)
        if not down.any():
            break
        k = np.where(down, km1, k)
    return k


def _negbin_quantile(p: np.ndarray, r: np.ndarray, q: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        guess = np.ceil(special.nbdtrik(p, r, q))
    guess = np.where(np.isfinite(guess), guess, 0.0)
    return _discrete_fix(guess, p, lambda k: special.betainc(r, k + 1.0, q))


def _poisson_quantile(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        guess = np.ceil(special.pdtrik(p, m))
    guess = np.where(np.isfinite(guess), guess, 0.0)
    return _discrete_fix(guess, p, lambda k: special.gammaincc(k + 1.0, m))


def quantiles(
    mean: np.ndarray,
    var: np.ndarray | None,
    dist: str,
    probs: np.ndarray | list[float],
    *,
    nonnegative: bool = False,
) -> np.ndarray:
    """Quantiles of the predictive distribution at probabilities ``probs``.

    Parameters
    ----------
    mean, var : ndarray
        Mean and variance of the predictive distribution (same shape, e.g. (n_series, h)), in
        demand units and demand units squared.  ``var`` may be ``None`` only for ``"poisson"``.
    dist : {"normal", "negbin", "poisson"}
        Distribution family (``ForecastResult.dist``).
    probs : sequence of float
        Probabilities, each strictly between 0 and 1.
    nonnegative : bool
        Clip the quantiles at 0 (for the normal family; the discrete families are never negative).

    Returns
    -------
    ndarray of shape ``mean.shape + (len(probs),)``
        Quantiles; NaN where ``mean`` or ``var`` is NaN.  Discrete families give integers (as floats).

    Examples
    --------
    >>> import numpy as np
    >>> quantiles(np.array([2.0]), np.array([6.0]), "negbin", [0.5, 0.9]).tolist()
    [[1.0, 5.0]]
    >>> quantiles(np.array([10.0]), np.array([4.0]), "normal", [0.5]).tolist()
    [[10.0]]
    """
    if dist not in DISTRIBUTIONS:
        raise_error(
            ParameterError,
            "unknown distribution family",
            column="dist",
            expected=" | ".join(DISTRIBUTIONS),
            got=dist,
        )
    p = np.asarray(probs, dtype=np.float64).ravel()
    if p.size == 0 or not np.all((p > 0.0) & (p < 1.0)):
        raise_error(
            ParameterError,
            "bad quantile probabilities",
            column="probs",
            expected="values strictly between 0 and 1",
            got=list(p),
        )
    mean = np.asarray(mean, dtype=np.float64)
    if var is None:
        if dist != "poisson":
            raise_error(
                ParameterError,
                f"a variance is needed for the {dist} family",
                column="var",
                expected="an array",
                got=None,
            )
        var = mean
    var = np.asarray(var, dtype=np.float64)
    if var.shape != mean.shape:
        raise_error(
            ParameterError,
            "mean and var shapes differ",
            column="var",
            expected=str(mean.shape),
            got=var.shape,
        )
    if dist == "normal":
        with np.errstate(invalid="ignore"):
            out = mean[..., None] + np.sqrt(var)[..., None] * special.ndtri(p)
        if nonnegative:
            np.maximum(out, 0.0, out=out)
        return out
    if dist == "poisson":
        var = mean
    # flat forecasts (every column of a row equal, as for the intermittent models): solve one column
    if mean.ndim == 2 and mean.shape[1] > 1 and _flat(mean) and _flat(var):
        one = _discrete(mean[:, 0], var[:, 0], p)
        return np.repeat(one[:, None, :], mean.shape[1], axis=1)
    return _discrete(mean.ravel(), var.ravel(), p).reshape(mean.shape + (p.size,))
    return out


def _flat(a: np.ndarray) -> bool:
    first = a[:, :1]
    return bool(np.all((a == first) | (np.isnan(a) & np.isnan(first))))


def _discrete(mean: np.ndarray, var: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Negative binomial / Poisson quantiles for 1-D ``mean``, ``var``: shape (len(mean), len(p))."""
    out = np.full((mean.shape[0], p.size), np.nan)
    ok = np.isfinite(mean) & np.isfinite(var) & (mean >= 0) & (var >= 0)
    out[ok & (mean == 0)] = 0.0
    r, q = negbin_params(mean, var)
    r = np.where(r < _R_MAX, r, np.inf)  # beyond it: Poisson
    live = np.flatnonzero(ok & (mean > 0))
    if live.size == 0:
        return out
    # fast path: walk the probability masses from 0 (compiled), all probabilities in one walk
    order = np.argsort(p, kind="mergesort")
    sub = np.empty((live.size, p.size))
    done = np.zeros(live.size, dtype=np.bool_)
    _ki.count_quantiles(
        np.ascontiguousarray(r[live]), np.ascontiguousarray(q[live]), np.ascontiguousarray(mean[live]),
        np.ascontiguousarray(p[order]), sub, done,
    )
    res = np.empty_like(sub)
    res[:, order] = sub
    out[live[done]] = res[done]
    # slow path (large means, long tails): continuous inverse from cdflib, then exact CDF steps
    rest = live[~done]
    if rest.size:
        pp = np.broadcast_to(p, (rest.size, p.size))
        rr = np.broadcast_to(r[rest][:, None], pp.shape)
        qq = np.broadcast_to(q[rest][:, None], pp.shape)
        mm = np.broadcast_to(mean[rest][:, None], pp.shape)
        nb = np.isfinite(rr)
        slow = np.empty(pp.shape)
        if nb.any():
            slow[nb] = _negbin_quantile(pp[nb], rr[nb], qq[nb])
        if (~nb).any():
            slow[~nb] = _poisson_quantile(pp[~nb], mm[~nb])
        out[rest] = slow
    return out


def intervals(
    mean: np.ndarray,
    var: np.ndarray | None,
    dist: str,
    levels: np.ndarray | list[float],
    *,
    nonnegative: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Central prediction intervals at ``levels`` (percent, e.g. ``[80, 95]``).

    Returns ``(lo, hi)``, each of shape ``mean.shape + (len(levels),)``: the ``(1 - L/100) / 2`` and
    ``(1 + L/100) / 2`` quantiles of :func:`quantiles`.

    Examples
    --------
    >>> import numpy as np
    >>> lo, hi = intervals(np.array([0.0]), np.array([1.0]), "normal", [95])
    >>> round(float(lo[0, 0]), 4), round(float(hi[0, 0]), 4)
    (-1.96, 1.96)
    """
    lv = np.asarray(levels, dtype=np.float64).ravel()
    if lv.size == 0 or not np.all((lv > 0) & (lv < 100)):
        raise_error(
            ParameterError,
            "bad interval levels",
            column="level",
            expected="percentages strictly between 0 and 100",
            got=list(lv),
        )
    a = lv / 100.0
    probs = np.concatenate([(1.0 - a) / 2.0, (1.0 + a) / 2.0])
    qs = quantiles(mean, var, dist, probs, nonnegative=nonnegative)
    return qs[..., : lv.size], qs[..., lv.size :]
