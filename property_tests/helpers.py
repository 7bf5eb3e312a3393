"""Independent reference computations and hypothesis strategies shared by the tests.

The references here are deliberately naive (dense, explicit Jacobian, brute force)
so that they share no code with the package beyond the model's definition.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from verify_sublin import ShiftedReLUNet, shift_for, sphere_data

seeds = st.integers(min_value=0, max_value=2**32 - 1)


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
