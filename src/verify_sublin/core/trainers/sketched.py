"""Sketched Gauss-Newton (van den Brand, Peng, Song, Weinstein, ITCS 2021).

The Gauss-Newton direction comes from preconditioned CG on (J J^T + mu I) g = r,
preconditioned by R from the QR of [S J^T; sqrt(mu) I]. J is a dense-weight operator
over all m neurons: each J u / J^T v product costs O(m n d) whatever the sparsity,
as in the paper; the forward pass is the dense one of `ggn`.

Per step: forward O(m n d); sketch of J^T (CountSketch/TensorSketch O(nnz(J)));
QR O((s + n) n^2); CG iterations, each two dense products O(m n d).
Claimed cost per iteration: m n d + n^3.
"""

from __future__ import annotations

from ..errors import InputError, check_float
from .dense import DenseTrainer, _eta
from .direction import SketchSettings, sketch_direction
from .options import SketchedGNOptions

__all__ = ["SketchedGaussNewton"]


def srht_refusal(options, compiled: bool) -> InputError | None:
    """SRHT needs a DCT, which the array-API FFT extension lacks: refused off numpy."""
    if options.sketch == "srht" and not compiled:
        return InputError("sketch", "'srht'", "'countsketch', 'tensor' or 'gaussian' on "
                          f"backend {options.backend!r} (SRHT needs a DCT the array-API FFT "
                          "extension lacks)")
    return None


class SketchedGaussNewton(DenseTrainer):
    """Gauss-Newton with a sketch-and-precondition solver and a dense J operator.

    Options (`SketchedGNOptions`): eta (1), mu (0), sketch ("countsketch"), sketch_factor,
    tol (1e-10, relative residual of CG), max_iter (100), seed (of the sketches).
    """

    method = "sketched_gn"
    options_type = SketchedGNOptions

    @classmethod
    def _backend_refusal(cls, options, compiled):
        return srht_refusal(options, compiled)

    @classmethod
    def memory_estimate(cls, m, n, d, options, shift=None):
        """Dense trainer plus the n x m fire mask and an m x d product buffer."""
        return super().memory_estimate(m, n, d, options, shift) + 1.0 * n * m + 8.0 * m * d

    def __init__(self, net, X, y, options):
        super().__init__(net, X, y, options)
        self.eta = _eta(options, 1.0)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        self.sketching = SketchSettings(options.sketch, options.sketch_factor, self.n, self.m,
                                        self.d, options.seed, options.tol, options.max_iter)

    def _direction(self, r, pat, rec, timer):
        with timer("fire_sets"):
            jac = self.ops.dense_jacobian(self._fire, self.a)
        row_coef = self.ops.take(self.a, pat) * self.scale
        g = sketch_direction(self.ops, self.sketching, self.steps_done, pat, row_coef, r,
                             self.mu, jac, rec, timer)
        rec.counts["dense_flops"] += jac.products * self.m * self.n * self.d
        return self.eta * g

    def claimed_terms(self, rec):
        m, n, d = self.m, self.n, self.d
        return {"m n d": float(m * n * d), "n^3": float(n**3)}
