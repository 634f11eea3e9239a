"""`fervid stream --fuse-gates` from a cold start: what the background compile buys.

Each mode streams the same frames (decode + face + flow + model, configuration (e),
untrained weights, ``precision="auto"``, ``fervid stream``'s threads) in a fresh Python
process with an empty Inductor cache, so every mode starts as a user's first run does:

- ``unfused``: the gate arithmetic eager (``fervid stream``);
- ``fused, waiting``: compiled where a step first needs it, the step waiting for the
  compiler (``fuse_gate_arithmetic(model)``, as training does);
- ``fused, background``: the step runs eagerly while a background thread compiles its
  graph (``fuse_gate_arithmetic(model, wait=False)``, ``fervid stream --fuse-gates``).

Per mode: seconds to the first clip prediction, to the end of the frames, frames/s over
the whole run and over its last half, and (background) when the compiler was done.

    python benchmarks/bench_fused_start.py [--presets paper,small] [--frames 200,1200] [--threads 2]
    python benchmarks/bench_fused_start.py --presets small --frames 40 --modes unfused   # the smallest setting (the smoke test's: no compiler)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from fervid.diagnostics.machine import header, save_json
from fervid.diagnostics.stream_costs import FUSED_START_MODES
from fervid.diagnostics.streaming import FIXTURES


def run_child(preset: str, mode: str, frames: int, threads: int, videos: str) -> None:
    """One mode in this process (a fresh child of ``main``): its row as JSON."""
    from fervid.diagnostics.stream_costs import fused_start
    from fervid.frontend.video import find_videos

    print(json.dumps(fused_start(preset, mode, frames, threads, find_videos([videos]))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="paper,small")
    parser.add_argument("--frames", default="200,1200", help="frames per preset, in the order of --presets")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--videos", default=str(FIXTURES))
    parser.add_argument("--modes", default=",".join(FUSED_START_MODES), help="which modes, comma-separated (default: all)")
    parser.add_argument("--json")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # preset|mode|frames: run one mode, print its row as JSON
    args = parser.parse_args()
    if args.child:
        preset, mode, frames = args.child.split("|")
        run_child(preset, mode, int(frames), args.threads, args.videos)
        return
    modes = args.modes.split(",")
    if set(modes) - set(FUSED_START_MODES):
        parser.error(f"--modes: unknown {sorted(set(modes) - set(FUSED_START_MODES))}")
    if not (Path(args.videos).exists() and any(Path(args.videos).iterdir())):
        raise SystemExit(f"no videos in {args.videos}")
    print(header("fervid stream from a cold start: unfused, fused waiting for the compiler, fused compiling "
                 "in the background", args.threads))
    print(f"# each mode in a fresh process with an empty Inductor cache; frames from {args.videos}, configuration (e), "
          "untrained weights, precision auto")
    rows = []
    for preset, frames in zip(args.presets.split(","), map(int, args.frames.split(",")), strict=True):
        for mode in modes:
            with tempfile.TemporaryDirectory(prefix="inductor-") as cache:
                env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache}
                done = subprocess.run([sys.executable, __file__, "--child", f"{preset}|{mode}|{frames}",
                                       "--threads", str(args.threads), "--videos", args.videos],
                                      env=env, capture_output=True, text=True, cwd=Path(__file__).parent)
            if done.returncode:
                raise SystemExit(f"{preset}, {mode}: failed\n{done.stderr[-3000:]}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            compiled = f", compiler done at {row['compiled_after_s']:.1f} s" if row["compiled_after_s"] else ""
            print(f"{preset:<6} {mode:<18} {frames} frames: first clip at {row['first_clip_s']:5.1f} s, all at "
                  f"{row['seconds']:5.1f} s, {row['frames_per_s']:6.1f} frames/s (last half "
                  f"{row['last_half_frames_per_s']:6.1f}){compiled}", flush=True)
    save_json(args.json, rows)


if __name__ == "__main__":
    main()
