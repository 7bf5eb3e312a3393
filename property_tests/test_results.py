"""Typed results: every stored result of both committed stores loads into its
experiment's type and round-trips to the same JSON; a result that drifts from its type
(a field missing or unknown, a newer schema) is refused with the field named; the
measured fields are the machine's (times, memory), the rest computed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from verify_sublin.bench.experiments import BUILTIN, EXPERIMENTS, typed_result
from verify_sublin.bench.results import FireSetsInit, StepSpeed, TimeToEps, Training
from verify_sublin.bench.schema import Result, is_measured, measured_fields
from verify_sublin.core.errors import ResultError

REPORTS = Path(__file__).resolve().parents[1] / "reports"


@pytest.mark.parametrize("profile", ["full", "large"])
def test_both_committed_stores_load_into_their_types(profile):
    db = REPORTS / profile / "results.sqlite"
    if not db.exists():
        pytest.fail(f"{db} is missing from this checkout")
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    rows = con.execute("SELECT experiment, result FROM runs WHERE status = 'done'").fetchall()
    assert rows
    for experiment, text in rows:
        stored = json.loads(text)
        result = typed_result(EXPERIMENTS[experiment], stored)
        assert isinstance(result, EXPERIMENTS[experiment].result), experiment
        stored.pop("_schema", None)
        assert result.to_dict() == stored, experiment


def test_every_builtin_experiment_has_a_result_type():
    assert all(e.result is not None and issubclass(e.result, Result) for e in BUILTIN)


def test_a_result_that_drifts_from_its_type_is_refused_naming_the_field():
    good = {"sizes": [3, 4], "mean": 3.5, "max": 4, "min": 3, "mQ": 3.2, "Q": 0.05, "b": 1.6,
            "bound": 9.0, "union": 6}
    assert FireSetsInit.from_dict(good).union == 6
    with pytest.raises(ResultError, match="lacks the fields union"):
        FireSetsInit.from_dict({k: v for k, v in good.items() if k != "union"})
    with pytest.raises(ResultError, match="unknown fields extra"):
        FireSetsInit.from_dict({**good, "extra": 1})
    with pytest.raises(ResultError, match="schema 2"):
        FireSetsInit.from_dict({**good, "_schema": 2})
    assert FireSetsInit.from_dict({**good, "_schema": 1}).to_dict(schema=True)["_schema"] == 1


def test_measured_fields_are_the_machine_s_and_only_those():
    assert set(measured_fields(StepSpeed)) == {"median", "times", "phases", "floor"}
    assert measured_fields(TimeToEps)["peak_rss"] == "memory"
    assert set(measured_fields(Training)) == {"build_seconds", "seconds", "time_cap",
                                              "cap_reference"}
    assert is_measured("phases.gram", ["phases"]) and is_measured("times[3]", ["times"])
    assert not is_measured("total_ops", ["times", "phases"])
