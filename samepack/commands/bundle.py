"""``samepack export program``, ``import``, ``verify`` and ``inspect``: bundles on disk."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import click

from samepack.commands.jsonmode import emit, json_option
from samepack.console import byte_counter, info, out, warn
from samepack.console import result as result_line


def _limit_options(function):
    options = [
        click.option("--max-size", default="64GiB", show_default=True,
                     help="Refuse bundles that expand to more than this."),
        click.option("--max-member-size", default="32GiB", show_default=True,
                     help="Refuse bundles with a member larger than this."),
        click.option("--max-ratio", default=200.0, show_default=True, type=float,
                     help="Refuse bundles that expand more than this many times (0: no limit)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _trust_options(function):
    options = [
        click.option("--key", "key_files", multiple=True,
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Require a signature by this PEM public key (repeatable; the "
                          "policy's keys count too)."),
        click.option("--signature", type=click.Path(dir_okay=False, path_type=Path),
                     help="The signature file [default: SOURCE.intoto.json beside it]."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def check_trust(source: Path, key_files: tuple[Path, ...], signature: Path | None):
    """Refuse the bundle unless its signature meets ``--key`` and the policy (before the
    bundle is read through); the verdict, to report once the bundle checked out."""
    from samepack.trust.gate import check_local

    return check_local(source, key_files, signature)


def _report_trust(verdict) -> None:
    if verdict.signed:
        info(verdict.describe())


def _limits(max_size: str, max_member_size: str, max_ratio: float):
    from samepack.bundle.read.safety import Limits, parse_size

    return Limits(parse_size(max_size, "--max-size"),
                  parse_size(max_member_size, "--max-member-size"), max_ratio)


@click.group("export")
def export() -> None:
    """Export a registered program as one verified, reproducible bundle."""


@export.command("program")
@click.option("-n", "--name", "ref", required=True, metavar="NAME[:VERSION]",
              help="The registered program (latest version when none is given).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Bundle file to write [default: NAME-VERSION.tgz].")
@click.option("--runs", default="last:5", show_default=True, metavar="none|last:N|all|ID,...",
              help="Run history to include.")
@click.option("--compression", type=click.Choice(["gzip", "zstd"]), default="gzip",
              show_default=True)
@click.option("--include-data", is_flag=True, help="Put local data files in the bundle too.")
@click.option("--no-code", is_flag=True, help="Leave the project's source out.")
@click.option("--include-image", is_flag=True,
              help="Put the program's container image in the bundle (env/image/, an OCI "
                   "layout) for clusters with no registry access.")
@click.option("--k8s-version", metavar="MAJOR.MINOR",
              help="Validate infra/ manifests for this Kubernetes version.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@json_option()
def export_program(ref: str, output: Path | None, runs: str, compression: str,
                   include_data: bool, no_code: bool, include_image: bool,
                   k8s_version: str | None, force: bool, as_json: bool) -> None:
    """Write NAME-VERSION.tgz: program, environment lock, code, Kubernetes manifests, run
    history and data pointers. The same inputs give a byte-identical file."""
    from samepack.bundle.write.export import ExportOptions, export_bundle
    from samepack.bundle.read.inspect import human

    with byte_counter("exporting", None) as advance:
        options = ExportOptions(runs=runs, compression=compression, include_code=not no_code,
                                include_data=include_data, include_image=include_image,
                                k8s_version=k8s_version, force=force,
                                on_bytes=advance)
        result = export_bundle(ref, output, options)
    for line in left_out_lines(result.skipped):
        warn(line)
    for message in result.warnings:
        warn(message)
    manifest = result.manifest
    if as_json:
        emit({"ok": True, "path": str(result.path), "size": result.size,
              "program": f"{manifest.name}:{manifest.version}",
              "parts": [p.name for p in manifest.parts], "members": len(manifest.members()),
              "skipped": [{"path": p, "reason": r} for p, r in result.skipped]})
        return
    info(f"exported {manifest.name}:{manifest.version}: {len(manifest.members())} files in "
         f"{', '.join(p.name for p in manifest.parts)} ({human(result.size)})")
    result_line(str(result.path))


@click.command("import")
@click.argument("source", type=click.Path(exists=False, path_type=Path))
@click.option("--as", "as_ref", metavar="NAME:VERSION", help="Register under another name.")
@click.option("--env", "make_env", is_flag=True,
              help="Recreate the environment from the bundled lock.")
@click.option("--data", "fetch", is_flag=True,
              help="Fetch the data sets and check their sha256.")
@click.option("--force", is_flag=True, help="Replace a program registered with other content.")
@click.option("--cluster", is_flag=True,
              help="Then deploy it to the current Kubernetes context (like samepack deploy).")
@click.option("--image-registry", metavar="HOST[:PORT]",
              help="Load the image carried in the bundle (export --include-image) into this "
                   "registry, same repository and digest, before any deploy.")
@click.option("--context", help="With --cluster: the kubeconfig context (default: the current one).")
@click.option("--namespace", "-n", help="With --cluster: the namespace (default: the program's name).")
@click.option("--registry", metavar="oci://HOST/REPO",
              help="With --cluster: carry data sets over 768 KiB through this registry "
                   "(default $SAMEPACK_K8S_REGISTRY).")
@_limit_options
@_trust_options
@json_option()
def import_(source: Path, as_ref: str | None, make_env: bool, fetch: bool, force: bool,
            cluster: bool, image_registry: str | None, context: str | None,
            namespace: str | None, registry: str | None, max_size: str, max_member_size: str,
            max_ratio: float, key_files: tuple[Path, ...], signature: Path | None,
            as_json: bool) -> None:
    """Verify a bundle FILE (or an extracted bundle DIR) completely, then register it.

    Nothing becomes visible unless every member matches the manifest and the safety rules;
    importing the same bundle again changes nothing.
    """
    from samepack.bundle.read.importer import fetch_data, import_with_report

    for flag, value in (("--context", context), ("--namespace", namespace),
                        ("--registry", registry)):
        if value and not cluster:
            raise click.UsageError(f"{flag}: applies to import --cluster only")
    if registry:
        from samepack.k8s.exchange.transfer import registry_reference

        registry_reference(registry)  # a malformed reference fails before anything is imported

    verdict = check_trust(source, key_files, signature)
    report = import_with_report(source, as_ref=as_ref, force=force,
                                limits=_limits(max_size, max_member_size, max_ratio),
                                progress=True, signature_checked=True)
    entry = report.entry
    _report_trust(verdict)
    info(f"imported {entry.ref} into {entry.path} ({report.runs_added} runs restored)")
    document: dict = {"ok": True, "ref": entry.ref, "path": str(entry.path),
                      "runs_added": report.runs_added, "signed": bool(verdict.signed)}
    if make_env:
        from samepack.bundle.read.envsetup import create_env

        document["python"] = str(create_env(entry))
    if fetch:
        document["datasets"] = {name: str(path) for name, path in fetch_data(entry).items()}
        for name, path in sorted(document["datasets"].items()):
            info(f"dataset {name}: {path}")
    if image_registry:
        from samepack.oci.carry import load_image

        document["image"] = str(load_image(Path(entry.path), image_registry))
        info(f"image loaded as {document['image']}")
    elif cluster and (Path(entry.path) / "env" / "image" / "index.json").is_file():
        warn("the bundle carries its image (env/image/): pass --image-registry HOST to load it "
             "into the registry the cluster pulls from")
    if not as_json:
        result_line(entry.ref)
    if cluster:
        from samepack.commands.deploy import deploy_entry

        document["deploy"] = deploy_entry(entry, context=context, namespace=namespace,
                                          registry=registry, show=not as_json).to_dict()
    if as_json:
        emit(document)


@click.command("verify")
@click.argument("source")
@_limit_options
@_trust_options
@click.option("--insecure", is_flag=True, help="Allow plain http for the registry.")
@json_option()
def verify(source: str, max_size: str, max_member_size: str, max_ratio: float,
           key_files: tuple[Path, ...], signature: Path | None, insecure: bool,
           as_json: bool) -> None:
    """Check a bundle FILE (or extracted DIR) completely without importing it, and its
    signature (SOURCE.intoto.json) when --key or the policy asks for one.

    For oci://HOST/REPO:TAG, check the artifact's signature (its referrers) and that its
    layers are the parts its bundle manifest lists, without downloading a layer.
    """
    if source.startswith("oci://"):
        _verify_remote(source, key_files, insecure, as_json)
        return
    from samepack.bundle.read.importer import verify_bundle

    source = Path(source)
    verdict = check_trust(source, key_files, signature)
    verified, _, _ = verify_bundle(source, _limits(max_size, max_member_size, max_ratio),
                                progress=True)
    _report_trust(verdict)
    manifest = verified.manifest
    if as_json:
        emit({"ok": True, "source": str(source), "program": f"{manifest.name}:{manifest.version}",
              "members": len(manifest.members()), "parts": [p.name for p in manifest.parts],
              "signed": bool(verdict.signed), "trust": verdict.describe()})
        return
    result_line(f"ok: {manifest.name}:{manifest.version}, {len(manifest.members())} members, "
              "every sha256 and segment matches")


def _verify_remote(reference: str, key_files: tuple[Path, ...], insecure: bool,
                   as_json: bool = False) -> None:
    from samepack.oci.pull import fetch_remote
    from samepack.oci.reference import parse_reference
    from samepack.oci.registry import Registry
    from samepack.trust.policy import trust_settings
    from samepack.trust.remote import check_remote

    ref = parse_reference(reference)
    settings = trust_settings(key_files)
    registry = Registry.open(ref.host, insecure=insecure)
    remote = fetch_remote(registry, ref)
    verdict, _ = check_remote(registry, remote, settings)
    manifest = remote.manifest
    if as_json:
        emit({"ok": True, "source": reference, "program": f"{manifest.name}:{manifest.version}",
              "digest": remote.artifact.digest, "layers": len(remote.artifact.layers),
              "signed": bool(verdict.signed), "trust": verdict.describe()})
        return
    result_line(f"ok: {manifest.name}:{manifest.version} ({remote.artifact.digest}), "
                f"{len(remote.artifact.layers)} layers match the bundle manifest; "
                f"{verdict.describe()}")


def _print_summary(summary) -> None:
    from samepack.bundle.read.inspect import human
    from samepack.bundle.read.safety import printable as p

    def line(text: str) -> None:  # names from the bundle: no rich markup, no highlighting
        out.print(text, highlight=False, markup=False)

    manifest = summary.manifest
    created = datetime.fromtimestamp(manifest.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    line(f"program   {p(manifest.name)}:{p(manifest.version)}")
    line(f"format    {manifest.format} ({manifest.compression}), samepack "
              f"{p(manifest.tool_version)}, created {created}")
    line("parts")
    for part in manifest.parts:
        line(f"  {part.name:<9} {len(part.members):>6} files {human(sum(m.size for m in part.members)):>10}"
                  f"  segment {human(part.size)}  sha256:{part.sha256[:12]}")
    line("members")
    for member in manifest.members():
        line(f"  {member.mode:04o} {member.size:>12}  {p(member.path)}")
    line(f"history   {len(summary.runs)} runs")
    for run in summary.runs:
        line(f"  {p(run.get('id', '?'))}  {p(run.get('status', '?'))}  "
                  f"{p(json.dumps(run.get('metrics', {}), sort_keys=True)[:100])}")
    line(f"data      {len(summary.pointers)} data sets")
    for pointer in summary.pointers:
        where = pointer.get("member") or pointer.get("uri") or pointer.get("path") or "?"
        line(f"  {p(pointer.get('name'))}: {p(where)} {pointer.get('size', '?')} bytes "
                  f"sha256:{p(str(pointer.get('sha256', '?'))[:12])}")


def _open_report(source: Path, target: Path | None, open_it: bool, limits) -> None:
    """Verify the bundle, then write its report (to ``target``, else a temporary file)."""
    from samepack.bundle.read.inspect import summarise
    from samepack.errors import NotFoundError

    summary = summarise(source, limits, with_report=True)
    if summary.report is None:
        raise NotFoundError(f"{source}: the bundle carries no run report (metadata/report.html)",
                            "export it again with runs: samepack export program NAME --runs all")
    from samepack.insights.build import write_html

    if target is None:
        import tempfile

        target = Path(tempfile.mkdtemp(prefix="samepack-report-")) / "report.html"
    written = write_html(target, summary.report.decode("utf-8"))
    result_line(str(written))
    if open_it:
        import webbrowser

        webbrowser.open(written.as_uri())


@click.command("inspect")
@click.argument("source")
@json_option("Print everything as one JSON document on stdout (errors too).")
@click.option("--report", "report_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the bundle's HTML report of its runs to this file.")
@click.option("--open", "open_report", is_flag=True,
              help="Open the bundle's run report in a web browser.")
@_limit_options
def inspect(source: str, as_json: bool, report_to: Path | None, open_report: bool,
            max_size: str, max_member_size: str, max_ratio: float) -> None:
    """Show what a bundle FILE holds: program, parts, members, run history, data pointers.
    --report FILE / --open: the HTML report of the runs it carries.

    For oci://HOST/REPO:TAG, show the artifact (layers, sizes, annotations) without pulling it.
    """
    if report_to or open_report:
        _open_report(Path(source), report_to, open_report,
                     _limits(max_size, max_member_size, max_ratio))
        return
    if source.startswith("oci://"):
        from samepack.oci import inspect_remote

        inspect_remote(source, as_json=as_json)
        return
    from samepack.bundle.read.inspect import summarise

    summary = summarise(Path(source), _limits(max_size, max_member_size, max_ratio))
    if as_json:
        emit(summary.to_dict())
    else:
        _print_summary(summary)


def left_out_lines(skipped: list[tuple[str, str]], each_up_to: int = 3) -> list[str]:
    """One warning per file left out, or one per reason when more files share it (a tracking
    store of a thousand files is one line)."""
    by_reason: dict[str, list[str]] = {}
    for path, why in skipped:
        by_reason.setdefault(why, []).append(path)
    lines = []
    for why, paths in by_reason.items():
        if len(paths) <= each_up_to:
            lines += [f"left out {path}: {why}" for path in paths]
            continue
        tops = sorted({path.split("/")[0] + ("/" if "/" in path else "") for path in paths})
        where = ", ".join(tops[:3]) + (f" and {len(tops) - 3} more" if len(tops) > 3 else "")
        lines.append(f"left out {len(paths)} files in {where}: {why}")
    return lines
