"""The old import path of ``fervid.prediction`` (before issue 28's layout), kept for one
release: ``from fervid.predict import load_predictor, predict_video, StreamingPredictor``
still works. New code imports from ``fervid.prediction``."""

from .prediction import *  # noqa: F401,F403
from .prediction import __all__  # noqa: F401
