"""Helpers the experiments share: the run's data, network, backend and shift, a
training loop that stops on a numerical fault, peak-memory readings, and the inputs of
the conditioning runs. Cost of each in its docstring."""

from __future__ import annotations

import math
import time

import numpy as np

from ...core.data import sphere_data
from ...core.errors import NumericalError
from ...core.model import ShiftedReLUNet, shift_for
from ...core.realdata import load_dataset


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


def _train(trainer, steps: int, tol: float, time_cap: float = math.inf,
           spent: float = 0.0) -> tuple[list, str | None]:
    """Step `trainer` until its residual is <= tol, `steps` steps are made, a step
    raises NumericalError, or (with `time_cap`) `spent` plus the steps' own seconds
    (`StepResult.total_time`) reach time_cap; returns the StepResults and the error's
    text (or None)."""
    done = []
    for _ in range(steps):
        if trainer.residual <= tol or spent >= time_cap:
            break
        try:
            res = trainer.step()
        except NumericalError as exc:
            return done, str(exc)
        done.append(res)
        spent += res.total_time
    return done, None


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


def _best_of(fn, repeats: int = 3) -> float:
    """Least wall seconds of `repeats` calls (the machine may be shared)."""
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _unit_queries(q: int, d: int, seed: int) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((q, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


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
