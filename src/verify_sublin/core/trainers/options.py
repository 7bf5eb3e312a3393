"""The options of each training method: one frozen dataclass per method.

`TrainerOptions` holds what every method takes (the seed of its own randomness and the
array backend); each method's options extend it with the fields the method reads, each
with its default:

=========================  ===============  ==========================================
class                      method           fields beyond seed and backend
=========================  ===============  ==========================================
`GDOptions`                gd               eta, train_a
`GGNOptions`               ggn              eta, mu, solver, train_a, gram
`SketchedGNOptions`        sketched_gn      eta, mu, sketch, sketch_factor, tol, max_iter
`SublinearOptions`         sublinear_gn     eta, mu, solver, sketch, sketch_factor, tol,
                                            max_iter, fire_sets, refresh_every,
                                            preactivations
`AdamOptions`              adam             eta, train_a
`SGDOptions`               sgd              eta, batch_size, train_a
`SecondLayerOptions`       second_layer     eta, mu, gram
`KernelRidgeOptions`       ntk_krr          mu
`DeepDenseOptions`         deep_dense       eta, mu, update
`DeepSublinearOptions`     deep_sublinear   eta, mu, update, merge_threshold
=========================  ===============  ==========================================

A trainer class names its type (``options_type``) and receives an instance. A field of
the same name has the same default in every class: `OPTION_DEFAULTS`, the defaults of
`make_trainer`'s keywords, where an option the chosen method does not use is accepted
only at this value. An instance is a value (frozen, hashable, compared field by field),
so a named configuration is one instance (`trainers.presets`):

>>> opts = SublinearOptions(fire_sets="cache", preactivations="implicit")
>>> opts.fire_sets, opts.mu
('cache', 0.0)
>>> opts.changes()
{'fire_sets': 'cache', 'preactivations': 'implicit'}
>>> from dataclasses import replace
>>> replace(opts, mu=1e-3).changes()
{'mu': 0.001, 'fire_sets': 'cache', 'preactivations': 'implicit'}

Value checks (ranges, choices) are made where options are accepted, by `make_trainer`
and `supports`; building an instance checks nothing. Cost: O(number of fields).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = [
    "OPTION_DEFAULTS",
    "AdamOptions",
    "DeepDenseOptions",
    "DeepSublinearOptions",
    "GDOptions",
    "GGNOptions",
    "KernelRidgeOptions",
    "SGDOptions",
    "SecondLayerOptions",
    "SketchedGNOptions",
    "SublinearOptions",
    "TrainerOptions",
]


@dataclass(frozen=True, kw_only=True)
class TrainerOptions:
    """Options every method takes; the base of each method's options (module docstring).

    Plugins that subclass a trainer receive its options type (a subclass of this one);
    a new method with new options subclasses it and names it as ``options_type``.
    """

    seed: int = 0
    """Seed of the method's own randomness (the sketches, SGD's batches), an int >= 0."""
    backend: str = "numpy"
    """Array backend (`verify_sublin.core.backend`): "numpy" runs the compiled kernels;
    "array_api_strict", "numpy_generic" and "cupy" the same step over the array-API
    fire-set operations (dense masks); "auto" picks CuPy when it has a usable device."""

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every field of this options type with its default, in field order."""
        return {f.name: f.default for f in fields(cls)}

    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from their default: the `make_trainer` keywords
        that rebuild this instance for its method."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != f.default}


@dataclass(frozen=True, kw_only=True)
class _SketchSolve:
    """The sketch-and-precondition solver's options (`trainers.direction`)."""

    sketch: str = "countsketch"
    """Sketch type of the preconditioner: "gaussian", "srht", "countsketch" or "tensor"."""
    sketch_factor: float | None = None
    """Sketch size s = factor n (per-type default if None: `verify_sublin.core.sketch`)."""
    tol: float = 1e-10
    """Relative residual at which preconditioned CG stops, in (0, 1)."""
    max_iter: int = 100
    """Iteration cap of preconditioned CG, >= 1."""


@dataclass(frozen=True, kw_only=True)
class _GramBuild:
    """How the exact Gram is built from the fire sets (`verify_sublin.core.solvers`)."""

    gram: str = "pairs"
    """"pairs": sum over the fired neurons of their input pairs (work sum_r |p_r|^2, fast
    while fire sets are sparse); "blas": dense products of the 0/1 fire masks (and the
    activations) in blocks of neurons, n^2 |U| multiply-adds in BLAS (fast when half the
    neurons fire, as at c = 0); "auto": "blas" when the fire patterns are dense enough
    (`solvers.BLAS_GRAM_RATIO`). The same Gram to rounding (exactly, with a = +-1).
    Backends other than numpy always build it from dense masks. ggn only: "dense", Cai
    et al.'s textbook product J J^T (J formed in blocks of neurons, n x (B d) each, and
    multiplied by BLAS: m d n (n + 1) / 2 multiply-adds whatever the sparsity; W only,
    so not with train_a)."""


@dataclass(frozen=True, kw_only=True)
class GDOptions(TrainerOptions):
    """Full-batch gradient descent (``gd``)."""

    eta: float | None = None
    """Step size > 0; None: 1 / lambda_max(G_0), G_0 the Gram at the initial weights."""
    train_a: bool = False
    """Also train the second layer a."""


@dataclass(frozen=True, kw_only=True)
class GGNOptions(_GramBuild, TrainerOptions):
    """Gram-Gauss-Newton (``ggn``)."""

    eta: float | None = None
    """Step size > 0; None: 1."""
    mu: float = 0.0
    """Damping of the Gauss-Newton system (G + mu I) g = r, >= 0."""
    solver: str = "cholesky"
    """How the system is solved: only "cholesky" (the exact direction) is accepted."""
    train_a: bool = False
    """Also train the second layer a (G then includes J_a J_a^T)."""


@dataclass(frozen=True, kw_only=True)
class SketchedGNOptions(_SketchSolve, TrainerOptions):
    """Sketched Gauss-Newton (``sketched_gn``): sketch-preconditioned CG, dense J."""

    eta: float | None = None
    """Step size > 0; None: 1."""
    mu: float = 0.0
    """Damping of the Gauss-Newton system (J J^T + mu I) g = r, >= 0."""


@dataclass(frozen=True, kw_only=True)
class SublinearOptions(_SketchSolve, TrainerOptions):
    """Sublinear Gauss-Newton (``sublinear_gn``); see `trainers.sublinear` for what the
    structures cost."""

    eta: float | None = None
    """Step size > 0; None: 1."""
    mu: float = 0.0
    """Damping of the Gauss-Newton system (G + mu I) g = r, >= 0."""
    solver: str = "cholesky"
    """"cholesky": exact Gram from the fire-set intersections; "sketch": the
    sketch-and-precondition solver with sparse J products (sketch, sketch_factor, tol,
    max_iter)."""
    fire_sets: str = "tree"
    """How fire sets are maintained: "tree" (the correlation tree), "cache" (the live
    union's inner products), "scan" (a dense n x m cache thresholded in full)."""
    refresh_every: int = 0
    """Period in steps of a full recomputation of the cached inner products; 0: never."""
    preactivations: str = "explicit"
    """How changed neurons' inner products are refreshed: "explicit" (from the updated
    W, n d each) or "implicit" (from X X^T, W kept as W(0) plus logged updates)."""


@dataclass(frozen=True, kw_only=True)
class AdamOptions(TrainerOptions):
    """Full-batch Adam (``adam``)."""

    eta: float | None = None
    """Step size > 0; None: 1e-2."""
    train_a: bool = False
    """Also train the second layer a."""


@dataclass(frozen=True, kw_only=True)
class SGDOptions(TrainerOptions):
    """Mini-batch stochastic gradient descent (``sgd``); its seed draws the batches."""

    eta: float | None = None
    """Step size > 0 on the unbiased gradient (n / B) J_B^T (f_B - y_B); None: (B / n) /
    lambda_B, lambda_B the largest lambda_max(G_0[B, B]) over the first epoch's batches
    (a step is then W <- W - J_B^T (f_B - y_B) / lambda_B; `trainers.sgd`)."""
    batch_size: int | None = None
    """Inputs per mini-batch B, an int >= 1 (at most n is used); None: max(1, n // 8)."""
    train_a: bool = False
    """Also train the second layer a."""


@dataclass(frozen=True, kw_only=True)
class SecondLayerOptions(_GramBuild, TrainerOptions):
    """Training the second layer only (``second_layer``): one exact least-squares step."""

    eta: float | None = None
    """Step size > 0; None: 1 (the exact solution in one step)."""
    mu: float = 0.0
    """Ridge of the least-squares system, >= 0."""


@dataclass(frozen=True, kw_only=True)
class KernelRidgeOptions(TrainerOptions):
    """Kernel ridge regression with the exact shifted NTK (``ntk_krr``)."""

    mu: float = 0.0
    """Ridge, >= 0 (0: interpolation)."""


@dataclass(frozen=True, kw_only=True)
class DeepDenseOptions(TrainerOptions):
    """The multi-layer net's dense reference (``deep_dense``)."""

    eta: float | None = None
    """Step size > 0; None: 1 for "gn", 1 / lambda_max(G_0) for "gd"."""
    mu: float = 0.0
    """Damping of the Gauss-Newton system, >= 0 (must be 0 with update="gd")."""
    update: str = "gn"
    """The step: "gn" (Gauss-Newton) or "gd" (gradient descent)."""


@dataclass(frozen=True, kw_only=True)
class DeepSublinearOptions(TrainerOptions):
    """The multi-layer net's subquadratic method (``deep_sublinear``)."""

    eta: float | None = None
    """Step size > 0; None: 1 for "gn", 1 / lambda_max(G_0) for "gd"."""
    mu: float = 0.0
    """Damping of the Gauss-Newton system, >= 0 (must be 0 with update="gd")."""
    update: str = "gn"
    """The step: "gn" (Gauss-Newton) or "gd" (gradient descent)."""
    merge_threshold: int | None = None
    """Pending rank-one terms per layer above which they are merged into the weights
    (0: every step, k n: every k + 1 steps); None: n, every second step."""


#: The default of every option `make_trainer` takes, in its documented order: the value
#: an option a method does not use must keep. Each options class above has the same
#: default for a field of the same name (checked by the tests).
OPTION_DEFAULTS: dict[str, Any] = {
    "eta": None, "mu": 0.0, "solver": "cholesky", "sketch": "countsketch",
    "sketch_factor": None, "tol": 1e-10, "max_iter": 100, "fire_sets": "tree",
    "refresh_every": 0, "train_a": False, "seed": 0, "backend": "numpy",
    "preactivations": "explicit", "update": "gn", "merge_threshold": None, "gram": "pairs",
    "batch_size": None,
}
