"""End to end: construction of a trainer, and time to ||f - y|| <= 1e-10 including it.

What a user waits for. `TimeConstruct` times `make_trainer` alone (the streamed forward
pass, the trainer's copy of W, the tree or the union cache); `TimeToEps` constructs
and steps to eps (`speed.time_to_eps`), at m = 2^20 only (the size the targets are
set at); `TrackEndToEndRatio` is ggn's median time to eps over the fastest sublinear
variant's, both measured in one process (`speed.end_to_end`), so that the ratio does
not drift with the machine.
"""

from ._common import CS, M_MAX, METHOD_SPECS, Stateful, problem, require_attr, warm_up

#: the variants compared end to end (names of `METHOD_SPECS`)
E2E_METHODS = ["ggn", "sublinear_gn", "sublinear_gn_fast"]
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
