"""Sketches: exact agreement with explicit matrices, and the subspace-embedding property
at sizes where a stated bound gives the failure probability."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.fft
from helpers import dense_jacobian, problems, seeds
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from verify_sublin import InputError, make_trainer
from verify_sublin.core.sketch import DENSE_SKETCH_LIMIT, KINDS, SRHT_MAX_M, Sketch, default_size


@given(kind=st.sampled_from(KINDS), m=st.integers(1, 12), d=st.integers(1, 4),
       s=st.integers(1, 20), k=st.integers(1, 4), seed=seeds)
def test_apply_equals_explicit_matrix(kind, m, d, s, k, seed):
    if kind == "srht":
        s = min(s, m * d)
    S = Sketch(kind, s, m, d, seed)
    A = np.random.default_rng(seed).standard_normal((m * d, k))
    M = S.matrix()
    assert M.shape == (s, m * d)
    assert np.allclose(S.apply(A), M @ A, rtol=1e-12, atol=1e-12)


@given(kind=st.sampled_from(KINDS), problem=problems(m_max=40, n_max=6, d_max=4), seed=seeds,
       s=st.integers(1, 30))
def test_apply_jt_equals_sketch_of_explicit_jacobian(kind, problem, seed, s):
    """S J^T from the fire patterns equals S times the explicit J^T."""
    net, X, y = problem
    if kind == "srht":
        s = min(s, net.m * net.d)
    S = Sketch(kind, s, net.m, net.d, seed)
    trainer = make_trainer("ggn", net, X, y)
    pat = trainer.fire_sets.union_patterns()
    row_coef = net.a[pat.union] / math.sqrt(net.m)
    J = dense_jacobian(net.W, net.a, X, net.shift)
    assert np.allclose(S.apply_jt(pat, row_coef, X), S.matrix() @ J.T, rtol=1e-11, atol=1e-13)


def test_tensor_sketch_is_countsketch_with_combined_hash():
    """TensorSketch's matrix is a CountSketch: one +-1 per column."""
    M = Sketch("tensor", 7, 5, 3, seed=3).matrix()
    assert np.all(np.count_nonzero(M, axis=0) == 1)
    assert set(np.unique(np.abs(M[M != 0]))) == {1.0}


def _orthonormal(N, n, rng):
    return np.linalg.qr(rng.standard_normal((N, n)))[0]


def _singular_values(S, U):
    return np.linalg.svd(S.apply(U), compute_uv=False)


GAUSS_DELTA = 1e-9


@given(n=st.integers(1, 16), seed=seeds)
def test_gaussian_embedding_at_documented_size(n, seed):
    """Davidson-Szarek: for an s x n Gaussian G, every singular value of G / sqrt(s) lies
    in 1 +- (sqrt(n/s) + t/sqrt(s)) except with probability <= 2 exp(-t^2 / 2). With
    t = sqrt(2 ln(2 / delta)) the false-failure probability is delta = 1e-9. S U is
    such a Gaussian for any orthonormal U (rotation invariance)."""
    s = default_size("gaussian", n)
    N = max(2 * s, 64)
    t = math.sqrt(2 * math.log(2 / GAUSS_DELTA))
    eps = math.sqrt(n / s) + t / math.sqrt(s)
    U = _orthonormal(N, n, np.random.default_rng(seed))
    sv = _singular_values(Sketch("gaussian", s, N, 1, seed), U)
    assert sv.max() <= 1 + eps and sv.min() >= 1 - eps


SRHT_DELTA = 1e-9


@settings(max_examples=10)
@given(n=st.integers(1, 8), seed=seeds)
def test_srht_embedding_by_matrix_chernoff(n, seed):
    """SRHT (DCT version) on N = 2^15 rows, at the size a matrix Chernoff bound needs.

    Conditionally on the signs D, the mixed basis V = H D U has a measured largest row
    norm mu = max_z ||v_z||^2, and sampling s rows without replacement (scaled by N / s)
    puts an eigenvalue of (SU)^T SU outside [1/2, 3/2] with probability at most
    n exp(-0.153 R) + n exp(-0.108 R), R = s / (N mu) (Tropp 2011, Lemma 3.4). s is the
    smallest size making that <= 1e-9. (This is far above the documented default
    2 n ln n, which is sized for a preconditioner with condition number O(1), not for
    a rigorous embedding; the solver tests check that use.)"""
    N = 2**15
    rng = np.random.default_rng(seed)
    U = _orthonormal(N, n, rng)
    probe = Sketch("srht", 1, N, 1, seed)
    _, signs = probe._srht_parts()
    V = scipy.fft.dct(signs[:, None] * U, type=2, norm="ortho", axis=0)
    mu = float((V**2).sum(axis=1).max())
    R = math.log(2 * n / SRHT_DELTA) / 0.108
    s = min(N, math.ceil(R * N * mu))
    assert s < N, "N too small for the bound"
    SU = Sketch("srht", s, N, 1, seed).apply(U)
    ev = np.linalg.eigvalsh(SU.T @ SU)
    assert ev.min() >= 0.5 and ev.max() <= 1.5


@settings(max_examples=8)
@given(n=st.integers(1, 3), seed=seeds, kind=st.sampled_from(["countsketch", "tensor"]))
def test_hashing_sketch_embedding_by_second_moment(n, seed, kind):
    """E||U^T S^T S U - I||_F^2 <= C n^2 / s for an orthonormal U (CountSketch: C = 2, the
    exact value is (n^2 + n - 2 sum_z ||u_z||^4) / s; TensorSketch of degree 2: C = 11,
    Avron-Nguyen-Woodruff). By Chebyshev the spectral error exceeds eps = 1/2 with
    probability <= C n^2 / (s eps^2); s is chosen so this is 1e-4 per example. U is a
    random (incoherent) basis of R^(m d)."""
    C = 2.0 if kind == "countsketch" else 11.0
    delta, eps = 1e-4, 0.5
    s = math.ceil(C * n * n / (delta * eps * eps))
    m, d = 2**13, 4
    U = _orthonormal(m * d, n, np.random.default_rng(seed))
    SU = Sketch(kind, s, m, d, seed).apply(U)
    assert np.linalg.norm(SU.T @ SU - np.eye(n), 2) <= eps


@settings(max_examples=3)
@given(seed=seeds)
def test_countsketch_fails_on_coherent_basis_at_the_birthday_rate(seed):
    """Why CountSketch needs ~n^2 rows in the worst case: U = (e_1, ..., e_n) is embedded
    exactly iff no two of its n rows share a bucket, so at size s it fails with the
    birthday probability p = 1 - prod_{k<n} (1 - k/s). Over T independent sketches the
    number of failures is Binomial(T, p); the test accepts the central interval of mass
    1 - 1e-9. At the documented size 4 n ln n (n = 16: s = 178) p is about 0.5."""
    n, T = 16, 300
    s = default_size("countsketch", n)
    p = 1 - np.prod([1 - k / s for k in range(n)])
    U = np.zeros((n * 8, n))
    U[np.arange(n), np.arange(n)] = 1.0
    fails = 0
    for t in range(T):
        sv = _singular_values(Sketch("countsketch", s, n * 8, 1, seed + t), U)
        fails += not np.allclose(sv, 1.0)
    lo, hi = binom.ppf(0.5e-9, T, p), binom.isf(0.5e-9, T, p)
    assert lo <= fails <= hi, (fails, T * p)
    assert p > 0.3, "at the documented size a coherent basis fails often"


def test_dense_sketches_refused_at_large_sizes():
    m, d, n = 2**20, 32, 64
    with pytest.raises(InputError, match="^sketch:.*GiB"):
        Sketch("gaussian", default_size("gaussian", n), m, d, 0)
    # the SRHT forms the n dense columns of J^T: refused above m = 2^18 (16 GiB at 2^20)
    with pytest.raises(InputError, match=r"^sketch: .*m <= 2\^18"):
        Sketch("srht", default_size("srht", n), m, d, 0)
    m = SRHT_MAX_M
    S = Sketch("srht", default_size("srht", n), m, d, 0)
    too_many_columns = DENSE_SKETCH_LIMIT // (m * d) + 1
    with pytest.raises(InputError, match="^sketch:"):
        S.apply(np.broadcast_to(np.zeros(1), (m * d, too_many_columns)))
    for kind in ("countsketch", "tensor"):
        Sketch(kind, default_size(kind, n), m, d, 0)      # cost O(nnz): always allowed


@given(m=st.integers(1, 6), d=st.integers(1, 3), n=st.integers(2, 12), seed=seeds)
def test_srht_capped_at_n_rows_is_an_exact_embedding(m, d, n, seed):
    """Where 2 n ln n exceeds N = m d, the SRHT takes all N rows: S^T S = I exactly."""
    N = m * d
    s = default_size("srht", n, N=N)
    assert s == min(math.ceil(2 * n * math.log(n)), N)
    if s == N:
        M = Sketch("srht", s, m, d, seed).matrix()
        assert np.allclose(M.T @ M, np.eye(N), atol=1e-12)
    with pytest.raises(InputError, match="^sketch size:"):
        Sketch("srht", N + 1, m, d, seed)


def test_bad_sketch_arguments():
    for call, name in [(lambda: Sketch("fjlt", 4, 2, 2, 0), "sketch"),
                       (lambda: Sketch("gaussian", 0, 2, 2, 0), "sketch size"),
                       (lambda: default_size("tensor", 4, sketch_factor=-1.0), "sketch_factor"),
                       (lambda: Sketch("srht", 9, 2, 2, 0).apply(np.ones((4, 1))), "sketch size")]:
        with pytest.raises(InputError, match=f"^{name}:"):
            call()
