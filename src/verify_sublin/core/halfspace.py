"""Half-space range reporting over the m weight vectors (weight preprocessing).

Song, Yang and Zhang answer the fire-set query S(x) = {r : <w_r, x> > b} with a
half-space range-reporting structure built once over the weights W, so that any input
x (not only the n training inputs, as for the correlation tree) can be queried. Their
bound with weight preprocessing is m^(1 - Theta(1/d)) per query (reconstructed from the
paper's body: a partition tree guarantees O(m^(1 - 1/d) + k) for half-spaces).

`HalfSpaceTree` is a kd-tree instead of a partition tree: a balanced binary tree whose
every node splits its points at the median of their widest coordinate, with a bounding
box per node. A query descends only into the boxes the half-space reaches. A kd-tree
has no worst-case guarantee for arbitrary half-spaces (a hyperplane can cut every
cell); how it behaves on Gaussian weights is what the ``hsr.weights`` entry measures.

Operations and their costs (m weights in d dimensions, leaves of at most
``leaf_size`` points, L = 2^depth <= 2 m / leaf_size leaves, k the output size):

=====================  ========================================================
``HalfSpaceTree``      build: O(m d log(m / leaf_size)) expected (linear-time
                       median split per node per level) + O(L d) boxes;
                       memory 8 m d + 32 L d + 24 m bytes
``query(x, b)``        O(v d + t d + k): v node visits (each a box test of 2d
                       products), t points tested in the cut leaves, k reported
``query_all(X, b)``    sum of the n queries
``scan(x, b)``         the baseline: O(m d), every weight tested
=====================  ========================================================

Every query adds to ``counts["nodes_visited"]``, ``counts["points_tested"]`` and
``counts["reported"]``: deterministic figures for fitted exponents.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import InputError, check_array, check_float, check_int
from .firesets import FireSets
from .kernels import halfspace_kernels as HK

__all__ = ["HalfSpaceTree"]


class HalfSpaceTree:
    """A kd-tree over the weight vectors answering half-space queries {r : <w_r, x> > b}.

    Parameters
    ----------
    W : (m, d) array
        Weight vectors (copied; the tree does not follow later changes of W).
    leaf_size : int
        Largest number of points in a leaf (>= 1). Cut leaves are scanned.

    Examples
    --------
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [-1.0, 0.0]])
    >>> tree = HalfSpaceTree(W, leaf_size=1)
    >>> tree.query([1.0, 0.0], 0.5).tolist()
    [0, 2]
    >>> tree.query([0.0, 1.0], 0.5).tolist() == tree.scan([0.0, 1.0], 0.5).tolist()
    True
    >>> [s.tolist() for s in tree.query_all([[1.0, 0.0], [-1.0, 0.0]], 0.0).to_list()]
    [[0, 2], [3]]
    >>> tree.check_invariants()
    """

    def __init__(self, W, leaf_size: int = 8):
        W = check_array("W", W, ndim=2, copy=True)
        m, d = W.shape
        if m < 1 or d < 1:
            raise InputError("W", f"an array of shape {W.shape}", "an (m, d) array, m, d >= 1")
        self.leaf_size = check_int("leaf_size", leaf_size, minimum=1)
        self.m, self.d = m, d
        self.depth = max(0, math.ceil(math.log2(m / self.leaf_size))) if m > self.leaf_size else 0
        self._W = W.copy()
        self.points = np.ascontiguousarray(W)
        self.perm = np.arange(m, dtype=np.int64)
        self.ranges, self.lo, self.hi = HK.hsr_build(self.points, self.perm, self.depth)
        self._out = np.empty(m, np.int64)
        self.counts = {"nodes_visited": 0, "points_tested": 0, "reported": 0, "queries": 0}

    @property
    def leaves(self) -> int:
        """Number of leaves L = 2^depth."""
        return 1 << self.depth

    def _x(self, x) -> np.ndarray:
        return check_array("x", x, ndim=1, shape=(self.d,))

    def query(self, x, b: float) -> np.ndarray:
        """Sorted ids r with <w_r, x> > b.

        Cost: O(v d + t d + k) for v nodes visited, t points tested in cut leaves, k
        reported, plus O(k log k) for the sort.
        """
        x = self._x(x)
        b = check_float("b", b)
        k, visits, tested = HK.hsr_query(self.points, self.perm, self.ranges, self.lo,
                                         self.hi, x, b, self._out)
        self.counts["nodes_visited"] += int(visits)
        self.counts["points_tested"] += int(tested)
        self.counts["reported"] += int(k)
        self.counts["queries"] += 1
        return np.sort(self._out[:k])

    def query_all(self, X, b: float) -> FireSets:
        """The n fire sets of the rows of X (n, d) as `FireSets`. Cost: n queries."""
        X = check_array("X", X, ndim=2, shape=(None, self.d))
        rows = [self.query(x, b) for x in X]
        return FireSets.from_lists(rows, self.m)

    def scan(self, x, b: float) -> np.ndarray:
        """The same set by testing every weight (the baseline). Cost O(m d)."""
        x = self._x(x)
        k = HK.hsr_scan(self._W, x, check_float("b", b), self._out)
        return self._out[:k].copy()

    def check_invariants(self) -> None:
        """Assert the structure: perm is a permutation, points = W[perm], each leaf's
        box contains its points and each inner box is the union of its children's.
        Cost O(m d + L d)."""
        assert np.array_equal(np.sort(self.perm), np.arange(self.m))
        assert np.array_equal(self.points, self._W[self.perm])
        L = self.leaves
        for k in range(L, 2 * L):
            s, e = self.ranges[k]
            if e > s:
                P = self.points[s:e]
                assert np.array_equal(self.lo[k], P.min(axis=0))
                assert np.array_equal(self.hi[k], P.max(axis=0))
        for k in range(1, L):
            assert tuple(self.ranges[k]) == (self.ranges[2 * k, 0], self.ranges[2 * k + 1, 1])
            assert np.array_equal(self.lo[k], np.minimum(self.lo[2 * k], self.lo[2 * k + 1]))
            assert np.array_equal(self.hi[k], np.maximum(self.hi[2 * k], self.hi[2 * k + 1]))
        sizes = self.ranges[L:, 1] - self.ranges[L:, 0]
        assert sizes.max() <= self.leaf_size and (self.m < L or sizes.min() >= 1)
