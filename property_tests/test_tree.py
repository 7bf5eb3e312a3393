"""The correlation tree against brute force, after arbitrary update sequences."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import brute_fire_sets
from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from verify_sublin import CorrelationTree, InputError


def internal_above(tree, i, thr):
    """Inner nodes of tree i whose max exceeds thr, counted from the node array."""
    inner = tree.nodes[i, 1:tree.M]
    return int(np.count_nonzero(inner > thr)) if tree.M > 1 else 0


class TreeMachine(RuleBasedStateMachine):
    """Random builds, batched updates (repeated rows, all rows, one row) and queries.

    After every rule the tree's invariants hold and its reports equal brute force.
    """

    @initialize(m=st.integers(1, 70), n=st.integers(1, 5), d=st.integers(1, 4),
                thr=st.floats(-1.5, 1.5), seed=st.integers(0, 2**32 - 1))
    def build(self, m, n, d, thr, seed):
        self.rng = np.random.default_rng(seed)
        self.W = self.rng.standard_normal((m, d))
        self.X = self.rng.standard_normal((n, d))
        self.thr = thr
        self.tree = CorrelationTree(self.W, self.X, thr)
        note(f"m={m} n={n} d={d} thr={thr}")

    def _new(self, rows):
        return self.rng.standard_normal((len(rows), self.W.shape[1]))

    def _apply_model(self, rows, new):
        for r, w in zip(rows, new):  # last occurrence wins, as documented
            self.W[r] = w

    @rule(k=st.integers(1, 12))
    def update_with_repeats(self, k):
        rows = self.rng.integers(0, self.W.shape[0], size=k)
        new = self._new(rows)
        self.tree.update(rows, new)
        self._apply_model(rows, new)

    @rule()
    def update_all_rows(self):
        rows = self.rng.permutation(self.W.shape[0])
        new = self._new(rows)
        self.tree.update(rows, new)
        self._apply_model(rows, new)

    @rule(data=st.data())
    def update_one_row(self, data):
        r = data.draw(st.integers(0, self.W.shape[0] - 1))
        new = self._new([r])
        self.tree.update([r], new)
        self._apply_model([r], new)

    @rule(k=st.integers(1, 6))
    def set_leaf_values(self, k):
        rows = self.rng.integers(0, self.W.shape[0], size=k)
        new = self._new(rows)
        self.tree.set_leaf_values(rows, self.X @ new.T)
        self._apply_model(rows, new)

    @rule(data=st.data())
    def query_one(self, data):
        i = data.draw(st.integers(0, self.X.shape[0] - 1))
        before = self.tree.counts["tree_nodes_visited"]
        got = self.tree.query(i).tolist()
        assert got == self._want()[i]
        visits = self.tree.counts["tree_nodes_visited"] - before
        assert visits == 1 + 2 * internal_above(self.tree, i, self.thr)

    @rule()
    def query_all(self):
        before = self.tree.counts["tree_nodes_visited"]
        fs = self.tree.query_all()
        assert [s.tolist() for s in fs.to_list()] == self._want()
        visits = self.tree.counts["tree_nodes_visited"] - before
        assert visits == sum(1 + 2 * internal_above(self.tree, i, self.thr)
                             for i in range(self.X.shape[0]))

    def _want(self):
        return brute_fire_sets(self.W, self.X, self.thr)

    @invariant()
    def invariants_hold(self):
        self.tree.check_invariants(W=self.W)


TestTreeMachine = TreeMachine.TestCase


@given(m=st.integers(1, 300), n=st.integers(1, 6), d=st.integers(1, 5),
       thr=st.floats(-1, 2), seed=st.integers(0, 2**32 - 1))
def test_query_all_counts(m, n, d, thr, seed):
    """query_all equals brute force; its visit count equals 1 + 2 * (inner nodes > thr)
    per tree, and stays within 1 + 2 |S_i| ceil(log2 m) (the O(|S_i| log m) bound)."""
    rng = np.random.default_rng(seed)
    W, X = rng.standard_normal((m, d)), rng.standard_normal((n, d))
    tree = CorrelationTree(W, X, thr)
    assert tree.counts == {"inner_products": n * m, "tree_nodes_visited": 0}
    fs = tree.query_all()
    want = brute_fire_sets(W, X, thr)
    assert [s.tolist() for s in fs.to_list()] == want
    depth = max(m - 1, 0).bit_length()
    exact = sum(1 + 2 * internal_above(tree, i, thr) for i in range(n))
    assert tree.counts["tree_nodes_visited"] == exact
    assert exact <= sum(1 + 2 * len(s) * depth for s in want)


def test_threshold_is_strict():
    """A leaf exactly at the threshold is not reported (S_i uses >)."""
    tree = CorrelationTree([[0.5, 0.0], [0.75, 0.0]], [[1.0, 0.0]], threshold=0.5)
    assert tree.query(0).tolist() == [1]


def test_bad_input():
    W, X = np.ones((4, 2)), np.ones((3, 2))
    for call, name in [
        (lambda: CorrelationTree(W, np.ones((3, 3)), 0.0), "X"),
        (lambda: CorrelationTree(np.ones(4), X, 0.0), "W"),
        (lambda: CorrelationTree(W, X, float("nan")), "threshold"),
        (lambda: CorrelationTree(W, X, 0.0).update([4], np.ones((1, 2))), "rows"),
        (lambda: CorrelationTree(W, X, 0.0).update([0], np.ones((2, 2))), "new_weights"),
        (lambda: CorrelationTree(W, X, 0.0).update([0.5], np.ones((1, 2))), "rows"),
        (lambda: CorrelationTree(W, X, 0.0).query(3), "i"),
    ]:
        with pytest.raises(InputError) as info:
            call()
        assert str(info.value).startswith(name + ":")


@given(seed=st.integers(0, 2**32 - 1), which=st.sampled_from(["inner", "leaf", "pad"]))
def test_check_invariants_detects_corruption(seed, which):
    """check_invariants is able to fail: corrupt one node and it must raise."""
    rng = np.random.default_rng(seed)
    tree = CorrelationTree(rng.standard_normal((5, 3)), rng.standard_normal((2, 3)), 0.1)
    tree.check_invariants()
    if which == "inner":
        tree.nodes[1, 1] += 1.0
    elif which == "leaf":
        tree.nodes[0, tree.M + 2] += 1e-6
        level = tree.M // 2     # keep the max structure intact so only the leaf check fires
        while level >= 1:
            np.maximum(tree.nodes[:, 2 * level:4 * level:2],
                       tree.nodes[:, 2 * level + 1:4 * level:2], out=tree.nodes[:, level:2 * level])
            level //= 2
    else:
        tree.nodes[0, -1] = 0.0
    with pytest.raises(AssertionError):
        tree.check_invariants()
