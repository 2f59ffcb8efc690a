#!/usr/bin/env bash
# Algorithm 1 on real photos, detector by detector (docs/pipeline.md, "Real photos"): from a
# `make demo-real DATA=... SAL_DATA=...` work dir (its classifier, its ECSSD detector), for
# each saliency detector: CAMs + erasing saliency of val and train (gen_pseudo --stages
# cam,cue), gamma1/gamma2 chosen on val's GT (eval_pseudo --fusion-sweep), then train scored
# at the chosen pair, at the paper's 0.2/0.06 and with saliency alone. Rows: the preset's
# ECSSD EfficientNet-Lite0 FPN (480 iterations), the same trained 120 iterations, RBD.
#   benchmarks/real_photo_fusion_ablation.sh DEMO_WORK DATA SAL_DATA [OUT]
# e.g. benchmarks/real_photo_fusion_ablation.sh work_dirs/demo_real \
#          ../shared/data/msrc_voc/VOCdevkit/VOC2012 ../shared/data/ecssd
set -euo pipefail
demo=$(realpath "$1"); data=$(realpath "$2"); sal=$(realpath "$3")
out=${4:-work_dirs/fusion_ablation}
py=${PYTHON:-python}
checkpoint() {  # the last checkpoint tools/train.py wrote into $1
  local last; last=$(cat "$1/last_checkpoint")
  case "$last" in /*) echo "$last" ;; *) echo "$1/$last" ;; esac
}
cls_ckpt=$(checkpoint "$demo/classifier")
val=ImageSets/Segmentation/val.txt; train=ImageSets/Segmentation/train.txt
ecssd=configs/demo/pseudo_effnet-lite0-gradcam_ecssd-fpn-erasing_demo.py
rbd=configs/demo/pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py
mkdir -p "$out"
if [ ! -f "$out/ecssd120/last_checkpoint" ]; then
  $py tools/train.py configs/saliency/effnet-lite0-fpn_120iter_ecssd.py --work-dir "$out/ecssd120" \
    --cfg-options randomness.seed=0 train_dataloader.dataset.data_root="$sal" \
    val_dataloader.dataset.data_root="$sal" test_dataloader.dataset.data_root="$sal" \
    > "$out/ecssd120.log" 2>&1 || { tail -30 "$out/ecssd120.log"; exit 1; }
fi
det_opt=saliency_generator.detector.init_cfg.checkpoint
echo '| detector | gamma1 / gamma2 chosen on val | Algorithm 1, chosen | Algorithm 1, paper 0.2 / 0.06 | saliency only, gamma1 0.2 | saliency only, gamma1 chosen on val | saliency MAE / max F (train) |'
echo '| --- | --- | --- | --- | --- | --- | --- |'
for row in "ECSSD Lite0 FPN 480 it. (preset)|$ecssd|$det_opt=$(checkpoint "$demo/saliency")" \
           "ECSSD Lite0 FPN 120 it.|$ecssd|$det_opt=$(checkpoint "$out/ecssd120")" \
           "RBD (weight-free)|$rbd|"; do
  IFS='|' read -r name cfg opt <<< "$row"
  dir=$out/$(echo "$name" | tr -cd 'A-Za-z0-9')
  for split in val train; do
    file=$val; [ $split = train ] && file=$train
    # shellcheck disable=SC2086
    $py tools/gen_pseudo.py $cfg --classifier-checkpoint "$cls_ckpt" --work-dir "$dir/$split" \
      --stages cam,cue --cfg-options pseudo_dataset.data_root="$data" pseudo_dataset.ann_file=$file \
      pseudo_eval_dataset.data_root="$data" $opt > "$dir.$split.log" 2>&1 \
      || { tail -30 "$dir.$split.log"; exit 1; }
  done
  $py tools/eval_pseudo.py $cfg --work-dir "$dir/val" --split $val --fusion-sweep \
    --out "$dir/val.json" --cfg-options pseudo_eval_dataset.data_root="$data" > /dev/null 2>&1
  read -r g1 g2 s1 < <($py -c "import json,sys; f=json.load(open(sys.argv[1]))['fusion']; \
print(f['algorithm1']['best']['gamma1'], f['algorithm1']['best']['gamma2'], \
f['saliency_only']['best']['gamma1'])" "$dir/val.json")
  $py tools/eval_pseudo.py $cfg --work-dir "$dir/train" --split $train --fusion-sweep \
    --gamma1 "$g1" 0.2 "$s1" --gamma2 "$g2" 0.06 --out "$dir/train.json" \
    --cfg-options pseudo_eval_dataset.data_root="$data" > /dev/null 2>&1
  $py - "$dir/train.json" "$name" "$g1" "$g2" "$s1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
name, g1, g2, s1 = sys.argv[2], *map(float, sys.argv[3:])
fused = {(p['gamma1'], p['gamma2']): p['mIoU'] for p in r['fusion']['algorithm1']['grid']}
alone = {p['gamma1']: p['mIoU'] for p in r['fusion']['saliency_only']['grid']}
sal = r['saliency']
print(f"| {name} | {g1:.2f} / {g2:.2f} | {fused[(g1, g2)]:.2f} | {fused[(0.2, 0.06)]:.2f} | "
      f"{alone[0.2]:.2f} | {alone[s1]:.2f} | {sal['MAE']:.3f} / {sal['maxF']:.3f} |")
PY
done
times
