"""Verdicts side by side: the summary `run` ends with, and `verify-sublin compare A B`.

A *verdict set* is what a report directory's verdicts.json holds (written by
`render_report`): profile, backend, store and, per claim, the verdict with its claimed
and measured figures. It is read from a report directory, or computed from a results
store (evaluated on a temporary copy, so the store itself is never written).

Cost: reading a JSON file, or one evaluation of the ledger per store.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..core.errors import InputError

__all__ = ["compare_table", "load_verdicts", "profile_of", "summary_lines", "verdict_set"]


def verdict_set(results, profile: str, backend: str, store: str = "") -> dict:
    """A verdict set from `evaluate`'s results."""
    return {"profile": profile, "backend": backend, "store": store,
            "verdicts": [{"claim": v.claim_id, "verdict": v.verdict, "claimed": v.claimed,
                          "measured": v.measured} for v, _ in results]}


def profile_of(store) -> str:
    counts = Counter(r["profile"] for r in store.runs())
    if not counts:
        raise InputError("store", str(store.path), "a results store holding runs")
    return counts.most_common(1)[0][0]


def load_verdicts(path: str | Path, profile: str | None = None,
                  backend: str = "numpy") -> dict:
    """The verdict set of a report directory (its verdicts.json, else its
    results.sqlite) or of a results store file; `profile` defaults to the report's, or
    to the store's most frequent one."""
    from ..bench.store import ResultStore
    from ..ledger.evaluate import evaluate

    path = Path(path)
    if path.is_dir():
        vj = path / "verdicts.json"
        if vj.exists() and profile in (None, json.loads(vj.read_text()).get("profile")):
            data = json.loads(vj.read_text())
            data.setdefault("store", str(path))
            return data
        path = path / "results.sqlite"
    if not path.is_file():
        raise InputError("store", str(path), "a report directory or a results database")
    store = ResultStore(path, readonly=True)
    profile = profile or profile_of(store)
    results = evaluate(None, store, profile, backend)
    return verdict_set(results, profile, backend, str(path))


def compare_table(a: dict, b: dict) -> list[str]:
    """Lines of a side-by-side comparison of two verdict sets, one claim per line.

    The first column marks the differences, as `asv compare` does: ``!`` the verdict
    changed, ``~`` same verdict but a different measured figure, ``+``/``-`` the claim
    is only in B / only in A, blank: identical.

    >>> a = {"verdicts": [{"claim": "x", "verdict": "holds", "measured": "1"}]}
    >>> b = {"verdicts": [{"claim": "x", "verdict": "fails", "measured": "2"}]}
    >>> compare_table(a, b)[2].split()
    ['!', 'x', 'holds', 'fails', '1', '|', '2']
    """
    va = {e["claim"]: e for e in a["verdicts"]}
    vb = {e["claim"]: e for e in b["verdicts"]}
    order = list(va) + [c for c in vb if c not in va]
    rows = []
    for cid in order:
        ea, eb = va.get(cid), vb.get(cid)
        if ea is None or eb is None:
            mark = "+" if ea is None else "-"
        elif ea["verdict"] != eb["verdict"]:
            mark = "!"
        elif ea.get("measured") != eb.get("measured"):
            mark = "~"
        else:
            mark = " "
        rows.append((mark, cid, (ea or {}).get("verdict", "-"), (eb or {}).get("verdict", "-"),
                     (ea or {}).get("measured", "-"), (eb or {}).get("measured", "-")))
    w = [max([len(r[i]) for r in rows] + [len(h)]) for i, h in
         enumerate(("", "claim", "verdict A", "verdict B"))]
    head = (f"{'':{w[0]}} {'claim':{w[1]}} {'verdict A':{w[2]}} {'verdict B':{w[3]}} "
            "measured A | measured B")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r[0]:{w[0]}} {r[1]:{w[1]}} {r[2]:{w[2]}} {r[3]:{w[3]}} {r[4]} | {r[5]}")
    changed = sum(r[0] == "!" for r in rows)
    lines.append(f"{changed} verdict(s) differ, {sum(r[0] == '~' for r in rows)} measured "
                 f"figure(s) differ with the same verdict, {len(rows)} claims "
                 "(! verdict changed, ~ figure changed, + only in B, - only in A)")
    return lines


def summary_lines(current: dict, previous: dict | None = None) -> list[str]:
    """The verdict summary `run` prints: counts per verdict, the claims that fail, and
    the claims whose verdict changed since `previous` (the last run on the same store).

    >>> cur = {"verdicts": [{"claim": "a", "verdict": "fails"},
    ...                     {"claim": "b", "verdict": "holds"}]}
    >>> summary_lines(cur, {"verdicts": [{"claim": "b", "verdict": "fails"}]})
    ['verdicts: 1 fails, 1 holds', 'fails: a', 'changed since the last run: b (fails -> holds)']
    """
    counts = Counter(e["verdict"] for e in current["verdicts"])
    lines = ["verdicts: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))]
    bad = [e["claim"] for e in current["verdicts"]
           if e["verdict"] in ("fails", "inconsistent")]
    if bad:
        lines.append("fails: " + ", ".join(bad))
    if previous is not None:
        old = {e["claim"]: e["verdict"] for e in previous["verdicts"]}
        changed = [f"{e['claim']} ({old[e['claim']]} -> {e['verdict']})"
                   for e in current["verdicts"]
                   if e["claim"] in old and old[e["claim"]] != e["verdict"]]
        lines.append("changed since the last run: " + (", ".join(changed) if changed else
                                                        "none"))
    return lines
