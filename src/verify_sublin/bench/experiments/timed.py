"""Timing experiments: per-step medians, time to eps with construction, and the exact
bit-parallel Gauss-Newton step against the sketched one. Each times in one process the
floor product (or the pair) it is compared with."""

from __future__ import annotations

import time

import numpy as np

from ...core.bitgram import exact_gn_step
from ...core.data import sphere_data
from ...core.errors import NumericalError
from ...core.model import ShiftedReLUNet, shift_for
from ...core.trainers import make_trainer
from ..speed import SUBLINEAR_VARIANTS, floor_time, step_times, time_to_eps
from .common import _backend, _net, _peak_rss, _reset_peak_rss


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
