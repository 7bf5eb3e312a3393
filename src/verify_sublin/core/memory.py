"""Memory guard: estimate a configuration's peak memory before allocating it.

Constructors that allocate O(m d), O(n m) or larger arrays call `check_memory` first,
so that a mistaken or fuzzed huge m is refused with a message giving the estimate and
the limit, instead of taking the machine down. The limit is, in order:
`set_memory_limit(...)`, the environment variable VERIFY_SUBLIN_MEMORY_LIMIT (bytes, or
with a suffix K, M, G, T), else 90% of the memory available now (MemAvailable).

>>> check_memory("m", 1024, "a tiny array")      # fine
>>> set_memory_limit(10**6)
>>> check_memory("m", 10**9, "weights")
Traceback (most recent call last):
...
verify_sublin.core.errors.MemoryLimitError: m: expected at most 0.000931 GiB ... for weights
>>> set_memory_limit(None)
"""

from __future__ import annotations

import math
import os
import re

from .errors import InputError, MemoryLimitError

__all__ = ["available_bytes", "check_memory", "fired_estimate", "memory_limit", "parse_size",
           "set_memory_limit"]

_LIMIT: float | None = None
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str, name: str = "memory limit") -> float:
    """'8G' -> 8 * 2^30; plain numbers are bytes; anything else is an InputError naming
    `name`.

    >>> parse_size("1.5G") == 1.5 * 2**30, parse_size("4096")
    (True, 4096.0)
    >>> parse_size("..G", "--memory-limit")
    Traceback (most recent call last):
    ...
    verify_sublin.core.errors.InputError: --memory-limit: expected a size such as 8G, 512M or 1e9, got '..G'
    """
    m = re.fullmatch(r"\s*((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([KMGT]?)(?:i?B)?\s*",
                     str(text), re.I)
    size = float(m.group(1)) * _UNITS[m.group(2).upper()] if m else 0.0
    if not m or not 0 < size < float("inf"):
        raise InputError(name, repr(text), "a size such as 8G, 512M or 1e9")
    return size


def available_bytes() -> float:
    """MemAvailable from /proc/meminfo (or total physical memory as a fallback)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float(2**34)


def set_memory_limit(limit: float | None) -> None:
    """Set (bytes) or clear (None) the limit used by `check_memory`."""
    global _LIMIT
    if limit is not None and not (isinstance(limit, (int, float)) and limit > 0):
        raise InputError("memory_limit", repr(limit), "a positive number of bytes or None")
    _LIMIT = None if limit is None else float(limit)


def memory_limit() -> float:
    """The limit in force, in bytes."""
    if _LIMIT is not None:
        return _LIMIT
    env = os.environ.get("VERIFY_SUBLIN_MEMORY_LIMIT")
    if env:
        return parse_size(env, "VERIFY_SUBLIN_MEMORY_LIMIT")
    return 0.9 * available_bytes()


def check_memory(parameter: str, estimate_bytes: float, what: str) -> None:
    """Raise `MemoryLimitError` naming `parameter` if `estimate_bytes` exceeds the limit."""
    limit = memory_limit()
    if estimate_bytes > limit:
        raise MemoryLimitError(parameter, estimate_bytes, limit, what)


#: Margin on the expected fire-set sizes of `fired_estimate` (sizes vary with the draw).
FIRED_MARGIN = 1.5


def fired_estimate(m: int, n: int, shift: float | None) -> tuple[float, float]:
    """(|U|, nnz): the expected union of the fire sets and sum_i |S_i| at initialisation,
    with margin `FIRED_MARGIN`, for unit inputs and W ~ N(0, I): each of the n m inner
    products fires with probability Q(b) (the Gaussian tail), so nnz = n m Q(b) and
    |U| = m (1 - (1 - Q(b))^n). shift None assumes b = 0. Both at most n m and m.

    >>> k, nnz = fired_estimate(2**20, 64, 0.0)
    >>> int(k) == 2**20, int(nnz) == int(1.5 * 32 * 2**20)
    (True, True)
    """
    q = 0.5 * math.erfc((shift or 0.0) / math.sqrt(2.0))
    k = min(float(m), FIRED_MARGIN * m * -math.expm1(n * math.log1p(-q)) if q < 1 else m)
    return k, min(float(n) * m, FIRED_MARGIN * n * m * q)
