"""The ledger: its entries (one module each under `entries`, in report order), the
rules that decide them, fits, the public toolkit for entries, and the evaluation of a
results store.

Importing this package is cheap; the entries are imported when first used
(`registry.ENTRIES`). Names here are loaded on first access (PEP 562).
"""

import importlib

#: public name -> the submodule that defines it
_EXPORTS = {
    "ENTRIES": "registry", "add_entries": "registry", "register_claim": "registry",
    "resolve": "registry",
    "Entry": "entry", "KINDS": "entry", "PROFILES": "entry", "Sizes": "entry", "SAME": "entry",
    "Shown": "entry", "Table": "entry", "Verdict": "entry",
    "VERDICTS": "rules", "ALL_VERDICTS": "rules",
    "evaluate": "evaluate", "records_for": "evaluate", "plan": "plan",
    "Claim": "legacy",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
