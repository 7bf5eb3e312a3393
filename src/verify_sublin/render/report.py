"""The claims report from an assembled `ReportModel`: report.md, report.html, the
figures and verdicts.json, written into one folder.

The renderer only formats: the entries were evaluated, their runs checked for
staleness and the views across entries computed when the model was assembled
(`verify_sublin.ledger.outcome.assemble`). Every number it prints comes from the model.
Cost: O(size of the report), plus the figures whose content changed (about 0.2 s each).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..ledger.learned import findings
from ..ledger.legacy import LegacyPlot
from ..ledger.notation import METHOD_ROWS, NOTATION
from ..ledger.outcome import ReportModel
from ..ledger.papers import REFERENCES
from ..ledger.plot import Plot
from .atomic import write_text
from .figures import FigureCache
from .markdown import anchor, to_html, to_markdown

__all__ = ["KIND_TABLES", "write_report"]

#: One table per kind of ledger entry: title, what it holds, columns.
KIND_TABLES = {
    "claim": ("Claims of the papers",
              "Statements the papers make. Verdicts: holds, holds-with-caveat, fails, "
              "inconclusive (the sizes run cannot decide), untestable (no experiment can "
              "refute it), not tested (the mechanism or bound is not in the texts we have: "
              "a structure built here would test our construction, not the paper's). Every "
              "rule here has a configuration of its own experiment on which it fails "
              "(listed in the test suite).",
              ["claim", "source", "claimed", "measured", "verdict"]),
    "sanity": ("Sanity checks of the machinery",
               "Identities and known facts the experiments rely on. They check this project's "
               "code and sampling, not the papers: consistent or inconsistent.",
               ["check", "source", "expected", "measured", "verdict"]),
    "question": ("Reviewers' questions",
                 "Questions the reviewers asked. Each gets an answer in one sentence with the "
                 "measured figures; the premise behind a question is this project's, so it is "
                 "never marked as failing.",
                 ["question", "source", "premise", "answer", "verdict"]),
}

LIMITS_TITLE = "What these experiments can and cannot say"


def _limits(largest_m: int) -> str:
    """What the experiments can say, with the largest width actually run."""
    return f"""\
The theorems hold for widths
m = Omega(max(lambda^-4 n^4, lambda^-2 n^2 d log(16 n / rho))); with lambda ~ m^(-c/2)
this is astronomically large (the `width.requirement` row gives the number for the data
run here, as a power of two). Every experiment here runs at m <= {size(largest_m)}.

So the verdicts test the claims' *mechanisms and trends at practical widths*:

- sparsity of the fire sets,
- exactness of the data structure,
- per-step contraction,
- growth of the cost per iteration in m, n and d,

never the theorems in their own regime. Exponents are local slopes over the sizes run;
an asymptotic exponent is compared with the finite-size prediction where one exists. A
quick-profile report uses small sizes and its verdicts are indicative only."""


def size(v) -> str:
    """2^k for a power of two of at least 2^4, else the number as is.

    >>> size(2**22), size(1000), size(0.4)
    ('2^22', '1000', '0.4')
    """
    if isinstance(v, int) and not isinstance(v, bool) and v >= 16 and v & (v - 1) == 0:
        return f"2^{v.bit_length() - 1}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def fmt_params(records) -> str:
    """A compact summary of the configurations behind an entry: key -> values.

    >>> from verify_sublin.bench.spec import RunRecord, RunSpec
    >>> recs = [RunRecord(i, "", RunSpec("x", {"m": 2**k, "opts": {"a": [1, 2]}}), "done",
    ...                   {}, None, "c", 0.0) for i, k in enumerate(range(12, 24, 2))]
    >>> fmt_params(recs)
    'm: 2^12..2^22 (6 values); opts: {"a": [1, 2]}; seed: 0'
    """
    values: dict[str, set] = defaultdict(set)
    for r in records:
        for k, v in r.spec.params.items():
            if isinstance(v, (list, dict)):
                v = json.dumps(v, sort_keys=True)
            values[k].add(v)
        values["seed"].add(r.spec.seed)
    parts = []
    for k in sorted(values):
        vs = sorted(values[k], key=lambda v: (isinstance(v, str), v if not isinstance(v, str)
                                              else 0, str(v)))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vs)
        fmt = size if k == "m" else (lambda v: f"{v:g}" if isinstance(v, float) else str(v))
        if numeric and len(vs) > 3:
            parts.append(f"{k}: {fmt(min(vs))}..{fmt(max(vs))} ({len(vs)} values)")
        else:
            parts.append(f"{k}: " + ", ".join(fmt(v) for v in vs))
    return "; ".join(parts)


def ranges(ids: list[int]) -> str:
    """Run ids as ranges.

    >>> ranges([1, 2, 3, 7, 9, 10])
    '1-3, 7, 9-10'
    """
    ids = sorted(set(ids))
    out, start, prev = [], None, None
    for i in ids:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            out.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = i
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ", ".join(out)


def _provenance(records, commit: str, stale: bool) -> str:
    if not records:
        return "**Provenance:** no runs."
    commits = sorted({r.commit for r in records})
    ids = [r.id for r in records]
    secs = sum(r.seconds for r in records)
    text = (f"**Provenance:** runs {ranges(ids)} ({len(ids)} runs, {secs:.1f} s of "
            f"computation); commit(s) {', '.join(f'`{c[:12]}`' for c in commits)}")
    if stale:
        text += (f" — † the code that computes some of these runs differs at the rendering "
                 f"commit `{commit[:12]}` (or cannot be compared)")
    return text + f". Configurations: {fmt_params(records)}."


def _commits(model: ReportModel) -> str:
    """Which commits made the runs, what they cost, and what changed since each."""
    if not model.commits:
        return ""
    parts = [f"`{c[:12]}` {n} runs, {s:.0f} s" for c, (n, s) in sorted(model.commits.items())]
    text = ("Runs of this store by commit: " + "; ".join(parts) +
            f" ({sum(s for _, s in model.commits.values()):.0f} s of computation in all).")
    for c, changed in sorted(model.changed_since.items()):
        if changed is None:
            text += (f" Whether the code of `{c[:12]}` differs from the rendering code could "
                     "not be checked here (no git history, or an uncommitted tree).")
        elif changed:
            text += (f" Since `{c[:12]}` the code that computes these experiments changed: "
                     f"{', '.join(changed)} (rerun with --recompute for figures of one version "
                     "of the code).")
        else:
            text += (f" The code that computes the runs of `{c[:12]}` is unchanged at the "
                     "rendering commit.")
    return text


def _figure(verdict, cache: FigureCache) -> tuple[str, str] | None:
    """An entry's figure: its plot specification drawn (or a legacy claim's plot function
    called), cached by content; ("", message) when a legacy plot fails."""
    plot = verdict.plot
    if plot is None:
        return None
    name = f"fig_{verdict.claim_id.replace('.', '_')}.png"
    if isinstance(plot, Plot):
        return cache.plot(name, plot)
    assert isinstance(plot, LegacyPlot)
    key = json.dumps(plot.key, default=str)
    hit = cache.get(name, key)
    if hit:
        return hit
    fig = plt.figure(figsize=(10, 4))
    try:
        caption = plot.draw(fig)
    except Exception as exc:  # a broken plot must not lose the report
        plt.close(fig)
        return "", f"(figure failed: {type(exc).__name__}: {exc})"
    if caption is None:
        plt.close(fig)
        return None
    return cache.put(name, key, fig, caption)


def _header(model: ReportModel) -> list[tuple]:
    m, vers = model.machine, model.versions
    blocks = [("h1", f"verify_sublin claims report ({model.profile} profile)"),
              ("p", f"Rendered {model.rendered} at commit `{model.commit}` from the store "
                    f"`{model.store_path.name}` ({model.runs_total} runs, {model.runs_failed} "
                    f"failed). Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
                    f"{m['platform']}. Backend: {model.backend} (device: "
                    f"{', '.join(model.devices)}). Versions: " +
                    ", ".join(f"{k} {v}" for k, v in vers.items() if v) + ".")]
    if model.indicative:
        blocks.append(("p", f"**Every verdict below is indicative:** the {model.profile} profile "
                            f"runs small sizes (m <= {size(model.largest_m)}). The committed "
                            "full report is in reports/full/."))
    return blocks


def _tables(model: ReportModel, kinds: list[str]) -> list[tuple]:
    blocks, differ, total = [], [], 0
    ref = model.reference
    for kind in kinds:
        title, intro, header = KIND_TABLES[kind]
        header = list(header) + (["full profile"] if ref is not None else [])
        rows = []
        for o in model.outcomes:
            if o.entry.kind != kind:
                continue
            v = o.verdict
            row = [f"[{v.claim_id}](#{anchor(v.claim_id)})", o.entry.source, v.claimed,
                   v.measured + (" †" if o.stale else ""),
                   f"**{v.verdict}**" + (" (indicative)" if model.indicative else "")]
            if ref is not None:
                word = ref.get(v.claim_id)
                if word is None:
                    row.append("(not in the full report)")
                elif word != v.verdict:
                    differ.append(v.claim_id)
                    row.append(f"{word} (differs)")
                else:
                    row.append(f"{word} (same)")
            rows.append(row)
        total += len(rows)
        blocks += [("h2", title), ("p", intro), ("table", header, rows)]
    notes = []
    if any(o.stale for o in model.outcomes):
        notes.append("† the figure comes from runs whose computing code differs from the "
                     "code this report is rendered with (see the entry's provenance).")
    if ref is not None:
        notes.append(f"The last column is the verdict of the committed full-profile report; "
                     f"{len(differ)} of {total} differ"
                     + (f" ({', '.join(differ)})" if differ else "") + ".")
    notes.append(_commits(model))
    blocks.append(("p", " ".join(n for n in notes if n)))
    return blocks


def _sentence(text: str) -> str:
    """`text` ending with one full stop (a measured sentence may already end with one)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _section(o, model: ReportModel, cache: FigureCache) -> list[tuple]:
    e, v = o.entry, o.verdict
    title = KIND_TABLES[e.kind][0]
    blocks = [("h2", v.claim_id),
              ("p", f"**Kind:** {e.kind} ({title.lower()}). **Paper:** [{e.paper}](#papers). "
                    f"**Source:** {e.source}. **Statement:** {e.statement}"),
              ("p", f"**Experiment:** {e.experiment}"),
              ("p", f"**Verdict: {v.verdict}**{' (indicative)' if model.indicative else ''}. "
                    f"Claimed: {_sentence(v.claimed)} Measured: {_sentence(v.measured)}"),
              ("p", f"**Rule:** {v.rule}")]
    if v.details:
        blocks.append(("lines", v.details))
    fig = _figure(v, cache)
    if fig and fig[0]:
        blocks.append(("img", fig[0], fig[1]))
    elif fig:
        blocks.append(("p", fig[1]))
    blocks.append(("p", _provenance(o.records, model.commit, o.stale)))
    if v.failed_runs:
        blocks.append(("p", "**Failed runs:** " + "; ".join(
            f"run {i}: {err}" for i, err in v.failed_runs)))
    blocks.append(("p", f"[↑ back to the table: {title}](#{anchor(title)})"))
    return blocks


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def write_report(model: ReportModel, outdir: str | Path) -> tuple[Path, Path]:
    """Write report.md, report.html, verdicts.json and the figures into `outdir`; return
    the paths of report.md and report.html. verdicts.json records the store's path
    relative to `outdir` (absolute when it lies on another drive)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cache = FigureCache(outdir)
    kinds = [k for k in KIND_TABLES if any(o.entry.kind == k for o in model.outcomes)]
    ids = [o.verdict.claim_id for o in model.outcomes]
    toc = ["- [What was learned](#what-was-learned)", "- [Papers](#papers)",
           "- [Notation and methods](#notation-and-methods)",
           *(f"- [{KIND_TABLES[k][0]}](#{anchor(KIND_TABLES[k][0])})" for k in kinds),
           f"- [{LIMITS_TITLE}](#{anchor(LIMITS_TITLE)})",
           "- [Figures across claims](#figures-across-claims)",
           "- Entries: " + " · ".join(f"[{i}](#{anchor(i)})" for i in ids),
           "- [Failed runs](#failed-runs)"]
    learned = findings({o.verdict.claim_id: o.verdict.figures for o in model.outcomes})
    blocks = [*_header(model), ("h2", "What was learned"),
              ("p", ("Indicative (small sizes). " if model.indicative else "")
               + "Each sentence is built from the named figures of the entry it cites."
               if learned else "No entry of this report has the figures a finding needs."),
              *([("p", "\n".join(f"- {s}" for s in learned))] if learned else []),
              ("p", "**Contents**\n\n" + "\n".join(toc)), ("h2", "Papers")]
    used = {o.entry.paper for o in model.outcomes}
    blocks.append(("p", "\n".join(f"- **[{tag}]** {ref}" for tag, ref in REFERENCES.items()
                                  if tag in used or tag == "DHSWZ")))
    blocks += [("h2", "Notation and methods"), ("p", NOTATION),
               ("p", "Every method and variant measured here: what it computes, which paper "
                     "ingredient it implements or whether it is this project's, its memory, "
                     "and its cost per step in the terms the operation counter counts."),
               ("table", ["method", "computes", "implements", "memory", "cost per step"],
                [list(row) for row in METHOD_ROWS])]
    blocks += _tables(model, kinds)
    blocks += [("h2", LIMITS_TITLE), ("p", _limits(model.largest_m)),
               ("h2", "Figures across claims")]
    for name, plot in model.views:
        blocks.append(("img", *cache.plot(name, plot)))
    if not model.views:
        blocks.append(("p", "No timed runs in this store."))
    for o in model.outcomes:
        blocks += _section(o, model, cache)
    failed = [(r.id, o.verdict.claim_id, r.error) for o in model.outcomes for r in o.records
              if not r.ok]
    blocks.append(("h2", "Failed runs"))
    blocks.append(("p", "None." if not failed else "Failed runs are listed, never dropped:"))
    if failed:
        blocks.append(("table", ["run", "claim", "reason"],
                       [[str(i), c, err or ""] for i, c, err in failed]))
    md, page = outdir / "report.md", outdir / "report.html"
    text = to_markdown(blocks)
    write_text(md, text)
    write_text(page, to_html(text, outdir, f"verify_sublin report ({model.profile})"))
    try:
        store = os.path.relpath(Path(model.store_path).resolve(), outdir.resolve())
    except ValueError:                                  # another drive
        store = str(Path(model.store_path).resolve())
    write_text(outdir / "verdicts.json", json.dumps(
        {"profile": model.profile, "backend": model.backend, "commit": model.commit,
         "rendered": model.rendered, "store": str(store),
         "verdicts": [{"claim": o.verdict.claim_id, "paper": o.entry.paper,
                       "verdict": o.verdict.verdict, "claimed": o.verdict.claimed,
                       "measured": o.verdict.measured, "figures": o.verdict.figures,
                       "runs": o.verdict.runs} for o in model.outcomes]},
        indent=1, default=_json_default) + "\n")
    cache.save()        # last: the figures the old report.md showed stay until it is replaced
    return md, page
