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

echo "== samepack create program: register the pipeline (samepack.yaml) in the local store"
export SAMEPACK_HOME="$work/samepack-home"
samepack create program -f samepack.yaml
samepack programs

if [ ! -x .samepack/env/bin/python ] && ! python -c 'import pandas, sklearn' 2>/dev/null; then
  # no environment made by `samepack env create`: give samepack's own one what train.py needs
  python -m pip install -q pandas scikit-learn
fi
echo "== samepack run: train with alpha overridden; the run is recorded"
samepack run program wine-quality --alpha=0.3
echo "== samepack runs list: the run history"
samepack runs list

echo "== samepack export: one verified, reproducible bundle of the program"
samepack export program -n wine-quality -o "$work/wine-quality.tgz"
samepack verify "$work/wine-quality.tgz"
echo "== samepack import into a fresh store, and run it there"
export SAMEPACK_HOME="$work/elsewhere-home"
samepack import "$work/wine-quality.tgz"
samepack run program wine-quality
samepack runs list
