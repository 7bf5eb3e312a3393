"""Compiled kernels of the correlation tree (`verify_sublin.core.tree`).

The n max-trees live in one (n, 2M) float64 array ``nodes`` in heap order (node 1 the
root, children of k at 2k and 2k + 1, leaf r at M + r), M the smallest power of two
>= m; leaf r of tree i holds <w_r, x_i>, an inner node the max of its children.

=====================  ========================================================
``tree_block_levels``  write a block of leaves of every tree and the inner nodes
                       of the aligned subtree above it (construction), O(n span)
``tree_query``         pruned descent to the leaves above a threshold,
                       O(sum_i |S_i| log m) node visits
``tree_set_leaves``    write leaves and refresh their ancestors, stopping where a
                       recomputed max is unchanged, O(n |rows| log m) at worst
=====================  ========================================================

The fire sets a query reports are packed by `fireset_kernels.rows_to_csr`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "tree_block_levels",
    "tree_query",
    "tree_set_leaves",
]


@njit(cache=True, parallel=True)
def tree_block_levels(nodes, M, buf, lo, span, threshold, sizes):  # pragma: no cover
    """Write leaves lo .. lo + buf.shape[1] - 1 of every tree from buf (n x B, input-
    major inner products), count those above `threshold` into sizes[i], and compute
    the inner nodes of the aligned subtree of `span` leaves starting at lo (span a
    power of two dividing M; padding leaves must already hold -inf). Trees in
    parallel, while the block is in cache. Cost O(n span)."""
    n, B = buf.shape
    for i in prange(n):
        row = nodes[i]
        src = buf[i]
        cnt = 0
        for r in range(B):
            row[M + lo + r] = src[r]
            cnt += src[r] > threshold
        sizes[i] += cnt
        first = (M + lo) // 2
        width = span // 2
        while width >= 1:
            for node in range(first, first + width):
                left = row[2 * node]
                right = row[2 * node + 1]
                row[node] = left if left >= right else right
            first //= 2
            width //= 2


@njit(cache=True, parallel=True)
def tree_query(nodes, M, trees, threshold, cap):  # pragma: no cover - compiled
    """Pruned descent of the max-trees `trees` (rows of `nodes`, heap layout).

    A node is visited only if its parent's max exceeds the threshold (the root is
    always visited). Trees are searched in parallel; tree t writes its leaves
    > threshold, in increasing order, to out[t, :cap] and counts them all in
    sizes[t] (a caller seeing sizes[t] > cap repeats with a larger cap).
    Returns (sizes, out, visits). Cost O(sum_i |S_i| log m) visits.
    """
    nt = trees.shape[0]
    sizes = np.zeros(nt, np.int64)
    visits = np.zeros(nt, np.int64)
    out = np.empty((nt, cap), np.int64)
    for t in prange(nt):
        row = nodes[trees[t]]
        stack = np.empty(130, np.int64)
        stack[0] = 1
        top = 1
        k = 0
        v = 0
        while top > 0:
            top -= 1
            node = stack[top]
            v += 1
            if row[node] > threshold:
                if node >= M:
                    if k < cap:
                        out[t, k] = node - M
                    k += 1
                else:
                    stack[top] = 2 * node + 1
                    stack[top + 1] = 2 * node
                    top += 2
        sizes[t] = k
        visits[t] = v
    return sizes, out, visits


@njit(cache=True, parallel=True)
def tree_set_leaves(nodes, M, rows, values):  # pragma: no cover - compiled
    """Write leaf `rows[j]` of every tree i to values[i, j] and refresh its ancestors.

    Ancestors are recomputed bottom-up and the walk stops as soon as a recomputed
    max equals the stored one (everything above is then unchanged). Returns the
    number of inner nodes recomputed. Trees in parallel. Cost O(n |rows| log m) in the
    worst case.
    """
    n = nodes.shape[0]
    visits = np.zeros(n, np.int64)
    for i in prange(n):
        row = nodes[i]
        vi = 0
        for j in range(rows.shape[0]):
            node = M + rows[j]
            row[node] = values[i, j]
            node >>= 1
            while node >= 1:
                left = row[2 * node]
                right = row[2 * node + 1]
                best = left if left >= right else right
                vi += 1
                if row[node] == best:
                    break
                row[node] = best
                node >>= 1
        visits[i] = vi
    return visits.sum()
