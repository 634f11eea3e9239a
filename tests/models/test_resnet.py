"""The narrow ResNet-50 of Table 1: widths exactly as printed, depth 50, shapes."""

import pytest
import torch
from torch import nn

from fervid.models.resnet import Bottleneck, NarrowResNet50, ResNetConfig

TABLE_1 = [  # (1×1, 3×3, 1×1 output widths) × blocks, as printed
    ((16, 16, 32), 3),
    ((32, 32, 64), 4),
    ((64, 32, 128), 6),
    ((128, 64, 128), 3),
]


def test_widths_and_blocks_are_table_1():
    net = NarrowResNet50(3)
    assert net.stem[0].out_channels == 16 and net.stem[0].kernel_size == (3, 3)
    assert len(net.stages) == 4
    for stage, (widths, blocks) in zip(net.stages, TABLE_1):
        assert len(stage) == blocks
        for block in stage:
            assert isinstance(block, Bottleneck)
            got = (block.conv1.out_channels, block.conv2.out_channels, block.conv3.out_channels)
            assert got == widths
            assert block.conv1.kernel_size == (1, 1) and block.conv2.kernel_size == (3, 3) and block.conv3.kernel_size == (1, 1)


def test_fifty_layers():
    """conv1 + 16 bottlenecks × 3 convolutions + the classifier the paper counts = 50;
    projection shortcuts are not counted, as in He et al."""
    net = NarrowResNet50(3)
    main_path = [m for name, m in net.named_modules() if isinstance(m, nn.Conv2d) and "shortcut" not in name]
    assert len(main_path) + 1 == 50


@pytest.mark.parametrize("size, expected", [(112, 14), (32, 4), (48, 6), (33, 5)])
def test_output_shape(size, expected):
    net = NarrowResNet50(2).eval()
    assert ResNetConfig().output_size(size) == expected
    with torch.no_grad():
        out = net(torch.randn(2, 2, size, size))
    assert out.shape == (2, 128, expected, expected)


def test_residual_path_carries_gradient_to_input():
    net = NarrowResNet50(3)
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    net(x).sum().backward()
    assert x.grad.abs().sum() > 0
    for name, p in net.named_parameters():
        assert p.grad is not None, name
