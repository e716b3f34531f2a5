#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# The Kubernetes tests start a real API server from envtest's binaries (see docs/kubernetes.md).
if [ -z "${KUBEBUILDER_ASSETS:-}" ] && [ -x .envtest/bin/kube-apiserver ]; then
  export KUBEBUILDER_ASSETS=$PWD/.envtest/bin
fi
export PATH="$PWD/.venv/bin:$PATH"  # the tools the test extras install (uv, pip-compile) are found by name
exec .venv/bin/python -m pytest -n 2 --dist loadgroup "$@"
