"""sketch.vs_exact: a sketched Gauss-Newton step costs fewer counted operations than an
exact Gauss-Newton step with the bit-parallel Gram, at some n."""

from __future__ import annotations

from ...bench.spec import RunSpec
from ..entry import Entry, Shown, Sizes, Table
from ..papers import CITE
from ..plot import Panel, Plot, Series
from ..toolkit import color, pow2

#: the shifts run: b = 0 (plain ReLU) and c = 0.4
CS = (0.0, 0.4)

SIZES = Sizes(
    #   tiny      quick     full (n = 2048 left out: a sketched step there takes ~80 s)
    n=([16, 32], [32, 64], [64, 128, 256, 512, 1024]),
    m=(2**10, 2**12, 2**14),
    d=(8, 16, 32),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("exact_vs_sketch", {"m": s.m, "n": n, "d": s.d, "c": c, "steps": 1,
                                        "warmup": 1, "sketch": "countsketch"}, seed=22)
            for c in CS for n in s.n]


def values(results) -> list[dict]:
    """One row per run: n, c, m, d and the counted operations and seconds of both steps."""
    return [dict(n=r.params["n"], c=r.params["c"], m=r.params["m"], d=r.params["d"],
                 exact_ops=r.result.exact_ops, sketch_ops=r.result.sketch_ops,
                 exact_seconds=r.result.exact_seconds, sketch_seconds=r.result.sketch_seconds,
                 solver_products=r.result.solver_products, dense_gram_ops=r.result.dense_gram_ops)
            for r in results]


def sketch_rule(rows: list[dict]) -> tuple[str, str]:
    """The rule of ``sketch.vs_exact``: rows of {n, c, sketch_ops, exact_ops}.

    holds if the sketched step's counted operations fall below the exact Gram step's at
    some n run; fails if they stay at or above it at every n run.

    >>> sketch_rule([{"n": 64, "c": 0, "sketch_ops": 5, "exact_ops": 3},
    ...              {"n": 128, "c": 0, "sketch_ops": 5, "exact_ops": 9}])[0]
    'holds'
    >>> sketch_rule([{"n": 64, "c": 0, "sketch_ops": 5, "exact_ops": 3}])[0]
    'fails'
    """
    if not rows:
        return "inconclusive", "no run finished"
    below = [(r["n"], r["c"]) for r in rows if r["sketch_ops"] < r["exact_ops"]]
    if below:
        return "holds", f"sketched below exact at (n, c) = {below}"
    return "fails", f"sketched at or above exact at every one of the {len(rows)} (n, c) run"


def decide(rows: list[dict]) -> tuple[str, str]:
    return sketch_rule(rows)


def _crossover(rows, key_s, key_e):
    """Smallest n from which the sketched figure stays below the exact one (None)."""
    rows = sorted(rows, key=lambda r: r["n"])
    for k, r in enumerate(rows):
        if all(x[key_s] < x[key_e] for x in rows[k:]):
            return r["n"]
    return None


def show(rows: list[dict], verdict: str, reason: str) -> Shown:
    table = Table(["c", "n", "m", "exact ops", "sketched ops", "sketched / exact (ops)", "exact s",
                   "sketched s", "sketched / exact (s)", "CG products", "dense m n^2 d Gram ops"])
    cross, ops_series, time_series = {}, [], []
    for k, c in enumerate(sorted({r["c"] for r in rows})):
        sub = sorted((r for r in rows if r["c"] == c), key=lambda r: r["n"])
        for r in sub:
            table.add(c, r["n"], pow2(r["m"]), f"{r['exact_ops']:.3g}", f"{r['sketch_ops']:.3g}",
                      f"{r['sketch_ops'] / r['exact_ops']:.1f}", f"{r['exact_seconds']:.3g}",
                      f"{r['sketch_seconds']:.3g}", f"{r['sketch_seconds'] / r['exact_seconds']:.1f}",
                      r["solver_products"], f"{r['dense_gram_ops']:.3g}")
        cross[c] = (_crossover(sub, "sketch_ops", "exact_ops"),
                    _crossover(sub, "sketch_seconds", "exact_seconds"),
                    _crossover(sub, "sketch_ops", "dense_gram_ops"))
        ns = [r["n"] for r in sub]
        ops_series += [Series(ns, [r["exact_ops"] for r in sub], f"exact c={c}", "o-", color(k)),
                       Series(ns, [r["sketch_ops"] for r in sub], f"sketched c={c}", "x--", color(k)),
                       Series(ns, [r["dense_gram_ops"] for r in sub], f"dense m n^2 d Gram c={c}", ":",
                              color(k))]
        time_series += [Series(ns, [r["exact_seconds"] for r in sub], f"exact c={c}", "o-", color(k)),
                         Series(ns, [r["sketch_seconds"] for r in sub], f"sketched c={c}", "x--",
                                color(k))]
    intro = ("Exact Gauss-Newton for a two-layer net needs no m n^2 d Gram: G_ij = <x_i, x_j> "
             "|S_i and S_j| / m, with the intersections as AND + popcount on bit-packed fire "
             "masks. Against that baseline the sketched solver pays two dense O(m n d) products "
             "per CG iteration. Crossover n (ops / time / against a dense m n^2 d Gram): "
             + "; ".join(f"c = {c}: {a} / {b} / {g}" for c, (a, b, g) in cross.items())
             + " (None: no crossover in the range run).")
    ratio = [r["sketch_ops"] / r["exact_ops"] for r in rows]
    plot = Plot([Panel(ops_series, "n", "counted operations per step", xscale="log", yscale="log"),
                 Panel(time_series, "n", "seconds per step", xscale="log", yscale="log")],
                "Per-step cost of exact Gauss-Newton with the bit-parallel Gram against "
                "sketched_gn (CountSketch), in counted operations and seconds.")
    return Shown(
        "a sketch-preconditioned solver avoids the 'daunting slowdown' of second-order "
        "methods: cheaper per iteration than exact Gauss-Newton",
        f"sketched / exact counted ops per step {min(ratio):.1f}..{max(ratio):.1f}",
        "holds if sketched_gn's counted operations per step fall below those of the exact "
        "Gauss-Newton step with the bit-parallel Gram (O(m n d) forward + O(m n^2 / 64 + "
        "n^2 d) Gram + n^3 / 3 Cholesky) at some n run; fails if they stay at or above it at "
        "every n; the crossover n is reported in counted operations and in time. Here: " + reason,
        [intro, table],
        {"ops_ratio_min": min(ratio), "ops_ratio_max": max(ratio),
         "crossover": {str(c): list(x) for c, x in cross.items()}}, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['BPSW']}, abstract: second-order algorithms \"incur a daunting slowdown "
          "in the cost per iteration (inverting the Hessian matrix of the loss "
          "function)\"; earlier work gave \"an [O(mn^2)]-time second-order algorithm\", "
          "which they speed up with \"a Fast-JL type dimension reduction to precondition "
          "the underlying Gram matrix\", \"achieving an [Õ(mn)]-time backpropagation "
          "algorithm\"")

ENTRY = Entry(
    id="sketch.vs_exact", kind="claim", paper="BPSW",
    statement="Sketched Gauss-Newton costs less per iteration than an exact Gauss-Newton step.",
    source=SOURCE,
    experiment="Per-step counted operations and seconds of sketched_gn (CountSketch, default "
               "size) and of exact Gauss-Newton with the bit-parallel Gram "
               "(verify_sublin.core.bitgram), same network and data, at b = 0 (c = 0) and "
               "c = 0.4. Full: m = 2^14, d = 32, n in {64, ..., 1024} (n = 2048 left out: a "
               "sketched step there takes ~80 s); quick: m = 2^12, d = 16, n in {32, 64}. "
               "Budget: full ~200 s (the n = 1024 run takes ~60 s), quick ~3 s.",
    rule="Sketched ops below exact ops at some n: holds; above at every n: fails.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["CS", "ENTRY", "SIZES", "sketch_rule"]
