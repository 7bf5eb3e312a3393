"""Command line: ``verify-sublin SUBCOMMAND``.

Errors in the arguments print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from .errors import VerifySublinError

__all__ = ["main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import ShiftedReLUNet, make_trainer, shift_for, sphere_data

    X, y = sphere_data(args.n, args.d, seed=args.seed, labels="teacher")
    b = shift_for(args.m, args.c)
    net = ShiftedReLUNet.init(args.m, args.d, b, seed=args.seed + 1)   # not the data's seed
    print(f"m={args.m} n={args.n} d={args.d} b=sqrt({args.c} ln m)={b:.4f} seed={args.seed}")
    for method in args.methods.split(","):
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
    from .errors import InputError
    out = []
    for part in str(text).split(","):
        m = re.fullmatch(r"\s*(\d{1,12})(?:\^(\d{1,3}))?\s*", part)
        if not m:
            raise InputError(name, repr(text), "comma-separated integers or powers like 2^20")
        out.append(int(m.group(1)) ** int(m.group(2)) if m.group(2) else int(m.group(1)))
    return out


def _float_list(text: str, name: str = "--c") -> list[float]:
    from .errors import InputError, check_float
    try:
        values = [float(x) for x in str(text).split(",")]
    except ValueError:
        raise InputError(name, repr(text), "comma-separated numbers") from None
    return [check_float(name, v, minimum=0.0) for v in values]


def _cmd_speed(args: argparse.Namespace) -> int:
    from .speed import compare_methods, log2_label, scaling, tree_timings

    def progress(msg: str) -> None:
        print(f"  ... {msg}", file=sys.stderr, flush=True)

    ms = _int_list(args.m)
    if len(ms) != 1:
        from .errors import InputError
        raise InputError("--m", repr(args.m), "one width")
    (m,) = ms
    cs = _float_list(args.c)
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
        t = {r["name"].replace("sublinear ", ""): r["median"] for r in res["rows"]}
        if "tree explicit" in t and "cache explicit" in t:
            print(f"tree overhead over tree-free maintenance: explicit "
                  f"{t['tree explicit'] / t['cache explicit']:.2f}x, "
                  f"implicit {t['tree implicit'] / t['cache implicit']:.2f}x")
            print(f"explicit over implicit pre-activations: cache "
                  f"{t['cache explicit'] / t['cache implicit']:.2f}x, "
                  f"tree {t['tree explicit'] / t['tree implicit']:.2f}x")
    if args.slopes:
        ms = _int_list(args.slopes, "--slopes")
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


def _fmt_seconds(s: float) -> str:
    if s != s or s == float("inf"):
        return "?"
    s = round(s)
    return f"{s // 60}:{s % 60:02d}"


def _progress_printer(stream=sys.stderr):
    """Progress lines for `run`: a bar on a terminal, one line per run otherwise."""
    tty = stream.isatty()

    def show(ev: dict) -> None:
        total = max(ev["total"], 1)
        run = ev["run"]
        desc = run.spec.experiment + " " + " ".join(
            f"{k}={v}" for k, v in run.spec.params.items()
            if k in ("m", "c", "n", "method", "variant", "dataset", "label"))
        if ev["status"] == "start":
            if tty:
                done = int(30 * ev["index"] / total)
                stream.write(f"\r[{'#' * done}{'.' * (30 - done)}] {ev['index']}/{total} "
                             f"elapsed {_fmt_seconds(ev['elapsed'])} ETA "
                             f"{_fmt_seconds(ev['eta'])}  {desc[:60]:<60}")
                stream.flush()
            return
        if not tty or ev["status"] == "failed":
            status = ev["status"] if ev["status"] == "done" else f"FAILED: {ev.get('error')}"
            stream.write(("\n" if tty else "") +
                         f"[{ev['index']}/{total}] run {ev['id']} {desc} {ev['seconds']:.1f} s "
                         f"{status} (elapsed {_fmt_seconds(ev['elapsed'])}, ETA "
                         f"{_fmt_seconds(ev['eta'])})\n")
            stream.flush()

    return show


def _store_path(args: argparse.Namespace) -> Path:
    return Path(args.store) if args.store else Path(args.out) / "results.sqlite"


def _cmd_run(args: argparse.Namespace) -> int:
    from .backend import resolve_backend
    from .claims import execute, plan
    from .errors import check_choice, check_int
    from .executors import make_executor
    from .report import render_report
    from .store import ResultStore

    profile = check_choice("--profile", args.profile, ("tiny", "quick", "full"))
    ids = [c for c in args.claims.split(",") if c] if args.claims else None
    backend = resolve_backend(args.backend).name   # InputError says why CuPy is unusable
    planned = plan(ids, profile, backend)          # validates the claim ids
    check_int("--jobs", args.jobs, minimum=1)
    _apply_memory_limit(args)
    store = ResultStore(_store_path(args))
    executor = make_executor(args.jobs, args.scheduler or None)
    t0 = time.perf_counter()
    print(f"verify-sublin run: profile {profile}, backend {backend}, {len(planned)} runs "
          f"planned, store {store.path}, {executor.slots} worker slot(s)", file=sys.stderr,
          flush=True)
    try:
        counts = execute(planned, store, profile, backend=backend, recompute=args.recompute,
                         progress=None if args.quiet else _progress_printer(),
                         executor=executor)
    finally:
        executor.close()
    md, page = render_report(store, args.out, profile, ids, backend=backend)
    print(f"\n{counts['done']} runs made, {counts['skipped']} already stored, "
          f"{counts['failed']} failed, in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(f"report: {md}\n        {page}")
    return 0


def _apply_memory_limit(args: argparse.Namespace) -> None:
    if getattr(args, "memory_limit", ""):
        from .memory import parse_size, set_memory_limit
        set_memory_limit(parse_size(args.memory_limit))


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from .claims import EXPERIMENTS
    from .reproduce import reproduce
    from .store import ResultStore

    path = Path(args.store)
    if not path.exists():
        from .errors import InputError
        raise InputError("--store", str(path), "an existing results database")
    _apply_memory_limit(args)
    report = reproduce(ResultStore(path), args.run_id, EXPERIMENTS,
                       time_factor=args.time_factor)
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
    from .report import render_report
    from .store import ResultStore

    path = Path(args.store)
    if not path.exists():
        from .errors import InputError
        raise InputError("--store", str(path), "an existing results database")
    from .backend import BACKEND_CHOICES
    from .errors import check_choice
    ids = [c for c in args.claims.split(",") if c] if args.claims else None
    backend = check_choice("--backend", args.backend, BACKEND_CHOICES)
    md, page = render_report(ResultStore(path), args.out, args.profile, ids, backend=backend)
    print(f"report: {md}\n        {page}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .backend import backend_report
    from .provenance import git_commit, machine_info, versions

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
    from .claims import CLAIMS

    for claim in CLAIMS.values():
        print(f"{claim.id:24} [{claim.paper}] {claim.statement}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .store import ResultStore

    path = Path(args.store)
    if not path.exists():
        from .errors import InputError
        raise InputError("--store", str(path), "an existing results database")
    for out in ResultStore(path).export_csv(args.csv):
        print(out)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the same form as the package's InputError)."""

    def error(self, message: str):
        print(f"verify-sublin: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _cmd_speed_deep(args: argparse.Namespace) -> int:
    from .speed_deep import compare_deep, deep_scaling, log2_label, merge_threshold_effect

    def progress(msg: str) -> None:
        print(f"  ... {msg}", file=sys.stderr, flush=True)

    (m,) = _int_list(args.m)
    common = dict(n=args.n, d=args.d, depth=args.depth, seed=args.seed, scaling=args.scaling)
    timing = dict(steps=args.steps, warmup=args.warmup, update=args.update, mu=args.mu)
    print(f"Multi-layer speed: L={args.depth} n={args.n} d={args.d} m={log2_label(m)} "
          f"update={args.update} mu={args.mu:g} scaling={args.scaling} seed={args.seed}; "
          f"median of {args.steps} steps after {args.warmup} warm-up step(s), one process")
    for c in _float_list(args.c):
        ms = _int_list(args.slopes) if args.slopes else []
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
            periods = _int_list(args.periods)
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


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="verify-sublin", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="check the claims: make the runs, write the report")
    run.add_argument("--profile", default="quick",
                     help="quick (<= 3 min, indicative), full (<= 60 min), tiny (tests)")
    run.add_argument("--claims", default="", help="comma-separated claim ids (default: all)")
    run.add_argument("--out", default="reports/latest", help="output folder")
    run.add_argument("--store", default="", help="results database (default OUT/results.sqlite)")
    run.add_argument("--recompute", action="store_true", help="redo runs already stored")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument("--jobs", type=int, default=1,
                     help="local worker processes for the non-timing runs (default 1)")
    run.add_argument("--scheduler", default="",
                     help="address of a Dask scheduler (tcp://host:8786) to run on a cluster")
    run.add_argument("--backend", default="numpy",
                     help="numpy (default), cupy, auto (CuPy if it has a device) or "
                          "array_api_strict")
    run.add_argument("--memory-limit", default="",
                     help="refuse configurations above this size (e.g. 16G); default 90%% of "
                          "the available memory")
    run.set_defaults(func=_cmd_run)

    rp = sub.add_parser("reproduce", help="re-run a stored run and compare its figures")
    rp.add_argument("run_id", type=int)
    rp.add_argument("--store", default="reports/latest/results.sqlite")
    rp.add_argument("--time-factor", type=float, default=3.0,
                    help="times match when within this factor (default 3)")
    rp.add_argument("--memory-limit", default="")
    rp.set_defaults(func=_cmd_reproduce)

    rep = sub.add_parser("report", help="re-render the report from a store, recomputing nothing")
    rep.add_argument("--store", required=True)
    rep.add_argument("--out", required=True)
    rep.add_argument("--profile", default="quick")
    rep.add_argument("--claims", default="")
    rep.add_argument("--backend", default="numpy", help="the backend whose runs to report")
    rep.set_defaults(func=_cmd_report)

    info = sub.add_parser("info", help="versions, BLAS, and which backends are usable here")
    info.set_defaults(func=_cmd_info)

    cl = sub.add_parser("claims", help="list the claims: id, paper, statement")
    cl.set_defaults(func=_cmd_claims)

    ex = sub.add_parser("export", help="export a store to CSV (runs.csv, series.csv)")
    ex.add_argument("--store", required=True)
    ex.add_argument("--csv", required=True, metavar="DIR")
    ex.set_defaults(func=_cmd_export)

    demo = sub.add_parser("demo", help="train a network and print the residual per step")
    demo.add_argument("--m", type=int, default=2**14, help="width m (default 2^14)")
    demo.add_argument("--n", type=int, default=32, help="number of inputs n")
    demo.add_argument("--d", type=int, default=16, help="input dimension d")
    demo.add_argument("--c", type=float, default=0.4, help="shift b = sqrt(c ln m)")
    demo.add_argument("--steps", type=int, default=10)
    demo.add_argument("--tol", type=float, default=1e-12, help="stop below this residual")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--methods", default="ggn,gd", help="comma-separated methods")
    demo.add_argument("--backend", default="numpy", help="numpy, cupy, auto, array_api_strict")
    demo.set_defaults(func=_cmd_demo)

    speed = sub.add_parser("speed", help="per-step speed of GGN and the sublinear variants, "
                                          "measured in one process")
    speed.add_argument("--m", default="2^20", help="width m (default 2^20)")
    speed.add_argument("--n", type=int, default=64)
    speed.add_argument("--d", type=int, default=32)
    speed.add_argument("--c", default="0.4,0.85", help="comma-separated shifts c, b = sqrt(c ln m)")
    speed.add_argument("--steps", type=int, default=5, help="timed steps (median)")
    speed.add_argument("--warmup", type=int, default=1)
    speed.add_argument("--seed", type=int, default=0)
    speed.add_argument("--tree", action="store_true", help="also time the tree operations")
    speed.add_argument("--sketched", action="store_true", help="also time sketched_gn")
    speed.add_argument("--slopes", default="", metavar="M,M,...",
                       help="also fit slopes of time and counted operations over these m "
                            "(e.g. 2^12,2^14,2^16,2^18,2^20)")
    speed.set_defaults(func=_cmd_speed)

    deep = sub.add_parser("speed-deep", help="per-step speed of the multi-layer trainers "
                                             "(deep_dense, deep_sublinear), one process")
    deep.add_argument("--m", default="2^14", help="width m (default 2^14)")
    deep.add_argument("--n", type=int, default=32)
    deep.add_argument("--d", type=int, default=32)
    deep.add_argument("--depth", type=int, default=3, help="number of layers L")
    deep.add_argument("--c", default="0.4,0.85", help="comma-separated shifts c, b = sqrt(c ln m)")
    deep.add_argument("--steps", type=int, default=5, help="timed steps (median)")
    deep.add_argument("--warmup", type=int, default=1)
    deep.add_argument("--update", choices=("gn", "gd"), default="gn")
    deep.add_argument("--mu", type=float, default=1e-6, help="Gauss-Newton damping")
    deep.add_argument("--scaling", choices=("normalized", "fixed"), default="normalized")
    deep.add_argument("--seed", type=int, default=0)
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
        return args.func(args)
    except VerifySublinError as exc:
        print(f"verify-sublin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("verify-sublin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
