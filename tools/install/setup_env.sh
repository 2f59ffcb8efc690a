#!/usr/bin/env bash
# Create (or update) the virtualenv at .venv/ with the full wsss_mm stack.
# Idempotent: rerunning only installs what is missing. Environment knobs:
#   WSSS_MM_TORCH_SPEC  torch/torchvision requirement (default: requirements/torch.txt)
#   WSSS_MM_SKIP_MMCV=1 keep whatever mmcv is installed (e.g. a prebuilt OpenMMLab wheel)
#   WSSS_MM_CACHE       where the built mmcv wheel is cached (default ~/.cache/wsss_mm/wheels)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY_BOOT=${PYTHON_BOOT:-python3.11}
command -v "$PY_BOOT" >/dev/null || PY_BOOT=python3
[ -x .venv/bin/python ] || "$PY_BOOT" -m venv .venv
PY=.venv/bin/python
$PY -m pip install -q --upgrade pip
$PY -m pip install -q -r requirements/build.txt
if [ -n "${WSSS_MM_TORCH_SPEC:-}" ]; then
  # shellcheck disable=SC2086
  $PY -m pip install -q $WSSS_MM_TORCH_SPEC
else
  $PY -m pip install -q -r requirements/torch.txt
fi
PYTHON=$PY bash tools/install/build_mmcv.sh
$PY -m pip install -q -r requirements/runtime.txt -r requirements/tests.txt
$PY -m pip install -q --no-deps --no-build-isolation -e .
$PY -c "import wsss_mm, mmseg.models, mmcv.ops, pydensecrf.densecrf; print('[setup_env] ok: wsss_mm', wsss_mm.__version__)"
