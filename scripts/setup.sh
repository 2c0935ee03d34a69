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
