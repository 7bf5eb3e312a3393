"""In-process speed measurements: medians and ratios taken in one run, on one machine.

Everything here returns plain dicts; printing is the CLI's job. Ratios are always
computed from medians measured in the same process, on the same data, one trainer at
a time (the machines are noisy; ratios drift less than absolute times).

Functions
---------
floor_time        the dense floor: one np.matmul(X, W.T, out=buf)
step_times        median seconds per step of a trainer after warm-up steps
compare_methods   ggn and methods or presets by name (`DEFAULT_NAMES`) at one size
tree_timings      correlation tree build / query_all / union update against the floor
scaling           median step time and counted operations against m, log-log slopes
time_to_eps       one trainer constructed and stepped to eps: construction, steps, total
end_to_end        time_to_eps of methods or presets by name, medians, IQRs and ratios
timing_refusal    why a method is not timed at a size (the textbook Gram above 1e11)
tolerance_sweep   one step of a sketched preset from the exact run's iterates, per CG
                  tolerance: its contraction against the exact step's
solve_cost        the sketched solve's counted operations against nnz(J) x iterations
                  + (s + n) n^2, over m, with the log-log slope of their ratio

Names are a method of `core.trainers.METHODS` or a preset of `core.trainers.PRESETS`
(the papers' methods as specified, this project's variants, the textbook Gram-Gauss-
Newton); each table row carries the name it was measured on.
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

__all__ = ["DEFAULT_NAMES", "END_TO_END_METHODS", "SUBLINEAR_PRESETS", "SUBLINEAR_VARIANTS",
           "TEXTBOOK_TIMED_MAX", "compare_methods", "end_to_end", "fit_slope", "floor_time",
           "resolve_name", "scaling", "solve_cost", "step_times", "time_to_eps",
           "timing_refusal", "tolerance_sweep", "tree_timings"]


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

#: What `verify-sublin speed` times by default, by name: ggn (fire-set Gram, this
#: project's), the textbook Gram-Gauss-Newton (timed only where m n^2 d <= 1e11),
#: the sublinear paper's method as specified, the tree with the exact solve, and this
#: project's variant. "paper near-linear" (dense products in every CG iteration,
#: seconds a step at m = 2^20) is timed when named.
DEFAULT_NAMES = ("ggn", "textbook ggn", "paper sublinear", "sublinear tree implicit",
                 "sublinear cache implicit")

#: The textbook Gram-Gauss-Newton (ggn with gram="dense") is counted at every size but
#: timed only where its Gram product m n^2 d is at most this many multiply-adds (a
#: step of a few seconds on 2 cores; at m = 2^20, n = 64, d = 32 it is 1.4e11).
TEXTBOOK_TIMED_MAX = 1e11


def resolve_name(name: str) -> tuple[str, dict]:
    """(method, make_trainer options) of a method or preset name: a preset's method and
    the options that differ from its method's defaults; a method with no options. An
    unknown name is an `InputError` listing both kinds."""
    from ..core.errors import InputError
    from ..core.trainers import METHODS
    if name in PRESETS:
        return _preset(name)
    if name in METHODS:
        return name, {}
    raise InputError("name", repr(name), "a method (" + ", ".join(sorted(METHODS))
                     + ") or a preset (" + ", ".join(f"'{p}'" for p in PRESETS) + ")")


def timing_refusal(method: str, options: dict, m: int, n: int, d: int) -> str | None:
    """Why `method` with `options` is not timed at (m, n, d), or None: the textbook
    Gram (gram="dense") above `TEXTBOOK_TIMED_MAX` multiply-adds. Its counts are exact at
    every size (`StepResult.counts`); only the clock is spared. Cost O(1)."""
    if method == "ggn" and options.get("gram") == "dense" and m * n * n * d > TEXTBOOK_TIMED_MAX:
        return (f"not timed: the textbook Gram's m n^2 d = {m * n * n * d:.3g} multiply-adds "
                f"exceed {TEXTBOOK_TIMED_MAX:.0e}")
    return None

#: progress(message, done, total): `done` of `total` measurements finished before this
#: one (`cli.progress.step_printer` shows an estimate of the time left from them)
Progress = Callable[..., None] | None

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
                    sketched: bool = False, progress: Progress = None,
                    names: Iterable[str] | None = None) -> dict:
    """Per-step medians of methods or presets by name at one size, ggn first.

    `names` (methods or presets, `resolve_name`) defaults to ggn and
    `SUBLINEAR_PRESETS` (or ggn and `variants`, the older keyword); `sketched` adds
    sketched_gn. Returns dict(config, floor, rows, skipped) where each row is
    step_times(...) plus "name", "method", "options", the IQR of the step times
    ("iqr": (q1, q3)) and the ratios "vs_ggn" (ggn median / this median) and "vs_floor"
    (this median / floor median); `skipped` maps a name to why it was not timed
    (`timing_refusal`).
    """
    net, X, y = _problem(m, n, d, c, seed)
    floor = floor_time(X, net.W)
    if names is None:
        names = ["ggn", *(variants if variants is not None else SUBLINEAR_PRESETS)]
    names = list(names)
    if "ggn" not in names:
        names.insert(0, "ggn")
    plan = [(name, *resolve_name(name)) for name in names]
    if sketched:
        plan.append(("sketched_gn countsketch", "sketched_gn", {}))
    rows, skipped = [], {}
    for k, (name, method, opts) in enumerate(plan):
        why = timing_refusal(method, opts, m, n, d)
        if why is not None:
            skipped[name] = why
            continue
        if progress:
            progress(f"m={log2_label(m)} c={c}: {name}", k, len(plan))
        trainer = make_trainer(method, net, X, y, **opts)
        row = step_times(trainer, steps, warmup)
        del trainer                  # freed here, before the next method's trainer
        row.update(name=name, method=method, options=opts,
                   iqr=(float(np.percentile(row["times"], 25)),
                        float(np.percentile(row["times"], 75))))
        rows.append(row)
    ggn = next(r["median"] for r in rows if r["name"] == "ggn")
    for row in rows:
        row["vs_ggn"] = ggn / row["median"]
        row["vs_floor"] = row["median"] / floor
    return {"config": dict(m=m, n=n, d=d, c=c, b=net.shift, seed=seed, steps=steps,
                           warmup=warmup), "floor": floor, "rows": rows, "skipped": skipped}


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
               progress: Progress = None, names: Iterable[str] | None = None) -> dict:
    """`time_to_eps` of each method at one size, `repeats` fresh trainers each, in turns
    (method by method within a repeat, so that drift of the machine hits all alike;
    the order turned by one each repeat, so that no method always follows the same
    one: the memory a trainer frees changes how fast the next one's first touches are).

    What is timed: `names` (methods or presets, `resolve_name`; ggn is added first if
    absent), or `methods` (label -> (method, options)), or by default
    `END_TO_END_METHODS`; `sketched` adds sketched_gn. A name `timing_refusal` refuses
    at this size is listed in `skipped` with the reason instead.

    Returns dict(config, floor, rows, skipped); each row has name, method, options,
    medians of construct, step (median step), total, their IQRs ("iqr": name ->
    (q1, q3) for construct and total), the T of each repeat, construct_x_floor and
    vs_ggn (ggn's median total over this one) with its spread over the repeats
    ("vs_ggn_iqr": quartiles of the per-repeat ratios, ggn and this method measured
    back to back). Every method is compiled on a small problem first, so no
    compilation is timed.
    """
    if names is not None:
        names = list(names)
        if "ggn" not in names:
            names.insert(0, "ggn")
        methods = {name: resolve_name(name) for name in names}
    methods = dict(methods or END_TO_END_METHODS, **(SKETCHED if sketched else {}))
    skipped = {name: why for name, (method, opts) in methods.items()
               if (why := timing_refusal(method, opts, m, n, d)) is not None}
    methods = {name: spec for name, spec in methods.items() if name not in skipped}
    net, X, y = _problem(m, n, d, c, seed)
    small, Xs, ys = _problem(min(m, 4096), n, d, c, seed)
    for method, opts in methods.values():
        time_to_eps(method, small, Xs, ys, eps, max_steps=3, **opts)
    floor = floor_time(X, net.W)
    runs: dict[str, list[dict]] = {name: [] for name in methods}
    order = list(methods)
    for rep in range(repeats):
        # the order turns by one each repeat: a trainer's construction depends on what
        # the previous one freed (how much of the memory it touches first comes back
        # as huge pages), so no method may always follow the same one
        turn = order[rep % len(order):] + order[:rep % len(order)]
        for k, name in enumerate(turn):
            method, opts = methods[name]
            if progress:
                progress(f"end to end m={log2_label(m)} c={c}: {name}, repeat {rep + 1}",
                         rep * len(order) + k, repeats * len(order))
            runs[name].append(time_to_eps(method, net, X, y, eps, **opts))

    def quartiles(values) -> tuple[float, float]:
        return float(np.percentile(values, 25)), float(np.percentile(values, 75))

    rows = []
    for name, (method, opts) in methods.items():
        rs = runs[name]
        rows.append({
            "name": name, "method": method, "options": opts,
            "construct": float(np.median([r["construct"] for r in rs])),
            "step": float(np.median([t for r in rs for t in r["steps"]] or [0.0])),
            "total": float(np.median([r["total"] for r in rs])),
            "iqr": {"construct": quartiles([r["construct"] for r in rs]),
                    "total": quartiles([r["total"] for r in rs])},
            "T": [r["T"] for r in rs], "reached": all(r["reached"] for r in rs)})
    ggn_name = next((r["name"] for r in rows if r["method"] == "ggn" and not r["options"]),
                    None)
    ggn = float("nan") if ggn_name is None else \
        next(r["total"] for r in rows if r["name"] == ggn_name)
    for row in rows:
        row["construct_x_floor"] = row["construct"] / floor
        row["vs_ggn"] = ggn / row["total"]
        per_rep = ([g["total"] / t["total"] for g, t in zip(runs[ggn_name], runs[row["name"]])]
                   if ggn_name is not None else [float("nan")])
        row["vs_ggn_iqr"] = quartiles(per_rep)
    return {"config": dict(m=m, n=n, d=d, c=c, b=net.shift, seed=seed, eps=eps,
                           repeats=repeats), "floor": floor, "rows": rows, "skipped": skipped}


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
    for i, m in enumerate(ms):
        net, X, y = _problem(m, n, d, c, seed)
        for k, (name, (method, opts)) in enumerate(methods.items()):
            if progress:
                progress(f"scaling c={c}: {name} m={log2_label(m)}", i * len(methods) + k,
                         len(ms) * len(methods))
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


def tolerance_sweep(m: int = 2**20, n: int = 64, d: int = 32, c: float = 0.85, seed: int = 0,
                    tols: Iterable[float] = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8),
                    name: str = "paper sublinear", eps: float = 1e-10, within: float = 0.01,
                    progress: Progress = None) -> dict:
    """The loosest CG tolerance at which a sketched preset's step contracts like the
    exact step, measured from the same weights.

    The exact run ("sublinear cache implicit": the exact Cholesky direction) steps to
    ||f - y|| <= eps; from each of its iterates W_t, one step of the preset `name` at
    each tolerance (a fresh trainer with the tree-free cache, same sketch type, size
    and seed: the direction does not depend on how the fire sets are kept) gives the
    contraction rho_tol(t), compared with the exact step's rho(t). A tolerance
    qualifies if |rho_tol(t) / rho(t) - 1| <= `within` at every step but the exact
    run's last, which lands on y to rounding (a contraction near 1e-11 that no
    tolerance above rounding matches, and that no step needs: eps is reached either
    way). Deterministic (counts and residuals, no timing).

    Returns dict(config, exact (contractions), rows: per tol {tol, contraction (per
    step), rel_change (per step), iterations (per step), qualifies}, loosest (the
    loosest qualifying tol or None)).
    """
    _, opts = resolve_name(name)
    sketch_opts = {k: v for k, v in opts.items() if k in ("sketch", "sketch_factor", "seed",
                                                          "max_iter", "mu")}
    net, X, y = _problem(m, n, d, c, seed)
    exact = make_trainer("sublinear cache implicit", net, X, y)
    iterates, rho = [], []
    while exact.residual > eps and len(rho) < 50:
        iterates.append(exact.net.copy())
        rho.append(exact.step().contraction)
    del exact
    tols = sorted(tols, reverse=True)
    rows = []
    for tol in tols:
        if progress:
            progress(f"tolerance {tol:g} at m={log2_label(m)} c={c}")
        con, its = [], []
        for W_t in iterates[:-1] if len(iterates) > 1 else iterates:
            t = make_trainer("sublinear_gn", W_t, X, y, fire_sets="cache",
                             preactivations="implicit", solver="sketch", tol=tol,
                             **sketch_opts)
            res = t.step()
            con.append(res.contraction)
            its.append(res.solver.iterations)
            del t
        rel = [abs(a / b - 1.0) for a, b in zip(con, rho)]
        rows.append({"tol": tol, "contraction": con, "rel_change": rel, "iterations": its,
                     "qualifies": all(r <= within for r in rel)})
    loosest = next((r["tol"] for r in rows if r["qualifies"]), None)
    return {"config": dict(m=m, n=n, d=d, c=c, seed=seed, name=name, eps=eps, within=within,
                           b=net.shift),
            "exact": rho, "rows": rows, "loosest": loosest}


def solve_cost(ms: Iterable[int], n: int = 64, d: int = 32, c: float = 0.85, seed: int = 0,
               name: str = "paper sublinear", steps: int = 3, progress: Progress = None) -> dict:
    """The sketched solve's counted operations against its cost model, over m.

    For each m, `steps` steps of the preset `name` (a sketch-preconditioned solve with
    sparse J products); per step, the solve's counted operations are those of the
    sketch, the QR and CG: jacobian_nnz (nnz(J) per J or J^T product) plus dense_flops
    less the implicit update's nnz n (implicit pre-activations) -- the step's other
    counts (tree nodes, pre-activation updates) are the fire-set maintenance, not the
    solve. The model is nnz(J) x iterations + (s + n) n^2, nnz(J) = d sum_i |S_i|.
    Deterministic (no timing).

    Returns dict(config, ms, ratio (median over steps, per m), ops, model, iterations,
    slope (log-log slope of the ratio against m: 0 is flat)).
    """
    from ..core.trainers import PRESETS
    method, opts = resolve_name(name)
    preset = PRESETS.get(name)
    implicit = preset is not None and getattr(preset.options, "preactivations", "") == "implicit"
    ms = list(ms)
    ratio, ops_m, model_m, iters_m = [], [], [], []
    for m in ms:
        if progress:
            progress(f"solve cost of {name!r} at m={log2_label(m)} c={c}")
        net, X, y = _problem(m, n, d, c, seed)
        trainer = make_trainer(method, net, X, y, **opts)
        rs, os_, ts, its = [], [], [], []
        for _ in range(steps):
            if trainer.residual == 0.0:
                break
            res = trainer.step()
            nnz = int(np.sum(res.fire_set_sizes))
            ops = res.counts["jacobian_nnz"] + res.counts["dense_flops"] \
                - (nnz * n if implicit else 0)
            model = nnz * d * res.solver.iterations + (res.solver.sketch_size + n) * n * n
            rs.append(ops / model)
            os_.append(ops)
            ts.append(model)
            its.append(res.solver.iterations)
        del trainer
        ratio.append(float(np.median(rs)))
        ops_m.append(float(np.median(os_)))
        model_m.append(float(np.median(ts)))
        iters_m.append(its)
    return {"config": dict(n=n, d=d, c=c, seed=seed, name=name, steps=steps), "ms": ms,
            "ratio": ratio, "ops": ops_m, "model": model_m, "iterations": iters_m,
            "slope": fit_slope(ms, ratio) if len(ms) > 1 else float("nan")}

