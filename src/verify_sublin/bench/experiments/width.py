"""Experiments on the width and the shift: whether Gauss-Newton contracts by 2x at a
width, the smallest such width, a cell of the (m, c) phase diagram, a shift sweep, and
the implicit bias of Gauss-Newton against gradient descent."""

from __future__ import annotations

import numpy as np

from ...core.errors import NumericalError
from ...core.model import ShiftedReLUNet, shift_for
from ...core.realdata import load_dataset
from ...core.solvers import gram_from_patterns
from ...core.trainers import make_trainer
from .common import _backend, _data, _net
from .sparsity import training


def width_trial(p: dict, seed: int) -> dict:
    """Does Gauss-Newton contract by 2x per step until tol at this width? One seed.

    Parameters: dataset, n, d, m, c, steps, tol (relative to the initial residual), mu."""
    q = dict(p, method="ggn", options={"mu": float(p.get("mu", 0.0))})
    out = training(q, seed)
    worst = max(out["contraction"]) if out["contraction"] else float("inf")
    reached = bool(out["residual"]) and out["residual"][-1] <= float(p["tol"]) * out["residual0"]
    return {"worst_contraction": worst, "reached": reached, "steps": len(out["residual"]),
            "success": bool(reached and worst <= 0.5 and out["error"] is None),
            "error": out["error"], "b": out["b"]}


def shift_sweep(p: dict, seed: int) -> dict:
    """At one shift: mean fire-set size, lambda_min of the Gram at initialisation,
    Gauss-Newton iterations to tol and the worst contraction.

    Parameters: dataset, n, d, m, c, steps, tol (relative), mu."""
    X, y, _, _ = _data(p, seed)
    net = _net(p, X.shape[1], seed + 1)
    # lambda_min(G_0) and the fire sets at initialisation: a host computation
    host = make_trainer("ggn", net, X, y, mu=float(p.get("mu", 0.0)))
    pat = host.fire_sets.union_patterns()
    G, _ = gram_from_patterns(pat, X @ X.T, int(p["m"]))
    lam = float(np.linalg.eigvalsh(G)[0])
    mean_fire = float(host.fire_sets.sizes.mean())
    ggn = make_trainer("ggn", net, X, y, mu=float(p.get("mu", 0.0)), backend=_backend(p))
    r0 = ggn.residual
    contractions, error = [], None
    for _ in range(int(p["steps"])):
        if ggn.residual <= float(p["tol"]) * r0:
            break
        try:
            contractions.append(ggn.step().contraction)
        except NumericalError as exc:
            error = str(exc)
            break
    reached = ggn.residual <= float(p["tol"]) * r0
    return {"b": net.shift, "mean_fire": mean_fire, "fire_fraction": mean_fire / int(p["m"]),
            "lambda_G0": lam, "iterations": len(contractions), "reached": bool(reached),
            "worst_contraction": max(contractions) if contractions else float("inf"),
            "contraction": contractions, "error": error}


def _gn_trial(X, y, m, c, seed, steps, tol, mu=0.0) -> tuple[bool, int]:
    """(2x contraction at every step until tol, steps taken) for one seed."""
    net = ShiftedReLUNet.init(m, X.shape[1], shift_for(m, c), seed=seed)
    t = make_trainer("ggn", net, X, y, mu=mu)
    r0 = t.residual
    for k in range(steps):
        if t.residual <= tol * r0:
            return True, k
        try:
            res = t.step()
        except NumericalError:
            return False, k
        if not res.contraction <= 0.5:
            return False, k + 1
    return t.residual <= tol * r0, steps


def width_search(p: dict, seed: int) -> dict:
    """Smallest width m* on the grid m = 2^(j/2) from which Gauss-Newton contracts by
    2x at every step, to tol, in every one of `seeds` seeds: the widths are tried
    upwards and m* is the first of `confirm` consecutive widths where every seed
    succeeds (a seed that fails stops the seeds at that width early).

    Parameters: dataset, n, d, c, seeds, steps, tol, log2_min, log2_max, confirm.
    Cost: sum over the widths tried of seeds x steps x O(m n d + n^3)."""
    ds = load_dataset(p["dataset"], int(p["n"]), 0, seed=seed, d=int(p.get("d", 16)))
    X, y = ds.X_train, ds.y_train
    c, seeds = float(p["c"]), int(p["seeds"])
    grid = sorted({round(2 ** (j / 2)) for j in range(2 * int(p["log2_min"]),
                                                             2 * int(p["log2_max"]) + 1)})
    tried, run, m_star = [], 0, None
    for m in grid:
        ok = True
        for s in range(seeds):
            good, _ = _gn_trial(X, y, m, c, 1000 * seed + s + 1, int(p["steps"]), float(p["tol"]))
            if not good:
                ok = False
                break
        tried.append({"m": m, "all_seeds": ok})
        run = run + 1 if ok else 0
        if run >= int(p.get("confirm", 2)):
            m_star = tried[-run]["m"]
            break
    return {"m_star": m_star, "tried": tried, "n": X.shape[0], "d": X.shape[1]}


def phase_cell(p: dict, seed: int) -> dict:
    """One cell (m, c) of the phase diagram: over `seeds` seeds, the share in which
    Gauss-Newton contracts by 2x at every step to tol, the steps each took, and the
    mean fire fraction |S_i(0)| / m.

    Parameters: dataset, n, d, m, c, seeds, steps, tol. Cost seeds x steps x O(m n d)."""
    ds = load_dataset(p["dataset"], int(p["n"]), 0, seed=seed, d=int(p.get("d", 16)))
    X, y = ds.X_train, ds.y_train
    m, c = int(p["m"]), float(p["c"])
    b = shift_for(m, c)
    ok, steps = [], []
    for s in range(int(p["seeds"])):
        good, k = _gn_trial(X, y, m, c, 1000 * seed + s + 1, int(p["steps"]), float(p["tol"]))
        ok.append(bool(good))
        steps.append(int(k))
    W = np.random.default_rng(1000 * seed + 1).standard_normal((m, X.shape[1]))
    fire = float(np.mean(X @ W.T > b))
    return {"b": b, "success": ok, "steps": steps, "fire_fraction": fire}


def implicit_bias(p: dict, seed: int) -> dict:
    """Gauss-Newton and gradient descent from the same initial network: relative weight
    movement ||W_T - W_0||_F / ||W_0||_F, share of neurons that moved, training residual,
    and the distance between the two trained networks' test predictions.

    Parameters: dataset, n, n_test, d, m, c, gn_steps, gd_steps, mu, tol.
    Cost (gn_steps + gd_steps) O(m n d + n^3)."""
    ds = load_dataset(p["dataset"], int(p["n"]), int(p["n_test"]), seed=seed, d=int(p.get("d", 16)))
    X, y, Xt = ds.X_train, ds.y_train, ds.X_test
    net = ShiftedReLUNet.init(int(p["m"]), X.shape[1], shift_for(int(p["m"]), float(p["c"])),
                              seed=seed + 1)
    W0 = net.W.copy()
    out = {"b": net.shift, "test_var": float(np.var(ds.y_test))}
    preds = {}
    for name, steps, opts in [("gn", int(p["gn_steps"]), {"mu": float(p.get("mu", 1e-8))}),
                              ("gd", int(p["gd_steps"]), {})]:
        t = make_trainer("ggn" if name == "gn" else "gd", net, X, y, **opts)
        r0 = t.residual
        for _ in range(steps):
            if t.residual <= float(p.get("tol", 1e-6)) * r0:
                break
            try:
                t.step()
            except NumericalError:
                break
        Wt = t.net.W
        moved = np.linalg.norm(Wt - W0, axis=1) > 1e-12 * np.linalg.norm(W0, axis=1)
        preds[name] = t.predict(Xt)
        out[name] = {"relative_move": float(np.linalg.norm(Wt - W0) / np.linalg.norm(W0)),
                     "moved_share": float(moved.mean()),
                     "relative_residual": float(t.residual / r0), "steps": t.steps_done}
    out["prediction_gap"] = float(np.linalg.norm(preds["gn"] - preds["gd"])
                                  / max(np.linalg.norm(preds["gn"]), 1e-300))
    return out
