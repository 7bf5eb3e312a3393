"""What the multi-layer entries of [SZZ] share (cpi.multilayer, convergence.multilayer,
init.multilayer): which scale decides (`DECIDING`, the paper's fixed 1 / sqrt(m q(b)),
reconstructed; the normalised net is this project's ablation, never deciding), the note
that says so, the rule "a fitted interval lies below a reference", the guard against a
silent layer (`SILENT_MEAN`, `silent_layers`, `unless_silent`), and the deep_step_speed
runs grouped by scaling and c, and one method's fits over m.

Cost: O(records) for the grouping.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..fitting import LogLogFit, loglog_fit
from ..rules import worst
from .base import group, pow2

__all__ = ["DECIDING", "METHODS", "SCALE_WORDS", "SCALING_NOTE", "SHIFTS", "SILENT_MEAN", "MethodFits",
           "below", "method_fits", "scaling", "silent_layers", "speed_groups", "unless_silent",
           "worst_first"]

#: the scale that decides every multi-layer entry: the paper's architecture, hidden layers
#: scaled by the constant 1 / sqrt(m q(b)) (reconstructed: the abstract gives no scale)
DECIDING = "fixed"

#: a layer is silent at a width when its mean fire-set size over the inputs (deep_step_speed's
#: `layer_sizes_mean`, at the last weights of the timed steps) is below this: fewer than one
#: neuron fires per input, so a cheap step there says nothing about a subquadratic cost
SILENT_MEAN = 1.0

#: what the report says about the deep net's scale (written once)
SCALING_NOTE = ("Decided at the paper's architecture: every hidden layer scaled by the constant "
                "1 / sqrt(m q(b)), q(b) = E[max(z - b, 0)^2] (scaling=\"fixed\"; reconstructed, "
                "the abstract gives no scale). The normalised net (scaling=\"normalized\", "
                "each hidden layer divided by its norm per input) is this project's ablation, "
                "shown beside it and never deciding.")

#: how a headline names each scale
SCALE_WORDS = {"fixed": "at the paper's fixed scale (reconstructed)",
               "normalized": "the normalised net (this project's ablation)"}

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


def silent_layers(ms: Sequence[int], rows: Sequence) -> list[tuple[int, int, float]]:
    """(layer, m, mean fire-set size) of every layer whose mean is below `SILENT_MEAN`, over
    one method's rows (`DeepRow`, one per width in `ms`); layers count from 1.

    >>> class R: layer_sizes_mean = (40.0, 0.4, 0.0)
    >>> silent_layers([256], [R()])
    [(2, 256, 0.4), (3, 256, 0.0)]
    """
    return [(k, m, x) for m, row in zip(ms, rows)
            for k, x in enumerate(row.layer_sizes_mean, start=1) if x < SILENT_MEAN]


def unless_silent(verdict: str, silent: Sequence[tuple[int, int, float]]) -> tuple[str, str]:
    """A cost verdict that passes (holds, holds-with-caveat) becomes inconclusive when a
    layer is silent at a width of the fit; returns (verdict, the note naming layer and width).

    >>> unless_silent("holds", [(3, 512, 0.2)])
    ('inconclusive', 'layer 3 silent at m = 2^9 (mean fire set 0.2)')
    >>> unless_silent("fails", [(3, 512, 0.2)])[0], unless_silent("holds", [])
    ('fails', ('holds', ''))
    """
    if verdict not in ("holds", "holds-with-caveat") or not silent:
        return verdict, ""
    return "inconclusive", "; ".join(f"layer {k} silent at m = {pow2(m)} (mean fire set {x:.2g})"
                                     for k, m, x in silent)


def worst_first(per: dict) -> dict:
    """{c: (verdict, note)} reordered from the least favourable verdict to the most.

    >>> list(worst_first({0.4: ("holds", ""), 0.85: ("inconclusive", "")}))
    [0.85, 0.4]
    """
    rank = ("fails", "inconclusive", "holds-with-caveat", "holds")
    return dict(sorted(per.items(), key=lambda kv: rank.index(kv[1][0])))


def decide_per_c(per: dict) -> tuple[str, str]:
    """The multi-layer entries' decision from {c: (verdict, note)} at the deciding
    scale (`worst_first` order): the worst verdict, and each c's verdict as the reason.

    >>> decide_per_c({0.85: ("fails", "a silent layer"), 0.4: ("holds", "")})
    ('fails', 'c = 0.85: fails (a silent layer); c = 0.4: holds')
    """
    if not per:
        return "inconclusive", "the fixed scale has no c with two widths"
    return worst(x for x, _ in per.values()), "; ".join(
        f"c = {c:g}: {x}" + (f" ({note})" if note else "") for c, (x, note) in per.items())


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

