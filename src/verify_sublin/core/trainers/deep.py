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

Options (`DeepDenseOptions`, `DeepSublinearOptions`): eta, mu, update ("gn" | "gd"),
merge_threshold (deep_sublinear only: merge when more than this many terms per layer
are pending; 0 = every step, k n = every k + 1 steps; default n, every second step).
The trainers read nothing else.

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
itself is an engine per (method, backend), built from the backend's operations and
the network (it holds no reference to the trainer, so a trainer is freed as soon as
its last reference goes): `DenseLayers` and `SublinearLayers` (numpy: BLAS and the
compiled kernels of `kernels.deep_kernels` on CSR fire sets), `ArrayDenseLayers` and
`ArraySublinearLayers` (any array-API namespace: dense masks; the sublinear one keeps
each hidden layer as W^0 plus pending low-rank terms A B^T, multiplies only the fired
columns of W^0 forward and its fired rows backward, and merges on the block fired rows
x fired columns, never as a dense m x m product). The engines and their costs per
operation are in `trainers.deep_layers` (dense) and `trainers.deep_lowrank` (the lazy
low-rank layer state).

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

import numpy as np

from ..deep import DeepShiftedReLUNet
from ..errors import InputError, NumericalError, check_choice, check_float, check_int
from ..memory import check_memory
from ..model import alpha_for
from .base import Trainer, _PhaseTimer, _StepRecord
from .deep_layers import ArrayDenseLayers, DenseLayers
from .deep_lowrank import ArraySublinearLayers, SublinearLayers
from .options import DeepDenseOptions, DeepSublinearOptions

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
    sublinear = False

    def __init__(self, net: DeepShiftedReLUNet, X, y,
                 options: DeepDenseOptions | DeepSublinearOptions):
        super().__init__(net, X, y, options)
        self.depth = net.depth
        # `memory_estimate` has no depth; the (L - 1) m^2 hidden weights are checked here
        _check_weights_memory(self, net)
        self._use_backend()
        self.update = check_choice("update", options.update, UPDATES)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        if self.update == "gd" and self.mu != 0.0:
            raise InputError("mu", repr(options.mu), "0.0 (update='gd' does not use it)")
        t = options.merge_threshold if self.sublinear else None
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


# ========================================================================= methods
class DeepDense(_DeepTrainer):
    """Dense reference: products with every weight matrix (module docstring).

    Memory: the copied weights plus a few n x m arrays per layer.
    """

    method = "deep_dense"
    options_type = DeepDenseOptions

    def _engine(self, net):
        return (DenseLayers if self.ops.compiled else ArrayDenseLayers)(self.ops, net)

    def claimed_terms(self, rec: _StepRecord) -> dict[str, float]:
        return deep_dense_terms(self.n, self.m, self.d, self.depth, self.update)


class DeepSublinear(_DeepTrainer):
    """The subquadratic method: fired columns forward, fired rows backward, lazy merges.

    See the module docstring. Extra attributes: ``merges`` (merges done so far),
    ``pending_rank`` (terms per hidden layer not yet merged), `merge()`.
    """

    method = "deep_sublinear"
    options_type = DeepSublinearOptions
    sublinear = True

    def _engine(self, net):
        return (SublinearLayers if self.ops.compiled else ArraySublinearLayers)(self.ops, net)

    def claimed_terms(self, rec: _StepRecord) -> dict[str, float]:
        return deep_sublinear_terms(self.n, self.m, self.d, self.depth, self.update, self.shift)
