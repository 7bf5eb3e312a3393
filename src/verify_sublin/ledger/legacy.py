"""Entries written before the ledger became data: `Claim` objects handed to
`register_claim` (a plugin's, say), with ``runs(profile)``, ``evaluate(records,
profile)`` and an optional ``plot(records, figure, profile)``. `LegacyEntry` gives them
the interface of `Entry` (``planned``, ``evaluate``), so the runner and the report treat
both alike; new entries use `Entry` (see `verify_sublin.ledger.entry`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..bench.spec import RunRecord, RunSpec
from .entry import KINDS, Verdict

__all__ = ["Claim", "LegacyEntry", "LegacyPlot"]


@dataclass(frozen=True)
class Claim:
    """A ledger entry in the form plugins used before `Entry` (still accepted).

    Attributes: id, paper, statement, experiment, rule (str); runs (profile -> list of
    RunSpec); evaluate ((records, profile) -> Verdict); plot ((records, matplotlib
    Figure, profile) -> caption or None), optional; kind ("claim", "sanity",
    "question"); source.
    """

    id: str
    paper: str
    statement: str
    experiment: str
    rule: str
    runs: Callable[[str], list[RunSpec]]
    evaluate: Callable[[list[RunRecord], str], Verdict]
    plot: Callable[[list[RunRecord], Any, str], str | None] | None = None
    kind: str = "claim"
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id!r}: kind {self.kind!r} is not one of {KINDS}")


@dataclass(frozen=True)
class LegacyPlot:
    """A figure drawn by a legacy claim's own plot function (the renderer calls it)."""

    draw: Callable[[Any], str | None]
    key: tuple


@dataclass(frozen=True)
class LegacyEntry:
    """A `Claim` seen as an entry. It runs at tiny, quick and full."""

    claim: Claim
    profiles: tuple[str, ...] = ("tiny", "quick", "full")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["claim"], name)

    @property
    def id(self) -> str:
        return self.claim.id

    def planned(self, profile: str) -> list[RunSpec]:
        return list(self.claim.runs(profile)) if profile in self.profiles else []

    def evaluate(self, records: list[RunRecord], profile: str) -> Verdict:
        verdict = self.claim.evaluate(records, profile)
        if self.claim.plot is not None and any(r.ok for r in records):
            plot, claim = self.claim.plot, self.claim
            verdict.plot = LegacyPlot(
                lambda fig: plot(records, fig, profile),
                (claim.id, profile, tuple(sorted((r.id, r.key, r.status, r.commit, r.seconds)
                                                 for r in records))))
        return verdict


def deprecated(what: str, instead: str) -> None:
    warnings.warn(f"{what} is deprecated; {instead}", DeprecationWarning, stacklevel=3)
