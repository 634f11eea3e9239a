"""fervid: facial expression recognition from video with Enhanced ConvLSTM.

Reproduces Miyoshi, Nagata and Hashimoto, "A Proposal of Facial Expression
Recognition Method from Video Using Enhanced ConvLSTM".

The pipeline, one folder per stage. Data flows down the list: a stage imports only
from the ones above it and from the shared modules (labels, atomic, checkpoint,
precision, progress); the exceptions, annotations only (``if TYPE_CHECKING``), are marked where they are.

    frontend/    video -> per frame: face track, crop, optical flow
    clips/       crops and flow -> 16-frame clips, dynamic images, cached arrays, model inputs
    models/      the Enhanced ConvLSTM, the narrow ResNet-50, the four-stream network
    evaluation/  inference, metrics, linear floors, the report's figures
    datasets/    manifests, data set layouts, the synthetic generator (and its own check)
    training/    recipes, the training loop, cross-validation (the paper's protocol)
    prediction/  a trained model on a new video, offline and streaming
    demo.py, cli.py  the main job and the ``fervid`` command

The names below load on first use, so that the preprocessing modules (and their
worker processes) start without importing torch. The cross-validation and the cache's
preprocessing are ``fervid.training.crossval.crossval`` and
``fervid.clips.cache.preprocess``. ``fervid.video``, ``fervid.preprocess``,
``fervid.cache``, ``fervid.train``, ``fervid.crossval`` and ``fervid.predict`` are the
import paths before the folders, re-exporting them for one release.
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "CheckpointError": "checkpoint",
    "load_model": "checkpoint",
    "save_model": "checkpoint",
    "ConvLSTM": "models",
    "ConvLSTMCell": "models",
    "ConvLSTMConfig": "models",
    "EnhancedConvLSTMCell": "models",
    "FourStreamConfig": "models",
    "FourStreamNet": "models",
    "NarrowResNet50": "models",
    "build_config": "models",
    "predict_video": "prediction",
    "StreamingPredictor": "prediction",
    "load_predictor": "prediction",
    "preprocess_video": "clips.arrays",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'fervid' has no attribute {name!r}")
