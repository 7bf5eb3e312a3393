"""The Gauss-Newton direction g with (J J^T + mu I) g = r, two ways.

`sketch_direction`  sketch-and-precondition: R from the QR of [S J^T; sqrt(mu) I],
                    then preconditioned CG with J J^T products (van den Brand et al.),
                    on any backend's fire-set operations (`trainers.ops`)

It fills the step record's counts and times its phases ("gram" for building the
preconditioner, "solve" for the solve). The exact direction (Gram from the fire sets
and Cholesky) is `ops.gram` and `ops.solve_gram`.
"""

from __future__ import annotations

import numpy as np

from ..errors import NumericalError
from ..sketch import Sketch, default_size
from ..solvers import SolverInfo, pcg, sketch_precondition
from .base import _PhaseTimer, _StepRecord

__all__ = ["SketchSettings", "sketch_direction"]


class SketchSettings:
    """Sketch type, size and seeds of a trainer's preconditioner.

    A fresh sketch is drawn every step from (seed, step), so that steps are
    independent as in the analysis, and a run is reproducible from its seed.
    """

    def __init__(self, kind: str, factor: float | None, n: int, m: int, d: int, seed: int,
                 tol: float, max_iter: int):
        self.kind, self.factor = kind, factor
        self.size = default_size(kind, n, factor, N=m * d)
        self.m, self.d, self.seed = m, d, seed
        self.tol, self.max_iter = tol, max_iter
        Sketch(kind, self.size, m, d, seed)  # refuses infeasible sizes at construction

    def for_step(self, step: int) -> Sketch:
        seed = int(np.random.SeedSequence([self.seed, step]).generate_state(1, np.uint64)[0])
        return Sketch(self.kind, self.size, self.m, self.d, seed >> 1)


def sketch_direction(ops, settings: SketchSettings, step: int, pat, row_coef, r, mu: float,
                     jacobian, rec: _StepRecord, timer: _PhaseTimer):
    """Sketch-and-precondition solve of (J J^T + mu I) g = r.

    `ops` are the backend's fire-set operations (`trainers.ops`); `jacobian` provides
    ``jjt(v)`` (two products) and ``products``; the sketch of J^T is built from the fire
    patterns (`ops.sketch_jt`). Counts: solver_products, and the sketch, QR and CG
    arithmetic in dense_flops (the operator's own work, jacobian_nnz for a sparse
    operator and dense_flops for a dense one, is added by the caller from
    ``jacobian.products``).
    """
    if pat.size == 0:
        raise NumericalError("no neuron fires on any input, so J = 0 and no direction "
                             "exists; lower the shift")
    xp = ops.xp
    with timer("gram"):
        sketch = settings.for_step(step)
        B = ops.sketch_jt(sketch, pat, row_coef)
        R, qr_flops = sketch_precondition(B, mu, xp=xp)
    with timer("solve"):
        if mu > 0:
            def apply_A(v):
                return jacobian.jjt(v) + mu * v
        else:
            apply_A = jacobian.jjt
        g, info, cg_flops = pcg(apply_A, r, R, tol=settings.tol, max_iter=settings.max_iter,
                                xp=xp)
    rec.solver = SolverInfo(info.method, info.iterations, info.relative_residual,
                            info.condition_estimate, info.stop_reason, sketch.kind, sketch.size)
    rec.counts["solver_products"] += jacobian.products
    rec.counts["dense_flops"] += sketch.cost_jt(pat) + qr_flops + cg_flops
    return g
