"""Compiled kernels of the fire-set layouts: threshold passes and layout conversions.

The fire sets S_i = {r : <w_r, x_i> > b} are held in two sparse layouts:

* input-major CSR (``indptr`` of length n + 1, ``indices`` the neurons of S_i, sorted);
* neuron-major patterns over the union U of the fire sets (``union`` the sorted neuron
  ids, ``nptr`` of length |U| + 1, ``ninputs`` the inputs that fire neuron union[j],
  sorted).

nnz = sum_i |S_i| throughout; every other kernel module reads these layouts.

=======================  ==========================================================
``stream_block``         threshold B neurons' pre-activations (B x n, in cache) into
                         neuron-major patterns and outputs, O(B n)
``dense_fire_rows``      fire sets and outputs from dense P (n x m), O(n m)
``rows_to_csr``          pack capped per-input rows into CSR, O(nnz)
``union_patterns``       input-major CSR -> neuron-major, O(nnz + |U| log |U|)
``patterns_to_csr``      neuron-major -> input-major CSR with values: the one
                         counting-sort transpose of a CSR (the deep net's pending
                         terms use it too), O(n + nnz)
``csr_flip_counts``      |S_i sym-diff S'_i| of two CSR fire sets, O(nnz + nnz')
``pattern_flip_counts``  the same from two neuron-major patterns,
                         O(|U| + |U'| + nnz + nnz')
``transpose_into``       dense transpose in tiles (a neuron-major block to
                         input-major and back), O(size)
=======================  ==========================================================
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "csr_flip_counts",
    "dense_fire_rows",
    "pattern_flip_counts",
    "patterns_to_csr",
    "rows_to_csr",
    "stream_block",
    "transpose_into",
    "union_patterns",
]


@njit(cache=True, parallel=True)
def dense_fire_rows(P, b, a, scale, cap):  # pragma: no cover - compiled
    """Fire sets and outputs from dense pre-activations P (n x m, input-major), one pass.

    Row i writes its first `cap` neurons with P[i, r] > b to out[i] and counts all of
    them in sizes[i] (a caller seeing sizes[i] > cap repeats with a larger cap);
    f_i = scale * sum_r a_r max(P[i, r] - b, 0). Rows in parallel. Cost O(n m).
    Returns (sizes, out, f).
    """
    n, m = P.shape
    sizes = np.zeros(n, np.int64)
    out = np.empty((n, cap), np.int64)
    f = np.zeros(n)
    for i in prange(n):
        c = 0
        s = 0.0
        row = P[i]
        for r in range(m):
            v = row[r] - b
            if v > 0.0:
                if c < cap:
                    out[i, c] = r
                c += 1
                s += a[r] * v
        sizes[i] = c
        f[i] = s * scale
    return sizes, out, f


@njit(cache=True)
def stream_block(PT, b, a, offset, k0, e0, union, nptr, ninputs, values, rows,
                 keep_rows, f):  # pragma: no cover - compiled
    """Append the neuron-major fire patterns of neurons offset .. offset + B - 1.

    PT (B x n) holds their pre-activations, row r for neuron offset + r. Each neuron
    that fires on some input is appended at union[k0 + j] with its inputs and
    activations max(p - b, 0) at ninputs/values[e0 + ...] (nptr[k0 + j + 1] its end),
    and, if `keep_rows`, its whole row of pre-activations at rows[k0 + j]; f
    accumulates a_r max(p - b, 0) per input. Two passes over the block while it is in
    cache: a branch-free count (it vectorises), then the fired rows only.

    Returns (kb, eb, done): the neurons and entries of the block; done is False, and
    nothing is written, when an output array is too small (the caller grows it and
    calls again). Cost O(B n).
    """
    B, n = PT.shape
    counts = np.empty(B, np.int64)
    kb = 0
    eb = 0
    for r in range(B):
        row = PT[r]
        cnt = 0
        for i in range(n):
            cnt += row[i] > b
        counts[r] = cnt
        if cnt > 0:
            kb += 1
            eb += cnt
    if (k0 + kb > union.shape[0] or e0 + eb > ninputs.shape[0]
            or (keep_rows and k0 + kb > rows.shape[0])):
        return kb, eb, False
    j = k0
    e = e0
    for r in range(B):
        if counts[r] == 0:
            continue
        row = PT[r]
        ar = a[offset + r]
        for i in range(n):
            v = row[i] - b
            if v > 0.0:
                ninputs[e] = i
                values[e] = v
                f[i] += ar * v
                e += 1
        union[j] = offset + r
        nptr[j + 1] = e
        if keep_rows:
            rows[j, :] = row
        j += 1
    return kb, eb, True


@njit(cache=True)
def pattern_flip_counts(ua, pa, ia, ub, pb, ib, n):  # pragma: no cover - compiled
    """|S_i symmetric-difference S'_i| per input from two neuron-major patterns
    (sorted union ids ua/ub, pointers pa/pb, sorted inputs ia/ib), by one merge.
    Cost O(|U| + |U'| + nnz + nnz')."""
    out = np.zeros(n, np.int64)
    ka = ua.shape[0]
    kb = ub.shape[0]
    x = 0
    y = 0
    while x < ka or y < kb:
        if y >= kb or (x < ka and ua[x] < ub[y]):
            for p in range(pa[x], pa[x + 1]):
                out[ia[p]] += 1
            x += 1
        elif x >= ka or ub[y] < ua[x]:
            for q in range(pb[y], pb[y + 1]):
                out[ib[q]] += 1
            y += 1
        else:
            p = pa[x]
            pe = pa[x + 1]
            q = pb[y]
            qe = pb[y + 1]
            while p < pe or q < qe:
                if q >= qe or (p < pe and ia[p] < ib[q]):
                    out[ia[p]] += 1
                    p += 1
                elif p >= pe or ib[q] < ia[p]:
                    out[ib[q]] += 1
                    q += 1
                else:
                    p += 1
                    q += 1
            x += 1
            y += 1
    return out


@njit(cache=True)
def patterns_to_csr(union, nptr, ninputs, values, n):  # pragma: no cover - compiled
    """Input-major CSR (indptr, indices, data) of neuron-major patterns: the fire
    sets S_i, sorted, with the entries' values. Cost O(n + nnz)."""
    nnz = ninputs.shape[0]
    indptr = np.zeros(n + 1, np.int64)
    for e in range(nnz):
        indptr[ninputs[e] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:n].copy()
    indices = np.empty(nnz, np.int64)
    data = np.empty(nnz)
    for j in range(union.shape[0]):
        r = union[j]
        for p in range(nptr[j], nptr[j + 1]):
            i = ninputs[p]
            indices[fill[i]] = r
            data[fill[i]] = values[p]
            fill[i] += 1
    return indptr, indices, data


@njit(cache=True)
def union_patterns(indptr, indices, slot):  # pragma: no cover - compiled
    """Neuron-major view of input-major fire sets, over their union only.

    `slot` is caller-owned scratch of length m filled with -1; it is returned to
    that state, so the cost does not depend on m: O(nnz + |U| log |U|).

    Returns (union, nptr, ninputs, pos) where pos[k] is the position in `ninputs`
    of CSR entry k (so a per-entry value can be moved between layouts).
    """
    n = indptr.shape[0] - 1
    nnz = indices.shape[0]
    union = np.empty(nnz, np.int64)
    k = 0
    for e in range(nnz):
        r = indices[e]
        if slot[r] < 0:
            slot[r] = 0
            union[k] = r
            k += 1
    union = np.sort(union[:k])
    for j in range(k):
        slot[union[j]] = j
    nptr = np.zeros(k + 1, np.int64)
    for e in range(nnz):
        nptr[slot[indices[e]] + 1] += 1
    for j in range(k):
        nptr[j + 1] += nptr[j]
    fill = nptr[:k].copy()
    ninputs = np.empty(nnz, np.int64)
    pos = np.empty(nnz, np.int64)
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = slot[indices[e]]
            ninputs[fill[j]] = i
            pos[e] = fill[j]
            fill[j] += 1
    for j in range(k):
        slot[union[j]] = -1
    return union, nptr, ninputs, pos


@njit(cache=True)
def csr_flip_counts(indptr_a, indices_a, indptr_b, indices_b):  # pragma: no cover
    """|A_i symmetric-difference B_i| for two input-major CSR fire sets (sorted rows).

    Cost O(nnz_a + nnz_b).
    """
    n = indptr_a.shape[0] - 1
    out = np.zeros(n, np.int64)
    for i in range(n):
        p = indptr_a[i]
        pe = indptr_a[i + 1]
        q = indptr_b[i]
        qe = indptr_b[i + 1]
        common = 0
        while p < pe and q < qe:
            x = indices_a[p]
            y = indices_b[q]
            if x == y:
                common += 1
                p += 1
                q += 1
            elif x < y:
                p += 1
            else:
                q += 1
        out[i] = (indptr_a[i + 1] - indptr_a[i]) + (indptr_b[i + 1] - indptr_b[i]) - 2 * common
    return out


@njit(cache=True)
def rows_to_csr(sizes, out):  # pragma: no cover - compiled
    """Pack the first sizes[t] entries of each row of `out` into CSR. Cost O(nnz)."""
    nt = sizes.shape[0]
    indptr = np.zeros(nt + 1, np.int64)
    for t in range(nt):
        indptr[t + 1] = indptr[t] + sizes[t]
    indices = np.empty(indptr[nt], out.dtype)
    for t in range(nt):
        indices[indptr[t]:indptr[t + 1]] = out[t, :sizes[t]]
    return indptr, indices


@njit(cache=True, parallel=True)
def transpose_into(src, dst):  # pragma: no cover - compiled
    """dst[:] = src.T in cache-sized tiles, in parallel. Cost O(size)."""
    rows, cols = src.shape
    tile = 64
    ntiles = (rows + tile - 1) // tile
    for bt in prange(ntiles):
        r0 = bt * tile
        r1 = min(r0 + tile, rows)
        for c0 in range(0, cols, tile):
            c1 = min(c0 + tile, cols)
            for r in range(r0, r1):
                for c in range(c0, c1):
                    dst[c, r] = src[r, c]
