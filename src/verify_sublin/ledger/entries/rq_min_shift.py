"""rq.min_shift: how small may the shift b be? The premise checked: the analysis' b =
sqrt(0.48 ln m) is needed, and smaller shifts lose the 2x contraction."""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..entry import SOURCE_RECONSTRUCTED
from ..toolkit import (
    CITE,
    CONTRACTION_MAX,
    SAME,
    Entry,
    Panel,
    Plot,
    Series,
    Shown,
    Sizes,
    Table,
    answer_words,
    color,
    pow2,
    premise_answer,
)

#: the shift constant of the paper's analysis, b = sqrt(PAPER_C ln m)
PAPER_C = 0.48

#: the review's words, and the answers when the premise holds, partly holds, or fails
QUOTE = ("\"Could the authors specify what is the minimum shift b that they need for their "
         "main result to hold?\"")
YES = (f"A shift near sqrt({PAPER_C:g} ln m) is needed here: smaller shifts lost the 2x "
       "contraction")
PARTLY = "Partly: some smaller shifts kept the 2x contraction"
NO = (f"No shift is needed for convergence at these widths: every c < {PAPER_C:g} (down to "
      "plain ReLU) still contracted 2x per step; the shift buys sparsity, not convergence")

SIZES = Sizes(
    #   tiny        quick                                       full
    m=([2**9], [2**12, 2**14], [2**14, 2**16, 2**18]),
    c=([0.0, 0.4], [0.0, 0.1, 0.2, 0.3, 0.4, 0.48, 0.6], SAME),
    n=(8, 32, 64),
    d=(4, 16, 32),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("shift_sweep", {"dataset": "sphere-teacher", "n": s.n, "d": s.d, "m": m,
                                    "c": c, "steps": 30, "tol": 1e-10}, seed=9)
            for m in s.m for c in s.c]


@dataclass(frozen=True)
class Values:
    mmax: int           #: the largest m run
    rows: list          #: (m, c, ShiftSweep result) per run, sorted by (m, c)
    below_ok: list      #: at the largest m, per c < PAPER_C: contracted 2x to 1e-10?


def values(results) -> Values:
    mmax = max(r.params["m"] for r in results)
    rows = sorted(((r.params["m"], r.params["c"], r.result) for r in results),
                  key=lambda x: x[:2])
    below_ok = [res.reached and res.worst_contraction <= CONTRACTION_MAX
                for m, c, res in rows if m == mmax and c < PAPER_C]
    return Values(mmax, rows, below_ok)


def _premise(v: Values) -> tuple[str, str, str]:
    """The premise's outcome, and its measured sentence and rule before the answer."""
    if v.below_ok and all(v.below_ok):
        outcome = "fails"
    elif v.below_ok:
        outcome = "holds"
    else:
        outcome = "inconclusive"
    measured = (f"at m = {pow2(v.mmax)}, {sum(v.below_ok)}/{len(v.below_ok)} shifts with "
                f"c < {PAPER_C:g} still contract to <= {CONTRACTION_MAX:g} per step to 1e-10")
    rule = (f"fails if every c < {PAPER_C:g} in the sweep (down to c = 0, plain ReLU) has "
            f"every step's ratio <= {CONTRACTION_MAX:g} at the largest m; holds if some "
            f"c < {PAPER_C:g} does not; inconclusive without such runs. The shift buys "
            "sparsity (and speed), not convergence.")
    return outcome, measured, rule


def decide(v: Values) -> tuple[str, str]:
    outcome, measured, rule = _premise(v)
    return premise_answer(outcome, YES, PARTLY, NO, measured, rule)[0], outcome


def show(v: Values, verdict: str, reason: str) -> Shown:
    outcome, measured, rule = _premise(v)
    _, measured, rule = premise_answer(outcome, YES, PARTLY, NO, measured, rule)
    table = Table(["m", "c", "b", "mean |S_i| / m", "lambda_min(G_0)", "iterations to 1e-10",
                   "worst contraction"])
    for m, c, res in v.rows:
        table.add(pow2(m), c, f"{res.b:.3f}", f"{res.fire_fraction:.4f}", f"{res.lambda_G0:.3e}",
                  res.iterations, f"{res.worst_contraction:.3g}")
    panels = [[], [], []]
    for k, m in enumerate(sorted({m for m, _, _ in v.rows})):
        rows = [(c, res) for mm, c, res in v.rows if mm == m]
        cs = [c for c, _ in rows]
        panels[0].append(Series(cs, [r.fire_fraction for _, r in rows], f"m={pow2(m)}", "o-",
                                color(k)))
        panels[1].append(Series(cs, [max(r.lambda_G0, 1e-300) for _, r in rows], None, "o-",
                                color(k)))
        panels[2].append(Series(cs, [r.iterations for _, r in rows], None, "o-", color(k)))
    plot = Plot([Panel(series, "c (b = sqrt(c ln m))", label, yscale=scale)
                 for series, label, scale in zip(
                     panels, ["mean |S_i| / m", "lambda_min(G_0)", "GN iterations to 1e-10"],
                     ["log", "log", "linear"])],
                "Sparsity, conditioning and Gauss-Newton iterations against the shift constant c.")
    return Shown(f"b = sqrt({PAPER_C:g} ln m) is needed; smaller shifts lose the 2x contraction",
                 measured, rule, [table],
                 {"below_048_ok": sum(v.below_ok), "below_048_runs": len(v.below_ok)}, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"Could the authors specify what is the minimum shift b that "
          "they need for their main result to hold? In Corollary A.22 in the appendix I "
          "see [formula omitted in the source], where m is the number of parameters in "
          "the network, is that the correct value?\"; the analysis' b = sqrt(0.48 ln m) is"
          f" {SOURCE_RECONSTRUCTED}")

ENTRY = Entry(
    id="rq.min_shift", kind="question", paper="RQ",
    statement="How small may b be? Premise checked: the analysis' b = sqrt(0.48 ln m) is "
              "needed, and smaller shifts lose the 2x contraction.",
    source=SOURCE,
    experiment="Sweep c in 0..0.6 and m: fire-set fraction, lambda_min(G_0), Gauss-Newton "
               "iterations to 1e-10 and the worst per-step contraction.",
    rule=answer_words(f"fails if every c < {PAPER_C:g} still contracts 2x at the largest m."),
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "NO", "PAPER_C", "PARTLY", "QUOTE", "SIZES", "YES"]
