"""The claims ledger: one `Claim` per checkable statement of the papers.

A claim has an id, the paper, the statement in our own words with its formula, the
experiment that tests it, its verdict rule (in words here, in code in `evaluate`),
and the runs it needs per profile. `evaluate` turns the stored results of those runs
into a `Verdict`, always with the measured figure next to the claimed one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CLAIMS", "KINDS", "PROFILES", "PROFILE_CLAIMS", "SOURCE_RECONSTRUCTED", "Claim", "RunRecord",
           "RunSpec", "Table", "Verdict", "register_claim", "run_key"]

#: quick: small sizes, indicative verdicts, <= 3 minutes on 2 cores; full: the report;
#: tiny: the test suite's sizes; large: the full sizes of the claims in
#: `PROFILE_CLAIMS["large"]` with widths up to m = 2^24 (run with --jobs 1; about 10 GiB).
PROFILES = ("tiny", "quick", "full", "large")

#: The claims a profile runs when none are named (every claim if absent).
PROFILE_CLAIMS = {"large": ("sparsity.init", "union.size", "cpi.sublinear_gn",
                            "cost.end_to_end")}

#: Kinds of ledger entry. "claim": a statement the papers make (verdicts holds,
#: holds-with-caveat, fails, inconclusive, untestable). "sanity": a mathematical identity
#: or known fact the experiments rely on (verdict consistent / inconsistent); it checks
#: the machinery, not the papers. "question": a reviewer's question, answered in one
#: sentence with the measured figures (verdict "answer").
KINDS = ("claim", "sanity", "question")

#: The source of a statement whose formula is not in the collected abstracts and reviews.
SOURCE_RECONSTRUCTED = "reconstructed from the paper's body (not in the abstract or reviews)"


@dataclass(frozen=True)
class RunSpec:
    """One run an experiment must make: experiment name, parameters, seed."""

    experiment: str
    params: dict
    seed: int = 0

    def canonical(self) -> str:
        return json.dumps({"experiment": self.experiment, "params": self.params,
                           "seed": self.seed}, sort_keys=True, separators=(",", ":"))


def run_key(spec: RunSpec, backend: str, profile: str) -> str:
    """A run's key: SHA-256 of (experiment, parameters, seed, backend, profile)."""
    text = json.dumps({"spec": json.loads(spec.canonical()), "backend": backend,
                       "profile": profile}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class RunRecord:
    """A stored run as a claim sees it."""

    id: int
    key: str
    spec: RunSpec
    status: str                 # "done" or "failed"
    result: dict | None
    error: str | None
    commit: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "done"


@dataclass
class Table:
    """A table of supporting figures: a header and rows of cells, as plain text.

    Claims put tables in `Verdict.details` as `Table` objects and never write table
    syntax themselves; the report escapes every cell in one place. Cost: O(cells).

    >>> t = Table(["m", "|S_i|"])
    >>> t.add("2^12", 41)
    >>> t.rows
    [['2^12', '41']]
    >>> t.add("2^14")
    Traceback (most recent call last):
    ...
    ValueError: a row of 1 cells for a header of 2
    """

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        """Append a row (each cell converted with `str`)."""
        if len(cells) != len(self.header):
            raise ValueError(f"a row of {len(cells)} cells for a header of {len(self.header)}")
        self.rows.append([str(c) for c in cells])


@dataclass
class Verdict:
    """The outcome of a claim's evaluation.

    Attributes
    ----------
    claim_id, verdict : str
        verdict is one of `rules.VERDICTS`.
    claimed, measured : str
        The claimed figure and the measured one, side by side.
    rule : str
        The rule that produced the verdict, applied to these numbers.
    details : list of str or Table
        Paragraphs (inline Markdown: emphasis, code) and `Table` objects with the
        supporting figures, in reading order.
    figures : dict
        Named numbers (for the CSV export and the tests).
    runs : list of int
        Ids of the runs used.
    failed_runs : list of (int, str)
        Runs that failed, with their reason.
    """

    claim_id: str
    verdict: str
    claimed: str
    measured: str
    rule: str
    details: list[str | Table] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    runs: list[int] = field(default_factory=list)
    failed_runs: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Claim:
    """A checkable claim of the papers.

    Attributes
    ----------
    id, paper, statement, experiment, rule : str
    runs : callable profile -> list of RunSpec
        The runs the claim needs at each profile (the sizes it runs at).
    evaluate : callable (list of RunRecord, profile) -> Verdict
    plot : callable (list of RunRecord, matplotlib Figure, profile) -> str or None
        Draws the claim's figure and returns its caption (None: no figure).
    kind : str
        One of `KINDS`: "claim" (the papers' statement), "sanity" (a fact the
        experiments rely on) or "question" (a reviewer's question).
    source : str
        Where the statement comes from: the paper or review by citation with the verbatim
        phrase where the collected texts contain it, else `SOURCE_RECONSTRUCTED`.
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


CLAIMS: dict[str, Claim] = {}


def register_claim(claim: Claim) -> Claim:
    if claim.id in CLAIMS:
        raise ValueError(f"duplicate claim id {claim.id!r}")
    CLAIMS[claim.id] = claim
    return claim
