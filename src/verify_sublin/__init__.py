"""verify_sublin: measured checks of the "sublinear-time training" claims.

Public surface
--------------
Model and data
    ShiftedReLUNet, shift_for, sphere_data, normalize, separation
Data structures
    CorrelationTree, FireSets
Training
    make_trainer, Trainer, StepResult, SolverInfo, METHODS
Errors
    InputError, NumericalError, MemoryLimitError, VerifySublinError
"""

from .data import normalize, separation, sphere_data
from .errors import InputError, MemoryLimitError, NumericalError, VerifySublinError
from .firesets import FireSets
from .model import ShiftedReLUNet, shift_for
from .trainers import METHODS, SolverInfo, StepResult, Trainer, make_trainer
from .tree import CorrelationTree

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "CorrelationTree",
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
