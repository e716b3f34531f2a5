"""Bundle export/import speed beside tar, sha256sum and hashlib on the same files.

    python bench/bundle.py                  # 20,000 small files and 2 GB of data
    python bench/bundle.py --size 256MB     # a quicker run
    python bench/bundle.py --files 5000 --skip-data
    python bench/bundle.py --work-dir /dev/shm --repeat 5   # in memory, median of 5

Each figure is the median of ``--repeat`` runs, samepack and its peer taking turns, so a noisy
machine disturbs both alike; every row prints samepack beside its peer, their ratio and the
load average. The data case runs on disk and on tmpfs (``--tmpfs``). On a virtual disk where creating a file costs hundreds of
microseconds, the tree's import is bound by the file system for tar and samepack alike; run
with ``--work-dir /dev/shm`` to compare the work each does. Before the data case, three times
``--size`` of memory is written and freed on the tmpfs: a virtual machine's first write to a
page costs several times a later one (the line printed first shows by how much here).

Every samepack step runs as a real ``samepack`` subprocess; its peak RSS is the kernel's
``ru_maxrss`` for that child. Check free disk space first (``df -h``): the data case needs about
three times ``--size``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WORDS = ("import numpy as np", "def train(model, data):", "    return model.fit(data)",
         "# evaluate on the hold-out split", "x = np.linspace(0, 1, 100)", "for epoch in range(10):",
         "    loss = step(batch)", "print(f'{loss=:.4f}')", "class Config:", "    alpha = 0.5")


@dataclass
class Timing:
    label: str
    seconds: float
    nbytes: int
    peak_rss: int | None = None
    cpu: float | None = None  # user + system seconds of the child (meaningful on a busy machine)

    def line(self, baseline: "Timing | None" = None) -> str:
        rate = self.nbytes / 1e6 / self.seconds if self.seconds else float("inf")
        text = f"  {self.label:<38} {self.seconds:8.2f} s {rate:9.1f} MB/s"
        if self.cpu is not None:
            text += f"  cpu {self.cpu:7.2f} s"
        if self.peak_rss is not None:
            text += f"  peak RSS {self.peak_rss / 1e6:6.0f} MB"
        if baseline is not None:
            text += f"  ({baseline.seconds / self.seconds:.2f}x {baseline.label})"
        return text


def run(label: str, args: list[str], nbytes: int, env: dict | None = None,
        cwd: Path | None = None) -> Timing:
    """Run a command to completion; wall time, CPU time and (for samepack) its peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    stderr = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{label} failed: {stderr}")
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    peak = int(last.split()[1]) * 1024 if last.startswith("VmHWM ") else None
    return Timing(label, elapsed, nbytes, peak, usage.ru_utime + usage.ru_stime)


def hashlib_time(files: list[Path], nbytes: int) -> Timing:
    started, cpu = time.perf_counter(), time.process_time()
    for file in files:
        digest = hashlib.sha256()
        with open(file, "rb", buffering=0) as handle:
            while data := handle.read(4 * 1024 * 1024):
                digest.update(data)
    return Timing("python hashlib sha256", time.perf_counter() - started, nbytes,
                  cpu=time.process_time() - cpu)


def make_tree(root: Path, count: int) -> int:
    """``count`` small source files (1-4 kB of code-like text) in nested folders."""
    rng = random.Random(0)
    total = 0
    for index in range(count):
        folder = root / f"pkg{index % 50:02d}" / f"mod{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [rng.choice(WORDS) + f"  # {rng.randrange(10**6)}" for _ in range(rng.randint(30, 120))]
        data = ("\n".join(lines) + "\n").encode()
        (folder / f"file{index}.py").write_bytes(data)
        total += len(data)
    return total


def make_data(path: Path, size: int) -> None:
    """Incompressible bytes: a 64 MB random block repeated (deflate's window cannot see it)."""
    block = os.urandom(64 * 1024 * 1024)
    with open(path, "wb") as handle:
        written = 0
        while written < size:
            piece = block[: size - written]
            handle.write(piece)
            written += len(piece)


def program_yaml(name: str, data: str | None) -> str:
    datasets = f"datasets: {{blob: {{path: {data}}}}}\n" if data else ""
    return (f"apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {{name: {name}, version: '1'}}\n"
            f"{datasets}steps: {{main: {{run: python -c pass}}}}\n")


# samepack reporting its own peak RSS (VmHWM is reset at exec, unlike the rusage of a child
# forked from this process) as the last line on stderr.
_MEASURED = """import atexit, sys
def _peak():
    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))
    sys.stderr.write('\\nVmHWM ' + line.split()[1] + '\\n')
atexit.register(_peak)
from samepack.cli import main
sys.argv = ['samepack'] + sys.argv[1:]
main()
"""


def samepack(*args: str) -> list[str]:
    return [sys.executable, "-c", _MEASURED, *args]


def median(timings: list[Timing]) -> Timing:
    """The run of median wall time (its CPU time and RSS with it)."""
    ordered = sorted(timings, key=lambda timing: timing.seconds)
    return ordered[(len(ordered) - 1) // 2]


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def row(ours: Timing, peer: Timing, note: str = "") -> str:
    """samepack beside its peer from the same runs: both medians, the time ratio, the load."""
    return (f"{ours.line()}\n  {'':<38} vs {peer.label}: {peer.seconds:.2f} s, samepack/peer "
            f"{ours.seconds / peer.seconds:.2f}x{note}  ({load()})")


def compile_bytecode() -> None:
    """Byte-compile samepack and its dependencies once, as an installed package is: with
    PYTHONDONTWRITEBYTECODE set, each run would otherwise compile every module it imports."""
    import sysconfig

    import samepack

    for folder in (Path(samepack.__file__).parent, Path(sysconfig.get_paths()["purelib"])):
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-j0", str(folder)],
                       capture_output=True)


def bench_tree(work: Path, count: int, env: dict, repeat: int) -> None:
    project = work / "tree"
    (project / "src").mkdir(parents=True)
    nbytes = make_tree(project / "src", count)
    (project / "samepack.yaml").write_text(program_yaml("tree", None))
    files = sorted(p for p in (project / "src").rglob("*") if p.is_file())
    subprocess.run(samepack("create", "program", "-f", str(project / "samepack.yaml")), env=env,
                   check=True, capture_output=True)
    print(f"(a) {count} small files, {nbytes / 1e6:.1f} MB ({load()})")
    bundle, zbundle = work / "tree.tgz", work / "tree-zstd.tgz"
    tarball, ztarball = work / "tree.tar.gz", work / "tree.tar.zst"
    tars, ztars, ours, zours, colds = [], [], [], [], []
    export = ("export", "program", "-n", "tree", "--runs", "none", "--force")
    for _ in range(repeat):
        tars.append(run("tar -czf", ["tar", "-czf", str(tarball), "-C", str(project), "."],
                        nbytes))
        ours.append(run("samepack export (gzip)", samepack(*export, "-o", str(bundle)), nbytes,
                        env))
        ztars.append(run("tar -I 'zstd -3 -T0'", ["tar", "-I", "zstd -3 -T0", "-cf",
                                                   str(ztarball), "-C", str(project), "."],
                         nbytes))
        zours.append(run("samepack export --compression zstd", samepack(
            *export, "-o", str(zbundle), "--compression", "zstd"), nbytes, env))
        # Without the records of checks already passed: every file searched for secrets and
        # the manifests validated, as on a project's first export.
        colds.append(run("samepack export (first: no records)", samepack(
            *export, "-o", str(bundle)), nbytes, dict(env, SAMEPACK_CACHE="off")))
    tar, ztar = median(tars), median(ztars)
    ours_size, tar_size = bundle.stat().st_size, tarball.stat().st_size
    print(row(median(ours), tar, f"; bundle {ours_size / 1e6:.1f} MB vs {tar_size / 1e6:.1f} MB "
                                 f"= {ours_size / tar_size:.2f}x the size"))
    print(records_line(bundle))
    print(row(median(zours), ztar, f"; bundle {zbundle.stat().st_size / 1e6:.1f} MB vs "
                                   f"{ztarball.stat().st_size / 1e6:.1f} MB"))
    print(row(median(colds), tar))
    sums = work / "tree.sha256"
    subprocess.run(f"cd {project} && find . -type f -print0 | xargs -0 sha256sum > {sums}",
                   shell=True, check=True)
    untars, checks, boths, imports = [], [], [], []
    for attempt in range(repeat):
        target = work / f"untar{attempt}"
        target.mkdir()
        started = time.perf_counter()
        untars.append(run("tar -xzf", ["tar", "-xzf", str(tarball), "-C", str(target)], nbytes))
        checks.append(run("sha256sum -c", ["sha256sum", "-c", "--quiet", str(sums)], nbytes,
                          cwd=target))
        boths.append(Timing("tar -xzf + sha256sum -c", time.perf_counter() - started, nbytes,
                            cpu=untars[-1].cpu + checks[-1].cpu))
        home = dict(env, SAMEPACK_HOME=str(work / f"import-home{attempt}"))
        imports.append(run("samepack import (full verification)",
                           samepack("import", str(bundle)), nbytes, home))
        shutil.rmtree(target)
        shutil.rmtree(work / f"import-home{attempt}")
    print(row(median(imports), median(boths)))
    print(median([hashlib_time(files, nbytes) for _ in range(repeat)]).line())
    print(checks_share(bundle, median(imports), repeat))


def records_line(bundle: Path) -> str:
    """What the members' records cost in the bundle: the manifest in the (uncompressed) header,
    and in format 3 the parts' indexes, compressed at the end of each part's segment."""
    from samepack.bundle.format.layout import read_manifest

    raw, manifest = read_manifest(bundle)
    frames = sum(part.index.frame for part in manifest.parts if part.index is not None)
    listed = sum(part.index.size for part in manifest.parts if part.index is not None)
    return (f"  {'member records':<38} manifest {len(raw) / 1e6:.3f} MB in the header, indexes "
            f"{listed / 1e6:.2f} MB compressed to {frames / 1e6:.2f} MB "
            f"({len(manifest.members())} members, format {manifest.format})")


def checks_share(bundle: Path, imported: Timing, repeat: int) -> str:
    """The hostile-input checks on their own (manifest rules: names, types, folders, program
    reference; content rules: program file, run history, data pointers, data placement),
    timed in a child process, as a share of the import's wall time."""
    code = f"""
import json, sys, tarfile, time
from samepack.bundle.read.contents import CHECKED, Listed, check_contents
from samepack.bundle.format.layout import read_manifest
from samepack.bundle.read.safety import Limits, check_manifest
raw, manifest = read_manifest({str(bundle)!r})
with tarfile.open({str(bundle)!r}) as archive:
    members = {{m.name: archive.extractfile(m).read() for m in archive if m.name in CHECKED}}
names = {{m.path for m in manifest.members()}}
check_contents(Listed.of(manifest), members.__getitem__, names.__contains__)  # load modules
wall = cpu = float("inf")
for _ in range({repeat}):
    started, started_cpu = time.perf_counter(), time.process_time()
    check_manifest(manifest, Limits())
    check_contents(Listed.of(manifest), members.__getitem__, names.__contains__)
    wall = min(wall, time.perf_counter() - started)
    cpu = min(cpu, time.process_time() - started_cpu)
print(wall, cpu)
"""
    wall, cpu = map(float, subprocess.run([sys.executable, "-c", code], capture_output=True,
                                          text=True, check=True).stdout.split())
    share = f"{100 * wall / imported.seconds:.1f}% of samepack import's wall time"
    if imported.cpu:
        share += f"; cpu {cpu:.3f} s, {100 * cpu / imported.cpu:.1f}% of its CPU time"
    return f"  {'hostile-input checks':<38} {wall:8.3f} s  ({share})"


def hash_pass(path: Path, size: int) -> Timing:
    """One sha256 pass over a file in a child process (hashlib, as fast as sha256 gets here)."""
    code = ("import hashlib,sys\nh=hashlib.sha256()\nf=open(sys.argv[1],'rb',buffering=0)\n"
            "while d:=f.read(4<<20): h.update(d)\n")
    return run("one sha256 pass (hashlib)", [sys.executable, "-c", code, str(path)], size)


def write_zeros(path: Path, size: int) -> float:
    """Seconds to write ``size`` zero bytes to ``path`` (then removed)."""
    block = bytes(8 * 1024 * 1024)
    started = time.perf_counter()
    with open(path, "wb") as handle:
        for _ in range(max(1, size // len(block))):
            handle.write(block)
    seconds = time.perf_counter() - started
    path.unlink()
    return seconds


def warm_pages(tmpfs: Path, size: int) -> str:
    """Write and free ``size`` bytes of memory (a file on ``tmpfs``) until a write of them is
    no faster than the last. A virtual machine backs a page of memory only when it is first
    written, so the first gigabytes written after boot (to the page cache or a tmpfs) cost
    several times what they cost later: a tool writing them would be measured on the
    hypervisor, not on its own work. Freed pages stay backed, so the cases reuse them."""
    scratch = tmpfs / f"samepack-bench-warm-{os.getpid()}.bin"
    first = last = write_zeros(scratch, size)
    for _ in range(4):
        now = write_zeros(scratch, size)
        if now > 0.8 * last:
            break
        last = now
    return f"memory warmed first: writing {size / 1e9:.1f} GB took {first:.2f} s, then {last:.2f} s"


def bench_data(work: Path, size: int, env: dict, repeat: int, place: str) -> None:
    """Export, verify and import of ``size`` bytes of incompressible data in ``work``: each
    samepack step beside its peer, alternating, medians."""
    project = work / "data"
    (project / "data").mkdir(parents=True)
    blob = project / "data" / "blob.bin"
    make_data(blob, size)
    (project / "samepack.yaml").write_text(program_yaml("data", "data/blob.bin"))
    subprocess.run(samepack("create", "program", "-f", str(project / "samepack.yaml")), env=env,
                   check=True, capture_output=True)
    print(f"(b) {size / 1e6:.0f} MB of incompressible data under --include-data, {place} "
          f"({work}; {load()})")
    bundle = work / "data.tgz"
    copy = work / "copy.bin"
    exports, copies, blob_hashes = [], [], []
    for _ in range(repeat):
        blob_hashes.append(hash_pass(blob, size))
        # The physical floor: the file system must take every byte of the bundle once.
        copies.append(run("cp + sync (writing the bytes once)",
                          ["sh", "-c", f"cp {blob} {copy} && sync {copy}"], size))
        copy.unlink()
        exports.append(run("samepack export --include-data", samepack(
            "export", "program", "-n", "data", "-o", str(bundle), "--include-data", "--runs",
            "none", "--force"), size, env))
    ours = median(exports)
    print(row(ours, median(copies)))
    print(f"  {'':<38} = {median(blob_hashes).seconds / ours.seconds:.0%} of one sha256 pass "
          f"({median(blob_hashes).seconds:.2f} s)")
    bundle_size = bundle.stat().st_size
    verifies, imports, hashes = [], [], []
    for attempt in range(repeat):
        hashes.append(hash_pass(bundle, bundle_size))
        verifies.append(run("samepack verify", samepack("verify", str(bundle)), bundle_size, env))
        home = work / f"data-home{attempt}"
        write_zeros(work / "warm.bin", bundle_size)  # pages the import's writes reuse (warm_pages)
        imports.append(run("samepack import", samepack("import", str(bundle)), bundle_size,
                           dict(env, SAMEPACK_HOME=str(home))))
        shutil.rmtree(home)
    hashed = median(hashes)
    for step in (median(verifies), median(imports)):
        print(row(step, hashed, f" = {hashed.seconds / step.seconds:.0%} of one sha256 pass; "
                                f"peak RSS {step.peak_rss / 1e6:.0f} MB for a "
                                f"{bundle_size / 1e9:.2f} GB bundle"))


def parse_size(text: str) -> int:
    units = {"": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9}
    number = text.rstrip("KMGBkmgb")
    return int(float(number) * units[text[len(number):].upper()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--size", default="2GB", help="data size for case (b), e.g. 256MB")
    parser.add_argument("--skip-tree", action="store_true")
    parser.add_argument("--skip-data", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--work-dir", help="where to make the work directory on disk "
                                               "(default: $TMPDIR)")
    parser.add_argument("--tmpfs", default="/dev/shm",
                        help="a tmpfs for the data case in memory ('' to skip it)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each step, alternating with its peer; the median counts")
    options = parser.parse_args()
    compile_bytecode()
    print(f"machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    if not options.skip_data and options.tmpfs:
        print(warm_pages(Path(options.tmpfs), 3 * parse_size(options.size)))
    places = [("on disk", options.work_dir)] + ([("on tmpfs", options.tmpfs)]
                                                if options.tmpfs else [])
    for index, (place, folder) in enumerate(places):
        if options.skip_data and index:
            break
        work = Path(tempfile.mkdtemp(prefix="samepack-bench-", dir=folder))
        env = dict(os.environ, SAMEPACK_HOME=str(work / "home"))
        try:
            if not options.skip_tree and index == 0:
                bench_tree(work, options.files, env, options.repeat)
            if not options.skip_data:
                bench_data(work, parse_size(options.size), env, options.repeat, place)
        finally:
            if not options.keep:
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
