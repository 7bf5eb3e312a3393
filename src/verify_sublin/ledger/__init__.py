"""The claims ledger, the experiments behind it, verdict rules and the runner.

`CLAIMS` maps each claim id to its `Claim` (statement, experiment, rule, sizes per
profile). `plan` / `execute` / `evaluate` (from `runner`) make the runs and apply the
rules; `verify_sublin.render.report.render_report` writes the report.
"""

from ..bench.experiments import EXPERIMENTS
from ..bench.runner import evaluate, execute, plan, resolve_claims
from . import catalog, catalog_deep, catalog_practice, catalog_rq  # noqa: F401  (registers)
from .ledger import CLAIMS, KINDS, PROFILES, Claim, RunRecord, RunSpec, Table, Verdict, run_key
from .rules import VERDICTS

__all__ = ["CLAIMS", "EXPERIMENTS", "KINDS", "PROFILES", "VERDICTS", "Claim", "RunRecord",
           "RunSpec", "Table", "Verdict", "evaluate", "execute", "plan", "resolve_claims",
           "run_key"]
