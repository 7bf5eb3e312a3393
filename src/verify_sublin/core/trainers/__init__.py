"""Training methods behind one contract (`Trainer`) and one factory (`make_trainer`)."""

from __future__ import annotations

from typing import Any

from ..backend import BACKEND_CHOICES, resolve_backend
from ..errors import InputError, check_choice, check_float, check_int, check_seed
from ..model import ShiftedReLUNet
from .base import COUNT_KEYS, PHASES, SolverInfo, StepResult, Trainer, TrainerOptions
from .deep import DeepDense, DeepSublinear
from .dense import Adam, GradientDescent, GramGaussNewton, SecondLayer
from .kernel import NTKKernelRidge
from .sketched import SketchedGaussNewton
from .sublinear import SublinearGaussNewton

__all__ = [
    "COUNT_KEYS",
    "DEEP_METHODS",
    "METHODS",
    "PHASES",
    "SolverInfo",
    "StepResult",
    "Trainer",
    "TrainerOptions",
    "make_trainer",
    "supports",
]

#: Method name -> Trainer class. Later methods register here.
METHODS: dict[str, type[Trainer]] = {
    cls.method: cls for cls in (GradientDescent, GramGaussNewton, SketchedGaussNewton,
                                SublinearGaussNewton, Adam, SecondLayer, NTKKernelRidge,
                                DeepDense, DeepSublinear)
}

#: The methods that train a `DeepShiftedReLUNet` (the others take a `ShiftedReLUNet`).
DEEP_METHODS = frozenset(name for name, cls in METHODS.items()
                         if cls.net_type is not ShiftedReLUNet)

_CHOICES = {
    "solver": ("cholesky", "sketch"),
    "sketch": ("gaussian", "srht", "countsketch", "tensor"),
    "fire_sets": ("tree", "cache", "scan"),
    "backend": BACKEND_CHOICES,
    "preactivations": ("explicit", "implicit"),
    "update": ("gn", "gd"),
}


def make_trainer(method: str, net, X, y, *, eta: float | None = None, mu: float = 0.0,
                 solver: str = "cholesky", sketch: str = "countsketch",
                 sketch_factor: float | None = None, tol: float = 1e-10, max_iter: int = 100,
                 fire_sets: str = "tree", refresh_every: int = 0, train_a: bool = False,
                 seed: int = 0, backend: str = "numpy",
                 preactivations: str = "explicit", update: str = "gn",
                 merge_threshold: int | None = None) -> Trainer:
    """Build a trainer for `method` on the network `net` (copied) and data (X, y).

    Parameters
    ----------
    method : str
        One of `METHODS`: "gd" (gradient descent), "ggn" (Gram-Gauss-Newton),
        "sketched_gn" (sketch-preconditioned CG with a dense J operator), "sublinear_gn"
        (Gauss-Newton on the fired blocks only), "adam" (full batch), "second_layer"
        (only a trained, exact least squares), "ntk_krr" (kernel ridge regression with the
        exact shifted NTK), "deep_dense" and "deep_sublinear" (the multi-layer net: dense
        reference and the subquadratic method, `DEEP_METHODS`), and the methods later
        modules register.
    net : ShiftedReLUNet or DeepShiftedReLUNet
        Initial network (a `DeepShiftedReLUNet` for `DEEP_METHODS`); the trainer works
        on its own copy.
    X, y : arrays (n, d) and (n,)
        Inputs with unit-norm rows, and labels.
    eta : float, optional
        Step size (GD: 1 / lambda_max(G_0) by default; Gauss-Newton methods: 1).
    mu : float
        Damping of the Gauss-Newton system (G + mu I) g = r, >= 0.
    solver : {"cholesky", "sketch"}
        Direct solve of the exact Gram, or the sketch-and-precondition solver.
    sketch : {"gaussian", "srht", "countsketch", "tensor"}
        Sketch type of the preconditioner.
    sketch_factor : float, optional
        Sketch size factor (per-type default; see `verify_sublin.core.sketch`).
    tol, max_iter :
        Relative tolerance and iteration cap of an iterative solver.
    fire_sets : {"tree", "cache", "scan"}
        How the sublinear method maintains fire sets.
    refresh_every : int
        Period (steps) of a full refresh of cached inner products; 0 = never.
    train_a : bool
        Also train the second layer (gd, ggn, adam).
    seed : int
        Seed of the method's own randomness (sketches).
    backend : {"numpy", "cupy", "auto", "array_api_strict", "numpy_generic"}
        Array backend (see `verify_sublin.core.backend`): numpy runs the compiled kernels;
        any other the same trainers over the array-API fire-set operations
        (`trainers.ops`: dense masks; CuPy on a GPU). "auto" picks CuPy when it has a
        usable device.
    preactivations : {"explicit", "implicit"}
        How the sublinear method refreshes the cached inner products of changed neurons.
    update : {"gn", "gd"}
        The deep methods' step: Gauss-Newton or gradient descent.
    merge_threshold : int, optional
        deep_sublinear: pending rank-one terms per layer above which they are merged
        into the weights (0 = every step, k n = every k + 1 steps; default n, every
        second step: see `verify_sublin.core.trainers.deep`).

    An option the chosen method does not use must keep its default; anything else is
    an `InputError` naming it.

    Examples
    --------
    >>> from verify_sublin import ShiftedReLUNet, sphere_data, shift_for
    >>> X, y = sphere_data(8, 4, seed=0)
    >>> net = ShiftedReLUNet.init(512, 4, shift_for(512), seed=0)
    >>> trainer = make_trainer("ggn", net, X, y)
    >>> result = trainer.step()
    >>> result.residual_after < result.residual_before
    True
    >>> make_trainer("gd", net, X, y, mu=0.1)
    Traceback (most recent call last):
    ...
    verify_sublin.core.errors.InputError: mu: expected the default 0.0 (method 'gd' ...), got 0.1
    """
    method = check_choice("method", method, sorted(METHODS))
    given = dict(eta=eta, mu=mu, solver=solver, sketch=sketch, sketch_factor=sketch_factor,
                 tol=tol, max_iter=max_iter, fire_sets=fire_sets, refresh_every=refresh_every,
                 train_a=train_a, seed=seed, backend=backend, preactivations=preactivations,
                 update=update, merge_threshold=merge_threshold)
    _check_values(given)
    cls = METHODS[method]
    be = resolve_backend(backend)           # InputError naming why CuPy is unusable
    given["backend"] = be.name
    options = TrainerOptions(**given)
    refusal = cls.refusal(options, be.name == "numpy")
    if refusal is not None:
        raise refusal
    return cls(net, X, y, options)


def supports(method: str, backend: str = "numpy", **options) -> tuple[bool, str]:
    """(True, "") if `make_trainer(method, ..., backend=backend, **options)` would accept
    the method and options, else (False, the reason): what a runner records as
    "skipped: reason" instead of raising from inside a run.

    >>> supports("sublinear_gn", "array_api_strict", fire_sets="tree")[0]
    False
    >>> supports("ggn", "numpy")
    (True, '')
    """
    method = check_choice("method", method, sorted(METHODS))
    try:
        opts = TrainerOptions(**(TrainerOptions.defaults() | options | {"backend": backend}))
        _check_values({f: getattr(opts, f) for f in TrainerOptions.defaults()})
    except (InputError, TypeError) as exc:
        return False, str(exc)
    return METHODS[method].supports(opts, backend)


def _check_values(o: dict[str, Any]) -> None:
    """Type and range checks common to every method."""
    if o["eta"] is not None:
        check_float("eta", o["eta"], minimum=0.0, strict_min=True)
    check_float("mu", o["mu"], minimum=0.0)
    for name, choices in _CHOICES.items():
        check_choice(name, o[name], choices)
    if o["sketch_factor"] is not None:
        check_float("sketch_factor", o["sketch_factor"], minimum=0.0, strict_min=True)
    check_float("tol", o["tol"], minimum=0.0, strict_min=True, maximum=1.0, strict_max=True)
    check_int("max_iter", o["max_iter"], minimum=1)
    check_int("refresh_every", o["refresh_every"], minimum=0)
    if not isinstance(o["train_a"], bool):
        raise InputError("train_a", repr(o["train_a"]), "True or False")
    check_seed("seed", o["seed"])
    if o["merge_threshold"] is not None:
        check_int("merge_threshold", o["merge_threshold"], minimum=0)
