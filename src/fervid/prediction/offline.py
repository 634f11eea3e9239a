"""Offline prediction: a whole video preprocessed with the settings stored in the
model's JSON, every 16-frame clip (stride 8) classified in batches, the per-video
prediction the mean of the clip probabilities. With ``max_faces`` above 1, every face
track (``frontend.tracks``) is cut into its own clips and predicted on its own."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import torch

from ..clips.arrays import VideoArrays, preprocessed_video, remove_stale_spills
from ..clips.inputs import VideoClips
from ..clips.windows import clip_starts
from ..evaluation.inference import predict_clips
from ..frontend.faces import BlazeFace, NoFaceError
from ..frontend.pipeline import usable_cores
from ..frontend.tracks import FaceTracks, TrackSettings
from ..frontend.video import read_video
from ..progress import progress_bar
from .loading import Predictor, load_predictor
from .results import FacePrediction, VideoPrediction, clip_prediction, has_face, shifted
from .writers import write_outputs


@torch.inference_mode()
def predict_arrays(predictor: Predictor, arrays: dict[str, np.ndarray], video: str = "", batch_size: int = 16) -> VideoPrediction:
    """Classify every clip of a preprocessed video (the arrays of ``clips/arrays.py``)."""
    s, model = predictor.settings, predictor.model
    n = int(arrays["n_frames"])
    detected = arrays["detected"][:n]
    first_face = int(np.argmax(detected)) if detected.any() else None
    result = VideoPrediction(video, float(arrays["fps"]), n, model=predictor.source, precision=predictor.precision)
    starts = arrays["clip_starts"]
    lost = arrays["lost"][:n]  # real frames only: padding is not "no face"
    usable = [c for c, st in enumerate(starts) if has_face(lost[st : st + s.clip_len], st, first_face)]
    clips = VideoClips(arrays, usable, s.clip_len, model.config.streams)
    probs = dict(zip(usable, predict_clips(model, clips, batch_size, predictor.device, predictor.precision)))
    for c, st in enumerate(starts):
        share = float(1 - lost[st : st + s.clip_len].mean())
        result.clips.append(clip_prediction(c, int(st), s.clip_len, n, result.fps, share, probs.get(c)))
    return result


def predict_video(
    video: str | os.PathLike,
    model: str | os.PathLike | Predictor,
    out_dir: str | os.PathLike | None = None,
    annotate: bool = False,
    detector: BlazeFace | None = None,
    name: str | None = None,
    max_faces: int = 1,
) -> VideoPrediction:
    """Predict one video; with ``out_dir``, write ``<name>.json``, ``<name>.csv``,
    ``<name>_timeline.png`` and (``annotate``) ``<name>_annotated.avi`` there (``name``:
    the video's stem unless given). ``max_faces`` above 1: every face, up to that many at
    once (``predict_faces``)."""
    predictor = model if isinstance(model, Predictor) else load_predictor(model)
    if max_faces > 1:
        result = predict_faces(video, predictor, detector, TrackSettings(max_faces=max_faces))
        if out_dir is not None:
            write_outputs(result, out_dir, None, name, annotate=annotate)
        return result
    # One video: every core. The crops, flow and dynamic images wait on disk, read a clip at
    # a time, so memory stays flat in video length (held in memory, 10 minutes at the paper
    # preset took ~1.5 GB).
    with preprocessed_video(video, predictor.settings, detector, threads=usable_cores()) as arrays:
        result = predict_arrays(predictor, arrays, str(video))
        if out_dir is not None:
            write_outputs(result, out_dir, arrays if annotate else None, name)
    return result


def predict_faces(video: str | os.PathLike, predictor: Predictor, detector: BlazeFace | None = None,
                  track_settings: TrackSettings = TrackSettings()) -> VideoPrediction:
    """Every face of a video, each followed with a stable id (``frontend.tracks``), cut into
    its own clips on the video's clip grid (from the first multiple of the stride at or
    after its first frame, so that streaming steps all faces together) and predicted as a
    video of its own, exactly as ``FaceStreams`` streams it: a face's frames bridged after
    it was last seen (up to ``max_gap``) are kept, as the one-face path keeps them, and a
    window without a detected face in it is "no face". The result's ``faces`` holds them
    all (clip frames in the video's numbering); its own clips and label are the main
    face's (the longest track). Each face's crops and flow wait on disk while the video is
    read (``spill_dir``: the system's temporary folder), so memory stays flat in video
    length. Raises ``NoFaceError`` if there is no face."""
    settings = predictor.settings
    if settings.face_source != "blazeface":
        raise ValueError(f"{predictor.source}: trained on OpenFace crops; several faces need fervid's own detector")
    info, frames = read_video(video, settings.frame_folder_fps)
    tracks = FaceTracks(settings, detector or BlazeFace(), track_settings)
    spill_dir = Path(tempfile.gettempdir())
    remove_stale_spills(spill_dir)
    with ExitStack() as open_builders:
        builders: dict[int, tuple[int, VideoArrays]] = {}  # face id -> (its first window's frame, its arrays)
        boxes: dict[int, list] = {}
        for i, frame in enumerate(frames):
            for face_id, result in tracks.push(frame).items():
                boxes.setdefault(face_id, []).append(result.box)
                if face_id not in builders and i % settings.clip_stride == 0:  # its first window opens on the clip grid
                    builder = open_builders.enter_context(VideoArrays(settings, f"{video} (face {face_id})", spill_dir))
                    builders[face_id] = (i, builder)
                if face_id in builders:
                    builders[face_id][1].add(result)
        faces = []
        for track in tracks.close():
            face = FacePrediction(track.id, track.first_frame, track.first_frame + track.frames - 1, [], boxes[track.id])
            if track.id in builders:
                start, builder = builders[track.id]
                face.clips = [shifted(c, start, info.fps) for c in _face_clips(predictor, builder, str(video), info.fps)]
            faces.append(face)
    if not faces:
        raise NoFaceError(f"{video}: no face found in any of {tracks.frame} frames")
    main = max(faces, key=lambda f: (f.last_frame - f.first_frame, -f.id))
    return VideoPrediction(str(video), info.fps, tracks.frame, list(main.clips), predictor.source, predictor.precision, faces)


def _face_clips(predictor: Predictor, builder: VideoArrays, video: str, fps: float) -> list:
    """One face's clips from its arrays; if it was not detected in any of them (only
    bridged frames after the grid point), its windows are "no face", as streaming gives."""
    s = predictor.settings
    if not any(builder.detected):
        lost = np.array(builder.lost, bool)
        n = len(lost)
        return [clip_prediction(c, start, s.clip_len, n, fps, float(1 - lost[start : start + s.clip_len].mean()), None)
                for c, start in enumerate(clip_starts(n, s.clip_len, s.clip_stride))]
    builder.finish()
    return predict_arrays(predictor, {**builder.arrays_on_disk(), "fps": np.array(fps)}, video).clips


def output_names(videos: Sequence[str | os.PathLike]) -> list[str]:
    """The name each video's outputs get in one output folder: its stem, or, where stems
    repeat (CK+'s ``S005/001`` and ``S010/001`` frame folders), as many of its last path
    parts as tell them apart, joined by ``_`` (``S005_001``, ``S010_001``)."""
    parts = [Path(v).resolve().with_suffix("").parts for v in videos]
    names = []
    for own in parts:
        depth = 1
        while depth < len(own) and sum(p[-depth:] == own[-depth:] for p in parts) > 1:
            depth += 1
        names.append("_".join(own[-depth:]))
    return names


def predict_videos(videos: Iterable[str | os.PathLike], model, out_dir, annotate: bool = False, progress: bool | None = None,
                   device: str = "auto", precision: str = "auto",
                   frame_folder_fps: float | None = None,
                   names: Sequence[str] | None = None, fuse_gates: bool = False,
                   max_faces: int = 1) -> tuple[list[VideoPrediction], dict[str, str]]:
    """Several videos (files or frame folders); a bad one is reported (path -> reason) and
    the rest go on. ``frame_folder_fps``: frame folders' rate, if not the model's setting.
    ``names``: each video's output name (default ``output_names(videos)``). ``max_faces``:
    see ``predict_video``."""
    predictor = model if isinstance(model, Predictor) else load_predictor(model, device, precision, fuse_gates)
    if frame_folder_fps is not None:
        predictor = dataclasses.replace(predictor, settings=dataclasses.replace(predictor.settings, frame_folder_fps=frame_folder_fps))
    videos = list(videos)
    detector = BlazeFace() if predictor.settings.face_source == "blazeface" else None
    results, failed = [], {}
    bar = progress_bar(len(videos), "predict", "video", progress)
    for video, name in zip(videos, output_names(videos) if names is None else names, strict=True):
        try:
            results.append(predict_video(video, predictor, out_dir, annotate, detector, name, max_faces))
        except ValueError as err:  # VideoError, NoFaceError: the message names the file
            failed[str(video)] = str(err)
        bar.update(1)
    bar.close()
    return results, failed
