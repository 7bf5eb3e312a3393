"""Reliability: bad input anywhere gives one kind of error, numerical faults are named,
the store survives kill -9 and concurrent runs, executors agree, memory is guarded."""

from __future__ import annotations

import contextlib
import io
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verify_sublin as vs
from verify_sublin import InputError, MemoryLimitError, NumericalError
from verify_sublin.bench.runner import execute
from verify_sublin.bench.store import ResultStore
from verify_sublin.cli import main
from verify_sublin.core.memory import parse_size, set_memory_limit
from verify_sublin.core.ntk import shifted_ntk
from verify_sublin.core.realdata import load_dataset
from verify_sublin.core.sketch import Sketch, default_size
from verify_sublin.ledger.plan import plan

# ------------------------------------------------------------ bad values
BAD_INT = st.sampled_from([0, -1, -(10**9), 1.5, "3", None, True, [3], float("nan"),
                           float("inf"), b"4", 3 + 0j])
#: sizes that allocate: a huge value must be refused by the memory guard
BAD_SIZE = st.one_of(BAD_INT, st.sampled_from([2**45, 2**70]))
BAD_POS_FLOAT = st.sampled_from([-0.1, -1e9, float("nan"), float("inf"), "a", None, [1.0],
                                 1j, True])
BAD_REAL = st.sampled_from([float("nan"), float("inf"), -float("inf"), "a", None, [1.0], 1j, True])
BAD_SEED = st.sampled_from([-1, 2**64, 1.5, "s", None, [1]])
BAD_CHOICE = st.one_of(st.text(max_size=8).filter(lambda s: s not in {
    "gd", "ggn", "sketched_gn", "sublinear_gn", "adam", "second_layer", "ntk_krr", "sgd",
    "teacher", "random", "tree", "cache", "scan", "explicit", "implicit", "cholesky",
    "sketch", "gaussian", "srht", "countsketch", "tensor", "numpy", "diabetes", "digits",
    "sphere-teacher", "sphere-random"}), st.sampled_from([None, 3, 1.5, ["gd"]]))


def _bad_array(shape, free_rows=False, free_cols=False):
    """Arrays that are wrong for the given shape: ndim, size, NaN, inf, strings, ragged.
    With `free_rows` (`free_cols`) the number of rows (columns) is not fixed, so a
    different count is valid and not offered."""
    n = shape[0]
    good = np.ones(shape)
    bad = [np.ones((*shape, 1)), np.ones(shape[:-1] or (2, 2)), "abc", None, [[1, 2], [3]],
           np.full(shape, np.nan), np.full(shape, np.inf), np.array(["x"] * n),
           *([] if free_rows else [np.ones((n + 1, *shape[1:]))])]
    if len(shape) == 2 and not free_cols:
        bad.append(np.ones((shape[0], shape[1] + 1)))
    g2 = good.copy()
    g2.flat[0] = np.nan
    bad.append(g2)
    return st.sampled_from(bad)


X4, Y4 = vs.sphere_data(4, 3, seed=0)
NET = vs.ShiftedReLUNet.init(32, 3, 0.5, seed=0)
TREE = vs.CorrelationTree(NET.W, X4, 0.5)


def _targets():
    """(name, parameter -> bad-value strategy, call(kwargs)) for the public API."""
    t = []
    t.append(("ShiftedReLUNet.init", {"m": BAD_SIZE, "d": BAD_SIZE, "shift": BAD_POS_FLOAT,
                                      "seed": BAD_SEED},
              lambda kw: vs.ShiftedReLUNet.init(**({"m": 8, "d": 3, "shift": 0.5, "seed": 0} | kw))))
    t.append(("ShiftedReLUNet", {"W": _bad_array((8, 3), free_cols=True), "a": _bad_array((8,)),
                                 "shift": BAD_POS_FLOAT},
              lambda kw: vs.ShiftedReLUNet(**({"W": np.ones((8, 3)), "a": np.ones(8),
                                               "shift": 0.1} | kw))))
    t.append(("net.forward", {"X": _bad_array((4, 3), free_rows=True)}, lambda kw: NET.forward(kw["X"])))
    t.append(("net.fire_sets", {"X": _bad_array((4, 3), free_rows=True)}, lambda kw: NET.fire_sets(kw["X"])))
    t.append(("shift_for", {"m": BAD_INT, "c": BAD_POS_FLOAT},
              lambda kw: vs.shift_for(**({"m": 8, "c": 0.4} | kw))))
    t.append(("sphere_data", {"n": BAD_SIZE, "d": BAD_SIZE, "seed": BAD_SEED,
                              "labels": BAD_CHOICE},
              lambda kw: vs.sphere_data(**({"n": 4, "d": 3, "seed": 0} | kw))))
    t.append(("separation", {"X": _bad_array((4, 3), free_rows=True, free_cols=True)},
              lambda kw: vs.separation(kw["X"])))
    t.append(("normalize", {"X": _bad_array((4, 3), free_rows=True, free_cols=True).filter(
        lambda x: not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.ndim == 2
                       and np.isfinite(x).all()))}, lambda kw: vs.normalize(kw["X"])))
    t.append(("CorrelationTree", {"W": _bad_array((8, 3), free_rows=True),
                                  "X": _bad_array((4, 3), free_rows=True),
                                  "threshold": BAD_REAL},
              lambda kw: vs.CorrelationTree(**({"W": np.ones((8, 3)), "X": X4,
                                                "threshold": 0.1} | kw))))
    t.append(("tree.query", {"i": st.sampled_from([-1, 4, 10**9, 1.5, "0", None, True, [0]])},
              lambda kw: TREE.query(kw["i"])))
    t.append(("tree.update", {"rows": st.sampled_from([[40], [-1], [0.5], "x", [[1]]]),
                              "new_weights": _bad_array((1, 3))},
              lambda kw: TREE.update(**({"rows": [0], "new_weights": np.ones((1, 3))} | kw))))
    optional = BAD_POS_FLOAT.filter(lambda v: v is not None)    # None means "default"
    opts = {"eta": optional, "mu": BAD_POS_FLOAT, "solver": BAD_CHOICE, "sketch": BAD_CHOICE,
            "sketch_factor": optional, "tol": BAD_POS_FLOAT, "max_iter": BAD_INT,
            "fire_sets": BAD_CHOICE, "refresh_every": st.sampled_from([-1, 1.5, "2", None]),
            "train_a": st.sampled_from([1, "yes", None]), "seed": BAD_SEED,
            "backend": BAD_CHOICE, "preactivations": BAD_CHOICE, "method": BAD_CHOICE,
            "X": _bad_array((4, 3)), "y": _bad_array((4,)), "net": st.sampled_from([None, "net", 3])}
    t.append(("make_trainer", opts, lambda kw: vs.make_trainer(
        kw.pop("method", "sublinear_gn"), kw.pop("net", NET), kw.pop("X", X4), kw.pop("y", Y4),
        **kw)))
    t.append(("trainer.run", {"steps": BAD_INT.filter(lambda v: v != 0), "tol": BAD_POS_FLOAT},
              lambda kw: vs.make_trainer("ggn", NET, X4, Y4).run(**({"steps": 1} | kw))))
    t.append(("Sketch", {"kind": BAD_CHOICE, "size": BAD_INT, "m": BAD_INT, "d": BAD_INT,
                         "seed": BAD_SEED},
              lambda kw: Sketch(**({"kind": "countsketch", "size": 4, "m": 4, "d": 2,
                                    "seed": 0} | kw))))
    t.append(("default_size", {"kind": BAD_CHOICE, "n": BAD_INT,
                               "sketch_factor": BAD_POS_FLOAT.filter(lambda v: v is not None)},
              lambda kw: default_size(**({"kind": "tensor", "n": 4} | kw))))
    t.append(("load_dataset", {"name": BAD_CHOICE, "n_train": BAD_INT, "seed": BAD_SEED},
              lambda kw: load_dataset(**({"name": "diabetes", "n_train": 4} | kw))))
    t.append(("shifted_ntk", {"X": _bad_array((4, 3), free_rows=True, free_cols=True), "b": BAD_POS_FLOAT},
              lambda kw: shifted_ntk(**({"X": X4, "b": 0.5} | kw))))
    t.append(("parse_size", {"text": st.sampled_from(["", "x", "1Q", "--", "1e"])},
              lambda kw: parse_size(kw["text"])))
    return t


TARGETS = _targets()
ALLOWED = (InputError,)      # MemoryLimitError is an InputError


@st.composite
def bad_calls(draw):
    name, params, call = draw(st.sampled_from(TARGETS))
    chosen = draw(st.sampled_from(sorted(params)))
    return name, chosen, call, {chosen: draw(params[chosen])}


@settings(max_examples=3000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@pytest.mark.slow
@given(case=bad_calls())
def test_bad_input_to_the_api_gives_input_error(case):
    """3000 generated bad inputs (one bad parameter each) across the public API: only
    InputError (a ValueError and TypeError) comes out, naming the parameter."""
    name, param, call, kw = case
    if name == "make_trainer" and param in ("sketch", "sketch_factor", "tol", "max_iter"):
        kw["solver"] = "sketch"     # make the option matter to the method
    with pytest.raises(ALLOWED) as info:
        call(dict(kw))
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    assert ":" in str(info.value)


CLI_BAD = [
    ["run", "--profile", "x"], ["run", "--profile", "tiny", "--claims", "nope"],
    ["run", "--profile", "tiny", "--jobs", "0"], ["run", "--jobs", "x"],
    ["run", "--profile", "tiny", "--memory-limit", "lots"],
    ["report", "--store", "/nonexistent.sqlite", "--out", "/tmp/x"], ["report"],
    ["export", "--store", "/nonexistent.sqlite", "--csv", "/tmp/x"],
    ["reproduce", "x"], ["reproduce", "0", "--store", "/nonexistent.sqlite"],
    ["demo", "--m", "0"], ["demo", "--n", "-3"], ["demo", "--c", "-1"], ["demo", "--seed", "-1"],
    ["demo", "--methods", "newton"], ["demo", "--steps", "-2"], ["speed", "--c", "abc"],
    ["speed", "--m", "2^x"], ["speed", "--m", "0"], ["speed", "--n", "0"], ["bogus"], [],
    ["run", "--unknown-flag"], ["demo", "--m", "2^80"],
    ["run", "--profile", "large", "--claims", "cpi.alpha_joint"],
]


@settings(max_examples=800, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(argv=st.sampled_from(CLI_BAD), extra=st.lists(st.one_of(
    st.sampled_from(["--quiet", "--recompute", "--seed=-4", "--profile=zzz", "--m=-1", "--n=x"]),
    st.text("abcxyz0123", min_size=1, max_size=6).map(lambda t: "z" + t)), max_size=3))
@pytest.mark.slow
def test_bad_cli_arguments_give_one_line_and_status_2(argv, extra):
    """800 generated bad command lines (a bad command plus options that cannot make it
    valid and stray words) through main(argv) in-process: status 2, one line on stderr,
    no traceback. (Every option of every subcommand is also walked systematically by
    test_every_option_of_every_subcommand_refuses_bad_values.)"""
    out = ["--out", "/nonexistent-dir/never-written"] if argv[:1] == ["run"] else []
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf), contextlib.redirect_stdout(io.StringIO()):
        status = main([*argv, *extra, *out] if argv else argv)
    assert status == 2
    err = buf.getvalue().strip().splitlines()
    assert len(err) == 1 and err[0].startswith("verify-sublin: error:"), err
    assert "Traceback" not in err[0]


@pytest.mark.parametrize("command", ["run", "report"])
def test_an_entry_asked_for_at_a_profile_it_does_not_run_is_refused(tmp_path, capsys, command):
    """`--claims X --profile P` where X has no sizes at P: one line naming the entry and the
    profiles it runs at, status 2, nothing written (it used to read 'evaluation failed'
    with an AttributeError in the report)."""
    ResultStore(tmp_path / "s.sqlite")          # an empty store
    store = ["--store", str(tmp_path / "s.sqlite")] if command == "report" else []
    status = main([command, "--profile", "large", "--claims", "tree.correctness", "--out",
                   str(tmp_path / "out"), *store])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert "tree.correctness runs at tiny, quick, full" in err[0] and "profile large" in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", CLI_BAD[:20])
def test_console_script_errors(argv):
    """Real subprocess calls of the console script."""
    proc = subprocess.run(["verify-sublin", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("verify-sublin: error:"), proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------- numerical faults
def test_step_that_overflows_names_the_step():
    """Outputs that overflow name the step where it happened. (With eta = 1e300 the
    outputs reach about 1e300, which the residual's scaled norm measures without
    overflowing: gradient descent flags that step as diverging and overflows later.)"""
    for warm_steps in (0, 1):
        trainer = vs.make_trainer("gd", NET, X4, Y4)
        for _ in range(warm_steps):
            trainer.step()
        trainer.eta = 1e308
        with pytest.raises(NumericalError, match="NaN or infinite") as info:
            for _ in range(6):
                trainer.step()
        assert str(info.value).startswith(f"step {trainer.steps_done}: ")
        assert trainer.steps_done >= warm_steps


def test_failed_run_is_stored_and_listed_in_the_report(tmp_path):
    from verify_sublin.api import write as render_report
    store = ResultStore(tmp_path / "r.sqlite")
    planned = plan(["rq.plain_relu"], "tiny")
    run = planned[0]
    store.record(run.key, run.spec.experiment, run.spec.params, run.spec.seed, "numpy", "tiny",
                 "failed", error="NumericalError: step 3: simulated fault")
    execute(planned, store, "tiny")    # the failed run is retried and the rest made
    render_report(store, tmp_path / "out", "tiny", ["rq.plain_relu"])
    assert store.get(run.key)["status"] == "done"
    # a run that keeps failing is listed in the report, not dropped
    bad = plan(["convergence.rate"], "tiny")[0]
    store.record(bad.key, bad.spec.experiment, bad.spec.params, bad.spec.seed, "numpy", "tiny",
                 "failed", error="NumericalError: step 2: simulated fault")
    render_report(store, tmp_path / "out2", "tiny", ["convergence.rate"])
    md = (tmp_path / "out2" / "report.md").read_text()
    assert "simulated fault" in md.split("## Failed runs")[1]


# ---------------------------------------------------------- memory guard
def test_memory_guard_refuses_before_allocating():
    set_memory_limit(2**20)          # 1 MiB
    try:
        with pytest.raises(MemoryLimitError, match=r"^m: expected at most 0.000977 GiB"):
            vs.ShiftedReLUNet.init(2**20, 32, 1.0, seed=0)
        wide = vs.ShiftedReLUNet(np.ones((2**14, 3)), np.ones(2**14), 0.5)
        with pytest.raises(MemoryLimitError, match=r"^m: .*method 'sublinear_gn'"):
            vs.make_trainer("sublinear_gn", wide, X4, Y4)
    finally:
        set_memory_limit(None)
    with pytest.raises(MemoryLimitError):   # a fuzzed huge m never reaches an allocation
        vs.ShiftedReLUNet.init(2**45, 64, 1.0, seed=0)


# ------------------------------------------------------ crash-safe store
def _spawn_run(out, claims, extra=()):
    cmd = [sys.executable, "-m", "verify_sublin.cli", "run", "--profile", "tiny", "--claims",
           claims, "--out", str(out), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


KILL_CLAIMS = "width.requirement,sparsity.init,ntk.lambda,rq.min_shift,convergence.rate"
#: a run's progress line, printed after its result is committed
DONE_LINE = re.compile(r"\] run (\d+) .* done")


def _wait_for_store(proc, db, limit=120.0):
    deadline = time.monotonic() + limit
    while not db.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


def _rows(db):
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if con.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'runs'").fetchone()[0] == 0:
            return {}, []                           # killed while creating the schema
        rows = {r[0]: (r[1], r[2], r[3]) for r in con.execute(
            "SELECT id, key, status, result FROM runs")}
    return rows, [key for key, _, _ in rows.values()]


@pytest.mark.slow
def test_kill_9_at_random_moments(tmp_path):
    """9 trials, each on a fresh store: SIGKILL a sweep at a random moment. About one
    trial in six kills as soon as the store file appears (during its creation or
    planning); the others after a random number k of runs have reported finished, plus a
    random fraction of a run, so that the kill lands inside the sweep whatever the speed
    of the machine. After each kill the database passes integrity_check and every run the
    process reported finished (a progress line is printed only after its commit) is
    there exactly once; resuming then completes the sweep with no duplicate and leaves
    every run finished before the kill unchanged."""
    planned = sorted(p.key for p in plan(KILL_CLAIMS.split(","), "tiny"))
    rng = random.Random(7)
    mid_sweep = 0
    for trial in range(9):
        out = tmp_path / f"trial{trial}"
        db = out / "results.sqlite"
        proc = _spawn_run(out, KILL_CLAIMS)
        seen: list[str] = []
        if rng.random() < 1 / 6:
            _wait_for_store(proc, db)
        else:
            k = rng.randint(1, len(planned) - 2)
            stuck = threading.Timer(300, proc.kill)     # a hung sweep fails, not hangs CI
            stuck.start()
            done = 0
            for line in proc.stderr:
                seen.append(line)
                done += bool(DONE_LINE.search(line))
                if done >= k:
                    break
            stuck.cancel()
            time.sleep(rng.uniform(0.0, 0.03))
        proc.send_signal(signal.SIGKILL)
        err = "".join(seen) + proc.communicate()[1]
        reported = {int(x) for x in DONE_LINE.findall(err)}
        if not db.exists():
            assert not reported, trial
            continue
        rows, keys = _rows(db)
        assert len(keys) == len(set(keys)), trial
        for rid in reported:
            assert rid in rows and rows[rid][1] == "done", (trial, rid)
        finished = {rid: v for rid, v in rows.items() if v[1] == "done"}
        mid_sweep += 0 < len(finished) < len(planned)
        counts = execute(plan(KILL_CLAIMS.split(","), "tiny"), ResultStore(db), "tiny")
        assert counts["failed"] == 0, counts    # resume: the runs alone, no report render
        after, keys = _rows(db)
        assert sorted(keys) == planned, trial
        for rid, value in finished.items():
            assert after[rid] == value, f"trial {trial}: run {rid} changed on resume"
    assert mid_sweep >= 5, f"only {mid_sweep} of 9 kills landed mid-sweep"


@pytest.mark.slow
@pytest.mark.parametrize("processes", [3])
def test_processes_share_a_new_store(tmp_path, processes):
    """Three `run` processes started together on one new store: none crashes, no
    corruption, every run made once (20 trials each of 2 and 3 are a separate,
    longer experiment, outside the suite)."""
    out = tmp_path / "out"
    procs = [_spawn_run(out, KILL_CLAIMS) for _ in range(processes)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs
    made = [set(re.findall(r"\] run (\d+) .* (?:done|FAILED)", e)) for e in errs]
    for i in range(processes):
        for j in range(i):
            assert not (made[i] & made[j]), "a run was computed by two processes"
    with sqlite3.connect(out / "results.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0
    planned = plan(KILL_CLAIMS.split(","), "tiny")
    assert ResultStore(out / "results.sqlite").count() == len(planned)


def test_lease_of_a_killed_process_is_recovered(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    run = plan(["tree.correctness"], "tiny")[0]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket
    import sqlite3 as sq
    with sq.connect(store.path) as con:     # a lease as a since-killed process left it
        con.execute("INSERT INTO leases VALUES (?, ?, ?, ?, ?)",
                    (run.key, "gone", socket.gethostname(), dead.pid, time.time() + 3600))
    assert store.lease_holder(run.key) is None
    counts = execute([run], store, "tiny", wait_seconds=0.05)
    assert counts["done"] == 1 and store.get(run.key)["status"] == "done"
    # a live holder (this process) is respected
    other = plan(["tree.correctness"], "quick")[0]
    assert store.try_lease(other.key, "me", 60)
    assert not store.try_lease(other.key, "someone-else", 60)


# ------------------------------------------------------------- executors
SAME_CLAIMS = ["sparsity.init", "ntk.lambda", "rq.min_shift", "width.requirement"]


def _results(store):
    return {r["key"]: r["result"] for r in store.runs()}


@pytest.mark.slow
def test_executors_give_identical_results(tmp_path):
    """The same non-timing runs in-process, on 2 local processes and on a Dask
    LocalCluster (loopback): identical figures (BLAS and numba pinned to one thread)."""
    from distributed import LocalCluster

    from verify_sublin.bench.executors import DaskExecutor, LocalProcessExecutor
    from verify_sublin.bench.reproduce import compare_results
    planned = [p for p in plan(SAME_CLAIMS, "tiny")]
    stores = {}
    for name in ("inprocess", "local2", "dask"):
        store = ResultStore(tmp_path / f"{name}.sqlite")
        if name == "inprocess":
            execute(planned, store, "tiny")
        elif name == "local2":
            ex = LocalProcessExecutor(2)
            try:
                execute(planned, store, "tiny", executor=ex)
            finally:
                ex.close()
        else:
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              host="127.0.0.1", dashboard_address=None) as cluster:
                ex = DaskExecutor(cluster.scheduler_address)
                try:
                    execute(planned, store, "tiny", executor=ex)
                finally:
                    ex.close()
        stores[name] = _results(store)
    for name in ("local2", "dask"):
        assert stores[name].keys() == stores["inprocess"].keys()
        for key, res in stores["inprocess"].items():
            cmp = compare_results(res, stores[name][key], time_factor=1e9)
            assert not cmp["mismatches"], (name, cmp["mismatches"][:3])


def test_reproduce_matches_a_stored_run(tmp_path, capsys):
    """Every run of a fresh store reproduces, timing runs (tree.cost's builds and queries,
    first made in a cold process) included: their times are compared as ratios to a floor
    measured in the same process, after compiling."""
    out = tmp_path / "o"
    assert main(["run", "--profile", "tiny", "--claims", "ntk.lambda,tree.correctness,tree.cost",
                 "--out", str(out), "--quiet"]) == 0
    store = ResultStore(out / "results.sqlite")
    assert any(row["experiment"] == "tree_cost" for row in store.runs())
    for row in store.runs():
        assert main(["reproduce", str(row["id"]), "--store", str(out / "results.sqlite")]) == 0
    # a tampered figure is caught
    rid = next(store.runs())["id"]
    with sqlite3.connect(out / "results.sqlite") as con:
        res = con.execute("SELECT result FROM runs WHERE id = ?", (rid,)).fetchone()[0]
        con.execute("UPDATE runs SET result = ? WHERE id = ?",
                    (res.replace("e-", "e-1", 1) if "e-" in res else res.replace("1", "2", 1), rid))
    capsys.readouterr()
    assert main(["reproduce", str(rid), "--store", str(out / "results.sqlite")]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_parse_size_and_environment_limit(monkeypatch):
    assert parse_size("2G") == 2 * 2**30 and parse_size("512M") == 2**29
    monkeypatch.setenv("VERIFY_SUBLIN_MEMORY_LIMIT", "1M")
    with pytest.raises(MemoryLimitError):
        vs.ShiftedReLUNet.init(2**16, 8, 1.0, seed=0)


# ------------------------------------------------ store creation and opening
def _open_and_record(base, barrier, i, rounds, failures):
    for k in range(rounds):
        barrier.wait()
        try:
            ResultStore(base / f"r{k}" / "results.sqlite").record(
                f"k{i}", "exp", {"i": i}, 0, "numpy", "tiny", "done", result={"i": i})
        except Exception as exc:
            failures.put(f"round {k}, process {i}: {type(exc).__name__}: {exc}")


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 3])
def test_processes_creating_one_store_at_once(tmp_path, processes):
    """Several processes released together on a barrier, 40 rounds, each round a new
    store: none fails (SQLite may refuse a journal-mode change as busy without waiting
    for the lock), every record lands once, no temporary file is left."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    rounds = 40
    barrier, failures = ctx.Barrier(processes), ctx.Queue()
    procs = [ctx.Process(target=_open_and_record, args=(tmp_path, barrier, i, rounds, failures))
             for i in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    errors = []
    while not failures.empty():
        errors.append(failures.get())
    assert not errors, f"{len(errors)} failures, first: {errors[0]}"
    assert [p.exitcode for p in procs] == [0] * processes
    for k in range(rounds):
        path = tmp_path / f"r{k}" / "results.sqlite"
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert sorted(r[0] for r in con.execute("SELECT key FROM runs")) == \
                [f"k{i}" for i in range(processes)]
        assert [p.name for p in path.parent.iterdir()
                if not p.name.startswith("results.sqlite")] == [], "temporary file left"


def _sha(path):
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _foreign_files(tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE runs (id INTEGER, name TEXT)")
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 20)
    app = tmp_path / "app.sqlite"
    with sqlite3.connect(app) as con:
        con.execute("PRAGMA application_id=1234")
        con.execute("CREATE TABLE t (x)")
    truncated = tmp_path / "truncated.sqlite"
    store = ResultStore(tmp_path / "good.sqlite")
    for i in range(200):
        store.record(f"k{i}", "exp", {"i": i}, 0, "numpy", "tiny", "done",
                     result={"x": "y" * 200})
    with sqlite3.connect(tmp_path / "good.sqlite") as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = (tmp_path / "good.sqlite").read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    return [other, text, app, truncated, empty]


@pytest.mark.parametrize("command", ["run", "report", "export", "reproduce"])
def test_a_foreign_file_is_refused_and_left_unchanged(tmp_path, command):
    """A file that is not a verify_sublin store, passed as --store, is refused with one
    line and exit 2, and is byte-for-byte unchanged (no WAL switch, no tables added)."""
    for path in _foreign_files(tmp_path):
        before = _sha(path)
        argv = {"run": ["run", "--profile", "tiny", "--claims", "tree.correctness",
                        "--store", str(path), "--out", str(tmp_path / "o")],
                "report": ["report", "--store", str(path), "--out", str(tmp_path / "o")],
                "export": ["export", "--store", str(path), "--csv", str(tmp_path / "c")],
                "reproduce": ["reproduce", "1", "--store", str(path)]}[command]
        buf = io.StringIO()
        with contextlib.redirect_stderr(buf), contextlib.redirect_stdout(io.StringIO()):
            status = main(argv)
        lines = buf.getvalue().strip().splitlines()
        assert status == 2 and len(lines) == 1, (path.name, lines)
        assert str(path) in lines[0] and "Traceback" not in lines[0]
        assert _sha(path) == before, f"{path.name} was modified"
        assert not (tmp_path / "o" / "report.md").exists()


def test_committed_store_is_a_legacy_store_read_without_writing(tmp_path):
    """A store of the first schema (no application id), such as the committed full
    report's, is accepted; reading it leaves the database file unchanged."""
    import shutil
    from pathlib import Path
    src = Path(__file__).resolve().parents[1] / "reports" / "full" / "results.sqlite"
    path = tmp_path / "legacy.sqlite"
    shutil.copy(src, path)
    before = _sha(path)
    store = ResultStore(path, readonly=True)
    assert store.count() == sum(1 for _ in store.runs()) > 0
    assert _sha(path) == before
    with pytest.raises(vs.StoreError, match="read-only"):
        store.invalidate(next(store.runs())["key"])


@pytest.mark.slow
def test_report_on_a_read_only_store(tmp_path):
    """`report` and `export` work on a store in a read-only directory whose WAL index is
    missing (SQLite then needs `immutable=1`), and change nothing. As root, which ignores
    file permissions, the folder is bind-mounted read-only in a private mount namespace,
    so that the refusal to write is real."""
    import os
    import shutil
    import tempfile
    out = tmp_path / "out"
    assert main(["run", "--profile", "tiny", "--claims", "tree.correctness", "--out",
                 str(out), "--quiet"]) == 0
    with sqlite3.connect(out / "results.sqlite") as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    base = Path(tempfile.mkdtemp(prefix="vs-ro-"))
    try:
        os.chmod(base, 0o755)
        ro, dest = base / "ro", base / "rendered"
        ro.mkdir()
        dest.mkdir()
        shutil.copy(out / "results.sqlite", ro / "results.sqlite")
        os.chmod(ro / "results.sqlite", 0o444)
        os.chmod(ro, 0o555)
        os.chmod(dest, 0o777)
        before = _sha(ro / "results.sqlite")
        db = str(ro / "results.sqlite")
        code = ("import sys; from verify_sublin.cli import main; "
                f"sys.exit(main(['report', '--store', {db!r}, '--out', {str(dest)!r}, "
                "'--profile', 'tiny', '--claims', 'tree.correctness']) "
                f"or main(['export', '--store', {db!r}, '--csv', {str(dest / 'csv')!r}]))")
        env = {**os.environ, "NUMBA_CACHE_DIR": str(dest / "nc"), "HOME": str(dest),
               "MPLCONFIGDIR": str(dest / "mpl")}
        cmd = [sys.executable, "-c", code]
        if os.geteuid() == 0:
            cmd = ["unshare", "-m", "sh", "-c", f'mount --bind "{ro}" "{ro}" && '
                   f'mount -o remount,bind,ro "{ro}" && exec "$0" "$@"', *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr
        assert (dest / "report.md").exists() and (dest / "csv" / "measurements.csv").exists()
        assert _sha(ro / "results.sqlite") == before
        assert sorted(p.name for p in ro.iterdir()) == ["results.sqlite"]
    finally:
        os.chmod(base / "ro", 0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_a_row_with_malformed_json_is_reported_and_skipped(tmp_path, capsys):
    path = tmp_path / "r.sqlite"
    store = ResultStore(path)
    for i in range(3):
        store.record(f"k{i}", "exp", {"i": i}, 0, "numpy", "tiny", "done", result={"i": i})
    with sqlite3.connect(path) as con:
        con.execute("UPDATE runs SET result = '{not json' WHERE key = 'k1'")
    store = ResultStore(path, readonly=True)
    assert [r["key"] for r in store.runs()] == ["k0", "k2"]
    bad = store.get("k1")
    assert bad["status"] == "failed" and "malformed JSON" in bad["error"]
    assert list(store.malformed) == [bad["id"]]
    assert main(["export", "--store", str(path), "--csv", str(tmp_path / "csv")]) == 0
    err = capsys.readouterr().err
    assert f"run {bad['id']}" in err and "malformed" in err


# ------------------------------------------------- every option, bad values
def _bad_values(tmp_path):
    """Bad values for each converter of the CLI's options (`cli.options`)."""
    from verify_sublin.cli import options as o
    existing_file = tmp_path / "a-file.txt"
    existing_file.write_text("x")
    a_dir = tmp_path / "a-dir"
    a_dir.mkdir(exist_ok=True)
    return {
        o.positive: ["0", "-1", "x", "1.5"],
        o.count: ["-1", "x"],
        o.seed: ["-1", "x", "99999999999999999999"],
        o.run_id: ["0", "-5", "99999999999999999999", "x"],
        o.nonneg_float: ["-1", "nan", "inf", "x"],
        o.factor: ["0.5", "nan", "x"],
        o.width: ["0", "2^5,2^6", "x", "", "2^x"],
        o.widths: ["0", "x", "2^", "1,,2"],
        o.shifts: ["", "x", "-1", ","],
        o.size: ["..G", "1.2.3", "x", "-1G", "0"],
        o.profile: ["bogus", ""],
        o.profile_or_empty: ["bogus", "x"],
        o.backend: ["bogus", ""],
        o.entry_ids: ["", ",", " , ", "nope", "tree.correctness,nope"],
        o.methods: ["newton", "", "ggn,"],
        o.method_or_preset_names: ["newton", "", ",", "ggn,paper linear"],
        # an existing file, under a file, under /proc, on a read-only file system (/sys)
        o.folder: [str(existing_file), "", str(existing_file / "sub"), "/proc/x/y", "/sys/x"],
        o.store_file: [str(a_dir), str(existing_file / "s.sqlite"), "/proc/s.sqlite"],
        o.existing_store: [str(tmp_path / "missing.sqlite"), str(a_dir)],
        o.scheduler: ["not an address", "tcp:/x"],
        o.verdict_words: ["bogus", "fails,nope"],
        o.formats: ["", "xml", "csv,xml", ","],
        o.results_path: [str(tmp_path / "missing"), ""],
        "choice": ["bogus", ""],
    }


def test_every_option_of_every_subcommand_refuses_bad_values(tmp_path):
    """Walks every subcommand's declared options (`cli.SUBCOMMANDS`): every option is a
    flag or has a converter, the parser declares exactly those options, and every bad
    value of its kind exits 2 with one line naming the option, before anything runs."""
    from verify_sublin import cli
    parser = cli.parser()
    subcommands = parser._subparsers._group_actions[0].choices
    assert set(subcommands) == {m.NAME for m in cli.SUBCOMMANDS}
    bad = _bad_values(tmp_path)
    store = tmp_path / "s.sqlite"
    ResultStore(store)
    required = {"report": ["--store", str(store), "--out", str(tmp_path / "o")],
                "export": ["--store", str(store), "--out", str(tmp_path / "c")],
                "reproduce": ["--store", str(store)]}
    positionals = {"reproduce": ["1"], "compare": [str(store), str(store)]}
    positions = {"run_id": 0, "a": 0, "b": 1}
    cheap = {"speed": ["--m", "2^8", "--n", "4", "--d", "2", "--steps", "1"],
             "speed-deep": ["--m", "2^6", "--n", "4", "--d", "2", "--steps", "1"],
             "demo": ["--m", "64", "--n", "4", "--d", "2", "--steps", "1"],
             "run": ["--profile", "tiny", "--claims", "tree.correctness", "--out",
                     str(tmp_path / "o")]}
    tried = 0
    for mod in cli.SUBCOMMANDS:
        name = mod.NAME
        declared = {a.dest for a in subcommands[name]._actions} - {"help", "plugin"}
        assert declared == {o.name for o in mod.OPTIONS}, name
        for option in mod.OPTIONS:
            if option.convert is None:
                continue
            kind = option.convert if option.convert in bad else "choice"
            assert option.convert.__qualname__.startswith("choice") or kind in bad, option
            for value in bad[kind]:
                if not option.positional:
                    flag = option.flags[0]
                    tail = ["--", *positionals[name]] if name in positionals else []
                    argv = [name, *cheap.get(name, []), *required.get(name, []),
                            f"{flag}={value}", *tail]
                    label = flag
                else:       # a positional: replace it among the positionals
                    args = list(positionals[name])
                    args[positions[option.name]] = value
                    argv = [name, *required.get(name, []), "--", *args]
                    label = option.name
                buf = io.StringIO()
                with contextlib.redirect_stderr(buf), contextlib.redirect_stdout(io.StringIO()):
                    status = main(argv)
                lines = buf.getvalue().strip().splitlines()
                assert status == 2, (argv, lines)
                assert len(lines) == 1 and lines[0].startswith("verify-sublin: error:"), argv
                assert label in lines[0] and "Traceback" not in lines[0], (argv, lines)
                tried += 1
    assert tried > 100


def test_memory_guard_covers_deep_nets_and_sketches():
    """The two allocations the review found unguarded: a deep net's (L - 1) m^2 weights
    and a sketch of J^T with an absurd size factor. Both refused before allocating."""
    set_memory_limit(50 * 2**20)
    try:
        with pytest.raises(MemoryLimitError, match="m"):   # 64 MiB of weights
            vs.DeepShiftedReLUNet.init(2**11 + 64, 4, depth=3, shift=0.0, seed=0)
        with pytest.raises(MemoryLimitError, match="sketch_factor"):
            default_size("countsketch", 64, 1e12)
    finally:
        set_memory_limit(None)
    with pytest.raises(MemoryLimitError):
        vs.DeepShiftedReLUNet.init(10**6, 4, depth=2, shift=0.0, seed=0)
    net = vs.DeepShiftedReLUNet.init(64, 4, depth=2, shift=0.0, seed=0)
    assert net.weights[1].shape == (64, 64)


# ------------------------------------------------------ workers and signals
def _children(pid):
    """Live descendants of `pid` (zombies count as gone)."""
    import os
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if state != "Z":
                parents.setdefault(int(ppid), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pids):
    alive = []
    for pid in pids:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


#: the sweep the interrupt tests stop: about 19 s with --jobs 2 on a warm numba cache (the
#: tiny profile's few seconds ended before a signal 3 s after the workers started, once
#: rendering got faster), so a signal 0.5-3 s after the workers start lands inside it;
#: the tests stop it there and cost a few seconds each
SWEEP = ["--profile", "quick", "--claims", "cpi.sublinear_gn,rq.vs_first_order"]


def _start_sweep_with_workers(tmp_path, jobs=2):
    """`run --jobs 2` of `SWEEP` in its own process group, returned once both workers exist,
    after a random 0.5-3 s."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "verify_sublin.cli", "run", *SWEEP, "--out", str(out), "--jobs",
         str(jobs)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        kids = _children(proc.pid)
        if len(kids) >= jobs + 1:      # the workers and the resource tracker
            time.sleep(random.uniform(0.5, 3.0))
            return proc, out, _children(proc.pid)
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"workers never started: {proc.communicate()[1]}")


@pytest.mark.slow
def test_kill_9_of_the_coordinator_leaves_no_worker(tmp_path):
    """kill -9 of `run --jobs 2`: its workers and the resource tracker are gone within 5 s."""
    import os
    proc, _, kids = _start_sweep_with_workers(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    deadline = time.monotonic() + 5
    while _alive(kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(kids)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} of {len(kids)} children outlived the coordinator"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGINT to the group", "SIGINT to the group", "SIGTERM"])
def test_an_interrupt_stops_the_sweep_cleanly(tmp_path, how):
    """Ctrl-C (SIGINT to the whole process group) or SIGTERM to the coordinator of
    `run --jobs 2`: exit 130 (143 for SIGTERM), one line and no traceback, no worker
    left, no lease left, the store intact, and no run stored as failed by the interrupt."""
    import os
    proc, out, kids = _start_sweep_with_workers(tmp_path)
    if how == "SIGTERM":
        os.kill(proc.pid, signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    expected = 143 if how == "SIGTERM" else 130
    assert proc.returncode == expected, err
    assert "Traceback" not in err and err.count("interrupted") == 1, err
    assert err.strip().splitlines()[-1].startswith("verify-sublin: interrupted"), err
    deadline = time.monotonic() + 5
    while _alive(kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(kids)
    with sqlite3.connect(out / "results.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM runs WHERE status != 'done'").fetchone()[0] == 0


def test_sigterm_while_the_report_is_written_keeps_the_old_report(tmp_path, monkeypatch,
                                                                  capsys):
    """SIGTERM after the sweep, while `report.md` is being written: status 143 and the one
    line (not a silent death by the signal), the report folder still holds the previous
    report.md whole, and no temporary file is left beside it."""
    import os

    from verify_sublin.render import atomic
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "out"
    assert main(["run", "--profile", "tiny", "--claims", "width.requirement", "--out",
                 str(out)]) == 0
    (out / "report.md").write_text("the previous report\n")
    real = atomic._replace

    def replace_after_sigterm(src, dst):
        if Path(dst).name == "report.md":
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)                 # the handler raises before the sleep ends
        real(src, dst)

    monkeypatch.setattr(atomic, "_replace", replace_after_sigterm)
    capsys.readouterr()
    status = main(["report", "--store", str(out / "results.sqlite"), "--out", str(out),
                   "--profile", "tiny"])
    err = capsys.readouterr().err
    assert status == 143, err
    assert err.strip().splitlines()[-1].startswith("verify-sublin: interrupted (SIGTERM)")
    assert (out / "report.md").read_text() == "the previous report\n"
    assert not [p.name for p in out.iterdir() if p.name.endswith(".partial")]
    assert signal.getsignal(signal.SIGTERM) == before


def test_the_sigterm_handler_is_restored_and_left_alone_where_it_should_be():
    """Each in-process `main` call restores SIGTERM's handler; off the main thread, or
    where the host handles SIGTERM itself, `main` installs none."""
    from verify_sublin.bench.executors import sigterm_interrupts
    before = signal.getsignal(signal.SIGTERM)
    seen = []

    def look():
        with sigterm_interrupts():
            seen.append(signal.getsignal(signal.SIGTERM))

    for _ in range(2):
        look()
        assert signal.getsignal(signal.SIGTERM) == before
    assert callable(seen[0]) and seen[0] not in (signal.SIG_DFL, signal.SIG_IGN)
    worker = threading.Thread(target=look)
    worker.start()
    worker.join()
    assert seen[2] == before
    host = lambda signum, frame: None  # noqa: E731
    signal.signal(signal.SIGTERM, host)
    try:
        look()
        assert seen[3] is host and signal.getsignal(signal.SIGTERM) is host
    finally:
        signal.signal(signal.SIGTERM, before)


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    from verify_sublin.render.atomic import replacing, write_text
    target = tmp_path / "report.md"
    write_text(target, "old\n")
    with pytest.raises(ValueError), replacing(target) as tmp:
        tmp.write_text("half of the new")
        raise ValueError("the writer failed")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


# -------------------------------------------- a failed step, owned inputs
def _small_problem(n=16, d=8, m=512, c=0.3, seed=0):
    X, y = vs.sphere_data(n, d, seed=seed, labels="teacher")
    return vs.ShiftedReLUNet.init(m, d, c, seed=seed + 1), X, y


def test_a_failed_step_leaves_the_trainer_refusing():
    """A step that overflows raises NumericalError; every later step refuses with the
    reason instead of running on NaN weights (and no step is counted)."""
    net, X, y = _small_problem()
    trainer = vs.make_trainer("gd", net, X, y, eta=1e308)
    with pytest.raises(NumericalError, match="NaN or infinite"):
        trainer.step()
    for _ in range(2):
        with pytest.raises(NumericalError, match="cannot step any more.*step 0 failed"):
            trainer.step()
    assert trainer.steps_done == 0


@pytest.mark.parametrize("method", ["ggn", "sublinear_gn", "gd", "sketched_gn"])
def test_the_trainer_owns_its_inputs(method):
    """Changing the caller's X and y after construction does not change training: the
    residuals equal those of a trainer built on untouched copies."""
    net, X, y = _small_problem()
    X_mut, y_mut = X.copy(), y.copy()
    mutated = vs.make_trainer(method, net, X_mut, y_mut)
    X_mut[:] = X[::-1]
    y_mut[:] = -y
    clean = vs.make_trainer(method, net, X.copy(), y.copy())
    a = [r.residual_after for r in mutated.run(3)]
    b = [r.residual_after for r in clean.run(3)]
    assert a == b


def _near_duplicate(X, gap):
    X2 = X.copy()
    X2[1] = X2[0] + gap * np.eye(X.shape[1])[1]
    return vs.normalize(X2)


@pytest.mark.parametrize("gap", [1e-7, 1e-10, 1e-13])
@pytest.mark.parametrize("method,options", [("ggn", {}), ("sketched_gn", {}),
                                            ("sublinear_gn", {"solver": "sketch"})])
def test_sketched_solves_refuse_what_the_exact_solve_refuses(gap, method, options):
    """Two inputs `gap` apart make J J^T singular to rounding: the exact solve refused
    it, the sketched ones reported 'converged' while the residual grew 2e6-2e12 times.
    Every path now refuses the step (mu = 0) with a diagnosis naming the cause."""
    net, X, y = _small_problem()
    trainer = vs.make_trainer(method, net, _near_duplicate(X, gap), y, **options)
    with pytest.raises(NumericalError, match="singular|not numerically positive definite"):
        trainer.step()


def test_divergence_raises_for_gauss_newton_and_is_flagged_for_gd():
    """One rule for every method: a residual growing by more than DIVERGENCE_FACTOR in a
    step raises NumericalError for Gauss-Newton-type methods; gradient descent, whose
    steps may legitimately overshoot, reports it in StepResult.diverging."""
    from verify_sublin.core.trainers.base import DIVERGENCE_FACTOR
    net, X, y = _small_problem()
    ggn = vs.make_trainer("ggn", net, X, y, eta=1e6)
    r0 = ggn.residual
    with pytest.raises(NumericalError, match="grew"):
        ggn.step()
    # the same step, measured independently by a trainer whose rule cannot fire
    probe = vs.make_trainer("ggn", net, X, y, eta=1.0)
    g_step = probe.step()
    assert g_step.residual_after < r0 and not g_step.diverging
    gd = vs.make_trainer("gd", net, X, y, eta=1e200)
    res = gd.step()
    assert res.residual_after > DIVERGENCE_FACTOR * res.residual_before and res.diverging


def test_a_solver_that_stops_unconverged_raises():
    """PCG stopped by max_iter used to return its partial direction as if converged."""
    net, X, y = _small_problem(n=32)
    trainer = vs.make_trainer("sketched_gn", net, X, y, max_iter=1, tol=1e-14,
                              sketch="countsketch", sketch_factor=0.3)
    with pytest.raises(NumericalError, match="without converging.*max_iter"):
        trainer.step()


def test_pcg_on_tiny_and_huge_right_hand_sides():
    """n = 1, J = 0, mu tiny: PCG either solves mu g = r (g = r / mu, checked) or
    refuses with NumericalError; a right-hand side of 1e-300 is not 'exactly zero'."""
    from verify_sublin.core.solvers import pcg, sketch_precondition
    solved = 0
    for mu in [1e-300, 1e-305, 1e-310, 1e-320, 1e-250, 1e-200]:
        for r0 in [1.0, 1e-300, 1e300]:
            try:
                R, _ = sketch_precondition(np.zeros((8, 1)), mu)
                g, info, _ = pcg(lambda v, mu=mu: mu * v, np.array([r0]), R, tol=1e-10,
                                 max_iter=50)
            except NumericalError:
                continue
            assert info.stop_reason == "converged", (mu, r0, info)
            assert g[0] == pytest.approx(r0 / mu, rel=1e-10)
            solved += 1
    assert solved >= 5


def test_diagnoses_name_the_real_cause():
    """The misleading diagnoses of the review, each with its actual cause."""
    net, X, y = _small_problem()
    # labels near 1e156: the residual is finite (the squares overflowed) and the step
    # is not blamed on eta
    big = vs.make_trainer("ggn", net, X, y * 1e156)
    scaled = float(np.linalg.norm((net.forward(X) - y * 1e156) / 1e156)) * 1e156
    assert big.residual == pytest.approx(scaled, rel=1e-12)
    assert np.isfinite(big.step().residual_after)
    # a = 0: the Gram is zero because of a, not because inputs are parallel
    silent = vs.ShiftedReLUNet(net.W.copy(), np.zeros(net.m), net.shift)
    with pytest.raises(NumericalError, match="a_r") as info:
        vs.make_trainer("ggn", silent, X, y).step()
    assert "parallel" not in str(info.value)
    # nobody fires: gd raises NumericalError (README), ntk_krr blames the shift
    dead = vs.ShiftedReLUNet.init(64, X.shape[1], 50.0, seed=1)
    with pytest.raises(NumericalError):
        vs.make_trainer("gd", dead, X, y).step()
    with pytest.raises(NumericalError, match="shift") as info:
        vs.make_trainer("ntk_krr", dead, X, y).step()
    assert "repeated" not in str(info.value)
    # overflowed deep weights: not "lower the shift"
    deep = vs.DeepShiftedReLUNet.init(32, X.shape[1], depth=2, shift=0.0, seed=2)
    with np.errstate(over="ignore", invalid="ignore"):
        trainer = vs.make_trainer("deep_dense", deep, X, y, update="gd", eta=1e308)
        with pytest.raises(NumericalError) as info:
            for _ in range(3):
                trainer.step()
    assert "lower the shift" not in str(info.value)


def test_float32_inputs_normalised_in_float32_are_accepted():
    """Rows normalised in float32 are unit norm to float32 precision (about 1e-7 off),
    which the float64 tolerance (1e-8) refused; a row really off is still refused."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 300)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    assert np.abs(np.linalg.norm(X.astype(np.float64), axis=1) - 1).max() > 1e-8
    y = rng.standard_normal(16)
    trainer = vs.make_trainer("ggn", vs.ShiftedReLUNet.init(64, 300, 0.1, seed=1), X, y)
    assert trainer.X.dtype == np.float64
    with pytest.raises(InputError, match="row 0"):
        vs.make_trainer("ggn", vs.ShiftedReLUNet.init(64, 300, 0.1, seed=1), X * 1.001, y)


@pytest.mark.slow
def test_switching_a_store_to_wal_waits_for_a_writer(tmp_path):
    """The deterministic form of the creation race: a store not yet in WAL mode, with
    another connection in the middle of a write while it is opened. SQLite refuses the
    journal-mode change as busy at once, without its busy handler (the opener holds a
    shared lock and may not wait for the writer); opening retries until it is done."""
    from verify_sublin.bench.store import _SCHEMA
    path = tmp_path / "results.sqlite"
    with sqlite3.connect(path) as con:            # a first-schema store, rollback journal
        con.executescript(_SCHEMA)
    writer = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")          # a reserved lock, as while writing the schema
    timer = threading.Timer(1.0, writer.rollback)
    timer.start()
    try:
        store = ResultStore(path)
    finally:
        timer.join()
        writer.close()
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.record("k", "exp", {}, 0, "numpy", "tiny", "done", result={}) == 1


def test_an_interrupt_just_after_a_lease_is_taken_leaves_no_lease(tmp_path, monkeypatch):
    """An interrupt arrives between any two statements: here right after the lease is
    committed, before the runner has noted it. The cleanup must still release it (the
    CI failure 'a lease left after Ctrl-C', made deterministic)."""
    from verify_sublin.bench.executors import Interrupted
    from verify_sublin.bench.runner import PlannedRun
    from verify_sublin.bench.spec import RunSpec, run_key

    real = ResultStore.try_lease

    def interrupted_after_lease(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise Interrupted(signal.SIGINT)

    monkeypatch.setattr(ResultStore, "try_lease", interrupted_after_lease)
    spec = RunSpec("tree_check", {"m_max": 8, "n_max": 2, "d": 2, "trials": 1, "updates": 1},
                   seed=1)
    store = ResultStore(tmp_path / "r.sqlite")
    with pytest.raises(Interrupted):
        execute([PlannedRun(spec, run_key(spec, "numpy", "tiny"))], store, "tiny")
    with sqlite3.connect(tmp_path / "r.sqlite") as con:
        assert con.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0


def test_reading_a_store_leaves_no_files_beside_it(tmp_path, capsys):
    """report, export and compare open a store no process writes as immutable: no -shm
    or -wal file appears beside it (a committed store stays as committed)."""
    src = Path(__file__).resolve().parents[1] / "reports" / "large" / "results.sqlite"
    db = tmp_path / "results.sqlite"
    shutil.copyfile(src, db)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["report", "--store", str(db), "--out", str(tmp_path / "r")]) == 0
    assert main(["export", "--store", str(db), "--out", str(tmp_path / "e")]) == 0
    assert main(["compare", str(db), str(tmp_path / "r")]) == 0
    capsys.readouterr()
    after = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("r", "e"))
    assert after == before == ["results.sqlite"]
