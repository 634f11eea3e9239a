"""The old import path of ``fervid.preprocess`` (before issue 28's folders), kept for one
release: the front end is ``fervid.frontend.pipeline``, the per-video arrays
``fervid.clips.arrays``."""

from .clips.arrays import *  # noqa: F401,F403
from .frontend.pipeline import *  # noqa: F401,F403
