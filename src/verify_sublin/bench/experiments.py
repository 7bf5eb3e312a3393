"""Experiments behind the claims: pure functions from parameters to JSON-ready results.

Each experiment is registered in `EXPERIMENTS` under a name, takes a parameter dict
and a seed, and returns a dict of plain numbers and lists (no arrays, no printing).
One call is one *run* of the results store; a claim's evaluation reads several runs.
Experiments marked ``timing`` measure wall time and must never run beside another
experiment (the runner keeps them sequential).

The array backend of a run (``numpy``, ``cupy``, ...) reaches the experiments as
``params["_backend"]``; the training and timing experiments use it, while those that
measure a host structure (fire sets at initialisation, the tree, the exact NTK, the
sketch conditioning at initialisation, the drift of the compiled cache) run the same
host code under every backend.

Parameters shared by many experiments: ``m`` width, ``n`` inputs, ``d`` dimension,
``c`` the shift b = sqrt(c ln m) (or ``b`` directly), ``dataset`` (see
`verify_sublin.core.realdata`), ``method`` and ``options`` (passed to `make_trainer`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from ..core.data import separation, sphere_data
from ..core.errors import NumericalError
from ..core.firesets import stream_forward
from ..core.model import ShiftedReLUNet, shift_for
from ..core.ntk import lambda_bounds, lambda_min
from ..core.realdata import load_dataset
from ..core.sketch import Sketch, default_size
from ..core.solvers import SparseJacobian, gram_from_patterns, pcg, sketch_precondition
from ..core.trainers import make_trainer
from ..core.tree import CorrelationTree
from .speed import SUBLINEAR_VARIANTS, floor_time, step_times, time_to_eps

__all__ = ["EXPERIMENTS", "Experiment", "register"]


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: `fn(params, seed) -> dict`; `timing` if it measures time."""

    name: str
    fn: Callable[[dict, int], dict]
    timing: bool
    doc: str


EXPERIMENTS: dict[str, Experiment] = {}


def register(name: str, timing: bool = False):
    def deco(fn):
        EXPERIMENTS[name] = Experiment(name, fn, timing, (fn.__doc__ or "").strip())
        return fn
    return deco


def _shift(p: dict) -> float:
    return float(p["b"]) if "b" in p else shift_for(int(p["m"]), float(p.get("c", 0.4)))


def _data(p: dict, seed: int):
    """(X_train, y_train, X_test, y_test) of the run's data set."""
    ds = load_dataset(p.get("dataset", "sphere-teacher"), int(p["n"]), int(p.get("n_test", 0)),
                      seed=seed, d=int(p.get("d", 16)))
    return ds.X_train, ds.y_train, ds.X_test, ds.y_test


def _backend(p: dict) -> str:
    """The array backend of the run (set by the runner; numpy by default)."""
    return p.get("_backend", "numpy")


def _net(p: dict, d: int, seed: int) -> ShiftedReLUNet:
    """The run's initial network (drawn on the host: the same for every backend)."""
    return ShiftedReLUNet.init(int(p["m"]), d, _shift(p), seed=seed)


# ----------------------------------------------------------------- sparsity
def _train(trainer, steps: int, tol: float) -> tuple[list, str | None]:
    """Step `trainer` until its residual is <= tol, `steps` steps are made, or a step
    raises NumericalError; returns the StepResults and the error's text (or None)."""
    done = []
    for _ in range(steps):
        if trainer.residual <= tol:
            break
        try:
            done.append(trainer.step())
        except NumericalError as exc:
            return done, str(exc)
    return done, None


@register("fire_sets_init")
def fire_sets_init(p: dict, seed: int) -> dict:
    """|S_i(0)| for n sphere inputs at width m and shift b = sqrt(c ln m), against m Q(b)
    and the papers' bound m^(1 - c/2). Cost O(n m d)."""
    m, n, d = int(p["m"]), int(p["n"]), int(p["d"])
    X, _ = sphere_data(n, d, seed=seed)
    net = _net(p, d, seed + 1)
    pat, _, _ = stream_forward(X, net.W, net.shift, net.a, 1.0)    # neuron-major: no CSR
    sizes = pat.sizes
    q = float(norm.sf(net.shift))
    return {"sizes": sizes.tolist(), "mean": float(sizes.mean()), "max": int(sizes.max()),
            "min": int(sizes.min()), "mQ": m * q, "Q": q, "b": net.shift,
            "bound": m ** (1 - float(p["c"]) / 2), "union": int(pat.size)}


# ----------------------------------------------------------------- training
@register("training")
def training(p: dict, seed: int) -> dict:
    """A training run: per-step residual, contraction, fire-set sizes, union, flips,
    counts and phase times; test error when the data set has a test split.

    Parameters: method, options, dataset, n, n_test, d, m, c, steps, tol (stop once
    the residual is below tol times the initial residual, default 0)."""
    X, y, Xt, yt = _data(p, seed)
    net = _net(p, X.shape[1], seed + 1)
    options = dict(p.get("options", {}))
    t0 = time.perf_counter()
    trainer = make_trainer(p["method"], net, X, y, backend=_backend(p), **options)
    build = time.perf_counter() - t0
    r0 = trainer.residual
    steps, error = _train(trainer, int(p["steps"]), float(p.get("tol", 0.0)) * r0)
    out = {
        "b": net.shift, "m": int(p["m"]), "n": X.shape[0], "d": X.shape[1], "build_seconds": build,
        "residual0": r0, "error": error,
        "residual": [s.residual_after for s in steps],
        "contraction": [s.contraction for s in steps],
        "max_fire": [int(s.fire_set_sizes.max()) for s in steps],
        "mean_fire": [float(s.fire_set_sizes.mean()) for s in steps],
        "union": [s.union_size for s in steps],
        "flips": [int(s.flips.sum()) for s in steps],
        "seconds": [s.total_time for s in steps],
        "ops": [s.total_ops(X.shape[1]) for s in steps],
        "claimed": [s.claimed_cost for s in steps],
        "solver_iterations": [s.solver.iterations if s.solver else 0 for s in steps],
    }
    if Xt.shape[0]:
        out["train_mse"] = float(np.mean((trainer.outputs - y) ** 2))
        out["test_mse"] = float(np.mean((trainer.predict(Xt) - yt) ** 2))
        out["test_var"] = float(np.var(yt))
    return out


@register("training_timed", timing=True)
def training_timed(p: dict, seed: int) -> dict:
    """`training`, recorded as a timing experiment (its wall times are used)."""
    return training(p, seed)


# --------------------------------------------------------------------- tree
@register("tree_check")
def tree_check(p: dict, seed: int) -> dict:
    """Random builds and update sequences; every query compared with a full scan.

    Parameters: trials, m_max, n_max, d, updates. Cost O(trials updates n m d)."""
    rng = np.random.default_rng(seed)
    checks = mismatches = 0
    for _ in range(int(p["trials"])):
        m = int(rng.integers(1, int(p["m_max"]) + 1))
        n = int(rng.integers(1, int(p["n_max"]) + 1))
        d = int(p["d"])
        W, X = rng.standard_normal((m, d)), rng.standard_normal((n, d))
        thr = float(rng.normal())
        tree = CorrelationTree(W, X, thr)
        for _ in range(int(p["updates"])):
            k = int(rng.integers(1, m + 1))
            rows = rng.integers(0, m, size=k)
            new = rng.standard_normal((k, d))
            tree.update(rows, new)
            for r, w in zip(rows, new):
                W[r] = w
            fs = tree.query_all()
            want = X @ W.T > thr
            for i in range(n):
                checks += 1
                mismatches += not np.array_equal(fs[i], np.flatnonzero(want[i]))
            tree.check_invariants()
    return {"checks": checks, "mismatches": mismatches}


@register("tree_cost", timing=True)
def tree_cost(p: dict, seed: int) -> dict:
    """Counted node visits of query_all and of an update of the union, with times and
    the floor product. Parameters m, n, d, c."""
    m, n, d = int(p["m"]), int(p["n"]), int(p["d"])
    X, _ = sphere_data(n, d, seed=seed)
    net = _net(p, d, seed + 1)
    floor = floor_time(X, net.W, 3)
    t0 = time.perf_counter()
    tree = CorrelationTree(net.W, X, net.shift)
    build = time.perf_counter() - t0
    tree.query_all()
    v0 = tree.counts["tree_nodes_visited"]
    t0 = time.perf_counter()
    fs = tree.query_all()
    query = time.perf_counter() - t0
    visits = tree.counts["tree_nodes_visited"] - v0
    per_tree = [int(1 + 2 * np.count_nonzero(tree.nodes[i, 1:tree.M] > net.shift))
                for i in range(n)]
    union = np.unique(fs.indices)
    new = net.W[union] + 0.01 * np.random.default_rng(seed).standard_normal((union.size, d))
    v0, i0 = tree.counts["tree_nodes_visited"], tree.counts["inner_products"]
    t0 = time.perf_counter()
    tree.update(union, new)
    update = time.perf_counter() - t0
    return {"b": net.shift, "sizes": fs.sizes.tolist(), "query_visits": visits,
            "per_tree_visits": per_tree, "log2m": math.log2(m), "union": int(union.size),
            "update_visits": tree.counts["tree_nodes_visited"] - v0,
            "update_inner_products": tree.counts["inner_products"] - i0,
            "seconds_build": build, "seconds_query": query, "seconds_update": update,
            "seconds_floor": floor}


@register("step_speed", timing=True)
def step_speed(p: dict, seed: int) -> dict:
    """Median per-step time and counted operations of one method at one size.

    Parameters: method, options (or variant, a name in SUBLINEAR_VARIANTS), m, n, d, c,
    steps, warmup; the floor product is timed in the same process."""
    n, d = int(p["n"]), int(p["d"])
    X, y = sphere_data(n, d, seed=seed)
    net = _net(p, d, seed + 1)
    options = dict(SUBLINEAR_VARIANTS[p["variant"]]) if "variant" in p else dict(
        p.get("options", {}))
    if p["method"] in ("ggn", "sketched_gn", "sublinear_gn"):
        # a tiny damping, so that an input with an empty fire set (likely at small m and
        # large c) does not stop a timing run; it changes no cost
        options.setdefault("mu", 1e-10)
    floor = floor_time(X, net.W, 3, backend=_backend(p))
    trainer = make_trainer(p["method"], net, X, y, backend=_backend(p), **options)
    row = step_times(trainer, int(p.get("steps", 5)), int(p.get("warmup", 1)))
    row["floor"] = floor
    row["b"] = net.shift
    return row


def _reset_peak_rss() -> bool:
    """Reset this process's peak resident memory (VmHWM) so that the next reading is
    the peak of what follows; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss() -> float | None:
    """Peak resident memory of this process in bytes (VmHWM), None if unknown."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@register("time_to_eps", timing=True)
def time_to_eps_run(p: dict, seed: int) -> dict:
    """A trainer constructed and stepped to ||f - y|| <= eps: construction time, each
    step's time, T, total (`speed.time_to_eps`), with the floor product timed in the
    same process and the peak resident memory of the run (network and data included).
    Parameters: method, options, m, n, d, c, eps, max_steps."""
    n, d = int(p["n"]), int(p["d"])
    options = dict(p.get("options", {}))
    X, y = sphere_data(n, d, seed=seed, labels="teacher")
    # compile (or load) the method's kernels on a small problem first: not timed (a
    # small problem that cannot be stepped has compiled what it reached: enough)
    try:
        time_to_eps(p["method"], _net(dict(p, m=min(int(p["m"]), 1024)), d, seed + 1), X, y,
                    float(p.get("eps", 1e-10)), 2, **options)
    except NumericalError:
        pass
    reset = _reset_peak_rss()
    net = _net(p, d, seed + 1)
    floor = floor_time(X, net.W, 3)
    out = time_to_eps(p["method"], net, X, y, float(p.get("eps", 1e-10)),
                      int(p.get("max_steps", 50)), **options)
    out["floor"] = floor
    out["b"] = net.shift
    out["peak_rss"] = _peak_rss() if reset else None
    return out


# --------------------------------------------------------------------- NTK
@register("ntk_lambda")
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


# ----------------------------------------------------------------- sketches
def clustered_sphere(n: int, d: int, seed: int, clusters: int, spread: float):
    """n inputs on the unit sphere in `clusters` tight groups: centre + spread * N(0, I),
    normalised; teacher-free labels uniform in [-1, 1]. Near-duplicate inputs make
    J J^T ill-conditioned. Cost O(n d).

    >>> X, y = clustered_sphere(8, 4, 0, 2, 0.01)
    >>> X.shape, bool(np.allclose(np.linalg.norm(X, axis=1), 1))
    ((8, 4), True)
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d))
    X = centres[np.arange(n) % clusters] + spread * rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, rng.uniform(-1.0, 1.0, size=n)


def _inputs(p: dict, seed: int):
    """The inputs of a conditioning run: ``inputs`` = "sphere" (default), "clustered"
    (n / 4 clusters of spread ``spread``, default 0.05) or a data set name."""
    kind = p.get("inputs", "sphere")
    n, d = int(p["n"]), int(p["d"])
    if kind == "sphere":
        return sphere_data(n, d, seed=seed)
    if kind == "clustered":
        return clustered_sphere(n, d, seed, max(1, n // 4), float(p.get("spread", 0.05)))
    X, y, _, _ = _data(dict(p, dataset=kind), seed)
    return X, y


@register("sketch_conditioning")
def sketch_conditioning(p: dict, seed: int) -> dict:
    """Exact condition number of the preconditioned Gauss-Newton operator and CG
    iterations with and without the preconditioner, per sketch type and size factor, at
    the initial weights.

    Parameters: m, n, d, c, kinds, factors, tol, mu, inputs ("sphere", "clustered" or a
    data set name), spread. Cost O(n m d) for the Gram, O(n^3) per eigendecomposition,
    one sketch and one CG solve per (kind, factor)."""
    m, n = int(p["m"]), int(p["n"])
    X, y = _inputs(p, seed)
    d = X.shape[1]
    net = _net(p, d, seed + 1)
    ggn = make_trainer("ggn", net, X, y)
    pat = ggn.fire_sets.union_patterns()
    row_coef = net.a[pat.union] / math.sqrt(m)
    mu = float(p.get("mu", 0.0))
    G, _ = gram_from_patterns(pat, X @ X.T, m)
    A = G + mu * np.eye(n)
    r = ggn.outputs - y
    eig = np.linalg.eigvalsh(A)
    jac0 = SparseJacobian(pat, row_coef, X)
    _, info0, _ = pcg(lambda v, jac=jac0: jac.jjt(v) + mu * v, r, np.eye(n),
                      tol=float(p.get("tol", 1e-10)), max_iter=max(500, 4 * n))
    rows = []
    for kind in p["kinds"]:
        for factor in p["factors"]:
            s = default_size(kind, n, float(factor), N=m * d)
            try:
                B = Sketch(kind, s, m, d, seed).apply_jt(pat, row_coef, X)
                R, _ = sketch_precondition(B, mu)
            except (NumericalError, ValueError) as exc:
                rows.append({"kind": kind, "factor": float(factor), "s": s,
                             "error": str(exc)})
                continue
            Rinv = np.linalg.inv(R)
            ev = np.linalg.eigvalsh(Rinv.T @ A @ Rinv)
            jac = SparseJacobian(pat, row_coef, X)
            _, info, _ = pcg(lambda v, jac=jac: jac.jjt(v) + mu * v, r, R,
                             tol=float(p.get("tol", 1e-10)), max_iter=500)
            rows.append({"kind": kind, "factor": float(factor), "s": s,
                         "kappa": float(ev[-1] / ev[0]), "iterations": info.iterations,
                         "estimate": info.condition_estimate, "stop": info.stop_reason})
    return {"rows": rows, "kappa_unpreconditioned": float(eig[-1] / eig[0]), "b": net.shift,
            "iterations_unpreconditioned": info0.iterations, "stop_unpreconditioned":
            info0.stop_reason, "d": d}


# ----------------------------------------------------------- width threshold
@register("width_trial")
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


# ------------------------------------------------------ refresh and drift
@register("refresh_drift")
def refresh_drift(p: dict, seed: int) -> dict:
    """Rounding drift of the cached pre-activations of the implicit sublinear method
    over `steps` steps (stopping once the residual is below tol times the initial one:
    the steps before convergence, where the weights still move), with and without
    periodic refresh; the largest max |cached - exact| after any step.

    Parameters: m, n, d, c, steps, refresh_every, fire_sets, tol (default 0: all steps).
    Cost per step: the step plus O(|U| n d) for the exact inner products."""
    X, y = sphere_data(int(p["n"]), int(p["d"]), seed=seed)
    net = _net(p, int(p["d"]), seed + 1)
    t = make_trainer("sublinear_gn", net, X, y, fire_sets=p.get("fire_sets", "cache"),
                     preactivations="implicit", refresh_every=int(p["refresh_every"]),
                     mu=float(p.get("mu", 1e-9)))
    r0, tol = t.residual, float(p.get("tol", 0.0))
    seconds, drift, output_drift, done = 0.0, 0.0, 0.0, 0
    for _ in range(int(p["steps"])):
        if t.residual <= tol * r0:
            break
        start = time.perf_counter()
        t.step()
        seconds += time.perf_counter() - start
        done += 1
        exact = t.net.forward(X)
        state = t._state
        if hasattr(state, "idx"):          # the tree-free cache keeps P for the live rows
            cached = state.P
            want = t.weights[state.idx] @ X.T
            drift = max(drift, float(np.abs(cached - want).max()) if cached.size else 0.0)
        else:
            drift = max(drift, float(np.abs(t.outputs - exact).max()))
        output_drift = max(output_drift, float(np.abs(t.outputs - exact).max()))
    return {"drift": drift, "output_drift": output_drift, "seconds": seconds, "steps": done}


# ------------------------------------------------------------- shift sweep
@register("shift_sweep")
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


# --------------------------------------------------------- kernel regime
@register("krr_compare")
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


# ------------------------------------------------------------- multi-layer
@register("deep_step_speed", timing=True)
def deep_step_speed(p: dict, seed: int) -> dict:
    """Per-step medians, counted operations and construction cost of deep_dense and
    deep_sublinear at one size (`verify_sublin.bench.speed_deep.compare_deep`).

    Parameters: m, n, d, depth, c, steps, warmup, update, mu, scaling ("normalized", the
    default, or "fixed")."""
    from .speed_deep import compare_deep
    res = compare_deep(int(p["m"]), int(p["n"]), int(p["d"]), int(p["depth"]),
                       float(p["c"]), seed, int(p.get("steps", 5)), int(p.get("warmup", 1)),
                       p.get("update", "gn"), float(p.get("mu", 1e-6)),
                       scaling=p.get("scaling", "normalized"))
    keep = ("median", "mean", "times", "total_ops", "claimed_cost", "init_seconds", "init_ops",
            "layer_sizes_mean", "layer_unions", "residuals")
    return {"b": res["config"]["b"], "net_init": res["net_init"],
            "expected_fire_set": res["expected_fire_set"], "ratio": res["ratio"],
            "ratio_ops": res["ratio_ops"],
            "rows": {k: {f: v[f] for f in keep if f in v} for k, v in res["rows"].items()}}


@register("deep_merge", timing=True)
def deep_merge(p: dict, seed: int) -> dict:
    """deep_sublinear's amortised step against the merge period
    (`verify_sublin.bench.speed_deep.merge_threshold_effect`). Parameters: m, n, d, depth, c,
    periods, window."""
    from .speed_deep import merge_threshold_effect
    res = merge_threshold_effect(int(p["m"]), int(p["n"]), int(p["d"]), int(p["depth"]),
                                 float(p["c"]), seed, [int(k) for k in p["periods"]],
                                 int(p.get("window", 12)))
    return {"rows": {str(k): v for k, v in res["rows"].items()}, "best": res["best"]}


@register("deep_training")
def deep_training(p: dict, seed: int) -> dict:
    """Deep Gauss-Newton (deep_dense, exact) on sphere teacher data until tol of the
    initial residual or `steps` steps: per-step residual and contraction.

    Parameters: m, n, d, depth, c, scaling ("normalized" or "fixed"), steps, tol, mu.
    Cost per step O(n (L - 1) m^2 + n^2 L m + n^3); memory 2 (L - 1) m^2 floats."""
    from .speed_deep import deep_problem
    net, X, y, _ = deep_problem(int(p["m"]), int(p["n"]), int(p["d"]), int(p["depth"]),
                                float(p["c"]), seed, p.get("scaling", "normalized"))
    trainer = make_trainer("deep_dense", net, X, y, update="gn", mu=float(p.get("mu", 1e-10)))
    r0 = trainer.residual
    done, error = _train(trainer, int(p["steps"]), float(p["tol"]) * r0)
    residual = [res.residual_after for res in done]
    contraction = [res.contraction for res in done]
    return {"b": net.shift, "n": int(p["n"]), "residual0": r0, "residual": residual,
            "contraction": contraction, "error": error}


@register("step_counts")
def step_counts(p: dict, seed: int) -> dict:
    """Counted operations of the first `steps` steps of one method from initialisation
    (the steps before convergence), deterministic, so not a timing experiment.

    Parameters: method, options, m, n, d, c, steps (default 3). Returns the mean over the
    steps of total_ops, claimed_cost and union_size, and the per-step lists.
    Cost: construction plus `steps` steps of the method."""
    n, d = int(p["n"]), int(p["d"])
    X, y = sphere_data(n, d, seed=seed)
    net = _net(p, d, seed + 1)
    options = dict(p.get("options", {}))
    options.setdefault("mu", 1e-10)       # an empty fire set must not stop a count
    trainer = make_trainer(p["method"], net, X, y, backend=_backend(p), **options)
    ops, claimed, union, residual = [], [], [], []
    for _ in range(int(p.get("steps", 3))):
        res = trainer.step()
        ops.append(res.total_ops(d))
        claimed.append(res.claimed_cost)
        union.append(res.union_size)
        residual.append(res.residual_after)
    return {"total_ops": float(np.mean(ops)), "claimed_cost": float(np.mean(claimed)),
            "union_size": float(np.mean(union)), "ops": ops, "union": union,
            "residual0": float(np.linalg.norm(net.forward(X) - y)), "residuals": residual,
            "b": net.shift}
