"""Sublinear Gauss-Newton (Deng, Hu, Song, Weinstein, Zhuo, 2022).

A Gauss-Newton step that touches only the fired part of the network. The step's
direction g solves (J J^T + mu I) g = r exactly (Gram from fire-set intersections,
default) or by sketch-and-precondition (``solver="sketch"``). The update
w_r <- w_r - eta (a_r / sqrt m) sum_{i : r in S_i} g_i x_i changes only neurons of the
union U = S_1 u ... u S_n, and only their n cached inner products <w_r, x_i> need a
refresh.

A consequence the papers do not state: a neuron outside U never changes, so it never
fires again, and U(t+1) is a subset of U(t). Every changed neuron is in the union the
step already knows, which is why tree-free maintenance (``fire_sets="cache"``) is
exact.

Options (`SublinearOptions`; presets of them in `trainers.presets`)
-------------------------------------------------------------------
fire_sets : "tree" (default, the papers' structure), "cache", "scan"
    "tree": a `CorrelationTree` holds all n m inner products; each step queries it for
    the fire sets (O(sum |S_i| log m) visits) and updates the leaves of the union
    (O(n |U| log m)). "cache": only the neuron-major inner products of the live union
    are kept (|U| x n); the changed rows are refreshed and re-thresholded in place,
    rows that stop firing are dropped. "scan": a dense n x m cache thresholded in full
    every step (O(n m)), the naive baseline.
preactivations : "explicit" (default) or "implicit"
    "explicit": W is updated and the changed neurons' inner products are recomputed,
    n d per changed neuron. "implicit" (the papers' "maintain the weights
    implicitly"): Delta <w_r, x_t> = -eta (a_r/sqrt m) sum_{i : r in S_i} g_i <x_i, x_t>,
    n per nonzero of J's pattern, from K = X X^T. W itself is not touched: each step
    keeps its (pattern, coefficients, g) (arrays the step made anyway) and W(t) =
    W(0) + sum_s J_s^T v_s is materialised only when `net` is read, O(nnz d) per
    logged step; a refresh folds the log into W.
refresh_every : int
    Every this many steps, recompute the cached inner products of every neuron that
    ever changed from the (materialised) weights, and the outputs from scratch, to
    bound rounding drift (0 = never).

Cost per step (nnz = sum_i |S_i|): fire sets as above; Gram O(sum_r |p_r|^2) + n^3
(or a sketch and CG with sparse products O(nnz d) each); update O(nnz d) + refresh
O(|U| n d) (explicit) or O(nnz n) (implicit); re-threshold O(|U| n). The last term,
n |U| ~ n^2 m Q(b), grows quadratically in n: faster than the claimed
m^(1-alpha) n d + n^3.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..errors import InputError, NumericalError, check_float
from ..firesets import UnionPatterns, dense_fire_sets
from ..kernels import array_api as G
from ..kernels import cache_kernels as CK
from ..kernels import fireset_kernels as FK
from ..kernels import gram_kernels as GK
from ..memory import fired_estimate
from ..model import ShiftedReLUNet, alpha_for
from ..tree import CorrelationTree
from .base import Trainer, _PhaseTimer, _StepRecord
from .direction import SketchSettings, sketch_direction
from .options import SublinearOptions
from .sketched import srht_refusal

__all__ = ["SublinearGaussNewton"]


class SublinearGaussNewton(Trainer):
    """Gauss-Newton on the fired blocks only; see the module docstring for options.

    The step is written once over the backend's fire-set operations (`trainers.ops`);
    the fire-set structure is a state object: `_TreeState`, `_CacheState`,
    `_ScanState` on numpy (compiled kernels), `MaskCacheState` (the tree-free cache
    in dense masks) on every array-API backend.

    State contract: a state holds only what it maintains and the data it reads (the
    backend's operations `ops`, with X, X^T, X X^T, b and 1 / sqrt(m); the output
    weights a; the flags), never the trainer, so that a trainer is freed by reference
    counting as soon as its last reference goes (at m = 2^24 its structures hold
    gigabytes). The trainer owns W and the outputs f and assigns them from what the
    state returns:

    * ``fire_patterns(rec) -> (pat, sizes)``: the fire patterns over the union and
      |S_i| (``rec`` may be None when nothing is counted);
    * ``apply(W, f, pat, row_coef, v, rec, timer) -> (W, f)``: the update
      w_r += row_coef_r sum_{i in p_r} v_i x_i brought into the structure; returns the
      weights (W itself, written in place on numpy; a new array on an array-API
      backend; untouched in implicit mode) and the new outputs;
    * ``refresh(W, rec) -> f``: the cached inner products recomputed from W; returns
      the outputs from scratch.
    """

    method = "sublinear_gn"
    options_type = SublinearOptions

    @classmethod
    def _backend_refusal(cls, options, compiled):
        if not compiled and options.fire_sets != "cache":
            return InputError("fire_sets", repr(options.fire_sets),
                              f"'cache' on backend {options.backend!r}: the correlation tree "
                              "is a pointer-style CPU structure, so the array-API (GPU) path "
                              "keeps fire sets tree-free")
        if options.solver == "sketch":
            return srht_refusal(options, compiled)
        return None

    @classmethod
    def copies_weights(cls, options):
        """Only explicit pre-activations write W; implicit mode reads the caller's."""
        return options.preactivations != "implicit"

    @classmethod
    def memory_estimate(cls, m, n, d, options, shift=None):
        """The trainer's W (if it copies it), scratch, and the fire-set structure: the
        tree (9 n M bytes, `CorrelationTree.memory_estimate`), the scan cache (8 n m) or
        the live-union cache (8 |U0| n plus bit words); the tree keeps two |U0| x n
        buffers, the scan three. |U0| from `memory.fired_estimate`."""
        base = super().memory_estimate(m, n, d, options, shift)
        k, _ = fired_estimate(m, n, shift)
        if options.fire_sets == "tree":
            extra = CorrelationTree.memory_estimate(m, n, d) - 8.0 * m * d + 16.0 * k * n
        elif options.fire_sets == "scan":
            extra = 8.0 * n * m + 24.0 * k * n
        else:
            extra = 8.0 * k * n + 8.0 * k * (2 + -(-n // 64))
        return base + extra

    def __init__(self, net: ShiftedReLUNet, X, y, options: SublinearOptions):
        super().__init__(net, X, y, options)
        self._use_backend()
        o, ops = options, self.ops
        self.eta = 1.0 if o.eta is None else check_float("eta", o.eta, minimum=0.0,
                                                         strict_min=True)
        self.mu = check_float("mu", o.mu, minimum=0.0)
        self.implicit = o.preactivations == "implicit"
        self.refresh_every = o.refresh_every
        self.scale = 1.0 / math.sqrt(self.m)
        self.sketching = (SketchSettings(o.sketch, o.sketch_factor, self.n, self.m, self.d,
                                         o.seed, o.tol, o.max_iter)
                          if o.solver == "sketch" else None)
        host = net.to_backend("numpy") if net.backend != "numpy" else net
        self._log: list[tuple] = []         # implicit mode: updates not yet applied to W
        self._a = host.a.copy() if ops.compiled else self.be.asarray(host.a)
        a_host = np.asarray(host.a)
        self._unit_a = bool(np.all(np.abs(a_host) == 1.0))   # the papers' a_r = +-1
        self._materialised = None
        # W: the trainer's own copy when steps write it (explicit), else a read-only
        # view of the caller's weights (implicit mode never writes W; `weights` copies)
        if ops.compiled and o.fire_sets == "tree":
            # the tree is built from the streamed blocks of W X^T; its query reports
            # the fire sets, so no separate forward pass is made
            W = host.W
            if self.implicit:
                W = np.asarray(W, dtype=np.float64).view()
                W.flags.writeable = False
            tree = CorrelationTree(W, self.X, self.shift, copy=not self.implicit,
                                   finite_checked=True)      # the net checked W
            self._W = tree.W
            fire = tree.query_all()
            live = np.zeros(self.m, dtype=bool)
            live[fire.indices] = True
            U0 = np.flatnonzero(live)          # the union, sorted: O(nnz + m)
            self._f = tree.outputs(fire, self._a) * self.scale
            self._state = _TreeState(ops, self._a, U0, self.implicit, tree)
            return
        start = ops.start(host.W, self._a, copy=not self.implicit,
                          keep_rows=o.fire_sets == "cache")
        self._W, self._f = start.W, start.f
        if o.fire_sets == "cache" and ops.compiled:
            self._state = _CacheState(ops, self._a, self.implicit, start)
        elif ops.compiled:
            # every neuron that will ever change is in the initial union U0
            self._state = _ScanState(ops, self._a, start.fire.union, self.implicit, start)
        else:
            self._state = MaskCacheState(ops, self._a, self.implicit, start.fire)

    # ------------------------------------------------------------- contract
    @property
    def outputs(self) -> np.ndarray:
        return self._f

    @property
    def weights(self):
        """The current W (m x d, on the backend). Implicit mode replays the logged
        updates on a copy (O(m d + sum over logged steps of nnz d)) and caches it until
        the next step."""
        if not self._log:
            return self._W
        if self._materialised is None:
            W = self.ops.copy(self._W)
            for pat, row_coef, v in self._log:
                W = self.ops.add_jt(W, pat, row_coef, v)
            self._materialised = W
        return self._materialised

    def _fold_log(self) -> None:
        """Apply the logged implicit updates to W and clear the log."""
        if self._log:
            self._W = self.weights
            self._log.clear()
            self._materialised = None

    @property
    def net(self) -> ShiftedReLUNet:
        if self.ops.compiled:
            return ShiftedReLUNet(self.weights, self._a, self.shift)
        name = self.be.name if self.be.name != "numpy_generic" else "numpy"
        return ShiftedReLUNet(self.ops.host(self.weights).copy(), self.ops.host(self._a).copy(),
                              self.shift, backend=name)

    def predict(self, X) -> np.ndarray:
        return self.be.to_numpy(self.net.forward(X))

    # ----------------------------------------------------------------- step
    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        state, ops = self._state, self.ops
        with timer("fire_sets"):
            pat, sizes = state.fire_patterns(rec)
        rec.fire_set_sizes = sizes
        rec.union_size = pat.size
        if pat.size == 0:
            raise NumericalError("no neuron fires on any input, so J = 0 and training cannot "
                                 "move; lower the shift")
        r = ops.asarray(self._f) - ops.asarray(self.y)
        a_rows = ops.take(self._a, pat)
        row_coef = a_rows * self.scale
        c = rec.counts
        if self.sketching is None:
            with timer("gram"):
                Gm = ops.gram(pat, None if self._unit_a else a_rows)
            with timer("solve"):
                g = ops.solve_gram(Gm, r, self.mu, sizes)
            c["dense_flops"] += pat.pair_count() + self.n * self.n
            c["dense_flops"] += self.n**3 // 3 + 2 * self.n * self.n
        else:
            jac = ops.sparse_jacobian(pat, row_coef)
            g = sketch_direction(ops, self.sketching, self.steps_done, pat, row_coef, r,
                                 self.mu, jac, rec, timer)
            c["jacobian_nnz"] += jac.products * pat.nnz * self.d
        self._materialised = None
        v = -self.eta * g
        if self.implicit:   # logged before apply: a state may reorder its rows
            self._log.append((ops.keep(pat), row_coef, v))
        self._W, self._f = state.apply(self._W, self._f, pat, row_coef, v, rec, timer)
        c["preactivation_updates"] += pat.size * self.n
        if self.implicit:
            c["dense_flops"] += pat.nnz * self.n
        else:
            c["jacobian_nnz"] += pat.nnz * self.d
            c["inner_products"] += pat.size * self.n
        if self.refresh_every and (self.steps_done + 1) % self.refresh_every == 0:
            with timer("update"):
                self._fold_log()
                self._f = state.refresh(self._W, rec)

    def claimed_terms(self, rec: _StepRecord) -> dict[str, float]:
        return sublinear_terms(self.m, self.n, self.d, self.shift)


def sublinear_terms(m: int, n: int, d: int, shift: float) -> dict[str, float]:
    """The papers' cost per iteration of sublinear Gauss-Newton, term by term:
    m^(1-alpha) n d + n^3 (every backend reports these)."""
    alpha = alpha_for(shift, m)
    return {"m^(1-alpha) n d": float(m ** (1 - alpha) * n * d), "n^3": float(n**3)}


def _threshold(P: np.ndarray, b: float, a_rows: np.ndarray, scale: float):
    """Bits, counts and output sums of neuron-major rows P (k x n). Cost O(k n)."""
    k, n = P.shape
    nwords = max(1, -(-n // 64))
    mask = np.zeros((k, 64 * nwords), dtype=bool)
    mask[:, :n] = P > b
    bits = np.packbits(mask, axis=1, bitorder="little").view("<u8").astype(np.uint64)
    counts = mask.sum(axis=1).astype(np.int64)
    f = (np.maximum(P - b, 0.0).T @ a_rows) * scale
    return bits, counts, f


class _CacheState:
    """Tree-free maintenance: neuron-major inner products of the live union only.

    One fused, parallel pass per step updates the changed neurons, refreshes their n
    inner products, re-thresholds them and records the new patterns as bit words;
    rows that stop firing are swap-removed (they can never fire again). Holds the
    live rows (|U| x n values, bit words), their ids and output weights.
    """

    def __init__(self, ops, a: np.ndarray, implicit: bool, start):
        self.ops, self.implicit = ops, implicit
        self.threads = max(1, numba.get_num_threads())
        fire = start.fire
        self.idx = fire.union.copy()                   # live neurons
        self.a_rows = a[self.idx]
        self.P = start.rows                            # their inner products, |U0| x n
        self.bits = CK.rows_bits(self.P, ops.shift)
        self.counts = np.diff(fire.nptr)
        self.nptr, self.ninputs = fire.nptr, fire.ninputs
        self._no_weights = np.zeros((1, ops.d))

    def fire_patterns(self, rec):
        n = self.ops.n
        pat = UnionPatterns(self.idx, self.nptr, self.ninputs, None, n)
        return pat, np.bincount(self.ninputs, minlength=n)

    def apply(self, W, f, pat, row_coef, v, rec, timer):
        ops = self.ops
        with timer("update"):
            # implicit mode never writes W (a read-only view the kernel must not see)
            counts, flips, f = CK.cache_advance(
                self.P, self._no_weights if self.implicit else W, self.idx, self.nptr,
                self.ninputs, row_coef, v, ops.X, ops.XT, ops.Kx, self.implicit, ops.shift,
                self.a_rows, ops.scale, self.bits,
                int(min(4 * self.threads, max(1, self.idx.size // 2048))))
            rec.flips = flips            # f: every neuron that fires is a live row
            self._drop_silent(counts)
            self.nptr, self.ninputs = CK.patterns_from_bits(self.bits, self.counts,
                                                            self.idx.size)
        return W, f

    def _drop_silent(self, counts):
        dst, src, kept = CK.removal_moves(counts)
        arrays = [self.P, self.idx, self.a_rows, self.bits, counts]
        for arr in arrays:
            CK.move_rows(arr, dst, src)
        self.P, self.idx, self.a_rows, self.bits, self.counts = (arr[:kept] for arr in arrays)

    def refresh(self, W, rec):
        ops = self.ops
        CK.inner_products_rows(W, self.idx, ops.XT, self.P)
        self.bits, counts, f = _threshold(self.P, ops.shift, self.a_rows, ops.scale)
        self._drop_silent(counts)
        self.nptr, self.ninputs = CK.patterns_from_bits(self.bits, self.counts, self.idx.size)
        if rec is not None:
            rec.counts["inner_products"] += self.idx.size * ops.n
            rec.counts["preactivation_updates"] += self.idx.size * ops.n
        return f


class _ColumnCacheState:
    """Shared part of the tree and scan states: an input-major cache of all n m values.

    Holds the initial union U0 (every neuron that will ever change is in it), the
    output weights a and buffers for |U0| changed columns."""

    offset = 0
    #: whether `apply` gathers the old values into a buffer of its own (the tree's
    #: fused pass reads them in place)
    gathers = True

    def __init__(self, ops, a: np.ndarray, U0: np.ndarray, implicit: bool):
        self.ops, self.a, self.U0, self.implicit = ops, a, U0, implicit
        self.slot = np.full(ops.m, -1, np.int64)
        k0 = U0.size
        self._nm = np.empty((k0, ops.n))        # neuron-major new values / changes
        if self.gathers:
            self._old = np.empty((ops.n, k0))   # input-major old values
        self._new = np.empty((ops.n, k0))       # input-major new values

    def values(self) -> np.ndarray:
        raise NotImplementedError

    def write(self, rows, new_cols, rec) -> None:
        raise NotImplementedError

    def _changes(self, W, pat, row_coef, v) -> np.ndarray:
        """The n x |U| input-major changes (implicit) or new values (explicit, after
        writing the neurons' new weights into W) of U's pre-activations. Cost O(|U| n d)
        explicit, O(nnz + |U| n) implicit."""
        ops, k = self.ops, pat.size
        nm, new = self._nm[:k], self._new[:, :k]
        if self.implicit:
            ops.implicit_delta(pat, row_coef, v, nm)
        else:
            GK.add_jt_rows(W, pat.union, pat.nptr, pat.ninputs, row_coef, v, ops.X)
            CK.inner_products_rows(W, pat.union, ops.XT, nm)
        FK.transpose_into(nm, new)
        return new

    def apply(self, W, f, pat, row_coef, v, rec, timer):
        ops = self.ops
        old = self._old[:, :pat.size]
        with timer("update"):
            CK.gather_columns_t(self.values(), self.offset, pat.union, old)
            new = self._changes(W, pat, row_coef, v)
            flips, df = CK.advance_columns(old, new, self.implicit, ops.shift, self.a[pat.union],
                                           ops.scale)
            f = f + df
            rec.flips = flips
        with timer("tree"):
            self.write(pat.union, new, rec)
        return W, f

    def refresh(self, W, rec):
        ops, U0 = self.ops, self.U0
        fresh = np.empty((U0.size, ops.n))
        CK.inner_products_rows(W, U0, ops.XT, fresh)
        self.write(U0, np.ascontiguousarray(fresh.T), rec)
        rec.counts["inner_products"] += U0.size * ops.n
        rec.counts["preactivation_updates"] += U0.size * ops.n
        return np.maximum(fresh - ops.shift, 0.0).T @ self.a[U0] * ops.scale


class _TreeState(_ColumnCacheState):
    """The papers' structure: a correlation tree over all n m inner products.

    A step's update reads each changed leaf, adds its change (implicit) or takes its
    new value (explicit), accumulates flips and the change of the outputs, and writes
    it with its ancestors, in one pass per tree (`CorrelationTree.advance_sorted`):
    the leaves are touched once, not gathered first and written later."""

    gathers = False

    def __init__(self, ops, a, U0, implicit, tree: CorrelationTree):
        super().__init__(ops, a, U0, implicit)
        self.tree = tree
        self.offset = self.tree.leaf_offset

    def values(self):
        return self.tree.nodes

    def fire_patterns(self, rec):
        before = self.tree.counts["tree_nodes_visited"]
        fs = self.tree.query_all()
        rec.counts["tree_nodes_visited"] += self.tree.counts["tree_nodes_visited"] - before
        return fs.union_patterns(self.slot), fs.sizes

    def apply(self, W, f, pat, row_coef, v, rec, timer):
        ops = self.ops
        with timer("update"):
            new = self._changes(W, pat, row_coef, v)
        with timer("tree"):
            before = self.tree.counts["tree_nodes_visited"]
            flips, df = self.tree.advance_sorted(pat.union, new, self.implicit,
                                                 self.a[pat.union], ops.scale)
            rec.counts["tree_nodes_visited"] += self.tree.counts["tree_nodes_visited"] - before
        rec.flips = flips
        return W, f + df

    def write(self, rows, new_cols, rec):
        before = self.tree.counts["tree_nodes_visited"]
        self.tree.set_sorted_leaf_values(rows, new_cols)
        rec.counts["tree_nodes_visited"] += self.tree.counts["tree_nodes_visited"] - before


class _ScanState(_ColumnCacheState):
    """Naive maintenance: a dense n x m cache thresholded in full every step."""

    def __init__(self, ops, a, U0, implicit, start):
        super().__init__(ops, a, U0, implicit)
        self.P = ops.X @ start.W.T
        self.cap = int(start.fire.sizes.max()) if start.fire.nnz else 0

    def values(self):
        return self.P

    def fire_patterns(self, rec):
        ops = self.ops
        fs, _ = dense_fire_sets(self.P, ops.shift, self.a, ops.scale, int(1.25 * self.cap))
        self.cap = int(fs.sizes.max())
        rec.counts["preactivation_updates"] += ops.n * ops.m
        return fs.union_patterns(self.slot), fs.sizes

    def write(self, rows, new_cols, rec):
        CK.scatter_columns_t(self.P, 0, rows, new_cols)


class MaskCacheState:
    """The tree-free cache on an array-API backend: the inner products of the live union
    (neuron-major, |U| x n) refreshed (explicitly from W, or implicitly from X X^T) and
    re-thresholded in bulk each step; rows that stop firing are dropped. Same fire sets,
    flips, outputs and counts as `_CacheState`; cost O(|U| n d) or O(|U| n^2) a step in
    dense-masked form."""

    def __init__(self, ops, a, implicit: bool, fire):
        xp = ops.xp
        self.ops, self.implicit = ops, implicit
        self.ids = np.flatnonzero(ops.host(xp.any(fire.M, axis=0)))   # host live ids
        self.idx = ops.index(self.ids)
        self.PU = xp.permute_dims(xp.take(fire.P, self.idx, axis=1), (1, 0))   # k x n
        self.aU = xp.take(a, self.idx, axis=0)

    def fire_patterns(self, rec):
        ops, xp = self.ops, self.ops.xp
        MU = self.PU > ops.shift
        pat = ops.make_patterns(self.ids, MU, self.idx)
        return pat, ops.host(xp.sum(xp.astype(MU, xp.int64), axis=0))

    def _keep(self, P_new, counts) -> None:
        """Drop the rows that stopped firing (they never fire again)."""
        xp, ops = self.ops.xp, self.ops
        keep = np.flatnonzero(ops.host(counts) > 0)
        if keep.size == self.ids.size:
            self.PU = P_new
            return
        kidx = ops.index(keep)
        self.idx = xp.take(self.idx, kidx, axis=0)
        self.PU = xp.take(P_new, kidx, axis=0)
        self.aU = xp.take(self.aU, kidx, axis=0)
        self.ids = self.ids[keep]

    def apply(self, W, f, pat, row_coef, v, rec, timer):
        ops, xp = self.ops, self.ops.xp
        with timer("update"):
            if self.implicit:
                P_new = self.PU + ops.implicit_delta(pat, row_coef, v)
            else:
                W = ops.add_jt(W, pat, row_coef, v)
                P_new = xp.take(W, self.idx, axis=0) @ ops.XT
            _, counts, flips, f = G.advance_masked(xp, self.PU, P_new, ops.shift, self.aU,
                                                   ops.scale)
            f = ops.host(f)
            rec.flips = ops.host(flips)
            self._keep(P_new, counts)
        return W, f

    def refresh(self, W, rec):
        ops, xp = self.ops, self.ops.xp
        P = xp.take(W, self.idx, axis=0) @ ops.XT
        _, counts, _, f = G.advance_masked(xp, P, P, ops.shift, self.aU, ops.scale)
        self._keep(P, counts)
        k = int(self.ids.size)
        rec.counts["inner_products"] += k * ops.n
        rec.counts["preactivation_updates"] += k * ops.n
        return ops.host(f)
