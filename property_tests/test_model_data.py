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


# ------------------------------------------------- teachers, real sets, paired init
TEACHERS = ["teacher", "teacher-shifted", "teacher-smooth"]


@given(n=st.integers(1, 30), d=st.integers(2, 8), seed=seeds,
       labels=st.sampled_from(TEACHERS))
def test_teachers_share_inputs_and_weights_and_apply_their_activation(n, d, seed, labels):
    """Every teacher kind draws the same inputs and teacher weights from the seed (inputs,
    then U (16 x d), then v) and applies its own activation, scaled to max |y| = 1;
    "teacher" is the plain ReLU it always was."""
    from verify_sublin.core.data import TEACHER_SHIFT, TEACHER_WIDTH
    X, y = sphere_data(n, d, seed=seed, labels=labels)
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    X0 = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    U, v = rng.standard_normal((TEACHER_WIDTH, d)), rng.standard_normal(TEACHER_WIDTH)
    act = {"teacher": lambda z: np.maximum(z, 0.0),
           "teacher-shifted": lambda z: np.maximum(z - TEACHER_SHIFT, 0.0),
           "teacher-smooth": np.tanh}[labels]
    raw = act(X0 @ U.T) @ v
    want = raw / np.abs(raw).max() if np.abs(raw).max() > 0 else raw
    assert X.shape == (n, d) and y.shape == (n,)
    assert np.allclose(X, X0, rtol=0, atol=1e-15) and np.allclose(y, want, rtol=1e-12, atol=1e-15)
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-14) and np.all(np.abs(y) <= 1.0)
    assert np.max(np.abs(y)) == pytest.approx(1.0) or np.all(y == 0)
    X2, y2 = sphere_data(n, d, seed=seed, labels=labels)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_shifted_teacher_is_silent_on_the_expected_fraction_of_inputs():
    """A label is exactly 0 when no teacher neuron fires, <u_k, x> <= b_T for all 16: for
    u_k ~ N(0, I) and a unit x these are independent N(0, 1), so over teachers and inputs
    P(y = 0) = (1 - Q(b_T))^16 = 0.12 at b_T = sqrt(0.48 ln 16). Mean over 60 seeds of 200
    inputs (d = 16; standard error 0.005 measured): within 0.025. A plain-ReLU teacher is
    silent on (1/2)^16 of inputs, a shift of sqrt(0.48 ln 2^14) on 78%: both fail."""
    from scipy.stats import norm

    from verify_sublin.core.data import TEACHER_SHIFT
    p0 = (1.0 - norm.sf(TEACHER_SHIFT)) ** 16
    frac = np.mean([np.mean(sphere_data(200, 16, seed=s, labels="teacher-shifted")[1] == 0)
                    for s in range(60)])
    assert TEACHER_SHIFT == pytest.approx(math.sqrt(0.48 * math.log(16)))
    assert abs(frac - p0) < 0.025, (frac, p0)
    assert np.mean(sphere_data(200, 16, seed=0, labels="teacher-smooth")[1] == 0) == 0


@given(n_train=st.integers(1, 300), n_test=st.integers(0, 200), seed=seeds)
def test_breast_cancer_split(n_train, n_test, seed):
    """569 x 30, columns standardised and rows on the unit sphere, labels exactly -1 or +1
    (as they come, benign +1), a seeded split without repeated rows, the same for the same
    seed."""
    from verify_sublin.core.realdata import CLASSIFICATION, load_dataset
    ds = load_dataset("breast_cancer", n_train, n_test, seed=seed)
    assert "breast_cancer" in CLASSIFICATION
    assert ds.X_train.shape == (n_train, 30) and ds.X_test.shape == (n_test, 30)
    both = np.concatenate([ds.X_train, ds.X_test])
    assert np.allclose(np.linalg.norm(both, axis=1), 1.0, atol=1e-12)
    assert set(np.concatenate([ds.y_train, ds.y_test]).tolist()) <= {-1.0, 1.0}
    assert len({row.tobytes() for row in both}) == n_train + n_test
    again = load_dataset("breast_cancer", n_train, n_test, seed=seed)
    assert np.array_equal(ds.X_train, again.X_train) and np.array_equal(ds.y_test, again.y_test)


def test_breast_cancer_whole_set_and_limits():
    from verify_sublin.core.realdata import load_dataset
    ds = load_dataset("breast_cancer", 569, 0, seed=0)
    assert int(np.sum(ds.y_train == 1)) == 357 and int(np.sum(ds.y_train == -1)) == 212
    with pytest.raises(InputError, match="n_train"):
        load_dataset("breast_cancer", 500, 70, seed=0)
    for name in ("sphere-teacher-shifted", "sphere-teacher-smooth", "sphere-teacher"):
        ds = load_dataset(name, 20, 10, seed=3, d=5)
        X, y = sphere_data(30, 5, seed=3, labels=name.split("-", 1)[1])
        assert np.array_equal(ds.X_train, X[:20]) and np.array_equal(ds.y_test, y[20:])


@given(half=st.integers(1, 40), d=st.integers(1, 6), c=st.floats(0, 1), seed=seeds)
def test_paired_init_has_zero_output_and_the_half_width_draws(half, d, c, seed):
    """paired=True: the first m/2 neurons are the unpaired network of width m/2 drawn from
    the seed, the second half repeats them with the opposite sign, f_0 = 0 to rounding."""
    m = 2 * half
    net = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed, paired=True)
    ref = ShiftedReLUNet.init(half, d, shift_for(m, c), seed=seed)
    assert np.array_equal(net.W[:half], ref.W) and np.array_equal(net.W[half:], ref.W)
    assert np.array_equal(net.a[:half], ref.a) and np.array_equal(net.a[half:], -ref.a)
    X = normalize(np.random.default_rng(seed).standard_normal((5, d)) + 1e-3)
    assert np.abs(net.forward(X)).max() <= 1e-14 * (1 + np.abs(ref.forward(X)).max())
    with pytest.raises(InputError, match="^m:"):
        ShiftedReLUNet.init(m + 1, d, 0.0, seed=seed, paired=True)
