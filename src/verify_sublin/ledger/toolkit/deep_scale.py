"""Why the paper's fixed scale stalls (convergence.multilayer): the variance map of a hidden
layer at the fixed scale 1 / sqrt(m q(b)) in closed form, beside the measured layers of the
initial nets (deep_layers) and deep Gauss-Newton's contraction on them.

Closed form, for z ~ N(0, 1), sigma_b(z) = max(z - b, 0), phi and Q the normal density and
upper tail: p(b) = E sigma_b = phi(b) - b Q(b), q(b) = E sigma_b^2 = (1 + b^2) Q(b) - b phi(b),
E sigma_b^4 = (b^4 + 6 b^2 + 3) Q(b) - (b^3 + 5 b) phi(b). A layer whose pre-activations
have variance v (given the input) hands the next layer, on average, the variance
V(v) = v q(b / sqrt v) / q(b): V(1) = 1 (the purpose of the scale), but V'(1) = 1 + b p(b) / q(b)
> 1, so the fixed point is unstable. Layer 1 sees v = 1 exactly (||x|| = 1); layer 2 sees
||h_1||^2 / (m q(b)), which varies from input to input with relative spread
s = sqrt((E sigma_b^4 - q^2) / m) / q (the few fired neurons carry it). An input 1 s low at
layer 2 reaches the last layer with V(...V(1 - s)), where it expects m Q(b / sqrt v) fired
neurons: below 1, the layer is silent on it, its output is 0 and its Jacobian row vanishes.

Cost: O(1) per closed-form cell, O(runs) for the tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.special import ndtr

from ...core.deep import shifted_relu_second_moment
from ..verdict import Table
from .base import pow2

__all__ = ["MAP_NOTE", "contraction_table", "largest_words", "layer2_spread", "map_slope",
           "relu_moments", "variance_map", "variance_table"]

#: what the variance table shows, written once beside it
MAP_NOTE = (
    "Variance map at the fixed scale (closed form, toolkit.deep_scale): V(v) = v q(b / sqrt v) / "
    "q(b) maps the pre-activation variance of one layer to the next's on average; V(1) = 1, "
    "but its slope V'(1) = 1 + b p(b) / q(b) exceeds 1, so each layer multiplies an input's "
    "deviation from 1 by about V'(1). Layer 2's variance ||h_1||^2 / (m q(b)) spreads from input "
    "to input by s = sqrt((E sigma_b^4 - q(b)^2) / m) / q(b); an input s below 1 there reaches "
    "the last layer with the variance shown, where it expects m Q(b / sqrt v) fired neurons. "
    "Measured: the same quantities on the initial nets of the training runs (deep_layers), over "
    "all inputs and seeds. The normalised net divides each layer by its norm, so every input's "
    "variance is exactly 1 there. Why this stalls Gauss-Newton: an input silent at the last layer "
    "has output 0 and a zero row of the Jacobian, so a step does not aim at it; while it stays "
    "silent the residual cannot fall below ||y on the silent inputs|| (the floor in the tables "
    "above, relative to the initial residual).")


def relu_moments(b: float) -> tuple[float, float, float]:
    """(E sigma_b, E sigma_b^2, E sigma_b^4) for z ~ N(0, 1).

    >>> [round(x, 6) for x in relu_moments(0.0)]
    [0.398942, 0.5, 1.5]
    """
    phi, tail = math.exp(-0.5 * b * b) / math.sqrt(2 * math.pi), float(ndtr(-b))
    return (phi - b * tail, shifted_relu_second_moment(b),
            (b**4 + 6 * b * b + 3) * tail - (b**3 + 5 * b) * phi)


def map_slope(b: float) -> float:
    """V'(1) = 1 + b p(b) / q(b), the slope of the variance map at its fixed point.

    >>> round(map_slope(0.0), 6), round(map_slope(math.sqrt(0.85 * math.log(2**14))), 1)
    (1.0, 6.2)
    """
    p, q, _ = relu_moments(b)
    return 1.0 + b * p / q


def layer2_spread(m: int, b: float) -> float:
    """s: the relative standard deviation of layer 2's variance ||h_1||^2 / (m q(b)).

    >>> round(layer2_spread(2**14, math.sqrt(0.85 * math.log(2**14))), 2)
    0.38
    """
    _, q, e4 = relu_moments(b)
    return math.sqrt((e4 - q * q) / m) / q


def variance_map(v: float, b: float) -> float:
    """V(v) = v q(b / sqrt v) / q(b) (0 for v <= 0).

    >>> variance_map(1.0, 2.0), variance_map(0.0, 2.0)
    (1.0, 0.0)
    """
    return v * shifted_relu_second_moment(b / math.sqrt(v)) / shifted_relu_second_moment(b) \
        if v > 0 else 0.0


def _span(xs: Sequence[float]) -> str:
    return f"{min(xs):.2g} to {max(xs):.2g}"


def variance_table(cells: dict, layers: dict, depth: int) -> Table:
    """One row per (c, m) of the fixed scale (`cells`: (c, m) -> b): the closed-form map and,
    from `layers` ((scaling, c, m) -> [DeepLayers]), the measured variances and silent inputs."""
    table = Table(["c", "m", "b", "m Q(b)", "slope V'(1)", "layer 2 variance: 1 +- s (measured)",
                   f"layer {depth} variance of an input 1 s low at layer 2 (expected fire set)",
                   f"layer {depth} variance measured: min / median / max",
                   f"inputs silent at layer {depth}"])
    for (c, m), b in sorted(cells.items()):
        s, runs = layer2_spread(m, b), layers.get(("fixed", c, m), [])
        v = 1.0 - s
        for _ in range(depth - 2):
            v = variance_map(v, b)
        fire = m * float(ndtr(-b / math.sqrt(v))) if v > 0 else 0.0
        two, last = [x.layers[1].variance for x in runs], [x.layers[-1].variance for x in runs]
        table.add(f"{c:g}", pow2(m), f"{b:.2f}", f"{m * float(ndtr(-b)):.3g}", f"{map_slope(b):.2f}",
                  f"1 +- {s:.2f}" + (f" ({_span([x for t in two for x in t])})" if runs else ""),
                  f"{v:.2g} ({fire:.2g})",
                  f"{min(t[0] for t in last):.2g} / {sorted(t[1] for t in last)[len(last) // 2]:.2g}"
                  f" / {max(t[2] for t in last):.3g}" if runs else "not run",
                  f"{sum(x.layers[-1].silent for x in runs)} of {sum(x.n for x in runs)}"
                  if runs else "not run")
    return table


def largest_words(runs: dict, layers: dict, mmax: int, sc: str, c: float, tol: float,
                  short: bool = False) -> str:
    """The training runs of one (scale, c) at the largest m, in words: `runs` maps
    (scaling, c, m) to runs with worst, median, reached and final; `layers` to DeepLayers.
    `short`: the contraction and the runs that reach `tol` only."""
    rows, lay = runs.get((sc, c, mmax), []), layers.get((sc, c, mmax), [])
    if not rows:
        return f"no run at c = {c:g}"
    text = f"{max(x.worst for x in rows):.3g} at c = {c:g} ("
    if not short:
        text += (f"median {max((x.median for x in rows if x.median is not None), default=0):.3g}; "
                 f"the residual ends at up to {max(x.final for x in rows):.2g} of the initial; ")
    text += f"{sum(x.reached for x in rows)} of {len(rows)} runs reach {tol:g}"
    silent = [x.layers[-1].silent for x in lay]
    if lay and not short:
        text += (f"; at init {min(silent)} to {max(silent)} of {lay[0].n} inputs are silent at the "
                 f"last layer, a residual floor of up to {max(x.floor for x in lay):.2g}"
                 if max(silent) else "; no input silent at init")
    return text + ")"


def contraction_table(runs: dict, layers: dict, sc: str, depth: int) -> Table:
    """The contraction of every (c, m) of one scale, with the silent inputs of the same nets at
    init (per layer, summed over the runs) and the residual floor they leave."""
    table = Table(["c", "m", "runs", "worst contraction", "median contraction",
                   "steps (reached 1e-10)", "final / initial residual (largest)",
                   "inputs silent at init, per layer", "floor of the silent inputs (largest)"])
    for (s2, c, m), rows in sorted(runs.items()):
        if s2 != sc:
            continue
        lay, med = layers.get((sc, c, m), []), [x.median for x in rows if x.median is not None]
        silent = " / ".join(str(sum(x.layers[k].silent for x in lay)) for k in range(depth))
        table.add(f"{c:g}", pow2(m), len(rows), f"{max(x.worst for x in rows):.3g}",
                  f"{max(med, default=float('nan')):.3g}",
                  f"{max(x.steps for x in rows)} ({sum(x.reached for x in rows)}/{len(rows)})",
                  f"{max(x.final for x in rows):.2g}",
                  f"{silent} of {sum(x.n for x in lay)}" if lay else "not run",
                  f"{max(x.floor for x in lay):.2g}" if lay else "not run")
    return table
