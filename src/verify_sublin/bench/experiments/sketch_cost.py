"""``sketch_vs_exact``: one Gauss-Newton step from the same initial weights, exact (the
bit-parallel Gram, this project's; the textbook dense J J^T, Cai et al.'s) against
sketched_gn (van den Brand et al.'s dense J products) per sketch type at one sketch size
and per CG tolerance: contraction, counted operations, CG iterations, seconds."""

from __future__ import annotations

import math
import time

import numpy as np

from ...core.bitgram import exact_gn_step
from ...core.data import sphere_data
from ...core.errors import InputError, MemoryLimitError, NumericalError
from ...core.firesets import forward_fire_sets
from ...core.model import ShiftedReLUNet, shift_for
from ...core.sketch import KINDS
from ...core.trainers import make_trainer
from ..speed import TEXTBOOK_TIMED_MAX

__all__ = ["sketch_factor_for", "sketch_vs_exact"]


def sketch_factor_for(kind: str, n: int, s: int) -> float:
    """The `core.sketch.default_size` factor that gives s rows for n columns (f n for the
    Gaussian, f n ln n for the others), a hair below, so that the ceiling lands on s.

    >>> from verify_sublin.core.sketch import default_size
    >>> [default_size(k, 64, sketch_factor_for(k, 64, 512)) for k in ("gaussian", "tensor")]
    [512, 512]
    """
    per = n if kind == "gaussian" else n * math.log(max(n, 2))
    return s / per * (1 - 1e-12)


def _first_steps(make, repeats: int) -> tuple[list[float], object]:
    """Seconds of the first step of `repeats` fresh trainers (made untimed) after one
    untimed warm-up step, and the last StepResult."""
    res, times = make().step(), []
    for _ in range(repeats):
        t = make()
        t0 = time.perf_counter()
        res = t.step()
        times.append(time.perf_counter() - t0)
    return times, res


def sketch_vs_exact(p: dict, seed: int) -> dict:
    """Parameters: m, n, d, c, kinds, timed_kinds (the types also timed), s_over_n (s =
    ceil(s_over_n n) for every type), tols (CG tolerances, run loosest first until one
    gives a contraction within `within` (relative) of the exact step's, then the
    tightest), repeats (timed first steps, each from the initial weights), mu. Cost: per
    type, a few sketched steps, O(T_cg m n d) each, + `repeats` timed ones."""
    m, n, d = int(p["m"]), int(p["n"]), int(p["d"])
    X, y = sphere_data(n, d, seed=seed)
    net = ShiftedReLUNet.init(m, d, shift_for(m, float(p["c"])), seed=seed + 1)
    mu, repeats = float(p.get("mu", 1e-10)), int(p.get("repeats", 5))
    tols, within = [float(t) for t in p["tols"]], float(p.get("within", 0.01))
    s = math.ceil(float(p["s_over_n"]) * n)
    ex_times = []
    for k in range(repeats + 1):
        W = net.W.copy()
        t0 = time.perf_counter()
        W, info = exact_gn_step(W, net.a, net.shift, X, y, mu=mu)
        if k:
            ex_times.append(time.perf_counter() - t0)
    f1 = forward_fire_sets(X, W, net.shift, net.a, 1.0 / math.sqrt(m))[1]
    rho = float(np.linalg.norm(f1 - y)) / info["residual"]
    timed_tb = m * n * n * d <= TEXTBOOK_TIMED_MAX
    tb_times, tb = _first_steps(lambda: make_trainer("textbook ggn", net.copy(), X, y, mu=mu),
                                repeats if timed_tb else 0)
    rows = []
    for kind in p.get("kinds", KINDS):
        f = sketch_factor_for(kind, n, s)

        def make(tol, kind=kind, f=f):
            return make_trainer("sketched_gn", net.copy(), X, y, mu=mu, sketch=kind,
                                sketch_factor=f, tol=tol, seed=seed)
        con, ops, its, run = [], [], [], []
        try:     # loosest first; past the first qualifying tolerance only the tightest
            for tol in sorted(tols, reverse=True):
                if run and tol != min(tols) and abs(con[-1] / rho - 1.0) <= within:
                    continue
                r = make(tol).step()
                run.append(tol)
                con.append(r.contraction)
                ops.append(int(r.total_ops(d)))
                its.append(int(r.solver.iterations))
        except (InputError, MemoryLimitError, NumericalError) as exc:
            rows.append({"kind": kind, "s": s, "error": str(exc).splitlines()[0][:200]})
            continue
        ok = [t for t, c in zip(run, con) if rho > 0 and abs(c / rho - 1.0) <= within]
        q = max(ok) if ok else None
        secs = (_first_steps(lambda q=q: make(q), repeats)[0]
                if q is not None and kind in p.get("timed_kinds", KINDS) else [])
        rows.append({"kind": kind, "s": s, "tols": run, "contraction": con, "ops": ops,
                     "iterations": its, "qualifying_tol": q, "seconds": secs})
    return {"b": net.shift, "s": s, "tols": sorted(tols, reverse=True), "exact_contraction": rho,
            "exact_ops": int(info["ops"]), "exact_seconds": ex_times,
            "textbook_ops": int(tb.total_ops(d)), "textbook_seconds": tb_times, "sketches": rows}
