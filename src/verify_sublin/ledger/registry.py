"""The ledger's entries in report order: the built-in list (`entries.BUILTIN`) and what
plugins add.

`ENTRIES` maps an id to its entry (`Entry`, or `LegacyEntry` for a `Claim` given to
`register_claim`); `resolve` validates ids or picks a profile's entries.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.errors import InputError
from .legacy import Claim, LegacyEntry, deprecated

__all__ = ["ENTRIES", "add_entries", "register_claim", "resolve"]


def _builtin() -> dict:
    from .entries import BUILTIN
    return {e.id: e for e in BUILTIN}


#: id -> entry, in report order.
ENTRIES: dict = _builtin()


def add_entries(entries: Iterable) -> None:
    """Add entries (a plugin's `Entry` objects, or legacy `Claim` objects); an id that is
    already taken by another entry is an error."""
    for e in entries:
        if isinstance(e, Claim):
            e = LegacyEntry(e)
        have = ENTRIES.get(e.id)
        if have is not None and have is not e and getattr(have, "claim", None) is not getattr(
                e, "claim", e):
            raise ValueError(f"duplicate entry id {e.id!r}")
        ENTRIES[e.id] = e


def register_claim(claim: Claim) -> Claim:
    """Add a legacy `Claim` (deprecated: declare ``ENTRIES = [...]`` in the plugin)."""
    deprecated("register_claim", "declare the plugin's entries as ENTRIES = [Entry(...)] "
               "(see verify_sublin.plugins)")
    add_entries([claim])
    return claim


def resolve(ids: Iterable[str] | None, profile: str | None = None) -> list[str]:
    """Validate entry ids (known, and running at `profile` when one is given: an entry
    has no sizes at the other profiles); None or empty: every entry that runs at
    `profile` (every entry if `profile` is None), in report order."""
    ids = list(ids or [])
    if not ids:
        return [eid for eid, e in ENTRIES.items() if profile is None or profile in e.profiles]
    unknown = [i for i in ids if i not in ENTRIES]
    if unknown:
        raise InputError("claims", ", ".join(unknown),
                         "entry ids from `verify-sublin claims` (" + ", ".join(ENTRIES) + ")")
    elsewhere = [i for i in ids if profile is not None and profile not in ENTRIES[i].profiles]
    if elsewhere:
        raise InputError("claims", ", ".join(elsewhere), f"entries that run at profile {profile} ("
                         + "; ".join(f"{i} runs at {', '.join(ENTRIES[i].profiles)}" for i in elsewhere)
                         + "; `verify-sublin claims --sizes` lists every entry's profiles)")
    return ids
