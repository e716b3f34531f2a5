"""A program's container image carried inside its bundle, for sites with no registry access.

``export --include-image`` copies the image (by the digest ``samepack build`` recorded) into an
OCI layout folder stored in the bundle's ``env`` part as ``env/image/`` (``oci-layout``,
``index.json``, ``blobs/sha256/...``, the image tagged ``image``), with ``env/image.ref``
naming the original reference. ``import --image-registry HOST`` copies it into the site's
registry under the same repository path and digest, byte for byte, so that a cluster whose
nodes mirror the original registry to HOST (containerd registry mirrors) pulls it by digest.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from samepack.errors import InputError, NotFoundError
from samepack.oci.reference import SCHEME, parse_reference

LAYOUT_DIR = "env/image"
REF_FILE = "env/image.ref"
LAYOUT_TAG = "image"


def image_reference(image: str):
    """The OCI reference of an image as a program names it (``HOST[:PORT]/REPO@sha256:...``
    or ``:TAG``); images without a registry host cannot be fetched here."""
    first = image.split("/", 1)[0]
    if "/" not in image or not ("." in first or ":" in first or first == "localhost"):
        raise InputError(f"image {image!r} names no registry host, so it cannot be copied into "
                         "the bundle", "push it first (`samepack build --push`) so the program "
                         "records HOST/REPO@sha256:DIGEST")
    return parse_reference(SCHEME + image)


@contextmanager
def image_sources(image: str | None, insecure: bool = False) -> Iterator[list]:
    """Sources of ``env/image/...`` for the program's image (valid inside the block)."""
    from samepack.bundle.write.writer import Source
    from samepack.oci.copy import copy_artifact

    if not image:
        raise InputError("--include-image: the program records no image",
                         "build and push one with `samepack build --push`, or set "
                         "environment.image in samepack.yaml")
    ref = image_reference(image)
    with tempfile.TemporaryDirectory(prefix="samepack-image-") as temp:
        layout = Path(temp) / "image"
        copy_artifact(str(ref), f"oci-layout:{layout}:{LAYOUT_TAG}", insecure=insecure,
                      with_referrers=False)
        files = sorted(p for p in layout.rglob("*") if p.is_file())
        sources = [Source(f"{LAYOUT_DIR}/{p.relative_to(layout).as_posix()}", 0o644, file=p)
                   for p in files]
        sources.append(Source(REF_FILE, 0o644, data=(image + "\n").encode("utf-8")))
        yield sorted(sources, key=lambda s: s.path)


def load_image(entry_path: Path, registry_host: str, insecure: bool = False) -> str:
    """Copy the bundled image of an imported program into ``registry_host``; the reference it
    is reachable by there."""
    from samepack.oci.copy import copy_artifact

    layout = Path(entry_path) / LAYOUT_DIR
    ref_file = Path(entry_path) / REF_FILE
    if not (layout / "index.json").is_file() or not ref_file.is_file():
        raise NotFoundError("the bundle carries no image (env/image/)",
                            "export it with `samepack export program --include-image`")
    original = image_reference(ref_file.read_text(encoding="utf-8").strip())
    tag = original.tag or LAYOUT_TAG
    target = f"{SCHEME}{registry_host}/{original.repository}:{tag}"
    result = copy_artifact(f"oci-layout:{layout}:{LAYOUT_TAG}", target, insecure=insecure,
                           with_referrers=False)
    if original.digest and result.digest != original.digest:
        from samepack.errors import VerificationError

        raise VerificationError(f"the bundled image has digest {result.digest}, the program "
                                f"names {original.digest}", "export the bundle again")
    return f"{registry_host}/{original.repository}@{result.digest}"
