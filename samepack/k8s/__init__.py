"""Programs on Kubernetes: pure rendering and validation of manifests, a preflight over node
facts, and a thin layer that applies and watches them with the kubernetes client."""

from samepack.k8s.objects.render import render_manifests
from samepack.k8s.api.validate import validate_manifests

__all__ = ["render_manifests", "validate_manifests"]
