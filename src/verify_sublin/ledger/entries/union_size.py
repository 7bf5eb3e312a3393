"""union.size: the union U of the fire sets, the neurons a step modifies, grows
sublinearly in m (fitted at initialisation against m and against n)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from ...bench.spec import RunSpec
from ...core.model import shift_for
from ..toolkit import CITE, SAME, Entry, Shown, Sizes, Table, loglog_fit, pow2

#: the fitted exponent of |U| in m must have its interval below this
EXPONENT_MAX = 1.0
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
    specs = [RunSpec("fire_sets_init", {"m": m, "c": c, "n": s.n0, "d": s.d}, seed=16)
             for c in CS for m in s.m]
    return specs + [RunSpec("fire_sets_init", {"m": s.m0, "c": c, "n": n, "d": s.d}, seed=16)
                    for c in CS for n in s.n if n != s.n0]


def union_model(m: int, n: int, c: float) -> float:
    """m (1 - (1 - Q(b))^n): the expected union of n independent fire sets."""
    return m * -math.expm1(n * math.log1p(-norm.sf(shift_for(int(m), c))))


@dataclass(frozen=True)
class Values:
    fits: dict          #: c -> LogLogFit of |U| against m at fixed n
    top: dict           #: c -> |U| / m at the largest m
    rows: list          #: (c, "m" or "n", fixed n or m, smallest, largest size, fit, |U| / m, model / m)


def values(results) -> Values:
    widths = {}                     # the m sweep's n is the one run at most widths
    for r in results:
        widths.setdefault(r.params["n"], set()).add(r.params["m"])
    n0 = max(widths, key=lambda n: len(widths[n]))
    by_m, by_n = {}, {}
    for r in results:
        p = r.params
        row = (p["m"], p["n"], r.result.union, union_model(p["m"], p["n"], p["c"]))
        if p["n"] == n0:
            by_m.setdefault(p["c"], []).append(row)
        by_n.setdefault(p["c"], []).append(row)
    fits, top, out = {}, {}, []
    for c, rows in sorted(by_m.items()):
        rows.sort()
        if len({x[0] for x in rows}) < 2:
            continue
        fits[c] = loglog_fit([x[0] for x in rows], [max(1, x[2]) for x in rows])
        m, n, u, model = rows[-1]
        top[c] = u / m
        out.append((c, "m", n, rows[0][0], m, fits[c], u / m, model / m))
    for c, rows in sorted(by_n.items()):
        m_fixed = max((x[0] for x in rows), key=lambda m: sum(x[0] == m for x in rows))
        rows = sorted((x for x in rows if x[0] == m_fixed), key=lambda x: x[1])
        if len({x[1] for x in rows}) < 2:
            continue
        fit = loglog_fit([x[1] for x in rows], [max(1, x[2]) for x in rows])
        m, n, u, model = rows[-1]
        out.append((c, "n", m, rows[0][1], n, fit, u / m, model / m))
    return Values(fits, top, out)


def union_verdict(fits) -> tuple[str, str]:
    """fits: {c: LogLogFit of |U| against m}. holds if every interval lies below
    `EXPONENT_MAX`; fails if one reaches it.

    >>> from verify_sublin.ledger.fitting import LogLogFit
    >>> union_verdict({0.4: LogLogFit(0.9, 1, 0.88, 0.92, 4, 4)})[0]
    'holds'
    >>> union_verdict({0.4: LogLogFit(1.0, 1, 0.99, 1.0, 4, 4)})[0]
    'fails'
    """
    if not fits:
        return "inconclusive", "fewer than two widths per c"
    reach = {c: f for c, f in fits.items() if f.high >= EXPONENT_MAX}
    if reach:
        return "fails", "; ".join(f"c={c:g}: {f}" for c, f in reach.items())
    return "holds", f"every interval below {EXPONENT_MAX:g}"


def decide(v: Values) -> tuple[str, str]:
    return union_verdict(v.fits)


def show(v: Values, verdict: str, reason: str) -> Shown:
    table = Table(["c", "against", "sizes", "fitted exponent of |U|",
                   "|U| / m at the largest size", "model m (1 - (1 - Q(b))^n) / m there"])
    for c, axis, fixed, lo, hi, fit, frac, model in v.rows:
        if axis == "m":
            table.add(f"{c:g}", f"m (n = {fixed})", f"{pow2(lo)}..{pow2(hi)}", fit,
                      f"{frac:.3f}", f"{model:.3f}")
        else:
            table.add(f"{c:g}", f"n (m = {pow2(fixed)})", f"{lo}..{hi}", fit, f"{frac:.3f}",
                      f"{model:.3f}")
    note = ("Every neuron in U has its n inner products refreshed in a step, so a step "
            "costs about n |U| (d + log m); where n Q(b) << 1, |U| ~ n m Q(b) (sublinear "
            "in m, linear in n), and where n Q(b) >~ 1 it approaches m.")
    return Shown(
        "a step modifies a small subset: |U| = |union of the S_i| sublinear in m",
        "fitted exponents of |U| in m: " + ", ".join(f"c={c:g} {f}" for c, f in v.fits.items())
        + "; |U| / m at the largest m: " + ", ".join(f"c={c:g} {u:.3f}" for c, u in v.top.items()),
        f"fit log |U| against log m at fixed n (fire sets at initialisation, one seed per "
        f"size) with a 95% bootstrap interval: holds if the interval lies below "
        f"{EXPONENT_MAX:g} at every c > 0 run; fails if it reaches {EXPONENT_MAX:g} at some "
        f"c. Whether |U| / m is \"small\" at the sizes run is for the reader (the table gives "
        f"it). Here: {reason}.", [table, note],
        {**{f"exp_c{c:g}": f.exponent for c, f in v.fits.items()},
         **{f"fraction_c{c:g}": u for c, u in v.top.items()}})


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['DHSWZ']}, abstract: \"each iteration corresponds to modifying a small "
          f"subset of the nodes in the tree\"; {CITE['REVIEW']}: the method \"proposes only "
          "updating active neurons\"; the size m (1 - (1 - Q(b))^n) of the union is "
          "derived here, not taken from the paper")

ENTRY = Entry(
    id="union.size", kind="claim", paper="DHSWZ",
    statement="Each iteration modifies a small subset of the neurons: the union U of the fire "
              "sets, about m (1 - (1 - Q(b))^n), grows sublinearly in m.",
    source=SOURCE,
    experiment="|U| at initialisation against m (n = 64) and against n (fixed m), beside the "
               "model m (1 - (1 - Q(b))^n).",
    rule=f"Fitted exponent of |U| in m has its 95% interval below {EXPONENT_MAX:g} at "
         "every c > 0 run.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["CS", "ENTRY", "EXPONENT_MAX", "SIZES", "union_model", "union_verdict"]
