"""Shared fixtures and hypothesis profiles.

Profiles (choose with HYPOTHESIS_PROFILE=...):

* ``ci`` (default): derandomized, so a run is reproducible; statistical tests state
  their per-example false-failure probability and draw their seeds through hypothesis.
* ``dev``: random exploration with more examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=30, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", deadline=None, max_examples=200, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
