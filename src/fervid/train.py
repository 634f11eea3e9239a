"""The old import path of ``fervid.train`` (before issue 28's folders), kept for one
release: ``fervid.training.recipes`` (``TrainConfig``, ``RECIPES``) and
``fervid.training.train`` (the loop)."""

from .training.recipes import *  # noqa: F401,F403
from .training.train import *  # noqa: F401,F403
