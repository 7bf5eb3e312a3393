"""Typed results: one frozen dataclass per experiment result (see `bench.schema` for the
conventions: measured fields marked, optional fields, schema versions).

An experiment returns its figures as a plain dict of numbers and lists; its registry
entry (`verify_sublin.bench.experiments`) names the result type, and the runner stores
``result.to_dict()`` as JSON. Reading a store turns the JSON back into the type with
`Result.from_dict`, so the ledger, the report, `export` and `reproduce` read named,
typed fields and never guess keys. Cost: O(size of the result) per conversion.
"""


from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .schema import Result, absent_if_none, measured_fields, memory, timed

__all__ = [
    "DeepLayer", "DeepLayers", "DeepMerge", "DeepRow", "DeepStepSpeed", "DeepTraining",
    "DuplicateInputs", "ExactVsSketch", "FailureRow", "FireSetsInit",
    "FitPath", "FitSummary",
    "HsrCost", "ImplicitBias", "KrrCompare", "LambdaRow", "LawTrial", "LawWidth", "MergeRow",
    "Movement", "NtkLambda", "PhaseCell", "RefreshDrift", "Result",
    "ShiftGeneralisation", "ShiftSweep", "SketchConditioning", "SketchFailure", "SketchRow",
    "StepCounts", "StepSpeed", "TheoremWidth", "TimeToEps", "Training", "TreeCheck", "TreeCost",
    "Tried", "UnionPoint", "UnionProbability", "WidthLaw", "WidthSearch",
    "WidthTrial", "absent_if_none", "measured_fields", "memory", "timed"
]




















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
    #: ``training_timed`` with a cap: the run's time cap and the reference time it is a
    #: multiple of (seconds, construction included)
    time_cap: float | None = absent_if_none("time")
    cap_reference: float | None = absent_if_none("time")
    #: ``training_timed`` with kappa: lambda_max / lambda_min of G_0 = J J^T
    kappa0: float | None = absent_if_none()


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
    """One (sketch type, size) of ``sketch_conditioning``; `error` when the sketch could
    not be formed. The size was given as the library's size factor or as s / n."""

    kind: str
    factor: float | None = absent_if_none()
    s_over_n: float | None = absent_if_none()
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
    factor: float | None = absent_if_none()
    s_over_n: float | None = absent_if_none()
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
    residual_ratio: float | None = absent_if_none()   #: ||f - y|| after the steps / before


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


@dataclass(frozen=True, kw_only=True)
class DeepLayer(Result):
    """One layer of ``deep_layers``, over the n inputs: the variance of the layer's
    pre-activations given the input (||u_{l-1}(x)||^2; 1 for the first layer) and the
    fire-set sizes |S_l(x)|, as (min, median, max), and how many inputs it is silent on
    (empty fire set)."""

    variance: tuple[float, ...]
    sizes: tuple[float, ...]
    silent: int


@dataclass(frozen=True, kw_only=True)
class DeepLayers(Result):
    """``deep_layers``: the initial deep net of ``deep_training``'s problem, layer by layer,
    and the residual that inputs silent at the last layer leave (||y on them|| over the
    initial residual: Gauss-Newton cannot move their outputs while they stay silent)."""

    b: float
    n: int
    layers: tuple[DeepLayer, ...]
    floor: float

# ------------------------------------------------------------------- union
@dataclass(frozen=True, kw_only=True)
class UnionPoint(Result):
    """One (m, c) of ``union_probability``."""

    m: int
    c: float
    b: float
    p: float                      #: Monte Carlo estimate of P_w(max_i <w, x_i> > b)
    se: float                     #: its standard error sqrt(p (1 - p) / samples)
    Q: float                      #: Q(b), the standard normal tail at b
    independence: float           #: 1 - (1 - Q(b))^n, as if the inputs were independent


@dataclass(frozen=True, kw_only=True)
class UnionProbability(Result):
    """``union_probability``: the probability that a neuron joins the union of the fire
    sets of fixed inputs, per (m, c)."""

    rows: tuple[UnionPoint, ...]
    n: int
    d: int
    samples: int


# ---------------------------------------------------------- generalisation
@dataclass(frozen=True, kw_only=True)
class FitPath(Result):
    """One method of ``shift_generalisation``: its regularisation path (Gauss-Newton's
    steps, or the ridges from the strongest to interpolation) scored at every point."""

    path: tuple[float, ...]         #: step number, or ridge lambda
    train_mse: tuple[float, ...]
    val_mse: tuple[float, ...]
    test_mse: tuple[float, ...]
    test_error: tuple[float, ...] | None = absent_if_none()   #: misclassification (classes)
    chosen: int                     #: the point of least validation MSE
    seconds: float = timed()        #: the method's seconds, construction and scoring included
    error: str | None = absent_if_none()   #: the NumericalError that ended the path early


@dataclass(frozen=True, kw_only=True)
class ShiftGeneralisation(Result):
    """``shift_generalisation``: test error along each method's path on one split."""

    b: float
    n_fit: int
    n_val: int
    n_test: int
    test_var: float                 #: var(y) on the test split
    f0_rms: float                   #: RMS of the initial network's outputs (validation, test)
    classes: bool                   #: the labels are classes (+-1)
    fits: Mapping[str, FitPath]     #: ggn, ggn_train_a, ntk_krr, second_layer
# --------------------------------------------------------------- width law
@dataclass(frozen=True, kw_only=True)
class LawTrial(Result):
    """One initialisation of ``width_law`` at one width (see its module's definition)."""

    init: int
    worst: float | None           #: largest per-step contraction (None: no step made)
    reached: bool                 #: residual at most tol times the initial one
    steps: int
    error: str | None             #: the numerical error that stopped it, if any


@dataclass(frozen=True, kw_only=True)
class LawWidth(Result):
    """One width tried by ``width_law``, with the trials made there."""

    m: int
    trials: tuple[LawTrial, ...]


@dataclass(frozen=True, kw_only=True)
class WidthLaw(Result):
    """``width_law``: one data subset's search for the smallest passing width."""

    n: int
    d: int
    thresholds: tuple[float, ...]
    widths: tuple[LawWidth, ...]  #: in the order tried
    m_star: tuple[int | None, ...]  #: per threshold; None: above the grid
