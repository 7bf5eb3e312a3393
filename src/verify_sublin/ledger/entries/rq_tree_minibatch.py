"""rq.tree_minibatch: does the tree pay off in mini-batch training (batches of n of N
inputs), where an exact cache of the union no longer suffices, and where along N Q(b)?"""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..papers import CITE
from ..toolkit import SAME, Entry, Shown, Sizes, Table, answer_words, pow2
from ..toolkit import minibatch as MB
from ..toolkit.review import Question

#: the predicted crossover: the tree should pay off at every grid point with N Q(b) at
#: most this (its update N |U| (d + log m) against the rescan's n m d)
NQ_WIN = 1.0
#: ... and at no grid point with N Q(b) at least this (4x past the predicted crossover)
NQ_LOSE = 4.0
#: the move of a step: RMS ||dw_r|| over the moved neurons
MOVE = 0.1

QUESTION = Question(
    "\"I’m concerned if the proposed algorithm, if implemented, will be useful for practical "
    "NN training\"",
    f"The tree pays off in mini-batch training wherever N Q(b) <= {NQ_WIN:g}, as its counted "
    f"cost predicts, and nowhere from N Q(b) = {NQ_LOSE:g} on",
    f"The tree pays off in mini-batch training at some grid points, but not exactly where "
    f"N Q(b) <= {NQ_WIN:g}",
    "The tree pays off nowhere on the grid: at every point the rescan or the cache is faster "
    "or counts fewer operations")

#: (c, N, m) grid points: N m = 2^27 at full, 2^29 added at study, both sides of N Q(b) = 1
FULL = ([(0.4, 2**7, 2**20), (0.4, 2**9, 2**18)]
        + [(c, N, m) for c in (0.85, 1.5) for N, m in ((2**7, 2**20), (2**9, 2**18),
                                                       (2**11, 2**16), (2**13, 2**14))])
STUDY = [(c, N, m) for c in (0.4, 0.85, 1.5) for N, m in ((2**7, 2**22), (2**9, 2**20), (2**11, 2**18))]
SIZES = Sizes(
    profiles=("tiny", "quick", "full", "study"),
    points=([(c, N, m) for c in (0.4, 0.85, 1.5) for N, m in ((2**5, 2**10), (2**8, 2**8))],
            [(c, N, m) for c in (0.4, 0.85, 1.5) for N, m in ((2**7, 2**16), (2**9, 2**14),
                                                              (2**11, 2**12))],
            FULL, FULL + STUDY),
    n=(8, 64, SAME, SAME),      #: the batch
    d=(8, 32, SAME, SAME),
    steps=(5, SAME, SAME, SAME),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("tree_minibatch", {"N": N, "m": m, "n": s.n, "d": s.d, "c": c, "steps": s.steps,
                                       "warmup": 1, "move": MOVE}, seed=23)
            for c, N, m in s.points]


@dataclass(frozen=True)
class Values:
    points: list        #: `MB.Point` per grid point, by N Q(b)


def values(results) -> Values:
    return Values(MB.points(results))


def outcome(pts) -> str:
    """The premise's outcome: holds if the tree wins at every point with N Q(b) <= NQ_WIN
    (at least one) and at none with N Q(b) >= NQ_LOSE; fails if it wins nowhere."""
    won = [MB.wins(p) for p in pts]
    low = [w for p, w in zip(pts, won) if p.nq <= NQ_WIN]
    if not any(won):
        return "fails"
    if low and all(low) and not any(w for p, w in zip(pts, won) if p.nq >= NQ_LOSE):
        return "holds"
    return "holds-with-caveat"


RULE = (f"holds if the tree wins at every grid point with N Q(b) <= {NQ_WIN:g} (at least one) and "
        f"at none with N Q(b) >= {NQ_LOSE:g}, where it wins at a point if its median step time "
        "and its counted operations per step are both below the rescan's and the cache's; "
        "fails if it wins at no point; holds-with-caveat otherwise.")


def decide(v: Values) -> tuple[str, str]:
    wrong = sum(p.mismatches for p in v.points)
    if wrong:
        return "inconclusive", f"{wrong} batch fire sets of the tree or cache differ from the rescan's"
    return QUESTION.answer(outcome(v.points), MB.measured(v.points, NQ_WIN), RULE)[0], outcome(v.points)


def show(v: Values, verdict: str, reason: str) -> Shown:
    pts = v.points
    _, measured, rule = QUESTION.answer(outcome(pts), MB.measured(pts, NQ_WIN), RULE)
    if verdict == "inconclusive":
        measured = f"{reason}, so nothing is decided"
    table = Table(["c", "N", "m", "N Q(b)", "|U| / m", "tree", "rescan", "cache",
                   "tree / rescan ops (predicted)", "tree / cache ops", "tree wins",
                   "memory tree / cache"])
    for p in pts:
        table.add(f"{p.c:g}", pow2(p.N), pow2(p.m), MB.g2(p.nq), MB.g2(p.union / p.m),
                  *(p.times[k].ms("steps") for k in MB.STRATEGIES),
                  f"{MB.g2(p.ops['tree'] / p.ops['rescan'])} ({MB.g2(p.predicted)})",
                  MB.g2(p.ops["tree"] / p.ops["cache"]), "yes" if MB.wins(p) else "no",
                  f"{MB.g2(p.memory['tree'] / 2**20)} / {MB.g2(p.memory['cache'] / 2**20)} MiB")
    formula = [p.tree_vs_formula for p in pts]
    note = ("This project's setting, not the papers' (their Gauss-Newton step is full-batch, "
            "where an exact cache of the union needs no search structure): a batch of n of the "
            "N inputs per step, a Gauss-Newton-shaped move of the batch's union U (J^T rho with "
            "random rho, untimed), and the batch's fire sets found by the correlation tree over "
            "all N inputs (16 N M bytes), a rescan X_batch W^T (n m d) or a cache of all N "
            "inputs' pre-activations (8 N m bytes), side by side in one process. Times: the "
            "median of 5 steps after one warm-up, with the IQR; one seed, one data set "
            "(sphere) per point. Counted operations: d per inner product, one per tree node "
            "or cached pre-activation read or written. The tree's counted operations are "
            f"{MB.g2(min(formula))}-{MB.g2(max(formula))}x N |U| (d + log2 m): an update's "
            "walk up the tree stops where a maximum is unchanged, after about 2 nodes.")
    return Shown(
        "the tree pays off in mini-batch training where N Q(b) <= 1", measured,
        f"{rule} Here: the tree wins at {sum(MB.wins(p) for p in pts)} of {len(pts)} points.",
        [note, table],
        {"points": len(pts), "tree_wins": sum(MB.wins(p) for p in pts),
         "largest_winning_nq": max((p.nq for p in pts if MB.wins(p)), default=float("nan"))},
        MB.figure(pts))


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{QUESTION.source} (the meta-review); {CITE['REVIEW']}: \"The key idea behind the "
          "algorithm is using a tree-based data structure to efficiently identify activated "
          "neurons\". [The mini-batch setting and the N Q(b) prediction are this project's.]")

ENTRY = Entry(
    id="rq.tree_minibatch", kind="question", paper="RQ",
    statement="Does the tree pay off in mini-batch training? Premise: with batches of n of N "
              "inputs, the tree over all N inputs (update N |U_batch| (d + log m)) beats a "
              "rescan of the batch (n m d) and a cache of all N inputs exactly where N Q(b) <= 1.",
    source=SOURCE,
    experiment="Mini-batch steps (a batch of n of N inputs, then a move of the batch's union) "
               "on a grid of (c, N, m), c in {0.4, 0.85, 1.5}, both sides of N Q(b) = 1: per-step "
               "time and counted operations of the tree over all N inputs, a rescan of the batch "
               "and a cache of all N inputs (this project's setting), side by side. Full: n = 64, "
               "d = 32, N m = 2^27 (N = 2^7..2^13), N Q(b) from 3e-4 to 17; study adds N m = 2^29 "
               "(13 GiB at m = 2^22); quick: N m = 2^23, n = 64. Budget: quick 8-17 s of run time, "
               "full 115 s (122 s wall, a loaded machine), study ~600 s more (estimated, not run).",
    rule=answer_words("holds if the tree wins (time and counted operations below the rescan's "
                      "and the cache's) at every point with N Q(b) <= 1 and at none with "
                      "N Q(b) >= 4; fails if it wins nowhere; holds-with-caveat otherwise."),
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "MOVE", "NQ_LOSE", "NQ_WIN", "QUESTION", "SIZES", "outcome"]
