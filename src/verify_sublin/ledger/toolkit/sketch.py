"""Sketch preconditioners: what sketch.conditioning, rq.sketch_failure and
rq.hyperparameters share: the sketch types run, the one table of sketch sizes (as s / n,
the sketch rows per input, the same for every type, so that types are compared at equal
s), the Marchenko-Pastur prediction for the Gaussian sketch, and the library's default
sizes read as s / n. Cost: O(rows).

The library's sketched solver sizes its sketches by type (`core.sketch.default_size`:
4 n rows for the Gaussian, 2 n ln n for the SRHT, 4 n ln n for CountSketch and the
tensor sketch); the entries do not use those sizes but this table, and say where each
default lies on it.
"""

from __future__ import annotations

import math
from collections import defaultdict

from ...core.sketch import default_size
from ..entry import Table
from ..plot import HLine, Panel, Plot, Series
from .base import color

__all__ = ["RULE_S_OVER_N", "SKETCH_KINDS", "S_OVER_N", "default_s_over_n", "kappas_at",
           "mp_kappa", "mp_note", "needed_sizes", "needed_table", "needed_words", "row_s_over_n",
           "s_over_n_words", "size_plot", "size_table", "tolerance_rows", "tolerance_table",
           "tolerance_words"]

#: the sketch types the entries run, in their order (the run parameters name them, so
#: this stays fixed whatever the library adds)
SKETCH_KINDS = ("gaussian", "srht", "countsketch", "tensor")

#: the sketch sizes every sketch entry runs, as s / n (sketch rows per input), the same
#: for every type: s = n is the fewest rows that can give an invertible n x n R; 16 n
#: is about the library's CountSketch default at n = 64 (4 n ln n = 16.6 n)
S_OVER_N = (1, 2, 4, 8, 16)

#: the sketch size at which sketch.conditioning applies its rule, the same for every
#: type: s = 8 n rows, about the library's SRHT default at n = 64 (2 n ln n = 8.3 n);
#: Marchenko-Pastur puts a Gaussian sketch's preconditioned kappa at 4.4 there (at 4 n
#: it is 9, against the rule's 10: the verdict would hang on finite-n fluctuations)
RULE_S_OVER_N = 8


def mp_kappa(s_over_n: float) -> float:
    """The condition number of R^-T (J J^T) R^-1 when R comes from a Gaussian sketch of
    s = r n rows, by the Marchenko-Pastur law (large n, whatever J is: the sketch of
    J^T's orthonormal basis is an s x n Gaussian matrix, with singular values in
    1 +- sqrt(n / s)): ((1 + sqrt(n/s)) / (1 - sqrt(n/s)))^2; inf at s <= n.

    >>> round(mp_kappa(4), 2), round(mp_kappa(8), 2), mp_kappa(1)
    (9.0, 4.38, inf)
    """
    if s_over_n <= 1:
        return math.inf
    q = math.sqrt(1.0 / s_over_n)
    return ((1 + q) / (1 - q)) ** 2


def default_s_over_n(kind: str, n: int) -> float:
    """s / n of the library's default sketch size of `kind` at n inputs.

    >>> [round(default_s_over_n(k, 64), 1) for k in SKETCH_KINDS]
    [4.0, 8.3, 16.6, 16.6]
    """
    return default_size(kind, n) / n


def row_s_over_n(row, n: int) -> float:
    """A sketch row's s / n: the one it was run at, or s / n for a row sized by the
    library's factor (runs made before the table).

    >>> from types import SimpleNamespace as Row
    >>> row_s_over_n(Row(s_over_n=4.0, s=256), 64), row_s_over_n(Row(s_over_n=None, s=533), 64)
    (4.0, 8.328125)
    """
    return row.s_over_n if getattr(row, "s_over_n", None) is not None else row.s / n


def s_over_n_words(r: float) -> str:
    """'s = 8n' for s / n = 8.

    >>> s_over_n_words(8.0), s_over_n_words(8.33)
    ('s = 8n', 's = 8.33n')
    """
    return f"s = {r:.3g}n"


def kappas_at(rows, n: int, s_over_n: float) -> dict:
    """kind -> preconditioned kappa at s = s_over_n n rows, over the rows that have one
    (a refused sketch has none).

    >>> from types import SimpleNamespace as Row
    >>> kappas_at([Row(kind="srht", s_over_n=8.0, s=512, kappa=4.0),
    ...            Row(kind="srht", s_over_n=4.0, s=256, kappa=8.0)], 64, 8)
    {'srht': 4.0}
    """
    return {row.kind: row.kappa for row in rows
            if row.kappa is not None and row_s_over_n(row, n) == s_over_n}


def size_table(runs) -> Table:
    """The preconditioned kappa against s / n, per type: its range over `runs` (pairs
    (n, rows): inputs and widths), beside Marchenko-Pastur's value for the Gaussian
    (`mp_kappa`). Cost O(rows)."""
    got = defaultdict(list)
    for n, rows in runs:
        for row in rows:
            if row.kappa is not None:
                got[(row_s_over_n(row, n), row.kind)].append(row.kappa)
    table = Table(["s / n", "Marchenko-Pastur (Gaussian)",
                   *(f"{k}: smallest - largest" for k in SKETCH_KINDS)])
    for r in sorted({r for r, _ in got}):
        cells = [f"{min(got[(r, k)]):.3g} - {max(got[(r, k)]):.3g}" if got[(r, k)] else "-"
                 for k in SKETCH_KINDS]
        table.add(f"{r:g}", f"{mp_kappa(r):.3g}", *cells)
    return table


def mp_note(n: int) -> str:
    """What sets the Gaussian's column, and where the library's defaults lie at n."""
    return ("A Gaussian sketch of s rows gives R^-T (J J^T) R^-1 the squared condition number of "
            "an s x n Gaussian matrix, whatever J is: ((1 + sqrt(n/s)) / (1 - sqrt(n/s)))^2 by the "
            "Marchenko-Pastur law (9 at s = 4n, the library's Gaussian default; 4.4 at 8n), so its "
            f"kappa is set by s / n, not by the input or the seed. The library's defaults at n = {n}: "
            + ", ".join(f"{k} s = {default_s_over_n(k, n):.3g}n" for k in SKETCH_KINDS) + ".")


def size_plot(rows, kappa0: float, iterations0: int, where: str) -> Plot:
    """kappa and CG iterations against s / n for every type on one input (its
    `SketchRow`s), with Marchenko-Pastur's curve and the unpreconditioned values."""
    curves = [(k, kind, [x for x in rows if x.kind == kind and x.kappa is not None])
              for k, kind in enumerate(SKETCH_KINDS)]
    sizes = sorted({x.s_over_n for _, _, xs in curves for x in xs if x.s_over_n > 1})
    return Plot([
        Panel([*(Series([x.s_over_n for x in xs], [x.kappa for x in xs], kind, "o-", color(k))
                 for k, kind, xs in curves if xs),
               Series(sizes, [mp_kappa(x) for x in sizes], "Marchenko-Pastur", ":", "k")],
              "sketch rows per input s / n", "kappa after preconditioning",
              xscale="log2", yscale="log", hlines=[HLine(kappa0)]),
        Panel([Series([x.s_over_n for x in xs], [x.iterations for x in xs], kind, "o-", color(k))
               for k, kind, xs in curves if xs], "sketch rows per input s / n",
              "CG iterations to 1e-10", xscale="log2", hlines=[HLine(iterations0)], legend=False)],
        f"Conditioning and CG iterations against the sketch size, every type at the same s, on "
        f"{where}; dotted: Marchenko-Pastur's prediction for a Gaussian sketch; dashed: without a "
        "preconditioner.")


def needed_sizes(runs, kappa_max: float) -> list[tuple]:
    """Per sketch type: (kind, the smallest s / n of `S_OVER_N` at which the type's
    kappa is <= kappa_max on every run, or None, the worst kappa there, the library's
    default s / n). `runs`: `RunRecord`s of ``sketch_conditioning`` (one n). Cost O(rows).
    A sketch that could not be formed counts as kappa = inf."""
    worst_at, n = {}, 0
    for r in runs:
        n = r.params["n"]
        for row in r.result.rows:
            key = (row.kind, row_s_over_n(row, n))
            worst_at[key] = max(worst_at.get(key, 0.0), math.inf if row.kappa is None else row.kappa)
    out = []
    for kind in SKETCH_KINDS if worst_at else ():
        ok = [(r, worst_at[(kind, r)]) for r in S_OVER_N if worst_at.get((kind, r), math.inf) <= kappa_max]
        out.append((kind, *(ok[0] if ok else (None, None)), default_s_over_n(kind, n)))
    return out


def needed_table(sizes, kappa_max: float) -> Table:
    """`needed_sizes` as a table."""
    table = Table(["sketch", f"smallest s / n with kappa <= {kappa_max:g} on every input",
                   "worst kappa there", "library default s / n"])
    for k, r, kappa, dflt in sizes:
        table.add(k, f"{r:g}" if r else f"> {max(S_OVER_N)}", f"{kappa:.2f}" if r else "-", f"{dflt:.3g}")
    return table


def needed_words(sizes) -> str:
    """`needed_sizes` in words: 'gaussian 4n (default 4n), ...'."""
    return ", ".join(f"{k} {f'{r:g}n' if r else f'more than {max(S_OVER_N)}n'} (default {dflt:.3g}n)"
                     for k, r, _, dflt in sizes)


def tolerance_rows(runs, contraction_max: float) -> list[tuple]:
    """Per CG tolerance of the sketched solver, loosest first: (tol, worst contraction,
    steps, CG iterations over the steps, kept the contraction <= contraction_max).
    `runs`: ``training`` `RunRecord`s that differ in ``options["tol"]``."""
    out = []
    for r in sorted(runs, key=lambda r: -r.params["options"]["tol"]):
        res = r.result
        wc = max(res.contraction) if res.contraction else math.inf
        out.append((r.params["options"]["tol"], wc, len(res.contraction), sum(res.solver_iterations),
                    wc <= contraction_max and res.error is None))
    return out


def tolerance_table(rows) -> Table:
    """`tolerance_rows` as a table (CG iterations, the solver's cost, counted: no timing)."""
    table = Table(["CG tolerance", "worst contraction", "steps to 1e-9", "CG iterations over the steps"])
    for t, wc, steps, iterations, _ in rows:
        table.add(f"{t:g}", f"{wc:.3g}", steps, iterations)
    return table


def tolerance_words(rows) -> str:
    """The loosest tolerance that kept the contraction, and whether it is only the
    loosest tried.

    >>> tolerance_words([(0.1, 0.13, 9, 1.0, True), (1e-6, 0.08, 4, 1.0, True)])
    'every CG tolerance tried keeps 2x, up to the loosest tried, 0.1 (worst contraction 0.13)'
    >>> tolerance_words([(0.1, 0.7, 12, 1.0, False), (1e-6, 0.08, 4, 1.0, True)])
    'loosest CG tolerance keeping 2x: 1e-06 (of 0.1 tried)'
    """
    good = [(t, wc) for t, wc, *_, kept in rows if kept]
    if not good:
        return "no CG tolerance kept 2x"
    if len(good) == len(rows):
        return (f"every CG tolerance tried keeps 2x, up to the loosest tried, {good[0][0]:g} "
                f"(worst contraction {good[0][1]:.2g})")
    return f"loosest CG tolerance keeping 2x: {good[0][0]:g} (of {rows[0][0]:g} tried)"
