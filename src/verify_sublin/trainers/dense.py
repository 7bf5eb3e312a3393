"""Dense baselines: gradient descent, Gram-Gauss-Newton, Adam, second-layer training.

All recompute the full forward pass X W^T every step (O(m n d): BLAS products over
blocks of neurons, each thresholded while in cache, so no n x m buffer is kept) and
then use the fire sets it reveals: the Gram G and the update J^T g only ever touch
fired blocks. This is the fair, well-written dense step every speed-up is measured
against; its floor is the product itself.

Both layers: with ``train_a=True`` the output weights are trained too. Their Jacobian
J_a (n x m) has entries phi_ir / sqrt(m), phi_ir = max(<w_r, x_i> - b, 0), nonzero
only on the fire sets, so J_a J_a^T = (1/m) sum_r phi_ir phi_jr is built from the
fire sets as well, and the Gauss-Newton Gram is G = J_W J_W^T + J_a J_a^T.

Per step (m width, n inputs, d dimension, nnz = sum_i |S_i|, U the union):

=========  ==============================================================
fire_sets  neuron-major view of the cached fire sets     O(nnz + |U| log |U|)
gram       G = (X X^T) * C / m (+ the a-part)            O(sum_r |p_r|^2 + n^2)
solve      Cholesky of G + mu I                          O(n^3)
update     W_U += -eta J^T g; P = X W^T (BLAS);          O(nnz d + n m d + n m)
           fire sets and outputs of the new weights
=========  ==============================================================
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError, NumericalError, check_float
from ..firesets import FireSets, forward_fire_sets
from ..kernels import numpy_backend as K
from ..model import ShiftedReLUNet
from ..solvers import gram_from_patterns, inverse_top_eigenvalue, solve_gram
from .base import Trainer, TrainerOptions, _PhaseTimer, _StepRecord

__all__ = ["Adam", "DenseTrainer", "GradientDescent", "GramGaussNewton", "SecondLayer"]


class DenseTrainer(Trainer):
    """Shared machinery of the dense methods: weights, fire sets, the J^T g update."""

    train_W = True

    def __init__(self, net: ShiftedReLUNet, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self._net = net.copy()
        self.train_a = bool(options.train_a) or not self.train_W
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
        """Fire sets of the current weights (with the activations as `data`)."""
        return self._fire

    def _gram(self, pat, rec: _StepRecord, timer: _PhaseTimer) -> np.ndarray:
        """G = J J^T over the trained parameters, from the fire sets."""
        with timer("gram"):
            G = np.zeros((self.n, self.n))
            if self.train_W:
                G, flops = gram_from_patterns(pat, self._Kx, self.m, self._net.a[pat.union])
                rec.counts["dense_flops"] += flops
            if self.train_a:
                vals = self._fire.union_values(pat)
                G = G + K.gram_weighted(pat.nptr, pat.ninputs, vals, self.n) / self.m
                rec.counts["dense_flops"] += pat.pair_count() + self.n * self.n
        return G

    def _direction(self, r, pat, rec: _StepRecord, timer: _PhaseTimer) -> np.ndarray:
        """The vector g of the update theta <- theta - J^T g (step size included)."""
        raise NotImplementedError

    def _apply(self, pat, g, rec: _StepRecord) -> None:
        """theta <- theta - J^T g over the trained layers (J at the current weights)."""
        a = self._net.a
        if self.train_a:
            vals = self._fire.union_values(pat)
            da = K.second_layer_apply(pat.nptr, pat.ninputs, vals, g) * self.scale
            rec.counts["jacobian_nnz"] += pat.nnz
        if self.train_W:
            K.add_jt_rows(self._net.W, pat.union, pat.nptr, pat.ninputs,
                          a[pat.union] * (-self.scale), g, self.X)
            rec.counts["jacobian_nnz"] += pat.nnz * self.d
        if self.train_a:
            a[pat.union] -= da

    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        n, m = self.n, self.m
        with timer("fire_sets"):
            pat = self._fire.union_patterns(self._slot)
        rec.fire_set_sizes = self._fire.sizes
        rec.union_size = pat.size
        if pat.size == 0:
            raise NumericalError("no neuron fires on any input, so the Jacobian is zero and "
                                 "training cannot move; lower the shift")
        r = self._f - self.y
        g = self._direction(r, pat, rec, timer)
        with timer("update"):
            self._apply(pat, g, rec)
            old = self._fire
            self._forward()
            rec.flips = old.flips(self._fire)
        rec.counts["inner_products"] += n * m
        rec.counts["preactivation_updates"] += n * m


class GradientDescent(DenseTrainer):
    """Full-batch gradient descent on 1/2 ||f - y||^2: theta <- theta - eta J^T (f - y).

    eta defaults to 1 / lambda_max(G_0), G_0 the Gram matrix at the initial weights
    (computed at construction, O(n^3) untimed): with it the loss decreases
    monotonically in the regimes the tests use. Values near 2 / lambda_max do not:
    the model is piecewise linear and G changes as neurons flip.

    Claimed cost per step: m n d.
    """

    method = "gd"
    uses = frozenset({"eta", "train_a", "seed", "backend"})

    def __init__(self, net, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        if options.eta is None:
            pat = self._fire.union_patterns(self._slot)
            self.eta = inverse_top_eigenvalue(self._gram(pat, _StepRecord(), _PhaseTimer()))
        else:
            self.eta = check_float("eta", options.eta, minimum=0.0, strict_min=True)

    def _direction(self, r, pat, rec, timer):
        return self.eta * r

    def claimed_terms(self, rec):
        return {"m n d": float(self.m * self.n * self.d)}


class GramGaussNewton(DenseTrainer):
    """Gram-Gauss-Newton (Cai et al. 2019): theta <- theta - eta J^T (G + mu I)^{-1} (f - y).

    G = J J^T is built from the fire sets, G_ij = <x_i, x_j> |S_i intersect S_j| / m
    (plus the second-layer part with ``train_a``), never from an explicit J. eta = 1
    and mu = 0 by default; a singular G (an input with an empty fire set, say) raises
    `NumericalError` with the diagnosis.

    Claimed cost per step: m n^2 d + n^3.
    """

    method = "ggn"
    uses = frozenset({"eta", "mu", "solver", "train_a", "seed", "backend"})

    def __init__(self, net, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self.eta = 1.0 if options.eta is None else check_float(
            "eta", options.eta, minimum=0.0, strict_min=True)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        if options.solver != "cholesky":
            raise InputError("solver", repr(options.solver),
                             "'cholesky' (the exact Gram-Gauss-Newton direction)")

    def _direction(self, r, pat, rec, timer):
        G = self._gram(pat, rec, timer)
        with timer("solve"):
            # an empty fire set makes G singular only when W alone is trained
            sizes = self._fire.sizes if not self.train_a else None
            g, flops = solve_gram(G, r, self.mu, sizes)
        rec.counts["dense_flops"] += flops
        return self.eta * g

    def claimed_terms(self, rec):
        m, n, d = self.m, self.n, self.d
        return {"m n^2 d": float(m * n * n * d), "n^3": float(n**3)}


class SecondLayer(GramGaussNewton):
    """Train only the output weights a on the fixed features phi_ir = max(<w_r, x_i> - b, 0).

    The model is linear in a, so one Gauss-Newton step with eta = 1 is the exact
    (minimum-change) least-squares / ridge solution a <- a - J_a^T (J_a J_a^T + mu I)^{-1} r,
    with J_a = Phi / sqrt(m) from the fire sets. Later steps leave the solution unchanged
    (up to rounding). The first layer W never changes.

    Claimed cost per step: the Gram over fired entries plus n^3.
    """

    method = "second_layer"
    uses = frozenset({"eta", "mu", "seed", "backend"})
    train_W = False

    def claimed_terms(self, rec):
        n = self.n
        return {"sum |S_i| n": float(self._fire.nnz * n), "n^3": float(n**3)}


class Adam(DenseTrainer):
    """Full-batch Adam (Kingma & Ba) on 1/2 ||f - y||^2, on W (and a with ``train_a``).

    Step size eta (default 1e-2), beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8. The
    moment estimates are dense (m d), so a step costs O(m n d) for the forward pass
    plus O(m d) for the moments, whatever the sparsity of the gradient.

    Claimed cost per step: m n d (a first-order step).
    """

    method = "adam"
    uses = frozenset({"eta", "train_a", "seed", "backend"})
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8

    @classmethod
    def memory_estimate(cls, m, n, d, options):
        """Dense trainer plus two m x d moment arrays and a gradient."""
        return super().memory_estimate(m, n, d, options) + 24.0 * m * (d + 1)

    def __init__(self, net, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self.eta = 1e-2 if options.eta is None else check_float(
            "eta", options.eta, minimum=0.0, strict_min=True)
        self._m1 = np.zeros_like(self._net.W)
        self._v1 = np.zeros_like(self._net.W)
        self._ma = np.zeros(self.m)
        self._va = np.zeros(self.m)

    def _direction(self, r, pat, rec, timer):
        return r

    def _apply(self, pat, g, rec):
        t = self.steps_done + 1
        grad = np.zeros_like(self._net.W)
        K.add_jt_rows(grad, pat.union, pat.nptr, pat.ninputs,
                      self._net.a[pat.union] * self.scale, g, self.X)
        rec.counts["jacobian_nnz"] += pat.nnz * self.d
        params = [(self._net.W, grad, self._m1, self._v1)]
        if self.train_a:
            grad_a = np.zeros(self.m)
            grad_a[pat.union] = K.second_layer_apply(pat.nptr, pat.ninputs,
                                                     self._fire.union_values(pat), g) * self.scale
            params.append((self._net.a, grad_a, self._ma, self._va))
        for theta, grad_t, m1, v1 in params:
            m1 *= self.beta1
            m1 += (1 - self.beta1) * grad_t
            v1 *= self.beta2
            v1 += (1 - self.beta2) * grad_t**2
            mhat = m1 / (1 - self.beta1**t)
            vhat = v1 / (1 - self.beta2**t)
            theta -= self.eta * mhat / (np.sqrt(vhat) + self.epsilon)
        rec.counts["dense_flops"] += 10 * self._net.W.size

    def claimed_terms(self, rec):
        return {"m n d": float(self.m * self.n * self.d)}
