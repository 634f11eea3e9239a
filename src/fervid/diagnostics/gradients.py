"""Gradients through a ConvLSTM stack at initialisation: how much of the loss's gradient
reaches each frame of a clip (the paper's claim for the Enhanced cell), and the norm of
the gradient into a stack's parameters, e.g. for a clip whose first frame is all zeros.

The loss reads the top layer's last h, (B, Ch, H, W), through a fixed random projection
of that shape (a linear read-out; a plain sum would be blind to a GroupNorm output, whose
groups sum to a constant)."""

from __future__ import annotations

import torch

from ..models.convlstm import ConvLSTM, ConvLSTMConfig

FRAMES = 16  # frames per clip (paper)


def readout_loss(stack: ConvLSTM, clip: torch.Tensor, readout: torch.Tensor) -> torch.Tensor:
    """The stack's top h at the last frame, (B, Ch, H, W), read through ``readout``."""
    out, _ = stack(clip)  # (B, T, Ch, H, W)
    return (out[:, -1] * readout).sum()


def parameter_gradient_norm(stack: ConvLSTM, clip: torch.Tensor, readout: torch.Tensor) -> float:
    """‖dL/dθ‖ over all of the stack's parameters for ``readout_loss`` of ``clip``."""
    stack.zero_grad()
    readout_loss(stack, clip, readout).backward()
    return torch.sqrt(sum(p.grad.square().sum() for p in stack.parameters())).item()


def input_gradient_norms(cell: str, seed: int, size: int, hidden: int, batch: int, frames: int = FRAMES) -> list[float]:
    """‖dL/dx_t‖ for t = 1..frames of a random clip through a freshly initialised 4-layer
    stack of ``cell`` ("conventional" or "enhanced")."""
    torch.manual_seed(seed)
    stack = ConvLSTM(3, (size, size), ConvLSTMConfig(cell=cell, hidden_channels=(hidden,) * 4))
    clip = torch.randn(batch, frames, 3, size, size, requires_grad=True)
    readout = torch.randn(batch, hidden, size, size)
    readout_loss(stack, clip, readout).backward()
    return [clip.grad[:, t].norm().item() for t in range(frames)]  # ‖dL/dx_{t+1}‖


def zero_frame_ratios(eps: float, seeds: int) -> tuple[list[float], list[float]]:
    """For a 4-layer Enhanced stack (8 channels, 16×16, GroupNorm eps ``eps``) on unit-scale
    random clips of 6 frames, per seed: the parameters' gradient norm for the clip with its
    first frame all zeros, and with its first frame dropped, each over that of the clip as
    it was."""
    zero, dropped = [], []
    for seed in range(seeds):
        torch.manual_seed(seed)
        stack = ConvLSTM(2, (16, 16), ConvLSTMConfig(hidden_channels=(8,) * 4, norm_groups=2, norm_eps=eps))
        clip, readout = torch.randn(4, 6, 2, 16, 16), torch.randn(4, 8, 16, 16)
        ordinary = parameter_gradient_norm(stack, clip, readout)
        dropped.append(parameter_gradient_norm(stack, clip[:, 1:], readout) / ordinary)
        clip[:, 0] = 0
        zero.append(parameter_gradient_norm(stack, clip, readout) / ordinary)
    return zero, dropped
