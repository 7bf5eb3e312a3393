"""Every claim's rule can fail on runs its own experiment makes.

Each test runs the claim's experiment, unmodified, with only the experiment's parameters
changed (the tiny profile's sizes unless said otherwise), and checks that the rule
returns `fails` (or its weaker outcome where the rule has one). A planted bug would not
count: every rule fails on one. The configurations:

==========================  ===========================================================
claim                       real failing configuration (outcome)
==========================  ===========================================================
sparsity.training           random labels on n = 256 sphere inputs (d = 8) at widths
                            m = 2^6, 2^7 below n, c = 0.4: training pushes a fire set
                            past m^(1-c/2) (1.36x at 2^6, 1.11x at 2^7); fails. (The
                            flip fraction shrinks with m at every c < 1/2 tried, plain
                            ReLU c = 0 included: exponents -0.45..-0.59 at m = 2^4..2^12;
                            it grows only at c = 1.2, outside the theorem.)
convergence.rate            width m = 2^6 at c = 0.4, 0.6, 0.85, n = 8, d = 4: steps
                            contract less than 2x or stop on an input with an empty
                            fire set (fails)
iterations.count            Gauss-Newton on random labels at a width too small for the
                            largest n (m = 2^10, d = 8, n = 8..128, 3 seeds): T grows
                            from 3-4 steps at n = 8 to 10-12 at n = 128, exponent 0.36
                            [0.27, 0.44], at or above 0.1 (fails)
sketch.conditioning         clustered inputs at c = 1.2 (alpha = 0.6, within the papers'
                            range) with m = 2^12, n = 32, d = 4, kappa(J J^T) = 1.3e5: a
                            few neurons fire per input, and the tensor sketch hashes each
                            neuron's block of d entries as one unit, so two blocks that
                            collide collide in full; at s = 8n rows it leaves kappa 14.5
                            (14.4 at 16n: more rows barely help), above 10, where the
                            Gaussian and the SRHT sit at Marchenko-Pastur's 4.4 (fails)
cpi.sketched_gn             n = 4, 8 at m = 2^9, d = 8 (tiny profile, n axis): counted
                            operations grow as n^1.9 where m n d + n^3 grows as n^1.0,
                            because conjugate gradients take about n iterations (fails)
cpi.sublinear_gn            the paper's method (preset "paper sublinear", which decides)
                            at n = 4, 8, m = 2^9, d = 8, c = 0.4 (tiny profile, n axis):
                            counted operations grow as n^2.4 where the claim allows
                            n^1.06: CG takes about n iterations at these n (4, then 7.6;
                            nnz d each) and the sketch and QR grow as n^3 log n (fails)
tree.benefit                m = 2^18, n = 64, d = 32, c = 0.85: the tree's step is about 7x
                            the tree-free cache's (its 16 n M bytes of nodes against the
                            cache's |U| n: a memory-traffic margin, not the tiny sizes'
                            1.5x of overheads, which faster code could erase); fails, or
                            holds-with-caveat if it still beats the full scan (timed)
cpi.multilayer              c = 0 (plain ReLU) at m = 2^8, 2^9, depth 2, at the paper's
                            fixed scale (which decides): deep_sublinear's counted
                            operations grow as fast as deep_dense's (fails)
init.multilayer             the same c = 0 runs: half of every layer fires, so the
                            step's exponent (1.97) is not below the construction's
                            (1.96) and a step costs 1.7x the construction (fails)
convergence.multilayer      the tiny profile (m = 2^7, 2^8, depth 3, n = d = 8): at the
                            fixed scale deep Gauss-Newton contracts less than 2x per
                            step (fails)
hsr.weights                 d = 16 at b = 0 (c = 0), m = 2^8..2^12: every box of the
                            kd-tree is cut, more work than a scan, exponent above 1
                            (fails)
sketch.vs_exact             the tiny sizes (n = 8, 16 at m = n^2, d = 4, c = 0.4): at
                            the loosest CG tolerance within 1% of the exact step's
                            contraction every sketch type's step counts about 10x the
                            exact bit-parallel Gram step's operations, and grows faster
                            in n, so the fitted power laws never cross (fails)
cpi.alpha_joint             the paper's method (preset "paper sublinear") at c = 0.48,
                            m = 2^12, 2^14, 2^16, n = 4, 8, d = 8, seeds 8 and 9: every
                            cell in the sparse regime (n Q(b) <= 0.2, which decides); the
                            joint fit gives beta_n 1.89 [1.80, 1.97], above 1 + 0.1, with
                            alpha_eff 0.29 [0.24, 0.32]: the tree is updated for the n
                            inputs of each of the |U| ~ n m Q(b) changed neurons (fails)
==========================  ===========================================================

width.requirement and lower_bound.dsws are `untestable` claims: their verdict says no
experiment can refute them, and none is run to pretend otherwise (width.requirement shows
the practical width law of `ledger.toolkit.width` beside the theorem's width, as a
measurement, not as a test of the theorem). hsr.preprocessing is
`not tested`: its mechanism and bound are not in the texts we have, so no structure is
built. Sanity checks and questions are not claims and are not listed here; union.size is
a sanity check (the identity E|U| = m P_w(max_i <w, x_i> > b)), and test_claims.py shows
its rule refusing a wrong identity on its real runs. The premise of the question
rq.vs_first_order ("Gauss-Newton-type methods reach eps sooner") is also listed below: its
answer is "no" on its tiny runs at width m = 2^2, where inputs with empty fire sets make
every Gauss-Newton system singular, so no Gauss-Newton method reaches eps on either data
set (deterministic: no timing decides it).

The answer of the question cost.end_to_end ("how much of the per-step gain over
Gram-Gauss-Newton survives end to end?", decided by the "paper sublinear" preset's gain
G_e2e at the largest m) changes with the size: "no" on its tiny runs (m = 2^10, n = 16,
d = 8, both c), where the preset's tree and sketch cost more than ggn's whole run
(G_e2e about 0.1-0.2x); "yes" at c = 0.85, m = 2^16, n = 16, d = 256 (ggn and the
preset, 3 repeats), where ggn's every step is a pass over all m d weights and the
preset's touches only the few fired neurons (G_e2e about 3.5x; timed, a wide margin).
At n = 64, d = 32 the preset breaks even near m = 2^18 (0.8-2x over repeated runs on a
loaded machine): too close to test.

The answer of the question rq.tree_minibatch ("does the tree pay off in mini-batch
training, and where?") changes with the grid: "no" on its tiny runs at c = 0.4 alone
(N Q(b) = 1.5 and 17), where the tree counts more operations than a rescan of the batch
(deterministic), and "yes" on a sparse point and a dense one, (c, N, m) = (1.5, 2^7, 2^18)
with N Q(b) = 0.001 and (0.4, 2^10, 2^12) with N Q(b) = 35 (n = 64, d = 32): at the
first the tree's step is about 5x faster than the cache's and 13x the rescan's (timed, a
wide margin), at the second it counts 14x the rescan's operations.
"""

from __future__ import annotations

import dataclasses

import pytest

from verify_sublin.bench.experiments import EXPERIMENTS
from verify_sublin.bench.spec import RunRecord, RunSpec
from verify_sublin.ledger.entries import cpi_sublinear_gn, iterations_count, sparsity_training
from verify_sublin.ledger.registry import ENTRIES

#: claims no experiment tests: untestable (width.requirement, lower_bound.dsws) or not tested
UNTESTABLE = {"width.requirement", "lower_bound.dsws", "hsr.preprocessing"}


def _evaluate(claim_id, specs):
    """Run each spec's experiment (unmodified code) and apply the claim's rule."""
    records = [RunRecord(i + 1, f"k{i}", s, "done", EXPERIMENTS[s.experiment].run(
        dict(s.params), s.seed), None, "test", 0.0) for i, s in enumerate(specs)]
    return ENTRIES[claim_id].evaluate(records, "tiny")


def _changed(claim_id, keep=lambda s: True, **params):
    """The claim's tiny-profile runs with some experiment parameters changed."""
    return [dataclasses.replace(s, params={**s.params, **params})
            for s in ENTRIES[claim_id].planned("tiny") if keep(s)]


#: claim -> (runs, outcomes accepted)
REAL_FAILURES = {
    "sparsity.training": (lambda: [sparsity_training.spec("sphere-random", 256, 8, m, 0.4, seed)
                                   for m in (2**6, 2**7) for seed in (2, 3)], {"fails"}),
    "convergence.rate": (lambda: _changed("convergence.rate", m=2**6), {"fails"}),
    "iterations.count": (lambda: [iterations_count.spec("sublinear_gn", "sphere-random", n, 8, 2**10, seed)
                                  for n in (8, 16, 32, 64, 128) for seed in (0, 1, 2)], {"fails"}),
    "sketch.conditioning": (lambda: _changed(
        "sketch.conditioning", keep=lambda s: s.params.get("inputs") == "clustered"
        and s.params["c"] == 0.85, m=2**12, n=32, d=4, c=1.2), {"fails"}),
    "cpi.sketched_gn": (lambda: _changed(
        "cpi.sketched_gn", keep=lambda s: s.params["m"] == 2**9 and s.params["d"] == 8),
        {"fails"}),
    "cpi.sublinear_gn": (lambda: _changed(
        "cpi.sublinear_gn", keep=lambda s: s.params["m"] == 2**9 and s.params["d"] == 8
        and s.params["c"] == 0.4 and cpi_sublinear_gn.is_paper(s)), {"fails"}),
    "tree.benefit": (lambda: _changed("tree.benefit", keep=lambda s: s.params["c"] == 0.85,
                                      m=2**18, n=64, d=32), {"fails", "holds-with-caveat"}),
    "cpi.multilayer": (lambda: _changed(
        "cpi.multilayer", keep=lambda s: s.experiment == "deep_step_speed"
        and s.params["c"] == 0.4, c=0.0), {"fails"}),
    "init.multilayer": (lambda: _changed(
        "init.multilayer", keep=lambda s: s.params["c"] == 0.4, c=0.0), {"fails"}),
    "convergence.multilayer": (lambda: ENTRIES["convergence.multilayer"].planned("tiny"),
                               {"fails"}),
    "hsr.weights": (lambda: [RunSpec("hsr_cost", {"m": m, "d": 16, "c": 0.0, "queries": 4,
                                                  "leaf_size": 8}, seed=21)
                             for m in (2**8, 2**10, 2**12)], {"fails"}),
    "sketch.vs_exact": (lambda: ENTRIES["sketch.vs_exact"].planned("tiny"), {"fails"}),
    "cpi.alpha_joint": (lambda: [RunSpec("step_counts", {
        "method": "sublinear_gn", "options": cpi_sublinear_gn.PAPER_OPTIONS, "steps": 3, "c": 0.48,
        "m": m, "n": n, "d": 8}, seed=seed) for m in (2**12, 2**14, 2**16) for n in (4, 8)
        for seed in (8, 9)], {"fails"}),
}


def test_every_claim_has_a_real_failing_configuration():
    claims = {cid for cid, c in ENTRIES.items() if c.kind == "claim"}
    assert claims - UNTESTABLE <= set(REAL_FAILURES), claims - UNTESTABLE - set(REAL_FAILURES)


@pytest.mark.parametrize("claim_id", sorted(REAL_FAILURES))
def test_rule_fails_on_a_real_configuration(claim_id):
    make, outcomes = REAL_FAILURES[claim_id]
    specs = make()
    assert specs, claim_id
    verdict = _evaluate(claim_id, specs)
    assert verdict.verdict in outcomes, (verdict.verdict, verdict.measured, verdict.rule)


def test_tree_minibatch_answer_changes_with_n_q_on_real_configurations():
    """rq.tree_minibatch (module docstring): "no" where every point has N Q(b) > 1, "yes"
    on a sparse point (the tree wins) and a dense one (it loses)."""
    dense = _evaluate("rq.tree_minibatch", _changed("rq.tree_minibatch",
                                                    keep=lambda s: s.params["c"] == 0.4))
    assert dense.verdict == "answer" and dense.measured.startswith("The tree pays off nowhere"), \
        dense.measured
    base = {"n": 64, "d": 32, "steps": 5, "warmup": 1, "move": 0.1}
    specs = [RunSpec("tree_minibatch", {**base, "c": c, "N": N, "m": m}, seed=23)
             for c, N, m in ((1.5, 2**7, 2**18), (0.4, 2**10, 2**12))]
    sparse = _evaluate("rq.tree_minibatch", specs)
    assert sparse.verdict == "answer" and sparse.measured.startswith("The tree pays off in "
                                                                     "mini-batch training wherever"), \
        sparse.measured


def test_vs_first_order_premise_fails_on_a_real_configuration():
    """rq.vs_first_order's tiny runs at m = 2^2 (module docstring): "no" on both data sets."""
    v = _evaluate("rq.vs_first_order", _changed("rq.vs_first_order", m=2**2))
    assert v.verdict == "answer"
    assert v.measured.startswith("Gauss-Newton-type methods did not reach eps sooner"), v.measured
    assert v.measured.count("no Gauss-Newton method reached eps") == 2, v.measured


def test_end_to_end_answer_changes_with_m_on_real_configurations():
    """cost.end_to_end (module docstring): "no" on the tiny runs, "yes" at c = 0.85, m = 2^16,
    n = 16, d = 256."""
    small = _evaluate("cost.end_to_end", ENTRIES["cost.end_to_end"].planned("tiny"))
    assert small.verdict == "answer" and "slower than Gram-Gauss-Newton end to end at every c" \
        in small.measured, small.measured
    large = _evaluate("cost.end_to_end", _changed(
        "cost.end_to_end", keep=lambda s: s.params["c"] == 0.85, m=2**16, n=16, d=256,
        names=["ggn", "paper sublinear"], repeats=3))
    assert large.verdict == "answer" and "faster than Gram-Gauss-Newton end to end at every c" \
        in large.measured, large.measured
