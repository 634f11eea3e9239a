"""fervid: facial expression recognition from video with Enhanced ConvLSTM.

Reproduces Miyoshi, Nagata and Hashimoto, "A Proposal of Facial Expression
Recognition Method from Video Using Enhanced ConvLSTM".

The names below load on first use, so that the preprocessing modules (and their
worker processes) start without importing torch. The cross-validation and the cache's
preprocessing are ``fervid.crossval.crossval`` and ``fervid.cache.preprocess``: a
package attribute named like a submodule (``fervid.crossval``, ``fervid.preprocess``)
is the submodule as soon as anything imports it, so they are not offered here.
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
    "preprocess_video": "preprocess",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'fervid' has no attribute {name!r}")
