"""Log-log fits with bootstrap intervals, for growth claims.

A growth claim "cost = O(m^e)" is checked by fitting log(cost) = log(C) + e log(m) by
least squares over every measured point (repeated measurements at one size are kept
as separate points) and a 95% percentile bootstrap interval for e obtained by
resampling the points with replacement.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..core.errors import InputError

__all__ = ["LogLogFit", "local_slope", "loglog_fit"]


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
    samples = []
    k = lx.size
    while len(samples) < n_boot:
        idx = rng.integers(0, k, size=k)
        sx = lx[idx]
        if sx.min() == sx.max():          # a single distinct size: no slope
            continue
        samples.append(idx)
    # the least-squares slope of every resample at once (what np.polyfit(., ., 1)[0]
    # gives one at a time, to rounding)
    bx, by = lx[np.array(samples)], ly[np.array(samples)]
    bx = bx - bx.mean(axis=1, keepdims=True)
    slopes = np.einsum("ij,ij->i", bx, by - by.mean(axis=1, keepdims=True)) / np.einsum(
        "ij,ij->i", bx, bx)
    lo, hi = np.quantile(slopes, [(1 - level) / 2, 1 - (1 - level) / 2])
    return LogLogFit(float(e), float(math.exp(c)), float(lo), float(hi), int(k),
                     int(np.unique(x).size))


def local_slope(f, x0: float, x1: float) -> float:
    """Slope of log f between x0 and x1: (log f(x1) - log f(x0)) / (log x1 - log x0)."""
    return (math.log(f(x1)) - math.log(f(x0))) / (math.log(x1) - math.log(x0))
