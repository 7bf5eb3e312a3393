"""Every figure of a report, drawn from the session's tiny runs: the drawn series are the
specified ones, labelled series are told apart (no two share colour and style on one
axes), and nothing is clipped (legends, labels and titles lie inside the figure)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from verify_sublin.ledger.outcome import assemble
from verify_sublin.ledger.plot import Plot
from verify_sublin.render.figures import draw, overflow, squeeze


@pytest.fixture(scope="module")
def plots(tiny_store):
    model = assemble(tiny_store, "tiny", reference=None)
    out = [(o.verdict.claim_id, o.verdict.plot) for o in model.outcomes
           if isinstance(o.verdict.plot, Plot)]
    return out + list(model.views)


def _look(handle) -> tuple:
    """What tells a legend entry apart: colour, line style and marker (or a patch's
    face colour)."""
    from matplotlib.colors import to_hex
    line = getattr(handle, "lines", (handle,))[0]           # an errorbar's data line
    if hasattr(line, "get_color"):
        return (to_hex(line.get_color()), line.get_linestyle(), line.get_marker())
    patch = handle.patches[0] if hasattr(handle, "patches") else handle
    return (to_hex(patch.get_facecolor()), "patch", "")


def test_every_entry_with_runs_has_a_figure(plots):
    assert len(plots) >= 20


def test_every_figure_draws_its_series_told_apart_and_unclipped(plots):
    for name, plot in plots:
        fig = draw(plot)
        try:
            axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
            assert len(axes) == len(plot.panels), name
            for ax, panel in zip(axes, plot.panels):
                labelled = [s for s in panel.series if s.label]
                handles, labels = ax.get_legend_handles_labels()
                assert labels == [s.label for s in labelled], (name, labels)
                looks = [_look(h) for h in handles]
                assert len(set(looks)) == len(looks), (name, panel.title, looks)
                drawn = len(ax.get_lines()) + len(ax.containers)
                assert drawn >= len(panel.series), (name, drawn, len(panel.series))
            assert overflow(fig) <= 0.01 and squeeze(fig) <= 0.01, (name, overflow(fig))
        finally:
            plt.close(fig)


def test_a_legend_too_wide_for_the_figure_widens_it_instead_of_being_clipped():
    from verify_sublin.ledger.plot import Panel, Series
    long = "a label much longer than the room a ten inch figure leaves at its right " * 2
    plot = Plot([Panel([Series([1, 2], [1, 2], long)], "x", "y")], "caption")
    fig = draw(plot)
    try:
        assert overflow(fig) <= 0.01 and squeeze(fig) <= 0.01
        assert fig.get_size_inches()[0] > plot.size[0]
    finally:
        plt.close(fig)


@pytest.mark.parametrize("shape", [(8, 1), (1, 5), (3, 4)])
def test_a_heat_map_of_one_row_or_column_draws_without_its_level_lines(shape):
    """matplotlib draws level lines only on a grid of 2 x 2 or more: a heat map of one
    row or one column (an entry with a single width run) is drawn without them rather
    than failing the report; a larger grid keeps them."""
    from verify_sublin.ledger.plot import Contour, Heatmap, Panel
    ny, nx = shape
    Z = [[float(i + j) for j in range(nx)] for i in range(ny)]
    heat = Heatmap(Z=Z, x_labels=[str(j) for j in range(nx)],
                   y_labels=[str(i) for i in range(ny)], vmax=float(nx + ny),
                   contours=(Contour(Z=Z, levels=(1.5,)),))
    fig = draw(Plot(panels=[Panel(heatmap=heat)], caption="c"))
    lines = [c for c in fig.axes[0].collections if type(c).__name__ == "QuadContourSet"
             or hasattr(c, "levels")]
    assert bool(lines) == (min(shape) >= 2)
    plt.close(fig)
