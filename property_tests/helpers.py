"""Independent reference computations and hypothesis strategies shared by the tests.

The references here are deliberately naive (dense, explicit Jacobian, brute force)
so that they share no code with the package beyond the model's definition.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import strategies as st

from verify_sublin import NumericalError, ShiftedReLUNet, StepResult, shift_for, sphere_data
from verify_sublin.core.trainers import COUNT_KEYS, PHASES

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def lockstep(ref, other, steps):
    """Step trainer `ref` and trainer `other` together up to `steps` times, yielding
    their StepResults (a, b). Where `ref` refuses a step with NumericalError (a
    singular Gram), `other` must refuse that same step, and the iteration ends early:
    a caller that needs to know counts the pairs."""
    for _ in range(steps):
        try:
            a = ref.step()
        except NumericalError:
            with pytest.raises(NumericalError):
                other.step()
            return
        yield a, other.step()


def nothing_fires(J, trainer) -> bool:
    """Whether J = 0 (no neuron fires on any input); if so, checks that the trainer's
    step refuses with the documented diagnosis rather than silently not moving."""
    if J.any():
        return False
    with pytest.raises(NumericalError, match="no neuron fires"):
        trainer.step()
    return True


def check_step_header(res, t, prev_after):
    """What every trainer's StepResult of step t says about itself: its type and index,
    the fixed count and phase keys, non-negative counts, and residual_before equal to
    the previous step's residual_after (`prev_after`)."""
    assert isinstance(res, StepResult) and res.step == t
    assert set(res.counts) == set(COUNT_KEYS) and set(res.times) == set(PHASES)
    assert all(v >= 0 for v in res.counts.values())
    assert res.residual_before == pytest.approx(prev_after, rel=1e-12, abs=1e-300)


def brute_fire_sets(W, X, b):
    """S_i by a full scan, as Python lists."""
    return [[r for r in range(W.shape[0]) if float(X[i] @ W[r]) > b] for i in range(X.shape[0])]


def dense_jacobian(W, a, X, b):
    """J (n x m d) built entry by entry from the definition."""
    m, d = W.shape
    n = X.shape[0]
    J = np.zeros((n, m * d))
    for i in range(n):
        for r in range(m):
            if X[i] @ W[r] > b:
                J[i, r * d:(r + 1) * d] = a[r] * X[i] / math.sqrt(m)
    return J


def kappa_rtol(A, floor=1e-10):
    """How closely two correct solutions of A g = r (A symmetric) may agree, relative to
    the solution: backward-stable solvers agree to about kappa(A) eps, and different
    BLAS kernels (machines), or a Gram summed in a different order, land that far
    apart. We allow 100 kappa eps, and never ask for less than `floor`. Returns inf
    for a matrix singular to working precision."""
    ev = np.linalg.eigvalsh(A)
    if ev[0] <= 0.0:
        return math.inf
    return max(floor, 100.0 * float(ev[-1] / ev[0]) * np.finfo(np.float64).eps)


def solve_rtol(W, a, X, b, mu, floor=1e-10):
    """`kappa_rtol` of the Gauss-Newton system (J J^T + mu I) at weights W, from the
    dense J. With mu ~ 1e-9 and a rank-deficient J J^T, kappa ~ 1e8 and two correct
    trainers' iterates differ by ~1e-8 on some machines: a fixed 1e-10 would test the
    machine, not the trainer."""
    J = dense_jacobian(W, a, X, b)
    return kappa_rtol(J @ J.T + mu * np.eye(X.shape[0]), floor)


def deep_solve_rtol(net, X, mu, floor=1e-9):
    """`kappa_rtol` of a multi-layer net's Gauss-Newton system (G + mu I), G = J J^T
    from `DeepShiftedReLUNet.gram`."""
    return kappa_rtol(net.gram(X) + mu * np.eye(X.shape[0]), floor)


def dense_outputs(W, a, X, b):
    return np.maximum(X @ W.T - b, 0.0) @ a / math.sqrt(W.shape[0])


@st.composite
def problems(draw, m_max=256, n_max=12, d_max=6, c_max=0.8, labels=("teacher", "random")):
    """A small (net, X, y) problem: m, n, d, c and seeds drawn."""
    m = draw(st.integers(8, m_max))
    n = draw(st.integers(1, n_max))
    d = draw(st.integers(2, d_max))
    c = draw(st.floats(0.0, c_max))
    seed = draw(seeds)
    X, y = sphere_data(n, d, seed=seed, labels=draw(st.sampled_from(labels)))
    net = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed + 1)
    return net, X, y
