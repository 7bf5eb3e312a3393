"""rq.implicit_bias: how far Gauss-Newton's weights move from the start against gradient
descent's, and how the movement scales with m."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...bench.spec import RunSpec
from ..papers import CITE
from ..toolkit import Entry, LogLogFit, Panel, Plot, Series, Shown, Sizes, Table, color, loglog_fit, pow2

#: the exponent in m of the relative weight movement the NTK picture predicts
NTK_MOVE_EXPONENT = -0.5

# Budget: full about 5 s, quick about 1 s.
SIZES = Sizes(
    #   tiny          quick                 full
    m=([2**6, 2**8], [2**8, 2**10, 2**12], [2**k for k in range(8, 15, 2)]),
    n=(8, 16, 32),
    n_test=(8, 16, 64),
    d=(4, 8, 16),
    gd_steps=(50, 200, 500),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("implicit_bias", {"dataset": "sphere-teacher", "n": s.n, "n_test": s.n_test,
                                      "d": s.d, "m": m, "c": 0.4, "gn_steps": 20,
                                      "gd_steps": s.gd_steps, "mu": 1e-8, "tol": 1e-6}, seed=25)
            for m in s.m]


@dataclass(frozen=True)
class Values:
    rows: list      #: (m, ImplicitBias result) sorted by m
    fits: dict      #: "gn", "gd" -> fit of the relative movement against m (two m or more)


def values(results) -> Values:
    rows = sorted(((r.params["m"], r.result) for r in results), key=lambda x: x[0])
    fits: dict[str, LogLogFit] = {}
    if len(rows) >= 2:
        for k in ("gn", "gd"):
            fits[k] = loglog_fit([m for m, _ in rows],
                                 [max(getattr(r, k).relative_move, 1e-300) for _, r in rows])
    return Values(rows, fits)


def decide(v: Values) -> tuple[str, str]:
    return "answer", ""


def _plot(rows) -> Plot:
    ms = np.array([m for m, _ in rows], float)
    move, share = [], []
    for k, name in enumerate(("gn", "gd")):
        move.append(Series(ms, [getattr(r, name).relative_move for _, r in rows], name.upper(), "o-",
                           color(k)))
        share.append(Series(ms, [getattr(r, name).moved_share for _, r in rows], name.upper(), "o-",
                            color(k)))
    move.append(Series(ms, rows[0][1].gn.relative_move * (ms / ms[0]) ** NTK_MOVE_EXPONENT,
                       "m^-1/2 (NTK)", ":", "k"))
    share.append(Series(ms, [r.prediction_gap for _, r in rows], "test prediction gap", "--", "k"))
    return Plot([Panel(move, "m", "||W_T - W_0|| / ||W_0||", xscale="log", yscale="log"),
                 Panel(share, "m", "share of neurons moved / prediction gap", xscale="log")],
                "Weight movement of Gauss-Newton and gradient descent against m.")


def show(v: Values, verdict: str, reason: str) -> Shown:
    table = Table(["m", "GN move", "GD move", "GN moved share", "GD moved share",
                   "GN rel. residual", "GD rel. residual", "test prediction gap"])
    for m, res in v.rows:
        g, s = res.gn, res.gd
        table.add(pow2(m), f"{g.relative_move:.3g}", f"{s.relative_move:.3g}",
                  f"{g.moved_share:.3f}", f"{s.moved_share:.3f}",
                  f"{g.relative_residual:.2e}", f"{s.relative_residual:.2e}",
                  f"{res.prediction_gap:.3g}")
    note = ("Gradient descent runs a fixed number of steps and need not reach the training "
            "residual Gauss-Newton reaches; its movement is read with that in mind (residuals "
            "above).")
    m, last = v.rows[-1]
    fits = list(v.fits.values())
    overlap = len(fits) == 2 and max(f.low for f in fits) <= min(f.high for f in fits)
    measured = (("Gauss-Newton and gradient descent move the weights alike" if overlap else
                 "Gauss-Newton and gradient descent move the weights differently")
                + ": the relative movement ||W_T - W_0|| / ||W_0|| falls as m^e with e "
                + ", ".join(f"{f} for {k.upper()}" for k, f in v.fits.items())
                + f" (the NTK picture: {NTK_MOVE_EXPONENT:g}), and the share of neurons that "
                  f"moved is {last.gn.moved_share:.2f} (GN) and {last.gd.moved_share:.2f} (GD) "
                  f"at m = {pow2(m)}")
    rule = (f"answer: the fitted exponent in m of ||W_T - W_0||_F / ||W_0||_F for Gauss-Newton "
            f"and gradient descent from the same start (the NTK picture predicts "
            f"{NTK_MOVE_EXPONENT:g}), the share of neurons that moved, and the relative "
            "distance between the two trained networks' test predictions.")
    return Shown("the implicit bias 'stems from its reliance on sparse Jacobian updates, which "
                 "prioritize active neurons'", measured, rule, [table, note],
                 {k: f.as_dict() for k, f in v.fits.items()}, _plot(v.rows))


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"Can the authors comment on the implicit bias of their "
          "algorithm, compared to previous state-of-the art algorithms?\"; the authors "
          "answered that their algorithm's \"implicit bias stems from its reliance on "
          "sparse Jacobian updates, which prioritize active neurons\"")

ENTRY = Entry(
    id="rq.implicit_bias", kind="question", paper="RQ",
    statement="How do the weights Gauss-Newton finds differ from gradient descent's, and how "
              "does their movement scale with m?",
    source=SOURCE,
    experiment="Gauss-Newton (20 steps, mu = 1e-8) and gradient descent (eta = 1 / "
               "lambda_max(G_0)) from the same network on sphere-teacher at c = 0.4. Full: "
               "n = 32, d = 16, 64 test points, m = 2^8..2^14, 500 GD steps; quick: n = 16, "
               "m = 2^8..2^12, 200 GD steps. Budget: full ~5 s, quick ~1 s.",
    rule=f"answer: fitted exponents beside the NTK's {NTK_MOVE_EXPONENT:g}.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["ENTRY", "NTK_MOVE_EXPONENT", "SIZES"]
