#!/usr/bin/env bash
# Set up samepack on a fresh Debian machine: a virtualenv in .venv with samepack installed in
# editable mode. With --test, also the system tools the test suite talks to for real
# (an OCI registry, skopeo, a Docker engine, buildah, debootstrap, Chromium for the report
# tests), the test extras, and a Kubernetes control plane for the tests (envtest's
# KUBEBUILDER_ASSETS layout, unpacked from ../shared/envtest into .envtest/ when that folder is
# there; elsewhere `setup-envtest use 1.36`).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "setup: need root (or sudo) to run: $*" >&2; return 1; fi; }

apt_packages=()
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_packages+=(python3-venv)
command -v git >/dev/null || apt_packages+=(git)
if [ "$want_test" = 1 ]; then
  for tool in docker-registry:docker-registry htpasswd:apache2-utils skopeo:skopeo \
              dockerd:docker.io buildah:buildah debootstrap:debootstrap openssl:openssl \
              chromium:chromium; do
    command -v "${tool%%:*}" >/dev/null || apt_packages+=("${tool#*:}")
  done
  command -v openssl >/dev/null || apt_packages+=(openssl)  # the control plane's certificates
  command -v xz >/dev/null || apt_packages+=(xz-utils)      # unpacks envtest's binaries
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${apt_packages[*]}" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
extras="all"
[ "$want_test" = 1 ] && extras="test"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[$extras]"

# The Kubernetes tests' control plane (etcd, kube-apiserver, kube-controller-manager, kubectl),
# checked by sha256; scripts/test.sh points KUBEBUILDER_ASSETS at .envtest/bin.
if [ "$want_test" = 1 ] && [ -z "${KUBEBUILDER_ASSETS:-}" ] && [ -f ../shared/envtest/install.sh ]; then
  bash ../shared/envtest/install.sh .envtest >/dev/null
fi
