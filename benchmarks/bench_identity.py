"""Face tracks against ground truth: identity switches per 100 true faces, coverage (ID
recall: the share of the frames each true face is in view in which its own track follows
it) and IDF1 on the synthetic multi-face scenes (``datasets/synthetic/scenes.py``:
crossing, leaving and returning before and after the gap, partly out of frame, very
different sizes, four at once), each scene drawn with several seeds.

    python benchmarks/bench_identity.py [--seeds 0,1,2] [-o docs/several-faces]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
from common import header

from fervid.clips.arrays import PreprocessSettings
from fervid.datasets.synthetic.scenes import render_scene, scenes
from fervid.evaluation.tracking import identity_metrics
from fervid.frontend.faces import BlazeFace
from fervid.frontend.tracks import FaceTracks, TrackSettings


def tracked_boxes(frames, detector) -> dict[int, dict[int, list[float]]]:
    tracks = FaceTracks(PreprocessSettings(), detector, TrackSettings(max_faces=4))
    boxes: dict[int, dict[int, list[float]]] = {}
    for t, frame in enumerate(frames):
        for face_id, result in tracks.push(frame).items():
            boxes.setdefault(face_id, {})[t] = list(result.box)
    return boxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("-o", "--out", help="folder for identity.json and one drawn frame per scene")
    args = parser.parse_args()
    print(header("face tracks against ground truth (synthetic multi-face scenes)", 1))
    detector = BlazeFace()
    rows, totals = [], {"true_faces": 0, "id_switches": 0, "covered": 0.0, "visible": 0, "present": 0}
    for name, paths in scenes().items():
        for seed in (int(s) for s in args.seeds.split(",")):
            frames, truth = render_scene(paths, seed=seed)
            tracked = tracked_boxes(frames, detector)
            result = identity_metrics([t["boxes"] for t in truth], tracked)
            totals["present"] += sum(len(b) for b in tracked.values())
            visible = sum(b is not None for t in truth for b in t["boxes"])
            rows.append({"scene": name, "seed": seed, **result})
            totals["true_faces"] += result["true_faces"]
            totals["id_switches"] += result["id_switches"]
            totals["covered"] += result["coverage"] * visible
            totals["visible"] += visible
            if args.out and seed == 0:
                Path(args.out).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(Path(args.out) / f"scene-{name.replace(' ', '-')}.jpg"), frames[len(frames) // 2])
        mine = [r for r in rows if r["scene"] == name]
        print(f"{name:<34} {sum(r['id_switches'] for r in mine):3d} switches / {sum(r['true_faces'] for r in mine)} faces, "
              f"coverage {100 * sum(r['coverage'] for r in mine) / len(mine):5.1f}%, "
              f"IDF1 {100 * sum(r['idf1'] for r in mine) / len(mine):5.1f}%, tracks per scene "
              f"{sum(r['tracks'] for r in mine) / len(mine):.1f}")
    per_100 = 100 * totals["id_switches"] / totals["true_faces"]
    coverage = totals["covered"] / totals["visible"]
    idf1 = 2 * totals["covered"] / (totals["visible"] + totals["present"])
    print(f"all: {per_100:.1f} identity switches per 100 true faces, coverage (ID recall) {100 * coverage:.1f}%, "
          f"IDF1 {100 * idf1:.1f}% "
          f"({totals['true_faces']} true faces, {totals['visible']} face-frames in view)")
    if args.out:
        (Path(args.out) / "identity.json").write_text(json.dumps({"scenes": rows, "id_switches_per_100_faces": per_100,
                                                                   "coverage": coverage, "idf1": idf1}, indent=1) + "\n")


if __name__ == "__main__":
    main()
