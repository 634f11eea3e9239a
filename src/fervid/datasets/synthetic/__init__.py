"""Synthetic expression videos: cartoon faces that move, so that the demo, the tests and
the benchmarks have labelled video with subjects and no download.

What the set models and what it does not is written in docs/synthetic.md; in short:

- Subjects differ in face shape, skin tone (the whole Monk scale, lightest to darkest),
  feature placement, hair, glasses, beard, background, lighting, camera frame size and
  frame rate, and how much they move and talk. Splits are by subject.
- An expression is a set of action-unit-like movements (FACS AU numbers, e.g. AU12
  lip-corner puller) with onset, apex and offset. The pairs that look alike at the apex
  in real faces look alike here too: fear and surprise share raised brows, widened eyes
  and a dropped jaw (fear adds AU4 brows-together and AU20 lip stretch); anger and
  disgust share lowered brows, narrowed eyes and pressed lips (disgust adds AU9 nose
  wrinkle and AU10 upper-lip raise). The cues only one member of a pair has shrink
  with ``difficulty``; at the default 0.5 they are about as large as how much subjects
  differ in the same features, so they show against the subject's own neutral face
  rather than in one frame. Pairs also differ in time course (surprise and anger: fast onset,
  slow offset; fear and disgust: the reverse), an invented rule that makes the motion
  decide where one frame is ambiguous.
- Nuisance motion that is not expression: talking (mouth cycles at syllable rate),
  blinks, gaze, head drift, turn, nod and roll, lighting flicker, sensor noise, codec
  loss. All of it is drawn independently of the label.
- Every video starts neutral (0.3-0.9 s before the onset) and is longer than one
  16-frame clip (40-90 frames), so some clips of a video show no expression, as in the
  real data.

Layout written (that of eNTERFACE'05, so ``enterface_manifest`` reads it too)::

    out_dir/manifest.csv
    out_dir/check.json                                  static vs temporal check
    out_dir/subject 3/fear/sentence 2/s3_fe_2.avi       MJPG in AVI
    out_dir/subject 3/fear/sentence 2/s3_fe_2.json      ground truth per frame

The ground-truth side-car holds, per frame, the face box, the eye/nose/mouth points,
the head pose and the AU intensities, and the expression's timeline.

Deterministic: every video draws from its own ``numpy`` generator seeded by
(seed, subject, take, label), so the same seed gives byte-identical files whatever
else is generated alongside.
"""

from .check import format_check, static_vs_temporal_check
from .generate import check_synthetic_set, generate_synthetic
from .render import (
    PROTOTYPES,
    TIME_COURSE,
    Subject,
    SyntheticRanges,
    draw_subject,
    render_video,
    skin_colour,
    smoothstep,
)

__all__ = [
    "PROTOTYPES",
    "TIME_COURSE",
    "Subject",
    "SyntheticRanges",
    "check_synthetic_set",
    "draw_subject",
    "format_check",
    "generate_synthetic",
    "render_video",
    "skin_colour",
    "smoothstep",
    "static_vs_temporal_check",
]
