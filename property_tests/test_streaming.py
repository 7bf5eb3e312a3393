"""The streamed construction against dense computations of the same quantities.

The forward pass, the trainers' construction and the correlation tree's build stream W
in row blocks; every block size (1 neuron, a few, more than m), output-capacity growth
and the optional output (the union's pre-activations) must give what the dense n x m
product gives.
"""

from __future__ import annotations

import numpy as np
from helpers import brute_fire_sets, seeds
from hypothesis import given
from hypothesis import strategies as st

import verify_sublin as vs
from verify_sublin import ShiftedReLUNet, shift_for, sphere_data
from verify_sublin.core.firesets import UnionPatterns, stream_forward
from verify_sublin.core.tree import CorrelationTree


def _problem(m, n, d, c, seed):
    X, y = sphere_data(n, d, seed=seed, labels="teacher")
    net = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed + 1)
    return net, X, y


def _dense(net, X):
    """Pre-activations (n x m), mask, activations and outputs, straight from the definition."""
    P = X @ net.W.T
    M = P > net.shift
    Phi = np.where(M, P - net.shift, 0.0)
    return P, M, Phi, Phi @ net.a / np.sqrt(net.m)


@given(m=st.integers(1, 300), n=st.integers(1, 9), d=st.integers(2, 5), c=st.floats(0, 1),
       block=st.integers(1, 400), keep=st.booleans(), hinted=st.booleans(), seed=seeds)
def test_stream_forward_matches_the_dense_product(m, n, d, c, block, keep, hinted, seed):
    net, X, _ = _problem(m, n, d, c, seed)
    P, M, Phi, f = _dense(net, X)
    # a hint far too small forces the outputs to grow mid-stream
    hint = UnionPatterns(np.zeros(1, np.int64), np.array([0, 1]), np.zeros(1, np.int64),
                         None, n) if hinted else None
    pat, out, rows = stream_forward(X, net.W, net.shift, net.a, 1 / np.sqrt(m), hint=hint,
                                    keep_rows=keep, block=block)
    union = np.flatnonzero(M.any(axis=0))
    assert pat.union.tolist() == union.tolist()
    for j, r in enumerate(union):
        inputs = pat.ninputs[pat.nptr[j]:pat.nptr[j + 1]]
        assert inputs.tolist() == np.flatnonzero(M[:, r]).tolist()
        # W_B X^T and X W^T may differ in the last bit (another summation order)
        assert np.allclose(pat.values[pat.nptr[j]:pat.nptr[j + 1]], Phi[inputs, r],
                           rtol=1e-12, atol=1e-14)
    assert np.allclose(out, f, rtol=1e-12, atol=1e-14)
    assert pat.sizes.tolist() == M.sum(axis=1).tolist()
    if keep:
        assert np.allclose(rows, P[:, union].T, rtol=1e-12, atol=1e-14)
    else:
        assert rows is None
    fs = pat.to_fire_sets(m)
    assert [s.tolist() for s in fs.to_list()] == brute_fire_sets(net.W, X, net.shift)
    assert np.allclose(fs.data, Phi[M], rtol=1e-12, atol=1e-14)   # input-major order


@given(m=st.integers(1, 80), n=st.integers(1, 8), seed=seeds)
def test_pattern_flips_count_the_symmetric_differences(m, n, seed):
    rng = np.random.default_rng(seed)
    A, B = rng.random((n, m)) < 0.2, rng.random((n, m)) < 0.2

    def patterns(mask):
        union = np.flatnonzero(mask.any(axis=0))
        nptr = np.concatenate([[0], np.cumsum(mask[:, union].sum(axis=0))]).astype(np.int64)
        ninputs = np.concatenate([np.flatnonzero(mask[:, r]) for r in union]
                                 + [np.zeros(0, np.int64)]).astype(np.int64)
        return UnionPatterns(union.astype(np.int64), nptr, ninputs, None, n)

    assert patterns(A).flips(patterns(B)).tolist() == (A != B).sum(axis=1).tolist()


@given(m=st.integers(1, 700), n=st.integers(1, 5), d=st.integers(2, 4), c=st.floats(0, 1),
       block=st.sampled_from([1, 2, 8, 64, 1024]), copy=st.booleans(), seed=seeds)
def test_tree_built_in_blocks_matches_the_dense_build(m, n, d, c, block, copy, seed):
    net, X, _ = _problem(m, n, d, c, seed)
    old, CorrelationTree.BLOCK = CorrelationTree.BLOCK, block
    try:
        tree = CorrelationTree(net.W, X, net.shift, copy=copy)
    finally:
        CorrelationTree.BLOCK = old
    tree.check_invariants(net.W, rtol=1e-12)
    assert np.array_equal(tree.W, net.W) and np.shares_memory(tree.W, net.W) == (not copy)
    fs = tree.query_all()
    assert [s.tolist() for s in fs.to_list()] == brute_fire_sets(net.W, X, net.shift)
    _, _, _, f = _dense(net, X)
    assert np.allclose(tree.outputs(fs, net.a) / np.sqrt(m), f, rtol=1e-12, atol=1e-14)


@given(method=st.sampled_from(["ggn", "gd", "second_layer", "sublinear_gn"]),
       fire_sets=st.sampled_from(["tree", "cache", "scan"]),
       preactivations=st.sampled_from(["explicit", "implicit"]), seed=seeds)
def test_training_never_writes_the_callers_weights(method, fire_sets, preactivations, seed):
    net, X, y = _problem(256, 8, 4, 0.4, seed)
    W0 = net.W.copy()
    opts = (dict(fire_sets=fire_sets, preactivations=preactivations, mu=1e-8)
            if method == "sublinear_gn" else {})
    trainer = vs.make_trainer(method, net, X, y, **opts)
    trainer.run(3)
    assert np.array_equal(net.W, W0)
    if method == "sublinear_gn" and preactivations == "implicit":
        # no copy of W until one is asked for: the trainer reads the caller's, read-only
        assert np.shares_memory(trainer._W, net.W) and not trainer._W.flags.writeable
        assert not np.shares_memory(trainer.net.W, net.W) or trainer.steps_done == 0


@given(m=st.integers(1, 50), n=st.integers(1, 6), block=st.integers(1, 60), seed=seeds)
def test_model_forward_in_blocks_matches_the_dense_outputs(m, n, block, seed):
    net, X, _ = _problem(m, n, 3, 0.3, seed)
    _, _, _, f = _dense(net, X)
    old, ShiftedReLUNet.FORWARD_BLOCK = ShiftedReLUNet.FORWARD_BLOCK, block
    try:
        got = net.forward(X)
    finally:
        ShiftedReLUNet.FORWARD_BLOCK = old
    assert np.allclose(got, f, rtol=1e-12, atol=1e-14)
