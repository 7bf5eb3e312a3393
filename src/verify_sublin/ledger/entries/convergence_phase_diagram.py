"""convergence.phase_diagram: where in (m, c) Gauss-Newton converges by 2x per step, and
where it is also sparse (one heat map per data set)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...bench.spec import RunSpec
from ..papers import CITE
from ..plot import Contour, Heatmap
from ..toolkit import Entry, Panel, Plot, Shown, Sizes, Table, group, pow2

#: seeds per cell (full profile), relative residual to reach, steps allowed, and the fire
#: fraction at or below which a cell counts as sparse
PHASE_SEEDS, PHASE_TOL, PHASE_STEPS, PHASE_SPARSE = 8, 1e-10, 30, 0.1

# Budget: full about 200 s (one cell at m = 2^16, c = 0 takes about 15 s), quick about 2 s.
SIZES = Sizes(
    #   tiny          quick                 full (2^18 left out for the budget)
    m=([2**6, 2**8], [2**8, 2**10, 2**12], [2**k for k in range(8, 17, 2)]),
    c=([0.0, 0.8], [0.0, 0.3, 0.6, 0.9], [round(0.1 * k, 1) for k in range(10)]),
    #: (data set, n, d)
    sets=([("sphere-random", 8, 4)], [("sphere-random", 16, 8)],
          [("sphere-random", 32, 16), ("diabetes", 32, 10)]),
    seeds=(2, 3, PHASE_SEEDS),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("phase_cell", {"dataset": ds, "n": n, "d": d, "m": m, "c": c, "seeds": s.seeds,
                                   "steps": PHASE_STEPS, "tol": PHASE_TOL}, seed=24)
            for ds, n, d in s.sets for m in s.m for c in s.c]


@dataclass(frozen=True)
class Values:
    #: data set -> {(m, c): (share of seeds converging, median steps of those, fire fraction)}
    cells: dict


def _cell(res) -> tuple[float, float, float]:
    done = [k for k, ok in zip(res.steps, res.success) if ok]
    return (float(np.mean(res.success)), float(np.median(done)) if done else math.nan,
            res.fire_fraction)


def values(results) -> Values:
    by = group(results, lambda r: r.params["dataset"])
    return Values({ds: {(r.params["m"], r.params["c"]): _cell(r.result) for r in rs}
                   for ds, rs in by.items()})


def decide(v: Values) -> tuple[str, str]:
    return "answer", ""


def _panel(ds: str, cell: dict) -> Panel:
    ms, cs = sorted({m for m, _ in cell}), sorted({c for _, c in cell})
    contours = ()
    if len(ms) >= 2 and len(cs) >= 2:
        fire = [[cell.get((m, c), (0, 0, np.nan))[2] for c in cs] for m in ms]
        lam = np.log10([[m ** (-c / 2) for c in cs] for m in ms]).tolist()
        # the level lines of lambda get matplotlib's default style: dashed (negative levels)
        contours = (Contour(fire, [PHASE_SPARSE], colors="w", style="--"),
                    Contour(lam, [-3, -2, -1], colors="r", style="--", linewidth=0.8,
                            label_format="m^(-c/2) = 1e{:.0f}"))
    share = [[cell.get((m, c), (np.nan,))[0] for c in cs] for m in ms]
    return Panel(xlabel="c (b = sqrt(c ln m); lambda scale e^(-b^2/2) = m^(-c/2))", ylabel="m",
                 title=ds, heatmap=Heatmap(share, [f"{c:g}" for c in cs], [pow2(m) for m in ms],
                                           colorbar="share of seeds with 2x contraction",
                                           contours=contours))


def show(v: Values, verdict: str, reason: str) -> Shown:
    details, answer, figures = [], [], {}
    for ds, cell in sorted(v.cells.items()):
        ms, cs = sorted({m for m, _ in cell}), sorted({c for _, c in cell})
        table = Table(["m \\ c"] + [f"{c:g}" for c in cs])
        details += [f"{ds}: share of seeds converging (median steps, fire fraction):", table]
        good = []
        for m in ms:
            row = [cell.get((m, c), (math.nan, math.nan, math.nan)) for c in cs]
            table.add(pow2(m), *(f"{s:.2f} ({k:g}, {f:.3f})" for s, k, f in row))
            good += [(m, c) for c, (s, _, f) in zip(cs, row) if s == 1.0 and f <= PHASE_SPARSE]
        by_m = group(good, lambda x: x[0])
        text = ", ".join(f"m={pow2(m)}: c in {min(x[1] for x in xs):g}..{max(x[1] for x in xs):g}"
                         for m, xs in sorted(by_m.items()))
        answer.append(f"{ds}: {text or 'no cell'}")
        figures[ds] = [list(x) for x in good]
    rule = (f"answer: per (m, c) cell, the share of seeds in which Gauss-Newton (mu = 0) "
            f"contracts by 2x at every step to {PHASE_TOL:g} and the median steps; the region "
            f"where the sublinear method both converges (every seed) and is sparse (mean fire "
            f"fraction at most {PHASE_SPARSE:g}) is named by its cells.")
    plot = Plot([_panel(ds, cell) for ds, cell in sorted(v.cells.items())],
                f"Share of seeds converging by 2x per step; white dashed: mean fire fraction "
                f"{PHASE_SPARSE:g} (sparse to its right); red: level curves of the lambda scale "
                "e^(-b^2/2) = m^(-c/2).")
    return Shown("the main result needs b = sqrt(c ln m) with c large enough (reviewer: minimum b?)",
                 "converging in every seed and sparse: " + "; ".join(answer), rule, details,
                 {"converging_sparse_cells": figures}, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"Could the authors specify what is the minimum shift b that "
          "they need for their main result to hold?\"; \"The shifted parameter should be "
          "appropriately chosen (typically, [formula omitted in the source]) to ensure "
          "sparsity in the activations, and this plays a key role in the analysis\"")

ENTRY = Entry(
    id="convergence.phase_diagram", kind="question", paper="RQ",
    statement="Where in (m, c) does Gauss-Newton converge by 2x per step, and where is it also "
              "sparse?",
    source=SOURCE,
    experiment=f"Per cell (m, c), {PHASE_SEEDS} seeds of Gauss-Newton (mu = 0) to "
               f"{PHASE_TOL:g}. Full: m = 2^8..2^16 (step 4x; 2^18 left out for the budget), "
               f"c = 0, 0.1, ..., 0.9, sphere-random (n = 32, d = 16) and diabetes (n = 32, "
               f"d = 10); quick: m = 2^8..2^12, c in {{0, 0.3, 0.6, 0.9}}, 3 seeds. Budget: full "
               "~200 s (one cell at m = 2^16, c = 0 takes ~15 s), quick ~2 s.",
    rule="answer: the converging and sparse cells, and one heat map per data set.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "PHASE_SEEDS", "PHASE_SPARSE", "PHASE_STEPS", "PHASE_TOL", "SIZES"]
