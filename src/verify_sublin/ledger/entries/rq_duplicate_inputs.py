"""rq.duplicate_inputs: with two identical inputs (delta = 0), what lambda is and what
Gauss-Newton does, undamped and damped."""

from __future__ import annotations

from dataclasses import dataclass

from ...bench.spec import RunSpec
from ..papers import CITE
from ..toolkit import SOURCE_RECONSTRUCTED, Entry, Panel, Plot, Series, Shown, Sizes, Table

#: damped Gauss-Newton "reaches the least-squares fit" if its residual is within DUP_REL
#: (relative) of the floor |y_1 - y_2| / sqrt 2, plus DUP_ABS (absolute)
DUP_REL, DUP_ABS = 1e-3, 1e-6
#: the label cases: both labels equal, or different
LABELS = ("equal", "different")

# Budget: full about 5 s, quick about 2 s.
SIZES = Sizes(
    #   tiny   quick   full
    n=(8, 16, 32),
    d=(4, 8, 16),
    m=(2**8, 2**10, 2**12),
)


def runs(s) -> list[RunSpec]:
    return [RunSpec("duplicate_inputs", {"n": s.n, "d": s.d, "m": s.m, "c": 0.4, "labels": lab,
                                         "mu": 1e-6, "steps": 30}, seed=26) for lab in LABELS]


@dataclass(frozen=True)
class Values:
    runs: list      #: (labels, DuplicateInputs result), in the order of the runs
    answers: dict   #: labels -> (mu = 0 stops with the diagnosis, mu > 0 reaches the floor)


def values(results) -> Values:
    rows = [(r.params["labels"], r.result) for r in results]
    answers = {lab: (bool(res.mu0_error) and "positive definite" in res.mu0_error,
                     res.residual_mu <= res.floor * (1 + DUP_REL) + DUP_ABS)
               for lab, res in sorted(rows, key=lambda x: x[0])}
    return Values(rows, answers)


def decide(v: Values) -> tuple[str, str]:
    return "answer", ""


def show(v: Values, verdict: str, reason: str) -> Shown:
    table = Table(["labels", "lambda_min(H)", "lambda_min(G_0)", "mu = 0", "residual with mu > 0",
                   "least-squares floor", "|f_1 - f_2|", "reaches floor"])
    for lab, res in sorted(v.runs, key=lambda x: x[0]):
        table.add(lab, f"{res.lambda_ntk:.2e}", f"{res.lambda_G0:.2e}",
                  (res.mu0_error or "no error")[:90], f"{res.residual_mu:.3e}",
                  f"{res.floor:.3e}", f"{res.gap_outputs:.1e}", v.answers[lab][1])
    note = ("What the report should say: with delta = 0 the theorem's lower bound on lambda is 0 "
            "and gives nothing; undamped Gauss-Newton cannot solve the singular system and says "
            "so; damped Gauss-Newton converges to the least-squares fit (the two outputs "
            "coincide, each at the mean label).")
    answers = {(("stops with a diagnosis" if c else "does not stop cleanly"),
                ("reaches" if ok else "misses")) for c, ok in v.answers.values()}
    if len(answers) == 1:
        (stop, reach), = answers
        measured = (f"with two identical inputs (lambda_min = 0), undamped Gauss-Newton {stop} "
                    f"and damped Gauss-Newton {reach} the least-squares floor, whether their "
                    f"labels are {' or '.join(sorted(v.answers))}")
    else:
        measured = "with two identical inputs (lambda_min = 0): " + "; ".join(
            f"labels {lab}: mu = 0 {'stops with a diagnosis' if c else 'does not stop cleanly'}"
            f", mu > 0 {'reaches' if ok else 'misses'} the least-squares floor"
            for lab, (c, ok) in sorted(v.answers.items()))
    rule = ("answer, per label case: lambda_min of the exact NTK and of G_0; whether "
            "Gauss-Newton with mu = 0 stops with a NumericalError that names the diagnosis; "
            f"whether mu > 0 reaches the least-squares floor |y_1 - y_2| / sqrt 2 (within "
            f"{DUP_REL:g} relative + {DUP_ABS:g}).")
    x = range(len(v.runs))
    bars = [Series([k - 0.2 for k in x], [max(res.residual_mu, 1e-16) for _, res in v.runs],
                   "residual, mu > 0", kind="bar", width=0.4),
            Series([k + 0.2 for k in x], [max(res.floor, 1e-16) for _, res in v.runs],
                   "least-squares floor", kind="bar", width=0.4)]
    plot = Plot([Panel(bars, ylabel="||f - y||", yscale="log",
                       xticks=(list(x), [lab for lab, _ in v.runs]))],
                "Damped Gauss-Newton on two identical inputs: residual reached and the floor.")
    return Shown("lambda is not always strictly positive (a reviewer): identical inputs", measured,
                 rule, [table, note],
                 {lab: {"clean_error": c, "reaches_floor": ok} for lab, (c, ok) in v.answers.items()},
                 plot)


#: where the statement comes from: the papers and reviews, quoted where their texts
#: state it ([...] marks our words or a formula the source omits)
SOURCE = (f"{CITE['REVIEW']}: \"Additionally, [lambda, omitted in the source] is not always"
          " guaranteed to be strictly positive\"; the meta-review lists the \"validity of "
          "assuming [formula omitted in the source]\"; the duplicate-input case (delta = "
          f"0) and the range of lambda are {SOURCE_RECONSTRUCTED}")

ENTRY = Entry(
    id="rq.duplicate_inputs", kind="question", paper="RQ", source=SOURCE,
    statement="With two identical inputs (delta = 0), what are lambda and what does "
              "Gauss-Newton do?",
    experiment="Sphere inputs with x_2 := x_1, labels equal or different, c = 0.4: lambda_min "
               "of the exact NTK and of G_0, Gauss-Newton with mu = 0 and with mu = 1e-6 (30 "
               "steps). Full: n = 32, d = 16, m = 2^12; quick: n = 16, m = 2^10. Budget: full "
               "~5 s, quick ~2 s.",
    rule="answer: clean error at mu = 0; least-squares floor reached at mu > 0.",
    sizes=SIZES, runs=runs, values=values, decide=decide, show=show)

__all__ = ["DUP_ABS", "DUP_REL", "ENTRY", "LABELS", "SIZES"]
