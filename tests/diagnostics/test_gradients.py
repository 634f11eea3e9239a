"""diagnostics/gradients.py: gradient norms into a stack's parameters and back to each frame."""

import pytest
import torch

from fervid.diagnostics.gradients import (
    input_gradient_norms,
    parameter_gradient_norm,
    zero_frame_ratios,
)
from fervid.models.convlstm import ConvLSTM, ConvLSTMConfig


def test_parameter_gradient_norm_is_the_norm_of_every_parameters_gradient():
    torch.manual_seed(0)
    stack = ConvLSTM(2, (8, 8), ConvLSTMConfig(hidden_channels=(4, 4, 4, 4), norm_groups=2))
    clip, readout = torch.randn(2, 3, 2, 8, 8), torch.randn(2, 4, 8, 8)
    norm = parameter_gradient_norm(stack, clip, readout)
    stack.zero_grad()
    out, _ = stack(clip)
    (out[:, -1] * readout).sum().backward()
    by_hand = torch.cat([p.grad.flatten() for p in stack.parameters()]).norm().item()
    assert abs(norm - by_hand) < 1e-4 * by_hand
    assert parameter_gradient_norm(stack, clip, 2 * readout) == pytest.approx(2 * norm, rel=1e-4)  # linear in the read-out


def test_input_gradient_reaches_every_frame():
    norms = input_gradient_norms("enhanced", seed=0, size=8, hidden=4, batch=2, frames=5)
    assert len(norms) == 5 and min(norms) > 0
    assert norms == input_gradient_norms("enhanced", seed=0, size=8, hidden=4, batch=2, frames=5)  # seeded


def test_zero_frame_ratios_are_one_per_seed_and_finite():
    zero, dropped = zero_frame_ratios(eps=0.1, seeds=2)
    assert len(zero) == len(dropped) == 2
    assert all(0 < r < 100 for r in zero + dropped)
