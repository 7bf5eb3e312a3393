"""Verdict rules. Each returns (verdict, reason) and is unit-tested on inputs that must
pass and inputs that must fail.

Verdicts of a claim: "holds", "holds-with-caveat", "fails", "inconclusive" (the sizes run
cannot decide; the reason says what would), "untestable" (no experiment can refute it;
the reason says why), "not tested" (an experiment could, but the mechanism or bound it
would test is not in the texts this project has, so a structure built here would test
our construction rather than the paper's; the reason says what is missing). A sanity
entry is "consistent" or "inconsistent" (or "inconclusive" without runs); a question is
"answer" (or "inconclusive" without runs): a premise the project made up is never
marked "fails".
"""

from __future__ import annotations

from collections.abc import Iterable

from .fitting import LogLogFit

__all__ = ["ALL_VERDICTS", "QUESTION_VERDICTS", "SANITY_VERDICTS", "VERDICTS", "VERDICTS_BY_KIND",
           "all_within", "as_sanity", "exponent_at_most", "exponent_matches", "worst"]

VERDICTS = ("holds", "holds-with-caveat", "fails", "inconclusive", "untestable", "not tested")
SANITY_VERDICTS = ("consistent", "inconsistent", "inconclusive")
QUESTION_VERDICTS = ("answer", "inconclusive")
#: every verdict word, in a stable order (the legend's)
ALL_VERDICTS = tuple(dict.fromkeys([*VERDICTS, *SANITY_VERDICTS, *QUESTION_VERDICTS]))
#: the verdict words each kind of ledger entry may carry
VERDICTS_BY_KIND = {"claim": VERDICTS, "sanity": SANITY_VERDICTS, "question": QUESTION_VERDICTS}

_ORDER = {"holds": 0, "holds-with-caveat": 1, "inconclusive": 2, "fails": 3, "untestable": 4,
          "not tested": 5}


def exponent_at_most(fit: LogLogFit, claimed: float, tol: float = 0.05) -> tuple[str, str]:
    """One-sided rule for an O(x^claimed) claim on a fitted exponent.

    holds if the whole 95% interval is <= claimed + tol; fails if the whole interval is
    > claimed + tol; inconclusive if the interval straddles claimed + tol.

    >>> from verify_sublin.ledger.fitting import LogLogFit
    >>> exponent_at_most(LogLogFit(0.9, 1.0, 0.85, 0.95, 5, 5), 1.0)[0]
    'holds'
    >>> exponent_at_most(LogLogFit(1.9, 1.0, 1.8, 2.0, 5, 5), 1.0)[0]
    'fails'
    >>> exponent_at_most(LogLogFit(1.0, 1.0, 0.9, 1.2, 5, 5), 1.0)[0]
    'inconclusive'
    """
    limit = claimed + tol
    if fit.high <= limit:
        return "holds", f"95% interval {fit} <= {claimed:g} + {tol:g}"
    if fit.low > limit:
        return "fails", f"95% interval {fit} entirely above {claimed:g} + {tol:g}"
    return "inconclusive", (f"95% interval {fit} straddles {claimed:g} + {tol:g}; more sizes "
                            "or a wider range of sizes would decide")


def exponent_matches(fit: LogLogFit, predicted: float, tol: float = 0.05) -> tuple[str, str]:
    """Two-sided rule: the interval overlaps [predicted - tol, predicted + tol].

    >>> from verify_sublin.ledger.fitting import LogLogFit
    >>> exponent_matches(LogLogFit(0.78, 1.0, 0.76, 0.80, 5, 5), 0.77)[0]
    'holds'
    >>> exponent_matches(LogLogFit(0.5, 1.0, 0.45, 0.55, 5, 5), 0.77)[0]
    'fails'
    """
    if fit.high >= predicted - tol and fit.low <= predicted + tol:
        return "holds", f"95% interval {fit} meets {predicted:.3f} +- {tol:g}"
    return "fails", f"95% interval {fit} misses {predicted:.3f} +- {tol:g}"


def all_within(values: Iterable[float], low: float, high: float, what: str) -> tuple[str, str]:
    """holds if every value lies in [low, high], else fails (naming the worst).

    >>> all_within([0.9, 1.1], 0.8, 1.2, "ratio")[0], all_within([0.5], 0.8, 1.2, "ratio")[0]
    ('holds', 'fails')
    """
    values = list(values)
    bad = [v for v in values if not low <= v <= high]
    if not bad:
        return "holds", f"all {len(values)} {what} in [{low:g}, {high:g}]"
    worst_value = max(bad, key=lambda v: max(low - v, v - high))
    return "fails", (f"{len(bad)} of {len(values)} {what} outside [{low:g}, {high:g}] "
                     f"(worst {worst_value:.4g})")


def as_sanity(verdict: str) -> str:
    """A sanity entry's word for a two-valued rule's outcome: holds -> consistent,
    fails -> inconsistent; inconclusive stays.

    >>> as_sanity("holds"), as_sanity("fails"), as_sanity("inconclusive")
    ('consistent', 'inconsistent', 'inconclusive')
    """
    return {"holds": "consistent", "fails": "inconsistent", "inconclusive": "inconclusive"}[verdict]


def worst(verdicts: Iterable[str]) -> str:
    """The least favourable of several verdicts (holds < caveat < inconclusive < fails).

    >>> worst(["holds", "inconclusive", "holds-with-caveat"])
    'inconclusive'
    """
    return max(verdicts, key=_ORDER.__getitem__)
