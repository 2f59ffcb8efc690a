#!/usr/bin/env bash
# CAM mIoU of every built-in CAM method (docs/pipeline.md, "The CAM family on WSSS data").
# Run from the repository root.
# For each method: gen_pseudo.py --stages cam, then eval_pseudo.py (seeds at bg 0.15 + sweep).
# usage: benchmarks/cam_family_miou.sh CONFIG CHECKPOINT DATA_ROOT OUT_DIR [SPLIT_FILE] [METHOD ...]
#   SPLIT_FILE: optional ids file (absolute path) to run on a subset; '' = the config's split.
#   METHODs: default all; each row is Type or Type:extra-cfg-option.
set -euo pipefail
CONFIG=$1; CK=$2; ROOT=$3; OUT=$4; SPLIT=${5:-}; shift $(( $# < 5 ? $# : 5 ))
PY=${PYTHON:-python}
METHODS=("$@"); mkdir -p "$OUT"
[ ${#METHODS[@]} -eq 0 ] && METHODS=(GradCAMGenerator GradCAMPlusPlusGenerator
  CAMGenerator:cam_generator.fc_layer=head.fc XGradCAMGenerator HiResCAMGenerator
  GradCAMElementWiseGenerator LayerCAMGenerator ScoreCAMGenerator AblationCAMGenerator
  EigenCAMGenerator EigenGradCAMGenerator)
for m in "${METHODS[@]}"; do
  type=${m%%:*}; extra=(); [ "$m" != "$type" ] && extra=(${m#*:})
  w=$OUT/$type
  gen=(pseudo_dataset.data_root=$ROOT cam_generator.type=$type "${extra[@]}")
  ev=(pseudo_eval_dataset.data_root=$ROOT); split=()
  if [ -n "$SPLIT" ]; then gen+=(pseudo_dataset.ann_file=$SPLIT); split=(--split "$SPLIT"); fi
  start=$(date +%s)
  $PY tools/gen_pseudo.py "$CONFIG" --stages cam --classifier-checkpoint "$CK" --work-dir "$w" \
    --cfg-options "${gen[@]}" > "$w.gen.log" 2>&1 || { echo "$type: gen failed ($w.gen.log)"; continue; }
  end=$(date +%s)
  $PY tools/eval_pseudo.py "$CONFIG" --work-dir "$w" "${split[@]}" --cfg-options "${ev[@]}" > "$w.eval.log" 2>&1 \
    || { echo "$type: eval failed ($w.eval.log)"; continue; }
  spi=$($PY -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['seconds_per_image']['cam'])" "$w/gen_pseudo_report.json")
  miou=$(grep '^| CAM mIoU' "$w.eval.log" | tail -2 | cut -d'|' -f2,3 | tr '\n' ' ')
  echo "| $type | $miou | ${spi} s/img | gen wall $((end - start)) s |"
done
