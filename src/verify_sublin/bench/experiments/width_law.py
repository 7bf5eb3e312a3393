"""The width law: per data subset, the smallest width from which Gauss-Newton contracts
by the threshold at every step, searched on the grid m = 2^(j/2).

One definition, shared by the search below and by the ledger (`ledger.toolkit.width`):

* a *trial* is one initialisation of the network on one data subset at width m:
  Gauss-Newton (mu = 0, eta = 1) from it until the residual is at most `tol` times the
  initial one, for at most `steps` steps; its *worst contraction* is the largest
  ||r_{t+1}|| / ||r_t|| over the steps made. It *passes* at a threshold t if it reached
  tol without a numerical error and its worst contraction is at most t (`effective`
  folds the two conditions into one number: the worst contraction, or inf);
* a *width passes* for a subset if at least `need` of its `inits` initialisations pass
  (`width_outcome`);
* m*(subset) is the smallest grid width from which it and every larger width tried
  pass (`subset_m_star`); None if the largest width tried fails (m* above the grid).

Search (`width_law`): a ladder up the grid in strides of `stride` grid points (2: the
powers of two) from 2^log2_min until a width passes at the strictest threshold (or the
grid ends), then bisection of the bracket of every threshold: between the largest tried
width that fails and m* as defined above, until the two are neighbours on the grid.
Early stopping: the initialisations of a width stop once its outcome is decided at every
threshold (`need` passes, or more than `inits - need` failures), and a trial stops at
the first step that contracts by more than `stop` (its worst contraction is then a lower
bound, above every threshold). Every trial made is recorded with its worst contraction,
so any threshold up to `stop` can be applied afterwards (a width whose outcome is then
undecided, for lack of the initialisations early stopping skipped, counts as not tried).

Cost model: with C(m) = inits x steps x O(m n d + n^2 m / 64 + n^3) (a Gauss-Newton step
from the fire sets), the ladder's widths grow geometrically, so the search costs about
(r / (r - 1) + 1 / sqrt(r)) C(p) with r = 2^(stride / 2) the ladder's ratio and p < r m*
its first passing width: about 2.7 C(p) <= 5.4 C(m*) for stride 2. Failing widths cost
less (two failed initialisations, trials stopped at the first bad step); a subset whose
m* lies above the grid costs about 2 C(2^log2_max).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from ...core.errors import NumericalError
from ...core.model import ShiftedReLUNet, shift_for
from ...core.realdata import load_dataset
from ...core.trainers import make_trainer

__all__ = ["effective", "law_grid", "law_trial", "subset_m_star", "width_law", "width_outcome"]


def law_grid(log2_min: int, log2_max: int) -> list[int]:
    """The widths round(2^(j/2)) from 2^log2_min to 2^log2_max.

    >>> law_grid(3, 5)
    [8, 11, 16, 23, 32]
    """
    return [round(2 ** (j / 2)) for j in range(2 * log2_min, 2 * log2_max + 1)]


def effective(worst: float | None, reached: bool, error: str | None) -> float:
    """A trial as one number: its worst contraction if it reached tol without a
    numerical error, else inf (it passes at threshold t iff this is <= t).

    >>> effective(0.4, True, None), effective(0.4, False, None), effective(None, False, "x")
    (0.4, inf, inf)
    """
    return float(worst) if reached and error is None and worst is not None else math.inf


def width_outcome(effs: Iterable[float], threshold: float, inits: int, need: int) -> bool | None:
    """Does a width pass at `threshold` (at least `need` of `inits` trials pass)? None
    while undecided by the trials made (early stopping may leave fewer than `inits`).

    >>> width_outcome([0.3, 0.4, 0.45, 0.49], 0.5, 5, 4), width_outcome([0.6, 0.7], 0.5, 5, 4)
    (True, False)
    >>> width_outcome([0.3, 0.6], 0.5, 5, 4) is None
    True
    """
    effs = list(effs)
    good = sum(e <= threshold for e in effs)
    if good >= need:
        return True
    if len(effs) - good > inits - need:
        return False
    return None


def subset_m_star(outcomes: Mapping[int, bool | None]) -> int | None:
    """The smallest width from which it and every larger decided width pass; None if the
    largest decided width fails (or none is decided). Undecided widths are skipped.

    >>> subset_m_star({8: False, 11: True, 16: False, 23: True, 32: True})
    23
    >>> subset_m_star({8: True, 16: None, 32: False}) is None
    True
    """
    best = None
    for m in sorted((m for m, o in outcomes.items() if o is not None), reverse=True):
        if not outcomes[m]:
            break
        best = m
    return best


def law_trial(X, y, m: int, c: float, seed: int, steps: int, tol: float, stop: float) -> dict:
    """One trial (see the module docstring): worst contraction, tol reached, steps made,
    the numerical error if any. Cost: steps x O(m n d + n^2 m / 64 + n^3)."""
    contractions, error = [], None
    try:
        net = ShiftedReLUNet.init(m, X.shape[1], shift_for(m, c), seed=seed)
        t = make_trainer("ggn", net, X, y, mu=0.0)
        r0 = t.residual
        while len(contractions) < steps and t.residual > tol * r0:
            contractions.append(float(t.step().contraction))
            if not contractions[-1] <= stop:
                break
        reached = bool(t.residual <= tol * r0)
    except NumericalError as exc:
        error, reached = str(exc), False
    worst = max(contractions) if contractions else (None if error else 0.0)
    if worst is not None and not math.isfinite(worst):
        worst, error = None, error or "non-finite contraction"
    return {"worst": worst, "reached": reached, "steps": len(contractions), "error": error}


def width_law(p: dict, seed: int) -> dict:
    """The search of the module docstring on data subset `seed` (the data set's rows
    drawn with that seed); initialisation k of every width has seed 1000 seed + k + 1.

    Parameters: dataset, n, d, c, inits, need, thresholds, steps, tol, stop, log2_min,
    log2_max, stride. Returns the widths in the order tried, each with its trials, and
    m* per threshold. Cost: see the module docstring."""
    ds = load_dataset(p["dataset"], int(p["n"]), 0, seed=seed, d=int(p.get("d", 16)))
    X, y = ds.X_train, ds.y_train
    c, inits, need = float(p["c"]), int(p["inits"]), int(p["need"])
    thresholds = sorted(float(t) for t in p["thresholds"])
    stop = float(p.get("stop", max(thresholds)))
    grid = law_grid(int(p["log2_min"]), int(p["log2_max"]))
    tried: dict[int, list[dict]] = {}

    def outcome(i: int, t: float) -> bool | None:
        return width_outcome((effective(r["worst"], r["reached"], r["error"]) for r in tried[i]),
                             t, inits, need)

    def evaluate(i: int) -> None:
        tried[i] = []
        for k in range(inits):
            tried[i].append({"init": k, **law_trial(X, y, grid[i], c, 1000 * seed + k + 1,
                                                    int(p["steps"]), float(p["tol"]), stop)})
            if all(outcome(i, t) is not None for t in thresholds):
                break

    def star(t: float) -> int | None:
        m = subset_m_star({grid[i]: outcome(i, t) for i in tried})
        return None if m is None else grid.index(m)

    i, top, stride = 0, len(grid) - 1, int(p.get("stride", 2))
    while True:                                   # the ladder
        evaluate(i)
        if outcome(i, thresholds[0]) or i == top:
            break
        i = min(i + stride, top)
    while True:                                   # bisection of every bracket
        todo = None
        for t in thresholds:
            hi = star(t)
            lo = -1 if hi is None else max((j for j in tried if j < hi), default=-1)
            if hi is not None and hi - lo > 1:
                todo = (lo + hi) // 2
                break
        if todo is None:
            break
        evaluate(todo)
    return {"n": X.shape[0], "d": X.shape[1], "thresholds": thresholds,
            "widths": [{"m": grid[j], "trials": tr} for j, tr in tried.items()],
            "m_star": [None if star(t) is None else grid[star(t)] for t in thresholds]}
