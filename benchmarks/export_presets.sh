#!/usr/bin/env bash
# Train the device presets (and a QAT stage of each) on an asc-synth set, then asc-export each with the default
# gates; prints file bytes, fidelity and wall time. The README's export table comes from this script:
#   asc-synth /tmp/m3/data --clips-per-class 40 --duration 5 --sample-rate 16000 --seed 5
#   bash benchmarks/export_presets.sh /tmp/m3/data /tmp/m4
set -uo pipefail
D=${1:?usage: export_presets.sh DATA_DIR OUT_DIR}; O=${2:?usage: export_presets.sh DATA_DIR OUT_DIR}
mkdir -p "$O"
asc-train translator --data "$D" --out "$O/translator.pt" --frontend small --quiet
C="--data $D --frontend small --batch-size 16 --quiet --overwrite --translator $O/translator.pt"
for p in student tiny; do
  echo "\$ asc-train $C --out $O/$p.pt --preset $p --epochs 30"
  /usr/bin/time -f "wall %e s" asc-train $C --out "$O/$p.pt" --preset $p --epochs 30 2>&1 | tail -2
  echo "\$ asc-train $C --out $O/${p}_qat.pt --init $O/$p.pt --qat --epochs 5 --lr 3e-4"
  /usr/bin/time -f "wall %e s" asc-train $C --out "$O/${p}_qat.pt" --init "$O/$p.pt" --qat --epochs 5 --lr 3e-4 2>&1 | tail -2
  for m in $p ${p}_qat; do
    echo "\$ asc-export $O/$m.pt -o $O/${m}_export"
    /usr/bin/time -f "wall %e s" asc-export "$O/$m.pt" -o "$O/${m}_export" --quiet 2>&1
  done
done
