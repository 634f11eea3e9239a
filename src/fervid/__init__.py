"""fervid: facial expression recognition from video with Enhanced ConvLSTM.

Reproduces Miyoshi, Nagata and Hashimoto, "A Proposal of Facial Expression
Recognition Method from Video Using Enhanced ConvLSTM".
"""

__version__ = "0.1.0"

from .checkpoint import CheckpointError, load_model, save_model
from .models import (
    ConvLSTM,
    ConvLSTMCell,
    ConvLSTMConfig,
    EnhancedConvLSTMCell,
    FourStreamConfig,
    FourStreamNet,
    NarrowResNet50,
    build_config,
)

__all__ = [
    "CheckpointError",
    "ConvLSTM",
    "ConvLSTMCell",
    "ConvLSTMConfig",
    "EnhancedConvLSTMCell",
    "FourStreamConfig",
    "FourStreamNet",
    "NarrowResNet50",
    "__version__",
    "build_config",
    "load_model",
    "save_model",
]
