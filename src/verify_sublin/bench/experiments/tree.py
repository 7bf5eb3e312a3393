"""Experiments on the search structures: the correlation tree's exactness and counted
cost, and half-space reporting over the weights."""

from __future__ import annotations

import math
import time

import numpy as np

from ...core.data import sphere_data
from ...core.halfspace import HalfSpaceTree
from ...core.model import shift_for
from ...core.tree import CorrelationTree
from ..speed import floor_time
from .common import _best_of, _net, _unit_queries


def tree_check(p: dict, seed: int) -> dict:
    """Random builds and update sequences; every query compared with a full scan.

    Parameters: trials, m_max, n_max, d, updates. Cost O(trials updates n m d)."""
    rng = np.random.default_rng(seed)
    checks = mismatches = 0
    for _ in range(int(p["trials"])):
        m = int(rng.integers(1, int(p["m_max"]) + 1))
        n = int(rng.integers(1, int(p["n_max"]) + 1))
        d = int(p["d"])
        W, X = rng.standard_normal((m, d)), rng.standard_normal((n, d))
        thr = float(rng.normal())
        tree = CorrelationTree(W, X, thr)
        for _ in range(int(p["updates"])):
            k = int(rng.integers(1, m + 1))
            rows = rng.integers(0, m, size=k)
            new = rng.standard_normal((k, d))
            tree.update(rows, new)
            for r, w in zip(rows, new):
                W[r] = w
            fs = tree.query_all()
            want = X @ W.T > thr
            for i in range(n):
                checks += 1
                mismatches += not np.array_equal(fs[i], np.flatnonzero(want[i]))
            tree.check_invariants()
    return {"checks": checks, "mismatches": mismatches}


def tree_cost(p: dict, seed: int) -> dict:
    """Counted node visits of query_all and of an update of the union, with times and
    the floor product. The tree's kernels are compiled (or loaded) on a small tree first,
    untimed: the first run of a sweep timed numba's compilation before. Parameters m, n,
    d, c."""
    m, n, d = int(p["m"]), int(p["n"]), int(p["d"])
    X, _ = sphere_data(n, d, seed=seed)
    net = _net(p, d, seed + 1)
    small = CorrelationTree(net.W[:64].copy(), X, net.shift)
    small.query_all()
    small.update(np.arange(2), net.W[:2] + 0.01)
    floor = floor_time(X, net.W, 3)
    t0 = time.perf_counter()
    tree = CorrelationTree(net.W, X, net.shift)
    build = time.perf_counter() - t0
    tree.query_all()
    v0 = tree.counts["tree_nodes_visited"]
    t0 = time.perf_counter()
    fs = tree.query_all()
    query = time.perf_counter() - t0
    visits = tree.counts["tree_nodes_visited"] - v0
    per_tree = [int(1 + 2 * np.count_nonzero(tree.heap(i)[1:tree.M] > net.shift))
                for i in range(n)]
    union = np.unique(fs.indices)
    new = net.W[union] + 0.01 * np.random.default_rng(seed).standard_normal((union.size, d))
    v0, i0 = tree.counts["tree_nodes_visited"], tree.counts["inner_products"]
    t0 = time.perf_counter()
    tree.update(union, new)
    update = time.perf_counter() - t0
    return {"b": net.shift, "sizes": fs.sizes.tolist(), "query_visits": visits,
            "per_tree_visits": per_tree, "log2m": math.log2(m), "union": int(union.size),
            "update_visits": tree.counts["tree_nodes_visited"] - v0,
            "update_inner_products": tree.counts["inner_products"] - i0,
            "seconds_build": build, "seconds_query": query, "seconds_update": update,
            "seconds_floor": floor}


def hsr_cost(p: dict, seed: int) -> dict:
    """Half-space reporting over m Gaussian weights in d dimensions: per query, node
    visits, points tested in cut leaves and output size k of `HalfSpaceTree`, with the
    seconds per query (best of 3 passes over the queries) of the tree, of a full scan
    and (m <= corr_max) of the correlation tree built over the same queries.

    Parameters: m, d, c (b = sqrt(c ln m)), queries, leaf_size, corr_max.
    Cost O(m d log m) build + queries x (tree query + O(m d) scan)."""
    m, d, q = int(p["m"]), int(p["d"]), int(p["queries"])
    b = shift_for(m, float(p["c"]))
    W = np.random.default_rng(seed).standard_normal((m, d))
    X = _unit_queries(q, d, seed + 1)
    HalfSpaceTree(W[:64].copy(), leaf_size=int(p.get("leaf_size", 8)))   # compile, untimed
    t0 = time.perf_counter()
    tree = HalfSpaceTree(W, leaf_size=int(p.get("leaf_size", 8)))
    build = time.perf_counter() - t0
    tree.query(X[0], b)
    tree.scan(X[0], b)                                  # compiled before timing
    visits, tested, ks = [], [], []
    for x in X:
        before = dict(tree.counts)
        tree.query(x, b)
        visits.append(tree.counts["nodes_visited"] - before["nodes_visited"])
        tested.append(tree.counts["points_tested"] - before["points_tested"])
        ks.append(tree.counts["reported"] - before["reported"])
    query = _best_of(lambda: [tree.query(x, b) for x in X]) / q
    scan = _best_of(lambda: [tree.scan(x, b) for x in X]) / q
    out = {"b": b, "visits": visits, "tested": tested, "k": ks, "leaves": tree.leaves,
           "seconds_build": build, "seconds_query": query, "seconds_scan": scan}
    if m <= int(p.get("corr_max", 0)):
        ct = CorrelationTree(W, X, b)
        ct.query_all()
        v0 = ct.counts["tree_nodes_visited"]
        ct.query_all()
        out["corr_visits"] = (ct.counts["tree_nodes_visited"] - v0) / q
        out["seconds_corr"] = _best_of(ct.query_all) / q
    return out
