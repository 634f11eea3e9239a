"""The narrow ResNet-50 of the paper's Table 1, the network of the dynamic-image streams.

Bottleneck blocks [3, 4, 6, 3] with exactly the printed widths (1×1, 3×3, 1×1
output channels per block):

    conv1    3×3, 16
    conv2_x  1×1,16  · 3×3,16 · 1×1,32   × 3
    conv3_x  1×1,32  · 3×3,32 · 1×1,64   × 4
    conv4_x  1×1,64  · 3×3,32 · 1×1,128  × 6
    conv5_x  1×1,128 · 3×3,64 · 1×1,128  × 3

1 + 16·3 convolutions + the head = 50 layers. Shapes: B batch, C channels,
H×W pixels; S = H / 8 with the default strides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor, nn


@dataclass(frozen=True)
class ResNetConfig:
    stem_channels: int = 16  # Table 1, conv1: 3×3, 16
    stage_widths: tuple[tuple[int, int, int], ...] = (
        (16, 16, 32),  # conv2_x, Table 1
        (32, 32, 64),  # conv3_x
        (64, 32, 128),  # conv4_x
        (128, 64, 128),  # conv5_x
    )
    stage_blocks: tuple[int, ...] = (3, 4, 6, 3)  # ResNet-50
    # open: the paper prints a 3×3 stem (CIFAR-style), so no 7×7 stride-2 stem and no
    # max-pool; stages 3-5 halve the size: 112×112 -> 14×14, 32×32 -> 4×4.
    stem_stride: int = 1
    stage_strides: tuple[int, ...] = (1, 2, 2, 2)

    def __post_init__(self) -> None:
        if not len(self.stage_widths) == len(self.stage_blocks) == len(self.stage_strides):
            raise ValueError("stage_widths, stage_blocks and stage_strides need one entry per stage")

    @property
    def out_channels(self) -> int:
        return self.stage_widths[-1][-1]

    def output_size(self, size: int) -> int:
        """Spatial size of the feature map for an input of size×size (3×3 convolutions, padding 1)."""
        for stride in (self.stem_stride, *self.stage_strides):
            size = math.ceil(size / stride)
        return size


class Bottleneck(nn.Module):
    """1×1 -> 3×3 (strided, as in torchvision's ResNet v1.5) -> 1×1, each with BatchNorm;
    a 1×1 projection shortcut where the shape changes. (B, C_in, H, W) -> (B, w3, H/s, W/s)."""

    def __init__(self, in_channels: int, widths: tuple[int, int, int], stride: int = 1) -> None:
        super().__init__()
        w1, w2, w3 = widths
        self.conv1 = nn.Conv2d(in_channels, w1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w1)
        self.conv2 = nn.Conv2d(w1, w2, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(w2)
        self.conv3 = nn.Conv2d(w2, w3, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(w3)
        self.relu = nn.ReLU(inplace=True)
        if stride != 1 or in_channels != w3:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, w3, 1, stride=stride, bias=False), nn.BatchNorm2d(w3))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


class NarrowResNet50(nn.Module):
    """(B, C_in, H, W) -> feature map (B, 128, S, S). No pooling or classifier: the
    four-stream network sums feature maps."""

    def __init__(self, in_channels: int, config: ResNetConfig = ResNetConfig()) -> None:
        super().__init__()
        self.config = config
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, config.stem_channels, 3, stride=config.stem_stride, padding=1, bias=False),
            nn.BatchNorm2d(config.stem_channels),
            nn.ReLU(inplace=True),
        )
        stages = []
        channels = config.stem_channels
        for widths, blocks, stride in zip(config.stage_widths, config.stage_blocks, config.stage_strides):
            layers = []
            for b in range(blocks):
                layers.append(Bottleneck(channels, widths, stride if b == 0 else 1))
                channels = widths[-1]
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)  # conv2_x .. conv5_x
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    @property
    def out_channels(self) -> int:
        return self.config.out_channels

    def forward(self, x: Tensor) -> Tensor:
        return self.stages(self.stem(x))
