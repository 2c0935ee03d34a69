#!/usr/bin/env bash
# The main job on built-in defaults: set up, generate a small device-imbalanced asc-synth dataset in the TAU
# layout, validate it, compute its log-mel feature cache and print a summary per fold and device.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
OUT=${ASC_QUICKSTART_DIR:-runs/quickstart}
echo "== asc-synth: 20 segments per scene, 5 s clips at 16 kHz -> $OUT/data"
asc-synth "$OUT/data" --clips-per-class 20 --duration 5 --sample-rate 16000 --overwrite
echo "== asc-features: check the layout, build the 'small' frontend feature cache, summarise"
asc-features "$OUT/data" --frontend small
