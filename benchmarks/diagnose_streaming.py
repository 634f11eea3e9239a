"""Where streaming's time goes on a CPU (issue 19's 130 frames/s target), two questions:

``split``: the front end alone (one thread, by stage: detection, track + crop, flow), the
model alone (its clip streams side by side, 8 frames a step, unfused and with fused gate
arithmetic), and ``stream_frames`` whole, with the share of the cores it keeps busy and
its CPU time per frame (``getrusage``).

``whole-stack``: one clip stream's 4-layer ConvLSTM stack stepping 8 frames for 2 windows
with its state carried (as ``fervid stream`` steps it), one thread, inference in bfloat16:
eager, fused gate arithmetic, and the whole stack as one ``torch.compile`` graph, plain or
with Inductor's freezing (constant weights, prepacked convolutions).

    python benchmarks/diagnose_streaming.py split [--frames 400] [--unfused-only]
    python benchmarks/diagnose_streaming.py whole-stack [--stream flow_clip] [--freeze]
    python benchmarks/diagnose_streaming.py split --frames 24 --unfused-only   # the smallest setting (the smoke test's)
"""

from __future__ import annotations

import argparse

import torch

from fervid.diagnostics import stream_costs
from fervid.diagnostics.streaming import FIXTURES
from fervid.frontend.video import find_videos


def split(frames: int, unfused_only: bool) -> None:
    rows = stream_costs.split(find_videos([FIXTURES]), frames)
    front = next(rows)
    print("front end alone, one thread, ms per frame: " + ", ".join(f"{k} {v:.2f}" for k, v in front.items())
          + f"; all {sum(front.values()):.2f}")
    for row in rows:
        print(f"{row['label']}: model alone {row['model_ms']:.2f} ms per frame (streams side by side); fervid stream whole "
              f"{row['frames_per_s']:.1f} frames/s, {row['cores_busy']:.2f} cores busy, {row['cpu_ms_per_frame']:.1f} ms of CPU "
              "per frame", flush=True)
        if unfused_only:
            break


def whole_stack(stream: str, freeze: bool) -> None:
    for row in stream_costs.whole_stack(stream, freeze):
        if "compile_s" in row:
            print(f"  compiling and the first calls: {row['compile_s']:.0f} s")
        else:
            print(f"{row['label']}: {row['ms_per_frame']:.2f} ms per frame per stream (first call {row['first_call_s']:.1f} s)",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="question", required=True)
    p = sub.add_parser("split")
    p.add_argument("--frames", type=int, default=400)
    p.add_argument("--unfused-only", action="store_true", help="stop before fusing the gate arithmetic (no compiler)")
    p = sub.add_parser("whole-stack")
    p.add_argument("--stream", default="flow_clip", choices=("rgb_clip", "flow_clip"))
    p.add_argument("--freeze", action="store_true")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    if args.question == "split":
        split(args.frames, args.unfused_only)
    else:
        whole_stack(args.stream, args.freeze)


if __name__ == "__main__":
    main()
