"""The half-space reporting tree against a full scan written independently (numpy)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from verify_sublin import InputError
from verify_sublin.core.halfspace import HalfSpaceTree


@st.composite
def dyadic_problems(draw):
    """Weights, queries and a threshold on a grid of quarter integers: every inner
    product is exact in floating point, so strict '>' and ties (b equal to some
    <w_r, x>, duplicate weights) are tested without rounding doubts."""
    m = draw(st.integers(1, 300))
    d = draw(st.integers(1, 6))
    leaf = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    spread = draw(st.sampled_from([1, 3, 40]))       # 1: many duplicate points
    W = rng.integers(-spread, spread + 1, size=(m, d)) / 4.0
    X = rng.integers(-4, 5, size=(5, d)) / 4.0
    tie = draw(st.booleans())
    b = float(W[rng.integers(m)] @ X[0]) if tie else draw(st.integers(-40, 40)) / 8.0
    return W, X, b, leaf


@given(dyadic_problems())
def test_every_query_equals_a_scan(problem):
    W, X, b, leaf = problem
    note(f"m={W.shape[0]} d={W.shape[1]} leaf={leaf} b={b}")
    tree = HalfSpaceTree(W, leaf_size=leaf)
    tree.check_invariants()
    for x in X:
        want = np.flatnonzero(W @ x > b)
        got = tree.query(x, b)
        assert got.tolist() == want.tolist()
        assert tree.scan(x, b).tolist() == want.tolist()
    c = tree.counts
    assert c["queries"] == len(X)
    assert c["nodes_visited"] <= len(X) * (2 * tree.leaves - 1)
    assert c["points_tested"] <= len(X) * W.shape[0]
    assert c["reported"] == sum(int(np.count_nonzero(W @ x > b)) for x in X)
    fs = tree.query_all(X, b)
    assert [s.tolist() for s in fs.to_list()] == [np.flatnonzero(W @ x > b).tolist() for x in X]


@given(st.integers(0, 2**32 - 1), st.integers(2, 6))
def test_gaussian_weights_away_from_ties(seed, d):
    """The setting of the experiments (Gaussian weights, unit inputs, b ~ 1), with the
    rare points within 1e-9 of the hyperplane left out of the comparison."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((2000, d))
    x = rng.standard_normal(d)
    x /= np.linalg.norm(x)
    b = float(rng.uniform(-0.5, 2.5))
    tree = HalfSpaceTree(W)
    got = np.zeros(2000, bool)
    got[tree.query(x, b)] = True
    z = W @ x
    clear = np.abs(z - b) > 1e-9
    assert np.array_equal(got[clear], (z > b)[clear])


def test_pruning_visits_fewer_nodes_than_the_tree_has():
    """A far half-space is rejected at the root; a plane through the middle of 2-d
    points cuts far fewer than all L leaves (the count is read, not timed)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4096, 2))
    tree = HalfSpaceTree(W, leaf_size=8)
    assert tree.query([1.0, 0.0], 100.0).size == 0
    assert tree.counts["nodes_visited"] == 1
    tree.query([1.0, 0.0], 0.0)
    assert tree.counts["points_tested"] < 4096 // 4


@pytest.mark.parametrize("kwargs, name", [
    (dict(W=np.zeros((0, 2))), "W"),
    (dict(W=np.zeros(3)), "W"),
    (dict(W=np.ones((4, 2)), leaf_size=0), "leaf_size"),
])
def test_bad_construction_names_the_parameter(kwargs, name):
    with pytest.raises(InputError, match=name):
        HalfSpaceTree(**kwargs)


def test_bad_query_names_the_parameter():
    tree = HalfSpaceTree(np.ones((4, 2)))
    with pytest.raises(InputError, match="x"):
        tree.query([1.0, 2.0, 3.0], 0.0)
    with pytest.raises(InputError, match="b"):
        tree.query([1.0, 2.0], float("nan"))
