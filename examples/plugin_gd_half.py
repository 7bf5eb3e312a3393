"""A verify_sublin plugin: a training method and a claim, added without editing the package.

    verify-sublin --plugin examples/plugin_gd_half.py run --claims plugin.gd_half --profile tiny
"""

from verify_sublin.core.trainers import METHODS
from verify_sublin.core.trainers.dense import GradientDescent
from verify_sublin.ledger.ledger import Claim, RunSpec, Verdict, register_claim


class HalfStepGD(GradientDescent):
    """Gradient descent with half the default step size 1 / lambda_max(G_0)."""

    method = "gd_half"

    def __init__(self, net, X, y, options):
        super().__init__(net, X, y, options)
        self.eta *= 0.5


METHODS[HalfStepGD.method] = HalfStepGD          # make_trainer("gd_half", ...) now works


def _runs(profile):
    m, steps = {"tiny": (2**9, 60), "quick": (2**12, 200), "full": (2**14, 400)}[profile]
    return [RunSpec("training", {"method": method, "dataset": "sphere-teacher", "n": 8, "d": 4,
                                 "m": m, "c": 0.4, "steps": steps, "tol": 1e-3}, seed=1)
            for method in ("gd", "gd_half")]


#: the claim's threshold, decided before any run: gd_half needs at most this many times
#: the steps of gd (the contraction factor per step roughly halves its distance to 1)
FACTOR = 2.5


def _evaluate(records, profile):
    steps = {r.spec.params["method"]: len(r.result["residual"]) for r in records if r.ok}
    if len(steps) < 2:
        return Verdict("plugin.gd_half", "inconclusive", f"steps(gd_half) <= {FACTOR} steps(gd)",
                       "runs missing", "needs both runs")
    ok = steps["gd_half"] <= FACTOR * steps["gd"]
    return Verdict("plugin.gd_half", "holds" if ok else "fails",
                   f"steps(gd_half) <= {FACTOR} steps(gd)",
                   f"{steps['gd_half']} vs {steps['gd']} steps to 1e-3 r0",
                   f"holds if steps(gd_half) <= {FACTOR} steps(gd); fails otherwise",
                   runs=[r.id for r in records])


register_claim(Claim(
    id="plugin.gd_half", paper="RQ", statement=f"Halving GD's step size costs at most {FACTOR}x the steps.",
    experiment="GD and gd_half trained to 1e-3 of the initial residual.",
    rule=f"steps(gd_half) <= {FACTOR} steps(gd)", runs=_runs, evaluate=_evaluate))
