"""Plot specifications: what a figure shows, as data; `verify_sublin.render.figures`
draws them.

A ledger entry (or a view across entries) describes its figure as a `Plot`: panels of
`Series` (x, y, label, style), reference lines, text, an optional heat map, axis labels
and scales, and a caption. It never touches matplotlib, so a figure can be tested by
its numbers and cached by its content. Cost: O(points).

>>> p = Plot([Panel([Series([1, 2, 4], [1, 4, 16], "measured")], "m", "|S_i|",
...                 xscale="log2", yscale="log")], "Fire-set size against m.")
>>> p.panels[0].series[0].y
(1.0, 4.0, 16.0)
>>> p.series_count()
1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Contour", "HLine", "Heatmap", "Panel", "Plot", "Series", "Text"]

#: axis scales a panel may ask for: linear, log base 10, log base 2
SCALES = ("linear", "log", "log2")


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class Series:
    """One drawn series.

    Attributes
    ----------
    x, y : sequences of numbers
    label : str or None
        Legend entry (None: not in the legend).
    style : str
        A matplotlib format string ("o-", "--", ":", "s--", "x--", ...).
    color : str or None
        A colour ("C0".."C9", "k", "gray", ...); None: the next one.
    alpha : float
    kind : {"line", "bar", "errorbar"}
    yerr : (lower, upper) error lengths for "errorbar"
    width : bar width for "bar"
    linewidth : float or None
    markersize : float or None
        Marker size of a line or error bar (None: matplotlib's default).
    """

    x: Sequence[float]
    y: Sequence[float]
    label: str | None = None
    style: str = "o-"
    color: str | None = None
    alpha: float = 1.0
    kind: str = "line"
    yerr: tuple[Sequence[float], Sequence[float]] | None = None
    width: float | None = None
    linewidth: float | None = None
    markersize: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", _floats(self.x))
        object.__setattr__(self, "y", _floats(self.y))
        if len(self.x) != len(self.y):
            raise ValueError(f"series {self.label!r}: {len(self.x)} x values, {len(self.y)} y")
        if self.kind not in ("line", "bar", "errorbar"):
            raise ValueError(f"series kind {self.kind!r}")
        if self.yerr is not None:
            object.__setattr__(self, "yerr", (_floats(self.yerr[0]), _floats(self.yerr[1])))


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line at y."""

    y: float
    color: str = "k"
    style: str = "--"


@dataclass(frozen=True)
class Text:
    """Text at (x, y) in axes coordinates (0..1)."""

    x: float
    y: float
    text: str
    color: str | None = None
    size: float = 7


@dataclass(frozen=True)
class Contour:
    """Level lines of a grid Z (same shape as the heat map) at `levels`."""

    Z: Sequence[Sequence[float]]
    levels: Sequence[float]
    colors: str = "w"
    style: str = "--"
    linewidth: float | None = None
    label_format: str | None = None     #: e.g. "m^(-c/2) = 1e{:.0f}": labelled levels


@dataclass(frozen=True)
class Heatmap:
    """A grid of values (rows: y categories, columns: x categories) with level lines."""

    Z: Sequence[Sequence[float]]
    x_labels: Sequence[str]
    y_labels: Sequence[str]
    vmin: float = 0.0
    vmax: float = 1.0
    cmap: str = "viridis"
    colorbar: str = ""
    contours: Sequence[Contour] = ()


@dataclass(frozen=True)
class Panel:
    """One axes: series, reference lines, labels, scales."""

    series: Sequence[Series] = ()
    xlabel: str = ""
    ylabel: str = ""
    xscale: str = "linear"
    yscale: str = "linear"
    title: str | None = None
    title_size: float = 8               #: the title's font size (points)
    hlines: Sequence[HLine] = ()
    texts: Sequence[Text] = ()
    ylim: tuple[float | None, float | None] | None = None
    xticks: tuple[Sequence[float], Sequence[str]] | None = None
    grid: bool = False
    legend: bool = True
    heatmap: Heatmap | None = None

    def __post_init__(self) -> None:
        for scale in (self.xscale, self.yscale):
            if scale not in SCALES:
                raise ValueError(f"axis scale {scale!r} is not one of {SCALES}")
        object.__setattr__(self, "series", tuple(self.series))


@dataclass(frozen=True)
class Plot:
    """A figure: panels side by side (or `rows` x `cols`), a caption, a size in inches."""

    panels: Sequence[Panel]
    caption: str
    rows: int = 1
    cols: int | None = None
    size: tuple[float, float] = (10.0, 4.0)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "panels", tuple(self.panels))
        if self.cols is None:
            object.__setattr__(self, "cols", max(1, -(-len(self.panels) // self.rows)))

    def series_count(self) -> int:
        """Series drawn over all panels."""
        return sum(len(p.series) for p in self.panels)
