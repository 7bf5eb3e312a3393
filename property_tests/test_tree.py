"""The correlation tree against brute force, after arbitrary update sequences."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import brute_fire_sets
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from verify_sublin import CorrelationTree, InputError


def internal_above(tree, i, thr):
    """Inner nodes of tree i's logical binary heap whose max exceeds thr (the tree stores
    the leaves and the inner nodes over >= 16 leaves; the heap recomputes the rest)."""
    inner = tree.heap(i)[1:tree.M]
    return int(np.count_nonzero(inner > thr)) if tree.M > 1 else 0


def plain_heap(W, X, i, M):
    """The binary max-heap over <w_r, x_i> (r < m, -inf up to M), built independently."""
    heap = np.full(2 * M, -np.inf)
    heap[M:M + W.shape[0]] = X[i] @ W.T
    for k in range(M - 1, 0, -1):
        heap[k] = max(heap[2 * k], heap[2 * k + 1])
    return heap


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
        M = self.tree.M
        for i in range(self.X.shape[0]):     # the logical heap is the plain binary heap
            want = plain_heap(self.W, self.X, i, M)
            got = self.tree.heap(i)
            np.testing.assert_allclose(got[1:], want[1:], rtol=1e-12, atol=1e-12)


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


@given(seed=st.integers(0, 2**32 - 1), which=st.sampled_from(["inner", "lowest", "leaf", "pad"]))
def test_check_invariants_detects_corruption(seed, which):
    """check_invariants is able to fail: corrupt one node and it must raise. (m = 40:
    M = 64, stored inner nodes 1..7 over >= 16 leaves each, leaves from offset 8.)"""
    rng = np.random.default_rng(seed)
    tree = CorrelationTree(rng.standard_normal((40, 3)), rng.standard_normal((2, 3)), 0.1)
    tree.check_invariants()
    L = tree.leaf_offset
    assert (tree.M, tree.S, L) == (64, 8, 8)
    if which == "inner":
        tree.nodes[1, 1] += 1.0           # the root
    elif which == "lowest":
        tree.nodes[0, 5] += 1.0           # a node over 16 leaves
    elif which == "leaf":
        tree.nodes[0, L + 2] += 1e-6
        tree._rebuild_inner()  # keep the max structure intact so only the leaf check fires
    else:
        tree.nodes[0, -1] = 0.0
    with pytest.raises(AssertionError):
        tree.check_invariants()


@given(m=st.integers(1, 5000), d=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_blocked_layout_holds_the_plain_heap(m, d, seed):
    """The stored nodes and leaves are the plain heap's (leaves at `leaf_offset`, inner
    nodes 1 .. S - 1 with S = M / 8, or none below M = 16), and the memory is n (M + S)
    floats: 576 MiB instead of 1 GiB at n = 64, m = 2^20."""
    rng = np.random.default_rng(seed)
    W, X = rng.standard_normal((m, d)), rng.standard_normal((2, d))
    tree = CorrelationTree(W, X, 0.0)
    M = tree.M
    assert tree.S == max(1, M // 8) and tree.nodes.shape == (2, tree.S + M)
    assert tree.nodes.ctypes.data % 64 == 0
    for i in range(2):
        heap = plain_heap(W, X, i, M)
        np.testing.assert_allclose(tree.nodes[i, tree.leaf_offset:], heap[M:], rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_allclose(tree.nodes[i, 1:tree.S], heap[1:tree.S], rtol=1e-12,
                                   atol=1e-12)
    assert CorrelationTree.memory_estimate(2**20, 64, 32) - 8.0 * 2**20 * 32 < 0.57 * 2**30


@settings(max_examples=60)
@given(m=st.integers(1, 300), n=st.integers(1, 3), k=st.integers(1, 40),
       seed=st.integers(0, 2**32 - 1), step=st.sampled_from([1e-3, 1.0]))
def test_update_visits_are_the_plain_heaps(m, n, k, seed, step):
    """An update counts the inner nodes the plain binary heap would recompute: the walk
    from each written leaf up, stopping after the first recomputed node whose max is
    unchanged (rows in increasing order, trees independent), whether the node is
    stored or recomputed from its leaves' cache line."""
    rng = np.random.default_rng(seed)
    W, X = rng.standard_normal((m, 3)), rng.standard_normal((n, 3))
    tree = CorrelationTree(W, X, 0.2)
    rows = np.unique(rng.integers(0, m, size=k))
    new = W[rows] + step * rng.standard_normal((rows.size, 3))
    M, want = tree.M, 0
    for i in range(n):
        heap = plain_heap(W, X, i, M)
        for r, w in zip(rows, new):
            heap[M + r] = X[i] @ w
            node = (M + r) // 2
            while node >= 1:
                best = max(heap[2 * node], heap[2 * node + 1])
                want += 1
                if heap[node] == best:
                    break
                heap[node] = best
                node //= 2
    before = tree.counts["tree_nodes_visited"]
    tree.update(rows, new)
    assert tree.counts["tree_nodes_visited"] - before == want


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 90), n=st.integers(1, 6), thr=st.floats(-1.0, 1.0),
       seed=st.integers(0, 2**32 - 1), data=st.data())
def test_query_rows_reports_a_batchs_fire_sets(m, n, thr, seed, data):
    """query_rows(batch): one fire set per entry of the batch (repeats and any order),
    each the brute-force set of that input; a bad batch is an InputError naming rows."""
    rng = np.random.default_rng(seed)
    W, X = rng.standard_normal((m, 3)), rng.standard_normal((n, 3))
    tree = CorrelationTree(W, X, thr)
    batch = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=8)), dtype=np.int64)
    fs = tree.query_rows(batch, thr)
    brute = brute_fire_sets(W, X, thr)
    assert len(fs.indptr) == batch.size + 1
    for k, i in enumerate(batch):
        assert list(fs.indices[fs.indptr[k]:fs.indptr[k + 1]]) == list(brute[i])
    with pytest.raises(InputError, match="^rows"):
        tree.query_rows([n])
