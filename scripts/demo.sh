#!/usr/bin/env bash
# Set up samepack, then tell the whole story on the bundled wine-quality example: scan it, infer
# its program, lock its environment, run it, export one bundle, import and run it elsewhere, and
# reproduce the recorded run in an isolated store, ending with the reproduction report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/wine-quality "$work/wine-quality"
cd "$work/wine-quality"
export SAMEPACK_HOME="$work/samepack-home"

echo "== samepack scan: what does the project need?"
samepack scan .

echo "== samepack init: the program, inferred from the code without running it"
echo "   (a dry run: the example keeps its checked-in samepack.yaml, which init never overwrites)"
samepack init . --dry-run

echo "== samepack package-env: lock the environment with hashes (replacing the hand-written requirements.txt)"
samepack package-env . --force

echo "== samepack create program: register the pipeline (samepack.yaml) in the local store"
samepack create program -f samepack.yaml
samepack programs
echo "== samepack run: train with alpha overridden, in the environment made from the lock on first use; the run is recorded"
samepack run program wine-quality --alpha=0.3
echo "== samepack runs list: the run history"
samepack runs list

echo "== samepack export: one verified, reproducible bundle of the program and its runs"
samepack export program -n wine-quality -o "$work/wine-quality.tgz"
samepack verify "$work/wine-quality.tgz"
echo "== samepack import into a fresh store, and run it there (its environment made from the bundle's lock)"
export SAMEPACK_HOME="$work/elsewhere-home"
samepack import "$work/wine-quality.tgz"
samepack run program wine-quality
samepack runs list

echo "== samepack reproduce: re-run the recorded run in an isolated store, environment from the lock"
samepack reproduce "$work/wine-quality.tgz" --report-dir "$work/report"
echo "== the report"
cat "$work"/report/reproduce-*.md
