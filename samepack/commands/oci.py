"""``samepack push`` / ``pull`` / ``login`` / ``logout``: bundles through an OCI registry."""

from __future__ import annotations

import re
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import click

from samepack.commands.jsonmode import emit, json_option
from samepack.console import byte_progress, decimal_size, info, out
from samepack.errors import InputError

_PROGRAM_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(:[A-Za-z0-9_.+-]+)?$")
BUNDLE_SUFFIXES = (".tgz", ".tar.gz", ".tzst", ".tar.zst")
_INSECURE_HELP = ("Allow plain http and unverified TLS for this registry (loopback "
                  "registries and those in $SAMEPACK_INSECURE_REGISTRIES may use plain http "
                  "without it).")


@dataclass
class _PushSource:
    bundle: Path
    revision: str | None = None


def _looks_like_file(source: str) -> bool:
    return "/" in source or source.endswith(BUNDLE_SUFFIXES)


@contextmanager
def _bundle_file(source: str) -> Iterator[_PushSource]:
    """The bundle to push: a file as given, or a registered program exported to a temp file
    (with its project's git commit as the revision)."""
    path = Path(source)
    if path.is_file():
        yield _PushSource(path)
        return
    if _looks_like_file(source) or not _PROGRAM_REF.match(source):
        raise InputError(f"{source}: no such bundle file",
                         "give a bundle written by `samepack export`, or a registered program "
                         "NAME[:VERSION] (see `samepack programs`)")
    from samepack.bundle.parts.code import git_info
    from samepack.bundle.write.export import export_bundle
    from samepack.store import Store

    entry = Store().get(source)
    with tempfile.TemporaryDirectory(prefix="samepack-push-") as temp:
        result = export_bundle(entry, Path(temp) / f"{entry.name}-{entry.version}.tgz")
        git = git_info(Path(entry.project_dir)) if entry.project_dir else None
        yield _PushSource(result.path, git.commit if git else None)


@click.command("push")
@click.argument("source")
@click.argument("target")
@click.option("--insecure", is_flag=True, help=_INSECURE_HELP)
@click.option("--source-url", "source_url", help="Annotation org.opencontainers.image.source.")
@click.option("--revision", help="Annotation org.opencontainers.image.revision (a commit).")
@json_option()
def push(source: str, target: str, insecure: bool, source_url: str | None,
         revision: str | None, as_json: bool) -> None:
    """Push a bundle (FILE, or a registered program NAME[:VERSION]) to
    oci://HOST[:PORT]/REPO[:TAG].

    The tag defaults to the program version. Parts the registry already has are not sent
    again. Prints the manifest digest, to pin the artifact as oci://HOST/REPO@DIGEST.
    """
    from samepack.oci.push import push_bundle
    from samepack.oci.reference import parse_reference

    from samepack.oci.registry import Registry
    from samepack.trust.remote import publish_trust, signature_to_push

    ref = parse_reference(target)
    with _bundle_file(source) as chosen:
        envelope = signature_to_push(chosen.bundle)
        with byte_progress("pushing", None) as progress:
            result = push_bundle(chosen.bundle, ref, insecure=insecure, source=source_url,
                                 revision=revision or chosen.revision,
                                 on_bytes=lambda n: progress.advance(progress.task_ids[0], n))
        registry = Registry.open(ref.host, insecure=insecure)
        referrers = publish_trust(registry, result.pinned, chosen.bundle, envelope)
    if as_json:
        emit({"ok": True, "reference": str(result.reference), "digest": result.digest,
              "pinned": str(result.pinned), "sent": result.sent, "skipped": result.skipped,
              "mounted": result.mounted, "blobs": result.outcomes, "referrers": referrers,
              "signed": envelope is not None})
        return
    info(f"pushed {result.reference}: sent {decimal_size(result.sent)}, already there "
         f"{decimal_size(result.skipped)}, mounted {decimal_size(result.mounted)}")
    if referrers:
        info(f"attached {len(referrers)} referrers (provenance, SBOM"
             f"{', signature' if envelope else ''})")
    info(f"pin it as {result.pinned}")
    out.print(result.digest, highlight=False)


@click.command("pull")
@click.argument("reference")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Bundle file to write (default: NAME-VERSION.tgz here).")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists (with "
              "--import: also replace a program registered with other content).")
@click.option("--import", "do_import", is_flag=True, help="Import the bundle after pulling.")
@click.option("--insecure", is_flag=True, help=_INSECURE_HELP)
@click.option("--key", "key_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Require a signature by this PEM public key (repeatable; the policy's keys "
                   "count too).")
@json_option()
def pull(reference: str, output: Path | None, force: bool, do_import: bool,
         insecure: bool, key_files: tuple[Path, ...], as_json: bool) -> None:
    """Pull oci://HOST[:PORT]/REPO:TAG (or @sha256:DIGEST) into a verified bundle file.

    Its signature (a referrer of the artifact) is checked before any layer is fetched when
    --key or the policy asks, and written beside the file as BUNDLE.intoto.json.
    """
    from samepack.oci.pull import fetch_remote, pull_bundle, require_version
    from samepack.oci.reference import parse_reference
    from samepack.oci.registry import Registry
    from samepack.trust.policy import trust_settings
    from samepack.trust.remote import check_remote, keep_signature

    ref = parse_reference(reference)
    require_version(ref)
    settings = trust_settings(key_files)
    registry = Registry.open(ref.host, insecure=insecure)
    remote = fetch_remote(registry, ref)
    verdict, envelopes = check_remote(registry, remote, settings)
    if verdict.signed:
        info(verdict.describe())
    with byte_progress("pulling", None) as progress:
        result = pull_bundle(ref.with_digest(remote.artifact.digest), output, force=force,
                             registry=registry,
                             on_bytes=lambda n: progress.advance(progress.task_ids[0], n))
    keep_signature(result.path, envelopes, verdict)
    manifest = result.remote.manifest
    info(f"pulled {manifest.name} {manifest.version} ({result.remote.artifact.digest}), "
         f"{decimal_size(result.received)} received")
    if not as_json:
        out.print(str(result.path), highlight=False)
    document = {"ok": True, "path": str(result.path), "program": f"{manifest.name}:"
                f"{manifest.version}", "digest": result.remote.artifact.digest,
                "received": result.received, "signed": bool(verdict.signed), "imported": None}
    if do_import:
        from samepack.bundle.read.importer import import_bundle

        imported = import_bundle(result.path, force=force)
        entry = getattr(imported, "entry", imported)
        info(f"imported {entry.ref} into the local store")
        document["imported"] = entry.ref
    if as_json:
        emit(document)


@click.command("login")
@click.argument("host")
@click.option("-u", "--username", help="User name (asked for when not given).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--insecure", is_flag=True, help=_INSECURE_HELP)
def login(host: str, username: str | None, password_stdin: bool, insecure: bool) -> None:
    """Check credentials for HOST[:PORT] and store them in Docker's config file."""
    from samepack.oci.login import login as do_login

    username = username or click.prompt("Username")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True)
    if not password:
        raise InputError("empty password", "pipe it with --password-stdin or type it at the prompt")
    where = do_login(host, username, password, insecure=insecure)
    info(f"login to {host} succeeded; credentials stored in {where}")


@click.command("logout")
@click.argument("host")
def logout(host: str) -> None:
    """Forget the stored credentials for HOST[:PORT] (Docker's config file or its helper)."""
    from samepack.oci.credentials import normalise_host, remove_credentials
    from samepack.oci.reference import SCHEME

    host = normalise_host(host.removeprefix(SCHEME))
    where = remove_credentials(host)
    info(f"removed the credentials for {host} from {where}" if where
         else f"no credentials stored for {host}")


@click.command("copy")
@click.argument("source")
@click.argument("destination")
@click.option("--insecure", is_flag=True, help=_INSECURE_HELP)
@json_option()
def copy(source: str, destination: str, insecure: bool, as_json: bool) -> None:
    """Copy an artifact and its signatures, SBOM and provenance, byte for byte, between
    registries and OCI layout folders: SOURCE and DESTINATION are oci://HOST/REPO:TAG or
    oci-layout:DIR[:TAG] (a folder to carry into an air-gapped site).
    """
    from samepack.oci.copy import copy_artifact

    with byte_progress("copying", None) as progress:
        result = copy_artifact(source, destination, insecure=insecure,
                               on_bytes=lambda n: progress.advance(progress.task_ids[0], n))
    if as_json:
        emit({"ok": True, **result.__dict__})
        return
    info(f"copied {source} to {destination}: {result.blobs_copied} blobs "
         f"({decimal_size(result.bytes_copied)}), {result.blobs_present} already there, "
         f"{len(result.referrers)} referrers")
    out.print(result.digest, highlight=False)
