"""Training the multi-layer net: a dense reference and the subquadratic method.

Both trainers take a `DeepShiftedReLUNet` (L layers, width m) and do, per step, with
r = f - y, D_l the backpropagated signals and U_{l-1} the layer inputs (see
`verify_sublin.deep`):

* ``update="gn"`` (default): Gauss-Newton, g = eta (G + mu I)^{-1} r with
  G = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T) (eta = 1 by default);
* ``update="gd"``: gradient descent, g = eta r (eta = 1 / lambda_max(G_0) by default,
  G_0 the Gram at the initial weights, computed at construction);

then W_l <- W_l - D_l^T diag(g) U_{l-1} for every layer (all D_l and U_{l-1} at the old
weights): a sum of n rank-one terms, term i the outer product of D_l[i] (zero outside
S_l(x_i)) and U_{l-1}[i] (zero outside S_{l-1}(x_i)).

``deep_dense``: every product with a weight matrix is a BLAS product over all m
columns. Per step: backward D_{l-1} = mask * P(D_l W_l) (n m^2 each), the Gram
(n^2 m per layer), the update W_l -= (g D_l)^T U_{l-1} as one in-place rank-n dgemm
(no m x m temporary), and the forward pass U_{l-1} W_l^T at the new weights: each
hidden W_l is read three times and written once per step, 3 (L - 1) n m^2 +
O(n m d + L n^2 m + n^3) multiply-adds. (A row-blocked update fused with the forward
product, which reads W_l once less, measured slower at m = 2^14: 0.9 s against 0.6 s
per layer, as the small blocks keep BLAS below its speed.)

``deep_sublinear``: the hidden weights are kept as W_l = W_l^0 + sum_k coef_k u_k v_k^T,
the pending rank-one terms stored as sparse factors (u_k = D_l[i] on S_l(x_i),
v_k = U_{l-1}[i] on S_{l-1}(x_i), coef_k = -g_i). A step appends its n terms per layer
instead of touching W_l^0; when more than `merge_threshold` terms are pending they are
scatter-added into W_l^0 (sum_k |u_k| |v_k| writes; never a dense U V^T, which would
cost 2 m^2 rank). W_l^0 is stored transposed so that a column is contiguous:

* forward: z_l = W_l^0 u_{l-1} reads only the columns of the fired neurons of layer
  l - 1, m per nonzero of u_{l-1} (`fired_columns_forward`), plus the pending terms,
  <v_k, u_{l-1}> u_k (`pending_forward`);
* backward: W_l^T D_l is needed on S_{l-1}(x_i) only and D_l[i] lives on S_l(x_i), so
  only the entries W_l^0[S_l(x_i), S_{l-1}(x_i)] are read (`fired_rows_backward`), plus
  the pending terms;
* Gram from the sparse D_l and U_{l-1} (scipy.sparse products, sum over neurons of the
  squared pattern sizes);
* the input layer (m x d) is updated in place on its fired rows (nnz_1 d), which is
  what its merge would cost anyway.

So with nnz_l = sum_i |S_l(x_i)| ~ n m Q(b) <= n m^(1 - alpha) a step costs about
sum_l (m nnz_{l-1} + sum_i |S_l(x_i)| |S_{l-1}(x_i)|) + merges + n m d + L n m
(thresholding) + n^3: subquadratic in m, against the dense 3 (L - 1) n m^2. The
initialisation (copying and transposing W^0) costs (L - 1) m^2, once.

Options: eta, mu, update ("gn" | "gd"), merge_threshold (deep_sublinear only: merge
when more than this many terms per layer are pending; 0 = every step, k n = every
k + 1 steps; default n, every second step). The trainers read nothing else.

The merge threshold trades merge cost for pending-term cost. A merge writes
sum_k |u_k| |v_k| entries whenever it happens, but the rows of W^0 it touches are
visited once per merge, so batching two or three steps' terms cuts the merges'
memory traffic; meanwhile every pending term costs O(n (|u_k| + |v_k|)) in each
forward and backward pass. Measured at m = 2^14, L = 3, n = d = 32 (mean step over
12 steps, one process, `speed_deep.merge_threshold_effect`, two runs on a shared
machine): c = 0.4: 345, 318, 323, 324, 342 ms and 348, 325, 335, 339, 370 ms merging
every 1, 2, 3, 4, 6 steps; c = 0.85: 44.3, 41.3, 38.8, 40.2, 44.7 ms and 40.2, 41.4,
40.3, 47.7, 43.2 ms, differences within the noise. Hence the default: every second
step.

What a step reports (`StepResult`): fire_set_sizes[i] = sum_l |S_l(x_i)| and
union_size = sum_l |U_l| (all layers), flips summed over layers; per-layer figures
are in the trainer's ``layer_sizes`` (L x n), ``layer_unions`` and ``layer_flips``.
Counts: inner_products = n m (input layer pre-activations, d multiply-adds each);
dense_flops = multiply-adds with the hidden weights (products, gathers, pending
terms, merges), the Gram and the solve; jacobian_nnz = the input layer's update;
preactivation_updates = L n m pre-activations thresholded. ``last_work`` breaks the
same work down by part of the step. Phases: "gram" = backward and Gram, "solve",
"update" = update (appending terms) and forward at the new weights, "tree" = merges.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numba
import numpy as np
import scipy.sparse
from scipy.linalg import blas

from ..deep import DeepShiftedReLUNet
from ..errors import InputError, NumericalError, check_choice, check_float, check_int
from ..kernels import deep_kernels as DK
from ..kernels import numpy_backend as K
from ..model import alpha_for
from ..solvers import solve_gram
from .base import Trainer, TrainerOptions, _PhaseTimer, _StepRecord

__all__ = ["DeepDense", "DeepSublinear"]

#: The refusal of a step whose last layer fires nothing (shared with the array-API path).
NOTHING_FIRES_LAST = ("no neuron fires in the last layer, so the Jacobian is zero and "
                      "training cannot move; lower the shift")


def nothing_fires_last(weights, steps_done: int) -> NumericalError:
    """The diagnosis when the last layer fires nothing: weights that overflowed (NaN or
    infinite) or that earlier steps moved until nothing fires (the step size or damping
    was unsuitable), or, before any step, a shift too large. `weights`: host arrays.
    Cost O(sum of the weights' sizes), paid only on this failure."""
    if not all(np.isfinite(W).all() for W in weights):
        return NumericalError("the weights overflowed (NaN or infinite entries) in an earlier "
                              "step, so no neuron can fire; the step size eta or damping mu "
                              "was unsuitable: use a damping mu > 0 or a smaller eta")
    if steps_done > 0:
        return NumericalError(f"no neuron fires in the last layer any more: the {steps_done} "
                              "step(s) taken moved the weights until nothing fires; the step "
                              "size eta or damping mu was unsuitable: use a damping mu > 0 or "
                              "a smaller eta")
    return NumericalError(NOTHING_FIRES_LAST)

UPDATES = ("gn", "gd")

#: Below this many operations a compiled kernel runs on one thread: starting a parallel
#: region costs more than it saves (much more when another process holds a core).
PARALLEL_WORK = 1 << 20


@contextmanager
def _threads_for(work: int) -> Iterator[None]:
    """Run the enclosed kernels on one thread if `work` is below `PARALLEL_WORK`."""
    if work >= PARALLEL_WORK:
        yield
        return
    saved = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(saved)


class _DeepTrainer(Trainer):
    """What both deep trainers share: options, direction, reporting."""

    net_type = DeepShiftedReLUNet
    uses = frozenset({"eta", "mu", "update", "seed", "backend"})

    def __init__(self, net: DeepShiftedReLUNet, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self.depth = net.depth
        self.update = check_choice("update", options.update, UPDATES)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        if self.update == "gd" and self.mu != 0.0:
            raise InputError("mu", repr(options.mu), "0.0 (update='gd' does not use it)")
        self._a = net.a.copy()
        self._Kx = self.X @ self.X.T
        self._root_m = math.sqrt(self.m)
        self.last_work: dict[str, int] = {}

    def _init_eta(self) -> None:
        """eta: 1 for Gauss-Newton, 1 / lambda_max(G_0) for gradient descent."""
        if self.options.eta is not None:
            self.eta = check_float("eta", self.options.eta, minimum=0.0, strict_min=True)
        elif self.update == "gn":
            self.eta = 1.0
        else:
            G, _ = self._gram(self._signals())
            top = float(np.linalg.eigvalsh(G)[-1])
            if top <= 0:
                raise NumericalError("no neuron fires in the last layer, so G = 0 and gradient "
                                     "descent's step size 1 / lambda_max(G) does not exist; "
                                     "lower the shift or pass eta")
            self.eta = 1.0 / top

    # -------------------------------------------------------------- contract
    @property
    def outputs(self) -> np.ndarray:
        return self._f

    def _direction(self, D, rec: _StepRecord, timer: _PhaseTimer) -> np.ndarray:
        """g of the update W_l -= D_l^T diag(g) U_{l-1} (step size included)."""
        if not self.layer_sizes[-1].any():
            raise nothing_fires_last(self.net.weights, self.steps_done)
        r = self._f - self.y
        if self.update == "gd":
            return self.eta * r
        with timer("gram"):
            G, flops = self._gram(D)
        with timer("solve"):
            g, solve_flops = solve_gram(G, r, self.mu, self.layer_sizes[-1])
        self.last_work["gram"] = flops
        self.last_work["solve"] = solve_flops
        return self.eta * g

    def _report(self, rec: _StepRecord, sizes, unions, flips) -> None:
        rec.fire_set_sizes = sizes.sum(axis=0)
        rec.union_size = int(unions.sum())
        rec.flips = flips.sum(axis=0)
        self.layer_flips = flips
        w = self.last_work
        c = rec.counts
        c["inner_products"] += self.n * self.m
        c["preactivation_updates"] += w["threshold"]
        c["jacobian_nnz"] += w.get("update_input", 0)
        c["dense_flops"] += sum(v for k, v in w.items()
                                if k not in ("forward_input", "threshold", "update_input"))


def deep_dense_terms(n: int, m: int, d: int, depth: int, update: str) -> dict[str, float]:
    """The claimed cost per iteration of the dense multi-layer step, term by term:
    n m d + (L-1) n m^2, plus n^3 for the Gauss-Newton solve."""
    terms = {"n m d": float(n * m * d), "(L-1) n m^2": float((depth - 1) * n * m * m)}
    if update == "gn":
        terms["n^3"] = float(n**3)
    return terms


def deep_sublinear_terms(n: int, m: int, d: int, depth: int, update: str,
                    shift: float) -> dict[str, float]:
    """The claimed cost per iteration of the sublinear multi-layer step, term by term:
    n m d + (L-1) n m^(2-alpha), plus n^3 for the Gauss-Newton solve."""
    terms = {"n m d": float(n * m * d),
             "(L-1) n m^(2-alpha)": float((depth - 1) * n * m ** (2 - alpha_for(shift, m)))}
    if update == "gn":
        terms["n^3"] = float(n**3)
    return terms


def _subtract_product(W: np.ndarray, A: np.ndarray, B: np.ndarray) -> None:
    """W -= A @ B in place by one BLAS dgemm (beta = 1), with no m x m temporary.

    W (p x q) C-contiguous, A (p x n) and B (n x q) C-contiguous. The product is formed
    transposed, W^T -= B^T A^T, on the Fortran-ordered view W^T. Cost p q n
    multiply-adds; W is read and written once.
    """
    out = blas.dgemm(-1.0, B.T, A.T, beta=1.0, c=W.T, overwrite_c=True)
    if not np.shares_memory(out, W):        # a BLAS build that copied: keep the result
        W[...] = out.T


class DeepDense(_DeepTrainer):
    """Dense reference: BLAS products with every weight matrix (module docstring).

    Memory: the copied weights plus a few n x m arrays per layer.
    """

    method = "deep_dense"

    def __init__(self, net: DeepShiftedReLUNet, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self._net = net.copy()
        self._forward()
        self._init_eta()

    @property
    def net(self) -> DeepShiftedReLUNet:
        return self._net

    def _forward(self) -> None:
        """Pre-activations, layer inputs, fire sets and outputs. O(n m d + (L-1) n m^2)."""
        self._Z, self._U, self._C = self._net.forward_pass(self.X)
        n, m, L = self.n, self.m, self.depth
        self.last_work.update(forward_input=n * m * self.d, forward_hidden=(L - 1) * n * m * m,
                              threshold=L * n * m)
        self._masks = [Z > self.shift for Z in self._Z]
        self.layer_sizes = np.array([mk.sum(axis=1) for mk in self._masks])
        self.layer_unions = np.array([int(mk.any(axis=0).sum()) for mk in self._masks])
        HL = np.maximum(self._Z[-1] - self.shift, 0.0)
        self._f = HL @ self._a / self._root_m

    def _signals(self) -> list[np.ndarray]:
        """[D_1, ..., D_L] at the current weights (BLAS). Cost (L - 1) n m^2."""
        return self._net.signals(self._Z, self._U, self._C)

    def _gram(self, D) -> tuple[np.ndarray, int]:
        """G = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T) by BLAS. Cost O(L n^2 m)."""
        n, m, d = self.n, self.m, self.d
        return self._net.gram_from(D, self._U), n * n * (m * (2 * self.depth - 1) + d)

    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        n, m, d, L = self.n, self.m, self.d, self.depth
        self.last_work = {}
        with timer("gram"):
            D = self._signals()
        g = self._direction(D, rec, timer)
        with timer("update"):
            old_masks, old_sizes, old_unions = self._masks, self.layer_sizes, self.layer_unions
            self._update_and_forward(D, g)
            flips = np.array([(a != b).sum(axis=1) for a, b in zip(old_masks, self._masks)])
        w = self.last_work
        w["backward"] = (L - 1) * (n * m * m + 2 * n * m)
        w["update_hidden"] = (L - 1) * n * m * m
        w["update_input"] = n * m * d
        self._report(rec, old_sizes, old_unions, flips)

    def _update_and_forward(self, D, g) -> None:
        """W_l -= (g D_l)^T U_{l-1}^old in place (BLAS rank-n update), then the forward
        pass at the new weights (BLAS products)."""
        net = self._net
        old_U = self._U
        for W, Dl, U in zip(net.weights, D, old_U):
            _subtract_product(W, np.ascontiguousarray((Dl * g[:, None]).T), U)
        self._forward()

    def claimed_terms(self, rec: _StepRecord) -> dict[str, float]:
        return deep_dense_terms(self.n, self.m, self.d, self.depth, self.update)


class _Pending:
    """The pending rank-one terms coef[k] u_k v_k^T of one hidden layer (sparse factors).

    u_k and v_k are CSR rows (uptr, uidx, uval) and (vptr, vidx, vval), indices sorted.
    Appending n terms copies the arrays: O(nnz of the pending factors).
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.coef = np.zeros(0)
        self.uptr = np.zeros(1, np.int64)
        self.vptr = np.zeros(1, np.int64)
        self.uidx = np.zeros(0, np.int64)
        self.vidx = np.zeros(0, np.int64)
        self.uval = np.zeros(0)
        self.vval = np.zeros(0)
        self.products = 0          # sum_k |u_k| |v_k|: the cost of merging them

    @property
    def rank(self) -> int:
        return self.coef.shape[0]

    def append(self, coef, u, v) -> None:
        """Add the terms coef[i] u_i v_i^T; u, v = (indptr, indices, values) with n rows."""
        self.coef = np.concatenate([self.coef, coef])
        self.uptr = np.concatenate([self.uptr, u[0][1:] + self.uptr[-1]])
        self.vptr = np.concatenate([self.vptr, v[0][1:] + self.vptr[-1]])
        self.uidx = np.concatenate([self.uidx, u[1]])
        self.vidx = np.concatenate([self.vidx, v[1]])
        self.uval = np.concatenate([self.uval, u[2]])
        self.vval = np.concatenate([self.vval, v[2]])
        self.products += int(np.diff(u[0]) @ np.diff(v[0]))

    def args(self) -> tuple:
        return (self.coef, self.uptr, self.uidx, self.uval, self.vptr, self.vidx, self.vval)

    def add_to(self, W: np.ndarray) -> None:
        """W += sum_k coef_k u_k v_k^T, W in the (output, input) orientation (numpy,
        one term at a time; for reading the weights, not for training). O(products)."""
        for k in range(self.rank):
            u = slice(self.uptr[k], self.uptr[k + 1])
            v = slice(self.vptr[k], self.vptr[k + 1])
            W[np.ix_(self.uidx[u], self.vidx[v])] += self.coef[k] * np.outer(self.uval[u],
                                                                            self.vval[v])


class _Layer:
    """Fire sets of one layer in both layouts, and its output to the next layer."""

    __slots__ = ("c", "indices", "indptr", "nm_values", "pattern", "rows", "u", "values")


class DeepSublinear(_DeepTrainer):
    """The subquadratic method: fired columns forward, fired rows backward, lazy merges.

    See the module docstring. Extra attributes: ``merges`` (merges done so far),
    ``pending_rank`` (terms per hidden layer not yet merged), `merge()`.
    """

    method = "deep_sublinear"
    uses = _DeepTrainer.uses | {"merge_threshold"}

    #: Output neurons per parallel chunk of the fired-columns product (n x CHUNK in cache).
    CHUNK = 2048

    def __init__(self, net: DeepShiftedReLUNet, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        t = options.merge_threshold
        self.merge_threshold = (self.n if t is None          # every second step
                                else check_int("merge_threshold", t, minimum=0))
        self.scaling = net.scaling
        self._fixed_scale = net.fixed_scale
        self._W1 = net.weights[0].copy()
        self._WT = [np.empty_like(W) for W in net.weights[1:]]             # (L-1) m^2
        for W, WT in zip(net.weights[1:], self._WT):
            K.transpose_into(W, WT)                                        # in tiles
        self._pending = [_Pending() for _ in self._WT]
        self._slot = np.full(self.m, -1, np.int64)
        self._Z = [np.empty((self.n, self.m)) for _ in range(self.depth)]
        self._materialised: DeepShiftedReLUNet | None = None
        self.merges = 0
        self.last_work = {}
        self._forward()
        self._init_eta()

    # ---------------------------------------------------------------- state
    @property
    def pending_rank(self) -> list[int]:
        """Pending rank-one terms of each hidden layer."""
        return [p.rank for p in self._pending]

    @property
    def net(self) -> DeepShiftedReLUNet:
        """The current model, W_l = W_l^0 + pending terms materialised densely.

        O((L - 1) m^2) per call after a step (cached until the next step); for
        inspection, never used by training.
        """
        if self._materialised is None:
            weights = [self._W1.copy()]
            for WT, pend in zip(self._WT, self._pending):
                W = np.empty_like(WT)
                K.transpose_into(WT, W)
                pend.add_to(W)
                weights.append(W)
            self._materialised = DeepShiftedReLUNet(weights, self._a.copy(), self.shift,
                                                    self.scaling)
        return self._materialised

    def merge(self) -> int:
        """Scatter-add every pending term into W^0 now; returns the entries written.

        The effective weights W^0 + pending do not change (up to rounding).
        Cost O(sum_k |u_k| |v_k|).
        """
        if not any(self.pending_rank):
            return 0
        written = 0
        self._materialised = None
        for WT, pend in zip(self._WT, self._pending):
            with _threads_for(pend.products):
                DK.merge_terms(WT, *pend.args())
            written += pend.products
            pend.clear()
        self.merges += 1
        return written

    # -------------------------------------------------------------- forward
    def _threshold(self, k: int) -> _Layer:
        lay = _Layer()
        lay.indptr, lay.indices, lay.values = DK.threshold_rows(self._Z[k], self.shift)
        return lay

    def _layer_input(self, lay: _Layer) -> None:
        """u = c h on the fire sets, and the neuron-major view the next layer reads."""
        lay.rows = np.repeat(np.arange(self.n), np.diff(lay.indptr))      # input of each entry
        if self.scaling == "fixed":
            lay.c = np.full(self.n, self._fixed_scale)
        else:
            norms = np.sqrt(DK.segment_sums(lay.indptr, lay.values * lay.values))
            lay.c = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        lay.u = lay.values * lay.c[lay.rows]
        union, nptr, ninputs, pos = K.union_patterns(lay.indptr, lay.indices, self._slot)
        lay.pattern = (union, nptr, ninputs, pos)
        nm = np.empty_like(lay.u)
        nm[pos] = lay.u
        lay.nm_values = nm

    def _forward(self) -> None:
        """Fire sets, layer inputs and outputs at the current weights (module docstring)."""
        w = self.last_work
        np.matmul(self.X, self._W1.T, out=self._Z[0])
        layers = [self._threshold(0)]
        fired = pending = 0
        for k in range(1, self.depth):
            prev = layers[-1]
            self._layer_input(prev)
            Z = self._Z[k]
            Z[:] = 0.0
            pend = self._pending[k - 1]
            if pend.rank:
                work = self.n * (pend.vidx.size + pend.uidx.size) + pend.rank * prev.u.size
                with _threads_for(work):
                    DK.pending_forward(*pend.args(), prev.indptr, prev.indices, prev.u, Z)
                pending += work
            union, nptr, ninputs, _ = prev.pattern
            with _threads_for(self.m * prev.u.size):
                DK.fired_columns_forward(self._WT[k - 1], union, nptr, ninputs, prev.nm_values,
                                         Z, self.CHUNK)
            fired += self.m * prev.u.size
            layers.append(self._threshold(k))
        last = layers[-1]
        self._f = DK.segment_sums(last.indptr, self._a[last.indices] * last.values)
        self._f /= self._root_m
        self._layers = layers
        self.layer_sizes = np.array([np.diff(lay.indptr) for lay in layers])
        self._neuron_counts = [np.bincount(lay.indices, minlength=self.m) for lay in layers]
        self.layer_unions = np.array([int(np.count_nonzero(c)) for c in self._neuron_counts])
        w["forward_input"] = self.n * self.m * self.d
        w["forward_fired"] = fired
        w["forward_pending"] = pending
        w["threshold"] = self.depth * self.n * self.m

    # ------------------------------------------------------------- backward
    def _signals(self) -> list[np.ndarray]:
        """D_l on the fire sets (input-major values), l = 1..L (module docstring)."""
        layers = self._layers
        top = layers[-1]
        D = self._a[top.indices] / self._root_m
        out = [D]
        fired = pending = 0
        for k in range(self.depth - 1, 0, -1):
            lay, below = layers[k], layers[k - 1]
            union, nptr, ninputs, pos = below.pattern
            nm = np.empty(below.indices.size)
            pairs = int(np.diff(lay.indptr) @ np.diff(below.indptr))
            with _threads_for(pairs):
                DK.fired_rows_backward(self._WT[k - 1], lay.indptr, lay.indices, D, union, nptr,
                                       ninputs, nm)
            g = nm[pos]
            fired += pairs
            pend = self._pending[k - 1]
            if pend.rank:
                work = (pend.rank * (lay.indices.size + below.indices.size)
                        + self.n * (pend.uidx.size + pend.vidx.size))
                with _threads_for(work):
                    DK.pending_backward(*pend.args(), lay.indptr, lay.indices, D,
                                        below.indptr, below.indices, g)
                pending += work
            if self.scaling == "fixed":
                D = g * self._fixed_scale
            else:
                proj = DK.segment_sums(below.indptr, below.u * g)
                D = (g - below.u * proj[below.rows]) * below.c[below.rows]
            out.append(D)
        self.last_work["backward_fired"] = fired
        self.last_work["backward_pending"] = pending
        return out[::-1]

    def _gram(self, D) -> tuple[np.ndarray, int]:
        """G = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T) from the sparse rows (scipy.sparse).

        Cost O(sum_l sum_r |p_{l,r}|^2 + L n^2), p_{l,r} the inputs that fire neuron r.
        """
        n, m = self.n, self.m
        layers = self._layers
        G = np.zeros((n, n))
        flops = 0
        for k in range(self.depth):
            lay = layers[k]
            Dk = scipy.sparse.csr_array((D[k], lay.indices, lay.indptr), shape=(n, m))
            DD = (Dk @ Dk.T).toarray()
            if k == 0:
                UU = self._Kx
            else:
                below = layers[k - 1]
                Uk = scipy.sparse.csr_array((below.u, below.indices, below.indptr),
                                            shape=(n, m))
                UU = (Uk @ Uk.T).toarray()
                flops += int(self._neuron_counts[k - 1] @ self._neuron_counts[k - 1])
            G += DD * UU
            flops += int(self._neuron_counts[k] @ self._neuron_counts[k]) + n * n
        return G, flops

    # ----------------------------------------------------------------- step
    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        self.last_work = {}
        with timer("gram"):
            D = self._signals()
        g = self._direction(D, rec, timer)
        self._materialised = None
        old_layers, old_sizes, old_unions = self._layers, self.layer_sizes, self.layer_unions
        with timer("update"):
            coef = -g
            first = old_layers[0]
            DK.add_outer_rows(self._W1, coef, first.indptr, first.indices, D[0], self.X)
            for k in range(1, self.depth):
                lay, below = old_layers[k], old_layers[k - 1]
                self._pending[k - 1].append(coef, (lay.indptr, lay.indices, D[k]),
                                            (below.indptr, below.indices, below.u))
        merged = 0
        if self.depth > 1 and self._pending[0].rank > self.merge_threshold:
            with timer("tree"):
                merged = self.merge()
        with timer("update"):
            self._forward()
            flips = np.array([K.csr_flip_counts(a.indptr, a.indices, b.indptr, b.indices)
                              for a, b in zip(old_layers, self._layers)])
        self.last_work["update_input"] = first.indices.size * self.d
        self.last_work["merge"] = merged
        self._report(rec, old_sizes, old_unions, flips)

    def claimed_terms(self, rec: _StepRecord) -> dict[str, float]:
        return deep_sublinear_terms(self.n, self.m, self.d, self.depth, self.update, self.shift)
