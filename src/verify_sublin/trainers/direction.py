"""The Gauss-Newton direction g with (J J^T + mu I) g = r, two ways.

`exact_direction`   Gram from the fire sets + Cholesky (what `ggn` does)
`sketch_direction`  sketch-and-precondition: R from the QR of [S J^T; sqrt(mu) I],
                    then preconditioned CG with J J^T products (van den Brand et al.)

Both fill the step record's counts and time their phases ("gram" for building G or
the preconditioner, "solve" for the solve).
"""

from __future__ import annotations

import numpy as np

from ..errors import NumericalError
from ..firesets import UnionPatterns
from ..sketch import Sketch, default_size
from ..solvers import SolverInfo, gram_from_patterns, pcg, sketch_precondition, solve_gram
from .base import _PhaseTimer, _StepRecord

__all__ = ["SketchSettings", "exact_direction", "sketch_direction"]


def exact_direction(pat: UnionPatterns, Kx: np.ndarray, m: int, r: np.ndarray, mu: float,
                    sizes: np.ndarray, rec: _StepRecord, timer: _PhaseTimer,
                    a_rows: np.ndarray | None = None) -> np.ndarray:
    """(G + mu I)^{-1} r with G from the fire patterns (output weights `a_rows` of the union
    neurons; None: all +-1). Cost O(sum |p_r|^2 + n^3)."""
    with timer("gram"):
        G, flops = gram_from_patterns(pat, Kx, m, a_rows)
    with timer("solve"):
        g, solve_flops = solve_gram(G, r, mu, sizes)
    rec.counts["dense_flops"] += flops + solve_flops
    return g


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


def sketch_direction(settings: SketchSettings, step: int, pat: UnionPatterns,
                     row_coef: np.ndarray, X: np.ndarray, r: np.ndarray, mu: float,
                     jacobian, rec: _StepRecord, timer: _PhaseTimer) -> np.ndarray:
    """Sketch-and-precondition solve of (J J^T + mu I) g = r.

    `jacobian` provides ``jjt(v)`` (two products), ``products`` and ``work``; the
    sketch of J^T is built from the fire patterns (`Sketch.apply_jt`). Counts:
    solver_products, and the sketch, QR and CG arithmetic in dense_flops (plus the
    operator's own work: jacobian_nnz for a sparse operator, dense_flops for a dense
    one, added by the caller).
    """
    if pat.size == 0:
        raise NumericalError("no neuron fires on any input, so J = 0 and no direction "
                             "exists; lower the shift")
    with timer("gram"):
        sketch = settings.for_step(step)
        B = sketch.apply_jt(pat, row_coef, X)
        R, qr_flops = sketch_precondition(B, mu)
    with timer("solve"):
        if mu > 0:
            def apply_A(v):
                return jacobian.jjt(v) + mu * v
        else:
            apply_A = jacobian.jjt
        g, info, cg_flops = pcg(apply_A, r, R, tol=settings.tol, max_iter=settings.max_iter)
    rec.solver = SolverInfo(info.method, info.iterations, info.relative_residual,
                            info.condition_estimate, info.stop_reason, sketch.kind, sketch.size)
    rec.counts["solver_products"] += jacobian.products
    rec.counts["dense_flops"] += sketch.cost_jt(pat) + qr_flops + cg_flops
    return g
