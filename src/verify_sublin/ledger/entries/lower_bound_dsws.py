"""lower_bound.dsws: under SETH or OVC no dynamic structure is much faster than the tree
(untestable: a conditional lower bound; tree.cost's measured costs are shown)."""

from __future__ import annotations

from ..toolkit import CITE, Entry, Shown
from ..toolkit.tree import query_constant
from .tree_cost import SIZES, runs


def values(results) -> list[float]:
    """The measured query constant visits / (sum |S_i| log2 m) of each of tree.cost's runs."""
    return [query_constant(r.result) for r in results]


def decide(costs: list[float]) -> tuple[str, str]:
    return "untestable", "a conditional lower bound"


def show(costs: list[float], verdict: str, reason: str) -> Shown:
    return Shown(
        "no dynamic structure is much faster (conditional on SETH / OVC)",
        f"measured query cost {min(costs):.2f}..{max(costs):.2f} x |S_i| log2 m "
        "(the upper bound's form)",
        "untestable: a conditional lower bound says nothing any finite experiment can "
        "refute; the measured costs of our structure (tree.cost) follow the upper bounds.",
        ["The same runs as tree.cost."])


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['DHSWZ']}, abstract (ICLR 2025 version): a \"lower bound for the dynamic "
          "sensitive weight searching data structure we make use of, showing that under "
          "SETH or OVC from computational complexity, one cannot substantially improve "
          "our algorithm\"")

ENTRY = Entry(
    id="lower_bound.dsws", kind="claim", paper="DHSWZ",
    statement="Under SETH or OVC, the dynamic sensitive weight searching problem cannot be "
              "solved substantially faster than the tree does.",
    source=SOURCE,
    experiment="None can test a conditional lower bound; the tree's measured costs are shown "
               "against the upper bounds.",
    rule="untestable (conditional complexity statement).",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "SIZES"]
