"""Typed results of the timing experiments ``tree_minibatch`` and ``end_to_end`` (kept
beside `bench.results`, which is at its size limit; registered the same way, in
`bench.experiments.BUILTIN`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .schema import Result, timed

__all__ = ["EndToEnd", "EndToEndRow", "MinibatchStrategy", "TreeMinibatch"]


# ------------------------------------------------------------------ mini-batch
@dataclass(frozen=True, kw_only=True)
class MinibatchStrategy(Result):
    """One strategy of ``tree_minibatch``: per timed step its seconds and counted work."""

    times: tuple[float, ...] = timed()   #: seconds of each timed step (find + move)
    median: float = timed()
    build_seconds: float = timed()      #: building its structure (once, not in a step)
    inner_products: tuple[int, ...]     #: <w_r, x_i> computed per step (d each)
    node_visits: tuple[int, ...]        #: tree nodes read or recomputed per step
    preactivations: tuple[int, ...]     #: cached pre-activations written or read per step
    ops: tuple[int, ...]                #: d inner_products + node_visits + preactivations
    memory_bytes: float                 #: what its structure and weights hold (estimate)
    mismatches: int                     #: batch fire sets that differ from the rescan's


@dataclass(frozen=True, kw_only=True)
class TreeMinibatch(Result):
    """``tree_minibatch``: mini-batch fire sets by the tree over all N inputs, a rescan of
    the batch and a cache of all N inputs, on the same batches and moves."""

    b: float
    Q: float                            #: Q(b), the standard normal tail at b
    log2m: float
    union: tuple[int, ...]              #: |U_batch| per timed step
    fired: tuple[int, ...]              #: sum over the batch of |S_i| per timed step
    predicted_tree: tuple[float, ...]   #: N |U_batch| (d + log2 m) per timed step
    predicted_rescan: float             #: n m d
    checked: int                        #: batch fire sets compared per strategy
    strategies: Mapping[str, MinibatchStrategy]   #: rescan, tree, cache


# ------------------------------------------------------------------ end to end
@dataclass(frozen=True, kw_only=True)
class EndToEndRow(Result):
    """One method of ``end_to_end``: each repeat's construction, steps and total."""

    method: str                           #: the method a name resolves to
    construct: tuple[float, ...] = timed()  #: seconds of construction, per repeat
    steps: tuple[float, ...] = timed()      #: seconds of every step of every repeat
    total: tuple[float, ...] = timed()      #: construction + steps, per repeat
    T: tuple[int, ...]                    #: steps to eps, per repeat
    reached: bool                         #: every repeat reached eps


@dataclass(frozen=True, kw_only=True)
class EndToEnd(Result):
    """``end_to_end``: methods and presets by name, each constructed and stepped to eps
    `repeats` times on one network, in turns, in one process."""

    b: float
    floor: float = timed()
    rows: Mapping[str, EndToEndRow]
    skipped: Mapping[str, str]            #: name -> why it was not timed
