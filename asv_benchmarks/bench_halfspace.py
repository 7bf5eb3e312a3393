"""Half-space reporting over the weights: `HalfSpaceTree.query` against a full scan.

Weights W (m x d) Gaussian, queries unit vectors, threshold b = sqrt(c ln m) at
c = 0.4, d = 2 and 4 (the low dimensions where a kd-tree can beat a scan). The query
does not change the tree, so one tree is built per process (untimed, in setup); the
timed body answers the same 64 queries every sample.
"""

import numpy as np

from ._common import MS, SEED, N, cached, repeats, require_module

DS = [2, 4]
C = 0.4


def _operands(m, d):
    shift_for = require_module("model").shift_for
    hs = require_module("halfspace")
    rng = np.random.default_rng(SEED)
    W = rng.standard_normal((m, d))
    X = rng.standard_normal((N, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    tree = hs.HalfSpaceTree(W)
    b = shift_for(m, C)
    tree.query(X[0], b)                 # compile or load the kernel, untimed
    tree.scan(X[0], b)
    return tree, X, b


class TimeHalfSpaceQuery:
    """Seconds of 64 queries {r : <w_r, x> > b} by the tree and by the scan."""

    params = (DS, MS)
    param_names = ("d", "m")
    number = 1
    timeout = 600

    def setup(self, d, m):
        self.repeat = repeats(m)
        self.tree, self.X, self.b = cached(("halfspace", d, m), lambda: _operands(m, d))

    def time_query(self, d, m):
        for x in self.X:
            self.tree.query(x, self.b)

    def time_scan(self, d, m):
        for x in self.X:
            self.tree.scan(x, self.b)

    def track_nodes_visited_per_query(self, d, m):
        before = self.tree.counts["nodes_visited"]
        for x in self.X:
            self.tree.query(x, self.b)
        return (self.tree.counts["nodes_visited"] - before) / len(self.X)

    track_nodes_visited_per_query.unit = "nodes"
