"""init.multilayer: the multi-layer method pays m^2 only at initialisation (the exponents of
deep_sublinear's construction and of its step, over the runs of cpi.multilayer)."""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..toolkit import CITE, Entry, Shown, Table, worst
from ..toolkit.deep import (
    DECIDING,
    SCALING_NOTE,
    SILENT_MEAN,
    method_fits,
    silent_layers,
    speed_groups,
    unless_silent,
)
from .cpi_multilayer import SIZES
from .cpi_multilayer import runs as cpi_runs


def runs(s) -> list[RunSpec]:
    """The deep_step_speed runs of cpi.multilayer, both scales (their construction counts)."""
    return [x for x in cpi_runs(s) if x.experiment == "deep_step_speed"]


def init_verdict(init: float, step, ratio: float) -> str:
    """The rule at one c: `init` the construction's fitted counted-operation exponent,
    `step` the step's fit (with its 95% interval), `ratio` construction / step counted
    operations at the largest m. holds if the step's interval lies below `init` and the
    construction costs more than a step; fails if the interval lies at or above `init`,
    or a step costs at least the construction; inconclusive otherwise (the interval
    straddles `init`).

    >>> from ..toolkit import LogLogFit
    >>> fit = lambda lo, hi: LogLogFit((lo + hi) / 2, 1.0, lo, hi, 5, 5)
    >>> [init_verdict(1.84, fit(*x), r) for x, r in [((1.57, 1.81), 2.0), ((1.2, 2.0), 3.3),
    ...                                              ((1.96, 1.97), 0.6), ((1.2, 1.5), 1.0)]]
    ['holds', 'inconclusive', 'fails', 'fails']
    """
    if step.low >= init or ratio <= 1:
        return "fails"
    return "holds" if step.high < init else "inconclusive"


@dataclass(frozen=True)
class Values:
    widths: int         #: distinct m finished
    fits: dict          #: (scaling, c) -> (construction fit, step fit, construction / step
    #:                     ops at the largest m, [(layer, m, mean fire set)] of silent layers)


def values(results) -> Values:
    fits = {}
    for key, rows in speed_groups(results).items():
        ms = [r.params["m"] for r in rows]
        if len(set(ms)) >= 2:
            sub = [r.result.rows["deep_sublinear"] for r in rows]
            f = method_fits(ms, sub)
            fits[key] = (f.init, f.ops, sub[-1].init_ops / sub[-1].total_ops, silent_layers(ms, sub))
    return Values(len({r.params["m"] for r in results}), fits)


def decide(v: Values) -> tuple[str, str]:
    per = {c: unless_silent(init_verdict(init.exponent, step, ratio), silent)
           for (sc, c), (init, step, ratio, silent) in v.fits.items() if sc == DECIDING}
    if not per:
        return "inconclusive", "the fixed scale has no c with two widths"
    return worst(x for x, _ in per.values()), "; ".join(
        f"c = {c:g}: {x}" + (f" ({note})" if note else "") for c, (x, note) in per.items())


def show(v: Values, verdict: str, reason: str) -> Shown:
    claimed = "m^2 cost only in the initialisation phase, less per iteration"
    if v.widths < 2:     # as today: read as no finished run
        return Shown(claimed, "no finished run", "No run finished, so nothing can be decided.")
    table = Table(["c", "construction ops exponent", "per-step ops exponent (deep_sublinear)",
                   "construction / step ops at the largest m"])
    figures = {}
    for (sc, c), (init, step, ratio, _) in v.fits.items():
        tag = "" if sc == DECIDING else "_normalized"
        figures[f"init_exp_c{c:g}{tag}"] = init.exponent
        figures[f"step_exp_c{c:g}{tag}"] = step.exponent
        table.add(f"{c:g} ({sc})", init, step, f"{ratio:.3g}")
    rule = ("for each c, fit the counted operations of deep_sublinear's construction and of "
            "its step against m (95% bootstrap intervals): holds if the step's interval lies "
            "below the construction's fitted exponent and the construction costs more counted "
            "operations than a step at the largest m; fails if the step's interval lies at or "
            "above the construction's exponent, or a step costs at least the construction at "
            "the largest m; inconclusive otherwise, and inconclusive instead of holds when a "
            f"layer is silent (mean fire-set size below {SILENT_MEAN:g}) at a width of the fit. "
            "The worst c decides, at the fixed scale only. " + SCALING_NOTE + f" Here: {reason}.")
    return Shown(claimed, ", ".join(f"{k}={x:.2f}" for k, x in figures.items()), rule, [table],
                 figures)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['SZZ']}, abstract: \"Naively, one has to pay O(m²) time to read the "
          "weight matrix and evaluate the neural network function in both forward and "
          "backward computation\"; the framework \"uses m² cost only in the initialization "
          "phase and achieves a truly subquadratic cost per iteration\"")

ENTRY = Entry(
    id="init.multilayer", kind="claim", paper="SZZ",
    statement="The multi-layer method pays m^2 only at initialisation; each iteration costs "
              "less (m^(2 - Omega(1))).",
    source=SOURCE,
    experiment="Counted operations of deep_sublinear's construction and of its steps over m "
               "(the runs of cpi.multilayer).",
    rule="At the paper's fixed scale (reconstructed), the step's exponent interval below the "
         "construction's exponent and the construction dearer than a step at the largest m.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "SIZES", "init_verdict"]
