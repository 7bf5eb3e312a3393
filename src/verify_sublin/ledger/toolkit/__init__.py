"""The public toolkit of ledger entries (see `toolkit.base`): what two or more entries
use, and what a plugin's entry may use too."""

from .base import *  # noqa: F403
from .base import __all__ as _base_all
from .base import answer_words, premise_answer

__all__ = [*_base_all, "answer_words", "premise_answer"]
