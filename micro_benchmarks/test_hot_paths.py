"""pytest-benchmark micro-benchmarks of the hot paths (not part of the default suite).

Run with ``tox -e bench`` (saves JSON under .benchmarks/) and compare two saved runs
with ``--benchmark-compare``. Every benchmark first checks its result against a dense
numpy reference, outside the timed part.
"""

from __future__ import annotations

import numpy as np

from verify_sublin import CorrelationTree
from verify_sublin.core.solvers import SparseJacobian, gram_from_patterns


def _same_sets(got, want) -> None:
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)


def test_tree_query_all(benchmark, problem, tree):
    """All n fire sets by pruned descent: O(sum_i |S_i| log m) node visits."""
    _same_sets(tree.query_all(), problem.fire)
    benchmark(tree.query_all)


def test_tree_query_one(benchmark, problem, tree):
    """One fire set: O(|S_0| log m) node visits."""
    assert np.array_equal(tree.query(0), problem.fire[0])
    benchmark(tree.query, 0)


def test_tree_update_union(benchmark, problem):
    """update(U, W_U + delta) of the union U: O(|U| n d + |U| n log m); fresh tree per round."""
    union = np.unique(problem.fire.indices)
    rng = np.random.default_rng(0)
    new_w = problem.net.W[union] + 1e-3 * rng.standard_normal((union.size, problem.X.shape[1]))

    def fresh():
        return (CorrelationTree(problem.net.W, problem.X, problem.net.shift),), {}

    (check,), _ = fresh()
    check.update(union, new_w)
    W = problem.net.W.copy()
    W[union] = new_w
    np.testing.assert_allclose(check.leaf_values(union), problem.X @ new_w.T, rtol=0,
                               atol=1e-12)
    _same_sets(check.query_all(), type(problem.fire).from_lists(
        [np.flatnonzero(row > problem.net.shift) for row in problem.X @ W.T], problem.m))
    benchmark.pedantic(lambda t: t.update(union, new_w), setup=fresh, rounds=15,
                       warmup_rounds=1)


def test_gram_from_fire_sets(benchmark, problem):
    """G = (X X^T) * C / m from the neuron-major patterns: O(sum_r |p_r|^2 + n^2)."""
    pat = problem.fire.union_patterns()
    Kx = problem.X @ problem.X.T
    mask = (problem.P > problem.net.shift).astype(np.float64)
    want = Kx * (mask @ mask.T) / problem.m
    G, _ = gram_from_patterns(pat, Kx, problem.m)
    np.testing.assert_allclose(G, want, rtol=1e-12, atol=1e-15)
    benchmark(gram_from_patterns, pat, Kx, problem.m)


def _sparse_jacobian(problem):
    pat = problem.fire.union_patterns()
    return pat, SparseJacobian(pat, problem.row_coef_all[pat.union], problem.X)


def _dense_mask_coef(problem):
    return (problem.P > problem.net.shift) * problem.row_coef_all      # n x m


def test_sparse_jt(benchmark, problem):
    """J^T v on the union rows: O(nnz(J)) = O(d sum_i |S_i|)."""
    pat, jac = _sparse_jacobian(problem)
    v = np.random.default_rng(1).standard_normal(problem.X.shape[0])
    coef = _dense_mask_coef(problem)[:, pat.union]                     # n x |U|
    want = (coef * v[:, None]).T @ problem.X                           # |U| x d
    np.testing.assert_allclose(jac.jt(v), want, rtol=1e-10, atol=1e-12)
    benchmark(jac.jt, v)


def test_sparse_j(benchmark, problem):
    """J u for u on the union rows: O(nnz(J))."""
    pat, jac = _sparse_jacobian(problem)
    U = np.random.default_rng(2).standard_normal((pat.size, problem.X.shape[1]))
    coef = _dense_mask_coef(problem)[:, pat.union]
    want = np.einsum("ir,rt,it->i", coef, U, problem.X)
    np.testing.assert_allclose(jac.j(U), want, rtol=1e-10, atol=1e-12)
    benchmark(jac.j, U)
