#!/usr/bin/env bash
# Every benchmark's --device cuda table on one GPU, into one markdown file (about 8 minutes
# on one H100 with 16 cores): the CAM family, erasing saliency, the CRF pool, IRN's random
# walk, segmentor iterations, and gen_pseudo end to end on 1,000 generated VOC-size images
# (pipeline; hours extrapolated to VOC train_aug and COCO-2014 train) plus serial vs
# pipeline with a file comparison on 48 images.
#
#   bash benchmarks/gpu_suite.sh [OUT.md]            # default work_dirs/gpu_suite.md
#   bash benchmarks/gpu_suite.sh --smoke [OUT.md]    # every step, tiny sizes, on the CPU
#
# --smoke runs the same steps with tiny inputs on the CPU (72 s on 2 idle cores: 68 s user +
# 15 s system; tests/test_gpu_suite.py runs it in the test suite), so the
# script is exercised where there is no GPU. PYTHON picks the interpreter (default
# .venv/bin/python); each step's stderr goes to OUT.log.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
SMOKE=0
OUT=
for arg in "$@"; do
    case "$arg" in
        --smoke) SMOKE=1 ;;
        -*) echo "gpu_suite.sh: unknown option $arg" >&2; exit 2 ;;
        *) OUT=$arg ;;
    esac
done
if [ "$SMOKE" = 1 ]; then
    OUT=${OUT:-work_dirs/gpu_suite_smoke.md}
    DEVICE=cpu
    SMALL=(--height 64 --width 80)
else
    OUT=${OUT:-work_dirs/gpu_suite.md}
    DEVICE=cuda
    SMALL=()
    "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else \
'gpu_suite.sh: torch sees no CUDA device (use --smoke on a CPU)')"
fi
CORES=$(nproc)
mkdir -p "$(dirname "$OUT")"
LOG="$OUT.log"
: > "$LOG"
SUITE_START=$(date +%s)
{
    echo "# wsss_mm benchmark suite ($([ "$SMOKE" = 1 ] && echo 'smoke run, CPU, tiny inputs' \
|| echo "device $DEVICE"))"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null \
|| echo unknown), $CORES CPU cores. Command: \`bash benchmarks/gpu_suite.sh $*\`"
} > "$OUT"

# step TITLE SCRIPT ARGS...: run one benchmark, append its report (from its title line on)
step() {
    local title=$1 script=$2
    shift 2
    local start text
    start=$(date +%s)
    echo "[gpu_suite] $title ..." >&2
    text=$("$PYTHON" "benchmarks/$script" "$@" 2>>"$LOG")
    {
        echo
        echo "## $title"
        echo
        echo "\`python benchmarks/$script $*\` ($(( $(date +%s) - start )) s)"
        # the report is the title line before 'Machine:' and everything after it
        printf '%s\n' "$text" | awk '/^Machine: /{found=1; print prev} found{print} {prev=$0}'
    } >> "$OUT"
}

if [ "$SMOKE" = 1 ]; then
    step 'CAM family' bench_gradcam.py --device cpu --methods GradCAM --num-images 1 \
        --classes 1 "${SMALL[@]}"
    step 'Erasing saliency' bench_saliency.py --device cpu --detectors u2netp \
        --batch-sizes 1 2 "${SMALL[@]}"
    step 'Dense CRF pool' bench_crf.py --num-images 2 --workers 2 --iterations 2 "${SMALL[@]}"
    step 'Random walk' bench_random_walk.py --device cpu --num-images 1 --exp-times 2 \
        "${SMALL[@]}"
    step 'Segmentor iterations' bench_segmentor.py --device cpu --models single --crop 65 \
        --warmup 0 --iters 1
    step 'gen_pseudo: pipeline, extrapolated' bench_pseudo.py --device cpu --jobs xu2019 \
        --num-images 1 --no-serial --extrapolate --saliency-batch 2 "${SMALL[@]}"
    step 'gen_pseudo: serial vs pipeline' bench_pseudo.py --device cpu --jobs crf irn \
        --num-images 2 "${SMALL[@]}"
else
    step 'CAM family' bench_gradcam.py --device cuda --num-images 8 --repeats 3
    step 'Erasing saliency' bench_saliency.py --device cuda --detectors dhsnet u2netp \
        --batch-sizes 1 4 16 --repeats 5
    step 'Dense CRF pool' bench_crf.py --num-images 32 --workers 1 "$CORES"
    step 'Random walk' bench_random_walk.py --device cuda --num-images 16 --exp-times 6 8
    step 'Segmentor iterations' bench_segmentor.py --device cuda --batch-size 10 --warmup 3 \
        --iters 10
    step 'gen_pseudo: pipeline on 1,000 images, extrapolated' bench_pseudo.py --device cuda \
        --real-networks --num-images 1000 --no-serial --extrapolate --saliency-batch 4 \
        --refine-workers "$CORES"
    step 'gen_pseudo: serial vs pipeline' bench_pseudo.py --device cuda --real-networks \
        --num-images 48 --saliency-batch 4 --refine-workers "$CORES"
fi
echo >> "$OUT"
echo "Suite: $(( $(date +%s) - SUITE_START )) s in all." >> "$OUT"
echo "[gpu_suite] wrote $OUT" >&2
