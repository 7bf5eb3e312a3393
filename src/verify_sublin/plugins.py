"""Plugins: training methods, experiments and ledger entries added without editing the
package.

A plugin is a Python module that declares what it adds, as module-level lists:

* ``METHODS = [MyTrainer, ...]``: `Trainer` subclasses, known to `make_trainer` (and to
  the trainer contract tests and the `demo` command) under their `method` name;
* ``EXPERIMENTS = [Experiment("name", fn, result=None, timing=False), ...]``
  (`verify_sublin.bench.experiments.Experiment`);
* ``ENTRIES = [Entry(...), ...]`` (`verify_sublin.ledger.toolkit.Entry`: then `run`,
  `report`, `export` and `compare` include them).

`examples/plugin_gd_half.py` is a complete one. Plugins are found in two ways: installed
packages that declare entry points in the groups ``verify_sublin.methods`` or
``verify_sublin.claims`` (the entry point names a module, whose lists are read, or a
callable that is called once with no arguments), and files given with the command line
option ``--plugin path/to/module.py``. With ``--jobs N`` each worker process loads the
same plugins as it starts, so plugin experiments run there too (a ``--scheduler``
cluster's workers must have them installed as entry points). Modules written before the
lists existed, which register through `register_claim`, `experiments.register` or by
assigning into `METHODS`, keep working (register_claim warns with the replacement).
Cost: one import per plugin and process.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib import metadata
from pathlib import Path

from .core.errors import InputError

__all__ = ["ENTRY_POINT_GROUPS", "declare", "load_entry_points", "load_plugin_file", "load_plugins"]

ENTRY_POINT_GROUPS = ("verify_sublin.methods", "verify_sublin.claims")

_LOADED: dict[str, object] = {}


def load_plugin_file(path: str | Path):
    """Import the module at `path` (once per resolved path); returns the module.

    A missing file or one that fails to import is an `InputError` naming it."""
    path = Path(path)
    key = str(path.resolve())
    if key in _LOADED:
        return _LOADED[key]
    if not path.is_file() or path.suffix != ".py":
        raise InputError("--plugin", str(path), "the path of an existing Python file (.py)")
    name = "verify_sublin_plugin_" + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise InputError("--plugin", f"{path} ({type(exc).__name__}: {exc})",
                         "a module that imports cleanly") from exc
    declare(module)
    _LOADED[key] = module
    return module


def declare(module) -> None:
    """Register what `module` declares in its lists METHODS, EXPERIMENTS and ENTRIES."""
    from .bench.experiments import add_experiments
    from .core.trainers import METHODS
    from .ledger.registry import add_entries

    for cls in getattr(module, "METHODS", ()):
        have = METHODS.get(cls.method)
        if have is not None and have is not cls:
            raise InputError("METHODS", f"{cls.method!r} of {module.__name__}",
                             "a method name not taken by another trainer")
        METHODS[cls.method] = cls
    add_experiments(getattr(module, "EXPERIMENTS", ()))
    add_entries(getattr(module, "ENTRIES", ()))


def load_entry_points(groups=ENTRY_POINT_GROUPS) -> list[str]:
    """Load every installed entry point of `groups`; returns their names."""
    names = []
    for group in groups:
        for ep in metadata.entry_points(group=group):
            if f"ep:{group}:{ep.name}" in _LOADED:
                continue
            obj = ep.load()
            if callable(obj) and not isinstance(obj, type):
                obj()
            else:
                declare(obj)
            _LOADED[f"ep:{group}:{ep.name}"] = obj
            names.append(ep.name)
    return names


def load_plugins(paths=()) -> list[str]:
    """Entry points first, then the plugin files in `paths`; returns what was loaded."""
    loaded = load_entry_points()
    for p in paths:
        load_plugin_file(p)
        loaded.append(str(p))
    return loaded
