"""The exact Gauss-Newton Gram of a two-layer net from bit-packed fire masks.

For f(W, x) = (1/sqrt m) sum_r a_r sigma_b(<w_r, x>) with a_r in {-1, +1}, row i of
the Jacobian has block r equal to a_r 1[r in S_i] x_i / sqrt(m), so

    G_ij = (J J^T)_ij = <x_i, x_j> sum_{r in S_i and S_j} a_r^2 / m
         = <x_i, x_j> |S_i intersect S_j| / m,

the same formula as `verify_sublin.core.solvers.gram_from_patterns` (which sums over the
fire patterns in O(sum_r |p_r|^2), fast when the fire sets are small). Here every mask
is packed 64 neurons to a machine word and the n^2 intersections are word-wise AND
and popcount: O(m n^2 / 64) word operations whatever the sparsity, plus n^2 d for
X X^T. No m n^2 d work is needed for the exact Gram of a two-layer net; this is the
exact baseline against which a sketched solver has to win.

=====================  ===================================================
``fire_bits``          packed masks (n, ceil(m / 64)) from `FireSets`:
                       O(n m / 64 + nnz)
``bit_gram``           G (n, n): n (n + 1) / 2 ceil(m / 64) word operations
                       + n^2 d for X X^T (or n^2 with a given X X^T)
=====================  ===================================================
"""

from __future__ import annotations

import numpy as np

from .errors import InputError, check_array
from .firesets import FireSets
from .kernels import bitgram_kernels as BK

__all__ = ["bit_gram", "exact_gn_step", "fire_bits"]


def fire_bits(fire: FireSets) -> np.ndarray:
    """Pack the fire sets into (n, ceil(m / 64)) uint64 words (bit r of row i:
    r in S_i). Cost O(n m / 64 + nnz).

    >>> fire_bits(FireSets.from_lists([[0, 1, 64], [1]], 65)).tolist()
    [[3, 1], [2, 0]]
    """
    if not isinstance(fire, FireSets):
        raise InputError("fire", type(fire).__name__, "a FireSets")
    words = (fire.m + 63) // 64
    return BK.bits_from_csr(fire.indptr, fire.indices, words)


def bit_gram(bits: np.ndarray, X, m: int, Kx=None) -> tuple[np.ndarray, int]:
    """G = J J^T with G_ij = <x_i, x_j> |S_i intersect S_j| / m (a_r in {-1, +1}).

    Parameters
    ----------
    bits : (n, ceil(m / 64)) uint64
        Packed fire masks (`fire_bits`).
    X : (n, d) array
        The inputs.
    m : int
        Width (the 1/sqrt(m) of the model appears squared).
    Kx : (n, n) array, optional
        X X^T if already known (saves n^2 d).

    Returns
    -------
    G : (n, n) array
    ops : int
        Word operations n (n + 1) / 2 * words, plus n^2 d for X X^T (if computed), plus
        n^2 for the product and scaling.

    Cost: O(m n^2 / 64 + n^2 d).

    >>> X = np.array([[1.0, 0.0], [0.6, 0.8]])
    >>> fs = FireSets.from_lists([[0, 1, 2], [1, 2, 3]], 4)
    >>> G, ops = bit_gram(fire_bits(fs), X, 4)
    >>> G.round(3).tolist(), ops
    ([[0.75, 0.3], [0.3, 0.75]], 15)
    """
    bits = np.asarray(bits)
    X = check_array("X", X, ndim=2)
    n, d = X.shape
    words = (int(m) + 63) // 64
    if bits.dtype != np.uint64 or bits.shape != (n, words):
        raise InputError("bits", f"an array of dtype {bits.dtype} and shape {bits.shape}",
                         f"uint64 words of shape ({n}, {words}) from fire_bits")
    ops = n * (n + 1) // 2 * words + n * n
    if Kx is None:
        Kx = X @ X.T
        ops += n * n * d
    G = BK.popcount_and_counts(np.ascontiguousarray(bits))
    G *= Kx
    G /= m
    return G, ops


def exact_gn_step(W: np.ndarray, a: np.ndarray, b: float, X: np.ndarray, y: np.ndarray,
                  mu: float = 0.0, eta: float = 1.0) -> tuple[np.ndarray, dict]:
    """One exact Gauss-Newton step of the two-layer net with the bit-parallel Gram.

    W <- W - eta J^T (G + mu I)^{-1} (f - y), G from `bit_gram`; the same step as the
    ``ggn`` trainer (which sums its Gram over the fire patterns instead), for measuring
    the exact step's cost against a sketched solver. W is updated in place.

    Returns
    -------
    W : the updated weights (the same array)
    info : dict
        residual (before the step), ops (counted: d per inner product of the forward
        pass, packing, Gram words, Cholesky, d per Jacobian entry of J^T g), nnz.

    Cost: O(n m d) forward + O(m n^2 / 64 + n^2 d) Gram + O(n^3) solve + O(nnz d) J^T g.
    """
    import math

    import scipy.sparse

    from .firesets import forward_fire_sets
    from .solvers import solve_gram

    m, d = W.shape
    n = X.shape[0]
    fire, f = forward_fire_sets(X, W, b, a, 1.0 / math.sqrt(m))
    r = f - y
    bits = fire_bits(fire)
    G, gram_ops = bit_gram(bits, X, m)
    g, solve_ops = solve_gram(G, r, mu, fire.sizes)
    mask = scipy.sparse.csr_matrix((np.ones(fire.nnz), fire.indices, fire.indptr), shape=(n, m))
    D = mask.T @ (g[:, None] * X)                       # (m, d), O(nnz d)
    W -= (eta / math.sqrt(m)) * a[:, None] * D
    ops = (d * n * m + n * bits.shape[1] + fire.nnz + gram_ops + solve_ops + d * fire.nnz
           + m * d)
    return W, {"residual": float(np.linalg.norm(r)), "ops": int(ops), "nnz": fire.nnz}
