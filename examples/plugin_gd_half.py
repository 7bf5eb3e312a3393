"""A verify_sublin plugin: a training method and a ledger entry, added without editing
the package.

    verify-sublin --plugin examples/plugin_gd_half.py run --claims plugin.gd_half --profile tiny

It declares what it adds in the lists METHODS and ENTRIES at the bottom; the entry is
written like the package's own (`verify_sublin.ledger.entries`), with the public toolkit.
"""

from dataclasses import dataclass

from verify_sublin.bench.spec import RunSpec
from verify_sublin.core.trainers.dense import GradientDescent
from verify_sublin.ledger.toolkit import Entry, Shown, Sizes


class HalfStepGD(GradientDescent):
    """Gradient descent with half the default step size 1 / lambda_max(G_0)."""

    method = "gd_half"

    def __init__(self, net, X, y, options):
        super().__init__(net, X, y, options)
        self.eta *= 0.5


#: the entry's threshold, decided before any run: gd_half needs at most this many times
#: the steps of gd (the contraction factor per step roughly halves its distance to 1)
FACTOR = 2.5

SIZES = Sizes(m=(2**9, 2**12, 2**14), steps=(60, 200, 400))


def runs(s):
    return [RunSpec("training", {"method": method, "dataset": "sphere-teacher", "n": 8, "d": 4,
                                 "m": s.m, "c": 0.4, "steps": s.steps, "tol": 1e-3}, seed=1)
            for method in ("gd", "gd_half")]


@dataclass(frozen=True)
class Values:
    steps: dict          #: method -> steps to 1e-3 of the initial residual


def values(results):
    return Values({r.params["method"]: len(r.result.residual) for r in results})


def decide(v):
    if len(v.steps) < 2:
        return "inconclusive", "needs both runs"
    ok = v.steps["gd_half"] <= FACTOR * v.steps["gd"]
    return ("holds" if ok else "fails"), ""


def show(v, verdict, reason):
    measured = (f"{v.steps['gd_half']} vs {v.steps['gd']} steps to 1e-3 r0" if len(v.steps) == 2
                else "runs missing")
    return Shown(f"steps(gd_half) <= {FACTOR} steps(gd)", measured,
                 f"holds if steps(gd_half) <= {FACTOR} steps(gd); fails otherwise")


ENTRY = Entry(
    id="plugin.gd_half", kind="claim", paper="RQ", source="this plugin's own premise",
    statement=f"Halving GD's step size costs at most {FACTOR}x the steps.",
    experiment="GD and gd_half trained to 1e-3 of the initial residual.",
    rule=f"steps(gd_half) <= {FACTOR} steps(gd)", sizes=SIZES, runs=runs, values=values,
    decide=decide, show=show)

METHODS = [HalfStepGD]
ENTRIES = [ENTRY]
