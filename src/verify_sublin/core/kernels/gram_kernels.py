"""Compiled Gram and Jacobian products on neuron-major fire patterns.

Layouts as in `fireset_kernels`. J is the first layer's Jacobian (n x m d): block r of
row i is (a_r / sqrt m) x_i if r is in S_i, zero otherwise; J_a the second layer's
(n x m), phi_ir / sqrt m with phi_ir = max(<w_r, x_i> - b, 0). ``row_coef[j]`` is the
coefficient of neuron union[j] (a_r / sqrt m, times the step's sign and size in an
update); p_r are the inputs that fire neuron r, so sum_r |p_r| = nnz.

======================  ======================================================
``gram_counts``         C[i, j] = sum over r in S_i n S_j of weights[r] (J J^T =
                        X X^T * C / m), O(sum_r |p_r|^2 + parts n^2)
``gram_weighted``       sum_r phi_ir phi_jr (J_a J_a^T times m), O(sum_r |p_r|^2)
``jt_apply``            J^T v on the union rows (|U| x d), O(nnz d)
``add_jt_rows``         W[U] += J^T v in place, O(nnz d)
``jacobian_apply``      J u from the union rows of u, O(nnz d)
``jjt_apply``           J (J^T v), the two products fused neuron by neuron (no
                        |U| x d intermediate), parallel, O(2 nnz d)
``second_layer_apply``  J_a^T v times sqrt m, O(nnz)
======================  ======================================================
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "add_jt_rows",
    "gram_counts",
    "gram_weighted",
    "jacobian_apply",
    "jjt_apply",
    "jt_apply",
    "second_layer_apply",
]


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


@njit(cache=True, parallel=True)
def jjt_apply(nptr, ninputs, row_coef, v, X, parts):  # pragma: no cover - compiled
    """J J^T v as the two products J^T v and J u, fused: for each union neuron j the
    block u_j = row_coef[j] sum_{i in pattern j} v_i x_i (d values, kept in a local
    buffer) and at once out[i] += row_coef[j] <u_j, x_i> for i in pattern j. The
    same 2 nnz d multiply-adds as `jacobian_apply(jt_apply(v))`, without the |U| x d
    array they exchange; neurons in `parts` parallel chunks, each with its own n
    outputs, summed at the end. Cost O(nnz d)."""
    k = nptr.shape[0] - 1
    n, d = X.shape
    partial = np.zeros((parts, n))
    for c in prange(parts):
        lo = k * c // parts
        hi = k * (c + 1) // parts
        acc = np.empty(d)
        out = partial[c]
        for j in range(lo, hi):
            acc[:] = 0.0
            for p in range(nptr[j], nptr[j + 1]):
                i = ninputs[p]
                vi = v[i]
                for t in range(d):
                    acc[t] += vi * X[i, t]
            cj = row_coef[j]
            cj2 = cj * cj
            for p in range(nptr[j], nptr[j + 1]):
                i = ninputs[p]
                s = 0.0
                for t in range(d):
                    s += acc[t] * X[i, t]
                out[i] += cj2 * s
    return partial.sum(axis=0)


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
