"""Machine-independent history: operation counts, sizes and in-process speed ratios.

All figures come from one `setup_cache` (`_common.measure_steps`) that runs every
method at every (m, c) in a single process: the counts and sizes of step 0 (exact,
deterministic for the seed) and ratios of step-time medians measured side by side,
which drift far less with the machine than the absolute times of `bench_step`.
"""

from ._common import (
    CS,
    METHODS,
    MS,
    RATIOS,
    SIZE_KEYS,
    measure_steps,
    ratio,
    require_attr,
    require_method,
)

COUNTS = ["inner_products", "tree_nodes_visited", "jacobian_nnz", "solver_products",
          "dense_flops", "preactivation_updates"]


class TrackStepCounts:
    """Deterministic per-step figures of step 0: the operation counts (`COUNT_KEYS`),
    the union size |U|, sum_i |S_i| and max_i |S_i|."""

    params = (METHODS, MS, CS, COUNTS + SIZE_KEYS)
    param_names = ("method", "m", "c", "quantity")
    setup_cache = staticmethod(measure_steps)
    rounds = 1
    unit = "count"

    def setup(self, cache, method, m, c, quantity):
        require_method(method)
        if quantity in COUNTS and quantity not in require_attr("trainers", "COUNT_KEYS"):
            raise NotImplementedError(f"count {quantity!r} is not in this commit")

    def track_step(self, cache, method, m, c, quantity):
        return cache[method, m, c][quantity]


class TrackSpeedRatios:
    """Ratios of median step times measured in one process (time of the first named
    over time of the second; below 1 means the first is faster). "floor" is the dense
    product X W^T (n m d), "union_floor" the product X W_U^T over the union U of the
    initial fire sets (n |U| d)."""

    params = (list(RATIOS), MS, CS)
    param_names = ("ratio", "m", "c")
    setup_cache = staticmethod(measure_steps)
    rounds = 1
    unit = "ratio"

    def setup(self, cache, name, m, c):
        ratio(cache, name, m, c)           # NotImplementedError when a side is missing

    def track_ratio(self, cache, name, m, c):
        return ratio(cache, name, m, c)
