"""The lazy low-rank layer state of deep_sublinear (`trainers.deep`): each hidden
layer kept as W_l = W_l^0 + sum_k coef_k u_k v_k^T, the pending rank-one terms held as
sparse factors and merged into W^0 on their support only.

`SublinearLayers` (numpy) keeps W_l^0 transposed (a column of W_l^0 is a contiguous
row), the fire sets as CSR rows and the pending terms in `PendingTerms`, and runs the
compiled kernels of `kernels.deep_kernels`; `ArraySublinearLayers` (any array-API
namespace) keeps the pending terms as dense factors A B^T that are zero outside the
fired rows and columns. Both are built from the backend's operations and the network,
never from the trainer (see `trainers.deep_layers` for the engine interface).

With nnz_l = sum_i |S_l(x_i)|, U_l the union of layer l's fire sets, K pending terms
and sum_k |u_k| |v_k| their support:

=================  ================================================================
``forward``        input layer X W_1^T (n m d, BLAS), then per hidden layer the
                   fired columns of W^0 (m nnz_{l-1}) and the pending terms
                   (n (nnz(V) + nnz(U)) + K nnz_{l-1}); threshold L n m
``signals``        per hidden layer the fired rows of W^0
                   (sum_i |S_l(x_i)| |S_{l-1}(x_i)|) and the pending terms
                   (K (nnz_l + nnz_{l-1}) + n (nnz(U) + nnz(V)))
``gram``           scipy.sparse products, sum_l sum_r |p_{l,r}|^2 + L n^2
``update``         the input layer in place on its fired rows (nnz_1 d); n pending
                   terms appended per hidden layer (copies of their factors)
``merge``          the pending terms scatter-added into W^0: sum_k |u_k| |v_k|
                   writes + O(m + nnz(V)) per layer
``weights``        W^0 + pending terms materialised densely: (L - 1) m^2
``flips``          |S_l(t+1) sym-diff S_l(t)| from the CSR rows: sum_l nnz_l
=================  ================================================================

The masked engine does the same products in dense-masked form (n m |U_{l-1}| instead
of m nnz_{l-1}; merges on the block fired rows x fired columns).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numba
import numpy as np
import scipy.sparse

from ..adapters import native_scatter
from ..deep import DeepShiftedReLUNet
from ..kernels import deep_kernels as DK
from ..kernels import fireset_kernels as FK
from .deep_layers import ArrayDenseLayers

__all__ = ["ArraySublinearLayers", "PendingTerms", "SublinearLayers"]

#: Below this many operations a compiled kernel runs on one thread: starting a parallel
#: region costs more than it saves (much more when another process holds a core).
PARALLEL_WORK = 1 << 20


@contextmanager
def threads_for(work: int) -> Iterator[None]:
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


class PendingTerms:
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


class SublinearLayers:
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
        self._pending = [PendingTerms() for _ in self._WT]
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
            with threads_for(pend.products):
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
                with threads_for(work):
                    DK.pending_forward(*pend.args(), prev.indptr, prev.indices, prev.u, Z)
            union, nptr, ninputs, _ = prev.pattern
            with threads_for(ops.m * prev.u.size):
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
            with threads_for(pairs):
                DK.fired_rows_backward(self._WT[k - 1], lay.indptr, lay.indices, D, union, nptr,
                                       ninputs, nm)
            g = nm[pos]
            pend = self._pending[k - 1]
            if pend.rank:
                work = (pend.rank * (lay.indices.size + below.indices.size)
                        + n * (pend.uidx.size + pend.vidx.size))
                with threads_for(work):
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


def set_block(xp, W, rows, cols, block):
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


class ArraySublinearLayers(ArrayDenseLayers):
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
            self.W[k] = set_block(xp, self.W[k], rows, cols, block)
            pend.clear()

    def update(self, Ds, g) -> None:
        xp = self.xp
        coef = xp.reshape(-g, (-1, 1))
        self.W[0] = self.W[0] + xp.permute_dims(Ds[0] * coef, (1, 0)) @ self.U[0]
        for k in range(1, self.depth):
            A = xp.permute_dims(Ds[k] * coef, (1, 0))            # m x n, zero off S_k
            B = xp.permute_dims(self.U[k], (1, 0))               # m x n, zero off S_{k-1}
            self._pending[k - 1].append((A, B))
