#!/usr/bin/env bash
# Rebuild the packaged default model from an ESC-10 folder (a folder per label with folds.csv, README_original.md:
# github.com/karolpiczak/ESC-10 at 553c8f1, see docs/real-audio.md):
#   1. 5-fold cross-validation on the official folds with asc-train's defaults (the card's estimate);
#   2. fold 5's model (trained on folds 1-4; fold 5 held out for the export's gates) exported again with the
#      card's data, classes and CV estimate sealed in, plus the NOTICE with ESC-10's attribution;
#   3. the file copied to src/asc_edge/runtime/default_model/esc10_student_int8.tflite.
# Usage: bash scripts/build_esc10_model.sh ESC10_DIR [RUN_DIR]   (about 20-60 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: bash scripts/build_esc10_model.sh ESC10_DIR [RUN_DIR]}
RUN=${2:-runs/esc10_cv}
export PATH="$PWD/.venv/bin:$PATH"
asc-train cv --data "$DATA" --folds "$DATA/folds.csv" --frontend small --out "$RUN"
python scripts/esc10_package.py "$DATA" "$RUN"
rm -rf "$RUN/packaged"
asc-export "$RUN/fold5/model.pt" --calib "$DATA" --cache-dir "$RUN/feature-cache" --about "$RUN/about.json" \
  -o "$RUN/packaged"
cp "$RUN/packaged/model_int8.tflite" src/asc_edge/runtime/default_model/esc10_student_int8.tflite
echo "packaged: src/asc_edge/runtime/default_model/esc10_student_int8.tflite (+ NOTICE)"
