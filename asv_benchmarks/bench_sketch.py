"""Each sketch applied to the Jacobian's transpose: S J^T (s x n) from the fire patterns.

CountSketch and the tensor-structured sketch at every width; Gaussian and SRHT only
up to m = 2^16 (their cost and memory grow with s m d and n m d; the library refuses
them at 2^20). `Sketch.apply_jt` does not change anything, so the patterns and the
sketch are built once per process.
"""

import math

from ._common import (
    CS,
    MS,
    SEED,
    D,
    N,
    Stateful,
    cached,
    fire_sets,
    problem,
    repeats,
    require_module,
)

KINDS = ["countsketch", "tensor", "gaussian", "srht"]
#: Largest width each sketch kind is timed at.
MAX_M = {"countsketch": 2**20, "tensor": 2**20, "gaussian": 2**16, "srht": 2**16}


def _operands(kind, m, c):
    sketch_mod = require_module("sketch")
    net, X, _ = problem(m, c)
    pat = fire_sets(net, X).union_patterns()
    row_coef = net.a[pat.union] / math.sqrt(m)
    return sketch_mod.make_sketch(kind, N, m, D, seed=SEED), pat, row_coef, X


class TimeSketchJT(Stateful):
    """Seconds of `Sketch.apply_jt(patterns, a_U / sqrt(m), X)`, default sketch size."""

    params = (KINDS, MS, CS)
    param_names = ("kind", "m", "c")

    def setup(self, kind, m, c):
        require_module("sketch")
        if m > MAX_M[kind]:
            raise NotImplementedError(f"{kind} is timed up to m = {MAX_M[kind]} only")
        self.repeat = 3 if kind in ("gaussian", "srht") else repeats(m)   # seconds each
        warm = cached(("warm", kind), lambda: _operands(kind, 256, c))
        warm[0].apply_jt(*warm[1:])            # compile the kernel, untimed
        self.sketch, self.pat, self.row_coef, self.X = cached(
            ("operands", kind, m, c), lambda: _operands(kind, m, c))

    def time_apply_jt(self, kind, m, c):
        self.sketch.apply_jt(self.pat, self.row_coef, self.X)
