"""The model and the data against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import brute_fire_sets, dense_jacobian, dense_outputs, seeds
from hypothesis import given
from hypothesis import strategies as st

from verify_sublin import InputError, ShiftedReLUNet, normalize, separation, shift_for, sphere_data


@given(m=st.integers(1, 64), d=st.integers(1, 5), c=st.floats(0, 1), seed=seeds)
def test_init_draws_w_then_a_from_the_seed(m, d, c, seed):
    net = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed)
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((m, d))
    a = rng.choice(np.array([-1.0, 1.0]), size=m)
    assert np.array_equal(net.W, W) and np.array_equal(net.a, a)
    assert net.shift == math.sqrt(c * math.log(m))


def test_shift_for_uses_natural_log():
    assert shift_for(22026, 0.4) == pytest.approx(math.sqrt(0.4 * math.log(22026)))
    assert shift_for(2**20, 0.48) == pytest.approx(math.sqrt(0.48 * 20 * math.log(2)))


@given(m=st.integers(1, 40), n=st.integers(1, 6), d=st.integers(2, 5), c=st.floats(0, 1),
       seed=seeds)
def test_forward_fire_sets_and_jacobian_match_definitions(m, n, d, c, seed):
    X, _ = sphere_data(n, d, seed=seed)
    net = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed + 1)
    b = net.shift
    assert np.allclose(net.forward(X), dense_outputs(net.W, net.a, X, b), rtol=1e-12, atol=1e-14)
    assert [s.tolist() for s in net.fire_sets(X)] == brute_fire_sets(net.W, X, b)
    assert np.allclose(net.jacobian(X), dense_jacobian(net.W, net.a, X, b), rtol=1e-15, atol=0)


@given(seed=seeds)
def test_jacobian_matches_finite_differences(seed):
    X, _ = sphere_data(3, 4, seed=seed)
    net = ShiftedReLUNet.init(20, 4, 0.3, seed=seed)
    J = net.jacobian(X)
    h = 1e-7
    rng = np.random.default_rng(seed)
    for _ in range(5):
        k = int(rng.integers(net.m * net.d))
        r, t = divmod(k, net.d)
        # a kink within h of this coordinate would spoil the difference; skip it
        if np.any(np.abs(X @ net.W[r] - net.shift) < 10 * h):
            continue
        plus, minus = net.copy(), net.copy()
        plus.W[r, t] += h
        minus.W[r, t] -= h
        fd = (plus.forward(X) - minus.forward(X)) / (2 * h)
        assert np.allclose(fd, J[:, k], atol=1e-6)


@given(n=st.integers(1, 30), d=st.integers(2, 8), seed=seeds,
       labels=st.sampled_from(["teacher", "random"]))
def test_sphere_data(n, d, seed, labels):
    X, y = sphere_data(n, d, seed=seed, labels=labels)
    assert X.shape == (n, d) and y.shape == (n,)
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-14)
    assert np.all(np.abs(y) <= 1.0)
    if labels == "teacher":
        assert np.max(np.abs(y)) == pytest.approx(1.0) or np.all(y == 0)
    X2, y2 = sphere_data(n, d, seed=seed, labels=labels)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


@given(n=st.integers(2, 12), d=st.integers(2, 5), seed=seeds)
def test_separation_brute_force(n, d, seed):
    X, _ = sphere_data(n, d, seed=seed)
    want = min(min(np.linalg.norm(X[i] - X[j]), np.linalg.norm(X[i] + X[j]))
               for i in range(n) for j in range(n) if i != j)
    assert separation(X) == pytest.approx(want, rel=1e-7, abs=1e-7)


def test_normalize_and_zero_row():
    assert np.allclose(np.linalg.norm(normalize([[1.0, 2.0], [0.0, -3.0]]), axis=1), 1)
    with pytest.raises(InputError, match="X"):
        normalize([[0.0, 0.0]])


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: ShiftedReLUNet.init(0, 3, 0.1, seed=0), "m"),
        (lambda: ShiftedReLUNet.init(4, 0, 0.1, seed=0), "d"),
        (lambda: ShiftedReLUNet.init(4, 3, -0.1, seed=0), "shift"),
        (lambda: ShiftedReLUNet.init(4, 3, float("nan"), seed=0), "shift"),
        (lambda: ShiftedReLUNet.init(4, 3, 0.1, seed=-1), "seed"),
        (lambda: ShiftedReLUNet.init(4.0, 3, 0.1, seed=0), "m"),
        (lambda: ShiftedReLUNet(np.ones((3, 2)), np.ones(2), 0.0), "a"),
        (lambda: ShiftedReLUNet(np.full((3, 2), np.nan), np.ones(3), 0.0), "W"),
        (lambda: ShiftedReLUNet(np.ones(3), np.ones(3), 0.0), "W"),
        (lambda: ShiftedReLUNet.init(4, 3, 0.1, seed=0).forward(np.ones((2, 2))), "X"),
        (lambda: ShiftedReLUNet.init(4, 3, 0.1, seed=0).forward([[np.nan, 0, 0]]), "X"),
        (lambda: sphere_data(0, 3, seed=0), "n"),
        (lambda: sphere_data(3, 3, seed=0, labels="noise"), "labels"),
        (lambda: separation([[1.0, 0.0], [0.5, 0.0]]), "X"),
        (lambda: separation(np.ones(3)), "X"),
        (lambda: shift_for(0), "m"),
        (lambda: shift_for(10, c=-1), "c"),
    ],
)
def test_bad_input_names_the_parameter(call, param):
    with pytest.raises(ValueError) as info:
        call()
    assert isinstance(info.value, InputError)
    assert str(info.value).startswith(param + ":")
