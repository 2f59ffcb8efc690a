#!/usr/bin/env bash
# One row of the real-photo CAM ablation (docs/pipeline.md, "Real photos"): train the
# EfficientNet-Lite0 classifier on a VOC-layout folder's train split, Grad-CAM on train
# (gen_pseudo --stages cam) and score it against SegmentationClass (t=0.15 and best t).
#   benchmarks/real_photo_cam.sh NAME DATA "CLS_OPTIONS" "PSEUDO_OPTIONS"
# e.g. benchmarks/real_photo_cam.sh bn-train ../shared/data/coco128_voc20/VOCdevkit/VOC2012 \
#          "model.backbone.norm_eval=False" ""
# CLS_CKPT=<checkpoint> skips the training (for changes of the CAM stage only).
set -euo pipefail
name=$1; data=$(realpath "$2"); cls_opts=${3:-}; pseudo_opts=${4:-}
py=${PYTHON:-python}
work=work_dirs/real_cam/$name
cls_cfg=configs/demo/cls_effnet-lite0-gap_15e_demo.py
pseudo_cfg=configs/demo/pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py
roots="train_dataloader.dataset.data_root=$data val_dataloader.dataset.data_root=$data"
roots="$roots test_dataloader.dataset.data_root=$data randomness.seed=0"
start=$(date +%s)
if [ -n "${CLS_CKPT:-}" ]; then  # CAM-only changes: reuse a trained classifier
  ckpt=$CLS_CKPT
else
  mkdir -p "$work"
  # shellcheck disable=SC2086
  $py tools/train.py $cls_cfg --work-dir "$work/cls" --cfg-options $roots $cls_opts \
    > "$work.train.log" 2>&1 || { tail -30 "$work.train.log"; exit 1; }
  ckpt="$work/cls/$(basename "$(cat "$work/cls/last_checkpoint")")"
fi
trained=$(date +%s)
# shellcheck disable=SC2086
$py tools/gen_pseudo.py $pseudo_cfg --classifier-checkpoint "$ckpt" --work-dir "$work/pseudo" \
  --stages cam --cfg-options pseudo_dataset.data_root="$data" pseudo_eval_dataset.data_root="$data" \
  $cls_opts $pseudo_opts > "$work.cam.log" 2>&1 || { tail -30 "$work.cam.log"; exit 1; }
$py tools/eval_pseudo.py $pseudo_cfg --work-dir "$work/pseudo" --split train \
  --cfg-options pseudo_eval_dataset.data_root="$data" \
  > "$work.eval.log" 2>&1 || { tail -30 "$work.eval.log"; exit 1; }
end=$(date +%s)
$py - "$work/pseudo/eval_pseudo.json" "$name" $((trained - start)) $((end - trained)) <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))['cams']
print(f"| {sys.argv[2]} | {r['fixed']['mIoU']:.2f} | {r['best']['mIoU']:.2f} "
      f"(t={r['best_threshold']:.2f}) | {sys.argv[3]} s + {sys.argv[4]} s |")
PY
times
