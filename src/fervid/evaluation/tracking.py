"""How well face tracks keep identities, against ground truth (synthetic scenes:
``datasets/synthetic/scenes.py``).

Each frame, the true faces in view and the tracks present are paired by an optimal
assignment on box overlap (a pair needs IoU >= ``min_iou``). Then:

- identity switches: per true face, how often the track paired with it changes from one
  paired frame to the next; reported per 100 true faces (face-tracks);
- IDF1 (Ristani et al. 2016): each true face is given one track for the whole video
  (the assignment of tracks to true faces that pairs the most frames, one track per
  face); IDTP counts the frames in which a face's own track is paired with it. ID recall
  ("coverage") = IDTP / the frames true faces are in view; ID precision = IDTP / the
  frames tracks are present; IDF1 = 2 IDTP / (both denominators summed). Extra tracks and
  tracks that linger after their face has gone lower the precision, not the recall.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..frontend.faces import box_iou

Box = list[float]


def identity_metrics(truth: list[list[Box | None]], tracks: dict[int, dict[int, Box]], min_iou: float = 0.3) -> dict:
    """``truth[g][t]``: true face g's box in frame t (None: out of view); ``tracks[id][t]``:
    track ``id``'s box in frame t (frames it is absent from are left out)."""
    frames = max((len(boxes) for boxes in truth), default=0)
    paired: list[dict[int, int]] = [{} for _ in truth]  # per true face: frame -> track id
    for t in range(frames):
        faces = [g for g, boxes in enumerate(truth) if t < len(boxes) and boxes[t] is not None]
        ids = [i for i, boxes in tracks.items() if t in boxes]
        if not faces or not ids:
            continue
        boxes = np.array([tracks[i][t] for i in ids], float)
        overlap = np.stack([box_iou(np.asarray(truth[g][t], float), boxes) for g in faces])
        rows, cols = linear_sum_assignment(-overlap)
        for r, c in zip(rows, cols):
            if overlap[r, c] >= min_iou:
                paired[faces[r]][t] = ids[c]
    switches = sum(sum(a != b for a, b in zip(list(p.values()), list(p.values())[1:])) for p in paired)
    ids = sorted(tracks)
    counts = np.array([[sum(v == i for v in p.values()) for i in ids] for p in paired]) if ids else np.zeros((len(truth), 0))
    rows, cols = linear_sum_assignment(-counts) if counts.size else ([], [])
    covered = sum(int(counts[r, c]) for r, c in zip(rows, cols))  # IDTP
    visible = sum(sum(b is not None for b in boxes) for boxes in truth)
    present = sum(len(boxes) for boxes in tracks.values())
    return {
        "true_faces": len(truth),
        "tracks": len(tracks),
        "id_switches": int(switches),
        "id_switches_per_100_faces": 100.0 * switches / max(len(truth), 1),
        "coverage": covered / max(visible, 1),  # ID recall
        "id_precision": covered / max(present, 1),
        "idf1": 2 * covered / max(visible + present, 1),
        "paired_share": sum(len(p) for p in paired) / max(visible, 1),  # frames in view paired with any track
    }
