"""Baselines of the reviewer questions against independent computations: both layers
trained, Adam, mini-batch SGD, second-layer-only least squares, NTK kernel ridge
regression."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import dense_jacobian, dense_outputs, kappa_rtol, nothing_fires, problems, seeds
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal, norm

from verify_sublin import NumericalError, ShiftedReLUNet, make_trainer, sphere_data
from verify_sublin.core.ntk import lambda_bounds, orthant_probability, shifted_ntk
from verify_sublin.core.realdata import load_dataset


def jacobian_a(W, X, b):
    """J_a (n x m): d f / d a_r = max(<w_r, x_i> - b, 0) / sqrt(m)."""
    return np.maximum(X @ W.T - b, 0.0) / math.sqrt(W.shape[0])


@given(problem=problems(), mu=st.sampled_from([0.0, 1e-3]))
def test_ggn_both_layers_equals_explicit_jacobian_step(problem, mu):
    net, X, y = problem
    J = np.hstack([dense_jacobian(net.W, net.a, X, net.shift), jacobian_a(net.W, X, net.shift)])
    A = J @ J.T + mu * np.eye(X.shape[0])
    assume(np.linalg.cond(A) < 1e8)
    r = dense_outputs(net.W, net.a, X, net.shift) - y
    step = J.T @ np.linalg.solve(A, r)
    t = make_trainer("ggn", net, X, y, mu=mu, train_a=True)
    if nothing_fires(J, t):
        return
    t.step()
    new = np.concatenate([t.net.W.ravel(), t.net.a])
    want = np.concatenate([net.W.ravel(), net.a]) - step
    assert np.linalg.norm(new - want) <= kappa_rtol(A) * np.linalg.norm(step) + 1e-14


def _silent(net, X):
    """No neuron fires on any input: training must stop with a NumericalError."""
    return not np.any(X @ net.W.T > net.shift)


@given(problem=problems(), eta=st.floats(1e-3, 1.0))
def test_gd_both_layers_equals_explicit_gradient(problem, eta):
    net, X, y = problem
    if _silent(net, X):
        with pytest.raises(NumericalError, match="no neuron fires"):
            make_trainer("gd", net, X, y, eta=eta, train_a=True).step()
        return
    r = dense_outputs(net.W, net.a, X, net.shift) - y
    gW = (dense_jacobian(net.W, net.a, X, net.shift).T @ r).reshape(net.W.shape)
    ga = jacobian_a(net.W, X, net.shift).T @ r
    t = make_trainer("gd", net, X, y, eta=eta, train_a=True)
    t.step()
    assert np.allclose(t.net.W, net.W - eta * gW, rtol=1e-13, atol=1e-15)
    assert np.allclose(t.net.a, net.a - eta * ga, rtol=1e-13, atol=1e-15)


@settings(max_examples=15)
@given(problem=problems(m_max=64), train_a=st.booleans(), eta=st.sampled_from([1e-3, 1e-2]))
def test_adam_matches_a_plain_implementation(problem, train_a, eta):
    net, X, y = problem
    W, a = net.W.copy(), net.a.copy()
    mW, vW, ma, va = (np.zeros_like(W), np.zeros_like(W), np.zeros_like(a), np.zeros_like(a))
    t = make_trainer("adam", net, X, y, eta=eta, train_a=train_a)
    if nothing_fires(dense_jacobian(W, a, X, net.shift), t):
        return
    for k in range(1, 4):
        r = dense_outputs(W, a, X, net.shift) - y
        gW = (dense_jacobian(W, a, X, net.shift).T @ r).reshape(W.shape)
        ga = jacobian_a(W, X, net.shift).T @ r
        mW = 0.9 * mW + 0.1 * gW
        vW = 0.999 * vW + 0.001 * gW**2
        newW = W - eta * (mW / (1 - 0.9**k)) / (np.sqrt(vW / (1 - 0.999**k)) + 1e-8)
        if train_a:
            ma = 0.9 * ma + 0.1 * ga
            va = 0.999 * va + 0.001 * ga**2
            a = a - eta * (ma / (1 - 0.9**k)) / (np.sqrt(va / (1 - 0.999**k)) + 1e-8)
        W = newW
        t.step()
        assert np.allclose(t.net.W, W, rtol=1e-11, atol=1e-13)
        assert np.allclose(t.net.a, a, rtol=1e-11, atol=1e-13)


@settings(max_examples=25)
@given(problem=problems(m_max=96), train_a=st.booleans(), batch=st.integers(1, 12),
       eta=st.sampled_from([None, 0.3]), sgd_seed=st.integers(0, 2**16))
def test_sgd_steps_match_a_dense_minibatch_gradient(problem, train_a, batch, eta, sgd_seed):
    """Three SGD steps against the explicit Jacobian of the batch each step reports:
    theta <- theta - eta (n / B) J_B^T (f_B - y_B); the default eta is (B / n) over the
    largest lambda_max(G_0[B, B]) of the first epoch's batches (drawn from the same seed:
    consecutive slices of one permutation, which the epoch's steps then use)."""
    net, X, y = problem
    n = X.shape[0]
    B = min(batch, n)
    if _silent(net, X):
        with pytest.raises(NumericalError, match="no neuron fires|is zero"):
            make_trainer("sgd", net, X, y, batch_size=batch, train_a=train_a, seed=sgd_seed).step()
        return
    J = np.hstack([dense_jacobian(net.W, net.a, X, net.shift)]
                  + ([jacobian_a(net.W, X, net.shift)] if train_a else []))
    G0 = J @ J.T
    order = np.random.default_rng(sgd_seed).permutation(n)
    epoch = [np.sort(order[k * B:(k + 1) * B]) for k in range(n // B)]
    lam = max(np.linalg.eigvalsh(G0[np.ix_(b, b)])[-1] for b in epoch)
    assume(lam > 1e-12)
    t = make_trainer("sgd", net, X, y, batch_size=batch, train_a=train_a, seed=sgd_seed,
                     **({} if eta is None else {"eta": eta}))
    want_eta = B / n / lam if eta is None else eta
    assert t.batch_size == B and t.eta == pytest.approx(want_eta, rel=1e-9)
    W, a = net.W.copy(), net.a.copy()
    for k in range(3):
        t.step()
        idx = t.last_batch
        if k < n // B:
            assert np.array_equal(idx, epoch[k]), "the first epoch's batches"
        Xb = X[idx]
        r = dense_outputs(W, a, Xb, net.shift) - y[idx]
        gW = (dense_jacobian(W, a, Xb, net.shift).T @ r).reshape(W.shape)
        ga = jacobian_a(W, Xb, net.shift).T @ r
        W = W - want_eta * n / B * gW
        if train_a:
            a = a - want_eta * n / B * ga
        assert np.allclose(t.net.W, W, rtol=1e-11, atol=1e-13)
        assert np.allclose(t.net.a, a, rtol=1e-11, atol=1e-13)
        assert t.residual == pytest.approx(np.linalg.norm(dense_outputs(W, a, X, net.shift) - y),
                                           rel=1e-9, abs=1e-12)


def test_sgd_epochs_cover_every_input_and_a_full_batch_is_gradient_descent():
    X, y = sphere_data(12, 4, seed=5)
    net = ShiftedReLUNet.init(200, 4, 0.3, seed=6)
    t = make_trainer("sgd", net, X, y, batch_size=4, seed=9)
    seen = []
    for _ in range(6):                       # two epochs of three batches
        t.step()
        seen.append(t.last_batch.copy())
    for e in (seen[:3], seen[3:]):
        assert sorted(np.concatenate(e).tolist()) == list(range(12))
    assert not all(np.array_equal(a, b) for a, b in zip(seen[:3], seen[3:])), "reshuffled"
    sgd, gd = make_trainer("sgd", net, X, y, batch_size=12), make_trainer("gd", net, X, y)
    assert sgd.eta == pytest.approx(gd.eta, rel=1e-12)
    for a, b in zip(sgd.run(3), gd.run(3)):
        assert a.residual_after == pytest.approx(b.residual_after, rel=1e-12)
    assert np.allclose(sgd.net.W, gd.net.W, rtol=1e-12, atol=1e-15)


def test_sgd_counts_and_times_only_its_batch():
    """A step is charged B m inner products and the batch's fired entries, not the
    full-batch forward pass that reports its residual."""
    X, y = sphere_data(16, 4, seed=1)
    net = ShiftedReLUNet.init(300, 4, 0.3, seed=2)
    t = make_trainer("sgd", net, X, y, batch_size=4, seed=3)
    res = t.step()
    fired = int(np.sum(X[t.last_batch] @ net.W.T > net.shift))
    assert res.counts["inner_products"] == 4 * 300 and res.counts["dense_flops"] == 0
    assert res.counts["jacobian_nnz"] == fired * 4
    assert res.claimed_terms == {"B m d": 4 * 300 * 4}
    assert res.times["gram"] == res.times["solve"] == res.times["tree"] == 0.0


@given(problem=problems(), mu=st.sampled_from([0.0, 1e-2]))
def test_second_layer_is_exact_least_squares(problem, mu):
    net, X, y = problem
    if _silent(net, X):
        with pytest.raises(NumericalError, match="no neuron fires"):
            make_trainer("second_layer", net, X, y, mu=mu).step()
        return
    Ja = jacobian_a(net.W, X, net.shift)
    A = Ja @ Ja.T + mu * np.eye(X.shape[0])
    assume(np.linalg.cond(A) < 1e8)
    r = dense_outputs(net.W, net.a, X, net.shift) - y
    step = Ja.T @ np.linalg.solve(A, r)
    t = make_trainer("second_layer", net, X, y, mu=mu)
    t.step()
    assert np.linalg.norm(t.net.a - (net.a - step)) <= kappa_rtol(A) * np.linalg.norm(step) + 1e-14
    assert np.array_equal(t.net.W, net.W), "the first layer must not move"
    if mu == 0:
        assert t.residual <= 1e-8 * max(1.0, np.linalg.norm(r))


def arccos_ntk(X):
    """First-layer ReLU NTK, b = 0: rho (pi - arccos rho) / (2 pi) (Cho & Saul)."""
    rho = np.clip(X @ X.T, -1, 1)
    return rho * (np.pi - np.arccos(rho)) / (2 * np.pi)


@given(n=st.integers(1, 10), d=st.integers(2, 6), seed=seeds)
def test_shifted_ntk_at_zero_shift_is_the_arccos_kernel(n, d, seed):
    X, _ = sphere_data(n, d, seed=seed)
    assert np.allclose(shifted_ntk(X, 0.0), arccos_ntk(X), rtol=1e-12, atol=1e-14)


@given(rho=st.floats(-0.999, 0.999), b=st.floats(0.0, 4.0))
def test_orthant_probability_against_scipy_bivariate_cdf(rho, b):
    # P(Z1 > b, Z2 > b) = P(-Z1 < -b, -Z2 < -b): the CDF of (-Z1, -Z2) (same correlation)
    want = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([-b, -b])
    assert float(orthant_probability(rho, b)) == pytest.approx(want, rel=1e-4, abs=1e-9)
    assert float(orthant_probability(1.0, b)) == pytest.approx(norm.sf(b))


@settings(max_examples=5)
@given(seed=seeds, b=st.floats(0.0, 2.0))
def test_shifted_ntk_against_monte_carlo(seed, b):
    """Each entry is a mean of N = 200000 bounded terms |.| <= 1: a 6-sigma band
    (false failure <= 2e-9 per entry, 36 entries)."""
    X, _ = sphere_data(6, 4, seed=seed)
    N = 200_000
    Wmc = np.random.default_rng(seed).standard_normal((N, 4))
    F = (X @ Wmc.T > b).astype(float)
    est = (X @ X.T) * (F @ F.T) / N
    assert np.all(np.abs(est - shifted_ntk(X, b)) <= 6 * 0.5 / math.sqrt(N))


@settings(max_examples=10)
@given(problem=problems(m_max=32, n_max=8), mu=st.sampled_from([1e-6, 1e-2]))
def test_ntk_krr_fit_and_prediction(problem, mu):
    net, X, y = problem
    H = shifted_ntk(X, net.shift)
    assume(np.linalg.cond(H + mu * np.eye(len(y))) < 1e10)
    alpha = np.linalg.solve(H + mu * np.eye(len(y)), y)
    t = make_trainer("ntk_krr", net, X, y, mu=mu)
    res = t.step()
    assert np.allclose(t.outputs, H @ alpha, rtol=1e-8, atol=1e-10)
    Xt, _ = sphere_data(5, X.shape[1], seed=99)
    rho = np.clip(Xt @ X.T, -1, 1)
    Hx = rho * orthant_probability(rho, net.shift)
    assert np.allclose(t.predict(Xt), Hx @ alpha, rtol=1e-8, atol=1e-10)
    assert res.residual_after == pytest.approx(np.linalg.norm(H @ alpha - y), rel=1e-8, abs=1e-12)


def test_lambda_bounds_formula():
    X, _ = sphere_data(5, 3, seed=0)
    lo, hi = lambda_bounds(X, 1.5)
    from verify_sublin import separation
    assert hi == pytest.approx(math.exp(-1.125))
    assert lo == pytest.approx(math.exp(-1.125) * separation(X) / 2500)


@pytest.mark.parametrize("name", ["diabetes", "digits", "sphere-teacher", "sphere-random"])
def test_datasets(name):
    ds = load_dataset(name, 60, 20, seed=4)
    assert ds.X_train.shape[0] == 60 and ds.X_test.shape[0] == 20
    assert np.allclose(np.linalg.norm(ds.X_train, axis=1), 1.0)
    assert np.all(np.abs(ds.y_train) <= 1.0) and np.all(np.isfinite(ds.X_test))
    again = load_dataset(name, 60, 20, seed=4)
    assert np.array_equal(ds.X_train, again.X_train) and np.array_equal(ds.y_test, again.y_test)
    if name in ("diabetes", "digits"):
        # no row of the test split appears in the training split
        assert not (np.abs(ds.X_test @ ds.X_train.T) > 1 - 1e-12).any()
        net = ShiftedReLUNet.init(64, ds.d, 0.5, seed=0)
        make_trainer("ggn", net, ds.X_train, ds.y_train, mu=1e-6).step()


@settings(max_examples=10)
@given(problem=problems(m_max=96, n_max=6, d_max=4, labels=("teacher",)))
def test_ggn_both_layers_over_several_steps(problem):
    """Three steps against the explicit-Jacobian iteration: once a is trained its entries
    leave {-1, +1}, which the Gram must account for (a_r^2 weights)."""
    net, X, y = problem
    W, a = net.W.copy(), net.a.copy()
    t = make_trainer("ggn", net, X, y, mu=1e-6, train_a=True)
    rtol = 1e-8
    for _ in range(3):
        J = np.hstack([dense_jacobian(W, a, X, net.shift), jacobian_a(W, X, net.shift)])
        if nothing_fires(J, t):
            return
        A = J @ J.T + 1e-6 * np.eye(X.shape[0])
        rtol = max(rtol, kappa_rtol(A))     # errors carry over from step to step
        step = J.T @ np.linalg.solve(A, dense_outputs(W, a, X, net.shift) - y)
        W, a = W - step[:W.size].reshape(W.shape), a - step[W.size:]
        t.step()
        scale = np.linalg.norm(step) + 1e-300
        assert np.linalg.norm(t.net.W - W) <= rtol * scale + 1e-13
        assert np.linalg.norm(t.net.a - a) <= rtol * scale + 1e-13


@given(problem=problems(), seed=seeds,
       method=st.sampled_from(["ggn", "sublinear_gn-tree", "sublinear_gn-cache",
                               "sublinear_gn-implicit", "sketched_gn"]))
def test_general_output_weights(problem, seed, method):
    """Output weights a need not be +-1 (the ablation trains them): one Gauss-Newton step
    of every method equals the explicit-Jacobian step for a random real a."""
    net, X, y = problem
    net = ShiftedReLUNet(net.W, np.random.default_rng(seed).normal(size=net.m) * 2.0, net.shift)
    J = dense_jacobian(net.W, net.a, X, net.shift)
    A = J @ J.T + 1e-3 * np.eye(X.shape[0])
    assume(np.linalg.cond(A) < 1e8)
    step = (J.T @ np.linalg.solve(A, dense_outputs(net.W, net.a, X, net.shift) - y))
    name, _, variant = method.partition("-")
    opts = {"tree": {"fire_sets": "tree"}, "cache": {"fire_sets": "cache"},
            "implicit": {"fire_sets": "cache", "preactivations": "implicit"}}.get(variant, {})
    t = make_trainer(name, net, X, y, mu=1e-3, **opts)
    if nothing_fires(J, t):
        return
    t.step()
    tol = 1e-6 if name == "sketched_gn" else 1e-10     # CG to tol 1e-10 relative residual
    assert np.linalg.norm(t.net.W - (net.W - step.reshape(net.W.shape))) <= \
        tol * np.linalg.cond(A) * np.linalg.norm(step) + 1e-13
