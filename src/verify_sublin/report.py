"""Render the claims report (report.md and a self-contained report.html) from the store.

The report is built from stored runs only: re-rendering never recomputes. Every
number in it comes from a run the report describes (configuration, seed, commit,
machine); a claim whose runs were made at another commit than the one the report is
rendered at is marked. Figures are PNG files beside report.md and inlined (base64)
in report.html, which references nothing on the network.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import re
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .claims.fitting import loglog_fit
from .claims.ledger import CLAIMS, RunRecord
from .claims.runner import evaluate, resolve_claims
from .provenance import git_commit, machine_info, same_sources, versions
from .store import ResultStore

__all__ = ["render_report"]

_LIMITS = """\
**What these experiments can and cannot say.** The theorems hold for widths
m = Omega(max(lambda^-4 n^4, lambda^-2 n^2 d log(16 n / rho))); with lambda ~ m^(-c/2)
this is astronomically large (the `width.requirement` row gives the number for the data
run here, as a power of two). Every experiment here runs at m <= 2^22. So the verdicts
test the claims' *mechanisms and trends at practical widths* — sparsity of the fire
sets, exactness of the data structure, per-step contraction, growth of the cost per
iteration in m, n and d — never the theorems in their own regime. Exponents are local
slopes over the sizes run; an asymptotic exponent is compared with the finite-size
prediction where one exists. A quick-profile report uses small sizes and its verdicts
are indicative only."""


def _fmt_params(records: list[RunRecord]) -> str:
    """A compact summary of the configurations behind a claim: key -> values."""
    values: dict[str, set] = defaultdict(set)
    for r in records:
        for k, v in r.spec.params.items():
            if isinstance(v, (list, dict)):
                v = str(v) if len(str(v)) < 60 else "(list)"
            values[k].add(v)
        values["seed"].add(r.spec.seed)
    parts = []
    for k in sorted(values):
        vs = sorted(values[k], key=str)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vs) and len(vs) > 3:
            parts.append(f"{k}: {min(vs):g}..{max(vs):g} ({len(vs)} values)")
        else:
            parts.append(f"{k}: " + ", ".join(str(v) for v in vs[:8]) + (" ..." if len(vs) > 8 else ""))
    return "; ".join(parts)


#: line styles beyond the ten colours of the default cycle, so that no two series of
#: one plot look alike
_STYLES = [{"marker": "o", "linestyle": "-"}, {"marker": "s", "linestyle": "--"},
           {"marker": "^", "linestyle": ":"}]


def _summary_rows(store: ResultStore, profile: str, backend: str) -> list:
    """The finished runs of one profile and backend: what the summary figures draw (a
    figure never mixes backends, as the claims' own sections do not)."""
    return [r for r in store.runs()
            if r["profile"] == profile and r["backend"] == backend and r.ok]


def _summary_figures(store: ResultStore, profile: str, backend: str,
                     outdir: Path) -> list[tuple[str, str]]:
    """Figures across claims: cost per iteration against m for every method, residual
    against iteration for every method, time-to-eps against m (runs of `backend`)."""
    figs = []
    rows = _summary_rows(store, profile, backend)
    speed = [r for r in rows if r["experiment"] == "step_speed"]
    timed = [r for r in rows if r["experiment"] == "training_timed"]
    if speed or timed:
        series: dict[str, list] = defaultdict(list)
        for r in speed:
            p = r["params"]
            if p.get("c") not in (0.4, None):
                continue
            name = p.get("variant") or p["method"]
            series[f"{name} (n={p['n']}, d={p['d']})"].append((p["m"], r["result"]["median"]))
        for r in timed:
            p, res = r["params"], r["result"]
            if res["seconds"]:
                series[f"{p['label']} (n={p['n']}, d={p['d']})"].append(
                    (p["m"], float(np.median(res["seconds"]))))
        fig = plt.figure(figsize=(8, 5))
        ax = fig.add_subplot(1, 1, 1)
        k = 0
        for name, pts in sorted(series.items()):
            by_m: dict[int, list] = defaultdict(list)
            for m, t in pts:
                by_m[m].append(t)
            ms = sorted(by_m)
            if len(ms) < 2:
                continue
            ts = [float(np.median(by_m[m])) for m in ms]
            slope = loglog_fit(ms, ts).exponent
            ax.plot(ms, ts, color=f"C{k % 10}", label=f"{name}: slope {slope:.2f}",
                    **_STYLES[k // 10 % len(_STYLES)])
            k += 1
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("width m")
        ax.set_ylabel("seconds per step (median)")
        _legend(ax)
        ax.grid(True, which="both", alpha=0.3)
        figs.append(_save(fig, outdir / "fig_cost_per_iteration.png",
                          "Cost per iteration against m for every method (c = 0.4), log-log, "
                          "with fitted slopes."))
    if timed:
        mmax = max(r["params"]["m"] for r in timed)
        fig = plt.figure(figsize=(10, 4))
        ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        tte: dict[str, list] = defaultdict(list)
        for r in sorted(timed, key=lambda r: r["params"]["label"]):
            p, res = r["params"], r["result"]
            rel = np.array(res["residual"]) / res["residual0"]
            if p["m"] == mmax:
                ax1.semilogy(np.arange(1, len(rel) + 1), rel, "-", label=p["label"])
            cum = np.cumsum(res["seconds"])
            hit = np.flatnonzero(rel <= p["tol"])
            if hit.size:
                tte[p["label"]].append((p["m"], float(cum[hit[0]])))
        ax1.set_xscale("log")
        ax1.set_xlabel("iteration")
        ax1.set_ylabel("||f - y|| / ||f_0 - y||")
        ax1.set_title(f"m = {mmax}", fontsize=8)
        _legend(ax1)
        for name, pts in sorted(tte.items()):
            pts.sort()
            ax2.loglog([x[0] for x in pts], [x[1] for x in pts], "o-", label=name)
        ax2.set_xscale("log", base=2)
        ax2.set_xlabel("width m")
        ax2.set_ylabel("seconds to 1e-4 of the initial residual")
        _legend(ax2)
        figs.append(_save(fig, outdir / "fig_residual_and_time_to_eps.png",
                          "Residual against iteration for every method at the largest m, and "
                          "time-to-eps against m (methods that never reached eps are absent)."))
    return figs


def _legend(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6)


def _save(fig, path: Path, caption: str) -> tuple[str, str]:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name, caption


def _claim_figure(claim_id: str, records: list[RunRecord], profile: str,
                  outdir: Path) -> tuple[str, str] | None:
    claim = CLAIMS[claim_id]
    if claim.plot is None or not any(r.ok for r in records):
        return None
    fig = plt.figure(figsize=(10, 4))
    try:
        caption = claim.plot(records, fig, profile)
    except Exception as exc:  # a broken plot must not lose the report
        plt.close(fig)
        return "", f"(figure failed: {type(exc).__name__}: {exc})"
    if caption is None:
        plt.close(fig)
        return None
    return _save(fig, outdir / f"fig_{claim_id.replace('.', '_')}.png", caption)


def render_report(store: ResultStore, outdir: str | Path, profile: str,
                  claim_ids=None, backend: str = "numpy") -> tuple[Path, Path]:
    """Write report.md, report.html and the figures into `outdir`; return the two paths.

    Cost: reads the store once per claim, draws one figure per claim.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ids = resolve_claims(claim_ids)
    results = evaluate(ids, store, profile, backend)
    commit = git_commit()
    indicative = profile != "full"
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine, vers = machine_info(), versions()
    blocks: list[tuple] = []
    blocks.append(("h1", f"verify_sublin claims report ({profile} profile)"))
    ours = [row for row in store.runs()
            if row["profile"] == profile and row["backend"] == backend]
    devices = sorted({str((row.get("machine") or {}).get("device", "cpu"))
                      for row in ours} or {"cpu"})
    blocks.append(("p", f"Rendered {now} at commit `{commit}` from the store `{store.path.name}` "
                        f"({store.count()} runs, {store.count('failed')} failed). Machine: "
                        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
                        f"{machine['platform']}. Backend: {backend} (device: "
                        f"{', '.join(devices)}). Versions: " +
                        ", ".join(f"{k} {v}" for k, v in vers.items() if v) + "."))
    if indicative:
        top = max((r.spec.params.get("m", 0) for _, recs in results for r in recs), default=0)
        blocks.append(("p", f"**Every verdict below is indicative:** the {profile} profile runs "
                            f"small sizes (m <= {top}). The committed full report is in "
                            "reports/full/."))
    header = ["claim", "paper", "claimed", "measured", "verdict"]
    table = []
    stale = [_stale(records, commit) for _, records in results]
    for (v, _), old in zip(results, stale):
        mark = " (indicative)" if indicative else ""
        measured = v.measured + (" †" if old else "")
        table.append([f"[{v.claim_id}](#{_anchor(v.claim_id)})", CLAIMS[v.claim_id].paper,
                      v.claimed, measured, f"**{v.verdict}**{mark}"])
    blocks.append(("h2", "Verdicts"))
    blocks.append(("table", header, table))
    dagger = ("† the figure comes from runs made at another commit than the one this "
              "report is rendered at (see the claim's provenance). "
              if any(stale) else "")
    blocks.append(("p", dagger + _commits_summary(ours, commit)))
    blocks.append(("p", _LIMITS))
    for name, caption in _summary_figures(store, profile, backend, outdir):
        blocks.append(("img", name, caption))
    failed = [(r.id, v.claim_id, r.error) for v, records in results for r in records if not r.ok]
    for v, records in results:
        claim = CLAIMS[v.claim_id]
        blocks.append(("h2", f"{v.claim_id}", _anchor(v.claim_id)))
        blocks.append(("p", f"**Paper:** {claim.paper}. **Claim:** {claim.statement}"))
        blocks.append(("p", f"**Experiment:** {claim.experiment}"))
        blocks.append(("p", f"**Verdict: {v.verdict}**{' (indicative)' if indicative else ''}. "
                            f"Claimed: {v.claimed}. Measured: {v.measured}."))
        blocks.append(("p", f"**Rule:** {v.rule}"))
        if v.details:
            blocks.append(("lines", v.details))
        fig = _claim_figure(v.claim_id, records, profile, outdir)
        if fig and fig[0]:
            blocks.append(("img", fig[0], fig[1]))
        elif fig:
            blocks.append(("p", fig[1]))
        blocks.append(("p", _provenance_text(records, commit)))
        if v.failed_runs:
            blocks.append(("p", "**Failed runs:** " + "; ".join(
                f"run {i}: {e}" for i, e in v.failed_runs)))
    blocks.append(("h2", "Failed runs"))
    blocks.append(("p", "None." if not failed else "Failed runs are listed, never dropped:"))
    if failed:
        blocks.append(("table", ["run", "claim", "reason"],
                       [[str(i), c, e or ""] for i, c, e in failed]))
    md = outdir / "report.md"
    md.write_text(_to_markdown(blocks))
    page = outdir / "report.html"
    page.write_text(_to_html(blocks, outdir, f"verify_sublin report ({profile})"))
    return md, page


def _commits_summary(rows: list, commit: str) -> str:
    """Which commits the stored `rows` (this profile and backend) were made at, their
    total computation time, and whether the package sources differ between those
    commits and the rendering one."""
    per: dict[str, list[float]] = {}
    for row in rows:
        per.setdefault(str(row["git_commit"]), []).append(float(row["seconds"] or 0.0))
    if not per:
        return ""
    parts = [f"`{c[:12]}` {len(v)} runs, {sum(v):.0f} s" for c, v in sorted(per.items())]
    text = ("Runs of this store by commit: " + "; ".join(parts) +
            f" ({sum(sum(v) for v in per.values()):.0f} s of computation in all).")
    if set(per) != {commit}:
        same = same_sources(sorted(set(per) | {commit}))
        text += {True: " The package sources that compute results (src/ but the report "
                       "renderer and provenance helpers) are identical at all of these "
                       "commits and the rendering commit: the figures are those of the "
                       "code rendered.",
                 False: " The package sources that compute results (src/ but the report "
                        "renderer and provenance helpers) differ between these commits: "
                        "rerun with --recompute for figures of a single version of the code.",
                 None: " Whether the package sources differ between these commits could "
                       "not be checked here (no git history, or uncommitted changes)."}[same]
    return text


def _stale(records: list[RunRecord], commit: str) -> bool:
    return any(r.commit != commit for r in records)


def _provenance_text(records: list[RunRecord], commit: str) -> str:
    if not records:
        return "**Provenance:** no runs."
    commits = sorted({r.commit for r in records})
    ids = [r.id for r in records]
    stale = [c for c in commits if c != commit]
    secs = sum(r.seconds for r in records)
    text = (f"**Provenance:** runs {_ranges(ids)} ({len(ids)} runs, {secs:.1f} s of "
            f"computation); commit(s) {', '.join(f'`{c}`' for c in commits)}")
    if stale:
        text += f" — † not the rendering commit `{commit}`"
    return text + f". Configurations: {_fmt_params(records)}."


def _ranges(ids: list[int]) -> str:
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


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ------------------------------------------------------------------ writers
def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _to_markdown(blocks: list[tuple]) -> str:
    out = []
    for b in blocks:
        kind = b[0]
        if kind == "h1":
            out.append(f"# {b[1]}\n")
        elif kind == "h2":
            out.append(f"## {b[1]}\n")
        elif kind == "p":
            out.append(b[1] + "\n")
        elif kind == "table":
            out.append("| " + " | ".join(b[1]) + " |")
            out.append("|" + "---|" * len(b[1]))
            for row in b[2]:
                out.append("| " + " | ".join(_md_cell(c) if not c.startswith("[") and
                                             not c.startswith("**") else c for c in row) + " |")
            out.append("")
        elif kind == "lines":
            prev = None               # a table and the text around it need a blank line
            for line in b[1]:
                is_row = line.lstrip().startswith("|")
                if prev is not None and prev != is_row and line.strip() and out[-1].strip():
                    out.append("")
                out.append(line)
                prev = is_row
            out.append("")
        elif kind == "img":
            out.append(f"![{b[2]}]({b[1]})\n\n*{b[2]}*\n")
    return "\n".join(out)


_INLINE = [(re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
           (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
           (re.compile(r"\[([^\]]+)\]\(#([^)]+)\)"), r'<a href="#\2">\1</a>')]


def _inline(text: str) -> str:
    text = html.escape(str(text), quote=False)
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return text


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{_inline(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _lines_to_html(lines: list[str]) -> str:
    """Markdown pipe tables and paragraphs (the only forms claims produce) to HTML."""
    out, table = [], []

    def flush():
        if table:
            rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table
                    if not re.fullmatch(r"\|?[\s\-|:]+\|?", line.strip())]
            out.append(_html_table(rows[0], rows[1:]))
            table.clear()

    for line in lines:
        if line.strip().startswith("|"):
            table.append(line)
        else:
            flush()
            out.append(f"<p>{_inline(line)}</p>")
    flush()
    return "\n".join(out)


_CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
line-height:1.4;color:#222}table{border-collapse:collapse;margin:0.8em 0;font-size:0.85em}
td,th{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}img{max-width:100%}figcaption{font-style:italic;font-size:0.9em}
code{background:#f3f3f3;padding:0 2px}h2{border-bottom:1px solid #ccc;margin-top:2em}"""


def _to_html(blocks: list[tuple], outdir: Path, title: str) -> str:
    body = []
    for b in blocks:
        kind = b[0]
        if kind == "h1":
            body.append(f"<h1>{_inline(b[1])}</h1>")
        elif kind == "h2":
            anchor = f' id="{b[2]}"' if len(b) > 2 else ""
            body.append(f"<h2{anchor}>{_inline(b[1])}</h2>")
        elif kind == "p":
            body.append(_lines_to_html(b[1].split("\n")) if "\n" in b[1] else
                        f"<p>{_inline(b[1])}</p>")
        elif kind == "table":
            body.append(_html_table(b[1], b[2]))
        elif kind == "lines":
            body.append(_lines_to_html(b[1]))
        elif kind == "img":
            data = base64.b64encode((outdir / b[1]).read_bytes()).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(b[2])}" '
                        f'src="data:image/png;base64,{data}"><figcaption>{_inline(b[2])}'
                        "</figcaption></figure>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")

