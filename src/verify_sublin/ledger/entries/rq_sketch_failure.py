"""rq.sketch_failure: how often does each sketch type fail to precondition (kappa > 10),
per size factor?"""

from __future__ import annotations

from collections import defaultdict

from scipy.stats import binomtest

from ...bench.spec import RunSpec
from ..entry import Entry, Shown, Sizes, Table
from ..papers import CITE
from ..plot import Panel, Plot, Series
from ..toolkit import color
from ..toolkit.sketch import SKETCH_KINDS

#: a sketch "fails" when the preconditioned kappa exceeds this (or the preconditioner
#: cannot be formed)
KAPPA_LIMIT = 10.0

SIZES = Sizes(
    #  tiny   quick   full
    m=(2**8, 2**10, 2**14),
    n=(8, 16, 64),
    d=(4, 8, 32),
    #: seeds per type; full: the dense sketches (Gaussian, SRHT) take ~20 s a seed at
    #: m = 2^14, so they get fewer seeds (wider intervals) within the budget
    seeds=(dict.fromkeys(SKETCH_KINDS, 3), dict.fromkeys(SKETCH_KINDS, 6),
           {"countsketch": 50, "tensor": 50, "gaussian": 6, "srht": 6}),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("sketch_failure", {"m": s.m, "n": s.n, "d": s.d, "c": 0.4,
                                       "kinds": [k for k in SKETCH_KINDS if seed < s.seeds[k]],
                                       "factors": [0.5, 1, 2, 4], "mu": 0.0}, seed=seed)
            for seed in range(max(s.seeds.values()))]


def values(results) -> dict:
    """(kind, size factor) -> (failed seeds, seeds), sorted."""
    fails, total = defaultdict(int), defaultdict(int)
    for r in results:
        for row in r.result.rows:
            total[(row.kind, row.factor)] += 1
            fails[(row.kind, row.factor)] += int(row.kappa is None or not row.kappa <= KAPPA_LIMIT)
    return {key: (fails[key], total[key]) for key in sorted(total)}


def decide(counts: dict) -> tuple[str, str]:
    return "answer", ""


def _wilson(k: int, t: int):
    return binomtest(k, t).proportion_ci(method="wilson")


def show(counts: dict, verdict: str, reason: str) -> Shown:
    table = Table(["sketch", "size factor", "seeds", f"kappa > {KAPPA_LIMIT:g}", "share", "95% Wilson"])
    shares, safe = {}, {}
    for (kind, factor), (k, t) in counts.items():
        ci = _wilson(k, t)
        shares[f"{kind} x{factor:g}"] = [k / t, ci.low, ci.high, t]
        table.add(kind, f"{factor:g}", t, k, f"{k / t:.2f}", f"[{ci.low:.2f}, {ci.high:.2f}]")
        if k == 0 and (kind not in safe or factor < safe[kind]):
            safe[kind] = factor
    measured = "smallest size factor with no failure: " + ", ".join(
        f"{k} x{v:g}" for k, v in sorted(safe.items())) if safe else "every size failed somewhere"
    series = []
    for j, kind in enumerate(SKETCH_KINDS):
        keys = [key for key in counts if key[0] == kind]
        if keys:
            share = [counts[key][0] / counts[key][1] for key in keys]
            cis = [_wilson(*counts[key]) for key in keys]
            series.append(Series([key[1] for key in keys], share, kind, "o-", color(j), kind="errorbar",
                                 yerr=([s - c.low for s, c in zip(share, cis)],
                                       [c.high - s for s, c in zip(share, cis)])))
    plot = Plot([Panel(series, "sketch size factor",
                       f"share of seeds with kappa > {KAPPA_LIMIT:g} (95% Wilson)", xscale="log2")],
                "Sketch failure rate against the size factor, per sketch type.")
    return Shown("sketching brings more hyper-parameters: sketch size and failure probability",
                 measured,
                 f"answer: per sketch type and size factor, the share of seeds in which the "
                 f"preconditioned condition number exceeds {KAPPA_LIMIT:g} (or no preconditioner "
                 "can be formed), with its 95% Wilson interval.", [table], {"shares": shares}, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"more hyper-params like sketch size, sketch tolerance and "
          "sketch failure probability\"")

ENTRY = Entry(
    id="rq.sketch_failure", kind="question", paper="RQ",
    statement="How often does each sketch fail to precondition (kappa > 10), per size factor?",
    source=SOURCE,
    experiment="Exact condition number of the preconditioned Gauss-Newton system at "
               "initialisation (mu = 0), per sketch type and size factor in {0.5, 1, 2, 4}. "
               "Full: m = 2^14, n = 64, d = 32, c = 0.4, 50 seeds for CountSketch and the "
               "tensor sketch, 6 for Gaussian and SRHT (each ~20 s a seed); quick: m = 2^10, "
               "n = 16, 6 seeds. Budget: full ~350 s (2 s a seed for CountSketch and "
               "the tensor sketch, ~45 s with all four types), quick ~2 s.",
    rule=f"answer: share with kappa > {KAPPA_LIMIT:g} and its Wilson interval.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "KAPPA_LIMIT", "SIZES"]
