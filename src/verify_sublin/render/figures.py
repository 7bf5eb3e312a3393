"""Figures: plot specifications (`verify_sublin.ledger.plot`) drawn with matplotlib, and
the cache that keeps the PNG files beside a report.

`draw(plot)` turns a `Plot` into a matplotlib figure; every legend is placed to the
right of its axes by `legend_outside`. `FigureCache` reuses a PNG while its key (the
plot's content, or the runs and the code a legacy figure was drawn from) is unchanged,
so re-rendering unchanged runs draws nothing. Cost: O(points) per figure, plus
matplotlib's rasterisation (about 0.1-0.3 s a figure).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, is_dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ..ledger.plot import Panel, Plot
from .atomic import replacing, write_text

__all__ = ["FigureCache", "draw", "fit", "legend_outside", "overflow", "plot_key", "squeeze"]

#: legend font size (points): about 10 px in the page at the figures' 90 dpi
LEGEND_FONTSIZE = 8


def legend_outside(ax) -> None:
    """A small legend to the right of the axes, away from the data, only when something
    is labelled (`FigureCache.put`'s tight_layout makes room for it)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=LEGEND_FONTSIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0)


def _scale(ax, axis: str, scale: str) -> None:
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    if scale == "log2":
        setter("log", base=2)
    elif scale == "log":
        setter("log")


def _heatmap(fig, ax, panel: Panel) -> None:
    h = panel.heatmap
    Z = np.array(h.Z, dtype=float)
    ny, nx = Z.shape
    im = ax.imshow(Z, origin="lower", aspect="auto", vmin=h.vmin, vmax=h.vmax, cmap=h.cmap,
                   extent=(-0.5, nx - 0.5, -0.5, ny - 0.5))
    for c in h.contours if min(nx, ny) >= 2 else ():   # a line needs a 2 x 2 grid at least
        cl = ax.contour(np.arange(nx), np.arange(ny), np.array(c.Z, dtype=float),
                        levels=list(c.levels), colors=c.colors, linestyles=c.style,
                        linewidths=c.linewidth)
        if c.label_format:
            ax.clabel(cl, fmt=lambda v, f=c.label_format: f.format(v), fontsize=5)
    ax.set_xticks(range(nx), list(h.x_labels), fontsize=6)
    ax.set_yticks(range(ny), list(h.y_labels), fontsize=6)
    fig.colorbar(im, ax=ax, label=h.colorbar)


def _panel(fig, ax, panel: Panel) -> None:
    if panel.heatmap is not None:
        _heatmap(fig, ax, panel)
    for s in panel.series:
        kw = {"label": s.label, "color": s.color, "alpha": s.alpha}
        if s.linewidth is not None:
            kw["lw"] = s.linewidth
        if s.markersize is not None:
            kw["markersize"] = s.markersize
        if s.kind == "bar":
            ax.bar(s.x, s.y, s.width if s.width is not None else 0.8, **kw)
        elif s.kind == "errorbar":
            ax.errorbar(s.x, s.y, yerr=np.maximum(np.array(s.yerr), 0), fmt=s.style, capsize=3,
                        **kw)
        else:
            ax.plot(s.x, s.y, s.style, **kw)
    for h in panel.hlines:
        ax.axhline(h.y, color=h.color, ls=h.style)
    for t in panel.texts:
        ax.text(t.x, t.y, t.text, transform=ax.transAxes, fontsize=t.size, color=t.color)
    _scale(ax, "x", panel.xscale)
    _scale(ax, "y", panel.yscale)
    if panel.xticks is not None:
        ax.set_xticks(list(panel.xticks[0]), list(panel.xticks[1]))
    if panel.ylim is not None:
        ax.set_ylim(*panel.ylim)
    if panel.title:
        ax.set_title(panel.title, fontsize=panel.title_size)
    if panel.xlabel:
        ax.set_xlabel(panel.xlabel)
    if panel.ylabel:
        ax.set_ylabel(panel.ylabel)
    if panel.grid:
        ax.grid(True, which="both", alpha=0.3)
    if panel.legend:
        legend_outside(ax)


def draw(plot: Plot):
    """The matplotlib figure of `plot`, laid out so that nothing is clipped (`fit`); the
    caller saves and closes it."""
    fig = plt.figure(figsize=plot.size)
    for k, panel in enumerate(plot.panels):
        _panel(fig, fig.add_subplot(plot.rows, plot.cols, k + 1), panel)
    fit(fig)
    return fig


def overflow(fig) -> float:
    """How far (inches) any text of the figure (legends, labels, titles, ticks) reaches
    beyond its right or left edge; 0 when everything is inside."""
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    reach = 0.0
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        if box is not None:
            reach = max(reach, box.x1 - width, -box.x0)
    return max(0.0, reach) / fig.dpi


def squeeze(fig) -> float:
    """How much wider (inches) the figure must be for every axes to stay at least as
    wide as the legend placed beside it (tight_layout shrinks an axes to make room for
    its legend; a long legend would leave a sliver of plot)."""
    renderer = fig.canvas.get_renderer()
    need = 0.0
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            lw = legend.get_window_extent(renderer).width
            need = max(need, lw - ax.get_window_extent(renderer).width)
    return max(0.0, need) / fig.dpi


def fit(fig, tries: int = 3) -> None:
    """Lay the figure out tightly, widening it while a legend placed outside its axes
    (`legend_outside`) is wider than the axes, or a label still reaches beyond the
    edge. Cost: a few layouts."""
    fig.tight_layout()
    for _ in range(tries):
        cols = max(1, len({round(ax.get_position().x0, 3) for ax in fig.axes}))
        extra = max(overflow(fig), cols * squeeze(fig))
        if extra <= 0.01:
            return
        w, h = fig.get_size_inches()
        fig.set_size_inches(w + extra + 0.1, h)
        fig.tight_layout()


def _plain(obj):
    if is_dataclass(obj):
        return _plain(asdict(obj))
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def plot_key(plot: Plot) -> str:
    """A key of the plot's content and of the drawing code (this module, matplotlib)."""
    text = json.dumps([_DRAW_KEY, _plain(plot)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _draw_key() -> str:
    h = hashlib.sha256(matplotlib.__version__.encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


_DRAW_KEY = _draw_key()


class FigureCache:
    """PNG files beside the report, reused while their key is unchanged (figures.json
    maps each file to its key and caption)."""

    def __init__(self, outdir: Path):
        self.outdir = Path(outdir)
        self.path = self.outdir / "figures.json"
        try:
            self.entries = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        self.hits = self.misses = 0
        self.used: set[str] = set()

    def get(self, name: str, key: str) -> tuple[str, str] | None:
        e = self.entries.get(name)
        if e and e.get("key") == key and (self.outdir / name).exists():
            self.hits += 1
            self.used.add(name)
            return name, e["caption"]
        return None

    def put(self, name: str, key: str, fig, caption: str) -> tuple[str, str]:
        self.misses += 1
        fit(fig)                        # makes room for legends outside the axes too
        with replacing(self.outdir / name) as tmp:
            fig.savefig(tmp, dpi=90, format="png")
        plt.close(fig)
        self.entries[name] = {"key": key, "caption": caption}
        self.used.add(name)
        return name, caption

    def plot(self, name: str, plot: Plot) -> tuple[str, str]:
        """The PNG of a plot specification: cached, or drawn now."""
        key = plot_key(plot)
        return self.get(name, key) or self.put(name, key, draw(plot), plot.caption)

    def save(self) -> None:
        """Write figures.json, after removing the figures this report did not use (a
        report of other entries or another profile in the same folder leaves none of
        its figures behind)."""
        for name in set(self.entries) - self.used:
            (self.outdir / name).unlink(missing_ok=True)
            del self.entries[name]
        write_text(self.path, json.dumps(self.entries, indent=1, sort_keys=True) + "\n")
