"""Experiments the papers never ran: half-space reporting in low d, the exact Gram
against sketching, the width that works in practice, a phase diagram of convergence,
the implicit bias of Gauss-Newton, duplicate inputs and sketch failures.

Registered in `verify_sublin.bench.experiments.EXPERIMENTS` like every experiment:
pure functions from (parameters, seed) to JSON-ready dicts.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..core.bitgram import exact_gn_step
from ..core.data import sphere_data
from ..core.errors import NumericalError
from ..core.halfspace import HalfSpaceTree
from ..core.model import ShiftedReLUNet, shift_for
from ..core.ntk import lambda_min
from ..core.realdata import load_dataset
from ..core.trainers import make_trainer
from ..core.tree import CorrelationTree
from .experiments import register, sketch_conditioning
from .speed import step_times

__all__: list[str] = []


def _best_of(fn, repeats: int = 3) -> float:
    """Least wall seconds of `repeats` calls (the machine may be shared)."""
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _unit_queries(q: int, d: int, seed: int) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((q, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


# ------------------------------------------------------------ hsr.weights
@register("hsr_cost", timing=True)
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


# --------------------------------------------------------- sketch.vs_exact
@register("exact_vs_sketch", timing=True)
def exact_vs_sketch(p: dict, seed: int) -> dict:
    """Per-step seconds and counted operations of exact Gauss-Newton with the
    bit-parallel Gram (`verify_sublin.core.bitgram.exact_gn_step`) and of sketched_gn, on
    the same network and data, timed in one process.

    Parameters: m, n, d, c, steps, warmup, sketch, mu."""
    m, n, d = int(p["m"]), int(p["n"]), int(p["d"])
    X, y = sphere_data(n, d, seed=seed)
    net = ShiftedReLUNet.init(m, d, shift_for(m, float(p["c"])), seed=seed + 1)
    mu = float(p.get("mu", 1e-10))
    steps, warmup = int(p.get("steps", 2)), int(p.get("warmup", 1))
    W = net.W.copy()
    times, ops = [], []
    for k in range(warmup + steps):
        t0 = time.perf_counter()
        W, info = exact_gn_step(W, net.a, net.shift, X, y, mu=mu)
        if k >= warmup:
            times.append(time.perf_counter() - t0)
            ops.append(info["ops"])
    trainer = make_trainer("sketched_gn", net, X, y, mu=mu, sketch=p.get("sketch", "countsketch"))
    row = step_times(trainer, steps, warmup)
    return {"b": net.shift, "exact_seconds": float(np.median(times)), "exact_ops": int(ops[-1]),
            "nnz": info["nnz"], "sketch_seconds": row["median"],
            "sketch_ops": int(row["total_ops"]),
            "solver_products": int(row["counts"].get("solver_products", 0)),
            "dense_gram_ops": int(m * d * n * n)}


# ---------------------------------------------------------- width.scaling
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


@register("width_search")
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


# ----------------------------------------------------- convergence.phase_diagram
@register("phase_cell")
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


# ------------------------------------------------------------ rq.implicit_bias
@register("implicit_bias")
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


# --------------------------------------------------------- rq.duplicate_inputs
@register("duplicate_inputs")
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
    from ..core.solvers import gram_from_patterns
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


# ---------------------------------------------------------- rq.sketch_failure
@register("sketch_failure")
def sketch_failure(p: dict, seed: int) -> dict:
    """The exact preconditioned condition number per sketch type and size factor at
    one seed (`sketch_conditioning`, without the CG solve's diagnostics).

    Parameters: as sketch_conditioning (m, n, d, c, kinds, factors, mu)."""
    res = sketch_conditioning(dict(p, tol=1e-6), seed)
    return {"rows": [{k: r.get(k) for k in ("kind", "factor", "s", "kappa", "error")}
                     for r in res["rows"]], "b": res["b"]}
