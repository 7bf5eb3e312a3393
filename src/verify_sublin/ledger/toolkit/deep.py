"""What the multi-layer entries of [SZZ] share (cpi.multilayer, convergence.multilayer,
init.multilayer): the note on the deep net's scale, the rule "a fitted interval lies
below a reference", and the deep_step_speed runs grouped by scaling and c, and one method's fits over m.

Cost: O(records) for the grouping.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..fitting import LogLogFit, loglog_fit
from .base import group

__all__ = ["METHODS", "SCALING_NOTE", "SHIFTS", "MethodFits", "below", "method_fits", "scaling",
           "speed_groups"]

#: what the report says about the deep net's scale (written once)
SCALING_NOTE = ("The deep net normalises each hidden layer per input (scaling=\"normalized\"), "
                "which departs from the paper's fixed scale 1 / sqrt(m q(b)); the fixed scale is "
                "run beside it where it applies.")

#: the shifts c the deep entries run: one inside the convergence theorem (c < 1/2), one far
#: outside it
SHIFTS = (0.4, 0.85)

#: the two methods of deep_step_speed: the dense reference and the sublinear method
METHODS = ("deep_dense", "deep_sublinear")


def below(fit: LogLogFit, reference: float) -> str:
    """holds if the whole 95% interval lies below `reference`, fails if it lies at or
    above it, inconclusive if it straddles it.

    >>> [below(LogLogFit(e, 1, e - 0.1, e + 0.1, 4, 4), 2.0) for e in (1.5, 2.0, 2.2)]
    ['holds', 'inconclusive', 'fails']
    """
    if fit.high < reference:
        return "holds"
    return "fails" if fit.low >= reference else "inconclusive"


def scaling(params: dict) -> str:
    """A deep run's scaling: "normalized" unless its parameters name another.

    >>> scaling({"m": 512}), scaling({"m": 512, "scaling": "fixed"})
    ('normalized', 'fixed')
    """
    return params.get("scaling", "normalized")


def speed_groups(records: Iterable) -> dict[tuple[str, float], list]:
    """The deep_step_speed records by (scaling, c), keys sorted, each group sorted by m."""
    speed = [r for r in records if r.spec.experiment == "deep_step_speed"]
    groups = group(speed, lambda r: (scaling(r.params), r.params["c"]))
    return {k: sorted(groups[k], key=lambda r: r.params["m"]) for k in sorted(groups)}


@dataclass(frozen=True)
class MethodFits:
    """One method's fits against m over the deep_step_speed runs of one (scaling, c)."""

    ops: LogLogFit      #: counted operations per step
    time: LogLogFit     #: seconds per step (every timed step a point)
    claimed: LogLogFit  #: the claimed cost terms
    init: LogLogFit     #: the construction's counted operations (at least 1)


def method_fits(ms: Sequence[int], rows: Sequence) -> MethodFits:
    """The fits of one method's rows (`DeepRow`, one per width in `ms`)."""
    tx = [m for x, m in zip(rows, ms) for _ in x.times]
    return MethodFits(loglog_fit(ms, [x.total_ops for x in rows]),
                      loglog_fit(tx, [t for x in rows for t in x.times]),
                      loglog_fit(ms, [x.claimed_cost for x in rows]),
                      loglog_fit(ms, [max(1, x.init_ops) for x in rows]))
