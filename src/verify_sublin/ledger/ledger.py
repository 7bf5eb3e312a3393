"""The claims ledger: one `Claim` per checkable statement of the papers.

A claim has an id, the paper, the statement in our own words with its formula, the
experiment that tests it, its verdict rule (in words here, in code in `evaluate`),
and the runs it needs per profile. `evaluate` turns the stored results of those runs
into a `Verdict`, always with the measured figure next to the claimed one.
"""

from __future__ import annotations

from ..bench.spec import RunRecord, RunSpec, run_key
from .entry import KINDS, PROFILES, SOURCE_RECONSTRUCTED, Table, Verdict
from .legacy import Claim

__all__ = ["CLAIMS", "KINDS", "PROFILES", "PROFILE_CLAIMS", "SOURCE_RECONSTRUCTED", "Claim", "RunRecord",
           "RunSpec", "Table", "Verdict", "register_claim", "run_key"]

#: The claims a profile runs when none are named (every claim if absent).
PROFILE_CLAIMS = {"large": ("sparsity.init", "union.size", "cpi.sublinear_gn",
                            "cost.end_to_end")}


CLAIMS: dict[str, Claim] = {}


def register_claim(claim: Claim) -> Claim:
    if claim.id in CLAIMS:
        raise ValueError(f"duplicate claim id {claim.id!r}")
    CLAIMS[claim.id] = claim
    return claim
