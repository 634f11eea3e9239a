"""Speed at the machine's limit (issue 8), side by side in one run:

1. the convolution peak: 3×3, 128 -> 128 channels, batch 16 (256 on a GPU), 56×56,
   forward, in float32 and bfloat16 (autocast), NCHW and channels-last; on a GPU also an
   8192³ matrix product (its dense peak; float32 convolutions there are cuDNN's TF32);
2. forward+backward of 4-layer ConvLSTM stacks (kernels 5,5,3,3): the peer (PyPI
   ``conv-lstm``) and fervid's conventional and Enhanced cells, in float32 and
   bfloat16, NCHW and channels-last weights, at the small and paper presets; as
   ratios to the peer's float32 and to the peer's own bfloat16 time, and as a
   fraction of the peak in the same precision (FLOPs counted by
   ``torch.utils.flop_counter``);
3. the whole four-stream training step (configuration e), clips/s, float32 vs ``auto``;
   on a GPU also ``auto`` at doubling batches up to the largest that fits;
4. streaming prediction, frames/s, in ``auto`` (decode + face + flow + model), on the
   fixture clips or ``--videos``; on the CPU also where the model's time per frame goes
   (profiled, by op group) and the frame rate it could reach were its convolutions at the
   measured peak;
5. preprocessing one long 720×576 video (built from the fixture clips) in one process:
   frames/s with one thread and two, and peak memory for 1 and 10 minutes of video.

Models are timed interleaved, repeat by repeat, so machine noise hits all alike.

    pip install conv-lstm
    python benchmarks/bench_speed.py [--presets small,paper] [--threads 2] [--device cuda] [--json out.json]
    python benchmarks/bench_speed.py --smoke --skip train,stream,preprocess   # the smallest setting (the smoke test's)
"""

from __future__ import annotations

import argparse

import torch

from fervid.diagnostics.machine import (
    conv_peaks,
    header,
    matmul_peak,
    peak_batch,
    save_json,
)
from fervid.diagnostics.preprocessing import long_video_line, long_video_rates
from fervid.diagnostics.stacks import (
    SMOKE,
    fused_recompiles,
    profile_stack,
    time_stacks,
)
from fervid.diagnostics.streaming import FIXTURES, streaming_rates
from fervid.diagnostics.training import smoke_config, training_rates
from fervid.frontend.faces import BlazeFace
from fervid.frontend.video import find_videos
from fervid.precision import describe, resolve_precision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="small,paper")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="stack repeats at the small preset (paper: 2)")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: stacks,train,stream,preprocess")
    parser.add_argument("--compile", action="store_true", help="also the stacks with their gate arithmetic fused by torch.compile")
    parser.add_argument("--videos", default=str(FIXTURES), help="videos for the streaming part (default: the eNTERFACE'05 fixture clips)")
    parser.add_argument("--max-batch", type=int, default=256, help="GPU: the largest training batch tried")
    parser.add_argument("--smoke", action="store_true",
                        help="the smallest setting: peaks at batch 1, stacks and the training model shrunk (16×16, 8 channels), "
                             "timed once, 24 streamed frames, 3- and 6-second long videos (combine with --skip)")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.smoke:
        args.presets, args.repeats = "small", 1
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    device = torch.device(args.device)
    auto = resolve_precision("auto", device)
    skip = set(args.skip.split(","))
    print(header(f"speed: precision and layout, {device.type}; auto = {describe('auto', device)}", args.threads))
    peaks = conv_peaks(device, *((1, 1) if args.smoke else ()))
    print(f"## convolution peak, 3×3 128->128, {peak_batch(device)}×56×56, forward (GFLOP/s)")
    for (precision, layout), gflops in peaks.items():
        print(f"  {precision:<9} {layout:<5} {gflops:8.0f}")
    out = {"peaks": {f"{p} {lay}": g for (p, lay), g in peaks.items()}, "stacks": [], "train": [], "stream": []}
    if device.type == "cuda":
        out["matmul_peaks"] = {name: matmul_peak(device, dtype) for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16))}
        print(f"  {torch.cuda.get_device_name(device)}: 8192³ matrix product {out['matmul_peaks']['bfloat16']:.0f} GFLOP/s "
              f"bfloat16, {out['matmul_peaks']['float32']:.0f} float32 (no TF32)")
    presets = args.presets.split(",")
    if "stacks" not in skip:
        print("## ConvLSTM stacks, forward + backward")
        print(f"  {'preset':<6} {'model':<27} {'precision':<9} {'layout':<6} {'s':>7} {'GFLOP/s':>8} {'% peak':>7} {'× peer fp32':>12} {'× peer bf16':>12}")
        for preset in presets:
            for row in time_stacks(preset, device, args.repeats if preset == "small" else 2, peaks, args.compile,
                                   SMOKE if args.smoke else None):
                out["stacks"].append(row)
                ratios = (f"{row['x_peer_fp32']:>12.2f} {row['x_peer_bf16']:>12.2f}" if "x_peer_fp32" in row else "")
                fused = (f"  {row['x_eager']:.2f}× eager, compiled in {row['compile_s']:.0f} s" if "x_eager" in row else "")
                print(f"  {preset:<6} {row['model']:<27} {row['precision']:<9} {row['layout']:<6} {row['median_s']:7.3f} "
                      f"{row['gflops']:8.0f} {100 * row['share_of_peak']:6.0f}% {ratios}{fused}", flush=True)
        if args.compile:
            out["fused_recompiles"] = fused_recompiles(device)
            print(f"  fused Enhanced stack, graphs compiled at batch sizes 8, 5, 3, 6 in turn: {out['fused_recompiles']}")
        print("  targets (issue 19): Enhanced, fastest precision ≤ 0.45× peer fp32 and ≤ 0.8× peer bf16; float32 ≤ 1.0× peer fp32")
        bf16_gain = max(peaks["bfloat16", "nchw"], peaks["bfloat16", "cl"]) / max(peaks["float32", "nchw"], peaks["float32", "cl"])
        tf32 = " (float32 convolutions run as TF32 in cuDNN)" if device.type == "cuda" else ""
        print(f"  limits: this device's bfloat16 peak is {bf16_gain:.1f}× its float32 peak{tf32}, which bounds any stack's "
              "bfloat16 speed-up over float32 at the same efficiency")
        for preset in presets:
            shares = profile_stack(preset, device, auto, shape=SMOKE if args.smoke else None)
            print(f"  where the Enhanced stack's time goes ({preset}, {auto}): "
                  + ", ".join(f"{name.removeprefix('aten::')} {100 * share:.0f}%" for name, share in shares), flush=True)
    if "train" not in skip:
        print("## four-stream training step, configuration (e)")
        for preset in presets:
            smoke = {"batch": 2, "steps": 1, "config": smoke_config()} if args.smoke else {}
            for row in training_rates(preset, device, auto, args.max_batch, **smoke):
                out["train"].append(row)
                if row.get("out_of_memory"):
                    print(f"  {preset:<6} batch {row['batch']:>3} {row['precision']:<9} out of memory", flush=True)
                    continue
                peak = max(peaks[row["precision"], "nchw"], peaks[row["precision"], "cl"])
                row["share_of_peak"] = row["achieved_gflops"] / peak
                layout = "channels-last ResNets" if row["channels_last"] else "NCHW"
                if row.get("fused"):
                    layout = f"+ --fuse-gates ({row['first_step_s']:.0f} s first step)"
                memory = f", peak memory {row['peak_memory_gib']:.1f} GiB" if "peak_memory_gib" in row else ""
                print(f"  {preset:<6} batch {row['batch']:>3} {row['precision']:<9} {layout:<36} {row['clips_per_s']:8.2f} clips/s "
                      f"({row['gflop_per_clip']:.1f} GFLOP/clip, {row['achieved_gflops']:.0f} GFLOP/s = "
                      f"{100 * row['share_of_peak']:.1f}% of the conv peak{memory})", flush=True)
    if "stream" not in skip:
        print(f"## streaming prediction, configuration (e), {auto} (auto)")
        detector = BlazeFace()
        for preset in presets:
            row = streaming_rates(preset, auto, 24 if args.smoke else 400 if preset == "small" else 24, detector, device, args.videos,
                                  profiled_ops=device.type == "cpu")
            if row:
                out["stream"].append(row)
                print(f"  {preset:<6} {row['frames_per_s']:7.1f} frames/s over {row['frames']} frames: per frame "
                      f"{row['front_end_ms']:.1f} ms face + crop + flow, {row['model_ms']:.1f} ms model; "
                      f"front end a thread ahead: {row['pipelined_sequential_streams_frames_per_s']:.1f} frames/s with the "
                      f"streams one after the other on {args.threads} threads, a frame at a time; "
                      f"{row['pipelined_frames_per_s']:.1f} side by side on {row['streaming_threads']} thread(s) each, "
                      f"8 frames at a time (fervid stream); {row['pipelined_fused_frames_per_s']:.1f} so with fused gate "
                      f"arithmetic (its first pass, compiling: {row['fused_first_pass_s']:.0f} s)", flush=True)
                if "gflop_per_frame" in row:
                    by_op = row["ms_per_frame_by_op"]
                    profiled = sum(by_op.values())
                    conv_ms = by_op.get("convolution", 0.0)
                    peak = max(peaks[auto, "nchw"], peaks[auto, "cl"])
                    print(f"         where the model's time goes (profiled, {profiled:.1f} ms/frame): "
                          + ", ".join(f"{g} {ms:.1f} ms ({100 * ms / profiled:.0f}%)" for g, ms in sorted(by_op.items(), key=lambda kv: -kv[1])))
                    if conv_ms:
                        floor = row["gflop_per_frame"] / peak * 1e3
                        achieved = row["gflop_per_frame"] / conv_ms * 1e3
                        print(f"         {row['gflop_per_frame']:.2f} GFLOP/frame of convolution at {achieved:.0f} GFLOP/s "
                              f"({100 * achieved / peak:.0f}% of the {auto} peak); at the peak, with nothing else, the model "
                              f"would take {floor:.1f} ms, so ≤ {1000 / (row['front_end_ms'] + floor):.0f} frames/s with "
                              f"this front end in series", flush=True)
        small = [r for r in out["stream"] if r["preset"] == "small"]
        verdict = f"{small[0]['pipelined_frames_per_s']:.0f} frames/s this run, " if small else ""
        print(f"  target: ≥ 100 frames/s at the small preset ({verdict}fervid stream). Limits: per frame the model\n"
              "  steps two windows × two ConvLSTM streams × 4 layers (small kernels, overhead-bound), and the\n"
              "  front end (BlazeFace, resizes, Farneback) shares the same cores: see the split and the profile above")
    if "preprocess" not in skip:
        print("## preprocessing one long video, small preset, one process (fervid preprocess --workers 1)")
        out["preprocess"] = []
        lengths = {"speed_minutes": 0.05, "memory_minutes": (0.05, 0.1)} if args.smoke else {}
        for row in long_video_rates(find_videos([args.videos]), **lengths):
            out["preprocess"].append(row)
            print(long_video_line(row), flush=True)
        one_core, before, after = (r["frames_per_s"] for r in out["preprocess"][:3])
        memory = {r["minutes"]: r["peak_rss_mib"] for r in out["preprocess"][3:]}
        (short, short_mib), (long, long_mib) = sorted(memory.items())
        print(f"  two threads vs one core: {after / one_core:.2f}×, vs before: {after / before:.2f}×; "
              f"peak memory {long:g} min / {short:g} min: "
              f"{long_mib / short_mib:.2f}×. Targets (issue 19): ≥ 250 frames/s, memory within 10%")
    save_json(args.json, out)


if __name__ == "__main__":
    main()
