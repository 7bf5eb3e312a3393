"""Notation and methods: the symbols the report uses, and every method and variant it
measures, with what it computes, which paper ingredient it implements (or that it is
this project's), its memory and its cost per step in the terms the operation counter
counts (`core.trainers.base.COUNT_KEYS`: inner products x d, tree nodes, Jacobian
nonzeros, dense multiply-adds, pre-activation updates).

A test checks that every registered two-layer method and every preset has a row, so a
new method cannot reach the report undescribed. Cost: none (text and a table).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["METHOD_ROWS", "NOTATION", "MethodRow"]

#: the report's symbols, as Markdown paragraphs and a list
NOTATION = """\
The model is a two-layer network with a fixed second layer,
f(W, x) = (1/sqrt m) sum_r a_r sigma_b(<w_r, x>), with a_r uniform in {-1, +1}, w_r(0) ~
N(0, I_d), inputs on the unit sphere and the loss 1/2 ||f(W) - y||^2 over n inputs.

- **sigma_b(z) = max(z - b, 0)**, the shifted ReLU, with shift **b = sqrt(c ln m)**; the
  constant **c** names the shift (c = 0: plain ReLU; the main paper's choice is c = 0.48).
- **Q(b)** = P(N(0, 1) > b), the standard normal tail: each <w_r(0), x_i> is N(0, 1), so
  E|S_i(0)| = m Q(b).
- **alpha = c/2** (the naming is reconstructed): m Q(b) <= m^(1 - alpha), the papers'
  bound on a fire set.
- **S_i = {r : <w_r, x_i> > b}**, the fire set of input i: the neurons that input
  activates; the Jacobian J (n x m d) is nonzero only on them.
- **U = S_1 u ... u S_n**, their union: the neurons a Gauss-Newton step may change, about
  m (1 - (1 - Q(b))^n); m / |U| bounds the speed-up of any method that touches only U.
- **The floor** is one dense product X W^T (n m d multiply-adds, read every weight once),
  timed in the same process as the figure it is compared with.
- **lambda** = lambda_min of the shifted NTK H (H_ij = E_w[<x_i, x_j> 1(both fire)]);
  **G = J J^T**, the Gram matrix of a Gauss-Newton step.
- **nnz** = sum_i |S_i|, the nonzero blocks of J; **pair count** = sum_r |p_r|^2 / 2, the
  pairs of inputs sharing a neuron (what an exact fire-set Gram costs)."""


class MethodRow(NamedTuple):
    """One method or variant: its name (a method or a preset), what it computes, the
    paper ingredient it implements (or "this project's"), its memory and its cost per
    step in counted operations."""

    name: str
    computes: str
    ingredient: str
    memory: str
    cost: str


#: every method and variant the report measures
METHOD_ROWS: tuple[MethodRow, ...] = (
    MethodRow("gd", "full-batch gradient descent, step 1 / lambda_max(G_0)",
              "the first-order baseline", "W (8 m d), fire patterns (16 nnz)",
              "n m d (forward) + nnz d (J^T r)"),
    MethodRow("adam", "full-batch Adam", "a first-order baseline",
              "W and two moments (24 m d)", "n m d + nnz d + 10 m d"),
    MethodRow("sgd", "mini-batch stochastic gradient descent, batches of B = n / 8 inputs "
              "(a permutation per epoch), step (B / n) / lambda_B", "a first-order baseline "
              "the reviewers asked for", "W (8 m d)",
              "B m d (batch forward) + nnz_B d per step (the full residual it reports is "
              "monitoring, not counted)"),
    MethodRow("ggn", "Gram-Gauss-Newton, exact Cholesky; the Gram from fire-set "
              "intersections (<x_i, x_j> |S_i and S_j| / m)",
              "Cai et al.'s Gram-Gauss-Newton with this project's fire-set Gram (not the "
              "dense m n^2 d product: a baseline that already exploits the sparsity)",
              "W (8 m d), fire patterns (16 nnz)",
              "n m d (forward) + pair count + n^3/3 + nnz d"),
    MethodRow("textbook ggn", "Gram-Gauss-Newton, exact Cholesky; the Gram J J^T as the "
              "dense product of J formed in blocks of neurons (BLAS syrk)",
              "Cai et al.'s Gram-Gauss-Newton as specified (no use of sparsity in the "
              "Gram); timed only where m n^2 d <= 1e11",
              "W (8 m d), the n x m mask, one n x 2^15 block of J",
              "n m d (forward) + m d n (n + 1)/2 + n m (d + 1) + n^3/3 + nnz d"),
    MethodRow("sketched_gn", "Gauss-Newton by CG preconditioned with R from a sketch of "
              "J^T (CountSketch by default), dense J u and J^T v",
              "van den Brand et al.'s sketched Gauss-Newton (their Fast-JL sketch replaced "
              "by CountSketch)", "W, fire patterns, the s x n sketch",
              "(CG products) x n m d + sketch + QR s n^2"),
    MethodRow("paper near-linear", "Gauss-Newton by CG preconditioned with R from a "
              "tensor sketch of J^T (Kronecker-structured, J^T never formed; s = 4 n ln n), "
              "dense J u and J^T v over all m neurons",
              "van den Brand et al.'s sketched Gauss-Newton as specified (a fast JL "
              "preconditioner; the SRHT itself forms J^T and is kept to m <= 2^18)",
              "W, the n x m mask, an m x d buffer, the s x n sketch",
              "n m d + (CG products) x n m d + nnz + n d + 3 n s log s + QR 2 (s + n) n^2"),
    MethodRow("paper sublinear", "Gauss-Newton on the fired blocks: fire sets from the "
              "correlation tree, direction by CG preconditioned with R from a tensor sketch "
              "of J^T's fire-set factor (s = 4 n ln n), inner products updated from X X^T "
              "(implicit weights)",
              "Deng et al.'s sublinear Gauss-Newton as specified (tree + sketch-"
              "preconditioned iterative solve + implicit weights)",
              "the tree (9 n M bytes, 576 MiB at m = 2^20); W read-only; the s x n sketch",
              "tree nodes (sum|S_i| log m + n |U| log m) + nnz + n d + 3 n s log s "
              "(sketch) + 2 (s + n) n^2 (QR) + (CG products) x nnz d + nnz n"),
    MethodRow("sublinear tree explicit", "Gauss-Newton on the fired blocks; fire sets "
              "from the correlation tree, W updated and changed neurons' inner products "
              "recomputed; exact Cholesky", "Deng et al.'s tree (DSWS); the exact solve is "
              "this project's (the paper: a sketch-preconditioned solve)",
              "W, the tree (9 n M bytes)",
              "tree nodes (sum|S_i| log m + n |U| log m) + |U| n d + pair count + n^3/3"),
    MethodRow("sublinear tree implicit", "as above, the inner products updated from "
              "K = X X^T without touching W", "Deng et al.'s tree and implicit weights; "
              "exact solve this project's", "the tree; W read-only",
              "tree nodes + nnz n + pair count + n^3/3"),
    MethodRow("sublinear cache explicit", "Gauss-Newton on the fired blocks; fire sets "
              "kept exactly in a cache of the live union's inner products (|U| x n)",
              "this project's (no search structure: only neurons in U move)",
              "W, the cache (8 |U| n)", "|U| n d + |U| n + pair count + n^3/3"),
    MethodRow("sublinear cache implicit", "the cache with implicit pre-activations and "
              "the exact Cholesky solve", "this project's variant (the fastest; no paper "
              "proposes the cache or the exact solve)", "the cache; W read-only",
              "nnz n + |U| n + pair count + n^3/3"),
    MethodRow("sublinear scan explicit", "a dense n x m cache re-thresholded in full",
              "the naive baseline", "W, the n x m cache (8 n m)",
              "n m + |U| n d + pair count + n^3/3"),
    MethodRow("second_layer", "least squares over the second layer a alone",
              "the reviewers' ablation", "the n x m features", "n m d + n^2 m + n^3/3"),
    MethodRow("ntk_krr", "kernel ridge regression with the exact shifted NTK",
              "the reviewers' alternative", "the n x n kernel", "n^2 d + n^3/3 (once)"),
    MethodRow("deep_dense", "Gauss-Newton on an L-layer net with BLAS products over every "
              "weight", "the dense reference of Song, Zhang, Zhang",
              "2 (L - 1) m^2 floats", "n (L - 1) m^2 + n^2 L m + n^3"),
    MethodRow("deep_sublinear", "the same step on fired columns and rows, hidden layers "
              "kept as W^0 plus pending rank-one terms merged past a threshold",
              "Song, Zhang, Zhang's mechanism (reconstructed)",
              "(L - 1) m^2 + pending terms", "counted per layer: fired products + merges"),
    MethodRow("mini-batch tree", "rq.tree_minibatch: the fire sets of a batch of n of N inputs "
              "by the correlation tree over all N inputs; moving the batch's union U refreshes "
              "its leaves in all N trees", "Deng et al.'s tree, in this project's mini-batch "
              "setting", "the tree (16 N M bytes)",
              "tree nodes (sum over the batch of |S_i| log m + N |U| log m) + N |U| d"),
    MethodRow("mini-batch rescan", "rq.tree_minibatch: the batch's fire sets from X_batch W^T",
              "the naive baseline", "W only", "n m d"),
    MethodRow("mini-batch cache", "rq.tree_minibatch: all N inputs' pre-activations kept; the "
              "batch's fire sets read from its n rows, U's N columns refreshed",
              "this project's (no search structure)", "the N x m cache (8 N m bytes)",
              "n m + N |U| d + N |U|"),
)
