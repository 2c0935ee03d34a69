#!/usr/bin/env bash
# Build an emulated aarch64 (Raspberry Pi 4 class) Python 3.11 with only the runtime's dependencies, then run
# asc-listen on a WAV under qemu-user:
#   bash scripts/arm64_emulation.sh [ROOT_DIR] [WAV]        (root of the arm64 tree: default .arm64-root)
# Prints asc-listen's JSON lines. Needs root (apt) and the Debian and PyPI registries. Recipe and caveats:
# docs/toolchain.md (ai-edge-litert 2.2/2.3 segfault under qemu 7.2: 2.1.6 is pinned here).
set -euo pipefail
ROOT=$(realpath -m "${1:-.arm64-root}")
WAV=${2:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)
MIRROR=http://deb.debian.org/debian

if ! command -v qemu-aarch64-static >/dev/null || ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static debootstrap >/dev/null
fi
if [ ! -x "$ROOT/usr/bin/python3.11" ]; then
  echo "arm64: debootstrap (foreign, minbase, python3) into $ROOT" >&2
  debootstrap --foreign --arch=arm64 --variant=minbase --include=python3 bookworm "$ROOT" "$MIRROR" >/dev/null
  for deb in "$ROOT"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
fi
if [ ! -d "$ROOT/opt/site/ai_edge_litert" ] || [ ! -d "$ROOT/opt/site/scipy" ]; then
  echo "arm64: runtime wheels (numpy, soundfile, scipy, ai-edge-litert 2.1.6) for manylinux aarch64" >&2
  platforms=""  # bookworm has glibc 2.36: any manylinux_2_17 .. 2_36 aarch64 wheel runs
  for v in 17 24 26 27 28 29 30 31 32 33 34 35 36; do platforms="$platforms --platform manylinux_2_${v}_aarch64"; done
  # shellcheck disable=SC2086
  PIP_FIND_LINKS= "$REPO/.venv/bin/python" -m pip install -q --no-warn-conflicts --target "$ROOT/opt/site" $platforms \
    --only-binary=:all: --python-version 3.11 "numpy<2" soundfile scipy ai-edge-litert==2.1.6
fi
rm -rf "$ROOT/opt/asc" && mkdir -p "$ROOT/opt/asc"
cp -r "$REPO/src/asc_edge" "$ROOT/opt/asc/"   # the package as-is: the runtime imports no torch/tensorflow
run() {
  qemu-aarch64-static -cpu cortex-a72 -L "$ROOT" -E PYTHONPATH=/opt/site:/opt/asc -E HOME=/tmp \
    "$ROOT/usr/bin/python3.11" "$@"
}
run -c "import platform; print('arm64: python', platform.python_version(), platform.machine())" >&2
if [ -n "$WAV" ]; then
  mkdir -p "$ROOT/tmp"
  cp "$WAV" "$ROOT/tmp/input.wav"
  # qemu's -L maps absolute paths into ROOT for the emulated program, so /tmp/input.wav is ROOT/tmp/input.wav.
  run -m asc_edge.runtime.listen_cli "$ROOT/tmp/input.wav" --format jsonl
fi
