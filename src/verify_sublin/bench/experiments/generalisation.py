"""Test error against the shift: Gauss-Newton with the second layer fixed and with both
layers trained, kernel regression with the shifted NTK, and the second layer alone, on
one train / validation / test split, each along its own regularisation path.

Protocol: the first fifth of the training inputs (`validation_size`) is the validation
split, the rest the fitting split. Gauss-Newton's path is its iterates (step 0, the
initial network, to the last step; its regulariser is early stopping); kernel
regression's and the second layer's path is a ridge grid (`RIDGES`, relative to the mean
diagonal of their kernel, from 1 down to 1e-8, interpolation to rounding). Every point
of every path is scored on the validation and the test split; `chosen` is the point of
least validation MSE (`choose`, the more regularised of equals) among the fitted models
(Gauss-Newton's iterates after at least one step: its initial network, the zero function
when f_0 = 0, is scored but not a candidate, as no ridge reaches it either); the last
point is interpolation (for Gauss-Newton: where it stopped). Cost in
`shift_generalisation`.
"""

from __future__ import annotations

import time

import numpy as np

from ...core.errors import NumericalError
from ...core.model import ShiftedReLUNet
from ...core.ntk import shifted_ntk, shifted_ntk_cross
from ...core.realdata import CLASSIFICATION
from ...core.trainers import make_trainer
from .common import _backend, _data, _shift

__all__ = ["RIDGES", "choose", "kernel_path", "second_layer_kernels", "shift_generalisation",
           "validation_size"]

#: The ridge grid of kernel regression and the second layer, relative to the mean
#: diagonal of the kernel matrix, from the strongest to the last, interpolation to
#: rounding (ordered as Gauss-Newton's path: regularised first, interpolating last).
RIDGES = (1.0, 0.3, 0.1, 3e-2, 1e-2, 1e-3, 1e-4, 1e-5, 1e-8)

#: Neurons per block when the second layer's kernel is formed from its features.
FEATURE_BLOCK = 2**13


def validation_size(n: int) -> int:
    """Inputs of the validation split: a fifth of the n training inputs (at least 1).

    >>> validation_size(300), validation_size(4)
    (60, 1)
    """
    return max(1, n // 5)


def choose(val_mse) -> int:
    """The path point of least validation MSE (the first of equals; NaN never chosen).

    >>> choose([0.3, 0.1, 0.1, float("nan")])
    1
    """
    v = np.asarray(val_mse, dtype=float)
    return int(np.nanargmin(np.where(np.isfinite(v), v, np.nan)))


def _score(pred_o: np.ndarray, y_o: np.ndarray, n_val: int, classes: bool) -> tuple:
    """(validation MSE, test MSE, test misclassification or None) of predictions at the
    validation inputs followed by the test inputs."""
    err = (pred_o - y_o) ** 2
    wrong = (None if not classes else
             float(np.mean(np.sign(pred_o[n_val:]) != y_o[n_val:])))
    return float(np.mean(err[:n_val])), float(np.mean(err[n_val:])), wrong


def kernel_path(K: np.ndarray, K_o: np.ndarray, r: np.ndarray, ridges=RIDGES):
    """Kernel ridge regression along a ridge grid: for each rho, alpha = (K + lam I)^{-1} r
    with lam = rho * mean(diag K); returns [(lam, K alpha, K_o alpha)]. One symmetric
    eigendecomposition (eigenvalues below zero from rounding read as zero). Cost
    O(n^3 + len(ridges) n (n + n_o))."""
    L, V = np.linalg.eigh(K)
    L = np.maximum(L, 0.0)
    c = V.T @ r
    scale = float(np.mean(np.diag(K)))
    out = []
    for rho in ridges:
        lam = rho * scale
        alpha = V @ (c / (L + lam))
        out.append((lam, K @ alpha, K_o @ alpha))
    return out


def second_layer_kernels(net: ShiftedReLUNet, X: np.ndarray, X_o: np.ndarray):
    """The second layer's kernel Phi Phi^T / m on X and Phi_o Phi^T / m against other
    inputs X_o, Phi the activations max(<w_r, x> - b, 0) of the fixed first layer, formed
    in blocks of `FEATURE_BLOCK` neurons. Cost O((n + n_o) m d + (n + n_o) n m)."""
    K = np.zeros((X.shape[0], X.shape[0]))
    K_o = np.zeros((X_o.shape[0], X.shape[0]))
    for lo in range(0, net.m, FEATURE_BLOCK):
        W = net.W[lo:lo + FEATURE_BLOCK]
        P = np.maximum(X @ W.T - net.shift, 0.0)
        K += P @ P.T
        K_o += np.maximum(X_o @ W.T - net.shift, 0.0) @ P.T
    return K / net.m, K_o / net.m


def _gn_path(net, X, y, X_o, y_o, n_val, classes, p, train_a) -> dict:
    """Gauss-Newton's iterates scored on the validation and test split."""
    t0 = time.perf_counter()
    rows, error = [], None
    trainer = make_trainer("ggn", net, X, y, mu=float(p.get("mu", 1e-8)), train_a=train_a,
                           gram="auto", backend=_backend(p))
    tol = float(p.get("tol", 1e-8)) * float(np.linalg.norm(y))
    for step in range(int(p["steps"]) + 1):
        rows.append((step, float(np.mean((trainer.outputs - y) ** 2)),
                     *_score(trainer.predict(X_o), y_o, n_val, classes)))
        if step == int(p["steps"]) or trainer.residual <= tol:
            break
        try:
            trainer.step()
        except NumericalError as exc:
            error = str(exc)
            break
    return _fit(rows, time.perf_counter() - t0, error, first=1)


def _fit(rows, seconds, error=None, first: int = 0) -> dict:
    """The path's scores; `chosen` among the points from `first` on (all if fewer)."""
    path, train, val, test, wrong = zip(*rows)
    first = first if len(rows) > first else 0
    return {"path": list(path), "train_mse": list(train), "val_mse": list(val),
            "test_mse": list(test), "test_error": None if wrong[0] is None else list(wrong),
            "chosen": first + choose(val[first:]), "seconds": seconds, "error": error}


def _kernel_fit(K, K_o, f0, f0_o, y, y_o, n_val, classes, t0) -> dict:
    """Score kernel ridge regression fitted to y - f_0 and added to f_0 along the ridge
    grid. (The second layer's min-change step a <- a - J_a^T (K + lam I)^{-1} (f_0 - y)
    predicts exactly this with its kernel K = Phi Phi^T / m.)"""
    rows = []
    for lam, fit, fit_o in kernel_path(K, K_o, y - f0):
        rows.append((lam, float(np.mean((f0 + fit - y) ** 2)),
                     *_score(f0_o + fit_o, y_o, n_val, classes)))
    return _fit(rows, time.perf_counter() - t0)


def shift_generalisation(p: dict, seed: int) -> dict:
    """Validation and test error along each method's regularisation path (module
    docstring) at width m and shift b = sqrt(c ln m), on the split drawn by `seed`; the
    network's initialisation is drawn from seed + 1 (the same for every c).

    Methods: "ggn" (Gauss-Newton, the second layer fixed), "ggn_train_a" (both layers),
    "ntk_krr" (kernel regression with the exact shifted NTK fitted to y - f_0 and added
    to f_0, the NTK linearisation of Gauss-Newton's start: plain kernel regression when
    f_0 = 0) and "second_layer" (ridge regression on the fixed first layer's features,
    from the initial a: what `second_layer` computes, per ridge). Test misclassification
    (sign of the prediction against the +-1 label; a zero prediction counts as wrong) for
    the classification sets (`core.realdata.CLASSIFICATION`).

    Parameters: dataset, n (training inputs: fitting and validation), n_test, d, m, c,
    init ("paired": the zero-output initialisation, f_0 = 0; "random": the papers'),
    steps (Gauss-Newton's cap), mu (its damping, 1e-8), tol (its stop, relative to
    ||y||, 1e-8). Gauss-Newton builds its Gram with ``gram="auto"`` (BLAS products of
    the fire masks where they are dense, c <= 0.1).
    Cost: per Gauss-Newton step O((n + n_test) m d) for the forward passes plus the Gram
    (O(sum_r |p_r|^2) or n^2 m) and n^3; the second layer O((n + n_test) n m); the
    NTK O((n + n_test) n d + n^3)."""
    X, y, Xt, yt = _data(p, seed)
    n_val = validation_size(X.shape[0])
    Xf, yf = X[n_val:], y[n_val:]
    X_o, y_o = np.concatenate([X[:n_val], Xt]), np.concatenate([y[:n_val], yt])
    classes = p.get("dataset", "sphere-teacher") in CLASSIFICATION
    paired = p.get("init", "paired") == "paired"
    net = ShiftedReLUNet.init(int(p["m"]), X.shape[1], _shift(p), seed=seed + 1, paired=paired)
    f0, f0_o = net.forward(Xf), net.forward(X_o)
    out = {"b": net.shift, "n_fit": int(Xf.shape[0]), "n_val": n_val, "n_test": int(Xt.shape[0]),
           "test_var": float(np.var(yt)), "f0_rms": float(np.sqrt(np.mean(f0_o ** 2))),
           "classes": classes, "fits": {}}
    for name, train_a in (("ggn", False), ("ggn_train_a", True)):
        out["fits"][name] = _gn_path(net, Xf, yf, X_o, y_o, n_val, classes, p, train_a)
    t0 = time.perf_counter()
    out["fits"]["ntk_krr"] = _kernel_fit(shifted_ntk(Xf, net.shift),
                                         shifted_ntk_cross(X_o, Xf, net.shift), f0, f0_o,
                                         yf, y_o, n_val, classes, t0)
    t0 = time.perf_counter()
    K, K_o = second_layer_kernels(net, Xf, X_o)
    out["fits"]["second_layer"] = _kernel_fit(K, K_o, f0, f0_o, yf, y_o, n_val, classes, t0)
    return out
