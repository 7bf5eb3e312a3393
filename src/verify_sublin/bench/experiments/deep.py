"""Experiments on the multi-layer network: per-step speed of deep_dense against
deep_sublinear, the merge period, deep Gauss-Newton's contraction, and the initial net's
layers (pre-activation variance and silent inputs)."""

from __future__ import annotations

import numpy as np

from ...core.trainers import make_trainer
from .common import _train


def deep_step_speed(p: dict, seed: int) -> dict:
    """Per-step medians, counted operations and construction cost of deep_dense and
    deep_sublinear at one size (`verify_sublin.bench.speed_deep.compare_deep`).

    Parameters: m, n, d, depth, c, steps, warmup, update, mu, scaling ("normalized", the
    default, or "fixed")."""
    from ..speed_deep import compare_deep
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


def deep_merge(p: dict, seed: int) -> dict:
    """deep_sublinear's amortised step against the merge period
    (`verify_sublin.bench.speed_deep.merge_threshold_effect`). Parameters: m, n, d, depth, c,
    periods, window."""
    from ..speed_deep import merge_threshold_effect
    res = merge_threshold_effect(int(p["m"]), int(p["n"]), int(p["d"]), int(p["depth"]),
                                 float(p["c"]), seed, [int(k) for k in p["periods"]],
                                 int(p.get("window", 12)))
    return {"rows": {str(k): v for k, v in res["rows"].items()}, "best": res["best"]}


def deep_training(p: dict, seed: int) -> dict:
    """Deep Gauss-Newton (deep_dense, exact) on sphere teacher data until tol of the
    initial residual or `steps` steps: per-step residual and contraction.

    Parameters: m, n, d, depth, c, scaling ("normalized" or "fixed"), steps, tol, mu.
    Cost per step O(n (L - 1) m^2 + n^2 L m + n^3); memory 2 (L - 1) m^2 floats."""
    from ..speed_deep import deep_problem
    net, X, y, _ = deep_problem(int(p["m"]), int(p["n"]), int(p["d"]), int(p["depth"]),
                                float(p["c"]), seed, p.get("scaling", "normalized"))
    trainer = make_trainer("deep_dense", net, X, y, update="gn", mu=float(p.get("mu", 1e-10)))
    r0 = trainer.residual
    done, error = _train(trainer, int(p["steps"]), float(p["tol"]) * r0)
    residual = [res.residual_after for res in done]
    contraction = [res.contraction for res in done]
    return {"b": net.shift, "n": int(p["n"]), "residual0": r0, "residual": residual,
            "contraction": contraction, "error": error}


def deep_layers(p: dict, seed: int) -> dict:
    """The initial net of `deep_training`'s problem (same m, n, d, depth, c, scaling and
    seed: the same net and data), layer by layer over the n inputs: the pre-activation
    variance given the input, ||u_{l-1}(x)||^2 (exactly 1 at layer 1 and under the
    normalised scale; about 1 on average at the fixed scale), the fire-set sizes, the
    inputs with an empty fire set, and the residual floor ||y_S|| / ||f(0) - y|| of the
    inputs S silent at the last layer (their outputs are 0 and their Jacobian rows vanish).

    Parameters: m, n, d, depth, c, scaling. Cost: the draw O((L - 1) m^2) and one forward
    pass O(n m d + (L - 1) n m^2)."""
    from ..speed_deep import deep_problem
    net, X, y, _ = deep_problem(int(p["m"]), int(p["n"]), int(p["d"]), int(p["depth"]),
                                float(p["c"]), seed, p.get("scaling", "normalized"))
    Zs, Us, _ = net.forward_pass(X)
    layers = []
    for Z, U in zip(Zs, Us):
        var, sizes = np.sum(U * U, axis=1), np.sum(Z > net.shift, axis=1)
        layers.append({"variance": np.quantile(var, [0, 0.5, 1]).tolist(),
                       "sizes": np.quantile(sizes, [0, 0.5, 1]).tolist(),
                       "silent": int(np.sum(sizes == 0))})
    silent = np.sum(Zs[-1] > net.shift, axis=1) == 0
    f = np.maximum(Zs[-1] - net.shift, 0.0) @ net.a / np.sqrt(net.m)      # net.forward(X)
    floor = float(np.linalg.norm(y[silent]) / np.linalg.norm(f - y))
    return {"b": net.shift, "n": int(p["n"]), "layers": layers, "floor": floor}
