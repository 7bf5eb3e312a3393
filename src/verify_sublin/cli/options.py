"""Command-line options, each declared once: flags, default, converter, help.

An `Option` drives both the argparse declaration (`add`) and the validation of the
parsed value (`check`): argparse only collects strings, and the option's converter
turns the string into the value or raises `InputError` naming the option, which the
command line prints as one line with exit status 2. Converters marked ``late`` need the
plugins loaded (entry ids, method names) and run after them; every other option is
checked before anything heavy is imported, so a bad argument is refused at once.

Cost: the converters are O(length of the value); none imports the ledger unless late.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import InputError, check_choice, check_float, check_int, check_seed

__all__ = ["Option", "add", "check"]


@dataclass(frozen=True)
class Option:
    """One option of a subcommand.

    Attributes
    ----------
    flags : tuple of str
        ("--profile",), or ("run_id",) for a positional argument.
    default : the value when the option is absent (before conversion)
    convert : callable (option name, raw value) -> value, or None (a flag)
    help : str
    metavar, dest : as in argparse
    required : bool
    late : bool
        Converted after the plugins are loaded (entry ids, method names).
    """

    flags: tuple[str, ...]
    default: Any
    convert: Callable[[str, Any], Any] | None
    help: str
    metavar: str | None = None
    dest: str | None = None
    required: bool = False
    late: bool = False

    @property
    def name(self) -> str:
        return self.dest or self.flags[0].lstrip("-").replace("-", "_")

    @property
    def positional(self) -> bool:
        return not self.flags[0].startswith("-")

    @property
    def label(self) -> str:
        """The name a message gives the option (its first flag)."""
        return self.flags[0] if not self.positional else self.name


def add(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    """Declare `options` on an argparse parser (values stay strings until `check`)."""
    for o in options:
        if o.convert is None:
            parser.add_argument(*o.flags, action="store_true", help=o.help)
            continue
        kw: dict[str, Any] = {"help": o.help}
        if not o.positional:
            kw.update(default=o.default, dest=o.name, required=o.required)
        if o.metavar:
            kw["metavar"] = o.metavar
        parser.add_argument(*o.flags, **kw)


def check(args: argparse.Namespace, options: Sequence[Option], late: bool) -> None:
    """Convert the parsed values of the options of one phase (`late` or not), in place."""
    for o in options:
        if o.convert is not None and o.late == late:
            setattr(args, o.name, o.convert(o.label, getattr(args, o.name)))


# ------------------------------------------------------------------ converters
def int_list(text: str, name: str = "--m") -> list[int]:
    """'2^12,2^16,1000' -> [4096, 65536, 1000]; anything else is an InputError.

    >>> int_list("2^12,1000")
    [4096, 1000]
    """
    out = []
    for part in str(text).split(","):
        m = re.fullmatch(r"\s*(\d{1,12})(?:\^(\d{1,3}))?\s*", part)
        if not m:
            raise InputError(name, repr(text), "comma-separated integers or powers like 2^20")
        out.append(int(m.group(1)) ** int(m.group(2)) if m.group(2) else int(m.group(1)))
    return out


def integer(name: str, value) -> int:
    """An integer given as text: '64', or a power such as '2^14'.

    >>> integer("--m", "2^14"), integer("--n", 64)
    (16384, 64)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    values = int_list(str(value).strip(), name)
    if len(values) != 1:
        raise InputError(name, repr(value), "one integer")
    return values[0]


def positive(name: str, value) -> int:
    return check_int(name, integer(name, value), minimum=1)


def count(name: str, value) -> int:
    return check_int(name, integer(name, value), minimum=0)


def seed(name: str, value) -> int:
    return check_seed(name, integer(name, value))


def run_id(name: str, value) -> int:
    return check_int(name, integer(name, value), minimum=1, maximum=2**63 - 1)


def number(name: str, value) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        raise InputError(name, repr(value), "a number") from None


def nonneg_float(name: str, value) -> float:
    return check_float(name, number(name, value), minimum=0.0)


def factor(name: str, value) -> float:
    return check_float(name, number(name, value), minimum=1.0)


def width(name: str, value) -> int:
    """One width: '2^20' or '1048576'."""
    widths = int_list(value, name)
    if len(widths) != 1 or widths[0] < 1:
        raise InputError(name, repr(value), "one width >= 1, e.g. 2^20")
    return widths[0]


def widths(name: str, value) -> list[int]:
    """Comma-separated widths, or '' for none."""
    if not str(value).strip():
        return []
    out = int_list(value, name)
    if min(out) < 1:
        raise InputError(name, repr(value), "comma-separated integers >= 1")
    return out


def shifts(name: str, value) -> list[float]:
    """Comma-separated shift constants c >= 0."""
    try:
        values = [float(x) for x in str(value).split(",")]
    except ValueError:
        raise InputError(name, repr(value), "comma-separated numbers") from None
    return [check_float(name, v, minimum=0.0) for v in values]


def size(name: str, value):
    from ..core.memory import parse_size
    return parse_size(value, name) if str(value).strip() else None


def choice(*choices: str) -> Callable[[str, Any], str]:
    """A converter accepting one of `choices`."""
    def convert(name: str, value) -> str:
        return check_choice(name, value, choices)
    return convert


def profile(name: str, value) -> str:
    from ..ledger.entry import PROFILES
    return check_choice(name, value, PROFILES)


def profile_or_empty(name: str, value) -> str:
    return profile(name, value) if str(value) else ""


def backend(name: str, value) -> str:
    from ..core.backend import BACKEND_CHOICES
    return check_choice(name, value, BACKEND_CHOICES)


def entry_ids(name: str, value) -> list[str] | None:
    """None (option absent): every entry; otherwise a non-empty list of known ids,
    duplicates removed in order (late: plugins may add entries)."""
    if value is None:
        return None
    ids = list(dict.fromkeys(part.strip() for part in str(value).split(",") if part.strip()))
    if not ids:
        raise InputError(name, repr(value), "at least one entry id (omit the option for all)")
    from ..ledger.registry import resolve
    try:
        return resolve(ids)
    except InputError as exc:
        raise InputError(name, exc.given, exc.expected) from None


def methods(name: str, value) -> list[str]:
    from ..core.trainers import METHODS
    names = [part.strip() for part in str(value).split(",")]
    unknown = [x for x in names if x not in METHODS]
    if unknown or not names:
        raise InputError(name, repr(value), "comma-separated methods from " + ", ".join(METHODS))
    return names


def method_or_preset_names(name: str, value) -> list[str]:
    """Comma-separated names of methods (`METHODS`, plugins' included: late) or presets
    (`PRESETS`, whose names contain spaces: quote the whole value), duplicates removed
    in order."""
    from ..core.trainers import METHODS, PRESETS
    names = list(dict.fromkeys(part.strip() for part in str(value).split(",") if part.strip()))
    unknown = [x for x in names if x not in METHODS and x not in PRESETS]
    if unknown or not names:
        raise InputError(name, repr(value), "comma-separated methods or presets from "
                         + ", ".join(list(METHODS) + [f"'{p}'" for p in PRESETS]))
    return names


def _can_write_in(name: str, path: Path, shown: Path | None = None) -> None:
    """Refuse `path` (a folder to create or fill) unless it could be created and written:
    its nearest existing ancestor must be a directory in which a folder can be made (a
    scratch folder is made and removed at once: nothing is left). Catches a path under a
    file (/dev/null/x), under /proc, on a read-only file system or without permission."""
    base = path
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise InputError(name, f"{shown or path}, which lies under the file {base}",
                         "a path whose folder can be created")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".verify-sublin-", dir=base))
    except OSError as exc:
        raise InputError(name, f"{shown or path} ({base} is not writable: {exc.strerror})",
                         "a path whose folder can be created and written") from None


def folder(name: str, value) -> Path:
    """A folder to write into: new or an existing directory (never an existing file),
    that can be created and written (checked now, before any run; nothing is written)."""
    path = Path(value)
    if not str(value).strip():
        raise InputError(name, repr(value), "a folder path")
    if path.exists() and not path.is_dir():
        raise InputError(name, f"the existing file {path}", "a folder (new or existing)")
    _can_write_in(name, path)
    return path


def store_file(name: str, value) -> Path | None:
    """A store to create or extend ('' for the default): never a directory, in a folder
    that can be created and written."""
    if not str(value).strip():
        return None
    path = Path(value)
    if path.is_dir():
        raise InputError(name, f"the directory {path}", "a results database file")
    _can_write_in(name, path.parent, path)
    return path


def existing_store(name: str, value) -> Path:
    path = Path(value)
    if not path.is_file():
        raise InputError(name, str(path), "an existing results database file")
    return path


def results_path(name: str, value) -> Path:
    """compare's A and B: a report folder or a results database that exists."""
    path = Path(value)
    if not str(value).strip() or not path.exists():
        raise InputError(name, repr(str(value)), "an existing report folder or results database")
    return path


def verdict_words(name: str, value) -> set[str]:
    """--fail-on: comma-separated verdict words."""
    from ..ledger.rules import ALL_VERDICTS
    words = {w.strip() for w in str(value or "").split(",") if w.strip()}
    bad = sorted(words - set(ALL_VERDICTS))
    if bad:
        raise InputError(name, ", ".join(bad), "comma-separated verdicts from "
                         + ", ".join(ALL_VERDICTS))
    return words


def formats(name: str, value) -> list[str]:
    from ..render.export import FORMATS
    out = list(dict.fromkeys(f.strip() for f in str(value).split(",") if f.strip()))
    if not out or set(out) - set(FORMATS):
        raise InputError(name, repr(value), "comma-separated formats from " + ", ".join(FORMATS))
    return out


def scheduler(name: str, value) -> str:
    value = str(value).strip()
    if value and not re.fullmatch(r"[a-z]+://\S+", value):
        raise InputError(name, repr(value), "a Dask scheduler address such as tcp://host:8786")
    return value
