"""In-process measurements of the multi-layer claim (Song, Zhang, Zhang, ITCS 2024).

The claim: for L layers of width m, m^2 time once at initialisation and
m^(2 - Omega(1)) per iteration. Everything it needs is measured here and returned as
plain dicts (printing is the CLI's job, ``verify-sublin speed-deep``):

* per-iteration cost of `deep_dense` and `deep_sublinear` against m, in wall time
  (median of the timed steps) and in counted operations (`StepResult.total_ops`,
  mean over the timed steps), with log-log exponents fitted over m, to be read
  against 2 (dense) and against the reconstructed claim 2 - alpha = 2 - c/2;
* the in-process speed ratio of the two at one size (same data, same initial net,
  one trainer at a time, medians from the same process);
* the initialisation cost against m^2: drawing the net, and constructing each trainer
  (copies of the weights, the transposed copy of deep_sublinear, the first forward
  pass), in time and counted operations, with the fitted exponent;
* the effect of the merge threshold: deep_sublinear's amortised step (mean over a
  window that is a whole number of merge periods) for merges every k steps.

Functions
---------
deep_problem            data and initial net of a measurement
compare_deep            both trainers at one size: medians, ratio, counts, init costs
deep_scaling            the same over a list of widths, with fitted exponents
merge_threshold_effect  deep_sublinear against the merge period

Seeds: the data use ``seed`` and the net ``seed + 1`` (with one seed for both, the
first n rows of W_1 would be the inputs themselves, up to their norms).

Defaults: m = 2^14, L = 3, n = 32, d = 32, c in {0.4, 0.85},
Gauss-Newton with a damping mu = 1e-6 (the cost does not depend on mu; the damping
keeps a timing run going when an input's last layer is silent, which happens under
``scaling="fixed"``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np
from scipy.special import ndtr

from ..core.data import sphere_data
from ..core.deep import DeepShiftedReLUNet
from ..core.errors import InputError, check_choice, check_int
from ..core.model import shift_for
from ..core.trainers import make_trainer
from .speed import Progress, fit_slope, log2_label, step_times

__all__ = ["compare_deep", "deep_problem", "deep_scaling", "log2_label",
           "merge_threshold_effect"]


DEEP_TRAINERS = ("deep_dense", "deep_sublinear")


def deep_problem(m: int, n: int = 32, d: int = 32, depth: int = 3, c: float = 0.85,
                 seed: int = 0, scaling: str = "normalized"):
    """(net, X, y, init_seconds): teacher data on the sphere and a random deep net.

    init_seconds is the wall time of `DeepShiftedReLUNet.init` (the (L - 1) m^2 draw).
    Cost: O(n d + m d + (L - 1) m^2).
    """
    X, y = sphere_data(n, d, seed=seed, labels="teacher")
    t0 = time.perf_counter()
    net = DeepShiftedReLUNet.init(m, d, depth, shift_for(m, c), seed + 1, scaling=scaling)
    return net, X, y, time.perf_counter() - t0


def _measure(trainer, steps: int, warmup: int) -> dict:
    """`speed.step_times`, with counts and operations averaged over the timed steps
    (deep_sublinear's steps alternate with and without a merge) and the per-layer
    fire-set figures of the last weights."""
    row = step_times(trainer, steps, warmup, keep_results=True)
    results = row.pop("results")
    d = trainer.d
    row.update(
        mean=float(np.mean(row["times"])),
        total_ops=float(np.mean([r.total_ops(d) for r in results])),
        counts={k: float(np.mean([r.counts[k] for r in results])) for k in results[0].counts},
        work=dict(trainer.last_work),
        claimed_terms=dict(results[-1].claimed_terms),
        layer_sizes_mean=trainer.layer_sizes.mean(axis=1).tolist(),
        layer_sizes_max=trainer.layer_sizes.max(axis=1).tolist(),
        layer_unions=trainer.layer_unions.tolist(),
    )
    return row


def _init_ops(trainer, depth: int, m: int, d: int) -> int:
    """Counted work of a trainer's construction: the copied (and, for deep_sublinear,
    transposed) weights and the first forward pass (the trainer's `last_work` right
    after construction, Gauss-Newton; gradient descent adds a Gram)."""
    forward = sum(v for k, v in trainer.last_work.items()
                  if k.startswith(("forward", "threshold")))
    return int(m * d + (depth - 1) * m * m + forward)


def compare_deep(m: int = 2**14, n: int = 32, d: int = 32, depth: int = 3, c: float = 0.85,
                 seed: int = 0, steps: int = 5, warmup: int = 1, update: str = "gn",
                 mu: float = 1e-6, merge_threshold: int | None = None,
                 scaling: str = "normalized", methods: Iterable[str] = DEEP_TRAINERS,
                 progress: Progress = None) -> dict:
    """Per-step medians of deep_dense and deep_sublinear at one size, and their ratio.

    Returns dict(config, net_init (seconds of the m^2 draw), rows: method -> dict(
    median, mean, times, phases, total_ops (mean per step), counts (mean per step),
    work (last step's breakdown), claimed_cost, claimed_terms, residuals,
    layer_sizes_mean, layer_sizes_max, layer_unions (per layer, at the last weights),
    init_seconds, init_ops), ratio (dense median / sublinear median), ratio_mean (of
    the means: deep_sublinear's steps alternate with and without a merge, so its mean
    is the amortised cost and its median depends on which kind is in the majority),
    ratio_ops, expected_fire_set (m Q(b), the mean |S_l| if pre-activations were
    N(0, 1))).

    Cost: the trainers' construction and (steps + warmup) steps of each; memory two
    copies of the weights at a time (net and one trainer), 2 (L - 1) m^2 floats.
    """
    m = check_int("m", m, minimum=2)
    steps = check_int("steps", steps, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    methods = [check_choice("methods", meth, DEEP_TRAINERS) for meth in methods]
    net, X, y, net_init = deep_problem(m, n, d, depth, c, seed, scaling)
    rows = {}
    for k, method in enumerate(methods):
        if progress:
            progress(f"m={log2_label(m)} c={c}: {method}", k, len(methods))
        opts = {"merge_threshold": merge_threshold} if method == "deep_sublinear" else {}
        t0 = time.perf_counter()
        trainer = make_trainer(method, net, X, y, update=update, mu=mu, **opts)
        init_seconds = time.perf_counter() - t0
        init_ops = _init_ops(trainer, depth, m, d)
        row = _measure(trainer, steps, warmup)
        row.update(init_seconds=init_seconds, init_ops=init_ops)
        rows[method] = row
        del trainer
    out = {"config": dict(m=m, n=n, d=d, depth=depth, c=c, b=net.shift, alpha=c / 2,
                          seed=seed, steps=steps, warmup=warmup, update=update, mu=mu,
                          merge_threshold=merge_threshold, scaling=scaling),
           "net_init": net_init, "rows": rows,
           "expected_fire_set": float(m * ndtr(-net.shift))}
    if len(rows) == 2:
        dense, sub = rows["deep_dense"], rows["deep_sublinear"]
        out["ratio"] = dense["median"] / sub["median"]
        out["ratio_mean"] = dense["mean"] / sub["mean"]
        out["ratio_ops"] = dense["total_ops"] / sub["total_ops"]
    return out


def deep_scaling(ms: Iterable[int] = (2**10, 2**11, 2**12, 2**13, 2**14), n: int = 32,
                 d: int = 32, depth: int = 3, c: float = 0.85, seed: int = 0, steps: int = 5,
                 warmup: int = 1, update: str = "gn", mu: float = 1e-6,
                 merge_threshold: int | None = None, scaling: str = "normalized",
                 progress: Progress = None) -> dict:
    """Per-iteration and initialisation cost of both trainers against m, with exponents.

    Returns dict(config, ms, series: method -> dict(median, total_ops, claimed,
    init_seconds, init_ops, union_mean, ratio (deep_sublinear only: dense / this, per
    m)), net_init (seconds per m), exponents: method -> dict(time, ops, claimed,
    init_time, init_ops), plus net_init; reference (2, the dense exponent; 2 - c/2, the
    reconstructed claim m^(2 - alpha)); runs (the `compare_deep` result at each m)).
    Exponents are least-squares slopes on
    log-log axes over all of `ms`; they are local slopes over the widths we can run,
    not asymptotic ones.

    Cost: one `compare_deep` per width; the largest dominates.
    """
    ms = [check_int("ms", x, minimum=2) for x in ms]
    if len(set(ms)) < 2:
        raise InputError("ms", repr(ms), "at least two different widths to fit exponents on")
    keys = ("median", "total_ops", "claimed", "init_seconds", "init_ops", "union_mean")
    series = {meth: {k: [] for k in keys} for meth in DEEP_TRAINERS}
    net_init, rows_by_m = [], []
    for m in ms:
        res = compare_deep(m, n, d, depth, c, seed, steps, warmup, update, mu,
                           merge_threshold, scaling, progress=progress)
        net_init.append(res["net_init"])
        rows_by_m.append(res)
        for meth, row in res["rows"].items():
            s = series[meth]
            s["median"].append(row["median"])
            s["total_ops"].append(row["total_ops"])
            s["claimed"].append(row["claimed_cost"])
            s["init_seconds"].append(row["init_seconds"])
            s["init_ops"].append(row["init_ops"])
            s["union_mean"].append(float(np.mean(row["layer_unions"])))
    series["deep_sublinear"]["ratio"] = [r["ratio"] for r in rows_by_m]
    exponents = {meth: {"time": fit_slope(ms, s["median"]), "ops": fit_slope(ms, s["total_ops"]),
                        "claimed": fit_slope(ms, s["claimed"]),
                        "init_time": fit_slope(ms, s["init_seconds"]),
                        "init_ops": fit_slope(ms, s["init_ops"])}
                 for meth, s in series.items()}
    exponents["net_init"] = fit_slope(ms, net_init)
    return {"config": dict(n=n, d=d, depth=depth, c=c, alpha=c / 2, seed=seed, steps=steps,
                           warmup=warmup, update=update, mu=mu,
                           merge_threshold=merge_threshold, scaling=scaling),
            "ms": ms, "series": series, "net_init": net_init, "exponents": exponents,
            "reference": {"dense": 2.0, "claim": 2.0 - c / 2, "init": 2.0},
            "runs": rows_by_m}


def merge_threshold_effect(m: int = 2**14, n: int = 32, d: int = 32, depth: int = 3,
                           c: float = 0.85, seed: int = 0, periods: Iterable[int] = (1, 2, 3, 4, 6),
                           window: int = 12, update: str = "gn", mu: float = 1e-6,
                           scaling: str = "normalized", progress: Progress = None) -> dict:
    """deep_sublinear's amortised step against the merge period k (merge every k steps).

    Merge period k is merge_threshold = (k - 1) n. After one warm-up step and a merge,
    `window` steps are timed (a multiple of every period, so each row amortises whole
    merge cycles). Returns dict(config, rows: k -> dict(merge_threshold, mean (seconds
    per step over the window), median, merges, total_ops (mean per step), phases
    (mean seconds per step: "tree" is the merges, "update" the forward with the
    pending terms, "gram" the backward)), best (the period with the smallest mean)).

    Cost: (window + 1) deep_sublinear steps and one construction per period.
    """
    periods = [check_int("periods", k, minimum=1) for k in periods]
    window = check_int("window", window, minimum=1)
    net, X, y, _ = deep_problem(m, n, d, depth, c, seed, scaling)
    rows = {}
    for j, k in enumerate(periods):
        if progress:
            progress(f"m={log2_label(m)} c={c}: merge every {k} step(s)", j, len(periods))
        trainer = make_trainer("deep_sublinear", net, X, y, update=update, mu=mu,
                               merge_threshold=(k - 1) * n)
        trainer.step()
        trainer.merge()
        merges0 = trainer.merges
        results, times = [], []
        for _ in range(window):
            t0 = time.perf_counter()
            results.append(trainer.step())
            times.append(time.perf_counter() - t0)
        rows[k] = {"merge_threshold": (k - 1) * n, "mean": float(np.mean(times)),
                   "median": float(np.median(times)), "merges": trainer.merges - merges0,
                   "total_ops": float(np.mean([r.total_ops(d) for r in results])),
                   "phases": {p: float(np.mean([r.times[p] for r in results]))
                              for p in results[0].times}}
        del trainer
    best = min(rows, key=lambda k: rows[k]["mean"])
    return {"config": dict(m=m, n=n, d=d, depth=depth, c=c, seed=seed, window=window,
                           update=update, mu=mu, scaling=scaling),
            "rows": rows, "best": best}
