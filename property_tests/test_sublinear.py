"""Sublinear and sketched Gauss-Newton against the dense Gram-Gauss-Newton reference."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import lockstep, problems, seeds, solve_rtol
from hypothesis import given, settings
from hypothesis import strategies as st

from verify_sublin import NumericalError, ShiftedReLUNet, make_trainer, shift_for, sphere_data

SUBLINEAR_EXACT = [
    dict(fire_sets=fs, preactivations=pre, refresh_every=ref)
    for fs in ("tree", "cache", "scan") for pre in ("explicit", "implicit") for ref in (0, 2)
]


@settings(max_examples=15)
@given(problem=problems(m_max=400, n_max=10, d_max=6, c_max=0.9, labels=("teacher",)),
       opts=st.sampled_from(SUBLINEAR_EXACT), mu=st.sampled_from([0.0, 1e-3]))
def test_sublinear_exact_gram_reproduces_ggn_iterates(problem, opts, mu):
    """Same iterates as ggn over 4 steps, relative to the total change of W, to the
    agreement the systems' conditioning allows (helpers.solve_rtol: 1e-10 when well
    conditioned)."""
    net, X, y = problem
    ref = make_trainer("ggn", net, X, y, mu=mu)
    sub = make_trainer("sublinear_gn", net, X, y, mu=mu, **opts)
    rtol = solve_rtol(net.W, net.a, X, net.shift, mu)
    for a, b in lockstep(ref, sub, 4):
        assert b.union_size == a.union_size
        assert np.array_equal(b.fire_set_sizes, a.fire_set_sizes)
        assert np.array_equal(b.flips, a.flips)
        moved = np.linalg.norm(ref.net.W - net.W)
        assert np.linalg.norm(sub.net.W - ref.net.W) <= rtol * moved + 1e-14
        rtol = max(rtol, solve_rtol(ref.net.W, net.a, X, net.shift, mu))
        assert b.residual_after == pytest.approx(a.residual_after, rel=1e-8, abs=1e-13)


@settings(max_examples=12)
@given(problem=problems(m_max=400, n_max=10, d_max=6, c_max=0.8, labels=("teacher",)),
       method=st.sampled_from(["sketched_gn", "sublinear_gn"]),
       sketch=st.sampled_from(["gaussian", "srht", "countsketch", "tensor"]),
       seed=st.integers(0, 10**6))
def test_sketch_solver_reaches_tolerance_and_matches_ggn_step(problem, method, sketch, seed):
    """One step from the same weights: the solver reaches tol = 1e-10 (relative residual
    of (J J^T + mu I) g = r), and the new residual differs from ggn's by at most
    ||J J^T (g_sketch - g)|| <= tol ||r|| to first order; we allow 10 tol ||r||, plus
    rounding, for the activation changes the small difference in g can cause."""
    net, X, y = problem
    ref = make_trainer("ggn", net, X, y, mu=1e-8)
    extra = {"solver": "sketch", "fire_sets": "cache"} if method == "sublinear_gn" else {}
    t = make_trainer(method, net, X, y, mu=1e-8, sketch=sketch, seed=seed, **extra)
    try:
        a = ref.step()
    except NumericalError:
        return
    b = t.step()
    assert b.solver is not None and b.solver.sketch == sketch
    assert b.solver.stop_reason == "converged" and b.solver.relative_residual <= 1e-10
    assert abs(b.residual_after - a.residual_after) <= 10 * 1e-10 * a.residual_before + 1e-12


@settings(max_examples=6)
@given(seed=seeds, method=st.sampled_from(["sketched_gn", "sublinear_gn"]))
def test_sketch_solver_contracts_like_ggn(seed, method):
    """In the convergence regime of the core tests (m = 4096, n = 16, d = 8, c = 0.4,
    teacher labels) the sketched methods contract by 2x per step until the residual
    is below 1e-8 (the solver tolerance 1e-10 times the initial residual sets a floor)."""
    X, y = sphere_data(16, 8, seed=seed)
    net = ShiftedReLUNet.init(4096, 8, shift_for(4096), seed=seed + 1)
    extra = {"solver": "sketch", "fire_sets": "cache"} if method == "sublinear_gn" else {}
    t = make_trainer(method, net, X, y, seed=seed, **extra)
    steps = t.run(20, tol=1e-8)
    assert steps[-1].residual_after <= 1e-8
    assert all(s.residual_after <= 0.5 * s.residual_before for s in steps)


def _empty_fire_set_problem():
    X, y = sphere_data(4, 3, seed=0)
    net = ShiftedReLUNet.init(64, 3, shift=0.0, seed=0)
    net.W[:] = 0.0
    net.W[:, 0] = 5.0 * np.sign(X[0, 0])
    X = X.copy()
    X[1] = -X[0]
    return net, X, y


@pytest.mark.parametrize("opts", [dict(method="sublinear_gn", fire_sets="tree"),
                                  dict(method="sublinear_gn", fire_sets="cache"),
                                  dict(method="sublinear_gn", solver="sketch"),
                                  dict(method="sketched_gn")])
def test_empty_fire_set_is_diagnosed(opts):
    net, X, y = _empty_fire_set_problem()
    opts = dict(opts)
    method = opts.pop("method")
    with pytest.raises(NumericalError, match="step 0: .*(empty fire set|rank deficient)"):
        make_trainer(method, net, X, y, **opts).step()
    res = make_trainer(method, net, X, y, mu=1e-2, **opts).step()
    assert np.isfinite(res.residual_after) and res.residual_after < res.residual_before


def test_no_neuron_fires_at_all():
    X, y = sphere_data(4, 3, seed=0)
    net = ShiftedReLUNet.init(64, 3, shift=10.0, seed=0)    # b = 10: nothing fires
    for method, extra in [("sublinear_gn", {}), ("sketched_gn", {})]:
        with pytest.raises(NumericalError, match="step 0: no neuron fires"):
            make_trainer(method, net, X, y, mu=1e-3, **extra).step()


@pytest.mark.parametrize("fire_sets", ["tree", "cache", "scan"])
def test_union_of_all_neurons_and_single_input(fire_sets):
    """b = 0 and a small width: every neuron fires on some input (U = all m); n = 1."""
    for n in (1, 12):
        X, y = sphere_data(n, 3, seed=n)
        net = ShiftedReLUNet.init(32, 3, shift=0.0, seed=n)
        ref = make_trainer("ggn", net, X, y, mu=1e-9)
        sub = make_trainer("sublinear_gn", net, X, y, mu=1e-9, fire_sets=fire_sets)
        a, b = ref.step(), sub.step()
        if n == 12:
            assert b.union_size == 32
        assert np.allclose(sub.net.W, ref.net.W, rtol=1e-12, atol=1e-14)
        assert b.residual_after == pytest.approx(a.residual_after, rel=1e-9, abs=1e-14)


def test_counts_follow_the_cost_model():
    """Counted work per step matches the documented cost terms exactly."""
    X, y = sphere_data(8, 4, seed=2)
    net = ShiftedReLUNet.init(512, 4, shift_for(512, 0.3), seed=2)
    for pre in ("explicit", "implicit"):
        t = make_trainer("sublinear_gn", net, X, y, fire_sets="cache", preactivations=pre)
        pat, _ = t._state.fire_patterns(None)
        nnz, k = pat.nnz, pat.size
        res = t.step()
        c = res.counts
        assert c["preactivation_updates"] == k * 8
        assert c["tree_nodes_visited"] == 0
        if pre == "explicit":
            assert c["inner_products"] == k * 8 and c["jacobian_nnz"] == nnz * 4
        else:
            assert c["inner_products"] == 0 and c["jacobian_nnz"] == 0
        alpha = net.shift**2 / (2 * np.log(512))
        assert res.claimed_terms["m^(1-alpha) n d"] == pytest.approx(512 ** (1 - alpha) * 8 * 4)
        assert res.claimed_terms["n^3"] == 8**3


# ------------------------------------- the paper's method against this project's variant
@settings(max_examples=25, deadline=None)
@given(problem=problems(m_max=300, n_max=8, d_max=5, c_max=0.9, labels=("teacher", "random")),
       mu=st.sampled_from([1e-3, 1e-6]), tol=st.sampled_from([None, 1e-8]),
       seed=st.integers(0, 10**6))
def test_paper_sublinear_takes_the_variants_iterates_to_the_cg_tolerance(problem, mu, tol,
                                                                         seed):
    """"paper sublinear" (tree, sketch-preconditioned CG, implicit weights) and "sublinear
    cache implicit" (this project's: cache, exact Cholesky, implicit weights) give the
    same iterates, to what the CG tolerance and the Gram's conditioning allow.

    The bound. While the fire patterns agree, J_t is the same for both and the outputs
    are affine in W: f(W') - f(W) = J_t vec(W' - W). CG stops at ||r_t - A_t g|| <=
    tol ||r_t|| (A_t = J_t J_t^T + mu I), so the step J_t^T g differs from the exact
    one by e_t with ||e_t||^2 <= (g - g*)^T A_t (g - g*) <= (tol ||r_t||)^2 /
    lambda_min(A_t). An earlier difference D passes through I - J_t^T A_t^{-1} J_t, whose
    norm is <= 1, so ||W^paper_t - W^variant_t|| <= sum_{s < t} tol ||r_s|| /
    sqrt(lambda_min(A_s)), plus rounding: `kappa_rtol(A_s)` times the change of W, as
    in the exact-solve tests. The patterns agree as long as no pre-activation of the
    variant lies within that distance of the shift b (inputs have unit norm); where
    one does, the iterates may legitimately part and the comparison stops there.
    """
    from helpers import dense_jacobian, kappa_rtol, nothing_fires

    from verify_sublin.core.trainers.presets import PAPER_TOL
    net, X, y = problem
    tol = PAPER_TOL if tol is None else tol
    variant = make_trainer("sublinear cache implicit", net, X, y, mu=mu)
    paper = make_trainer("paper sublinear", net, X, y, mu=mu, tol=tol, seed=seed)
    if nothing_fires(dense_jacobian(net.W, net.a, X, net.shift), variant):
        return
    bound = rounding = 0.0
    for _ in range(4):
        W = variant.net.W.copy()
        P = X @ W.T
        if np.abs(P - net.shift).min() <= 2 * (bound + rounding):
            break                     # a pre-activation within reach of the threshold
        J = dense_jacobian(W, net.a, X, net.shift)
        A = J @ J.T + mu * np.eye(X.shape[0])
        try:
            a = variant.step()
        except NumericalError:
            break                     # the exact step is refused (e.g. divergence)
        b = paper.step()
        assert b.solver.stop_reason == "converged" and b.solver.relative_residual <= tol
        assert np.array_equal(b.fire_set_sizes, a.fire_set_sizes)
        assert b.union_size == a.union_size
        bound += tol * b.residual_before / np.sqrt(np.linalg.eigvalsh(A)[0])
        rounding += kappa_rtol(A) * np.linalg.norm(variant.net.W - W)
        gap = np.linalg.norm(paper.net.W - variant.net.W)
        assert gap <= 2 * (bound + rounding) + 1e-13, (gap, bound, rounding)
        # the outputs: the same patterns at the new weights give f^p - f^v = J (W^p - W^v)
        if np.abs(X @ variant.net.W.T - net.shift).min() > 2 * (bound + rounding):
            assert np.array_equal(b.flips, a.flips)
            top = np.sqrt(np.linalg.eigvalsh(A - mu * np.eye(X.shape[0]))[-1].clip(0))
            assert abs(b.residual_after - a.residual_after) <= \
                top * 2 * (bound + rounding) + 1e-13


def test_paper_sublinear_counts_its_sketched_solve():
    """The counted operations of "paper sublinear" (which decide cpi.sublinear_gn) include
    the sketched solve, against an independent count from the step's fire sets, sketch
    size and CG iterations T: the sparse J J^T products (2 a CG iteration, nnz d each) in
    jacobian_nnz; the tensor sketch (nnz + n d + 3 n s ceil(log2 s)), the QR of [S J^T;
    sqrt(mu) I] (2 (s + n) n^2), CG's vector work (2 n^2 + T (2 n^2 + 6 n)) and the
    implicit update (nnz n) in dense_flops."""
    import math

    for m, n, d, seed in ((512, 8, 4, 2), (2048, 16, 8, 3), (1024, 12, 6, 5)):
        X, y = sphere_data(n, d, seed=seed)
        net = ShiftedReLUNet.init(m, d, shift_for(m, 0.4), seed=seed)
        t = make_trainer("paper sublinear", net, X, y, mu=1e-6, seed=seed)
        s = math.ceil(4.0 * n * math.log(n))
        for _ in range(2):
            res = t.step()
            c, nnz, T = res.counts, int(res.fire_set_sizes.sum()), res.solver.iterations
            assert res.solver.sketch == "tensor" and res.solver.sketch_size == s
            assert c["solver_products"] == 2 * T
            assert c["jacobian_nnz"] == 2 * T * nnz * d
            assert c["dense_flops"] == (nnz + n * d + 3 * n * s * math.ceil(math.log2(s))
                                        + 2 * (s + n) * n * n + 2 * n * n
                                        + T * (2 * n * n + 6 * n) + nnz * n)
            assert c["inner_products"] == 0 and c["tree_nodes_visited"] > 0
            assert c["preactivation_updates"] == res.union_size * n
            assert res.total_ops(d) == (c["tree_nodes_visited"] + c["jacobian_nnz"]
                                        + c["dense_flops"] + c["preactivation_updates"])


# ------------------------------------------------------ speed measurements by name
def test_speed_tables_name_the_presets_and_spare_the_textbook_gram_the_clock():
    """compare_methods and end_to_end take methods and presets by name, label each row
    with it, and list the textbook Gram-Gauss-Newton as skipped above m n^2 d = 1e11
    (its counts stay exact at any size: test_gauss_newton)."""
    from verify_sublin.bench import speed
    from verify_sublin.core.errors import InputError

    assert speed.resolve_name("paper sublinear")[1]["solver"] == "sketch"
    assert speed.resolve_name("ggn") == ("ggn", {})
    with pytest.raises(InputError, match="^name:"):
        speed.resolve_name("paper linear")
    assert speed.timing_refusal("ggn", {"gram": "dense"}, 2**20, 64, 32).startswith("not timed")
    assert speed.timing_refusal("ggn", {"gram": "dense"}, 2**19, 64, 32) is None
    assert speed.timing_refusal("ggn", {}, 2**30, 64, 32) is None
    names = ["paper sublinear", "textbook ggn", "sublinear cache implicit"]
    res = speed.compare_methods(256, 6, 4, 0.4, steps=1, warmup=0, names=names)
    assert [r["name"] for r in res["rows"]] == ["ggn", *names] and not res["skipped"]
    e2e = speed.end_to_end(256, 6, 4, 0.4, repeats=1, names=names)
    assert [r["name"] for r in e2e["rows"]] == ["ggn", *names]
    assert e2e["rows"][0]["vs_ggn"] == 1.0 and all(r["reached"] for r in e2e["rows"])
    big = speed.timing_refusal(*speed.resolve_name("textbook ggn"), 2**20, 64, 32)
    assert "1.37e+11" in big


def test_tolerance_sweep_and_solve_cost_on_a_small_problem():
    """The tolerance sweep's contractions are one step from the exact run's iterates
    (a tolerance far below the step's contraction matches it; 0.5 does not), and the
    solve's counted operations per unit of its model stay between 1 and 4 (a J and a
    J^T product per CG iteration, and the tensor sketch's FFTs, n s log s, which
    dominate at this size)."""
    from verify_sublin.bench import speed
    res = speed.tolerance_sweep(2**10, 8, 4, 0.4, tols=(0.5, 1e-9))
    rows = {r["tol"]: r for r in res["rows"]}
    assert rows[1e-9]["qualifies"] and not rows[0.5]["qualifies"]
    assert res["loosest"] == 1e-9 and len(rows[1e-9]["contraction"]) == len(res["exact"]) - 1
    cost = speed.solve_cost([2**8, 2**10], 8, 4, 0.4, steps=2)
    assert all(1.0 < q < 4.0 for q in cost["ratio"]) and abs(cost["slope"]) < 0.2
