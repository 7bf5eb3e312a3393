"""init.multilayer: the multi-layer method pays m^2 only at initialisation (the exponents of
deep_sublinear's construction and of its step, over the runs of cpi.multilayer)."""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..toolkit import CITE, Entry, Shown, Table, worst
from ..toolkit.deep import method_fits, speed_groups
from .cpi_multilayer import SIZES
from .cpi_multilayer import runs as cpi_runs

#: the construction's counted-operation exponent must be within this of 2
INIT_EXPONENT_TOL = 0.15


def runs(s) -> list[RunSpec]:
    """The deep_step_speed runs of cpi.multilayer at the normalised scale (their
    construction counts)."""
    return [x for x in cpi_runs(s) if x.experiment == "deep_step_speed" and "scaling" not in x.params]


@dataclass(frozen=True)
class Values:
    widths: int         #: distinct m finished
    fits: dict          #: c -> (construction fit, step fit, construction / step ops at the largest m)


def values(results) -> Values:
    fits = {}
    for (_, c), rows in speed_groups(results).items():
        ms = [r.params["m"] for r in rows]
        if len(set(ms)) >= 2:
            sub = [r.result.rows["deep_sublinear"] for r in rows]
            f = method_fits(ms, sub)
            fits[c] = (f.init, f.ops, sub[-1].init_ops / sub[-1].total_ops)
    return Values(len({r.params["m"] for r in results}), fits)


def decide(v: Values) -> tuple[str, str]:
    verdicts = []
    for init, step, _ in v.fits.values():
        ok_init = abs(init.exponent - 2) <= INIT_EXPONENT_TOL
        verdicts.append("holds" if ok_init and step.high < init.exponent else
                        "fails" if not ok_init or step.low >= init.exponent else "inconclusive")
    return (worst(verdicts) if verdicts and v.widths >= 2 else "inconclusive"), ""


def show(v: Values, verdict: str, reason: str) -> Shown:
    claimed = "m^2 cost only in the initialisation phase, less per iteration"
    if v.widths < 2:     # as today: read as no finished run
        return Shown(claimed, "no finished run", "No run finished, so nothing can be decided.")
    table = Table(["c", "construction ops exponent", "per-step ops exponent (deep_sublinear)",
                   "construction / step ops at the largest m"])
    figures = {}
    for c, (init, step, ratio) in v.fits.items():
        figures[f"init_exp_c{c:g}"] = init.exponent
        figures[f"step_exp_c{c:g}"] = step.exponent
        table.add(f"{c:g}", init, step, f"{ratio:.3g}")
    rule = (f"for each c, fit the counted operations of deep_sublinear's construction and of "
            f"its step against m: holds if the construction's exponent is within "
            f"{INIT_EXPONENT_TOL:g} of 2 and the step's 95% interval lies below the "
            "construction's exponent; fails if the construction's exponent is off 2 by more, "
            "or the step's interval lies at or above it; inconclusive otherwise.")
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
    rule=f"Construction exponent within {INIT_EXPONENT_TOL:g} of 2; the step's interval below it.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "INIT_EXPONENT_TOL", "SIZES"]
