"""``verify-sublin speed``: per-step and end-to-end speed of methods and presets by name
(the papers' methods as specified, this project's variants, ggn and the textbook
Gram-Gauss-Newton), measured in one process."""

from __future__ import annotations

import argparse

from . import options as o
from .options import Option
from .progress import step_printer

#: The names timed by default (`bench.speed.DEFAULT_NAMES`, spelled here so that the
#: command line imports nothing heavy before its options are checked).
DEFAULT_NAMES = ("ggn", "textbook ggn", "paper sublinear", "sublinear tree implicit",
                 "sublinear cache implicit")

NAME = "speed"
HELP = ("per-step and end-to-end (construction included) speed of methods and presets "
        "by name (ggn, the textbook Gram-Gauss-Newton, the papers' methods, this project's "
        "variants), measured in one process")
EXAMPLES = ("verify-sublin speed --m 2^18 --c 0.4 --repeats 1",
            "verify-sublin speed --m 2^20 --c 0.85 --presets 'ggn,paper sublinear,"
            "sublinear cache implicit' --repeats 5",
            "verify-sublin speed --m 2^16 --slopes 2^12,2^14,2^16 --sketched --tree")

OPTIONS = [
    Option(("--m",), "2^20", o.width, "width m"),
    Option(("--n",), "64", o.positive, "number of inputs n"),
    Option(("--d",), "32", o.positive, "input dimension d"),
    Option(("--c",), "0.4,0.85", o.shifts, "comma-separated shifts c, b = sqrt(c ln m)"),
    Option(("--steps",), "5", o.positive, "timed steps (median)"),
    Option(("--warmup",), "1", o.count, "untimed steps first"),
    Option(("--seed",), "0", o.seed, "seed of data and network"),
    Option(("--repeats",), "3", o.count,
           "fresh trainers per method in the end-to-end table (0: no table)"),
    Option(("--eps",), "1e-10", o.nonneg_float, "residual the end-to-end table trains to"),
    Option(("--presets",), ",".join(DEFAULT_NAMES), o.method_or_preset_names,
           "comma-separated methods or presets timed in both tables, by name (ggn is "
           "always added: the ratios are to it); the textbook Gram-Gauss-Newton is timed "
           "only where m n^2 d <= 1e11", metavar="NAME,NAME,...", late=True),
    Option(("--tree",), False, None, "also time the tree operations"),
    Option(("--sketched",), False, None, "also time sketched_gn"),
    Option(("--slopes",), "", o.widths,
           "also fit slopes of time and counted operations over these m "
           "(e.g. 2^12,2^14,2^16,2^18,2^20)", metavar="M,M,..."),
]


def main(args: argparse.Namespace) -> int:
    from ..bench.speed import compare_methods, end_to_end, log2_label, scaling, tree_timings

    progress = step_printer()

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
                              sketched=args.sketched, progress=progress, names=args.presets)
        print(f"\nc={c}  b={res['config']['b']:.4f}  floor np.matmul(X, W.T, out=buf) = "
              f"{1e3 * res['floor']:.1f} ms  (load average {_load()})")
        print(f"{'method or preset':28} {'median ms':>10} {'IQR ms':>15} {'x floor':>8} "
              f"{'ggn/this':>9} {'|U|':>8} {'fire':>7} {'gram':>7} {'solve':>7} {'update':>7} "
              f"{'tree':>7}")
        for row in res["rows"]:
            ph = row["phases"]
            q1, q3 = row["iqr"]
            print(f"{row['name']:28} {1e3 * row['median']:>10.2f} "
                  f"{f'{1e3 * q1:.1f}-{1e3 * q3:.1f}':>15} {row['vs_floor']:>8.2f} "
                  f"{row['vs_ggn']:>9.2f} {row['union_size']:>8} "
                  + " ".join(f"{1e3 * ph[k]:>7.2f}" for k in ("fire_sets", "gram", "solve",
                                                              "update", "tree")))
        for name, why in res["skipped"].items():
            print(f"{name:28} {why}")
        if args.repeats:
            _print_end_to_end(end_to_end(m, args.n, args.d, c, args.seed, args.eps,
                                         args.repeats, sketched=args.sketched,
                                         progress=progress, names=args.presets))
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


def _load() -> str:
    """The 1-minute load average, for the reader to judge the timings by."""
    import os
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:         # no load average on this platform
        return "n/a"


def _print_end_to_end(res: dict) -> None:
    """The end-to-end table of `speed.end_to_end`: construction included."""
    cfg = res["config"]
    print(f"\nEnd to end at c={cfg['c']}: construction + steps to ||f - y|| <= {cfg['eps']:g}, "
          f"median of {cfg['repeats']} fresh trainers (floor {1e3 * res['floor']:.1f} ms, "
          f"load average {_load()})")
    print(f"{'method or preset':28} {'construct ms':>12} {'x floor':>8} {'step ms':>9} {'T':>6} "
          f"{'total ms':>9} {'IQR ms':>15} {'ggn/this':>9} {'IQR':>11}")
    for row in res["rows"]:
        steps = "/".join(str(t) for t in sorted(set(row["T"])))
        mark = "" if row["reached"] else "  (eps not reached)"
        q1, q3 = row["iqr"]["total"]
        r1, r3 = row["vs_ggn_iqr"]
        print(f"{row['name']:28} {1e3 * row['construct']:>12.1f} {row['construct_x_floor']:>8.2f} "
              f"{1e3 * row['step']:>9.2f} {steps:>6} {1e3 * row['total']:>9.1f} "
              f"{f'{1e3 * q1:.0f}-{1e3 * q3:.0f}':>15} {row['vs_ggn']:>9.2f} "
              f"{f'{r1:.2f}-{r3:.2f}':>11}{mark}")
    for name, why in res.get("skipped", {}).items():
        print(f"{name:28} {why}")


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main"]
