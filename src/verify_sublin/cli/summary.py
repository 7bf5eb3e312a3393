"""What several subcommands print: the verdict summary, malformed runs, the memory limit."""

from __future__ import annotations

import sys

__all__ = ["apply_memory_limit", "summarise", "warn_malformed"]


def warn_malformed(malformed: dict) -> None:
    """One line per stored run skipped because its JSON did not decode."""
    for run_id, column in sorted(malformed.items()):
        print(f"verify-sublin: warning: run {run_id} skipped: malformed JSON in column "
              f"{column}", file=sys.stderr)


def summarise(current: dict, previous: dict | None, fail_on: set[str],
              only: set[str] | None = None) -> int:
    """Print the verdict summary; 1 if any verdict is in `fail_on`, else 0. `only`: the
    entries asked for (`run --claims`): a subset run merged into a fuller report is
    gated on its own entries, not on the others the report still shows."""
    from ..render.compare import summary_lines

    for line in summary_lines(current, previous):
        print(line)
    hit = [e["claim"] for e in current["verdicts"] if e["verdict"] in fail_on
           and (only is None or e["claim"] in only)]
    if hit:
        print(f"--fail-on {','.join(sorted(fail_on))}: {len(hit)} entries: {', '.join(hit)}",
              file=sys.stderr)
        return 1
    return 0


def apply_memory_limit(limit) -> None:
    """--memory-limit, else check VERIFY_SUBLIN_MEMORY_LIMIT now: a bad value is a
    configuration error before anything runs, not a failure of every run."""
    from ..core.memory import memory_limit, set_memory_limit
    if limit is not None:
        set_memory_limit(limit)
    memory_limit()
