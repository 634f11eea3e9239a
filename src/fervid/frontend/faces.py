"""Face detection and alignment per frame: square face crops that follow the face.

Default detector: BlazeFace short-range (MediaPipe's model, Apache-2.0, shipped in
``fervid/frontend/data`` with its checksum) run by OpenCV's DNN module, so detection needs
nothing beyond OpenCV and numpy and downloads nothing. Chosen over MediaPipe Tasks
(no bundled model since 1.2), OpenCV's Haar cascades (missing from OpenCV 5; 23
frames/s; missed dark synthetic skin), MTCNN (facenet-pytorch pins torch < 2.3;
17 frames/s) and dlib HOG (boxes snap 23-41 px): on the fixture clips it found
100% of frames at ~500 frames/s on one core with 0.7% median jitter (DESIGN.md).

Alignment: a similarity transform that levels the eyes (BlazeFace's eye keypoints)
and scales the detected box to a fixed share of the crop, close to OpenFace 2.0's
aligned faces. The transform is smoothed over time (exponential, causal, so the
streaming path gives the same crops), and frames where the detector misses are
bridged with the last transform.

Also reads OpenFace 2.0's own output (``<name>_aligned/`` images and ``<name>.csv``),
so a user with OpenFace reproduces the paper's front end exactly.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MODEL_PATH = Path(__file__).parent / "data" / "blazeface_short_range.tflite"
MODEL_SHA256 = "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633"
INPUT_SIZE = 128  # BlazeFace short-range input, pixels
KEYPOINTS = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")  # the subject's right/left


class NoFaceError(ValueError):
    """A video in which no face was found; the message names the file."""


@dataclass(frozen=True)
class Detection:
    score: float
    box: np.ndarray  # (4,) x0, y0, x1, y1 in frame pixels
    keypoints: np.ndarray  # (6, 2) x, y in frame pixels, in KEYPOINTS order


def _anchors() -> np.ndarray:
    """(896, 2) anchor centres in [0, 1]: stride 8 -> 16×16 cells × 2 anchors, then
    stride 16 -> 8×8 cells × 6 anchors (MediaPipe's SSD anchor options for this model)."""
    centres = []
    for grid, per_cell in ((16, 2), (8, 6)):
        ys, xs = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
        cell = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(cell, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Overlap (intersection over union) of one box (4,) with each of boxes (N, 4), x0 y0 x1 y1."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-9)


class BlazeFace:
    """``detect(frame_bgr) -> list[Detection]``, best first."""

    def __init__(self, model_path: str | os.PathLike = MODEL_PATH, score_threshold: float = 0.5, nms_iou: float = 0.3):
        model_path = Path(model_path)
        if not model_path.is_file():
            raise FileNotFoundError(f"{model_path}: BlazeFace model file missing (reinstall fervid)")
        if model_path == MODEL_PATH:
            digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
            if digest != MODEL_SHA256:
                raise ValueError(f"{model_path}: checksum {digest} is not the shipped model's {MODEL_SHA256}")
        kwargs = {"engine": cv2.dnn.ENGINE_CLASSIC} if hasattr(cv2.dnn, "ENGINE_CLASSIC") else {}  # OpenCV 5
        self.net = cv2.dnn.readNetFromTFLite(str(model_path), **kwargs)
        self.model_path = model_path
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.anchors = _anchors()

    def copy(self) -> BlazeFace:
        """The same detector as a new network: one ``cv2.dnn.Net`` must not run in two
        threads at once (``setInput``/``forward`` keep state), so each thread gets its own."""
        return BlazeFace(self.model_path, self.score_threshold, self.nms_iou)

    def detect(self, frame: np.ndarray) -> list[Detection]:
        # Shrink to fit 128×128 keeping the aspect ratio, then pad bottom/right (letterbox).
        # First k×k block means (k = side // 128; the frame cut to multiples of k, at most
        # k - 1 pixels off its right and bottom edges, so that OpenCV takes its integer-factor
        # path: 0.38 ms per 720×576 frame, where the general INTER_AREA path took 1.1 ms).
        factor = max(frame.shape[:2]) // INPUT_SIZE
        if factor > 1:
            frame = frame[: frame.shape[0] - frame.shape[0] % factor, : frame.shape[1] - frame.shape[1] % factor]
        height, width = frame.shape[:2]
        side = max(height, width)
        shrunk = block_mean_shrink(frame, factor) if factor > 1 else frame
        fit_w, fit_h = max(1, round(width * INPUT_SIZE / side)), max(1, round(height * INPUT_SIZE / side))
        small = cv2.resize(shrunk, (fit_w, fit_h), interpolation=cv2.INTER_LINEAR)
        small = cv2.copyMakeBorder(small, 0, INPUT_SIZE - fit_h, 0, INPUT_SIZE - fit_w, cv2.BORDER_CONSTANT)
        to_pixels = INPUT_SIZE * np.array([width / fit_w, height / fit_h], np.float32)  # model units -> frame pixels
        blob = cv2.dnn.blobFromImage(small, 1 / 127.5, (INPUT_SIZE, INPUT_SIZE), (127.5, 127.5, 127.5), swapRB=True)
        self.net.setInput(blob)  # (1, 3, 128, 128) RGB in [-1, 1]
        logits, regressions = self.net.forward(["classificators", "regressors"])  # (1, 896, 1), (1, 896, 16)
        scores = 1 / (1 + np.exp(-np.clip(logits[0, :, 0], -50, 50)))
        keep = np.flatnonzero(scores > self.score_threshold)
        if keep.size == 0:
            return []
        reg = regressions[0, keep] / INPUT_SIZE  # (K, 16), offsets in units of the input
        anchors = self.anchors[keep]
        centre = anchors + reg[:, 0:2]
        half = reg[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], 1) * np.tile(to_pixels, 2)  # (K, 4) frame pixels
        points = (anchors[:, None, :] + reg[:, 4:16].reshape(-1, 6, 2)) * to_pixels  # (K, 6, 2)
        return self._weighted_nms(scores[keep], boxes, points)

    def _weighted_nms(self, scores, boxes, points) -> list[Detection]:
        """MediaPipe's weighted suppression: overlapping boxes are averaged by score."""
        order = np.argsort(-scores)
        scores, boxes, points = scores[order], boxes[order], points[order]
        detections = []
        remaining = np.ones(len(scores), bool)
        while remaining.any():
            top = np.flatnonzero(remaining)[0]
            cluster = remaining & (box_iou(boxes[top], boxes) > self.nms_iou)
            w = scores[cluster] / scores[cluster].sum()
            detections.append(
                Detection(
                    score=float(scores[top]),
                    box=(boxes[cluster] * w[:, None]).sum(0),
                    keypoints=(points[cluster] * w[:, None, None]).sum(0),
                )
            )
            remaining &= ~cluster
        return detections


@dataclass(frozen=True)
class AlignSettings:
    """How a detection becomes a crop. Open choices, documented here once."""

    crop_scale: float = 1.0  # crop side = the detected box width: brows to chin, as OpenFace crops
    centre_shift: float = 0.1  # crop centre moved down by 10% of the box height, towards the chin
    smoothing: float = 0.4  # weight of the new detection in the exponential smoothing (1 = none)
    max_gap: int = 12  # frames (0.5 s at 25 fps) bridged with the last transform before the face counts as lost


@dataclass
class Track:
    """Smoothed face pose: centre (x, y), crop side and eye-line angle, in frame pixels/radians."""

    cx: float
    cy: float
    side: float
    angle: float

    def transform(self, size: int) -> np.ndarray:
        """(2, 3) affine map from the frame to a size×size crop with the eyes level."""
        scale = size / self.side
        matrix = cv2.getRotationMatrix2D((self.cx, self.cy), math.degrees(self.angle), scale)
        matrix[:, 2] += (size / 2 - self.cx, size / 2 - self.cy)
        return matrix

    def box(self) -> tuple[float, float, float, float]:
        half = self.side / 2
        return (self.cx - half, self.cy - half, self.cx + half, self.cy + half)


def track_from_detection(det: Detection, settings: AlignSettings) -> Track:
    right_eye, left_eye = det.keypoints[0], det.keypoints[1]
    angle = math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
    x0, y0, x1, y1 = det.box
    return Track(
        cx=(x0 + x1) / 2,
        cy=(y0 + y1) / 2 + settings.centre_shift * (y1 - y0),
        side=settings.crop_scale * (x1 - x0),
        angle=angle,
    )


@dataclass
class TrackedFrame:
    track: Track | None  # the smoothed pose used for this frame's crop; None before the first face
    detected: bool  # the detector found the face in this very frame
    lost: bool  # no face for longer than max_gap frames (or none yet): the crop is not trustworthy


class FaceTracker:
    """Causal face track over a frame sequence: ``update(frame) -> TrackedFrame``.

    One face is followed: the detection that overlaps the current track most, or
    the best-scoring one when there is no track. Offline and streaming use this
    same object, so both see the same crops.
    """

    def __init__(self, detector: BlazeFace, settings: AlignSettings = AlignSettings()):
        self.detector = detector
        self.settings = settings
        self.track: Track | None = None
        self.misses = 0

    def _pick(self, detections: list[Detection]) -> Detection | None:
        if not detections:
            return None
        if self.track is None:
            return detections[0]
        current = np.array(self.track.box())
        overlaps = box_iou(current, np.stack([d.box for d in detections]))
        return detections[int(np.argmax(overlaps))]

    def update(self, frame: np.ndarray) -> TrackedFrame:
        return self.update_with(self.detector.detect(frame))

    def update_with(self, detections: list[Detection]) -> TrackedFrame:
        """The same from the frame's detections, found elsewhere (in another thread)."""
        det = self._pick(detections)
        if det is None:
            self.misses += 1
            lost = self.track is None or self.misses > self.settings.max_gap
            return TrackedFrame(track=self.track, detected=False, lost=lost)
        new = track_from_detection(det, self.settings)
        if self.track is None or self.misses > self.settings.max_gap:
            self.track = new  # a fresh start after losing the face: no smoothing across the gap
        else:
            a = self.settings.smoothing
            old = self.track
            d_angle = math.remainder(new.angle - old.angle, math.tau)
            self.track = Track(
                cx=old.cx + a * (new.cx - old.cx),
                cy=old.cy + a * (new.cy - old.cy),
                side=old.side + a * (new.side - old.side),
                angle=old.angle + a * d_angle,
            )
        self.misses = 0
        return TrackedFrame(track=self.track, detected=True, lost=False)


def block_mean_shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, C) with H and W multiples of ``factor`` -> (H/k, W/k, C): each pixel the
    mean of one k×k block (OpenCV's integer-factor INTER_AREA path)."""
    height, width = image.shape[:2]
    return cv2.resize(image, (width // factor, height // factor), interpolation=cv2.INTER_AREA)


def crop_face(frame: np.ndarray, track: Track, size: int) -> np.ndarray:
    """The aligned size×size crop, BGR uint8 (edges replicated where the crop leaves the frame).

    warpAffine has no area filter (INTER_AREA acts as bilinear there), so a face much
    larger than the crop is first shrunk by an integer factor with INTER_AREA, which
    keeps the crop free of aliasing (and of the false flow aliasing would add).

    Only the region the crop reads is shrunk: k×k blocks averaged (the frame's own
    width and height rounded down to multiples of k, so every shrunk pixel is one whole
    block), then cut to the crop's bounding box plus a pixel for the bilinear filter,
    which gives the pixels of the whole frame shrunk (to one grey level: warpAffine's
    fixed-point coordinates) at a quarter of the cost (0.15 instead of 0.59 ms per crop
    of 720×576 fixture frames, mean over random tracks)."""
    matrix = track.transform(size)
    factor = min(int(track.side / size), *frame.shape[:2])  # a face far larger than the frame: at most one shrunk pixel
    if factor >= 2:
        # An original pixel p is at (p - (k-1)/2) / k in the shrunk frame: fold that into the map.
        matrix = np.concatenate([matrix[:, :2] * factor, matrix[:, 2:] + matrix[:, :2].sum(1, keepdims=True) * (factor - 1) / 2], 1)
        shrunk_w, shrunk_h = frame.shape[1] // factor, frame.shape[0] // factor
        corners = cv2.transform(np.array([[[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1]]], np.float64),
                                cv2.invertAffineTransform(matrix))[0]  # the crop's corners in the shrunk frame, (4, 2)
        x0, y0 = np.clip(np.floor(corners.min(0)).astype(int) - 1, 0, (shrunk_w - 1, shrunk_h - 1))
        x1, y1 = np.clip(np.ceil(corners.max(0)).astype(int) + 2, (x0 + 1, y0 + 1), (shrunk_w, shrunk_h))
        frame = block_mean_shrink(frame[y0 * factor : y1 * factor, x0 * factor : x1 * factor], factor)
        matrix[:, 2] += matrix[:, :2] @ np.array([x0, y0], np.float64)  # region pixel q is shrunk-frame pixel q + (x0, y0)
    return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# ---------------------------------------------------------------- OpenFace 2.0 output


def _openface_frame_number(name: str) -> int | None:
    match = re.search(r"(\d+)\.(bmp|png|jpg)$", name, re.IGNORECASE)
    return int(match.group(1)) if match else None


def read_openface(csv_path: str | os.PathLike, aligned_dir: str | os.PathLike | None = None, size: int = 112):
    """OpenFace 2.0 FeatureExtraction output -> (crops (N, size, size, 3) BGR uint8, detected (N,) bool).

    ``csv_path`` is ``<name>.csv`` (columns ``frame``, ``success``, ...); the aligned faces
    are in ``<name>_aligned/frame_det_00_000001.bmp`` ... (default: next to the CSV).
    Frames where OpenFace failed (``success`` 0) or whose image is missing take the
    nearest earlier successful crop and are marked not detected.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"{csv_path}: no such OpenFace CSV")
    aligned_dir = Path(aligned_dir) if aligned_dir else csv_path.with_name(csv_path.stem + "_aligned")
    if not aligned_dir.is_dir():
        raise FileNotFoundError(f"{aligned_dir}: no OpenFace aligned-face folder next to {csv_path.name}")
    images = {}
    for image in aligned_dir.iterdir():
        number = _openface_frame_number(image.name)
        if number is not None:
            images[number] = image
    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        if reader.fieldnames is None or "frame" not in [n.strip() for n in reader.fieldnames]:
            raise ValueError(f"{csv_path}: not an OpenFace CSV (no 'frame' column)")
        rows = [{k.strip(): v for k, v in row.items()} for row in reader]
    if not rows:
        raise NoFaceError(f"{csv_path}: OpenFace CSV has no frames")
    crops, detected = [], []
    last = None
    for row in rows:
        number = int(float(row["frame"]))
        ok = float(row.get("success", 1)) > 0 and number in images
        crop = None
        if ok:
            crop = cv2.imread(str(images[number]), cv2.IMREAD_COLOR)
            ok = crop is not None
        if ok:
            if crop.shape[:2] != (size, size):
                crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
            last = crop
        crops.append(crop if ok else last)
        detected.append(ok)
    if last is None:
        raise NoFaceError(f"{csv_path}: OpenFace found no face in any of {len(rows)} frames")
    first = next(c for c in crops if c is not None)
    crops = [first if c is None else c for c in crops]  # frames before the first success
    return np.stack(crops), np.array(detected)
