"""``verify-sublin demo``: train a network and print the residual per step."""

from __future__ import annotations

import argparse
import time

from . import options as o
from .options import Option

NAME = "demo"
HELP = "train a network and print the residual per step"
EXAMPLES = ("verify-sublin demo --m 2^14 --methods ggn,sublinear_gn",
            "verify-sublin demo --backend array_api_strict --m 4096 --methods ggn,sublinear_gn"
            "   # needs the test extra")

OPTIONS = [
    Option(("--m",), "2^14", o.positive, "width m"),
    Option(("--n",), "32", o.positive, "number of inputs n"),
    Option(("--d",), "16", o.positive, "input dimension d"),
    Option(("--c",), "0.4", o.nonneg_float, "shift b = sqrt(c ln m)"),
    Option(("--steps",), "10", o.positive, "training steps"),
    Option(("--tol",), "1e-12", o.nonneg_float, "stop below this residual"),
    Option(("--seed",), "0", o.seed, "seed of the data (the net uses seed+1)"),
    Option(("--methods",), "ggn,gd", o.methods, "comma-separated methods", late=True),
    Option(("--backend",), "numpy", o.backend,
           "numpy, cupy, auto, array_api_strict (the last needs the test extra)"),
]


def main(args: argparse.Namespace) -> int:
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


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main"]
