"""init.multilayer: the multi-layer method pays m^2 only at initialisation (the exponents of
deep_sublinear's construction and of its step, over the runs of cpi.multilayer)."""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..toolkit import CITE, Entry, Shown, Table, deep, pow2
from ..toolkit import deep_cost as dc
from ..toolkit.deep import DECIDING, SCALING_NOTE, SILENT_MEAN
from ..toolkit.spread import bootstrap_note
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
    fits: dict          #: (scaling, c) -> (construction fit, step fit, construction / step
    #:                     ops at the largest m, [(layer, m, mean fire set)] of silent layers)
    rows: list          #: WidthRow per (scaling, c, m), the deciding scale first


def values(results) -> Values:
    fits, groups = {}, deep.speed_groups(results)
    for key, recs in groups.items():
        ms, sub = [r.params["m"] for r in recs], [r.result.rows["deep_sublinear"] for r in recs]
        if len(set(ms)) >= 2:
            f = deep.method_fits(ms, sub)
            fits[key] = (f.init, f.ops, sub[-1].init_ops / sub[-1].total_ops,
                         deep.silent_layers(ms, sub))
    return Values(fits, dc.width_rows(groups))


def scale_verdicts(v: Values, sc: str) -> dict:
    """c -> (verdict, note) at one scale, worst first."""
    return deep.worst_first({c: deep.unless_silent(init_verdict(init.exponent, step, ratio), silent)
                             for (s2, c), (init, step, ratio, silent) in v.fits.items() if s2 == sc})


def decide(v: Values) -> tuple[str, str]:
    return deep.decide_per_c(scale_verdicts(v, DECIDING))


def _headline(v: Values) -> str:
    """The deciding scale's worst c first, in words; then its other c; then the ablation."""
    mmax, parts = pow2(max(x.m for x in v.rows)), []
    for c, (_, note) in scale_verdicts(v, DECIDING).items():
        init, step, ratio, _ = v.fits[DECIDING, c]
        rel = {"holds": "below", "fails": "not below"}.get(deep.below(step, init.exponent), "straddling")
        parts.append(f"{dc.fit_words(step)} at c = {c:g}, {rel} the construction's "
                     f"m^{init.exponent:.2f}, which costs {ratio:.3g}x a step at m = {mmax}"
                     + (f" ({note})" if note else ""))
    other = [f"step m^{step.exponent:.2f} against construction m^{init.exponent:.2f} ({ratio:.3g}x) "
             f"at c = {c:g}" for (sc, c), (init, step, ratio, _) in v.fits.items() if sc != DECIDING]
    return (f"{deep.SCALE_WORDS[DECIDING].capitalize()} a step's counted work grows as "
            + "; and as ".join(parts) if parts else "no c with two widths at the fixed scale") + (
            f"; {deep.SCALE_WORDS['normalized']}: " + ", ".join(other) if other else "")


def show(v: Values, verdict: str, reason: str) -> Shown:
    table = Table(["scale", "c", "construction ops exponent", "per-step ops exponent "
                   "(deep_sublinear)", "construction / step ops at the largest m", "verdict at this c",
                   "mean fire-set size per layer at the largest m"])
    figures = {}
    for sc in sorted({k[0] for k in v.fits}, key=lambda sc: sc != DECIDING):
        for c, (x, _) in scale_verdicts(v, sc).items():
            init, step, ratio, _ = v.fits[sc, c]
            tag = "_fixed" if sc == "fixed" else ""
            figures[f"init_exp_c{c:g}{tag}"] = init.exponent
            figures[f"step_exp_c{c:g}{tag}"] = step.exponent
            figures[f"init_over_step_c{c:g}{tag}"] = ratio
            last = [r for r in v.rows if (r.scale, r.c) == (sc, c)][-1]
            table.add(sc, f"{c:g}", init, step, f"{ratio:.3g}",
                      x + ("" if sc == DECIDING else " (ablation)"), dc.sizes_cell(last.sizes))
    rule = ("for each c, fit the counted operations of deep_sublinear's construction and of "
            "its step against m (95% bootstrap intervals): holds if the step's interval lies "
            "below the construction's fitted exponent and the construction costs more counted "
            "operations than a step at the largest m; fails if the step's interval lies at or "
            "above the construction's exponent, or a step costs at least the construction at "
            "the largest m; inconclusive otherwise, and inconclusive instead of holds when a "
            f"layer is silent (mean fire-set size below {SILENT_MEAN:g}) at a width of the fit. "
            "The worst c decides, at the fixed scale only. " + SCALING_NOTE + f" Here: {reason}.")
    return Shown("m^2 cost only in the initialisation phase, less per iteration", _headline(v), rule,
                 [table, bootstrap_note, dc.width_table(v.rows, times=False), dc.layer_note(v.rows),
                  dc.CONSTRUCTION_NOTE], figures)


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
               "(the deep_step_speed runs of cpi.multilayer), at the paper's fixed scale "
               "(reconstructed; decides) and the normalised net (this project's ablation; full "
               "only). Budget: no runs of its own (cpi.multilayer's speed runs: quick ~27 s, full 303 s).",
    rule="At the paper's fixed scale (reconstructed), the step's exponent interval below the "
         "construction's exponent and the construction dearer than a step at the largest m.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "SIZES", "init_verdict"]
