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
#: the claimed exponent of n (m^(1-alpha) n d), before the cost-per-iteration slack
BETA_N_CLAIMED = 1.0

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
    s, by = results.sizes, {}
    for r in results:
        by.setdefault((r.params["c"], r.params["m"], r.params["n"]), []).append(r.result)
    found = [J.Cell(c, m, n, tuple(x.total_ops for x in rs), sum(x.union_size for x in rs) / len(rs))
             for (c, m, n), rs in sorted(by.items())]
    off = {(n**k, n) for k, ns in s.paths.items() for n in ns} - {
        (m, n) for m in s.m for n in s.n}                 # cells on a path only
    on = [x for x in found if (x.m, x.n) not in off]
    grid = (sorted({x.m for x in on}), sorted({x.n for x in on}))
    return J.JointValues(s.d, grid, found, J.fits_of(found, grid), J.paths_of(found, s.paths, s.d),
                         J.left_out(PRESETS[PAPER_SUBLINEAR], cells(s), s.d))


def joint_verdict(f: PlaneFit) -> str:
    """The rule on one regime's fit: fails if beta_n's 95% interval lies above 1 + the
    slack; holds if alpha_eff = 1 - beta_m has its interval above ALPHA_MIN and beta_n's
    is at or below 1 + the slack; inconclusive otherwise.

    >>> F = lambda m, n: PlaneFit(m[0], n[0], 1.0, m[1], m[2], n[1], n[2], 9, 9)
    >>> joint_verdict(F((0.8, 0.78, 0.82), (1.0, 0.95, 1.05)))
    'holds'
    >>> joint_verdict(F((0.8, 0.78, 0.82), (2.0, 1.9, 2.1)))
    'fails'
    >>> joint_verdict(F((1.0, 0.98, 1.02), (1.0, 0.95, 1.05)))      # alpha_eff not above 0.01
    'inconclusive'
    """
    limit = BETA_N_CLAIMED + CPI_EXPONENT_TOL
    if f.n_low > limit:
        return "fails"
    return "holds" if 1 - f.m_high > ALPHA_MIN and f.n_high <= limit else "inconclusive"


def decide(v: J.JointValues) -> tuple[str, str]:
    fitted = [f for f in v.fits if f.fit]
    if not fitted:
        return "inconclusive", "no regime has enough cells for a joint fit"
    return worst(joint_verdict(f.fit) for f in fitted), ""


RULE = (f"On the paper's method (preset \"paper sublinear\"), per c and per regime (sparse: "
        f"n Q(b) <= {J.SPARSE_MAX:g}; dense: n Q(b) >= {J.DENSE_MIN:g}; never across): fit log ops = "
        f"beta_m log m + beta_n log n + const with 95% bootstrap intervals; holds if alpha_eff = "
        f"1 - beta_m lies above {ALPHA_MIN:g} and beta_n at or below {BETA_N_CLAIMED:g} + "
        f"{CPI_EXPONENT_TOL:g}; fails if beta_n lies above it; the least favourable over the fits.")


def _words(f: J.RegimeFit) -> str:
    a, lo, hi = f.alpha
    return (f"in the {f.regime} regime at c = {f.c:g} the counted work grows as m^{f.fit.beta_m:.2f} "
            f"n^{f.fit.beta_n:.2f}: alpha_eff {a:.2f} [{lo:.2f}, {hi:.2f}] (claimed c/2 = "
            f"{f.c / 2:g}), beta_n {f.fit.beta_n:.2f} [{f.fit.n_low:.2f}, {f.fit.n_high:.2f}] where the "
            f"claim allows {BETA_N_CLAIMED:g} (+ {CPI_EXPONENT_TOL:g})")


def show(v: J.JointValues, verdict: str, reason: str) -> Shown:
    fitted = sorted((f for f in v.fits if f.fit), key=lambda f: (
        {"fails": 0, "inconclusive": 1}.get(joint_verdict(f.fit), 2), -f.fit.beta_n))
    measured = (reason if not fitted else _words(fitted[0]) + "".join(
        f"; {_words(f)}" for f in fitted[1:]))
    table = Table(["c", "regime", "cells", "alpha_eff = 1 - beta_m", "claimed alpha = c/2", "beta_n",
                   "verdict"])
    figures = {}
    for f in v.fits:
        if not f.fit:
            table.add(f.c, f.regime, f.cells, f"fewer than {J.MIN_CELLS} separable cells", f.c / 2, "",
                      "not fitted")
            continue
        a, lo, hi = f.alpha
        table.add(f.c, f.regime, f.cells, f"{a:.3f} [{lo:.3f}, {hi:.3f}]", f.c / 2,
                  f"{f.fit.beta_n:.3f} [{f.fit.n_low:.3f}, {f.fit.n_high:.3f}]", joint_verdict(f.fit))
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
             "fitted in neither regime.", table, paths,
             f"Left out (the paper's method would hold more than {J.MEMORY_MAX / 2**30:g} GiB): "
             + (left or "none") + "."]
    return Shown("O(m^(1-alpha) n d) per iteration, alpha in (0.01, 1) a fixed constant",
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

__all__ = ["ALPHA_MIN", "BETA_N_CLAIMED", "ENTRY", "RULE", "SIZES", "cells", "joint_verdict"]
