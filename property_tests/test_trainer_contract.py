"""One suite for every registered method: the Trainer contract and what a step reports.

New methods registered in `verify_sublin.core.trainers.METHODS` are picked up here
automatically, with the option sets in `VARIANTS`; so is the example plugin's method
(examples/plugin_gd_half.py), registered for this module's tests only. The problems here are two-layer
nets; the methods that take a `DeepShiftedReLUNet` (`DEEP_METHODS`) are left out and
run through the same checks on deep nets in `test_deep.py`.

Every method (deep ones included) also runs on every available backend (`BACKENDS`:
the array-API operations on plain numpy, the strict reference namespace, CuPy where a
device is usable) against the numpy backend: identical counts, solver iterations, fire
sets and flips, and iterates equal to 1e-10 relative (or what the Gram's conditioning
allows, `helpers.kappa_rtol`); the phase times of every step add up to no more than
its wall time, measured from outside.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import inspect
import itertools
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    brute_fire_sets,
    check_step_header,
    deep_solve_rtol,
    dense_jacobian,
    dense_outputs,
    kappa_rtol,
    nothing_fires,
    problems,
)
from hypothesis import given, settings

from verify_sublin import DEEP_METHODS, METHODS, InputError, NumericalError, make_trainer
from verify_sublin.core.backend import cupy_status
from verify_sublin.core.trainers import (
    OPTION_DEFAULTS,
    PRESETS,
    SublinearOptions,
    TrainerOptions,
    supports,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugin_gd_half.py"


def _plugin_methods() -> dict:
    """The example plugin's methods, by name, read from the file (not registered)."""
    spec = importlib.util.spec_from_file_location("contract_example_plugin", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {cls.method: cls for cls in module.METHODS}


PLUGIN_METHODS = _plugin_methods()


@pytest.fixture(scope="module", autouse=True)
def _register_plugin_methods():
    with pytest.MonkeyPatch.context() as mp:
        for name, cls in PLUGIN_METHODS.items():
            mp.setitem(METHODS, name, cls)
        yield


#: The methods run here: every registered method that trains a two-layer net, and the
#: example plugin's.
TWO_LAYER_METHODS = sorted((set(METHODS) | set(PLUGIN_METHODS)) - DEEP_METHODS)

#: method -> list of option dicts to run the contract with
VARIANTS: dict[str, list[dict]] = {name: [{}] for name in TWO_LAYER_METHODS}
VARIANTS["gd"] = [{}, {"train_a": True}]
VARIANTS["ggn"] = [{}, {"train_a": True}, {"gram": "dense"}]
VARIANTS["adam"] = [{}, {"train_a": True}]
VARIANTS["sgd"] = [{}, {"train_a": True, "batch_size": 3, "seed": 5}, {"batch_size": 100}]
VARIANTS["sketched_gn"] = [{"sketch": k} for k in ("countsketch", "tensor", "gaussian", "srht")]
VARIANTS["sublinear_gn"] = [
    {"fire_sets": "tree"}, {"fire_sets": "cache"}, {"fire_sets": "scan"},
    {"fire_sets": "cache", "preactivations": "implicit"},
    {"fire_sets": "tree", "preactivations": "implicit", "refresh_every": 2},
    {"fire_sets": "cache", "solver": "sketch", "sketch": "tensor"},
    {"fire_sets": "tree", "solver": "sketch", "preactivations": "implicit"},
]


def cases():
    return [pytest.param(method, opts, id=f"{method}-{i}")
            for method, variants in sorted(VARIANTS.items()) for i, opts in enumerate(variants)]


def _problem(seed=3, m=300, n=6, d=4):
    from verify_sublin import ShiftedReLUNet, shift_for, sphere_data
    X, y = sphere_data(n, d, seed=seed)
    return ShiftedReLUNet.init(m, d, shift_for(m, 0.3), seed=seed), X, y


@pytest.mark.parametrize(("method", "opts"), cases())
@settings(max_examples=10)
@given(problem=problems(m_max=200, n_max=8, c_max=0.5))
def test_step_reports_what_happened(method, opts, problem):
    net, X, y = problem
    W0, X0, y0 = net.W.copy(), X.copy(), y.copy()
    mu = 1e-3 if "mu" in METHODS[method].uses else 0.0
    trainer = make_trainer(method, net, X, y, **({"mu": mu} | opts))
    assert np.array_equal(net.W, W0), "the trainer must work on its own copy"
    prev_after = trainer.residual
    for t in range(3):
        before_net = trainer.net.copy()
        if METHODS[method].has_fire_sets and nothing_fires(
                dense_jacobian(before_net.W, before_net.a, X, before_net.shift), trainer):
            return
        res = trainer.step()
        check_step_header(res, t, prev_after)
        after_net = trainer.net
        if not METHODS[method].has_fire_sets:      # kernel regression: no network step
            assert np.allclose(trainer.outputs, trainer.predict(X), rtol=1e-9, atol=1e-12)
            assert not res.fire_set_sizes.any() and res.union_size == 0
            prev_after = res.residual_after
            continue
        want_f = dense_outputs(after_net.W, after_net.a, X, after_net.shift)
        assert np.allclose(trainer.outputs, want_f, rtol=1e-9, atol=1e-12)
        assert np.allclose(trainer.predict(X), want_f, rtol=1e-9, atol=1e-12)
        assert res.residual_after == pytest.approx(np.linalg.norm(want_f - y), rel=1e-9, abs=1e-12)
        S_before = brute_fire_sets(before_net.W, X, net.shift)
        S_after = brute_fire_sets(after_net.W, X, net.shift)
        assert res.fire_set_sizes.tolist() == [len(s) for s in S_before]
        assert res.union_size == len(set().union(*map(set, S_before)))
        assert res.flips.tolist() == [len(set(a) ^ set(b)) for a, b in zip(S_before, S_after)]
        assert res.claimed_cost == pytest.approx(sum(res.claimed_terms.values()))
        prev_after = res.residual_after
    assert np.array_equal(X, X0) and np.array_equal(y, y0), "inputs must not be modified"


@pytest.mark.parametrize(("method", "opts"), cases())
def test_counts_are_deterministic(method, opts):
    net, X, y = _problem()
    runs = []
    for _ in range(2):
        trainer = make_trainer(method, net, X, y, **opts)
        runs.append([(dict(r.counts), r.residual_after) for r in trainer.run(3)])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("method", TWO_LAYER_METHODS)
def test_unused_options_are_rejected(method):
    net, X, y = _problem()
    uses = METHODS[method].uses
    for name, value in [("mu", 0.5), ("sketch", "gaussian"), ("refresh_every", 3),
                        ("fire_sets", "cache"), ("train_a", True)]:
        if name not in uses:
            with pytest.raises(InputError, match=f"^{name}:"):
                make_trainer(method, net, X, y, **{name: value})


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [({"method": "newton"}, "method"), ({"eta": -1.0}, "eta"), ({"eta": float("nan")}, "eta"),
     ({"mu": -1e-3}, "mu"), ({"seed": -2}, "seed"), ({"backend": "torch"}, "backend"),
     ({"tol": 0.0}, "tol"), ({"max_iter": 0}, "max_iter"), ({"sketch": "fjlt"}, "sketch")],
)
def test_bad_options(kwargs, param):
    net, X, y = _problem()
    method = kwargs.pop("method", "ggn")
    with pytest.raises(InputError, match=f"^{param}:"):
        make_trainer(method, net, X, y, **kwargs)


@pytest.mark.parametrize(
    ("mutate", "param"),
    [(lambda net, X, y: (net, X[:, :3], y), "X"),
     (lambda net, X, y: (net, X, y[:-1]), "y"),
     (lambda net, X, y: (net, np.where(X > 0, np.nan, X), y), "X"),
     (lambda net, X, y: (net, 2 * X, y), "X"),
     (lambda net, X, y: (net, X, np.full_like(y, np.inf)), "y"),
     (lambda net, X, y: ("net", X, y), "net")],
)
def test_bad_data(mutate, param):
    net, X, y = _problem()
    net, X, y = mutate(net, X, y)
    for method in TWO_LAYER_METHODS:
        with pytest.raises(ValueError, match=f"^{param}:"):
            make_trainer(method, net, X, y)


# ------------------------------------------------------- every backend, one step
def _backends():
    usable, reason, _ = cupy_status()
    return [pytest.param("numpy_generic", id="numpy_generic"),
            pytest.param("array_api_strict", id="array_api_strict"),
            pytest.param("cupy", id="cupy", marks=pytest.mark.skipif(
                not usable, reason=f"CuPy is not usable here: {reason}"))]


BACKENDS = _backends()

#: method -> option sets run on every backend (deep methods on a 3-layer net)
BACKEND_VARIANTS: dict[str, list[dict]] = {
    "gd": [{}, {"train_a": True}],
    "ggn": [{"mu": 1e-3}, {"mu": 1e-3, "train_a": True}, {"mu": 1e-3, "gram": "dense"}],
    "adam": [{"train_a": True}],
    "sgd": [{"batch_size": 3, "seed": 2}, {"train_a": True, "batch_size": 2, "eta": 0.5}],
    "second_layer": [{"mu": 1e-6}],
    "ntk_krr": [{"mu": 1e-8}],
    "sketched_gn": [{"sketch": k, "mu": 1e-3} for k in ("countsketch", "tensor", "gaussian")],
    "sublinear_gn": [
        {"fire_sets": "cache", "mu": 1e-3},
        {"fire_sets": "cache", "mu": 1e-3, "preactivations": "implicit", "refresh_every": 2},
        {"fire_sets": "cache", "solver": "sketch", "sketch": "countsketch", "mu": 1e-3},
    ],
    "deep_dense": [{"mu": 1e-4}, {"update": "gd"}],
    "deep_sublinear": [{"mu": 1e-4, "merge_threshold": 0}, {"mu": 1e-4},
                       {"update": "gd", "merge_threshold": 8}],
}
assert set(BACKEND_VARIANTS) == set(METHODS), "a new method needs its backend variants"


def backend_cases():
    return [pytest.param(method, opts, id=f"{method}-{i}")
            for method, variants in sorted(BACKEND_VARIANTS.items())
            for i, opts in enumerate(variants)]


def _any_problem(method, seed=3):
    if method in DEEP_METHODS:
        from verify_sublin import DeepShiftedReLUNet, shift_for, sphere_data
        X, y = sphere_data(6, 4, seed=seed)
        return DeepShiftedReLUNet.init(40, 4, 3, shift_for(40, 0.3), seed + 1), X, y
    return _problem(seed=seed, m=256, n=8, d=4)


def _weights(trainer):
    net = trainer.net
    if hasattr(net, "weights"):
        return [np.asarray(W) for W in net.weights] + [np.asarray(net.a)]
    host = net.to_backend("numpy") if net.backend != "numpy" else net
    return [np.asarray(host.W), np.asarray(host.a)]


def _rtol(method, trainer, opts, X):
    """1e-10, or what the Gauss-Newton system's conditioning allows (`kappa_rtol`)."""
    mu = opts.get("mu", 0.0)
    if method in DEEP_METHODS:
        return deep_solve_rtol(trainer.net, X, mu, 1e-10) if opts.get("update") != "gd" else 1e-10
    if method in ("ggn", "sublinear_gn", "sketched_gn"):
        net = trainer.net.to_backend("numpy") if trainer.net.backend != "numpy" else trainer.net
        J = dense_jacobian(np.asarray(net.W), np.asarray(net.a), X, net.shift)
        return kappa_rtol(J @ J.T + mu * np.eye(X.shape[0]), 1e-10)
    return 1e-10


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("method", "opts"), backend_cases())
def test_every_backend_reports_the_same_step(method, opts, backend):
    """Counts, fire sets, flips and solver iterations identical to the numpy backend;
    iterates and outputs equal to 1e-10 relative (`_rtol`); phase times within the
    wall time of each step."""
    net, X, y = _any_problem(method)
    ref = make_trainer(method, net, X, y, **opts)
    got = make_trainer(method, net, X, y, backend=backend, **opts)
    for t in range(3):
        rtol = _rtol(method, ref, opts, X)
        try:
            a = ref.step()
        except NumericalError:
            with pytest.raises(NumericalError):
                got.step()
            return
        t0 = time.perf_counter()
        b = got.step()
        wall = time.perf_counter() - t0
        assert sum(b.times.values()) <= wall
        assert dict(b.counts) == dict(a.counts), f"step {t}"
        assert np.array_equal(b.fire_set_sizes, a.fire_set_sizes)
        assert np.array_equal(b.flips, a.flips) and b.union_size == a.union_size
        assert (a.solver is None) == (b.solver is None)
        if a.solver is not None:
            assert b.solver.iterations == a.solver.iterations
            assert (b.solver.sketch, b.solver.sketch_size) == (a.solver.sketch,
                                                               a.solver.sketch_size)
        assert b.claimed_terms == a.claimed_terms
        for Wa, Wb in zip(_weights(ref), _weights(got)):
            assert np.linalg.norm(Wb - Wa) <= rtol * np.linalg.norm(Wa) + 1e-300
        assert np.linalg.norm(got.outputs - ref.outputs) <= (
            rtol * np.linalg.norm(ref.outputs) + 1e-14)


@pytest.mark.parametrize(("method", "opts"), backend_cases() + cases())
def test_phase_times_add_up_to_at_most_the_wall_time(method, opts):
    """One timer, no nesting: per step, the sum of the phase times is at most the wall
    time of `step()` taken from outside (a phase counted twice would exceed it)."""
    net, X, y = _any_problem(method)
    trainer = make_trainer(method, net, X, y, **opts)
    for _ in range(3):
        t0 = time.perf_counter()
        try:
            res = trainer.step()
        except NumericalError:
            return
        wall = time.perf_counter() - t0
        assert 0.0 <= sum(res.times.values()) <= wall


@pytest.mark.parametrize(("method", "opts", "param"), [
    ("sublinear_gn", {"fire_sets": "tree"}, "fire_sets"),
    ("sublinear_gn", {"fire_sets": "scan"}, "fire_sets"),
    ("sketched_gn", {"sketch": "srht"}, "sketch"),
    ("sublinear_gn", {"fire_sets": "cache", "solver": "sketch", "sketch": "srht"}, "sketch"),
    ("gd", {"mu": 0.5}, "mu"),
    ("ggn", {"solver": "sketch"}, "solver"),
])
def test_supports_and_make_trainer_refuse_alike(method, opts, param):
    """`supports` gives the reason `make_trainer` raises, for the backend-specific
    refusals (off numpy) and the unused options (everywhere)."""
    net, X, y = _any_problem(method)
    backend = "array_api_strict" if param in ("fire_sets", "sketch") else "numpy"
    ok, reason = supports(method, backend, **opts)
    assert not ok and reason.startswith(f"{param}:")
    with pytest.raises(InputError, match=f"^{param}:") as info:
        make_trainer(method, net, X, y, backend=backend, **opts)
    assert str(info.value) == reason
    cls = METHODS[method]
    if param in cls.uses:         # a class constructed directly refuses alike
        direct = cls.options_type(**(opts | {"backend": backend}))
        with pytest.raises(InputError, match=f"^{param}:"):
            cls(net, X, y, direct)
    else:                         # an option the method does not use has no field at all
        with pytest.raises(TypeError):
            cls.options_type(**opts)
        with pytest.raises(InputError, match=f"^{param}:"):
            cls.options_from(**opts)
    if param in ("fire_sets", "sketch"):       # the compiled backend runs them
        assert supports(method, "numpy", **opts) == (True, "")
        make_trainer(method, net, X, y, **opts)


def test_supports_every_variant_that_runs():
    for method, variants in BACKEND_VARIANTS.items():
        for opts in variants:
            for backend in ("numpy", "numpy_generic", "array_api_strict"):
                assert supports(method, backend, **opts) == (True, ""), (method, opts)
    assert set(OPTION_DEFAULTS) >= {"backend", "fire_sets"}


# ------------------------------------------------------------ options and presets
#: The options each method read before it had its own options type (unchanged), and the
#: Gram build of ggn and second_layer ("gram") added since.
USES = {
    "gd": {"eta", "train_a"}, "ggn": {"eta", "mu", "solver", "train_a", "gram"},
    "sketched_gn": {"eta", "mu", "sketch", "sketch_factor", "tol", "max_iter"},
    "sublinear_gn": {"eta", "mu", "solver", "sketch", "sketch_factor", "tol", "max_iter",
                     "fire_sets", "refresh_every", "preactivations"},
    "adam": {"eta", "train_a"}, "second_layer": {"eta", "mu", "gram"}, "ntk_krr": {"mu"},
    "deep_dense": {"eta", "mu", "update"}, "deep_sublinear": {"eta", "mu", "update",
                                                              "merge_threshold"},
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_each_method_has_its_own_options_type(method):
    """A frozen dataclass extending TrainerOptions, whose fields are exactly what the
    method reads, each with make_trainer's default and a docstring line."""
    cls = METHODS[method]
    opts = cls.options_type
    assert issubclass(opts, TrainerOptions) and opts is not TrainerOptions
    assert dataclasses.is_dataclass(opts) and opts.__dataclass_params__.frozen
    if method in USES:
        assert cls.uses == USES[method] | {"seed", "backend"}
    assert cls.uses == set(opts.defaults())
    for name, default in opts.defaults().items():
        assert default == OPTION_DEFAULTS[name], (method, name)
    documented = set()
    for klass in opts.__mro__:
        if not dataclasses.is_dataclass(klass):
            continue
        body = ast.parse(inspect.getsource(klass)).body[0].body
        for field_node, doc in itertools.pairwise(body):
            if (isinstance(field_node, ast.AnnAssign) and isinstance(doc, ast.Expr)
                    and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str)):
                documented.add(field_node.target.id)
    assert set(opts.defaults()) <= documented, set(opts.defaults()) - documented
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts().seed = 1


def test_options_from_applies_the_rule_of_make_trainer():
    ggn = METHODS["ggn"]
    assert ggn.options_from(mu=0.5, fire_sets="tree", update="gn") == ggn.options_type(mu=0.5)
    with pytest.raises(InputError, match="^fire_sets: expected the default 'tree'"):
        ggn.options_from(fire_sets="cache")
    with pytest.raises(TypeError, match="'colour'"):
        ggn.options_from(colour="red")
    with pytest.raises(TypeError):
        make_trainer("ggn", *_problem(), colour="red")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_builds_its_method_with_its_options(name):
    """By name, by options= and by keywords: the same trainer, the same first steps."""
    method, options = PRESETS[name]
    assert isinstance(options, METHODS[method].options_type)
    net, X, y = _problem()
    by_name = make_trainer(name, net, X, y, mu=1e-6)
    by_value = make_trainer(method, net, X, y, options=options, mu=1e-6)
    by_keywords = make_trainer(method, net, X, y, mu=1e-6, **options.changes())
    for trainer in (by_name, by_value, by_keywords):
        assert type(trainer) is METHODS[method]
        assert trainer.options == dataclasses.replace(options, mu=1e-6)
    for a, b, c in zip(by_name.run(2), by_value.run(2), by_keywords.run(2)):
        assert dict(a.counts) == dict(b.counts) == dict(c.counts)
        assert a.residual_after == b.residual_after == c.residual_after
    assert supports(name, "numpy") == supports(method, "numpy", **options.changes())


def test_options_of_the_wrong_kind_are_refused():
    net, X, y = _problem()
    opts = SublinearOptions(fire_sets="cache")
    with pytest.raises(InputError, match="^options: expected a GGNOptions"):
        make_trainer("ggn", net, X, y, options=opts)
    with pytest.raises(InputError, match="^options: expected None with the preset"):
        make_trainer("sublinear cache implicit", net, X, y, options=opts)
    with pytest.raises(InputError, match="^options: expected a GGNOptions"):
        METHODS["ggn"](net, X, y, opts)             # a class constructed directly
    with pytest.raises(InputError, match="^train_a: expected the default False"):
        make_trainer("sublinear cache implicit", net, X, y, train_a=True)
    with pytest.raises(InputError, match="^fire_sets: expected one of"):
        make_trainer("sublinear_gn", net, X, y, options=SublinearOptions(fire_sets="heap"))


# ------------------------------------------------- freed by reference counting alone
def _freed_cases():
    """Every method and every structure of the sublinear method (fire sets x
    pre-activations, the sketch solver, refreshes), on numpy and on the masked
    (array-API) path, each once."""
    cases = [(method, opts, "numpy") for method, variants in sorted(VARIANTS.items())
             for opts in variants]
    cases += [("sublinear_gn", {"fire_sets": f, "preactivations": p}, "numpy")
              for f in ("tree", "cache", "scan") for p in ("explicit", "implicit")]
    cases += [("sublinear_gn", {"fire_sets": f, "solver": "sketch", "mu": 1e-3}, "numpy")
              for f in ("tree", "cache", "scan")]
    cases += [("sublinear_gn", {"fire_sets": "scan", "preactivations": "implicit",
                                "refresh_every": 1}, "numpy")]
    cases += [(method, opts, backend) for method, variants in sorted(BACKEND_VARIANTS.items())
              for opts in variants for backend in ("numpy", "numpy_generic")]
    unique = {}
    for method, opts, backend in cases:
        unique.setdefault((method, backend, tuple(opts.items())), (method, opts, backend))
    return [pytest.param(method, opts, backend,
                         id="-".join([method, backend, *(f"{k}={v}" for k, v in opts.items())]))
            for method, opts, backend in unique.values()]


@pytest.mark.parametrize(("method", "opts", "backend"), _freed_cases())
def test_trainer_is_freed_by_reference_counting(method, opts, backend):
    """No reference cycle through a trainer: after two steps, `del trainer` frees it (and
    so the gigabytes of its structures at large m) with the garbage collector disabled.
    A fire-set state or layer engine that kept its trainer would keep it alive."""
    import gc
    import weakref

    net, X, y = _any_problem(method)
    gc.collect()
    gc.disable()
    try:
        trainer = make_trainer(method, net, X, y, backend=backend, **opts)
        for _ in range(2):
            try:
                trainer.step()
            except NumericalError:
                break
        assert trainer.net is not None      # the cached or materialised model, if any
        ref = weakref.ref(trainer)
        del trainer
        assert ref() is None, f"{method} {opts} on {backend} is kept alive by a reference cycle"
    finally:
        gc.enable()
