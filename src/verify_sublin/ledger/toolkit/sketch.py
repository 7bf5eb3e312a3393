"""Sketch preconditioners: what sketch.conditioning, rq.sketch_failure and
rq.hyperparameters share (the sketch types run and their default sizes). Cost: O(rows).
"""

from __future__ import annotations

from ...core.sketch import _DEFAULT_FACTOR

__all__ = ["SKETCH_KINDS", "at_default_size", "default_kappas"]

#: the sketch types the entries run, in their order (the run parameters name them, so
#: this stays fixed whatever the library adds)
SKETCH_KINDS = ("gaussian", "srht", "countsketch", "tensor")


def at_default_size(row) -> bool:
    """Is a sketch row (`SketchRow`, `FailureRow`) at its type's default size factor?

    >>> from types import SimpleNamespace as Row
    >>> at_default_size(Row(kind="srht", factor=2.0)), at_default_size(Row(kind="srht", factor=4.0))
    (True, False)
    """
    return row.factor == _DEFAULT_FACTOR[row.kind]


def default_kappas(rows) -> dict:
    """kind -> preconditioned condition number at the type's default size, over the rows
    that have one (a refused sketch has none)."""
    return {row.kind: row.kappa for row in rows if row.kappa is not None and at_default_size(row)}
