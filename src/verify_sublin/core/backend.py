"""Array backends: numpy (default), CuPy on a GPU, and any array-API namespace.

=====================  ====================================================
``"numpy"``            the compiled numba kernels (the fast CPU path)
``"cupy"``             CuPy arrays on the current CUDA device; the generic
                       array-API trainers, with cupyx for scatter-add
``"auto"``             CuPy if it is installed *and* has a usable device,
                       else numpy
``"array_api_strict"`` the strict reference namespace (tests): only what
                       the array-API standard defines is allowed
``"numpy_generic"``    numpy arrays through the array-API code path (dense
                       masks, no compiled kernels): what the generic
                       operations cost on the CPU
=====================  ====================================================

Asking for ``"cupy"`` where it cannot work raises one `InputError` naming the
reason: CuPy not installed, the CUDA driver too old, no device, or a first
allocation that fails (``import cupy`` can succeed on a machine without a device;
the first allocation then fails, so `cupy_status` makes one).

`Backend.synchronize` waits for the device, so that wall-clock timings of GPU work
measure the work and not its launch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import InputError, check_choice

__all__ = ["BACKEND_CHOICES", "Backend", "backend_report", "cupy_status", "resolve_backend"]

BACKEND_CHOICES = ("numpy", "cupy", "auto", "array_api_strict", "numpy_generic")


@dataclass(frozen=True)
class Backend:
    """A resolved backend.

    Attributes
    ----------
    name : str
        "numpy", "cupy", "array_api_strict" or "numpy_generic".
    xp : module
        The array-API namespace (array_api_compat's wrapper for numpy and CuPy).
    device : str
        "cpu" or the GPU's name.
    """

    name: str
    xp: Any = field(repr=False)
    device: str = "cpu"

    @property
    def is_numpy(self) -> bool:
        """Whether arrays are plain numpy arrays ("numpy" and "numpy_generic")."""
        return self.name in ("numpy", "numpy_generic")

    def asarray(self, a, dtype=None) -> Any:
        """A copy of host data `a` in this backend (float64 unless `dtype`). Cost O(size)."""
        dt = self.xp.float64 if dtype is None else dtype
        host = np.asarray(a)
        if self.name == "array_api_strict":
            return self.xp.asarray(host.tolist() if host.dtype == object else host, dtype=dt)
        return self.xp.asarray(host, dtype=dt, copy=True)

    def to_numpy(self, a) -> np.ndarray:
        """The host copy of a backend array (numpy arrays pass through). Cost O(size)."""
        if isinstance(a, np.ndarray):
            return a
        if self.name == "cupy":
            return a.get()
        return np.asarray(a)

    def synchronize(self) -> None:
        """Wait for queued device work (a no-op on the CPU)."""
        if self.name == "cupy":
            import cupy
            cupy.cuda.get_current_stream().synchronize()


NUMPY = Backend("numpy", np, "cpu")


def _compat(module_name: str):
    """The array_api_compat wrapper of numpy or cupy."""
    import array_api_compat

    base = importlib.import_module(module_name)
    return array_api_compat.array_namespace(base.zeros(1))


@lru_cache(maxsize=1)
def cupy_status() -> tuple[bool, str, str | None]:
    """(usable, reason, device name) for CuPy on this machine.

    Distinguishes: not installed (ImportError), driver too old, no device, and a failing
    first allocation. Cost: one tiny allocation on the device, once per process (cached;
    `cupy_status.cache_clear()` forgets it).
    """
    try:
        cupy = importlib.import_module("cupy")
    except Exception as exc:
        return False, f"CuPy is not installed or does not import ({type(exc).__name__}: {exc})", None
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        status = getattr(exc, "status", None)
        if status == 35 or "insufficient" in text.lower() or "driver" in text.lower():
            return False, f"the CUDA driver is too old for this CuPy ({text})", None
        if status == 100 or "no cuda-capable device" in text.lower() or "no device" in text.lower():
            return False, f"no CUDA device is present ({text})", None
        return False, f"the CUDA runtime is not usable ({text})", None
    if count < 1:
        return False, "no CUDA device is present (device count 0)", None
    try:
        probe = cupy.zeros(1) + 1
        cupy.cuda.get_current_stream().synchronize()
        del probe
    except Exception as exc:
        return False, f"the first allocation on the device failed ({type(exc).__name__}: {exc})", None
    try:
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        name = name.decode() if isinstance(name, bytes) else str(name)
    except Exception:  # a name is nice to have, not required
        name = "CUDA device 0"
    return True, "usable", name


@lru_cache(maxsize=8)
def resolve_backend(name: str) -> Backend:
    """The backend for `name` (see the module table); InputError if it cannot work here.

    >>> resolve_backend("numpy").name
    'numpy'
    """
    name = check_choice("backend", name, BACKEND_CHOICES)
    if name == "numpy":
        return NUMPY
    if name == "numpy_generic":
        return Backend("numpy_generic", _compat("numpy"), "cpu")
    if name == "array_api_strict":
        try:
            import array_api_strict as xps
        except ImportError as exc:
            raise InputError("backend", "'array_api_strict'",
                             "an installed array_api_strict package (pip install array-api-strict)"
                             ) from exc
        return Backend("array_api_strict", xps, "cpu")
    usable, reason, device = cupy_status()
    if usable:
        return Backend("cupy", _compat("cupy"), device or "gpu")
    if name == "auto":
        return NUMPY
    raise InputError("backend", "'cupy'", f"a usable CuPy with a CUDA device: {reason}")


def backend_report() -> list[tuple[str, bool, str]]:
    """(backend, usable, why) for every backend: what `verify-sublin info` prints."""
    rows = [("numpy", True, f"numpy {np.__version__} with numba kernels"),
            ("numpy_generic", True, "numpy arrays through the array-API code path")]
    try:
        import array_api_strict
        rows.append(("array_api_strict", True, f"array_api_strict {array_api_strict.__version__} "
                                               "(reference namespace, for tests)"))
    except ImportError as exc:
        rows.append(("array_api_strict", False, f"not installed ({exc})"))
    usable, reason, device = cupy_status()
    rows.append(("cupy", usable, f"device {device}" if usable else reason))
    rows.append(("auto", True, "cupy" if usable else "numpy (no usable CuPy)"))
    return rows
