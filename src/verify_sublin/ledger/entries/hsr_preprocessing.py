"""hsr.preprocessing: half-space reporting answers the fire-set queries in m^(4/5) n d
with data preprocessing (not tested: its mechanism and bound are not in the texts we
have, so a structure built here would test our construction; no runs)."""

from __future__ import annotations

from ...bench.spec import RunSpec
from ..toolkit import CITE, SOURCE_RECONSTRUCTED, Entry, Shown, Sizes

#: no runs at any profile
SIZES = Sizes()


def runs(s) -> list[RunSpec]:
    return []


def values(results) -> None:
    return None


#: why no structure is built: what the texts we have leave out
MISSING = ("the mechanism of the data-preprocessing structure and its m^(4/5) n d bound "
           "are not in the texts we have (of Song, Yang, Zhang only the title, in two "
           "reference lists), so a structure built here would test our construction, not "
           "the paper's")


def decide(v: None) -> tuple[str, str]:
    return "not tested", MISSING


def show(v: None, verdict: str, reason: str) -> Shown:
    return Shown(
        "m^(4/5) n d per query batch",
        "not measured: neither the structure nor its bound is in the texts we have",
        f"not tested: {reason}. An experiment could test the bound given the structure; "
        "the texts add only, through the title of Alman et al. in the same reference "
        "lists (\"Bypass Exponential Time Preprocessing\"), that such preprocessing can "
        "take exponential time. The correlation tree "
        "(tree.cost) and a half-space search over the weights (hsr.weights) answer the "
        "same queries.")


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['SYZ']}; the costs are {SOURCE_RECONSTRUCTED}")

ENTRY = Entry(
    id="hsr.preprocessing", kind="claim", paper="SYZ",
    statement="Half-space reporting answers the fire-set queries in m^(1-Theta(1/d)) n d time "
              "with weight preprocessing, m^(4/5) n d with (exponential) data preprocessing.",
    source=SOURCE,
    experiment="Not implemented: the structure and its bound are not in the texts we have.",
    rule="not tested (the mechanism and the m^(4/5) bound are not in the texts we have).",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "MISSING", "SIZES"]
