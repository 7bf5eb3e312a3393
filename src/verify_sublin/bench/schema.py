"""Typed results, the machinery: the `Result` base (conversion from and to the stored JSON)
and the field markers; the result types themselves are in `verify_sublin.bench.results`.

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

>>> from verify_sublin.bench.results import FireSetsInit
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
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from fnmatch import fnmatchcase
from functools import cache
from typing import Any, ClassVar, Union

from ..core.errors import ResultError

__all__ = ["Result", "absent_if_none", "is_measured", "measured_fields", "memory", "timed"]


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

    >>> from verify_sublin.bench.results import StepSpeed
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


def is_measured(path: str, measured: Iterable[str]) -> bool:
    """Whether the dotted `path` of a figure (``rows.deep_dense.times[2]``) is, or lies
    in, a measured field (``rows.*.times``).

    >>> is_measured("rows.deep_dense.times[2]", ["rows.*.times"])
    True
    >>> is_measured("phases.gram", ["phases"]), is_measured("total_ops", ["phases"])
    (True, False)
    """
    plain = re.sub(r"\[\d+\]", "", path)
    return any(fnmatchcase(plain, pattern) or fnmatchcase(plain, pattern + ".*")
               for pattern in measured)
