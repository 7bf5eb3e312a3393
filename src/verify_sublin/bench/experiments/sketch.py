"""Experiments on the sketch preconditioner: exact condition numbers and CG iterations
per sketch type and size, and how often a sketch fails to precondition."""

from __future__ import annotations

import math

import numpy as np

from ...core.errors import NumericalError
from ...core.sketch import Sketch, default_size
from ...core.solvers import SparseJacobian, gram_from_patterns, pcg, sketch_precondition
from ...core.trainers import make_trainer
from .common import _inputs, _net


def sketch_sizes(p: dict, kind: str, n: int, N: int) -> list[tuple]:
    """(factor, s / n, s) of each sketch size of a run, from whichever of the two it
    gives: ``s_over_n``, sketch rows per input, the same for every type (s = ceil(r n);
    the SRHT's capped at N = m d, where it is an orthogonal transform; factor None), or
    ``factors``, the library's size factors (`default_size`: f n rows for the Gaussian,
    f n ln n for the others; s / n None). Cost O(sizes).

    >>> sketch_sizes({"s_over_n": [2, 4]}, "countsketch", 64, 2**20)
    [(None, 2.0, 128), (None, 4.0, 256)]
    >>> sketch_sizes({"factors": [4]}, "countsketch", 64, 2**20)
    [(4.0, None, 1065)]
    """
    if "s_over_n" in p:     # default_size of a Gaussian is ceil(r n), memory checked
        return [(None, float(r), min(default_size("gaussian", n, float(r)), N) if kind == "srht"
                 else default_size("gaussian", n, float(r))) for r in p["s_over_n"]]
    return [(float(f), None, default_size(kind, n, float(f), N=N)) for f in p["factors"]]


def sketch_conditioning(p: dict, seed: int) -> dict:
    """Exact condition number of the preconditioned Gauss-Newton operator and CG
    iterations with and without the preconditioner, per sketch type and size, at the
    initial weights.

    Parameters: m, n, d, c, kinds, factors or s_over_n (`sketch_sizes`), tol, mu, inputs
    ("sphere", "clustered" or a data set name), spread. Cost O(n m d) for the Gram,
    O(n^3) per eigendecomposition, one sketch and one CG solve per (kind, size)."""
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
        for factor, s_over_n, s in sketch_sizes(p, kind, n, m * d):
            size = {"kind": kind, "factor": factor, "s_over_n": s_over_n, "s": s}
            try:
                B = Sketch(kind, s, m, d, seed).apply_jt(pat, row_coef, X)
                R, _ = sketch_precondition(B, mu)
            except (NumericalError, ValueError) as exc:
                rows.append({**size, "error": str(exc)})
                continue
            Rinv = np.linalg.inv(R)
            ev = np.linalg.eigvalsh(Rinv.T @ A @ Rinv)
            jac = SparseJacobian(pat, row_coef, X)
            _, info, _ = pcg(lambda v, jac=jac: jac.jjt(v) + mu * v, r, R,
                             tol=float(p.get("tol", 1e-10)), max_iter=500)
            rows.append({**size, "kappa": float(ev[-1] / ev[0]), "iterations": info.iterations,
                         "estimate": info.condition_estimate, "stop": info.stop_reason})
    return {"rows": rows, "kappa_unpreconditioned": float(eig[-1] / eig[0]), "b": net.shift,
            "iterations_unpreconditioned": info0.iterations, "stop_unpreconditioned":
            info0.stop_reason, "d": d}


def sketch_failure(p: dict, seed: int) -> dict:
    """The exact preconditioned condition number per sketch type and size at one
    seed (`sketch_conditioning`, without the CG solve's diagnostics).

    Parameters: as sketch_conditioning (m, n, d, c, kinds, factors or s_over_n, mu)."""
    res = sketch_conditioning(dict(p, tol=1e-6), seed)
    return {"rows": [{k: r.get(k) for k in ("kind", "factor", "s_over_n", "s", "kappa", "error")}
                     for r in res["rows"]], "b": res["b"]}
