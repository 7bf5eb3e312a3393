"""Deprecated: `Claim`, `register_claim` and the run types at their old place."""

from ..bench.spec import RunRecord, RunSpec, run_key
from ..ledger.legacy import Claim
from ..ledger.registry import register_claim
from ..ledger.verdict import Table, Verdict

__all__ = ["Claim", "RunRecord", "RunSpec", "Table", "Verdict", "register_claim", "run_key"]
