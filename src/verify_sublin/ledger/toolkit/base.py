"""The public toolkit of ledger entries: what two or more entries use, and what a
plugin's entry may use too (see `verify_sublin.plugins`).

Labels (`pow2`), grouping (`group`), fits (`loglog_fit`, `local_slope`), the expected
fire set (`expected_fire`), the shared thresholds of the convergence entries
(`CONTRACTION_MAX`, `C_THEOREM_MAX`) with their rule (`contraction_verdict`), the
options of this project's fastest sublinear variant (`CACHE_IMPLICIT`) and figure
helpers (`color`, `loglog`). Cost: O(records) for the grouping, see `fitting` for fits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from scipy.stats import norm

from ...core.model import shift_for
from ..entry import SAME, SOURCE_RECONSTRUCTED, Entry, Results, Shown, Sizes, Table
from ..fitting import LogLogFit, local_slope, loglog_fit
from ..papers import CITE
from ..plot import HLine, Panel, Plot, Series, Text
from ..rules import as_sanity, exponent_at_most, exponent_matches, worst

__all__ = [
    "CACHE_IMPLICIT", "CITE", "CONTRACTION_MAX", "C_THEOREM_MAX", "SAME",
    "SOURCE_RECONSTRUCTED", "VARIANT", "WIDTH_VS_SHIFT", "Entry", "HLine", "LogLogFit", "Panel", "Plot",
    "Results", "Series", "Shown", "Sizes", "Table", "Text", "as_sanity", "color",
    "contraction_verdict", "expected_fire", "exponent_at_most", "exponent_matches", "group",
    "local_slope", "loglog", "loglog_fit", "pow2", "worst",
]

#: convergence: the claimed per-step contraction ||r_{t+1}|| / ||r_t||
CONTRACTION_MAX = 0.5
#: convergence: the verdict is decided over c below this (the width condition needs it)
C_THEOREM_MAX = 0.5

#: the options of this project's fastest sublinear variant: the tree-free cache of the
#: live union with implicit pre-activations (no paper proposes it)
CACHE_IMPLICIT = {"fire_sets": "cache", "preactivations": "implicit"}
#: what an entry run on CACHE_IMPLICIT measured, in its row (`Entry.measured_on`)
VARIANT = ("this project's variant of the sublinear method (tree-free cache of the union, "
           "exact solve), not the paper's tree and sketched solve")

#: why c >= 1/2 lies outside the theorem: written once, shown in every convergence entry
WIDTH_VS_SHIFT = (
    "The width condition m >= n^4 lambda^-4 cannot hold for c >= 1/2: lambda <= Q(b) <= "
    "e^(-b^2/2) = m^(-c/2), so it asks m >= n^4 m^(2c), i.e. m^(1 - 2c) >= n^4, impossible "
    "for c >= 1/2 and n >= 2. Results at c = 0.6 and 0.85 (and the speed figures measured "
    "there) sit outside any regime the theorem covers.")


def pow2(m) -> str:
    """'2^k' for a power of two, else the number.

    >>> pow2(4096), pow2(1000)
    ('2^12', '1000')
    """
    k = math.log2(m)
    return f"2^{int(k)}" if k == int(k) else str(m)


def group(records: Iterable, key: Callable) -> dict:
    """Records grouped by ``key(record)``, in first-seen order of the keys."""
    out = defaultdict(list)
    for r in records:
        out[key(r)].append(r)
    return dict(out)


def expected_fire(m: int, c: float) -> float:
    """E|S_i(0)| = m Q(b) at b = sqrt(c ln m)."""
    return m * norm.sf(shift_for(int(m), c))


#: 20 distinct colours: matplotlib's ten default ones ("C0".."C9", tab10), then their
#: lighter companions of the tab20 map
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
            "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5")


def color(k: int) -> str:
    """The k-th of 20 distinct colours (the first ten are matplotlib's default cycle).

    >>> color(0), color(10), len({color(k) for k in range(20)})
    ('#1f77b4', '#aec7e8', 20)
    """
    return _COLOURS[k % len(_COLOURS)]


def loglog(series: Sequence[Series], xlabel: str, ylabel: str, **kw) -> Panel:
    """A log-log panel (x in powers of two) with a grid: the common figure of cost and
    size against m."""
    return Panel(series, xlabel, ylabel, xscale="log2", yscale="log", grid=True, **kw)


def contraction_verdict(rows, mmax: int) -> tuple[str, str]:
    """The convergence rule over runs at one side of c = 1/2.

    rows: (m, worst per-step contraction, numerical error or None) per run. holds if every
    step of every run contracts by `CONTRACTION_MAX`; holds-with-caveat if that is true at
    the largest m but not at every smaller m; fails if some run at the largest m contracts
    less or stops on a numerical fault.

    >>> contraction_verdict([(8, 0.1, None), (16, 0.2, None)], 16)[0]
    'holds'
    >>> contraction_verdict([(8, 0.7, None), (16, 0.2, None)], 16)[0]
    'holds-with-caveat'
    >>> contraction_verdict([(8, 0.1, None), (16, 0.6, None)], 16)[0]
    'fails'
    """
    if not rows:
        return "inconclusive", "no run"
    top = [wc for m, wc, err in rows if m == mmax and err is None]
    top_bad = any(err for m, _, err in rows if m == mmax) or any(
        wc > CONTRACTION_MAX for wc in top)
    all_ok = all(err is None and wc <= CONTRACTION_MAX for _, wc, err in rows)
    worst_wc = max(wc for _, wc, _ in rows)
    if all_ok:
        return "holds", f"worst {worst_wc:.3g}"
    if not top_bad:
        return "holds-with-caveat", f"worst {worst_wc:.3g} below the largest m"
    return "fails", f"worst at m = {pow2(mmax)}: {max(top, default=float('inf')):.3g}"


#: a question's answer to its premise, by the premise rule's outcome
_ANSWER_WORDS = (("holds-with-caveat", '"partly"'), ("holds", '"yes"'), ("fails", '"no"'))


def premise_answer(premise: str, yes: str, partly: str, no: str, measured: str,
                   rule: str) -> tuple[str, str, str]:
    """A reviewer's question answered by the rule of its premise.

    `premise` is the outcome of the premise's rule (holds, holds-with-caveat or fails);
    returns (verdict, measured, rule): "answer" with the matching sentence before the
    measured figures and the rule read as the answer's (holds -> "yes", caveat ->
    "partly", fails -> "no"); any other outcome (inconclusive) is returned as it is.

    >>> premise_answer("fails", "Y", "P", "N", "3 of 3", "holds if x; fails otherwise.")
    ('answer', 'N: 3 of 3.', 'The answer is "yes" if x; "no" otherwise.')
    """
    if premise not in ("holds", "holds-with-caveat", "fails"):
        return premise, measured, rule
    sentence = {"holds": yes, "holds-with-caveat": partly, "fails": no}[premise]
    rule = answer_words(rule)
    return "answer", f"{sentence}: {measured}.", "The answer is " + rule[0].lower() + rule[1:]


def answer_words(text: str) -> str:
    """A premise's rule in a question's words: holds-with-caveat -> "partly", holds ->
    "yes", fails -> "no".

    >>> answer_words("holds if a; holds-with-caveat if b; fails otherwise")
    '"yes" if a; "partly" if b; "no" otherwise'
    """
    import re
    for word, repl in _ANSWER_WORDS:
        text = re.sub(rf"\b{word}\b", repl, text)
    return text
