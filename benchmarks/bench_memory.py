"""Peak memory of one training step (configuration e), to check that the paper preset at
batch 8 fits a 24 GiB GPU. On CUDA: ``torch.cuda.max_memory_allocated``. On a CPU
(no GPU at hand): the growth of the process's peak resident memory over one step, in a
fresh process, which counts the same weights, gradients, optimizer state and saved
activations (CPU and CUDA run the same ops; only the ConvLSTM input projection is chunked
on the CPU, which saves the same tensors), plus allocator slack: an estimate, not a
substitute for measuring on the GPU.

    python benchmarks/bench_memory.py [--preset paper] [--batch 8] [--precision auto] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import torch

from fervid.demo import random_inputs
from fervid.models.fourstream import FourStreamNet, build_config
from fervid.precision import autocast, describe, resolve_precision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    device = torch.device(args.device)
    precision = resolve_precision(args.precision, device)
    torch.manual_seed(0)
    model = FourStreamNet(build_config(args.preset, "e")).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs = {k: v.to(device) for k, v in random_inputs(model, args.batch).items()}
    labels = torch.randint(0, 6, (args.batch,), device=device)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(2):  # the second step has the optimizer's momentum buffers
        with autocast(device, precision):
            logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = (time.perf_counter() - start) / 2
    print(f"# {args.preset} preset, configuration (e), batch {args.batch}, {describe(args.precision, device)}, {device}")
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f"peak allocated {peak:.1f} GiB ({seconds:.2f} s/step)")
    else:
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"peak resident memory {after:.1f} GiB, of which the training steps added {after - before:.1f} GiB "
              f"(inputs and model before: {before:.1f} GiB); {seconds:.1f} s/step")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
