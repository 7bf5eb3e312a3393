"""Training the multi-layer net: a dense reference and the subquadratic method.

Both trainers take a `DeepShiftedReLUNet` (L layers, width m) and do, per step, with
r = f - y, D_l the backpropagated signals and U_{l-1} the layer inputs (see
`verify_sublin.core.deep`):

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

One step, written once (`_DeepTrainer._step`): signals, direction, update, merge,
forward. Its counts are defined once per method from the per-layer fire-set sizes
(`_DeepTrainer._count_*`), so every backend reports the same figures; the layer work
itself is an engine per (method, backend): `_DenseLayers` and `_SublinearLayers`
(numpy: BLAS and the compiled kernels of `kernels.deep_kernels` on CSR fire sets),
`_ArrayDenseLayers` and `_ArraySublinearLayers` (any array-API namespace: dense masks;
the sublinear one keeps each hidden layer as W^0 plus pending low-rank terms A B^T,
multiplies only the fired columns of W^0 forward and its fired rows backward, and
merges on the block fired rows x fired columns, never as a dense m x m product).

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

from ..adapters import native_scatter
from ..deep import DeepShiftedReLUNet
from ..errors import InputError, NumericalError, check_choice, check_float, check_int
from ..kernels import deep_kernels as DK
from ..kernels import fireset_kernels as FK
from ..memory import check_memory
from ..model import alpha_for
from .base import Trainer, TrainerOptions, _PhaseTimer, _StepRecord

__all__ = ["DeepDense", "DeepSublinear"]

#: The refusal of a step whose last layer fires nothing.
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



class _PendingCount:
    """What the pending terms of one hidden layer cost, from the fire-set sizes alone
    (the same on every backend): rank, sum_k |u_k|, sum_k |v_k|, sum_k |u_k| |v_k|."""

    __slots__ = ("products", "rank", "u_nnz", "v_nnz")

    def __init__(self) -> None:
        self.rank = self.u_nnz = self.v_nnz = self.products = 0

    def append(self, sizes_u: np.ndarray, sizes_v: np.ndarray) -> None:
        self.rank += sizes_u.shape[0]
        self.u_nnz += int(sizes_u.sum())
        self.v_nnz += int(sizes_v.sum())
        self.products += int(sizes_u @ sizes_v)


class _DeepTrainer(Trainer):
    """The multi-layer step, once: options, direction, counts and reporting; the layer
    work is done by an engine (`_engine`) chosen by method and backend."""

    net_type = DeepShiftedReLUNet
    uses = frozenset({"eta", "mu", "update", "seed", "backend"})
    sublinear = False

    def __init__(self, net: DeepShiftedReLUNet, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self.depth = net.depth
        # `memory_estimate` has no depth; the (L - 1) m^2 hidden weights are checked here
        _check_weights_memory(self, net)
        self._use_backend()
        self.update = check_choice("update", options.update, UPDATES)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        if self.update == "gd" and self.mu != 0.0:
            raise InputError("mu", repr(options.mu), "0.0 (update='gd' does not use it)")
        t = options.merge_threshold
        self.merge_threshold = (self.n if t is None          # every second step
                                else check_int("merge_threshold", t, minimum=0))
        self._root_m = math.sqrt(self.m)
        self._pending_count = [_PendingCount() for _ in range(self.depth - 1)]
        self.merges = 0
        self.last_work: dict[str, int] = {}
        self._materialised: DeepShiftedReLUNet | None = None
        self._eng = self._engine(net)
        self._forward()
        self._init_eta()

    def _engine(self, net):
        """The layer engine of this method and backend, built from the backend's
        operations and the network (never from the trainer: see the module docstring)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- state
    @property
    def outputs(self) -> np.ndarray:
        return self._eng.f

    @property
    def layer_sizes(self) -> np.ndarray:
        """|S_l(x_i)| at the current weights, L x n."""
        return self._eng.layer_sizes

    @property
    def layer_unions(self) -> np.ndarray:
        """|U_l| at the current weights, per layer."""
        return self._eng.layer_unions

    @property
    def pending_rank(self) -> list[int]:
        """Pending rank-one terms of each hidden layer (0 for deep_dense)."""
        return [p.rank for p in self._pending_count]

    @property
    def net(self) -> DeepShiftedReLUNet:
        """The current model (weights materialised on the host; cached until the next
        step). For inspection, never used by training."""
        if self._materialised is None:
            self._materialised = DeepShiftedReLUNet(self._eng.weights(),
                                                    self.ops.host(self._eng.a).copy(),
                                                    self.shift, self._eng.scaling)
        return self._materialised

    def predict(self, X) -> np.ndarray:
        return self.net.forward(X)

    def merge(self) -> int:
        """Add every pending term into W^0 now; returns the entries written
        (sum_k |u_k| |v_k|). The effective weights do not change (up to rounding)."""
        if not any(self.pending_rank):
            return 0
        self._materialised = None
        self._eng.merge()
        written = sum(p.products for p in self._pending_count)
        self._pending_count = [_PendingCount() for _ in range(self.depth - 1)]
        self.merges += 1
        return written

    # ---------------------------------------------------------------- steps
    def _init_eta(self) -> None:
        """eta: 1 for Gauss-Newton, 1 / lambda_max(G_0) for gradient descent."""
        if self.options.eta is not None:
            self.eta = check_float("eta", self.options.eta, minimum=0.0, strict_min=True)
        elif self.update == "gn":
            self.eta = 1.0
        else:
            G = self.ops.host(self._eng.gram(self._eng.signals()))
            top = float(np.linalg.eigvalsh(G)[-1])
            if top <= 0:
                raise NumericalError("no neuron fires in the last layer, so G = 0 and gradient "
                                     "descent's step size 1 / lambda_max(G) does not exist; "
                                     "lower the shift or pass eta")
            self.eta = 1.0 / top

    def _forward(self) -> None:
        self._eng.forward(self._pending_count)
        self._count_forward()

    def _direction(self, D, rec: _StepRecord, timer: _PhaseTimer):
        """g of the update W_l -= D_l^T diag(g) U_{l-1} (step size included)."""
        if not self.layer_sizes[-1].any():
            raise nothing_fires_last(self._eng.weights(), self.steps_done)
        ops = self.ops
        r = ops.asarray(self.outputs) - ops.asarray(self.y)
        if self.update == "gd":
            return self.eta * r
        with timer("gram"):
            G = self._eng.gram(D)
        with timer("solve"):
            g = ops.solve_gram(G, r, self.mu, self.layer_sizes[-1])
        self._count_gram()
        self.last_work["solve"] = self.n**3 // 3 + 2 * self.n * self.n
        return self.eta * g

    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        eng = self._eng
        self.last_work = {}
        with timer("gram"):
            D = eng.signals()
        self._count_backward()
        g = self._direction(D, rec, timer)
        self._materialised = None
        old_sizes, old_unions = self.layer_sizes, self.layer_unions
        old = eng.fire_state()
        with timer("update"):
            eng.update(D, g)
        self._count_update(old_sizes)
        merged = 0
        if self.sublinear and self.depth > 1 and self.pending_rank[0] > self.merge_threshold:
            with timer("tree"):
                merged = self.merge()
        with timer("update"):
            self._forward()
            flips = eng.flips(old)
        if self.sublinear:
            self.last_work["merge"] = merged
        self.layer_flips = flips
        rec.fire_set_sizes = old_sizes.sum(axis=0)
        rec.union_size = int(old_unions.sum())
        rec.flips = flips.sum(axis=0)
        w, c = self.last_work, rec.counts
        c["inner_products"] += self.n * self.m
        c["preactivation_updates"] += w["threshold"]
        c["jacobian_nnz"] += w.get("update_input", 0)
        c["dense_flops"] += sum(v for k, v in w.items()
                                if k not in ("forward_input", "threshold", "update_input"))

    # --------------------------------------------------------------- counts
    # One definition per method, from the layer sizes (L x n), the per-layer pattern
    # pair sums and the pending-term sizes: identical on every backend.
    def _count_forward(self) -> None:
        n, m, d, L = self.n, self.m, self.d, self.depth
        w = self.last_work
        w["forward_input"] = n * m * d
        w["threshold"] = L * n * m
        if not self.sublinear:
            w["forward_hidden"] = (L - 1) * n * m * m
            return
        nnz = self.layer_sizes.sum(axis=1)
        fired = pending = 0
        for k in range(1, L):
            fired += m * int(nnz[k - 1])
            p = self._pending_count[k - 1]
            if p.rank:
                pending += n * (p.v_nnz + p.u_nnz) + p.rank * int(nnz[k - 1])
        w["forward_fired"] = fired
        w["forward_pending"] = pending

    def _count_backward(self) -> None:
        n, m, L = self.n, self.m, self.depth
        if not self.sublinear:
            self.last_work["backward"] = (L - 1) * (n * m * m + 2 * n * m)
            return
        sizes, nnz = self.layer_sizes, self.layer_sizes.sum(axis=1)
        fired = pending = 0
        for k in range(L - 1, 0, -1):
            fired += int(sizes[k] @ sizes[k - 1])
            p = self._pending_count[k - 1]
            if p.rank:
                pending += p.rank * int(nnz[k] + nnz[k - 1]) + n * (p.u_nnz + p.v_nnz)
        self.last_work["backward_fired"] = fired
        self.last_work["backward_pending"] = pending

    def _count_gram(self) -> None:
        n, m, d, L = self.n, self.m, self.d, self.depth
        if not self.sublinear:
            self.last_work["gram"] = n * n * (m * (2 * L - 1) + d)
            return
        pairs = self._eng.layer_pairs()
        self.last_work["gram"] = (sum(int(p) + n * n for p in pairs)
                                  + sum(int(p) for p in pairs[:-1]))

    def _count_update(self, old_sizes: np.ndarray) -> None:
        n, m, d, L = self.n, self.m, self.d, self.depth
        if not self.sublinear:
            self.last_work["update_hidden"] = (L - 1) * n * m * m
            self.last_work["update_input"] = n * m * d
            return
        for k in range(1, L):
            self._pending_count[k - 1].append(old_sizes[k], old_sizes[k - 1])
        self.last_work["update_input"] = int(old_sizes[0].sum()) * d


def _check_weights_memory(trainer, net) -> None:
    """The memory guard for the (L - 1) m^2 hidden weights a trainer copies (once more
    for deep_sublinear's transposed copy W^0 and its materialised view)."""
    m, n, d, L = net.m, trainer.n, net.d, net.depth
    copies = 2 if trainer.sublinear else 1
    need = 8.0 * (copies * (L - 1) * m * m + m * d) + 8.0 * 4 * L * n * m
    check_memory("m", need, f"method {trainer.method!r} at m = {m}, n = {n}, d = {d}, "
                 f"depth = {L} ({L - 1} hidden m x m weight matrices)")


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



# =========================================================================== numpy
class _DenseLayers:
    """deep_dense on numpy: BLAS products with every weight matrix."""

    def __init__(self, ops, net: DeepShiftedReLUNet):
        self.ops, self.scaling = ops, net.scaling
        self.root_m = math.sqrt(ops.m)
        self.net = net.copy()
        self.a = self.net.a

    def forward(self, pending) -> None:
        """Pre-activations, layer inputs, fire sets and outputs. O(n m d + (L-1) n m^2)."""
        b = self.ops.shift
        self.Z, self.U, self.C = self.net.forward_pass(self.ops.X)
        self.masks = [Z > b for Z in self.Z]
        self.layer_sizes = np.array([mk.sum(axis=1) for mk in self.masks])
        self.layer_unions = np.array([int(mk.any(axis=0).sum()) for mk in self.masks])
        HL = np.maximum(self.Z[-1] - b, 0.0)
        self.f = HL @ self.a / self.root_m

    def signals(self):
        """[D_1, ..., D_L] at the current weights (BLAS). Cost (L - 1) n m^2."""
        return self.net.signals(self.Z, self.U, self.C)

    def gram(self, D):
        """G = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T) by BLAS. Cost O(L n^2 m)."""
        return self.net.gram_from(D, self.U)

    def update(self, D, g) -> None:
        """W_l -= (g D_l)^T U_{l-1} in place (BLAS rank-n update)."""
        for W, Dl, U in zip(self.net.weights, D, self.U):
            _subtract_product(W, np.ascontiguousarray((Dl * g[:, None]).T), U)

    def fire_state(self):
        return self.masks

    def flips(self, old) -> np.ndarray:
        return np.array([(a != b).sum(axis=1) for a, b in zip(old, self.masks)])

    def weights(self) -> list[np.ndarray]:
        return [W.copy() for W in self.net.weights]


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



class _SublinearLayers:
    """deep_sublinear on numpy: CSR fire sets, fired columns forward, fired rows
    backward, pending terms as sparse factors (module docstring)."""

    #: Output neurons per parallel chunk of the fired-columns product (n x CHUNK in cache).
    CHUNK = 2048

    def __init__(self, ops, net: DeepShiftedReLUNet):
        self.ops, self.depth = ops, net.depth
        self.root_m = math.sqrt(ops.m)
        self.scaling = net.scaling
        self._fixed_scale = net.fixed_scale
        self.a = net.a.copy()
        self._W1 = net.weights[0].copy()
        self._WT = [np.empty_like(W) for W in net.weights[1:]]             # (L-1) m^2
        for W, WT in zip(net.weights[1:], self._WT):
            FK.transpose_into(W, WT)                                       # in tiles
        self._pending = [_Pending() for _ in self._WT]
        self._slot = np.full(ops.m, -1, np.int64)
        self._Z = [np.empty((ops.n, ops.m)) for _ in range(net.depth)]

    def weights(self) -> list[np.ndarray]:
        """W_l = W_l^0 + pending terms, materialised densely. O((L - 1) m^2)."""
        weights = [self._W1.copy()]
        for WT, pend in zip(self._WT, self._pending):
            W = np.empty_like(WT)
            FK.transpose_into(WT, W)
            pend.add_to(W)
            weights.append(W)
        return weights

    def merge(self) -> None:
        """Scatter-add every pending term into W^0. Cost O(sum_k |u_k| |v_k|)."""
        for WT, pend in zip(self._WT, self._pending):
            with _threads_for(pend.products):
                DK.merge_terms(WT, *pend.args())
            pend.clear()

    def _threshold(self, k: int) -> _Layer:
        lay = _Layer()
        lay.indptr, lay.indices, lay.values = DK.threshold_rows(self._Z[k], self.ops.shift)
        return lay

    def _layer_input(self, lay: _Layer) -> None:
        """u = c h on the fire sets, and the neuron-major view the next layer reads."""
        n = self.ops.n
        lay.rows = np.repeat(np.arange(n), np.diff(lay.indptr))      # input of each entry
        if self.scaling == "fixed":
            lay.c = np.full(n, self._fixed_scale)
        else:
            norms = np.sqrt(DK.segment_sums(lay.indptr, lay.values * lay.values))
            lay.c = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        lay.u = lay.values * lay.c[lay.rows]
        union, nptr, ninputs, pos = FK.union_patterns(lay.indptr, lay.indices, self._slot)
        lay.pattern = (union, nptr, ninputs, pos)
        nm = np.empty_like(lay.u)
        nm[pos] = lay.u
        lay.nm_values = nm

    def forward(self, pending_count) -> None:
        """Fire sets, layer inputs and outputs at the current weights (module docstring)."""
        ops = self.ops
        np.matmul(ops.X, self._W1.T, out=self._Z[0])
        layers = [self._threshold(0)]
        for k in range(1, self.depth):
            prev = layers[-1]
            self._layer_input(prev)
            Z = self._Z[k]
            Z[:] = 0.0
            pend = self._pending[k - 1]
            if pend.rank:
                work = ops.n * (pend.vidx.size + pend.uidx.size) + pend.rank * prev.u.size
                with _threads_for(work):
                    DK.pending_forward(*pend.args(), prev.indptr, prev.indices, prev.u, Z)
            union, nptr, ninputs, _ = prev.pattern
            with _threads_for(ops.m * prev.u.size):
                DK.fired_columns_forward(self._WT[k - 1], union, nptr, ninputs, prev.nm_values,
                                         Z, self.CHUNK)
            layers.append(self._threshold(k))
        last = layers[-1]
        self.f = DK.segment_sums(last.indptr, self.a[last.indices] * last.values)
        self.f /= self.root_m
        self._layers = layers
        self.layer_sizes = np.array([np.diff(lay.indptr) for lay in layers])
        self._neuron_counts = [np.bincount(lay.indices, minlength=ops.m) for lay in layers]
        self.layer_unions = np.array([int(np.count_nonzero(c)) for c in self._neuron_counts])

    def layer_pairs(self) -> list[int]:
        """sum over neurons of |p_{l,r}|^2 per layer (the Gram's pattern work)."""
        return [int(c @ c) for c in self._neuron_counts]

    def signals(self) -> list[np.ndarray]:
        """D_l on the fire sets (input-major values), l = 1..L (module docstring)."""
        n = self.ops.n
        layers = self._layers
        top = layers[-1]
        D = self.a[top.indices] / self.root_m
        out = [D]
        for k in range(self.depth - 1, 0, -1):
            lay, below = layers[k], layers[k - 1]
            union, nptr, ninputs, pos = below.pattern
            nm = np.empty(below.indices.size)
            pairs = int(np.diff(lay.indptr) @ np.diff(below.indptr))
            with _threads_for(pairs):
                DK.fired_rows_backward(self._WT[k - 1], lay.indptr, lay.indices, D, union, nptr,
                                       ninputs, nm)
            g = nm[pos]
            pend = self._pending[k - 1]
            if pend.rank:
                work = (pend.rank * (lay.indices.size + below.indices.size)
                        + n * (pend.uidx.size + pend.vidx.size))
                with _threads_for(work):
                    DK.pending_backward(*pend.args(), lay.indptr, lay.indices, D,
                                        below.indptr, below.indices, g)
            if self.scaling == "fixed":
                D = g * self._fixed_scale
            else:
                proj = DK.segment_sums(below.indptr, below.u * g)
                D = (g - below.u * proj[below.rows]) * below.c[below.rows]
            out.append(D)
        return out[::-1]

    def gram(self, D) -> np.ndarray:
        """G = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T) from the sparse rows (scipy.sparse).

        Cost O(sum_l sum_r |p_{l,r}|^2 + L n^2), p_{l,r} the inputs that fire neuron r.
        """
        n, m = self.ops.n, self.ops.m
        layers = self._layers
        G = np.zeros((n, n))
        for k in range(self.depth):
            lay = layers[k]
            Dk = scipy.sparse.csr_array((D[k], lay.indices, lay.indptr), shape=(n, m))
            DD = (Dk @ Dk.T).toarray()
            if k == 0:
                UU = self.ops.Kx
            else:
                below = layers[k - 1]
                Uk = scipy.sparse.csr_array((below.u, below.indices, below.indptr),
                                            shape=(n, m))
                UU = (Uk @ Uk.T).toarray()
            G += DD * UU
        return G

    def update(self, D, g) -> None:
        """Input layer in place on its fired rows; one pending term per input and layer."""
        coef = -g
        first = self._layers[0]
        DK.add_outer_rows(self._W1, coef, first.indptr, first.indices, D[0], self.ops.X)
        for k in range(1, self.depth):
            lay, below = self._layers[k], self._layers[k - 1]
            self._pending[k - 1].append(coef, (lay.indptr, lay.indices, D[k]),
                                        (below.indptr, below.indices, below.u))

    def fire_state(self):
        return self._layers

    def flips(self, old) -> np.ndarray:
        return np.array([FK.csr_flip_counts(a.indptr, a.indices, b.indptr, b.indices)
                         for a, b in zip(old, self._layers)])


# ======================================================================= array API
def _set_block(xp, W, rows, cols, block):
    """W with W[rows][:, cols] = block. Native fancy indexing on numpy / CuPy; otherwise
    the dense-masked fallback W + R (block - W_RC) C^T with one-hot R and C."""
    if native_scatter(xp):
        W[rows[:, None], cols[None, :]] = block
        return W
    m = W.shape[0]
    R = xp.astype(xp.reshape(xp.arange(m, dtype=rows.dtype), (m, 1)) == xp.reshape(rows, (1, -1)),
                  xp.float64)
    C = xp.astype(xp.reshape(xp.arange(W.shape[1], dtype=cols.dtype), (-1, 1))
                  == xp.reshape(cols, (1, -1)), xp.float64)
    old = xp.take(xp.take(W, rows, axis=0), cols, axis=1)
    return W + R @ (block - old) @ xp.permute_dims(C, (1, 0))


class _ArrayDenseLayers:
    """deep_dense over an array namespace: products with every weight matrix, dense masks."""

    def __init__(self, ops, net: DeepShiftedReLUNet):
        self.xp, self.ops, self.depth = ops.xp, ops, net.depth
        self.root_m = math.sqrt(ops.m)
        self.scaling, self.fixed_scale = net.scaling, net.fixed_scale
        self.a = self.ops.asarray(net.a)
        self.W = [self.ops.asarray(W) for W in net.weights]

    def _scale(self, H):
        xp = self.xp
        if self.scaling == "fixed":
            return xp.full((H.shape[0],), self.fixed_scale, dtype=xp.float64)
        norms = xp.linalg.vector_norm(H, axis=1)
        safe = xp.where(norms > 0, norms, xp.ones_like(norms))
        return xp.where(norms > 0, 1.0 / safe, xp.zeros_like(norms))

    def _layer_product(self, k: int, U):
        """z_k = U W_k^T (n x m) for k >= 1."""
        return U @ self.xp.permute_dims(self.W[k], (1, 0))

    def _back_product(self, k: int, D):
        """D W_k (n x m) for k >= 1."""
        return D @ self.W[k]

    def forward(self, pending) -> None:
        xp, ops, b = self.xp, self.ops, self.ops.shift
        U = ops.X
        self.Z, self.U, self.C = [], [U], []
        for k in range(self.depth):
            Z = U @ xp.permute_dims(self.W[0], (1, 0)) if k == 0 else self._layer_product(k, U)
            self.Z.append(Z)
            if k + 1 < self.depth:
                H = xp.where(Z > b, Z - b, xp.zeros_like(Z))
                c = self._scale(H)
                U = H * xp.reshape(c, (-1, 1))
                self.U.append(U)
                self.C.append(c)
        self.masks = [Z > b for Z in self.Z]
        self.layer_sizes = np.stack([ops.host(xp.sum(xp.astype(mk, xp.int64), axis=1))
                                     for mk in self.masks])
        self.layer_unions = np.array([int(xp.sum(xp.astype(xp.any(mk, axis=0), xp.int64)))
                                      for mk in self.masks])
        HL = xp.where(self.masks[-1], self.Z[-1] - b, xp.zeros_like(self.Z[-1]))
        self.f = ops.host(HL @ self.a) / self.root_m

    def layer_pairs(self) -> list[int]:
        xp = self.xp
        counts = [self.ops.host(xp.sum(xp.astype(mk, xp.int64), axis=0)) for mk in self.masks]
        return [int(c @ c) for c in counts]

    def signals(self):
        xp = self.xp
        D = xp.astype(self.masks[-1], xp.float64) * xp.reshape(self.a, (1, -1)) / self.root_m
        out = [D]
        for k in range(self.depth - 1, 0, -1):
            g = self._back_product(k, D)
            U, c = self.U[k], self.C[k - 1]
            if self.scaling == "fixed":
                dh = g * xp.reshape(c, (-1, 1))
            else:
                dot = xp.sum(U * g, axis=1)
                dh = (g - U * xp.reshape(dot, (-1, 1))) * xp.reshape(c, (-1, 1))
            D = xp.where(self.masks[k - 1], dh, xp.zeros_like(dh))
            out.append(D)
        return out[::-1]

    def gram(self, Ds):
        xp = self.xp
        n = self.ops.n
        Gm = xp.zeros((n, n), dtype=xp.float64)
        for D, U in zip(Ds, self.U):
            Gm = Gm + (D @ xp.permute_dims(D, (1, 0))) * (U @ xp.permute_dims(U, (1, 0)))
        return Gm

    def update(self, Ds, g) -> None:
        xp = self.xp
        for k, (D, U) in enumerate(zip(Ds, self.U)):
            self.W[k] = self.W[k] - xp.permute_dims(D * xp.reshape(g, (-1, 1)), (1, 0)) @ U

    def fire_state(self):
        return self.masks

    def flips(self, old) -> np.ndarray:
        xp = self.xp
        return np.stack([self.ops.host(xp.sum(xp.astype(a != b, xp.int64), axis=1))
                         for a, b in zip(old, self.masks)])

    def weights(self) -> list[np.ndarray]:
        return [self.ops.host(W).copy() for W in self.W]


class _ArraySublinearLayers(_ArrayDenseLayers):
    """deep_sublinear over an array namespace: W^0 plus pending low-rank terms A B^T per
    hidden layer (A = -(g D_l)^T, B = U_{l-1}^T, zero outside the fired rows and
    columns); fired columns forward, fired rows backward, block merges."""

    def __init__(self, ops, net):
        super().__init__(ops, net)
        self._pending: list[list] = [[] for _ in range(net.depth - 1)]   # [(A, B), ...]

    def _support(self, M):
        """Indices of the columns of M (n x m) with a nonzero entry."""
        xp = self.xp
        return xp.nonzero(xp.any(M != 0, axis=0))[0]

    def _layer_product(self, k: int, U):
        xp = self.xp
        cols = self._support(U)                                  # fired columns of W^0
        Z = xp.take(U, cols, axis=1) @ xp.permute_dims(xp.take(self.W[k], cols, axis=1), (1, 0))
        for A, B in self._pending[k - 1]:
            Z = Z + (U @ B) @ xp.permute_dims(A, (1, 0))
        return Z

    def _back_product(self, k: int, D):
        xp = self.xp
        rows = self._support(D)                                  # fired rows of W^0
        out = xp.take(D, rows, axis=1) @ xp.take(self.W[k], rows, axis=0)
        for A, B in self._pending[k - 1]:
            out = out + (D @ A) @ xp.permute_dims(B, (1, 0))
        return out

    def weights(self) -> list[np.ndarray]:
        xp = self.xp
        out = [self.ops.host(self.W[0]).copy()]
        for k in range(1, self.depth):
            W = self.W[k]
            for A, B in self._pending[k - 1]:
                W = W + A @ xp.permute_dims(B, (1, 0))
            out.append(self.ops.host(W).copy())
        return out

    def merge(self) -> None:
        """Add the pending terms into W^0 on their block (fired rows x fired columns)."""
        xp = self.xp
        for k, pend in enumerate(self._pending, start=1):
            if not pend:
                continue
            A = xp.concat([a for a, _ in pend], axis=1)            # m x r
            B = xp.concat([b for _, b in pend], axis=1)
            rows = xp.nonzero(xp.any(A != 0, axis=1))[0]
            cols = xp.nonzero(xp.any(B != 0, axis=1))[0]
            block = (xp.take(xp.take(self.W[k], rows, axis=0), cols, axis=1)
                     + xp.take(A, rows, axis=0) @ xp.permute_dims(xp.take(B, cols, axis=0),
                                                                  (1, 0)))
            self.W[k] = _set_block(xp, self.W[k], rows, cols, block)
            pend.clear()

    def update(self, Ds, g) -> None:
        xp = self.xp
        coef = xp.reshape(-g, (-1, 1))
        self.W[0] = self.W[0] + xp.permute_dims(Ds[0] * coef, (1, 0)) @ self.U[0]
        for k in range(1, self.depth):
            A = xp.permute_dims(Ds[k] * coef, (1, 0))            # m x n, zero off S_k
            B = xp.permute_dims(self.U[k], (1, 0))               # m x n, zero off S_{k-1}
            self._pending[k - 1].append((A, B))


# ========================================================================= methods
class DeepDense(_DeepTrainer):
    """Dense reference: products with every weight matrix (module docstring).

    Memory: the copied weights plus a few n x m arrays per layer.
    """

    method = "deep_dense"

    def _engine(self, net):
        return (_DenseLayers if self.ops.compiled else _ArrayDenseLayers)(self.ops, net)

    def claimed_terms(self, rec: _StepRecord) -> dict[str, float]:
        return deep_dense_terms(self.n, self.m, self.d, self.depth, self.update)


class DeepSublinear(_DeepTrainer):
    """The subquadratic method: fired columns forward, fired rows backward, lazy merges.

    See the module docstring. Extra attributes: ``merges`` (merges done so far),
    ``pending_rank`` (terms per hidden layer not yet merged), `merge()`.
    """

    method = "deep_sublinear"
    uses = _DeepTrainer.uses | {"merge_threshold"}
    sublinear = True

    def _engine(self, net):
        return (_SublinearLayers if self.ops.compiled else _ArraySublinearLayers)(self.ops, net)

    def claimed_terms(self, rec: _StepRecord) -> dict[str, float]:
        return deep_sublinear_terms(self.n, self.m, self.d, self.depth, self.update, self.shift)
