"""Work bounds of the inventory methods: which items a method would take too long or too much memory
for, and what they get instead (docs/limits.md).

The exact methods step through integer units (Poisson, negative binomial, empirical demand; the
cost-optimal searches), through the days of a random lead time (the continuous lead-time mixture,
the renewal (s, S) mixture) or through outstanding orders (the crossing-orders model).  Their work
grows with the demand over the protection interval, the order quantity and the lead-time spread,
so an absurd but accepted input (a demand of 1e6 a day under Poisson, a minimum order of 1e9 units,
a lead-time deviation of years) would exhaust memory or run for hours.  :func:`integer_bounds` and
:func:`lead_time_bounds` read, before any method runs, how much each item would cost, and the items
past a bound go to a cheaper method, with a status naming the switch:

* ``continuous`` - an integer method past :data:`INTEGER_MAX_POINTS` pmf entries or
  :data:`INTEGER_MAX_WORK` operations: sized with the continuous distribution of the same mean
  and variance (gamma when the coefficient of variation over the protection interval exceeds 0.5,
  else normal - the ``"auto"`` rule).  At these sizes the integer law is close to it (the quantiles
  from 1 % to 99 % of a Poisson of mean 1e5 and of its normal approximation differ by less than two
  units, checked in ``tests/fuzz``).
* ``moment_matched`` - a random lead time whose crossing-orders window exceeds
  :data:`CROSSING_MAX_DAYS` days, or whose lead-time mixture exceeds :data:`MIXTURE_MAX_POINTS`
  points: sized on one distribution with the moment-matched variance ``L sd_d^2 + d^2 sd_L^2``
  (``lead_time_model="normal"`` for that item).
* ``too_large`` - the cost-optimal integer search (``objective="cost"``) past the integer bounds:
  it has no continuous counterpart, so the item gets no numbers (nulls) and this status.
  ``optimize_service`` (integer level curves for every item) refuses an item past the bounds,
  naming it, before any curve is built.

A compound law (``history=``) is built only for items whose largest demand size is at most
:data:`COMPOUND_MAX_SIZE` units (with larger sizes, its lead-time, review-period and protection
pmfs together pass :data:`INTEGER_MAX_POINTS`, so the law would never be used); larger items are
sized on the law their demand table gives, like items without history.

With these bounds one item costs at most about a quarter of a second and some 30 MB, whatever its
accepted parameters (``benchmarks/work_bounds.py``; ``docs/limits.md``).
"""

from __future__ import annotations

import numpy as np

from stockopt._kernels.codes import (
    DIST_COMPOUND,
    DIST_EMPIRICAL,
    DIST_GAMMA,
    DIST_NEGBIN,
    DIST_NORMAL,
    DIST_POISSON,
    POL_SQ,
    POL_SS,
)

__all__ = ["INTEGER_MAX_POINTS", "INTEGER_MAX_WORK", "CROSSING_MAX_DAYS", "MIXTURE_MAX_POINTS",
           "COMPOUND_MAX_SIZE", "integer_bounds", "lead_time_bounds", "renewal_bounds", "pmf_support_float",
           "compound_sizes"]

#: pmf entries (float64) one item's integer method may hold: its lead-time, review-period and
#: protection-interval pmfs, and one protection pmf per ready-rate day (8 MiB; filling them costs about 0.2 s)
INTEGER_MAX_POINTS = 2**20
#: multiply-adds one item's integer method may take: the pmf mixture over the lead-time days or the
#: crossing window, and the stationary position of an order quantity ``Q`` (about 0.1 s)
INTEGER_MAX_WORK = 2**27
#: longest window (days) of the crossing-orders model (``lead time + 4 sd + 2 R``); its work grows
#: with the square of the window (2048 days: about 0.1 s an item)
CROSSING_MAX_DAYS = 2048
#: most lead-time days (``8 sd + 1``) the continuous lead-time mixtures sum over per evaluation
MIXTURE_MAX_POINTS = 2049
#: largest demand size (units) of an item's history for which its compound law is built (a quarter
#: of INTEGER_MAX_POINTS: the law's three pmfs are each longer than its largest size)
COMPOUND_MAX_SIZE = INTEGER_MAX_POINTS // 4
#: coefficient of variation over the protection interval above which a switched item is gamma
_SKEWED_CV = 0.5


def pmf_support_float(dist: np.ndarray, m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """:func:`stockopt._kernels.inventory.core.pmf_support` in floating point, for every item at once
    (the kernel's integer result overflows for the huge means this module is there to catch).

    Examples
    --------
    >>> pmf_support_float(np.array([DIST_POISSON]), np.array([100.0]), np.array([100.0])).tolist()
    [245.0]
    """
    m = np.asarray(m, dtype=np.float64)
    v = np.where((dist == DIST_POISSON) | (v < m), m, v)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        heavy = (dist == DIST_NEGBIN) & (v > m) & (m * m < (v - m))  # shape r = m^2 / (v - m) < 1
        extra = np.where(heavy, 30.0 * v / np.where(m > 0, m, 1.0), 0.0)
        size = np.floor(m + 12.0 * np.sqrt(v) + extra + 25.0)
    return np.where(m <= 0.0, 1.0, size)


def _lead_time_days(l_days: np.ndarray, l_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of days a random lead time spreads over (``mean +- 4 sd``, clipped at 0) and its
    longest day (as :func:`stockopt._kernels.inventory.discrete.lead_time_support`)."""
    lo = np.maximum(np.floor(l_days - 4.0 * l_sd), 0.0)
    hi = np.maximum(np.ceil(l_days + 4.0 * l_sd), lo)
    rand = l_sd > 0
    return np.where(rand, hi - lo + 1.0, 1.0), np.where(rand, hi, l_days)


def compound_sizes(c, sub: np.ndarray, l_days: np.ndarray, l_sd: np.ndarray,
                   r_days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pmf lengths of the compound items ``sub`` over their lead time (its longest day), review period
    and both: mean + 12 sd + the largest size + 1, an estimate of what
    :func:`stockopt.inventory._compound.compound_sizing_pmfs` holds (``c``: their
    :class:`~stockopt.inventory._compound.CompoundParams`; the interval arrays are over ``sub``).

    Examples
    --------
    >>> from stockopt.inventory._compound import CompoundParams
    >>> one = np.ones(1)
    >>> c = CompoundParams(0.5 * one, one, np.array([0.0, 0.5, 0.5]), np.array([0, 3]), 1.5 * one, 0.25 * one)
    >>> [float(x[0]) for x in compound_sizes(c, np.array([0]), 0 * one, 0 * one, one)]
    [3.0, 14.0, 14.0]
    """
    from stockopt.inventory.history import compound_moments

    smax = (c.g_ip[sub + 1] - c.g_ip[sub] - 1).astype(np.float64)
    lmax = l_days + 4.0 * l_sd
    rd = np.maximum(r_days, 1.0)
    out = []
    for days in (lmax, rd, lmax + rd):
        mean, var = compound_moments(c.p[sub], c.period[sub], c.size_mean[sub], c.size_var[sub], days)
        out.append(np.ceil(mean + 12.0 * np.sqrt(var) + smax + 1.0))
    return out[0], out[1], out[2]


def integer_bounds(dist: np.ndarray, pol: np.ndarray, *, cost: bool, d_day: np.ndarray, vd_day: np.ndarray,
                   l_days: np.ndarray, l_sd: np.ndarray, r_days: np.ndarray, q: np.ndarray, ready: bool,
                   integer: bool = False, path_max: np.ndarray | None = None,
                   compound=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The items whose integer method would pass :data:`INTEGER_MAX_POINTS` or
    :data:`INTEGER_MAX_WORK` (module docstring).

    Parameters
    ----------
    dist, pol : ndarray of int8
        Distribution and policy codes per item.
    cost : bool
        ``objective="cost"``: every item would take the integer cost search.
    integer : bool
        Every item is sized on integer pmfs (normal and gamma put on the unit grid).
    d_day, vd_day : ndarray
        Mean and variance of demand per day (units).
    l_days, l_sd, r_days : ndarray
        Lead time, its standard deviation and the review period (days) the integer method would use
        (newsvendors: no lead time and the days they cover).
    q : ndarray
        Order quantity (units); read for sQ and sS items.
    ready : bool
        The ready rate is asked for (one more protection pmf per review day, up to 32).
    path_max : ndarray, optional
        Empirical items: the largest path sum over the longest protection interval (units), which
        sizes their histograms.
    compound : CompoundParams, optional
        The compound laws of the ``DIST_COMPOUND`` items (:func:`compound_sizes`).

    Returns
    -------
    dist : ndarray of int8
        ``dist`` with the items past a bound on normal or gamma (gamma when the coefficient of
        variation over the protection interval exceeds 0.5; ``too_large`` items too, so that no
        slow method runs for them).
    continuous, too_large : ndarray of bool
        Items switched to the continuous method; items of the cost search past a bound.

    Examples
    --------
    >>> one = np.ones(2)
    >>> d, cont, big = integer_bounds(np.array([DIST_POISSON] * 2, np.int8), np.zeros(2, np.int8),
    ...                               cost=False, d_day=np.array([5.0, 1e6]), vd_day=np.array([5.0, 1e6]),
    ...                               l_days=7 * one, l_sd=0 * one, r_days=one, q=one, ready=False)
    >>> d.tolist(), cont.tolist()  # 8e6 units of Poisson support: normal instead
    ([2, 0], [False, True])
    """
    integer = (dist >= DIST_POISSON) | cost | integer
    lt_days, l_hi = _lead_time_days(l_days, l_sd)
    r1 = np.maximum(r_days, 1.0)
    vd = np.where(dist == DIST_POISSON, d_day, vd_day)
    base = dist  # the kernels size every law so (pmf_support); compound items are sized below
    with np.errstate(over="ignore", invalid="ignore"):
        size_l = pmf_support_float(base, d_day * l_hi, vd * l_hi)
        size_r = pmf_support_float(base, d_day * r1, vd * r1)
        size_t = pmf_support_float(base, d_day * (l_hi + r1), vd * (l_hi + r1))
        if path_max is not None:
            emp = dist == DIST_EMPIRICAL
            size_l, size_r, size_t = (np.where(emp, path_max + 1.0, x) for x in (size_l, size_r, size_t))
        comp = np.flatnonzero(dist == DIST_COMPOUND) if compound is not None else np.empty(0, np.int64)
        if comp.size:
            size_l, size_r, size_t = size_l.copy(), size_r.copy(), size_t.copy()
            sizes = compound_sizes(compound, comp, l_days[comp], l_sd[comp], r_days[comp])
            size_l[comp], size_r[comp], size_t[comp] = sizes
        n_ready = np.minimum(np.maximum(np.floor(r1 + 0.5), 1.0), 32.0) if ready else 0.0
        points = size_l + size_r + size_t * (1.0 + n_ready)
        window = np.where(l_sd > 0, l_hi + 2.0 * r1 + 1.0, 1.0)  # lead-time days or crossing window
        qq = np.where((pol == POL_SQ) | (pol == POL_SS), np.maximum(np.nan_to_num(q, nan=1.0), 1.0), 1.0)
        work = window * size_t + qq * (size_r + 64.0)
        if cost:
            work = work + size_t * size_t  # the (s, S) and (s, nQ) searches step over pairs of levels
    big = integer & ~((points <= INTEGER_MAX_POINTS) & (work <= INTEGER_MAX_WORK))
    too_large = big if cost else np.zeros_like(big)
    continuous = np.zeros_like(big) if cost else big
    new = dist.copy()
    if big.any():  # too_large items too: their numbers are dropped, but nothing slow may run for them
        span = l_days + r1
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.sqrt(vd_day * span) / (d_day * span)
        new[big] = np.where(cv[big] > _SKEWED_CV, DIST_GAMMA, DIST_NORMAL)
    del lt_days
    return new, continuous, too_large


def lead_time_bounds(cross: np.ndarray, mixture: np.ndarray, l_days: np.ndarray, l_sd: np.ndarray,
                     r_days: np.ndarray) -> np.ndarray:
    """Items whose random lead time passes :data:`CROSSING_MAX_DAYS` (``cross``: sized by the
    crossing-orders model) or :data:`MIXTURE_MAX_POINTS` (``mixture``: a lead-time mixture): they
    are to be sized on the moment-matched lead-time demand instead.

    Examples
    --------
    >>> lead_time_bounds(np.array([True, True]), np.array([False, False]), np.array([10.0, 10.0]),
    ...                  np.array([5.0, 2000.0]), np.array([7.0, 7.0])).tolist()
    [False, True]
    """
    lt_days, l_hi = _lead_time_days(l_days, l_sd)
    window = l_hi + 2.0 * np.maximum(np.rint(r_days), 1.0) + 1.0
    return (l_sd > 0) & ((cross & (window > CROSSING_MAX_DAYS)) | (mixture & (lt_days > MIXTURE_MAX_POINTS)))


def renewal_bounds(dist: np.ndarray, m_r: np.ndarray, v_r: np.ndarray, grid_k: float) -> np.ndarray:
    """Items whose renewal (R, s, S) grid (:func:`stockopt._kernels.inventory.ss.review_kernel`) would
    hold more than :data:`INTEGER_MAX_POINTS` cells: gamma demand over the review period with a
    shape ``m^2 / v`` far below 1 (a tail ``35 / shape`` deviations long on cells ``shape`` times
    narrower).  They get no numbers (status ``too_large``).

    Examples
    --------
    >>> renewal_bounds(np.array([DIST_GAMMA, DIST_GAMMA, DIST_NORMAL], np.int8), np.array([5.0, 1e-6, 1e-6]),
    ...                np.array([4.0, 1.0, 1.0]), 8.0).tolist()
    [False, True, False]
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sd = np.sqrt(np.maximum(v_r, 0.0))
        shape = np.where(v_r > 0, m_r * m_r / v_r, np.inf)
        h = np.where(sd > 0, sd, m_r) / grid_k * np.where(v_r > m_r * m_r, np.maximum(shape, 0.125), 1.0)
        reach = np.where(shape < 1.0, 40.0 + 35.0 / shape, 60.0) * sd
        cells = (m_r + reach) / h
    return (dist == DIST_GAMMA) & (m_r > 0) & ~(cells <= INTEGER_MAX_POINTS)
