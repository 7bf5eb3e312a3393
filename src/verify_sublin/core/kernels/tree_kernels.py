"""Compiled kernels of the correlation tree (`verify_sublin.core.tree`).

Each of the n trees is a binary max-tree over M leaves (M the smallest power of two
>= m) in heap numbering: node 1 the root, children of k at 2k and 2k + 1, leaf r at
heap index M + r; leaf r of tree i holds <w_r, x_i>, an inner node the max of its
children. Row i of ``nodes`` stores tree i in blocked form:

* ``nodes[i, L + r]`` (L = S) is leaf r; the leaves of every aligned group of 8 share
  one 64-byte cache line;
* ``nodes[i, k]`` for 1 <= k < S is inner node k, for the levels whose nodes cover at
  least 2^(h + 1) leaves, S = M >> h, h = min(IMPLICIT, log2 M);
* the h lowest inner levels (nodes covering 2, 4 and 8 leaves) are not stored: node k
  >= S is the max of its <= 8 leaves, read from their one cache line when needed.

The logical tree, and so every query's and update's node visits, are those of the
plain binary heap; only the storage differs (n (S + M) floats instead of 2 n M: 576
MiB instead of 1 GiB at m = 2^20, n = 64). ``nodes[i, 0]`` is unused.

=====================  ========================================================
``tree_block_levels``  the stored inner nodes of the aligned subtree over a block
                       of leaves already written (construction), O(n span)
``tree_query``         pruned descent to the leaves above a threshold,
                       O(sum_i |S_i| log m) node visits
``tree_set_leaves``    write leaves and refresh their ancestors, stopping where a
                       recomputed max is unchanged, O(n |rows| log m) at worst
``tree_advance``       the trainer's fused pass: read each changed leaf, add its
                       change (or take its new value), count flips and the change
                       of the outputs, write it and refresh its ancestors
``tree_heap``          the full logical heap of one tree (tests, experiments), O(M)
=====================  ========================================================

The fire sets a query reports are packed by `fireset_kernels.rows_to_csr`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "IMPLICIT",
    "tree_advance",
    "tree_block_levels",
    "tree_heap",
    "tree_query",
    "tree_set_leaves",
]

#: Inner levels above the leaves that are recomputed from the leaves instead of stored:
#: 3, so a node covers at most the 8 leaves of one cache line.
IMPLICIT = 3
#: Rows ahead whose cache line an update reads early (a software prefetch: the
#: misses of the next rows overlap the current row's work; measured 99 -> 82 ms for
#: the 1.2M leaf writes of one step at m = 2^20, c = 0.85, one thread, with an
#: earlier version of `_write_leaf`; distances 16 and 32 were no better).
PREFETCH = 8


@njit(cache=True, inline="always")
def _max_run(row, start, count):  # pragma: no cover - compiled
    """max(row[start:start + count]), count >= 1, without data-dependent branches."""
    best = row[start]
    for p in range(start + 1, start + count):
        v = row[p]
        best = v if v > best else best
    return best


@njit(cache=True, inline="always")
def _value(row, L, M, S, k):  # pragma: no cover - compiled
    """Value of heap node k (1 <= k < 2M) of a tree stored in `row` (blocked form)."""
    if k >= M:
        return row[L + k - M]
    if k < S:
        return row[k]
    lo = k
    hi = k + 1
    while lo < M:
        lo <<= 1
        hi <<= 1
    return _max_run(row, L + lo - M, hi - lo)


@njit(cache=True, parallel=True)
def tree_block_levels(nodes, L, M, S, lo, span, threshold, sizes, count_to):  # pragma: no cover
    """For the aligned block of `span` leaves starting at lo (already written, padding
    leaves -inf; span a power of two dividing M), count the leaves of [lo, count_to)
    above `threshold` into sizes[i], and compute the stored inner nodes of the block's
    subtree. Trees in parallel, while the block is in cache. Cost O(n span)."""
    n = nodes.shape[0]
    width = 2 * (M // S)            # leaves under a node of the lowest stored level
    for i in prange(n):
        row = nodes[i]
        cnt = 0
        if width > span:            # no stored node inside the block (M <= 8)
            for r in range(lo, count_to):
                cnt += row[L + r] > threshold
            sizes[i] += cnt
            continue
        # the lowest stored level, the max of its leaves, counted in the same pass
        # (padding leaves are -inf and never counted)
        first = (M + lo) // width
        for node in range(first, first + span // width):
            base = L + node * width - M
            best = row[base]
            cnt += best > threshold
            for p in range(base + 1, base + width):
                v = row[p]
                cnt += v > threshold
                best = v if v > best else best
            row[node] = best
        sizes[i] += cnt
        first //= 2
        count = span // width // 2
        while count >= 1:
            for node in range(first, first + count):
                left = row[2 * node]
                right = row[2 * node + 1]
                row[node] = left if left >= right else right
            first //= 2
            count //= 2


@njit(cache=True, parallel=True)
def tree_query(nodes, L, M, S, trees, threshold, cap):  # pragma: no cover - compiled
    """Pruned descent of the max-trees `trees` (rows of `nodes`, blocked heap layout).

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
            if _value(row, L, M, S, node) > threshold:
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


@njit(cache=True)
def tree_heap(row, L, M, S):  # pragma: no cover - compiled
    """The full logical heap of one tree (length 2M, index 0 NaN): leaves and every
    inner node, stored or not. Cost O(M)."""
    heap = np.empty(2 * M)
    heap[0] = np.nan
    for r in range(M):
        heap[M + r] = row[L + r]
    for k in range(M - 1, 0, -1):
        left = heap[2 * k]
        right = heap[2 * k + 1]
        heap[k] = left if left >= right else right
    return heap


@njit(cache=True, inline="always")
def _mx(a, b):  # pragma: no cover - compiled
    return a if a >= b else b


@njit(cache=True, inline="always")
def _write_leaf(row, L, M, S, r, value, add):  # pragma: no cover - compiled
    """Write leaf r of one tree (value, or leaf + value if `add`) and refresh its
    ancestors bottom-up, stopping after the first recomputed node whose max is
    unchanged, as on the plain binary heap. Returns (inner nodes recomputed, old leaf,
    new leaf); the count is the plain heap's, stored nodes or not.

    Trees of M >= 8 leaves: the three unstored ancestors (pair, quad, octet) are
    recomputed from their leaves in the written leaf's cache line, reading only what
    each level adds (the sibling leaf, the other pair, the other quad); the stored
    ancestors are walked only when the octet's max changed."""
    if M // S != 8:
        return _write_leaf_small(row, L, M, S, r, value, add)
    base = L + r
    old = row[base]
    x = old + value if add else value
    row[base] = x
    # level 1, the pair: the sibling leaf
    sib = row[L + (r ^ 1)]
    p_old = _mx(old, sib)
    p_new = _mx(x, sib)
    if p_new == p_old:
        return 1, old, x
    # level 2, the quad: the other pair
    q = L + ((r & -4) ^ (r & 2) ^ 2)
    p_other = _mx(row[q], row[q + 1])
    q_old = _mx(p_old, p_other)
    q_new = _mx(p_new, p_other)
    if q_new == q_old:
        return 2, old, x
    # level 3, the octet: the other quad
    o = L + ((r & -8) ^ (r & 4) ^ 4)
    q_other = _mx(_mx(row[o], row[o + 1]), _mx(row[o + 2], row[o + 3]))
    if _mx(q_new, q_other) == _mx(q_old, q_other):
        return 3, old, x
    o_new = _mx(q_new, q_other)
    node = (M + r) >> 4                  # the first stored ancestor, over 16 leaves
    if node < 1:
        return 3, old, x
    best = _mx(o_new, _max_run(row, L + ((r & -8) ^ 8), 8)) if (r & 8) == 0 else \
        _mx(_max_run(row, L + ((r & -8) ^ 8), 8), o_new)
    vi = 4
    while True:
        if row[node] == best:
            break
        row[node] = best
        node >>= 1
        if node < 1:
            break
        best = _mx(row[2 * node], row[2 * node + 1])
        vi += 1
    return vi, old, x


@njit(cache=True)
def _write_leaf_small(row, L, M, S, r, value, add):  # pragma: no cover - compiled
    """`_write_leaf` for trees of M <= 4 leaves (no stored inner node): the logical heap
    before and after, walked as on the plain heap. Cost O(M)."""
    before = tree_heap(row, L, M, S)
    old = row[L + r]
    x = old + value if add else value
    row[L + r] = x
    after = tree_heap(row, L, M, S)
    vi = 0
    node = (M + r) >> 1
    while node >= 1:
        vi += 1
        if after[node] == before[node]:
            break
        node >>= 1
    return vi, old, x


@njit(cache=True, parallel=True)
def tree_set_leaves(nodes, L, M, S, rows, values):  # pragma: no cover - compiled
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
        k = rows.shape[0]
        vi = 0
        ahead = 0.0
        for j in range(k):
            ahead += row[L + rows[j + PREFETCH if j + PREFETCH < k else k - 1]]
            vi += _write_leaf(row, L, M, S, rows[j], values[i, j], False)[0]
        visits[i] = vi + np.int64(ahead * 0.0 != 0.0)
    return visits.sum()


@njit(cache=True, parallel=True)
def tree_advance(nodes, L, M, S, rows, new, add, b, a_rows, scale):  # pragma: no cover
    """The tree's share of a training step, one pass per tree (trees in parallel).

    For each changed neuron rows[j]: the new inner product is leaf + new[i, j] if
    `add` (implicit pre-activations: new holds the change) else new[i, j]; the flip of
    its firing state and the change of the output scale a_rows[j] (relu(new - b) -
    relu(old - b)) are accumulated, and the leaf is written with its ancestors
    refreshed as in `tree_set_leaves`, from the one read of its cache line. Returns
    (flips, f_change, inner nodes recomputed). Cost O(n |rows| log m) at worst.
    """
    n = nodes.shape[0]
    k = rows.shape[0]
    flips = np.zeros(n, np.int64)
    df = np.zeros(n)
    visits = np.zeros(n, np.int64)
    for i in prange(n):
        row = nodes[i]
        src = new[i]
        fl = 0
        acc = 0.0
        vi = 0
        ahead = 0.0
        for j in range(k):
            # an early read of the cache line PREFETCH rows ahead, so that its miss
            # overlaps this row's work (the value itself is not used)
            ahead += row[L + rows[j + PREFETCH if j + PREFETCH < k else k - 1]]
            c, old, val = _write_leaf(row, L, M, S, rows[j], src[j], add)
            vi += c
            was = old > b
            now = val > b
            if now:
                acc += a_rows[j] * (val - b)
            if was:
                acc -= a_rows[j] * (old - b)
            fl += was != now
        flips[i] = fl
        df[i] = acc * scale
        visits[i] = vi + np.int64(ahead * 0.0 != 0.0)
    return flips, df, visits.sum()
