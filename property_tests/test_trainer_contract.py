"""One suite for every registered method: the Trainer contract and what a step reports.

New methods registered in `verify_sublin.trainers.METHODS` are picked up here
automatically, with the option sets in `VARIANTS`. The problems here are two-layer
nets; the methods that take a `DeepShiftedReLUNet` (`DEEP_METHODS`) are left out and
run through the same checks on deep nets in `test_deep.py`.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    brute_fire_sets,
    check_step_header,
    dense_jacobian,
    dense_outputs,
    nothing_fires,
    problems,
)
from hypothesis import given, settings

from verify_sublin import DEEP_METHODS, METHODS, InputError, make_trainer

#: The methods run here: every registered method that trains a two-layer net.
TWO_LAYER_METHODS = sorted(set(METHODS) - DEEP_METHODS)

#: method -> list of option dicts to run the contract with
VARIANTS: dict[str, list[dict]] = {name: [{}] for name in TWO_LAYER_METHODS}
VARIANTS["gd"] = [{}, {"train_a": True}]
VARIANTS["ggn"] = [{}, {"train_a": True}]
VARIANTS["adam"] = [{}, {"train_a": True}]
VARIANTS["sketched_gn"] = [{"sketch": k} for k in ("countsketch", "tensor", "gaussian", "srht")]
VARIANTS["sublinear_gn"] = [
    {"fire_sets": "tree"}, {"fire_sets": "cache"}, {"fire_sets": "scan"},
    {"fire_sets": "cache", "preactivations": "implicit"},
    {"fire_sets": "tree", "preactivations": "implicit", "refresh_every": 2},
    {"fire_sets": "cache", "solver": "sketch", "sketch": "tensor"},
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
