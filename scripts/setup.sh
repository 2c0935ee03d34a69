#!/usr/bin/env bash
# Create .venv and install asc-edge with every extra. torch is installed first and pinned: the 2.13.0 pin
# resolves to the CPU build; any looser spec would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
echo "== installing torch==2.13.0 (CPU), then asc-edge[all] (about 3.5 GB, ~2 minutes on a fresh machine)"
.venv/bin/python -m pip install --quiet --progress-bar off torch==2.13.0
.venv/bin/python -m pip install --quiet --progress-bar off -e ".[all]"
.venv/bin/python -m pip check
# CMSIS-DSP's C sources for the generated C frontend's tests: the cmsisdsp source distribution, fetched like any
# package and unpacked into the gitignored .cmsis-dsp/ (the repository holds no copy; nothing is fetched at run
# time). No wheel exists for this platform, so pip saves the .tar.gz.
CMSIS=cmsisdsp-1.10.3
if [ ! -f ".cmsis-dsp/$CMSIS/Source/TransformFunctions/arm_rfft_fast_f32.c" ]; then
  echo "== fetching the $CMSIS source distribution into .cmsis-dsp/"
  mkdir -p .cmsis-dsp
  if .venv/bin/python -m pip download --quiet --no-deps -d .cmsis-dsp "cmsisdsp==${CMSIS#cmsisdsp-}" \
      && [ -f ".cmsis-dsp/$CMSIS.tar.gz" ]; then
    tar -xzf ".cmsis-dsp/$CMSIS.tar.gz" -C .cmsis-dsp
  else
    echo "== warning: no $CMSIS source distribution; the C frontend tests will skip" >&2
  fi
fi
