"""A prediction written out: JSON, CSV (one row per clip, with time stamps), a timeline
PNG and an annotated copy of the video."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..atomic import write_atomically, write_json, write_rows
from ..evaluation.report import plot_timeline
from ..frontend.video import read_video
from ..labels import EXPRESSIONS
from .results import NO_FACE, ClipPrediction, VideoPrediction


def _clip_row(c: ClipPrediction) -> dict:
    return {"clip": c.index, "start_frame": c.start_frame, "end_frame": c.end_frame, "start_s": f"{c.start_s:.4f}",
            "end_s": f"{c.end_s:.4f}", "face_share": f"{c.face_share:.3f}", "label": c.label,
            **({k: "" for k in EXPRESSIONS} if c.probs is None else {k: f"{p:.6f}" for k, p in zip(EXPRESSIONS, c.probs)})}


def _timeline(clips: list[ClipPrediction], path: Path, title: str) -> None:
    times = np.array([(c.start_s + c.end_s) / 2 for c in clips])
    probs = np.array([np.full(len(EXPRESSIONS), np.nan) if c.probs is None else c.probs for c in clips])
    no_face = [(c.start_s, c.end_s) for c in clips if c.probs is None]
    plot_timeline(times, probs, path, title=title, no_face=no_face)


def write_outputs(result: VideoPrediction, out_dir: str | os.PathLike, arrays: dict | None = None,
                  name: str | None = None, annotate: bool = False) -> dict[str, Path]:
    """``<name>.json``, ``<name>.csv``, ``<name>_timeline.png`` and, with ``arrays`` (one
    face) or ``annotate`` (several: ``result.faces``), ``<name>_annotated.avi``. With
    several faces the CSV has a face column and each face a timeline of its own,
    ``<name>_timeline_face<id>.png``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = name or Path(result.video).stem or "stream"
    paths = {"json": out / f"{stem}.json", "csv": out / f"{stem}.csv", "timeline": out / f"{stem}_timeline.png"}
    write_json(paths["json"], result.to_dict())
    if result.faces:
        write_rows(paths["csv"], [{"face": f.id, **_clip_row(c)} for f in result.faces for c in f.clips])
    else:
        write_rows(paths["csv"], [_clip_row(c) for c in result.clips])
    _timeline(result.clips, paths["timeline"], f"{Path(result.video).name}: {result.label}")
    for face in result.faces:
        paths[f"timeline_face{face.id}"] = out / f"{stem}_timeline_face{face.id}.png"
        _timeline(face.clips, paths[f"timeline_face{face.id}"], f"{Path(result.video).name}, face {face.id}: {face.label}")
    if arrays is not None or (annotate and result.faces):
        paths["annotated"] = write_atomically(out / f"{stem}_annotated.avi", lambda tmp: annotate_video(result, arrays, tmp))
    return paths


def annotate_video(result: VideoPrediction, arrays: dict | None, path: Path) -> Path:
    """A copy of the video with the face box, the current clip's label and a bar chart
    of its six probabilities (MJPG AVI at the source frame rate); with several faces
    (``result.faces``; ``arrays`` unused), each face's box, id and current label."""
    info, frames = read_video(result.video, result.fps)  # result.fps: a frame folder's rate as predicted
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), info.fps, (info.width, info.height))
    if not writer.isOpened():
        raise OSError(f"{path}: cannot write video")
    try:
        if result.faces:
            _draw_faces(result, info, frames, writer)
        else:
            _draw_frames(result, arrays, info, frames, writer)
    finally:
        writer.release()
    return path


def _draw_frames(result: VideoPrediction, arrays: dict, info, frames, writer) -> None:
    for i, frame in enumerate(frames):
        clip = _current_clip(result.clips, i)
        box = arrays["boxes"][i] if i < len(arrays["boxes"]) else None
        if box is not None and np.isfinite(box).all() and not arrays["lost"][i]:
            x0, y0, x1, y1 = box.astype(int)
            cv2.rectangle(frame, (x0, y0), (x1, y1), (0, 255, 0), 2)
        label = clip.label if clip else NO_FACE
        scale = max(0.4, info.height / 600)
        cv2.putText(frame, label, (8, int(28 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2, cv2.LINE_AA)
        if clip is not None and clip.probs is not None:
            for k, (name, p) in enumerate(zip(EXPRESSIONS, clip.probs)):
                y = int((40 + 14 * k) * scale)
                cv2.rectangle(frame, (8, y), (8 + int(100 * scale * p), y + int(10 * scale)), (0, 200, 255), -1)
                cv2.putText(frame, name[:4], (int(8 + 104 * scale), y + int(9 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 0.35 * scale, (255, 255, 255), 1)
        writer.write(frame)


def _current_clip(clips: list[ClipPrediction], i: int) -> ClipPrediction | None:
    covering = [c for c in clips if c.start_frame <= i <= c.end_frame]
    return min(covering, key=lambda c: abs((c.start_frame + c.end_frame) / 2 - i)) if covering else None


FACE_COLOURS = ((0, 255, 0), (255, 160, 0), (0, 160, 255), (255, 0, 200), (0, 255, 255), (200, 200, 255))  # BGR, by id


def _draw_faces(result: VideoPrediction, info, frames, writer) -> None:
    scale = max(0.4, info.height / 600)
    for i, frame in enumerate(frames):
        for face in result.faces:
            if not face.first_frame <= i <= face.last_frame:
                continue
            box = np.asarray(face.boxes[i - face.first_frame] or (np.nan,) * 4, float)
            if not np.isfinite(box).all():
                continue
            x0, y0, x1, y1 = box.astype(int)
            colour = FACE_COLOURS[face.id % len(FACE_COLOURS)]
            clip = _current_clip(face.clips, i)
            cv2.rectangle(frame, (x0, y0), (x1, y1), colour, 2)
            cv2.putText(frame, f"{face.id}: {clip.label if clip else NO_FACE}", (x0, max(12, y0 - 6)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, colour, 2, cv2.LINE_AA)
        writer.write(frame)
