"""Kernel ridge regression with the exact shifted NTK (the infinite-width limit).

f(x) = H(x, X) (H(X, X) + mu I)^{-1} y, with H the shifted NTK of the first layer
(`verify_sublin.core.ntk`); for b = 0 it is the ordinary ReLU NTK (first layer, fixed
second layer). The network passed in only supplies the shift b; it is returned
unchanged by `net`. One `step()` computes the fit; later steps change nothing.

Cost: O(n^2 d) for H plus n^3 / 3 for the Cholesky factorisation; predictions
O(n n_test d).
"""

from __future__ import annotations

import numpy as np

from ..errors import NumericalError, check_float
from ..model import ShiftedReLUNet
from ..ntk import shifted_ntk, shifted_ntk_cross
from .base import Trainer, _PhaseTimer, _StepRecord
from .options import KernelRidgeOptions


def kernel_not_positive_definite(H: np.ndarray, mu: float, shift: float) -> NumericalError:
    """The diagnosis of a failed Cholesky factorisation of H + mu I."""
    top = float(np.max(np.abs(np.diagonal(H)))) if H.size else 0.0
    if top <= np.finfo(np.float64).tiny:
        return NumericalError(
            f"the shifted NTK H vanishes (largest diagonal entry {top:.3g}): at shift "
            f"b = {shift:.4g} almost no neuron of an infinitely wide network fires on any "
            "input; lower the shift, or pass a ridge mu > 0")
    lam = float(np.linalg.eigvalsh(H)[0])
    return NumericalError(
        f"the shifted NTK matrix H + mu I is not positive definite (smallest eigenvalue of H "
        f"{lam:.3e}, mu = {mu:g}): repeated or antipodal inputs make H singular; use a "
        "ridge mu > 0")


__all__ = ["NTKKernelRidge"]


class NTKKernelRidge(Trainer):
    """Kernel ridge regression with the exact shifted NTK; ridge mu (default 0: interpolation).

    The kernel matrix is built on the host (Owen's T from scipy; O(n^2 d), not a hot
    path); the solve runs on the backend (`ops.solve_gram`, with its diagnosis of a
    matrix that is not positive definite: repeated or antipodal inputs need mu > 0).
    """

    method = "ntk_krr"
    options_type = KernelRidgeOptions
    has_fire_sets = False

    def __init__(self, net: ShiftedReLUNet, X, y, options: KernelRidgeOptions):
        super().__init__(net, X, y, options)
        self._use_backend()
        self._net = net.copy()
        self.mu = check_float("mu", options.mu, minimum=0.0)
        self._alpha = None
        self._f = np.zeros(self.n)

    @property
    def net(self) -> ShiftedReLUNet:
        return self._net

    @property
    def outputs(self) -> np.ndarray:
        return self._f

    def predict(self, X) -> np.ndarray:
        """Predictions at new inputs (zero before the first step). Cost O(n n_test d)."""
        if self._alpha is None:
            return np.zeros(np.asarray(X).shape[0])
        H = self.ops.asarray(shifted_ntk_cross(X, self.X, self.shift))
        return self.ops.host(H @ self._alpha)

    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        n, ops = self.n, self.ops
        rec.fire_set_sizes = np.zeros(n, np.int64)
        rec.flips = np.zeros(n, np.int64)
        if self._alpha is None:
            with timer("gram"):
                H = ops.asarray(shifted_ntk(self.X, self.shift))
            with timer("solve"):
                try:
                    self._alpha = ops.solve_gram(H, ops.asarray(self.y), self.mu, None)
                except NumericalError:
                    raise kernel_not_positive_definite(ops.host(H), self.mu, self.shift) from None
            self._f = ops.host(H @ self._alpha)
            rec.counts["dense_flops"] += n * n * self.d + n**3 // 3 + 2 * n * n

    def claimed_terms(self, rec):
        n = self.n
        return {"n^2 d": float(n * n * self.d), "n^3": float(n**3)}
