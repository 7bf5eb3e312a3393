"""Training data on the unit sphere, as the papers assume (||x_i||_2 = 1).

Functions
---------
sphere_data   synthetic inputs uniform on S^{d-1}, teacher or random labels
normalize     rows scaled to unit norm (explicit; nothing is normalised silently)
separation    delta = min_{i != j} min(||x_i - x_j||, ||x_i + x_j||)
check_inputs  validation used by every trainer
"""

from __future__ import annotations

import math

import numpy as np

from .errors import InputError, check_array, check_choice, check_int, check_seed
from .memory import check_memory

__all__ = ["LABELS", "TEACHER_SHIFT", "TEACHER_SHIFT_C", "TEACHER_WIDTH", "UNIT_NORM_TOL",
           "check_inputs", "normalize", "separation", "sphere_data", "teacher_activation"]

#: Rows whose norm differs from 1 by more than this are refused.
UNIT_NORM_TOL = 1e-8

#: Hidden neurons of the teacher networks.
TEACHER_WIDTH = 16

#: The shifted teacher's c: its shift is the papers' b = sqrt(c ln m) at its own width
#: m = `TEACHER_WIDTH`, so each of its neurons fires on Q(b) = 12% of the sphere.
TEACHER_SHIFT_C = 0.48
TEACHER_SHIFT = math.sqrt(TEACHER_SHIFT_C * math.log(TEACHER_WIDTH))

#: The label kinds of `sphere_data` and the teacher's activation of each.
LABELS = {"teacher": "ReLU max(z, 0)",
          "teacher-shifted": f"shifted ReLU max(z - {TEACHER_SHIFT:.3g}, 0)",
          "teacher-smooth": "tanh(z)",
          "random": "none (labels uniform in [-1, 1])"}


def teacher_activation(labels: str, Z: np.ndarray) -> np.ndarray:
    """The teacher's activation of the label kind `labels` applied to Z (see `LABELS`).

    >>> teacher_activation("teacher-shifted", np.array([1.0, 2.0])).round(3).tolist()
    [0.0, 0.846]
    """
    if labels == "teacher":
        return np.maximum(Z, 0.0)
    if labels == "teacher-shifted":
        return np.maximum(Z - TEACHER_SHIFT, 0.0)
    return np.tanh(Z)


def sphere_data(n: int, d: int, seed: int,
                labels: str = "teacher") -> tuple[np.ndarray, np.ndarray]:
    """Inputs uniform on the unit sphere S^{d-1} and labels.

    Parameters
    ----------
    n, d : int
        Number of inputs and their dimension (d >= 2, so the sphere is not two points).
    seed : int
        Seed of ``numpy.random.default_rng``; inputs are drawn first, then the labels.
    labels : {"teacher", "teacher-shifted", "teacher-smooth", "random"}
        "teacher": y from a fixed random two-layer ReLU network of width 16
        (hidden weights N(0, I_d), output weights N(0, 1)) on the same inputs, scaled
        so that max |y| = 1. "teacher-shifted" and "teacher-smooth": the same teacher
        weights (the same draws) with the activation max(z - b_T, 0), b_T =
        sqrt(0.48 ln 16) = 1.15 (`TEACHER_SHIFT`), or tanh(z) (`LABELS`); the inputs
        are those of "teacher" at the same seed. "random": y uniform in [-1, 1],
        independent of X.

    Returns
    -------
    X : (n, d) float64 with unit-norm rows
    y : (n,) float64

    Cost: O(n d) (teacher: O(16 n d)).

    >>> X, y = sphere_data(5, 3, seed=0)
    >>> X.shape, y.shape, bool(np.allclose(np.linalg.norm(X, axis=1), 1))
    ((5, 3), (5,), True)
    >>> float(np.abs(y).max())
    1.0
    """
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=2)
    seed = check_seed("seed", seed)
    labels = check_choice("labels", labels, tuple(LABELS))
    check_memory("n", 16.0 * n * d, f"{n} inputs of dimension {d}")
    rng = np.random.default_rng(seed)
    X = normalize(rng.standard_normal((n, d)))
    if labels == "random":
        return X, rng.uniform(-1.0, 1.0, size=n)
    U = rng.standard_normal((TEACHER_WIDTH, d))
    v = rng.standard_normal(TEACHER_WIDTH)
    y = teacher_activation(labels, X @ U.T) @ v
    top = np.abs(y).max()
    return X, (y / top if top > 0 else y)


def normalize(X) -> np.ndarray:
    """Rows of X scaled to unit Euclidean norm (a new array).

    Raises `InputError` for a zero row, which has no direction.

    >>> normalize([[3.0, 4.0]]).tolist()
    [[0.6, 0.8]]

    Cost: O(n d).
    """
    X = check_array("X", X, ndim=2)
    norms = np.linalg.norm(X, axis=1)
    if np.any(norms == 0):
        raise InputError("X", f"row {int(np.flatnonzero(norms == 0)[0])} equal to zero",
                         "rows with a nonzero norm")
    return X / norms[:, None]


def unit_norm_tolerance(X, d: int | None = None) -> float:
    """How far a row's norm may be from 1: `UNIT_NORM_TOL`, or for inputs of a lower
    precision (float32, float16) what normalising in that precision leaves,
    4 sqrt(d) eps of the dtype.

    >>> unit_norm_tolerance(np.ones((2, 4))) == UNIT_NORM_TOL
    True
    >>> f"{unit_norm_tolerance(np.ones((2, 4), np.float32)):.2g}"
    '9.5e-07'
    """
    dtype = getattr(X, "dtype", None)
    if dtype is None or not np.issubdtype(np.dtype(dtype), np.floating):
        return UNIT_NORM_TOL
    width = d if d is not None else (X.shape[-1] if getattr(X, "ndim", 0) == 2 else 1)
    return max(UNIT_NORM_TOL, 4.0 * math.sqrt(max(width, 1)) * float(np.finfo(dtype).eps))


def check_inputs(X, y=None, *, d: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate training data: X (n, d) finite with unit-norm rows, y (n,) finite.

    Returns float64 copies-or-views. Raises `InputError` naming X or y.

    >>> check_inputs([[1.0, 0.0]], [0.5])[1].tolist()
    [0.5]
    >>> check_inputs([[2.0, 0.0]])
    Traceback (most recent call last):
    ...
    verify_sublin.core.errors.InputError: X: expected rows of unit ... norm ...got row 0 with norm 2
    """
    tol = unit_norm_tolerance(X, d)
    X = check_array("X", X, ndim=2, shape=(None, d))
    if X.shape[0] < 1:
        raise InputError("X", "an array with no rows", "at least one input")
    norms = np.linalg.norm(X, axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > tol)
    if bad.size:
        raise InputError("X", f"row {int(bad[0])} with norm {norms[bad[0]]:.12g}",
                         f"rows of unit Euclidean norm to within {tol:.2g} (use "
                         "verify_sublin.normalize)")
    if y is not None:
        y = check_array("y", y, ndim=1)
        if y.shape[0] != X.shape[0]:
            raise InputError("y", f"{y.shape[0]} labels", f"one label per row of X ({X.shape[0]})")
    return X, y


def separation(X) -> float:
    """delta = min over i != j of min(||x_i - x_j||, ||x_i + x_j||) for unit-norm rows.

    For unit vectors both distances follow from rho = <x_i, x_j>:
    min(||x_i - x_j||, ||x_i + x_j||) = sqrt(2 - 2 |rho|). Returns inf for n = 1.

    >>> round(separation([[1.0, 0.0], [0.0, 1.0]]), 6)
    1.414214
    >>> separation([[1.0, 0.0], [-1.0, 0.0]])
    0.0

    Cost: O(n^2 d).
    """
    X, _ = check_inputs(X)
    n = X.shape[0]
    if n == 1:
        return float("inf")
    rho = np.abs(X @ X.T)
    np.fill_diagonal(rho, -np.inf)
    return float(np.sqrt(max(2.0 - 2.0 * rho.max(), 0.0)))
