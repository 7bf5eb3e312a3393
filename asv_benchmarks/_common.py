"""Shared problems, guards and in-process measurements of the asv suite.

Every benchmark module imports its problem sizes and functions from here, so that all of
them time the same networks and a new module (say, for another training method)
follows the same rules without copying code:

* sizes: ``N`` inputs in ``D`` dimensions, widths ``MS`` and shifts ``CS``
  (b = sqrt(c ln m)); the seed is ``SEED`` everywhere, so every commit is measured
  on the same network and data;
* heavy preparation (networks, trees, trainers) happens in ``setup`` or
  ``setup_cache``, never in the timed body;
* an API a commit does not have is reported by raising ``NotImplementedError`` in
  ``setup`` (`require_method`, `require_module`, `require_attr`): asv then records
  the benchmark as skipped at that commit instead of failed;
* a timed body that changes state (``Trainer.step``, ``CorrelationTree.update``)
  gets a fresh object per sample: ``number = 1`` and ``setup`` runs again before
  every sample (base class `Stateful`);
* compiled kernels are compiled or loaded from numba's cache on a small problem
  first (`warm_up`), so no sample pays for compilation.

The in-process measurement `measure_steps` (asv ``setup_cache`` of the ``track_``
benchmarks) times every method and the floor products in one process, so that the
ratios it reports do not drift with the machine the way absolute times do.
"""

from __future__ import annotations

import gc
import importlib
import math
import os
import time

import numpy as np

# Problem sizes of the whole suite (see README.md): n = 64, d = 32, m = 2^12, 2^16, 2^20.
N = 64
D = 32
SEED = 0
#: the quick pass (tools/asv_record.sh --quick sets VERIFY_SUBLIN_ASV_QUICK)
QUICK = bool(os.environ.get("VERIFY_SUBLIN_ASV_QUICK"))
#: the quick pass leaves m = 2^20 out of the parametrised benchmarks; the unparametrised
#: ones stay at M_MAX, so that a series never mixes two sizes under one name
MS = [2**12, 2**16] if QUICK else [2**12, 2**16, 2**20]
M_MAX = 2**20
CS = [0.4, 0.85]
#: The training methods every commit is asked about (absent ones are skipped).
#: Benchmarked variants: name -> (make_trainer method, options). "sublinear_gn" is the
#: papers' default (the tree, explicit refresh); "sublinear_gn_fast" the fastest variant
#: (tree-free cache, implicit refresh), the one the speed targets are about.
METHOD_SPECS = {
    "gd": ("gd", {}),
    "ggn": ("ggn", {}),
    "sketched_gn": ("sketched_gn", {}),
    "sublinear_gn": ("sublinear_gn", {}),
    "sublinear_gn_fast": ("sublinear_gn", {"fire_sets": "cache", "preactivations": "implicit"}),
}
METHODS = list(METHOD_SPECS)
#: Named presets (`verify_sublin.core.trainers.PRESETS`) benchmarked by name, each as it
#: is defined at the commit measured: the papers' methods as specified and this
#: project's variant. A commit without the preset skips (`require_method`). Not in
#: `METHODS` (the per-step and history benchmarks keep their variants).
PRESET_NAMES = ["paper sublinear", "paper near-linear", "sublinear cache implicit"]
METHOD_SPECS.update({name: (name, {}) for name in PRESET_NAMES})
#: The presets timed end to end at M_MAX: the quick pass leaves "paper near-linear" out
#: (dense J products over all 2^20 neurons, seconds a step: about 2 of the quick pass's
#: 5 minutes); the full pass times all of them
E2E_PRESETS = [name for name in PRESET_NAMES if not (QUICK and name == "paper near-linear")]
#: Width of the small problem that compiles the kernels before anything is timed.
WARM_M = 1024

class Stateful:
    """Base of benchmark classes whose timed body changes its object.

    One call per sample (``number = 1``), asv's setup (which builds a fresh object)
    before every sample, no untimed warm-up calls of the body, one process per
    parameter combination; ``setup`` may set ``self.repeat`` (samples).
    """

    number = 1
    warmup_time = 0.0
    rounds = 1
    min_run_count = 1
    repeat = 7
    timeout = 600


#: Where a module of the package lives: the layer folders first (core/, bench/), then
#: the flat layout of the commits before them, so that one benchmark suite measures
#: both (asv runs this suite against older commits too).
LAYERS = ("core.", "bench.", "")


def find_module(name: str):
    """``verify_sublin.<layer><name>`` for the first layer that has it, else None."""
    for layer in LAYERS:
        try:
            return importlib.import_module(f"verify_sublin.{layer}{name}")
        except ImportError:
            continue
    return None


def _preload() -> None:
    """Import the package's modules that this commit has, once, in the process asv
    forks every benchmark from (``launch_method = forkserver``), so that no sample
    process imports numpy, scipy and numba again. A missing module is simply left
    out here; the benchmarks that need it skip themselves (`require_module`)."""
    importlib.import_module("verify_sublin")
    for name in ("trainers", "tree", "firesets", "solvers", "sketch", "speed"):
        find_module(name)


_preload()


def repeats(m: int) -> int:
    """Samples per benchmark at width m: fewer at 2^20, where setup takes seconds."""
    return 3 if m >= M_MAX else 7


# ------------------------------------------------------------------ guards
def require_module(name: str):
    """The package's module `name` (in whichever layer this commit has it), or raise
    NotImplementedError (asv skips)."""
    mod = find_module(name)
    if mod is None:
        raise NotImplementedError(f"verify_sublin's {name} module is not in this commit")
    return mod


def require_attr(module: str, attr: str):
    """``verify_sublin.<module>.<attr>`` or NotImplementedError (asv skips)."""
    mod = require_module(module)
    if not hasattr(mod, attr):
        raise NotImplementedError(f"verify_sublin's {module}.{attr} is not in this commit")
    return getattr(mod, attr)


def require_method(method: str) -> None:
    """Raise NotImplementedError if `make_trainer` does not know the variant `method`
    (a name of `METHOD_SPECS`, a method name, or a preset name) or its options here."""
    methods = require_attr("trainers", "METHODS")
    presets = getattr(require_module("trainers"), "PRESETS", {})
    name, options = METHOD_SPECS.get(method, (method, {}))
    if name not in methods and name not in presets:
        raise NotImplementedError(f"method or preset {name!r} is not in this commit")
    if options:
        import inspect

        from verify_sublin import make_trainer
        missing = set(options) - set(inspect.signature(make_trainer).parameters)
        if missing:
            raise NotImplementedError(f"options {sorted(missing)} are not in this commit")


# ---------------------------------------------------------------- problems
_cache: dict = {}


def cached(key, build):
    """`build()` once per process for `key` (asv runs each parameter combination in
    its own process, so this spares the later samples of one combination)."""
    if key not in _cache:
        _cache[key] = build()
    return _cache[key]


def forget() -> None:
    """Drop everything `cached` holds (before moving to another width)."""
    _cache.clear()
    gc.collect()


def problem(m: int, c: float, n: int = N, d: int = D, seed: int = SEED):
    """(net, X, y): the network of width m with shift b = sqrt(c ln m), and the data.

    X: n points uniform on the unit sphere, y: teacher labels, both from `seed`;
    W ~ N(0, I_d) and a uniform in {-1, +1} from `seed + 1` (with one seed the first n
    rows of W would be the inputs themselves). Cost O(m d); the network of
    the last (m, seed) is kept, so a setup per sample does not redraw it.
    """
    from verify_sublin import ShiftedReLUNet, shift_for, sphere_data

    def build():
        net = ShiftedReLUNet.init(m, d, 0.0, seed=seed + 1)
        X, y = sphere_data(n, d, seed=seed, labels="teacher")
        return net, X, y

    net0, X, y = cached(("problem", m, n, d, seed), build)
    net = ShiftedReLUNet(net0.W, net0.a, shift_for(m, c))   # trainers copy the net
    return net, X, y


def fire_sets(net, X):
    """`FireSets` of `net` on X by a blockwise scan (numpy only). Cost O(n m d)."""
    from verify_sublin import FireSets

    m, block = net.m, 1 << 16
    parts: list[list[np.ndarray]] = [[] for _ in range(X.shape[0])]
    for lo in range(0, m, block):
        P = X @ net.W[lo:lo + block].T
        for i, row in enumerate(P):
            parts[i].append(np.flatnonzero(row > net.shift) + lo)
    return FireSets.from_lists([np.concatenate(p) for p in parts], m)


def trainer(method: str, m: int, c: float, **options):
    """A fresh trainer of the variant `method` (see `METHOD_SPECS`) on `problem(m, c)`
    (construction is untimed)."""
    from verify_sublin import make_trainer

    net, X, y = problem(m, c)
    name, base = METHOD_SPECS.get(method, (method, {}))
    return make_trainer(name, net, X, y, **base, **options)


_warmed: set = set()


def warm_up(method: str | None = None, **options) -> None:
    """Compile (or load from numba's cache) the kernels `method` uses, on a small problem.

    Two steps of a width-`WARM_M` trainer; with `method` None, a correlation tree
    build, query and update instead. Untimed; done once per process and options. A
    `method` this commit lacks raises NotImplementedError first (`require_method`), so
    a benchmark that warms it up is skipped there.
    """
    if method is not None:
        require_method(method)      # a variant or preset this commit lacks: asv skips
    key = (method, tuple(sorted(options.items())))
    if key in _warmed:
        return
    _warmed.add(key)
    from verify_sublin import CorrelationTree, ShiftedReLUNet, make_trainer, shift_for, sphere_data

    X, y = sphere_data(N, D, seed=SEED + 1, labels="teacher")
    net = ShiftedReLUNet.init(WARM_M, D, shift_for(WARM_M, CS[0]), seed=SEED + 1)
    if method is None:
        tree = CorrelationTree(net.W, X, net.shift)
        fs = tree.query_all()
        union = np.unique(fs.indices)
        tree.update(union, net.W[union] + 1e-3)
        tree.query_all()
        return
    name, base = METHOD_SPECS.get(method, (method, {}))
    tr = make_trainer(name, net, X, y, **base, **options)
    tr.step()
    tr.step()


# ------------------------------------------------------ in-process ratios
def _times(fn, at_least: int, at_most: int, budget: float) -> list[float]:
    """Seconds of each of at least `at_least` and at most `at_most` calls of `fn()`,
    stopping after `at_least` once `budget` seconds are spent."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < at_most:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= at_least and time.perf_counter() - start > budget:
            break
    return times


def floor_times(X: np.ndarray, W: np.ndarray) -> list[float]:
    """Seconds of calls of ``np.matmul(X, W.T, out=buf)`` (5 to 200 calls, half a
    second): n k d multiply-adds for k rows of W, the least any step that recomputes
    those inner products must do."""
    buf = np.empty((X.shape[0], W.shape[0]))
    np.matmul(X, W.T, out=buf)                       # touch the buffer first
    return _times(lambda: np.matmul(X, W.T, out=buf), 5, 200, 0.5)


#: Per-step quantities of `measure_steps` besides the `COUNT_KEYS` counts.
SIZE_KEYS = ["union_size", "fire_set_total", "fire_set_max"]
#: Ratios of medians measured in one process: (numerator, denominator).
RATIOS = {
    "sublinear_gn/ggn": ("sublinear_gn", "ggn"),
    "sublinear_gn_fast/ggn": ("sublinear_gn_fast", "ggn"),
    "gd/floor": ("gd", "floor"),
    "ggn/floor": ("ggn", "floor"),
    "sketched_gn/floor": ("sketched_gn", "floor"),
    "sublinear_gn/floor": ("sublinear_gn", "floor"),
    "sublinear_gn/union_floor": ("sublinear_gn", "union_floor"),
}
#: Timed steps per method in `measure_steps`, after the untimed step 0: at least
#: `STEPS` (one if step 0 took over `SLOW_STEP` seconds), at most `MAX_STEPS`, stopping
#: once `STEP_BUDGET` seconds are spent.
STEPS = 3
MAX_STEPS = 30
STEP_BUDGET = 1.0
SLOW_STEP = 5.0


def measure_steps() -> dict:
    """Step 0 counts and steady-state step-time medians of every method, in one process.

    For each (m, c) of `MS` x `CS` and each method of `METHODS` present in this
    commit: a fresh trainer (kernels compiled beforehand on a small problem) does
    step 0 untimed, whose `StepResult` gives the deterministic counts and sizes, then
    timed steps (`STEPS`, `MAX_STEPS`, `STEP_BUDGET`, `SLOW_STEP`) whose median is the
    method's time: the steady state, without step 0's one-off costs (buffers sized,
    memory touched for the first time) that `bench_step` includes. In the same
    process, before and after the methods (samples pooled, so that a burst of load
    during one of them weighs less): the dense floor X W^T (n m d) and the union
    floor X W_U^T (n |U| d, U the union of the initial fire sets), the inner
    products a sublinear step that refreshes them explicitly cannot avoid.

    Returns {(kind, m, c): value} with kind "floor", "union_floor" (median seconds),
    or a method name (dict of counts, sizes, "median" and "times"). Cost: about a
    minute at m = 2^20 (sketched_gn: two steps of several seconds per shift).
    """
    out: dict = {}
    methods = []
    for meth in METHODS:
        try:
            require_method(meth)
            methods.append(meth)
        except NotImplementedError:
            pass
    for meth in methods:
        warm_up(meth)
    for m in MS:
        forget()
        for c in CS:
            net, X, _ = problem(m, c)
            union = np.unique(fire_sets(net, X).indices)
            W_union = np.ascontiguousarray(net.W[union])
            floor, union_floor = floor_times(X, net.W), floor_times(X, W_union)
            for meth in methods:
                tr = trainer(meth, m, c)
                t0 = time.perf_counter()
                res = tr.step()
                at_least = STEPS if time.perf_counter() - t0 <= SLOW_STEP else 1
                times = _times(tr.step, at_least, MAX_STEPS, STEP_BUDGET)
                row = {key: int(val) for key, val in res.counts.items()}
                row["union_size"] = int(res.union_size)
                row["fire_set_total"] = int(np.sum(res.fire_set_sizes))
                row["fire_set_max"] = int(np.max(res.fire_set_sizes))
                row["median"], row["times"] = float(np.median(times)), times
                out[meth, m, c] = row
                del tr
                gc.collect()
            floor += floor_times(X, net.W)
            union_floor += floor_times(X, W_union)
            out["floor", m, c] = float(np.median(floor))
            out["union_floor", m, c] = float(np.median(union_floor))
    return out


measure_steps.timeout = 1800        # asv's time limit of the setup_cache, seconds


def ratio(cache: dict, name: str, m: int, c: float) -> float:
    """The ratio `name` of `RATIOS` from a `measure_steps` result; NotImplementedError
    if one side was not measured at this commit."""
    num, den = RATIOS[name]
    values = []
    for kind in (num, den):
        val = cache.get((kind, m, c))
        if val is None:
            raise NotImplementedError(f"{kind} is not in this commit")
        values.append(val if isinstance(val, float) else val["median"])
    return values[0] / values[1]


def log2_label(m: int) -> str:
    """'2^20' for powers of two."""
    k = round(math.log2(m))
    return f"2^{k}" if 2**k == m else str(m)
