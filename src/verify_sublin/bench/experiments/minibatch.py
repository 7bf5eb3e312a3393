"""Mini-batch training's fire sets: each step draws a batch of n of N inputs, finds the
batch's fire sets, and moves the neurons of their union U_batch. Three ways to find them,
side by side in one process on the same batches and moves (each step's order rotated):

==========  =====================================================  ===================
strategy    a step                                                 memory (beyond W)
==========  =====================================================  ===================
tree        one correlation tree over all N inputs: query the      16 N M (the nodes)
            batch's n trees; moving U_batch refreshes its N |U|
            leaves and their ancestors (N |U| (d + log m))
rescan      X_batch W^T, thresholded (n m d)                       a block buffer
cache       all N inputs' pre-activations (N x m): the batch's     8 N m
            fire sets read from its n rows (n m); moving U_batch
            refreshes N |U| entries (N |U| d)
==========  =====================================================  ===================

The move is Gauss-Newton-shaped but not a training step: w_r += the fired blocks of
J_batch^T rho, rho ~ N(0, I_n) drawn per step from the run's seed, scaled so that the moved
neurons' ||dw_r|| have RMS `move`. It touches exactly U_batch, as a step with a fixed
second layer does; it is computed once per step from the rescan's fire sets, untimed (the
same work for all three), and every other strategy's fire sets are compared with the
rescan's. A strategy's step time is that of finding the batch's fire sets and of moving
U_batch in its structure (the rescan has none to move).
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp
from numba import njit, prange
from scipy.stats import norm

from ...core.data import sphere_data
from ...core.firesets import FireSets, forward_fire_sets
from ...core.kernels import cache_kernels as CK
from ...core.kernels import fireset_kernels as FK
from ...core.memory import check_memory
from ...core.tree import CorrelationTree
from .common import _net

__all__ = ["STRATEGIES", "batches", "memory_bytes", "tree_minibatch"]

#: the strategies (the rescan's fire sets are the reference the others are compared with)
STRATEGIES = ("rescan", "tree", "cache")
#: neurons per block of the rescan's streamed product (as the tree's build): fewer, larger
#: BLAS calls than the default, each n x RESCAN_BLOCK pre-activations (8 MiB at n = 64)
RESCAN_BLOCK = 16384
#: bytes of one N x k buffer of refreshed inner products (the refresh runs in chunks)
CHUNK_BYTES = 2**25


def batches(N: int, n: int, steps: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(batch, rho) per step: n of the N inputs without replacement (sorted) and the
    move's coefficients, from one generator seeded by `seed`. Cost O(steps N).

    >>> [b.tolist() for b, _ in batches(8, 3, 2, 0)] == [b.tolist() for b, _ in batches(8, 3, 2, 0)]
    True
    """
    rng = np.random.default_rng([seed, 17])
    return [(np.sort(rng.choice(N, n, replace=False)), rng.standard_normal(n)) for _ in range(steps)]


def memory_bytes(N: int, m: int, n: int, d: int) -> dict:
    """Bytes each strategy holds beyond the weights W (8 m d) they share: the tree's
    nodes and inputs, the cache's N x m pre-activations, the rescan's block buffer.

    >>> memory_bytes(4, 8, 2, 1)["cache"]
    256.0
    """
    return {"tree": CorrelationTree.memory_estimate(m, N, d) - 8.0 * m * d,
            "rescan": 8.0 * n * min(m, RESCAN_BLOCK),
            "cache": 8.0 * N * m}


@njit(cache=True, parallel=True)
def _rows_above(A, rows, b, cap):  # pragma: no cover - compiled
    """The first `cap` columns r with A[rows[t], r] > b per t, and their counts. Rows in
    parallel. Cost O(len(rows) m)."""
    k, m = rows.shape[0], A.shape[1]
    sizes = np.zeros(k, np.int64)
    out = np.empty((k, cap), np.int64)
    for t in prange(k):
        row = A[rows[t]]
        c = 0
        for r in range(m):
            if row[r] > b:
                if c < cap:
                    out[t, c] = r
                c += 1
        sizes[t] = c
    return sizes, out


def _csr(sizes, out, m: int) -> FireSets:
    indptr, indices = FK.rows_to_csr(sizes, out)
    return FireSets(indptr, indices, m)


def _move(fs: FireSets, rho: np.ndarray, XB: np.ndarray, size: float):
    """(U, dW_U): the union of the batch's fire sets and the fired blocks of J^T rho,
    scaled to RMS ||dw_r|| = size. Cost O(nnz d)."""
    U = np.unique(fs.indices)
    rows = np.repeat(np.arange(fs.n), fs.sizes)
    P = sp.csr_matrix((rho[rows], (rows, np.searchsorted(U, fs.indices))), shape=(fs.n, U.size))
    dW = np.asarray(P.T @ XB)
    if U.size:
        dW *= size / max(math.sqrt(float(np.mean(np.sum(dW * dW, axis=1)))), 1e-300)
    return U, dW


def _same(a: FireSets, b: FireSets) -> int:
    """Inputs whose fire sets differ between a and b (same batch). Cost O(nnz)."""
    return sum(not np.array_equal(a[i], b[i]) for i in range(a.n))


class _Strategy:
    """One strategy's structure and counters, and its two timed operations: find the
    batch's fire sets, move U_batch (the weights W are shared; the tree writes the moved
    rows into them itself, the same values the caller writes after the step)."""

    def __init__(self, name: str, X: np.ndarray, W: np.ndarray, b: float):
        self.name, self.X, self.W, self.b = name, X, W, b
        self.counts = dict.fromkeys(("inner_products", "tree_nodes_visited",
                                     "preactivation_updates"), 0)
        self.cap, self.a = 64, np.ones(W.shape[0])
        t0 = time.perf_counter()
        if name == "tree":
            self.tree = CorrelationTree(W, X, b, copy=False)
        elif name == "cache":
            self.cache = X @ W.T
        self.build = time.perf_counter() - t0

    def find(self, batch: np.ndarray) -> FireSets:
        m = self.W.shape[0]
        if self.name == "rescan":
            self.counts["inner_products"] += batch.size * m
            return forward_fire_sets(self.X[batch], self.W, self.b, self.a, 1.0, block=RESCAN_BLOCK)[0]
        if self.name == "tree":
            before = self.tree.counts["tree_nodes_visited"]
            fs = self.tree.query_rows(batch, self.b)
            self.counts["tree_nodes_visited"] += self.tree.counts["tree_nodes_visited"] - before
            return fs
        while True:
            sizes, out = _rows_above(self.cache, batch, self.b, self.cap)
            if not sizes.size or sizes.max() <= self.cap:
                break
            self.cap = int(sizes.max() * 1.25) + 16
        self.counts["preactivation_updates"] += batch.size * m
        return _csr(sizes, out, m)

    def apply(self, U: np.ndarray, new: np.ndarray) -> None:
        """Neurons U get the weights `new` (|U| x d); the rescan has nothing to keep."""
        N = self.X.shape[0]
        k = max(1, CHUNK_BYTES // (8 * N))
        if self.name == "tree":
            before = dict(self.tree.counts)
            for lo in range(0, U.size, k):
                self.tree.update(U[lo:lo + k], new[lo:lo + k])
            for key in ("inner_products", "tree_nodes_visited"):
                self.counts[key] += self.tree.counts[key] - before[key]
        elif self.name == "cache":
            for lo in range(0, U.size, k):
                CK.scatter_columns_t(self.cache, 0, U[lo:lo + k], self.X @ new[lo:lo + k].T)
            self.counts["inner_products"] += N * U.size
            self.counts["preactivation_updates"] += N * U.size


def _run(X, W, b: float, plan, warmup: int, move: float) -> dict:
    """The strategies side by side over the steps of `plan`, each step's order rotated;
    the moves from the rescan's fire sets, every other strategy's compared with them."""
    ss = {name: _Strategy(name, X, W, b) for name in STRATEGIES}
    rec = {name: {"times": [], "counts": [], "mismatches": 0} for name in STRATEGIES}
    union, fired = [], []
    for t, (batch, rho) in enumerate(plan):
        order = STRATEGIES[t % 3:] + STRATEGIES[:t % 3]
        before = {name: dict(s.counts) for name, s in ss.items()}
        fs, sec = {}, dict.fromkeys(STRATEGIES, 0.0)
        for name in order:
            t0 = time.perf_counter()
            fs[name] = ss[name].find(batch)
            sec[name] += time.perf_counter() - t0
        U, dW = _move(fs["rescan"], rho, X[batch], move)
        new = W[U] + dW
        for name in order:
            rec[name]["mismatches"] += _same(fs[name], fs["rescan"])
            t0 = time.perf_counter()
            ss[name].apply(U, new)
            sec[name] += time.perf_counter() - t0
        W[U] = new
        if t >= warmup:
            union.append(int(U.size))
            fired.append(int(fs["rescan"].nnz))
            for name, s in ss.items():
                rec[name]["times"].append(sec[name])
                rec[name]["counts"].append({k: s.counts[k] - before[name][k] for k in s.counts})
    for name, s in ss.items():
        rec[name]["build"] = s.build
    return {"strategies": rec, "union": union, "fired": fired}


def tree_minibatch(p: dict, seed: int) -> dict:
    """Mini-batch fire sets by the tree, a rescan and a cache of all N inputs (module
    docstring): per strategy the seconds of each timed step (after `warmup` steps), its
    counted operations (d per inner product, one per tree node visited or cached
    pre-activation written or read), its memory, and how many of its batch fire sets
    differ from the rescan's. Kernels are compiled (or loaded) on a small problem first,
    untimed. Parameters: N, m, n, d, c, steps, warmup, move.
    Cost O(steps (n m d + N |U| (d + log m))) time, O(N m) memory."""
    N, m, n, d = int(p["N"]), int(p["m"]), int(p["n"]), int(p["d"])
    steps, warmup, move = int(p["steps"]), int(p["warmup"]), float(p.get("move", 0.1))
    mem = memory_bytes(N, m, n, d)
    check_memory("N", sum(mem.values()) + 8.0 * m * d + 8.0 * N * d + 2 * CHUNK_BYTES,
                 f"the mini-batch fire-set strategies over {N} inputs at width {m}")
    small = _net({"m": 64, "c": p["c"]}, d, seed)       # compile or load the kernels
    _run(sphere_data(16, d, seed=seed)[0], small.W, small.shift, batches(16, 4, 2, seed), 1, move)
    X, _ = sphere_data(N, d, seed=seed)
    net = _net(p, d, seed + 1)
    out = _run(X, net.W, net.shift, batches(N, n, warmup + steps, seed), warmup, move)
    log2m = math.log2(m)
    return {"b": net.shift, "Q": float(norm.sf(net.shift)), "log2m": log2m,
            "union": out["union"], "fired": out["fired"],
            "predicted_tree": [N * u * (d + log2m) for u in out["union"]],
            "predicted_rescan": float(n * m * d), "checked": (warmup + steps) * n,
            "strategies": {name: {
                "times": r["times"], "median": float(np.median(r["times"])),
                "build_seconds": r["build"],
                "inner_products": [c["inner_products"] for c in r["counts"]],
                "node_visits": [c["tree_nodes_visited"] for c in r["counts"]],
                "preactivations": [c["preactivation_updates"] for c in r["counts"]],
                "ops": [d * c["inner_products"] + c["tree_nodes_visited"]
                        + c["preactivation_updates"] for c in r["counts"]],
                "memory_bytes": mem[name], "mismatches": r["mismatches"]}
                for name, r in out["strategies"].items()}}
