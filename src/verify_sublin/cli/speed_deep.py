"""``verify-sublin speed-deep``: per-step speed of the multi-layer trainers."""

from __future__ import annotations

import argparse

from . import options as o
from .options import Option
from .progress import step_printer

NAME = "speed-deep"
HELP = "per-step speed of the multi-layer trainers (deep_dense, deep_sublinear), one process"
EXAMPLES = ("verify-sublin speed-deep --m 2^12 --depth 3",
            "verify-sublin speed-deep --m 2^13 --c 0.4,0.85 --slopes 2^10,2^11,2^12,2^13 "
            "--periods 1,2,4")

OPTIONS = [
    Option(("--m",), "2^14", o.width, "width m"),
    Option(("--n",), "32", o.positive, "number of inputs n"),
    Option(("--d",), "32", o.positive, "input dimension d"),
    Option(("--depth",), "3", o.positive, "number of layers L"),
    Option(("--c",), "0.4,0.85", o.shifts, "comma-separated shifts c, b = sqrt(c ln m)"),
    Option(("--steps",), "5", o.positive, "timed steps (median)"),
    Option(("--warmup",), "1", o.count, "untimed steps first"),
    Option(("--update",), "gn", o.choice("gn", "gd"), "Gauss-Newton (gn) or gradient (gd) steps"),
    Option(("--mu",), "1e-6", o.nonneg_float, "Gauss-Newton damping"),
    Option(("--scaling",), "normalized", o.choice("normalized", "fixed"),
           "initialisation scaling of the hidden layers: normalized or fixed"),
    Option(("--seed",), "0", o.seed, "seed of data and network"),
    Option(("--slopes",), "", o.widths,
           "also fit exponents of time, counted operations and initialisation over these m "
           "(e.g. 2^10,2^11,2^12,2^13,2^14)", metavar="M,M,..."),
    Option(("--periods",), "", o.widths,
           "also time deep_sublinear merging every K steps (e.g. 1,2,3,4,6)", metavar="K,K,..."),
    Option(("--window",), "12", o.positive,
           "timed steps per merge period (a multiple of every K)"),
]


def main(args: argparse.Namespace) -> int:
    from ..bench.speed_deep import compare_deep, deep_scaling, log2_label, merge_threshold_effect

    progress = step_printer()

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


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main"]
