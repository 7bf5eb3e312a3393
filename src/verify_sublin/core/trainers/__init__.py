"""Training methods behind one contract (`Trainer`) and one factory (`make_trainer`).

Each method has its own options type (`trainers.options`); `PRESETS`
(`trainers.presets`) names configurations of a method, usable wherever a method is.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..backend import BACKEND_CHOICES, resolve_backend
from ..errors import InputError, check_choice, check_float, check_int, check_seed
from ..model import ShiftedReLUNet
from .base import COUNT_KEYS, PHASES, SolverInfo, StepResult, Trainer, wrong_options
from .deep import DeepDense, DeepSublinear
from .dense import Adam, GradientDescent, GramGaussNewton, SecondLayer
from .kernel import NTKKernelRidge
from .options import (
    OPTION_DEFAULTS,
    AdamOptions,
    DeepDenseOptions,
    DeepSublinearOptions,
    GDOptions,
    GGNOptions,
    KernelRidgeOptions,
    SecondLayerOptions,
    SGDOptions,
    SketchedGNOptions,
    SublinearOptions,
    TrainerOptions,
)
from .presets import PRESETS, Preset
from .sgd import MiniBatchSGD
from .sketched import SketchedGaussNewton
from .sublinear import SublinearGaussNewton

__all__ = [
    "COUNT_KEYS",
    "DEEP_METHODS",
    "METHODS",
    "OPTION_DEFAULTS",
    "PHASES",
    "PRESETS",
    "AdamOptions",
    "DeepDenseOptions",
    "DeepSublinearOptions",
    "GDOptions",
    "GGNOptions",
    "KernelRidgeOptions",
    "Preset",
    "SGDOptions",
    "SecondLayerOptions",
    "SketchedGNOptions",
    "SolverInfo",
    "StepResult",
    "SublinearOptions",
    "Trainer",
    "TrainerOptions",
    "make_trainer",
    "supports",
]

#: Method name -> Trainer class. Later methods register here.
METHODS: dict[str, type[Trainer]] = {
    cls.method: cls for cls in (GradientDescent, GramGaussNewton, SketchedGaussNewton,
                                SublinearGaussNewton, Adam, SecondLayer, NTKKernelRidge,
                                DeepDense, DeepSublinear, MiniBatchSGD)
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
    "gram": ("pairs", "blas", "auto", "dense"),
}


def make_trainer(method: str, net, X, y, *, options: TrainerOptions | None = None,
                 **kw: Any) -> Trainer:
    """Build a trainer for `method` on the network `net` (copied) and data (X, y).

    Parameters
    ----------
    method : str
        One of `METHODS`: "gd" (gradient descent), "ggn" (Gram-Gauss-Newton),
        "sketched_gn" (sketch-preconditioned CG with a dense J operator), "sublinear_gn"
        (Gauss-Newton on the fired blocks only), "adam" (full batch), "second_layer"
        (only a trained, exact least squares), "ntk_krr" (kernel ridge regression with the
        exact shifted NTK), "deep_dense" and "deep_sublinear" (the multi-layer net: dense
        reference and the subquadratic method, `DEEP_METHODS`), "sgd" (mini-batch
        stochastic gradient descent, `trainers.sgd`), and the methods later modules
        register; or the name of a preset (`PRESETS`): its method with its options.
    net : ShiftedReLUNet or DeepShiftedReLUNet
        Initial network (a `DeepShiftedReLUNet` for `DEEP_METHODS`); the trainer works
        on its own copy.
    X, y : arrays (n, d) and (n,)
        Inputs with unit-norm rows, and labels.
    options : TrainerOptions, optional
        An instance of the method's options type (``METHODS[method].options_type``,
        e.g. `SublinearOptions`); not with a preset's name, which brings its own.
    **kw :
        Options by name, on top of `options` (or the preset's, or the defaults). Each
        method's options type lists and documents its own (`trainers.options`):

        eta : float, optional
            Step size (GD: 1 / lambda_max(G_0) by default; SGD: batch_size / n over the
            largest lambda_max of a first-epoch batch's block of G_0; Gauss-Newton
            methods: 1).
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
            Also train the second layer (gd, ggn, adam, sgd).
        seed : int
            Seed of the method's own randomness (sketches, SGD's batches).
        backend : {"numpy", "cupy", "auto", "array_api_strict", "numpy_generic"}
            Array backend (see `verify_sublin.core.backend`): numpy runs the compiled
            kernels; any other the same trainers over the array-API fire-set operations
            (`trainers.ops`: dense masks; CuPy on a GPU). "auto" picks CuPy when it has a
            usable device.
        preactivations : {"explicit", "implicit"}
            How the sublinear method refreshes the cached inner products of changed
            neurons.
        update : {"gn", "gd"}
            The deep methods' step: Gauss-Newton or gradient descent.
        merge_threshold : int, optional
            deep_sublinear: pending rank-one terms per layer above which they are merged
            into the weights (0 = every step, k n = every k + 1 steps; default n, every
            second step: see `verify_sublin.core.trainers.deep`).
        batch_size : int, optional
            sgd: inputs per mini-batch (default max(1, n // 8); see
            `verify_sublin.core.trainers.sgd`).
        gram : {"pairs", "blas", "auto", "dense"}
            ggn and second_layer: how the exact Gram is built from the fire sets (pair
            sums, dense BLAS products of the fire masks, or chosen by their density);
            the same Gram to rounding; ggn also "dense", the textbook product J J^T
            over all m neurons (m d n (n + 1) / 2 multiply-adds, Cai et al.'s way).

    An option the chosen method does not use must keep its default (`OPTION_DEFAULTS`);
    anything else is an `InputError` naming it. A name no method knows is a TypeError.

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

    The same options as a value, and a preset with one option changed:

    >>> opts = SublinearOptions(fire_sets="cache", preactivations="implicit", mu=1e-6)
    >>> make_trainer("sublinear_gn", net, X, y, options=opts).options == opts
    True
    >>> make_trainer("sublinear cache implicit", net, X, y, mu=1e-6).options == opts
    True
    """
    cls, given = _resolve(method, options, kw)
    _check_values(given)
    be = resolve_backend(given["backend"])      # InputError naming why CuPy is unusable
    given["backend"] = be.name
    opts = cls.options_from(**given)
    refusal = cls.refusal(opts, be.name == "numpy")
    if refusal is not None:
        raise refusal
    return cls(net, X, y, opts)


def _signature() -> inspect.Signature:
    """`make_trainer`'s signature as introspection reports it: every option of
    `OPTION_DEFAULTS` a keyword with its default, which is what ``**kw`` accepts (tools
    that read the signature, such as a benchmark checking that an option exists at a
    commit, see each option by name). Cost O(number of options), once."""
    P = inspect.Parameter
    params = [P(name, P.POSITIONAL_OR_KEYWORD) for name in ("method", "net", "X", "y")]
    params.append(P("options", P.KEYWORD_ONLY, default=None,
                    annotation="TrainerOptions | None"))
    params += [P(name, P.KEYWORD_ONLY, default=default)
               for name, default in OPTION_DEFAULTS.items()]
    return inspect.Signature(params, return_annotation="Trainer")


make_trainer.__signature__ = _signature()


def supports(method: str, backend: str = "numpy", **options) -> tuple[bool, str]:
    """(True, "") if `make_trainer(method, ..., backend=backend, **options)` would accept
    the method (or preset) and options, else (False, the reason): what a runner records
    as "skipped: reason" instead of raising from inside a run.

    >>> supports("sublinear_gn", "array_api_strict", fire_sets="tree")[0]
    False
    >>> supports("ggn", "numpy")
    (True, '')
    >>> supports("sublinear cache implicit", "array_api_strict")
    (True, '')
    """
    if not (isinstance(method, str) and method in PRESETS):
        check_choice("method", method, sorted(METHODS))     # an unknown method raises
    try:
        cls, given = _resolve(method, None, options | {"backend": backend})
        _check_values(given)
    except (InputError, TypeError) as exc:       # unknown names, values out of range
        return False, str(exc)
    try:
        resolve_backend(backend)
    except InputError as exc:
        return False, str(exc)
    try:
        opts = cls.options_from(**given)
    except InputError as exc:
        return False, str(exc)
    return cls.supports(opts, backend)


def _resolve(method: str, options: TrainerOptions | None,
             kw: dict[str, Any]) -> tuple[type[Trainer], dict[str, Any]]:
    """The trainer class of `method` (a method or a preset name) and every option by
    name: the defaults, then the preset's or `options`' values, then `kw`. Unknown names
    are a TypeError (`Trainer.check_names`), an unknown method an `InputError`."""
    if isinstance(method, str) and method in PRESETS:
        if options is not None:
            raise InputError("options", type(options).__name__,
                             f"None with the preset {method!r} (it brings its own options)")
        method, options = PRESETS[method]
    method = check_choice("method", method, sorted(METHODS))
    cls = METHODS[method]
    if options is not None and not isinstance(options, cls.options_type):
        raise wrong_options(cls, options)
    cls.check_names(kw)
    own = {} if options is None else {f: getattr(options, f) for f in options.defaults()}
    return cls, OPTION_DEFAULTS | cls.options_type.defaults() | own | kw


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
    if o["batch_size"] is not None:
        check_int("batch_size", o["batch_size"], minimum=1)
