"""The experiments behind the ledger: pure functions from (parameters, seed) to figures.

Each experiment is listed once in `BUILTIN` below with its name, its function, its
result type (`verify_sublin.bench.results`) and whether it measures wall time. One call
is one *run* of the results store; a ledger entry reads several runs. Experiments
marked ``timing`` measure wall time and never run beside another experiment (the runner
keeps them sequential).

The array backend of a run (``numpy``, ``cupy``, ...) reaches the experiments as
``params["_backend"]``; the training and timing experiments use it, while those that
measure a host structure (fire sets at initialisation, the tree, the exact NTK, the
sketch conditioning at initialisation, the drift of the compiled cache) run the same
host code under every backend.

Parameters shared by many experiments: ``m`` width, ``n`` inputs, ``d`` dimension,
``c`` the shift b = sqrt(c ln m) (or ``b`` directly), ``dataset`` (see
`verify_sublin.core.realdata`), ``method`` and ``options`` (passed to `make_trainer`).

A plugin adds experiments by listing them (``EXPERIMENTS = [Experiment(...)]`` in its
module, see `verify_sublin.plugins`); `register` remains as a decorator for plugins
written before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import results as R
from .. import results_sketch as RS
from .. import results_speed as RT
from ..results import Result
from .common import clustered_sphere
from .deep import deep_layers, deep_merge, deep_step_speed, deep_training
from .end_to_end import end_to_end
from .generalisation import shift_generalisation
from .kernel import duplicate_inputs, krr_compare, ntk_lambda, theorem_width
from .minibatch import tree_minibatch
from .sketch import sketch_conditioning, sketch_failure
from .sketch_cost import sketch_vs_exact
from .sparsity import (
    fire_sets_init,
    refresh_drift,
    step_counts,
    training,
    training_timed,
    union_probability,
)
from .timed import exact_vs_sketch, step_speed, time_to_eps_run
from .tree import hsr_cost, tree_check, tree_cost
from .width import implicit_bias, phase_cell, shift_sweep, width_search, width_trial
from .width_law import width_law

__all__ = ["BUILTIN", "EXPERIMENTS", "Experiment", "add_experiments", "clustered_sphere",
           "register", "typed_result"]


@dataclass(frozen=True)
class Experiment:
    """A registered experiment.

    Attributes
    ----------
    name : str
    fn : callable (params: dict, seed: int) -> dict
        The experiment; returns plain numbers and lists, never prints.
    result : type of `Result`, or None
        The typed result its dict becomes (None: kept as a dict, for plugins).
    timing : bool
        Whether it measures wall time (then run alone, one at a time).
    """

    name: str
    fn: Callable[[dict, int], dict]
    result: type[Result] | None = None
    timing: bool = False

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()

    def run(self, params: dict, seed: int) -> Any:
        """Call the experiment and return its typed result. Cost: the experiment's."""
        return typed_result(self, self.fn(params, seed))


def typed_result(experiment: Experiment | None, data: Any) -> Any:
    """`data` (a stored or returned dict) as the experiment's result type; unchanged
    when the experiment is unknown or untyped."""
    if experiment is None or experiment.result is None or data is None:
        return data
    return experiment.result.from_dict(data)


#: The package's experiments, in one list.
BUILTIN: tuple[Experiment, ...] = (
    Experiment("fire_sets_init", fire_sets_init, R.FireSetsInit),
    Experiment("training", training, R.Training),
    Experiment("training_timed", training_timed, R.Training, timing=True),
    Experiment("step_counts", step_counts, R.StepCounts),
    Experiment("refresh_drift", refresh_drift, R.RefreshDrift),
    Experiment("tree_check", tree_check, R.TreeCheck),
    Experiment("tree_cost", tree_cost, R.TreeCost, timing=True),
    Experiment("hsr_cost", hsr_cost, R.HsrCost, timing=True),
    Experiment("step_speed", step_speed, R.StepSpeed, timing=True),
    Experiment("time_to_eps", time_to_eps_run, R.TimeToEps, timing=True),
    Experiment("exact_vs_sketch", exact_vs_sketch, R.ExactVsSketch, timing=True),
    Experiment("ntk_lambda", ntk_lambda, R.NtkLambda),
    Experiment("theorem_width", theorem_width, R.TheoremWidth),
    Experiment("krr_compare", krr_compare, R.KrrCompare),
    Experiment("duplicate_inputs", duplicate_inputs, R.DuplicateInputs),
    Experiment("sketch_conditioning", sketch_conditioning, R.SketchConditioning),
    Experiment("sketch_failure", sketch_failure, R.SketchFailure),
    Experiment("width_trial", width_trial, R.WidthTrial),
    Experiment("shift_sweep", shift_sweep, R.ShiftSweep),
    Experiment("width_search", width_search, R.WidthSearch),
    Experiment("phase_cell", phase_cell, R.PhaseCell),
    Experiment("implicit_bias", implicit_bias, R.ImplicitBias),
    Experiment("deep_step_speed", deep_step_speed, R.DeepStepSpeed, timing=True),
    Experiment("deep_merge", deep_merge, R.DeepMerge, timing=True),
    Experiment("deep_training", deep_training, R.DeepTraining),
    Experiment("deep_layers", deep_layers, R.DeepLayers),
    Experiment("union_probability", union_probability, R.UnionProbability),
    Experiment("shift_generalisation", shift_generalisation, R.ShiftGeneralisation),
    Experiment("width_law", width_law, R.WidthLaw),
    Experiment("tree_minibatch", tree_minibatch, RT.TreeMinibatch, timing=True),
    Experiment("end_to_end", end_to_end, RT.EndToEnd, timing=True),
    Experiment("sketch_vs_exact", sketch_vs_exact, RS.SketchVsExact, timing=True),
)

#: name -> Experiment: the built-in list and what plugins add.
EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in BUILTIN}


def add_experiments(experiments) -> None:
    """Add experiments (a plugin's); a name already taken by another function is an
    error, the same experiment again is not."""
    for e in experiments:
        have = EXPERIMENTS.get(e.name)
        if have is not None and have.fn is not e.fn:
            raise ValueError(f"experiment name {e.name!r} is taken")
        EXPERIMENTS[e.name] = e


def register(name: str, timing: bool = False, result: type[Result] | None = None):
    """Decorator form of `add_experiments` (for plugins written before plugins declared
    what they add)."""
    def deco(fn):
        add_experiments([Experiment(name, fn, result, timing)])
        return fn
    return deco
