"""Compiled kernels of the half-space reporting tree (`verify_sublin.core.halfspace`).

The tree is a kd-tree in heap order over the m weight vectors: node 1 the root,
children of k at 2k and 2k + 1, leaves L .. 2L - 1 (L a power of two). Node k owns the
contiguous range ``start[k] .. start[k + 1 of its level]`` of the permuted points; its
bounding box is ``lo[k], hi[k]``. Each kernel states its cost.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["hsr_build", "hsr_query", "hsr_scan"]


@njit(cache=True)
def _split_range(pts, perm, s, e, k):
    """Reorder pts[s:e] (and perm) so that the k smallest values of the widest
    coordinate come first. Cost O((e - s) d) expected (one partition + one pass)."""
    d = pts.shape[1]
    best, dim = -1.0, 0
    for j in range(d):
        a, b = np.inf, -np.inf
        for i in range(s, e):
            v = pts[i, j]
            a = min(a, v)
            b = max(b, v)
        if b - a > best:
            best, dim = b - a, j
    vals = pts[s:e, dim].copy()
    med = np.partition(vals, k)[k]
    # three-way stable placement: < med, == med, > med
    n = e - s
    order = np.empty(n, np.int64)
    p = 0
    for i in range(n):
        if vals[i] < med:
            order[p] = i
            p += 1
    for i in range(n):
        if vals[i] == med:
            order[p] = i
            p += 1
    for i in range(n):
        if vals[i] > med:
            order[p] = i
            p += 1
    tmp = pts[s:e].copy()
    tperm = perm[s:e].copy()
    for i in range(n):
        pts[s + i] = tmp[order[i]]
        perm[s + i] = tperm[order[i]]


@njit(cache=True)
def hsr_build(pts, perm, depth):
    """Build the kd-tree in place: permute pts (m, d) and perm, return (rng, lo, hi).

    rng[k] = (first, end) of heap node k's points (shape (2L, 2), L = 2^depth), lo[k]
    and hi[k] its bounding box. Each level splits every node's range at its floor
    midpoint along its widest coordinate.
    Cost O(m d depth) expected (a linear-time partition per node per level)."""
    m, d = pts.shape
    L = 1 << depth
    rng = np.empty((2 * L, 2), np.int64)
    rng[1, 0], rng[1, 1] = 0, m
    for level in range(depth):
        for k in range(1 << level, 1 << (level + 1)):
            s, e = rng[k, 0], rng[k, 1]
            mid = s + (e - s) // 2
            if e - s >= 2:
                _split_range(pts, perm, s, e, mid - s)
            rng[2 * k, 0], rng[2 * k, 1] = s, mid
            rng[2 * k + 1, 0], rng[2 * k + 1, 1] = mid, e
    lo = np.full((2 * L, d), np.inf)
    hi = np.full((2 * L, d), -np.inf)
    for k in range(L, 2 * L):
        for i in range(rng[k, 0], rng[k, 1]):
            for j in range(d):
                lo[k, j] = min(lo[k, j], pts[i, j])
                hi[k, j] = max(hi[k, j], pts[i, j])
    for k in range(L - 1, 0, -1):
        for j in range(d):
            lo[k, j] = min(lo[2 * k, j], lo[2 * k + 1, j])
            hi[k, j] = max(hi[2 * k, j], hi[2 * k + 1, j])
    return rng, lo, hi


@njit(cache=True)
def hsr_query(pts, perm, rng, lo, hi, x, b, out):
    """Report {perm[i] : <pts[i], x> > b} into out; return (k, node visits, points tested).

    Descends only into nodes whose box meets the open half-space (max of <w, x> over
    the box > b); a node whose whole box lies inside (min > b) is reported without
    descending; a leaf that the hyperplane cuts has its points tested one by one.
    Cost O(visits + tested d + k), visits <= 2L - 1 and tested <= m."""
    d = pts.shape[1]
    L = rng.shape[0] // 2
    stack = np.empty(64, np.int64)
    stack[0] = 1
    top = 1
    k = 0
    visits = 0
    tested = 0
    while top > 0:
        top -= 1
        node = stack[top]
        visits += 1
        if rng[node, 1] <= rng[node, 0]:
            continue
        smax = 0.0
        smin = 0.0
        for j in range(d):
            a = x[j] * lo[node, j]
            c = x[j] * hi[node, j]
            if a > c:
                smax += a
                smin += c
            else:
                smax += c
                smin += a
        if smax <= b:
            continue
        if smin > b:
            for i in range(rng[node, 0], rng[node, 1]):
                out[k] = perm[i]
                k += 1
            continue
        if node >= L:
            for i in range(rng[node, 0], rng[node, 1]):
                tested += 1
                s = 0.0
                for j in range(d):
                    s += pts[i, j] * x[j]
                if s > b:
                    out[k] = perm[i]
                    k += 1
            continue
        stack[top] = 2 * node + 1
        stack[top + 1] = 2 * node
        top += 2
    return k, visits, tested


@njit(cache=True)
def hsr_scan(W, x, b, out):
    """Full scan: {r : <W[r], x> > b} into out (increasing r); return k. Cost O(m d)."""
    m, d = W.shape
    k = 0
    for r in range(m):
        s = 0.0
        for j in range(d):
            s += W[r, j] * x[j]
        if s > b:
            out[k] = r
            k += 1
    return k
