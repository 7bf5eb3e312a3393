"""The fire-set operations interface: what a training step needs from a backend.

Every method's step (phases, counts, claimed cost, refusals) is written once, in its
own module, against an array namespace ``xp`` and one `FireSetOps` object. The
backends differ only here:

=================  ==============================================================
`CompiledOps`      backend "numpy": numba kernels on neuron-major fire patterns
                   (`UnionPatterns`); the fast CPU path
`ArrayOps`         any array-API namespace ("array_api_strict", "cupy",
                   "numpy_generic"): fire sets as dense boolean masks, standard
                   operations plus the scatter adapters of `verify_sublin.core.adapters`
=================  ==============================================================

The operations, with their cost on the compiled path (nnz = sum_i |S_i|, U the union
of the fire sets, k = |U|; the masked path costs the dense forms, k n d or n m):

=====================  ===========================================================
``start``              construction pass: ``forward`` + copy of W + union rows
``forward``            forward pass and threshold: fire sets and outputs, O(n m d)
``patterns``           neuron-major view over the union (compiled: the forward's
                       own layout, free; masked: O(k n))
``gram``               G = Kx * (M^T diag(a_U^2) M) / m, O(sum_r |p_r|^2 + n^2)
``dense_gram``         the textbook G = J J^T from J formed in blocks, O(m n^2 d)
``gram_values``        the second layer's Gram Phi Phi^T / m, O(sum_r |p_r|^2)
``jt``                 J^T v on the union rows (k x d), O(nnz d)
``add_jt``             W[U] += J^T v, O(nnz d)
``values_t``           Phi_U^T v (the second layer's J^T v), O(nnz)
``implicit_delta``     change of the union's inner products from X X^T, O(nnz n)
``flips``              |S_i(t+1) symmetric-difference S_i(t)|, O(nnz)
``sparse_jacobian``    the J operator on the union (J u, J^T v), O(nnz d) a product
``dense_jacobian``     the J operator over all m neurons, O(m n d) a product
``sketch_jt``          S J^T from the fire patterns (see `verify_sublin.core.sketch`)
``solve_gram``         (G + mu I)^{-1} r by Cholesky, n^3 / 3

The sublinear method's fire-set maintenance (tree, cache, scan) is built on these,
in `trainers.sublinear` (one state class per structure); the advance step (refresh,
re-threshold, flips, outputs) is a fused compiled kernel on numpy
(`cache_advance`, `advance_columns`) and `kernels.array_api.advance_masked` elsewhere.
=====================  ===========================================================

Operation counts are never taken from here: each method defines its `counts` once
from the sizes (|S_i|, |U|, |p_r|) that every backend reports identically.

``start`` is the construction pass (the trainer's copy of W, forward, the union's
pre-activations); on the compiled path it streams W in row blocks (`stream_forward`)
so that no n x m array is allocated, and the fire sets come out neuron-major, the
layout every step reads.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .. import solvers
from ..adapters import scatter_add_1d, scatter_add_rows
from ..backend import Backend
from ..errors import InputError
from ..firesets import FireSets, UnionPatterns, stream_forward
from ..kernels import array_api as G
from ..kernels import cache_kernels as CK
from ..kernels import gram_kernels as GK
from ..sketch import Sketch, _buckets_signs, _gaussian_block

__all__ = ["ArrayOps", "CompiledOps", "FireSetOps", "MaskFire", "MaskPatterns", "Start", "make_ops"]


class Start(NamedTuple):
    """What a trainer's construction pass (`FireSetOps.start`) returns."""

    W: Any              #: the trainer's weights (its own copy, or a read-only view)
    fire: Any           #: fire sets of the backend's kind (`forward`)
    f: np.ndarray       #: outputs on the host
    rows: Any           #: the union's pre-activations (|U| x n) or None


class FireSetOps:
    """Base of the two backends: the namespace, host/device transfers and the data.

    Built once per trainer (part of its construction) from the backend, the inputs X
    (n x d, unit rows), the shift b and the width m; holds X, X^T and Kx = X X^T on
    the device. Cost O(n^2 d).
    """

    compiled = False

    def __init__(self, be: Backend, X: np.ndarray, shift: float, m: int):
        self.be, self.xp = be, be.xp
        self.shift, self.m, self.n, self.d = shift, m, X.shape[0], X.shape[1]
        self.scale = 1.0 / math.sqrt(m)
        #: device synchronize for timing (None on the CPU)
        self.sync = be.synchronize if be.name == "cupy" else None

    # ----------------------------------------------------------- transfers
    def asarray(self, a) -> Any:
        """Host data on the device (numpy arrays pass through on numpy backends)."""
        raise NotImplementedError

    def host(self, a) -> np.ndarray:
        """Device array as a numpy array. Cost O(size) off the CPU, 0 on it."""
        return self.be.to_numpy(a)

    def take(self, a, pat):
        """a[U]: the entries of a length-m vector on the union neurons (pattern order)."""
        raise NotImplementedError

    def solve_gram(self, Gm, r, mu: float, sizes: np.ndarray | None):
        """(G + mu I)^{-1} r by Cholesky with the diagnosis of `solvers.solve_gram`."""
        raise NotImplementedError

    def inverse_top_eigenvalue(self, Gm) -> float:
        """1 / lambda_max(G) (the default GD step size). Cost O(n^3), on the host."""
        return solvers.inverse_top_eigenvalue(self.host(Gm))


# ======================================================================== compiled
class CompiledOps(FireSetOps):
    """The numpy backend: numba kernels on neuron-major fire patterns (`UnionPatterns`,
    which a forward pass produces directly)."""

    compiled = True

    def __init__(self, be, X, shift, m):
        super().__init__(be, X, shift, m)
        self.X = X
        self.XT = np.ascontiguousarray(X.T)
        self.Kx = X @ X.T
        self._mask: np.ndarray | None = None          # n x m, dense_jacobian only

    def asarray(self, a):
        return np.asarray(a, dtype=np.float64)

    def take(self, a, pat):
        return a[pat.union]

    def copy(self, a):
        return a.copy()

    def keep(self, pat: UnionPatterns) -> UnionPatterns:
        """A copy of `pat` that later in-place reordering of the state cannot change."""
        return UnionPatterns(pat.union.copy(), pat.nptr, pat.ninputs, None, pat.n)

    # ---------------------------------------------------------------- dense
    def start(self, W, a, *, copy: bool, keep_rows: bool = False) -> Start:
        """The construction pass: the trainer's own copy of W if `copy` (one memcpy; a
        copy written block by block inside the stream was measured 2-3x slower, its page
        faults interleaved with the products), then one stream over it
        (`stream_forward`) for the fire patterns, the outputs and, if `keep_rows`, the
        union's pre-activations (|U| x n). Without `copy`, the trainer keeps a
        read-only view of the caller's W. Cost O(n m d) + O(n m); writes 8 m d bytes
        if `copy`, 8 |U| n if `keep_rows`, 16 bytes per fired entry."""
        W = np.asarray(W, dtype=np.float64)
        if copy:
            own = np.array(W, order="C", copy=True)
        else:
            own = W.view()
            own.flags.writeable = False
        fire, f, rows = stream_forward(self.X, own, self.shift, a, self.scale, XT=self.XT,
                                       keep_rows=keep_rows)
        return Start(own, fire, f, rows)

    def forward(self, W, a, prev: UnionPatterns | None = None):
        """Fire patterns (neuron-major, activations as `values`) and outputs, streamed
        over W in blocks (`stream_forward`); `prev` sizes the outputs. O(n m d)."""
        fire, f, _ = stream_forward(self.X, W, self.shift, a, self.scale, XT=self.XT,
                                    hint=prev)
        return fire, f

    def patterns(self, fire: UnionPatterns) -> UnionPatterns:
        return fire

    def fire_sets(self, fire: UnionPatterns) -> FireSets:
        """The fire sets input-major (the public `fire_sets` of a trainer). O(n + nnz)."""
        return fire.to_fire_sets(self.m)

    def sizes(self, fire: UnionPatterns) -> np.ndarray:
        return fire.sizes

    def gram(self, pat: UnionPatterns, a_rows: np.ndarray | None, blas: bool = False):
        """J J^T of the first layer; a_rows None means every |a_r| = 1; `blas`: from
        dense products of the fire masks (`solvers.gram_blas`)."""
        if blas:
            return solvers.gram_blas(pat, self.Kx, self.m, a_rows)
        return solvers.gram_from_patterns(pat, self.Kx, self.m, a_rows)[0]

    def dense_gram(self, fire: UnionPatterns, a):
        """The textbook J J^T over all m neurons (`solvers.dense_gram`), from the dense
        fire mask. O(m n^2 d)."""
        if self._mask is None:
            self._mask = np.zeros((self.n, self.m), dtype=bool)
        mask = solvers.dense_mask(fire, self._mask)
        return solvers.dense_gram(mask, a * self.scale, self.X)[0]

    def gram_values(self, fire: UnionPatterns, pat: UnionPatterns, blas: bool = False):
        if blas:
            return solvers.gram_blas(pat, None, self.m, values=fire.values)
        return GK.gram_weighted(pat.nptr, pat.ninputs, fire.values, self.n) / self.m

    def blas_gram(self, pat: UnionPatterns) -> bool:
        """Whether the dense BLAS Gram is the faster here (`solvers.blas_is_faster`)."""
        return solvers.blas_is_faster(pat)

    def jt(self, pat, row_coef, v):
        return GK.jt_apply(pat.nptr, pat.ninputs, row_coef, v, self.X)

    def add_jt(self, W, pat, row_coef, v):
        """W[U] += J^T v in place; returns W."""
        GK.add_jt_rows(W, pat.union, pat.nptr, pat.ninputs, row_coef, v, self.X)
        return W

    def implicit_delta(self, pat, row_coef, v, out=None):
        """Change of the union's inner products (k x n) for W[U] += J^T v, from X X^T."""
        if out is None:
            out = np.empty((pat.size, self.n))
        CK.implicit_delta(pat.nptr, pat.ninputs, row_coef, v, self.Kx, out)
        return out

    def values_t(self, fire: UnionPatterns, pat: UnionPatterns, v):
        return GK.second_layer_apply(pat.nptr, pat.ninputs, fire.values, v)

    def add_at(self, a, pat, values):
        """a[U] += values; returns a (in place)."""
        a[pat.union] += values
        return a

    def flips(self, old: UnionPatterns, new: UnionPatterns) -> np.ndarray:
        return old.flips(new)

    def solve_gram(self, Gm, r, mu, sizes):
        return solvers.solve_gram(Gm, r, mu, sizes)[0]

    def sparse_jacobian(self, pat, row_coef):
        return solvers.SparseJacobian(pat, row_coef, self.X)

    def dense_jacobian(self, fire: UnionPatterns, a):
        if self._mask is None:
            self._mask = np.zeros((self.n, self.m), dtype=bool)
        return solvers.DenseJacobian(fire, a, self.X, self._mask)

    def sketch_jt(self, sketch: Sketch, pat, row_coef):
        return sketch.apply_jt(pat, row_coef, self.X)


# ========================================================================= masked
class MaskFire:
    """Fire sets of the masked backend: pre-activations P (n x m), mask P > b and the
    activations Phi = max(P - b, 0), on the device."""

    __slots__ = ("M", "P", "Phi", "sizes")

    def __init__(self, P, M, Phi, sizes: np.ndarray):
        self.P, self.M, self.Phi, self.sizes = P, M, Phi, sizes


class MaskPatterns:
    """Neuron-major fire patterns over the union as a dense mask (k x n).

    Attributes: ``union`` (host ids, sorted), ``idx`` (the same on the device),
    ``mask`` (device bool, k x n), ``n``; ``size``, ``nnz`` and `pair_count` as for
    `UnionPatterns` (from host counts).
    """

    def __init__(self, union: np.ndarray, idx, mask, counts: np.ndarray, n: int):
        self.union, self.idx, self.mask, self.n = union, idx, mask, n
        self._counts = counts

    @property
    def size(self) -> int:
        return int(self.union.shape[0])

    @property
    def nnz(self) -> int:
        return int(self._counts.sum())

    def pair_count(self) -> int:
        return int(self._counts @ self._counts)


class ArrayOps(FireSetOps):
    """Any array-API namespace: dense masks and standard operations (module table)."""

    def __init__(self, be, X, shift, m):
        super().__init__(be, X, shift, m)
        xp = self.xp
        self.X = be.asarray(X)
        self.XT = xp.permute_dims(self.X, (1, 0))
        self.Kx = self.X @ self.XT

    def asarray(self, a):
        if not isinstance(a, np.ndarray) and not np.isscalar(a):
            return a
        return self.be.asarray(a)

    def take(self, a, pat):
        return self.xp.take(a, pat.idx, axis=0)

    def copy(self, a):
        return self.xp.asarray(a, copy=True)

    def keep(self, pat: MaskPatterns) -> MaskPatterns:
        return pat          # never modified in place

    def index(self, ids: np.ndarray):
        """Host neuron ids as a device index array."""
        return self.be.asarray(ids, self.xp.int64)

    def make_patterns(self, ids: np.ndarray, mask_rows, idx=None) -> MaskPatterns:
        """Patterns from host ids (and their device copy `idx`, made if None) and their
        device mask rows (k x n)."""
        xp = self.xp
        counts = self.host(xp.sum(xp.astype(mask_rows, xp.int64), axis=1))
        return MaskPatterns(ids, self.index(ids) if idx is None else idx, mask_rows, counts,
                            self.n)

    # ---------------------------------------------------------------- dense
    def start(self, W, a, *, copy: bool, keep_rows: bool = False) -> Start:
        """The construction pass: W on the device (a copy, as a transfer always is), its
        masks and outputs; `keep_rows` is served by the masks (rows None)."""
        own = self.be.asarray(W)
        fire, f = self.forward(own, a)
        return Start(own, fire, f, None)

    def fire_sets(self, fire: MaskFire) -> MaskFire:
        return fire

    def forward(self, W, a, prev=None) -> tuple[MaskFire, np.ndarray]:
        xp = self.xp
        P, M, f = G.forward(xp, self.X, W, self.shift, a, self.scale)
        Phi = xp.where(M, P - self.shift, xp.zeros_like(P))
        sizes = self.host(xp.sum(xp.astype(M, xp.int64), axis=1))
        return MaskFire(P, M, Phi, sizes), self.host(f)

    def patterns(self, fire: MaskFire) -> MaskPatterns:
        xp = self.xp
        ids = np.flatnonzero(self.host(xp.any(fire.M, axis=0)))
        idx = self.index(ids)
        return self.make_patterns(ids, xp.permute_dims(xp.take(fire.M, idx, axis=1), (1, 0)),
                                  idx)

    def sizes(self, fire: MaskFire) -> np.ndarray:
        return fire.sizes

    def blas_gram(self, pat: MaskPatterns) -> bool:
        return False        # the masked Gram is a dense product already

    def gram(self, pat: MaskPatterns, a_rows, blas: bool = False):
        xp = self.xp
        w = xp.ones((pat.size,), dtype=xp.float64) if a_rows is None else a_rows * a_rows
        return G.gram_masked(xp, pat.mask, self.Kx, w, self.m)

    def dense_gram(self, fire: MaskFire, a):
        """The textbook J J^T: J formed from the masks in blocks of neurons (n x B d)
        and multiplied, as `solvers.dense_gram` does. O(m n^2 d)."""
        xp, n, d = self.xp, self.n, self.d
        B = max(1, solvers.DENSE_GRAM_COLUMNS // d)
        coef = a * self.scale
        Gm = xp.zeros((n, n), dtype=xp.float64)
        for lo in range(0, self.m, B):
            hi = min(lo + B, self.m)
            V = xp.astype(fire.M[:, lo:hi], xp.float64) * xp.reshape(coef[lo:hi], (1, -1))
            J = xp.reshape(xp.reshape(V, (n, -1, 1)) * xp.reshape(self.X, (n, 1, d)), (n, -1))
            Gm = Gm + J @ xp.permute_dims(J, (1, 0))
        return Gm

    def gram_values(self, fire: MaskFire, pat: MaskPatterns, blas: bool = False):
        xp = self.xp
        PhiU = xp.take(fire.Phi, pat.idx, axis=1)
        return (PhiU @ xp.permute_dims(PhiU, (1, 0))) / self.m

    def jt(self, pat, row_coef, v):
        return G.jt_masked(self.xp, pat.mask, v, self.X, row_coef)

    def add_jt(self, W, pat, row_coef, v):
        return scatter_add_rows(self.xp, W, pat.idx, self.jt(pat, row_coef, v))

    def implicit_delta(self, pat, row_coef, v, out=None):
        return G.implicit_delta_masked(self.xp, pat.mask, row_coef, v, self.Kx)

    def values_t(self, fire: MaskFire, pat: MaskPatterns, v):
        xp = self.xp
        return xp.permute_dims(xp.take(fire.Phi, pat.idx, axis=1), (1, 0)) @ v

    def add_at(self, a, pat, values):
        return scatter_add_rows(self.xp, a, pat.idx, values)

    def flips(self, old: MaskFire, new: MaskFire) -> np.ndarray:
        xp = self.xp
        return self.host(xp.sum(xp.astype(old.M != new.M, xp.int64), axis=1))

    def solve_gram(self, Gm, r, mu, sizes):
        xp = self.xp
        solvers.check_fire_sets(sizes, mu)
        A = Gm + mu * xp.eye(self.n, dtype=xp.float64) if mu > 0 else Gm
        try:
            L = xp.linalg.cholesky(A)
        except Exception:
            raise solvers.not_positive_definite(self.host(A), mu) from None
        if not bool(xp.all(xp.isfinite(L))):      # some namespaces return NaN, not raise
            raise solvers.not_positive_definite(self.host(A), mu)
        if solvers.singular_to_rounding(self.host(L), self.host(A)):
            raise solvers.not_positive_definite(self.host(A), mu)
        w = xp.linalg.solve(L, xp.reshape(r, (-1, 1)))
        return xp.reshape(xp.linalg.solve(xp.permute_dims(L, (1, 0)), w), (-1,))

    def sparse_jacobian(self, pat: MaskPatterns, row_coef):
        return _MaskedJacobian(self.xp, pat.mask, row_coef, self.X)

    def dense_jacobian(self, fire: MaskFire, a):
        xp = self.xp
        return _MaskedJacobian(xp, xp.permute_dims(fire.M, (1, 0)), a * self.scale, self.X)

    def sketch_jt(self, sketch: Sketch, pat: MaskPatterns, row_coef):
        """S J^T (s x n): the same sketch (same hashes) as `Sketch.apply_jt`, from masks."""
        xp, be, X, d, n = self.xp, self.be, self.X, self.d, self.n
        size, kind = sketch.size, sketch.kind
        V = xp.astype(pat.mask, xp.float64) * xp.reshape(row_coef, (-1, 1))      # k x n
        ids = pat.union.astype(np.int64)
        if kind == "tensor":
            b1, s1 = _buckets_signs(ids, sketch._key1, size)
            b2, s2 = _buckets_signs(np.arange(d, dtype=np.int64), sketch._key2, size)
            C1 = scatter_add_1d(xp, size, be.asarray(b1, xp.int64),
                                xp.permute_dims(V * xp.reshape(be.asarray(s1), (-1, 1)), (1, 0)))
            C2 = scatter_add_1d(xp, size, be.asarray(b2, xp.int64),
                                X * xp.reshape(be.asarray(s2), (1, -1)))
            conv = xp.fft.irfft(xp.fft.rfft(C1, axis=1) * xp.fft.rfft(C2, axis=1), n=size,
                                axis=1)
            return xp.permute_dims(conv, (1, 0))
        cols = (ids[:, None] * d + np.arange(d)[None, :]).reshape(-1)
        # JT[i, (j, t)] = V[j, i] X[i, t]: n x (k d)
        JT = xp.reshape(xp.reshape(xp.permute_dims(V, (1, 0)), (n, -1, 1))
                        * xp.reshape(X, (n, 1, d)), (n, -1))
        if kind == "countsketch":
            bk, sg = _buckets_signs(cols, sketch._key1, size)
            vals = JT * xp.reshape(be.asarray(sg), (1, -1))
            return xp.permute_dims(scatter_add_1d(xp, size, be.asarray(bk, xp.int64), vals),
                                   (1, 0))
        if kind == "gaussian":
            Sg = be.asarray(_gaussian_block(size, cols, sketch._key1) / math.sqrt(size))
            return Sg @ xp.permute_dims(JT, (1, 0))
        raise InputError("sketch", repr(kind), "'countsketch', 'tensor' or 'gaussian' on "
                         f"backend {be.name!r} (SRHT needs a DCT the array-API FFT "
                         "extension lacks)")


class _MaskedJacobian:
    """J on k neurons from their neuron-major mask (k x n) and row coefficients: J u and
    J^T v, each O(k n d). Counts its products like `solvers.SparseJacobian`."""

    def __init__(self, xp, mask_rows, row_coef, X):
        self.xp, self.mask, self.row_coef, self.X = xp, mask_rows, row_coef, X
        self.products = 0

    def jt(self, v):
        self.products += 1
        return G.jt_masked(self.xp, self.mask, v, self.X, self.row_coef)

    def j(self, U):
        self.products += 1
        return G.j_masked(self.xp, self.mask, U, self.X, self.row_coef)

    def jjt(self, v):
        return self.j(self.jt(v))


def make_ops(be: Backend, X: np.ndarray, shift: float, m: int) -> FireSetOps:
    """The operations of backend `be`: compiled on "numpy", masked on every other."""
    return (CompiledOps if be.name == "numpy" else ArrayOps)(be, X, shift, m)
