"""The old import path of ``fervid.video`` (before issue 28's folders), kept for one
release. New code imports from ``fervid.frontend.video``."""

from .frontend.video import *  # noqa: F401,F403
