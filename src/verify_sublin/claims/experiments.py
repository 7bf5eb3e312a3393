"""Deprecated: the experiment registry at its old place."""

from ..bench.experiments import EXPERIMENTS, Experiment, register

__all__ = ["EXPERIMENTS", "Experiment", "register"]
