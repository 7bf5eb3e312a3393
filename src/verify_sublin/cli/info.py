"""``verify-sublin info``: versions, BLAS, threading, and which backends are usable."""

from __future__ import annotations

import argparse

NAME = "info"
HELP = "versions, BLAS, and which backends are usable here"
EXAMPLES = ("verify-sublin info",)
OPTIONS: list = []


def main(args: argparse.Namespace) -> int:
    from ..bench.provenance import git_commit, machine_info, versions
    from ..core.backend import backend_report

    mach = machine_info()
    print(f"verify_sublin at commit {git_commit()}")
    print(f"machine: {mach['cpu']}, {mach['cores']} cores, {mach['memory_gib']} GiB, "
          f"{mach['platform']}, Python {mach['python']}")
    for name, version in versions().items():
        print(f"  {name}: {version}")
    import numba

    from ..core import kernels  # noqa: F401  (selects the threading layer, as every run does)
    print(f"  numba threading layer: {numba.config.THREADING_LAYER} "
          f"({numba.get_num_threads()} threads; the layer the kernels run with)")
    print("backends:")
    for name, usable, why in backend_report():
        print(f"  {name:17} {'usable' if usable else 'NOT usable':10} {why}")
    return 0


__all__ = ["EXAMPLES", "HELP", "NAME", "OPTIONS", "main"]
