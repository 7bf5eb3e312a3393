"""Fixtures of the micro-benchmarks: one seeded problem per shift, built once.

n = 64 inputs, d = 32, m = 2^16 neurons, b = sqrt(c ln m) for c in {0.4, 0.85};
the same seed as the asv suite. Each fixture also returns what an independent numpy
computation says the result must be, so a benchmark of wrong code fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from verify_sublin import CorrelationTree, FireSets, ShiftedReLUNet, shift_for, sphere_data

N, D, M, SEED = 64, 32, 2**16, 0


@dataclass
class Problem:
    net: ShiftedReLUNet
    X: np.ndarray
    P: np.ndarray              # dense pre-activations X W^T (n x m), the reference
    fire: FireSets             # fire sets from the dense reference
    c: float

    @property
    def m(self) -> int:
        return self.net.m

    @property
    def row_coef_all(self) -> np.ndarray:
        return self.net.a / math.sqrt(self.m)


@pytest.fixture(scope="module", params=[0.4, 0.85], ids=lambda c: f"c={c}")
def problem(request) -> Problem:
    c = request.param
    X, _ = sphere_data(N, D, seed=SEED, labels="teacher")
    net = ShiftedReLUNet.init(M, D, shift_for(M, c), seed=SEED + 1)   # not the data's seed
    P = X @ net.W.T
    fire = FireSets.from_lists([np.flatnonzero(row > net.shift) for row in P], M)
    return Problem(net, X, P, fire, c)


@pytest.fixture(scope="module")
def tree(problem) -> CorrelationTree:
    """A correlation tree over the problem; queries leave it unchanged."""
    t = CorrelationTree(problem.net.W, problem.X, problem.net.shift)
    t.query_all()              # compile, and size the query buffer
    return t
