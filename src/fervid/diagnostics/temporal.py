"""Whether the network can use time, asked three ways: one ConvLSTM stream trained on a
purely temporal toy task (``datasets.onset``), trained folds' accuracy by the phase of the
expression a clip covers, and the temporal linear floor computed per 16-frame clip, as the
network sees a video, beside the per-video floor."""

from __future__ import annotations

import csv
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..clips.arrays import PreprocessSettings
from ..clips.cache import PreprocessCache
from ..clips.windows import padded_clip
from ..datasets import fold_split, read_manifest
from ..datasets.onset import TASKS, onset_clips
from ..evaluation.baselines import (
    fit_softmax,
    grey_crops,
    linear_floors,
    log_prob,
    temporal_features,
)
from ..labels import EXPRESSIONS
from ..models.fourstream import FourStreamNet, build_config
from .settings import overridden


@dataclasses.dataclass(frozen=True)
class ToyTask:
    """The toy run's settings; defaults: the learning test of tests/models/test_fourstream.py."""

    task: str = "direction"
    subjects: int = 24
    test_subjects: int = 16
    clips_per_subject: int = 8
    size: int = 16
    frames: int = 12
    channels: int = 8  # hidden channels of each ConvLSTM layer
    shift: float = 0.08
    steps: int = 120
    batch_size: int = 16
    optimizer: str = "adamw"
    lr: float = 3e-3
    seed: int = 0  # model initialisation and batch order
    data_seed: int = 1  # training clips; the held-out clips use the next seed


def train_toy(toy: ToyTask, overrides: list[str] = ()) -> dict:
    """One RGB Enhanced ConvLSTM stream and the head trained on ``onset_clips`` (in memory):
    last training loss, training and held-out-subject accuracy, the gradient norm per layer
    at the first step."""
    x_train, y_train, _ = onset_clips(toy.subjects, toy.clips_per_subject, size=toy.size, frames=toy.frames,
                                      seed=toy.data_seed, task=toy.task, shift=toy.shift)
    x_test, y_test, _ = onset_clips(toy.test_subjects, toy.clips_per_subject, size=toy.size, frames=toy.frames,
                                    seed=toy.data_seed + 1, task=toy.task, shift=toy.shift)
    small = build_config("small", "c")
    config = overridden(small, list(overrides), streams=("rgb_clip",), face_size=toy.size, num_classes=len(TASKS[toy.task]),
                        convlstm=dataclasses.replace(small.convlstm, hidden_channels=(toy.channels,) * 4),
                        fc_channels=(32, 32), dropout=0.0)
    torch.manual_seed(toy.seed)
    model = FourStreamNet(config)
    if toy.optimizer == "adamw":
        optimizer = torch.optim.AdamW(model.parameters(), lr=toy.lr)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=toy.lr, momentum=0.9, weight_decay=5e-4)
    generator = torch.Generator().manual_seed(toy.seed)
    cells = model.streams["rgb_clip"].convlstm.cells
    start, losses, first_grads = time.perf_counter(), [], {}
    for step in range(toy.steps):
        batch = torch.randint(len(x_train), (toy.batch_size,), generator=generator)
        loss = F.cross_entropy(model({"rgb_clip": x_train[batch]}), y_train[batch])
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            first_grads = {f"layer{i + 1}": float(torch.cat([p.grad.flatten() for p in c.parameters() if p.grad is not None]).norm())
                           for i, c in enumerate(cells)}
            first_grads["head"] = float(torch.cat([p.grad.flatten() for p in model.head.parameters()]).norm())
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        train_acc = (model({"rgb_clip": x_train}).argmax(1) == y_train).float().mean().item()
        test_acc = (model({"rgb_clip": x_test}).argmax(1) == y_test).float().mean().item()
    return {"task": toy.task, "set": list(overrides), "optimizer": toy.optimizer, "lr": toy.lr, "steps": toy.steps,
            "train_loss_last10": round(float(np.mean(losses[-10:])), 4), "train_acc": round(train_acc, 3),
            "held_out_acc": round(test_acc, 3), "grad_norm_step0": {k: round(v, 4) for k, v in first_grads.items()},
            "seconds": round(time.perf_counter() - start, 1)}


PHASES = ("neutral only", "rising", "apex held only", "falling")


def clip_phase(onset: int, apex: int, offset: int, start: int, length: int = 16) -> str:
    """The ``PHASES`` phase of the clip of ``length`` frames from ``start``: before the
    onset, reaching the apex, within the held apex, or past the offset."""
    end = start + length - 1
    if end < onset:
        return "neutral only"
    if start <= apex:
        return "rising"
    return "apex held only" if end <= offset else "falling"


def phase_outcomes(data: Path, fold_dir: Path) -> dict[str, list[int]]:
    """A trained fold's held-out clips (``predictions_clips.csv``), correct (1) or not, by
    the phase each covers, from a synthetic set's manifest columns onset, apex, offset."""
    with open(data / "manifest.csv", newline="") as f:
        course = {(data / r["path"]).as_posix(): tuple(int(r[k]) for k in ("onset", "apex", "offset")) for r in csv.DictReader(f)}
    right: dict[str, list[int]] = {p: [] for p in PHASES}
    with open(fold_dir / "predictions_clips.csv", newline="") as f:
        for row in csv.DictReader(f):
            right[clip_phase(*course[Path(row["video"]).as_posix()], int(row["start_frame"]))].append(int(row["correct"]))
    return right


def clip_floor(data: Path, k: int, fold: int) -> dict:
    """The temporal linear floor (``baselines.temporal_features``) per 16-frame clip:
    fitted on fold ``fold``'s training clips, tested per held-out clip and per video (clip
    log-probabilities summed), beside the per-video floors of the same fold."""
    cache = PreprocessCache(data / "cache", PreprocessSettings())
    train, test = fold_split([e for e in read_manifest(data / "manifest.csv") if cache.has(e.path)], k, fold)
    clip_len = cache.settings.clip_len

    def videos(entries):
        out = []
        for e in entries:
            arrays = cache.load(e.path, names=("rgb", "fps", "n_frames", "clip_starts"))
            out.append((arrays["rgb"][: int(arrays["n_frames"])], float(arrays["fps"]), EXPRESSIONS.index(e.label),
                        arrays["clip_starts"]))
        return out

    def clip_features(video_list):
        x, y, owner = [], [], []
        for i, (rgb, fps, label, starts) in enumerate(video_list):
            crops = grey_crops(rgb)
            for start in starts:
                window = padded_clip(crops[start:start + clip_len], clip_len)  # a short video's clip: as the network's
                x.append(temporal_features(window, fps))
                y.append(label)
                owner.append(i)
        return np.stack(x), np.array(y), np.array(owner)

    train_videos, test_videos = videos(train), videos(test)
    x_train, y_train, _ = clip_features(train_videos)
    x_test, y_test, owner = clip_features(test_videos)
    lp = log_prob(fit_softmax(x_train, y_train, len(EXPRESSIONS)), x_test)
    video_pred = np.array([lp[owner == i].sum(0).argmax() for i in range(len(test_videos))])
    video_true = np.array([v[2] for v in test_videos])
    whole = linear_floors([v[:3] for v in train_videos], [v[:3] for v in test_videos])
    return {"train_clips": len(x_train), "test_clips": len(x_test), "test_videos": len(test_videos),
            "clip_acc": float(np.mean(lp.argmax(1) == y_test)), "video_acc": float(np.mean(video_pred == video_true)),
            "temporal_video": whole["temporal_video"], "static_video": whole["static_video"]}
