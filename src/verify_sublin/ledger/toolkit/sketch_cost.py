"""Helpers of ``sketch.vs_exact``: the rows of its runs, and where two fitted power laws
in n cross (the crossover n of a sketched step's counted operations and an exact one's).
Cost: O(runs x sketch types)."""

from __future__ import annotations

import math

from ..entry import Table
from ..fitting import power_law
from ..plot import Panel, Plot, Series
from .base import color, pow2
from .spread import Spread

__all__ = ["cost_plot", "cost_table", "crossover", "crossover_key", "crossover_table", "crossover_words",
           "crossovers", "headline", "model_crossover", "model_note", "sketch_rows"]


def crossover(ns, exact, sketch) -> float | None:
    """The n at which the fitted power law of `sketch` falls below that of `exact`, or
    None when it never does above the smallest n (it grows at least as fast and starts
    above). At least two distinct n.

    >>> round(crossover([8, 16], [10, 80], [100, 400]))       # n^3 against n^2
    80
    >>> crossover([8, 16], [10, 40], [100, 800]) is None
    True
    """
    ee, ea = power_law(ns, exact)
    se, sa = power_law(ns, sketch)
    if ee - se <= 1e-9:
        return None
    log_n = math.log(sa / ea) / (ee - se)
    return math.inf if log_n > 700 else math.exp(log_n)


def sketch_rows(results) -> list[dict]:
    """One row per run and sketch type: n, m, d, s, kind, the exact step's ops (bit
    Gram; textbook Gram), contraction and seconds, and the sketched step's qualifying
    tolerance, ops and iterations there and at the tightest tolerance, seconds, error."""
    rows = []
    for r in results:
        res, p = r.result, r.params
        for k in res.sketches:
            q = k.qualifying_tol
            at = k.tols.index(q) if q is not None else None
            rows.append(dict(
                n=p["n"], m=p["m"], d=p["d"], s=res.s, kind=k.kind, error=k.error,
                exact_ops=res.exact_ops, textbook_ops=res.textbook_ops,
                exact_contraction=res.exact_contraction, exact_seconds=res.exact_seconds,
                textbook_seconds=res.textbook_seconds, tol=q,
                ops=k.ops[at] if at is not None else None,
                iterations=k.iterations[at] if at is not None else None,
                tight_tol=k.tols[-1] if k.tols else None, tight_ops=k.ops[-1] if k.ops else None,
                tight_iterations=k.iterations[-1] if k.iterations else None,
                seconds=k.seconds))
    return rows


def crossovers(rows: list[dict], key: str) -> dict:
    """Per sketch type of rows {n, m, kind, ops, `key`}: the smallest n run at which its
    ops fall below the exact baseline `key`, else ("extrapolated", the `crossover` of the
    rows on m = n^2, or "no fit" with fewer than two n there)."""
    cross = {}
    for kind in sorted({r["kind"] for r in rows}):
        sub = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["n"])
        below = [r["n"] for r in sub if r["ops"] < r[key]]
        diag = [r for r in sub if r["m"] == r["n"] ** 2]
        cross[kind] = (min(below) if below else ("extrapolated", crossover(
            [r["n"] for r in diag], [r[key] for r in diag], [r["ops"] for r in diag]))
            if len({r["n"] for r in diag}) > 1 else ("extrapolated", "no fit"))
    return cross


def crossover_table(cross: dict, textbook: dict) -> Table:
    """Crossover n per sketch type against the bit-parallel Gram (deciding) and the
    textbook Gram (`crossovers` of each)."""
    table = Table(["sketch", "crossover vs exact (bit Gram; decides)", "crossover vs textbook Gram"])
    for k in cross:
        table.add(k, crossover_words(cross[k]), crossover_words(textbook.get(k)))
    return table


def headline(rows: list[dict], cross: dict) -> str:
    """The measured sentence of ``sketch.vs_exact``: the deciding ratio at the largest n
    (best type at its qualifying tolerance), the earliest crossover, the textbook ratio."""
    ok = [r for r in rows if r["ops"] is not None]
    if not ok:
        return "no sketch type reached the exact step's contraction"
    big = max(r["n"] for r in ok)
    best = min((r for r in ok if r["n"] == big), key=lambda r: (r["ops"] / r["exact_ops"], r["m"]))
    first = min(cross, key=lambda k: (isinstance(cross[k], tuple), crossover_key(cross[k])))
    where = ("none for any type (extrapolated: power laws in n on m = n^2)"
             if cross[first] == ("extrapolated", None) else f"{crossover_words(cross[first])} ({first})")
    return (f"the sketched step counts {best['ops'] / best['exact_ops']:.1f}x the exact step's "
            f"operations (bit-parallel Gram) at n = {big} (m = {pow2(best['m'])}, best type "
            f"{best['kind']}, CG tol {best['tol']:g}); crossover {where}; against the textbook Gram "
            f"{best['ops'] / best['textbook_ops']:.2f}x (not deciding)")


def model_crossover(rows: list[dict]) -> tuple[float, int, str] | None:
    """A cost-model check of the fitted extrapolation (not the rule): on m = n^2 the exact
    step counts about n^3 (d + 1/3) + n^4 / 128 (forward, Cholesky, and the bit-parallel
    Gram's n (n + 1) / 2 pairs of m / 64 words),
    whose n^4 term a power law fitted over small n barely sees; a sketched step at fixed
    CG iterations counts about K n^3. With K from the best type at the largest n run,
    they meet at n = 128 (K - d - 1/3). Returns (that n, the n it was read at, the type).

    >>> round(model_crossover([{"n": 128, "m": 2**14, "d": 8, "kind": "tensor",
    ...                         "ops": 90 * 128**3}])[0])
    10453
    """
    diag = [r for r in rows if r["m"] == r["n"] ** 2 and r["ops"] is not None]
    if not diag:
        return None
    big = max(r["n"] for r in diag)
    best = min((r for r in diag if r["n"] == big), key=lambda r: r["ops"])
    return 128 * (best["ops"] / big**3 - best["d"] - 1 / 3), big, best["kind"]


def model_note(rows: list[dict], n_reachable: int) -> str:
    """`model_crossover` in a sentence ("" without rows on m = n^2)."""
    mc = model_crossover(rows)
    return "" if mc is None else (
        " A cost-model check (not the rule): on m = n^2 the exact step's Gram term (n^2 / 2 "
        "pairs of m / 64 words) grows as n^4, which the power laws fitted here barely see; "
        f"with the sketched step at K n^3 (K from {mc[2]} at n = {mc[1]}, fixed CG "
        f"iterations) they meet near n = {mc[0]:.3g}, "
        f"{'beyond' if mc[0] > n_reachable else 'within'} n = {n_reachable}; "
        "the crossover grows with d and with the CG iterations.")


def crossover_words(c) -> str:
    """A crossover of `sketch.vs_exact`'s rule in words: an observed n, or an
    extrapolated one ("extrapolated", n, None for never, or "no fit")."""
    if c is None:
        return "-"
    if not isinstance(c, tuple):
        return f"n = {c} (observed)"
    return "never (extrapolated)" if c[1] is None else (
        f"{c[1]} (extrapolated)" if isinstance(c[1], str) else f"n = {c[1]:.3g} (extrapolated)")


def crossover_key(c) -> float:
    """Sort key of a crossover: observed first, then by extrapolated n."""
    return c if not isinstance(c, tuple) else (c[1] if isinstance(c[1], float) else math.inf)


def _ms(times) -> str:
    return Spread.of(times).ms("steps") if times else "not timed"


def cost_table(rows: list[dict]) -> Table:
    """The per-run, per-type table of `sketch_rows`."""
    table = Table(["n", "m", "s / n", "sketch", "tol (loosest within 1%)", "CG its (tol / 1e-10)",
                   "sketched ops", "at 1e-10", "exact ops (bit Gram)", "sketched / exact",
                   "textbook Gram ops", "sketched / textbook", "sketched step", "exact step",
                   "textbook step"])
    for r in sorted(rows, key=lambda r: (r["n"], r["m"], r["kind"])):
        ok = r["ops"] is not None
        table.add(r["n"], pow2(r["m"]), r["s"] / r["n"], r["kind"], r["error"] or r["tol"],
                  f"{r['iterations']} / {r['tight_iterations']}" if ok else "-",
                  f"{r['ops']:.3g}" if ok else "-", f"{r['tight_ops']:.3g}" if ok else "-",
                  f"{r['exact_ops']:.3g}", f"{r['ops'] / r['exact_ops']:.2f}" if ok else "-",
                  f"{r['textbook_ops']:.3g}", f"{r['ops'] / r['textbook_ops']:.2f}" if ok else "-",
                  _ms(r["seconds"]), _ms(r["exact_seconds"]), _ms(r["textbook_seconds"]))
    return table


def cost_plot(rows: list[dict], kinds, timed) -> Plot:
    """Counted operations and seconds per step against n: the exact step (bit-parallel
    and textbook Gram) and each sketch type at its qualifying tolerance, on m = n^2."""
    rows = [r for r in rows if r["m"] == r["n"] ** 2]
    ns = sorted({r["n"] for r in rows})
    ex = {r["n"]: r for r in rows}
    ops = [Series(ns, [ex[n]["exact_ops"] for n in ns], "exact, bit Gram", "o-", "k"),
           Series(ns, [ex[n]["textbook_ops"] for n in ns], "exact, textbook Gram", "s:", "k")]
    secs = [Series(ns, [Spread.of(ex[n]["exact_seconds"]).median for n in ns], "exact, bit Gram",
                   "o-", "k")]
    tb = [n for n in ns if ex[n]["textbook_seconds"]]
    if tb:
        secs.append(Series(tb, [Spread.of(ex[n]["textbook_seconds"]).median for n in tb],
                           "exact, textbook Gram", "s:", "k"))
    for i, k in enumerate(kinds):
        sub = sorted((r for r in rows if r["kind"] == k and r["ops"] is not None),
                     key=lambda r: r["n"])
        ops.append(Series([r["n"] for r in sub], [r["ops"] for r in sub], k, "x--", color(i)))
        if k in timed and sub:
            secs.append(Series([r["n"] for r in sub], [Spread.of(r["seconds"]).median for r in sub],
                               k, "x--", color(i)))
    return Plot([Panel(ops, "n (m = n^2)", "counted operations per step", xscale="log",
                       yscale="log"),
                 Panel(secs, "n (m = n^2)", "seconds per step", xscale="log", yscale="log")],
                "Per-step cost of the exact Gauss-Newton step (bit-parallel and textbook Gram) "
                "against sketched_gn per sketch type at the qualifying CG tolerance.")
