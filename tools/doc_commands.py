"""The verify-sublin commands shown to readers, and how long each took when run.

Readers copy the commands of README.md, docs/*.md and the subcommands' ``--help``
examples. This module finds them (`commands`), runs them in document order in a scratch
copy of the repository and records each one's wall clock (`python tools/doc_commands.py
time`), so that ``property_tests/test_doc_commands.py`` can hold every shown command to
the command-line parser and to a stated time when it takes more than five minutes.

A shown command is a line of a ``sh`` block starting with ``verify-sublin``; a trailing
``# ...`` is its comment, where a time is stated as "about 25 min", "20 s", "1 h" and
the like. A command naming a placeholder in capitals (``tcp://SCHEDULER:8786``,
``FILE.py``) is a template: checked against the parser, never timed.

    python tools/doc_commands.py list                 # the commands, where they are shown
    python tools/doc_commands.py time                 # time the untimed or changed ones
    python tools/doc_commands.py time --match 'speed'  # only those containing 'speed'
    python tools/doc_commands.py time --again          # time them all again

Times go to ``docs/command_times.json`` (command -> seconds, exit status, commit, date,
load average before and after, cores). Cost: each command as long as it takes; the
whole README and docs in about the sum of their stated times.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT / "docs" / "command_times.json"
#: a shown command longer than this must state its time on its line
LIMIT_SECONDS = 300
#: a stated time: a number and a unit
_TIME = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|seconds?|min|minutes?|h|hours?)\b")
_UNIT = {"s": 1, "sec": 1, "second": 1, "seconds": 1, "min": 60, "minute": 60,
         "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600}
_PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{2,}\b")


@dataclass(frozen=True)
class Shown:
    """One command as a reader sees it."""

    command: str        #: the command, without its comment
    comment: str        #: the text after '#', or ""
    where: str          #: file:line, or 'help of SUBCOMMAND'

    @property
    def argv(self) -> list[str]:
        """The arguments after ``verify-sublin``."""
        return shlex.split(self.command)[1:]

    @property
    def template(self) -> bool:
        """True when the command names a placeholder (SCHEDULER, FILE.py, DIR)."""
        return bool(_PLACEHOLDER.search(self.command.replace("--", " ")))

    @property
    def stated_seconds(self) -> float | None:
        """The time the comment states (the largest, when it gives a range), or None."""
        found = [float(v) * _UNIT[u] for v, u in _TIME.findall(self.comment)]
        return max(found) if found else None


def _split_comment(line: str) -> tuple[str, str]:
    """'cmd  # note' -> ('cmd', 'note'); a '#' inside quotes is part of the command."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip(), line[i + 1:].strip()
    return line.strip(), ""


def doc_files() -> list[Path]:
    """README.md, then docs/*.md in name order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def from_markdown(path: Path) -> list[Shown]:
    """The verify-sublin lines of the sh blocks of one Markdown file, in order."""
    out, block = [], False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fence = line.strip()
        if fence.startswith("```"):
            block = (not block) and fence[3:].strip() in ("sh", "bash", "console")
            continue
        if not block:
            continue
        line, comment = _split_comment(line)
        for part in line.split("&&"):        # 'pip install . && verify-sublin run ...'
            if part.strip().startswith("verify-sublin"):
                out.append(Shown(part.strip(), comment, f"{path.relative_to(ROOT)}:{number}"))
    return out


def from_help() -> list[Shown]:
    """The examples every subcommand's --help ends with."""
    from verify_sublin.cli import SUBCOMMANDS
    out = []
    for mod in SUBCOMMANDS:
        for line in mod.EXAMPLES:
            command, comment = _split_comment(line)
            out.append(Shown(command, comment, f"help of {mod.NAME}"))
    return out


def commands(help_examples: bool = True) -> list[Shown]:
    """Every shown command: README and docs in reading order, then the help examples."""
    found = [s for path in doc_files() for s in from_markdown(path)]
    return found + (from_help() if help_examples else [])


def load_times() -> dict:
    return json.loads(TIMES.read_text()) if TIMES.exists() else {}


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _time_one(shown: Shown, workdir: Path, timeout: float) -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    started, load = time.perf_counter(), _load()
    try:
        proc = subprocess.run(shlex.split(shown.command), cwd=workdir, env=env,
                              capture_output=True, text=True, timeout=timeout)
        status, tail = proc.returncode, (proc.stderr or proc.stdout)[-400:]
    except subprocess.TimeoutExpired:
        status, tail = "timeout", f"stopped after {timeout:.0f} s"
    seconds = time.perf_counter() - started
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    return {"seconds": round(seconds, 1), "status": status, "commit": commit,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_before": load, "load_after": _load(), "cores": os.cpu_count(),
            "tail": tail if status != 0 else ""}


def _time(args) -> int:
    times = load_times()
    todo = [s for s in commands() if not s.template
            and (args.match is None or args.match in s.command)]
    scratch = (contextlib.nullcontext() if args.here
               else tempfile.TemporaryDirectory(prefix="doc-commands-"))
    with scratch as tmp:
        work = ROOT if args.here else Path(tmp) / "repo"
        if not args.here:
            shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(
                ".git", ".tox", ".asv", "latest", "__pycache__", "*.egg-info"))
        seen = set()
        for shown in todo:
            if shown.command in seen:
                continue
            seen.add(shown.command)
            if shown.command in times and not args.again:
                continue
            print(f"[{time.strftime('%H:%M:%S')}] {shown.where}: {shown.command}", flush=True)
            times[shown.command] = _time_one(shown, work, args.timeout)
            rec = times[shown.command]
            print(f"    {rec['seconds']} s, status {rec['status']}, load {rec['load_before']}",
                  flush=True)
            TIMES.parent.mkdir(exist_ok=True)
            tmp_out = TIMES.with_suffix(".json.tmp")
            tmp_out.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")
            tmp_out.replace(TIMES)
    return 0


def _list(args) -> int:
    times = load_times()
    for s in commands():
        rec = times.get(s.command)
        took = "template" if s.template else (f"{rec['seconds']} s" if rec else "not timed")
        print(f"{s.where:28s} {took:>10s}  {s.command}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    sub.add_parser("list", help="the shown commands and their recorded times")
    t = sub.add_parser("time", help="run the shown commands and record their times")
    t.add_argument("--match", help="only the commands containing this text")
    t.add_argument("--again", action="store_true", help="time those already timed too")
    t.add_argument("--here", action="store_true", help="run in the repository itself, not a "
                   "scratch copy (for the commands that remake the committed reports; use "
                   "with --match)")
    t.add_argument("--timeout", type=float, default=7200, help="seconds before a command "
                   "is stopped and recorded as 'timeout' (default: %(default)s)")
    args = p.parse_args(argv)
    return _list(args) if args.what == "list" else _time(args)


if __name__ == "__main__":
    sys.exit(main())
