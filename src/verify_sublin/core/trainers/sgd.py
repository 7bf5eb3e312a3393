"""Mini-batch stochastic gradient descent, the first-order baseline the reviewers asked for.

One step is one mini-batch update: draw the next batch B of the epoch (the inputs
reshuffled each epoch with the options' seed, consecutive slices of B = batch_size
inputs, the last n mod B of an epoch left out), compute the batch's forward pass, and

    theta <- theta - eta (n / B) J_B^T (f_B - y_B),

the unbiased estimate of the full gradient J^T (f - y) of 1/2 ||f - y||^2 (W, and a with
``train_a``). So T counts mini-batch steps, not epochs: an epoch is floor(n / B) steps.

What a step costs, and what it is charged (its phases and counts): the batch's forward
pass and fire sets O(B m d) (phase "fire_sets", counted as B m inner products), the
update J_B^T g over the batch's fired entries O(nnz_B d), nnz_B = sum_(i in B) |S_i|
(phase "update", counted as jacobian_nnz), and the batch's inputs on the backend with
their B x B products O(B^2 d). Measured on one core at m = 2^14, n = 64, d = 32, B = 8:
about 0.9 ms a step against gradient descent's 8 ms.
The full-batch residual ||f - y|| that every trainer reports after its step (and that a
time to eps is read from) needs the forward pass over all n inputs, O(n m d): here it is
monitoring, not training, so it is computed inside `step()` but outside the timed phases
and the counts. A time to eps of this method is therefore the time of its mini-batch
work alone, as if the stopping point were known, which favours it against the
full-batch methods (whose forward pass is both their step and their residual). A
benchmark that times ``step()`` from outside includes the monitoring pass; read
`StepResult.total_time` instead.

Step size: eta defaults to (B / n) / lambda_B, where lambda_B is the largest
lambda_max(G_0[B, B]) over the batches of the first epoch (G_0 = J J^T at the initial
weights, computed at construction as gradient descent does, O(sum_r |p_r|^2 + n^2), plus
one B x B eigenvalue per batch, O(n B^2)); the update is then
J_B^T (f_B - y_B) / lambda_B. In the linear (kernel) regime the distance to an
interpolating solution cannot grow under a batch with c lambda_max(G_BB) < 2, c = eta n /
B: with e the error of the weights, ||e'||^2 = ||e||^2 - c (2 - c lambda_max(G_BB))
||J_B e||^2. So the default step is stable for every batch whose top eigenvalue is below
twice the first epoch's largest (every batch, if G_BB's top eigenvalue varies less than
2x), and never smaller than gradient descent's 1 / lambda_max(G_0) per unit of batch
(lambda_max(G_BB) <= lambda_max(G), G_BB a principal submatrix). With B = n the method is
gradient descent with its default step. Other steps may be passed (`eta`); a step that
raises the residual is flagged (`StepResult.diverging`), not refused, as for the other
first-order methods.

The fire sets, union and flips a step reports are those of all n inputs (the model's,
as for every trainer); the neurons the step changes are the batch's union only.

Claimed cost per step: B m d (the batch's forward pass).
"""

from __future__ import annotations

import numpy as np

from .. import solvers
from ..errors import NumericalError, check_int
from .base import _PhaseTimer, _StepRecord
from .dense import NOTHING_FIRES, DenseTrainer, _eta
from .ops import make_ops
from .options import SGDOptions

__all__ = ["MiniBatchSGD", "default_batch_size"]


def default_batch_size(n: int) -> int:
    """The batch size when none is given: an eighth of the inputs, at least one.

    >>> default_batch_size(64), default_batch_size(6)
    (8, 1)
    """
    return max(1, n // 8)


class MiniBatchSGD(DenseTrainer):
    """Mini-batch SGD on 1/2 ||f - y||^2 (module docstring: the step, its cost, what its
    timing includes, and the default step size).

    Attributes
    ----------
    batch_size : int
        Inputs per batch (at most n).
    eta : float
        Step size on the unbiased gradient (n / batch_size) J_B^T (f_B - y_B).
    last_batch : (batch_size,) int array
        The sorted input indices of the last step's batch (empty before the first step).
    """

    method = "sgd"
    options_type = SGDOptions

    def __init__(self, net, X, y, options: SGDOptions):
        super().__init__(net, X, y, options)
        n = self.n
        size = default_batch_size(n) if options.batch_size is None else check_int(
            "batch_size", options.batch_size, minimum=1)
        self.batch_size = min(size, n)
        self._rng = np.random.default_rng(options.seed)
        self._order = self._rng.permutation(n)       # the first epoch's order
        self._pos = 0
        self.last_batch = np.arange(0)
        if options.eta is None:
            self.eta = (self.batch_size / n) * self._batch_step()
        else:
            self.eta = _eta(options, 1.0)

    def _batch_step(self) -> float:
        """1 / lambda_B, lambda_B the largest lambda_max(G_0[B, B]) over the first epoch's
        batches (module docstring). Cost O(sum_r |p_r|^2 + n^2 + n B^2)."""
        pat = self.ops.patterns(self._fire)
        G0 = self.ops.host(self._gram(pat, _StepRecord(), _PhaseTimer()))
        b, top, worst = self.batch_size, -np.inf, None
        for k in range(self.n // b):
            B = np.sort(self._order[k * b:(k + 1) * b])
            sub = G0[np.ix_(B, B)]
            lam = float(np.linalg.eigvalsh(sub)[-1])
            if lam > top:
                top, worst = lam, sub
        return solvers.inverse_top_eigenvalue(worst)     # refuses a zero Gram

    def _may_grow(self) -> bool:
        return True             # a first-order step may raise the residual: flagged only

    def _next_batch(self) -> np.ndarray:
        """The next batch of the epoch; a new permutation when fewer than a batch remain.
        Cost O(n) per epoch, O(B log B) per batch."""
        b = self.batch_size
        if self._pos + b > self._order.shape[0]:
            self._order = self._rng.permutation(self.n)
            self._pos = 0
        batch = np.sort(self._order[self._pos:self._pos + b])
        self._pos += b
        return batch

    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        n, m, d, b = self.n, self.m, self.d, self.batch_size
        ops = self.ops
        rec.fire_set_sizes = ops.sizes(self._fire)
        full = ops.patterns(self._fire)         # reported only: the model's fire sets
        rec.union_size = full.size
        if full.size == 0:
            raise NumericalError(NOTHING_FIRES)
        with timer("fire_sets"):
            batch = self._next_batch()
            bops = make_ops(self.be, self.X[batch], self.shift, m)
            fire, f_b = bops.forward(self.W, self.a)
            pat = bops.patterns(fire)
        with timer("update"):
            g = bops.asarray((self.eta * n / b) * (f_b - self.y[batch]))
            if self.train_a:
                da = bops.values_t(fire, pat, g) * self.scale
            self.W = bops.add_jt(self.W, pat, bops.take(self.a, pat) * (-self.scale), g)
            if self.train_a:
                self.a = bops.add_at(self.a, pat, -da)
        self.last_batch = batch
        rec.counts["inner_products"] += b * m
        rec.counts["preactivation_updates"] += b * m
        rec.counts["jacobian_nnz"] += pat.nnz * (d + int(self.train_a))
        # monitoring, untimed and uncounted: the full-batch outputs and fire sets
        old = self._fire
        self._forward()
        rec.flips = ops.flips(old, self._fire)

    def claimed_terms(self, rec):
        return {"B m d": float(self.batch_size * self.m * self.d)}

