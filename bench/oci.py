"""Benchmark: push and pull of a large bundle through a local registry.

    python bench/oci.py               # 1 GB data part (default)
    python bench/oci.py --size-mb 200

Starts Debian's docker-registry on 127.0.0.1 (storage in a temp dir), builds a bundle with the
bundle writer (a program part and an incompressible data part of the given size), then, each in
a fresh process so peak memory is its own: push, push of a second version whose only change is a
parameter, and pull. Reports throughput, peak RSS and the second push's upload ratio, and checks
that the pulled file is byte-identical.

Then `samepack copy` registry -> OCI layout folder -> registry (another repository) beside
`skopeo copy` of the same artifact over the same two legs, as a ratio of their times.

Then program-only versions through the real `samepack export`: the wine example
(fixtures/wine-quality) and a project with ``--program-mb`` of data under --include-data, each
exported at version 1.0, then at 1.1 with a changed default and schedule; both versions pushed
to one repository. The row prints the bytes each push put on the wire (config and layers; the
manifest body, under 2 kB, is not counted) and the second as a share of the first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MB = 1_000_000


def random_file(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        left = size
        while left:
            block = os.urandom(min(8 * 1024 * 1024, left))
            handle.write(block)
            left -= len(block)
    return path


def build(out: Path, data_file: Path, epochs: int, version: str) -> Path:
    from samepack.bundle.format import layout
    from samepack.bundle.format.manifest import Manifest
    from samepack.bundle.write.writer import Source, write_part

    work = out.with_suffix(".parts")
    work.mkdir()
    parts, files = [], []
    contents = {"program": [Source("program/samepack.yaml", 0o644,
                                   data=f"parameters: {{epochs: {epochs}}}\n".encode())],
                "data": [Source("data/blob.bin", 0o644, file=data_file)]}
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        for name, sources in contents.items():
            parts.append(write_part(name, sources, work / name, "gzip", None, pool))
            files.append((name, work / name))
    manifest = Manifest("bench", version, 0, "gzip", "bench", parts)
    layout.assemble(manifest.to_bytes(), files, out, verify=False)
    for _, path in files:
        path.unlink()
    work.rmdir()
    return out


def peak_rss() -> int:
    """This process's high-water RSS (VmHWM; unlike ru_maxrss it does not carry over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(action: str, source: str, target: str) -> None:
    """Run one transfer in this process; print seconds, bytes and peak RSS as JSON."""
    from samepack.oci.pull import pull_bundle
    from samepack.oci.push import push_bundle
    from samepack.oci.reference import parse_reference

    start = time.perf_counter()
    if action == "push":
        result = push_bundle(Path(source), parse_reference(target))
        moved, extra = result.sent, {"digest": result.digest, "skipped": result.skipped}
    elif action == "copy":
        from samepack.oci.copy import copy_artifact

        copied = copy_artifact(source, target)
        moved, extra = copied.bytes_copied, {"digest": copied.digest}
    else:
        result = pull_bundle(parse_reference(source), Path(target))
        moved, extra = result.received, {}
    seconds = time.perf_counter() - start
    peak = peak_rss()
    print(json.dumps({"seconds": seconds, "bytes": moved, "peak_rss": peak, **extra}))


def run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True)
    if done.returncode != 0:
        sys.exit(f"bench: {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def report(label: str, figures: dict) -> None:
    rate = figures["bytes"] / figures["seconds"] / MB if figures["seconds"] else 0.0
    print(f"{label:<16} {figures['bytes'] / MB:>10,.1f} MB  {figures['seconds']:>7.2f} s  "
          f"{rate:>8,.1f} MB/s  peak RSS {figures['peak_rss'] / MB:>7,.1f} MB  "
          f"(load {os.getloadavg()[0]:.2f})")


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def copy_legs(host: str, inside: str, digest: str, work: Path) -> dict[str, tuple[dict, dict]]:
    """Registry -> layout -> another registry (``inside``: an air-gapped site, so no blob can
    be mounted) with samepack copy, then with skopeo copy, of the artifact pushed as
    bench/demo@digest; each leg's figures (skopeo's without RSS)."""
    source = f"oci://{host}/bench/demo@{digest}"
    ours_out = run_child("copy", source, f"oci-layout:{work / 'layout-samepack'}:bench")
    ours_back = run_child("copy", f"oci-layout:{work / 'layout-samepack'}:bench",
                          f"oci://{inside}/bench/back-samepack:bench")
    size = ours_out["bytes"]
    out_seconds = timed(["skopeo", "copy", "--src-tls-verify=false",
                         f"docker://{host}/bench/demo@{digest}",
                         f"oci:{work / 'layout-skopeo'}:bench"])
    back_seconds = timed(["skopeo", "copy", "--dest-tls-verify=false",
                          f"oci:{work / 'layout-skopeo'}:bench",
                          f"docker://{inside}/bench/back-skopeo:bench"])
    return {"reg->layout": (ours_out, {"seconds": out_seconds, "bytes": size, "peak_rss": 0}),
            "layout->reg": (ours_back, {"seconds": back_seconds, "bytes": size, "peak_rss": 0})}


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROGRAM = """apiVersion: samepack.dev/v1
kind: Program
metadata: {{name: {name}, version: "1.0"}}
parameters: {{epochs: {{type: int, default: 10}}}}
datasets: {{blob: {{path: data/blob.bin}}}}
steps:
  train:
    run: "python train.py --epochs {{params.epochs}}"
schedules: {{nightly: {{cron: "0 3 * * *"}}}}
"""


def samepack_cli(*args: str, env: dict) -> None:
    done = subprocess.run([sys.executable, "-m", "samepack", *args], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: samepack {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def next_version(program_file: Path) -> None:
    """Version 1.1 of a program: a new version, a changed default, a changed schedule."""
    text = program_file.read_text()
    for old, new in (('version: "1.0"', 'version: "1.1"'), ("default: 10", "default: 20"),
                     ("default: 0.5", "default: 0.7"), ('"0 3 * * *"', '"15 4 * * 1"')):
        text = text.replace(old, new, 1)
    program_file.write_text(text)


def program_only_push(host: str, project: Path, name: str, work: Path,
                      export_args: tuple[str, ...]) -> tuple[dict, dict, int]:
    """Export ``project`` at 1.0 and (program changed) at 1.1, push both to one repository:
    the two pushes' figures and the first bundle's size."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    bundles = []
    for version in ("1.0", "1.1"):
        if version != "1.0":
            next_version(project / "samepack.yaml")
        samepack_cli("create", "program", "-f", str(project / "samepack.yaml"), "--force",
                     env=env)
        bundles.append(work / f"{name}-{version}.tgz")
        samepack_cli("export", "program", "-n", f"{name}:{version}", "-o", str(bundles[-1]),
                     "--runs", "none", "--force", *export_args, env=env)
    target = f"oci://{host}/bench/{name}"
    first = run_child("push", str(bundles[0]), target)
    second = run_child("push", str(bundles[1]), target)
    return first, second, bundles[0].stat().st_size


def program_only_rows(host: str, work: Path, program_mb: int) -> list[str]:
    wine = work / "wine-quality"
    shutil.copytree(FIXTURES / "wine-quality", wine)
    big = work / "big"
    (big / "data").mkdir(parents=True)
    random_file(big / "data" / "blob.bin", program_mb * MB)
    (big / "train.py").write_text("print('train')\n")
    (big / "samepack.yaml").write_text(PROGRAM.format(name="big"))
    rows = []
    for label, project, name, extra in (
            ("wine example", wine, "wine-quality", ()),
            (f"{program_mb} MB bundle", big, "big", ("--include-data",))):
        first, second, size = program_only_push(host, project, name, work, extra)
        rows.append(f"program-only push, {label} ({size:,} B bundle): first push "
                    f"{first['bytes']:,} B, second push {second['bytes']:,} B = "
                    f"{second['bytes'] / first['bytes']:.4%} of the first "
                    f"(load {os.getloadavg()[0]:.2f})")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--program-mb", type=int, default=500,
                        help="data size of the program-only push case")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from samepack.oci.localregistry import LocalRegistry

    with tempfile.TemporaryDirectory(prefix="samepack-bench-oci-") as name:
        work = Path(name)
        os.environ["SAMEPACK_HOME"] = str(work / "home")
        data = random_file(work / "data.bin", args.size_mb * MB)
        first = build(work / "v1.tgz", data, epochs=10, version="1.0")
        second = build(work / "v2.tgz", data, epochs=20, version="1.1")
        data.unlink()
        with LocalRegistry(work / "registry") as registry:
            target = f"oci://{registry.host}/bench/demo"
            pushed = run_child("push", str(first), target)
            pushed2 = run_child("push", str(second), target)
            pulled = run_child("pull", f"{target}@{pushed['digest']}", str(work / "pulled.tgz"))
            with LocalRegistry(work / "registry-b") as inside:
                copies = copy_legs(registry.host, inside.host, pushed["digest"], work)
            program_only = program_only_rows(registry.host, work, args.program_mb)
        identical = sha256_file(work / "pulled.tgz") == sha256_file(first)
    print(f"bundle {first.name}: {args.size_mb:,} MB data part (incompressible), gzip")
    report("push", pushed)
    report("push v2", pushed2)
    report("pull", pulled)
    print(f"second-version upload ratio: {pushed2['bytes']:,} / {pushed['bytes']:,} bytes = "
          f"{pushed2['bytes'] / pushed['bytes']:.6f}")
    print(f"pulled bundle byte-identical: {identical}")
    for leg, (ours, skopeo) in copies.items():
        report(f"copy {leg}", ours)
        report(f"skopeo {leg}", skopeo)
        print(f"  samepack / skopeo time: {ours['seconds'] / skopeo['seconds']:.2f}")
    for row in program_only:
        print(row)
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
