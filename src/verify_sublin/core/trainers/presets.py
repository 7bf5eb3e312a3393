"""Named configurations of the training methods: a preset is a method and an instance of
its options (`trainers.options`).

`make_trainer` accepts a preset's name in place of a method, and keywords on top of it
(any option the method uses, e.g. ``mu=1e-3``). Adding a preset is one line in
`PRESETS`:

>>> from verify_sublin import ShiftedReLUNet, make_trainer, shift_for, sphere_data
>>> X, y = sphere_data(8, 4, seed=0)
>>> net = ShiftedReLUNet.init(512, 4, shift_for(512), seed=0)
>>> trainer = make_trainer("sublinear cache implicit", net, X, y, mu=1e-6)
>>> trainer.method, trainer.options.fire_sets, trainer.options.mu
('sublinear_gn', 'cache', 1e-06)
>>> PRESETS["sublinear cache implicit"].options.changes()
{'fire_sets': 'cache', 'preactivations': 'implicit'}
>>> sorted(PRESETS["paper sublinear"].options.changes())
['preactivations', 'sketch', 'sketch_factor', 'solver', 'tol']

The papers' methods as specified, and this project's variants, by name
----------------------------------------------------------------------
(m width, n inputs, d dimension, nnz = sum_i |S_i|, U the union of the fire sets,
M the power of two >= m, s the sketch size, T_cg the CG iterations of a step.)

========================  ===========================================================
"paper sublinear"         Deng et al.'s sublinear Gauss-Newton as specified: the
                          correlation tree reports the fire sets, the direction
                          comes from CG preconditioned by a tensor sketch of J^T
                          applied to its fire-set factor (column i of J^T is
                          (a 1_{S_i} / sqrt m) (x) x_i: a CountSketch of each factor
                          and one FFT convolution, O(nnz + n d + n s log s), never
                          touching J's nnz d entries; s = `PAPER_SKETCH_FACTOR` n ln
                          n rows), weights kept implicitly (inner products updated
                          from X X^T). Memory: the tree (9 n M bytes, 576 MiB at m =
                          2^20, n = 64), the s x n sketch, W read-only. Cost per
                          step: tree nodes O(nnz log m + n |U| log m) + sketch nnz +
                          n d + 3 n s log s + QR 2 (s + n) n^2 + T_cg (2 nnz d +
                          n^2) + implicit update nnz n.
"paper near-linear"       van den Brand et al.'s sketched Gauss-Newton as specified:
                          dense J u and J^T v products over all m neurons, CG
                          preconditioned by a fast JL sketch applied without forming
                          J^T: the tensor sketch (the Kronecker-structured CountSketch
                          of the columns (a 1_{S_i} / sqrt m) (x) x_i, one FFT
                          convolution per column; s = 4 n ln n). Not the SRHT: this
                          package's SRHT forms the n dense columns of J^T and is
                          refused above m = 2^18 (`core.sketch.SRHT_MAX_M`). Memory:
                          W, the n x m mask, an m x d product buffer. Cost per step:
                          forward n m d + T_cg 2 m n d + sketch nnz + n s log s + QR.
"sublinear cache implicit"  this project's variant, not a paper's: the tree-free union
                          cache (only neurons of U move, so their n inner products
                          are kept exactly without a search structure), implicit
                          weights, and the exact Cholesky solve of the fire-set Gram.
                          Memory 8 |U| n; cost nnz n + |U| n + pair count + n^3/3.
"textbook ggn"            Cai et al.'s Gram-Gauss-Newton as a textbook computes it:
                          the dense product J J^T (m d n (n + 1) / 2 multiply-adds,
                          J formed in blocks), Cholesky. Memory: W, the n x m mask,
                          one n x 2^15 block. Cost: forward n m d + m n^2 d / 2 +
                          n^3/3. Counted at every size; timed (`bench.speed`, asv)
                          only where m n^2 d <= 1e11 (`bench.speed.TEXTBOOK_TIMED_MAX`).
========================  ===========================================================

The method "ggn" itself (Gram from fire-set intersections, this project's) and "gd"
(gradient descent) are methods, not presets. The other presets name the sublinear
method's maintenance structures (tree, cache or scan; explicit or implicit
pre-activations), all with the exact Cholesky solve (this project's, not the paper's).

Names are stable (other modules and the report refer to them) and contain a space, so
they never collide with a method's name. Cost: none (a table of values).
"""

from __future__ import annotations

from typing import NamedTuple

from .options import GGNOptions, SketchedGNOptions, SublinearOptions, TrainerOptions

__all__ = [
    "PAPER_NEAR_LINEAR",
    "PAPER_SKETCH_FACTOR",
    "PAPER_SUBLINEAR",
    "PAPER_TOL",
    "PRESETS",
    "TEXTBOOK_GGN",
    "Preset",
]


class Preset(NamedTuple):
    """A method name (a key of `METHODS`) and an instance of its options type."""

    method: str
    options: TrainerOptions


def _sublinear(**changes) -> Preset:
    """A preset of sublinear_gn: its default options with `changes`."""
    return Preset("sublinear_gn", SublinearOptions(**changes))


#: Tensor-sketch size factor of "paper sublinear": s = factor n ln n rows, 1065 at
#: n = 64. Measured at m = 2^20 (tolerance 1e-6): preconditioned condition number 2.6,
#: 10 CG iterations a step, the sketch 4 ms (c = 0.85) and 8 ms (c = 0.4) a step;
#: a CountSketch of J^T (O(nnz d)) with s = 2 n ln n needs 12-13 iterations and 7 ms
#: and 90 ms for its sketch.
PAPER_SKETCH_FACTOR = 4.0
#: Relative residual at which the papers' presets stop CG: the loosest tolerance whose
#: step contraction is within 1% of the exact step's at m = 2^20, n = 64, d = 32 at both
#: shifts (`bench.speed.tolerance_sweep` with the tensor sketch above: one step from
#: each iterate of the exact run but its last, which lands on y to rounding). The
#: loosest is 1e-4 at c = 0.85 (1e-3: 2.9% off at the fourth step) and 1e-5 at c =
#: 0.4, where the exact steps contract by 0.04, 2.6e-3 and 2e-5 (1e-4: 174% off at the
#: third). With 1e-5 the runs also take the exact run's number of steps to 1e-10 (5 at
#: c = 0.85, where 1e-3 needs a sixth; 4 at c = 0.4), at 8-9 CG iterations a step.
PAPER_TOL = 1e-5

#: Deng et al.'s method as specified: correlation tree + sketch-preconditioned CG (a
#: tensor sketch of J^T's fire-set factor, O(nnz + n d + n s log s) to apply; s = 4 n ln
#: n, 1065 rows at n = 64) + implicit weights. Memory: the tree, 9 n M bytes; W
#: read-only. Cost per step: tree nodes (nnz log m query + n |U| log m update) + the
#: sketch + 2 (s + n) n^2 (QR) + T_cg (2 nnz d + 2 n^2) (CG) + nnz n (implicit update).
PAPER_SUBLINEAR = "paper sublinear"
#: van den Brand et al.'s method as specified: dense J products + a fast JL
#: preconditioner applied without forming J^T (the tensor sketch, s = 4 n ln n; the
#: SRHT is refused above m = 2^18). Memory: W, the n x m mask, 8 m d product buffer.
#: Cost per step: n m d forward + T_cg 2 m n d + sketch (nnz + n d + 3 n s log s) + QR.
PAPER_NEAR_LINEAR = "paper near-linear"
#: Cai et al.'s Gram-Gauss-Newton with the textbook dense Gram product (m n^2 d / 2
#: counted multiply-adds by syrk); counted everywhere, timed where m n^2 d <= 1e11.
TEXTBOOK_GGN = "textbook ggn"

#: Preset name -> (method, options). Names never collide with method names (they have
#: spaces). See the module docstring for what each is, its memory and its cost.
PRESETS: dict[str, Preset] = {
    # the papers' methods as specified
    PAPER_SUBLINEAR: _sublinear(fire_sets="tree", solver="sketch", preactivations="implicit",
                                sketch="tensor", sketch_factor=PAPER_SKETCH_FACTOR,
                                tol=PAPER_TOL),
    PAPER_NEAR_LINEAR: Preset("sketched_gn", SketchedGNOptions(sketch="tensor", tol=PAPER_TOL)),
    TEXTBOOK_GGN: Preset("ggn", GGNOptions(gram="dense")),
    # the sublinear method's maintenance structures, all with the exact Cholesky solve
    # (this project's): the papers' tree, this project's tree-free cache, the naive scan
    "sublinear tree explicit": _sublinear(fire_sets="tree", preactivations="explicit"),
    "sublinear tree implicit": _sublinear(fire_sets="tree", preactivations="implicit"),
    "sublinear cache explicit": _sublinear(fire_sets="cache", preactivations="explicit"),
    # this project's fastest variant (tree-free cache, implicit weights, exact solve)
    "sublinear cache implicit": _sublinear(fire_sets="cache", preactivations="implicit"),
    "sublinear scan explicit": _sublinear(fire_sets="scan", preactivations="explicit"),
}
