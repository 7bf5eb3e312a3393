"""Progress lines of `run`: a bar on a terminal, one line per run otherwise."""

from __future__ import annotations

import sys

__all__ = ["ETA_AFTER_RUNS", "printer", "run_label", "step_printer"]

#: the time estimate is shown once this many runs have finished (before: "?")
ETA_AFTER_RUNS = 3


def _fmt_seconds(s: float) -> str:
    if s != s or s == float("inf"):
        return "?"
    s = round(s)
    return f"{s // 60}:{s % 60:02d}"


def _size(v) -> str:
    """2^k for a power of two of at least 2^4, else the number as is."""
    if isinstance(v, int) and not isinstance(v, bool) and v >= 16 and v & (v - 1) == 0:
        return f"2^{v.bit_length() - 1}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def run_label(run) -> str:
    """'m=2^20 n=64 c=0.4 step_speed method=ggn': the sizes first, so that a shortened
    line never loses them."""
    p = run.spec.params
    sizes = " ".join(f"{k}={_size(p[k])}" for k in ("m", "n", "d", "c", "depth") if k in p)
    rest = " ".join(f"{k}={p[k]}" for k in ("method", "variant", "dataset", "label") if k in p)
    return " ".join(x for x in (sizes, run.spec.experiment, rest) if x)


def printer(stream=None):
    """A progress callback for `api.run`, writing to `stream` (default: the current
    sys.stderr, looked up when called: a default bound at import would outlive it)."""
    stream = sys.stderr if stream is None else stream
    tty = stream.isatty()

    def show(ev: dict) -> None:
        total = max(ev["total"], 1)
        desc = run_label(ev["run"])
        eta = _fmt_seconds(ev["eta"]) if ev["index"] >= ETA_AFTER_RUNS else "?"
        if ev["status"] == "start":
            if tty:
                done = int(30 * ev["index"] / total)
                line = (f"[{'#' * done}{'.' * (30 - done)}] {ev['index']}/{total} "
                        f"elapsed {_fmt_seconds(ev['elapsed'])} ETA {eta}  {desc}")
                stream.write(f"\r{line[:150]:<150}")
                stream.flush()
            return
        if not tty or ev["status"] == "failed":
            status = ev["status"] if ev["status"] == "done" else f"FAILED: {ev.get('error')}"
            stream.write(("\n" if tty else "") +
                         f"[{ev['index']}/{total}] run {ev['id']} {desc} {ev['seconds']:.1f} s "
                         f"{status} (elapsed {_fmt_seconds(ev['elapsed'])}, ETA {eta})\n")
            stream.flush()

    return show


def step_printer(stream=None):
    """A progress callback for the speed measurements, `progress(msg, done, total)`:
    one line per measurement with the time elapsed and, once `done` of `total` are
    finished, an estimate of the time left at the pace so far (later sizes are often
    larger, so it is a lower bound there). Cost O(1) a call."""
    import time
    start = phase = time.perf_counter()

    def progress(msg: str, done: int | None = None, total: int | None = None) -> None:
        nonlocal phase
        out = sys.stderr if stream is None else stream
        now = time.perf_counter()
        elapsed, tail = now - start, ""
        if done is not None and total:
            phase = now if done == 0 else phase        # a measurement series starts
            tail = f" ({done + 1}/{total}"
            tail += (f", about {_fmt_seconds((now - phase) / done * (total - done))} left at "
                     "the pace so far)" if done else ")")
        print(f"  [{_fmt_seconds(elapsed)}] {msg}{tail}", file=out, flush=True)
    return progress
