"""A ledger entry: a checkable statement, the runs that test it, and its rule.

Each entry is one module of `verify_sublin.ledger.entries` holding its kind, statement,
source, its sizes per profile as one table (`Sizes`), its named thresholds and four pure
functions:

* ``runs(sizes) -> list[RunSpec]``: the runs it needs at one profile's sizes;
* ``values(results) -> V``: the numbers, from the finished runs (`Results`);
* ``decide(values) -> (verdict, reason)``: the rule, built from `ledger.rules`;
* ``show(values, verdict, reason) -> Shown``: claimed and measured sentences, the rule
  as applied, tables, named figures and a plot specification (`ledger.plot`).

`Entry.evaluate` chains them into a `Verdict`; an entry with no finished run gets
"inconclusive" (or its `on_failure` verdict when runs failed), so no entry writes that
case itself. Cost: that of the entry's functions, O(runs) for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..bench.spec import RunRecord, RunSpec
from .rules import VERDICTS_BY_KIND
from .verdict import Shown, Table, Verdict

__all__ = ["KINDS", "PROFILES", "SAME", "SOURCE_RECONSTRUCTED", "Entry", "Results", "Shown",
           "Sizes", "SizesAt", "Table", "Verdict"]

#: tiny: the test suite's sizes; quick: small sizes, indicative verdicts; full: the
#: committed report; large: widths to m = 2^24 for the entries that have a large column;
#: study: the grids too long for the full profile's hour, for the entries that have a
#: study column (its report is committed beside full and large).
PROFILES = ("tiny", "quick", "full", "large", "study")

#: "claim": a statement the papers make; "sanity": an identity or known fact the
#: experiments rely on (it checks the machinery, not the papers); "question": a
#: reviewer's question, answered with the measured figures.
KINDS = ("claim", "sanity", "question")

#: The source of a statement whose formula is not in the collected abstracts and reviews.
SOURCE_RECONSTRUCTED = "reconstructed from the paper's body (not in the abstract or reviews)"


class _Same:
    def __repr__(self) -> str:
        return "SAME"


#: In a `Sizes` row: the value of the profile to the left.
SAME = _Same()


class SizesAt:
    """One profile's column of a `Sizes` table: ``sizes.m``, ``sizes["m"]``.

    >>> s = Sizes(m=([2**8], [2**12], SAME), n=(8, 32, 64)).at("full")
    >>> s.m, s.n, s.profile
    ([4096], 64, 'full')
    """

    def __init__(self, profile: str, values: dict[str, Any]):
        self.profile = profile
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"no size {name!r} (have {sorted(self._values)})") from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __repr__(self) -> str:
        return f"SizesAt({self.profile!r}, {self._values!r})"


class Sizes:
    """The sizes an entry runs at: one row per parameter, one value per profile.

    `profiles` names the columns (tiny, quick, full by default; add "large" or "study"
    for an entry of those profiles); `SAME` repeats the value to its left. An entry runs
    at exactly the profiles of its table.

    >>> sz = Sizes(m=([2**8, 2**10], [2**10, 2**14], SAME), n=(8, 32, 64))
    >>> sz.at("quick").m
    [1024, 16384]
    >>> sz.at("large")
    Traceback (most recent call last):
    ...
    KeyError: 'no sizes at profile large (this entry runs at tiny, quick, full)'
    """

    def __init__(self, profiles: Sequence[str] = ("tiny", "quick", "full"), **rows: Sequence):
        self.profiles = tuple(profiles)
        unknown = [p for p in self.profiles if p not in PROFILES]
        if unknown:
            raise ValueError(f"unknown profiles {unknown}; expected some of {PROFILES}")
        self.rows: dict[str, tuple] = {}
        for name, values in rows.items():
            values = tuple(values)
            if len(values) != len(self.profiles):
                raise ValueError(f"size {name!r}: {len(values)} values for the profiles "
                                 f"{self.profiles}")
            out = []
            for k, v in enumerate(values):
                if v is SAME:
                    if k == 0:
                        raise ValueError(f"size {name!r}: SAME in the first column")
                    v = out[-1]
                out.append(v)
            self.rows[name] = tuple(out)

    def at(self, profile: str) -> SizesAt:
        """The column of `profile`; KeyError if the entry does not run there."""
        if profile not in self.profiles:
            raise KeyError(f"no sizes at profile {profile} (this entry runs at "
                           f"{', '.join(self.profiles)})")
        k = self.profiles.index(profile)
        return SizesAt(profile, {name: v[k] for name, v in self.rows.items()})








@dataclass
class Results:
    """The finished runs of an entry, with the sizes they were planned at."""

    records: list[RunRecord]
    failed: list[tuple[int, str]]
    sizes: SizesAt | None
    profile: str

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def of(self, experiment: str) -> list[RunRecord]:
        """The finished runs of one experiment."""
        return [r for r in self.records if r.spec.experiment == experiment]


@dataclass(frozen=True)
class Entry:
    """A ledger entry; see the module docstring. `on_failure`: the verdict when runs
    failed and none finished (default: inconclusive). `measured_on`: what the runs
    measured when it is not the paper's method as specified (e.g. `toolkit.VARIANT`),
    said after the measured figures wherever they are shown."""

    id: str
    kind: str
    paper: str
    statement: str
    source: str
    experiment: str
    rule: str
    sizes: Sizes
    runs: Callable[[SizesAt], list[RunSpec]]
    values: Callable[[Results], Any]
    decide: Callable[[Any], tuple[str, str]]
    show: Callable[[Any, str, str], Shown]
    on_failure: str | None = None
    measured_on: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"entry {self.id!r}: kind {self.kind!r} is not one of {KINDS}")

    @property
    def profiles(self) -> tuple[str, ...]:
        return self.sizes.profiles

    def planned(self, profile: str) -> list[RunSpec]:
        """The runs at `profile` (none at a profile the entry has no sizes for)."""
        if profile not in self.sizes.profiles:
            return []
        return list(self.runs(self.sizes.at(profile)))

    def evaluate(self, records: list[RunRecord], profile: str) -> Verdict:
        """The verdict from the stored runs (records with typed results)."""
        good = [r for r in records if r.ok]
        bad = [(r.id, r.error or "failed") for r in records if not r.ok]
        sizes = self.sizes.at(profile) if profile in self.sizes.profiles else None
        if not good and (records or self.planned(profile)):
            word = self.on_failure if bad and self.on_failure else "inconclusive"
            return Verdict(self.id, word, "", "no finished run",
                           "No run finished, so nothing can be decided.", failed_runs=bad)
        vals = self.values(Results(good, bad, sizes, profile))
        verdict, reason = self.decide(vals)
        allowed = VERDICTS_BY_KIND[self.kind]
        if verdict not in allowed:
            raise ValueError(f"entry {self.id!r} ({self.kind}) decided {verdict!r}; expected "
                             f"one of {allowed}")
        shown = self.show(vals, verdict, reason)
        details = [d for d in shown.details if not (isinstance(d, Table) and not d.rows)]
        measured = shown.measured
        if self.measured_on and "no finished run" not in measured:
            measured = f"{measured.rstrip('. ')} (measured on {self.measured_on})"
        return Verdict(self.id, verdict, shown.claimed, measured, shown.rule, details,
                       dict(shown.figures), [r.id for r in good], bad, shown.plot)
