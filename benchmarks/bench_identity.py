"""Face tracks against ground truth: identity switches per 100 true faces, coverage (ID
recall: the share of the frames each true face is in view in which its own track follows
it) and IDF1 on the synthetic multi-face scenes (``datasets/synthetic/scenes.py``:
crossing, leaving and returning before and after the gap, partly out of frame, very
different sizes, four at once), each scene drawn with several seeds.

    python benchmarks/bench_identity.py [--seeds 0,1,2] [-o docs/several-faces]
    python benchmarks/bench_identity.py --seeds 0   # the smallest setting (the smoke test's)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2

from fervid.diagnostics.faces import identity_totals, scene_identity
from fervid.diagnostics.machine import header


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("-o", "--out", help="folder for identity.json and one drawn frame per scene")
    args = parser.parse_args()
    print(header("face tracks against ground truth (synthetic multi-face scenes)", 1))
    rows, extents = [], []
    for name, seed, middle, result, extent in scene_identity([int(s) for s in args.seeds.split(",")]):
        rows.append({"scene": name, "seed": seed, **result})
        extents.append({**result, **extent})
        if args.out and seed == 0:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(Path(args.out) / f"scene-{name.replace(' ', '-')}.jpg"), middle)
        mine = [r for r in rows if r["scene"] == name]
        if seed != int(args.seeds.split(",")[-1]):
            continue
        print(f"{name:<34} {sum(r['id_switches'] for r in mine):3d} switches / {sum(r['true_faces'] for r in mine)} faces, "
              f"coverage {100 * sum(r['coverage'] for r in mine) / len(mine):5.1f}%, "
              f"IDF1 {100 * sum(r['idf1'] for r in mine) / len(mine):5.1f}%, tracks per scene "
              f"{sum(r['tracks'] for r in mine) / len(mine):.1f}")
    totals = identity_totals(extents)
    per_100, coverage, idf1 = totals["id_switches_per_100_faces"], totals["coverage"], totals["idf1"]
    print(f"all: {per_100:.1f} identity switches per 100 true faces, coverage (ID recall) {100 * coverage:.1f}%, "
          f"IDF1 {100 * idf1:.1f}% "
          f"({totals['true_faces']} true faces, {totals['visible']} face-frames in view)")
    if args.out:
        (Path(args.out) / "identity.json").write_text(json.dumps({"scenes": rows, "id_switches_per_100_faces": per_100,
                                                                   "coverage": coverage, "idf1": idf1}, indent=1) + "\n")


if __name__ == "__main__":
    main()
