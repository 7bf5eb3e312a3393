"""Fire sets S_i = {r : <w_r, x_i> > b} in the two sparse layouts the algorithms use.

`FireSets`      input-major CSR: row i lists S_i (sorted). What the tree reports.
`UnionPatterns` neuron-major over the union U = S_1 u ... u S_n: for each neuron of U
                the sorted inputs that fire it. What a Gauss-Newton step works on: the
                Gram, J u and J^T v all cost O(nnz) in this layout, never O(m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels import fireset_kernels as FK
from .kernels import gram_kernels as GK

__all__ = ["FireSets", "UnionPatterns", "dense_fire_sets", "forward_fire_sets",
           "stream_forward"]

#: Neurons per block of `stream_forward`: their B x n pre-activations stay in cache.
BLOCK = 2048


def _grown(arr: np.ndarray, cap: int, used: int) -> np.ndarray:
    """A larger array (first axis `cap`) holding the first `used` entries of arr. New
    pages are untouched until written, so generous capacity costs no resident memory."""
    out = np.empty((cap, *arr.shape[1:]), arr.dtype)
    out[:used] = arr[:used]
    return out


def stream_forward(X: np.ndarray, W: np.ndarray, b: float, a: np.ndarray, scale: float, *,
                   XT: np.ndarray | None = None, hint: UnionPatterns | None = None,
                   keep_rows: bool = False, block: int = BLOCK
                   ) -> tuple[UnionPatterns, np.ndarray, np.ndarray | None]:
    """The forward pass streamed over W in row blocks: fire patterns, outputs, and
    optionally the union's pre-activations, in one pass.

    Each block's pre-activations W_B X^T (B x n, one BLAS product, multithreaded) are
    thresholded while in cache (`FK.stream_block`); no n x m array is allocated or
    touched. Returns (pat, f, rows):

    * pat: neuron-major `UnionPatterns` over the union U of the fire sets, with the
      activations max(<w_r, x_i> - b, 0) as `values` (entry order of `ninputs`);
    * f: outputs scale * sum_r a_r max(<w_r, x_i> - b, 0), shape (n,);
    * rows: if `keep_rows`, the |U| x n pre-activations of the union neurons (what the
      tree-free cache holds), else None.

    `hint`, the patterns of an earlier pass, sizes the outputs; otherwise the first
    block's rate does.

    Cost: O(n m d) for the products, O(n m) for the thresholding, memory
    O(B n + nnz + |U| n if keep_rows); the outputs grow at most a few times.
    """
    n, m = X.shape[0], W.shape[0]
    XT = np.ascontiguousarray(X.T) if XT is None else XT
    B = max(1, min(int(block), m))
    buf = np.empty((B, n))
    if hint is not None:
        kcap, ecap = int(1.25 * hint.size) + B, int(1.25 * hint.nnz) + B * 4
    else:
        kcap, ecap = min(m, B), B * 4
    union = np.empty(kcap, np.int64)
    nptr = np.empty(kcap + 1, np.int64)
    nptr[0] = 0
    ninputs = np.empty(ecap, np.int64)
    values = np.empty(ecap)
    rows = np.empty((kcap if keep_rows else 0, n))
    f = np.zeros(n)
    k = e = 0
    for lo in range(0, m, B):
        hi = min(lo + B, m)
        PT = buf[:hi - lo]
        np.matmul(W[lo:hi], XT, out=PT)
        while True:
            kb, eb, done = FK.stream_block(PT, b, a, lo, k, e, union, nptr, ninputs, values,
                                           rows, keep_rows, f)
            if done:
                break
            # project the final sizes from the rate so far, with room to spare
            kcap = min(m, max(k + kb, int(1.3 * (k + kb) * m / hi) + B))
            ecap = max(e + eb, int(1.3 * (e + eb) * m / hi) + 4 * B)
            if kcap > union.shape[0]:
                union, nptr = _grown(union, kcap, k), _grown(nptr, kcap + 1, k + 1)
                if keep_rows:
                    rows = _grown(rows, kcap, k)
            if ecap > ninputs.shape[0]:
                ninputs, values = _grown(ninputs, ecap, e), _grown(values, ecap, e)
        k += kb
        e += eb
    pat = UnionPatterns(union[:k], nptr[:k + 1], ninputs[:e], None, n, values[:e])
    return pat, f * scale, rows[:k] if keep_rows else None


def forward_fire_sets(X: np.ndarray, W: np.ndarray, b: float, a: np.ndarray, scale: float,
                      cap: int = 0, block: int = BLOCK) -> tuple[FireSets, np.ndarray]:
    """Fire sets (input-major, with the activations as `data`) and outputs of the weights
    W on the inputs X, without an n x m buffer: `stream_forward`, then a transposition.

    `cap` is accepted for compatibility and unused. Cost: O(n m d) + O(n m) + O(nnz).
    """
    pat, f, _ = stream_forward(X, W, b, a, scale, block=block)
    return pat.to_fire_sets(W.shape[0]), f


def dense_fire_sets(P: np.ndarray, b: float, a: np.ndarray, scale: float,
                    cap: int = 0) -> tuple[FireSets, np.ndarray]:
    """Fire sets and outputs f_i = scale sum_r a_r max(P[i, r] - b, 0) from dense P (n x m).

    One compiled pass over P; `cap` is a guess of max |S_i| (a second pass happens only
    if it is too small). Cost O(n m).
    """
    cap = max(int(cap), 16)
    sizes, out, f = FK.dense_fire_rows(P, b, a, scale, cap)
    if sizes.size and sizes.max() > cap:
        sizes, out, f = FK.dense_fire_rows(P, b, a, scale, int(sizes.max()))
    indptr, indices = FK.rows_to_csr(sizes, out)
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
        return FK.csr_flip_counts(self.indptr, self.indices, other.indptr, other.indices)

    def union_patterns(self, slot: np.ndarray | None = None) -> UnionPatterns:
        """Neuron-major view over the union.

        `slot` is optional scratch of length m filled with -1 (kept so by the call);
        passing one that lives across steps keeps the cost at O(nnz + |U| log |U|)
        instead of O(m).
        """
        if slot is None:
            slot = np.full(self.m, -1, np.int64)
        union, nptr, ninputs, pos = FK.union_patterns(self.indptr, self.indices, slot)
        return UnionPatterns(union, nptr, ninputs, pos, self.n)


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
    values : (nnz,) float or None
        Optional values at the entries (the activations, from `stream_forward`).
    """

    union: np.ndarray
    nptr: np.ndarray
    ninputs: np.ndarray
    pos: np.ndarray | None
    n: int
    values: np.ndarray | None = None

    @property
    def sizes(self) -> np.ndarray:
        """|S_i| for every input, shape (n,). Cost O(nnz)."""
        return np.bincount(self.ninputs, minlength=self.n).astype(np.int64)

    def flips(self, other: UnionPatterns) -> np.ndarray:
        """|S_i symmetric-difference S'_i| per input. Cost O(|U| + |U'| + nnz + nnz')."""
        return FK.pattern_flip_counts(self.union, self.nptr, self.ninputs, other.union,
                                      other.nptr, other.ninputs, self.n)

    def to_fire_sets(self, m: int) -> FireSets:
        """The same fire sets input-major (`FireSets`, `values` as `data`). Cost O(n + nnz)."""
        values = self.values if self.values is not None else np.zeros(self.nnz)
        indptr, indices, data = FK.patterns_to_csr(self.union, self.nptr, self.ninputs,
                                                   values, self.n)
        return FireSets(indptr, indices, int(m), data if self.values is not None else None)

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
        return GK.gram_counts(self.nptr, self.ninputs, weights, self.n, parts)

    def pair_count(self) -> int:
        """sum over neurons of |p_r|^2: the work of `intersection_counts`."""
        sizes = np.diff(self.nptr)
        return int(sizes @ sizes)

    def row_of_entry(self) -> np.ndarray:
        """The union position j of each neuron-major entry. Cost O(nnz)."""
        return np.repeat(np.arange(self.size), np.diff(self.nptr))
