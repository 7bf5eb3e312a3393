"""Command line: ``verify-sublin SUBCOMMAND``.

Errors in the arguments print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
import time

from .errors import VerifySublinError

__all__ = ["main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import ShiftedReLUNet, make_trainer, shift_for, sphere_data

    X, y = sphere_data(args.n, args.d, seed=args.seed, labels="teacher")
    b = shift_for(args.m, args.c)
    net = ShiftedReLUNet.init(args.m, args.d, b, seed=args.seed)
    print(f"m={args.m} n={args.n} d={args.d} b=sqrt({args.c} ln m)={b:.4f} seed={args.seed}")
    for method in args.methods.split(","):
        t0 = time.perf_counter()
        trainer = make_trainer(method, net, X, y)
        print(f"\n{method}: built in {time.perf_counter() - t0:.2f} s, "
              f"residual {trainer.residual:.3e}")
        print(f"{'step':>4} {'residual':>11} {'ratio':>7} {'|U|':>7} {'max|S_i|':>9} {'ms':>8}")
        for res in trainer.run(args.steps, tol=args.tol):
            print(f"{res.step:>4} {res.residual_after:>11.3e} {res.contraction:>7.3f} "
                  f"{res.union_size:>7} {int(res.fire_set_sizes.max()):>9} "
                  f"{1e3 * res.total_time:>8.2f}", flush=True)
    return 0


def _int_list(text: str) -> list[int]:
    """'2^12,2^16,1000' -> [4096, 65536, 1000]."""
    out = []
    for part in text.split(","):
        part = part.strip()
        base, _, exp = part.partition("^")
        out.append(int(base) ** int(exp) if exp else int(base))
    return out


def _float_list(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def _cmd_speed(args: argparse.Namespace) -> int:
    from .speed import compare_methods, log2_label, scaling, tree_timings

    def progress(msg: str) -> None:
        print(f"  ... {msg}", file=sys.stderr, flush=True)

    (m,) = _int_list(args.m)
    print(f"Speed comparison: n={args.n} d={args.d} m={log2_label(m)} seed={args.seed}, "
          f"median of {args.steps} steps after {args.warmup} warm-up step(s), one process")
    for c in _float_list(args.c):
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
        ms = _int_list(args.slopes)
        for c in _float_list(args.c):
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
    p = argparse.ArgumentParser(prog="verify-sublin", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train a network and print the residual per step")
    demo.add_argument("--m", type=int, default=2**14, help="width m (default 2^14)")
    demo.add_argument("--n", type=int, default=32, help="number of inputs n")
    demo.add_argument("--d", type=int, default=16, help="input dimension d")
    demo.add_argument("--c", type=float, default=0.4, help="shift b = sqrt(c ln m)")
    demo.add_argument("--steps", type=int, default=10)
    demo.add_argument("--tol", type=float, default=1e-12, help="stop below this residual")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--methods", default="ggn,gd", help="comma-separated methods")
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
