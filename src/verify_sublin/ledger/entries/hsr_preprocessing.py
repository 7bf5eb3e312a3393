"""hsr.preprocessing: half-space reporting answers the fire-set queries in m^(4/5) n d
with data preprocessing (untestable: that preprocessing is exponential in d; no runs)."""

from __future__ import annotations

from ...bench.spec import RunSpec
from ..toolkit import CITE, SOURCE_RECONSTRUCTED, Entry, Shown, Sizes

#: no runs at any profile
SIZES = Sizes()


def runs(s) -> list[RunSpec]:
    return []


def values(results) -> None:
    return None


def decide(v: None) -> tuple[str, str]:
    return "untestable", "the structure needs exponential preprocessing"


def show(v: None, verdict: str, reason: str) -> Shown:
    return Shown(
        "m^(4/5) n d per query batch", "not measured",
        "untestable: half-space range reporting with data preprocessing takes time and space "
        "exponential in d (n^O(d)); no feasible d makes the experiment meaningful, so the "
        "structure is not implemented. The correlation tree answers the same queries.")


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['SYZ']}; the costs are {SOURCE_RECONSTRUCTED}")

ENTRY = Entry(
    id="hsr.preprocessing", kind="claim", paper="SYZ",
    statement="Half-space reporting answers the fire-set queries in m^(1-Theta(1/d)) n d time "
              "with weight preprocessing, m^(4/5) n d with (exponential) data preprocessing.",
    source=SOURCE,
    experiment="Not implemented: the data-preprocessing variant needs time exponential in d.",
    rule="untestable (the structure needs exponential preprocessing).",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "SIZES"]
