"""Files written whole or not at all.

A report folder is read by people and by `compare` while a later run may be rendering
into it, and a render can be interrupted (Ctrl-C, SIGTERM). The report's files
(report.md, report.html, verdicts.json, figures.json and the figures) go to a temporary
name beside their target and are moved onto it in one `os.replace`, so a reader sees the
old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["replacing", "write_text"]

_replace = os.replace       # the move onto the target (a name of its own, for tests)


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to, unique to this call; moved onto `path`
    when the block ends normally, removed when it raises. The temporary name does not
    end in the target's suffix, so writers that guess a format from it must be told the
    format. Cost: O(1) besides the writing."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.partial")
    try:
        yield tmp
        _replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """`Path.write_text`, atomically (see `replacing`). Cost: O(len(text))."""
    with replacing(path) as tmp:
        tmp.write_text(text)
