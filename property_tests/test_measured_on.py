"""Name what was measured: an entry whose runs train the sublinear method otherwise than
the paper specifies it (a fire-set structure other than the correlation tree, or the
exact Cholesky solve instead of the sketch-preconditioned iterative solve) says so in
its row (`Entry.measured_on`), unless its runs are named rows of a comparison or it
compares the structures themselves (listed below with the reason)."""

from __future__ import annotations

import pytest

from verify_sublin.core.trainers.options import OPTION_DEFAULTS
from verify_sublin.ledger.registry import ENTRIES

#: entries exempt, with why their rows already say what each run is
COMPARES = {
    "tree.benefit": "times the tree against the cache and the scan, each named in its row",
    "lower_bound.dsws": "compares the fire-set structures (tree, cache, scan) by name",
    "rq.hyperparameters": "varies the sketched solve's tolerance; the structure is not "
                          "what is asked",
}


def _not_the_papers(spec) -> bool:
    """Whether a run trains sublinear_gn without the paper's tree and sketched solve.
    Named runs (a "name" parameter: a preset or method shown by name) count as labelled."""
    p = spec.params
    if p.get("method") != "sublinear_gn" or "name" in p:
        return False
    opts = {**OPTION_DEFAULTS, **(p.get("options") or {})}
    return opts["fire_sets"] != "tree" or opts["solver"] != "sketch"


@pytest.mark.parametrize("eid", sorted(ENTRIES))
def test_entries_on_a_variant_say_so(eid):
    entry = ENTRIES[eid]
    profile = "full" if "full" in entry.profiles else entry.profiles[-1]
    variant = [s for s in entry.planned(profile) if _not_the_papers(s)]
    if eid in COMPARES:
        assert variant, f"{eid} is exempt but runs no variant: drop it from COMPARES"
        return
    if variant:
        assert entry.measured_on, (
            f"{eid}: {len(variant)} of its {profile} runs train sublinear_gn with "
            f"{variant[0].params.get('options')} (not the paper's tree and sketched solve) "
            "and its row does not say so (Entry.measured_on)")


def test_the_check_sees_a_variant():
    """The detector itself: the cache with the exact solve is a variant, the tree with
    the sketched solve is not, a named run is labelled."""
    from verify_sublin.bench.spec import RunSpec
    assert _not_the_papers(RunSpec("x", {"method": "sublinear_gn", "options": {"fire_sets": "cache"}}))
    assert _not_the_papers(RunSpec("x", {"method": "sublinear_gn", "options": {}}))
    assert not _not_the_papers(RunSpec("x", {"method": "sublinear_gn",
                                             "options": {"fire_sets": "tree", "solver": "sketch"}}))
    assert not _not_the_papers(RunSpec("x", {"method": "sublinear_gn", "name": "sublinear cache"}))
