"""Timing figures with their spread: every time the report quotes is a median of at
least `MIN_REPEATS` measurements, printed with its interquartile range and how many
measurements (seeds, data subsets, steps) it summarises. Ratios are of medians taken in
one process. Cost: O(k log k) for k measurements.

>>> s = Spread.of([1.0, 2.0, 3.0, 4.0, 5.0])
>>> s.median, (s.q1, s.q3), s.k
(3.0, (2.0, 4.0), 5)
>>> s.ms()
'3000 ms [IQR 2000-4000, 5 runs]'
>>> Spread.of([0.5]).enough
False
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_REPEATS", "Spread", "bootstrap_note", "sig3"]

#: a timing figure is a median of at least this many measurements
MIN_REPEATS = 5

#: what the 95% intervals of fitted exponents measure, said once beside every fit
bootstrap_note = (
    "The 95% intervals of fitted exponents are percentile bootstraps over the measured "
    "points (the 3 to 7 sizes of a fit, repetitions as separate points): they measure how "
    "well one "
    "straight line fits those sizes, that is the curvature of the local slope over the "
    "range run, far more than sampling error.")


@dataclass(frozen=True)
class Spread:
    """Median, quartiles and count of repeated measurements (seconds)."""

    median: float
    q1: float
    q3: float
    k: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        v = np.asarray(list(values), dtype=float)
        if v.size == 0:
            return cls(float("nan"), float("nan"), float("nan"), 0)
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        return cls(float(med), float(q1), float(q3), int(v.size))

    @property
    def enough(self) -> bool:
        """At least `MIN_REPEATS` measurements."""
        return self.k >= MIN_REPEATS

    def ms(self, what: str = "runs") -> str:
        """'12.3 ms [IQR 11.9-12.8, 5 runs]' (milliseconds, 3 significant digits)."""
        return (f"{sig3(1e3 * self.median)} ms [IQR {sig3(1e3 * self.q1)}-"
                f"{sig3(1e3 * self.q3)}, {self.k} {what}]")


def sig3(x: float) -> str:
    """x to 3 significant digits, never in exponent notation below 1e9.

    >>> sig3(3000.0), sig3(12.345), sig3(0.0123)
    ('3000', '12.3', '0.0123')
    """
    return f"{float(f'{x:.3g}'):,.10g}".replace(",", "")
