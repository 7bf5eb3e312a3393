"""Plugins: a method and a claim loaded from a file in a temporary folder (--plugin), and
from an installed entry point; the registries are restored afterwards."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from verify_sublin import make_trainer, shift_for, sphere_data
from verify_sublin.bench.store import ResultStore
from verify_sublin.cli import main
from verify_sublin.core.errors import InputError
from verify_sublin.core.model import ShiftedReLUNet
from verify_sublin.core.trainers import METHODS
from verify_sublin.ledger.registry import ENTRIES as CLAIMS

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugin_gd_half.py"


def test_plugin_file_adds_a_method_and_a_claim_that_reaches_the_report(tmp_path, registries,
                                                                       capsys):
    plugin = tmp_path / "plugins" / "my_plugin.py"
    plugin.parent.mkdir()
    shutil.copyfile(EXAMPLE, plugin)
    out = tmp_path / "out"
    assert main(["--plugin", str(plugin), "run", "--claims", "plugin.gd_half", "--profile",
                 "tiny", "--out", str(out), "--quiet"]) == 0
    assert "gd_half" in METHODS and "plugin.gd_half" in CLAIMS
    # the verdict agrees with the stored runs, counted here
    steps = {r["params"]["method"]: len(r["result"]["residual"])
             for r in ResultStore(out / "results.sqlite").runs()}
    expected = "holds" if steps["gd_half"] <= 2.5 * steps["gd"] else "fails"
    row = next(line for line in (out / "report.md").read_text().splitlines()
               if line.startswith("| [plugin.gd_half]"))
    assert f"**{expected}**" in row
    assert steps["gd_half"] > steps["gd"]        # a smaller step does take longer
    # the method is a real one: make_trainer builds it with half of gd's step size
    X, y = sphere_data(8, 4, seed=0, labels="teacher")
    net = ShiftedReLUNet.init(2**8, 4, shift_for(2**8, 0.4), seed=1)
    half, full = make_trainer("gd_half", net, X, y), make_trainer("gd", net, X, y)
    np.testing.assert_allclose(half.eta, full.eta / 2, rtol=1e-12)


@pytest.mark.slow
def test_worker_processes_load_the_plugins_too(tmp_path, registries):
    """With --jobs 2 the runs are made in spawned workers, which know the plugin's method
    only because they load the same plugin file as they start."""
    plugin = tmp_path / "my_plugin.py"
    shutil.copyfile(EXAMPLE, plugin)
    out = tmp_path / "out"
    assert main(["--plugin", str(plugin), "run", "--claims", "plugin.gd_half", "--profile",
                 "tiny", "--out", str(out), "--quiet", "--jobs", "2"]) == 0
    runs = list(ResultStore(out / "results.sqlite").runs())
    assert runs and all(r["status"] == "done" for r in runs), [r["error"] for r in runs]
    assert "gd_half" in {r["params"]["method"] for r in runs}


def test_entry_points_are_loaded(tmp_path, registries, monkeypatch):
    from verify_sublin.plugins import load_entry_points
    site = tmp_path / "site"
    (site / "vs_ep_demo-0.1.dist-info").mkdir(parents=True)
    (site / "vs_ep_demo-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: vs-ep-demo\nVersion: 0.1\n")
    (site / "vs_ep_demo-0.1.dist-info" / "entry_points.txt").write_text(
        "[verify_sublin.methods]\ngd_half = vs_ep_demo\n")
    shutil.copyfile(EXAMPLE, site / "vs_ep_demo.py")
    monkeypatch.syspath_prepend(str(site))
    try:
        assert "gd_half" in load_entry_points()
        assert "gd_half" in METHODS and "plugin.gd_half" in CLAIMS
    finally:
        sys.modules.pop("vs_ep_demo", None)


def test_a_bad_plugin_path_is_an_input_error(tmp_path, registries, capsys):
    assert main(["--plugin", str(tmp_path / "missing.py"), "claims"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("verify-sublin: error: --plugin:")
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    from verify_sublin.plugins import load_plugin_file
    with pytest.raises(InputError, match="boom"):
        load_plugin_file(broken)


LEGACY = '''
from verify_sublin.claims.ledger import Claim, RunSpec, Verdict, register_claim

def _runs(profile):
    return [RunSpec("tree_check", {"trials": 1, "m_max": 8, "n_max": 2, "d": 2, "updates": 1},
                    seed=1)]

def _evaluate(records, profile):
    ok = all(r.ok and r.result["mismatches"] == 0 for r in records)
    return Verdict("plugin.legacy", "consistent" if ok else "inconsistent", "exact",
                   "checked", "consistent if no mismatch", runs=[r.id for r in records])

register_claim(Claim(id="plugin.legacy", paper="RQ", statement="old-style plugin",
                     experiment="tree_check", rule="no mismatch", runs=_runs,
                     evaluate=_evaluate, kind="sanity", source="this test"))
'''


def test_a_plugin_written_for_the_old_api_still_works_and_is_told_the_replacement(
        tmp_path, registries):
    """register_claim and the old import path keep working, with a DeprecationWarning
    that names the replacement; the legacy entry runs and reaches the report."""
    plugin = tmp_path / "legacy_plugin.py"
    plugin.write_text(LEGACY)
    sys.modules.pop("verify_sublin.claims", None)
    out = tmp_path / "out"
    with pytest.warns(DeprecationWarning, match="ENTRIES"):
        assert main(["run", "--plugin", str(plugin), "--claims", "plugin.legacy", "--profile",
                     "tiny", "--out", str(out), "--quiet"]) == 0     # --plugin after the command
    row = next(line for line in (out / "report.md").read_text().splitlines()
               if line.startswith("| [plugin.legacy]"))
    assert "**consistent**" in row


@pytest.mark.slow
def test_a_dask_cluster_s_workers_load_the_plugins_too(tmp_path, registries):
    """With --scheduler the plugin files reach every worker of the cluster (sent as text
    and loaded there), so a plugin method's runs finish on Dask as on --jobs workers."""
    distributed = pytest.importorskip("distributed", reason="the test extra has it")
    plugin = tmp_path / "my_plugin.py"
    shutil.copyfile(EXAMPLE, plugin)
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert main(["--plugin", str(plugin), "run", "--claims", "plugin.gd_half", "--profile",
                     "tiny", "--out", str(out), "--quiet", "--scheduler",
                     cluster.scheduler_address]) == 0
    runs = list(ResultStore(out / "results.sqlite").runs())
    assert runs and all(r["status"] == "done" for r in runs), [r["error"] for r in runs]
    assert "gd_half" in {r["params"]["method"] for r in runs}
