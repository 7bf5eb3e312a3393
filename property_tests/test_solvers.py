"""The sketch-and-precondition solver: every diagnostic recomputed densely."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import dense_jacobian, kappa_rtol, problems
from hypothesis import assume, given
from hypothesis import strategies as st

from verify_sublin import NumericalError, make_trainer
from verify_sublin.core.sketch import KINDS, Sketch, default_size
from verify_sublin.core.solvers import SparseJacobian, pcg, sketch_precondition


def _setup(problem, kind, seed, factor=None):
    net, X, y = problem
    trainer = make_trainer("ggn", net, X, y)
    pat = trainer.fire_sets.union_patterns()
    row_coef = net.a[pat.union] / math.sqrt(net.m)
    J = dense_jacobian(net.W, net.a, X, net.shift)
    s = default_size(kind, X.shape[0], factor)
    if kind == "srht":
        s = min(s, net.m * net.d)
    B = Sketch(kind, s, net.m, net.d, seed).apply_jt(pat, row_coef, X)
    return trainer, pat, row_coef, J, B, X


@given(problem=problems(m_max=120, n_max=8, d_max=4), kind=st.sampled_from(KINDS),
       mu=st.sampled_from([1e-6, 1e-2, 1.0]), seed=st.integers(0, 1000),
       tol=st.sampled_from([1e-4, 1e-10]))
def test_pcg_diagnostics_match_dense_recomputation(problem, kind, mu, seed, tol):
    trainer, pat, row_coef, J, B, X = _setup(problem, kind, seed)
    n = X.shape[0]
    R, _ = sketch_precondition(B, mu)
    assert np.allclose(R.T @ R, B.T @ B + mu * np.eye(n), rtol=1e-10, atol=1e-12)
    A = J @ J.T + mu * np.eye(n)
    r = trainer.outputs - trainer.y
    r_copy = r.copy()
    jac = SparseJacobian(pat, row_coef, X)
    g, info, _ = pcg(lambda v: jac.jjt(v) + mu * v, r, R, tol=tol, max_iter=200)
    assert np.array_equal(r, r_copy), "the right-hand side must not be modified"
    true_rel = np.linalg.norm(r - A @ g) / np.linalg.norm(r)
    assert info.stop_reason == "converged" and info.iterations <= 200
    # the recursive residual drifts from the true one by up to ~kappa(A) eps
    drift = kappa_rtol(A, floor=1e-12)
    assert true_rel <= tol * 1.5 + drift
    assert info.relative_residual == pytest.approx(true_rel, rel=1e-3, abs=drift)
    assert jac.products == 2 * info.iterations
    Rinv = np.linalg.inv(R)
    ev = np.linalg.eigvalsh(Rinv.T @ A @ Rinv)
    true_cond = ev[-1] / ev[0]
    assume(true_cond < 1e6)
    # Lanczos (Ritz) values lie inside the spectrum: the estimate cannot exceed it ...
    assert info.condition_estimate <= true_cond * (1 + 1e-6)
    # ... and approaches it once CG has run about as many iterations as distinct
    # eigenvalue clusters; after convergence to 1e-10 it is within a factor 2.
    if tol == 1e-10 and info.iterations >= 3:
        assert info.condition_estimate >= true_cond / 2


def test_pcg_stop_reasons():
    r = np.array([1.0, -2.0, 0.5])
    A = np.diag([1.0, 10.0, 100.0])
    R = np.eye(3)
    g, info, _ = pcg(lambda v: A @ v, r, R, tol=1e-12, max_iter=1)
    assert info.stop_reason == "max_iter" and info.iterations == 1
    assert info.relative_residual == pytest.approx(np.linalg.norm(r - A @ g) / np.linalg.norm(r))
    g, info, _ = pcg(lambda v: A @ v, np.zeros(3), R, tol=1e-12, max_iter=5)
    assert info.stop_reason == "exact" and info.iterations == 0 and not g.any()
    # the exact preconditioner R = chol(A)^T converges in one iteration, condition 1
    g, info, _ = pcg(lambda v: A @ v, r, np.sqrt(A), tol=1e-12, max_iter=5)
    assert info.iterations == 1 and info.condition_estimate == pytest.approx(1.0)
    with pytest.raises(NumericalError, match="not positive definite"):
        pcg(lambda v: -v, r, R, tol=1e-12, max_iter=5)


@given(problem=problems(m_max=120, n_max=8, d_max=4), seed=st.integers(0, 1000))
def test_sketch_smaller_than_n(problem, seed):
    """s < n: singular preconditioner without damping (a clear error), fine with mu > 0."""
    net, X, y = problem
    assume(X.shape[0] >= 3)
    trainer = make_trainer("ggn", net, X, y)
    pat = trainer.fire_sets.union_patterns()
    row_coef = net.a[pat.union] / math.sqrt(net.m)
    B = Sketch("countsketch", X.shape[0] - 1, net.m, net.d, seed).apply_jt(pat, row_coef, X)
    with pytest.raises(NumericalError, match="sketch size s = .* < n"):
        sketch_precondition(B, 0.0)
    R, _ = sketch_precondition(B, 1e-3)
    assert np.all(np.isfinite(R)) and np.all(np.abs(np.diag(R)) > 0)
