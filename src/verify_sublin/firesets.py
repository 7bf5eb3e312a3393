"""Fire sets S_i = {r : <w_r, x_i> > b} in the two sparse layouts the algorithms use.

`FireSets`      input-major CSR: row i lists S_i (sorted). What the tree reports.
`UnionPatterns` neuron-major over the union U = S_1 u ... u S_n: for each neuron of U
                the sorted inputs that fire it. What a Gauss-Newton step works on: the
                Gram, J u and J^T v all cost O(nnz) in this layout, never O(m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels import numpy_backend as K

__all__ = ["FireSets", "UnionPatterns", "dense_fire_sets", "forward_fire_sets"]

#: Neurons per block of `forward_fire_sets`: n x BLOCK pre-activations stay in cache.
BLOCK = 16384


def forward_fire_sets(X: np.ndarray, W: np.ndarray, b: float, a: np.ndarray, scale: float,
                      cap: int = 0, block: int = BLOCK) -> tuple[FireSets, np.ndarray]:
    """Fire sets (with their activations as `data`) and outputs of the weights W on the
    inputs X, without an n x m buffer.

    The pre-activations are computed block by block (one BLAS product X W_B^T per
    block of `block` neurons) and thresholded while in cache. `cap` is a guess of
    max |S_i|; one more pass happens only if it is too small.

    Cost: O(n m d) for the products + O(n m) for the thresholding; memory O(n block).
    """
    n, m = X.shape[0], W.shape[0]
    cap = max(int(cap), 16)
    block = min(block, m)
    buf = np.empty((n, block))
    while True:
        sizes = np.zeros(n, np.int64)
        out = np.empty((n, cap), np.int64)
        vals = np.empty((n, cap))
        f = np.zeros(n)
        for lo in range(0, m, block):
            hi = min(lo + block, m)
            Pb = buf[:, :hi - lo]
            np.matmul(X, W[lo:hi].T, out=Pb)
            K.threshold_block(Pb, b, a, lo, sizes, out, vals, f)
        if sizes.max() <= cap:
            break
        cap = int(sizes.max())
    indptr, indices = K.rows_to_csr(sizes, out)
    _, data = K.rows_to_csr(sizes, vals)
    return FireSets(indptr, indices, m, data), f * scale


def dense_fire_sets(P: np.ndarray, b: float, a: np.ndarray, scale: float,
                    cap: int = 0) -> tuple[FireSets, np.ndarray]:
    """Fire sets and outputs f_i = scale sum_r a_r max(P[i, r] - b, 0) from dense P (n x m).

    One compiled pass over P; `cap` is a guess of max |S_i| (a second pass happens only
    if it is too small). Cost O(n m).
    """
    cap = max(int(cap), 16)
    sizes, out, f = K.dense_fire_rows(P, b, a, scale, cap)
    if sizes.size and sizes.max() > cap:
        sizes, out, f = K.dense_fire_rows(P, b, a, scale, int(sizes.max()))
    indptr, indices = K.rows_to_csr(sizes, out)
    return FireSets(indptr, indices, P.shape[1]), f


@dataclass(frozen=True, eq=False)
class FireSets:
    """Fire sets of n inputs over m neurons, input-major (CSR without values).

    Attributes
    ----------
    indptr : (n + 1,) int64
    indices : (nnz,) int64, S_i = indices[indptr[i]:indptr[i+1]], sorted
    m : int
        Width (the universe the neuron ids come from).
    data : (nnz,) float or None
        Optional values at the entries: the activations max(<w_r, x_i> - b, 0).

    >>> fs = FireSets.from_lists([[0, 3], [], [3]], m=4)
    >>> fs.n, fs.nnz, fs.sizes.tolist(), fs[0].tolist()
    (3, 3, [2, 0, 1], [0, 3])
    """

    indptr: np.ndarray
    indices: np.ndarray
    m: int
    data: np.ndarray | None = None

    @classmethod
    def from_lists(cls, sets, m: int) -> FireSets:
        """Build from a sequence of integer sequences (each sorted on output). Cost O(nnz log)."""
        rows = [np.sort(np.asarray(s, dtype=np.int64)) for s in sets]
        indptr = np.zeros(len(rows) + 1, np.int64)
        indptr[1:] = np.cumsum([r.size for r in rows])
        indices = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        return cls(indptr, indices.astype(np.int64), int(m))

    @classmethod
    def from_dense(cls, P: np.ndarray, threshold: float) -> FireSets:
        """From a dense n x m pre-activation matrix. Cost O(n m)."""
        fs, _ = dense_fire_sets(np.ascontiguousarray(P), float(threshold),
                                np.zeros(P.shape[1]), 0.0)
        return fs

    @property
    def n(self) -> int:
        """Number of inputs n."""
        return self.indptr.shape[0] - 1

    @property
    def nnz(self) -> int:
        """sum_i |S_i|."""
        return int(self.indptr[-1])

    @property
    def sizes(self) -> np.ndarray:
        """|S_i| for every input, shape (n,)."""
        return np.diff(self.indptr)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.indices[self.indptr[i]:self.indptr[i + 1]]

    def __len__(self) -> int:
        return self.n

    def to_list(self) -> list[np.ndarray]:
        """One sorted array per input."""
        return [self[i] for i in range(self.n)]

    def flips(self, other: FireSets) -> np.ndarray:
        """|S_i symmetric-difference S'_i| per input. Cost O(nnz + nnz')."""
        return K.csr_flip_counts(self.indptr, self.indices, other.indptr, other.indices)

    def union_patterns(self, slot: np.ndarray | None = None) -> UnionPatterns:
        """Neuron-major view over the union.

        `slot` is optional scratch of length m filled with -1 (kept so by the call);
        passing one that lives across steps keeps the cost at O(nnz + |U| log |U|)
        instead of O(m).
        """
        if slot is None:
            slot = np.full(self.m, -1, np.int64)
        union, nptr, ninputs, pos = K.union_patterns(self.indptr, self.indices, slot)
        return UnionPatterns(union, nptr, ninputs, pos, self.n)

    def union_values(self, pat: UnionPatterns) -> np.ndarray:
        """`data` rearranged to the neuron-major order of `pat` (from `union_patterns`).

        Cost O(nnz)."""
        out = np.empty(self.nnz)
        out[pat.pos] = self.data
        return out


@dataclass(frozen=True, eq=False)
class UnionPatterns:
    """Neuron-major fire patterns over the union U of the fire sets.

    Attributes
    ----------
    union : (|U|,) int64, sorted neuron ids
    nptr : (|U| + 1,) int64
    ninputs : (nnz,) int64, inputs firing union[j] = ninputs[nptr[j]:nptr[j+1]]
    pos : (nnz,) int64 or None, position in `ninputs` of each input-major CSR entry
    n : int
    """

    union: np.ndarray
    nptr: np.ndarray
    ninputs: np.ndarray
    pos: np.ndarray | None
    n: int

    @property
    def size(self) -> int:
        """|U|."""
        return self.union.shape[0]

    @property
    def nnz(self) -> int:
        return self.ninputs.shape[0]

    def intersection_counts(self, weights: np.ndarray | None = None) -> np.ndarray:
        """C[i, j] = sum of weights[j'] over the union neurons union[j'] in S_i and S_j
        (n x n float; |S_i intersect S_j| without weights). Cost O(sum_r |p_r|^2).

        Large inputs are split over threads; small ones stay in one chunk (the per-chunk
        n x n counts would cost more than they save)."""
        if weights is None:
            weights = np.ones(self.size)
        parts = int(min(8, max(1, self.nnz // 50_000)))
        return K.gram_counts(self.nptr, self.ninputs, weights, self.n, parts)

    def pair_count(self) -> int:
        """sum over neurons of |p_r|^2: the work of `intersection_counts`."""
        sizes = np.diff(self.nptr)
        return int(sizes @ sizes)

    def row_of_entry(self) -> np.ndarray:
        """The union position j of each neuron-major entry. Cost O(nnz)."""
        return np.repeat(np.arange(self.size), np.diff(self.nptr))
