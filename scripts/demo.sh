#!/usr/bin/env bash
# Set up samepack, then run the main job on the bundled wine-quality example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/wine-quality "$work/wine-quality"
cd "$work/wine-quality"

echo "== samepack scan: what does the project need?"
samepack scan .
