"""The multi-layer trainers over an array-API namespace (the GPU path).

Same parametrisation, options, iterates and `StepResult` as `trainers.deep` (see there
and `verify_sublin.deep` for the model, the layer scales and the Gram); built from
standard operations and the adapters.

``deep_dense``: every product with every weight matrix, O((L - 1) n m^2) per step.

``deep_sublinear``: the same mechanism as the compiled trainer, in dense-block form:
each hidden layer is W^0 plus pending low-rank terms A B^T (A = -(g D_l)^T and
B = U_{l-1}^T of each step, zero outside the fired rows and columns); the forward pass
multiplies only the fired columns of W^0 (the union of S_{l-1} over the inputs:
a gather, then an n x |C| by |C| x m product), the backward pass only the fired rows,
and the pending terms enter as two thin products. Past `merge_threshold` pending
terms, they are added into W^0 on the block (fired rows) x (fired columns) only, never
as a dense m x m product.
"""

from __future__ import annotations

import math

import numpy as np

from ..adapters import native_scatter
from ..deep import DeepShiftedReLUNet
from ..errors import InputError, check_choice, check_float, check_int
from ..solvers import inverse_top_eigenvalue
from .base import TrainerOptions, _PhaseTimer, _StepRecord
from .deep import UPDATES, deep_dense_terms, deep_sublinear_terms, nothing_fires_last
from .generic import GenericTrainer

__all__ = ["GenericDeepDense", "GenericDeepSublinear"]


def _set_block(xp, W, rows, cols, block):
    """W with W[rows][:, cols] = block. Native fancy indexing on numpy / CuPy; otherwise
    the dense-masked fallback W + R (block - W_RC) C^T with one-hot R and C."""
    if native_scatter(xp):
        W[rows[:, None], cols[None, :]] = block
        return W
    m = W.shape[0]
    R = xp.astype(xp.reshape(xp.arange(m, dtype=rows.dtype), (m, 1)) == xp.reshape(rows, (1, -1)),
                  xp.float64)
    C = xp.astype(xp.reshape(xp.arange(W.shape[1], dtype=cols.dtype), (-1, 1))
                  == xp.reshape(cols, (1, -1)), xp.float64)
    old = xp.take(xp.take(W, rows, axis=0), cols, axis=1)
    return W + R @ (block - old) @ xp.permute_dims(C, (1, 0))


class _GenericDeep(GenericTrainer):
    """Forward pass, signals, Gram and direction shared by both generic deep trainers."""

    net_type = DeepShiftedReLUNet
    uses = frozenset({"eta", "mu", "update", "seed", "backend"})

    def __init__(self, net: DeepShiftedReLUNet, X, y, options: TrainerOptions):
        from .base import Trainer
        Trainer.__init__(self, net, X, y, options)    # the deep net has no .W / .to_backend
        from ..backend import resolve_backend
        self.be = resolve_backend(options.backend)
        self.xp = xp = self.be.xp
        self._sync = self.be.synchronize if self.be.name == "cupy" else None
        self.depth, self.scaling, self.fixed_scale = net.depth, net.scaling, net.fixed_scale
        self.update = check_choice("update", options.update, UPDATES)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        if self.update == "gd" and self.mu != 0.0:
            raise InputError("mu", repr(options.mu), "0.0 (update='gd' does not use it)")
        self.Xd = self.be.asarray(self.X)
        self.yd = self.be.asarray(self.y)
        self.a = self.be.asarray(net.a)
        self.W = [self.be.asarray(W) for W in net.weights]
        self.root_m = math.sqrt(self.m)
        self._f = np.zeros(self.n)
        self._net_cache = None
        self.layer_sizes = np.zeros((self.depth, self.n), np.int64)
        self.layer_unions = np.zeros(self.depth, np.int64)
        self._forward()
        if options.eta is not None:
            self.eta = check_float("eta", options.eta, minimum=0.0, strict_min=True)
        elif self.update == "gn":
            self.eta = 1.0
        else:
            self.eta = inverse_top_eigenvalue(self._host(self._gram(self._signals())))
        del xp

    # --------------------------------------------------------------- model
    def _scale(self, H):
        xp = self.xp
        if self.scaling == "fixed":
            return xp.full((H.shape[0],), self.fixed_scale, dtype=xp.float64)
        norms = xp.linalg.vector_norm(H, axis=1)
        safe = xp.where(norms > 0, norms, xp.ones_like(norms))
        return xp.where(norms > 0, 1.0 / safe, xp.zeros_like(norms))

    def _layer_product(self, k: int, U):
        """z_k = U W_k^T (n x m) for k >= 1: subclasses may use the fired columns only."""
        return U @ self.xp.permute_dims(self.W[k], (1, 0))

    def _back_product(self, k: int, D):
        """D W_k (n x m) for k >= 1: subclasses may use the fired rows only."""
        return D @ self.W[k]

    def _forward(self) -> None:
        xp = self.xp
        U = self.Xd
        self.Z, self.U, self.C = [], [U], []
        for k in range(self.depth):
            Z = U @ xp.permute_dims(self.W[0], (1, 0)) if k == 0 else self._layer_product(k, U)
            self.Z.append(Z)
            if k + 1 < self.depth:
                H = xp.where(Z > self.shift, Z - self.shift, xp.zeros_like(Z))
                c = self._scale(H)
                U = H * xp.reshape(c, (-1, 1))
                self.U.append(U)
                self.C.append(c)
        masks = [Z > self.shift for Z in self.Z]
        self.masks = masks
        self.layer_sizes = np.stack([self._host(xp.sum(xp.astype(mk, xp.int64), axis=1))
                                     for mk in masks])
        self.layer_unions = np.array([int(xp.sum(xp.astype(xp.any(mk, axis=0), xp.int64)))
                                      for mk in masks])
        HL = xp.where(masks[-1], self.Z[-1] - self.shift, xp.zeros_like(self.Z[-1]))
        self._f = self._host(HL @ self.a) / self.root_m
        self._net_cache = None

    def _signals(self):
        xp = self.xp
        D = xp.astype(self.masks[-1], xp.float64) * xp.reshape(self.a, (1, -1)) / self.root_m
        out = [D]
        for k in range(self.depth - 1, 0, -1):
            g = self._back_product(k, D)
            U, c = self.U[k], self.C[k - 1]
            if self.scaling == "fixed":
                dh = g * xp.reshape(c, (-1, 1))
            else:
                dot = xp.sum(U * g, axis=1)
                dh = (g - U * xp.reshape(dot, (-1, 1))) * xp.reshape(c, (-1, 1))
            D = xp.where(self.masks[k - 1], dh, xp.zeros_like(dh))
            out.append(D)
        return out[::-1]

    def _gram(self, Ds):
        xp = self.xp
        Gm = xp.zeros((self.n, self.n), dtype=xp.float64)
        for D, U in zip(Ds, self.U):
            Gm = Gm + (D @ xp.permute_dims(D, (1, 0))) * (U @ xp.permute_dims(U, (1, 0)))
        return Gm

    def _weights(self):
        return self.W

    @property
    def net(self) -> DeepShiftedReLUNet:
        if self._net_cache is None:
            self._net_cache = DeepShiftedReLUNet([self._host(W) for W in self._weights()],
                                                 self._host(self.a), self.shift, self.scaling)
        return self._net_cache

    def predict(self, X) -> np.ndarray:
        return self.net.forward(X)

    # ---------------------------------------------------------------- step
    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        xp, n, m = self.xp, self.n, self.m
        if not bool(xp.any(self.masks[-1])):
            raise nothing_fires_last([self._host(W) for W in self._weights()], self.steps_done)
        with timer("gram"):
            Ds = self._signals()
        r = self.be.asarray(self._f) - self.yd
        if self.update == "gn":
            with timer("gram"):
                Gm = self._gram(Ds)
            with timer("solve"):
                g = self.eta * self._solve_gram(Gm, r, self.mu, self.layer_sizes[-1])
        else:
            g = self.eta * r
        old_masks, old_sizes, old_unions = self.masks, self.layer_sizes, self.layer_unions
        with timer("update"):
            self._apply(Ds, g, rec, timer)
        with timer("update"):
            self._forward()
            flips = np.stack([self._host(xp.sum(xp.astype(a != b, xp.int64), axis=1))
                              for a, b in zip(old_masks, self.masks)])
        rec.fire_set_sizes = old_sizes.sum(axis=0)
        rec.union_size = int(old_unions.sum())
        rec.flips = flips.sum(axis=0)
        self.layer_flips = flips
        c = rec.counts
        c["inner_products"] += n * m
        c["preactivation_updates"] += self.depth * n * m

    def _apply(self, Ds, g, rec, timer) -> None:
        raise NotImplementedError



class GenericDeepDense(_GenericDeep):
    """deep_dense over an array namespace: products with every weight matrix."""

    method = "deep_dense"

    def _apply(self, Ds, g, rec, timer) -> None:
        xp, n, m, d = self.xp, self.n, self.m, self.d
        for k, (D, U) in enumerate(zip(Ds, self.U)):
            self.W[k] = self.W[k] - xp.permute_dims(D * xp.reshape(g, (-1, 1)), (1, 0)) @ U
        rec.counts["dense_flops"] += 3 * (self.depth - 1) * n * m * m + n * m * d

    def claimed_terms(self, rec):
        return deep_dense_terms(self.n, self.m, self.d, self.depth, self.update)


class GenericDeepSublinear(_GenericDeep):
    """deep_sublinear over an array namespace (module docstring)."""

    method = "deep_sublinear"
    uses = _GenericDeep.uses | {"merge_threshold"}

    def __init__(self, net, X, y, options):
        t = options.merge_threshold
        self._pending: list[list] = [[] for _ in range(net.depth - 1)]   # [(A, B), ...]
        super().__init__(net, X, y, options)
        self.merge_threshold = (self.n if t is None
                                else check_int("merge_threshold", t, minimum=0))
        self.merges = 0

    def _support(self, M):
        """Indices of the columns of M (n x m) with a nonzero entry."""
        xp = self.xp
        return xp.nonzero(xp.any(M != 0, axis=0))[0]

    def _layer_product(self, k: int, U):
        xp = self.xp
        cols = self._support(U)                                  # fired columns of W^0
        Z = xp.take(U, cols, axis=1) @ xp.permute_dims(xp.take(self.W[k], cols, axis=1), (1, 0))
        for A, B in self._pending[k - 1]:
            Z = Z + (U @ B) @ xp.permute_dims(A, (1, 0))
        return Z

    def _back_product(self, k: int, D):
        xp = self.xp
        rows = self._support(D)                                  # fired rows of W^0
        out = xp.take(D, rows, axis=1) @ xp.take(self.W[k], rows, axis=0)
        for A, B in self._pending[k - 1]:
            out = out + (D @ A) @ xp.permute_dims(B, (1, 0))
        return out

    def _weights(self):
        xp = self.xp
        out = [self.W[0]]
        for k in range(1, self.depth):
            W = self.W[k]
            for A, B in self._pending[k - 1]:
                W = W + A @ xp.permute_dims(B, (1, 0))
            out.append(W)
        return out

    @property
    def pending_rank(self) -> list[int]:
        return [sum(int(A.shape[1]) for A, _ in p) for p in self._pending]

    def merge(self) -> None:
        """Add the pending terms into W^0 on their block (fired rows x fired columns)."""
        xp = self.xp
        for k, pend in enumerate(self._pending, start=1):
            if not pend:
                continue
            A = xp.concat([a for a, _ in pend], axis=1)            # m x r
            B = xp.concat([b for _, b in pend], axis=1)
            rows = xp.nonzero(xp.any(A != 0, axis=1))[0]
            cols = xp.nonzero(xp.any(B != 0, axis=1))[0]
            block = (xp.take(xp.take(self.W[k], rows, axis=0), cols, axis=1)
                     + xp.take(A, rows, axis=0) @ xp.permute_dims(xp.take(B, cols, axis=0), (1, 0)))
            self.W[k] = _set_block(xp, self.W[k], rows, cols, block)
            pend.clear()
        self.merges += 1

    def _apply(self, Ds, g, rec, timer) -> None:
        xp, n, m, d = self.xp, self.n, self.m, self.d
        coef = xp.reshape(-g, (-1, 1))
        self.W[0] = self.W[0] + xp.permute_dims(Ds[0] * coef, (1, 0)) @ self.U[0]
        for k in range(1, self.depth):
            A = xp.permute_dims(Ds[k] * coef, (1, 0))            # m x n, zero off S_k
            B = xp.permute_dims(self.U[k], (1, 0))               # m x n, zero off S_{k-1}
            self._pending[k - 1].append((A, B))
        if self.depth > 1 and self.pending_rank[0] > self.merge_threshold:
            with timer("tree"):
                self.merge()
        cols = int(sum(int(self._support(U).shape[0]) for U in self.U[1:]))
        rec.counts["dense_flops"] += 2 * n * m * cols + n * m * d

    def claimed_terms(self, rec):
        return deep_sublinear_terms(self.n, self.m, self.d, self.depth, self.update, self.shift)
