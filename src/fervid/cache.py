"""The old import path of ``fervid.cache`` (before issue 28's folders), kept for one
release. New code imports from ``fervid.clips.cache``."""

from .clips.cache import *  # noqa: F401,F403
