"""What a run is: its specification (`RunSpec`), its key in the store (`run_key`) and a
stored run as the layers above read it (`RunRecord`).

A run is one call of a registered experiment with parameters and a seed; its key is
the hash of (experiment, parameters, seed, backend, profile), so the same
specification at another profile or backend is another run. Cost: O(size of the
parameters) per key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["RunRecord", "RunSpec", "run_key"]


@dataclass(frozen=True)
class RunSpec:
    """One run an experiment must make: experiment name, parameters, seed.

    >>> RunSpec("training", {"m": 512, "c": 0.4}, seed=2).canonical()
    '{"experiment":"training","params":{"c":0.4,"m":512},"seed":2}'
    """

    experiment: str
    params: dict
    seed: int = 0

    def canonical(self) -> str:
        return json.dumps({"experiment": self.experiment, "params": self.params,
                           "seed": self.seed}, sort_keys=True, separators=(",", ":"))


def run_key(spec: RunSpec, backend: str, profile: str) -> str:
    """A run's key: SHA-256 of (experiment, parameters, seed, backend, profile)."""
    text = json.dumps({"spec": json.loads(spec.canonical()), "backend": backend,
                       "profile": profile}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class RunRecord:
    """A stored run as the ledger sees it.

    Attributes
    ----------
    id, key : int, str
        The run's row id in the store (its public id) and its key.
    spec : RunSpec
    status : str
        "done" or "failed".
    result : a typed result (`verify_sublin.bench.results`), a dict for an experiment
        registered without a result type, or None for a failed run.
    error : str or None
        Why the run failed.
    commit : str
        The git commit of the code that made the run.
    seconds : float
        The run's wall time.
    """

    id: int
    key: str
    spec: RunSpec
    status: str
    result: Any
    error: str | None
    commit: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "done"

    @property
    def params(self) -> dict:
        """The run's parameters (`spec.params`)."""
        return self.spec.params

    @property
    def experiment(self) -> str:
        return self.spec.experiment
