"""Face detection, the aligned face track, and the OpenFace 2.0 reader."""

import math

import cv2
import numpy as np
import pytest
from conftest import FIXTURES, face_frames, needs_fixtures

from fervid.frontend.faces import (
    AlignSettings,
    BlazeFace,
    FaceTracker,
    NoFaceError,
    Track,
    crop_face,
    read_openface,
)
from fervid.frontend.video import read_video


@pytest.fixture(scope="module")
def detector():
    return BlazeFace()


def test_finds_a_face_with_keypoints_in_place(detector):
    frame = face_frames(1, 320, 240)[0]
    found = detector.detect(frame)
    assert len(found) == 1
    det = found[0]
    x0, y0, x1, y1 = det.box
    assert x0 < 160 < x1 and y0 < 120 < y1
    right_eye, left_eye, nose, mouth = det.keypoints[:4]
    assert right_eye[0] < 160 < left_eye[0]  # the subject's right eye is on the image's left
    assert right_eye[1] < nose[1] < mouth[1]


def test_no_face_in_a_blank_frame(detector):
    assert detector.detect(np.full((240, 320, 3), 100, np.uint8)) == []


def test_alignment_levels_the_eyes(detector):
    frame = face_frames(1, 320, 240)[0]
    rotated = cv2.warpAffine(frame, cv2.getRotationMatrix2D((160, 120), 15, 1.0), (320, 240), borderMode=cv2.BORDER_REPLICATE)
    tracker = FaceTracker(detector)
    tracked = tracker.update(rotated)
    assert tracked.detected and abs(math.degrees(tracked.track.angle)) > 8
    crop = crop_face(rotated, tracked.track, 128)
    margin = cv2.copyMakeBorder(crop, 64, 64, 64, 64, cv2.BORDER_REPLICATE)  # the crop is brow-to-chin tight
    eyes = detector.detect(margin)[0].keypoints[:2]
    residual = math.degrees(math.atan2(eyes[1][1] - eyes[0][1], eyes[1][0] - eyes[0][0]))
    assert abs(residual) < 3  # degrees, from 15: eyes level in the crop, up to keypoint noise


def _crop_from_the_whole_frame_shrunk(frame, track, size):
    """The reference crop_face cuts short: the whole frame shrunk by k×k block means."""
    matrix, k = track.transform(size), int(track.side / size)
    if k >= 2:
        h, w = frame.shape[:2]
        frame = cv2.resize(frame[: h - h % k, : w - w % k], (w // k, h // k), interpolation=cv2.INTER_AREA)
        matrix = np.concatenate([matrix[:, :2] * k, matrix[:, 2:] + matrix[:, :2].sum(1, keepdims=True) * (k - 1) / 2], 1)
    return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("width,height", [(320, 240), (333, 251)])  # and sides no factor divides
def test_crop_shrinks_only_its_region_with_the_whole_frames_pixels(width, height):
    """Rotated, scaled, half off the frame: the same crop as from the whole frame shrunk,
    up to one grey level (warpAffine's fixed-point coordinates round differently)."""
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (height, width, 3), np.uint8)
    frame = cv2.GaussianBlur(frame, (0, 0), 2)  # texture at every scale the crops shrink by
    for _ in range(40):
        track = Track(cx=rng.uniform(-40, width + 40), cy=rng.uniform(-40, height + 40),
                      side=rng.uniform(40, 300), angle=rng.uniform(-0.6, 0.6))
        for size in (16, 32, 64):
            crop, reference = crop_face(frame, track, size), _crop_from_the_whole_frame_shrunk(frame, track, size)
            assert crop.shape == (size, size, 3)
            assert np.abs(crop.astype(int) - reference.astype(int)).max() <= 1, (track, size)


def test_track_bridges_missed_frames_then_reports_lost(detector):
    frames = face_frames(30, 320, 240, drift=0)
    blank = np.full_like(frames[0], 100)
    settings = AlignSettings(max_gap=5)
    tracker = FaceTracker(detector, settings)
    results = [tracker.update(f) for f in frames[:10]] + [tracker.update(blank) for _ in range(8)]
    assert all(r.detected for r in results[:10])
    held = results[10:15]
    assert all(not r.detected and not r.lost and r.track is results[9].track for r in held)
    assert all(r.lost for r in results[15:])
    back = tracker.update(frames[20])
    assert back.detected and not back.lost


def test_no_face_before_the_first_detection_is_marked_lost(detector):
    tracker = FaceTracker(detector)
    r = tracker.update(np.full((240, 320, 3), 100, np.uint8))
    assert r.track is None and r.lost


def test_crop_follows_a_moving_face(detector):
    tracker = FaceTracker(detector)
    frames = face_frames(25, 320, 240, drift=3.0)  # 3 px/frame to the right
    tracks = [tracker.update(f).track for f in frames]
    crops = [crop_face(f, t, 64) for f, t in zip(frames, tracks)]
    assert tracks[-1].cx - tracks[0].cx > 50
    # The face stays centred in the crop: the crops of first and last frame look alike.
    diff = np.abs(crops[0].astype(int) - crops[-1].astype(int)).mean()
    assert diff < 25, diff


@needs_fixtures()
def test_real_clips_faces_found_and_crops_stable(detector):
    for path in sorted(FIXTURES.glob("*.avi")):
        tracker = FaceTracker(detector)
        _, frames = read_video(path)
        results = [tracker.update(f) for f in frames]
        rate = np.mean([r.detected for r in results])
        assert rate >= 0.95, f"{path.name}: faces in {rate:.0%} of frames"
        centres = np.array([(r.track.cx, r.track.cy) for r in results])
        steps = np.linalg.norm(np.diff(centres, axis=0), axis=1)
        assert np.median(steps) < 2.0 and steps.max() < 10, f"{path.name}: crop centre moves {steps.max():.1f} px"


def write_openface(folder, n=5, failed=(2,)):
    """A fake OpenFace 2.0 FeatureExtraction output: <name>.csv and <name>_aligned/."""
    aligned = folder / "clip_aligned"
    aligned.mkdir()
    lines = ["frame, face_id, timestamp, confidence, success"]
    for i in range(1, n + 1):
        ok = i not in failed
        lines.append(f"{i}, 0, {(i - 1) / 25:.3f}, {0.98 if ok else 0.0}, {1 if ok else 0}")
        if ok:
            cv2.imwrite(str(aligned / f"frame_det_00_{i:06d}.bmp"), np.full((112, 112, 3), i * 20, np.uint8))
    (folder / "clip.csv").write_text("\n".join(lines) + "\n")
    return folder / "clip.csv"


def test_reads_openface_output(tmp_path):
    crops, detected = read_openface(write_openface(tmp_path), size=32)
    assert crops.shape == (5, 32, 32, 3)
    assert detected.tolist() == [True, False, True, True, True]
    assert crops[1, 0, 0, 0] == crops[0, 0, 0, 0] == 20  # the failed frame holds the previous crop
    assert crops[4, 0, 0, 0] == 100


def test_openface_with_no_success_is_no_face(tmp_path):
    with pytest.raises(NoFaceError, match="clip.csv"):
        read_openface(write_openface(tmp_path, n=3, failed=(1, 2, 3)))


def test_openface_missing_folder(tmp_path):
    (tmp_path / "x.csv").write_text("frame, success\n1, 1\n")
    with pytest.raises(FileNotFoundError, match="x_aligned"):
        read_openface(tmp_path / "x.csv")
