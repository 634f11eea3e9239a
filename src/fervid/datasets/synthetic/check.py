"""The synthetic set's own check: does one frame give the expression away? Linear
classifiers (``fervid.evaluation.baselines``) on ground-truth-aligned crops of the written videos,
static against temporal, with subject-group cross-validation."""

from __future__ import annotations

import json
import math
import os

import cv2
import numpy as np

from ...evaluation.baselines import (
    fit_softmax,
    log_prob,
    standardised,
    temporal_features,
)
from ...frontend.video import read_video
from ...labels import EXPRESSIONS
from ..manifest import VideoEntry, read_manifest
from ..splits import subject_groups

CHECK_SIZE = 32  # face crops for the check, px (the small preset's face size)


def _crops(entry: VideoEntry, size: int = CHECK_SIZE) -> tuple[np.ndarray, np.ndarray, float]:
    """Grey face crops (n, size*size), each standardised (zero mean, unit std, so
    brightness and skin tone do not count), trivial per-frame cues (n, 6: mean colour
    and the centre pixel) and fps. Crops follow the ground-truth box and roll when a
    side-car JSON exists; otherwise the whole frame is used."""
    truth_path = entry.path.with_suffix(".json")
    truth = json.loads(truth_path.read_text()) if truth_path.is_file() else None
    info, frames = read_video(entry.path)
    crops, trivial = [], []
    for i, frame in enumerate(frames):
        h, w = frame.shape[:2]
        trivial.append(np.concatenate([cv2.mean(frame)[:3], frame[h // 2, w // 2]]) / 255.0)
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if truth is not None and i < len(truth["per_frame"]["box"]):
            # An aligned crop as a face aligner makes it: centred between the eyes and
            # the mouth, rolled upright, scaled by the eye-to-mouth distance.
            pf = truth["per_frame"]
            eyes = (np.array(pf["right_eye"][i]) + np.array(pf["left_eye"][i])) / 2
            mouth = np.array(pf["mouth"][i])
            c = (eyes + mouth) / 2
            roll = math.radians(pf["roll_deg"][i])
            k = size / (2.4 * max(float(np.linalg.norm(mouth - eyes)), 1.0))
            rot = k * np.array([[math.cos(roll), math.sin(roll)], [-math.sin(roll), math.cos(roll)]])
            m = np.concatenate([rot, (size / 2 - rot @ c)[:, None]], 1)
            crop = cv2.warpAffine(grey, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
        else:
            crop = cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA)
        crops.append(standardised(crop))
    if not crops:
        raise ValueError(f"{entry.path}: no frames could be read")
    return np.stack(crops), np.stack(trivial).astype(np.float32), info.fps


def static_vs_temporal_check(manifest: str | os.PathLike | list[VideoEntry], folds: int = 3,
                             frame_step: int = 2) -> dict:
    """Does one frame give the expression away? Fits, with subject-group cross-validation
    (``folds`` groups, each tested once), three linear classifiers and reports mean
    test accuracies:

    - ``trivial_frame``: per frame, from the mean colour and the centre pixel;
    - ``static_frame`` / ``static_video``: per frame from the grey face crop, and per
      video from its frames' log-probabilities summed;
    - ``temporal_video``: per video from frame-difference features over time.

    A set is worth measuring on when trivial is near chance and static is clearly below
    temporal. Every ``frame_step``-th frame trains the static classifiers."""
    entries = read_manifest(manifest) if not isinstance(manifest, list) else manifest
    if len({e.subject for e in entries}) < 2:
        raise ValueError("the static vs temporal check splits by subject and needs at least 2 subjects")
    labels = np.array([EXPRESSIONS.index(e.label) for e in entries])
    data = [_crops(e) for e in entries]
    groups = subject_groups([e.subject for e in entries], min(folds, len({e.subject for e in entries})))
    temporal = np.stack([temporal_features(c, fps) for c, _, fps in data])
    scores = {"trivial_frame": [], "static_frame": [], "static_video": [], "temporal_video": []}
    for test_subjects in groups:
        test = np.array([e.subject in set(test_subjects) for e in entries])
        tr, te = np.nonzero(~test)[0], np.nonzero(test)[0]
        for name, index in (("trivial", 1), ("static", 0)):
            x = np.concatenate([data[i][index][::frame_step] for i in tr])
            y = np.concatenate([np.full(len(data[i][index][::frame_step]), labels[i]) for i in tr])
            model = fit_softmax(x, y, len(EXPRESSIONS))
            frame_hits, video_hits = [], []
            for i in te:
                lp = log_prob(model, data[i][index])
                frame_hits.append(np.mean(lp.argmax(1) == labels[i]))
                video_hits.append(lp.sum(0).argmax() == labels[i])
            scores[f"{name}_frame"].append(float(np.mean(frame_hits)))
            if name == "static":
                scores["static_video"].append(float(np.mean(video_hits)))
        model = fit_softmax(temporal[tr], labels[tr], len(EXPRESSIONS))
        scores["temporal_video"].append(float(np.mean(log_prob(model, temporal[te]).argmax(1) == labels[te])))
    result = {"videos": len(entries), "subjects": len({e.subject for e in entries}), "folds": len(groups),
              "chance": 1 / len(EXPRESSIONS)}
    result.update({k: round(float(np.mean(v)), 4) for k, v in scores.items()})
    result["per_fold"] = {k: [round(x, 4) for x in v] for k, v in scores.items()}
    return result


def format_check(result: dict) -> str:
    """The check's figures as a few lines of text."""
    rows = [("mean colour + centre pixel, per frame", "trivial_frame"), ("static face crop, per frame", "static_frame"),
            ("static face crop, per video", "static_video"), ("temporal (frame differences), per video", "temporal_video")]
    head = (f"static vs temporal check ({result['videos']} videos, {result['subjects']} subjects, "
            f"{result['folds']} subject-group folds; chance {100 * result['chance']:.1f}%):")
    return "\n".join([head] + [f"  {name:<40} {100 * result[key]:5.1f}%" for name, key in rows])
