"""End-to-end timing by method name (cost.end_to_end): per (c, m, name) the spreads of
construction, step and total time to eps, the gains over ggn measured in the same
process, and the cap on the end-to-end gain a method with free steps could reach.
Cost: O(repeats x steps) per row."""

from __future__ import annotations

from typing import NamedTuple

from ..entry import Table
from .base import pow2
from .spread import Spread

__all__ = ["E2E_NOTE", "E2ERow", "e2e_rows", "e2e_table", "largest_pair"]

#: what the table's figures are, said once below it
E2E_NOTE = (
    "Each run draws one network (seed 21) and times every method 5 times on it, in turns (the "
    "order turned by one each repeat), construction included; medians with their IQR and count "
    "(repeats; steps for the median step). The floor is one X W^T product timed in the same "
    "process. The cap is (C_ggn + T S_ggn) / C_this with ggn's median T: the end-to-end gain a "
    "method whose steps were free could reach (a bound on medians: a measured gain may pass it by the "
    "spread of the constructions). \"ggn\" (fire-set Gram) and \"sublinear cache "
    "implicit\" are this project's; the presets \"paper sublinear\", \"paper near-linear\" and "
    "\"textbook ggn\" are the papers' methods as specified.")


class E2ERow(NamedTuple):
    """One method at one (c, m): spreads over the repeats (step: over every step of every
    repeat), the step counts, whether every repeat reached eps, the floor product's
    seconds, and against ggn (None where either missed eps): the end-to-end gain (ggn's
    median total / this one's), the per-step gain (median steps), and the cap
    (C_ggn + T_ggn S_ggn) / C_this, the end-to-end gain if this method's steps were free."""

    construct: Spread
    step: Spread
    total: Spread
    T: tuple[int, ...]
    reached: bool
    floor: float
    e2e: float | None
    step_gain: float | None
    cap: float | None


def e2e_rows(results) -> dict[tuple[float, int, str], E2ERow]:
    """(c, m, name) -> `E2ERow` of the ``end_to_end`` runs (one run per (c, m))."""
    out = {}
    for r in results:
        c, m, x = r.params["c"], r.params["m"], r.result
        spreads = {name: (Spread.of(row.construct), Spread.of(row.steps), Spread.of(row.total))
                   for name, row in x.rows.items()}
        g, gr = spreads.get("ggn"), x.rows.get("ggn")
        for name, row in x.rows.items():
            con, step, tot = spreads[name]
            both = g is not None and gr.reached and row.reached
            t_ggn = sorted(gr.T)[len(gr.T) // 2] if both else 0
            out[(c, m, name)] = E2ERow(
                con, step, tot, tuple(row.T), row.reached, x.floor,
                g[2].median / tot.median if both else None,
                g[1].median / step.median if both else None,
                (g[0].median + t_ggn * g[1].median) / con.median if both else None)
    return out


def largest_pair(rows: dict, c: float, name: str) -> tuple[int, E2ERow] | None:
    """(m, row of `name`) at the largest m at c where `name` and ggn both ran, or None."""
    m = max((k[1] for k in rows if k[0] == c and k[2] == name and (c, k[1], "ggn") in rows),
            default=None)
    return None if m is None else (m, rows[(c, m, name)])


def _x(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}x"


def e2e_table(rows: dict, order: list[str], labels: dict[str, str]) -> Table:
    """The table of every (c, m, name): times with their spread, T, the gains and cap."""
    table = Table(["c", "m", "method", "construction (x floor)", "median step", "T",
                   "total to eps", "G_e2e = ggn / this, end to end", "G_step = ggn / this, per step",
                   "cap (C_ggn + T S_ggn) / C_this"])
    for c, m, name in sorted(rows, key=lambda k: (k[0], k[1], order.index(k[2]))):
        x = rows[(c, m, name)]
        table.add(c, pow2(m), labels.get(name, name),
                  f"{x.construct.ms('repeats')} ({x.construct.median / x.floor:.2f}x)",
                  x.step.ms("steps"), "/".join(map(str, sorted(set(x.T)))),
                  x.total.ms("repeats") + ("" if x.reached else " (not reached)"),
                  _x(x.e2e), _x(x.step_gain, 1), _x(x.cap, 1))
    return table
