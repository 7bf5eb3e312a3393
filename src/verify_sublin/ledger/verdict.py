"""What an entry's evaluation produces: a `Verdict` (with `Table`s of supporting figures
and a plot specification), and the `Shown` parts an entry's ``show`` returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .plot import Plot

__all__ = ["Shown", "Table", "Verdict"]


@dataclass
class Table:
    """A table of supporting figures: a header and rows of cells, as plain text.

    Entries put tables in their details as `Table` objects and never write table
    syntax themselves; the report escapes every cell in one place. Cost: O(cells).

    >>> t = Table(["m", "|S_i|"])
    >>> t.add("2^12", 41)
    >>> t.rows
    [['2^12', '41']]
    >>> t.add("2^14")
    Traceback (most recent call last):
    ...
    ValueError: a row of 1 cells for a header of 2
    """

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        """Append a row (each cell converted with `str`)."""
        if len(cells) != len(self.header):
            raise ValueError(f"a row of {len(cells)} cells for a header of {len(self.header)}")
        self.rows.append([str(c) for c in cells])


@dataclass
class Verdict:
    """The outcome of an entry's evaluation.

    Attributes
    ----------
    claim_id, verdict : str
        verdict is one of the words of the entry's kind (`rules.VERDICTS_BY_KIND`).
    claimed, measured : str
        The claimed figure and the measured one, side by side.
    rule : str
        The rule that produced the verdict, applied to these numbers.
    details : list of str or Table
        Paragraphs (inline Markdown) and tables, in reading order.
    figures : dict
        Named numbers (for the export and the tests).
    runs : list of int
        Ids of the runs used.
    failed_runs : list of (int, str)
        Runs that failed, with their reason.
    plot : Plot or None
        The figure's specification (drawn by the renderer).
    """

    claim_id: str
    verdict: str
    claimed: str
    measured: str
    rule: str
    details: list[str | Table] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    runs: list[int] = field(default_factory=list)
    failed_runs: list[tuple[int, str]] = field(default_factory=list)
    plot: Plot | None = None


@dataclass(frozen=True)
class Shown:
    """What an entry's `show` returns: the verdict's sentences, tables and figure."""

    claimed: str
    measured: str
    rule: str
    details: Sequence[str | Table] = ()
    figures: dict[str, Any] = field(default_factory=dict)
    plot: Plot | None = None
