"""union.size: the union U of the fire sets, the neurons a step modifies, has E|U| =
m P_w(max_i <w, x_i> > b) for the inputs used (a sanity check of an identity; the
speed-up bound m / |U| it implies is shown)."""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..toolkit import CITE, SAME, Entry, Shown, Sizes, pow2
from ..toolkit.union import match_runs, sweep_n, union_plot, union_rule, union_table

#: band of each measured |U| about m p_hat, in standard deviations combining the
#: binomial spread of |U| with the Monte Carlo error of p_hat
SIGMAS = 4.0
#: Monte Carlo draws of w per neuron of the largest width of a run: the error of m p_hat
#: is then at most 1/4 of the binomial spread of |U| (sqrt(m / draws))
MC_FACTOR = 16
#: the seed of the fire_sets_init runs, which draw their inputs sphere_data(n, d, seed)
DATA_SEED = 16
#: the Monte Carlo's own seed (its draws of w are independent of the runs' weights)
MC_SEED = 61
#: the shift constants run
CS = (0.4, 0.6, 0.85)

SIZES = Sizes(
    profiles=("tiny", "quick", "full", "large"),
    #   tiny                 quick                        full                     large
    m=([2**8, 2**9, 2**10], [2**10, 2**12, 2**14, 2**16], [2**k for k in range(10, 21, 2)],
       [2**k for k in range(10, 25, 2)]),
    n=([8, 16, 32, 64], [8, 16, 32, 64, 128], [8, 16, 32, 64, 128, 256], SAME),
    #: the width of the sweep over n
    m0=(2**10, 2**14, 2**16, SAME),
    #: the n of the sweep over m
    n0=(64, SAME, SAME, SAME),
    d=(8, 16, 32, SAME),
)


def runs(s) -> list[RunSpec]:
    specs = [RunSpec("fire_sets_init", {"m": m, "c": c, "n": s.n0, "d": s.d}, seed=DATA_SEED)
             for c in CS for m in s.m]
    specs += [RunSpec("fire_sets_init", {"m": s.m0, "c": c, "n": n, "d": s.d}, seed=DATA_SEED)
              for c in CS for n in s.n if n != s.n0]
    return specs + [RunSpec("union_probability", {
        "n": n, "d": s.d, "data_seed": DATA_SEED, "ms": ms, "cs": list(CS),
        "samples": MC_FACTOR * max(ms)}, seed=MC_SEED)
        for n, ms in [(s.n0, list(s.m))] + [(n, [s.m0]) for n in s.n if n != s.n0]]


@dataclass(frozen=True)
class Values:
    runs: list          #: UnionRun per fire_sets_init run with an estimate, by (n, c, m)
    missing: list       #: (m, n, c) of runs without one
    n0: int             #: the n of the sweep over m


def values(results) -> Values:
    runs, missing = match_runs(results)
    return Values(runs, missing, sweep_n(runs))


def decide(v: Values) -> tuple[str, str]:
    if v.missing:
        return "inconclusive", f"no Monte Carlo estimate for {len(v.missing)} runs"
    return union_rule([(x.union, x.m, x.p, x.se) for x in v.runs], SIGMAS)


def show(v: Values, verdict: str, reason: str) -> Shown:
    sweep = [x for x in v.runs if x.n == v.n0]
    mmax = max((x.m for x in sweep), default=0)
    top = {x.c: x for x in sweep if x.m == mmax}
    nmax = max((x.n for x in v.runs), default=0)
    wide = [x for x in v.runs if x.n == nmax and x.n != v.n0]
    zmax = max((abs(x.z) for x in v.runs), default=0.0)
    measured, gap = "no run has a Monte Carlo estimate", ""
    if top:
        a, *rest = [top[c] for c in sorted(top)]
        measured = (
            f"the union is {a.union / a.m:.3f} m at m = {pow2(a.m)}, n = {a.n}, c = {a.c:g} "
            f"(speed-up bound m/|U| = {a.bound:.1f}x; "
            + ", ".join(f"{x.bound:.1f}x at c = {x.c:g}" for x in rest)
            + (f"; {min(x.bound for x in wide):.1f}x..{max(x.bound for x in wide):.1f}x at "
               f"n = {nmax}, m = {pow2(wide[0].m)}" if wide else "") + "), "
            + ("as" if verdict == "consistent" else "not as") + " the identity predicts "
            f"({a.p:.3f} m; |z| <= {zmax:.1f} over {len(v.runs)} runs, band {SIGMAS:g} "
            f"sigma); the independence approximation reads {a.independence:.3f} m")
        gap = (f" ({a.independence:.3f} m against {a.p:.3f} m at m = {pow2(a.m)}, "
               f"c = {a.c:g}, n = {a.n})")
    rule = (f"consistent if every measured |U| lies within {SIGMAS:g} standard deviations "
            "of m p_hat, the deviation combining the binomial spread m p (1 - p) of |U| "
            "(given the inputs, the neurons join U independently) with the Monte Carlo "
            f"error (m se)^2 of p_hat ({MC_FACTOR} draws of w per neuron of the largest "
            "width, so that error is at most 1/4 of the spread); inconsistent otherwise. "
            f"Here: {reason}.")
    intro = ("E|U| = m P_w(max_i <w, x_i> > b), w ~ N(0, I_d), is an identity for fixed "
             "inputs; p_hat estimates it by Monte Carlo over w for the very inputs the runs "
             "draw. The independence approximation 1 - (1 - Q(b))^n treats the n events "
             "<w, x_i> > b as independent; correlated inputs (n > d on the sphere) overlap "
             f"more, so it overstates |U|{gap}.")
    note = ("Every neuron in U has its n inner products refreshed in a step, so a step "
            "costs about n |U| (d + log m) and its speed-up over a dense step is at most "
            "m / |U|: where n Q(b) << 1, |U| ~ n m Q(b) (sublinear in m, linear in n); "
            "where n Q(b) >~ 1 it approaches m. The papers give no number for \"small\"; "
            "the table gives |U| / m and the bound.")
    return Shown(
        "E|U| = m P_w(max_i <w, x_i> > b) for the inputs used; a step's speed-up is at "
        "most m / |U|", measured, rule, [intro, union_table(v.runs, v.n0), note],
        {"z_max": zmax, **{f"fraction_c{c:g}": x.union / x.m for c, x in top.items()},
         **{f"speedup_bound_c{c:g}": x.bound for c, x in top.items()},
         **{f"independence_c{c:g}": x.independence for c, x in top.items()}},
        union_plot(v.runs, v.n0))


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['DHSWZ']}, abstract: \"each iteration corresponds to modifying a small "
          f"subset of the nodes in the tree\"; {CITE['REVIEW']}: the method \"proposes only "
          "updating active neurons\"; the identity E|U| = m P_w(max_i <w, x_i> > b) and its "
          "independence approximation m (1 - (1 - Q(b))^n) are derived here, not taken from "
          "the paper")

ENTRY = Entry(
    id="union.size", kind="sanity", paper="DHSWZ",
    statement="The union U of the fire sets, the neurons a step modifies, has E|U| = "
              "m P_w(max_i <w, x_i> > b), w ~ N(0, I_d), for the inputs used; a step's "
              "speed-up over a dense one is at most m / |U|.",
    source=SOURCE,
    experiment=f"|U| of the fire sets at initialisation (fire_sets_init, seed {DATA_SEED}: "
               "inputs sphere_data(n, d, seed)) against m (n = 64) and against n (fixed m), "
               "beside m p_hat, p_hat a Monte Carlo estimate of P_w(max_i <w, x_i> > b) over "
               f"{MC_FACTOR} draws of w per neuron of the largest width for the same inputs "
               f"(union_probability, its own seed {MC_SEED}), and the independence "
               "approximation m (1 - (1 - Q(b))^n). Budget of the Monte Carlo (about 1.1-1.2 us "
               "per draw at n = 64, d = 32, 2.6 us at n = 256): quick ~2 s, full ~26 s "
               "(2^24 draws at n = 64: 18 s; 2^20 per n of the n sweep: 8 s), large ~5.5 "
               "min (2^28 draws at n = 64: 321 s).",
    rule=f"Every measured |U| within {SIGMAS:g} standard deviations (binomial spread and "
         "Monte Carlo error) of m p_hat.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["CS", "DATA_SEED", "ENTRY", "MC_FACTOR", "MC_SEED", "SIGMAS", "SIZES"]
