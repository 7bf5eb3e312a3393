"""Errors raised by verify_sublin, and the validators that raise them.

Every check of user input in the package goes through the helpers here, so that a
bad argument always produces one kind of error that names the parameter, says what
was given and what was expected:

>>> check_int("m", 0, minimum=1)
Traceback (most recent call last):
...
verify_sublin.core.errors.InputError: m: expected an integer >= 1, got 0

`InputError` derives from both `ValueError` and `TypeError`, so callers that catch
either keep working. Numerical trouble met while training (a singular Gram, a NaN
residual) raises `NumericalError`, which carries the step number and a diagnosis.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "InputError",
    "MemoryLimitError",
    "NumericalError",
    "ResultError",
    "StoreError",
    "VerifySublinError",
    "check_array",
    "check_choice",
    "check_float",
    "check_int",
    "check_seed",
]


class VerifySublinError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(VerifySublinError, ValueError, TypeError):
    """A parameter has the wrong type, shape or value.

    Attributes
    ----------
    parameter : str
        The name of the offending parameter, as the caller spelt it.
    given : str
        A short description of what was passed.
    expected : str
        What the parameter must be.
    """

    def __init__(self, parameter: str, given: str, expected: str):
        self.parameter = parameter
        self.given = given
        self.expected = expected
        super().__init__(f"{parameter}: expected {expected}, got {given}")


class MemoryLimitError(InputError):
    """A configuration would need more memory than the limit allows."""

    def __init__(self, parameter: str, estimate_bytes: float, limit_bytes: float, what: str):
        self.estimate_bytes = float(estimate_bytes)
        self.limit_bytes = float(limit_bytes)
        super().__init__(
            parameter,
            f"a configuration needing about {_gib(estimate_bytes)} for {what}",
            f"at most {_gib(limit_bytes)} (the memory limit; raise it with "
            "verify_sublin.core.memory.set_memory_limit, VERIFY_SUBLIN_MEMORY_LIMIT or --memory-limit)",
        )


class StoreError(VerifySublinError):
    """A results store cannot be used: not a verify_sublin store, damaged, or locked.

    Attributes
    ----------
    path : str
        The file.
    problem : str
        What is wrong with it.
    """

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"store {self.path} {problem}")


class ResultError(VerifySublinError, ValueError):
    """A run's result does not match its experiment's result type (a field missing or
    unknown, or a schema newer than this package reads)."""


class NumericalError(VerifySublinError, ArithmeticError):
    """Training met a numerical fault: NaN/Inf, a singular or indefinite system.

    Attributes
    ----------
    step : int or None
        The training step (0-based) at which the fault appeared, if known.
    diagnosis : str
        What went wrong and what to try.
    """

    def __init__(self, diagnosis: str, step: int | None = None):
        self.step = step
        self.diagnosis = diagnosis
        where = f"step {step}: " if step is not None else ""
        super().__init__(where + diagnosis)


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.3g} GiB"


def describe(value: Any) -> str:
    """A short, safe description of `value` for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return `value` as an int, or raise `InputError` naming `name`.

    Booleans and floats are refused even when integral (``m=2.0`` is almost always a
    mistake for ``m=2**20``-style arguments).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(name, describe(value), _int_range(minimum, maximum))
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InputError(name, str(value), _int_range(minimum, maximum))
    return value


def _int_range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer in [{minimum}, {maximum}]"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def check_float(name: str, value: Any, *, minimum: float | None = None,
                maximum: float | None = None, strict_min: bool = False,
                strict_max: bool = False) -> float:
    """Return `value` as a finite float within the bounds, or raise `InputError`."""
    expected = "a finite real number"
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if strict_min else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<' if strict_max else '<='} {maximum:g}")
    if parts:
        expected += " " + " and ".join(parts)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(name, describe(value), expected)
    value = float(value)
    bad = not math.isfinite(value)
    if minimum is not None:
        bad |= value <= minimum if strict_min else value < minimum
    if maximum is not None:
        bad |= value >= maximum if strict_max else value > maximum
    if bad:
        raise InputError(name, repr(value), expected)
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return `value` if it is one of `choices`, else raise `InputError` listing them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise InputError(name, describe(value), "one of " + ", ".join(repr(c) for c in choices))
    return value


def check_seed(name: str, value: Any) -> int:
    """A seed is a non-negative integer below 2**63 (what numpy's generators accept)."""
    return check_int(name, value, minimum=0, maximum=2**63 - 1)


def check_array(name: str, value: Any, *, ndim: int, shape: tuple | None = None,
                finite: bool = True, dtype=np.float64, copy: bool = False,
                xp=None) -> Any:
    """Validate an array argument and return it with the requested dtype.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : array_like
        The argument. Lists are accepted; object and string arrays are not.
    ndim : int
        Required number of dimensions.
    shape : tuple, optional
        Required shape; an entry of None matches any length.
    finite : bool
        Refuse NaN and infinities.
    dtype : numpy dtype
        The returned array's dtype (real floating point by default).
    copy : bool
        Return a copy even if no conversion was needed.
    xp : array namespace, optional
        Return the array in this namespace (numpy if None).
    """
    if xp is None or xp is np:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # ragged lists and the like
            raise InputError(name, describe(value), f"a {ndim}-d array of numbers") from exc
        if arr.dtype.kind not in "biuf":
            raise InputError(name, describe(value), f"a {ndim}-d array of real numbers")
        host = arr
    else:
        arr = value
        if not hasattr(arr, "shape") or not hasattr(arr, "dtype"):
            raise InputError(name, describe(value), f"a {ndim}-d array of the backend")
        host = None
    if arr.ndim != ndim:
        raise InputError(name, describe(value), f"a {ndim}-d array" + _shape_text(shape))
    if shape is not None:
        for want, got in zip(shape, arr.shape, strict=True):
            if want is not None and want != got:
                raise InputError(name, describe(value), "an array" + _shape_text(shape))
    if host is not None:
        out = np.array(arr, dtype=dtype, copy=True) if copy else np.asarray(arr, dtype=dtype)
        if finite and out.size and not np.isfinite(out).all():
            raise InputError(name, "an array containing NaN or infinite values", "finite values")
        return out
    out = xp.asarray(arr, dtype=xp.float64, copy=True if copy else None)
    if finite and not bool(xp.all(xp.isfinite(out))):
        raise InputError(name, "an array containing NaN or infinite values", "finite values")
    return out


def _shape_text(shape: tuple | None) -> str:
    if shape is None:
        return ""
    dims = ", ".join("any" if s is None else str(s) for s in shape)
    return f" of shape ({dims})"
