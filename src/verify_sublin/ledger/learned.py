"""What was learned: the few sentences a report opens with, built from the named figures
of its entries (`Verdict.figures`), never from numbers typed into the text.

Each finding reads the figures it needs and returns one sentence, or None when an entry
or a figure is missing (a quick report of a few entries then says less, never something
unmeasured). The words that qualify a figure ("sublinear", "about quadratic") are
chosen by the figure itself against named thresholds. Cost: O(entries).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["FINDINGS", "findings"]

#: an exponent this far below 1 reads "sublinear"
SUBLINEAR_MARGIN = 0.05
#: an exponent in n from this on reads "about quadratic in n"
QUADRATIC_FROM = 1.5

Figures = Mapping[str, Mapping]


def _num(figs: Figures, entry: str, key: str) -> float | None:
    value = figs.get(entry, {}).get(key)
    return float(value) if isinstance(value, (int, float)) and value == value else None


def _work(figs: Figures) -> str | None:
    """How the sublinear step's counted work grows in m and in n: the paper's method as
    specified (it decides cpi.sublinear_gn, at c = 0.4) and this project's variant."""
    paper = {k: _num(figs, "cpi.sublinear_gn", f"paper_ops_exp_{k}_c0.4") for k in "mn"}
    got = {k: _num(figs, "cpi.sublinear_gn", f"ops_exp_{k}") for k in
           ("m_c0.4", "n_c0.4", "m_c0.85", "n_c0.85")}
    if any(v is None for v in (*paper.values(), *got.values())):
        return None

    def in_m(*xs):
        return "sublinear in m" if max(xs) < 1 - SUBLINEAR_MARGIN else "not sublinear in m"

    def in_n(*xs):
        return ("about quadratic in n" if min(xs) >= QUADRATIC_FROM
                else "at most linear in n" if max(xs) <= 1.1 else "between linear and quadratic in n")
    return (f"The paper's sublinear method as specified (tree, sketched solve) does counted work "
            f"growing as m^{paper['m']:.2f} ({in_m(paper['m'])}) but n^{paper['n']:.2f} "
            f"({in_n(paper['n'])}) at c = 0.4; this project's variant (tree-free cache, exact "
            f"solve) as m^{got['m_c0.4']:.2f} at c = 0.4 and m^{got['m_c0.85']:.2f} at c = 0.85 "
            f"({in_m(got['m_c0.4'], got['m_c0.85'])}), n^{got['n_c0.4']:.2f} and "
            f"n^{got['n_c0.85']:.2f} ({in_n(got['n_c0.4'], got['n_c0.85'])}): every changed "
            "neuron's n inner products are refreshed, where the claimed m^(1-alpha) n d + n^3 "
            "grows linearly in n at these sizes (cpi.sublinear_gn).")


def _joint(figs: Figures) -> str | None:
    """The joint (m, n) fit where few neurons fire per input: alpha_eff against c/2 and
    the exponent of n against the claim's 1, at every c with a fit (cpi.alpha_joint)."""
    from .toolkit.joint import SPARSE_MAX
    cs = sorted((k.removeprefix("alpha_eff_sparse_c") for k in figs.get("cpi.alpha_joint", {})
                 if k.startswith("alpha_eff_sparse_c")), key=float)
    fits = [(c, a, b) for c in cs
            if (a := _num(figs, "cpi.alpha_joint", f"alpha_eff_sparse_c{c}")) is not None
            and (b := _num(figs, "cpi.alpha_joint", f"beta_n_sparse_c{c}")) is not None]
    if not fits:
        return None
    return (f"Fitted jointly over m and n where few neurons fire per input (n Q(b) <= {SPARSE_MAX:g}), the "
            "paper's method's counted work grows as " + "; ".join(
                f"m^{1 - a:.2f} n^{b:.2f} at c = {c} (alpha_eff {a:.2f}; the reconstructed "
                f"alpha = c/2 is {float(c) / 2:g})" for c, a, b in fits)
            + ", where the claimed m^(1-alpha) n d is linear in n (cpi.alpha_joint).")


def _end_to_end(figs: Figures) -> str | None:
    """How much of the per-step gain survives end to end: the paper's method as
    specified against ggn, with the cap and this project's variant beside it."""
    parts = []
    for c in ("0.4", "0.85"):
        e2e, step, cap = (_num(figs, "cost.end_to_end", f"{k}_c{c}")
                          for k in ("e2e_gain", "step_gain", "cap"))
        if e2e is None or step is None or cap is None:
            return None
        ours = _num(figs, "cost.end_to_end", f"e2e_gain_variant_c{c}")
        parts.append(f"{step:.2f}x ggn's speed per step and {e2e:.2f}x end to end at c = {c} "
                     f"(at most {cap:.1f}x were its steps free)"
                     + (f", this project's cache variant {ours:.2f}x end to end" if ours else ""))
    return ("Construction included, the paper's sublinear method as specified runs at "
            + "; ".join(parts) + " (cost.end_to_end).")


def _tree(figs: Figures) -> str | None:
    """Whether the papers' data structure is needed."""
    lo = _num(figs, "tree.benefit", "tree_over_cache_min")
    hi = _num(figs, "tree.benefit", "tree_over_cache_max")
    if lo is None or hi is None:
        return None
    if lo > 1:
        return ("The papers' correlation tree is not needed in full-batch Gauss-Newton with a "
                "fixed second layer: only neurons of the union move, so an exact tree-free "
                f"cache of the union is {lo:.1f}-{hi:.1f}x faster per step than the tree "
                "(tree.benefit).")
    return (f"The correlation tree is {1 / hi:.1f}-{1 / lo:.1f}x faster per step than the "
            "tree-free cache at some sizes (tree.benefit).")


def _krr(figs: Figures) -> str | None:
    """What kernel regression gives, at what fraction of the time."""
    rows = figs.get("rq.ntk_krr", {}).get("agreement")
    times = figs.get("rq.ntk_krr", {}).get("seconds")
    if not rows or not times:
        return None
    worst = max(float(a0) for _, _, a0 in rows)
    share = max(float(tk) / float(tg) for _, tg, tk in times if float(tg) > 0)
    return (f"Kernel regression with the shifted NTK, started from the network's initial "
            f"output, predicts within {worst:.2f} (relative) of Gauss-Newton's test "
            f"predictions at the largest width, in at most {100 * share:.0f}% of its time, "
            "with no data structure at all (rq.ntk_krr).")


def _union(figs: Figures) -> str | None:
    """How many neurons a step may change, and the speed-up bound it sets."""
    frac = _num(figs, "union.size", "fraction_c0.4")
    if frac is None or frac <= 0:
        return None
    return (f"A Gauss-Newton step may change |U| = {frac:.2f} m neurons at the largest width "
            f"run, c = 0.4, n = 64, which bounds the speed-up of any method touching only U "
            f"at m / |U| = {1 / frac:.1f}x (union.size).")


def _convergence(figs: Figures) -> str | None:
    """Whether the contraction holds, and what the shift buys."""
    worst = _num(figs, "convergence.rate", "worst_c0.4")
    ok = _num(figs, "rq.min_shift", "below_048_ok")
    runs = _num(figs, "rq.min_shift", "below_048_runs")
    if worst is None or ok is None or not runs:
        return None
    text = (f"Gauss-Newton's worst per-step residual ratio at c = 0.4 was {worst:.2f} "
            "(convergence.rate)")
    if ok == runs:
        text += (f"; every one of the {runs:.0f} smaller shifts down to plain ReLU converged "
                 "as well, so the shift buys sparsity, not convergence (rq.min_shift)")
    return text + "."


def _sketch(figs: Figures) -> str | None:
    lo = _num(figs, "sketch.vs_exact", "ops_ratio_min")
    hi = _num(figs, "sketch.vs_exact", "ops_ratio_max")
    if lo is None or hi is None:
        return None
    word = "more" if lo > 1 else "fewer or more"
    return (f"The sketch-preconditioned solver counted {lo:.0f}-{hi:.0f}x the operations of "
            f"the exact step with the bit-parallel Gram ({word}) over the sizes run "
            "(sketch.vs_exact).")


def _shift_cost(figs: Figures) -> str | None:
    """What the papers' shift costs in test error, per data set (paired over splits)."""
    cost = figs.get("rq.shift_generalisation", {}).get("cost")
    if not cost:
        return None
    cells = sorted(((float(d), float(lo), float(hi), ds) for ds, (d, lo, hi) in cost.items()),
                   reverse=True)
    worse = [c for c in cells if c[1] > 0]
    free = [c for c in cells if c[2] <= 0 or c[1] <= 0]
    text = ("The papers' shift c = 0.48 against plain ReLU (c = 0), same splits and "
            "initialisations, changes Gauss-Newton's test MSE by " + ", ".join(
                f"{100 * d:+.0f}% [{100 * lo:+.0f}, {100 * hi:+.0f}] on {ds}"
                for d, lo, hi, ds in cells))
    if worse and free:
        text += (f": it costs test error on {len(worse)} of {len(cells)} data sets and "
                 "nothing measurable on the others")
    elif worse:
        text += ": it costs test error on every data set run"
    return text + " (rq.shift_generalisation)."


#: the findings, in the order the report gives them
FINDINGS: tuple[Callable[[Figures], str | None], ...] = (
    _work, _joint, _end_to_end, _union, _tree, _krr, _shift_cost, _convergence, _sketch)


def findings(figures: Figures) -> list[str]:
    """The sentences `FINDINGS` can write from `figures` (entry id -> its figures)."""
    return [s for s in (f(figures) for f in FINDINGS) if s]
