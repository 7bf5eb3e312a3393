"""Solvers for the Gauss-Newton system (J J^T + mu I) g = r.

`gram_from_patterns`  G = (X X^T) * C / m with C[i, j] = |S_i intersect S_j|,
                      from the fire sets alone (never an explicit J)
`solve_gram`          Cholesky solve of (G + mu I) g = r with a diagnosis of singularity
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .errors import NumericalError
from .firesets import UnionPatterns

__all__ = ["gram_from_patterns", "solve_gram"]


def gram_from_patterns(pat: UnionPatterns, Kx: np.ndarray, m: int) -> tuple[np.ndarray, int]:
    """The Gram matrix G = J J^T, G_ij = <x_i, x_j> |S_i intersect S_j| / m.

    Parameters
    ----------
    pat : UnionPatterns
        Neuron-major fire patterns.
    Kx : (n, n) array
        X X^T.
    m : int
        Width (the 1/sqrt(m) of the model appears squared).

    Returns
    -------
    G : (n, n) array
    flops : int
        Work done: sum_r |p_r|^2 pair increments + n^2 products.

    Cost: O(sum_r |p_r|^2 + n^2); the pair sum is at most n nnz.
    """
    C = pat.intersection_counts()
    G = Kx * C
    G /= m
    return G, pat.pair_count() + Kx.size


def solve_gram(G: np.ndarray, r: np.ndarray, mu: float,
               fire_set_sizes: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Solve (G + mu I) g = r by Cholesky; return (g, flops).

    Raises `NumericalError` with a diagnosis instead of a LinAlgError when G + mu I is
    not numerically positive definite: an input with an empty fire set (its row of J
    is zero) is named; otherwise the smallest eigenvalue is reported.

    Cost: n^3 / 3 + 2 n^2 multiply-adds.
    """
    n = G.shape[0]
    A = G + mu * np.eye(n) if mu > 0 else G
    if mu == 0 and fire_set_sizes is not None and np.any(fire_set_sizes == 0):
        empty = np.flatnonzero(fire_set_sizes == 0)
        raise NumericalError(
            f"the Gram matrix G = J J^T is singular: input(s) {_list(empty)} have an empty "
            "fire set (no neuron has <w_r, x_i> > b), so their rows of J are zero; use a "
            "damping mu > 0 or a smaller shift")
    try:
        factor = scipy.linalg.cho_factor(A, lower=True, check_finite=True)
    except (np.linalg.LinAlgError, ValueError):
        if not np.all(np.isfinite(A)):
            raise NumericalError("the Gram matrix contains NaN or infinite entries") from None
        lam = float(np.linalg.eigvalsh(A)[0])
        raise NumericalError(
            f"G + mu I is not numerically positive definite (smallest eigenvalue {lam:.3e}, "
            f"mu = {mu:g}): inputs nearly parallel or antipodal make J J^T singular; use a "
            "damping mu > 0") from None
    g = scipy.linalg.cho_solve(factor, r, check_finite=False)
    return g, n**3 // 3 + 2 * n * n


def _list(idx: np.ndarray, limit: int = 8) -> str:
    head = ", ".join(str(int(i)) for i in idx[:limit])
    return head + (f", ... ({idx.size} in all)" if idx.size > limit else "")
