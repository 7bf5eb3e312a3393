"""Named configurations of the training methods: a preset is a method and an instance of
its options (`trainers.options`).

`make_trainer` accepts a preset's name in place of a method, and keywords on top of it
(any option the method uses, e.g. ``mu=1e-3``). Adding a preset is one line in
`PRESETS`:

>>> from verify_sublin import ShiftedReLUNet, make_trainer, shift_for, sphere_data
>>> X, y = sphere_data(8, 4, seed=0)
>>> net = ShiftedReLUNet.init(512, 4, shift_for(512), seed=0)
>>> trainer = make_trainer("sublinear cache implicit", net, X, y, mu=1e-6)
>>> trainer.method, trainer.options.fire_sets, trainer.options.mu
('sublinear_gn', 'cache', 1e-06)
>>> PRESETS["sublinear cache implicit"].options.changes()
{'fire_sets': 'cache', 'preactivations': 'implicit'}

Cost: none (a table of values).
"""

from __future__ import annotations

from typing import NamedTuple

from .options import SublinearOptions, TrainerOptions

__all__ = ["PRESETS", "Preset"]


class Preset(NamedTuple):
    """A method name (a key of `METHODS`) and an instance of its options type."""

    method: str
    options: TrainerOptions


def _sublinear(**changes) -> Preset:
    """A preset of sublinear_gn: its default options with `changes`."""
    return Preset("sublinear_gn", SublinearOptions(**changes))


#: Preset name -> (method, options). Names never collide with method names (they have
#: spaces). The sublinear method's maintenance structures: the papers' correlation tree
#: and this project's tree-free cache, with explicit or implicit pre-activations, and
#: the naive scan.
PRESETS: dict[str, Preset] = {
    "sublinear tree explicit": _sublinear(fire_sets="tree", preactivations="explicit"),
    "sublinear tree implicit": _sublinear(fire_sets="tree", preactivations="implicit"),
    "sublinear cache explicit": _sublinear(fire_sets="cache", preactivations="explicit"),
    "sublinear cache implicit": _sublinear(fire_sets="cache", preactivations="implicit"),
    "sublinear scan explicit": _sublinear(fire_sets="scan", preactivations="explicit"),
}
