#!/usr/bin/env bash
# Everything that needs a GPU, in one run (a lent GPU's time is short):
#   1. issue 5: peak memory of one training step, paper preset, batch 8, bfloat16 and
#      float32 (must fit 24 GiB);
#   2. issue 8: bench_speed.py on the GPU: convolution and matrix-product peaks, the
#      stacks against the peer, the training step up to the largest batch that fits,
#      streaming on the fixture clips;
#   3. the README's main job (`fervid demo`) on CUDA, end to end;
#   4. a one-epoch training run with --compile on CUDA (torch.compile through Triton).
# Each part has its own time limit, so one that fails or hangs does not take the others.
#
#   bash benchmarks/gpu_check.sh OUT_DIR [VIDEO_DIR]
# Needs a CUDA build of torch and the package's requirements (PYTHONPATH is set to src/);
# the peer stack needs `conv-lstm` (pip install conv-lstm).
set -u
out=${1:-bench-results/gpu}
videos=${2:-../shared/fixtures/enterface05_s1}
mkdir -p "$out" && out=$(cd "$out" && pwd)
[ -d "$videos" ] && videos=$(cd "$videos" && pwd)
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src:$PWD/benchmarks:${PYTHONPATH:-}" PYTHONUNBUFFERED=1
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
    $python -c "import torch, cv2; print('torch', torch.__version__, torch.cuda.get_device_name(), 'opencv', cv2.__version__)"
    echo "## 1. peak memory, paper preset, batch 8"
    for precision in bfloat16 float32; do
        timeout 150 $python benchmarks/bench_memory.py --preset paper --batch 8 --precision $precision --device cuda
    done
    echo "## 2. bench_speed on the GPU"
    SECONDS=0
    timeout 300 $python benchmarks/bench_speed.py --device cuda --threads 8 --videos "$videos" --json "$out/speed.json"
    echo "(bench_speed: ${SECONDS} s)"
    echo "## 3. main job (fervid demo) on CUDA"
    SECONDS=0
    timeout 240 $python -m fervid.cli demo --out "$work/demo" --data "$work/synth-demo" --workers 12 \
        && cp "$work/demo/report.md" "$work/demo/curves.png" "$work/demo/confusion.png" "$out/"
    echo "(demo: ${SECONDS} s)"
    echo "## 4. one epoch of (e) with --compile on CUDA, fold 0"
    SECONDS=0
    timeout 150 $python -m fervid.cli crossval "$work/synth-demo/manifest.csv" -o "$work/compiled" --configs e --k 3 \
        --folds 0 --stage-epochs 0 --epochs 1 --clips-per-video 2 --compile --precision auto --cache "$work/synth-demo/cache" --no-progress \
        && sed -n 1,20p "$work/compiled/report.md"
    echo "(compile run: ${SECONDS} s)"
} 2>&1 | tee "$out/log.txt"
