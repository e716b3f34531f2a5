#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export PATH="$PWD/.venv/bin:$PATH"  # the tools the test extras install (uv, pip-compile) are found by name
exec .venv/bin/python -m pytest -n 2 --dist loadgroup "$@"
