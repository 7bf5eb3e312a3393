"""Experiments on the kernel: lambda_min of the exact shifted NTK, the width the
convergence theorem asks for, Gauss-Newton against kernel regression and the second
layer, and what two identical inputs do."""

from __future__ import annotations

import math
import time

import numpy as np

from ...core.data import separation, sphere_data
from ...core.errors import NumericalError
from ...core.model import ShiftedReLUNet, shift_for
from ...core.ntk import lambda_bounds, lambda_min
from ...core.trainers import make_trainer
from .common import _backend, _data, _net


def ntk_lambda(p: dict, seed: int) -> dict:
    """lambda_min of the exact shifted NTK at shifts b, with the papers' range.

    Parameters: dataset, n, d, bs (list of shifts)."""
    X, _, _, _ = _data(p, seed)
    rows = []
    for b in p["bs"]:
        lam = lambda_min(X, float(b))
        lo, hi = lambda_bounds(X, float(b))
        rows.append({"b": float(b), "lambda": lam, "lower": lo, "upper": hi})
    return {"rows": rows, "separation": separation(X), "n": X.shape[0]}


def theorem_width(p: dict, seed: int) -> dict:
    """log2 of the smallest width m = 2^k with m >= max(lambda^-4 n^4, lambda^-2 n^2 d
    log(16 n / rho)), lambda = lambda_min of the exact shifted NTK of the run's inputs at
    b = sqrt(c ln m) (which itself depends on m); inf if lambda_min <= 0 first or no
    k <= k_max satisfies it. Also the lambda_min at the last k tried.

    Parameters: dataset, n, d, c, rho, k_max (default 4000).
    Cost: O(n^2 d + n^3) per k tried (one exact NTK and its smallest eigenvalue)."""
    X, _, _, _ = _data(p, seed)
    n, d = X.shape
    c, rho = float(p["c"]), float(p["rho"])
    lam = math.nan
    for k in range(1, int(p.get("k_max", 4000)) + 1):
        b = math.sqrt(c * k * math.log(2))
        lam = lambda_min(X, b)
        if lam <= 0:
            break
        need = max(4 * math.log2(n) - 4 * math.log2(lam),
                   2 * math.log2(n) - 2 * math.log2(lam) + math.log2(d * math.log(16 * n / rho)))
        if k >= need:
            return {"log2m": float(k), "lambda": lam}
    return {"log2m": math.inf, "lambda": lam}


def krr_compare(p: dict, seed: int) -> dict:
    """Train and test error of Gauss-Newton (first layer), second-layer-only least
    squares, and kernel ridge regression with the exact shifted NTK (fitted to y, and
    fitted to y - f_0 and added to the initial network f_0, the NTK linearisation of
    Gauss-Newton's start), on one split; the agreement of their test predictions with
    Gauss-Newton's, ||p - p_GN|| / ||p_GN||; seconds include construction.

    Parameters: dataset, n, n_test, d, m, c, steps, mu (ridge of KRR and damping of GN).
    Cost: Gauss-Newton's steps O(m n d + n^3) each, KRR O(n^2 d + n^3)."""
    X, y, Xt, yt = _data(p, seed)
    net = _net(p, X.shape[1], seed + 1)
    mu = float(p.get("mu", 1e-8))
    f0, f0_test = net.forward(X), net.forward(Xt)
    out = {"b": net.shift, "test_var": float(np.var(yt)), "f0_test_mse": float(
        np.mean((f0_test - yt) ** 2))}
    preds = {}
    for name, method, steps, target, offset in [
            ("ggn", "ggn", int(p["steps"]), y, 0.0),
            ("second_layer", "second_layer", 1, y, 0.0),
            ("ntk_krr", "ntk_krr", 1, y, 0.0),
            ("ntk_krr_from_f0", "ntk_krr", 1, y - f0, f0_test)]:
        t0 = time.perf_counter()
        error = None
        try:
            trainer = make_trainer(method, net, X, target, mu=mu, backend=_backend(p))
            trainer.run(steps, tol=1e-12 * max(1.0, float(np.linalg.norm(target))))
        except NumericalError as exc:
            error = str(exc)
        seconds = time.perf_counter() - t0
        if error is None:
            preds[name] = trainer.predict(Xt) + offset
            out[name] = {"train_mse": float(np.mean((trainer.outputs + (f0 if name ==
                                                     "ntk_krr_from_f0" else 0.0) - y) ** 2)),
                         "test_mse": float(np.mean((preds[name] - yt) ** 2)),
                         "seconds": seconds, "steps": trainer.steps_done}
        else:
            out[name] = {"error": error, "seconds": seconds}
    if "ggn" in preds:
        ref = float(np.linalg.norm(preds["ggn"])) or 1.0
        out["agreement"] = {k: float(np.linalg.norm(v - preds["ggn"])) / ref
                            for k, v in preds.items() if k != "ggn"}
    return out


def duplicate_inputs(p: dict, seed: int) -> dict:
    """Two identical inputs (separation delta = 0), with equal or different labels:
    lambda_min of the exact shifted NTK and of G_0, what Gauss-Newton does with mu = 0
    (the error it raises) and with mu > 0 (the residual reached against the
    least-squares floor |y_1 - y_2| / sqrt 2).

    Parameters: n, d, m, c, labels ("equal" or "different"), mu, steps.
    Cost O(n^2) NTK + steps O(m n d + n^3)."""
    n, d, m = int(p["n"]), int(p["d"]), int(p["m"])
    X, y = sphere_data(n, d, seed=seed)
    X[1] = X[0]
    y = y.copy()
    y[1] = y[0] if p["labels"] == "equal" else y[0] + 1.0
    b = shift_for(m, float(p["c"]))
    net = ShiftedReLUNet.init(m, d, b, seed=seed + 1)
    out = {"b": b, "lambda_ntk": float(lambda_min(X, b)),
           "floor": float(abs(y[0] - y[1]) / math.sqrt(2))}
    G0 = make_trainer("ggn", net, X, y, mu=0.0)
    pat = G0.fire_sets.union_patterns()
    from ...core.solvers import gram_from_patterns
    G, _ = gram_from_patterns(pat, X @ X.T, m)
    out["lambda_G0"] = float(np.linalg.eigvalsh(G)[0])
    try:
        G0.step()
        out["mu0_error"] = None
    except NumericalError as exc:
        out["mu0_error"] = str(exc)
    t = make_trainer("ggn", net, X, y, mu=float(p["mu"]))
    r0 = t.residual
    for _ in range(int(p["steps"])):
        try:
            t.step()
        except NumericalError as exc:
            out["mu_error"] = str(exc)
            break
    out["residual0"] = r0
    out["residual_mu"] = t.residual
    out["gap_outputs"] = float(abs(t.outputs[0] - t.outputs[1]))
    return out
