"""Dense baselines: full-batch gradient descent and Gram-Gauss-Newton.

Both recompute the full forward pass X W^T every step (O(m n d): BLAS products over
blocks of neurons, each thresholded while in cache, so no n x m buffer is kept) and
then use the fire sets it reveals: the Gram G and the
update J^T g only ever touch fired blocks. This is the fair, well-written dense step
every speed-up is measured against; its floor is the product itself.

Per step (m width, n inputs, d dimension, nnz = sum_i |S_i|, U the union):

=========  ==============================================================
fire_sets  neuron-major view of the cached fire sets     O(nnz + |U| log |U|)
gram       G = (X X^T) * C / m (GGN only)                O(sum_r |p_r|^2 + n^2)
solve      Cholesky of G + mu I (GGN only)               O(n^3)
update     W_U += -eta J^T g; P = X W^T (BLAS);          O(nnz d + n m d + n m)
           fire sets and outputs of the new weights
=========  ==============================================================
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError, check_float
from ..firesets import FireSets, forward_fire_sets
from ..kernels import numpy_backend as K
from ..model import ShiftedReLUNet
from ..solvers import gram_from_patterns
from .base import Trainer, TrainerOptions, _PhaseTimer, _StepRecord
from .direction import exact_direction

__all__ = ["DenseTrainer", "GradientDescent", "GramGaussNewton"]


class DenseTrainer(Trainer):
    """Shared machinery of the dense methods: weights, forward buffer, fire sets."""

    def __init__(self, net: ShiftedReLUNet, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self._net = net.copy()
        self.scale = 1.0 / math.sqrt(self.m)
        self._slot = np.full(self.m, -1, np.int64)       # scratch of union_patterns
        self._Kx = self.X @ self.X.T
        self._forward()

    def _forward(self) -> None:
        """Fire sets and outputs of the current weights, blockwise. Cost O(n m d)."""
        cap = int(1.25 * self._fire.sizes.max()) if hasattr(self, "_fire") else 0
        self._fire, self._f = forward_fire_sets(self.X, self._net.W, self.shift, self._net.a,
                                                self.scale, cap)

    @property
    def net(self) -> ShiftedReLUNet:
        return self._net

    @property
    def outputs(self) -> np.ndarray:
        return self._f

    @property
    def fire_sets(self) -> FireSets:
        """Fire sets of the current weights."""
        return self._fire

    def _direction(self, r, pat, rec: _StepRecord, timer: _PhaseTimer) -> np.ndarray:
        """The vector g of the update W <- W - J^T g (step size included)."""
        raise NotImplementedError

    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        n, m, d = self.n, self.m, self.d
        with timer("fire_sets"):
            pat = self._fire.union_patterns(self._slot)
        rec.fire_set_sizes = self._fire.sizes
        rec.union_size = pat.size
        r = self._f - self.y
        g = self._direction(r, pat, rec, timer)
        with timer("update"):
            a = self._net.a
            K.add_jt_rows(self._net.W, pat.union, pat.nptr, pat.ninputs,
                          a[pat.union] * (-self.scale), g, self.X)
            old = self._fire
            self._forward()
            rec.flips = old.flips(self._fire)
        c = rec.counts
        c["jacobian_nnz"] += pat.nnz * d
        c["inner_products"] += n * m
        c["preactivation_updates"] += n * m


class GradientDescent(DenseTrainer):
    """Full-batch gradient descent on 1/2 ||f - y||^2: W <- W - eta J^T (f - y).

    eta defaults to 1 / lambda_max(G_0), G_0 the Gram matrix at the initial weights
    (computed at construction, O(n^3) untimed): with it the loss decreases
    monotonically in the regimes the tests use. Values near 2 / lambda_max do not:
    the model is piecewise linear and G changes as neurons flip.

    Claimed cost per step: m n d.
    """

    method = "gd"
    uses = frozenset({"eta", "seed", "backend"})

    def __init__(self, net, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        if options.eta is None:
            pat = self._fire.union_patterns(self._slot)
            G, _ = gram_from_patterns(pat, self._Kx, self.m)
            top = float(np.linalg.eigvalsh(G)[-1])
            if top <= 0:
                raise InputError("net", "a network with no neuron firing on any input",
                                 "some fired neuron (lower the shift), or pass eta")
            self.eta = 1.0 / top
        else:
            self.eta = check_float("eta", options.eta, minimum=0.0, strict_min=True)

    def _direction(self, r, pat, rec, timer):
        return self.eta * r

    def claimed_terms(self, rec):
        return {"m n d": float(self.m * self.n * self.d)}


class GramGaussNewton(DenseTrainer):
    """Gram-Gauss-Newton (Cai et al. 2019): W <- W - eta J^T (G + mu I)^{-1} (f - y).

    G = J J^T is built from the fire sets, G_ij = <x_i, x_j> |S_i intersect S_j| / m,
    never from an explicit J. eta = 1 and mu = 0 by default; a singular G (an input
    with an empty fire set, say) raises `NumericalError` with the diagnosis.

    Claimed cost per step: m n^2 d + n^3.
    """

    method = "ggn"
    uses = frozenset({"eta", "mu", "solver", "seed", "backend"})

    def __init__(self, net, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self.eta = 1.0 if options.eta is None else check_float(
            "eta", options.eta, minimum=0.0, strict_min=True)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        if options.solver != "cholesky":
            raise InputError("solver", repr(options.solver),
                             "'cholesky' (the exact Gram-Gauss-Newton direction)")

    def _direction(self, r, pat, rec, timer):
        return self.eta * exact_direction(pat, self._Kx, self.m, r, self.mu, self._fire.sizes,
                                          rec, timer)

    def claimed_terms(self, rec):
        m, n, d = self.m, self.n, self.d
        return {"m n^2 d": float(m * n * n * d), "n^3": float(n**3)}
