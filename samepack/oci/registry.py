"""The registry operations samepack needs (OCI distribution API), over one :class:`Transport`."""

from __future__ import annotations

from dataclasses import dataclass

from samepack.errors import NotFoundError, RemoteError, VerificationError
from samepack.oci.artifact import MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, sha256_digest
from samepack.oci.transport import Transport


@dataclass(frozen=True)
class FetchedManifest:
    data: bytes
    media_type: str
    digest: str


class Registry:
    """One registry host. Repositories are arguments, so a push can mount between them."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def open(cls, host: str, *, insecure: bool = False) -> "Registry":
        transport = Transport(host, insecure=insecure)
        transport.connect()
        return cls(transport)

    @property
    def host(self) -> str:
        return self.transport.host

    def check_access(self) -> None:
        """Fail with a one-line error unless ``GET /v2/`` succeeds with our credentials."""
        response = self.transport.request("GET", "/v2/")
        if response.status_code != 200:
            raise self.transport.error(response, "checking the login")

    def blob_size(self, repository: str, digest: str) -> int | None:
        """Size of a blob the repository already has, or None."""
        response = self.transport.request("HEAD", f"/v2/{repository}/blobs/{digest}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.transport.error(response, f"checking blob {digest}")
        return int(response.headers.get("Content-Length", -1))

    def mount(self, repository: str, digest: str, source: str) -> bool | str:
        """Cross-repository mount: True when mounted, else the upload session it opened."""
        response = self.transport.request("POST", f"/v2/{repository}/blobs/uploads/",
                                          params={"mount": digest, "from": source})
        if response.status_code == 201:
            return True
        if response.status_code == 202 and response.headers.get("Location"):
            return response.headers["Location"]
        raise self.transport.error(response, f"mounting {digest} from {source}")

    def get_manifest(self, repository: str, version: str) -> FetchedManifest:
        """The manifest bytes as served; checked against a requested digest and the registry's
        ``Docker-Content-Digest``."""
        response = self.transport.request("GET", f"/v2/{repository}/manifests/{version}",
                                          headers={"Accept": MANIFEST_ACCEPT}, stream=True)
        where = f"{self.host}/{repository}:{version}"
        if response.status_code == 404:
            raise NotFoundError(f"no artifact {where} in the registry",
                                "check the repository and tag (or digest)")
        if response.status_code != 200:
            raise self.transport.error(response, f"fetching the manifest of {where}")
        data = self._read(response, MAX_MANIFEST_BYTES, f"manifest of {where}")
        digest = sha256_digest(data)
        expected = [d for d in (version if version.startswith("sha256:") else None,
                                response.headers.get("Docker-Content-Digest")) if d]
        for claimed in expected:
            if claimed != digest:
                raise VerificationError(f"manifest of {where} has digest {digest}, "
                                        f"not {claimed}", "the registry served other bytes "
                                        "than it names; do not trust this copy")
        return FetchedManifest(data, response.headers.get("Content-Type", ""), digest)

    def _read(self, response, limit: int, what: str) -> bytes:
        """A bounded body; a registry that stops sending within the timeout fails at once."""
        from samepack.oci.transport import TRANSIENT_ERRORS, is_timeout, read_limited

        try:
            return read_limited(response, limit, what)
        except TRANSIENT_ERRORS as error:
            if is_timeout(error) or is_timeout(getattr(error, "__context__", None) or error):
                raise self.transport.stalled("GET", response.request.path_url) from None
            raise RemoteError(f"registry {self.host} dropped the connection while sending "
                              f"{what}", "run the command again") from None

    def put_manifest(self, repository: str, tag: str, data: bytes, media_type: str) -> str:
        """PUT the manifest; return its digest (of the exact bytes, checked with the registry)."""
        response = self.transport.request("PUT", f"/v2/{repository}/manifests/{tag}", data=data,
                                          headers={"Content-Type": media_type})
        if response.status_code != 201:
            raise self.transport.error(response, f"writing the manifest {repository}:{tag}")
        digest = sha256_digest(data)
        answered = response.headers.get("Docker-Content-Digest")
        if answered and answered != digest:
            raise VerificationError(f"registry {self.host} stored the manifest as {answered}, "
                                    f"but its bytes hash to {digest}")
        return digest

    def get_blob_bytes(self, repository: str, digest: str, size: int) -> bytes:
        """A small blob (the config) in memory, verified."""
        response = self.transport.request("GET", f"/v2/{repository}/blobs/{digest}", stream=True)
        if response.status_code != 200:
            raise self.transport.error(response, f"fetching blob {digest}")
        data = self._read(response, size, f"blob {digest} from {self.host}/{repository}")
        if len(data) != size or sha256_digest(data) != digest:
            raise VerificationError(f"blob {digest} from {self.host}/{repository} does not match "
                                    "its digest or size: the registry's copy is damaged or was "
                                    "tampered with")
        return data
