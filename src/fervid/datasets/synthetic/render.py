"""Drawing the synthetic set: subjects, expressions as action units over time, nuisance
motion, and a cartoon face rendered frame by frame into a video (``render_video``).

Long (600 lines) because a face is many small parts drawn in order (skin, brows, eyes,
nose, mouth, hair, glasses, beard), each moved by its action units; the sections run
settings, subjects, time courses, drawing, videos, and each reads on its own."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

SHIFT = 4  # fractional bits for OpenCV drawing: sub-pixel positions, so slow motion is smooth
FIXED = float(1 << SHIFT)

# Monk Skin Tone scale (Google, 2022; CC BY 4.0), lightest to darkest, as RGB hex.
MONK_SCALE = ("f6ede4", "f3e7db", "f7ead0", "eadaba", "d7bd96", "a07e56", "825c43", "604134", "3a312a", "292420")

HAIR_COLOURS = ((20, 20, 25), (25, 35, 55), (40, 65, 100), (80, 130, 190), (40, 70, 150), (150, 150, 155))  # BGR
IRIS_COLOURS = ((30, 50, 80), (20, 30, 45), (140, 110, 60), (90, 120, 70), (60, 80, 100))  # BGR

AUS = ("AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU15", "AU17", "AU20", "AU23", "AU26")

# Apex intensities (0..1) of each expression's action units (after Ekman & Friesen's
# EMFACS prototypes). ``shared``: what both members of a look-alike pair show.
# ``cue``: what only one member adds; multiplied by (0.8 - 0.7 * difficulty).
PROTOTYPES: dict[str, dict[str, dict[str, float]]] = {
    "anger": {"shared": {"AU4": 1.0, "AU7": 0.8, "AU23": 1.0}, "cue": {}},
    "disgust": {"shared": {"AU4": 1.0, "AU7": 0.8, "AU23": 1.0}, "cue": {"AU9": 1.0, "AU10": 0.8}},
    "fear": {"shared": {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU26": 0.8}, "cue": {"AU4": 0.6, "AU20": 0.9}},
    "surprise": {"shared": {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU26": 0.8}, "cue": {}},
    "happiness": {"shared": {"AU6": 1.0, "AU12": 1.0, "AU26": 0.15}, "cue": {}},
    "sadness": {"shared": {"AU1": 0.9, "AU4": 0.5, "AU15": 1.0, "AU17": 0.6}, "cue": {}},
}

# Time course (onset speed, offset speed) of each expression. Invented, not a finding
# about real faces: it makes the motion tell apart the pairs that one frame cannot.
TIME_COURSE = {
    "anger": ("fast", "slow"),
    "disgust": ("slow", "fast"),
    "fear": ("slow", "fast"),
    "surprise": ("fast", "slow"),
    "happiness": ("medium", "slow"),
    "sadness": ("slow", "slow"),
}


@dataclass(frozen=True)
class SyntheticRanges:
    """The ranges subjects and videos are drawn from. Change them to draw a test set
    with conditions a model never saw in training (bigger frames, darker skin only...)."""

    width: tuple[int, int] = (160, 320)  # camera frame width in px; height is 3/4 of it
    fps: tuple[int, int] = (15, 30)  # camera frame rate
    frames: tuple[int, int] = (40, 90)  # video length; one clip is 16 frames (paper)
    duration_s: tuple[float, float] = (2.2, 3.8)  # wanted length, clipped to ``frames``
    skin_tone: tuple[float, float] = (0.0, 1.0)  # position on the Monk scale, 0 lightest, 1 darkest
    face_height: tuple[float, float] = (0.45, 0.62)  # face height / frame height
    pre_onset_s: tuple[float, float] = (0.3, 0.9)  # neutral time before the expression starts
    apex_s: tuple[float, float] = (0.3, 0.9)  # time held at the apex


@dataclass(frozen=True)
class _Knobs:
    """What ``difficulty`` (0 easy .. 1 hard) turns, in one place."""

    intensity_low: float  # apex intensity drawn from [intensity_low, 1]
    cue: float  # scale of the cues only one member of a pair has
    fast: tuple[float, float]  # onset/offset duration, seconds
    medium: tuple[float, float]
    slow: tuple[float, float]
    drift: float  # head drift amplitude, in face half-widths
    roll_deg: float
    yaw_deg: float
    talk: float  # talking mouth-opening amplitude
    flicker: float  # relative lighting flicker amplitude
    noise: float  # sensor noise std, grey levels

    @classmethod
    def from_difficulty(cls, d: float) -> "_Knobs":
        if not 0.0 <= d <= 1.0:
            raise ValueError(f"difficulty must be in [0, 1], got {d}")
        return cls(
            intensity_low=1.0 - 0.55 * d,
            cue=0.8 - 0.7 * d,
            fast=(0.06, 0.15 + 0.3 * d),
            medium=(0.3, 0.7),
            slow=(0.8 - 0.3 * d, 1.4),
            drift=0.04 + 0.12 * d,
            roll_deg=3.0 + 9.0 * d,
            yaw_deg=4.0 + 14.0 * d,
            talk=0.35 + 0.65 * d,
            flicker=0.01 + 0.05 * d,
            noise=1.5 + 5.0 * d,
        )


# ----------------------------------------------------------------------------- subjects


def _hex_bgr(h: str) -> np.ndarray:
    return np.array([int(h[4:6], 16), int(h[2:4], 16), int(h[0:2], 16)], np.float32)


def skin_colour(tone: float) -> np.ndarray:
    """BGR skin colour at ``tone`` in [0, 1] along the Monk scale (linear between its ten swatches)."""
    swatches = np.stack([_hex_bgr(h) for h in MONK_SCALE])
    x = float(np.clip(tone, 0.0, 1.0)) * (len(MONK_SCALE) - 1)
    i = min(int(x), len(MONK_SCALE) - 2)
    return swatches[i] * (1 - (x - i)) + swatches[i + 1] * (x - i)


def _luma(bgr: np.ndarray) -> float:
    return float(0.114 * bgr[0] + 0.587 * bgr[1] + 0.299 * bgr[2])


@dataclass(frozen=True)
class Subject:
    """One synthetic person and their camera. Lengths in face half-widths, y down."""

    sid: str
    width: int
    height: int
    fps: int
    face_px: float  # face half-width in px
    aspect: float  # face half-height / half-width
    skin_tone: float
    skin: tuple[float, float, float]
    lip: tuple[float, float, float]
    hair: tuple[float, float, float]
    hair_style: str
    hairline: float
    iris: tuple[float, float, float]
    eye_y: float
    eye_dx: float
    eye_w: float
    eye_h: float
    brow_gap: float
    brow_inner: float
    brow_len: float
    brow_thick: float
    brow_arch: float
    nose_y: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    lip_u: float
    lip_l: float
    glasses: bool
    beard: bool
    background: tuple[float, float, float]
    background2: tuple[float, float, float]
    panel: tuple[float, float, float, float]  # a background rectangle, fractions of the frame
    shirt: tuple[float, float, float]
    light_angle: float
    light_strength: float
    gain: float
    tint: tuple[float, float, float]
    centre: tuple[float, float]  # mean face centre, fractions of the frame
    motion: float  # how much this person moves their head, 0.5..1.5
    talkative: float  # how much they talk, 0.3..1.0
    expressiveness: float  # apex intensity scale, 0.75..1.0


def draw_subject(sid: str, rng: np.random.Generator, ranges: SyntheticRanges) -> Subject:
    """A random subject: face, camera and habits."""
    width = int(round(rng.uniform(*ranges.width) / 16)) * 16
    height = int(round(width * 0.75 / 8)) * 8
    tone = float(rng.uniform(*ranges.skin_tone))
    skin = skin_colour(tone)
    lip = skin * np.array([0.78, 0.72, 0.95], np.float32) + np.array([10, 5, 25], np.float32)
    hair = np.array(HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))], np.float32) * rng.uniform(0.8, 1.2)
    # The background keeps some contrast with the skin (a portrait needs it; eNTERFACE
    # used a dark grey panel and a spotlight): its luma is at least 40 levels away.
    for _ in range(100):
        bg = rng.uniform(20, 235, 3).astype(np.float32)
        if abs(_luma(bg) - _luma(skin)) >= 40:
            break
    bg2 = np.clip(bg * rng.uniform(0.7, 1.3, 3), 0, 255)
    px0, py0 = rng.uniform(0.0, 0.5), rng.uniform(0.0, 0.4)
    face_h = rng.uniform(*ranges.face_height) * height
    aspect = float(rng.uniform(1.18, 1.42))
    return Subject(
        sid=sid,
        width=width,
        height=height,
        fps=int(rng.integers(ranges.fps[0], ranges.fps[1] + 1)),
        face_px=float(face_h / 2 / aspect),
        aspect=aspect,
        skin_tone=tone,
        skin=tuple(skin.tolist()),
        lip=tuple(np.clip(lip, 0, 255).tolist()),
        hair=tuple(np.clip(hair, 0, 255).tolist()),
        hair_style=str(rng.choice(["short", "long", "bald", "bun", "short", "long"])),
        hairline=float(rng.uniform(-0.95, -0.7)),
        iris=tuple(float(c) for c in IRIS_COLOURS[rng.integers(len(IRIS_COLOURS))]),
        eye_y=float(rng.uniform(-0.32, -0.14)),
        eye_dx=float(rng.uniform(0.36, 0.46)),
        eye_w=float(rng.uniform(0.15, 0.2)),
        eye_h=float(rng.uniform(0.065, 0.095)),
        brow_gap=float(rng.uniform(0.15, 0.23)),
        brow_inner=float(rng.uniform(0.12, 0.24)),
        brow_len=float(rng.uniform(0.3, 0.4)),
        brow_thick=float(rng.uniform(0.045, 0.08)),
        brow_arch=float(rng.uniform(0.02, 0.07)),
        nose_y=float(rng.uniform(0.15, 0.32)),
        nose_w=float(rng.uniform(0.13, 0.2)),
        mouth_y=float(rng.uniform(0.52, 0.7)),
        mouth_w=float(rng.uniform(0.26, 0.36)),
        lip_u=float(rng.uniform(0.04, 0.07)),
        lip_l=float(rng.uniform(0.05, 0.09)),
        glasses=bool(rng.random() < 0.3),  # eNTERFACE'05: 31% wore glasses
        beard=bool(rng.random() < 0.2),  # and 17% had a beard
        background=tuple(bg.tolist()),
        background2=tuple(bg2.tolist()),
        panel=(float(px0), float(py0), float(px0 + rng.uniform(0.2, 0.5)), float(py0 + rng.uniform(0.3, 0.7))),
        shirt=tuple(rng.uniform(20, 230, 3).tolist()),
        light_angle=float(rng.uniform(0, 2 * math.pi)),
        light_strength=float(rng.uniform(0.0, 0.45)),
        gain=float(rng.uniform(0.8, 1.1)),
        tint=tuple(rng.uniform(0.92, 1.08, 3).tolist()),
        centre=(float(rng.uniform(0.42, 0.58)), float(rng.uniform(0.45, 0.55))),
        motion=float(rng.uniform(0.5, 1.5)),
        talkative=float(rng.uniform(0.3, 1.0)),
        expressiveness=float(rng.uniform(0.75, 1.0)),
    )


# ----------------------------------------------------------------------------- time courses


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _smooth_noise(rng: np.random.Generator, t: np.ndarray, freqs: tuple[float, float], n: int = 3) -> np.ndarray:
    """A smooth random signal of roughly unit amplitude: a sum of ``n`` sines."""
    out = np.zeros_like(t)
    for _ in range(n):
        out += np.sin(2 * math.pi * rng.uniform(*freqs) * t + rng.uniform(0, 2 * math.pi))
    return out / math.sqrt(n / 2)


@dataclass(frozen=True)
class Timeline:
    """The expression's course in frames: neutral until ``onset``, rising until ``apex``,
    held until ``offset``, falling until ``end`` (which may lie past the last frame)."""

    onset: int
    apex: int
    offset: int
    end: int


def _expression_track(label: str, n: int, fps: float, knobs: _Knobs, ranges: SyntheticRanges,
                      subject: Subject, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], Timeline]:
    """Per-frame intensities (n,) of every AU, and the timeline."""
    speeds = {"fast": knobs.fast, "medium": knobs.medium, "slow": knobs.slow}
    on_kind, off_kind = TIME_COURSE[label]
    t0 = rng.uniform(*ranges.pre_onset_s)
    on = rng.uniform(*speeds[on_kind])
    hold = rng.uniform(*ranges.apex_s)
    off = rng.uniform(*speeds[off_kind])
    residual = rng.uniform(0.0, 0.15)
    peak = rng.uniform(knobs.intensity_low, 1.0) * subject.expressiveness
    t = np.arange(n) / fps
    proto = PROTOTYPES[label]
    aus = {au: np.zeros(n, np.float32) for au in AUS}
    for group, scale in (("shared", 1.0), ("cue", knobs.cue)):
        for au, amp in proto[group].items():
            lag = rng.uniform(-0.05, 0.05)  # AUs of one expression do not start in lockstep
            rise = smoothstep((t - t0 - lag) / on)
            fall = 1 - (1 - residual) * smoothstep((t - t0 - lag - on - hold) / off)
            flutter = 1 + 0.05 * _smooth_noise(rng, t, (0.5, 2.0), 2)
            aus[au] = np.maximum(aus[au], (amp * scale * peak * rise * fall * flutter).astype(np.float32))
    frame = lambda s: int(round(s * fps))  # noqa: E731
    timeline = Timeline(frame(t0), frame(t0 + on), frame(t0 + on + hold), frame(t0 + on + hold + off))
    return aus, timeline


@dataclass
class _Nuisance:
    """Everything that moves and is not the expression, per frame."""

    cx: np.ndarray  # face centre, px
    cy: np.ndarray
    scale: np.ndarray  # relative to the subject's face size
    roll: np.ndarray  # radians
    yaw: np.ndarray
    pitch: np.ndarray
    blink: np.ndarray  # eye openness multiplier, 1 open .. 0 closed
    talk: np.ndarray  # extra mouth opening from speech, face units
    gaze: np.ndarray  # (n, 2) iris offset, fraction of the eye size
    flicker: np.ndarray  # lighting gain multiplier


def _nuisance(n: int, fps: float, subject: Subject, knobs: _Knobs, rng: np.random.Generator) -> _Nuisance:
    t = np.arange(n) / fps
    m = subject.motion
    a = subject.face_px
    drift = knobs.drift * m * a
    cx = subject.centre[0] * subject.width + drift * _smooth_noise(rng, t, (0.05, 0.5))
    cy = subject.centre[1] * subject.height + 0.6 * drift * _smooth_noise(rng, t, (0.05, 0.5))
    roll = math.radians(knobs.roll_deg) * m * (rng.uniform(-0.5, 0.5) + 0.5 * _smooth_noise(rng, t, (0.1, 0.6)))
    yaw = math.radians(knobs.yaw_deg) * m * (rng.uniform(-0.5, 0.5) + 0.5 * _smooth_noise(rng, t, (0.1, 0.6)))
    pitch = math.radians(0.5 * knobs.yaw_deg) * m * 0.5 * _smooth_noise(rng, t, (0.1, 0.8))
    scale = 1 + 0.04 * m * _smooth_noise(rng, t, (0.05, 0.3))
    blink = np.ones(n, np.float32)
    tb = rng.uniform(-1.0, 1.5)
    while tb < t[-1] + 0.2:  # blinks every 1.5-5 s, each about 0.15-0.3 s
        dur = rng.uniform(0.15, 0.3)
        blink = np.minimum(blink, 1 - 0.95 * np.clip(1 - np.abs(t - tb) / (dur / 2), 0, 1))
        tb += rng.uniform(1.5, 5.0)
    # Speech: syllables at 3-6 Hz during a sentence that may start before or during the
    # expression (eNTERFACE subjects say a sentence in every video).
    start, length = rng.uniform(-0.5, 1.5), rng.uniform(1.0, 3.0)
    envelope = smoothstep((t - start) / 0.2) * (1 - smoothstep((t - start - length) / 0.2))
    syll = np.clip(0.55 + 0.45 * _smooth_noise(rng, t, (3.0, 6.0), 2), 0, None)
    talk = knobs.talk * subject.talkative * 0.10 * envelope * syll
    gaze = 0.2 * np.stack([_smooth_noise(rng, t, (0.1, 0.7), 2), 0.5 * _smooth_noise(rng, t, (0.1, 0.7), 2)], 1)
    flicker = 1 + knobs.flicker * (0.6 * _smooth_noise(rng, t, (0.2, 2.0)) + 0.4 * rng.standard_normal(n))
    f32 = lambda x: np.asarray(x, np.float32)  # noqa: E731
    return _Nuisance(f32(cx), f32(cy), f32(scale), f32(roll), f32(yaw), f32(pitch), f32(blink), f32(talk),
                     f32(gaze), f32(flicker))


# ----------------------------------------------------------------------------- drawing


class _Pose:
    """Face units -> pixels: a crude head model where points at depth z (0 at the
    silhouette, 1 at the front of the face) shift with yaw and pitch."""

    def __init__(self, cx: float, cy: float, a: float, roll: float, yaw: float, pitch: float):
        self.cx, self.cy, self.a = cx, cy, a
        self.c, self.s = math.cos(roll), math.sin(roll)
        self.sy, self.cyaw = math.sin(yaw), math.cos(yaw)
        self.sp, self.cp = math.sin(pitch), math.cos(pitch)
        self.aspect = 1.0

    def depth(self, p: np.ndarray) -> np.ndarray:
        """Depth of face-surface points p (N, 2), on an ellipsoid of the face's proportions."""
        return np.sqrt(np.clip(1 - p[:, 0] ** 2 - (p[:, 1] / self.aspect) ** 2, 0, 1))

    def __call__(self, p: np.ndarray, z: np.ndarray | float | None = None) -> np.ndarray:
        """p (N, 2) face units -> (N, 2) pixels."""
        if z is None:
            z = self.depth(p)
        x = p[:, 0] * self.cyaw + z * self.sy
        y = p[:, 1] * self.cp - z * self.sp
        return np.stack([self.cx + self.a * (self.c * x - self.s * y), self.cy + self.a * (self.s * x + self.c * y)], 1)


def _fixed(p: np.ndarray) -> np.ndarray:
    return np.round(p * FIXED).astype(np.int32)


def _fill(img: np.ndarray, pts: np.ndarray, colour) -> None:
    cv2.fillPoly(img, [_fixed(pts)], tuple(float(c) for c in colour), lineType=cv2.LINE_AA, shift=SHIFT)


def _line(img: np.ndarray, pts: np.ndarray, colour, thickness: float, closed: bool = False) -> None:
    cv2.polylines(img, [_fixed(pts)], closed, tuple(float(c) for c in colour), max(1, int(round(thickness))),
                  lineType=cv2.LINE_AA, shift=SHIFT)


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 32, a0: float = 0.0, a1: float = 2 * math.pi) -> np.ndarray:
    th = np.linspace(a0, a1, n, endpoint=a1 - a0 < 2 * math.pi - 1e-6)
    return np.stack([cx + rx * np.cos(th), cy + ry * np.sin(th)], 1)


def _band(centre: np.ndarray, half_thickness: np.ndarray) -> np.ndarray:
    """A thick stroke as a polygon: centre line (N, 2) offset up and down by half_thickness (N,)."""
    return np.concatenate([centre - np.stack([0 * half_thickness, half_thickness], 1),
                           (centre + np.stack([0 * half_thickness, half_thickness], 1))[::-1]])


def _shade(colour, k: float) -> np.ndarray:
    return np.clip(np.asarray(colour, np.float32) * k, 0, 255)


def _mix(c1, c2, w: float) -> np.ndarray:
    return np.asarray(c1, np.float32) * (1 - w) + np.asarray(c2, np.float32) * w


def _background(sub: Subject) -> np.ndarray:
    h, w = sub.height, sub.width
    ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = (np.asarray(sub.background, np.float32) * (1 - ramp) + np.asarray(sub.background2, np.float32) * ramp)
    img = np.broadcast_to(img, (h, w, 3)).copy()
    x0, y0, x1, y1 = sub.panel
    cv2.rectangle(img, (int(x0 * w), int(y0 * h)), (int(x1 * w), int(y1 * h)),
                  tuple(float(c) for c in _shade(sub.background2, 0.8)), -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _lighting(sub: Subject) -> np.ndarray:
    """(H, W, 3) gain: directional light across the frame, overall gain, colour tint."""
    h, w = sub.height, sub.width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = ((xx - w / 2) * math.cos(sub.light_angle) + (yy - h / 2) * math.sin(sub.light_angle)) / max(w, h)
    g = sub.gain * (1 + sub.light_strength * 2 * d)
    return (g[..., None] * np.asarray(sub.tint, np.float32)).astype(np.float32)


def render_face(img: np.ndarray, sub: Subject, pose: _Pose, au: dict[str, float], blink: float, talk: float,
                gaze: np.ndarray) -> dict[str, list[float]]:
    """Draw one face onto img (H, W, 3) uint8 in place; return its landmarks in pixels."""
    A = sub.aspect
    pose.aspect = A
    skin = np.asarray(sub.skin, np.float32)
    dark = _shade(skin, 0.45)
    g = lambda k: au.get(k, 0.0)  # noqa: E731
    jaw = 0.36 * g("AU26") + talk  # mouth opening, face units

    # Shoulders, neck, hair behind the head, ears.
    sh = pose(_ellipse(0, A + 1.25, 2.3, 0.9, 40), 0.0)
    sh[:, 0] -= 0.5 * (pose.cx - sub.centre[0] * sub.width)  # the shoulders follow the head halfway
    _fill(img, sh, sub.shirt)
    _fill(img, pose(np.array([[-0.5, 0.4], [0.5, 0.4], [0.55, A + 0.6], [-0.55, A + 0.6]]), 0.0), _shade(skin, 0.8))
    if sub.hair_style == "long":
        _fill(img, pose(np.concatenate([_ellipse(0, -0.1, 1.22, A * 1.02, 24, math.pi, 2 * math.pi),
                                        [[1.25, A * 0.95], [-1.25, A * 0.95]]]), 0.0), sub.hair)
    for side in (-1, 1):
        _fill(img, pose(_ellipse(side * 0.98, (sub.eye_y + sub.nose_y) / 2, 0.13, 0.24, 16), 0.0), _shade(skin, 0.9))

    # Face: the outline, with the chin following the jaw; a lit inner area for some roundness.
    outline = _ellipse(0, 0, 1.0, A, 48)
    outline[:, 1] += np.where(outline[:, 1] > 0, jaw * 0.6 * (outline[:, 1] / A) ** 2, 0)
    _fill(img, pose(outline, 0.0), _shade(skin, 0.88))
    inner = outline * 0.86
    _fill(img, pose(inner), skin)
    if sub.beard:
        chin = outline[outline[:, 1] > sub.mouth_y * 0.55]
        beard = np.concatenate([chin, [[0.45, sub.mouth_y - 0.05], [0.0, sub.mouth_y - 0.12],
                                       [-0.45, sub.mouth_y - 0.05]]])
        _fill(img, pose(beard), _mix(skin, sub.hair, 0.7))

    # Hair on top.
    if sub.hair_style != "bald":
        hl = sub.hairline
        top = _ellipse(0, 0, 1.06, A * 1.06, 28, math.pi * 1.02, math.pi * 1.98)
        line = np.stack([np.linspace(0.98, -0.98, 15), hl * A + 0.18 * A * (np.linspace(-1, 1, 15) ** 2)], 1)
        _fill(img, pose(np.concatenate([top, line]), 0.0), sub.hair)
        if sub.hair_style == "bun":
            _fill(img, pose(_ellipse(0, -A * 1.15, 0.35, 0.25, 20), 0.0), sub.hair)

    # Brows: AU1 raises the inner end, AU2 the outer end, AU4 lowers them and draws them together.
    brow_y = sub.eye_y - sub.brow_gap
    for side in (-1, 1):
        u = np.linspace(0, 1, 7)  # 0 inner .. 1 outer
        x = sub.brow_inner + u * sub.brow_len - 0.1 * g("AU4") * (1 - u)
        y = (brow_y - sub.brow_arch * np.sin(math.pi * u) * 1.6
             - 0.2 * g("AU1") * (1 - u) ** 1.5 - 0.17 * g("AU2") * u ** 1.5
             + 0.13 * g("AU4") * (1 - 0.5 * u))
        thick = sub.brow_thick * (1.1 - 0.5 * u)
        _fill(img, pose(_band(np.stack([side * x, y], 1), thick / 2)), sub.hair if sub.hair_style != "bald" else dark)

    # Eyes: almond shapes; AU5 opens the upper lid, AU7 narrows both lids, AU6 pushes the lower lid up.
    landmarks: dict[str, list[float]] = {}
    up = sub.eye_h * (1 + 0.9 * g("AU5") - 0.35 * g("AU7") - 0.15 * g("AU6")) * blink
    lo = sub.eye_h * (0.8 - 0.3 * g("AU7") - 0.45 * g("AU6")) * max(blink, 0.3)
    for side, name in ((-1, "right_eye"), (1, "left_eye")):  # the subject's right eye is on the image's left
        ex, ey = side * sub.eye_dx, sub.eye_y
        xs = np.linspace(-1, 1, 13)
        upper = np.stack([ex + xs * sub.eye_w, ey - up * (1 - xs ** 2) ** 0.8], 1)
        lower = np.stack([ex + xs * sub.eye_w, ey + max(lo, 0.004) * (1 - xs ** 2) ** 0.8], 1)[::-1]
        if up + lo > 0.02:
            _fill(img, pose(np.concatenate([upper, lower])), (235, 235, 240))
            r = sub.eye_h * 0.95
            ix, iy = ex + gaze[0] * sub.eye_w, ey + gaze[1] * sub.eye_h
            for rad, col in ((r, sub.iris), (r * 0.45, (15, 15, 15))):
                circ = _ellipse(ix, iy, rad, rad, 16)
                rel = np.clip((circ[:, 0] - ex) / sub.eye_w, -1, 1)
                top = ey - up * (1 - rel ** 2) ** 0.8
                bot = ey + max(lo, 0.004) * (1 - rel ** 2) ** 0.8
                circ[:, 1] = np.clip(circ[:, 1], top, bot)
                _fill(img, pose(circ), col)
        _line(img, pose(upper), _shade(skin, 0.3), sub.face_px * 0.035)
        if g("AU6") > 0.2:  # cheek raise: a crease under the eye
            _line(img, pose(lower[::-1] + [0, 0.06]), _shade(skin, 1 - 0.25 * g("AU6")), sub.face_px * 0.02)
        landmarks[name] = pose(np.array([[ex, ey]]))[0].tolist()

    # Nose: a shadow along the bridge, nostrils; AU9 wrinkles the bridge and lifts the nostrils.
    ny = sub.nose_y - 0.06 * g("AU9") - 0.03 * g("AU10")
    side = 1 if math.cos(sub.light_angle) < 0 else -1
    _line(img, pose(np.array([[side * 0.06, sub.eye_y + 0.05], [side * 0.08, ny - 0.08]])), _shade(skin, 0.8),
          sub.face_px * 0.04)
    _fill(img, pose(_ellipse(0, ny - 0.03, sub.nose_w * 0.6, 0.07, 16), 1.2), _shade(skin, 1.06))
    for s in (-1, 1):
        _fill(img, pose(_ellipse(s * sub.nose_w * (0.45 + 0.12 * g("AU9")), ny + 0.02, 0.055, 0.03, 12), 1.1),
              _shade(skin, 0.5))
    if g("AU9") > 0.05:
        for k in range(3):
            yk = sub.eye_y + 0.06 + 0.045 * k
            _line(img, pose(np.array([[-0.09, yk + 0.01], [0.0, yk], [0.09, yk + 0.01]])),
                  _shade(skin, 1 - 0.45 * g("AU9")), sub.face_px * 0.025)
    landmarks["nose"] = pose(np.array([[0.0, ny]]), 1.2)[0].tolist()

    # Nasolabial folds, deeper with AU9, AU10 and AU12.
    fold = max(g("AU9"), g("AU10"), g("AU12"))
    mw = sub.mouth_w * (1 + 0.35 * g("AU12") + 0.4 * g("AU20") - 0.35 * g("AU23") - 1.2 * talk)
    for s in (-1, 1):
        pts = np.array([[s * sub.nose_w * 0.8, ny], [s * (mw + 0.03), (ny + sub.mouth_y) / 2],
                        [s * (mw + 0.08), sub.mouth_y + 0.06]])
        _line(img, pose(pts), _shade(skin, 0.92 - 0.28 * fold), sub.face_px * 0.025)

    # Mouth: corners up with AU12, down with AU15; AU10 lifts the upper lip; AU23 thins and
    # narrows the lips; AU17 pushes the lower lip up; the jaw (AU26, speech) opens it.
    my = sub.mouth_y + jaw * 0.35
    corner = -0.16 * g("AU12") + 0.15 * g("AU15") + 0.04 * g("AU20")
    xs = np.linspace(-1, 1, 17)
    mid = my + corner * xs ** 2 - 0.02 * g("AU17")
    open_u = (0.3 * jaw + 0.09 * g("AU10")) * (1 - xs ** 2) ** 0.7
    open_l = (0.7 * jaw) * (1 - xs ** 2) ** 0.7
    thin = 1 - 0.65 * g("AU23")
    lu = sub.lip_u * thin * (1 - xs ** 2) ** 0.5 * (1 + 0.25 * np.cos(math.pi * xs * 2.2) ** 2)
    ll = sub.lip_l * thin * (1 - xs ** 2) ** 0.5 * (1 + 0.3 * g("AU17"))
    x = xs * mw
    top_in, bot_in = mid - open_u, mid + open_l
    outer = np.concatenate([np.stack([x, top_in - lu], 1), np.stack([x, bot_in + ll], 1)[::-1]])
    _fill(img, pose(outer), sub.lip)
    if jaw + 0.05 * g("AU10") > 0.01:
        inside = np.concatenate([np.stack([x, top_in], 1), np.stack([x, bot_in], 1)[::-1]])
        _fill(img, pose(inside), (35, 25, 60))
        teeth = np.concatenate([np.stack([x * 0.8, top_in], 1),
                                np.stack([x * 0.8, np.minimum(top_in + 0.05, mid)], 1)[::-1]])
        _fill(img, pose(teeth), (215, 225, 230))
    else:
        _line(img, pose(np.stack([x, mid], 1)), _shade(sub.lip, 0.55), sub.face_px * 0.025)
    if g("AU17") > 0.1:
        _line(img, pose(_ellipse(0, bot_in.max() + ll.max() + 0.1, 0.12, 0.03, 9, math.pi * 1.1, math.pi * 1.9)),
              _shade(skin, 1 - 0.3 * g("AU17")), sub.face_px * 0.025)
    landmarks["mouth"] = pose(np.array([[0.0, my]]))[0].tolist()

    if sub.glasses:
        frame_col, t = (30, 30, 30), sub.face_px * 0.03
        rx, ry = sub.eye_w * 1.45, sub.eye_h * 2.4 + 0.04
        for s in (-1, 1):
            _line(img, pose(_ellipse(s * sub.eye_dx, sub.eye_y + 0.01, rx, ry, 20)), frame_col, t, closed=True)
            _line(img, pose(np.array([[s * (sub.eye_dx + rx), sub.eye_y], [s * 0.98, sub.eye_y - 0.03]])), frame_col, t)
        _line(img, pose(np.array([[-(sub.eye_dx - rx), sub.eye_y - 0.01], [sub.eye_dx - rx, sub.eye_y - 0.01]])),
              frame_col, t)
    return landmarks


# ----------------------------------------------------------------------------- videos


def render_video(path: Path, sub: Subject, label: str, rng: np.random.Generator, knobs: _Knobs,
                 ranges: SyntheticRanges, fourcc: str = "MJPG") -> dict:
    """Render one video to ``path`` (written to a temporary name, then renamed) and
    return its ground truth."""
    r_len, r_expr, r_nuis, r_noise = rng.spawn(4)
    fps = float(sub.fps)
    n = int(np.clip(round(r_len.uniform(*ranges.duration_s) * fps), *ranges.frames))
    aus, timeline = _expression_track(label, n, fps, knobs, ranges, sub, r_expr)
    nz = _nuisance(n, fps, sub, knobs, r_nuis)
    h, w = sub.height, sub.width
    pad = 16
    noise = r_noise.normal(0.0, knobs.noise, (h + pad, w + pad, 3)).astype(np.float32)
    offsets = r_noise.integers(0, pad + 1, (n, 2))  # a shifted window of one noise field per frame
    background = _background(sub)
    light = _lighting(sub)
    truth = {k: [] for k in ("box", "right_eye", "left_eye", "nose", "mouth")}
    outline = _ellipse(0, 0, 1.0, sub.aspect, 48)
    tmp = path.with_name(path.stem + ".partial" + path.suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"{tmp}: OpenCV cannot write {fourcc!r} video")
    try:
        for i in range(n):
            img = background.copy()
            pose = _Pose(float(nz.cx[i]), float(nz.cy[i]), sub.face_px * float(nz.scale[i]), float(nz.roll[i]),
                         float(nz.yaw[i]), float(nz.pitch[i]))
            au = {k: float(v[i]) for k, v in aus.items()}
            marks = render_face(img, sub, pose, au, float(nz.blink[i]), float(nz.talk[i]), nz.gaze[i])
            img = cv2.GaussianBlur(img, (3, 3), 0.7)  # camera optics
            oy, ox = offsets[i]
            frame = img.astype(np.float32) * light * nz.flicker[i] + noise[oy:oy + h, ox:ox + w]
            writer.write(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
            box = pose(outline, 0.0)
            truth["box"].append([round(float(v), 2) for v in (*box.min(0), *box.max(0))])
            for k, v in marks.items():
                truth[k].append([round(v[0], 2), round(v[1], 2)])
    finally:
        writer.release()
    os.replace(tmp, path)
    return {
        "label": label, "subject": sub.sid, "fps": fps, "frames": n, "width": w, "height": h,
        "timeline": asdict(timeline),
        "per_frame": {
            **truth,
            "roll_deg": [round(math.degrees(float(v)), 2) for v in nz.roll],
            "yaw_deg": [round(math.degrees(float(v)), 2) for v in nz.yaw],
            "pitch_deg": [round(math.degrees(float(v)), 2) for v in nz.pitch],
            "blink": [round(float(v), 3) for v in nz.blink],
            "talk": [round(float(v), 4) for v in nz.talk],
            "au": {k: [round(float(x), 3) for x in v] for k, v in aus.items() if np.any(v > 0)},
        },
    }
