#!/usr/bin/env bash
# Set up .venv exactly as the README says, then lint and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff check"
.venv/bin/ruff check src tests benchmarks
echo "== pytest"
.venv/bin/python -m pytest -q tests "$@"
