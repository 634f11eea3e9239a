"""fervid: facial expression recognition from video with Enhanced ConvLSTM.

Reproduces Miyoshi, Nagata and Hashimoto, "A Proposal of Facial Expression
Recognition Method from Video Using Enhanced ConvLSTM".

The names below load on first use, so that the preprocessing modules (and their
worker processes) start without importing torch.
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
    "crossval": "crossval",
    "predict_video": "predict",
    "StreamingPredictor": "predict",
    "load_predictor": "predict",
    "preprocess": "cache",
    "preprocess_video": "preprocess",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'fervid' has no attribute {name!r}")
