"""cpi.sketched_gn: the counted operations of a sketched Gauss-Newton step grow no faster
than m n d + n^3 along m, n and d."""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..toolkit import CITE, Entry, Shown, Sizes
from ..toolkit.cost import CPI_EXPONENT_TOL, CpiValues, cpi_decide, cpi_shown, cpi_values, speed_runs

#: Six sizes per axis (quick and full), around the base size of cpi.sublinear_gn's grid.
SIZES = Sizes(
    #     tiny                quick                          full
    m=([2**8, 2**9, 2**10], [2**k for k in range(9, 14)],
       [2**k for k in range(12, 21, 2)] + [2**13, 2**15]),
    n=([4, 8], [8, 12, 16, 24, 32], [16, 24, 32, 48, 64, 96, 128]),
    d=([4, 8], [4, 8, 12, 16, 24], [8, 12, 16, 24, 32, 48, 64]),
    #: (m, n, d) where the other two axes sit
    base=((2**9, 8, 8), (2**11, 16, 12), (2**16, 64, 32)),
    #: timed steps per run
    steps=(2, 3, 5),
)


def runs(s) -> list[RunSpec]:
    return speed_runs("sketched_gn", {}, s)


@dataclass(frozen=True)
class Values:
    cpi: CpiValues
    iterations: list    #: CG iterations per step seen (solver products / 2), as sorted text


def values(results) -> Values:
    return Values(cpi_values(results),
                  sorted({str(r.result.counts.get("solver_products", 0) // 2) for r in results}))


def decide(v: Values) -> tuple[str, str]:
    return cpi_decide(v.cpi)


def show(v: Values, verdict: str, reason: str) -> Shown:
    return cpi_shown(v.cpi, "O(m n d + n^3) per iteration", [
        "The constant hides the conjugate-gradient iterations: each costs two dense "
        "products of O(m n d), so a step is about 2 x (iterations) x m n d; iterations per "
        "step: " + ", ".join(v.iterations)])


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['BPSW']}, as quoted in {CITE['DHSWZ']}, abstract: \"the previous work of "
          "[Brand, Peng, Song, and Weinstein, ITCS'2021] requires [~ m n d + n^3] time "
          "per iteration\"; its own abstract claims \"an [Õ(mn)]-time backpropagation "
          "algorithm for training (mildly overparametrized) ReLU networks, which is "
          "near-linear in the dimension (mn) of the full gradient (Jacobian) matrix\"")

ENTRY = Entry(
    id="cpi.sketched_gn", kind="claim", paper="BPSW",
    statement="Sketched Gauss-Newton costs ~ m n d + n^3 per iteration.",
    source=SOURCE,
    experiment="Per-step counted operations and time of sketched_gn (CountSketch "
               "preconditioner, dense J operator) with m, n, d varied one at a time.",
    rule=f"Fitted exponent of counted operations <= the slope of m n d + n^3 "
         f"(+{CPI_EXPONENT_TOL:g}) along m, n and d.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "SIZES"]
