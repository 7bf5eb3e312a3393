"""End to end: construction of a trainer, and time to ||f - y|| <= 1e-10 including it.

What a user waits for. `TimeConstruct` times `make_trainer` alone (the streamed forward
pass, the trainer's copy of W, the tree or the union cache); `TimeToEps` constructs
and steps to eps (`speed.time_to_eps`), at m = 2^20 only (the size the targets are
set at); `TrackEndToEndRatio` is ggn's median time to eps over the fastest sublinear
variant's, both measured in one process (`speed.end_to_end`), so that the ratio does
not drift with the machine; `TrackPresetEndToEndRatio` the same for each named preset.

The presets by name (`_common.E2E_PRESETS`: all of `PRESET_NAMES` but, in the quick
pass, "paper near-linear"): "paper sublinear" (Deng et al. as
specified: tree, sketch-preconditioned CG, implicit weights), "paper near-linear" (van
den Brand et al. as specified: dense J products, tensor-sketch preconditioner; seconds
a step here) and "sublinear cache implicit" (this project's variant, the same as
"sublinear_gn_fast"). The textbook Gram-Gauss-Newton ("textbook ggn") is not timed
here: its Gram product, m n^2 d = 1.4e11 multiply-adds at m = 2^20, is above the
1e11 up to which it is timed (`speed.TEXTBOOK_TIMED_MAX`). A commit without a preset
skips it (`_common.require_method`).
"""

from ._common import (
    CS,
    E2E_PRESETS,
    M_MAX,
    METHOD_SPECS,
    Stateful,
    problem,
    require_attr,
    require_method,
    warm_up,
)

#: the variants compared end to end (names of `METHOD_SPECS`; the quick pass leaves the
#: near-linear preset out, `_common.E2E_PRESETS`)
E2E_METHODS = ["ggn", "sublinear_gn", "sublinear_gn_fast",
               *[name for name in E2E_PRESETS if name != "sublinear cache implicit"]]
EPS = 1e-10


class TimeConstruct(Stateful):
    """Seconds of `make_trainer(...)` at m = 2^20 on the seeded network (drawing the
    network is not included; freeing the trainer is)."""

    params = (E2E_METHODS, CS)
    param_names = ("method", "c")

    def setup(self, method, c):
        warm_up(method)
        self.repeat = 5
        self.net, self.X, self.y = problem(M_MAX, c)

    def time_construct(self, method, c):
        from verify_sublin import make_trainer

        name, options = METHOD_SPECS[method]
        make_trainer(name, self.net, self.X, self.y, **options)


class TimeToEps(Stateful):
    """Seconds of `speed.time_to_eps`: construct, then step to ||f - y|| <= 1e-10."""

    params = (E2E_METHODS, CS)
    param_names = ("method", "c")

    def setup(self, method, c):
        require_attr("speed", "time_to_eps")
        warm_up(method)
        self.repeat = 3
        self.net, self.X, self.y = problem(M_MAX, c)

    def time_to_eps(self, method, c):
        time_to_eps = require_attr("speed", "time_to_eps")
        name, options = METHOD_SPECS[method]
        time_to_eps(name, self.net, self.X, self.y, EPS, **options)


class TrackEndToEndRatio:
    """ggn's median time to 1e-10 over sublinear_gn's (cache, implicit), construction
    included, three fresh trainers each, measured in one process at m = 2^20."""

    params = (CS,)
    param_names = ("c",)
    unit = "ratio"
    timeout = 1200

    def setup_cache(self):
        try:
            end_to_end = require_attr("speed", "end_to_end")
        except NotImplementedError:
            return {}
        out = {}
        for c in CS:
            res = end_to_end(M_MAX, 64, 32, c, 0, EPS, 3)
            rows = {r["name"]: r for r in res["rows"]}
            out[c] = rows["ggn"]["total"] / rows["sublinear cache implicit"]["total"]
        return out

    def setup(self, cache, c):
        if c not in cache:
            raise NotImplementedError("speed.end_to_end is not in this commit")

    def track_ratio(self, cache, c):
        return cache[c]


class TrackPresetEndToEndRatio:
    """ggn's median time to 1e-10 over each preset's, construction included, three fresh
    trainers each, measured in one process at m = 2^20 (`speed.end_to_end` by name):
    above 1, the preset is faster end to end. A commit without the presets (or without
    `end_to_end`'s names) skips."""

    params = (E2E_PRESETS, CS)
    param_names = ("preset", "c")
    unit = "ratio"
    timeout = 3600

    def setup_cache(self):
        import inspect
        try:
            end_to_end = require_attr("speed", "end_to_end")
        except NotImplementedError:
            return {}
        if "names" not in inspect.signature(end_to_end).parameters:
            return {}
        out = {}
        for c in CS:
            names = []
            for name in E2E_PRESETS:
                try:
                    require_method(name)
                    names.append(name)
                except NotImplementedError:
                    pass
            res = end_to_end(M_MAX, 64, 32, c, 0, EPS, 3, names=["ggn", *names])
            for row in res["rows"]:
                out[row["name"], c] = row["vs_ggn"]
        return out

    setup_cache.timeout = 3600

    def setup(self, cache, preset, c):
        if (preset, c) not in cache:
            raise NotImplementedError(f"{preset!r} end to end is not in this commit")

    def track_ratio(self, cache, preset, c):
        return cache[preset, c]
