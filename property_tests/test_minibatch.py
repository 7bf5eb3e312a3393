"""The mini-batch experiment (``tree_minibatch``): the tree's and the cache's batch fire
sets are the rescan's, and every strategy's counted work equals an independent count
from a dense replay of the same batches and moves; the memory guard refuses a grid
point beyond the limit. Sizes are small: each example is one run of a few steps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify_sublin.bench.experiments import EXPERIMENTS
from verify_sublin.bench.experiments.minibatch import batches
from verify_sublin.core.data import sphere_data
from verify_sublin.core.errors import MemoryLimitError
from verify_sublin.core.memory import set_memory_limit
from verify_sublin.core.model import ShiftedReLUNet, shift_for


def _replay(p: dict, seed: int):
    """Per step of a dense replay: (|U_batch|, sum of the batch's |S_i|), from X W^T in full
    and the move written out with dense arrays (the experiment's code is not used)."""
    N, m, n, d = p["N"], p["m"], p["n"], p["d"]
    X, _ = sphere_data(N, d, seed=seed)
    b = shift_for(m, p["c"])
    W = ShiftedReLUNet.init(m, d, b, seed=seed + 1).W.copy()
    out = []
    for batch, rho in batches(N, n, p["warmup"] + p["steps"], seed):
        XB = X[batch]
        S = XB @ W.T > b                                 # n x m fire patterns
        U = np.flatnonzero(S.any(axis=0))
        dW = (S[:, U].T * rho) @ XB                      # sum over i with r in S_i of rho_i x_i
        if U.size:
            dW *= p["move"] / math.sqrt(float(np.mean(np.sum(dW * dW, axis=1))))
        W[U] = W[U] + dW
        out.append((int(U.size), int(S.sum())))
    return out[p["warmup"]:]


@settings(max_examples=12)
@given(N=st.integers(9, 80), m=st.sampled_from([16, 100, 256, 1000]), n=st.integers(1, 8),
       d=st.integers(2, 6), c=st.sampled_from([0.0, 0.4, 0.85, 1.5]), seed=st.integers(0, 10**6))
def test_fire_sets_and_counts_match_an_independent_replay(N, m, n, d, c, seed):
    n = min(n, N)
    p = {"N": N, "m": m, "n": n, "d": d, "c": c, "steps": 3, "warmup": 1, "move": 0.3}
    r = EXPERIMENTS["tree_minibatch"].run(dict(p), seed)
    tree, rescan, cache = (r.strategies[k] for k in ("tree", "rescan", "cache"))
    assert tree.mismatches == 0 and cache.mismatches == 0 and r.checked == 4 * n
    replay = _replay(p, seed)
    assert list(zip(r.union, r.fired)) == replay
    depth = max(m - 1, 0).bit_length()                  # levels above the leaves, log2 M
    for t, (u, nnz) in enumerate(replay):
        assert rescan.inner_products[t] == n * m and rescan.node_visits[t] == 0
        assert rescan.preactivations[t] == 0
        assert tree.inner_products[t] == N * u and tree.preactivations[t] == 0
        # a query visits a root and two children per node above the threshold; an update
        # walks at most depth ancestors per refreshed leaf
        assert 0 < tree.node_visits[t] <= n + 2 * nnz * depth + N * u * depth
        assert cache.inner_products[t] == N * u and cache.node_visits[t] == 0
        assert cache.preactivations[t] == n * m + N * u
        for s in (tree, rescan, cache):
            assert s.ops[t] == d * s.inner_products[t] + s.node_visits[t] + s.preactivations[t]
        assert r.predicted_tree[t] == pytest.approx(N * u * (d + math.log2(m)))
    assert r.predicted_rescan == n * m * d
    assert all(len(s.times) == 3 and s.median > 0 for s in (tree, rescan, cache))


def test_memory_guard_refuses_a_grid_point_beyond_the_limit():
    p = {"N": 2**10, "m": 2**12, "n": 8, "d": 4, "c": 0.85, "steps": 1, "warmup": 0}
    set_memory_limit(2**24)             # 16 MiB: the tree alone needs 64 MiB
    try:
        with pytest.raises(MemoryLimitError, match="mini-batch"):
            EXPERIMENTS["tree_minibatch"].run(p, 0)
    finally:
        set_memory_limit(None)
