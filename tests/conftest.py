"""Small videos the tests make themselves: cartoon faces BlazeFace finds, and none."""

import dataclasses
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from fervid.clips.inputs import ClipSet
from fervid.labels import EXPRESSIONS
from fervid.models.fourstream import build_config
from fervid.models.resnet import ResNetConfig

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = SHARED / "fixtures" / "enterface05_s1"


def draw_face(frame: np.ndarray, cx: float, cy: float, size: float, mouth_open: float = 0.0, skin=(150, 180, 225)) -> None:
    """A cartoon face (skin ellipse, hair, brows, eyes, nose, mouth) drawn in place, BGR."""
    s = size
    c = (int(cx), int(cy))
    cv2.ellipse(frame, (int(cx), int(cy - 0.38 * s)), (int(0.48 * s), int(0.3 * s)), 0, 180, 360, (30, 30, 60), -1)
    cv2.ellipse(frame, c, (int(0.4 * s), int(0.52 * s)), 0, 0, 360, skin, -1)
    for side in (-1, 1):
        ex, ey = int(cx + side * 0.17 * s), int(cy - 0.1 * s)
        cv2.ellipse(frame, (ex, ey), (int(0.08 * s), int(0.045 * s)), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(frame, (ex, ey), int(0.035 * s), (40, 30, 20), -1)
        cv2.line(frame, (ex - int(0.09 * s), ey - int(0.09 * s)), (ex + int(0.09 * s), ey - int(0.1 * s)), (40, 40, 60), max(1, int(0.025 * s)))
    nose = np.array([[cx, cy - 0.02 * s], [cx - 0.05 * s, cy + 0.12 * s], [cx + 0.05 * s, cy + 0.12 * s]], np.int32)
    cv2.polylines(frame, [nose], True, tuple(int(v * 0.8) for v in skin), max(1, int(0.015 * s)))
    cv2.ellipse(frame, (int(cx), int(cy + 0.27 * s)), (int(0.14 * s), int(0.02 * s + mouth_open * 0.08 * s)), 0, 0, 360, (60, 50, 160), -1)


def write_video(path: Path, frames, fps: float = 25.0, fourcc: str = "MJPG", color: bool = True) -> Path:
    frames = list(frames)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h), color)
    assert writer.isOpened(), f"cannot write {path}"
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def face_frames(n: int, width: int = 320, height: int = 240, seed: int = 0, drift: float = 0.3, face: float = 0.45):
    """n frames of a talking cartoon face that drifts slowly, on a noisy background."""
    rng = np.random.default_rng(seed)
    frames = []
    for t in range(n):
        frame = np.full((height, width, 3), (90, 110, 100), np.uint8)
        frame = cv2.add(frame, rng.integers(0, 12, frame.shape, dtype=np.uint8))
        draw_face(frame, width / 2 + drift * t, height / 2 + 0.1 * drift * t, face * height, mouth_open=0.5 + 0.5 * np.sin(t / 2))
        frames.append(frame)
    return frames


@pytest.fixture
def face_video(tmp_path):
    """Write a video of a cartoon face: face_video(name, n=40, **kwargs) -> path."""

    def make(name: str = "face.avi", n: int = 40, fps: float = 25.0, **kwargs) -> Path:
        return write_video(tmp_path / name, face_frames(n, **kwargs), fps)

    return make


def needs_fixtures():
    return pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"real eNTERFACE'05 fixture clips not found at {FIXTURES}")


def write_frame_folder(folder: Path, frames, suffix: str = ".png", names=None) -> Path:
    """Frames as one image file each (1.png, 2.png, ...; ``names`` to choose)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        name = names[i] if names else f"{i + 1}{suffix}"
        assert cv2.imwrite(str(folder / name), frame), f"cannot write {folder / name}"
    return folder


def decoded_frames(video: Path) -> list:
    """The frames a video decodes to (for comparing a video with the same frames as images)."""
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def needs_compiler():
    """torch.compile on the CPU (Inductor) builds C++: without a compiler fervid's fused path
    falls back to eager (tested on its own), and the tests of the compiled path are skipped."""
    found = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    return pytest.mark.skipif(not found, reason="no C++ compiler for torch.compile (Inductor) on this machine")


# ---------------------------------------------------------------- tiny models and clip sets (training, inference)

SIZE = 16  # face size of the tiny models and fake videos


def tiny_model(ablation="e"):
    config = build_config("small", ablation)
    return dataclasses.replace(
        config,
        face_size=SIZE,
        convlstm=dataclasses.replace(config.convlstm, hidden_channels=(8, 8, 8, 8)),
        resnet=ResNetConfig(stage_blocks=(1, 1, 1, 1)),
        fc_channels=(32, 16),
        dropout=0.0,
    )


def fake_video(label: int, seed: int, frames: int = 24) -> dict:
    """Arrays shaped like clips/arrays.py's; the label is a motion direction in the flow."""
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * label / len(EXPRESSIONS)
    flow = rng.normal(0, 0.1, (frames, SIZE, SIZE, 2)).astype(np.float32)
    flow[..., 0] += 0.5 * np.cos(angle)
    flow[..., 1] += 0.5 * np.sin(angle)
    starts = np.array([0, 8])
    return {
        "rgb": rng.integers(0, 256, (frames, SIZE, SIZE, 3), dtype=np.uint8),
        "flow": flow.astype(np.float16),
        "clip_starts": starts,
        "rgb_dynamic": rng.normal(0, 0.1, (2, SIZE, SIZE, 3)).astype(np.float16),
        "flow_dynamic": np.stack([flow[s : s + 16].mean(0) for s in starts]).astype(np.float16),
    }


def clip_set(n_per_class=2, seed=0, streams=None, corrupt=False):
    videos = {}
    entries = []
    for label in range(len(EXPRESSIONS)):
        for k in range(n_per_class):
            key = f"v{label}_{k}"
            videos[key] = fake_video(label, seed * 1000 + label * 10 + k)
            if corrupt:
                videos[key]["flow"][:] = np.nan
            entries.append((key, EXPRESSIONS[label]))
    kwargs = {"streams": streams} if streams else {}
    return ClipSet(entries, videos.__getitem__, 16, **kwargs)
