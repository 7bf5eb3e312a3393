"""convergence.multilayer: deep Gauss-Newton contracts the residual by 2x per step (the
rule of convergence.rate, for each scaling of the L-layer net)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...bench.spec import RunSpec
from ..toolkit import (
    C_THEOREM_MAX,
    CITE,
    CONTRACTION_MAX,
    SOURCE_RECONSTRUCTED,
    WIDTH_VS_SHIFT,
    Entry,
    Shown,
    Sizes,
    Table,
    contraction_verdict,
    pow2,
)
from ..toolkit.deep import DECIDING, SCALING_NOTE, SHIFTS

#: depth of the net, steps allowed and the residual (relative to the initial one) to reach
DEPTH, STEPS, TOL = 3, 20, 1e-10
#: the scalings run: per-input normalised layers, and the paper's fixed 1 / sqrt(m q(b))
SCALINGS = ("normalized", "fixed")

# Budget: quick about 20 s, full about 4 minutes on one core.
SIZES = Sizes(
    #   tiny          quick                 full
    m=([2**7, 2**8], [2**8, 2**9, 2**10], [2**9, 2**10, 2**11, 2**12]),
    n=(8, 16, 32),
    d=(8, 16, 32),
    seeds=([0], [0, 1], [0, 1, 2]),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("deep_training", {"m": m, "n": s.n, "d": s.d, "depth": DEPTH, "c": c,
                                      "scaling": sc, "steps": STEPS, "tol": TOL}, seed=seed)
            for sc in SCALINGS for c in SHIFTS for m in s.m for seed in s.seeds]


@dataclass(frozen=True)
class Run:
    worst: float            #: the largest per-step contraction (inf without a step)
    error: str | None       #: the numerical error that stopped it
    steps: int
    median: float | None    #: the median per-step contraction (None without a step)
    reached: bool           #: the residual reached TOL of the initial one


@dataclass(frozen=True)
class Values:
    runs: dict              #: (scaling, c, m) -> [Run], in the order of the runs
    mmax: int               #: the largest m finished
    failed: bool            #: some run failed


def values(results) -> Values:
    per = {}
    for r in results:
        p, res = r.params, r.result
        run = Run(max(res.contraction) if res.contraction else float("inf"), res.error,
                  len(res.contraction),
                  float(np.median(res.contraction)) if res.contraction else None,
                  bool(res.residual) and res.residual[-1] <= TOL * res.residual0)
        per.setdefault((p["scaling"], p["c"], p["m"]), []).append(run)
    return Values(per, max(r.params["m"] for r in results), bool(results.failed))


def scale_verdict(v: Values, sc: str) -> tuple[str, str]:
    """The rule of convergence.rate over one scale's runs: decided over c < C_THEOREM_MAX,
    holds-with-caveat when only the runs at c >= C_THEOREM_MAX contract less."""
    side = {inside: [(m, x.worst, x.error) for (s2, c, m), rows in v.runs.items()
                     if s2 == sc and (c < C_THEOREM_MAX) == inside for x in rows]
            for inside in (True, False)}
    v_in, why_in = contraction_verdict(side[True], v.mmax)
    v_out, why_out = contraction_verdict(side[False], v.mmax)
    return ("holds-with-caveat" if v_in == "holds" and v_out != "holds" else v_in,
            f"c < {C_THEOREM_MAX:g} {v_in} ({why_in}); c >= {C_THEOREM_MAX:g} {v_out} ({why_out})")


def decide(v: Values) -> tuple[str, str]:
    if not any(k[0] == DECIDING for k in v.runs):
        return "inconclusive", "no run at the fixed scale"
    verdict, why = scale_verdict(v, DECIDING)
    if v.failed and verdict == "holds":
        verdict = "holds-with-caveat"
    return verdict, why


def show(v: Values, verdict: str, reason: str) -> Shown:
    table = Table(["scaling", "c", "m", "runs", "worst contraction", "median contraction",
                   "steps (reached 1e-10)"])
    for (sc, c, m), rows in sorted(v.runs.items()):
        med = [x.median for x in rows if x.median is not None]
        table.add(sc, f"{c:g}", pow2(m), len(rows), f"{max(x.worst for x in rows):.3g}",
                  f"{max(med, default=float('nan')):.3g}",
                  f"{max(x.steps for x in rows)} ({sum(x.reached for x in rows)}/{len(rows)})")
    rule = (f"Deep Gauss-Newton (deep_dense, exact, damping 1e-10) until {TOL:g} of the initial "
            f"residual or {STEPS} steps, with the rule of convergence.rate for each scaling: "
            f"decided over c < {C_THEOREM_MAX:g}, holds if every step of every run has ratio <= "
            f"{CONTRACTION_MAX:g}, holds-with-caveat if that is true at the largest m only (or "
            f"only c >= {C_THEOREM_MAX:g} runs contract less), fails if some run at the largest m "
            "contracts less; decided at the fixed scale only. " + SCALING_NOTE)
    figures = {f"worst_{sc}_c{c:g}": max(x.worst for (s2, c2, _), rows in v.runs.items()
                                         if s2 == sc and c2 == c for x in rows)
               for sc, c, _ in v.runs}
    measured = f"{DECIDING}: {reason}; " + "; ".join(
        f"{sc} (ablation): {' '.join(scale_verdict(v, sc))}" for sc in SCALINGS
        if sc != DECIDING and any(k[0] == sc for k in v.runs))
    return Shown("||f_{t+1} - y|| <= ||f_t - y|| / 2 each step (deep Gauss-Newton)", measured, rule,
                 [table, SCALING_NOTE, WIDTH_VS_SHIFT], figures)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['SZZ']}, abstract: \"training a multi-layer over-parametrized neural "
          "network to minimize the empirical risk induced by a loss function\"; the "
          f"per-step contraction is {SOURCE_RECONSTRUCTED}")

ENTRY = Entry(
    id="convergence.multilayer", kind="claim", paper="SZZ",
    statement="Gauss-Newton training of the L-layer network contracts the residual by a "
              "constant factor per step (the rule of convergence.rate: 2x).",
    source=SOURCE,
    experiment="Exact deep Gauss-Newton (deep_dense) on sphere teacher data, depth 3, both "
               "scalings, c = 0.4 and 0.85, several m and seeds.",
    rule=f"Every step contracts to <= {CONTRACTION_MAX:g} at the largest m, decided over "
         f"c < {C_THEOREM_MAX:g}, at the paper's fixed scale (reconstructed).",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["DEPTH", "ENTRY", "SCALINGS", "SIZES", "STEPS", "TOL"]
