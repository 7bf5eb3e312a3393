"""The ledger's entries, one module each, in report order (`ORDER`)."""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["BUILTIN", "ORDER"]

#: every entry's id, in report order
ORDER = (
    "sparsity.init", "sparsity.training", "tree.correctness", "tree.cost", "tree.benefit",
    "ntk.lambda", "convergence.rate", "width.requirement", "sketch.conditioning",
    "union.size", "iterations.count", "cpi.sketched_gn", "cpi.sublinear_gn",
    "cost.end_to_end", "lower_bound.dsws", "hsr.preprocessing", "cpi.multilayer",
    "convergence.multilayer", "init.multilayer", "hsr.weights", "sketch.vs_exact",
    "width.scaling", "convergence.phase_diagram", "rq.implicit_bias", "rq.duplicate_inputs",
    "rq.sketch_failure", "rq.min_shift", "rq.jacobian_sparsity", "rq.ntk_krr",
    "rq.hyperparameters", "rq.vs_first_order", "rq.train_second_layer", "rq.plain_relu",
)

# transitional: the entry modules converted so far (each defines ENTRY); the explicit
# list replaces this once every entry is a module
BUILTIN: tuple = tuple(
    importlib.import_module(f"{__name__}.{m.name}").ENTRY
    for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
