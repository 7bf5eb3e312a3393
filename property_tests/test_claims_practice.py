"""The practice entries (half-space reporting over the weights, sketched against exact
Gauss-Newton, and the questions): rules on synthetic runs that must pass and runs that
must fail, real failing configurations of the two claims, and every entry evaluated on
the real runs of the test session's tiny store (evaluation, figure)."""

from __future__ import annotations

import importlib

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
        exact = 1000 * p["n"] ** 3
        sketch = exact // 2 if sketch_below_at_largest and p["n"] == 16 else 4 * exact
        return {"b": 0.0, "s": 8 * p["n"], "tols": [1e-2, 1e-10], "exact_contraction": 0.2,
                "exact_ops": exact, "exact_seconds": [1e-3] * 5, "textbook_ops": 10 * exact,
                "textbook_seconds": [1e-2] * 5,
                "sketches": [{"kind": k, "s": 8 * p["n"], "tols": [1e-2, 1e-10],
                              "contraction": [0.2, 0.2], "ops": [sketch, 2 * sketch],
                              "iterations": [5, 20], "qualifying_tol": 1e-2, "seconds": [1e-3] * 5}
                             for k in p["kinds"]]}
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
    """The tiny sizes (n in {8, 16}, m = n^2, d = 4) are a real run of unmodified code:
    every sketch type's step counts more operations than the exact bit-parallel Gram step."""
    v = ENTRIES["sketch.vs_exact"].evaluate(tiny_runs["sketch.vs_exact"], "tiny")
    assert v.verdict == "fails", v.measured
    rows = [r.result for r in tiny_runs["sketch.vs_exact"]]
    assert all(min(k.ops) > r.exact_ops for r in rows for k in r.sketches)


def test_duplicate_inputs_answer_matches_an_independent_least_squares_floor(tiny_runs):
    """Damped GN on two identical inputs ends with equal outputs; with different labels
    its residual is at least |y_1 - y_2| / sqrt 2 (the labels differ by 1 or 0)."""
    for r in tiny_runs["rq.duplicate_inputs"]:
        p, res = r.spec.params, r.result
        gap = 1.0 if p["labels"] == "different" else 0.0
        assert res.floor == pytest.approx(gap / np.sqrt(2))
        assert res.residual_mu >= res.floor * (1 - 1e-9)
        assert res.mu0_error and "positive definite" in res.mu0_error


# ------------------------------------------------------------------ the width law
def _law_records(monkeypatch, cid, m_true, specs=None):
    """The entry's planned tiny runs (or `specs`), made by the real search with a trial whose worst
    contraction is 0.45 from m_true(n, c, subset, init) upwards and 0.8 below (m_true
    None: never), so that every subset's m* is known."""
    WL = importlib.import_module("verify_sublin.bench.experiments.width_law")

    def trial(X, y, m, c, seed, steps, tol, stop):
        need = m_true(X.shape[0], c, seed // 1000, seed % 1000 - 1)
        ok = need is not None and m >= need
        return {"worst": 0.45 if ok else 0.8, "reached": True, "steps": 5, "error": None}

    monkeypatch.setattr(WL, "law_trial", trial)
    specs = specs or ENTRIES[cid].planned("tiny")
    return [RunRecord(i + 1, f"k{i}", s, "done", EXPERIMENTS[s.experiment].run(dict(s.params), s.seed)
                      if s.experiment == "width_law" else typed_result(
                          EXPERIMENTS[s.experiment], {"log2m": 180.0, "lambda": 1e-12}),
                      None, "abc", 0.0) for i, s in enumerate(specs)]


def test_the_search_finds_the_smallest_passing_width_of_every_threshold(monkeypatch):
    """Bisection with early stopping finds what a scan of the whole grid would: the
    first grid width at or above m_true, at every threshold, trying few widths."""
    from verify_sublin.bench.experiments.width_law import law_grid, width_law
    from verify_sublin.ledger.toolkit.width import law_runs
    grid, specs = law_grid(3, 10), law_runs([("sphere-random", 4, 8)], [4, 8], [0.0, 0.4], 3, 10)
    for m_true in (8, 11, 45, 91, 362, 1024):
        recs = _law_records(monkeypatch, None, lambda n, c, k, i, m=m_true: m, specs)
        for r in recs:
            assert r.result.m_star == (m_true,) * 3, (m_true, r.result.m_star)
            assert len(r.result.widths) <= len(grid) // 2 + 3
            for w in r.result.widths:       # early stopping: 4 passes or 2 failures decide
                assert len(w.trials) == (4 if w.m >= m_true else 2)
    p = dict(specs[0].params)
    monkeypatch.setattr(importlib.import_module("verify_sublin.bench.experiments.width_law"), "law_trial",
                        lambda X, y, m, c, seed, *a: {"worst": 0.55 if m >= 64 else 0.8, "reached": True,
                                                      "steps": 3, "error": None})
    out = width_law(p, 0)     # 0.55 passes at 0.6 and 0.75 from 2^6, never at 0.5
    assert out["m_star"] == [None, 64, 64]


def test_width_law_recovers_a_known_exponent_and_marks_censoring(monkeypatch):
    """m*(subset) = 4 n^2 on every subset: exponent 2 with a zero-width interval; a law
    of exponent 1 reads differently; m* at the grid's bottom marks the fit censored; a
    subset whose m* lies above the grid makes m*(n) (the 90% quantile of 3 subsets: the
    largest) '> 2^10', which leaves one n on the grid: no fit."""
    v = ENTRIES["width.scaling"].evaluate(_law_records(monkeypatch, "width.scaling",
                                                       lambda n, c, k, i: 4 * n * n), "tiny")
    assert v.verdict == "answer" and "2.00 [2.00, 2.00]" in v.measured, v.measured
    v1 = ENTRIES["width.scaling"].evaluate(_law_records(monkeypatch, "width.scaling",
                                                        lambda n, c, k, i: 8 * n), "tiny")
    assert "1.00 [1.00, 1.00]" in v1.measured and v1.measured != v.measured
    low = ENTRIES["width.scaling"].evaluate(_law_records(
        monkeypatch, "width.scaling", lambda n, c, k, i: 8 if n == 4 else 4 * n * n), "tiny")
    assert "censored at the grid's edge" in low.measured and "<= 2^3" in str(low.details[2].rows)
    high = ENTRIES["width.scaling"].evaluate(_law_records(
        monkeypatch, "width.scaling", lambda n, c, k, i: None if (n, k) == (8, 1) else 4 * n * n), "tiny")
    assert "too few n" in high.measured and "> 2^10" in str(high.details[2].rows)


def test_width_law_counts_a_width_that_passes_in_4_of_5_initialisations(monkeypatch):
    """One initialisation in five failing everywhere does not move m*; two do."""
    one = ENTRIES["width.scaling"].evaluate(_law_records(
        monkeypatch, "width.scaling", lambda n, c, k, i: None if i == 0 else 4 * n * n), "tiny")
    assert "2.00 [2.00, 2.00]" in one.measured
    two = ENTRIES["width.scaling"].evaluate(_law_records(
        monkeypatch, "width.scaling", lambda n, c, k, i: None if i < 2 else 4 * n * n), "tiny")
    assert "too few n" in two.measured


def test_width_requirement_stays_untestable_and_reports_the_law(monkeypatch):
    v = ENTRIES["width.requirement"].evaluate(_law_records(
        monkeypatch, "width.requirement", lambda n, c, k, i: 4 * n * n), "tiny")
    assert v.verdict == "untestable"
    assert "sufficient condition" in v.rule and "2^180" in v.rule
    assert "n^2.00 [2.00, 2.00]" in v.measured and "the theorem asks 2^180" in v.measured


def test_phase_diagram_region_starts_where_the_law_and_sparsity_both_hold(monkeypatch):
    """c = 0 is never sparse; c = 0.4 at m*(c) = 2^7 (fire fraction 0.09 <= 0.1)
    starts there; c = 0.8 above the grid has no region."""
    law = {0.0: 16, 0.4: 128, 0.8: None}
    v = ENTRIES["convergence.phase_diagram"].evaluate(_law_records(
        monkeypatch, "convergence.phase_diagram", lambda n, c, k, i: law[c]), "tiny")
    assert v.verdict == "answer"
    assert v.figures["converging_sparse_from"]["sphere-random"] == {"0": None, "0.4": 128,
                                                                     "0.8": None}
    assert "c=0.4 from 2^7" in v.measured
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
