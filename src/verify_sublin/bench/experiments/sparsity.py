"""Experiments on the fire sets: their sizes at initialisation, the probability that a
neuron joins their union (Monte Carlo over w), a training run's per-step series
(residual, contraction, fire sets, flips, counts), counted operations of the first
steps, and the drift of the sublinear method's cached inner products."""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.stats import norm

from ...core.data import sphere_data
from ...core.errors import NumericalError
from ...core.firesets import stream_forward
from ...core.model import shift_for
from ...core.trainers import make_trainer
from .common import _backend, _data, _net, _train


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


def union_probability(p: dict, seed: int) -> dict:
    """P_w(max_i <w, x_i> > b) for w ~ N(0, I_d) and the inputs X = sphere_data(n, d,
    data_seed) (those of `fire_sets_init` run with seed = data_seed), by Monte Carlo over
    `samples` independent draws of w (generator seeded by `seed`), at the shift
    b = sqrt(c ln m) of every (m, c) with m in `ms` and c in `cs`; given X the m neurons
    join the union independently, so E|U| = m P exactly and |U| is binomial. Each row:
    the estimate p, its standard error sqrt(p (1 - p) / samples), Q(b) and the
    independence approximation 1 - (1 - Q(b))^n. Cost O(samples n d), in chunks of at
    most 2^22 inner products."""
    n, d, k = int(p["n"]), int(p["d"]), int(p["samples"])
    X, _ = sphere_data(n, d, seed=int(p["data_seed"]))
    points = [(int(m), float(c)) for m in p["ms"] for c in p["cs"]]
    bs = np.array([shift_for(m, c) for m, c in points])
    rng = np.random.default_rng(seed)
    above = np.zeros(len(points), dtype=np.int64)
    chunk = max(1, 2**22 // n)
    for start in range(0, k, chunk):
        size = min(chunk, k - start)
        top = np.sort((rng.standard_normal((size, d)) @ X.T).max(axis=1))
        above += size - np.searchsorted(top, bs, side="right")
    rows = []
    for (m, c), b, hits in zip(points, bs, above):
        q, est = float(norm.sf(b)), float(hits) / k
        rows.append({"m": m, "c": c, "b": float(b), "p": est,
                     "se": float(np.sqrt(est * (1 - est) / k)), "Q": q,
                     "independence": float(-np.expm1(n * np.log1p(-q)))})
    return {"n": n, "d": d, "samples": k, "rows": rows}


def training(p: dict, seed: int, *, time_cap: float = math.inf) -> dict:
    """A training run: per-step residual, contraction, fire-set sizes, union, flips,
    counts and phase times; test error when the data set has a test split.

    Parameters: method, options, dataset, n, n_test, d, m, c, steps, tol (stop once
    the residual is below tol times the initial residual, default 0). `time_cap`: stop
    also once construction plus the steps' seconds reach it (`training_timed`)."""
    X, y, Xt, yt = _data(p, seed)
    net = _net(p, X.shape[1], seed + 1)
    options = dict(p.get("options", {}))
    t0 = time.perf_counter()
    trainer = make_trainer(p["method"], net, X, y, backend=_backend(p), **options)
    build = time.perf_counter() - t0
    r0 = trainer.residual
    steps, error = _train(trainer, int(p["steps"]), float(p.get("tol", 0.0)) * r0, time_cap,
                          build)
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


def training_timed(p: dict, seed: int) -> dict:
    """`training`, recorded as a timing experiment (its wall times are used).

    Optional parameters; a run without them is exactly `training`:

    warmup (bool)
        First run the method (and the references below) for two steps on the same data
        at m <= 1024, untimed, so that no compilation is timed (once per method in a
        process: compiled code stays loaded).
    cap_factor, cap_methods, cap_steps
        Reference runs made first, in this process, on the same data and network: each
        (method, options) of `cap_methods` constructed and stepped to tol (at most
        cap_steps steps, default 30; stopped once slower than the fastest so far). The
        run then also stops once its construction plus steps take cap_factor times the
        fastest reference's time to tol (if no reference reached tol: the longest time
        one spent). Adds ``time_cap`` and ``cap_reference`` (seconds) to the result.
    kappa (bool)
        Adds ``kappa0``: the condition number of G_0 = J J^T at the initial weights,
        computed after the run, untimed (O(n m d + n^2 m)).
    """
    if p.get("warmup"):
        _warm(p, seed)
    if "cap_factor" not in p:
        out = training(p, seed)
    else:
        ref = _reference_seconds(p, seed)
        cap = float(p["cap_factor"]) * ref
        out = training(p, seed, time_cap=cap)
        out.update(time_cap=cap, cap_reference=ref)
    if p.get("kappa"):
        out["kappa0"] = _kappa0(p, seed)
    return out


#: (method, options, backend) already warmed in this process: compiled code stays loaded
_WARMED: set = set()


def _warm(p: dict, seed: int) -> None:
    """Two steps of the run's method and of its references at m <= 1024, untimed, once
    per method, options and backend in a process."""
    todo = [(method, options) for method, options in
            [(p["method"], p.get("options", {})), *p.get("cap_methods", [])]
            if (method, repr(sorted(dict(options).items())), _backend(p)) not in _WARMED]
    if not todo:
        return
    small = dict(p, m=min(int(p["m"]), 1024))
    X, y, _, _ = _data(small, seed)
    net = _net(small, X.shape[1], seed + 1)
    for method, options in todo:
        _WARMED.add((method, repr(sorted(dict(options).items())), _backend(p)))
        try:
            make_trainer(method, net, X, y, backend=_backend(p), **dict(options)).run(2)
        except NumericalError:
            pass            # compiled what it reached


def _reference_seconds(p: dict, seed: int) -> float:
    """The fastest time to tol (construction included) of the `cap_methods` on the run's
    data and network; the longest time spent if none reached tol. Cost: the references'
    runs, each cut once slower than the fastest so far."""
    X, y, _, _ = _data(p, seed)
    net = _net(p, X.shape[1], seed + 1)
    best, longest = math.inf, 0.0
    for method, options in p["cap_methods"]:
        t0 = time.perf_counter()
        trainer = make_trainer(method, net, X, y, backend=_backend(p), **dict(options))
        build = time.perf_counter() - t0
        tol = float(p.get("tol", 0.0)) * trainer.residual
        steps, _ = _train(trainer, int(p.get("cap_steps", 30)), tol, best, build)
        spent = build + sum(s.total_time for s in steps)
        if trainer.residual <= tol:
            best = min(best, spent)
        longest = max(longest, spent)
        del trainer
    return best if best < math.inf else longest


def _kappa0(p: dict, seed: int) -> float:
    """lambda_max / lambda_min of G_0 = J J^T at the run's initial weights (inf if
    singular), from the dense fire pattern. Cost O(n m d + n^2 m)."""
    X, _, _, _ = _data(p, seed)
    net = _net(p, X.shape[1], seed + 1)
    F = (X @ net.W.T > net.shift).astype(np.float64)
    ev = np.linalg.eigvalsh((X @ X.T) * ((F * net.a**2) @ F.T) / net.m)
    return float(ev[-1] / ev[0]) if ev[0] > 0 else math.inf


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


def refresh_drift(p: dict, seed: int) -> dict:
    """Rounding drift of the cached pre-activations of the implicit sublinear method
    over `steps` steps (stopping once the residual is below tol times the initial one:
    the steps before convergence, where the weights still move), with and without
    periodic refresh; the largest max |cached - exact| after any step, and the residual
    after the steps over the initial one.

    Parameters: m, n, d, c, steps, refresh_every, fire_sets, tol (default 0: all steps),
    eta (the step size; default 1, a full Gauss-Newton step, which converges in a few
    steps: eta < 1 keeps the weights moving for 1 / eta times as many).
    Cost per step: the step plus O(|U| n d) for the exact inner products."""
    X, y = sphere_data(int(p["n"]), int(p["d"]), seed=seed)
    net = _net(p, int(p["d"]), seed + 1)
    t = make_trainer("sublinear_gn", net, X, y, fire_sets=p.get("fire_sets", "cache"),
                     preactivations="implicit", refresh_every=int(p["refresh_every"]),
                     mu=float(p.get("mu", 1e-9)), eta=float(p.get("eta", 1.0)))
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
    return {"drift": drift, "output_drift": output_drift, "seconds": seconds, "steps": done,
            "residual_ratio": t.residual / r0 if r0 else 0.0}
