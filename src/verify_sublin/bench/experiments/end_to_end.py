"""End to end by name: methods and presets (`bench.speed.resolve_name`) each constructed
and stepped to ||f - y|| <= eps several times on one network and data set, in turns, in
one process, so that their ratios are of medians measured together."""

from __future__ import annotations

from ...core.data import sphere_data
from ...core.errors import NumericalError
from ..speed import floor_time, resolve_name, time_to_eps, timing_refusal
from .common import _net


def end_to_end(p: dict, seed: int) -> dict:
    """Each name of `names` timed `repeats` times to eps (construction included), the
    order turned by one each repeat (a construction's speed depends on what the trainer
    before it freed); names `timing_refusal` refuses are listed in `skipped`. Every method
    is compiled on a small problem first (not timed). Parameters: names, m, n, d, c, eps,
    repeats, max_steps. Cost: repeats x (construction + T steps) per name."""
    m, n, d = int(p["m"]), int(p["n"]), int(p["d"])
    eps, steps = float(p.get("eps", 1e-10)), int(p.get("max_steps", 50))
    methods = {name: resolve_name(name) for name in p["names"]}
    skipped = {name: why for name, (method, opts) in methods.items()
               if (why := timing_refusal(method, opts, m, n, d)) is not None}
    methods = {k: v for k, v in methods.items() if k not in skipped}
    X, y = sphere_data(n, d, seed=seed, labels="teacher")
    small = _net(dict(p, m=min(m, 1024)), d, seed + 1)
    for method, opts in methods.values():
        try:
            time_to_eps(method, small, X, y, eps, 2, **opts)
        except NumericalError:
            pass
    net = _net(p, d, seed + 1)
    floor = floor_time(X, net.W, 3)
    runs: dict[str, list[dict]] = {name: [] for name in methods}
    order = list(methods)
    for rep in range(int(p.get("repeats", 5))):
        for name in order[rep % len(order):] + order[:rep % len(order)]:
            method, opts = methods[name]
            runs[name].append(time_to_eps(method, net, X, y, eps, steps, **opts))
    rows = {name: {"method": methods[name][0], "construct": [r["construct"] for r in rs],
                   "steps": [t for r in rs for t in r["steps"]], "total": [r["total"] for r in rs],
                   "T": [r["T"] for r in rs], "reached": all(r["reached"] for r in rs)}
            for name, rs in runs.items()}
    return {"b": net.shift, "floor": floor, "rows": rows, "skipped": skipped}
