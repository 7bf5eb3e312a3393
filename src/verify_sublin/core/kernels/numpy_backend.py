"""Hot kernels of the numpy backend, compiled with numba.

Everything here works on plain numpy arrays in two sparse layouts of the fire sets:

* input-major CSR (``indptr`` of length n + 1, ``indices`` the neurons of S_i, sorted);
* neuron-major patterns over the union U of the fire sets (``union`` the sorted neuron
  ids, ``nptr`` of length |U| + 1, ``ninputs`` the inputs that fire neuron union[j],
  sorted).

nnz = sum_i |S_i| throughout. Each kernel states its cost. The algorithms above this
module never loop over neurons or inputs in Python; the array-API kernels of
`kernels.array_api` (dense masks, for other namespaces) are the reference they are
tested against.

Why numba: the tree descent and the per-neuron scatter loops have no vectorised
numpy form of the same cost (a level-by-level numpy version of the tree query and
update, measured earlier, was several times slower).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "add_jt_rows",
    "advance_columns",
    "cache_advance",
    "csr_flip_counts",
    "dense_fire_rows",
    "gather_columns_t",
    "gram_counts",
    "gram_weighted",
    "implicit_delta",
    "inner_products_rows",
    "jacobian_apply",
    "jt_apply",
    "move_rows",
    "pattern_flip_counts",
    "patterns_from_bits",
    "patterns_to_csr",
    "removal_moves",
    "rows_bits",
    "rows_to_csr",
    "scatter_columns_t",
    "second_layer_apply",
    "stream_block",
    "threshold_block",
    "transpose_into",
    "tree_block_levels",
    "tree_query",
    "tree_set_leaves",
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
def threshold_block(Pb, b, a, offset, sizes, out, vals, f):  # pragma: no cover - compiled
    """Accumulate fire sets and outputs of neurons offset .. offset + B - 1.

    Pb (n x B) holds their pre-activations. Appends r > b to out[i] and its activation
    max(Pb[i, r] - b, 0) to vals[i] (up to their capacity; sizes[i] counts all) and
    adds sum_r a_r max(Pb[i, r] - b, 0) to f[i]. Cost O(n B).
    """
    n, B = Pb.shape
    cap = out.shape[1]
    for i in range(n):
        c = sizes[i]
        s = 0.0
        row = Pb[i]
        for r in range(B):
            v = row[r] - b
            if v > 0.0:
                if c < cap:
                    out[i, c] = offset + r
                    vals[i, c] = v
                c += 1
                s += a[offset + r] * v
        sizes[i] = c
        f[i] += s


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


@njit(cache=True, parallel=True)
def gram_counts(nptr, ninputs, weights, n, parts=8):  # pragma: no cover - compiled
    """C[i, j] = sum over neurons r in S_i intersect S_j of weights[r] (neuron-major).

    With weights a_r^2 this is m / <x_i, x_j> times the Gram of the first-layer
    Jacobian; with ones, |S_i intersect S_j|. Neurons in `parts` parallel chunks,
    each with its own n x n counts. Cost O(sum_r |p_r|^2 + parts n^2).
    """
    k = nptr.shape[0] - 1
    Cp = np.zeros((parts, n, n))
    for c in prange(parts):
        C = Cp[c]
        for j in range((k * c) // parts, (k * (c + 1)) // parts):
            lo = nptr[j]
            hi = nptr[j + 1]
            w = weights[j]
            for p in range(lo, hi):
                ip = ninputs[p]
                C[ip, ip] += w
                for q in range(p + 1, hi):
                    iq = ninputs[q]
                    C[ip, iq] += w
                    C[iq, ip] += w
    out = np.zeros((n, n))
    for c in range(parts):
        out += Cp[c]
    return out


@njit(cache=True)
def jt_apply(nptr, ninputs, row_coef, v, X):  # pragma: no cover - compiled
    """J^T v on the union rows: out[j] = row_coef[j] * sum_{i in pattern j} v_i x_i.

    With row_coef[j] = a_r / sqrt(m) this is block r = union[j] of J^T v (the other
    blocks are zero). Result |U| x d. Cost O(nnz d).
    """
    k = nptr.shape[0] - 1
    d = X.shape[1]
    out = np.zeros((k, d))
    for j in range(k):
        for p in range(nptr[j], nptr[j + 1]):
            i = ninputs[p]
            c = v[i]
            for t in range(d):
                out[j, t] += c * X[i, t]
        for t in range(d):
            out[j, t] *= row_coef[j]
    return out


@njit(cache=True)
def add_jt_rows(W, union, nptr, ninputs, row_coef, v, X):  # pragma: no cover - compiled
    """W[union[j]] += row_coef[j] * sum_{i in pattern j} v_i x_i, in place.

    The update W <- W + J^T v restricted to the union (no other row changes), with
    row_coef[j] = a_r / sqrt(m) times the step's sign and size. Cost O(nnz d), no
    allocation.
    """
    k = nptr.shape[0] - 1
    d = X.shape[1]
    acc = np.empty(d)
    for j in range(k):
        acc[:] = 0.0
        for p in range(nptr[j], nptr[j + 1]):
            i = ninputs[p]
            c = v[i]
            for t in range(d):
                acc[t] += c * X[i, t]
        r = union[j]
        c = row_coef[j]
        for t in range(d):
            W[r, t] += c * acc[t]


@njit(cache=True)
def jacobian_apply(nptr, ninputs, coef_rows, U, X, n):  # pragma: no cover - compiled
    """(J u)_i = sum_{j : i in pattern j} coef_rows[j] <U[j], x_i>   (n,).

    `U` holds the union rows of u (|U| x d); coef_rows[j] = a_r / sqrt(m).
    Cost O(nnz d).
    """
    k = nptr.shape[0] - 1
    d = X.shape[1]
    out = np.zeros(n)
    for j in range(k):
        c = coef_rows[j]
        for p in range(nptr[j], nptr[j + 1]):
            i = ninputs[p]
            s = 0.0
            for t in range(d):
                s += U[j, t] * X[i, t]
            out[i] += c * s
    return out


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


@njit(cache=True)
def gram_weighted(nptr, ninputs, vals, n):  # pragma: no cover - compiled
    """C[i, j] = sum_r phi_ir phi_jr over neuron-major patterns with values phi.

    (J_a J_a^T = C / m for the second-layer Jacobian.) Cost O(sum_r |p_r|^2)."""
    C = np.zeros((n, n))
    for j in range(nptr.shape[0] - 1):
        for p in range(nptr[j], nptr[j + 1]):
            ip = ninputs[p]
            vp = vals[p]
            for q in range(nptr[j], nptr[j + 1]):
                C[ip, ninputs[q]] += vp * vals[q]
    return C


@njit(cache=True)
def second_layer_apply(nptr, ninputs, vals, v):  # pragma: no cover - compiled
    """out[j] = sum_{p in pattern j} vals[p] v[ninputs[p]]: J_a^T v on the union
    (times sqrt(m)). Cost O(nnz)."""
    k = nptr.shape[0] - 1
    out = np.zeros(k)
    for j in range(k):
        s = 0.0
        for p in range(nptr[j], nptr[j + 1]):
            s += vals[p] * v[ninputs[p]]
        out[j] = s
    return out


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


