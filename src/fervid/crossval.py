"""The old import path of ``fervid.crossval`` (before issue 28's folders), kept for one
release. New code imports from ``fervid.training.crossval``."""

from .training.crossval import *  # noqa: F401,F403
