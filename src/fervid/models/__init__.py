"""The paper's networks: ConvLSTM cells and stacks, the narrow ResNet-50, the four-stream model."""

from .convlstm import (
    ConvLSTM,
    ConvLSTMCell,
    ConvLSTMConfig,
    ConvLSTMState,
    EnhancedConvLSTMCell,
)
from .fourstream import (
    ABLATIONS,
    ALL_STREAMS,
    EXPRESSIONS,
    PRESETS,
    FourStreamConfig,
    FourStreamNet,
    build_config,
    count_parameters,
)
from .resnet import NarrowResNet50, ResNetConfig

__all__ = [
    "ABLATIONS",
    "ALL_STREAMS",
    "EXPRESSIONS",
    "PRESETS",
    "ConvLSTM",
    "ConvLSTMCell",
    "ConvLSTMConfig",
    "ConvLSTMState",
    "EnhancedConvLSTMCell",
    "FourStreamConfig",
    "FourStreamNet",
    "NarrowResNet50",
    "ResNetConfig",
    "build_config",
    "count_parameters",
]
