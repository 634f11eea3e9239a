"""Batched inference over a set of clips: class probabilities per clip, and the clip-
and video-level metrics of them. Used by training (validation), cross-validation
(test folds) and prediction on new videos, which therefore share one batching loop.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..clips.inputs import ClipSet, collate
from ..precision import autocast, resolve_precision
from .metrics import evaluate_predictions


def flush_denormals() -> None:
    """Treat denormal floats as zero on the CPU. Tiny gradients of the four-stream
    model become denormal and slowed a CPU training run 3× (64 s -> 20 s, same losses)."""
    torch.set_flush_denormal(True)


def to_device(inputs: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """The batch's tensors on ``device`` (non-blocking copies)."""
    return {k: v.to(device, non_blocking=True) for k, v in inputs.items()}


@torch.inference_mode()
def predict_clips(model: nn.Module, clips: Dataset, batch_size: int = 16, device: torch.device | None = None,
                  precision: str = "float32") -> np.ndarray:
    """Class probabilities of every clip, (N, K) float32, in ``clips`` order (a model whose
    logits have more axes, (B, ..., K), gives (N, ..., K)).
    ``precision`` is a resolved one ("float32" or "bfloat16")."""
    device = device or next(model.parameters()).device
    flush_denormals()
    was_training = model.training
    model.eval()
    loader = DataLoader(clips, batch_size=batch_size, shuffle=False, collate_fn=collate)
    probs = []
    for inputs, _, _ in loader:
        with autocast(device, precision):
            logits = model(to_device(inputs, device))  # (B, K)
        probs.append(torch.softmax(logits.float(), -1).cpu().numpy())  # over the classes, the last axis
    model.train(was_training)
    return np.concatenate(probs) if probs else np.zeros((0, model.config.num_classes), np.float32)


def evaluate(model: nn.Module, clips: ClipSet, batch_size: int = 16, precision: str = "auto") -> tuple[dict, np.ndarray]:
    """(clip- and video-level metrics, clip probabilities)."""
    device = next(model.parameters()).device
    probs = predict_clips(model, clips, batch_size, device, resolve_precision(precision, device))
    return evaluate_predictions(probs, clips.clip_labels, clips.clip_videos), probs
