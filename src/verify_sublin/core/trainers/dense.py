"""Dense baselines: gradient descent, Gram-Gauss-Newton, Adam, second-layer training.

All recompute the full forward pass X W^T every step (O(m n d): BLAS products over
blocks of neurons, each thresholded while in cache into neuron-major fire patterns,
so no n x m buffer is kept) and then use the fire sets it reveals: the Gram G and the
update J^T g only ever touch fired blocks. This is the fair, well-written dense step
every speed-up is measured against; its floor is the product itself.

Both layers: with ``train_a=True`` the output weights are trained too. Their Jacobian
J_a (n x m) has entries phi_ir / sqrt(m), phi_ir = max(<w_r, x_i> - b, 0), nonzero
only on the fire sets, so J_a J_a^T = (1/m) sum_r phi_ir phi_jr is built from the
fire sets as well, and the Gauss-Newton Gram is G = J_W J_W^T + J_a J_a^T.

Per step (m width, n inputs, d dimension, nnz = sum_i |S_i|, U the union):

=========  ==============================================================
fire_sets  the forward's neuron-major patterns          O(1) (masked: O(|U| n))
gram       G = (X X^T) * C / m (+ the a-part)            O(sum_r |p_r|^2 + n^2)
solve      Cholesky of G + mu I                          O(n^3)
update     W_U += -eta J^T g; P = X W^T (BLAS);          O(nnz d + n m d + n m)
           fire sets and outputs of the new weights
=========  ==============================================================
"""

from __future__ import annotations

import math

import numpy as np

from .. import solvers
from ..errors import InputError, NumericalError, check_float
from ..model import ShiftedReLUNet
from .base import Trainer, TrainerOptions, _PhaseTimer, _StepRecord
from .options import AdamOptions, GDOptions, GGNOptions, SecondLayerOptions

__all__ = ["Adam", "DenseTrainer", "GradientDescent", "GramGaussNewton", "SecondLayer"]

#: The refusal of a step on a network where nothing fires (shared by every method).
NOTHING_FIRES = ("no neuron fires on any input, so the Jacobian is zero and training "
                 "cannot move; lower the shift")


class DenseTrainer(Trainer):
    """Shared machinery of the dense methods: weights, fire sets, the J^T g update.

    Written once over the backend's namespace ``xp`` and fire-set operations ``ops``
    (`trainers.ops`); W and a live on the backend, the outputs on the host.
    """

    train_W = True

    def __init__(self, net: ShiftedReLUNet, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self._use_backend()
        host = net.to_backend("numpy") if net.backend != "numpy" else net
        self.a = self.ops.asarray(host.a).copy() if self.ops.compiled else self.be.asarray(host.a)
        # sketched_gn and second_layer have no train_a option: W only, and a only
        self.train_a = bool(getattr(options, "train_a", False)) or not self.train_W
        self.scale = 1.0 / math.sqrt(self.m)
        self._net_cache: ShiftedReLUNet | None = None
        # one streamed pass: the trainer's copy of W (it updates W in place), the fire
        # sets and the outputs; the copy is skipped when W is never written
        start = self.ops.start(host.W, self.a, copy=self.train_W)
        self.W, self._fire, self._f = start.W, start.fire, start.f

    def _forward(self) -> None:
        """Fire sets and outputs of the current weights. Cost O(n m d)."""
        self._fire, self._f = self.ops.forward(self.W, self.a, self._fire)
        self._net_cache = None

    @property
    def net(self) -> ShiftedReLUNet:
        if self.ops.compiled:
            if self._net_cache is None:
                self._net_cache = ShiftedReLUNet(self.W, self.a, self.shift)
            return self._net_cache
        if self._net_cache is None:
            name = self.be.name if self.be.name != "numpy_generic" else "numpy"
            self._net_cache = ShiftedReLUNet(self.ops.host(self.W).copy(),
                                             self.ops.host(self.a).copy(), self.shift,
                                             backend=name)
        return self._net_cache

    def predict(self, X) -> np.ndarray:
        return self.be.to_numpy(self.net.forward(X))

    @property
    def outputs(self) -> np.ndarray:
        return self._f

    @property
    def fire_sets(self):
        """Fire sets of the current weights (numpy: `FireSets` with the activations as
        `data`, O(n + nnz) from the neuron-major patterns the step keeps; array-API
        backends: dense masks)."""
        return self.ops.fire_sets(self._fire)

    def _gram(self, pat, rec: _StepRecord, timer: _PhaseTimer):
        """G = J J^T over the trained parameters, from the fire sets.

        Counts: sum_r |p_r|^2 + n^2 per trained layer (dense_flops)."""
        ops = self.ops
        mode = getattr(self.options, "gram", "pairs")
        with timer("gram"):
            blas = mode == "blas" or (mode == "auto" and ops.blas_gram(pat))
            Gm = 0.0
            if self.train_W:
                Gm = ops.gram(pat, self._a_rows(pat), blas)
            if self.train_a:
                Gm = Gm + ops.gram_values(self._fire, pat, blas)
        layers = int(self.train_W) + int(self.train_a)
        work = self.n * self.n * pat.size if blas else pat.pair_count()
        rec.counts["dense_flops"] += layers * (work + self.n * self.n)
        return Gm

    #: whether every |a_r| = 1 (checked once, for a fixed second layer on numpy)
    _unit_a: bool | None = None

    def _a_rows(self, pat):
        """a on the union for the first layer's Gram; None when the second layer is fixed
        and every |a_r| = 1 (the papers' +-1), which lets the BLAS Gram count in exact
        integers (the pair sums multiply by a_r^2 = 1 either way). Cost O(m) once."""
        if self.train_a or not self.ops.compiled:
            return self.ops.take(self.a, pat)
        if self._unit_a is None:
            self._unit_a = bool(np.all(np.abs(self.a) == 1.0))
        return None if self._unit_a else self.ops.take(self.a, pat)

    def _direction(self, r, pat, rec: _StepRecord, timer: _PhaseTimer):
        """The vector g of the update theta <- theta - J^T g (step size included)."""
        raise NotImplementedError

    def _apply(self, pat, g, rec: _StepRecord) -> None:
        """theta <- theta - J^T g over the trained layers (J at the current weights).

        Counts: nnz d (W) and nnz (a) entries of J read (jacobian_nnz)."""
        ops = self.ops
        if self.train_a:
            da = ops.values_t(self._fire, pat, g) * self.scale
            rec.counts["jacobian_nnz"] += pat.nnz
        if self.train_W:
            self.W = ops.add_jt(self.W, pat, ops.take(self.a, pat) * (-self.scale), g)
            rec.counts["jacobian_nnz"] += pat.nnz * self.d
        if self.train_a:
            self.a = ops.add_at(self.a, pat, -da)

    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        n, m, ops = self.n, self.m, self.ops
        with timer("fire_sets"):
            pat = ops.patterns(self._fire)
        rec.fire_set_sizes = ops.sizes(self._fire)
        rec.union_size = pat.size
        if pat.size == 0:
            raise NumericalError(NOTHING_FIRES)
        r = ops.asarray(self._f) - ops.asarray(self.y)
        g = self._direction(r, pat, rec, timer)
        with timer("update"):
            self._apply(pat, g, rec)
            old = self._fire
            self._forward()
            rec.flips = ops.flips(old, self._fire)
        rec.counts["inner_products"] += n * m
        rec.counts["preactivation_updates"] += n * m


def _eta(options: TrainerOptions, default: float) -> float:
    return default if options.eta is None else check_float("eta", options.eta, minimum=0.0,
                                                           strict_min=True)


class GradientDescent(DenseTrainer):
    """Full-batch gradient descent on 1/2 ||f - y||^2: theta <- theta - eta J^T (f - y).

    eta defaults to 1 / lambda_max(G_0), G_0 the Gram matrix at the initial weights
    (computed at construction, O(n^3)): with it the loss decreases
    monotonically in the regimes the tests use. Values near 2 / lambda_max do not:
    the model is piecewise linear and G changes as neurons flip.

    Claimed cost per step: m n d.
    """

    method = "gd"
    options_type = GDOptions

    def __init__(self, net, X, y, options: GDOptions):
        super().__init__(net, X, y, options)
        if options.eta is None:
            pat = self.ops.patterns(self._fire)
            self.eta = self.ops.inverse_top_eigenvalue(
                self._gram(pat, _StepRecord(), _PhaseTimer()))
        else:
            self.eta = _eta(options, 1.0)

    def _direction(self, r, pat, rec, timer):
        return self.eta * r

    def claimed_terms(self, rec):
        return {"m n d": float(self.m * self.n * self.d)}


class GramGaussNewton(DenseTrainer):
    """Gram-Gauss-Newton (Cai et al. 2019): theta <- theta - eta J^T (G + mu I)^{-1} (f - y).

    ``gram="pairs"`` (default; this project's Gram, not the paper's; "blas" and "auto"
    build the same G from dense fire masks): G = J J^T is built from the fire sets,
    G_ij = <x_i, x_j> |S_i intersect S_j| / m (plus the second-layer part with
    ``train_a``), never from an explicit J: O(sum_r |p_r|^2 + n^2), which already
    exploits the sparsity every sublinear method exploits.
    ``gram="dense"``: the textbook product, J formed in blocks of neurons and
    multiplied by BLAS (`solvers.dense_gram`), m d n (n + 1) / 2 + n m (d + 1)
    counted multiply-adds whatever the sparsity (W only: refused with ``train_a``).
    Both give the same G up to rounding; the forward pass (n m d) and the update
    (nnz d) are the same. eta = 1 and mu = 0 by default; a singular G (an input with
    an empty fire set, say) raises `NumericalError` with the diagnosis.

    Claimed cost per step: m n^2 d + n^3.
    """

    method = "ggn"
    options_type = GGNOptions

    @classmethod
    def _backend_refusal(cls, options, compiled):
        if options.solver != "cholesky":
            return InputError("solver", repr(options.solver),
                              "'cholesky' (the exact Gram-Gauss-Newton direction)")
        if options.gram == "dense" and options.train_a:
            return InputError("train_a", "True", "False with gram='dense' (the textbook "
                              "dense Gram is formed for the first layer's Jacobian only)")
        return None

    @classmethod
    def memory_estimate(cls, m, n, d, options, shift=None):
        """Dense trainer plus, with gram="dense", the n x m fire mask and one n x B d
        block of J (`solvers.DENSE_GRAM_COLUMNS`)."""
        base = super().memory_estimate(m, n, d, options, shift)
        if getattr(options, "gram", "pairs") == "dense":
            base += 1.0 * n * m + 8.0 * n * solvers.DENSE_GRAM_COLUMNS
        return base

    def __init__(self, net, X, y, options: GGNOptions):
        super().__init__(net, X, y, options)
        self.eta = _eta(options, 1.0)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        self.dense_gram = getattr(options, "gram", "pairs") == "dense"

    def _direction(self, r, pat, rec, timer):
        if self.dense_gram:
            with timer("gram"):
                Gm = self.ops.dense_gram(self._fire, self.a)
            rec.counts["dense_flops"] += solvers.dense_gram_flops(self.m, self.n, self.d)
        else:
            Gm = self._gram(pat, rec, timer)
        with timer("solve"):
            # an empty fire set makes G singular only when W alone is trained
            sizes = self.ops.sizes(self._fire) if not self.train_a else None
            g = self.ops.solve_gram(Gm, r, self.mu, sizes)
        rec.counts["dense_flops"] += self.n**3 // 3 + 2 * self.n * self.n
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
    options_type = SecondLayerOptions
    train_W = False

    @classmethod
    def _backend_refusal(cls, options, compiled):
        # no solver option: always the exact Cholesky solve
        if options.gram == "dense":
            return InputError("gram", "'dense'", "'pairs', 'blas' or 'auto' (the textbook "
                              "dense Gram is ggn's, of the first layer's Jacobian)")
        return None

    @classmethod
    def copies_weights(cls, options):
        """W never changes: the trainer reads the caller's (read-only)."""
        return False

    def claimed_terms(self, rec):
        n = self.n
        return {"sum |S_i| n": float(np.sum(rec.fire_set_sizes) * n), "n^3": float(n**3)}


class Adam(DenseTrainer):
    """Full-batch Adam (Kingma & Ba) on 1/2 ||f - y||^2, on W (and a with ``train_a``).

    Step size eta (default 1e-2), beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8. The
    moment estimates are dense (m d), so a step costs O(m n d) for the forward pass
    plus O(m d) for the moments, whatever the sparsity of the gradient.

    Claimed cost per step: m n d (a first-order step).
    """

    method = "adam"
    options_type = AdamOptions
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8

    @classmethod
    def memory_estimate(cls, m, n, d, options, shift=None):
        """Dense trainer plus two m x d moment arrays and a gradient."""
        return super().memory_estimate(m, n, d, options, shift) + 24.0 * m * (d + 1)

    def __init__(self, net, X, y, options: AdamOptions):
        super().__init__(net, X, y, options)
        self.eta = _eta(options, 1e-2)
        z = self.xp.zeros_like
        self._moments = {"W": (z(self.W), z(self.W)), "a": (z(self.a), z(self.a))}

    def _direction(self, r, pat, rec, timer):
        return r

    def _apply(self, pat, g, rec):
        xp, ops, t = self.xp, self.ops, self.steps_done + 1
        grads = {"W": ops.add_jt(xp.zeros_like(self.W), pat, ops.take(self.a, pat) * self.scale,
                                 g)}
        rec.counts["jacobian_nnz"] += pat.nnz * self.d
        if self.train_a:
            grads["a"] = ops.add_at(xp.zeros_like(self.a), pat,
                                    ops.values_t(self._fire, pat, g) * self.scale)
        for name, grad in grads.items():
            m1, v1 = self._moments[name]
            m1 = self.beta1 * m1 + (1 - self.beta1) * grad
            v1 = self.beta2 * v1 + (1 - self.beta2) * grad * grad
            self._moments[name] = (m1, v1)
            step = self.eta * (m1 / (1 - self.beta1**t)) / (
                xp.sqrt(v1 / (1 - self.beta2**t)) + self.epsilon)
            if name == "W":
                self.W = self.W - step
            else:
                self.a = self.a - step
        rec.counts["dense_flops"] += 10 * self.m * self.d

    def claimed_terms(self, rec):
        return {"m n d": float(self.m * self.n * self.d)}
