"""The correlation tree (DTree): build, query of all n fire sets, batched update.

The update is `update(U, W_U + delta)` for the union U of the fire sets, the neurons
one Gauss-Newton step changes; it changes the tree, so each sample gets a fresh tree.
"""

import numpy as np

from ._common import CS, MS, SEED, D, Stateful, cached, problem, repeats, warm_up


def _tree(m, c):
    from verify_sublin import CorrelationTree

    net, X, _ = problem(m, c)
    return CorrelationTree(net.W, X, net.shift)


class TimeTree(Stateful):
    """Seconds of `CorrelationTree(W, X, b)`: one BLAS product X W^T and the max pass
    over n trees of M leaves and M / 8 stored inner nodes (576 MiB at m = 2^20, 1 GiB
    before the blocked layout; freeing the tree is in the sample)."""

    params = (MS, CS)
    param_names = ("m", "c")

    def setup(self, m, c):
        warm_up(None)
        self.repeat = repeats(m)
        self.net, self.X, _ = problem(m, c)

    def time_build(self, m, c):
        from verify_sublin import CorrelationTree

        CorrelationTree(self.net.W, self.X, self.net.shift)


class TimeTreeQuery(Stateful):
    """Seconds of `query_all()` (the query does not change the tree: one tree per
    process, its output buffer sized by one untimed query)."""

    params = (MS, CS)
    param_names = ("m", "c")

    def setup(self, m, c):
        warm_up(None)
        self.repeat = repeats(m)

        def build():
            tree = _tree(m, c)
            tree.query_all()
            return tree

        self.tree = cached(("tree", m, c), build)

    def time_query_all(self, m, c):
        self.tree.query_all()


class TimeTreeUpdate(Stateful):
    """Seconds of `update(U, W_U + delta)`, U the union of the fire sets, delta
    ~ 1e-3 N(0, I) (fixed seed); a fresh tree per sample."""

    params = (MS, CS)
    param_names = ("m", "c")

    def setup(self, m, c):
        warm_up(None)
        self.repeat = repeats(m)
        self.tree = _tree(m, c)

        def delta():
            union = np.unique(self.tree.query_all().indices)
            rng = np.random.default_rng(SEED)
            return union, self.tree.W[union] + 1e-3 * rng.standard_normal((union.size, D))
        self.union, self.new_w = cached(("union", m, c), delta)

    def teardown(self, m, c):
        self.tree = None

    def time_update_union(self, m, c):
        self.tree.update(self.union, self.new_w)
