"""The multi-layer method: one step of deep_dense and deep_sublinear, and their ratio.

Self-contained (it needs nothing else from this directory). Sizes of the multi-layer claim:
L = 3 layers, n = 32 inputs, d = 32, m in {2^10, 2^12, 2^14}, shift
b = sqrt(c ln m) with c in {0.4, 0.85}, Gauss-Newton with damping mu = 1e-6; the
data use seed 0 and the net seed 1.

* `TimeDeepStep.time_step`: seconds of step 0 of a fresh trainer. asv runs `setup`
  before every sample (number = 1), and `setup` builds the trainer from a net drawn
  once per asv run (the (L - 1) m^2 draw is not what is measured), after the
  compiled kernels were warmed up on a small problem. The net of each width is drawn
  in `setup_cache` and left as .npy files in asv's cache directory, the working
  directory of every sample: asv runs each parameter combination in a process of its
  own, and drawing the 2^14 net again in each (537M normal deviates and 4 GiB of
  fresh memory, 25-60 s on a 2-core VM) made this class most of a quick pass.
* `TrackDeepRatio.track_speed_ratio`: deep_dense's median step time over
  deep_sublinear's, both measured in one process on the same data and net (3 steps
  after 1 warm-up step each, the loop of `verify_sublin.bench.speed_deep.compare_deep`); a
  ratio drifts far less with the machine than the absolute times.

At a commit without the multi-layer API, `setup` raises NotImplementedError, which
asv records as a skip. verify_sublin is imported inside functions only.
"""

import os

from ._common import require_attr

N, D, DEPTH, SEED, MU = 32, 32, 3, 0, 1e-6
#: widths; the quick pass (tools/asv_record.sh --quick sets VERIFY_SUBLIN_ASV_QUICK)
#: leaves out the largest, whose 4 GiB nets dominated its time
MS = [2**10, 2**12] if os.environ.get("VERIFY_SUBLIN_ASV_QUICK") else [2**10, 2**12, 2**14]
CS = [0.4, 0.85]
METHODS = ["deep_dense", "deep_sublinear"]

_NETS: dict = {}          # (m, c) -> (net, X, y): one per process, reused by its samples
_WARM: set = set()


def _require_api():
    """The multi-layer API of this commit, or NotImplementedError (asv: skipped)."""
    try:
        from verify_sublin import METHODS as registered
        compare_deep = require_attr("speed_deep", "compare_deep")
        DeepShiftedReLUNet = require_attr("deep", "DeepShiftedReLUNet")
    except (ImportError, NotImplementedError) as exc:
        raise NotImplementedError(f"no multi-layer method at this commit ({exc})") from None
    if not set(METHODS) <= set(registered):
        raise NotImplementedError("deep_dense / deep_sublinear are not registered")
    return DeepShiftedReLUNet, compare_deep


def _files(m):
    """The cached arrays of the width-m net: W_1 .. W_L, then a."""
    return [f"deep_m{m}_W{k}.npy" for k in range(1, DEPTH + 1)] + [f"deep_m{m}_a.npy"]


def _problem(m, c):
    """(net, X, y) at width m and shift c. The weights do not depend on c (the draw
    takes only the seed), so the arrays `setup_cache` left in the working directory
    serve both shifts, memory-mapped (the trainer copies them, as it copies every
    net); without them (outside asv) the net is drawn here."""
    import os

    import numpy as np

    from verify_sublin import shift_for, sphere_data

    DeepShiftedReLUNet, _ = _require_api()
    if (m, c) not in _NETS:
        _NETS.clear()
        X, y = sphere_data(N, D, seed=SEED, labels="teacher")
        files = _files(m)
        if all(os.path.exists(f) for f in files):
            arrays = [np.load(f, mmap_mode="r") for f in files]
            net = DeepShiftedReLUNet(arrays[:-1], arrays[-1], shift_for(m, c))
        else:
            net = DeepShiftedReLUNet.init(m, D, DEPTH, shift_for(m, c), SEED + 1)
        _NETS[m, c] = (net, X, y)
    return _NETS[m, c]


def _draw_nets():
    """Draw the net of every width once and save its arrays in the working directory
    (asv's setup_cache directory). Nothing at a commit without the multi-layer API."""
    import numpy as np

    try:
        DeepShiftedReLUNet, _ = _require_api()
    except NotImplementedError:
        return
    for m in MS:
        net = DeepShiftedReLUNet.init(m, D, DEPTH, 0.0, SEED + 1)
        for f, arr in zip(_files(m), [*net.weights, net.a]):
            np.save(f, arr)
        del net


def _warm_up(method):
    """Two steps on a width-256 net, once per process: compilation or loading of the
    cached kernels never lands in a sample."""
    from verify_sublin import make_trainer

    if method not in _WARM:
        net, X, y = _problem(256, 0.4)
        make_trainer(method, net, X, y, mu=MU).run(2)
        _WARM.add(method)


class TimeDeepStep:
    """Seconds of one `step()` (step 0, Gauss-Newton) of a fresh deep trainer."""

    params = (METHODS, MS, CS)
    param_names = ("method", "m", "c")
    number = 1
    warmup_time = 0
    rounds = 1
    min_run_count = 1
    timeout = 600

    def setup_cache(self):
        _draw_nets()

    def setup(self, method, m, c):
        from verify_sublin import make_trainer

        _require_api()
        _warm_up(method)
        self.repeat = 3 if m >= 2**14 else 7
        net, X, y = _problem(m, c)
        self.trainer = make_trainer(method, net, X, y, mu=MU)

    def teardown(self, method, m, c):
        self.trainer = None

    def time_step(self, method, m, c):
        self.trainer.step()


class TrackDeepRatio:
    """deep_dense median step time / deep_sublinear median step time, one process:
    3 timed steps after 1 warm-up step of each trainer (`verify_sublin.bench.speed.step_times`,
    the loop `speed_deep.compare_deep` uses), on the net `setup_cache` drew."""

    params = (MS, CS)
    param_names = ("m", "c")
    rounds = 1
    timeout = 900
    unit = "ratio"
    setup_cache = TimeDeepStep.setup_cache       # one draw per asv run serves both classes

    def setup(self, m, c):
        _require_api()
        _warm_up("deep_dense")
        _warm_up("deep_sublinear")

    def track_speed_ratio(self, m, c):
        import gc

        from verify_sublin import make_trainer
        step_times = require_attr("speed", "step_times")

        net, X, y = _problem(m, c)
        medians = {}
        for method in METHODS:
            trainer = make_trainer(method, net, X, y, mu=MU)
            medians[method] = step_times(trainer, steps=3, warmup=1)["median"]
            del trainer
            gc.collect()
        return medians["deep_dense"] / medians["deep_sublinear"]
