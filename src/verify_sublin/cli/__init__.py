"""Command line: ``verify-sublin SUBCOMMAND``.

One module per subcommand (`run`, `report`, `reproduce`, `compare`, `export`, `claims`,
`info`, `demo`, `speed`, `speed_deep`), each declaring its options once
(`options.Option`: flags, default, converter, help). Errors in the arguments print one
line on stderr and exit with status 2; cheap options are checked before any plugin or
heavy module is imported.
"""

from __future__ import annotations

import argparse
import sys

from ..core.errors import VerifySublinError
from . import claims, compare, demo, export, info, options, report, reproduce, run, speed, speed_deep

__all__ = ["SUBCOMMANDS", "main"]

#: the subcommands, in the order of the help
SUBCOMMANDS = (run, report, reproduce, compare, info, claims, export, demo, speed, speed_deep)

#: subcommands that read the ledger or train: they load the installed plugins
_LOADS_PLUGINS = frozenset({"run", "report", "export", "compare", "claims", "demo", "reproduce"})


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the same form as the package's InputError)."""

    def error(self, message: str):
        print(f"verify-sublin: error: {message}", file=sys.stderr)
        raise SystemExit(2)


class _Help(argparse.RawDescriptionHelpFormatter):
    """Every option's default in its help (unless it is empty, or the help already says
    what an empty value means); examples (the epilog) printed as written."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (default in (None, "", False, [], argparse.SUPPRESS) or "%(default)" in text
                or not action.option_strings):
            return text
        return f"{text} (default: %(default)s)"


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


_PLUGIN = options.Option(
    ("--plugin",), None, None,
    "load a plugin module (entries, methods, experiments) before the command; repeatable, "
    "before or after the subcommand. Installed entry points (verify_sublin.methods, "
    "verify_sublin.claims) are always loaded", metavar="FILE.py")


def _add_plugin(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--plugin", action="append", default=default, metavar="FILE.py",
                        help=_PLUGIN.help)


def parser() -> argparse.ArgumentParser:
    """The argument parser, built from the subcommands' declarations."""
    from .. import __version__

    p = _Parser(prog="verify-sublin",
                description="Measured checks of the sublinear-time training claims. "
                            "Errors in the arguments print one line and exit with status 2.",
                formatter_class=_Help,
                epilog=_examples("verify-sublin run --profile quick",
                                 "verify-sublin compare reports/latest reports/full"))
    p.add_argument("--version", action="version", version=f"verify-sublin {__version__}")
    _add_plugin(p, [])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for mod in SUBCOMMANDS:
        sp = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP,
                            formatter_class=_Help, epilog=_examples(*mod.EXAMPLES))
        options.add(sp, mod.OPTIONS)
        _add_plugin(sp, argparse.SUPPRESS)
        sp.set_defaults(module=mod)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code or 0)
    mod = args.module
    from ..bench.executors import sigterm_interrupts
    try:
        with sigterm_interrupts():
            options.check(args, mod.OPTIONS, late=False)
            if args.plugin or args.command in _LOADS_PLUGINS:
                from ..plugins import load_plugins
                load_plugins(args.plugin)
            options.check(args, mod.OPTIONS, late=True)
            return mod.main(args)
    except VerifySublinError as exc:
        print(f"verify-sublin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        from ..bench.executors import interrupt_status
        status = interrupt_status(exc)
        resume = "; finished runs are stored, rerun to resume" if args.command == "run" else ""
        print(f"verify-sublin: interrupted ({status.name}){resume}", file=sys.stderr)
        return 128 + status.value
    except BrokenPipeError:         # `verify-sublin claims | head`: the reader left
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
