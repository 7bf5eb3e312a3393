"""One training step of every method: time, and peak memory at the largest width.

A sample is one `Trainer.step()` of a fresh trainer (step 0 from the seeded network);
the trainer is built in `setup`, which asv runs again before every sample, after the
method's compiled kernels were warmed up on a small problem.
"""

from ._common import (
    CS,
    M_MAX,
    METHODS,
    MS,
    Stateful,
    repeats,
    require_attr,
    require_method,
    trainer,
    warm_up,
)


class TimeStep(Stateful):
    """Seconds of one `step()` of every variant of `METHOD_SPECS` (gd, ggn, sketched_gn,
    sublinear_gn with the papers' default options, and its fastest variant)."""

    params = (METHODS, MS, CS)
    param_names = ("method", "m", "c")

    def setup(self, method, m, c):
        require_method(method)
        warm_up(method)
        self.repeat = repeats(m)
        self.trainer = trainer(method, m, c)

    def teardown(self, method, m, c):
        self.trainer = None

    def time_step(self, method, m, c):
        self.trainer.step()


class TimeStepNumpyGeneric(Stateful):
    """Seconds of one `step()` through the array-API operations on plain numpy arrays
    (backend "numpy_generic": dense masks, no compiled kernels), so that the cost of the
    generic path is visible next to `TimeStep` (ggn and the tree-free sublinear method,
    the variants every backend runs). Skipped at commits without that backend."""

    params = (["ggn", "sublinear_gn_fast"], MS, CS)
    param_names = ("method", "m", "c")

    def setup(self, method, m, c):
        require_method(method)
        if "numpy_generic" not in require_attr("backend", "BACKEND_CHOICES"):
            raise NotImplementedError("backend 'numpy_generic' is not in this commit")
        self.repeat = repeats(m)
        trainer(method, 1024, c, backend="numpy_generic").step()
        self.trainer = trainer(method, m, c, backend="numpy_generic")

    def teardown(self, method, m, c):
        self.trainer = None

    def time_step(self, method, m, c):
        self.trainer.step()


class PeakMemStep:
    """Peak resident memory of the benchmark process that builds a trainer at m = 2^20,
    c = 0.4 (the larger union) and does one step; asv's peakmem is the whole process's
    peak, so it includes the network, the data and the trainer built in setup."""

    params = (METHODS,)
    param_names = ("method",)
    timeout = 600

    def setup(self, method):
        require_method(method)
        self.trainer = trainer(method, M_MAX, CS[0])

    def peakmem_step(self, method):
        self.trainer.step()
