"""cpi.alpha_joint: is the sublinear step's cost m^(1-alpha) n d with alpha in (0.01, 1) a
fixed constant? A joint fit over an (m, n) grid of the paper's method's counted operations,
within each regime of n Q(b) (full profile to m = 2^18, n = 64; study to 2^22, 512)."""

from __future__ import annotations

from ...bench.spec import RunSpec
from ...core.trainers.presets import PAPER_SUBLINEAR, PRESETS
from ..fitting import PlaneFit
from ..rules import worst
from ..toolkit import SAME, Entry, Shown, Sizes, Table, pow2
from ..toolkit import joint as J
from ..toolkit.cost import COUNT_SEEDS, CPI_EXPONENT_TOL
from .cpi_sublinear_gn import PAPER_OPTIONS, SOURCE

#: the abstract's lower end of alpha: "alpha in (0.01, 1)"
ALPHA_MIN = 0.01

SIZES = Sizes(
    profiles=("tiny", "quick", "full", "study"),
    m=([2**8, 2**10], [2**10, 2**12, 2**14], [2**k for k in range(10, 19, 2)],
       [2**k for k in range(10, 23, 2)]),
    n=([4, 8], [8, 16, 32], [8, 16, 32, 64], [2**k for k in range(3, 10)]),
    c=((0.4,), (0.4, 0.48), (0.2, 0.4, 0.48), SAME),
    d=(8, 16, SAME, SAME),
    seeds=((COUNT_SEEDS[0],), COUNT_SEEDS[:2], SAME, COUNT_SEEDS),
    #: the n of the paths m = n^k, by k (cells off the grid; fitted along n only)
    paths=({}, {3: [8, 16, 24]}, {3: [8, 16, 32, 64], 4: [8, 16]},
           {3: [8, 16, 32, 64, 128], 4: [8, 16, 32, 64]}),
)


def cells(s) -> list:
    """Every (c, m, n) of the grid and the paths, in order, before the memory bound."""
    out = [(c, m, n) for c in s.c for m in s.m for n in s.n]
    out += [(c, n**k, n) for c in s.c for k, ns in s.paths.items() for n in ns]
    return list(dict.fromkeys(out))


def runs(s) -> list[RunSpec]:
    return [RunSpec("step_counts", {"method": "sublinear_gn", "options": PAPER_OPTIONS, "steps": 3,
                                    "c": c, "m": m, "n": n, "d": s.d}, seed=seed)
            for c, m, n in J.kept(PRESETS[PAPER_SUBLINEAR], cells(s), s.d) for seed in s.seeds]


def values(results) -> J.JointValues:
    return J.joint_values(results, PRESETS[PAPER_SUBLINEAR], cells(results.sizes))


def joint_verdict(f: PlaneFit, claimed_n: float) -> str:
    """The rule on one regime's fit, `claimed_n` the claim's own n exponent over the same
    cells: fails if beta_n's 95% interval lies above claimed_n + the slack; holds if
    alpha_eff = 1 - beta_m has its interval above ALPHA_MIN and beta_n's is at or below
    claimed_n + the slack; inconclusive otherwise.

    >>> F = lambda m, n: PlaneFit(m[0], n[0], 1.0, m[1], m[2], n[1], n[2], 9, 9)
    >>> joint_verdict(F((0.8, 0.78, 0.82), (1.0, 0.95, 1.05)), 1.0)
    'holds'
    >>> joint_verdict(F((0.8, 0.78, 0.82), (2.0, 1.9, 2.1)), 1.0)
    'fails'
    >>> joint_verdict(F((0.8, 0.78, 0.82), (2.0, 1.9, 2.1)), 2.95)      # where n^3 dominates
    'holds'
    >>> joint_verdict(F((1.0, 0.98, 1.02), (1.0, 0.95, 1.05)), 1.0)      # alpha_eff not above 0.01
    'inconclusive'
    """
    limit = claimed_n + CPI_EXPONENT_TOL
    if f.n_low > limit:
        return "fails"
    return "holds" if 1 - f.m_high > ALPHA_MIN and f.n_high <= limit else "inconclusive"


def _verdict(f: J.RegimeFit) -> str:
    return joint_verdict(f.fit, f.claimed[1])


def decide(v: J.JointValues) -> tuple[str, str]:
    fitted = [f for f in v.fits if f.fit]
    if not fitted:
        return "inconclusive", "no regime has enough cells for a joint fit"
    return worst(_verdict(f) for f in fitted), ""


RULE = (f"On the paper's method (preset \"paper sublinear\"), per c and per regime (sparse: "
        f"n Q(b) <= {J.SPARSE_MAX:g}; dense: n Q(b) >= {J.DENSE_MIN:g}; never across): fit log ops = "
        f"beta_m log m + beta_n log n + const with 95% bootstrap intervals, and the claim's own "
        f"exponents by the same fit of m^(1-c/2) n d + n^3 over the same cells (its beta_n is 1 "
        f"where the first term dominates, 3 where n^3 does); holds if alpha_eff = 1 - beta_m lies "
        f"above {ALPHA_MIN:g} and beta_n at or below the claim's + {CPI_EXPONENT_TOL:g}; fails if "
        f"beta_n lies above it; the least favourable over the fits.")


def _words(f: J.RegimeFit) -> str:
    a, lo, hi = f.alpha
    return (f"in the {f.regime} regime at c = {f.c:g} the counted work grows as m^{f.fit.beta_m:.2f} "
            f"n^{f.fit.beta_n:.2f}: beta_n [{f.fit.n_low:.2f}, {f.fit.n_high:.2f}] where the claim "
            f"allows n^{f.claimed[1]:.2f} (+ {CPI_EXPONENT_TOL:g}), alpha_eff {a:.2f} [{lo:.2f}, "
            f"{hi:.2f}] (c/2 = {f.c / 2:g})")


def show(v: J.JointValues, verdict: str, reason: str) -> Shown:
    fitted = sorted((f for f in v.fits if f.fit), key=lambda f: (  # failures, sparse regime first
        {"fails": 0, "inconclusive": 1}.get(_verdict(f), 2), f.regime != "sparse",
        f.claimed[1] - f.fit.beta_n))
    measured = reason if not fitted else "; ".join(_words(f) for f in fitted)
    table = Table(["c", "regime", "cells", "alpha_eff = 1 - beta_m", "the claim's (c/2 = alpha)",
                   "beta_n", "the claim's", "verdict"])
    figures = {}
    for f in v.fits:
        if not f.fit:
            table.add(f.c, f.regime, f.cells, f"fewer than {J.MIN_CELLS} separable cells", "", "", "",
                      "not fitted")
            continue
        a, lo, hi = f.alpha
        table.add(f.c, f.regime, f.cells, f"{a:.3f} [{lo:.3f}, {hi:.3f}]", f"{1 - f.claimed[0]:.3f}",
                  f"{f.fit.beta_n:.3f} [{f.fit.n_low:.3f}, {f.fit.n_high:.3f}]", f"{f.claimed[1]:.3f}",
                  _verdict(f))
        figures[f"alpha_eff_{f.regime}_c{f.c:g}"] = a
        figures[f"beta_n_{f.regime}_c{f.c:g}"] = f.fit.beta_n
    paths = Table(["c", "path", "exponent of counted ops in n", "claimed (m^(1-c/2) n d + n^3)",
                   "the dense step's (m n^2 d + n^3)"])
    for p in v.paths:
        paths.add(p.c, f"m = n^{p.k}", p.ops, f"{p.claimed:.2f}", f"{p.dense:.2f}")
        figures[f"path_n{p.k}_c{p.c:g}"] = p.ops.exponent
    left = ", ".join(f"(c={c:g}, m={pow2(m)}, n={n}: {gib:.1f} GiB)" for c, m, n, gib in v.left_out)
    notes = [f"d = {v.d}; counted operations: the mean of steps 1-3 from initialisation, one "
             "point per seed. Cells with SPARSE_MAX < n Q(b) < DENSE_MIN are run and drawn but "
             "fitted in neither regime. In the sparse regime the claim's first term dominates (its "
             "beta_n is 1); in the dense regime, at these sizes, its n^3 does, and the method's "
             "sketch and QR count (s + n) n^2 with s = 4 n ln n rows: n^3 log n.", table, paths,
             f"Left out (the paper's method would hold more than {J.MEMORY_MAX / 2**30:g} GiB): "
             + (left or "none") + "."]
    return Shown("O(m^(1-alpha) n d + n^3) per iteration, alpha in (0.01, 1) a fixed constant",
                 measured, RULE, notes, figures, J.joint_plot(v))


ENTRY = Entry(
    id="cpi.alpha_joint", kind="claim", paper="DHSWZ",
    statement="The sublinear Gauss-Newton step costs m^(1-alpha) n d (+ n^3) with alpha in "
              "(0.01, 1) a fixed constant: a joint fit over m and n.",
    source=SOURCE,
    experiment="Counted operations of the paper's method (preset \"paper sublinear\") over an "
               "(m, n) grid at each c, steps 1-3 from initialisation, with extra cells along "
               "m = n^3 and m = n^4, d = 16, at c = 0.2, 0.4, 0.48: full m = 2^10..2^18, n = 8..64, "
               "two seeds; study m = 2^10..2^22, n = 8..512, three seeds.",
    rule=RULE, sizes=SIZES, runs=runs, values=values, decide=decide, show=show,
    measured_on="the paper's method as specified: preset \"paper sublinear\" (correlation "
                "tree, tensor-sketch-preconditioned CG, implicit weights)")

__all__ = ["ALPHA_MIN", "ENTRY", "RULE", "SIZES", "cells", "joint_verdict"]
