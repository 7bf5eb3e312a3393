"""The ledger's entries: one module each, listed here in report order.

Claims of the papers first (with the sanity checks of the machinery they rely on, next
to them), then the practice entries, then the reviewers' questions. A plugin adds its
own (`verify_sublin.plugins`); nothing registers itself by being imported.
"""

from __future__ import annotations

from . import (
    convergence_multilayer,
    convergence_phase_diagram,
    convergence_rate,
    cost_end_to_end,
    cpi_alpha_joint,
    cpi_multilayer,
    cpi_sketched_gn,
    cpi_sublinear_gn,
    hsr_preprocessing,
    hsr_weights,
    init_multilayer,
    iterations_count,
    lower_bound_dsws,
    ntk_lambda,
    rq_duplicate_inputs,
    rq_hyperparameters,
    rq_implicit_bias,
    rq_jacobian_sparsity,
    rq_min_shift,
    rq_ntk_krr,
    rq_plain_relu,
    rq_shift_generalisation,
    rq_sketch_failure,
    rq_train_second_layer,
    rq_tree_minibatch,
    rq_vs_first_order,
    sketch_conditioning,
    sketch_vs_exact,
    sparsity_init,
    sparsity_training,
    tree_benefit,
    tree_correctness,
    tree_cost,
    union_size,
    width_requirement,
    width_scaling,
)

__all__ = ["BUILTIN", "ORDER"]

#: the built-in entries, in report order
BUILTIN = (
    sparsity_init.ENTRY,
    sparsity_training.ENTRY,
    tree_correctness.ENTRY,
    tree_cost.ENTRY,
    tree_benefit.ENTRY,
    ntk_lambda.ENTRY,
    convergence_rate.ENTRY,
    width_requirement.ENTRY,
    sketch_conditioning.ENTRY,
    union_size.ENTRY,
    iterations_count.ENTRY,
    cpi_sketched_gn.ENTRY,
    cpi_sublinear_gn.ENTRY,
    cpi_alpha_joint.ENTRY,
    cost_end_to_end.ENTRY,
    lower_bound_dsws.ENTRY,
    hsr_preprocessing.ENTRY,
    cpi_multilayer.ENTRY,
    convergence_multilayer.ENTRY,
    init_multilayer.ENTRY,
    hsr_weights.ENTRY,
    sketch_vs_exact.ENTRY,
    width_scaling.ENTRY,
    convergence_phase_diagram.ENTRY,
    rq_implicit_bias.ENTRY,
    rq_duplicate_inputs.ENTRY,
    rq_sketch_failure.ENTRY,
    rq_min_shift.ENTRY,
    rq_jacobian_sparsity.ENTRY,
    rq_ntk_krr.ENTRY,
    rq_hyperparameters.ENTRY,
    rq_vs_first_order.ENTRY,
    rq_train_second_layer.ENTRY,
    rq_plain_relu.ENTRY,
    rq_shift_generalisation.ENTRY,
    rq_tree_minibatch.ENTRY,
)

#: their ids, in report order
ORDER = tuple(e.id for e in BUILTIN)
