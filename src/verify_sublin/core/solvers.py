"""Solvers for the Gauss-Newton system (J J^T + mu I) g = r.

`gram_from_patterns`    G = (X X^T) * C / m with C[i, j] = |S_i intersect S_j|,
                        from the fire sets alone (never an explicit J)
`gram_blas`             the same G from dense products of the 0/1 fire masks in blocks
                        of neurons (BLAS), for dense fire sets; `blas_is_faster` chooses
`dense_gram`            G = J J^T the textbook way: J formed in blocks of neurons and
                        multiplied by BLAS (syrk), m d n (n + 1) / 2 multiply-adds
`solve_gram`            Cholesky solve of (G + mu I) g = r with a diagnosis of singularity
`sketch_precondition`   R from the QR of [S J^T; sqrt(mu) I] (van den Brand et al.)
`pcg`                   preconditioned conjugate gradients with R^T R as preconditioner,
                        one J J^T product per iteration, scipy-style diagnostics
`SparseJacobian`        J over the fired blocks only: J u and J^T v in O(nnz(J))
`DenseJacobian`         J as a dense-weight operator: J u and J^T v in O(m n d)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.linalg.blas

from .errors import NumericalError
from .firesets import UnionPatterns
from .kernels import gram_kernels as GK

__all__ = ["BLAS_GRAM_BLOCK", "BLAS_GRAM_RATIO", "DenseJacobian", "SolverInfo", "SparseJacobian",
           "blas_is_faster", "dense_gram", "dense_gram_flops", "dense_mask", "gram_blas",
           "gram_from_patterns", "pcg", "sketch_precondition", "solve_gram"]


@dataclass(frozen=True)
class SolverInfo:
    """Diagnostics of an iterative solve, as scipy's solvers report them.

    Attributes
    ----------
    method : str
        e.g. "pcg".
    iterations : int
        Iterations performed.
    relative_residual : float
        ||r - A g|| / ||r|| of the returned direction, A = J J^T + mu I, as CG's
        recursion updates it (no extra product with A). Rounding makes the true
        residual differ from it by up to about kappa(A) eps: at tolerances near
        kappa(A) eps the recursive figure can be far smaller than the true one.
    condition_estimate : float
        Estimate of the condition number of the preconditioned operator (from the
        Lanczos tridiagonal matrix of CG).
    stop_reason : str
        "converged", "max_iter" or "exact" (zero right-hand side).
    sketch : str or None
        Sketch type used to build the preconditioner.
    sketch_size : int or None
        Number of sketch rows s.
    """

    method: str
    iterations: int
    relative_residual: float
    condition_estimate: float
    stop_reason: str
    sketch: str | None = None
    sketch_size: int | None = None



def gram_from_patterns(pat: UnionPatterns, Kx: np.ndarray, m: int,
                       a_rows: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """The Gram matrix G = J J^T, G_ij = <x_i, x_j> sum_{r in S_i and S_j} a_r^2 / m.

    With the papers' a_r in {-1, +1} this is <x_i, x_j> |S_i intersect S_j| / m.

    Parameters
    ----------
    pat : UnionPatterns
        Neuron-major fire patterns.
    Kx : (n, n) array
        X X^T.
    m : int
        Width (the 1/sqrt(m) of the model appears squared).
    a_rows : (|U|,) array, optional
        Output weights of the union neurons (pat.union order); None means all +-1.

    Returns
    -------
    G : (n, n) array
    flops : int
        Work done: sum_r |p_r|^2 pair increments + n^2 products.

    Cost: O(sum_r |p_r|^2 + n^2); the pair sum is at most n nnz.
    """
    C = pat.intersection_counts(None if a_rows is None else a_rows * a_rows)
    G = Kx * C
    G /= m
    return G, pat.pair_count() + Kx.size


#: Neurons per block of `gram_blas` (its memory: n x BLAS_GRAM_BLOCK entries).
BLAS_GRAM_BLOCK = 4096

#: `blas_is_faster` picks the BLAS Gram when the pair sums' work sum_r |p_r|^2, times
#: this, exceeds the dense products' n^2 |U|: one pair increment of the compiled loop
#: (scattered writes into an n x n array) cost about 40 BLAS multiply-adds when measured
#: (n = 500..1000, m = 2^14..2^16; 32 keeps a margin): BLAS wins when a neuron fires on
#: more than about 1 / sqrt(32) = 18% of the inputs, i.e. c <= 0.1 at these widths.
BLAS_GRAM_RATIO = 32


def blas_is_faster(pat: UnionPatterns) -> bool:
    """Whether `gram_blas` is expected to beat the pair sums on these patterns.

    Cost O(|U|)."""
    return pat.pair_count() * BLAS_GRAM_RATIO > pat.n * pat.n * pat.size


def gram_blas(pat: UnionPatterns, Kx: np.ndarray | None, m: int,
              a_rows: np.ndarray | None = None, values: np.ndarray | None = None) -> np.ndarray:
    """The Gram matrix from dense products of the fire masks, in blocks of neurons.

    With `Kx` = X X^T: the first layer's G = Kx * (F diag(a_U^2) F^T) / m, F the n x |U|
    0/1 fire mask (a_rows None: every a_r^2 = 1, and F F^T is formed in float32, exact
    for integer counts below 2^24, so G equals `gram_from_patterns`' bit for bit). With
    `values` (the activations at the pattern entries) and Kx None: the second layer's
    Phi Phi^T / m, Phi the n x |U| activations. Otherwise the same as the pair sums to
    rounding.

    Cost: n^2 |U| multiply-adds in BLAS plus O(nnz + n |U|) to fill the blocks; memory
    n x `BLAS_GRAM_BLOCK` entries and the n x n result.
    """
    n, k = pat.n, pat.size
    exact = values is None and a_rows is None
    dtype = np.float32 if exact else np.float64
    C = np.zeros((n, n), dtype)
    sizes = np.diff(pat.nptr)
    for lo in range(0, k, BLAS_GRAM_BLOCK):
        hi = min(k, lo + BLAS_GRAM_BLOCK)
        s, e = pat.nptr[lo], pat.nptr[hi]
        F = np.zeros((n, hi - lo), dtype)
        cols = np.repeat(np.arange(hi - lo), sizes[lo:hi])
        F[pat.ninputs[s:e], cols] = 1.0 if values is None else values[s:e]
        if a_rows is not None:
            F *= np.abs(a_rows[lo:hi])          # (F |a|)(F |a|)^T = F diag(a^2) F^T
        C += F @ F.T                            # numpy forms A A^T with syrk
    C = C.astype(np.float64)
    if Kx is None:
        return C / m
    G = Kx * C
    G /= m
    return G


#: Columns of J (neurons x d) per block of `dense_gram`: an n x 2^15 block (16 MiB at
#: n = 64) is formed, multiplied, and dropped.
DENSE_GRAM_COLUMNS = 2**15


def dense_mask(fire: UnionPatterns, mask: np.ndarray) -> np.ndarray:
    """The n x m fire mask (mask[i, r] = r in S_i) written into `mask` from neuron-major
    patterns. Cost O(n m) to clear + O(nnz)."""
    mask[:] = False
    mask[fire.ninputs, np.repeat(fire.union, np.diff(fire.nptr))] = True
    return mask


def dense_gram_flops(m: int, n: int, d: int) -> int:
    """Multiply-adds of `dense_gram`: m d n (n + 1) / 2 for the symmetric product (one
    triangle, as BLAS syrk computes it: half the m n^2 d of a general product) plus
    n m (d + 1) multiplies forming J's entries (a_r / sqrt m) 1[r in S_i] x_i. Exact."""
    return m * d * n * (n + 1) // 2 + n * m * (d + 1)


def dense_gram(mask: np.ndarray, coef: np.ndarray, X: np.ndarray,
               columns: int = DENSE_GRAM_COLUMNS) -> tuple[np.ndarray, int]:
    """G = J J^T as Cai et al.'s Gram-Gauss-Newton computes it, without using sparsity.

    J (n x m d) is formed in blocks of B = columns // d neurons: V = mask[:, B] *
    coef[B] (n x B), J_B = V (Kronecker) x_i row by row (n x B d); then G += J_B J_B^T
    by BLAS dsyrk (lower triangle, accumulated in place), mirrored at the end. Every
    entry of J is formed and multiplied, fired or not. Returns (G, flops), flops =
    `dense_gram_flops(m, n, d)`, the multiply-adds done.

    Parameters
    ----------
    mask : (n, m) bool array, the fire mask (`dense_mask`)
    coef : (m,) array, a_r / sqrt(m)
    X : (n, d) array

    Cost: O(m n^2 d) time; O(n columns) extra memory. Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, W = rng.standard_normal((3, 2)), rng.standard_normal((5, 2))
    >>> mask, coef = X @ W.T > 0.1, np.ones(5) / np.sqrt(5)
    >>> J = (mask[:, :, None] * coef[None, :, None] * X[:, None, :]).reshape(3, -1)
    >>> G, flops = dense_gram(mask, coef, X, columns=4)
    >>> bool(np.allclose(G, J @ J.T)), flops == 5 * 2 * 3 * 4 // 2 + 3 * 5 * 3
    (True, True)
    """
    n, m = mask.shape
    d = X.shape[1]
    B = max(1, columns // d)
    G = np.zeros((n, n), order="F")
    JB = np.empty((n, B, d))
    for lo in range(0, m, B):
        hi = min(lo + B, m)
        V = mask[:, lo:hi] * coef[lo:hi]                       # n x k: n k multiplies
        J = JB[:, :hi - lo]
        np.multiply(V[:, :, None], X[:, None, :], out=J)       # n k d multiplies
        # J^T (k d x n) is Fortran-ordered in J's C-ordered memory: dsyrk with trans=1
        # computes (J^T)^T J^T = J J^T without a copy
        Jt = J.reshape(n, -1).T
        G = scipy.linalg.blas.dsyrk(1.0, Jt, beta=1.0, c=G, trans=1, lower=1,
                                    overwrite_c=1)
    G = np.tril(G) + np.tril(G, -1).T
    return np.ascontiguousarray(G), dense_gram_flops(m, n, d)


def solve_gram(G: np.ndarray, r: np.ndarray, mu: float,
               fire_set_sizes: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Solve (G + mu I) g = r by Cholesky; return (g, flops).

    Raises `NumericalError` with a diagnosis instead of a LinAlgError when G + mu I is
    not numerically positive definite (`singular_to_rounding`: the same rule in every
    trainer and namespace): an input with an empty fire set (its row of J is zero) is
    named; otherwise the smallest eigenvalue is reported.

    Cost: n^3 / 3 + 2 n^2 multiply-adds.
    """
    n = G.shape[0]
    A = G + mu * np.eye(n) if mu > 0 else G
    check_fire_sets(fire_set_sizes, mu)
    try:
        factor = scipy.linalg.cho_factor(A, lower=True, check_finite=True)
    except (np.linalg.LinAlgError, ValueError):
        raise not_positive_definite(A, mu) from None
    if singular_to_rounding(factor[0], A):
        raise not_positive_definite(A, mu)
    g = scipy.linalg.cho_solve(factor, r, check_finite=False)
    return g, n**3 // 3 + 2 * n * n


#: A Gram whose diagonally scaled reciprocal condition number is at most RCOND_RTOL * n
#: counts as singular to working precision.
RCOND_RTOL = 100 * float(np.finfo(np.float64).eps)


def _to_host(a) -> np.ndarray:
    """A device array as numpy (CuPy needs .get(); other namespaces convert)."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def singular_to_rounding(L, A) -> bool:
    """Whether A, with Cholesky factor L (A = L L^T, L lower), is singular to rounding.

    Whether LAPACK's factorisation of a matrix singular to rounding succeeds depends on
    the rounding (the BLAS kernels, the machine, the order a trainer summed G in), so
    two trainers computing the same G could disagree on whether to refuse a step. Every
    Gram solve therefore also refuses when LAPACK's estimate (dpocon, 1-norm) of the
    reciprocal condition number of the diagonally scaled A' = D^-1/2 A D^-1/2 (D =
    diag A, unit diagonal; its factor is D^-1/2 L) is at most RCOND_RTOL * n, that is
    kappa(A') beyond about 1 / (n 2e-14): where rounding alone decides the sign of the
    smallest eigenvalue, and any step would amplify rounding by kappa. Scaling makes the
    rule see rounding relative to each entry, which is how a Gram's entries are
    rounded (an input with few fired neurons has a small row, not a wrong one). The
    Cholesky pivots alone do not do: a pivot bounds lambda_min only from above, by up
    to the inverse square of a null vector's entry. Takes host (numpy) arrays; a device
    trainer copies the n x n factor and matrix. Cost: O(n^2).
    """
    n = A.shape[0]
    if n == 0:
        return False
    s = 1.0 / np.sqrt(np.diagonal(A))
    Ls = L * s[:, None]
    anorm = float(np.abs(A * s[:, None] * s[None, :]).sum(axis=0).max())
    rcond, info = scipy.linalg.lapack.dpocon(np.asfortranarray(np.tril(Ls)), anorm, uplo="L")
    return info != 0 or not rcond > RCOND_RTOL * n


def check_fire_sets(fire_set_sizes: np.ndarray | None, mu: float) -> None:
    """Raise the diagnosis of a Gram made singular by empty fire sets (mu = 0 only)."""
    if mu == 0 and fire_set_sizes is not None and np.any(fire_set_sizes == 0):
        empty = np.flatnonzero(fire_set_sizes == 0)
        raise NumericalError(
            f"the Gram matrix G = J J^T is singular: input(s) {_list(empty)} have an empty "
            "fire set (no neuron has <w_r, x_i> > b), so their rows of J are zero; use a "
            "damping mu > 0 or a smaller shift")


def not_positive_definite(A, mu: float) -> NumericalError:
    """The diagnosis of a failed Cholesky factorisation of A = G + mu I (host copy of A)."""
    A = np.asarray(A)
    if not np.all(np.isfinite(A)):
        return NumericalError("the Gram matrix contains NaN or infinite entries")
    if not np.any(A - mu * np.eye(A.shape[0])):
        return NumericalError(
            "the Gram matrix G = J J^T is zero: no fired neuron has a nonzero output weight "
            "a_r (all a_r = 0?), so the Jacobian is zero and training cannot move W")
    lam = float(np.linalg.eigvalsh(A)[0])
    return NumericalError(
        f"G + mu I is not numerically positive definite (smallest eigenvalue {lam:.3e}, "
        f"mu = {mu:g}): inputs nearly parallel or antipodal make J J^T singular; use a "
        "damping mu > 0")


def inverse_top_eigenvalue(G) -> float:
    """1 / lambda_max(G): gradient descent's default step size (host copy of G)."""
    top = float(np.linalg.eigvalsh(np.asarray(G))[-1])
    if top <= 0:
        raise NumericalError("the Gram matrix G = J J^T is zero (no neuron fires on any "
                             "input, or every output weight is 0), so gradient descent's "
                             "step size 1 / lambda_max(G) does not exist; lower the shift or "
                             "pass eta")
    return 1.0 / top


def _list(idx: np.ndarray, limit: int = 8) -> str:
    head = ", ".join(str(int(i)) for i in idx[:limit])
    return head + (f", ... ({idx.size} in all)" if idx.size > limit else "")


# ------------------------------------------------------------ J operators
class SparseJacobian:
    """J restricted to the union of the fire sets, never formed.

    Block r of row i of J is row_coef[j] 1[i in pattern j] x_i for r = union[j]
    (row_coef = a_r / sqrt(m) for the model). Vectors u live on the union rows
    (|U| x d); every other block of J^T v is zero.

    Cost per product: O(nnz(J)) = O(d sum_i |S_i|).
    """

    def __init__(self, pat: UnionPatterns, row_coef: np.ndarray, X: np.ndarray):
        self.pat, self.row_coef, self.X = pat, row_coef, X
        self.n = X.shape[0]
        self.products = 0
        self.nnz = pat.nnz * X.shape[1]

    def jt(self, v: np.ndarray) -> np.ndarray:
        """J^T v on the union rows, |U| x d."""
        self.products += 1
        return GK.jt_apply(self.pat.nptr, self.pat.ninputs, self.row_coef, v, self.X)

    def j(self, U: np.ndarray) -> np.ndarray:
        """J u for u given on the union rows (|U| x d); shape (n,)."""
        self.products += 1
        return GK.jacobian_apply(self.pat.nptr, self.pat.ninputs, self.row_coef, U, self.X,
                                 self.n)

    #: Parallel chunks of neurons in `jjt`.
    PARTS = 8

    def jjt(self, v: np.ndarray) -> np.ndarray:
        """J J^T v: the two products J^T v and J u (counted as two), fused neuron by
        neuron so that the |U| x d block J^T v is never stored (`GK.jjt_apply`)."""
        self.products += 2
        return GK.jjt_apply(self.pat.nptr, self.pat.ninputs, self.row_coef, v, self.X,
                            self.PARTS)

    @property
    def work(self) -> int:
        """Entries of J read so far (nnz(J) per product)."""
        return self.products * self.nnz


class DenseJacobian:
    """J as a dense-weight operator over all m neurons (van den Brand et al.).

    Uses the dense n x m fire mask; each product is a BLAS product over blocks of
    neurons, O(m n d) whatever the sparsity. `a` are the output weights.
    """

    BLOCK = 16384

    def __init__(self, fire: UnionPatterns, a: np.ndarray, X: np.ndarray, mask: np.ndarray):
        self.X, self.n, self.m = X, X.shape[0], a.shape[0]
        self.coef = a / math.sqrt(self.m)
        self.mask = dense_mask(fire, mask)
        self.products = 0

    def jt(self, v: np.ndarray) -> np.ndarray:
        """J^T v, m x d: block r = coef_r sum_i 1[r in S_i] v_i x_i. Cost O(m n d)."""
        self.products += 1
        out = np.empty((self.m, self.X.shape[1]))
        vX = v[:, None] * self.X
        for lo in range(0, self.m, self.BLOCK):
            hi = min(lo + self.BLOCK, self.m)
            np.matmul(self.mask[:, lo:hi].T.astype(np.float64), vX, out=out[lo:hi])
        out *= self.coef[:, None]
        return out

    def j(self, U: np.ndarray) -> np.ndarray:
        """J u for u as m x d: (J u)_i = sum_r coef_r 1[r in S_i] <u_r, x_i>. Cost O(m n d)."""
        self.products += 1
        out = np.zeros(self.n)
        for lo in range(0, self.m, self.BLOCK):
            hi = min(lo + self.BLOCK, self.m)
            inner = self.X @ U[lo:hi].T                       # n x B
            inner *= self.mask[:, lo:hi]
            out += inner @ self.coef[lo:hi]
        return out

    def jjt(self, v: np.ndarray) -> np.ndarray:
        return self.j(self.jt(v))

    @property
    def work(self) -> int:
        """Dense multiply-adds so far (m n d per product)."""
        return self.products * self.m * self.n * self.X.shape[1]


# ------------------------------------------------- sketch and precondition
def sketch_precondition(B, mu: float, xp=np) -> tuple[np.ndarray, int]:
    """R (n x n, upper triangular) with R^T R = B^T B + mu I, from the QR of
    [B; sqrt(mu) I] (B = S J^T, s x n). Returns (R, flops). `xp`: the array namespace
    of B (numpy uses LAPACK through scipy; others their linalg extension).

    With mu = 0 and rank(B) < n (an empty fire set, or s < n) R is singular and a
    `NumericalError` says why. Cost: O((s + n) n^2).
    """
    s, n = B.shape
    if xp is np:
        A = np.vstack([B, math.sqrt(mu) * np.eye(n)]) if mu > 0 else B
    else:
        A = xp.concat([B, math.sqrt(mu) * xp.eye(n, dtype=xp.float64)], axis=0) if mu > 0 else B
    if A.shape[0] < n:
        raise NumericalError(
            f"sketch size s = {s} < n = {n}: the sketch S J^T has rank < n, so the "
            "preconditioner R is singular; use a larger sketch_factor or a damping mu > 0")
    if xp is np:
        R = scipy.linalg.qr(A, mode="r", check_finite=True)[0][:n]
        diag = np.abs(np.diag(R))
    else:
        R = xp.linalg.qr(A, mode="reduced")[1]
        diag = np.abs(np.asarray(xp.linalg.diagonal(R)))
    if diag.min() <= 1e-13 * max(diag.max(), 1e-300):
        raise NumericalError(
            "the sketched Jacobian S J^T is rank deficient (an input with an empty fire "
            "set, or parallel inputs), so the preconditioner R is singular; use a damping "
            "mu > 0")
    # the exact path's rule, applied to the sketched Gram R^T R = B^T B + mu I: a system
    # singular to rounding is refused whatever the preconditioned CG would report
    Rh = R if xp is np else _to_host(R)
    if singular_to_rounding(Rh.T, Rh.T @ Rh):
        raise NumericalError(
            "the sketched Gram R^T R = (S J^T)^T (S J^T) + mu I is singular to working "
            "precision (nearly repeated or antipodal inputs make J J^T singular), so any "
            "step would amplify rounding; use a damping mu > 0")
    return R, 2 * A.shape[0] * n * n


def pcg(apply_A, r, R, *, tol: float, max_iter: int, xp=np) -> tuple[np.ndarray, SolverInfo, int]:
    """Preconditioned CG for A g = r with preconditioner M = R^T R (A symmetric positive
    definite, given by `apply_A`).

    Returns (g, info, flops). info.relative_residual is the recursively updated
    ||r - A g|| / ||r|| (within about kappa(A) eps of the true one);
    info.condition_estimate is lambda_max / lambda_min of the Lanczos tridiagonal
    matrix built from the CG coefficients, an estimate (from below) of the condition
    number of the preconditioned operator R^{-T} A R^{-1}.

    Cost per iteration: one application of A plus two triangular solves (2 n^2).
    `xp`: the array namespace of r and R (numpy uses scipy's triangular solves).
    """
    n = r.shape[0]
    # BLAS nrm2 (scipy.linalg.norm) scales as it sums: a right-hand side of 1e-300 is not
    # "exactly zero" and one of 1e300 does not overflow
    norm_r = float(xp.linalg.vector_norm(r)) if xp is not np else float(scipy.linalg.norm(r))
    g = xp.zeros(n, dtype=xp.float64) if xp is not np else np.zeros(n)
    if norm_r == 0.0:
        return g, SolverInfo("pcg", 0, 0.0, 1.0, "exact"), 0

    if xp is np:
        def precondition(v):
            w = scipy.linalg.solve_triangular(R, v, trans="T", check_finite=False)
            return scipy.linalg.solve_triangular(R, w, check_finite=False)

        def norm(v):
            return float(scipy.linalg.norm(v))
    else:
        RT = xp.permute_dims(R, (1, 0))

        def precondition(v):
            w = xp.linalg.solve(RT, xp.reshape(v, (-1, 1)))
            return xp.reshape(xp.linalg.solve(R, w), (-1,))

        def norm(v):
            return float(xp.linalg.vector_norm(v))

    res = r + 0.0
    z = precondition(res)
    p = z + 0.0
    rz = float(xp.sum(res * z))
    alphas, betas = [], []
    stop = "max_iter"
    flops = 2 * n * n
    for _ in range(max_iter):
        Ap = apply_A(p)
        curvature = float(xp.sum(p * Ap))
        if not curvature > 0.0:
            raise NumericalError(
                f"the Gauss-Newton system is not positive definite (p^T A p = {curvature:.3e} "
                "in conjugate gradients); use a damping mu > 0")
        if not (math.isfinite(curvature) and math.isfinite(rz) and rz > 0.0):
            raise NumericalError(
                f"conjugate gradients broke down (p^T A p = {curvature:.3e}, r^T M^-1 r = "
                f"{rz:.3e}): the damped system is singular to working precision; use a "
                "larger damping mu")
        alpha = rz / curvature
        g = g + alpha * p
        res = res - alpha * Ap
        alphas.append(alpha)
        flops += 2 * n * n + 6 * n
        if norm(res) <= tol * norm_r:
            stop = "converged"
            break
        z = precondition(res)
        rz_new = float(xp.sum(res * z))
        beta = rz_new / rz
        betas.append(beta)
        p = z + beta * p
        rz = rz_new
    info = SolverInfo("pcg", len(alphas), norm(res) / norm_r,
                      _lanczos_condition(alphas, betas), stop)
    return g, info, flops


def _lanczos_condition(alphas: list[float], betas: list[float]) -> float:
    """lambda_max / lambda_min of the CG Lanczos tridiagonal matrix."""
    k = len(alphas)
    if k == 0 or not all(a > 0.0 for a in alphas):
        return math.inf
    diag = np.empty(k)
    off = np.empty(max(k - 1, 0))
    for j in range(k):
        diag[j] = 1.0 / alphas[j] + (betas[j - 1] / alphas[j - 1] if j > 0 else 0.0)
        if j < k - 1:
            off[j] = math.sqrt(betas[j]) / alphas[j]
    ev = scipy.linalg.eigvalsh_tridiagonal(diag, off) if k > 1 else diag
    return float(ev[-1] / ev[0]) if ev[0] > 0 else math.inf
