"""Compiled kernels of the multi-layer sublinear trainer.

Layouts (as in `fireset_kernels`): a layer's fire sets are input-major CSR
(``indptr`` (n + 1,), ``indices`` the sorted neurons of S_l(x_i), and a value per
entry), or neuron-major over their union (``union``, ``nptr``, ``ninputs`` and values
in that order). A hidden weight matrix W_l^0 (m x m) is stored transposed,
``WT[t, r] = W_l^0[r, t]``, so that the column of an input neuron t is a contiguous
row of WT. The accumulated updates of a layer are rank-one terms
coef[k] * u_k v_k^T with u_k, v_k sparse, stored as two CSR arrays (``uptr, uidx,
uval`` and ``vptr, vidx, vval``, one row per term, indices sorted).

nnz_l = sum_i |S_l(x_i)|; U_l the union of the S_l; K the number of pending terms.

=========================  =====================================================
``threshold_rows``         fire sets and activations of Z (n x m), CSR, O(n m)
``segment_sums``           per-row sums of a CSR's values, O(nnz)
``fired_columns_forward``  Z += U W^0^T from the fired columns of W^0 only,
                           m nnz_{l-1} multiply-adds
``fired_rows_backward``    W^0^T D_l on S_{l-1}(x_i) from the fired rows only,
                           sum_i |S_{l-1}(x_i)| |S_l(x_i)| reads
``pending_forward``        the pending terms' part of the forward,
                           O(n (nnz(V) + nnz(U)) + K nnz_{l-1})
``pending_backward``       their part of the backward,
                           O(K (nnz_l + nnz_{l-1}) + n (nnz(U) + nnz(V)))
``merge_terms``            scatter-add of the pending terms into W^0,
                           O(sum_k |u_k| |v_k|) writes + O(m + nnz(V))
``add_outer_rows``         the input layer's update on its fired rows, O(nnz_1 d)
=========================  =====================================================
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .fireset_kernels import patterns_to_csr

__all__ = [
    "add_outer_rows",
    "fired_columns_forward",
    "fired_rows_backward",
    "merge_terms",
    "pending_backward",
    "pending_forward",
    "segment_sums",
    "threshold_rows",
]


@njit(cache=True)
def threshold_rows(Z, b):  # pragma: no cover - compiled
    """Fire sets of the pre-activations Z (n x m) and the activations on them.

    Returns (indptr, indices, values) with indices[indptr[i]:indptr[i+1]] the sorted
    r with Z[i, r] > b and values the matching Z[i, r] - b. Two passes over Z, serial:
    about 1 ns per entry, less than what starting a parallel region costs on a
    loaded machine. Cost O(n m).
    """
    n, m = Z.shape
    counts = np.zeros(n, np.int64)
    for i in range(n):
        c = 0
        for r in range(m):
            if Z[i, r] > b:
                c += 1
        counts[i] = c
    indptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        indptr[i + 1] = indptr[i] + counts[i]
    indices = np.empty(indptr[n], np.int64)
    values = np.empty(indptr[n])
    for i in range(n):
        e = indptr[i]
        for r in range(m):
            v = Z[i, r] - b
            if v > 0.0:
                indices[e] = r
                values[e] = v
                e += 1
    return indptr, indices, values


@njit(cache=True)
def segment_sums(indptr, values):  # pragma: no cover - compiled
    """out[i] = sum of values[indptr[i]:indptr[i+1]]. Cost O(nnz)."""
    n = indptr.shape[0] - 1
    out = np.zeros(n)
    for i in range(n):
        s = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            s += values[e]
        out[i] = s
    return out


@njit(cache=True, parallel=True)
def fired_columns_forward(WT, union, nptr, ninputs, values, Z, chunk):  # pragma: no cover
    """Z[i, :] += sum_{t in S(x_i)} u_i[t] * W^0[:, t]: the product with fired columns only.

    The input neurons are given neuron-major (union t = union[j], the inputs that fire
    it ninputs[nptr[j]:nptr[j+1]] and their activations `values`); W^0[:, t] = WT[t].
    The m output neurons are split into chunks of `chunk`, processed in parallel; each
    chunk streams the segments WT[t, chunk] of the union once and accumulates into a
    local n x chunk buffer (which stays in cache, and which the compiler can vectorise
    into: no aliasing with WT), added to Z at the end. Cost: m nnz multiply-adds,
    m |U| entries of W^0 read.
    """
    n, m = Z.shape
    k = union.shape[0]
    nchunks = (m + chunk - 1) // chunk
    for c in prange(nchunks):
        lo = c * chunk
        hi = min(m, lo + chunk)
        acc = np.zeros((n, hi - lo))
        for j in range(k):
            seg = WT[union[j], lo:hi]
            for p in range(nptr[j], nptr[j + 1]):
                a = acc[ninputs[p]]
                v = values[p]
                for r in range(hi - lo):
                    a[r] += v * seg[r]
        for i in range(n):
            zi = Z[i, lo:hi]
            ai = acc[i]
            for r in range(hi - lo):
                zi[r] += ai[r]


@njit(cache=True, parallel=True)
def fired_rows_backward(WT, indptr, indices, dvals, union, nptr, ninputs, out):  # pragma: no cover
    """out[p] = sum_{r in S_l(x_i)} W^0[r, t] D_l[i, r] for each fired pair (t, i) of layer l-1.

    (t = union[j], i = ninputs[p]): the backpropagated signal of layer l - 1 on its own
    fire sets, read from the fired rows r of S_l(x_i) only. D_l is input-major
    (indptr, indices, dvals). Union entries in parallel. Cost
    sum_i |S_{l-1}(x_i)| |S_l(x_i)| entries of W^0 read (each row WT[t] is visited
    once, for all inputs that fire t).
    """
    k = union.shape[0]
    for j in prange(k):
        row = WT[union[j]]
        for p in range(nptr[j], nptr[j + 1]):
            i = ninputs[p]
            s = 0.0
            for e in range(indptr[i], indptr[i + 1]):
                s += row[indices[e]] * dvals[e]
            out[p] = s


@njit(cache=True, inline="always")
def _sparse_dot(ia, va, lo_a, hi_a, ib, vb, lo_b, hi_b):  # pragma: no cover - compiled
    """<a, b> of two sparse vectors with sorted indices, by merging. Cost O(|a| + |b|)."""
    s = 0.0
    p = lo_a
    q = lo_b
    while p < hi_a and q < hi_b:
        x = ia[p]
        y = ib[q]
        if x == y:
            s += va[p] * vb[q]
            p += 1
            q += 1
        elif x < y:
            p += 1
        else:
            q += 1
    return s


@njit(cache=True, parallel=True)
def pending_forward(coef, uptr, uidx, uval, vptr, vidx, vval,
                    indptr, indices, values, Z):  # pragma: no cover - compiled
    """Z[i, :] += sum_k coef[k] <v_k, u_i> u_k: the pending updates' part of the forward.

    u_i (the layer input of x_i) is input-major (indptr, indices, values). Inputs in
    parallel. Cost O(n sum_k |v_k| + nnz + sum over (k, i) with a nonzero product of
    |u_k|) <= O(n (nnz(V) + nnz(U)) + K nnz).
    """
    n = indptr.shape[0] - 1
    K = coef.shape[0]
    for i in prange(n):
        zi = Z[i]
        for k in range(K):
            s = _sparse_dot(vidx, vval, vptr[k], vptr[k + 1],
                            indices, values, indptr[i], indptr[i + 1])
            if s != 0.0:
                s *= coef[k]
                for e in range(uptr[k], uptr[k + 1]):
                    zi[uidx[e]] += s * uval[e]


@njit(cache=True, parallel=True)
def pending_backward(coef, uptr, uidx, uval, vptr, vidx, vval,
                     indptr, indices, dvals, indptr_in, indices_in, out):  # pragma: no cover
    """out (input-major on the fire sets of layer l - 1) += sum_k coef[k] <u_k, D_l[i]> v_k.

    The pending updates' part of W_l^T D_l, restricted to S_{l-1}(x_i)
    (indptr_in, indices_in). D_l is input-major (indptr, indices, dvals). Inputs in
    parallel. Cost O(K (nnz_l + nnz_{l-1}) + n (nnz(U) + nnz(V))).
    """
    n = indptr.shape[0] - 1
    K = coef.shape[0]
    for i in prange(n):
        for k in range(K):
            s = _sparse_dot(uidx, uval, uptr[k], uptr[k + 1],
                            indices, dvals, indptr[i], indptr[i + 1])
            if s == 0.0:
                continue
            s *= coef[k]
            p = vptr[k]
            q = indptr_in[i]
            while p < vptr[k + 1] and q < indptr_in[i + 1]:
                x = vidx[p]
                y = indices_in[q]
                if x == y:
                    out[q] += s * vval[p]
                    p += 1
                    q += 1
                elif x < y:
                    p += 1
                else:
                    q += 1


@njit(cache=True, parallel=True)
def merge_terms(WT, coef, uptr, uidx, uval, vptr, vidx, vval):  # pragma: no cover
    """W^0 += sum_k coef[k] u_k v_k^T by scatter-add into WT (WT[t, r] += coef v_k[t] u_k[r]).

    Only the entries of the terms' supports are touched: never a dense U V^T. The
    terms are regrouped by input neuron t (the transpose of the v factors' CSR,
    `patterns_to_csr` with the term numbers as row ids: for row t of WT, the terms k
    with t in supp v_k and v_k[t]), and the rows of WT are updated in parallel, each by
    all its terms while it is in cache. Cost O(sum_k |u_k| |v_k|) writes + O(m + nnz(V)).
    """
    m = WT.shape[0]
    tptr, term, val = patterns_to_csr(np.arange(vptr.shape[0] - 1), vptr, vidx, vval, m)
    for t in prange(m):
        if tptr[t] == tptr[t + 1]:
            continue
        row = WT[t]
        for q in range(tptr[t], tptr[t + 1]):
            k = term[q]
            s = coef[k] * val[q]
            for e in range(uptr[k], uptr[k + 1]):
                row[uidx[e]] += s * uval[e]


@njit(cache=True)
def add_outer_rows(W, coef, indptr, indices, dvals, X):  # pragma: no cover - compiled
    """W[r] += coef[i] * D[i, r] * x_i for r in S(x_i): the input layer's update, in place.

    D is input-major (indptr, indices, dvals). Cost O(nnz d).
    """
    n = indptr.shape[0] - 1
    d = X.shape[1]
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            r = indices[e]
            s = coef[i] * dvals[e]
            for t in range(d):
                W[r, t] += s * X[i, t]
