"""What the entries on the correlation tree share (tree.cost, tree.benefit and
lower_bound.dsws): the shifts their runs use and the measured query constant.

Cost: O(n) per result.
"""

from __future__ import annotations

__all__ = ["TREE_CS", "query_constant"]

#: the shifts c of the tree's cost and benefit runs: inside the theorem's range (0.4)
#: and well outside it, with small fire sets (0.85)
TREE_CS = (0.4, 0.85)


def query_constant(res) -> float:
    """Node visits of ``query_all`` over sum |S_i| log2 m (a ``tree_cost`` result): the
    constant of the upper bound O(|S_i| log m), at least 1 in the denominator.

    >>> from types import SimpleNamespace
    >>> query_constant(SimpleNamespace(query_visits=60, sizes=(3, 2), log2m=6.0))
    2.0
    """
    return res.query_visits / max(1.0, float(sum(res.sizes)) * res.log2m)
