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
    InputError, NumericalError, MemoryLimitError, VerifySublinError
"""

from .data import normalize, separation, sphere_data
from .deep import DeepShiftedReLUNet
from .errors import InputError, MemoryLimitError, NumericalError, VerifySublinError
from .firesets import FireSets
from .model import ShiftedReLUNet, shift_for
from .trainers import DEEP_METHODS, METHODS, SolverInfo, StepResult, Trainer, make_trainer
from .tree import CorrelationTree

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
    "Trainer",
    "VerifySublinError",
    "make_trainer",
    "normalize",
    "separation",
    "shift_for",
    "sphere_data",
]
