"""Sketches S (s x N) for the Gauss-Newton preconditioner, N = m d.

Every sketch is seeded and deterministic, has the same interface, and is applied
either to an explicit N x k matrix (`Sketch.apply`, tests and small sizes) or to the
Jacobian's transpose J^T without materialising it (`Sketch.apply_jt`). Column i of
J^T is v_i (Kronecker) x_i with v_i = (a * 1_{S_i}) / sqrt(m): nonzero only on the
|S_i| fired blocks of d entries, nnz(J) = d sum_i |S_i|.

==============  ===================================  ============================
kind            apply_jt cost                        default size s (natural log)
==============  ===================================  ============================
"gaussian"      O(s |U| d + s nnz(J))                ceil(4 n)
"srht"          O(n N log N) (dense columns)         ceil(2 n ln n)
"countsketch"   O(nnz(J))                            ceil(4 n ln n)
"tensor"        O(sum_i |S_i| + n d + n s log s)     ceil(4 n ln n)
==============  ===================================  ============================

(ln n means ln max(n, 2); the SRHT size is capped at N, where it is an orthogonal
transform.) ``sketch_factor`` replaces the leading constant. What the
sizes buy (a (1 +- eps) subspace embedding of the n columns of J^T, failure
probability delta):

* Gaussian: s = O((n + log 1/delta) / eps^2); with s = 4n the singular values of S U
  lie near [1 - 1/2, 1 + 1/2] (Davidson-Szarek), enough for a preconditioner with
  condition number about 9.
* SRHT / SRTT: s = O((n + log N) log n / eps^2) (Tropp 2011). Here the transform is
  the orthonormal DCT-II (a subsampled randomized trigonometric transform), so N
  need not be a power of two.
* CountSketch: s = O(n^2 / (delta eps^2)) in the worst case (Nelson-Nguyen); about
  n log n suffices only for incoherent matrices (no row of an orthonormal basis of
  range(J^T) much heavier than n / N). A coherent basis (a few rows carrying the
  whole range) collides with probability about n^2 / (2 s).
* TensorSketch (Pham-Pagh; Avron-Nguyen-Woodruff): the CountSketch whose hash of
  index (r, t) is h1(r) + h2(t) mod s and sign s1(r) s2(t), applied to each Kronecker
  column by one FFT convolution of the two small sketches. Worst-case size
  O(n^2 / (delta eps^2)) (degree 2); in practice like CountSketch. It never touches
  an entry of J^T: cost O(|S_i| + d + s log s) per column.

Gaussian and SRHT need work (and, explicitly, memory) proportional to s N or n N;
they are refused above `DENSE_SKETCH_LIMIT` entries (an explicit s x N Gaussian at
m = 2^20, d = 32, n = 64 would take tens of GiB). The SRHT here forms the n dense
columns of J^T (8 n m d bytes: 16 GiB at m = 2^20, n = 64, d = 32, 17 GiB with its
transform's buffers) before its DCT, so it is also refused above m = `SRHT_MAX_M` =
2^18 whatever n and d: a fast JL preconditioner at larger widths is the tensor sketch
("tensor"), which is Kronecker-structured like the columns of J^T and never forms them.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from numba import njit, prange

from .errors import InputError, check_array, check_choice, check_float, check_int, check_seed
from .firesets import UnionPatterns
from .memory import check_memory

__all__ = ["DENSE_SKETCH_LIMIT", "KINDS", "SRHT_MAX_M", "Sketch", "default_size", "make_sketch"]

KINDS = ("gaussian", "srht", "countsketch", "tensor")

#: Largest s N (Gaussian) or n N (SRHT) a dense sketch may touch: 2^30 entries.
DENSE_SKETCH_LIMIT = 2**30
#: Widest network an SRHT sketch is built for: it forms the n dense columns of J^T
#: (8 n m d bytes, 4 GiB at m = 2^18, n = 64, d = 32; 16 GiB at m = 2^20).
SRHT_MAX_M = 2**18

_DEFAULT_FACTOR = {"gaussian": 4.0, "srht": 2.0, "countsketch": 4.0, "tensor": 4.0}


def default_size(kind: str, n: int, sketch_factor: float | None = None, *,
                 N: int | None = None) -> int:
    """Sketch size s for n columns (see the module table). Cost O(1).

    A size whose s x n sketch of J^T (and its QR) would not fit the memory limit is
    refused here, before anything is allocated (`MemoryLimitError`).

    An SRHT samples s of the N = m d rows without replacement, so with ``N`` given its
    size is capped at N; at s = N the sketch is an orthogonal transform, an exact
    embedding (eps = 0). The other kinds are not capped: their rows are sums, not samples.

    >>> default_size("gaussian", 64), default_size("countsketch", 64)
    (256, 1065)
    >>> default_size("srht", 5), default_size("srht", 5, N=16)
    (17, 16)
    """
    kind = check_choice("sketch", kind, KINDS)
    n = check_int("n", n, minimum=1)
    f = _DEFAULT_FACTOR[kind] if sketch_factor is None else check_float(
        "sketch_factor", sketch_factor, minimum=0.0, strict_min=True)
    if kind == "gaussian":
        s = max(1, math.ceil(f * n))
    else:
        s = max(1, math.ceil(f * n * math.log(max(n, 2))))
    if kind == "srht" and N is not None:
        s = min(s, check_int("N", N, minimum=1))
    check_memory("sketch_factor", 16.0 * s * n, f"a sketch of J^T and its QR (2 x {s} x {n} "
                 "floats)")
    return s


# ----------------------------------------------------------------- hashing
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


@njit(cache=True, inline="always")
def _mix(z):  # pragma: no cover - compiled
    """SplitMix64 finaliser: a bijective, well-mixing map of uint64."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _bucket_sign(z, key, s):  # pragma: no cover - compiled
    h = _mix(np.uint64(z) ^ key)
    bucket = np.int64(h % np.uint64(s))
    sign = 1.0 if (h >> np.uint64(63)) == np.uint64(0) else -1.0
    return bucket, sign


@njit(cache=True)
def _buckets_signs(z, key, s):  # pragma: no cover - compiled
    out_b = np.empty(z.shape[0], np.int64)
    out_s = np.empty(z.shape[0])
    for k in range(z.shape[0]):
        out_b[k], out_s[k] = _bucket_sign(z[k], key, s)
    return out_b, out_s


@njit(cache=True, inline="always")
def _normal(row, col, key):  # pragma: no cover - compiled
    """A standard normal for entry (row, col), by Box-Muller on two hashed uniforms."""
    h1 = _mix((np.uint64(row) << np.uint64(32)) ^ np.uint64(col) ^ key)
    h2 = _mix(h1 ^ key)
    u1 = (np.float64(h1 >> _S11) + 1.0) * (1.0 / 9007199254740992.0)   # (0, 1]
    u2 = np.float64(h2 >> _S11) * (1.0 / 9007199254740992.0)           # [0, 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def _gaussian_block(rows, cols, key):  # pragma: no cover - compiled
    out = np.empty((rows, cols.shape[0]))
    for k in range(rows):
        for c in range(cols.shape[0]):
            out[k, c] = _normal(k, cols[c], key)
    return out


# ------------------------------------------------------------ J^T kernels
@njit(cache=True, parallel=True)
def _countsketch_jt(union, nptr, ninputs, row_coef, X, s, key, n):  # pragma: no cover
    """S J^T by CountSketch: the neurons in 8 parallel chunks, each into its own s x n
    sketch, summed at the end. O(nnz(J)) multiply-adds + |U| d hashes."""
    d = X.shape[1]
    k = union.shape[0]
    parts = 8
    partial = np.zeros((parts, s, n))
    for part in prange(parts):
        out = partial[part]
        for j in range(k * part // parts, k * (part + 1) // parts):
            base = union[j] * d
            c = row_coef[j]
            for t in range(d):
                bucket, sign = _bucket_sign(base + t, key, s)
                for p in range(nptr[j], nptr[j + 1]):
                    i = ninputs[p]
                    out[bucket, i] += sign * c * X[i, t]
    return partial.sum(axis=0)


@njit(cache=True)
def _countsketch_dense(A, s, key):  # pragma: no cover - compiled
    N, k = A.shape
    out = np.zeros((s, k))
    for z in range(N):
        bucket, sign = _bucket_sign(z, key, s)
        for c in range(k):
            out[bucket, c] += sign * A[z, c]
    return out


@njit(cache=True)
def _gaussian_jt(union, nptr, ninputs, row_coef, X, s, key, n):  # pragma: no cover
    d = X.shape[1]
    out = np.zeros((s, n))
    block = np.empty((s, d))
    y = np.empty(d)
    for j in range(union.shape[0]):
        base = union[j] * d
        for k in range(s):
            for t in range(d):
                block[k, t] = _normal(k, base + t, key)
        for p in range(nptr[j], nptr[j + 1]):
            i = ninputs[p]
            for t in range(d):
                y[t] = row_coef[j] * X[i, t]
            for k in range(s):
                acc = 0.0
                for t in range(d):
                    acc += block[k, t] * y[t]
                out[k, i] += acc
    return out


@njit(cache=True)
def _tensor_factors(union, nptr, ninputs, row_coef, X, s, key1, key2, n):  # pragma: no cover
    """CountSketches of v_i (by h1, s1) and of x_i (by h2, s2), each n x s."""
    d = X.shape[1]
    C1 = np.zeros((n, s))
    C2 = np.zeros((n, s))
    for j in range(union.shape[0]):
        bucket, sign = _bucket_sign(union[j], key1, s)
        for p in range(nptr[j], nptr[j + 1]):
            C1[ninputs[p], bucket] += sign * row_coef[j]
    for t in range(d):
        bucket, sign = _bucket_sign(t, key2, s)
        for i in range(n):
            C2[i, bucket] += sign * X[i, t]
    return C1, C2


class Sketch:
    """A seeded sketch S (s x N) of the N = m d rows of J^T.

    Attributes
    ----------
    kind : str
    size : int
        s, the number of sketch rows.
    m, d : int
        The factorisation N = m d (row (r, t) of J^T is index r d + t).
    seed : int

    Methods
    -------
    apply(A)          S A for an explicit N x k matrix
    apply_jt(pat, row_coef, X)   S J^T (s x n) from the fire patterns, J^T never formed
    matrix()          S itself, explicit (small N only)
    cost_jt(pat)      multiply-adds of `apply_jt`, for the operation counts
    """

    def __init__(self, kind: str, size: int, m: int, d: int, seed: int):
        self.kind = check_choice("sketch", kind, KINDS)
        self.size = check_int("sketch size", size, minimum=1)
        self.m = check_int("m", m, minimum=1)
        self.d = check_int("d", d, minimum=1)
        self.seed = check_seed("seed", seed)
        self.N = self.m * self.d
        ss = np.random.SeedSequence([self.seed, KINDS.index(self.kind)])
        k1, k2, k3 = ss.generate_state(3, dtype=np.uint64)
        self._key1, self._key2, self._key3 = np.uint64(k1), np.uint64(k2), np.uint64(k3)
        self._rows: np.ndarray | None = None
        if self.kind == "srht" and self.m > SRHT_MAX_M:
            raise InputError("sketch", f"'srht' at m = {self.m}",
                             f"m <= 2^{SRHT_MAX_M.bit_length() - 1} for 'srht' (it is applied to "
                             "the n dense columns of J^T, 8 n m d bytes: 16 GiB at m = 2^20, "
                             "n = 64, d = 32); use 'tensor' (the Kronecker-structured fast "
                             "sketch, which never forms J^T) or 'countsketch'")
        if self.kind == "srht" and self.size > self.N:
            raise InputError("sketch size", str(self.size),
                             f"at most N = m d = {self.N} rows for 'srht' (rows are sampled "
                             "without replacement; default_size(..., N=m d) caps it)")
        if self.kind == "gaussian" and self.size * self.N > DENSE_SKETCH_LIMIT:
            raise InputError("sketch", f"'gaussian' with s N = {self.size} x {self.N}",
                             f"s N <= {DENSE_SKETCH_LIMIT} (an explicit Gaussian sketch would "
                             f"take {8 * self.size * self.N / 2**30:.3g} GiB; use "
                             "'countsketch' or 'tensor')")

    def __repr__(self) -> str:
        return f"Sketch({self.kind!r}, size={self.size}, m={self.m}, d={self.d}, seed={self.seed})"

    # ------------------------------------------------------------ explicit
    def matrix(self) -> np.ndarray:
        """S as an explicit s x N array. Refuses s N > 2^26. Cost O(s N)."""
        if self.size * self.N > 2**26:
            raise InputError("sketch", f"an explicit {self.size} x {self.N} matrix",
                             "s N <= 2^26 entries (matrix() is for small sizes and tests)")
        return self.apply(np.eye(self.N))

    def apply(self, A) -> np.ndarray:
        """S A for an explicit A (N x k). Cost: Gaussian O(s N k), SRHT O(k N log N),
        CountSketch and tensor O(N k)."""
        shape = getattr(A, "shape", None)
        if self.kind == "srht" and shape is not None and len(shape) == 2:
            self._check_dense_columns(shape[1])
        A = check_array("A", A, ndim=2, shape=(self.N, None))
        if self.kind == "countsketch":
            return _countsketch_dense(np.ascontiguousarray(A), self.size, self._key1)
        if self.kind == "tensor":
            return self._tensor_as_countsketch(A)
        if self.kind == "gaussian":
            G = _gaussian_block(self.size, np.arange(self.N, dtype=np.int64), self._key1)
            return (G @ A) / math.sqrt(self.size)
        return self._srht(A)

    def _tensor_as_countsketch(self, A: np.ndarray) -> np.ndarray:
        """TensorSketch is the CountSketch with h(r, t) = h1(r) + h2(t) mod s."""
        b1, s1 = _buckets_signs(np.arange(self.m, dtype=np.int64), self._key1, self.size)
        b2, s2 = _buckets_signs(np.arange(self.d, dtype=np.int64), self._key2, self.size)
        bucket = ((b1[:, None] + b2[None, :]) % self.size).reshape(-1)
        sign = (s1[:, None] * s2[None, :]).reshape(-1)
        out = np.zeros((self.size, A.shape[1]))
        np.add.at(out, bucket, sign[:, None] * A)
        return out

    def _srht_parts(self) -> tuple[np.ndarray, np.ndarray]:
        if self._rows is None:
            rng = np.random.default_rng([self.seed, 7])
            self._rows = np.sort(rng.choice(self.N, size=self.size, replace=False))
        _, signs = _buckets_signs(np.arange(self.N, dtype=np.int64), self._key1, 2)
        return self._rows, signs

    def _check_dense_columns(self, columns: int) -> None:
        if columns * self.N > DENSE_SKETCH_LIMIT:
            raise InputError("sketch", f"'srht' on {columns} dense columns of length {self.N}",
                             f"n N <= {DENSE_SKETCH_LIMIT} entries (the transform needs the "
                             "dense columns); use 'countsketch' or 'tensor'")

    def _srht(self, A: np.ndarray) -> np.ndarray:
        self._check_dense_columns(A.shape[1])
        rows, signs = self._srht_parts()
        mixed = scipy.fft.dct(signs[:, None] * A, type=2, norm="ortho", axis=0)
        return mixed[rows] * math.sqrt(self.N / self.size)

    # ---------------------------------------------------------------- J^T
    def apply_jt(self, pat: UnionPatterns, row_coef: np.ndarray, X: np.ndarray) -> np.ndarray:
        """S J^T (s x n) where column i of J^T is sum_{r in S_i} row_coef_r e_r (x) x_i.

        `pat` gives the fire patterns over the union, `row_coef[j]` the coefficient of
        neuron union[j] (a_r / sqrt(m) for the model's Jacobian). Cost: see the module
        table; J^T is never materialised except by "srht", which builds its n dense
        columns (refused above `DENSE_SKETCH_LIMIT`).
        """
        n = pat.n
        if self.kind == "countsketch":
            return _countsketch_jt(pat.union, pat.nptr, pat.ninputs, row_coef, X,
                                   self.size, self._key1, n)
        if self.kind == "gaussian":
            return _gaussian_jt(pat.union, pat.nptr, pat.ninputs, row_coef, X,
                                self.size, self._key1, n) / math.sqrt(self.size)
        if self.kind == "tensor":
            C1, C2 = _tensor_factors(pat.union, pat.nptr, pat.ninputs, row_coef, X,
                                     self.size, self._key1, self._key2, n)
            conv = scipy.fft.irfft(scipy.fft.rfft(C1, axis=1) * scipy.fft.rfft(C2, axis=1),
                                   n=self.size, axis=1)
            return np.ascontiguousarray(conv.T)
        self._check_dense_columns(n)      # srht: dense columns of J^T
        JT = np.zeros((self.m, self.d, n))
        rows = pat.row_of_entry()
        JT[pat.union[rows], :, pat.ninputs] = row_coef[rows, None] * X[pat.ninputs]
        return self._srht(JT.reshape(self.N, n))

    def cost_jt(self, pat: UnionPatterns) -> int:
        """Multiply-adds of `apply_jt` for these patterns (deterministic)."""
        nnz_j = pat.nnz * self.d
        if self.kind == "countsketch":
            return nnz_j
        if self.kind == "gaussian":
            return self.size * (pat.size * self.d + nnz_j)
        if self.kind == "tensor":
            s = self.size
            return pat.nnz + pat.n * self.d + 3 * pat.n * s * max(1, math.ceil(math.log2(s)))
        return pat.n * self.N * max(1, math.ceil(math.log2(self.N))) + nnz_j


def make_sketch(kind: str, n: int, m: int, d: int, *, sketch_factor: float | None = None,
                seed: int = 0) -> Sketch:
    """A sketch of the given kind sized for n columns (`default_size`, SRHT capped at m d).

    >>> S = make_sketch("countsketch", n=4, m=8, d=2, seed=1)
    >>> S.size, S.matrix().shape
    (23, (23, 16))
    """
    return Sketch(kind, default_size(kind, n, sketch_factor, N=m * d), m, d, seed)
