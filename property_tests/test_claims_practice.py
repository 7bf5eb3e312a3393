"""The practice entries (half-space reporting over the weights, sketched against exact
Gauss-Newton, and the questions): rules on synthetic runs that must pass and runs that
must fail, real failing configurations of the two claims, and every entry evaluated on
the real runs of the test session's tiny store (evaluation, figure)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from verify_sublin.bench.experiments import EXPERIMENTS, typed_result
from verify_sublin.bench.spec import RunRecord
from verify_sublin.ledger.entry import KINDS
from verify_sublin.ledger.plot import Plot
from verify_sublin.ledger.registry import ENTRIES
from verify_sublin.ledger.rules import VERDICTS_BY_KIND

matplotlib.use("Agg")

IDS = {"hsr.weights": "claim", "sketch.vs_exact": "claim", "width.scaling": "question",
       "convergence.phase_diagram": "question", "rq.implicit_bias": "question",
       "rq.duplicate_inputs": "question", "rq.sketch_failure": "question",
       "rq.shift_generalisation": "question", "rq.tree_minibatch": "question"}


def _fake(specs, result) -> list[RunRecord]:
    return [RunRecord(i + 1, f"k{i}", s, "done",
                      typed_result(EXPERIMENTS[s.experiment], result(s.params)), None, "abc", 0.0)
            for i, s in enumerate(specs)]


def test_every_entry_is_in_the_ledger_with_kind_source_sizes_and_budget():
    for cid, kind in IDS.items():
        c = ENTRIES[cid]
        assert c.kind == kind and kind in KINDS
        assert c.source and c.statement and c.rule
        assert "Budget:" in c.experiment and "Full:" in c.experiment
        for profile in ("tiny", "quick", "full"):
            assert c.planned(profile)
        assert all(s.experiment in EXPERIMENTS for s in c.planned("full"))


# ---------------------------------------------------------------- hsr.weights
def _hsr_result(exponent):
    def result(p):
        work = int(3 * p["m"] ** exponent)
        return {"b": 1.0, "visits": [work // 2] * 4, "tested": [work - work // 2] * 4,
                "k": [10] * 4, "leaves": 8, "seconds_build": 0.1, "seconds_query": 1e-4,
                "seconds_scan": 1e-3}
    return result


@pytest.mark.parametrize("exponent, want", [(0.45, "holds"), (1.2, "fails"), (0.95, "inconclusive")])
def test_hsr_rule_on_synthetic_runs(exponent, want):
    claim = ENTRIES["hsr.weights"]
    v = claim.evaluate(_fake(claim.planned("tiny"), _hsr_result(exponent)), "tiny")
    assert v.verdict == want, v.measured


# ------------------------------------------------------------ sketch.vs_exact
def _sve_result(sketch_below_at_largest):
    def result(p):
        exact = 1000 * p["n"] ** 2
        sketch = 500 * p["n"] ** 2 if sketch_below_at_largest and p["n"] == 32 else 4 * exact
        return {"b": 0.0, "exact_seconds": exact * 1e-9, "exact_ops": exact, "nnz": 1,
                "sketch_seconds": sketch * 1e-9, "sketch_ops": sketch, "solver_products": 20,
                "dense_gram_ops": 10 * exact}
    return result


@pytest.mark.parametrize("below, want", [(True, "holds"), (False, "fails")])
def test_sketch_rule_on_synthetic_runs(below, want):
    claim = ENTRIES["sketch.vs_exact"]
    v = claim.evaluate(_fake(claim.planned("tiny"), _sve_result(below)), "tiny")
    assert v.verdict == want, v.measured


# ------------------------------------------------ every entry, real, tiny profile
@pytest.fixture(scope="module")
def tiny_runs(tiny_store):
    from verify_sublin.ledger.evaluate import records_for
    return {cid: records_for(cid, tiny_store, "tiny") for cid in IDS}


@pytest.mark.parametrize("cid", sorted(IDS))
def test_entry_evaluates_and_draws_on_real_tiny_runs(cid, tiny_runs):
    from verify_sublin.render.figures import draw

    claim = ENTRIES[cid]
    records = tiny_runs[cid]
    assert records and all(r.ok for r in records)
    v = claim.evaluate(records, "tiny")
    assert v.verdict in VERDICTS_BY_KIND[claim.kind] and v.measured and v.rule and v.details
    if claim.kind == "question":
        assert v.verdict == "answer"
    assert isinstance(v.plot, Plot) and v.plot.caption
    assert v.plot.series_count() + sum(p.heatmap is not None for p in v.plot.panels) > 0
    fig = draw(v.plot)
    assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) == len(v.plot.panels)


def test_sketch_vs_exact_real_failing_configuration(tiny_runs):
    """The tiny sizes (m = 2^10, n in {16, 32}) are a real run of unmodified code: the
    sketched step counts more operations than the exact bit-parallel Gram step."""
    v = ENTRIES["sketch.vs_exact"].evaluate(tiny_runs["sketch.vs_exact"], "tiny")
    assert v.verdict == "fails", v.measured
    rows = [r.result for r in tiny_runs["sketch.vs_exact"]]
    assert all(r.sketch_ops > r.exact_ops for r in rows)


def test_duplicate_inputs_answer_matches_an_independent_least_squares_floor(tiny_runs):
    """Damped GN on two identical inputs ends with equal outputs; with different labels
    its residual is at least |y_1 - y_2| / sqrt 2 (the labels differ by 1 or 0)."""
    for r in tiny_runs["rq.duplicate_inputs"]:
        p, res = r.spec.params, r.result
        gap = 1.0 if p["labels"] == "different" else 0.0
        assert res.floor == pytest.approx(gap / np.sqrt(2))
        assert res.residual_mu >= res.floor * (1 - 1e-9)
        assert res.mu0_error and "positive definite" in res.mu0_error


def test_tree_minibatch_strategies_agree_and_count_on_real_tiny_runs(tiny_runs):
    """Every batch fire set of the tree and the cache is the rescan's, and each step's
    counted inner products are N |U_batch| (tree, cache) and n m (rescan)."""
    for r in tiny_runs["rq.tree_minibatch"]:
        p, res = r.spec.params, r.result
        st = res.strategies
        assert st["tree"].mismatches == st["cache"].mismatches == 0 and res.checked
        assert list(st["tree"].inner_products) == [p["N"] * u for u in res.union]
        assert list(st["cache"].inner_products) == [p["N"] * u for u in res.union]
        assert set(st["rescan"].inner_products) == {p["n"] * p["m"]}
