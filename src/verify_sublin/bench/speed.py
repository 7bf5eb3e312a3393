"""In-process speed measurements: medians and ratios taken in one run, on one machine.

Everything here returns plain dicts; printing is the CLI's job. Ratios are always
computed from medians measured in the same process, on the same data, one trainer at
a time (the machines are noisy; ratios drift less than absolute times).

Functions
---------
floor_time       the dense floor: one np.matmul(X, W.T, out=buf)
step_times       median seconds per step of a trainer after warm-up steps
compare_methods  GGN, every sublinear variant and sketched GN at one size
tree_timings     correlation tree build / query_all / union update against the floor
scaling          median step time and counted operations against m, with log-log slopes
time_to_eps      one trainer constructed and stepped to eps: construction, steps, total
end_to_end       time_to_eps of GGN and the sublinear variants, medians and ratios
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import numpy as np

from ..core.data import sphere_data
from ..core.model import ShiftedReLUNet, shift_for
from ..core.trainers import PRESETS, make_trainer
from ..core.tree import CorrelationTree

__all__ = ["END_TO_END_METHODS", "SUBLINEAR_PRESETS", "SUBLINEAR_VARIANTS", "compare_methods",
           "end_to_end", "fit_slope", "floor_time", "scaling", "step_times", "time_to_eps",
           "tree_timings"]


def _preset(name: str) -> tuple[str, dict]:
    """(method, make_trainer options) of a preset of `core.trainers.PRESETS`: the options
    that differ from the method's defaults, as keywords."""
    method, options = PRESETS[name]
    return method, options.changes()


#: The sublinear method's variants timed here: presets of `core.trainers.PRESETS`
SUBLINEAR_PRESETS = ("sublinear tree explicit", "sublinear tree implicit",
                     "sublinear cache explicit", "sublinear cache implicit",
                     "sublinear scan explicit")
#: name -> make_trainer options of the sublinear method (`SUBLINEAR_PRESETS`)
SUBLINEAR_VARIANTS = {name: _preset(name)[1] for name in SUBLINEAR_PRESETS}

#: name -> (method, make_trainer options) of the end-to-end comparison: ggn and the
#: sublinear method with the papers' tree and tree-free (cache, implicit) presets
END_TO_END_METHODS = {
    "ggn": ("ggn", {}),
    **{name: _preset(name) for name in ("sublinear tree explicit", "sublinear cache implicit")},
}
#: ... and sketched GN (dense sketched products, O(m n d) each: slow at large m)
SKETCHED = {"sketched_gn": ("sketched_gn", {})}

Progress = Callable[[str], None] | None

#: The floor product is made whole up to this many outputs (n m), in blocks above it.
FLOOR_WHOLE_ENTRIES = 2**27


def _median_seconds(fn: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), times


def floor_time(X: np.ndarray, W: np.ndarray, repeats: int = 5, backend: str = "numpy") -> float:
    """Median seconds of the dense floor product X W^T: np.matmul(X, W.T, out=buf) on the
    CPU (buffer allocated and touched first), or the same product on the backend's
    device, synchronised. Above `FLOOR_WHOLE_ENTRIES` outputs (1 GiB) the product is
    made in blocks of that many entries into one reused buffer, so that measuring the
    floor at m = 2^24 does not itself need 8 GiB."""
    if backend == "numpy":
        n, m = X.shape[0], W.shape[0]
        B = max(1, min(m, FLOOR_WHOLE_ENTRIES // max(n, 1)))
        buf = np.empty((n, B))

        def product():
            for lo in range(0, m, B):
                hi = min(lo + B, m)
                np.matmul(X, W[lo:hi].T, out=buf[:, :hi - lo])

        product()
        return _median_seconds(product, repeats)[0]
    from ..core.backend import resolve_backend
    be = resolve_backend(backend)
    Xd, WTd = be.asarray(X), be.xp.permute_dims(be.asarray(W), (1, 0))

    def product():
        Xd @ WTd
        be.synchronize()

    product()
    return _median_seconds(product, repeats)[0]


def step_times(trainer, steps: int = 5, warmup: int = 1, keep_results: bool = False) -> dict:
    """Median wall seconds of `steps` calls of trainer.step() after `warmup` calls.

    Returns dict(median, times, phases (median per phase), counts (of the last step),
    total_ops (of the last step), union_size, residuals), and results (the timed
    steps' StepResults) if `keep_results`.
    """
    for _ in range(warmup):
        trainer.step()
    results, times = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        results.append(trainer.step())
        times.append(time.perf_counter() - t0)
    last = results[-1]
    out = {
        "median": float(np.median(times)),
        "times": times,
        "phases": {k: float(np.median([r.times[k] for r in results])) for k in last.times},
        "counts": dict(last.counts),
        "total_ops": last.total_ops(trainer.d),
        "claimed_cost": last.claimed_cost,
        "union_size": last.union_size,
        "residuals": [r.residual_after for r in results],
    }
    if keep_results:
        out["results"] = results
    return out


def _problem(m: int, n: int, d: int, c: float, seed: int):
    X, y = sphere_data(n, d, seed=seed, labels="teacher")
    # the net from another seed: with one seed the first n rows of W would be the inputs
    net = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed + 1)
    return net, X, y


def compare_methods(m: int = 2**20, n: int = 64, d: int = 32, c: float = 0.4, seed: int = 0,
                    steps: int = 5, warmup: int = 1, variants: Iterable[str] | None = None,
                    sketched: bool = False, progress: Progress = None) -> dict:
    """Per-step medians of ggn, the sublinear variants (and sketched GN) at one size.

    Returns dict(config, floor, rows) where each row is step_times(...) plus "name",
    "method", "options" and the ratios "vs_ggn" (ggn median / this median) and
    "vs_floor" (this median / floor median).
    """
    net, X, y = _problem(m, n, d, c, seed)
    floor = floor_time(X, net.W)
    plan = [("ggn", "ggn", {})]
    for name in (variants if variants is not None else SUBLINEAR_PRESETS):
        plan.append((name, *_preset(name)))
    if sketched:
        plan.append(("sketched_gn countsketch", "sketched_gn", {}))
    rows = []
    for name, method, opts in plan:
        if progress:
            progress(f"m={m} c={c}: {name}")
        trainer = make_trainer(method, net, X, y, **opts)
        row = step_times(trainer, steps, warmup)
        del trainer                  # freed here, before the next method's trainer
        row.update(name=name, method=method, options=opts)
        rows.append(row)
    ggn = rows[0]["median"]
    for row in rows:
        row["vs_ggn"] = ggn / row["median"]
        row["vs_floor"] = row["median"] / floor
    return {"config": dict(m=m, n=n, d=d, c=c, b=net.shift, seed=seed, steps=steps,
                           warmup=warmup), "floor": floor, "rows": rows}


def tree_timings(m: int = 2**20, n: int = 64, d: int = 32, c: float = 0.4, seed: int = 0,
                 repeats: int = 5) -> dict:
    """Correlation tree costs at one size, next to the floor product in the same run.

    build: constructor; query_all: all n fire sets; update: `update(U, W[U] + delta)` of
    the union U of the fire sets (what one Gauss-Newton step changes). Medians.
    """
    net, X, _ = _problem(m, n, d, c, seed)
    floor = floor_time(X, net.W, repeats)
    build, _ = _median_seconds(lambda: CorrelationTree(net.W, X, net.shift), max(1, repeats // 2))
    tree = CorrelationTree(net.W, X, net.shift)
    tree.query_all()                     # compile and size the output buffer
    query, _ = _median_seconds(tree.query_all, repeats)
    fs = tree.query_all()
    union = np.unique(fs.indices)
    new_w = net.W[union] + 1e-3
    tree.update(union, new_w)
    update, _ = _median_seconds(lambda: tree.update(union, new_w), repeats)
    before = tree.counts["tree_nodes_visited"]
    tree.query_all()
    visits = tree.counts["tree_nodes_visited"] - before
    return {"config": dict(m=m, n=n, d=d, c=c, b=net.shift, seed=seed, repeats=repeats),
            "floor": floor, "build": build, "query_all": query, "update_union": update,
            "union_size": int(union.size), "fire_set_total": fs.nnz,
            "query_visits": visits}


def time_to_eps(method: str, net, X, y, eps: float = 1e-10, max_steps: int = 50,
                **options) -> dict:
    """Construct a trainer and step it until ||f - y|| <= eps (at most `max_steps`).

    What a user waits for, construction included. Returns dict(construct (seconds of
    `make_trainer`), steps (seconds of each step), T (steps made), total (construct +
    steps, one clock), reached (whether eps was reached), residual (the last one)).
    The network's initialisation is not included. Cost: the construction and T steps.
    """
    t0 = time.perf_counter()
    trainer = make_trainer(method, net, X, y, **options)
    t1 = time.perf_counter()
    steps = []
    while trainer.residual > eps and len(steps) < max_steps:
        s0 = time.perf_counter()
        trainer.step()
        steps.append(time.perf_counter() - s0)
    total = time.perf_counter() - t0
    residual = trainer.residual
    del trainer
    return {"construct": t1 - t0, "steps": steps, "T": len(steps), "total": total,
            "reached": residual <= eps, "residual": residual}


def end_to_end(m: int = 2**20, n: int = 64, d: int = 32, c: float = 0.85, seed: int = 0,
               eps: float = 1e-10, repeats: int = 3,
               methods: dict[str, tuple[str, dict]] | None = None, sketched: bool = False,
               progress: Progress = None) -> dict:
    """`time_to_eps` of each method at one size, `repeats` fresh trainers each, in turns
    (method by method within a repeat, so that drift of the machine hits all alike).
    `sketched` adds sketched_gn.

    Returns dict(config, floor, rows); each row has name, method, options, medians of
    construct, step (median step), total, the T of each repeat, construct_x_floor and
    vs_ggn (ggn's median total over this one). Every method is compiled on a small
    problem first, so no compilation is timed.
    """
    methods = dict(methods or END_TO_END_METHODS, **(SKETCHED if sketched else {}))
    net, X, y = _problem(m, n, d, c, seed)
    small, Xs, ys = _problem(min(m, 4096), n, d, c, seed)
    for method, opts in methods.values():
        time_to_eps(method, small, Xs, ys, eps, max_steps=3, **opts)
    floor = floor_time(X, net.W)
    runs: dict[str, list[dict]] = {name: [] for name in methods}
    for rep in range(repeats):
        for name, (method, opts) in methods.items():
            if progress:
                progress(f"end to end m={log2_label(m)} c={c}: {name} ({rep + 1}/{repeats})")
            runs[name].append(time_to_eps(method, net, X, y, eps, **opts))
    rows = []
    for name, (method, opts) in methods.items():
        rs = runs[name]
        rows.append({
            "name": name, "method": method, "options": opts,
            "construct": float(np.median([r["construct"] for r in rs])),
            "step": float(np.median([t for r in rs for t in r["steps"]] or [0.0])),
            "total": float(np.median([r["total"] for r in rs])),
            "T": [r["T"] for r in rs], "reached": all(r["reached"] for r in rs)})
    ggn = next((r["total"] for r in rows if r["method"] == "ggn"), float("nan"))
    for row in rows:
        row["construct_x_floor"] = row["construct"] / floor
        row["vs_ggn"] = ggn / row["total"]
    return {"config": dict(m=m, n=n, d=d, c=c, b=net.shift, seed=seed, eps=eps,
                           repeats=repeats), "floor": floor, "rows": rows}


def fit_slope(xs, ys) -> float:
    """Least-squares slope of log(ys) against log(xs)."""
    return float(np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float)), 1)[0])


def scaling(ms: Iterable[int], n: int = 64, d: int = 32, c: float = 0.4, seed: int = 0,
            steps: int = 5, warmup: int = 1,
            methods: dict[str, tuple[str, dict]] | None = None,
            progress: Progress = None) -> dict:
    """Median step time and counted operations of each method against m.

    Returns dict(config, ms, series: name -> dict(median, total_ops, claimed, union)),
    slopes: name -> dict(time, ops, claimed) fitted on log-log axes.
    """
    methods = methods or {
        "ggn": ("ggn", {}),
        **{name: _preset(name) for name in ("sublinear cache implicit", "sublinear tree explicit")},
    }
    ms = list(ms)
    series = {name: {"median": [], "total_ops": [], "claimed": [], "union": []}
              for name in methods}
    for m in ms:
        net, X, y = _problem(m, n, d, c, seed)
        for name, (method, opts) in methods.items():
            if progress:
                progress(f"scaling c={c}: {name} m={m}")
            row = step_times(make_trainer(method, net, X, y, **opts), steps, warmup)
            s = series[name]
            s["median"].append(row["median"])
            s["total_ops"].append(row["total_ops"])
            s["claimed"].append(row["claimed_cost"])
            s["union"].append(row["union_size"])
    slopes = {name: {"time": fit_slope(ms, s["median"]), "ops": fit_slope(ms, s["total_ops"]),
                     "claimed": fit_slope(ms, s["claimed"]), "union": fit_slope(ms, s["union"])}
              for name, s in series.items()}
    return {"config": dict(n=n, d=d, c=c, seed=seed, steps=steps, warmup=warmup,
                           alpha=c / 2, claimed_exponent=1 - c / 2),
            "ms": ms, "series": series, "slopes": slopes}


def log2_label(m: int) -> str:
    """'2^20' for powers of two, else the number."""
    k = round(math.log2(m)) if m > 0 else 0
    return f"2^{k}" if 2**k == m else str(m)
