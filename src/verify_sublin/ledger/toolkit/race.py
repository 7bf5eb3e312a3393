"""Races to a training error: what rq.vs_first_order needs to read timed training runs.

A race is one data set, width and seed on which several methods (``training_timed``
runs, the method named by the run's ``label``) are timed to eps = tol x the initial
residual, construction included. `race_runs` reads each run's time to eps (None if it
stopped first: its step cap, its time cap, a numerical fault), `seed_races` compares,
per seed, the fastest of a group of methods (the Gauss-Newton ones) with the fastest of
the others, `share_outcome` decides a data set from the share of seeds the group won,
and `capped_spread` writes a median over seeds in which a run that never reached eps
counts as slower than any that did. `race_values`, `race_sentence`, `race_table` and
`race_plot` are the values, headline, table and figure of an entry built on races.
Cost: O(runs + steps).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..entry import Table
from ..plot import HLine, Panel, Plot, Series
from .base import answer_words, color, pow2
from .spread import Spread, sig3

__all__ = ["RaceRun", "RaceValues", "SeedRace", "capped_spread", "race_plot", "race_runs",
           "race_sentence", "race_table", "race_values", "seed_races", "share_outcome",
           "time_to_eps"]


def time_to_eps(res, eps: float) -> tuple[float | None, float]:
    """(seconds until the residual is <= eps r0, or None if never; seconds spent), both
    construction included, from a `Training` result.

    >>> from types import SimpleNamespace as NS
    >>> time_to_eps(NS(build_seconds=1.0, residual=[0.5, 1e-5], seconds=[2.0, 3.0],
    ...                residual0=1.0), 1e-4)
    (6.0, 6.0)
    """
    total = float(res.build_seconds)
    for r, s in zip(res.residual, res.seconds):
        total += s
        if r <= eps * res.residual0:
            return total, total
    return None, total


@dataclass(frozen=True)
class RaceRun:
    """One timed run: its data set, width, seed and label, and what it took."""

    dataset: str
    m: int
    seed: int
    label: str
    t: float | None          #: seconds to eps (construction included), None if not reached
    spent: float             #: seconds spent in all
    build: float             #: seconds of construction
    steps: int
    cap: float | None        #: the run's time cap (seconds), None if uncapped
    kappa: float | None      #: kappa(G_0) of the run's data and initial weights, if recorded
    error: str | None        #: the numerical fault that stopped it


def race_runs(results: Iterable, eps: float) -> list[RaceRun]:
    """Every finished ``training_timed`` run as a `RaceRun`, sorted by data set, m, label
    and seed."""
    out = []
    for r in results:
        p, res = r.params, r.result
        t, spent = time_to_eps(res, eps)
        out.append(RaceRun(p.get("dataset", "sphere-teacher"), p["m"], r.spec.seed, p["label"],
                           t, spent, float(res.build_seconds), len(res.residual), res.time_cap,
                           res.kappa0, res.error))
    return sorted(out, key=lambda x: (x.dataset, x.m, x.label, x.seed))


@dataclass(frozen=True)
class SeedRace:
    """One seed of a race: the fastest of the group and of the others (None: none
    reached eps), and whether the group's was strictly sooner."""

    seed: int
    group: str | None
    group_t: float | None
    other: str | None
    other_t: float | None

    @property
    def group_sooner(self) -> bool:
        """The group reached eps, and sooner than every other method (one that did not
        reach eps is never sooner).

        >>> SeedRace(1, "ggn", 0.1, None, None).group_sooner
        True
        >>> SeedRace(1, None, None, None, None).group_sooner
        False
        """
        return self.group_t is not None and (self.other_t is None or self.group_t < self.other_t)


def _fastest(runs: list[RaceRun]) -> tuple[str | None, float | None]:
    done = [(x.t, x.label) for x in runs if x.t is not None]
    return (min(done)[1], min(done)[0]) if done else (None, None)


def seed_races(runs: list[RaceRun], group: set[str]) -> list[SeedRace]:
    """Per seed (of one data set and width), the fastest run of `group` against the
    fastest of the rest."""
    out = []
    for seed in sorted({x.seed for x in runs}):
        mine = [x for x in runs if x.seed == seed]
        g = _fastest([x for x in mine if x.label in group])
        o = _fastest([x for x in mine if x.label not in group])
        out.append(SeedRace(seed, g[0], g[1], o[0], o[1]))
    return out


def capped_spread(runs: list[RaceRun]) -> str:
    """Median time to eps over seeds with its IQR and count, a run that did not reach eps
    counting as slower than any that did (quartiles by nearest rank, so no arithmetic
    with such runs); "> X ms" where the quartile is such a run (X: the least time one of
    them spent).

    >>> R = lambda t, s: RaceRun("d", 8, 0, "gd", t, s, 0.0, 3, None, None, None)
    >>> capped_spread([R(0.01, 0.01), R(0.02, 0.02), R(None, 0.5), R(0.03, 0.03), R(0.04, 0.04)])
    '30 ms [IQR 20-40, 5 seeds; reached in 4]'
    >>> capped_spread([R(None, 0.5), R(None, 0.6), R(0.01, 0.01)])
    '> 500 ms [IQR 10 to >500, 3 seeds; reached in 1]'
    """
    v = np.array([math.inf if x.t is None else x.t for x in runs])
    q1, med, q3 = np.percentile(v, [25, 50, 75], method="nearest") if v.size else [math.nan] * 3
    floor = min((x.spent for x in runs if x.t is None), default=math.nan)

    def ms(q: float) -> str:
        return f">{sig3(1e3 * floor)}" if math.isinf(q) else sig3(1e3 * q)
    spread = Spread(float(med), float(q1), float(q3), int(v.size))
    reached = sum(x.t is not None for x in runs)
    tail = "" if reached == len(runs) else f"; reached in {reached}"
    iqr = f"{ms(q1)}{' to ' if math.isinf(q3) else '-'}{ms(q3)}"
    return f"{ms(spread.median).replace('>', '> ')} ms [IQR {iqr}, {spread.k} seeds{tail}]"


def share_outcome(races: list[SeedRace], share: float) -> str:
    """holds if the group was sooner (`SeedRace.group_sooner`) in at least `share` of the
    seeds, fails if in at most 1 - share, holds-with-caveat otherwise.

    >>> S = SeedRace
    >>> share_outcome([S(k, "ggn", 0.1, "gd", 0.2 if k else None) for k in range(5)], 0.8)
    'holds'
    >>> share_outcome([S(k, "ggn", 0.1, "gd", 0.05 if k < 3 else 0.2) for k in range(5)], 0.8)
    'holds-with-caveat'
    >>> share_outcome([S(k, None, None, None, None) for k in range(5)], 0.8)   # none reached
    'fails'
    """
    k, n = sum(s.group_sooner for s in races), len(races)
    return ("holds" if k >= share * n - 1e-9 else
            "fails" if k <= (1 - share) * n + 1e-9 else "holds-with-caveat")


@dataclass(frozen=True)
class RaceValues:
    """What an entry built on races reads from its runs."""

    mmax: int
    runs: list      #: `RaceRun` of every run, sorted
    races: dict     #: data set -> `SeedRace` per seed at the largest m
    kappa: dict     #: data set -> median kappa(G_0) over seeds at the largest m
    traces: dict    #: data set -> (label, seconds, residual / r0) at the largest m, first seed


def race_values(results, eps: float, datasets: Iterable[str], group: set[str]) -> RaceValues:
    """The races of the ``training_timed`` runs of `results` (data sets in the order of
    `datasets`), the group's against the rest."""
    rr = race_runs(results.of("training_timed"), eps)
    mmax = max(x.m for x in rr)
    top = [x for x in rr if x.m == mmax]
    sets = [ds for ds in datasets if any(x.dataset == ds for x in top)]
    kappa = {ds: float(np.median([x.kappa for x in top if x.dataset == ds and x.kappa]
                                 or [math.nan])) for ds in sets}
    first, traces = min(x.seed for x in top), {}
    for r in results.of("training_timed"):
        res = r.result
        if r.params["m"] == mmax and r.spec.seed == first and res.residual:
            traces.setdefault(r.params["dataset"], []).append(
                (r.params["label"], res.build_seconds + np.cumsum(res.seconds),
                 np.array(res.residual) / res.residual0))
    races = {ds: seed_races([x for x in top if x.dataset == ds], group) for ds in sets}
    return RaceValues(mmax, rr, races, kappa, traces)


def race_sentence(v: RaceValues, ds: str, outcome: str, group: set[str]) -> str:
    """One data set's headline: its answer, the seeds the group won, the group's fastest
    method and the best other method (lowest median), each with `capped_spread`."""
    races = v.races[ds]
    top = [x for x in v.runs if x.m == v.mmax and x.dataset == ds]
    gl = Counter(s.group for s in races if s.group).most_common(1)
    others = sorted({x.label for x in top if x.label not in group})
    ol = min(others, key=lambda k: np.median([math.inf if x.t is None else x.t
                                              for x in top if x.label == k]))
    gn = (f"fastest GN {gl[0][0]} {capped_spread([x for x in top if x.label == gl[0][0]])}"
          if gl else "no Gauss-Newton method reached eps")
    fo = (f"best first-order {ol} {capped_spread([x for x in top if x.label == ol])}"
          if any(x.t is not None for x in top if x.label not in group)
          else "no first-order method reached eps within its cap")
    return (f"{ds} (kappa(G_0) {v.kappa[ds]:.3g}): {answer_words(outcome)}, GN sooner in "
            f"{sum(s.group_sooner for s in races)} of {len(races)} seeds; {gn}; {fo}")


def race_table(v: RaceValues, eps: float) -> Table:
    """Per data set, m and method: time to eps over seeds (`capped_spread`), and the
    medians over seeds of the steps, the construction, the time per step and the cap."""
    table = Table(["data set", "m", "method", f"time to {eps:g} r0 (construction included)",
                   "steps", "construction", "per step", "first-order cap"])
    for ds, m, label in dict.fromkeys((x.dataset, x.m, x.label) for x in v.runs):
        xs = [x for x in v.runs if (x.dataset, x.m, x.label) == (ds, m, label)]
        caps = [x.cap for x in xs if x.cap is not None]
        table.add(ds, pow2(m), label, capped_spread(xs), int(np.median([x.steps for x in xs])),
                  _ms([x.build for x in xs]),
                  _ms([(x.spent - x.build) / max(x.steps, 1) for x in xs]),
                  _ms(caps) if caps else "-")
    table.add(*[""] * 3, "(median [IQR, seeds])", *["(median over seeds)"] * 4)
    return table


def _ms(seconds: list[float]) -> str:
    return f"{sig3(1e3 * float(np.median(seconds)))} ms"


def race_plot(v: RaceValues, eps: float) -> Plot:
    """Residual against wall time (construction included) at the largest m, first seed,
    one log-log panel per data set, eps dashed."""
    panels = [Panel([Series(t, rel, label, "-", color(k)) for k, (label, t, rel) in enumerate(tr)],
                    "wall seconds (construction included)", "||f - y|| / ||f_0 - y||",
                    xscale="log", yscale="log", title=ds, hlines=[HLine(eps)])
              for ds, tr in v.traces.items()]
    return Plot(panels, f"Residual against wall time at m = {pow2(v.mmax)}, first seed, one "
                "panel per data set (dashed: eps).")
