"""sparsity.init: each input fires m Q(b) <= m^(1-c/2) neurons at initialisation (a
sanity check: E|S_i(0)| = m Q(b) is an identity)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..toolkit import (
    CITE,
    SAME,
    SOURCE_RECONSTRUCTED,
    Entry,
    Plot,
    Series,
    Shown,
    Sizes,
    Table,
    as_sanity,
    color,
    expected_fire,
    group,
    local_slope,
    loglog,
    loglog_fit,
    pow2,
    worst,
)

#: band of the mean fire-set size, in standard errors of a mean over n inputs
SIGMAS = 5.0

SIZES = Sizes(
    profiles=("tiny", "quick", "full", "large"),
    #   tiny              quick                      full                                large
    m=([2**8, 2**10], [2**10, 2**12, 2**14], [2**k for k in range(10, 23, 2)],
       [2**k for k in range(10, 25, 2)]),
    c=([0.4, 0.85], [0.0, 0.2, 0.4, 0.6, 0.85], SAME, SAME),
    n=(8, 32, 64, SAME),
    d=(8, 16, 32, SAME),
    #: c = 0 stops here: half of the n m inner products fire (8.6 GB of fire sets at 2^24)
    m_max_c0=(2**22, SAME, SAME, SAME),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("fire_sets_init", {"m": m, "c": c, "n": s.n, "d": s.d}, seed=1)
            for c in s.c for m in s.m if c > 0 or m <= s.m_max_c0]


@dataclass(frozen=True)
class Values:
    ratios: list        #: mean |S_i| / m Q(b) per run
    zscores: list       #: (ratio - 1) in standard errors of a mean
    band_ok: list       #: |ratio - 1| <= SIGMAS standard errors, per run
    bound_ratio: list   #: max |S_i| / m^(1-c/2) per run
    by_c: dict          #: c -> [(m, mean |S_i|, m Q(b), bound)] sorted by m


def values(results) -> Values:
    ratios, zscores, band_ok, bound_ratio = [], [], [], []
    for r in results:
        res = r.result
        n = len(res.sizes)
        ratio = res.mean / res.mQ
        # standard error of the mean of n binomial(m, Q) counts, relative to m Q
        se = math.sqrt(max(1 - res.Q, 1e-300) / (n * res.mQ))
        ratios.append(ratio)
        zscores.append((ratio - 1) / se)
        band_ok.append(abs(ratio - 1) <= SIGMAS * se)
        bound_ratio.append(res.max / res.bound)
    by_c = {c: sorted((r.params["m"], r.result.mean, r.result.mQ, r.result.bound) for r in rs)
            for c, rs in group(results, lambda r: r.params["c"]).items()}
    return Values(ratios, zscores, band_ok, bound_ratio, by_c)


def decide(v: Values) -> tuple[str, str]:
    band = "holds" if all(v.band_ok) else "fails"
    bound = "holds" if max(v.bound_ratio) <= 1 else "fails"
    return as_sanity(worst([band, bound])), ""


def show(v: Values, verdict: str, reason: str) -> Shown:
    table = Table(["c", "m range", "slope of mean |S_i|", "local slope of m Q(b)", "1 - c/2"])
    slopes = {}
    for c, rows in sorted(v.by_c.items()):
        ms = [x[0] for x in rows]
        if len(ms) >= 2 and all(x[1] > 0 for x in rows):
            fit = loglog_fit(ms, [x[1] for x in rows])
            pred = local_slope(lambda m, c=c: expected_fire(m, c), ms[0], ms[-1])
            slopes[c] = fit.exponent
            table.add(f"{c:g}", f"{pow2(ms[0])}..{pow2(ms[-1])}", fit, f"{pred:.3f}",
                      f"{1 - c / 2:.3f}")
    zmax = max(abs(z) for z in v.zscores)
    measured = (f"the mean fire set is {min(v.ratios):.3f} to {max(v.ratios):.3f} times m Q(b) "
                f"(within {zmax:.2f} standard errors of a mean, at every (m, c)), and the "
                f"largest is at most {max(v.bound_ratio):.3f} m^(1-c/2)")
    rule = (f"consistent if, at every (m, c), the mean of |S_i(0)| over the n inputs is "
            f"within {SIGMAS:g} standard errors of a mean of m Q(b) "
            f"(|ratio - 1| <= {SIGMAS:g} sqrt((1 - Q) / (n m Q))) and the "
            "largest |S_i(0)| is at most m^(1-c/2); inconsistent otherwise. "
            f"Here: {sum(v.band_ok)}/{len(v.band_ok)} in band, bound ratio max "
            f"{max(v.bound_ratio):.3f}.")
    intro = ("E|S_i(0)| = m Q(b) is an identity (each <w_r, x_i> is N(0, 1)); this entry "
             "checks that the experiments draw what they claim to draw. The bound "
             "m^(1-c/2) holds with room to spare: the true size m Q(b) is smaller by "
             "about b sqrt(2 pi), and its local slope at feasible m is below 1 - c/2 "
             "(the asymptotic exponent).")
    series = []
    for k, (c, rows) in enumerate(sorted(v.by_c.items())):
        ms = [x[0] for x in rows]
        series += [Series(ms, [x[1] for x in rows], f"c={c:g} measured", "o", color(k)),
                   Series(ms, [x[2] for x in rows], None, "-", color(k), alpha=0.7),
                   Series(ms, [x[3] for x in rows], None, "--", color(k), alpha=0.5)]
    plot = Plot([loglog(series, "width m", "mean |S_i(0)|")],
                "Fire-set size at initialisation against m: dots measured, solid m Q(b), "
                "dashed the bound m^(1-c/2).")
    return Shown("E|S_i(0)| = m Q(b) <= m^(1-c/2)", measured, rule, [intro, table],
                 {"ratio_min": min(v.ratios), "ratio_max": max(v.ratios), "z_max": zmax,
                  "bound_ratio_max": max(v.bound_ratio),
                  **{f"slope_c{c:g}": e for c, e in slopes.items()}}, plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['DHSWZ']}: E|S_i(0)| = m Q(b) is an identity (each inner product with "
          "x_i is N(0, 1)); the shift b = sqrt(c ln m) and the bound m^(1-alpha), alpha ="
          f" c/2, are {SOURCE_RECONSTRUCTED}. {CITE['REVIEW']}: \"The shifted parameter "
          "should be appropriately chosen (typically, [formula omitted in the source]) to"
          " ensure sparsity in the activations\"; the algorithm identifies activated "
          "neurons \"leveraging the sparsity of shifted ReLU activations\"")

ENTRY = Entry(
    id="sparsity.init", kind="sanity", paper="DHSWZ",
    statement="With b = sqrt(c ln m), each input fires few neurons at initialisation: "
              "E|S_i(0)| = m Q(b) <= m^(1-alpha), alpha = c/2.",
    source=SOURCE,
    experiment="Draw W ~ N(0, I), n inputs on the sphere; count |S_i(0)| over m and c.",
    rule=f"Mean |S_i(0)| over the n inputs within {SIGMAS:g} standard errors of "
         "a mean of m Q(b), and max |S_i(0)| <= m^(1-c/2), at every size.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "SIGMAS", "SIZES"]
