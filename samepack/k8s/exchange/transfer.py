"""The registry a cluster run exchanges files through (``--registry oci://HOST/REPO``, or
``$SAMEPACK_K8S_REGISTRY``): data sets too large for a ConfigMap go up as blobs named by their
sha256 before the pods start, and the pods' output files come back the same way, pulled by
digest and checked against it. A blob's digest is the file's sha256, so nothing is unpacked and
a file is verified by the one number the program and the history already keep.

Pods reach the registry over plain http only where this machine's client would allow it
(loopback, ``--insecure`` hosts, ``$SAMEPACK_INSECURE_REGISTRIES``), with this machine's login
when it has one (``samepack.k8s.exchange.access``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from samepack.errors import InputError, VerificationError

REGISTRY_ENV = "SAMEPACK_K8S_REGISTRY"
HINT = "give --registry oci://HOST[:PORT]/REPO (or export SAMEPACK_K8S_REGISTRY)"


@dataclass
class ClusterRegistry:
    """An open connection to the exchange registry and the URL pods use for the same place."""

    registry: object  # samepack.oci.registry.Registry
    repository: str

    @property
    def reference(self) -> str:
        """``oci://HOST/REPO``, as the run's tags keep it (no credentials in it)."""
        return f"oci://{self.registry.host}/{self.repository}"  # type: ignore[attr-defined]

    @property
    def base_url(self) -> str:
        return self.registry.transport.base  # type: ignore[attr-defined]

    def blob_url(self, digest: str) -> str:
        """Where a pod downloads the blob of ``digest`` (``sha256:HEX``)."""
        return f"{self.base_url}/v2/{self.repository}/blobs/{digest}"

    @property
    def upload_url(self) -> str:
        """Where a pod starts a blob upload (OCI distribution: POST, then PUT ``?digest=``)."""
        return f"{self.base_url}/v2/{self.repository}/blobs/uploads/"

    def push_file(self, path: Path, sha256: str) -> str:
        """Upload ``path`` as the blob ``sha256:<sha256>`` unless the registry has it; its URL."""
        from samepack.oci.blobs import FileSlice, upload_blob

        digest = f"sha256:{sha256}"
        size = path.stat().st_size
        if self.registry.blob_size(self.repository, digest) != size:  # type: ignore[attr-defined]
            upload_blob(self.registry.transport, self.repository,  # type: ignore[attr-defined]
                        FileSlice(path, 0, size, digest))
        return self.blob_url(digest)

    def fetch_file(self, sha256: str, size: int, target: Path) -> None:
        """Download the blob of ``sha256`` to ``target`` (through a ``.part`` file, removed on
        failure); VerificationError unless exactly ``size`` bytes with that digest arrived."""
        from samepack.oci.blobs import download_blob

        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            with open(partial, "wb") as out:
                download_blob(self.registry.transport, self.repository,  # type: ignore[attr-defined]
                              f"sha256:{sha256}", size, out)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    def close(self) -> None:
        self.registry.transport.session.close()  # type: ignore[attr-defined]


def registry_reference(text: str):
    """``--registry``'s value as an OCI reference to a repository (no tag, no digest)."""
    from samepack.oci.reference import parse_reference

    try:
        ref = parse_reference(text)
    except InputError as error:
        raise InputError(f"--registry: {error.message}", HINT) from None
    if ref.tag or ref.digest:
        raise InputError(f"--registry: {text} names a version; give only HOST/REPO", HINT)
    return ref


def open_registry(text: str | None) -> ClusterRegistry | None:
    """The exchange registry named by ``text`` (else ``$SAMEPACK_K8S_REGISTRY``); None when
    neither is set."""
    from samepack.oci.registry import Registry

    text = text or os.environ.get(REGISTRY_ENV) or None
    if text is None:
        return None
    ref = registry_reference(text)
    return ClusterRegistry(Registry.open(ref.host), ref.repository)


def check_digest(value: object, where: str) -> str:
    """``value`` as a lowercase sha256 hex digest, else VerificationError naming ``where``."""
    text = str(value)
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise VerificationError(f"{where}: {text[:80]!r} is not a sha256 digest",
                                hint="the pod's report is damaged; run the step again")
    return text
