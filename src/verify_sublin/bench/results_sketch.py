"""Typed results of ``sketch_vs_exact`` (kept beside `bench.results`, which is near its
size limit; registered the same way, in `bench.experiments.BUILTIN`)."""

from __future__ import annotations

from dataclasses import dataclass

from .schema import Result, absent_if_none, timed

__all__ = ["SketchCost", "SketchVsExact"]


@dataclass(frozen=True, kw_only=True)
class SketchCost(Result):
    """One sketch type of ``sketch_vs_exact``: its one-step contraction, counted operations
    and CG iterations per CG tolerance run (`tols`), the loosest
    tolerance within 1% of the exact step's contraction, and the seconds of a step there;
    `error` when the sketch was refused at this size."""

    kind: str
    s: int
    tols: tuple[float, ...] = ()                #: the CG tolerances run, loosest first
    contraction: tuple[float, ...] = ()
    ops: tuple[int, ...] = ()
    iterations: tuple[int, ...] = ()
    qualifying_tol: float | None = absent_if_none()
    seconds: tuple[float, ...] = timed(())      #: first steps at qualifying_tol (timed types)
    error: str | None = absent_if_none()


@dataclass(frozen=True, kw_only=True)
class SketchVsExact(Result):
    """``sketch_vs_exact``: one Gauss-Newton step from the same weights, exact (bit-parallel
    Gram; textbook dense J J^T) against sketched_gn per sketch type and CG tolerance."""

    b: float
    s: int                          #: the sketch size, the same for every type
    tols: tuple[float, ...]
    exact_contraction: float        #: ||r_1|| / ||r_0|| of the exact step
    exact_ops: int                  #: bit-parallel Gram step, counted
    exact_seconds: tuple[float, ...] = timed(())
    textbook_ops: int               #: textbook ggn step (dense J J^T), counted
    textbook_seconds: tuple[float, ...] = timed(())   #: () where not timed (m n^2 d > 1e11)
    sketches: tuple[SketchCost, ...]
