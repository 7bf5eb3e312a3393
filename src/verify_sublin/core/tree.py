"""The correlation tree (DTree of Alman et al.; "DSWS" in the sublinear-GN paper).

One max-tree per input x_i over the m neurons. Leaf r of tree i holds <w_r, x_i>;
each inner node holds the max of its two children. A threshold query descends only
into nodes whose max exceeds the threshold, so it reports S_i = {r : <w_r, x_i> > b}
after visiting O(|S_i| log m) nodes instead of scanning all m leaves.

Layout: all n trees in one contiguous float64 array, one row per tree, in blocked
heap form (`kernels.tree_kernels`): the logical tree is the binary heap (node 1 the
root, children of k at 2k and 2k + 1, leaf r at M + r, M the smallest power of two
>= m, leaves M + m .. 2M - 1 at -inf), but its three lowest inner levels (nodes over
2, 4 and 8 leaves) are not stored: such a node is the max of its leaves, which share
one 64-byte cache line, and is recomputed from them when a query or an update reaches
it. Stored: the inner nodes over >= 16 leaves (heap indices 1 .. S - 1, S = M / 8)
and the leaves (at offset `leaf_offset` = S). Memory: 8 n (M + M / 8) bytes (576 MiB
at n = 64, m = 2^20, against 1 GiB for the plain heap) plus a copy of the weights
(8 m d bytes). Queries and updates walk the same logical nodes as on the plain heap,
so their counted visits are unchanged; an update reads one cache line for the three
lowest levels instead of three.

Operations and their costs (m neurons, n inputs, d dimension):

=====================  =====================================================
``CorrelationTree``    build: X W^T streamed in blocks of neurons (n m d) + max
                       pass (n M), no n x m intermediate
``query(i)``           O(|S_i| log m) node visits
``query_all()``        O(sum_i |S_i| log m) node visits, one compiled pass
``update(rows, Wr)``   O(k n d) for the k new inner products (one BLAS
                       product) + O(k n log m) ancestor refreshes, fewer when
                       a refreshed max is unchanged (the walk stops there)
``heap(i)``            the full logical heap of tree i (2M values), O(M)
``check_invariants``   O(n m d): recomputes everything
=====================  =====================================================

Every operation adds to ``counts["inner_products"]`` (inner products <w_r, x_i>
computed) and ``counts["tree_nodes_visited"]`` (nodes read by queries, inner nodes
recomputed by updates), deterministic figures that tests and benchmarks read.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError, check_array, check_float
from .firesets import FireSets
from .kernels import fireset_kernels as FK
from .kernels import tree_kernels as TK
from .memory import check_memory

__all__ = ["CorrelationTree"]


def _aligned_rows(n: int, width: int) -> np.ndarray:
    """An uninitialised (n, width) float64 array whose first element is 64-byte
    aligned (width a multiple of 8 keeps every row aligned), so that each aligned group
    of 8 leaves is one cache line."""
    raw = np.empty(n * width + 8)
    start = (-raw.ctypes.data % 64) // 8
    return raw[start:start + n * width].reshape(n, width)


class CorrelationTree:
    """n max-trees over the inner products <w_r, x_i>; threshold queries report fire sets.

    Parameters
    ----------
    W : (m, d) array
        Neuron weights (copied, unless ``copy=False``: then the tree keeps W itself and
        `update` writes into it).
    X : (n, d) array
        Inputs (copied). Unit norm is not required by the tree.
    threshold : float
        Default threshold b of the queries (a leaf is reported if strictly greater).
    finite_checked : bool
        The caller has already refused non-finite weights (a `ShiftedReLUNet`'s W is
        checked when the net is made): skip the pass over W that would (8 m d bytes
        read, about a quarter of the floor product at m = 2^20). Shape and dtype are
        still checked.

    Examples
    --------
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> tree = CorrelationTree(W, X, threshold=0.5)
    >>> tree.query(0).tolist(), tree.query(1).tolist()
    ([0, 2], [1, 2])
    >>> tree.update([2], [[-1.0, 0.0]])
    >>> [s.tolist() for s in tree.query_all().to_list()]
    [[0], [1]]
    >>> tree.check_invariants()
    """

    @staticmethod
    def memory_estimate(m: int, n: int, d: int) -> float:
        """Bytes a tree over m neurons and n inputs needs: 8 n (M + S) + 8 m d (+ 8 n d),
        S = M / 8 (`CorrelationTree` layout)."""
        M = 1 << max(m - 1, 0).bit_length()
        S = M >> min(TK.IMPLICIT, M.bit_length() - 1)
        return 8.0 * n * (M + S + 8) + 8.0 * m * d + 8.0 * n * d

    #: Neurons per block of the build: the n x BLOCK inner products (8 MiB at n = 64)
    #: stay in the last-level cache while they are written to the leaves and their
    #: subtrees' maxima are computed.
    BLOCK = 16384

    def __init__(self, W, X, threshold: float, *, copy: bool = True,
                 finite_checked: bool = False):
        # checked before the copies below; lists (already in memory) are validated after
        shape_w = W.shape if isinstance(W, np.ndarray) else ()
        shape_x = X.shape if isinstance(X, np.ndarray) else ()
        if len(shape_w) == 2 and len(shape_x) == 2:
            check_memory("W", self.memory_estimate(shape_w[0], shape_x[0], shape_w[1]),
                         f"a correlation tree over {shape_w[0]} neurons and {shape_x[0]} inputs")
        W = check_array("W", W, ndim=2, finite=not finite_checked)
        X = check_array("X", X, ndim=2, shape=(None, W.shape[1]), copy=True)
        if W.shape[0] < 1 or X.shape[0] < 1:
            raise InputError("W, X", f"shapes {W.shape} and {X.shape}",
                             "at least one neuron and one input")
        self.threshold = check_float("threshold", threshold)
        self._X = X
        self._weights_current = True
        self.m, self.d = W.shape
        self.n = X.shape[0]
        self.M = 1 << max(self.m - 1, 0).bit_length()
        #: first heap index that is not stored (the three lowest inner levels), and the
        #: offset of leaf 0 in a row of `nodes`
        self.S = self.M >> min(TK.IMPLICIT, self.M.bit_length() - 1)
        self.leaf_offset = self.S
        self.counts = {"inner_products": 0, "tree_nodes_visited": 0}
        self._cap = 64  # per-tree output buffer of queries, grown on demand
        # with copy=False the tree keeps W itself (the caller's, e.g. a trainer's own)
        self._W = np.array(W, order="C", copy=True) if copy else W
        self.nodes = _aligned_rows(self.n, self.S + self.M)
        self._build(self._W)

    def _build(self, W: np.ndarray) -> None:
        """Leaves from streamed blocks of X W^T (one BLAS product per block, written
        straight into the leaves), then each block's stored inner nodes in parallel
        while it is in cache; the top levels above the blocks last. No n x m
        intermediate is allocated. Cost O(n m d) + O(n M)."""
        nodes, M, m, L, S = self.nodes, self.M, self.m, self.leaf_offset, self.S
        nodes[:, 0] = np.nan  # unused slot
        nodes[:, L + m:L + M] = -np.inf
        # a block spans at least one lowest stored node's leaves (2 M / S of them), so
        # that the block pass can form it; BLOCK below that (tests) is raised to it
        B = min(max(self.BLOCK, 2 * M // S if S > 1 else 1), M)
        sizes = np.zeros(self.n, np.int64)
        for lo in range(0, M, B):
            hi = min(lo + B, m)
            if hi > lo:
                np.matmul(self._X, W[lo:hi].T, out=nodes[:, L + lo:L + hi])
            TK.tree_block_levels(nodes, L, M, S, lo, B, self.threshold, sizes, max(hi, lo))
        self.counts["inner_products"] += self.n * m
        self._rebuild_inner(top=M // B)
        # size the query buffer from the fire sets at the default threshold
        self._cap = int(sizes.max()) + 16

    def _rebuild_inner(self, top: int | None = None) -> None:
        """Bottom-up max pass over the stored inner nodes below heap index `top` (all
        of them if None: the lowest stored level from the leaves first), vectorised.
        Cost O(n top), O(n M) if None."""
        nodes, M, S, L = self.nodes, self.M, self.S, self.leaf_offset
        if top is None:
            if S > 1:
                width = 2 * (M // S)
                lowest = nodes[:, L:L + M].reshape(self.n, M // width, width).max(axis=2)
                nodes[:, S // 2:S] = lowest
            top = S // 2
        level = min(top, S // 2) // 2
        while level >= 1:
            np.maximum(nodes[:, 2 * level:4 * level:2], nodes[:, 2 * level + 1:4 * level:2],
                       out=nodes[:, level:2 * level])
            level //= 2

    def heap(self, i: int) -> np.ndarray:
        """The full logical heap of tree i: 2M values, index 0 NaN, node k's children at
        2k and 2k + 1, leaf r at M + r; the unstored levels computed. For tests and
        experiments that count nodes. Cost O(M)."""
        return TK.tree_heap(self.nodes[i], self.leaf_offset, self.M, self.S)

    def outputs(self, fire: FireSets, a: np.ndarray) -> np.ndarray:
        """sum over r in S_i of a_r (<w_r, x_i> - b) for every input, from the leaves of
        fire sets this tree reported (unscaled network outputs). Cost O(nnz)."""
        rows = np.repeat(np.arange(self.n), fire.sizes)
        vals = self.nodes[rows, self.leaf_offset + fire.indices] - self.threshold
        return np.bincount(rows, weights=a[fire.indices] * vals, minlength=self.n)

    # ----------------------------------------------------------------- queries
    def query(self, i: int, threshold: float | None = None) -> np.ndarray:
        """Sorted neurons r with <w_r, x_i> > threshold, by pruned descent of tree i.

        Cost: O(|S_i| log m) node visits (counted).
        """
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < self.n:
            raise InputError("i", repr(i), f"an input index in [0, {self.n})")
        fs = self._query(np.array([i], np.int64), threshold)
        return fs.indices

    def query_all(self, threshold: float | None = None) -> FireSets:
        """Fire sets of all n inputs, as a `FireSets` (input-major CSR).

        Cost: O(sum_i |S_i| log m) node visits (counted), one compiled pass.
        """
        return self._query(np.arange(self.n, dtype=np.int64), threshold)

    def query_rows(self, rows, threshold: float | None = None) -> FireSets:
        """Fire sets of the inputs `rows` (a batch, in its order), as a `FireSets` with
        one row per entry of `rows`.

        Cost: O(sum over rows of |S_i| log m) node visits (counted), one compiled pass.
        """
        arr = np.asarray(rows)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu") or (
                arr.size and (arr.min() < 0 or arr.max() >= self.n)):
            raise InputError("rows", f"{arr.dtype} array of shape {arr.shape}",
                             f"a 1-d sequence of input indices in [0, {self.n})")
        return self._query(arr.astype(np.int64), threshold)

    def _query(self, trees: np.ndarray, threshold: float | None) -> FireSets:
        thr = self.threshold if threshold is None else check_float("threshold", threshold)
        args = (self.nodes, self.leaf_offset, self.M, self.S, trees, thr)
        sizes, out, visits = TK.tree_query(*args, self._cap)
        if sizes.size and sizes.max() > self._cap:     # rare: a fire set outgrew the buffer
            self._cap = int(sizes.max() * 1.25) + 16
            sizes, out, visits = TK.tree_query(*args, self._cap)
        self.counts["tree_nodes_visited"] += int(visits.sum())
        indptr, indices = FK.rows_to_csr(sizes, out)
        return FireSets(indptr, indices, self.m)

    # ----------------------------------------------------------------- updates
    def update(self, rows, new_weights) -> None:
        """Replace the weights of neurons `rows` by `new_weights` (k x d) in all n trees.

        Repeated rows: the last occurrence wins. One BLAS product computes the k n
        new inner products; a compiled pass writes the leaves and refreshes their
        ancestors. Cost: O(k n d + k n log m).
        """
        rows, new_weights = self._check_rows(rows, new_weights)
        if rows.size == 0:
            return
        values = self._X @ new_weights.T                    # n x k, one BLAS product
        self.counts["inner_products"] += self.n * rows.size
        if self._weights_current:
            self._W[rows] = new_weights
        self._write(rows, values)

    def set_leaf_values(self, rows, values) -> None:
        """Set the inner products of neurons `rows` directly (values: n x k).

        For callers that maintain the inner products themselves (implicit weight
        maintenance). The tree's copy of the weights is then out of date, so
        `check_invariants` needs the current weights passed in. Repeated rows: the
        last occurrence wins. Cost: O(k n log m).
        """
        rows = self._check_row_ids(rows)
        values = check_array("values", values, ndim=2, shape=(self.n, rows.size))
        rows, last = self._dedupe(rows)
        self._weights_current = False
        self._write(rows, values[:, last])

    def set_sorted_leaf_values(self, rows: np.ndarray, values: np.ndarray) -> None:
        """`set_leaf_values` without validation, for trusted hot paths.

        `rows` must be strictly increasing int64 neuron ids and `values` a finite
        float64 n x k array (any strides). Cost: O(k n log m).
        """
        self._weights_current = False
        self._write(rows, values)

    def leaf_values(self, rows) -> np.ndarray:
        """The stored inner products of neurons `rows`, n x k. Cost O(n k)."""
        rows = self._check_row_ids(rows)
        return self.nodes[:, self.leaf_offset + rows]

    def _write(self, rows: np.ndarray, values: np.ndarray) -> None:
        visits = TK.tree_set_leaves(self.nodes, self.leaf_offset, self.M, self.S, rows, values)
        self.counts["tree_nodes_visited"] += int(visits)

    def advance_sorted(self, rows: np.ndarray, new: np.ndarray, add: bool,
                       a_rows: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """The trainer's fused update (trusted hot path, as `set_sorted_leaf_values`):
        leaf rows[j] of tree i becomes leaf + new[i, j] if `add`, else new[i, j]; returns
        (flips, f_change) per input at the default threshold b: |S_i(t+1) sym.diff.
        S_i(t)| over these rows and scale sum_j a_rows[j] (relu(new - b) - relu(old -
        b)). The weights copy goes out of date. Cost O(n |rows| log m) at worst (counted
        as `set_leaf_values`)."""
        self._weights_current = False
        flips, df, visits = TK.tree_advance(self.nodes, self.leaf_offset, self.M, self.S,
                                            rows, new, add, self.threshold, a_rows, scale)
        self.counts["tree_nodes_visited"] += int(visits)
        return flips, df

    def _check_row_ids(self, rows) -> np.ndarray:
        arr = np.asarray(rows)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise InputError("rows", f"{arr.dtype} array of shape {arr.shape}",
                             "a 1-d sequence of neuron indices")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (arr.min() < 0 or arr.max() >= self.m):
            raise InputError("rows", f"indices from {arr.min()} to {arr.max()}",
                             f"neuron indices in [0, {self.m})")
        return arr

    @staticmethod
    def _dedupe(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | slice]:
        """Unique rows and, for each, the position of its last occurrence.

        Strictly increasing rows (the usual case: a sorted union) are returned as they
        are with a full slice, so no copy of the values is made.
        """
        if rows.size < 2 or bool(np.all(rows[1:] > rows[:-1])):
            return rows, slice(None)
        rev = rows[::-1]
        uniq, first_in_rev = np.unique(rev, return_index=True)
        return uniq, rows.size - 1 - first_in_rev

    def _check_rows(self, rows, new_weights) -> tuple[np.ndarray, np.ndarray]:
        rows = self._check_row_ids(rows)
        new_weights = check_array("new_weights", new_weights, ndim=2, shape=(rows.size, self.d))
        rows, last = self._dedupe(rows)
        return rows, new_weights[last]

    # --------------------------------------------------------------- checking
    @property
    def W(self) -> np.ndarray:
        """The tree's copy of the weights (m x d), kept current by `update`."""
        return self._W

    def check_invariants(self, W=None, rtol: float = 1e-12) -> None:
        """Raise AssertionError on any violated invariant.

        * every stored inner node is the max of its two children (exactly); the lowest
          stored level, the max of its leaves (the levels below it are not stored);
        * every leaf r of tree i equals <w_r, x_i> to `rtol` relative to
          ||w_r|| ||x_i|| (W defaults to
          the tree's own copy, kept current by `update`);
        * padding leaves are -inf.

        Cost: O(n m d).
        """
        if W is None:
            if not self._weights_current:
                raise InputError("W", "None after set_leaf_values",
                                 "the current weights (the tree's copy is out of date)")
            W = self._W
        W = check_array("W", W, ndim=2, shape=(self.m, self.d))
        nodes, M, S, L = self.nodes, self.M, self.S, self.leaf_offset
        leaves = nodes[:, L:L + M]
        if S > 1:       # the lowest stored level: the max of its leaves (exactly)
            width = 2 * (M // S)
            best = leaves.reshape(self.n, M // width, width).max(axis=2)
            parent = nodes[:, S // 2:S]
            bad = np.argwhere(parent != best)
            if bad.size:
                i, k = bad[0]
                raise AssertionError(f"tree {i}: node {S // 2 + k} holds {parent[i, k]!r}, "
                                     f"the max of its leaves is {best[i, k]!r}")
        level = S // 4
        while level >= 1:
            parent = nodes[:, level:2 * level]
            best = np.maximum(nodes[:, 2 * level:4 * level:2], nodes[:, 2 * level + 1:4 * level:2])
            bad = np.argwhere(parent != best)
            if bad.size:
                i, k = bad[0]
                raise AssertionError(f"tree {i}: node {level + k} holds {parent[i, k]!r}, "
                                     f"the max of its children is {best[i, k]!r}")
            level //= 2
        if not np.all(leaves[:, self.m:] == -np.inf):
            raise AssertionError("a padding leaf is not -inf")
        want = self._X @ W.T
        got = leaves[:, :self.m]
        err = np.abs(got - want)
        # relative to the natural scale of an inner product, ||w_r|| ||x_i||
        tol = rtol * np.outer(np.linalg.norm(self._X, axis=1), np.linalg.norm(W, axis=1))
        if np.any(err > tol):
            i, r = np.argwhere(err > tol)[0]
            raise AssertionError(f"tree {i}: leaf {r} holds {got[i, r]!r}, "
                                 f"<w_r, x_i> = {want[i, r]!r}")
