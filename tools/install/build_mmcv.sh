#!/usr/bin/env bash
# Build (or reuse) an mmcv 2.1.0 wheel with compiled ops for the torch in $PYTHON's environment.
#
# mmcv 2.1.0 has no wheel on PyPI for current torch, so it is built from its sdist:
#  * its setup.py imports pkg_resources -> setuptools<70 and --no-build-isolation;
#  * it hard-codes -std=c++14/17 while torch>=2.10 headers need C++20 -> raised to c++20.
# The wheel is cached in $WSSS_MM_CACHE (default ~/.cache/wsss_mm/wheels), keyed by mmcv,
# torch and Python version, so later installs and CI runs on the same machine reuse it.
# Skips everything when a matching mmcv with ops is already importable (e.g. a prebuilt
# OpenMMLab wheel); set WSSS_MM_SKIP_MMCV=1 to skip unconditionally.
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
# absolute path without resolving the venv's symlink to the base interpreter
PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")"
MMCV_VERSION=${MMCV_VERSION:-2.1.0}
CACHE=${WSSS_MM_CACHE:-$HOME/.cache/wsss_mm/wheels}

if [ "${WSSS_MM_SKIP_MMCV:-0}" = "1" ]; then
  echo "[build_mmcv] WSSS_MM_SKIP_MMCV=1: not touching mmcv"; exit 0
fi
if "$PYTHON" - "$MMCV_VERSION" <<'PY' 2>/dev/null
import sys, mmcv, mmcv.ops  # noqa: F401
sys.exit(0 if mmcv.__version__ == sys.argv[1] else 1)
PY
then
  echo "[build_mmcv] mmcv $MMCV_VERSION with ops already importable: skipping build"; exit 0
fi

key=$("$PYTHON" -c "import sys, torch; v = torch.__version__.replace('+', '_'); print(f'mmcv-$MMCV_VERSION-torch{v}-cp{sys.version_info[0]}{sys.version_info[1]}')")
dir="$CACHE/$key"
wheel=$(ls "$dir"/mmcv-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ]; then
  echo "[build_mmcv] no cached wheel in $dir: building mmcv $MMCV_VERSION from sdist (~10 min on 2 cores)"
  # mmcv's setup.py needs pkg_resources (setuptools<70) while torch wants a newer
  # setuptools: downgrade for the build only and restore the previous version after.
  prev_setuptools=$("$PYTHON" -c "import setuptools; print(setuptools.__version__)")
  work=$(mktemp -d)
  trap 'rm -rf "$work"; "$PYTHON" -m pip install -q "setuptools==$prev_setuptools"' EXIT
  "$PYTHON" -m pip install -q "setuptools<70" wheel ninja
  "$PYTHON" -m pip download --no-deps --no-binary :all: --no-build-isolation "mmcv==$MMCV_VERSION" -d "$work" -q
  tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
  src="$work/mmcv-$MMCV_VERSION"
  sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$src/setup.py"
  mkdir -p "$work/out"
  (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
     "$PYTHON" -m pip wheel --no-build-isolation --no-deps . -w "$work/out")
  mkdir -p "$dir"
  built=$(ls "$work"/out/mmcv-*.whl)
  # atomic publish into the cache: copy under a temp name, then rename
  cp "$built" "$dir/.tmp-$(basename "$built")"
  mv "$dir/.tmp-$(basename "$built")" "$dir/$(basename "$built")"
  wheel="$dir/$(basename "$built")"
else
  echo "[build_mmcv] reusing cached wheel $wheel"
fi
"$PYTHON" -m pip install --no-deps "$wheel"
