"""The array-API path: every trainer on every usable namespace, the generic kernels against
the compiled ones, the adapters' fallbacks, and the errors for an unusable CuPy.

The `xp` fixture runs each test under numpy (the compiled kernels), numpy_generic (the
array-API operations on numpy arrays), array_api_strict (the same operations, allowed
nothing outside the standard), and CuPy when it has a device; elsewhere the CuPy cases
are reported as skipped with the reason.
"""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest
from helpers import (
    deep_solve_rtol,
    dense_jacobian,
    dense_outputs,
    kappa_rtol,
    lockstep,
    nothing_fires,
    problems,
    seeds,
    solve_rtol,
)
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from verify_sublin import InputError, ShiftedReLUNet, make_trainer, shift_for, sphere_data
from verify_sublin.cli import main
from verify_sublin.core.adapters import scatter_add_1d, scatter_add_rows, set_rows
from verify_sublin.core.backend import backend_report, cupy_status, resolve_backend
from verify_sublin.core.kernels import array_api as G
from verify_sublin.core.kernels import cache_kernels as CK
from verify_sublin.core.kernels import gram_kernels as GK


def _backends():
    usable, reason, _ = cupy_status()
    return [pytest.param("numpy", id="numpy"),
            pytest.param("numpy_generic", id="numpy_generic"),
            pytest.param("array_api_strict", id="array_api_strict"),
            pytest.param("cupy", id="cupy", marks=pytest.mark.skipif(
                not usable, reason=f"CuPy is not usable here: {reason}"))]


@pytest.fixture(scope="module", params=_backends())
def xp(request):
    """The backend name; its namespace is resolve_backend(name).xp."""
    return request.param


def host(a):
    return np.asarray(a) if not hasattr(a, "get") else a.get()


# --------------------------------------------------- trainer equivalences
@settings(max_examples=8)
@given(problem=problems(m_max=200, n_max=8, d_max=5, c_max=0.6, labels=("teacher",)),
       mu=st.sampled_from([0.0, 1e-3]))
def test_ggn_step_equals_explicit_jacobian(xp, problem, mu):
    net, X, y = problem
    J = dense_jacobian(net.W, net.a, X, net.shift)
    A = J @ J.T + mu * np.eye(X.shape[0])
    assume(np.linalg.cond(A) < 1e8)
    step = J.T @ np.linalg.lstsq(A, dense_outputs(net.W, net.a, X, net.shift) - y, rcond=None)[0]
    t = make_trainer("ggn", net, X, y, mu=mu, backend=xp)
    if nothing_fires(J, t):
        return
    t.step()
    W = host(t.net.W)
    assert np.linalg.norm(W - (net.W - step.reshape(net.W.shape))) <= (
        kappa_rtol(A) * np.linalg.norm(step) + 1e-14)


@settings(max_examples=8)
@given(problem=problems(m_max=200, n_max=8, d_max=5, c_max=0.6, labels=("teacher",)),
       eta=st.floats(0.01, 1.0))
def test_gd_step_equals_w_minus_eta_jt_r(xp, problem, eta):
    net, X, y = problem
    assume(np.any(X @ net.W.T > net.shift))
    J = dense_jacobian(net.W, net.a, X, net.shift)
    want = net.W - eta * (J.T @ (dense_outputs(net.W, net.a, X, net.shift) - y)).reshape(net.W.shape)
    t = make_trainer("gd", net, X, y, eta=eta, backend=xp)
    t.step()
    assert np.allclose(host(t.net.W), want, rtol=1e-12, atol=1e-14)


VARIANTS = [dict(fire_sets="cache"), dict(fire_sets="cache", preactivations="implicit"),
            dict(fire_sets="cache", preactivations="implicit", refresh_every=2)]


@settings(max_examples=8)
@given(problem=problems(m_max=300, n_max=8, d_max=5, c_max=0.8, labels=("teacher",)),
       opts=st.sampled_from(VARIANTS))
def test_sublinear_reproduces_ggn_on_every_namespace(xp, problem, opts):
    net, X, y = problem
    ref = make_trainer("ggn", net, X, y, mu=1e-9)
    sub = make_trainer("sublinear_gn", net, X, y, mu=1e-9, backend=xp, **opts)
    rtol = solve_rtol(net.W, net.a, X, net.shift, 1e-9)
    for a, b in lockstep(ref, sub, 3):
        assert np.array_equal(b.fire_set_sizes, a.fire_set_sizes)
        assert np.array_equal(b.flips, a.flips) and b.union_size == a.union_size
        moved = np.linalg.norm(ref.net.W - net.W)
        assert np.linalg.norm(host(sub.net.W) - ref.net.W) <= rtol * moved + 1e-14
        rtol = max(rtol, solve_rtol(ref.net.W, net.a, X, net.shift, 1e-9))


@pytest.mark.parametrize(("method", "opts"), [
    ("sketched_gn", {"sketch": "countsketch"}), ("sketched_gn", {"sketch": "tensor"}),
    ("sublinear_gn", {"fire_sets": "cache", "solver": "sketch", "sketch": "tensor"}),
    ("adam", {}), ("second_layer", {"mu": 1e-6}), ("ggn", {"train_a": True}),
    ("ntk_krr", {"mu": 1e-8})])
def test_every_method_agrees_with_the_compiled_path(xp, method, opts):
    """Same sketches (same hashes), same CG iterations, same iterates to 1e-9."""
    X, y = sphere_data(8, 4, seed=3)
    net = ShiftedReLUNet.init(256, 4, shift_for(256, 0.3), seed=3)
    ref = make_trainer(method, net, X, y, **opts)
    t = make_trainer(method, net, X, y, backend=xp, **opts)
    for _ in range(3):
        a, b = ref.step(), t.step()
        assert b.residual_after == pytest.approx(a.residual_after, rel=1e-7, abs=1e-12)
        if a.solver:
            assert b.solver.iterations == a.solver.iterations
    assert np.allclose(host(t.net.W), ref.net.W, rtol=1e-9, atol=1e-12)
    assert np.allclose(t.predict(X), ref.predict(X), rtol=1e-8, atol=1e-10)


@settings(max_examples=4)
@given(seed=seeds)
def test_convergence_on_every_namespace(xp, seed):
    """The core convergence regime (m = 4096, n = 16, d = 8, c = 0.4, teacher labels):
    2x contraction per step until 1e-10, on the namespace under test."""
    X, y = sphere_data(16, 8, seed=seed)
    net = ShiftedReLUNet.init(4096, 8, shift_for(4096), seed=seed + 1)
    for method, opts in [("ggn", {}), ("sublinear_gn", {"fire_sets": "cache",
                                                         "preactivations": "implicit"})]:
        t = make_trainer(method, net, X, y, backend=xp, **opts)
        steps = t.run(30, tol=1e-10)
        assert steps[-1].residual_after < 1e-10
        assert all(s.residual_after <= 0.5 * s.residual_before for s in steps)


def test_tree_is_refused_off_the_cpu():
    X, y = sphere_data(4, 3, seed=0)
    net = ShiftedReLUNet.init(32, 3, 0.5, seed=0)
    for fs in ("tree", "scan"):
        with pytest.raises(InputError, match="^fire_sets: .*tree-free"):
            make_trainer("sublinear_gn", net, X, y, backend="array_api_strict", fire_sets=fs)
    with pytest.raises(InputError, match="^sketch: .*DCT"):
        make_trainer("sketched_gn", net, X, y, backend="array_api_strict", sketch="srht")


# ------------------------------------------- generic kernels vs compiled
@given(problem=problems(m_max=200, n_max=8, d_max=5), seed=seeds)
def test_generic_kernels_agree_with_compiled_kernels(problem, seed):
    net, X, y = problem
    xps = resolve_backend("array_api_strict").xp
    be = resolve_backend("array_api_strict")
    t = make_trainer("ggn", net, X, y)
    pat = t.fire_sets.union_patterns()
    assume(pat.size > 0)
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(X.shape[0])
    row_coef = net.a[pat.union] / math.sqrt(net.m)
    mask = np.zeros((pat.size, X.shape[0]), bool)
    mask[np.repeat(np.arange(pat.size), np.diff(pat.nptr)), pat.ninputs] = True
    Kx = X @ X.T
    M, Xs, Kxs = be.asarray(mask, xps.bool), be.asarray(X), be.asarray(Kx)
    rc, vs_ = be.asarray(row_coef), be.asarray(v)
    # J^T v, J u
    assert np.allclose(np.asarray(G.jt_masked(xps, M, vs_, Xs, rc)),
                       GK.jt_apply(pat.nptr, pat.ninputs, row_coef, v, X), rtol=1e-12, atol=1e-14)
    U = rng.standard_normal((pat.size, X.shape[1]))
    assert np.allclose(np.asarray(G.j_masked(xps, M, be.asarray(U), Xs, rc)),
                       GK.jacobian_apply(pat.nptr, pat.ninputs, row_coef, U, X, X.shape[0]),
                       rtol=1e-12, atol=1e-14)
    # Gram with a^2 weights
    w = net.a[pat.union] ** 2
    assert np.allclose(np.asarray(G.gram_masked(xps, M, Kxs, be.asarray(w), net.m)),
                       Kx * GK.gram_counts(pat.nptr, pat.ninputs, w, X.shape[0], 1) / net.m,
                       rtol=1e-12, atol=1e-15)
    # implicit delta
    out = np.empty((pat.size, X.shape[0]))
    CK.implicit_delta(pat.nptr, pat.ninputs, row_coef, v, Kx, out)
    assert np.allclose(np.asarray(G.implicit_delta_masked(xps, M, rc, vs_, Kxs)), out,
                       rtol=1e-12, atol=1e-14)
    # advance: counts, flips and outputs against a direct numpy computation
    P_old = rng.standard_normal((pat.size, X.shape[0]))
    P_new = P_old + 0.3 * rng.standard_normal(P_old.shape)
    b = 0.4
    _, gc, gf, gfo = G.advance_masked(xps, be.asarray(P_old), be.asarray(P_new), b,
                                      be.asarray(net.a[pat.union]), 0.5)
    assert np.array_equal(np.asarray(gc), (P_new > b).sum(axis=1))
    assert np.array_equal(np.asarray(gf), ((P_old > b) != (P_new > b)).sum(axis=0))
    assert np.allclose(np.asarray(gfo), 0.5 * (np.maximum(P_new - b, 0) * net.a[pat.union][:, None]).sum(0))


# --------------------------------------------------------------- adapters
@given(seed=seeds, k=st.integers(1, 6))
def test_adapter_fallbacks_match_numpy(seed, k):
    """The dense-masked fallback (array_api_strict) equals numpy's native scatter."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((10, 3))
    idx = rng.choice(10, size=k, replace=False)
    rows = rng.standard_normal((k, 3))
    be = resolve_backend("array_api_strict")
    xps = be.xp
    want = A.copy()
    want[idx] = rows
    assert np.allclose(np.asarray(set_rows(xps, be.asarray(A), be.asarray(idx, xps.int64),
                                           be.asarray(rows))), want)
    want = A.copy()
    want[idx] += rows
    assert np.allclose(np.asarray(scatter_add_rows(xps, be.asarray(A), be.asarray(idx, xps.int64),
                                                   be.asarray(rows))), want)
    buckets = rng.integers(0, 5, size=7)
    vals = rng.standard_normal((2, 7))
    want = np.zeros((2, 5))
    np.add.at(want, (..., buckets), vals)
    assert np.allclose(scatter_add_1d(np, 5, buckets, vals), want)
    got = scatter_add_1d(xps, 5, be.asarray(buckets, xps.int64), be.asarray(vals))
    assert np.allclose(np.asarray(got), want)


# --------------------------------------------------- unusable CuPy, simulated
@pytest.fixture
def fake_cupy(monkeypatch):
    """Install a fake `cupy` module (or None: import fails) and clear the caches."""
    def install(module):
        monkeypatch.setitem(sys.modules, "cupy", module)
        cupy_status.cache_clear()
        resolve_backend.cache_clear()
    yield install
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    cupy_status.cache_clear()
    resolve_backend.cache_clear()


def _fake(count=None, error=None, alloc_error=None):
    class RuntimeErr(Exception):
        def __init__(self, status, text):
            super().__init__(text)
            self.status = status

    def device_count():
        if error:
            raise RuntimeErr(*error)
        return count

    def zeros(n):
        if alloc_error:
            raise MemoryError(alloc_error)
        return np.zeros(n)

    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=device_count))
    cupy.zeros = zeros
    return cupy


@pytest.mark.parametrize(("module", "reason"), [
    (None, "not installed"),
    (_fake(error=(35, "cudaErrorInsufficientDriver: CUDA driver version is insufficient")),
     "driver is too old"),
    (_fake(error=(100, "cudaErrorNoDevice: no CUDA-capable device is detected")), "no CUDA device"),
    (_fake(count=0), "no CUDA device"),
    (_fake(count=1, alloc_error="out of memory allocating 8 bytes"), "first allocation"),
])
def test_unusable_cupy_is_named(fake_cupy, module, reason):
    fake_cupy(module)
    usable, why, _ = cupy_status()
    assert not usable and reason in why
    X, y = sphere_data(4, 3, seed=0)
    net = ShiftedReLUNet.init(16, 3, 0.5, seed=0)
    with pytest.raises(InputError, match=f"^backend: expected a usable CuPy.*{reason}"):
        make_trainer("ggn", net, X, y, backend="cupy")
    assert make_trainer("ggn", net, X, y, backend="auto").__class__.__module__.endswith("dense")
    assert ("cupy", False, why) in backend_report()


def test_cli_backends(tmp_path, capsys):
    if cupy_status()[0]:
        pytest.skip("a usable CuPy is present: --backend cupy would not fail")
    assert main(["run", "--backend", "cupy", "--profile", "tiny", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "backend: expected a usable CuPy" in err[0]
    assert main(["run", "--backend", "auto", "--profile", "tiny", "--claims", "tree.correctness",
                 "--out", str(tmp_path), "--quiet"]) == 0
    assert "backend numpy" in capsys.readouterr().err
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "array_api_strict" in out and "cupy" in out and "NOT usable" in out


@settings(max_examples=6)
@given(seed=seeds, depth=st.integers(2, 3), update=st.sampled_from(["gn", "gd"]),
       scaling=st.sampled_from(["normalized", "fixed"]), threshold=st.sampled_from([0, 8, 40]),
       c=st.floats(0.1, 0.6))
def test_deep_trainers_on_every_namespace(xp, seed, depth, update, scaling, threshold, c):
    """Both multi-layer trainers reproduce the compiled deep_dense iterates to 1e-9 over
    four steps on the namespace under test, merges included."""
    from verify_sublin.core.deep import DeepShiftedReLUNet
    X, y = sphere_data(8, 4, seed=seed)
    net = DeepShiftedReLUNet.init(48, 4, depth, shift_for(48, c), seed + 1, scaling=scaling)
    mu = 1e-6 if update == "gn" else 0.0
    try:
        make_trainer("deep_dense", net, X, y, update=update, mu=mu)
    except InputError as exc:   # gd: nothing fires in the last layer, so no default step
        assert "no neuron firing" in str(exc)
        return
    for method, opts in [("deep_dense", {}), ("deep_sublinear", {"merge_threshold": threshold})]:
        ref = make_trainer("deep_dense", net, X, y, update=update, mu=mu)
        t = make_trainer(method, net, X, y, backend=xp, update=update, mu=mu, **opts)
        # a Gauss-Newton step agrees to what its conditioning allows (deep_solve_rtol)
        compared, rtol = 0, deep_solve_rtol(net, X, mu) if update == "gn" else 1e-9
        for a, b in lockstep(ref, t, 4):
            compared += 1
            assert np.array_equal(a.fire_set_sizes, b.fire_set_sizes)
            assert b.residual_after == pytest.approx(a.residual_after, rel=rtol, abs=1e-12)
            if update == "gn":
                rtol = max(rtol, deep_solve_rtol(ref.net, X, mu))
        if compared < 4:          # both refused a step (singular Gram): nothing more to compare
            return
        for Wa, Wb in zip(ref.net.weights, t.net.weights):
            assert np.linalg.norm(Wb - Wa) <= rtol * np.linalg.norm(Wa) + 1e-12
