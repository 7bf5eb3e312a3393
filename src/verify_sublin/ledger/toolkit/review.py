"""Reviewers' questions as entries: the review's words and the one-sentence answers.

A question entry states the premise behind a reviewer's question and decides it with an
ordinary rule (holds, holds-with-caveat, fails); `Question.answer` turns that outcome
into the verdict "answer" with the matching sentence, and the rule into the answer's
words (`premise_answer`). Cost: O(length of the texts).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..papers import CITE
from .base import premise_answer

__all__ = ["Question"]


@dataclass(frozen=True)
class Question:
    """A reviewer's question: the quoted words and the answer by the premise's outcome.

    >>> q = Question('"Why?"', "Because", "Partly because", "Not because")
    >>> q.answer("holds-with-caveat", "2 of 3", "holds if a; fails otherwise.")
    ('answer', 'Partly because: 2 of 3.', 'The answer is "yes" if a; "no" otherwise.')
    >>> q.answer("inconclusive", "no run", "holds if a.")[0]
    'inconclusive'
    >>> q.source
    'ICLR 2025 reviews of Deng et al.: "Why?"'
    """

    quote: str      #: the review's words, quoted
    yes: str        #: the answer when the premise holds
    partly: str     #: ... when it holds with a caveat
    no: str         #: ... when it fails

    @property
    def source(self) -> str:
        """The entry's source: the reviews and the quoted question."""
        return f"{CITE['REVIEW']}: {self.quote}"

    def answer(self, premise: str, measured: str, rule: str) -> tuple[str, str, str]:
        """(verdict, measured, rule) of the question, from the premise rule's outcome and
        its measured sentence and rule; an undecided premise is returned as it is."""
        return premise_answer(premise, self.yes, self.partly, self.no, measured, rule)
