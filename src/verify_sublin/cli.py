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
