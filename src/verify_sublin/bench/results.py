"""Typed results: one frozen dataclass per experiment result.

An experiment returns its figures as a plain dict of numbers and lists; its registry
entry (`verify_sublin.bench.experiments`) names the result type, and the runner stores
``result.to_dict()`` as JSON. Reading a store turns the JSON back into the type with
`Result.from_dict`, so the ledger, the report, `export` and `reproduce` read named,
typed fields and never guess keys.

Conventions
-----------
* Per-step series are tuples; nested records are dataclasses of their own (`LambdaRow`,
  `SketchRow`, ...), and ``Mapping[str, X]`` fields hold records by name.
* A field measured on the machine rather than computed carries ``measure="time"`` (wall
  seconds) or ``measure="memory"`` (bytes) in its metadata (`timed`, `memory`): those
  are the fields `reproduce` compares with a tolerance and `export` labels. Ratios of
  two times (``deep_step_speed``'s ``ratio``) are marked ``"time"`` too.
* A field declared with `absent_if_none` may be missing from a stored result (older
  schemas, or an experiment that adds it only sometimes); ``to_dict`` leaves it out
  when it is None, so a stored result round-trips to the same JSON.
* `SCHEMA` is the result's schema version, stored with it under ``"_schema"``; a
  result stored before versions existed (both committed stores) reads as version 1.

Cost: O(size of the result) per conversion.

>>> r = FireSetsInit.from_dict({"sizes": [3, 4], "mean": 3.5, "max": 4, "min": 3,
...                             "mQ": 3.2, "Q": 0.05, "b": 1.6, "bound": 9.0, "union": 6})
>>> r.sizes, r.mean
((3, 4), 3.5)
>>> r.to_dict()["sizes"]
[3, 4]
>>> FireSetsInit.from_dict({"mean": 1.0})
Traceback (most recent call last):
...
verify_sublin.core.errors.ResultError: a stored FireSetsInit result lacks the fields b, bound, max, ..., union
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, ClassVar, Union

from ..core.errors import ResultError

__all__ = [
    "DeepMerge", "DeepRow", "DeepStepSpeed", "DeepTraining", "DuplicateInputs", "ExactVsSketch",
    "FailureRow", "FireSetsInit", "FitSummary", "HsrCost", "ImplicitBias", "KrrCompare",
    "LambdaRow", "MergeRow", "Movement", "NtkLambda", "PhaseCell", "RefreshDrift", "Result",
    "ShiftSweep", "SketchConditioning", "SketchFailure", "SketchRow", "StepCounts", "StepSpeed",
    "TheoremWidth", "TimeToEps", "Training", "TreeCheck", "TreeCost", "Tried", "WidthSearch", "WidthTrial",
    "absent_if_none", "measured_fields", "memory", "timed",
]


def timed(default: Any = dataclasses.MISSING, **kw) -> Any:
    """A field holding wall seconds (or a ratio of them): machine-dependent."""
    return field(default=default, metadata={"measure": "time", **kw.pop("metadata", {})}, **kw)


def memory() -> Any:
    """A field holding bytes of memory measured on the machine."""
    return field(default=None, metadata={"measure": "memory", "absent_if_none": True})


def absent_if_none(measure: str | None = None, key: str | None = None) -> Any:
    """An optional field: None when the stored result lacks it (and left out again by
    ``to_dict``). `key` is the JSON key when it differs from the field's name."""
    meta: dict[str, Any] = {"absent_if_none": True}
    if measure:
        meta["measure"] = measure
    if key:
        meta["key"] = key
    return field(default=None, metadata=meta)


def _key(f: dataclasses.Field) -> str:
    return f.metadata.get("key", f.name)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(value: Any, hint: Any) -> Any:
    """JSON value -> the field's type (records, tuples and mappings recursively)."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(value, args[0]) if len(args) == 1 else value
    if isinstance(hint, type) and issubclass(hint, Result):
        return hint.from_dict(value)
    if origin is tuple:
        (item, *_rest) = typing.get_args(hint) or (Any,)
        return tuple(_convert(v, item) for v in value)
    if origin in (Mapping, dict) or origin is typing.get_origin(Mapping[str, int]):
        args = typing.get_args(hint)
        item = args[1] if len(args) == 2 else Any
        return {str(k): _convert(v, item) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    """A field value -> JSON-ready (records to dicts, tuples to lists)."""
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, kw_only=True)
class Result:
    """Base of the typed results: conversion from and to the stored JSON."""

    SCHEMA: ClassVar[int] = 1

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """The typed result of a stored (or freshly returned) dict. Raises `StoreError`
        naming the fields a dict lacks or has beyond the type."""
        if isinstance(data, cls):
            return data
        data = dict(data)
        version = data.pop("_schema", 1)
        if version > cls.SCHEMA:
            raise ResultError(f"a stored {cls.__name__} result has schema {version}; this "
                             f"version of the package reads up to {cls.SCHEMA}")
        hints = _hints(cls)
        values, missing = {}, []
        for f in fields(cls):
            k = _key(f)
            if k in data:
                values[f.name] = _convert(data.pop(k), hints[f.name])
            elif f.default is dataclasses.MISSING:
                missing.append(k)
        if missing:
            raise ResultError(f"a stored {cls.__name__} result lacks the fields "
                             + ", ".join(sorted(missing, key=str.lower)))
        if data:
            raise ResultError(f"a stored {cls.__name__} result has unknown fields "
                             + ", ".join(sorted(data)))
        return cls(**values)

    # read-only mapping access by the stored keys, for code written against the JSON
    # dicts (plugins): result["mean"], result.get("agreement", {}), "agreement" in result
    def keys(self) -> list[str]:
        """The stored keys present (an absent optional field is not a key)."""
        return [_key(f) for f in fields(self)
                if not (getattr(self, f.name) is None and f.metadata.get("absent_if_none"))]

    def __getitem__(self, key: str) -> Any:
        for f in fields(self):
            if _key(f) == key and key in self.keys():
                return getattr(self, f.name)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def to_dict(self, schema: bool = False) -> dict[str, Any]:
        """The JSON-ready dict (the experiment's own keys; ``_schema`` if `schema`)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None and f.metadata.get("absent_if_none"):
                continue
            out[_key(f)] = _plain(v)
        if schema:
            out["_schema"] = self.SCHEMA
        return out


def measured_fields(cls: type[Result], prefix: str = "") -> dict[str, str]:
    """Dotted paths of the machine-measured fields of `cls` (nested records included;
    a mapping's records as ``name.*.field``) -> "time" or "memory".

    >>> sorted(measured_fields(StepSpeed))
    ['floor', 'median', 'phases', 'times']
    """
    out: dict[str, str] = {}
    hints = _hints(cls)
    for f in fields(cls):
        path = prefix + _key(f)
        if "measure" in f.metadata:
            out[path] = f.metadata["measure"]
            continue
        hint = hints[f.name]
        if typing.get_origin(hint) in (Union, types.UnionType):
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if isinstance(hint, type) and issubclass(hint, Result):
            out.update(measured_fields(hint, path + "."))
        elif origin is tuple and args and isinstance(args[0], type) and issubclass(args[0], Result):
            out.update(measured_fields(args[0], path + "[]."))
        elif len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], Result):
            out.update(measured_fields(args[1], path + ".*."))
    return out


# ------------------------------------------------------------------ sparsity
@dataclass(frozen=True, kw_only=True)
class FireSetsInit(Result):
    """``fire_sets_init``: |S_i(0)| of n inputs at width m and shift b."""

    sizes: tuple[int, ...]        #: |S_i(0)| per input
    mean: float                   #: mean |S_i(0)|
    max: int
    min: int
    mQ: float                     #: m Q(b), the expected size
    Q: float                      #: Q(b), the standard normal tail at b
    b: float
    bound: float                  #: m^(1 - c/2), the papers' bound
    union: int                    #: |U|, the union of the fire sets


@dataclass(frozen=True, kw_only=True)
class Training(Result):
    """``training`` and ``training_timed``: one training run, per-step series."""

    b: float
    m: int
    n: int
    d: int
    build_seconds: float = timed()
    residual0: float
    error: str | None              #: the NumericalError that stopped the run
    residual: tuple[float, ...]      #: ||f - y|| after each step
    contraction: tuple[float, ...]   #: ||r_(t+1)|| / ||r_t||
    max_fire: tuple[int, ...]        #: max_i |S_i(t)|
    mean_fire: tuple[float, ...]     #: mean_i |S_i(t)|
    union: tuple[int, ...]           #: |U(t)|
    flips: tuple[int, ...]           #: sum_i |S_i(t+1) symmetric-difference S_i(t)|
    seconds: tuple[float, ...] = timed()
    ops: tuple[int, ...]             #: counted operations per step
    claimed: tuple[float, ...]       #: the paper's cost formula per step
    solver_iterations: tuple[int, ...]
    train_mse: float | None = absent_if_none()
    test_mse: float | None = absent_if_none()
    test_var: float | None = absent_if_none()


@dataclass(frozen=True, kw_only=True)
class StepCounts(Result):
    """``step_counts``: counted operations of the first steps from initialisation."""

    total_ops: float                      #: mean over the steps
    claimed_cost: float
    union_size: float
    ops: tuple[int, ...]
    union: tuple[int, ...]
    residual0: float
    residuals: tuple[float, ...]
    b: float


# ---------------------------------------------------------------------- tree
@dataclass(frozen=True, kw_only=True)
class TreeCheck(Result):
    """``tree_check``: queries compared with a full scan after random updates."""

    checks: int
    mismatches: int


@dataclass(frozen=True, kw_only=True)
class TreeCost(Result):
    """``tree_cost``: counted node visits of query_all and an update of the union."""

    b: float
    sizes: tuple[int, ...]
    query_visits: int
    per_tree_visits: tuple[int, ...]
    log2m: float
    union: int
    update_visits: int
    update_inner_products: int
    seconds_build: float = timed()
    seconds_query: float = timed()
    seconds_update: float = timed()
    seconds_floor: float = timed()


# ------------------------------------------------------------------- timing
@dataclass(frozen=True, kw_only=True)
class StepSpeed(Result):
    """``step_speed``: median seconds per step and the last step's counts."""

    median: float = timed()
    times: tuple[float, ...] = timed()
    phases: Mapping[str, float] = timed()
    counts: Mapping[str, int]
    total_ops: int
    claimed_cost: float
    union_size: int
    residuals: tuple[float, ...]
    floor: float = timed()
    b: float


@dataclass(frozen=True, kw_only=True)
class TimeToEps(Result):
    """``time_to_eps``: construction and steps to ||f - y|| <= eps, one clock."""

    construct: float = timed()
    steps: tuple[float, ...] = timed()
    T: int
    total: float = timed()
    reached: bool
    residual: float
    floor: float = timed()
    b: float
    peak_rss: float | None = memory()


# ---------------------------------------------------------------------- NTK
@dataclass(frozen=True, kw_only=True)
class LambdaRow(Result):
    b: float
    lam: float = field(metadata={"key": "lambda"})
    lower: float
    upper: float


@dataclass(frozen=True, kw_only=True)
class NtkLambda(Result):
    """``ntk_lambda``: lambda_min of the exact shifted NTK per shift, with the range."""

    rows: tuple[LambdaRow, ...]
    separation: float
    n: int


@dataclass(frozen=True, kw_only=True)
class TheoremWidth(Result):
    """``theorem_width``: the width the convergence theorem asks for, as log2 m."""

    log2m: float                  #: inf if no width up to 2^k_max satisfies it
    lam: float = field(metadata={"key": "lambda"})   #: lambda_min at the last k tried


@dataclass(frozen=True, kw_only=True)
class FitSummary(Result):
    """One method of ``krr_compare``: errors and seconds (construction included)."""

    seconds: float = timed()
    train_mse: float | None = absent_if_none()
    test_mse: float | None = absent_if_none()
    steps: int | None = absent_if_none()
    error: str | None = absent_if_none()


@dataclass(frozen=True, kw_only=True)
class KrrCompare(Result):
    """``krr_compare``: Gauss-Newton against kernel regression and the second layer."""

    b: float
    test_var: float
    f0_test_mse: float
    ggn: FitSummary
    second_layer: FitSummary
    ntk_krr: FitSummary
    ntk_krr_from_f0: FitSummary
    agreement: Mapping[str, float] | None = absent_if_none()


# ------------------------------------------------------------------ sketches
@dataclass(frozen=True, kw_only=True)
class SketchRow(Result):
    """One (sketch type, size factor) of ``sketch_conditioning``; `error` when the
    sketch could not be formed."""

    kind: str
    factor: float
    s: int
    kappa: float | None = absent_if_none()
    iterations: int | None = absent_if_none()
    estimate: float | None = absent_if_none()
    stop: str | None = absent_if_none()
    error: str | None = absent_if_none()


@dataclass(frozen=True, kw_only=True)
class SketchConditioning(Result):
    """``sketch_conditioning``: preconditioned condition numbers and CG iterations."""

    rows: tuple[SketchRow, ...]
    kappa_unpreconditioned: float
    b: float
    iterations_unpreconditioned: int
    stop_unpreconditioned: str
    d: int


@dataclass(frozen=True, kw_only=True)
class FailureRow(Result):
    kind: str
    factor: float
    s: int
    kappa: float | None
    error: str | None


@dataclass(frozen=True, kw_only=True)
class SketchFailure(Result):
    """``sketch_failure``: the preconditioned kappa per sketch at one seed."""

    rows: tuple[FailureRow, ...]
    b: float


@dataclass(frozen=True, kw_only=True)
class ExactVsSketch(Result):
    """``exact_vs_sketch``: exact bit-parallel Gauss-Newton against sketched_gn."""

    b: float
    exact_seconds: float = timed()
    exact_ops: int
    nnz: int
    sketch_seconds: float = timed()
    sketch_ops: int
    solver_products: int
    dense_gram_ops: int


# -------------------------------------------------------------------- width
@dataclass(frozen=True, kw_only=True)
class WidthTrial(Result):
    """``width_trial``: does Gauss-Newton contract by 2x per step at this width?"""

    worst_contraction: float
    reached: bool
    steps: int
    success: bool
    error: str | None
    b: float


@dataclass(frozen=True, kw_only=True)
class Tried(Result):
    m: int
    all_seeds: bool


@dataclass(frozen=True, kw_only=True)
class WidthSearch(Result):
    """``width_search``: the smallest width m* from which every seed contracts."""

    m_star: int | None
    tried: tuple[Tried, ...]
    n: int
    d: int


@dataclass(frozen=True, kw_only=True)
class PhaseCell(Result):
    """``phase_cell``: one (m, c) cell of the phase diagram."""

    b: float
    success: tuple[bool, ...]
    steps: tuple[int, ...]
    fire_fraction: float


@dataclass(frozen=True, kw_only=True)
class ShiftSweep(Result):
    """``shift_sweep``: sparsity, lambda_min(G_0) and iterations at one shift."""

    b: float
    mean_fire: float
    fire_fraction: float
    lambda_G0: float
    iterations: int
    reached: bool
    worst_contraction: float
    contraction: tuple[float, ...]
    error: str | None


@dataclass(frozen=True, kw_only=True)
class RefreshDrift(Result):
    """``refresh_drift``: rounding drift of the cached inner products."""

    drift: float
    output_drift: float
    seconds: float = timed()
    steps: int


# ----------------------------------------------------------------- practice
@dataclass(frozen=True, kw_only=True)
class HsrCost(Result):
    """``hsr_cost``: half-space reporting over the weights, per query."""

    b: float
    visits: tuple[int, ...]
    tested: tuple[int, ...]
    k: tuple[int, ...]
    leaves: int
    seconds_build: float = timed()
    seconds_query: float = timed()
    seconds_scan: float = timed()
    corr_visits: float | None = absent_if_none()
    seconds_corr: float | None = absent_if_none("time")


@dataclass(frozen=True, kw_only=True)
class Movement(Result):
    relative_move: float
    moved_share: float
    relative_residual: float
    steps: int


@dataclass(frozen=True, kw_only=True)
class ImplicitBias(Result):
    """``implicit_bias``: weight movement of Gauss-Newton and gradient descent."""

    b: float
    test_var: float
    gn: Movement
    gd: Movement
    prediction_gap: float


@dataclass(frozen=True, kw_only=True)
class DuplicateInputs(Result):
    """``duplicate_inputs``: two identical inputs, equal or different labels."""

    b: float
    lambda_ntk: float
    floor: float
    lambda_G0: float
    mu0_error: str | None
    residual0: float
    residual_mu: float
    gap_outputs: float
    mu_error: str | None = absent_if_none()


# --------------------------------------------------------------------- deep
@dataclass(frozen=True, kw_only=True)
class DeepRow(Result):
    """One method's row of ``deep_step_speed``."""

    median: float = timed()
    mean: float = timed()
    times: tuple[float, ...] = timed()
    total_ops: float
    claimed_cost: float
    init_seconds: float = timed()
    init_ops: int
    layer_sizes_mean: tuple[float, ...]
    layer_unions: tuple[int, ...]
    residuals: tuple[float, ...]


@dataclass(frozen=True, kw_only=True)
class DeepStepSpeed(Result):
    """``deep_step_speed``: deep_dense against deep_sublinear at one size."""

    b: float
    net_init: float = timed()
    expected_fire_set: float
    ratio: float = timed()
    ratio_ops: float
    rows: Mapping[str, DeepRow]


@dataclass(frozen=True, kw_only=True)
class MergeRow(Result):
    merge_threshold: int
    mean: float = timed()
    median: float = timed()
    merges: int
    total_ops: float
    phases: Mapping[str, float] = timed()


@dataclass(frozen=True, kw_only=True)
class DeepMerge(Result):
    """``deep_merge``: deep_sublinear's amortised step per merge period."""

    rows: Mapping[str, MergeRow]
    best: int


@dataclass(frozen=True, kw_only=True)
class DeepTraining(Result):
    """``deep_training``: deep Gauss-Newton, per-step residual and contraction."""

    b: float
    n: int
    residual0: float
    residual: tuple[float, ...]
    contraction: tuple[float, ...]
    error: str | None
