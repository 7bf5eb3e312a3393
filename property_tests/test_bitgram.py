"""The bit-parallel exact Gram against the dense J J^T built independently."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify_sublin import FireSets, InputError, ShiftedReLUNet
from verify_sublin.core.bitgram import bit_gram, fire_bits


def dense_jjt(W, a, X, b):
    """J J^T from the explicit n x (m d) Jacobian: block r of row i is
    a_r 1[<w_r, x_i> > b] x_i / sqrt(m)."""
    m, d = W.shape
    mask = (X @ W.T > b).astype(float)                     # (n, m)
    J = ((a * mask)[:, :, None] * X[:, None, :]).reshape(X.shape[0], m * d) / np.sqrt(m)
    return J @ J.T, mask


@given(m=st.integers(1, 300), n=st.integers(1, 8), d=st.integers(1, 5),
       b=st.floats(0.0, 1.5), seed=st.integers(0, 2**32 - 1))
def test_bit_gram_equals_dense_jjt(m, n, d, b, seed):
    net = ShiftedReLUNet.init(m, d, b, seed=seed)
    rng = np.random.default_rng(seed + 1)
    X = rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    want, mask = dense_jjt(net.W, net.a, X, b)
    fs = FireSets.from_lists([np.flatnonzero(row) for row in mask], m)
    bits = fire_bits(fs)
    assert bits.shape == (n, (m + 63) // 64)
    G, ops = bit_gram(bits, X, m)
    np.testing.assert_allclose(G, want, rtol=1e-12, atol=1e-14)
    words = (m + 63) // 64
    assert ops == n * (n + 1) // 2 * words + n * n + n * n * d
    G2, ops2 = bit_gram(bits, X, m, Kx=X @ X.T)
    np.testing.assert_allclose(G2, want, rtol=1e-12, atol=1e-14)
    assert ops2 == ops - n * n * d


def test_popcount_of_full_and_partial_words():
    """All 64 bits of a word, and the last partial word, are counted."""
    m = 64 * 3 + 5
    fs = FireSets.from_lists([range(m), range(0, m, 2)], m)
    G, _ = bit_gram(fire_bits(fs), np.eye(2, 3), m)
    np.testing.assert_allclose(G * m, [[m, 0], [0, len(range(0, m, 2))]], rtol=1e-14)


def test_bad_bits_name_the_parameter():
    with pytest.raises(InputError, match="bits"):
        bit_gram(np.zeros((2, 1), np.int64), np.eye(2), 64)
    with pytest.raises(InputError, match="bits"):
        bit_gram(np.zeros((2, 2), np.uint64), np.eye(2), 64)
    with pytest.raises(InputError, match="fire"):
        fire_bits([[0]])


@given(seed=st.integers(0, 2**32 - 1), c=st.sampled_from([0.0, 0.4]))
def test_exact_step_is_the_ggn_trainers_step(seed, c):
    """Same network, data and damping: one step moves W to the same place."""
    from verify_sublin.core.bitgram import exact_gn_step
    from verify_sublin.core.data import sphere_data
    from verify_sublin.core.model import shift_for
    from verify_sublin.core.trainers import make_trainer

    m, n, d = 300, 6, 4
    X, y = sphere_data(n, d, seed=seed % 1000)
    net = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed)
    ggn = make_trainer("ggn", net, X, y, mu=1e-3)
    ggn.step()
    W, info = exact_gn_step(net.W.copy(), net.a, net.shift, X, y, mu=1e-3)
    np.testing.assert_allclose(W, ggn.net.W, rtol=1e-9, atol=1e-12)
    assert info["ops"] > d * n * m
