"""Gram, GGN and GD steps against the explicit Jacobian, and convergence."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import dense_jacobian, dense_outputs, kappa_rtol, nothing_fires, problems, seeds
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from verify_sublin import NumericalError, ShiftedReLUNet, make_trainer, shift_for, sphere_data
from verify_sublin.core.solvers import (
    dense_gram,
    dense_gram_flops,
    dense_mask,
    gram_from_patterns,
    solve_gram,
)


@given(problem=problems())
def test_gram_from_fire_sets_equals_j_jt(problem):
    net, X, _ = problem
    trainer = make_trainer("ggn", net, X, np.zeros(X.shape[0]))
    G, _ = gram_from_patterns(trainer.fire_sets.union_patterns(), X @ X.T, net.m)
    J = dense_jacobian(net.W, net.a, X, net.shift)
    assert np.allclose(G, J @ J.T, rtol=1e-12, atol=1e-15)


@given(problem=problems(), columns=st.sampled_from([1, 5, 64, 2**15]))
def test_textbook_dense_gram_equals_j_jt(problem, columns):
    """The textbook Gram (J formed in blocks, BLAS syrk) equals J J^T of the explicit
    Jacobian whatever the block size, and its flop count is the documented formula."""
    net, X, _ = problem
    trainer = make_trainer("ggn", net, X, np.zeros(X.shape[0]))
    mask = dense_mask(trainer.fire_sets.union_patterns(), np.ones((X.shape[0], net.m), bool))
    assert np.array_equal(mask, X @ net.W.T > net.shift)
    G, flops = dense_gram(mask, net.a / np.sqrt(net.m), X, columns=columns)
    J = dense_jacobian(net.W, net.a, X, net.shift)
    assert np.allclose(G, J @ J.T, rtol=1e-12, atol=1e-15) and np.array_equal(G, G.T)
    n, (m, d) = X.shape[0], net.W.shape
    assert flops == dense_gram_flops(m, n, d) == m * d * n * (n + 1) // 2 + n * m * (d + 1)


@settings(max_examples=30)
@given(problem=problems(), mu=st.sampled_from([0.0, 1e-4]))
def test_textbook_ggn_takes_ggns_steps_and_counts_the_dense_product(problem, mu):
    """gram="dense" changes how G is formed, not the step: the same iterates as ggn (to
    the Gram's conditioning), and counts that differ exactly by the Gram's: the dense
    product's m d n (n + 1) / 2 + n m (d + 1) instead of the pair count + n^2."""
    net, X, y = problem
    J = dense_jacobian(net.W, net.a, X, net.shift)
    A = J @ J.T + mu * np.eye(X.shape[0])
    assume(np.linalg.cond(A) < 1e8)
    ggn = make_trainer("ggn", net, X, y, mu=mu)
    textbook = make_trainer("textbook ggn", net, X, y, mu=mu)
    assert textbook.options.gram == "dense"
    if nothing_fires(J, ggn):
        return
    pairs_before = ggn.fire_sets.union_patterns().pair_count()
    a, b = ggn.step(), textbook.step()
    assert np.linalg.norm(textbook.net.W - ggn.net.W) <= \
        kappa_rtol(A) * max(np.linalg.norm(net.W - ggn.net.W), 1e-300) + 1e-14
    n, (m, d) = X.shape[0], net.W.shape
    pairs = a.counts["dense_flops"] - (n**3 // 3 + 2 * n * n)
    assert b.counts["dense_flops"] - (n**3 // 3 + 2 * n * n) == dense_gram_flops(m, n, d)
    assert pairs == pairs_before + n * n
    assert {k: v for k, v in a.counts.items() if k != "dense_flops"} == \
        {k: v for k, v in b.counts.items() if k != "dense_flops"}


def test_textbook_ggn_refuses_the_second_layer():
    X, y = sphere_data(4, 3, seed=0)
    net = ShiftedReLUNet.init(64, 3, 0.0, seed=1)
    with pytest.raises(Exception, match="^train_a: expected False with gram='dense'"):
        make_trainer("textbook ggn", net, X, y, train_a=True)
    with pytest.raises(Exception, match="^gram: expected 'pairs', 'blas' or 'auto'"):
        make_trainer("second_layer", net, X, y, gram="dense")


@given(problem=problems(), mu=st.sampled_from([0.0, 1e-4, 0.1]), eta=st.sampled_from([None, 0.5]))
def test_one_ggn_step_equals_explicit_jacobian_step(problem, mu, eta):
    net, X, y = problem
    J = dense_jacobian(net.W, net.a, X, net.shift)
    A = J @ J.T + mu * np.eye(X.shape[0])
    assume(np.linalg.cond(A) < 1e8)
    r = dense_outputs(net.W, net.a, X, net.shift) - y
    g = np.linalg.lstsq(A, r, rcond=None)[0]
    step = (1.0 if eta is None else eta) * (J.T @ g)
    want = net.W - step.reshape(net.W.shape)
    trainer = make_trainer("ggn", net, X, y, mu=mu, eta=eta)
    if nothing_fires(J, trainer):
        return
    trainer.step()
    err = np.linalg.norm(trainer.net.W - want)
    assert err <= kappa_rtol(A) * max(np.linalg.norm(step), 1e-300) + 1e-14


@given(problem=problems(), eta=st.floats(1e-3, 2.0))
def test_one_gd_step_equals_w_minus_eta_jt_r(problem, eta):
    net, X, y = problem
    J = dense_jacobian(net.W, net.a, X, net.shift)
    r = dense_outputs(net.W, net.a, X, net.shift) - y
    want = net.W - eta * (J.T @ r).reshape(net.W.shape)
    trainer = make_trainer("gd", net, X, y, eta=eta)
    if nothing_fires(J, trainer):
        return
    trainer.step()
    assert np.allclose(trainer.net.W, want, rtol=1e-13, atol=1e-15)


def test_gd_default_step_size_is_inverse_top_eigenvalue():
    X, y = sphere_data(6, 3, seed=1)
    net = ShiftedReLUNet.init(200, 3, 0.2, seed=1)
    J = dense_jacobian(net.W, net.a, X, net.shift)
    trainer = make_trainer("gd", net, X, y)
    assert trainer.eta == pytest.approx(1 / np.linalg.eigvalsh(J @ J.T)[-1], rel=1e-12)


def test_empty_fire_set_is_diagnosed():
    X, y = sphere_data(4, 3, seed=0)
    net = ShiftedReLUNet.init(64, 3, shift=0.0, seed=0)
    net.W[:] = 0.0
    net.W[:, 0] = 5.0 * np.sign(X[0, 0])  # every neuron is (+-5, 0, 0): fires on x_0
    X = X.copy()
    X[1] = -X[0]                           # so x_1 = -x_0 fires nothing
    trainer = make_trainer("ggn", net, X, y)
    with pytest.raises(NumericalError, match=r"step 0: .*input\(s\) 1.* empty fire set"):
        trainer.step()
    res = make_trainer("ggn", net, X, y, mu=1e-2).step()
    assert np.isfinite(res.residual_after) and res.residual_after < res.residual_before


@settings(max_examples=40)
@given(n=st.integers(2, 40), rank=st.integers(1, 39), seed=seeds,
       scale=st.sampled_from([1e-6, 1.0, 1e6]))
def test_gram_singular_to_rounding_is_refused_whatever_the_rounding(n, rank, seed, scale):
    """G = B B^T of rank < n, each entry perturbed by a few roundings (as two trainers
    summing the same G in different orders would): the solve refuses it for every
    perturbation, so no two trainers can disagree on refusing. Lifting the smallest
    eigenvalue to 1e-9 of the largest (kappa 1e9, far from singular) is always solved."""
    assume(rank < n)
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((n, rank))
    G0 = scale * (B @ B.T)
    r = rng.standard_normal(n)
    top = np.linalg.eigvalsh(G0)[-1]
    for _ in range(5):
        E = G0 * rng.standard_normal((n, n)) * (4 * np.finfo(float).eps)
        with pytest.raises(NumericalError, match="not numerically positive definite"):
            solve_gram(G0 + (E + E.T) / 2, r, 0.0)
    g, _ = solve_gram(G0, r, 1e-9 * top)
    A = G0 + 1e-9 * top * np.eye(n)
    assert np.linalg.norm(A @ g - r) <= 1e-4 * np.linalg.norm(r)


# --------------------------------------------------------------- convergence
# Regime: m = 4096, n = 16, d = 8, b = shift_for(m) (c = 0.4), teacher labels.
CONV = dict(m=4096, n=16, d=8)


@settings(max_examples=12)
@given(seed=seeds)
def test_ggn_contracts_by_two_per_step_until_1e_10(seed):
    X, y = sphere_data(CONV["n"], CONV["d"], seed=seed, labels="teacher")
    net = ShiftedReLUNet.init(CONV["m"], CONV["d"], shift_for(CONV["m"]), seed=seed + 1)
    trainer = make_trainer("ggn", net, X, y)
    steps = trainer.run(30, tol=1e-10)
    assert steps and steps[-1].residual_after < 1e-10
    for res in steps:
        assert res.residual_after <= 0.5 * res.residual_before, (res.step, res.contraction)


@settings(max_examples=6)
@given(seed=seeds)
def test_gd_with_inverse_top_eigenvalue_decreases_monotonically(seed):
    X, y = sphere_data(CONV["n"], CONV["d"], seed=seed, labels="teacher")
    net = ShiftedReLUNet.init(CONV["m"], CONV["d"], shift_for(CONV["m"]), seed=seed + 1)
    trainer = make_trainer("gd", net, X, y)
    loss = 0.5 * trainer.residual**2
    for _ in range(2000):
        if loss < 1e-20:
            break
        res = trainer.step()
        new = 0.5 * res.residual_after**2
        assert new < loss, (res.step, new, loss)
        loss = new
    assert loss < 1e-20


# ------------------------------------------------------------------ BLAS Gram
@given(problem=problems(m_max=300, n_max=16), block=st.sampled_from([1, 3, 4096]),
       seed=seeds)
def test_blas_gram_equals_the_pair_count_gram(problem, block, seed):
    """gram_blas (dense products of the fire masks in blocks of neurons) gives the pair
    sums' Gram bit for bit with unit output weights (integer counts), and to rounding with
    weights a^2 and with the activations (the second layer's Gram)."""
    import verify_sublin.core.solvers as S
    from verify_sublin.core.kernels.gram_kernels import gram_weighted
    net, X, _ = problem
    pat = make_trainer("ggn", net, X, np.zeros(X.shape[0]))._fire
    Kx, m = X @ X.T, net.m
    old, S.BLAS_GRAM_BLOCK = S.BLAS_GRAM_BLOCK, block
    try:
        assert np.array_equal(S.gram_blas(pat, Kx, m), gram_from_patterns(pat, Kx, m)[0])
        a = np.random.default_rng(seed).uniform(-2, 2, pat.size)
        assert np.allclose(S.gram_blas(pat, Kx, m, a), gram_from_patterns(pat, Kx, m, a)[0],
                           rtol=1e-12, atol=1e-15)
        want = gram_weighted(pat.nptr, pat.ninputs, pat.values, X.shape[0]) / m
        assert np.allclose(S.gram_blas(pat, None, m, values=pat.values), want, rtol=1e-12,
                           atol=1e-15)
    finally:
        S.BLAS_GRAM_BLOCK = old


@given(problem=problems(m_max=300, n_max=10, c_max=0.5), paired=st.booleans(),
       method=st.sampled_from([("ggn", False), ("ggn", True), ("second_layer", False)]),
       gram=st.sampled_from(["blas", "auto"]))
def test_ggn_with_blas_gram_makes_the_same_iterates(problem, paired, method, gram):
    """Gauss-Newton (second layer fixed or trained) and the second layer alone with
    gram="blas" or "auto" step through the same iterates as with the pair sums: bit for
    bit with a fixed +-1 second layer, to rounding otherwise; both refuse the same step."""
    from helpers import lockstep
    net, X, y = problem
    if paired:
        net = ShiftedReLUNet.init(2 * (net.m // 2), net.d, net.shift, seed=7, paired=True)
    name, train_a = method
    kw = {"train_a": train_a} if name == "ggn" else {}
    ref = make_trainer(name, net, X, y, mu=1e-6, **kw)
    other = make_trainer(name, net, X, y, mu=1e-6, gram=gram, **kw)
    for a, b in lockstep(ref, other, 4):
        if name == "ggn" and not train_a:
            assert a.residual_after == b.residual_after
            assert np.array_equal(ref.net.W, other.net.W)
        else:
            scale = 1e-7 * max(1.0, a.residual_before)
            assert abs(a.residual_after - b.residual_after) <= scale
            assert np.allclose(ref.net.W, other.net.W, rtol=1e-7, atol=1e-9)
            assert np.allclose(ref.net.a, other.net.a, rtol=1e-7, atol=1e-9)


def test_auto_gram_picks_blas_where_half_the_neurons_fire():
    """The cost model: BLAS once a neuron fires on more than about 1 / sqrt(32) of the
    inputs (c = 0: half of them), the pair sums at the papers' shift; the counted work
    follows the choice (n^2 |U| per layer with BLAS, sum_r |p_r|^2 with pairs)."""
    from verify_sublin.core.solvers import blas_is_faster
    X, y = sphere_data(64, 8, seed=1)
    for c, want in [(0.0, True), (0.48, False)]:
        net = ShiftedReLUNet.init(2**12, 8, shift_for(2**12, c), seed=2)
        t = make_trainer("ggn", net, X, y, mu=1e-8, gram="auto")
        pat = t._fire
        assert blas_is_faster(pat) is want
        flops = t.step().counts["dense_flops"]
        work = 64 * 64 * pat.size if want else pat.pair_count()
        assert flops == work + 64 * 64 + 64**3 // 3 + 2 * 64 * 64
