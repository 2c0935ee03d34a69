#!/usr/bin/env bash
# The main job on built-in defaults, end to end: set up .venv, generate a small device-imbalanced asc-synth set,
# fit the device translator, train the student with device translation, QAT,
# export to full-int8 TFLite through ONNX with the size and fidelity gates, classify the evaluate clips with
# asc-listen, run asc-bench, and print a summary. Measured: 232 s on a fresh clone, 132 s once installed (2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
OUT=${ASC_QUICKSTART_DIR:-runs/quickstart}
D="$OUT/data"
step() { echo; echo "== [$(( $(date +%s) - START )) s] $*"; }
step "asc-synth: 40 segments per scene, 5 s clips at 16 kHz, devices a (most), b, c, s1-s3; s4-s6 unseen"
asc-synth "$D" --clips-per-class 40 --duration 5 --sample-rate 16000 --seed 5 --overwrite
T="--data $D --frontend small --batch-size 16 --overwrite"
step "asc-train translator: device translation learned from the parallel recordings"
asc-train translator --data "$D" --out "$OUT/translator.pt" --frontend small
# No teacher here: on this small set a teacher trained in minutes is no better than the student, and
# distilling from it cost 2.3 points (README, ablation (c) -> (d)) and int8 agreement (76 % instead of 90 %).
step "asc-train student (30 epochs, device-translation augmentation)"
asc-train $T --out "$OUT/student.pt" --preset student --epochs 30 --translator "$OUT/translator.pt"
step "asc-train QAT fine-tuning for int8 (5 epochs)"
asc-train $T --out "$OUT/student_qat.pt" --init "$OUT/student.pt" --qat --epochs 5 --lr 3e-4 \
  --translator "$OUT/translator.pt"
step "asc-export: ONNX -> full-int8 TFLite, 128,000-byte budget, fidelity gate"
# The default gate asks for 99 % top-1 agreement with PyTorch; models trained on this small synthetic set
# reach ~90 % (with no accuracy drop), see README "asc-export". The main job gates at 85 % and says so.
asc-export "$OUT/student_qat.pt" -o "$OUT/export" --c-array --min-agreement 0.85
step "asc-listen: classify every clip of the dataset with the int8 file (no torch, no TensorFlow)"
asc-listen "$D/audio" --model "$OUT/export/model_int8.tflite" --format jsonl --out "$OUT/listen.jsonl"
asc-listen "$D/audio/$(ls "$D/audio" | grep -- '-s5.wav' | head -1)" --model "$OUT/export/model_int8.tflite"
step "asc-bench: int8 LiteRT vs float ONNX Runtime vs PyTorch"
asc-bench "$OUT/export/model_int8.tflite" --checkpoint "$OUT/student_qat.pt" --runs 100 --json > "$OUT/bench.json"
python -c 'import json, sys; from asc_edge.runtime.bench_cli import table; print(table(json.load(open(sys.argv[1]))))' \
  "$OUT/bench.json"  # the same run as a table, not a second measurement
step "summary"
python scripts/quickstart_summary.py "$OUT" "$(( $(date +%s) - START ))"
