#!/usr/bin/env bash
# Set up .venv exactly as the README says, then lint and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/system_packages.sh
if command -v qemu-aarch64-static >/dev/null; then
  echo "== emulated ARM64 runtime root (.arm64-root)"
  bash scripts/arm64_emulation.sh .arm64-root || echo "== warning: ARM64 root not built; its test will skip" >&2
fi
echo "== ruff check"
.venv/bin/ruff check src tests benchmarks scripts
echo "== pytest"
.venv/bin/python -m pytest -q tests "$@"
