"""Every verify-sublin command shown to a reader (README.md, docs/*.md, each subcommand's
--help examples) is one the command line accepts, and one that states its time when it
takes more than five minutes.

The commands are parsed by the real parser and their values checked by the options'
own converters (those that look at files are left out: a shown ``--store
reports/latest/results.sqlite`` exists only after the command before it). Times come
from ``docs/command_times.json``, written by ``python tools/doc_commands.py time``, which
runs every shown command in document order in a scratch copy of the repository; a command
not in it fails here until it is timed, so an example cannot change unmeasured.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import doc_commands  # noqa: E402

from verify_sublin.cli import options, parser  # noqa: E402
from verify_sublin.plugins import load_plugins  # noqa: E402

SHOWN = doc_commands.commands()
TIMES = doc_commands.load_times()
#: converters that read or probe the file system: checked by their own tests
_FILE_CONVERTERS = {options.folder, options.store_file, options.existing_store,
                    options.results_path}
#: a stated time may be this much below the measured one (noise of a busy machine)
UNDERSTATED = 1.5
#: ... and, for a command over the limit, this much above it
OVERSTATED = 3.0


def _id(shown):
    return f"{shown.where}: {shown.command}"


def test_commands_found():
    """The extraction sees the README's main job and the help examples."""
    where = {s.where.split(":")[0] for s in SHOWN}
    assert "README.md" in where and "help of run" in where
    assert any(s.argv[:3] == ["run", "--profile", "quick"] for s in SHOWN)


@pytest.mark.parametrize("shown", SHOWN, ids=_id)
def test_command_parses(shown, monkeypatch, capsys, registries):
    """The parser accepts the command, and every value passes its option's converter."""
    monkeypatch.chdir(ROOT)
    try:
        args = parser().parse_args(shown.argv)
    except SystemExit:
        pytest.fail(f"{shown.where}: {shown.command}: {capsys.readouterr().err.strip()}")
    mod = args.module
    checked = [o for o in mod.OPTIONS if o.convert not in _FILE_CONVERTERS]
    options.check(args, checked, late=False)
    load_plugins(args.plugin)
    options.check(args, checked, late=True)


def test_stated_time_is_read():
    """The time reader: an independent reading of a few comments."""
    s = doc_commands.Shown
    assert s("verify-sublin x", "about 25 min on 2 cores", "").stated_seconds == 1500
    assert s("verify-sublin x", "20-40 s", "").stated_seconds == 40
    assert s("verify-sublin x", "1.5 h, peak 9 GiB", "").stated_seconds == 5400
    assert s("verify-sublin x", "a subset", "").stated_seconds is None
    assert s("verify-sublin run --scheduler tcp://SCHEDULER:8786", "", "").template
    assert not s("verify-sublin run --profile full --jobs 2", "", "").template


@pytest.mark.parametrize("shown", [s for s in SHOWN if not s.template], ids=_id)
def test_command_timed_and_honest(shown):
    """Timed, finished with status 0, and within five minutes or saying how long."""
    rec = TIMES.get(shown.command)
    assert rec is not None, (f"{shown.where}: `{shown.command}` was never timed: run "
                             f"python tools/doc_commands.py time")
    assert rec["status"] == 0, f"{shown.where}: `{shown.command}` ended {rec['status']}: " \
                               f"{rec.get('tail', '')}"
    took, stated = rec["seconds"], shown.stated_seconds
    if took > doc_commands.LIMIT_SECONDS:
        assert stated is not None, (f"{shown.where}: `{shown.command}` took {took:.0f} s "
                                    "and its line states no time")
        assert stated <= OVERSTATED * took, (f"{shown.where}: states {stated:.0f} s, "
                                             f"took {took:.0f} s")
    if stated is not None:
        assert stated * UNDERSTATED >= took, (f"{shown.where}: `{shown.command}` states "
                                              f"{stated:.0f} s and took {took:.0f} s")


def test_plugin_snippet_is_the_example():
    """The plugin shown in docs/entries.md is the example file, docstring left out."""
    text = (ROOT / "docs" / "entries.md").read_text()
    blocks = [b.split("\n", 1)[1] for b in text.split("```python")[1:]]
    snippet = next(b.split("```")[0] for b in blocks if "ENTRIES = [ENTRY]" in b)
    source = (ROOT / "examples" / "plugin_gd_half.py").read_text()
    body = ast.parse(source).body
    start = body[1].lineno if isinstance(body[0], ast.Expr) else 1
    assert snippet.strip() == "\n".join(source.splitlines()[start - 1:]).strip()
