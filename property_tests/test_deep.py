"""The multi-layer net and its two trainers against independent computations.

References: the closed form of q(b) against quadrature; the model's derivatives
against central finite differences of its forward pass; deep_dense against the
model's dense formulas and, at depth 1, against the two-layer trainers; deep_sublinear
against deep_dense; a merge against the dense sum of the pending terms; fire sets and
counts against brute-force recomputation. The contract checks of
`test_trainer_contract.py` are repeated here for the deep methods, which take a
`DeepShiftedReLUNet`.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import (
    check_step_header,
    deep_solve_rtol,
    dense_outputs,
    kappa_rtol,
    nothing_fires,
    seeds,
)
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from verify_sublin import (
    DEEP_METHODS,
    METHODS,
    DeepShiftedReLUNet,
    InputError,
    NumericalError,
    ShiftedReLUNet,
    make_trainer,
    shift_for,
    sphere_data,
)
from verify_sublin.core.deep import hidden_scale, shifted_relu_second_moment


@st.composite
def deep_problems(draw, m_max=48, n_max=8, d_max=5, depth_max=4, c_max=0.9):
    """A small deep (net, X, y): L, m, n, d, c, scaling and seeds drawn."""
    depth = draw(st.integers(1, depth_max))
    m = draw(st.integers(8, m_max))
    n = draw(st.integers(1, n_max))
    d = draw(st.integers(2, d_max))
    c = draw(st.floats(0.0, c_max))
    scaling = draw(st.sampled_from(["normalized", "fixed"]))
    seed = draw(seeds)
    X, y = sphere_data(n, d, seed=seed)
    net = DeepShiftedReLUNet.init(m, d, depth, shift_for(m, c), seed=seed + 1, scaling=scaling)
    return net, X, y


def _problem(seed=3, m=40, n=6, d=4, depth=3, c=0.3, scaling="normalized"):
    X, y = sphere_data(n, d, seed=seed)
    return DeepShiftedReLUNet.init(m, d, depth, shift_for(m, c), seed + 1, scaling=scaling), X, y


def _moved_close(net0, ref, got, rel):
    """Every layer of `got` within rel * (how far `ref` moved from net0) of `ref`."""
    for W0, Wr, Wg in zip(net0.weights, ref.weights, got.weights):
        moved = np.linalg.norm(Wr - W0)
        assert np.linalg.norm(Wg - Wr) <= rel * moved + 1e-14


# ------------------------------------------------------------------ model
@given(b=st.floats(0.0, 8.0))
def test_second_moment_closed_form_matches_quadrature(b):
    want = integrate.quad(lambda z: (z - b) ** 2 * stats.norm.pdf(z), b, np.inf,
                          epsabs=0, epsrel=1e-12)[0]
    assert shifted_relu_second_moment(b) == pytest.approx(want, rel=1e-9, abs=1e-300)


@given(m=st.integers(1, 10**6), c=st.floats(0.0, 1.0))
def test_fixed_scale_normalises_the_second_moment(m, c):
    b = shift_for(m, c)
    assert hidden_scale(m, b) ** 2 * m * shifted_relu_second_moment(b) == pytest.approx(1.0)


@given(m=st.integers(1, 40), d=st.integers(1, 5), c=st.floats(0, 1), seed=seeds)
def test_depth_one_is_the_two_layer_model(m, d, c, seed):
    two = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed)
    deep = DeepShiftedReLUNet.init(m, d, 1, shift_for(m, c), seed=seed)
    assert np.array_equal(deep.weights[0], two.W) and np.array_equal(deep.a, two.a)
    X = np.eye(d)
    assert np.allclose(deep.forward(X), dense_outputs(two.W, two.a, X, two.shift),
                       rtol=1e-13, atol=1e-15)


@given(depth=st.integers(1, 4), m=st.integers(2, 12), d=st.integers(1, 4), seed=seeds,
       scaling=st.sampled_from(["normalized", "fixed"]))
def test_init_draws_layers_in_order_then_a(depth, m, d, seed, scaling):
    net = DeepShiftedReLUNet.init(m, d, depth, 0.5, seed, scaling=scaling)
    rng = np.random.default_rng(seed)
    want = [rng.standard_normal((m, d))] + [rng.standard_normal((m, m))
                                             for _ in range(depth - 1)]
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, want))
    assert np.array_equal(net.a, rng.choice(np.array([-1.0, 1.0]), size=m))


@settings(max_examples=10)
@given(seed=seeds, c=st.sampled_from([0.0, 0.4, 0.85]), depth=st.integers(2, 4))
def test_normalized_preactivations_are_standard_normal_at_init(seed, c, depth):
    """normalized scaling: each layer input has norm 1, so for one input x the m
    pre-activations of layer l are iid N(0, 1) given the layer's input (W_l is drawn
    independently of it), and sum_r z_{l,r}^2 ~ chi^2_m. Two-sided test at level
    1e-6 per layer: false-failure probability below 4e-6 per example."""
    m = 2048
    X, _ = sphere_data(1, 8, seed=seed)
    net = DeepShiftedReLUNet.init(m, 8, depth, shift_for(m, c), seed + 1)
    Us = net.layer_inputs(X)
    for U in Us[1:]:
        assert np.linalg.norm(U[0]) == pytest.approx(1.0, rel=1e-12)
    for Z in net.preactivations(X):
        p = stats.chi2.cdf(float(Z[0] @ Z[0]), df=m)
        assert 0.5e-6 < p < 1 - 0.5e-6


@pytest.mark.slow
@settings(max_examples=10)
@given(seed=seeds, c=st.sampled_from([0.0, 0.4, 0.85]))
def test_fixed_scale_gives_unit_variance_on_average(seed, c):
    """fixed scaling: for one input, z_1 is N(0, 1) iid over the m neurons, so
    c^2 ||h_1||^2 has mean exactly 1 and standard deviation
    sqrt((E sigma_b^4 - q^2) / m) / q (moments by quadrature). We accept 6 standard
    deviations: by Chebyshev the false-failure probability is below 1/36 for any law,
    and about 2e-9 for the nearly Gaussian sum of m = 4096 terms."""
    m = 4096
    b = shift_for(m, c)
    X, _ = sphere_data(1, 8, seed=seed)
    net = DeepShiftedReLUNet.init(m, 8, 2, b, seed + 1, scaling="fixed")
    U1 = net.layer_inputs(X)[1][0]
    q = integrate.quad(lambda z: (z - b) ** 2 * stats.norm.pdf(z), b, np.inf)[0]
    q4 = integrate.quad(lambda z: (z - b) ** 4 * stats.norm.pdf(z), b, np.inf)[0]
    sd = math.sqrt((q4 - q * q) / m) / q
    assert abs(float(U1 @ U1) - 1.0) <= 6 * sd


def _fd_jacobian(net, X, h=1e-6):
    """n x (all weights) Jacobian of the outputs by central differences."""
    cols = []
    for W in net.weights:
        for idx in np.ndindex(W.shape):
            keep = W[idx]
            W[idx] = keep + h
            fp = net.forward(X)
            W[idx] = keep - h
            fm = net.forward(X)
            W[idx] = keep
            cols.append((fp - fm) / (2 * h))
    return np.array(cols).T


@settings(max_examples=25)
@given(problem=deep_problems(m_max=9, n_max=3, d_max=3, depth_max=3, c_max=0.5))
def test_backward_matches_finite_differences(problem):
    net, X, _ = problem
    b = net.shift
    for Z in net.preactivations(X):
        assume(np.abs(Z - b).min() > 1e-3)          # no activation flips within +-h
    Us = net.layer_inputs(X)
    if net.scaling == "normalized":                   # 1 / ||h|| is smooth away from 0
        for Z in net.preactivations(X)[:-1]:
            assume(np.all(np.linalg.norm(np.maximum(Z - b, 0), axis=1) > 1e-3))
    J = _fd_jacobian(net, X)
    Ds = net.backward(X)
    analytic = np.hstack([np.stack([np.outer(D[i], U[i]).ravel() for i in range(X.shape[0])])
                          for D, U in zip(Ds, Us)])
    assert np.allclose(analytic, J, rtol=1e-6, atol=1e-8)
    assert np.allclose(net.gram(X), J @ J.T, rtol=1e-6, atol=1e-8)
    v = np.linspace(-1.0, 1.0, X.shape[0])
    grads = np.concatenate([G.ravel() for G in net.gradients(X, v)])
    assert np.allclose(grads, J.T @ v, rtol=1e-6, atol=1e-8)


@given(problem=deep_problems(m_max=30, depth_max=4))
def test_fire_sets_match_preactivations(problem):
    net, X, _ = problem
    for fs, Z in zip(net.fire_sets(X), net.preactivations(X)):
        assert [s.tolist() for s in fs.to_list()] == [
            [r for r in range(net.m) if Z[i, r] > net.shift] for i in range(X.shape[0])]


@pytest.mark.parametrize(
    ("make", "param"),
    [(lambda: DeepShiftedReLUNet([], np.ones(2), 0.0), "weights"),
     (lambda: DeepShiftedReLUNet(np.ones((2, 2)), np.ones(2), 0.0), "weights"),
     (lambda: DeepShiftedReLUNet([np.ones((2, 3)), np.ones((2, 3))], np.ones(2), 0.0),
      "weights[1]"),
     (lambda: DeepShiftedReLUNet([np.ones((2, 3))], np.ones(3), 0.0), "a"),
     (lambda: DeepShiftedReLUNet([np.ones((2, 3))], np.ones(2), -1.0), "shift"),
     (lambda: DeepShiftedReLUNet([np.ones((2, 3))], np.ones(2), 0.0, "layer"), "scaling"),
     (lambda: DeepShiftedReLUNet.init(4, 2, 0, 0.0, 0), "depth"),
     (lambda: DeepShiftedReLUNet.init(4, 2, 2, 0.0, -1), "seed"),
     (lambda: DeepShiftedReLUNet.init(4, 2, 2, 40.0, 0, scaling="fixed"), "shift"),
     (lambda: DeepShiftedReLUNet.init(4, 2, 2, 0.0, 0).forward(np.ones((2, 3))), "X")],
)
def test_bad_model_input_names_the_parameter(make, param):
    with pytest.raises(InputError, match=f"^{re.escape(param)}:"):
        make()


# --------------------------------------------------------- dense reference
@settings(max_examples=20)
@given(problem=deep_problems(), mu=st.sampled_from([0.0, 1e-3]),
       eta=st.sampled_from([None, 0.5]))
def test_one_dense_gn_step_equals_the_model_formula(problem, mu, eta):
    """W_l - eta D_l^T diag(g) U_{l-1} with (G + mu I) g = r, G from the model's dense
    Gram (itself checked against finite differences above)."""
    net, X, y = problem
    A = net.gram(X) + mu * np.eye(X.shape[0])
    assume(np.linalg.cond(A) < 1e8)
    g = (1.0 if eta is None else eta) * np.linalg.solve(A, net.forward(X) - y)
    want = [W - G for W, G in zip(net.weights, net.gradients(X, g))]
    trainer = make_trainer("deep_dense", net, X, y, mu=mu, eta=eta)
    if nothing_fires(net.gram(X), trainer):     # G = J J^T = 0 exactly when J = 0
        return
    trainer.step()
    for W, Wt, W0 in zip(want, trainer.net.weights, net.weights):
        assert np.linalg.norm(Wt - W) <= kappa_rtol(A) * np.linalg.norm(W - W0) + 1e-14


@settings(max_examples=20)
@given(problem=deep_problems())
def test_one_dense_gd_step_and_default_step_size(problem):
    net, X, y = problem
    G = net.gram(X)
    top = np.linalg.eigvalsh(G)[-1]
    assume(top > 1e-12)
    trainer = make_trainer("deep_dense", net, X, y, update="gd")
    assert trainer.eta == pytest.approx(1 / top, rel=1e-10)
    grads = net.gradients(X, trainer.eta * (net.forward(X) - y))
    trainer.step()
    for W, G_, Wt in zip(net.weights, grads, trainer.net.weights):
        assert np.allclose(Wt, W - G_, rtol=1e-12, atol=1e-14)


@settings(max_examples=10)
@given(m=st.integers(8, 300), n=st.integers(1, 8), d=st.integers(2, 6), c=st.floats(0, 0.8),
       seed=seeds, update=st.sampled_from(["gn", "gd"]))
def test_depth_one_trainers_reproduce_the_two_layer_trainers(m, n, d, c, seed, update):
    """At L = 1 both deep trainers must give the iterates of ggn / gd."""
    X, y = sphere_data(n, d, seed=seed)
    two = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed + 1)
    deep = DeepShiftedReLUNet.init(m, d, 1, shift_for(m, c), seed=seed + 1)
    assume(np.any(X @ two.W.T > two.shift))   # nothing fires: refusal, tested elsewhere
    mu = 1e-3 if update == "gn" else 0.0
    ref = make_trainer("ggn" if update == "gn" else "gd", two, X, y,
                       **({"mu": mu} if update == "gn" else {}))
    eta = {} if update == "gn" else {"eta": ref.eta}
    deeps = [make_trainer(meth, deep, X, y, update=update, mu=mu, **eta)
             for meth in ("deep_dense", "deep_sublinear")]
    for _ in range(3):
        a = ref.step()
        for t in deeps:
            b = t.step()
            assert np.array_equal(a.fire_set_sizes, b.fire_set_sizes)
            moved = np.linalg.norm(ref.net.W - two.W)
            assert np.linalg.norm(t.net.weights[0] - ref.net.W) <= 1e-10 * moved + 1e-14
            assert b.residual_after == pytest.approx(a.residual_after, rel=1e-9, abs=1e-13)


def test_gauss_newton_contracts_on_the_normalized_net():
    """Empirical regime check (not a theorem): m = 1024, n = 16, d = 8, L = 3,
    c = 0.4, teacher labels. Gauss-Newton lowers the residual every step and by
    100x in 8 steps, for both trainers."""
    X, y = sphere_data(16, 8, seed=0)
    net = DeepShiftedReLUNet.init(1024, 8, 3, shift_for(1024, 0.4), seed=1)
    for method in ("deep_dense", "deep_sublinear"):
        steps = make_trainer(method, net, X, y).run(8)
        assert all(s.residual_after < s.residual_before for s in steps)
        assert steps[-1].residual_after <= 1e-2 * steps[0].residual_before


# ------------------------------------------------------ sublinear vs dense
@settings(max_examples=60)
@given(problem=deep_problems(m_max=64), update=st.sampled_from(["gn", "gd"]),
       mu=st.sampled_from([0.0, 1e-3]),
       threshold=st.sampled_from(["0", "default", "2n+1", "never"]))
def test_sublinear_reproduces_dense_iterates(problem, update, mu, threshold):
    """Same iterates as deep_dense to 1e-9 relative (to how far the weights moved; more
    where the Gauss-Newton steps' conditioning allows no better, helpers.kappa_rtol)
    over 4 steps, with merges every step, every second (the default: threshold n) or
    third step, or never."""
    net, X, y = problem
    n = X.shape[0]
    thr = {"0": 0, "default": n, "2n+1": 2 * n + 1, "never": 10**9}[threshold]
    option = None if threshold == "default" else thr
    mu = mu if update == "gn" else 0.0
    try:
        ref = make_trainer("deep_dense", net, X, y, update=update, mu=mu)
    except NumericalError:   # gd: no neuron fires in the last layer, no default step
        return
    sub = make_trainer("deep_sublinear", net, X, y, update=update, mu=mu,
                       merge_threshold=option, eta=ref.eta)
    merges = pending = 0
    rtol = 1e-9
    for _t in range(4):
        if update == "gn":   # iterates agree to what the step's conditioning allows
            rtol = max(rtol, deep_solve_rtol(ref.net, X, mu))
        try:
            a = ref.step()
        except NumericalError:
            with pytest.raises(NumericalError):
                sub.step()
            event("singular Gram: both trainers refuse the step")
            return
        b = sub.step()
        pending += n
        if net.depth > 1 and pending > thr:
            merges, pending = merges + 1, 0
        assert sub.merges == merges and sub.pending_rank == [pending] * (net.depth - 1)
        assert np.array_equal(b.fire_set_sizes, a.fire_set_sizes)
        assert np.array_equal(sub.layer_sizes, ref.layer_sizes)
        assert np.array_equal(b.flips, a.flips) and b.union_size == a.union_size
        _moved_close(net, ref.net, sub.net, rtol)
        assert np.allclose(sub.outputs, ref.outputs, rtol=rtol, atol=1e-12)
        assert b.residual_after == pytest.approx(a.residual_after, rel=rtol, abs=1e-12)
    event(f"4 steps compared, {merges} merge(s)")


@settings(max_examples=15)
@given(problem=deep_problems(m_max=64, depth_max=4), steps=st.integers(1, 3))
def test_merge_leaves_effective_weights_unchanged(problem, steps):
    """Weights read before a merge (W^0 plus the pending terms, added densely one term at
    a time) equal the merged W^0 (scatter-added by the compiled kernel) to rounding,
    and so do the outputs (model forward at the merged weights)."""
    net, X, y = problem
    assume(net.depth > 1)
    sub = make_trainer("deep_sublinear", net, X, y, mu=1e-3, merge_threshold=10**9)
    done = 0
    for _ in range(steps):
        try:
            sub.step()
        except NumericalError as exc:     # the last layer went silent: a refused step
            assert "no neuron fires" in str(exc)   # must leave nothing pending
            break
        done += 1
    assume(done > 0)
    before = [W.copy() for W in sub.net.weights]
    assert sub.pending_rank == [done * X.shape[0]] * (net.depth - 1)
    sub.merge()
    assert sub.pending_rank == [0] * (net.depth - 1) and sub.merges == 1
    after = sub.net.weights
    for Wb, Wa in zip(before, after):
        assert np.allclose(Wa, Wb, rtol=1e-14, atol=1e-14 * max(1.0, np.abs(Wb).max()))
    assert np.allclose(sub.net.forward(X), sub.outputs, rtol=1e-12, atol=1e-13)


def test_merge_writes_only_the_terms_supports():
    """A merge touches exactly the entries (S_l(x_i), S_{l-1}(x_i)) of the step's fire
    sets, never a dense block: every other entry of W^0 keeps its bits."""
    net, X, y = _problem(m=60, n=4, depth=3, c=0.6)
    fires = net.fire_sets(X)
    sub = make_trainer("deep_sublinear", net, X, y, merge_threshold=10**9)
    sub.step()
    sub.merge()
    for layer in range(1, 3):
        touched = np.zeros((net.m, net.m), bool)
        for i in range(X.shape[0]):
            touched[np.ix_(fires[layer][i], fires[layer - 1][i])] = True
        same = sub.net.weights[layer] == net.weights[layer]
        assert same[~touched].all() and not same[touched].all()


@pytest.mark.parametrize("method", ["deep_dense", "deep_sublinear"])
def test_a_step_allocates_no_m_by_m_array(method):
    """Neither the dense update (an in-place rank-n BLAS update) nor a merge (scatter-
    add of the terms' supports) may build an m x m temporary: numpy's allocations,
    traced by tracemalloc, stay below a quarter of one hidden layer."""
    import tracemalloc

    net, X, y = _problem(m=1024, n=8, d=4, depth=3, c=0.4)
    trainer = make_trainer(method, net, X, y)
    trainer.step()
    tracemalloc.start()
    try:
        trainer.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024 * 8 / 4


# ---------------------------------------------------------------- contract
VARIANTS = [
    ("deep_dense", {}), ("deep_dense", {"update": "gd"}),
    ("deep_sublinear", {}), ("deep_sublinear", {"update": "gd"}),
    ("deep_sublinear", {"merge_threshold": 0}), ("deep_sublinear", {"merge_threshold": 5}),
]


def test_deep_methods_are_registered():
    assert {"deep_dense", "deep_sublinear"} <= DEEP_METHODS <= set(METHODS)


@pytest.mark.parametrize(("method", "opts"), VARIANTS)
@settings(max_examples=8)
@given(problem=deep_problems(m_max=40, n_max=6, c_max=0.5))
def test_step_reports_what_happened(method, opts, problem):
    net, X, y = problem
    W0 = [W.copy() for W in net.weights]
    X0, y0 = X.copy(), y.copy()
    mu = {} if opts.get("update") == "gd" else {"mu": 1e-3}
    try:
        trainer = make_trainer(method, net, X, y, **mu, **opts)
    except NumericalError:     # gd on a net whose last layer never fires: no step size
        return
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, W0))
    prev_after = trainer.residual
    for t in range(3):
        before = trainer.net.copy()
        if nothing_fires(before.gram(X), trainer):   # the last layer fell silent
            return
        res = trainer.step()
        check_step_header(res, t, prev_after)
        after = trainer.net
        want_f = after.forward(X)
        assert np.allclose(trainer.outputs, want_f, rtol=1e-9, atol=1e-12)
        assert res.residual_after == pytest.approx(np.linalg.norm(want_f - y), rel=1e-9,
                                                   abs=1e-12)
        S_before = [fs.to_list() for fs in before.fire_sets(X)]
        S_after = [fs.to_list() for fs in after.fire_sets(X)]
        sizes = np.array([[s.size for s in layer] for layer in S_before])
        assert np.array_equal(res.fire_set_sizes, sizes.sum(axis=0))
        assert np.array_equal(trainer.layer_sizes,          # of the current weights
                              [[s.size for s in layer] for layer in S_after])
        assert res.union_size == sum(np.unique(np.concatenate(layer)).size
                                     for layer in S_before)
        flips = [[len(set(a.tolist()) ^ set(b.tolist())) for a, b in zip(la, lb)]
                 for la, lb in zip(S_before, S_after)]
        assert np.array_equal(res.flips, np.sum(flips, axis=0))
        assert res.claimed_cost == pytest.approx(sum(res.claimed_terms.values()))
        prev_after = res.residual_after
    assert np.array_equal(X, X0) and np.array_equal(y, y0)


@pytest.mark.parametrize(("method", "opts"), VARIANTS)
def test_counts_are_deterministic(method, opts):
    net, X, y = _problem()
    runs = []
    for _ in range(2):
        trainer = make_trainer(method, net, X, y, **opts)
        runs.append([(dict(r.counts), r.residual_after) for r in trainer.run(3)])
    assert runs[0] == runs[1]


def test_counted_work_matches_the_fire_sets():
    """deep_sublinear's counted forward, backward and merge work, recomputed from
    brute-force fire sets; deep_dense's from the sizes alone."""
    net, X, y = _problem(m=50, n=5, d=3, depth=3, c=0.5)
    n, m, d, L = 5, 50, 3, 3
    sub = make_trainer("deep_sublinear", net, X, y, mu=1e-3, merge_threshold=0)
    dense = make_trainer("deep_dense", net, X, y, mu=1e-3)
    for _ in range(2):
        sizes_old = [np.diff(fs.indptr) for fs in sub.net.fire_sets(X)]
        res = sub.step()
        sizes_new = [np.diff(fs.indptr) for fs in sub.net.fire_sets(X)]
        w = sub.last_work
        pairs = sum(int(sizes_old[k] @ sizes_old[k - 1]) for k in range(1, L))
        assert w["backward_fired"] == pairs and w["merge"] == pairs
        assert w["forward_fired"] == m * sum(int(s.sum()) for s in sizes_new[:-1])
        assert w["update_input"] == int(sizes_old[0].sum()) * d
        assert res.counts["inner_products"] == n * m
        assert res.counts["jacobian_nnz"] == int(sizes_old[0].sum()) * d
        assert res.counts["preactivation_updates"] == L * n * m
        dres = dense.step()
        assert dres.counts["dense_flops"] >= 3 * (L - 1) * n * m * m
        assert dres.counts["dense_flops"] - 3 * (L - 1) * n * m * m < 3 * (L - 1) * n * m * m


def test_unused_options_are_rejected_both_ways():
    net, X, y = _problem()
    for method in sorted(DEEP_METHODS):
        uses = METHODS[method].uses
        for name, value in [("sketch", "gaussian"), ("refresh_every", 3), ("solver", "sketch"),
                            ("fire_sets", "cache"), ("train_a", True),
                            ("merge_threshold", 4)]:
            if name not in uses:
                with pytest.raises(InputError, match=f"^{name}:"):
                    make_trainer(method, net, X, y, **{name: value})
    two = ShiftedReLUNet.init(40, 4, 0.5, seed=0)
    for method in sorted(set(METHODS) - DEEP_METHODS):
        for name, value in [("update", "gd"), ("merge_threshold", 4)]:
            with pytest.raises(InputError, match=f"^{name}:"):
                make_trainer(method, two, X, y, **{name: value})


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [({"update": "adam"}, "update"), ({"merge_threshold": -1}, "merge_threshold"),
     ({"merge_threshold": 2.0}, "merge_threshold"), ({"update": "gd", "mu": 0.1}, "mu"),
     ({"eta": 0.0}, "eta")],
)
def test_bad_options(kwargs, param):
    net, X, y = _problem()
    method = "deep_dense" if "merge_threshold" not in kwargs else "deep_sublinear"
    with pytest.raises(InputError, match=f"^{param}:"):
        make_trainer(method, net, X, y, **kwargs)


@pytest.mark.parametrize(
    ("mutate", "param"),
    [(lambda net, X, y: (net, X[:, :3], y), "X"),
     (lambda net, X, y: (net, X, y[:-1]), "y"),
     (lambda net, X, y: (net, 2 * X, y), "X"),
     (lambda net, X, y: (ShiftedReLUNet.init(8, 4, 0.0, seed=0), X, y), "net")],
)
def test_bad_data(mutate, param):
    net, X, y = _problem()
    net, X, y = mutate(net, X, y)
    for method in sorted(DEEP_METHODS):
        with pytest.raises(ValueError, match=f"^{param}:"):
            make_trainer(method, net, X, y)
    if param == "net":
        deep, X, y = _problem()
        for method in sorted(set(METHODS) - DEEP_METHODS):
            with pytest.raises(InputError, match="^net:"):
                make_trainer(method, deep, X, y)


# --------------------------------------------------------- measurement layer
def test_speed_deep_reports_are_consistent():
    """Bookkeeping of `speed_deep` at toy sizes (no speed is asserted): the ratio is the
    quotient of the medians, the exponents are least-squares slopes of the series
    (recomputed with numpy), the initialisation counts follow (L - 1) m^2 + m d plus the
    first forward pass, and merging every k steps over a window of w steps merges w/k
    times."""
    from verify_sublin.bench.speed_deep import compare_deep, deep_scaling, merge_threshold_effect

    kw = dict(n=4, d=3, depth=3, c=0.4, seed=2, steps=2, warmup=1)
    sc = deep_scaling([24, 48], **kw)
    for j, m in enumerate(sc["ms"]):
        run = sc["runs"][j]
        dense, sub = run["rows"]["deep_dense"], run["rows"]["deep_sublinear"]
        assert run["ratio"] == dense["median"] / sub["median"]
        assert run["ratio_mean"] == pytest.approx(np.mean(dense["times"]) / np.mean(sub["times"]))
        assert dense["median"] == np.median(dense["times"]) and len(dense["times"]) == 2
        n, d, L = 4, 3, 3
        assert dense["init_ops"] == m * d + (L - 1) * m * m + n * m * d + (L - 1) * n * m * m \
            + L * n * m
        assert sub["init_ops"] < dense["init_ops"]
        assert sc["series"]["deep_sublinear"]["ratio"][j] == run["ratio"]
    for name in ("deep_dense", "deep_sublinear"):
        s = sc["series"][name]
        for key, series in (("time", "median"), ("ops", "total_ops"), ("init_ops", "init_ops")):
            want = np.polyfit(np.log(sc["ms"]), np.log(s[series]), 1)[0]
            assert sc["exponents"][name][key] == pytest.approx(want, rel=1e-12)
    assert sc["exponents"]["deep_dense"]["claimed"] == pytest.approx(2.0, abs=0.1)
    one = compare_deep(24, methods=["deep_sublinear"], **kw)
    assert set(one["rows"]) == {"deep_sublinear"} and "ratio" not in one
    mt = merge_threshold_effect(32, n=4, d=3, depth=2, c=0.4, seed=2, periods=[1, 2, 3],
                                window=6)
    assert {k: r["merges"] for k, r in mt["rows"].items()} == {1: 6, 2: 3, 3: 2}
    assert {k: r["merge_threshold"] for k, r in mt["rows"].items()} == {1: 0, 2: 4, 3: 8}
    assert mt["best"] in (1, 2, 3)
    with pytest.raises(InputError, match="^ms:"):
        deep_scaling([24], **kw)


def test_speed_deep_command_prints_the_tables(capsys):
    from verify_sublin.cli import main

    status = main(["speed-deep", "--m", "32", "--n", "4", "--d", "3", "--c", "0.4",
                   "--steps", "1", "--slopes", "16,32", "--periods", "1,2", "--window", "2"])
    out = capsys.readouterr().out
    assert status == 0
    for text in ("speed ratio deep_dense / deep_sublinear", "Exponents over m = 2^4, 2^5",
                 "merge every", "fastest: merge every"):
        assert text in out


def test_memory_guard_counts_the_hidden_weight_copies():
    """The (L - 1) m^2 hidden weights a deep trainer copies are checked before it
    allocates them: at m = 600, L = 3 they take 2 * 600^2 * 8 B = 5.8 MB, above a 4 MiB
    limit that the two-layer part of the estimate (weights m x d, buffers) stays under."""
    from verify_sublin import MemoryLimitError
    from verify_sublin.core.memory import set_memory_limit
    net, X, y = _problem(m=600, n=4, d=3, depth=3, c=0.5)
    set_memory_limit(4 * 2**20)
    try:
        for method in sorted(DEEP_METHODS):
            with pytest.raises(MemoryLimitError, match=rf"^m: .*method '{method}'.*2 hidden m x m"):
                make_trainer(method, net, X, y, mu=1e-3)
    finally:
        set_memory_limit(None)
    set_memory_limit(64 * 2**20)
    try:
        for method in sorted(DEEP_METHODS):
            make_trainer(method, net, X, y, mu=1e-3)
    finally:
        set_memory_limit(None)
