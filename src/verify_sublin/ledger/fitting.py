"""Log-log fits with bootstrap intervals, for growth claims.

A growth claim "cost = O(m^e)" is checked by fitting log(cost) = log(C) + e log(m) by
least squares over every measured point (repeated measurements at one size are kept
as separate points) and a 95% percentile bootstrap interval for e obtained by
resampling the points with replacement. `plane_fit` does the same with two sizes at
once: log(cost) = log(C) + e_m log(m) + e_n log(n).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..core.errors import InputError, check_int

__all__ = ["MAX_REDRAWS", "LogLogFit", "PlaneFit", "local_slope", "loglog_fit", "plane_fit",
           "power_law"]


@dataclass(frozen=True)
class LogLogFit:
    """Fitted exponent e and constant C of y ~ C x^e, with a bootstrap interval for e."""

    exponent: float
    constant: float
    low: float
    high: float
    points: int
    sizes: int

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.exponent:.3f} [{self.low:.3f}, {self.high:.3f}]"


def loglog_fit(x, y, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> LogLogFit:
    """Fit y = C x^e on log-log axes with a percentile bootstrap interval for e.

    Parameters
    ----------
    x, y : sequences of positive numbers (same length, at least 2 distinct x)
    n_boot : int
        Bootstrap resamples (those with a single distinct x are redrawn).
    seed : int
        Seed of the resampling.

    >>> fit = loglog_fit([1, 2, 4, 8], [3, 12, 48, 192])
    >>> round(fit.exponent, 6), round(fit.constant, 6), round(fit.high - fit.low, 6)
    (2.0, 3.0, 0.0)

    Cost: O(n_boot * points).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise InputError("x, y", f"shapes {x.shape} and {y.shape}", "two 1-d sequences of one length")
    if np.any(x <= 0) or np.any(y <= 0) or not np.all(np.isfinite(x * y)):
        raise InputError("x, y", "non-positive or non-finite values", "positive finite numbers")
    if np.unique(x).size < 2:
        raise InputError("x", "a single distinct value", "at least two distinct sizes")
    lx, ly = np.log(x), np.log(y)
    e, c = np.polyfit(lx, ly, 1)
    rng = np.random.default_rng(seed)
    k = lx.size
    # resamples drawn n_boot at a time (the same stream as one at a time); those with a
    # single distinct size have no slope and are dropped, the first n_boot others kept
    samples = np.empty((0, k), dtype=np.int64)
    while len(samples) < n_boot:
        idx = rng.integers(0, k, size=(n_boot, k))
        sx = lx[idx]
        samples = np.concatenate([samples, idx[sx.min(axis=1) != sx.max(axis=1)]])
    samples = samples[:n_boot]
    # the least-squares slope of every resample at once (what np.polyfit(., ., 1)[0]
    # gives one at a time, to rounding)
    bx, by = lx[samples], ly[samples]
    bx = bx - bx.mean(axis=1, keepdims=True)
    slopes = np.einsum("ij,ij->i", bx, by - by.mean(axis=1, keepdims=True)) / np.einsum(
        "ij,ij->i", bx, bx)
    lo, hi = np.quantile(slopes, [(1 - level) / 2, 1 - (1 - level) / 2])
    return LogLogFit(float(e), float(math.exp(c)), float(lo), float(hi), int(k),
                     int(np.unique(x).size))


def power_law(xs, ys) -> tuple[float, float]:
    """(exponent, prefactor) of the least-squares line through log(ys) against log(xs): the
    point estimate of `loglog_fit`, without its bootstrap (for exact formulas and for
    extrapolation). Cost: O(points).

    >>> e, a = power_law([2, 4, 8], [12, 48, 192])
    >>> round(e, 6), round(a, 6)
    (2.0, 3.0)
    """
    e, log_a = np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float)), 1)
    return float(e), float(math.exp(log_a))


def local_slope(f, x0: float, x1: float) -> float:
    """Slope of log f between x0 and x1: (log f(x1) - log f(x0)) / (log x1 - log x0)."""
    return (math.log(f(x1)) - math.log(f(x0))) / (math.log(x1) - math.log(x0))


#: `plane_fit` gives up after this many times n_boot bootstrap draws (most of them unable
#: to separate m from n: too few cells)
MAX_REDRAWS = 20


@dataclass(frozen=True)
class PlaneFit:
    """Fitted exponents of y ~ C m^beta_m n^beta_n, each with a bootstrap interval."""

    beta_m: float
    beta_n: float
    constant: float
    m_low: float
    m_high: float
    n_low: float
    n_high: float
    points: int
    cells: int          #: distinct (m, n) pairs


def plane_fit(m, n, y, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> PlaneFit:
    """Fit log y = log C + beta_m log m + beta_n log n by least squares, with percentile
    bootstrap intervals for beta_m and beta_n. The bootstrap resamples cells, the
    distinct (m, n), with replacement, each with all its points (repeats at one size,
    e.g. seeds, are near-copies: resampling them one by one would narrow the interval
    without new information); resamples whose cells do not determine both exponents are
    redrawn, at most `MAX_REDRAWS` times n_boot draws in all.

    Parameters
    ----------
    m, n, y : sequences of positive numbers of one length; the (log m, log n, 1) design
        must have rank 3 (at least two m, two n, and not all on one line m = a n^k).

    >>> f = plane_fit([4, 8, 4, 8, 16], [2, 2, 4, 4, 8], [3 * m**0.5 * n**2 for m, n in
    ...               [(4, 2), (8, 2), (4, 4), (8, 4), (16, 8)]])
    >>> round(f.beta_m, 6), round(f.beta_n, 6), round(f.constant, 6), f.cells
    (0.5, 2.0, 3.0, 5)

    Cost: O(n_boot * points + cells * points).
    """
    n_boot = check_int("n_boot", n_boot, minimum=1)
    m, n, y = (np.asarray(v, dtype=np.float64) for v in (m, n, y))
    if not (m.shape == n.shape == y.shape and m.ndim == 1):
        raise InputError("m, n, y", f"shapes {m.shape}, {n.shape}, {y.shape}",
                         "three 1-d sequences of one length")
    if np.any(m <= 0) or np.any(n <= 0) or np.any(y <= 0) or not np.all(np.isfinite(m * n * y)):
        raise InputError("m, n, y", "non-positive or non-finite values", "positive finite numbers")
    A = np.column_stack([np.log(m), np.log(n), np.ones_like(m)])
    ly = np.log(y)
    if np.linalg.matrix_rank(A) < 3:
        raise InputError("m, n", "sizes that do not determine both exponents",
                         "at least two m, two n, not all on one line m = a n^k")
    coef = np.linalg.lstsq(A, ly, rcond=None)[0]
    keys = list(zip(m.tolist(), n.tolist()))
    members = [np.flatnonzero([key == cell for key in keys]) for cell in dict.fromkeys(keys)]
    rng = np.random.default_rng(seed)
    slopes, draws = [], 0
    while len(slopes) < n_boot:
        draws += 1
        if draws > MAX_REDRAWS * n_boot:
            raise InputError("m, n", f"{len(members)} cells of which too few resamples separate m "
                             "from n", "more cells, at two m and two n or more")
        idx = np.concatenate([members[j] for j in rng.integers(0, len(members), size=len(members))])
        if np.linalg.matrix_rank(A[idx]) < 3:     # this resample cannot separate m from n
            continue
        slopes.append(np.linalg.lstsq(A[idx], ly[idx], rcond=None)[0][:2])
    q = np.quantile(np.array(slopes), [(1 - level) / 2, 1 - (1 - level) / 2], axis=0)
    return PlaneFit(float(coef[0]), float(coef[1]), float(math.exp(coef[2])), float(q[0, 0]),
                    float(q[1, 0]), float(q[0, 1]), float(q[1, 1]), int(ly.size), len(members))
