#!/usr/bin/env python3
"""Keep asv's performance history in one series: one machine, one environment name.

asv files a result under the machine's description and the environment; with
`--python=same` the environment is named after the interpreter's path, so every venv
that records starts a new series, and `asv machine --yes` rewrites the machine's
description from the host. This script

* `install`: puts the committed .asv/results/MACHINE/machine.json into asv's
  per-user machine file (~/.asv-machine.json), so that `asv run --machine MACHINE`
  records under it and rewrites the committed file with the same bytes;
* `normalise`: rewrites every result file of MACHINE to the committed machine
  description, the interpreter's version instead of its path ("python": "3.11") and
  the environment name "existing-py3.11", renaming the files to match. Results of
  one commit recorded twice are merged (the later date wins per benchmark).

usage: tools/asv_series.py install|normalise [MACHINE]   (default machine: vm)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _machine_dir(machine: str) -> Path:
    return ROOT / ".asv" / "results" / machine


def _described(machine: str) -> dict:
    return json.loads((_machine_dir(machine) / "machine.json").read_text())


def install(machine: str) -> None:
    path = Path.home() / ".asv-machine.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[machine] = {k: v for k, v in _described(machine).items() if k != "version"}
    data["version"] = 1
    path.write_text(json.dumps(data, indent=4, sort_keys=True))


def _version(python: str) -> str:
    m = re.fullmatch(r"\d+\.\d+", str(python))
    if m:
        return python
    m = re.search(r"python(\d+\.\d+)", str(python))
    return m.group(1) if m else f"{sys.version_info.major}.{sys.version_info.minor}"


def normalise(machine: str) -> list[Path]:
    desc = {k: v for k, v in _described(machine).items() if k != "version"}
    merged: dict[Path, dict] = {}
    originals = []
    for f in sorted(_machine_dir(machine).glob("*.json")):
        if f.name in ("machine.json", "benchmarks.json"):
            continue
        data = json.loads(f.read_text())
        originals.append(f)
        py = _version(data.get("python") or data["params"].get("python", ""))
        data["params"] = {**data["params"], **desc, "python": py}
        data["python"] = py
        data["env_name"] = f"existing-py{py}"
        target = f.with_name(f"{data['commit_hash'][:8]}-{data['env_name']}.json")
        old = merged.get(target)
        if old is not None:
            first, last = sorted((old, data), key=lambda d: d["date"])
            results = {**first["results"], **last["results"]}
            durations = {**first.get("durations", {}), **last.get("durations", {})}
            data = {**last, "results": results, "durations": durations}
        merged[target] = data
    for f in originals:
        f.unlink()
    for target, data in merged.items():
        target.write_text(json.dumps(data))          # compact, as asv writes results
    return list(merged)


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    name = sys.argv[2] if len(sys.argv) > 2 else "vm"
    if action == "install":
        install(name)
    elif action == "normalise":
        for p in normalise(name):
            print(p.relative_to(ROOT))
    else:
        sys.exit(__doc__)
