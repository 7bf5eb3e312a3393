"""Compiled kernels of the sublinear method's cached inner products (`trainers.sublinear`).

The tree-free cache keeps the inner products <w_r, x_i> of the live union neuron-major
(P, |U| x n, row j for neuron union[j]) with their fire patterns as bit words (bit
i % 64 of word [j, i // 64]); the tree and scan caches keep them input-major (the
tree's leaves, or an n x m array) and exchange the changed neurons' columns through
n x k buffers. A step advances the changed neurons' inner products, explicitly from W
(n d each) or implicitly from K = X X^T (n per entry of the pattern), re-thresholds
them, and reports the flips and the change of the outputs. Layouts as in
`fireset_kernels`.

=======================  =========================================================
``implicit_delta``       change of the union rows' inner products from K, O(nnz n)
``inner_products_rows``  explicit refresh <W[rows[j]], x_i>, O(|rows| n d)
``cache_advance``        the tree-free cache's fused pass: update, refresh,
                         re-threshold, bit words, flips and outputs,
                         O(nnz n) or O(|U| n d), plus O(|U| n)
``rows_bits``            bit words of neuron-major rows, O(k n)
``patterns_from_bits``   neuron-major patterns from the bit words, O(k + nnz)
``removal_moves``        swap-remove plan for the rows that stopped firing, O(k)
``move_rows``            that plan applied to one array, O(moves x row length)
``gather_columns_t``     the changed columns of an input-major cache, O(n |rows|)
``scatter_columns_t``    the changed columns written back, O(n |rows|)
``advance_columns``      the input-major advance (tree and scan caches): flips and
                         change of the outputs, O(n k)
=======================  =========================================================
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "advance_columns",
    "cache_advance",
    "gather_columns_t",
    "implicit_delta",
    "inner_products_rows",
    "move_rows",
    "patterns_from_bits",
    "removal_moves",
    "rows_bits",
    "scatter_columns_t",
]


@njit(cache=True, parallel=True)
def rows_bits(P, b):  # pragma: no cover - compiled
    """Fire patterns of neuron-major rows P (k x n) as bit words: bit i % 64 of
    word [j, i // 64] is set when P[j, i] > b. Rows in parallel. Cost O(k n)."""
    k, n = P.shape
    nwords = max(1, (n + 63) // 64)
    bits = np.zeros((k, nwords), np.uint64)
    for j in prange(k):
        row = P[j]
        for i in range(n):
            if row[i] > b:
                bits[j, i // 64] |= np.uint64(1) << np.uint64(i % 64)
    return bits


@njit(cache=True)
def implicit_delta(nptr, ninputs, row_coef, v, K, out):  # pragma: no cover
    """Change of the cached pre-activations of the union rows, without touching W.

    For the update w_r += row_coef[j] * sum_{i in pattern j} v_i x_i (r = union[j]),
    <w_r, x_t> changes by out[j, t] = row_coef[j] * sum_{i in pattern j} v_i K[i, t]
    with K = X X^T. `out` is caller-owned (at least |U| x n rows). Cost O(nnz n).
    """
    k = nptr.shape[0] - 1
    n = K.shape[0]
    for j in range(k):
        cj = row_coef[j]
        row = out[j]
        row[:] = 0.0
        for p in range(nptr[j], nptr[j + 1]):
            i = ninputs[p]
            c = cj * v[i]
            Ki = K[i]
            for t in range(n):
                row[t] += c * Ki[t]


@njit(cache=True, parallel=True)
def inner_products_rows(W, rows, XT, out):  # pragma: no cover - compiled
    """out[j, i] = <W[rows[j]], x_i>: the explicit refresh of changed neurons.

    XT is X^T (d x n, contiguous): each row is d axpys of length n, which vectorise.
    Cost O(|rows| n d), rows in parallel, no allocation (a BLAS product would need
    a gathered copy of W[rows] first).
    """
    d, n = XT.shape
    for j in prange(rows.shape[0]):
        r = rows[j]
        row = out[j]
        row[:] = 0.0
        for t in range(d):
            c = W[r, t]
            for i in range(n):
                row[i] += c * XT[t, i]


@njit(cache=True, inline="always")
def _ctz(x):  # pragma: no cover - compiled
    """Index of the lowest set bit of a nonzero uint64 (binary search, 6 steps)."""
    i = 0
    if (x & np.uint64(0xFFFFFFFF)) == np.uint64(0):
        i += 32
        x >>= np.uint64(32)
    if (x & np.uint64(0xFFFF)) == np.uint64(0):
        i += 16
        x >>= np.uint64(16)
    if (x & np.uint64(0xFF)) == np.uint64(0):
        i += 8
        x >>= np.uint64(8)
    if (x & np.uint64(0xF)) == np.uint64(0):
        i += 4
        x >>= np.uint64(4)
    if (x & np.uint64(0x3)) == np.uint64(0):
        i += 2
        x >>= np.uint64(2)
    if (x & np.uint64(0x1)) == np.uint64(0):
        i += 1
    return i


@njit(cache=True, parallel=True)
def cache_advance(P, W, union, nptr, ninputs, row_coef, v, X, XT, K, implicit,
                  b, a_rows, scale, bits, parts):  # pragma: no cover - compiled
    """One fused pass of the tree-free step over the live rows (neuron-major cache).

    For each live neuron r = union[j] (row j of P, |U| x n), apply the update
    w_r += row_coef[j] * sum_{i in pattern j} v_i x_i and bring P[j] to the new
    inner products, either implicitly (P[j] += row_coef[j] sum_i v_i K[i], n per
    nonzero, W untouched) or explicitly (W[r] is updated and P[j] = X w_r
    recomputed from XT = X^T, n d per neuron). While the row is in cache, record the new fire
    pattern as bit words (bits[j, i // 64], which must hold the old pattern on
    entry), the per-row counts, per-input flips and the outputs' new sum. Rows are
    split into `parts` chunks processed in parallel, each with its own accumulators.
    Returns (counts, flips, f). Cost O(nnz n) or O(|U| n d), plus O(|U| n); P is
    read and written once.
    """
    k, n = P.shape[0], P.shape[1]
    d = X.shape[1]
    nwords = bits.shape[1]
    bounds = np.empty(parts + 1, np.int64)
    for c in range(parts + 1):
        bounds[c] = (k * c) // parts
    counts = np.zeros(k, np.int64)
    flips_p = np.zeros((parts, n), np.int64)
    f_p = np.zeros((parts, n))
    for c in prange(parts):
        w = np.empty(d)
        fl = np.zeros(n, np.int64)
        fp = np.zeros(n)
        for j in range(bounds[c], bounds[c + 1]):
            cj = row_coef[j]
            row = P[j]
            if implicit:
                for p in range(nptr[j], nptr[j + 1]):
                    i = ninputs[p]
                    coef = cj * v[i]
                    for t in range(n):
                        row[t] += coef * K[i, t]
            else:
                r = union[j]
                for t in range(d):
                    w[t] = 0.0
                for p in range(nptr[j], nptr[j + 1]):
                    i = ninputs[p]
                    for t in range(d):
                        w[t] += v[i] * X[i, t]
                for i in range(n):
                    row[i] = 0.0
                for t in range(d):
                    W[r, t] += cj * w[t]
                    c2 = W[r, t]
                    for i in range(n):
                        row[i] += c2 * XT[t, i]
            cnt = 0
            aj = a_rows[j]
            for q in range(nwords):
                lo = q * 64
                hi = min(n, lo + 64)
                word = np.uint64(0)
                for i in range(lo, hi):
                    if row[i] > b:        # rare: a predictable branch, no bit tricks
                        word |= np.uint64(1) << np.uint64(i - lo)
                changed = word ^ bits[j, q]
                bits[j, q] = word
                while word != np.uint64(0):
                    low = word & (~word + np.uint64(1))
                    i = lo + _ctz(low)
                    fp[i] += aj * (row[i] - b)
                    cnt += 1
                    word ^= low
                while changed != np.uint64(0):
                    low = changed & (~changed + np.uint64(1))
                    fl[lo + _ctz(low)] += 1
                    changed ^= low
            counts[j] = cnt
        flips_p[c] = fl
        f_p[c] = fp
    flips = np.zeros(n, np.int64)
    f = np.zeros(n)
    for c in range(parts):
        for i in range(n):
            flips[i] += flips_p[c, i]
            f[i] += f_p[c, i]
    return counts, flips, f * scale


@njit(cache=True, parallel=True)
def patterns_from_bits(bits, counts, k):  # pragma: no cover - compiled
    """Neuron-major patterns (nptr, ninputs) of the first k rows from their bit words.

    Cost O(k + nnz)."""
    nptr = np.zeros(k + 1, np.int64)
    for j in range(k):
        nptr[j + 1] = nptr[j] + counts[j]
    ninputs = np.empty(nptr[k], np.int64)
    nwords = bits.shape[1]
    for j in prange(k):
        e = nptr[j]
        for q in range(nwords):
            word = bits[j, q]
            while word != np.uint64(0):
                low = word & (~word + np.uint64(1))
                ninputs[e] = q * 64 + _ctz(low)
                e += 1
                word ^= low
    return nptr, ninputs


@njit(cache=True)
def removal_moves(counts):  # pragma: no cover - compiled
    """Swap-remove plan for rows with counts == 0: returns (dst, src, kept) such that
    moving row src[q] to dst[q] for every q leaves the live rows in 0 .. kept - 1.
    Cost O(k)."""
    k = counts.shape[0]
    dst = np.empty(k, np.int64)
    src = np.empty(k, np.int64)
    q = 0
    lo = 0
    hi = k - 1
    while True:
        while lo <= hi and counts[lo] > 0:
            lo += 1
        while hi >= lo and counts[hi] == 0:
            hi -= 1
        if lo >= hi:
            break
        dst[q] = lo
        src[q] = hi
        q += 1
        lo += 1
        hi -= 1
    kept = 0
    for j in range(k):
        if counts[j] > 0:
            kept += 1
    return dst[:q], src[:q], kept


@njit(cache=True)
def move_rows(A, dst, src):  # pragma: no cover - compiled
    """A[dst[q]] = A[src[q]] for every q. Cost O(|dst| * row length)."""
    for q in range(dst.shape[0]):
        A[dst[q]] = A[src[q]]


@njit(cache=True, parallel=True)
def gather_columns_t(A, offset, rows, out):  # pragma: no cover - compiled
    """out[i, j] = A[i, offset + rows[j]], inputs in parallel. Cost O(n |rows|)."""
    n = A.shape[0]
    for i in prange(n):
        for j in range(rows.shape[0]):
            out[i, j] = A[i, offset + rows[j]]


@njit(cache=True, parallel=True)
def scatter_columns_t(A, offset, rows, src):  # pragma: no cover - compiled
    """A[i, offset + rows[j]] = src[i, j], inputs in parallel. Cost O(n |rows|)."""
    n = A.shape[0]
    for i in prange(n):
        for j in range(rows.shape[0]):
            A[i, offset + rows[j]] = src[i, j]


@njit(cache=True, parallel=True)
def advance_columns(old, new, add, b, a_rows, scale):  # pragma: no cover - compiled
    """Input-major twin of `advance_rows` for the tree and scan caches (n x k arrays).

    new <- old + new if `add`; returns (flips, f_change) per input where f_change is
    scale * sum_j a_j (relu(new - b) - relu(old - b)). Inputs in parallel. Cost O(n k).
    """
    n, k = old.shape
    flips = np.zeros(n, np.int64)
    df = np.zeros(n)
    for i in prange(n):
        fl = 0
        s = 0.0
        for j in range(k):
            o = old[i, j]
            x = o + new[i, j] if add else new[i, j]
            new[i, j] = x
            on_old = o > b
            on_new = x > b
            if on_new:
                s += a_rows[j] * (x - b)
            if on_old:
                s -= a_rows[j] * (o - b)
            if on_old != on_new:
                fl += 1
        flips[i] = fl
        df[i] = s * scale
    return flips, df
