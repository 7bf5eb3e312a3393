"""Command line: ``verify-sublin SUBCOMMAND``.

Errors in the arguments print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from ..core.errors import VerifySublinError

__all__ = ["main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from .. import ShiftedReLUNet, make_trainer, shift_for, sphere_data

    X, y = sphere_data(args.n, args.d, seed=args.seed, labels="teacher")
    b = shift_for(args.m, args.c)
    net = ShiftedReLUNet.init(args.m, args.d, b, seed=args.seed + 1)   # not the data's seed
    print(f"m={args.m} n={args.n} d={args.d} b=sqrt({args.c} ln m)={b:.4f} seed={args.seed}")
    for method in args.methods:
        t0 = time.perf_counter()
        opts = {"fire_sets": "cache"} if method == "sublinear_gn" and args.backend != "numpy" else {}
        trainer = make_trainer(method, net, X, y, backend=args.backend, **opts)
        print(f"\n{method}: built in {time.perf_counter() - t0:.2f} s, "
              f"residual {trainer.residual:.3e}")
        print(f"{'step':>4} {'residual':>11} {'ratio':>7} {'|U|':>7} {'max|S_i|':>9} {'ms':>8}")
        for res in trainer.run(args.steps, tol=args.tol):
            print(f"{res.step:>4} {res.residual_after:>11.3e} {res.contraction:>7.3f} "
                  f"{res.union_size:>7} {int(res.fire_set_sizes.max()):>9} "
                  f"{1e3 * res.total_time:>8.2f}", flush=True)
    return 0


def _int_list(text: str, name: str = "--m") -> list[int]:
    """'2^12,2^16,1000' -> [4096, 65536, 1000]; anything else is an InputError."""
    from ..core.errors import InputError
    out = []
    for part in str(text).split(","):
        m = re.fullmatch(r"\s*(\d{1,12})(?:\^(\d{1,3}))?\s*", part)
        if not m:
            raise InputError(name, repr(text), "comma-separated integers or powers like 2^20")
        out.append(int(m.group(1)) ** int(m.group(2)) if m.group(2) else int(m.group(1)))
    return out


def _float_list(text: str, name: str = "--c") -> list[float]:
    from ..core.errors import InputError, check_float
    try:
        values = [float(x) for x in str(text).split(",")]
    except ValueError:
        raise InputError(name, repr(text), "comma-separated numbers") from None
    return [check_float(name, v, minimum=0.0) for v in values]


# ------------------------------------------------------------ option checks
# Every option of every subcommand is checked by one converter below, applied to the
# parsed value before the command runs (`_CHECKS`); a bad value is one InputError naming
# the option. The generated CLI test walks this table and the parser together, so an
# option added without a check fails the suite.

def _positive(name: str, value) -> int:
    from ..core.errors import check_int
    return check_int(name, value, minimum=1)


def _count(name: str, value) -> int:
    from ..core.errors import check_int
    return check_int(name, value, minimum=0)


def _seed(name: str, value) -> int:
    from ..core.errors import check_seed
    return check_seed(name, value)


def _run_id(name: str, value) -> int:
    from ..core.errors import check_int
    return check_int(name, value, minimum=1, maximum=2**63 - 1)


def _nonneg_float(name: str, value) -> float:
    from ..core.errors import check_float
    return check_float(name, value, minimum=0.0)


def _positive_float(name: str, value) -> float:
    from ..core.errors import check_float
    return check_float(name, value, minimum=0.0, strict_min=True)


def _factor(name: str, value) -> float:
    from ..core.errors import check_float
    return check_float(name, value, minimum=1.0)


def _width(name: str, value) -> int:
    from ..core.errors import InputError
    widths = _int_list(value, name)
    if len(widths) != 1 or widths[0] < 1:
        raise InputError(name, repr(value), "one width >= 1, e.g. 2^20")
    return widths[0]


def _widths(name: str, value) -> list[int]:
    from ..core.errors import InputError
    if not str(value).strip():
        return []
    widths = _int_list(value, name)
    if min(widths) < 1:
        raise InputError(name, repr(value), "comma-separated integers >= 1")
    return widths


def _shifts(name: str, value) -> list[float]:
    return _float_list(value, name)


def _size(name: str, value):
    from ..core.memory import parse_size
    return parse_size(value, name) if str(value).strip() else None


def _profile(name: str, value) -> str:
    from ..core.errors import check_choice
    from ..ledger.ledger import PROFILES
    return check_choice(name, value, PROFILES)


def _backend(name: str, value) -> str:
    from ..core.backend import BACKEND_CHOICES
    from ..core.errors import check_choice
    return check_choice(name, value, BACKEND_CHOICES)


def _claim_ids(name: str, value) -> list[str] | None:
    """None (option absent): every claim; otherwise a non-empty list of known ids,
    duplicates removed in order."""
    from ..core.errors import InputError
    from ..ledger import resolve_claims
    if value is None:
        return None
    ids = list(dict.fromkeys(part.strip() for part in str(value).split(",") if part.strip()))
    if not ids:
        raise InputError(name, repr(value), "at least one claim id (omit the option for all)")
    try:
        return resolve_claims(ids)
    except InputError as exc:
        raise InputError(name, exc.given, exc.expected) from None


def _methods(name: str, value) -> list[str]:
    from ..core.errors import InputError
    from ..core.trainers import METHODS
    names = [part.strip() for part in str(value).split(",")]
    unknown = [x for x in names if x not in METHODS]
    if unknown or not names:
        raise InputError(name, repr(value), "comma-separated methods from " + ", ".join(METHODS))
    return names


def _folder(name: str, value) -> Path:
    """A folder to write into: new, or an existing directory (never an existing file)."""
    from ..core.errors import InputError
    path = Path(value)
    if not str(value).strip():
        raise InputError(name, repr(value), "a folder path")
    if path.exists() and not path.is_dir():
        raise InputError(name, f"the existing file {path}", "a folder (new or existing)")
    return path


def _store_file(name: str, value) -> Path | None:
    """A store to create or extend ('' for the default): never a directory."""
    from ..core.errors import InputError
    if not str(value).strip():
        return None
    path = Path(value)
    if path.is_dir():
        raise InputError(name, f"the directory {path}", "a results database file")
    return path


def _existing_store(name: str, value) -> Path:
    from ..core.errors import InputError
    path = Path(value)
    if not path.is_file():
        raise InputError(name, str(path), "an existing results database file")
    return path


def _verdicts(name: str, value) -> set[str]:
    return _verdict_list(value, name)


def _formats(name: str, value) -> list[str]:
    from ..core.errors import InputError
    from ..render.export import FORMATS
    formats = list(dict.fromkeys(f.strip() for f in str(value).split(",") if f.strip()))
    if not formats or set(formats) - set(FORMATS):
        raise InputError(name, repr(value), "comma-separated formats from " + ", ".join(FORMATS))
    return formats


def _results(name: str, value) -> Path:
    """compare's A and B: a report folder or a results database that exists."""
    from ..core.errors import InputError
    path = Path(value)
    if not str(value).strip() or not path.exists():
        raise InputError(name, repr(str(value)), "an existing report folder or results database")
    return path


def _profile_or_default(name: str, value) -> str:
    return _profile(name, value) if str(value) else ""


def _scheduler(name: str, value) -> str:
    from ..core.errors import InputError
    value = str(value).strip()
    if value and not re.fullmatch(r"[a-z]+://\S+", value):
        raise InputError(name, repr(value), "a Dask scheduler address such as tcp://host:8786")
    return value


#: subcommand -> {option dest: converter}. Flags and options with argparse `choices` are
#: checked by argparse itself and listed with None.
_CHECKS: dict[str, dict] = {
    "run": {"profile": _profile, "claims": _claim_ids, "out": _folder, "store": _store_file,
            "recompute": None, "quiet": None, "jobs": _positive, "scheduler": _scheduler,
            "backend": _backend, "memory_limit": _size, "fail_on": _verdicts},
    "reproduce": {"run_id": _run_id, "store": _existing_store, "time_factor": _factor,
                  "memory_limit": _size},
    "report": {"store": _existing_store, "out": _folder, "profile": _profile,
               "claims": _claim_ids, "backend": _backend},
    "info": {},
    "claims": {},
    "export": {"store": _existing_store, "out": _folder, "format": _formats},
    "compare": {"a": _results, "b": _results, "profile": _profile_or_default,
                "backend": _backend, "fail_on_change": None},
    "demo": {"m": _positive, "n": _positive, "d": _positive, "c": _nonneg_float,
             "steps": _positive, "tol": _nonneg_float, "seed": _seed, "methods": _methods,
             "backend": _backend},
    "speed": {"m": _width, "n": _positive, "d": _positive, "c": _shifts, "steps": _positive,
              "warmup": _count, "seed": _seed, "tree": None, "sketched": None,
              "slopes": _widths, "repeats": _count, "eps": _nonneg_float},
    "speed-deep": {"m": _width, "n": _positive, "d": _positive, "depth": _positive,
                   "c": _shifts, "steps": _positive, "warmup": _count, "update": None,
                   "mu": _nonneg_float, "scaling": None, "seed": _seed, "slopes": _widths,
                   "periods": _widths, "window": _positive},
}


#: options given by position, named by their dest in messages
_POSITIONAL = frozenset({"run_id", "a", "b"})


def _check_args(args: argparse.Namespace) -> None:
    """Apply `_CHECKS` to the parsed options of `args.command` (in place)."""
    for dest, convert in _CHECKS.get(args.command, {}).items():
        if convert is not None:
            option = dest if dest in _POSITIONAL else "--" + dest.replace("_", "-")
            setattr(args, dest, convert(option, getattr(args, dest)))


def _cmd_speed(args: argparse.Namespace) -> int:
    from ..bench.speed import compare_methods, end_to_end, log2_label, scaling, tree_timings

    def progress(msg: str) -> None:
        print(f"  ... {msg}", file=sys.stderr, flush=True)

    m, cs = args.m, args.c
    print(f"Speed comparison: n={args.n} d={args.d} m={log2_label(m)} seed={args.seed}, "
          f"median of {args.steps} steps after {args.warmup} warm-up step(s), one process")
    for c in cs:
        if args.tree:
            t = tree_timings(m, args.n, args.d, c, args.seed, args.steps)
            print(f"\nCorrelation tree at c={c} (b={t['config']['b']:.4f}): floor X@W.T "
                  f"{1e3 * t['floor']:.1f} ms | build {1e3 * t['build']:.1f} ms "
                  f"({t['build'] / t['floor']:.1f}x floor) | "
                  f"query_all {1e3 * t['query_all']:.1f} ms "
                  f"({t['query_visits']} visits for {t['fire_set_total']} reported) | update of "
                  f"the union ({t['union_size']} neurons) {1e3 * t['update_union']:.1f} ms")
        res = compare_methods(m, args.n, args.d, c, args.seed, args.steps, args.warmup,
                              sketched=args.sketched, progress=progress)
        print(f"\nc={c}  b={res['config']['b']:.4f}  floor np.matmul(X, W.T, out=buf) = "
              f"{1e3 * res['floor']:.1f} ms")
        print(f"{'method':28} {'median ms':>10} {'x floor':>8} {'ggn/this':>9} {'|U|':>8} "
              f"{'fire':>7} {'gram':>7} {'solve':>7} {'update':>7} {'tree':>7}")
        for row in res["rows"]:
            ph = row["phases"]
            print(f"{row['name']:28} {1e3 * row['median']:>10.2f} {row['vs_floor']:>8.2f} "
                  f"{row['vs_ggn']:>9.1f} {row['union_size']:>8} "
                  + " ".join(f"{1e3 * ph[k]:>7.2f}" for k in ("fire_sets", "gram", "solve",
                                                              "update", "tree")))
        if args.repeats:
            _print_end_to_end(end_to_end(m, args.n, args.d, c, args.seed, args.eps,
                                         args.repeats, sketched=args.sketched,
                                         progress=progress))
        t = {r["name"].replace("sublinear ", ""): r["median"] for r in res["rows"]}
        if "tree explicit" in t and "cache explicit" in t:
            print(f"tree overhead over tree-free maintenance: explicit "
                  f"{t['tree explicit'] / t['cache explicit']:.2f}x, "
                  f"implicit {t['tree implicit'] / t['cache implicit']:.2f}x")
            print(f"explicit over implicit pre-activations: cache "
                  f"{t['cache explicit'] / t['cache implicit']:.2f}x, "
                  f"tree {t['tree explicit'] / t['tree implicit']:.2f}x")
    if args.slopes:
        ms = args.slopes
        for c in cs:
            sc = scaling(ms, args.n, args.d, c, args.seed, args.steps, args.warmup,
                         progress=progress)
            print(f"\nScaling in m at c={c} over m = {', '.join(log2_label(x) for x in ms)} "
                  f"(claimed exponent of m^(1-alpha): {1 - c / 2:.3f})")
            print(f"{'method':28} {'slope time':>10} {'slope ops':>10} {'slope |U|':>10} "
                  f"{'slope claim':>11}")
            for name, sl in sc["slopes"].items():
                print(f"{name:28} {sl['time']:>10.3f} {sl['ops']:>10.3f} {sl['union']:>10.3f} "
                      f"{sl['claimed']:>11.3f}")
            for name, s in sc["series"].items():
                print(f"  {name}: ms/step " + ", ".join(f"{1e3 * t:.2f}" for t in s["median"])
                      + " | ops " + ", ".join(f"{o:.3g}" for o in s["total_ops"]))
    return 0


def _print_end_to_end(res: dict) -> None:
    """The end-to-end table of `speed.end_to_end`: construction included."""
    cfg = res["config"]
    print(f"\nEnd to end at c={cfg['c']}: construction + steps to ||f - y|| <= {cfg['eps']:g}, "
          f"median of {cfg['repeats']} fresh trainers (floor {1e3 * res['floor']:.1f} ms)")
    print(f"{'method':28} {'construct ms':>12} {'x floor':>8} {'step ms':>9} {'T':>6} "
          f"{'total ms':>9} {'ggn/this':>9}")
    for row in res["rows"]:
        steps = "/".join(str(t) for t in sorted(set(row["T"])))
        mark = "" if row["reached"] else "  (eps not reached)"
        print(f"{row['name']:28} {1e3 * row['construct']:>12.1f} {row['construct_x_floor']:>8.2f} "
              f"{1e3 * row['step']:>9.2f} {steps:>6} {1e3 * row['total']:>9.1f} "
              f"{row['vs_ggn']:>9.2f}{mark}")


def _fmt_seconds(s: float) -> str:
    if s != s or s == float("inf"):
        return "?"
    s = round(s)
    return f"{s // 60}:{s % 60:02d}"


#: the time estimate is shown once this many runs have finished (before: "?")
ETA_AFTER_RUNS = 3


def _run_label(run) -> str:
    """'m=2^20 n=64 c=0.4 step_speed method=ggn': the sizes first, so that a shortened
    line never loses them."""
    from ..render.report import _pow2_or_number

    p = run.spec.params
    sizes = " ".join(f"{k}={_pow2_or_number(p[k])}" for k in ("m", "n", "d", "c", "depth")
                     if k in p)
    rest = " ".join(f"{k}={p[k]}" for k in ("method", "variant", "dataset", "label") if k in p)
    return " ".join(x for x in (sizes, run.spec.experiment, rest) if x)


def _progress_printer(stream=sys.stderr):
    """Progress lines for `run`: a bar on a terminal, one line per run otherwise."""
    tty = stream.isatty()

    def show(ev: dict) -> None:
        total = max(ev["total"], 1)
        desc = _run_label(ev["run"])
        eta = _fmt_seconds(ev["eta"]) if ev["index"] >= ETA_AFTER_RUNS else "?"
        if ev["status"] == "start":
            if tty:
                done = int(30 * ev["index"] / total)
                line = (f"[{'#' * done}{'.' * (30 - done)}] {ev['index']}/{total} "
                        f"elapsed {_fmt_seconds(ev['elapsed'])} ETA {eta}  {desc}")
                stream.write(f"\r{line[:150]:<150}")
                stream.flush()
            return
        if not tty or ev["status"] == "failed":
            status = ev["status"] if ev["status"] == "done" else f"FAILED: {ev.get('error')}"
            stream.write(("\n" if tty else "") +
                         f"[{ev['index']}/{total}] run {ev['id']} {desc} {ev['seconds']:.1f} s "
                         f"{status} (elapsed {_fmt_seconds(ev['elapsed'])}, ETA {eta})\n")
            stream.flush()

    return show


def _store_path(args: argparse.Namespace) -> Path:
    return args.store if args.store else args.out / "results.sqlite"


def _warn_malformed(store) -> None:
    """One line per stored run skipped because its JSON did not decode."""
    for run_id, column in sorted(store.malformed.items()):
        print(f"verify-sublin: warning: run {run_id} skipped: malformed JSON in column "
              f"{column}", file=sys.stderr)


def _jobs(requested: int, runs: int) -> int:
    """--jobs capped at the cores of this machine and the runs there are to make."""
    import os
    return max(1, min(requested, os.cpu_count() or 1, runs))


def _cmd_run(args: argparse.Namespace) -> int:
    from ..bench.executors import interrupts_stop_the_sweep, make_executor
    from ..bench.store import ResultStore
    from ..core.backend import resolve_backend
    from ..ledger import execute, plan
    from ..render.report import render_report

    profile, ids = args.profile, args.claims
    fail_on = args.fail_on
    backend = resolve_backend(args.backend).name   # InputError says why CuPy is unusable
    planned = plan(ids, profile, backend)
    _apply_memory_limit(args)
    store = ResultStore(_store_path(args))
    jobs = _jobs(args.jobs, len(planned))
    # local workers load the same plugins, so that plugin experiments unpickle there
    from ..plugins import load_plugins
    setup = (load_plugins, ([str(Path(p).resolve()) for p in args.plugin],))
    executor = make_executor(jobs, args.scheduler or None, setup)
    t0 = time.perf_counter()
    capped = f" (--jobs {args.jobs} capped)" if jobs < args.jobs and not args.scheduler else ""
    print(f"verify-sublin run: profile {profile}, backend {backend}, {len(planned)} runs "
          f"planned, store {store.path}, {executor.slots} worker slot(s){capped}",
          file=sys.stderr, flush=True)
    with interrupts_stop_the_sweep(executor):
        counts = execute(planned, store, profile, backend=backend, recompute=args.recompute,
                         progress=None if args.quiet else _progress_printer(),
                         executor=executor)
    _warn_malformed(store)
    previous = _previous_verdicts(args.out, store, profile, backend)
    md, page = render_report(store, args.out, profile, ids, backend=backend)
    print(f"\n{counts['done']} runs made, {counts['skipped']} already stored, "
          f"{counts['failed']} failed, in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(f"report: {md}\n        {page}")
    return _summarise(Path(args.out), store, previous, fail_on)


def _verdict_list(text: str, name: str = "--fail-on") -> set[str]:
    """--fail-on: comma-separated verdict words."""
    from ..core.errors import InputError
    from ..ledger.rules import VERDICTS
    from ..render.report import VERDICT_STYLES

    known = list(dict.fromkeys([*VERDICTS, *VERDICT_STYLES]))
    words = {w.strip() for w in str(text or "").split(",") if w.strip()}
    bad = sorted(words - set(known))
    if bad:
        raise InputError(name, ", ".join(bad), "comma-separated verdicts from "
                         + ", ".join(known))
    return words


def _previous_verdicts(out: Path, store, profile: str, backend: str) -> dict | None:
    """The verdicts of the last report rendered into `out` from the same store."""
    import json

    try:
        data = json.loads((out / "verdicts.json").read_text())
    except (OSError, ValueError):
        return None
    same = (data.get("profile") == profile and data.get("backend") == backend
            and data.get("store") in (None, str(Path(store.path).resolve())))
    return data if same else None


def _summarise(out: Path, store, previous: dict | None, fail_on: set[str]) -> int:
    """Print the verdict summary; 1 if any verdict is in `fail_on`, else 0."""
    import json

    from ..render.compare import summary_lines

    current = json.loads((out / "verdicts.json").read_text())
    for line in summary_lines(current, previous):
        print(line)
    hit = [e["claim"] for e in current["verdicts"] if e["verdict"] in fail_on]
    if hit:
        print(f"--fail-on {','.join(sorted(fail_on))}: {len(hit)} claim(s): {', '.join(hit)}",
              file=sys.stderr)
        return 1
    return 0


def _apply_memory_limit(args: argparse.Namespace) -> None:
    """--memory-limit, else check VERIFY_SUBLIN_MEMORY_LIMIT now: a bad value is a
    configuration error before anything runs, not a failure of every run."""
    from ..core.memory import memory_limit, set_memory_limit
    if args.memory_limit is not None:
        set_memory_limit(args.memory_limit)
    memory_limit()


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from ..bench.reproduce import reproduce
    from ..bench.store import ResultStore
    from ..ledger import EXPERIMENTS

    _apply_memory_limit(args)
    store = ResultStore(args.store, readonly=True)
    report = reproduce(store, args.run_id, EXPERIMENTS, time_factor=args.time_factor)
    _warn_malformed(store)
    print(f"run {args.run_id}: {report['experiment']} {report['params']} seed {report['seed']}")
    print(f"  stored at commit {report['stored_commit']}, reproduced at {report['commit']}")
    print(f"  {report['compared']} figures compared: {len(report['mismatches'])} mismatch(es) "
          f"(exact for integers, 1e-9 relative for other numbers, times within a factor "
          f"{args.time_factor:g}); {report['times_compared']} times")
    for m in report["mismatches"][:40]:
        print(f"  MISMATCH {m['field']}: stored {m['stored']!r}, now {m['now']!r} ({m['rule']})")
    print("  reproduced" if report["match"] else "  NOT reproduced")
    return 0 if report["match"] else 1


def _cmd_report(args: argparse.Namespace) -> int:
    from ..bench.store import ResultStore
    from ..render.report import render_report

    store = ResultStore(args.store, readonly=True)
    md, page = render_report(store, args.out, args.profile, args.claims, backend=args.backend)
    _warn_malformed(store)
    print(f"report: {md}\n        {page}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from ..bench.provenance import git_commit, machine_info, versions
    from ..core.backend import backend_report

    mach = machine_info()
    print(f"verify_sublin at commit {git_commit()}")
    print(f"machine: {mach['cpu']}, {mach['cores']} cores, {mach['memory_gib']} GiB, "
          f"{mach['platform']}, Python {mach['python']}")
    for name, version in versions().items():
        print(f"  {name}: {version}")
    import numba
    print(f"  numba threading layer: {numba.config.THREADING_LAYER} "
          f"({numba.get_num_threads()} threads)")
    print("backends:")
    for name, usable, why in backend_report():
        print(f"  {name:17} {'usable' if usable else 'NOT usable':10} {why}")
    return 0


def _cmd_claims(args: argparse.Namespace) -> int:
    from ..ledger import CLAIMS

    for claim in CLAIMS.values():
        print(f"{claim.id:24} {claim.kind:9} [{claim.paper}] {claim.statement}")
        print(f"{'':24} {'':9} source: {claim.source}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ..bench.store import ResultStore
    from ..render.export import export_tables

    store = ResultStore(args.store, readonly=True)
    for out in export_tables(store, args.out, args.format):
        print(out)
    _warn_malformed(store)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..render.compare import compare_table, load_verdicts

    a = load_verdicts(args.a, args.profile or None, args.backend)
    b = load_verdicts(args.b, args.profile or None, args.backend)
    print(f"A: {args.a} ({a['profile']} profile)\nB: {args.b} ({b['profile']} profile)")
    lines = compare_table(a, b)
    print("\n".join(lines))
    return 1 if args.fail_on_change and any(line.startswith("!") for line in lines) else 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the same form as the package's InputError)."""

    def error(self, message: str):
        print(f"verify-sublin: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _cmd_speed_deep(args: argparse.Namespace) -> int:
    from ..bench.speed_deep import compare_deep, deep_scaling, log2_label, merge_threshold_effect

    def progress(msg: str) -> None:
        print(f"  ... {msg}", file=sys.stderr, flush=True)

    m = args.m
    common = dict(n=args.n, d=args.d, depth=args.depth, seed=args.seed, scaling=args.scaling)
    timing = dict(steps=args.steps, warmup=args.warmup, update=args.update, mu=args.mu)
    print(f"Multi-layer speed: L={args.depth} n={args.n} d={args.d} m={log2_label(m)} "
          f"update={args.update} mu={args.mu:g} scaling={args.scaling} seed={args.seed}; "
          f"median of {args.steps} steps after {args.warmup} warm-up step(s), one process")
    for c in args.c:
        ms = args.slopes
        sc = deep_scaling(ms, c=c, **common, **timing, progress=progress) if ms else None
        res = sc["runs"][ms.index(m)] if m in ms else compare_deep(
            m, c=c, **common, **timing, progress=progress)
        cfg = res["config"]
        print(f"\nc={c}  b={cfg['b']:.4f}  m Q(b)={res['expected_fire_set']:.1f}  "
              f"net init {res['net_init']:.2f} s")
        print(f"{'method':15} {'median ms':>10} {'mean ms':>9} {'ops/step':>10} "
              f"{'init s':>7} {'gram':>8} {'solve':>7} {'update':>8} {'tree':>7}  "
              "mean |S_l| per layer (max)")
        for name, row in res["rows"].items():
            ph = row["phases"]
            layers = ", ".join(f"{a:.0f} ({b})" for a, b in zip(row["layer_sizes_mean"],
                                                                 row["layer_sizes_max"]))
            print(f"{name:15} {1e3 * row['median']:>10.2f} {1e3 * row['mean']:>9.2f} "
                  f"{row['total_ops']:>10.3g} {row['init_seconds']:>7.2f} "
                  + " ".join(f"{1e3 * ph[k]:>7.2f}" for k in ("gram", "solve", "update", "tree"))
                  + f"  {layers}")
        print(f"speed ratio deep_dense / deep_sublinear: {res['ratio']:.1f}x in time "
              f"(medians; {res['ratio_mean']:.1f}x of the means), "
              f"{res['ratio_ops']:.1f}x in counted operations")
        work = res["rows"]["deep_sublinear"]["work"]
        print("deep_sublinear work of the last step: "
              + ", ".join(f"{k} {v:.3g}" for k, v in work.items()))
        if sc is not None:
            ex = sc["exponents"]
            print(f"\nExponents over m = {', '.join(log2_label(x) for x in ms)} "
                  f"(dense 2, claimed 2 - c/2 = {sc['reference']['claim']:.3f}, init 2)")
            print(f"{'method':15} {'time':>7} {'ops':>7} {'claimed':>8} {'init time':>10} "
                  f"{'init ops':>9}")
            for name in ("deep_dense", "deep_sublinear"):
                e = ex[name]
                print(f"{name:15} {e['time']:>7.3f} {e['ops']:>7.3f} {e['claimed']:>8.3f} "
                      f"{e['init_time']:>10.3f} {e['init_ops']:>9.3f}")
            print(f"net init (the m^2 draw): time exponent {ex['net_init']:.3f}")
            for name, s in sc["series"].items():
                print(f"  {name}: ms/step " + ", ".join(f"{1e3 * t:.1f}" for t in s["median"])
                      + " | ops " + ", ".join(f"{o:.3g}" for o in s["total_ops"])
                      + " | init s " + ", ".join(f"{t:.2f}" for t in s["init_seconds"]))
            print("  ratio per m: " + ", ".join(
                f"{r:.1f}" for r in sc["series"]["deep_sublinear"]["ratio"]))
        if args.periods:
            periods = args.periods
            mt = merge_threshold_effect(m, c=c, periods=periods, window=args.window,
                                        update=args.update, mu=args.mu, **common,
                                        progress=progress)
            print(f"\nMerge threshold at m={log2_label(m)}, c={c}: mean over {args.window} "
                  "steps (a whole number of merge periods)")
            print(f"{'merge every':>11} {'threshold':>9} {'mean ms':>8} {'merges':>6} "
                  f"{'ops/step':>10} {'merge ms':>8} {'update ms':>9} {'gram ms':>8}")
            for k, row in mt["rows"].items():
                ph = row["phases"]
                print(f"{k:>11} {row['merge_threshold']:>9} {1e3 * row['mean']:>8.2f} "
                      f"{row['merges']:>6} {row['total_ops']:>10.3g} {1e3 * ph['tree']:>8.2f} "
                      f"{1e3 * ph['update']:>9.2f} {1e3 * ph['gram']:>8.2f}")
            print(f"fastest: merge every {mt['best']} step(s)")
    return 0


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


def _parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = _Parser(prog="verify-sublin", description=__doc__, formatter_class=_Help,
                epilog=_examples("verify-sublin run --profile quick",
                                 "verify-sublin compare reports/latest reports/full"))
    p.add_argument("--version", action="version", version=f"verify-sublin {__version__}")
    p.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                   help="load a plugin module (methods, experiments, claims) before the "
                        "command; repeatable. Installed entry points (verify_sublin.methods, "
                        "verify_sublin.ledger) are always loaded")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, help: str, *examples: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, formatter_class=_Help,
                              epilog=_examples(*examples))

    run = add("run", "check the claims: make the runs, write the report",
              "verify-sublin run --profile quick --out reports/latest",
              "verify-sublin run --profile full --fail-on fails,inconclusive --jobs 2")
    run.add_argument("--profile", default="quick",
                     help="quick (<= 3 min, indicative), full (<= 90 min with --jobs 2), tiny (tests)")
    run.add_argument("--claims", default=None, help="comma-separated claim ids (default: all)")
    run.add_argument("--out", default="reports/latest", help="output folder")
    run.add_argument("--store", default="", help="results database (empty: OUT/results.sqlite)")
    run.add_argument("--recompute", action="store_true", help="redo runs already stored")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument("--jobs", type=int, default=1,
                     help="local worker processes for the non-timing runs")
    run.add_argument("--scheduler", default="",
                     help="address of a Dask scheduler (tcp://host:8786) to run on a cluster")
    run.add_argument("--backend", default="numpy",
                     help="numpy, cupy, auto (CuPy if it has a device) or array_api_strict")
    run.add_argument("--memory-limit", default="",
                     help="refuse configurations above this size (e.g. 16G); empty: 90%% of "
                          "the available memory")
    run.add_argument("--fail-on", default="", metavar="VERDICTS",
                     help="exit with status 1 when any claim gets one of these "
                          "comma-separated verdicts (e.g. fails,inconclusive); empty: exit 0")
    run.set_defaults(func=_cmd_run)

    rp = add("reproduce", "re-run a stored run and compare its figures",
             "verify-sublin reproduce 17 --store reports/full/results.sqlite")
    rp.add_argument("run_id", type=int, help="the run's id (the report's provenance lists them)")
    rp.add_argument("--store", default="reports/latest/results.sqlite", help="results database")
    rp.add_argument("--time-factor", type=float, default=3.0,
                    help="times match when within this factor")
    rp.add_argument("--memory-limit", default="",
                    help="refuse configurations above this size (e.g. 16G)")
    rp.set_defaults(func=_cmd_reproduce)

    rep = add("report", "re-render the report from a store, recomputing nothing",
              "verify-sublin report --store reports/full/results.sqlite --out /tmp/full "
              "--profile full")
    rep.add_argument("--store", required=True, help="results database (required)")
    rep.add_argument("--out", required=True, help="output folder (required)")
    rep.add_argument("--profile", default="quick", help="the profile whose runs to report")
    rep.add_argument("--claims", default=None, help="comma-separated claim ids (default: all)")
    rep.add_argument("--backend", default="numpy", help="the backend whose runs to report")
    rep.set_defaults(func=_cmd_report)

    cmp_ = add("compare", "verdicts and headline figures of two stores or report folders, "
                          "side by side, differences marked",
               "verify-sublin compare reports/latest reports/full",
               "verify-sublin compare old.sqlite new.sqlite --profile quick --fail-on-change")
    cmp_.add_argument("a", help="A: a report folder (its verdicts.json) or a results database")
    cmp_.add_argument("b", help="B: a report folder or a results database")
    cmp_.add_argument("--profile", default="",
                      help="the profile to evaluate a store at (empty: the report's, or the "
                           "store's most frequent)")
    cmp_.add_argument("--backend", default="numpy", help="the backend whose runs to evaluate")
    cmp_.add_argument("--fail-on-change", action="store_true",
                      help="exit with status 1 when a verdict differs")
    cmp_.set_defaults(func=_cmd_compare)

    info = add("info", "versions, BLAS, and which backends are usable here", "verify-sublin info")
    info.set_defaults(func=_cmd_info)

    cl = add("claims", "list the claims: id, paper, statement", "verify-sublin claims")
    cl.set_defaults(func=_cmd_claims)

    ex = add("export", "export a store as tidy tables: measurements (one row per run and "
                       "quantity) and verdicts, as CSV and JSON (Parquet with pyarrow)",
             "verify-sublin export --store reports/full/results.sqlite --out /tmp/export",
             "verify-sublin export --store reports/full/results.sqlite --out /tmp/export "
             "--format csv,json,parquet")
    ex.add_argument("--store", required=True, help="results database (required)")
    ex.add_argument("--out", "--csv", dest="out", required=True, metavar="DIR",
                    help="output folder (required)")
    ex.add_argument("--format", default="csv,json",
                    help="comma-separated formats: csv, json, parquet (needs pyarrow)")
    ex.set_defaults(func=_cmd_export)

    demo = add("demo", "train a network and print the residual per step",
               "verify-sublin demo --m 16384 --methods ggn,sublinear_gn",
               "verify-sublin demo --backend array_api_strict   (needs the test extra)")
    demo.add_argument("--m", type=int, default=2**14, help="width m")
    demo.add_argument("--n", type=int, default=32, help="number of inputs n")
    demo.add_argument("--d", type=int, default=16, help="input dimension d")
    demo.add_argument("--c", type=float, default=0.4, help="shift b = sqrt(c ln m)")
    demo.add_argument("--steps", type=int, default=10, help="training steps")
    demo.add_argument("--tol", type=float, default=1e-12, help="stop below this residual")
    demo.add_argument("--seed", type=int, default=0, help="seed of the data (the net uses seed+1)")
    demo.add_argument("--methods", default="ggn,gd", help="comma-separated methods")
    demo.add_argument("--backend", default="numpy",
                      help="numpy, cupy, auto, array_api_strict (the last needs the test extra)")
    demo.set_defaults(func=_cmd_demo)

    speed = add("speed", "per-step and end-to-end (construction included) speed of GGN and "
                         "the sublinear variants, measured in one process",
                "verify-sublin speed --m 2^18 --c 0.4",
                "verify-sublin speed --m 2^16 --slopes 2^12,2^14,2^16 --sketched")
    speed.add_argument("--m", default="2^20", help="width m")
    speed.add_argument("--n", type=int, default=64, help="number of inputs n")
    speed.add_argument("--d", type=int, default=32, help="input dimension d")
    speed.add_argument("--c", default="0.4,0.85", help="comma-separated shifts c, b = sqrt(c ln m)")
    speed.add_argument("--steps", type=int, default=5, help="timed steps (median)")
    speed.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    speed.add_argument("--seed", type=int, default=0, help="seed of data and network")
    speed.add_argument("--repeats", type=int, default=3,
                       help="fresh trainers per method in the end-to-end table (0: no table)")
    speed.add_argument("--eps", type=float, default=1e-10,
                       help="residual the end-to-end table trains to")
    speed.add_argument("--tree", action="store_true", help="also time the tree operations")
    speed.add_argument("--sketched", action="store_true", help="also time sketched_gn")
    speed.add_argument("--slopes", default="", metavar="M,M,...",
                       help="also fit slopes of time and counted operations over these m "
                            "(e.g. 2^12,2^14,2^16,2^18,2^20)")
    speed.set_defaults(func=_cmd_speed)

    deep = add("speed-deep", "per-step speed of the multi-layer trainers (deep_dense, "
                             "deep_sublinear), one process",
               "verify-sublin speed-deep --m 2^12 --depth 3",
               "verify-sublin speed-deep --m 2^12 --slopes 2^10,2^11,2^12 --periods 1,2,4")
    deep.add_argument("--m", default="2^14", help="width m")
    deep.add_argument("--n", type=int, default=32, help="number of inputs n")
    deep.add_argument("--d", type=int, default=32, help="input dimension d")
    deep.add_argument("--depth", type=int, default=3, help="number of layers L")
    deep.add_argument("--c", default="0.4,0.85", help="comma-separated shifts c, b = sqrt(c ln m)")
    deep.add_argument("--steps", type=int, default=5, help="timed steps (median)")
    deep.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    deep.add_argument("--update", choices=("gn", "gd"), default="gn",
                      help="Gauss-Newton or gradient steps")
    deep.add_argument("--mu", type=float, default=1e-6, help="Gauss-Newton damping")
    deep.add_argument("--scaling", choices=("normalized", "fixed"), default="normalized",
                      help="initialisation scaling of the hidden layers")
    deep.add_argument("--seed", type=int, default=0, help="seed of data and network")
    deep.add_argument("--slopes", default="", metavar="M,M,...",
                      help="also fit exponents of time, counted operations and "
                           "initialisation over these m (e.g. 2^10,2^11,2^12,2^13,2^14)")
    deep.add_argument("--periods", default="", metavar="K,K,...",
                      help="also time deep_sublinear merging every K steps (e.g. 1,2,3,4,6)")
    deep.add_argument("--window", type=int, default=12,
                      help="timed steps per merge period (a multiple of every K)")
    deep.set_defaults(func=_cmd_speed_deep)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code or 0)
    try:
        if args.plugin or args.command in ("run", "report", "export", "compare", "claims",
                                           "demo"):
            from ..plugins import load_plugins
            load_plugins(args.plugin)
        _check_args(args)
        return args.func(args)
    except VerifySublinError as exc:
        print(f"verify-sublin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        from ..bench.executors import interrupt_status
        status = interrupt_status(exc)
        print(f"verify-sublin: interrupted ({status.name}); finished runs are stored, rerun "
              "to resume", file=sys.stderr)
        return 128 + status.value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
