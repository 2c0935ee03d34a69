#!/usr/bin/env bash
# Regenerate the facts firmware_notes/ quotes (op list, sizes, arena, I/O quantisation) from asc-export itself,
# so they cannot drift from the files: bash scripts/firmware_facts.sh [MODEL.tflite]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-src/asc_edge/runtime/default_model/synth_student_int8.tflite}
{
  echo "\$ asc-export --info $MODEL"
  .venv/bin/asc-export --info "$MODEL"
} > firmware_notes/generated/packaged-model-info.txt
echo "wrote firmware_notes/generated/packaged-model-info.txt"
