"""The trainers over any array-API namespace: the path for CuPy (GPU) and the reference
every other backend is tested against.

Same methods, options, contract and `StepResult` as the numpy trainers (which keep
their compiled kernels); the algorithms here use only standard operations
(`verify_sublin.kernels.array_api`) and, where the standard has none (scatter), the
adapters of `verify_sublin.adapters`. Fire sets are dense boolean masks.

Differences from the numpy path, by design:

* ``sublinear_gn`` maintains fire sets without the tree (``fire_sets="cache"``): a
  pointer-style tree descent is a poor fit for a GPU; the cached inner products of the
  live union are re-thresholded in bulk instead. ``"tree"`` and ``"scan"`` are refused.
* sketches: "countsketch", "tensor" (FFT) and "gaussian" (explicit, small sizes);
  "srht" needs a DCT, which the standard's FFT extension lacks, and is refused.
* ``ntk_krr`` computes the kernel matrix on the host (Owen's T from scipy; O(n^2), not
  a hot path) and solves on the device.
* Timing synchronises the device at every phase boundary.
"""

from __future__ import annotations

import math

import numpy as np

from ..adapters import scatter_add_1d, scatter_add_rows, set_rows
from ..backend import resolve_backend
from ..errors import InputError, NumericalError, check_float
from ..kernels import array_api as G
from ..model import ShiftedReLUNet
from ..ntk import shifted_ntk, shifted_ntk_cross
from ..sketch import Sketch, _buckets_signs, default_size
from ..solvers import (
    SolverInfo,
    check_fire_sets,
    inverse_top_eigenvalue,
    not_positive_definite,
    pcg,
    singular_to_rounding,
    sketch_precondition,
)
from .base import Trainer, TrainerOptions, _PhaseTimer, _StepRecord
from .sublinear import sublinear_terms

__all__ = ["GENERIC_METHODS"]


class GenericTrainer(Trainer):
    """Device arrays, a synchronising timer, and the contract's host-side views."""

    def __init__(self, net: ShiftedReLUNet, X, y, options: TrainerOptions):
        super().__init__(net, X, y, options)
        self.be = resolve_backend(options.backend)
        self.xp = self.be.xp
        self._sync = self.be.synchronize if self.be.name == "cupy" else None
        host = net.to_backend("numpy") if net.backend != "numpy" else net
        self.Xd = self.be.asarray(self.X)
        self.XTd = self.xp.permute_dims(self.Xd, (1, 0))
        self.yd = self.be.asarray(self.y)
        self.Kx = self.Xd @ self.XTd
        self.W = self.be.asarray(host.W)
        self.a = self.be.asarray(host.a)
        self.scale = 1.0 / math.sqrt(self.m)
        self._f = np.zeros(self.n)
        self._net_cache: ShiftedReLUNet | None = None

    @property
    def outputs(self) -> np.ndarray:
        return self._f

    def _weights(self):
        return self.W

    @property
    def net(self) -> ShiftedReLUNet:
        if self._net_cache is None:
            self._net_cache = ShiftedReLUNet(self.be.to_numpy(self._weights()),
                                             self.be.to_numpy(self.a), self.shift,
                                             backend=self.be.name)
        return self._net_cache

    def predict(self, X) -> np.ndarray:
        return self.be.to_numpy(self.net.forward(X))

    def _host(self, a) -> np.ndarray:
        return self.be.to_numpy(a)

    def _eye(self):
        return self.xp.eye(self.n, dtype=self.xp.float64)

    def _solve_gram(self, Gm, r, mu: float, sizes: np.ndarray | None):
        """(G + mu I)^{-1} r by Cholesky, with the same diagnosis as the numpy path."""
        xp = self.xp
        check_fire_sets(sizes, mu)
        A = Gm + mu * self._eye() if mu > 0 else Gm
        try:
            L = xp.linalg.cholesky(A)
        except Exception:
            raise not_positive_definite(self._host(A), mu) from None
        if not bool(xp.all(xp.isfinite(L))):      # some namespaces return NaN, not raise
            raise not_positive_definite(self._host(A), mu)
        if singular_to_rounding(self._host(L), self._host(A)):
            raise not_positive_definite(self._host(A), mu)
        w = xp.linalg.solve(L, xp.reshape(r, (-1, 1)))
        g = xp.linalg.solve(xp.permute_dims(L, (1, 0)), w)
        return xp.reshape(g, (-1,))


# ----------------------------------------------------------------- dense methods
class GenericDense(GenericTrainer):
    """gd, ggn, adam, second_layer over an array namespace (dense masks)."""

    kind = "ggn"
    train_W = True

    def __init__(self, net, X, y, options):
        super().__init__(net, X, y, options)
        self.train_a = bool(options.train_a) or not self.train_W
        self.mu = check_float("mu", options.mu, minimum=0.0)
        self._forward()
        if self.kind == "gd":
            if options.eta is None:
                self.eta = inverse_top_eigenvalue(self._host(self._gram()))
            else:
                self.eta = check_float("eta", options.eta, minimum=0.0, strict_min=True)
        elif self.kind == "adam":
            self.eta = 1e-2 if options.eta is None else check_float(
                "eta", options.eta, minimum=0.0, strict_min=True)
            z = self.xp.zeros_like
            self._mom = {"W": (z(self.W), z(self.W)), "a": (z(self.a), z(self.a))}
        else:
            self.eta = 1.0 if options.eta is None else check_float(
                "eta", options.eta, minimum=0.0, strict_min=True)

    def _forward(self) -> None:
        xp = self.xp
        self.P, self.M, f = G.forward(xp, self.Xd, self.W, self.shift, self.a, self.scale)
        self.Phi = xp.where(self.M, self.P - self.shift, xp.zeros_like(self.P))
        self._f = self._host(f)
        self._net_cache = None

    def _gram(self):
        xp = self.xp
        Gm = xp.zeros((self.n, self.n), dtype=xp.float64)
        if self.train_W:
            Gm = Gm + G.gram_masked(xp, xp.permute_dims(self.M, (1, 0)), self.Kx, self.a * self.a,
                                    self.m)
        if self.train_a:
            Gm = Gm + (self.Phi @ xp.permute_dims(self.Phi, (1, 0))) / self.m
        return Gm

    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        xp, n, m, d = self.xp, self.n, self.m, self.d
        with timer("fire_sets"):
            sizes = self._host(xp.sum(xp.astype(self.M, xp.int64), axis=1))
            union = int(xp.sum(xp.astype(xp.any(self.M, axis=0), xp.int64)))
        rec.fire_set_sizes, rec.union_size = sizes, union
        if union == 0:
            raise NumericalError("no neuron fires on any input, so the Jacobian is zero and "
                                 "training cannot move; lower the shift")
        r = self.be.asarray(self._f) - self.yd
        if self.kind in ("ggn", "second_layer"):
            with timer("gram"):
                Gm = self._gram()
            with timer("solve"):
                g = self.eta * self._solve_gram(Gm, r, self.mu, None if self.train_a else sizes)
            rec.counts["dense_flops"] += n * n * m + n**3 // 3
        elif self.kind == "gd":
            g = self.eta * r
        else:
            g = r
        with timer("update"):
            MT = xp.permute_dims(self.M, (1, 0))
            gW = G.jt_masked(xp, MT, g, self.Xd, self.a * self.scale) if self.train_W else None
            ga = (xp.permute_dims(self.Phi, (1, 0)) @ g) * self.scale if self.train_a else None
            if self.kind == "adam":
                self._adam(gW, ga)
            else:
                if gW is not None:
                    self.W = self.W - gW
                if ga is not None:
                    self.a = self.a - ga
            old = self.M
            self._forward()
            rec.flips = self._host(xp.sum(xp.astype(old != self.M, xp.int64), axis=1))
        rec.counts["inner_products"] += n * m
        rec.counts["dense_flops"] += 2 * n * m * d
        rec.counts["preactivation_updates"] += n * m

    def _adam(self, gW, ga) -> None:
        xp, t = self.xp, self.steps_done + 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        for name, grad in (("W", gW), ("a", ga)):
            if grad is None:
                continue
            m1, v1 = self._mom[name]
            m1 = b1 * m1 + (1 - b1) * grad
            v1 = b2 * v1 + (1 - b2) * grad * grad
            self._mom[name] = (m1, v1)
            step = self.eta * (m1 / (1 - b1**t)) / (xp.sqrt(v1 / (1 - b2**t)) + eps)
            if name == "W":
                self.W = self.W - step
            else:
                self.a = self.a - step

    def claimed_terms(self, rec):
        m, n, d = self.m, self.n, self.d
        if self.kind in ("gd", "adam"):
            return {"m n d": float(m * n * d)}
        if self.kind == "second_layer":
            return {"sum |S_i| n": float(np.sum(rec.fire_set_sizes) * n), "n^3": float(n**3)}
        return {"m n^2 d": float(m * n * n * d), "n^3": float(n**3)}


class GenericGD(GenericDense):
    method, kind = "gd", "gd"
    uses = frozenset({"eta", "train_a", "seed", "backend"})


class GenericGGN(GenericDense):
    method, kind = "ggn", "ggn"
    uses = frozenset({"eta", "mu", "solver", "train_a", "seed", "backend"})


class GenericAdam(GenericDense):
    method, kind = "adam", "adam"
    uses = frozenset({"eta", "train_a", "seed", "backend"})


class GenericSecondLayer(GenericDense):
    method, kind, train_W = "second_layer", "second_layer", False
    uses = frozenset({"eta", "mu", "seed", "backend"})


# ------------------------------------------------------------------- sketches
def sketch_jt_xp(be, kind: str, size: int, seed: int, union_ids, mask_rows, row_coef, X, m, d):
    """S J^T (s x n) over an array namespace, for the neurons `union_ids` (host int array)
    with neuron-major masks (k x n) and coefficients row_coef (k,). Same sketch (same
    hashes) as `verify_sublin.sketch.Sketch(kind, size, m, d, seed)`."""
    xp = be.xp
    sk = Sketch(kind, size, m, d, seed)
    Mf = xp.astype(mask_rows, xp.float64)
    V = Mf * xp.reshape(row_coef, (-1, 1))                          # k x n
    n = X.shape[0]
    if kind == "tensor":
        b1, s1 = _buckets_signs(np.asarray(union_ids, np.int64), sk._key1, size)
        b2, s2 = _buckets_signs(np.arange(d, dtype=np.int64), sk._key2, size)
        C1 = scatter_add_1d(xp, size, be.asarray(b1, xp.int64),
                            xp.permute_dims(V * xp.reshape(be.asarray(s1), (-1, 1)), (1, 0)))
        C2 = scatter_add_1d(xp, size, be.asarray(b2, xp.int64), X * xp.reshape(be.asarray(s2), (1, -1)))
        conv = xp.fft.irfft(xp.fft.rfft(C1, axis=1) * xp.fft.rfft(C2, axis=1), n=size, axis=1)
        return xp.permute_dims(conv, (1, 0))
    if kind == "countsketch":
        ids = (np.asarray(union_ids, np.int64)[:, None] * d + np.arange(d)[None, :]).reshape(-1)
        bk, sg = _buckets_signs(ids, sk._key1, size)
        # values[i, (j, t)] = sign * V[j, i] * X[i, t]
        vals = xp.reshape(xp.permute_dims(V, (1, 0)), (n, -1, 1)) * xp.reshape(X, (n, 1, d))
        vals = xp.reshape(vals, (n, -1)) * xp.reshape(be.asarray(sg), (1, -1))
        return xp.permute_dims(scatter_add_1d(xp, size, be.asarray(bk, xp.int64), vals), (1, 0))
    if kind == "gaussian":
        cols = (np.asarray(union_ids, np.int64)[:, None] * d + np.arange(d)[None, :]).reshape(-1)
        from ..sketch import _gaussian_block
        Sg = be.asarray(_gaussian_block(size, cols, sk._key1) / math.sqrt(size))   # s x (k d)
        JT = xp.reshape(xp.reshape(xp.permute_dims(V, (1, 0)), (n, -1, 1)) * xp.reshape(X, (n, 1, d)),
                        (n, -1))                                      # n x (k d)
        return Sg @ xp.permute_dims(JT, (1, 0))
    raise InputError("sketch", repr(kind), "'countsketch', 'tensor' or 'gaussian' on backend "
                     f"{be.name!r} (SRHT needs a DCT the array-API FFT extension lacks)")


class _SketchSolve:
    """The sketch-and-precondition direction over an array namespace."""

    def __init__(self, trainer: GenericTrainer, options: TrainerOptions):
        if options.sketch == "srht":
            raise InputError("sketch", "'srht'", "'countsketch', 'tensor' or 'gaussian' on "
                             f"backend {trainer.be.name!r} (SRHT needs a DCT the array-API FFT "
                             "extension lacks)")
        self.t, self.kind = trainer, options.sketch
        self.size = default_size(options.sketch, trainer.n, options.sketch_factor)
        self.seed, self.tol, self.max_iter = options.seed, options.tol, options.max_iter
        Sketch(self.kind, self.size, trainer.m, trainer.d, self.seed)    # refuses infeasible sizes

    def direction(self, union_ids, mask_rows, row_coef, r, mu, rec, timer):
        t, xp = self.t, self.t.xp
        with timer("gram"):
            seed = int(np.random.SeedSequence([self.seed, t.steps_done]).generate_state(
                1, np.uint64)[0]) >> 1
            B = sketch_jt_xp(t.be, self.kind, self.size, seed, union_ids, mask_rows, row_coef,
                             t.Xd, t.m, t.d)
            R, qr_flops = sketch_precondition(B, mu, xp=xp)
        products = [0]

        def apply_A(v):
            products[0] += 2
            u = G.jt_masked(xp, mask_rows, v, t.Xd, row_coef)
            out = G.j_masked(xp, mask_rows, u, t.Xd, row_coef)
            return out + mu * v if mu > 0 else out

        with timer("solve"):
            g, info, cg_flops = pcg(apply_A, r, R, tol=self.tol, max_iter=self.max_iter, xp=xp)
        rec.solver = SolverInfo(info.method, info.iterations, info.relative_residual,
                                info.condition_estimate, info.stop_reason, self.kind, self.size)
        k = mask_rows.shape[0]
        rec.counts["solver_products"] += products[0]
        rec.counts["dense_flops"] += qr_flops + cg_flops + products[0] * k * t.n * t.d
        return g


class GenericSketched(GenericDense):
    """sketched_gn over an array namespace: dense J operator, sketch-preconditioned CG."""

    method, kind = "sketched_gn", "sketched"
    uses = frozenset({"eta", "mu", "sketch", "sketch_factor", "tol", "max_iter", "seed",
                      "backend"})

    def __init__(self, net, X, y, options):
        super().__init__(net, X, y, options)
        self.eta = 1.0 if options.eta is None else check_float(
            "eta", options.eta, minimum=0.0, strict_min=True)
        self._solver = _SketchSolve(self, options)

    def _step(self, rec, timer):
        xp, n, m = self.xp, self.n, self.m
        with timer("fire_sets"):
            sizes = self._host(xp.sum(xp.astype(self.M, xp.int64), axis=1))
            union_mask = xp.any(self.M, axis=0)
            union_ids = np.flatnonzero(self._host(union_mask))
        rec.fire_set_sizes, rec.union_size = sizes, int(union_ids.size)
        if union_ids.size == 0:
            raise NumericalError("no neuron fires on any input, so J = 0 and no direction "
                                 "exists; lower the shift")
        r = self.be.asarray(self._f) - self.yd
        MT = xp.permute_dims(self.M, (1, 0))                  # dense operator over all m
        g = self.eta * self._solver.direction(np.arange(m), MT, self.a * self.scale, r, self.mu,
                                              rec, timer)
        with timer("update"):
            self.W = self.W - G.jt_masked(xp, MT, g, self.Xd, self.a * self.scale)
            old = self.M
            self._forward()
            rec.flips = self._host(xp.sum(xp.astype(old != self.M, xp.int64), axis=1))
        rec.counts["inner_products"] += n * m
        rec.counts["preactivation_updates"] += n * m

    def claimed_terms(self, rec):
        m, n, d = self.m, self.n, self.d
        return {"m n d": float(m * n * d), "n^3": float(n**3)}


# ------------------------------------------------------------------- sublinear
class GenericSublinear(GenericTrainer):
    """sublinear_gn over an array namespace, tree-free: the cached inner products of the
    live union (|U| x n) are refreshed (explicitly from W, or implicitly from X X^T) and
    re-thresholded in bulk each step; rows that stop firing are dropped."""

    method = "sublinear_gn"
    uses = frozenset({"eta", "mu", "solver", "sketch", "sketch_factor", "tol", "max_iter",
                      "fire_sets", "refresh_every", "seed", "backend", "preactivations"})

    def __init__(self, net, X, y, options):
        if options.fire_sets != "cache":
            raise InputError("fire_sets", repr(options.fire_sets),
                             f"'cache' on backend {options.backend!r}: the correlation tree is a "
                             "pointer-style CPU structure, so the array-API (GPU) path keeps fire "
                             "sets tree-free")
        super().__init__(net, X, y, options)
        xp = self.xp
        self.eta = 1.0 if options.eta is None else check_float(
            "eta", options.eta, minimum=0.0, strict_min=True)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        self.implicit = options.preactivations == "implicit"
        self.refresh_every = options.refresh_every
        self._sketch = _SketchSolve(self, options) if options.solver == "sketch" else None
        P, M, f = G.forward(xp, self.Xd, self.W, self.shift, self.a, self.scale)
        self._f = self._host(f)
        ids = np.flatnonzero(self._host(xp.any(M, axis=0)))
        self.ids = ids                                           # host copy of the live ids
        self.idx = self.be.asarray(ids, xp.int64)
        self.PU = xp.permute_dims(xp.take(P, self.idx, axis=1), (1, 0))   # k x n
        self.aU = xp.take(self.a, self.idx, axis=0)
        self._log: list = []

    def _weights(self):
        if not self._log:
            return self.W
        xp, W = self.xp, self.W + 0.0
        for idx, mask, coef, v in self._log:
            W = scatter_add_rows(xp, W, idx, G.jt_masked(xp, mask, v, self.Xd, coef))
        return W

    def _step(self, rec, timer):
        xp, n = self.xp, self.n
        with timer("fire_sets"):
            MU = self.PU > self.shift
            sizes = self._host(xp.sum(xp.astype(MU, xp.int64), axis=0))
        k = int(self.PU.shape[0])
        rec.fire_set_sizes, rec.union_size = sizes, k
        if k == 0:
            raise NumericalError("no neuron fires on any input, so J = 0 and training cannot "
                                 "move; lower the shift")
        r = self.be.asarray(self._f) - self.yd
        row_coef = self.aU * self.scale
        if self._sketch is None:
            with timer("gram"):
                Gm = G.gram_masked(xp, MU, self.Kx, self.aU * self.aU, self.m)
            with timer("solve"):
                g = self._solve_gram(Gm, r, self.mu, sizes)
            rec.counts["dense_flops"] += n * n * k + n**3 // 3
        else:
            g = self._sketch.direction(self.ids, MU, row_coef, r, self.mu, rec, timer)
        v = -self.eta * g
        self._net_cache = None
        with timer("update"):
            if self.implicit:
                self._log.append((self.idx, MU, row_coef, v))
                P_new = self.PU + G.implicit_delta_masked(xp, MU, row_coef, v, self.Kx)
                rec.counts["dense_flops"] += k * n * n
            else:
                WU = xp.take(self.W, self.idx, axis=0) + G.jt_masked(xp, MU, v, self.Xd, row_coef)
                self.W = set_rows(xp, self.W, self.idx, WU)
                P_new = WU @ self.XTd
                rec.counts["inner_products"] += k * n
            _, counts, flips, f = G.advance_masked(xp, self.PU, P_new, self.shift, self.aU,
                                                   self.scale)
            self._f = self._host(f)
            rec.flips = self._host(flips)
            keep = xp.nonzero(counts > 0)[0]          # rows that stop firing never fire again
            self.idx = xp.take(self.idx, keep, axis=0)
            self.PU = xp.take(P_new, keep, axis=0)
            self.aU = xp.take(self.aU, keep, axis=0)
            self.ids = self.ids[self._host(keep)]
        rec.counts["preactivation_updates"] += k * n
        if self.refresh_every and (self.steps_done + 1) % self.refresh_every == 0:
            with timer("update"):
                self.W = self._weights()
                self._log.clear()
                self.PU = xp.take(self.W, self.idx, axis=0) @ self.XTd
                _, _, _, f = G.advance_masked(xp, self.PU, self.PU, self.shift, self.aU, self.scale)
                self._f = self._host(f)
            rec.counts["inner_products"] += int(self.PU.shape[0]) * n

    def claimed_terms(self, rec):
        return sublinear_terms(self.m, self.n, self.d, self.shift)


# ---------------------------------------------------------------------- kernel
class GenericKRR(GenericTrainer):
    """ntk_krr over an array namespace: the kernel matrix is built on the host (Owen's T),
    the solve runs on the device."""

    method = "ntk_krr"
    uses = frozenset({"mu", "seed", "backend"})
    has_fire_sets = False

    def __init__(self, net, X, y, options):
        super().__init__(net, X, y, options)
        self.mu = check_float("mu", options.mu, minimum=0.0)
        self._alpha = None

    def predict(self, X) -> np.ndarray:
        if self._alpha is None:
            return np.zeros(np.asarray(X).shape[0])
        H = self.be.asarray(shifted_ntk_cross(X, self.X, self.shift))
        return self._host(H @ self._alpha)

    def _step(self, rec, timer):
        n = self.n
        rec.fire_set_sizes = np.zeros(n, np.int64)
        rec.flips = np.zeros(n, np.int64)
        if self._alpha is None:
            with timer("gram"):
                H = self.be.asarray(shifted_ntk(self.X, self.shift))
            with timer("solve"):
                self._alpha = self._solve_gram(H, self.yd, self.mu, None)
            self._f = self._host(H @ self._alpha)
            rec.counts["dense_flops"] += n * n * self.d + n**3 // 3 + 2 * n * n

    def claimed_terms(self, rec):
        n = self.n
        return {"n^2 d": float(n * n * self.d), "n^3": float(n**3)}


def _registry():
    from .generic_deep import GenericDeepDense, GenericDeepSublinear
    return {cls.method: cls for cls in (GenericGD, GenericGGN, GenericAdam, GenericSecondLayer,
                                        GenericSketched, GenericSublinear, GenericKRR,
                                        GenericDeepDense, GenericDeepSublinear)}


GENERIC_METHODS = _registry()
