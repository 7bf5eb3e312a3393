"""One training step on a GPU (the CuPy backend), where one is usable.

Skipped, with the reason, on machines without a usable CuPy: setup raises
NotImplementedError, which asv records as a skipped benchmark. The device's name is a
parameter, so it is recorded with every result. A step synchronises the device at
each phase boundary, so its wall time is the device's work, not its launch.
"""

from ._common import CS, MS, Stateful, repeats, require_attr, require_method, trainer


def _device() -> str:
    try:
        cupy_status = require_attr("backend", "cupy_status")
    except NotImplementedError:
        return "none"
    usable, _, name = cupy_status()
    return name if usable else "none"


DEVICE = _device()


class TimeStepGPU(Stateful):
    """Seconds of one `step()` on the CuPy backend (ggn and the tree-free sublinear method)."""

    params = ([DEVICE], ["ggn", "sublinear_gn_fast"], MS, CS)
    param_names = ("device", "method", "m", "c")

    def setup(self, device, method, m, c):
        require_method(method)
        status = require_attr("backend", "cupy_status")
        usable, reason, _ = status()
        if not usable:
            raise NotImplementedError(f"no usable CuPy here: {reason}")
        self.repeat = repeats(m)
        warm = trainer(method, 1024, c, backend="cupy")
        warm.step()
        self.trainer = trainer(method, m, c, backend="cupy")

    def teardown(self, device, method, m, c):
        self.trainer = None

    def time_step(self, device, method, m, c):
        self.trainer.step()
