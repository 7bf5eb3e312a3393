"""verify_sublin: measured checks of the "sublinear-time training" claims.

Public surface
--------------
Model and data
    ShiftedReLUNet, DeepShiftedReLUNet, shift_for, sphere_data, normalize, separation
Data structures
    CorrelationTree, FireSets
Training
    make_trainer, Trainer, StepResult, SolverInfo, METHODS, DEEP_METHODS
Errors
    InputError, NumericalError, MemoryLimitError, StoreError, VerifySublinError
"""

import importlib

#: public name -> the module that defines it. Imported on first use (PEP 562), so that
#: `import verify_sublin.cli` or a worker process starting up does not pay for numba,
#: scipy and the kernels before it needs them.
_EXPORTS = {
    "normalize": "core.data", "separation": "core.data", "sphere_data": "core.data",
    "DeepShiftedReLUNet": "core.deep",
    "InputError": "core.errors", "MemoryLimitError": "core.errors",
    "NumericalError": "core.errors", "StoreError": "core.errors",
    "VerifySublinError": "core.errors",
    "FireSets": "core.firesets",
    "ShiftedReLUNet": "core.model", "shift_for": "core.model",
    "DEEP_METHODS": "core.trainers", "METHODS": "core.trainers", "SolverInfo": "core.trainers",
    "StepResult": "core.trainers", "Trainer": "core.trainers", "make_trainer": "core.trainers",
    "CorrelationTree": "core.tree",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__version__ = "0.1.0"

__all__ = [
    "DEEP_METHODS",
    "METHODS",
    "CorrelationTree",
    "DeepShiftedReLUNet",
    "FireSets",
    "InputError",
    "MemoryLimitError",
    "NumericalError",
    "ShiftedReLUNet",
    "SolverInfo",
    "StepResult",
    "StoreError",
    "Trainer",
    "VerifySublinError",
    "make_trainer",
    "normalize",
    "separation",
    "shift_for",
    "sphere_data",
]
