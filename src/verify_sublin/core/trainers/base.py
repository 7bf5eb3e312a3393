"""The contract every training method follows, and what a step reports.

Contract (after benchopt's solvers):

* construction does all preparation (copies W where the method writes it, computes
  the initial forward pass streamed over W in blocks, builds trees and buffers); it
  is not part of a step's time, and `speed.time_to_eps` times it end to end;
* `Trainer.step()` does exactly one iteration and nothing else, and returns a
  `StepResult`; it is what benchmarks time;
* `Trainer.net` is the current model.

The forward pass at the new weights is computed inside the step that produced them
(phase ``"update"``, counted in that step's operation counts) and reused by the next
step, so ``residual_after`` of step t equals ``residual_before`` of step t + 1 and no
forward pass is done twice.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from ..backend import resolve_backend
from ..data import check_inputs
from ..errors import InputError, NumericalError
from ..memory import check_memory, fired_estimate
from ..model import ShiftedReLUNet
from ..solvers import SolverInfo
from .ops import make_ops
from .options import OPTION_DEFAULTS, TrainerOptions

__all__ = ["COUNT_KEYS", "PHASES", "SolverInfo", "StepResult", "Trainer", "TrainerOptions"]

#: Keys of `StepResult.counts`, always all present. Deterministic for a given seed.
COUNT_KEYS = (
    "inner_products",          # <w_r, x_i> evaluated, d multiply-adds each
    "tree_nodes_visited",      # tree nodes read by queries or recomputed by updates
    "jacobian_nnz",            # nonzeros of J (entries) read by sparse J u / J^T v products
    "solver_products",         # J u and J^T v products made by an iterative solver
    "dense_flops",             # multiply-adds of dense linear algebra (Gram, factorisations,
                               # sketch application, QR, dense operator products)
    "preactivation_updates",   # cached pre-activations rewritten or re-thresholded
)

#: Keys of `StepResult.times` (seconds, time.perf_counter), always all present.
PHASES = ("fire_sets", "gram", "solve", "update", "tree")


@dataclass(frozen=True)
class StepResult:
    """What one `Trainer.step()` did.

    Attributes
    ----------
    step : int
        0-based index of the step.
    residual_before, residual_after : float
        ||f(W_t) - y|| and ||f(W_{t+1}) - y||.
    fire_set_sizes : (n,) int array
        |S_i(t)|, the fire sets the step used.
    union_size : int
        |S_1(t) u ... u S_n(t)|: the neurons whose weights the step may change.
    flips : (n,) int array
        |S_i(t+1) symmetric-difference S_i(t)|.
    counts : mapping
        Deterministic operation counts, keys `COUNT_KEYS`.
    claimed_cost : float
        The paper's cost formula for this method at this step's sizes.
    claimed_terms : mapping
        The terms of that formula, by name (e.g. "m^(1-alpha) n d", "n^3").
    times : mapping
        Seconds per phase, keys `PHASES`.
    solver : SolverInfo or None
        Diagnostics of an iterative solver, None for a direct solve or none at all.
    diverging : bool
        The residual grew by more than `DIVERGENCE_FACTOR` in this step (only a
        first-order method, whose steps may legitimately raise the residual, reports
        this instead of raising `NumericalError`).
    """

    step: int
    residual_before: float
    residual_after: float
    fire_set_sizes: np.ndarray
    union_size: int
    flips: np.ndarray
    counts: Mapping[str, int]
    claimed_cost: float
    claimed_terms: Mapping[str, float]
    times: Mapping[str, float]
    solver: SolverInfo | None = None
    diverging: bool = False

    @property
    def contraction(self) -> float:
        """residual_after / residual_before (0 when the residual was already 0)."""
        return self.residual_after / self.residual_before if self.residual_before > 0 else 0.0

    @property
    def total_time(self) -> float:
        """Sum of the phase times, seconds."""
        return float(sum(self.times.values()))

    def total_ops(self, d: int) -> int:
        """One scalar operation count: d per inner product, one per everything else."""
        c = self.counts
        return int(d * c["inner_products"] + c["tree_nodes_visited"] + c["jacobian_nnz"]
                   + c["dense_flops"] + c["preactivation_updates"])


#: A step whose residual grows by more than this factor has diverged: Gauss-Newton-type
#: methods raise `NumericalError`; first-order methods flag it (`StepResult.diverging`).
DIVERGENCE_FACTOR = 100.0
#: ... measured from at least this fraction of ||y||: growth of a residual already at
#: rounding level (a converged run stepped once more) is not divergence.
DIVERGENCE_FLOOR = 1e-6
#: Methods whose steps may legitimately raise the residual (a step size too large for
#: one step, momentum): divergence is flagged, not raised.
FIRST_ORDER_METHODS = frozenset({"gd", "adam"})


def wrong_options(cls, options) -> InputError:
    """The refusal of options that are not an instance of `cls.options_type`."""
    return InputError("options", type(options).__name__,
                      f"a {cls.options_type.__name__} (the options of method {cls.method!r})")


def residual_norm(outputs: np.ndarray, y: np.ndarray) -> float:
    """||outputs - y||_2 without overflow in the squares (labels near 1e155 and beyond):
    scaled by the largest entry first. inf only if a difference itself overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.asarray(outputs, dtype=np.float64) - y
        top = float(np.max(np.abs(r))) if r.size else 0.0
        if top == 0.0 or not math.isfinite(top):
            return top if r.size else 0.0
        return top * float(np.linalg.norm(r / top))


class _PhaseTimer:
    """Accumulates perf_counter seconds per phase: ``with timer("gram"): ...``.

    One phase at a time: opening a phase inside another raises RuntimeError (a nested
    phase would be counted twice), so the phase times of a step add up to at most the
    step's wall time. `sync` (a device's synchronize) runs before each clock reading, so
    that the time of queued GPU work lands in the phase that queued it.

    >>> timer = _PhaseTimer()
    >>> with timer("gram"):
    ...     with timer("solve"):
    ...         pass
    Traceback (most recent call last):
    ...
    RuntimeError: phase 'solve' opened inside phase 'gram'
    """

    def __init__(self, sync=None) -> None:
        self.times = dict.fromkeys(PHASES, 0.0)
        self._phase = ""
        self._open = ""
        self._t0 = 0.0
        self._sync = sync

    def __call__(self, phase: str) -> _PhaseTimer:
        if phase not in self.times:
            raise ValueError(f"unknown phase {phase!r}; expected one of {PHASES}")
        self._phase = phase
        return self

    def __enter__(self) -> None:
        if self._open:
            raise RuntimeError(f"phase {self._phase!r} opened inside phase {self._open!r}")
        self._open = self._phase
        if self._sync:
            self._sync()
        self._t0 = time.perf_counter()

    def __exit__(self, *exc) -> None:
        if self._sync:
            self._sync()
        self.times[self._open] += time.perf_counter() - self._t0
        self._open = ""


@dataclass
class _StepRecord:
    """Mutable scratch a `_step` fills in; frozen into a `StepResult` by `step()`."""

    fire_set_sizes: np.ndarray | None = None
    union_size: int = 0
    flips: np.ndarray | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    solver: SolverInfo | None = None
    sizes_for_claim: dict[str, float] = field(default_factory=dict)


class Trainer(ABC):
    """Base class of every training method. Subclasses implement `_step`.

    Subclass attributes
    -------------------
    method : str
        Name under which `make_trainer` knows the method.
    options_type : type
        The method's options, a frozen dataclass extending `TrainerOptions`
        (`trainers.options`); the trainer receives an instance as ``options``.
    uses : frozenset of str
        The fields of `options_type` (derived from it, never set by hand): the options
        the method reads. `make_trainer` accepts any other option only at its default.
    net_type : type
        The model class the method trains (`ShiftedReLUNet` unless overridden); it
        must have ``m``, ``d`` and ``shift``.
    """

    method: ClassVar[str] = ""
    options_type: ClassVar[type[TrainerOptions]] = TrainerOptions
    uses: ClassVar[frozenset[str]] = frozenset({"seed", "backend"})
    #: device synchronize for timing (None on the CPU)
    _sync = None
    #: False for methods without a network step (kernel regression): no fire sets reported
    has_fire_sets: ClassVar[bool] = True
    net_type: ClassVar[type] = ShiftedReLUNet

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.uses = frozenset(f.name for f in fields(cls.options_type))

    def __init__(self, net: ShiftedReLUNet, X, y, options: TrainerOptions):
        if not isinstance(options, self.options_type):
            raise wrong_options(type(self), options)
        if not isinstance(net, self.net_type):
            raise InputError("net", type(net).__name__, f"a {self.net_type.__name__}")
        X, y = check_inputs(X, y, d=net.d)
        if y is None:
            raise InputError("y", "None", "labels, one per row of X")
        check_memory("m", self.memory_estimate(net.m, X.shape[0], net.d, options, net.shift),
                     f"method {self.method!r} at m = {net.m}, n = {X.shape[0]}, d = {net.d}")
        self.options = options
        # the trainer owns its data: later changes to the caller's arrays cannot reach
        # the products cached from them
        self.X = np.array(X, dtype=np.float64, order="C", copy=True)
        self.y = np.array(y, dtype=np.float64, copy=True)
        self.X.flags.writeable = False
        self.y.flags.writeable = False
        self._failed: str | None = None
        self._y_norm = residual_norm(self.y, np.zeros_like(self.y))
        self.n = self.X.shape[0]
        self.m, self.d = net.m, net.d
        self.shift = net.shift
        self.steps_done = 0

    def _use_backend(self) -> None:
        """Resolve the options' backend, refuse what the method cannot run there (the
        same `refusal` as `make_trainer`, for a class constructed directly) and build the
        backend's fire-set operations (`ops`)."""
        self.be = resolve_backend(self.options.backend)
        refusal = self.refusal(self.options, self.be.name == "numpy")
        if refusal is not None:
            raise refusal
        self.xp = self.be.xp
        self.ops = make_ops(self.be, self.X, self.shift, self.m)
        self._sync = self.ops.sync

    # ------------------------------------------------------------- contract
    @classmethod
    def options_from(cls, **given) -> TrainerOptions:
        """The method's options (`options_type`) from keywords, the rule of `make_trainer`:
        an option the method does not use is accepted only at its default
        (`OPTION_DEFAULTS`; otherwise an `InputError` naming it), a name no method knows
        is a TypeError, an option left out takes its default. Values are not checked
        here (`make_trainer` does). Cost O(number of options).

        >>> from verify_sublin.core.trainers import METHODS
        >>> METHODS["ggn"].options_from(mu=1e-3, fire_sets="tree")
        GGNOptions(seed=0, backend='numpy', gram='pairs', eta=None, mu=0.001, \
solver='cholesky', train_a=False)
        >>> METHODS["ggn"].options_from(update="gd")
        Traceback (most recent call last):
        ...
        verify_sublin.core.errors.InputError: update: expected the default 'gn' (method 'ggn' ...), got 'gd'
        """
        own = cls.uses
        cls.check_names(given)
        for name, default in OPTION_DEFAULTS.items():
            if name in given and name not in own and given[name] != default:
                raise InputError(name, repr(given[name]), f"the default {default!r} "
                                 f"(method {cls.method!r} does not use it)")
        return cls.options_type(**{name: value for name, value in given.items() if name in own})

    @classmethod
    def check_names(cls, names) -> None:
        """TypeError if a name in `names` is neither an option of this method nor one of
        `OPTION_DEFAULTS` (what Python raises for an unexpected keyword)."""
        unknown = [name for name in names if name not in cls.uses and name not in OPTION_DEFAULTS]
        if unknown:
            raise TypeError(f"method {cls.method!r} got unexpected option(s) "
                            f"{', '.join(map(repr, unknown))}; its options: "
                            f"{', '.join(sorted(cls.uses))}")

    @classmethod
    def refusal(cls, options: TrainerOptions, compiled: bool) -> InputError | None:
        """Why the method cannot run with `options` (None if it can), as the `InputError`
        `make_trainer` raises: options of another type than `options_type`, or an option
        value the backend cannot run (`compiled`: the numpy backend's kernels; False for
        the array-API backends). Subclasses extend `_backend_refusal`. (An option the
        method does not use cannot reach here: its options type has no such field;
        `options_from` refuses it.)
        """
        if not isinstance(options, cls.options_type):
            return wrong_options(cls, options)
        return cls._backend_refusal(options, compiled)

    @classmethod
    def _backend_refusal(cls, options: TrainerOptions, compiled: bool) -> InputError | None:
        return None

    @classmethod
    def supports(cls, options: TrainerOptions, backend: str) -> tuple[bool, str]:
        """(True, "") if the method runs with `options` on `backend` (a name of
        `verify_sublin.core.backend`), else (False, the reason): what a runner records as
        "skipped: reason". An unusable CuPy is a reason too."""
        try:
            be = resolve_backend(backend)
        except InputError as exc:
            return False, str(exc)
        exc = cls.refusal(options, be.name == "numpy")
        return (True, "") if exc is None else (False, str(exc))

    @classmethod
    def copies_weights(cls, options: TrainerOptions) -> bool:
        """Whether the trainer keeps its own copy of W (it writes W in place)."""
        return True

    @classmethod
    def memory_estimate(cls, m: int, n: int, d: int, options: TrainerOptions,
                        shift: float | None = None) -> float:
        """Peak bytes the trainer holds at these sizes (checked before allocating); the
        network and data themselves are the caller's and not counted.

        Default: its copy of W if it writes W (8 m d; `copies_weights`), scratch of
        length m, the fire patterns of a forward pass (16 bytes per fired entry; their
        expected number from `shift`, `memory.fired_estimate`, b = 0 if None), forward
        blocks and n x n matrices. Subclasses add their own structures.
        """
        _, nnz = fired_estimate(m, n, shift)
        return (8.0 * m * d * cls.copies_weights(options) + 24.0 * m + 16.0 * nnz
                + 16.0 * n * min(m, 16384) + 64.0 * n * n)

    @property
    @abstractmethod
    def net(self) -> ShiftedReLUNet:
        """The current model. Treat it as read-only; it may share memory with the trainer."""

    @property
    @abstractmethod
    def outputs(self) -> np.ndarray:
        """f(W_t, x_i) for the training inputs, shape (n,)."""

    def predict(self, X) -> np.ndarray:
        """Outputs of the current model at new inputs X. Cost O(n_test m d)."""
        return self.net.forward(X)

    @property
    def residual(self) -> float:
        """||f(W_t) - y||_2, computed without overflow (inf if the outputs overflowed)."""
        return residual_norm(self.outputs, self.y)

    @abstractmethod
    def _step(self, rec: _StepRecord, timer: _PhaseTimer) -> None:
        """One iteration: fill `rec`, time phases with `timer`."""

    @abstractmethod
    def claimed_terms(self, rec: _StepRecord) -> dict[str, float]:
        """The paper's per-iteration cost terms for this method at this step's sizes."""

    def _may_grow(self) -> bool:
        """Whether this method's steps may legitimately raise the residual."""
        return self.method in FIRST_ORDER_METHODS or getattr(self.options, "update", "") == "gd"

    def step(self) -> StepResult:
        """Do exactly one iteration and report it.

        Raises `NumericalError` (with the step number) if the residual becomes NaN or
        infinite, the linear system cannot be solved, an iterative solver stops without
        converging, or (Gauss-Newton-type methods) the residual grows by more than
        `DIVERGENCE_FACTOR`. A step that raised leaves the trainer refusing every later
        step with the reason: its weights may be half-updated or NaN, and no per-step
        copy is kept to roll back (it would cost most of a forward pass).
        """
        if self._failed is not None:
            raise NumericalError(f"this trainer cannot step any more: {self._failed}; build "
                                 "a new trainer", step=self.steps_done)
        try:
            return self._checked_step()
        except BaseException as exc:
            self._failed = f"step {self.steps_done} failed ({type(exc).__name__}: " \
                           f"{getattr(exc, 'diagnosis', exc)})"
            raise

    def _checked_step(self) -> StepResult:
        before = self.residual
        if not math.isfinite(before):
            raise NumericalError("the residual ||f - y|| is not finite before the step: the "
                                 "network's outputs overflow (check the labels y and the "
                                 "weights' scale)", step=self.steps_done)
        timer = _PhaseTimer(self._sync)
        rec = _StepRecord()
        # overflow and NaN are detected below and reported as a NumericalError, not as
        # numpy warnings from deep inside the step
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                self._step(rec, timer)
            except NumericalError as exc:
                raise NumericalError(exc.diagnosis, step=self.steps_done) from None
            after = self.residual
        if not math.isfinite(after):
            raise NumericalError("the residual became NaN or infinite; the step size eta "
                                 f"({self.options.eta}) or damping mu may be unsuitable",
                                 step=self.steps_done)
        if rec.solver is not None and rec.solver.stop_reason not in ("converged", "exact"):
            raise NumericalError(
                f"the {rec.solver.method} solver stopped without converging "
                f"({rec.solver.stop_reason} after {rec.solver.iterations} iterations, relative "
                f"residual {rec.solver.relative_residual:.2e}, condition estimate "
                f"{rec.solver.condition_estimate:.3g}); raise max_iter or the sketch size",
                step=self.steps_done)
        diverging = after > DIVERGENCE_FACTOR * max(before, DIVERGENCE_FLOOR * self._y_norm)
        if diverging and not self._may_grow():
            raise NumericalError(
                f"the residual grew {after / before:.3g} times in one step (from {before:.3e} "
                f"to {after:.3e}; more than {DIVERGENCE_FACTOR:g} counts as divergence): the "
                "Gauss-Newton system is too ill-conditioned for this step; use a damping "
                "mu > 0 or a smaller eta", step=self.steps_done)
        terms = self.claimed_terms(rec)
        result = StepResult(
            step=self.steps_done,
            residual_before=before,
            residual_after=after,
            fire_set_sizes=rec.fire_set_sizes,
            union_size=int(rec.union_size),
            flips=rec.flips,
            counts=MappingProxyType({k: int(rec.counts[k]) for k in COUNT_KEYS}),
            claimed_cost=float(sum(terms.values())),
            claimed_terms=MappingProxyType(terms),
            times=MappingProxyType(dict(timer.times)),
            solver=rec.solver,
            diverging=bool(diverging),
        )
        self.steps_done += 1
        return result

    def run(self, steps: int, *, tol: float = 0.0,
            callback: Callable[[StepResult], None] | None = None) -> list[StepResult]:
        """Up to `steps` iterations, stopping early once the residual is <= tol.

        `callback` is called with each `StepResult` (for progress output); the
        algorithms themselves never print.
        """
        from ..errors import check_float, check_int
        steps = check_int("steps", steps, minimum=0)
        tol = check_float("tol", tol, minimum=0.0)
        out = []
        for _ in range(steps):
            if self.residual <= tol:
                break
            res = self.step()
            out.append(res)
            if callback is not None:
                callback(res)
        return out

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} method={self.method!r} m={self.m} n={self.n} "
                f"d={self.d} b={self.shift:.4g} steps_done={self.steps_done}>")
