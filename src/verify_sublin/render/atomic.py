"""Files written whole or not at all.

A report folder is read by people and by `compare` while a later run may be rendering
into it, and a render can be interrupted (Ctrl-C, SIGTERM). Every file the renderer
writes goes to a temporary name beside its target and is moved onto it in one
`os.replace`, so a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["replacing", "write_text"]


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; moved onto `path` when the block ends
    normally, removed when it raises. The temporary name keeps no suffix, so writers
    that guess a format from it must be told the format."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """`Path.write_text`, atomically (see `replacing`)."""
    with replacing(path) as tmp:
        tmp.write_text(text)
