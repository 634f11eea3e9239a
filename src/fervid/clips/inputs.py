"""Preprocessed videos -> the model's input tensors, one clip at a time.

``clip_inputs`` turns one clip of a preprocessed video (the arrays of
``clips/arrays.py``) into the four streams' tensors; ``ClipSet`` is a torch
``Dataset`` of every clip of a list of labelled videos, for training and
evaluation, and ``collate`` stacks its items into batches. Shapes (T frames per clip, S face size):

    rgb_clip      (T, 3, S, S) float32 in [-1, 1]
    flow_clip     (T, 2, S, S) float32 in [-1, 1]
    rgb_dynamic   (3, S, S)    float32 in [-1, 1]
    flow_dynamic  (2, S, S)    float32 in [-1, 1]

(a batch adds B in front: the model's inputs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..labels import EXPRESSIONS
from .windows import STORED_FLOAT, rgb_to_unit

# The model's four inputs, by stream name: what each reads from a preprocessed video, and its channels.
CLIP_STREAMS = ("rgb_clip", "flow_clip")  # a clip's frames, (T, C, S, S): the ConvLSTM streams
DYNAMIC_STREAMS = ("rgb_dynamic", "flow_dynamic")  # a clip's dynamic image, (C, S, S): the ResNet streams
ALL_STREAMS = CLIP_STREAMS + DYNAMIC_STREAMS
STREAM_ARRAYS = {"rgb_clip": "rgb", "flow_clip": "flow", "rgb_dynamic": "rgb_dynamic", "flow_dynamic": "flow_dynamic"}
STREAM_CHANNELS = {"rgb_clip": 3, "flow_clip": 2, "rgb_dynamic": 3, "flow_dynamic": 2}  # RGB; flow (dx, dy)
STREAMS = ALL_STREAMS


def arrays_needed(streams: Sequence[str]) -> tuple[str, ...]:
    """The preprocessed arrays that the given streams read (and the clip starts)."""
    return ("clip_starts", *(STREAM_ARRAYS[s] for s in streams))


def _as_stored(values: np.ndarray) -> torch.Tensor:
    """Flow or a dynamic image as the model reads it: rounded to the stored float16
    (a no-op for arrays read from the cache), as float32."""
    return torch.from_numpy(np.asarray(values, STORED_FLOAT)).float()


def frame_inputs(rgb: np.ndarray | None, flow: np.ndarray | None, streams: Sequence[str] = CLIP_STREAMS) -> dict[str, torch.Tensor]:
    """The clip streams' tensors of T frames: RGB crops (T, S, S, 3) uint8 -> rgb_clip
    (T, 3, S, S) in [-1, 1]; flow (T, S, S, 2) -> flow_clip (T, 2, S, S). Offline reads
    them from the cache, streaming as the frames arrive: the same tensors either way."""
    inputs = {}
    if "rgb_clip" in streams:
        inputs["rgb_clip"] = torch.from_numpy(rgb_to_unit(rgb)).permute(0, 3, 1, 2)  # (T, S, S, 3) -> (T, 3, S, S)
    if "flow_clip" in streams:
        inputs["flow_clip"] = _as_stored(flow).permute(0, 3, 1, 2)  # (T, S, S, 2) -> (T, 2, S, S)
    return inputs


def dynamic_inputs(rgb_dynamic: np.ndarray | None, flow_dynamic: np.ndarray | None,
                   streams: Sequence[str] = DYNAMIC_STREAMS) -> dict[str, torch.Tensor]:
    """The ResNet streams' tensors of one clip: dynamic images (S, S, C) -> (C, S, S)."""
    inputs = {}
    if "rgb_dynamic" in streams:
        inputs["rgb_dynamic"] = _as_stored(rgb_dynamic).permute(2, 0, 1)  # (S, S, 3) -> (3, S, S)
    if "flow_dynamic" in streams:
        inputs["flow_dynamic"] = _as_stored(flow_dynamic).permute(2, 0, 1)  # (S, S, 2) -> (2, S, S)
    return inputs


def clip_inputs(arrays: dict[str, np.ndarray], clip: int, clip_len: int, streams: Sequence[str] = STREAMS) -> dict[str, torch.Tensor]:
    """The tensors of clip number ``clip`` (not frame number) for the given streams."""
    start = int(arrays["clip_starts"][clip])
    frames = slice(start, start + clip_len)
    rgb = arrays["rgb"][frames] if "rgb_clip" in streams else None
    flow = arrays["flow"][frames] if "flow_clip" in streams else None
    rgb_dynamic = arrays["rgb_dynamic"][clip] if "rgb_dynamic" in streams else None
    flow_dynamic = arrays["flow_dynamic"][clip] if "flow_dynamic" in streams else None
    return {**frame_inputs(rgb, flow, streams), **dynamic_inputs(rgb_dynamic, flow_dynamic, streams)}


def collate(items: Sequence[tuple[dict[str, torch.Tensor], int, int]]) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """A batch of ``ClipSet`` items, (inputs, label, video) each -> (inputs stacked
    to (B, ...), labels (B,), videos (B,))."""
    inputs = {name: torch.stack([item[0][name] for item in items]) for name in items[0][0]}
    labels = torch.tensor([item[1] for item in items])
    videos = torch.tensor([item[2] for item in items])
    return inputs, labels, videos


def mirror(inputs: dict[str, torch.Tensor], flip: torch.Tensor) -> dict[str, torch.Tensor]:
    """Left-right mirror the batch items where ``flip`` (B,) is true: every stream's W axis
    reversed, and the flow's x component (channel 0) negated, since mirrored motion to the
    right is motion to the left. Faces and their expressions are near-symmetric, so a
    mirrored clip is another plausible clip with the same label (training augmentation)."""
    out = {}
    for name, x in inputs.items():  # (B, T, C, S, S) or (B, C, S, S)
        mirrored = x.flip(-1)
        if name.startswith("flow"):
            sign = torch.ones(x.shape[-3], 1, 1, dtype=x.dtype, device=x.device)
            sign[0] = -1.0  # dx
            mirrored = mirrored * sign
        where = flip.to(x.device).view(-1, *([1] * (x.ndim - 1)))
        out[name] = torch.where(where, mirrored, x)
    return out


class ClipSet(Dataset):
    """Every clip of every video. ``videos``: (key, label) pairs.

    ``load(key)`` returns a video's arrays (for example ``PreprocessCache.load`` with
    ``names=arrays_needed(streams)``); a video is loaded when first read and kept, one
    copy per worker process. ``clip_counts`` (clips per video, e.g. from the cache's
    index) saves loading every video up front to count its clips.
    Items: (inputs dict, label index, video index).
    """

    def __init__(self, videos: Sequence[tuple[object, str]], load, clip_len: int, streams: Sequence[str] = STREAMS,
                 clip_counts: Sequence[int] | None = None):
        self.keys = [key for key, _ in videos]
        self.labels = [EXPRESSIONS.index(label) for _, label in videos]
        self.load = load
        self.clip_len = clip_len
        self.streams = tuple(streams)
        self._arrays: dict[int, dict[str, np.ndarray]] = {}
        self.items: list[tuple[int, int]] = []  # (video index, clip index)
        for v in range(len(self.keys)):
            n_clips = clip_counts[v] if clip_counts is not None else len(self._video(v)["clip_starts"])
            self.items += [(v, c) for c in range(n_clips)]

    def _video(self, v: int) -> dict[str, np.ndarray]:
        if v not in self._arrays:
            self._arrays[v] = self.load(self.keys[v])
        return self._arrays[v]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        v, c = self.items[i]
        return clip_inputs(self._video(v), c, self.clip_len, self.streams), self.labels[v], v

    def start_frame(self, i: int) -> int:
        """First frame of clip ``i`` in its video."""
        v, c = self.items[i]
        return int(self._video(v)["clip_starts"][c])

    @property
    def clip_labels(self) -> np.ndarray:
        return np.array([self.labels[v] for v, _ in self.items])

    @property
    def clip_videos(self) -> np.ndarray:
        return np.array([v for v, _ in self.items])


class VideoClips(Dataset):
    """Chosen clips of one preprocessed video, unlabelled (label -1), in ``ClipSet``'s item
    form, for prediction. Tensors are made when read, so a long video's clips are never
    all in memory at once."""

    def __init__(self, arrays: dict[str, np.ndarray], clips: Sequence[int], clip_len: int, streams: Sequence[str] = STREAMS):
        self.arrays, self.clips, self.clip_len, self.streams = arrays, list(clips), clip_len, tuple(streams)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int):
        return clip_inputs(self.arrays, self.clips[i], self.clip_len, self.streams), -1, 0
