"""Loop-free numpy versions of the tree kernels, level by level.

Same results and node-visit counts as the compiled kernels in `numpy_backend`; they
exist to justify that choice with measurements (`verify-sublin speed` prints both)
and as an independent implementation the tests compare against. Each level costs a
few numpy calls over the frontier, so a query or update does O(log m) calls.
"""

from __future__ import annotations

import numpy as np

__all__ = ["tree_query_levels", "tree_set_leaves_levels"]


def tree_query_levels(nodes: np.ndarray, M: int, trees: np.ndarray, threshold: float):
    """Fire sets of `trees` by a breadth-first pruned descent over all trees at once.

    Returns (indptr, indices, visits) like the compiled query. Cost O(sum_i |S_i| log m)
    node visits in O(log m) numpy calls.
    """
    flat = nodes.reshape(-1)
    width = nodes.shape[1]
    tree = trees.astype(np.int64)
    node = np.ones(trees.shape[0], np.int64)
    visits = 0
    while True:
        visits += node.size
        keep = flat[tree * width + node] > threshold
        tree, node = tree[keep], node[keep]
        if node.size == 0 or node[0] >= M:   # all frontier nodes share one level
            break
        tree = np.repeat(tree, 2)
        node = (node[:, None] * 2 + np.array([0, 1])).reshape(-1)
    order = np.lexsort((node, tree))
    tree, leaf = tree[order], node[order] - M
    counts = np.bincount(np.searchsorted(trees, tree) if trees.size else tree,
                         minlength=trees.shape[0])
    indptr = np.zeros(trees.shape[0] + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, leaf, visits


def tree_set_leaves_levels(nodes: np.ndarray, M: int, rows: np.ndarray, values: np.ndarray) -> int:
    """Write leaves `rows` (unique) of every tree and refresh all their ancestors.

    Every ancestor is recomputed (no early stop), one level at a time for all trees.
    Returns the number of inner nodes recomputed. Cost O(n |rows| log m).
    """
    nodes[:, M + rows] = values
    level_nodes = np.unique((M + rows) >> 1)
    visits = 0
    while level_nodes.size:
        nodes[:, level_nodes] = np.maximum(nodes[:, 2 * level_nodes], nodes[:, 2 * level_nodes + 1])
        visits += nodes.shape[0] * level_nodes.size
        level_nodes = np.unique(level_nodes >> 1)
        level_nodes = level_nodes[level_nodes >= 1]
    return visits
