"""Hot kernels of the numpy backend, compiled with numba.

Everything here works on plain numpy arrays in two sparse layouts of the fire sets:

* input-major CSR (``indptr`` of length n + 1, ``indices`` the neurons of S_i, sorted);
* neuron-major patterns over the union U of the fire sets (``union`` the sorted neuron
  ids, ``nptr`` of length |U| + 1, ``ninputs`` the inputs that fire neuron union[j],
  sorted).

nnz = sum_i |S_i| throughout. Each kernel states its cost. The algorithms above this
module never loop over neurons or inputs in Python; a generic array-API version of the
kernels (for other namespaces) is the reference they are tested against.

Why numba: the tree descent and the per-neuron scatter loops have no vectorised
numpy form of the same cost (see the note of the core issue for the measured
numbers: the vectorised level-by-level tree update is several times slower).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "add_jt_rows",
    "compact_inplace",
    "csr_flip_counts",
    "dense_fire_rows",
    "gram_counts",
    "implicit_delta",
    "jacobian_apply",
    "jt_apply",
    "rows_to_csr",
    "threshold_block",
    "threshold_rows",
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
def threshold_block(Pb, b, a, offset, sizes, out, f):  # pragma: no cover - compiled
    """Accumulate fire sets and outputs of neurons offset .. offset + B - 1.

    Pb (n x B) holds their pre-activations. Appends r > b to out[i] (up to its
    capacity; sizes[i] counts all) and adds sum_r a_r max(Pb[i, r] - b, 0) to f[i].
    Cost O(n B).
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
                c += 1
                s += a[offset + r] * v
        sizes[i] = c
        f[i] += s


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
def gram_counts(nptr, ninputs, n):  # pragma: no cover - compiled
    """C[i, j] = |S_i intersect S_j| from neuron-major patterns. Cost O(sum_r |p_r|^2)."""
    C = np.zeros((n, n))
    k = nptr.shape[0] - 1
    for j in range(k):
        lo = nptr[j]
        hi = nptr[j + 1]
        for p in range(lo, hi):
            ip = ninputs[p]
            C[ip, ip] += 1.0
            for q in range(p + 1, hi):
                iq = ninputs[q]
                C[ip, iq] += 1.0
                C[iq, ip] += 1.0
    return C


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
    indices = np.empty(indptr[nt], np.int64)
    for t in range(nt):
        indices[indptr[t]:indptr[t + 1]] = out[t, :sizes[t]]
    return indptr, indices


@njit(cache=True)
def tree_set_leaves(nodes, M, rows, values):  # pragma: no cover - compiled
    """Write leaf `rows[j]` of every tree i to values[i, j] and refresh its ancestors.

    Ancestors are recomputed bottom-up and the walk stops as soon as a recomputed
    max equals the stored one (everything above is then unchanged). Returns the
    number of inner nodes recomputed. Cost O(n |rows| log m) in the worst case.
    """
    n = nodes.shape[0]
    visits = 0
    for i in range(n):
        row = nodes[i]
        for j in range(rows.shape[0]):
            node = M + rows[j]
            row[node] = values[i, j]
            node >>= 1
            while node >= 1:
                left = row[2 * node]
                right = row[2 * node + 1]
                best = left if left >= right else right
                visits += 1
                if row[node] == best:
                    break
                row[node] = best
                node >>= 1
    return visits


@njit(cache=True)
def implicit_delta(nptr, ninputs, row_coef, v, K, acc):  # pragma: no cover - compiled
    """Change of the cached pre-activations of the union rows, without touching W.

    For the update w_r += row_coef[j] * sum_{i in pattern j} v_i x_i (r = union[j]),
    <w_r, x_t> changes by dP[j, t] = row_coef[j] * sum_{i in pattern j} v_i K[i, t]
    with K = X X^T. Also acc[j, i] += row_coef[j] v_i: the accumulated coefficients A
    with W_U = W_U(0) + A X, from which W can be materialised when asked for.
    Result |U| x n. Cost O(nnz n).
    """
    k = nptr.shape[0] - 1
    n = K.shape[0]
    dP = np.zeros((k, n))
    for j in range(k):
        cj = row_coef[j]
        for p in range(nptr[j], nptr[j + 1]):
            i = ninputs[p]
            c = cj * v[i]
            acc[j, i] += c
            Ki = K[i]
            for t in range(n):
                dP[j, t] += c * Ki[t]
    return dP


@njit(cache=True)
def threshold_rows(P_old, P_new, b, a_rows, scale):  # pragma: no cover - compiled
    """Compare neuron-major pre-activations before/after a step (|U| x n each).

    Returns (nptr, ninputs, flips, df, alive): the new patterns, per-input flip
    counts |S_i(t+1) symmetric-difference S_i(t)| restricted to these rows, the change
    of the outputs scale * sum_j a_j (relu(new - b) - relu(old - b)), and whether each
    row still fires on some input. Cost O(|U| n).
    """
    k, n = P_new.shape
    nptr = np.zeros(k + 1, np.int64)
    flips = np.zeros(n, np.int64)
    df = np.zeros(n)
    alive = np.zeros(k, np.bool_)
    for j in range(k):
        c = 0
        aj = a_rows[j]
        for i in range(n):
            new = P_new[j, i] - b
            old = P_old[j, i] - b
            on_new = new > 0.0
            if on_new:
                c += 1
                df[i] += aj * new
            if old > 0.0:
                df[i] -= aj * old
                if not on_new:
                    flips[i] += 1
            elif on_new:
                flips[i] += 1
        nptr[j + 1] = nptr[j] + c
        alive[j] = c > 0
    ninputs = np.empty(nptr[k], np.int64)
    for j in range(k):
        e = nptr[j]
        for i in range(n):
            if P_new[j, i] > b:
                ninputs[e] = i
                e += 1
    return nptr, ninputs, flips, df * scale, alive


@njit(cache=True)
def compact_inplace(A, keep):  # pragma: no cover - compiled
    """A[w] = A[keep[w]] for increasing `keep`, in place (rows of a 2-d array or
    entries of a 1-d one). Cost O(|keep| * row length)."""
    for w in range(keep.shape[0]):
        j = keep[w]
        if j != w:
            A[w] = A[j]
