"""Generic kernels over any array-API namespace `xp`: the reference for every backend
other than numpy (whose compiled kernels, `fireset_kernels`, `gram_kernels` and
`cache_kernels`, must agree with these).

The fire sets are kept as dense boolean masks (n x m, or |U| x n for the live union),
so every operation is a standard elementwise operation or matrix product; on a GPU
these are what the device does well. Costs are those of the dense-masked forms (the
compiled CPU kernels work on the sparse patterns instead):

=====================  ============================================
forward                O(n m d) product + O(n m)
gram_masked            O(n^2 k) (k neurons)
jt_masked, j_masked    O(k n d)
implicit_delta_masked  O(k n^2)
advance_masked         O(k n)
=====================  ============================================
"""

from __future__ import annotations

__all__ = ["advance_masked", "forward", "gram_masked", "implicit_delta_masked", "j_masked",
           "jt_masked"]


def forward(xp, X, W, b: float, a, scale: float):
    """Pre-activations P = X W^T (n x m), fire mask P > b and outputs
    f = scale * max(P - b, 0) a."""
    P = X @ xp.permute_dims(W, (1, 0))
    mask = P > b
    f = (xp.where(mask, P - b, xp.zeros_like(P)) @ a) * scale
    return P, mask, f


def gram_masked(xp, mask_rows, Kx, weights, m: int):
    """G = Kx * (M^T diag(weights) M) / m for a neuron-major mask M (k x n).

    With weights a_r^2 this is J J^T of the first layer (G_ij = <x_i, x_j>
    sum_{r in S_i and S_j} a_r^2 / m)."""
    Mf = xp.astype(mask_rows, xp.float64)
    C = xp.permute_dims(Mf * xp.reshape(weights, (-1, 1)), (1, 0)) @ Mf
    return Kx * C / m


def jt_masked(xp, mask_rows, v, X, row_coef):
    """J^T v on k neurons: row j = row_coef[j] sum_{i : M[j, i]} v_i x_i  (k x d)."""
    Mf = xp.astype(mask_rows, xp.float64)
    return ((Mf * xp.reshape(v, (1, -1))) @ X) * xp.reshape(row_coef, (-1, 1))


def j_masked(xp, mask_rows, U, X, row_coef):
    """J u for u on k neurons (k x d): (J u)_i = sum_j row_coef[j] M[j, i] <U[j], x_i>."""
    inner = U @ xp.permute_dims(X, (1, 0))                         # k x n
    inner = xp.where(mask_rows, inner, xp.zeros_like(inner))
    return xp.sum(inner * xp.reshape(row_coef, (-1, 1)), axis=0)


def implicit_delta_masked(xp, mask_rows, row_coef, v, Kx):
    """Change of the inner products of k neurons (k x n) for the update
    w_j += row_coef[j] sum_{i : M[j, i]} v_i x_i: (M * row_coef v^T) @ (X X^T)."""
    Mf = xp.astype(mask_rows, xp.float64)
    coef = Mf * (xp.reshape(row_coef, (-1, 1)) * xp.reshape(v, (1, -1)))
    return coef @ Kx


def advance_masked(xp, P_old, P_new, b: float, a_rows, scale: float):
    """Compare neuron-major pre-activations before and after a step (k x n each).

    Returns (new mask, per-row counts, per-input flips, scale * sum_j a_j relu(P_new - b))."""
    old = P_old > b
    new = P_new > b
    flips = xp.sum(xp.astype(old != new, xp.int64), axis=0)
    counts = xp.sum(xp.astype(new, xp.int64), axis=1)
    relu = xp.where(new, P_new - b, xp.zeros_like(P_new))
    f = xp.sum(relu * xp.reshape(a_rows, (-1, 1)), axis=0) * scale
    return new, counts, flips, f

