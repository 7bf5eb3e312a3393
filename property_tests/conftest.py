"""Shared fixtures and hypothesis profiles.

Profiles (choose with HYPOTHESIS_PROFILE=...):

* ``ci`` (default): derandomized, so a run is reproducible; statistical tests state
  their per-example false-failure probability and draw their seeds through hypothesis.
* ``dev``: random exploration with more examples.

The tiny profile's store and report are built once per session (`tiny_report`) and
shared; a test that changes them works on a copy (`tiny_copy`).
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=30, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", deadline=None, max_examples=200, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def registries():
    """Methods, entries, experiments and loaded plugins as they were before the test."""
    from verify_sublin import plugins
    from verify_sublin.bench.experiments import EXPERIMENTS
    from verify_sublin.core.trainers import METHODS
    from verify_sublin.ledger.registry import ENTRIES
    saved = dict(METHODS), dict(ENTRIES), dict(EXPERIMENTS), dict(plugins._LOADED)
    yield
    for reg, old in zip((METHODS, ENTRIES, EXPERIMENTS, plugins._LOADED), saved):
        reg.clear()
        reg.update(old)


@pytest.fixture(scope="session")
def tiny_report(tmp_path_factory):
    """The tiny profile run once per test session (every entry, every run, the report):
    the folder holding results.sqlite, report.md, report.html and verdicts.json. Tests
    that write into it use `tiny_copy`."""
    from verify_sublin.api import run
    out = tmp_path_factory.mktemp("tiny") / "report"
    outcome = run("tiny", out=out, reference=None)
    assert outcome.counts["failed"] == 0, outcome.counts
    return out


@pytest.fixture(scope="session")
def tiny_store(tiny_report):
    """The session's tiny store, opened read-only."""
    from verify_sublin.bench.store import ResultStore
    return ResultStore(tiny_report / "results.sqlite", readonly=True)


@pytest.fixture
def tiny_copy(tiny_report, tmp_path):
    """A private copy of the session's tiny report folder, free to change."""
    dest = tmp_path / "tiny"
    shutil.copytree(tiny_report, dest)
    return dest


def pytest_collection_modifyitems(config, items):
    """A test that uses the session's tiny report is slow (building it makes every tiny
    run, about 15 s with a warm numba cache): `tox -e fast` leaves them out."""
    for item in items:
        if "tiny_report" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
