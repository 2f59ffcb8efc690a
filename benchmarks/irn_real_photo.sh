#!/usr/bin/env bash
# IRN on real photos (docs/irn.md, "IRN on real photos"): the real-photo preset's classifier
# and seeds once, then IRN's stages for each IRNet variant from the same stored CAMs, scored
# with tools/compare_pseudo.py on the train split. Stages already done are reused.
#   benchmarks/irn_real_photo.sh DATA [WORK]
set -euo pipefail
data=$(realpath "$1"); work=${2:-work_dirs/irn_real}
py=${PYTHON:-python}
export PYTHONPATH=$PWD  # the tools import this checkout's wsss_mm
split=ImageSets/Segmentation/train.txt
demo=configs/demo
roots="train_dataloader.dataset.data_root=$data val_dataloader.dataset.data_root=$data"
roots="$roots test_dataloader.dataset.data_root=$data randomness.seed=0"
popts="pseudo_dataset.data_root=$data pseudo_dataset.ann_file=$split"
popts="$popts pseudo_eval_dataset.data_root=$data"
mkdir -p "$work"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
if [ ! -f "$work/cls/last_checkpoint" ]; then
  log classifier
  # shellcheck disable=SC2086
  $py tools/train.py $demo/cls_effnet-lite0-gap_15e_demo.py --work-dir "$work/cls" \
    --cfg-options $roots > "$work/cls.log" 2>&1
fi
ckpt="$work/cls/$(basename "$(cat "$work/cls/last_checkpoint")")"
seeds=$work/seeds
if [ ! -d "$seeds/pseudo_labels" ]; then
  log seeds
  # shellcheck disable=SC2086
  $py tools/gen_pseudo.py $demo/pseudo_effnet-lite0-gradcam_threshold_demo.py \
    --classifier-checkpoint "$ckpt" --work-dir "$seeds" --cfg-options $popts \
    > "$work/seeds.log" 2>&1
fi
# one IRN variant: NAME IRNET_CONFIG PSEUDO_CONFIG ITERS "IRNET_OPTIONS" "PSEUDO_OPTIONS"
variant() {
  local name=$1 irnet_cfg=$2 pseudo_cfg=$3 iters=$4 iopts=${5:-} vopts=${6:-}
  local dir=$work/$name
  [ -d "$dir/pseudo_labels" ] && return 0
  log "$name"
  mkdir -p "$dir"
  [ -d "$dir/cams" ] || cp -r "$seeds/cams" "$dir/cams"
  # relation labels are computed once, in the seeds' dir
  # shellcheck disable=SC2086
  $py tools/train.py "$irnet_cfg" --work-dir "$dir/irnet" --cfg-options \
    train_dataloader.dataset.dataset.data_root="$data" \
    train_dataloader.dataset.dataset.ann_file=$split train_dataloader.dataset.seed_dir="$seeds" \
    randomness.seed=0 train_cfg.max_iters="$iters" default_hooks.checkpoint.interval="$iters" \
    $iopts > "$dir/irnet.log" 2>&1
  local cue; cue="$dir/irnet/$(basename "$(cat "$dir/irnet/last_checkpoint")")"
  # shellcheck disable=SC2086
  $py tools/gen_pseudo.py "$pseudo_cfg" --classifier-checkpoint "$ckpt" --cue-checkpoint "$cue" \
    --work-dir "$dir" --stages cue,refine --cfg-options $popts $vopts > "$dir/gen.log" 2>&1
}
tiny=$demo/irnet_tiny-r18_60iter_demo.py
eff=$demo/irnet_effnet-lite0_60iter_demo.py
variant irn_tiny60 "$tiny" $demo/pseudo_effnet-lite0-gradcam_irn_demo.py 60
variant irn_eff60 "$eff" $demo/pseudo_effnet-lite0-gradcam_irn-effnet-lite0_demo.py 60
variant irn_eff300 "$eff" $demo/pseudo_effnet-lite0-gradcam_irn-effnet-lite0_demo.py 300
names=(seeds); dirs=("$seeds"); cfgs=($demo/pseudo_effnet-lite0-gradcam_threshold_demo.py)
for v in irn_tiny60 irn_eff60 irn_eff300; do
  [ -d "$work/$v/pseudo_labels" ] || continue
  names+=("$v"); dirs+=("$work/$v"); cfgs+=($demo/pseudo_effnet-lite0-gradcam_irn_demo.py)
done
log compare
$py tools/compare_pseudo.py "${cfgs[@]}" --names "${names[@]}" --pseudo-dirs "${dirs[@]}" \
  --work-dir "$work/compare" --split $split --cfg-options pseudo_eval_dataset.data_root="$data" \
  > "$work/compare.log" 2>&1
log done
