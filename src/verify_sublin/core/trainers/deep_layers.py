"""The layer engines of the dense multi-layer step (`trainers.deep`): deep_dense's
layer work on numpy (`DenseLayers`, BLAS) and on any array-API namespace
(`ArrayDenseLayers`, dense masks; also the base of the masked low-rank engine).

An engine is built from the backend's operations (`trainers.ops`: X, b, m, n and
X X^T) and the network, never from the trainer, so that no reference cycle keeps a
trainer alive. It holds the weights, the current fire sets and outputs, and does:

=================  ================================================================
``forward``        pre-activations, layer inputs U_l, fire sets, outputs ``f``,
                   ``layer_sizes`` (L x n) and ``layer_unions``: n m d + (L-1) n m^2
``signals``        the backpropagated D_1 .. D_L: (L - 1) n m^2
``gram``           G = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T): n^2 (m (2L - 1) + d)
``update``         W_l -= (g D_l)^T U_{l-1} in place, one rank-n dgemm per layer:
                   (L - 1) n m^2 + n m d
``fire_state``     the fire masks (for ``flips``), free
``flips``          |S_l(t+1) sym-diff S_l(t)| per layer and input: L n m
``weights``        the weights, copied to the host: L m^2
``layer_pairs``    (masked engine) sum over neurons of |p_{l,r}|^2 per layer: L n m
=================  ================================================================

The costs are multiply-adds on dense n x m arrays; the counts a step reports are
defined once in `trainers.deep` from the fire-set sizes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import blas

from ..deep import DeepShiftedReLUNet

__all__ = ["ArrayDenseLayers", "DenseLayers", "subtract_product"]


def subtract_product(W: np.ndarray, A: np.ndarray, B: np.ndarray) -> None:
    """W -= A @ B in place by one BLAS dgemm (beta = 1), with no m x m temporary.

    W (p x q) C-contiguous, A (p x n) and B (n x q) C-contiguous. The product is formed
    transposed, W^T -= B^T A^T, on the Fortran-ordered view W^T. Cost p q n
    multiply-adds; W is read and written once.
    """
    out = blas.dgemm(-1.0, B.T, A.T, beta=1.0, c=W.T, overwrite_c=True)
    if not np.shares_memory(out, W):        # a BLAS build that copied: keep the result
        W[...] = out.T


class DenseLayers:
    """deep_dense on numpy: BLAS products with every weight matrix."""

    def __init__(self, ops, net: DeepShiftedReLUNet):
        self.ops, self.scaling = ops, net.scaling
        self.root_m = math.sqrt(ops.m)
        self.net = net.copy()
        self.a = self.net.a

    def forward(self, pending) -> None:
        """Pre-activations, layer inputs, fire sets and outputs. O(n m d + (L-1) n m^2)."""
        b = self.ops.shift
        self.Z, self.U, self.C = self.net.forward_pass(self.ops.X)
        self.masks = [Z > b for Z in self.Z]
        self.layer_sizes = np.array([mk.sum(axis=1) for mk in self.masks])
        self.layer_unions = np.array([int(mk.any(axis=0).sum()) for mk in self.masks])
        HL = np.maximum(self.Z[-1] - b, 0.0)
        self.f = HL @ self.a / self.root_m

    def signals(self):
        """[D_1, ..., D_L] at the current weights (BLAS). Cost (L - 1) n m^2."""
        return self.net.signals(self.Z, self.U, self.C)

    def gram(self, D):
        """G = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T) by BLAS. Cost O(L n^2 m)."""
        return self.net.gram_from(D, self.U)

    def update(self, D, g) -> None:
        """W_l -= (g D_l)^T U_{l-1} in place (BLAS rank-n update)."""
        for W, Dl, U in zip(self.net.weights, D, self.U):
            subtract_product(W, np.ascontiguousarray((Dl * g[:, None]).T), U)

    def fire_state(self):
        return self.masks

    def flips(self, old) -> np.ndarray:
        return np.array([(a != b).sum(axis=1) for a, b in zip(old, self.masks)])

    def weights(self) -> list[np.ndarray]:
        return [W.copy() for W in self.net.weights]


class ArrayDenseLayers:
    """deep_dense over an array namespace: products with every weight matrix, dense masks."""

    def __init__(self, ops, net: DeepShiftedReLUNet):
        self.xp, self.ops, self.depth = ops.xp, ops, net.depth
        self.root_m = math.sqrt(ops.m)
        self.scaling, self.fixed_scale = net.scaling, net.fixed_scale
        self.a = self.ops.asarray(net.a)
        self.W = [self.ops.asarray(W) for W in net.weights]

    def _scale(self, H):
        xp = self.xp
        if self.scaling == "fixed":
            return xp.full((H.shape[0],), self.fixed_scale, dtype=xp.float64)
        norms = xp.linalg.vector_norm(H, axis=1)
        safe = xp.where(norms > 0, norms, xp.ones_like(norms))
        return xp.where(norms > 0, 1.0 / safe, xp.zeros_like(norms))

    def _layer_product(self, k: int, U):
        """z_k = U W_k^T (n x m) for k >= 1."""
        return U @ self.xp.permute_dims(self.W[k], (1, 0))

    def _back_product(self, k: int, D):
        """D W_k (n x m) for k >= 1."""
        return D @ self.W[k]

    def forward(self, pending) -> None:
        xp, ops, b = self.xp, self.ops, self.ops.shift
        U = ops.X
        self.Z, self.U, self.C = [], [U], []
        for k in range(self.depth):
            Z = U @ xp.permute_dims(self.W[0], (1, 0)) if k == 0 else self._layer_product(k, U)
            self.Z.append(Z)
            if k + 1 < self.depth:
                H = xp.where(Z > b, Z - b, xp.zeros_like(Z))
                c = self._scale(H)
                U = H * xp.reshape(c, (-1, 1))
                self.U.append(U)
                self.C.append(c)
        self.masks = [Z > b for Z in self.Z]
        self.layer_sizes = np.stack([ops.host(xp.sum(xp.astype(mk, xp.int64), axis=1))
                                     for mk in self.masks])
        self.layer_unions = np.array([int(xp.sum(xp.astype(xp.any(mk, axis=0), xp.int64)))
                                      for mk in self.masks])
        HL = xp.where(self.masks[-1], self.Z[-1] - b, xp.zeros_like(self.Z[-1]))
        self.f = ops.host(HL @ self.a) / self.root_m

    def layer_pairs(self) -> list[int]:
        xp = self.xp
        counts = [self.ops.host(xp.sum(xp.astype(mk, xp.int64), axis=0)) for mk in self.masks]
        return [int(c @ c) for c in counts]

    def signals(self):
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

    def gram(self, Ds):
        xp = self.xp
        n = self.ops.n
        Gm = xp.zeros((n, n), dtype=xp.float64)
        for D, U in zip(Ds, self.U):
            Gm = Gm + (D @ xp.permute_dims(D, (1, 0))) * (U @ xp.permute_dims(U, (1, 0)))
        return Gm

    def update(self, Ds, g) -> None:
        xp = self.xp
        for k, (D, U) in enumerate(zip(Ds, self.U)):
            self.W[k] = self.W[k] - xp.permute_dims(D * xp.reshape(g, (-1, 1)), (1, 0)) @ U

    def fire_state(self):
        return self.masks

    def flips(self, old) -> np.ndarray:
        xp = self.xp
        return np.stack([self.ops.host(xp.sum(xp.astype(a != b, xp.int64), axis=1))
                         for a, b in zip(old, self.masks)])

    def weights(self) -> list[np.ndarray]:
        return [self.ops.host(W).copy() for W in self.W]
