"""Results of a step that ran on a cluster, brought back through the container's termination
message (the one channel a pod's status always carries, also where logs cannot be read).

Each step's command runs under ``RESULT_SCRIPT`` (Python, in the step's image; the program's
ConfigMap carries it as ``result.py`` beside ``params.json``): it passes the
output through, matches the step's ``metrics`` patterns against every printed line (the same
rule as a local run: ``re`` ``finditer`` per line, a ``value`` group and a ``name`` group or
fixed name), and on exit writes ``{"exit", "points", "outputs", "more", "tail"}`` as JSON to
``/dev/termination-log``, cut to fit Kubernetes' 4096 bytes (the newest points, then the
outputs, then as much of the tail as fits). ``read_result`` turns that message back into a
``StepResult``.

Output files are found as a local run finds them (``samepack.run.outputs``: the workspace
listed before and after the command, size and modification time, the same folders left out):
each new or changed file is reported as ``[path, size, sha256, uploaded]``, at most
``MAX_OUTPUTS`` of them (``more`` counts the rest). When the pod is given an upload URL
(``SAMEPACK_OUTPUTS_URL``, the exchange registry of ``samepack.k8s.exchange.transfer``), each file up to
``OUTPUT_FILE_LIMIT`` (and ``OUTPUT_TOTAL_LIMIT`` in all) is uploaded as the blob named by its
sha256, for samepack to pull by digest."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from samepack.errors import SamepackError
from samepack.k8s.exchange.access import REGISTRY_OPEN_FUNCTION
from samepack.k8s.exchange.transfer import check_digest
from samepack.program.model import Step

MESSAGE_LIMIT = 4096  # bytes Kubernetes keeps of a termination message
MAX_OUTPUTS = 20  # output files named in one step's message (about 110 bytes each)
MAX_OUTPUT_PATH = 300  # characters; a longer path is counted in "more", not named
OUTPUT_FILE_LIMIT = 256 * 2**20  # bytes: a larger output is named, not uploaded
OUTPUT_TOTAL_LIMIT = 1024 * 2**20  # bytes one step uploads in all
UPLOAD_ENV = "SAMEPACK_OUTPUTS_URL"
WORKSPACE_ENV = "SAMEPACK_WORKSPACE"

# The sha256 of a file, one block in memory at a time: shared by the scripts pods run.
SHA256_FUNCTION = """\
def sha256(path):
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()
"""

_SCRIPT_BODY = """\
import collections, hashlib, json, math, os, re, stat, subprocess, sys, urllib.parse, urllib.request
""" + SHA256_FUNCTION + REGISTRY_OPEN_FUNCTION + """\
spec = json.loads(sys.argv[1])
patterns = [(re.compile(p), n) for p, n in spec.get("metrics", [])]
secrets = sorted({os.environ[k] for k in spec.get("secrets", []) if os.environ.get(k)}, key=len, reverse=True)
root = os.environ.get("SAMEPACK_WORKSPACE", "/workspace")
upload_url = os.environ.get("SAMEPACK_OUTPUTS_URL", "")
def mask(text):
    for value in secrets:
        text = text.replace(value, "***")
    return text
def listing():
    files = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                   and not os.path.isfile(os.path.join(directory, d, "pyvenv.cfg"))]
        for name in names:
            path = os.path.join(directory, name)
            try:
                facts = os.lstat(path)
            except OSError:
                continue
            if name not in SKIP_FILES and stat.S_ISREG(facts.st_mode):
                files[os.path.relpath(path, root).replace(os.sep, "/")] = (facts.st_size, facts.st_mtime_ns)
                if len(files) >= MAX_FILES:
                    return files
    return files
def upload(path, digest, size):
    try:
        start = lambda: urllib.request.Request(upload_url, data=b"", method="POST")
        with registry_open(start, 60) as answer:
            location = urllib.parse.urljoin(upload_url, answer.headers["Location"])
        with open(path, "rb") as body:
            def put():
                body.seek(0)
                return urllib.request.Request(location + ("&" if "?" in location else "?") + "digest=sha256:" + digest,
                                              data=body, method="PUT", headers={"Content-Length": str(size),
                                              "Content-Type": "application/octet-stream"})
            with registry_open(put, 600) as answer:
                return answer.status == 201
    except (OSError, TypeError) as error:
        print(f"samepack: output {path} not uploaded: {error}", file=sys.stderr, flush=True)
        return False
before = listing()
tail, points, counts = collections.deque(maxlen=200), [], {}
try:
    proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
except OSError as error:
    print(f"samepack: cannot start {sys.argv[2]}: {error}", file=sys.stderr, flush=True)
    tail.append(str(error)); proc = None
for raw in (proc.stdout if proc else []):
    sys.stdout.buffer.write(raw); sys.stdout.flush()
    line = raw.decode("utf-8", "replace").rstrip("\\n")
    tail.append(mask(line)[-1000:])
    for regex, fixed in patterns:
        for match in regex.finditer(line):
            groups = match.groupdict(); name = groups.get("name") or fixed
            try:
                value = float(groups["value"])
            except (TypeError, ValueError, KeyError):
                continue
            if name and not math.isnan(value):
                points.append([name, value, counts.get(name, 0)]); counts[name] = counts.get(name, 0) + 1
code = proc.wait() if proc else 127
code = 128 - code if code < 0 else code
outputs, more, sent = [], 0, 0
for path, facts in sorted(listing().items()):
    if before.get(path) == facts:
        continue
    if len(outputs) >= MAX_OUTPUTS or len(path) > MAX_OUTPUT_PATH:
        more += 1
        continue
    full = os.path.join(root, path)
    try:
        digest = sha256(full)
    except OSError:
        continue
    uploaded = False
    if upload_url and facts[0] <= OUTPUT_FILE_LIMIT and sent + facts[0] <= OUTPUT_TOTAL_LIMIT:
        uploaded = upload(full, digest, facts[0])
        sent += facts[0] if uploaded else 0
    outputs.append([path, facts[0], digest, uploaded])
message = {"exit": code, "points": points[-100:], "outputs": outputs, "more": more, "tail": ""}
def size():
    return len(json.dumps(message).encode())
while size() > 4000 and len(message["points"]) > 20:
    message["points"] = message["points"][max(1, len(message["points"]) // 10):]
while size() > 4000 and message["outputs"]:
    message["outputs"].pop(); message["more"] += 1
while size() > 4000 and message["points"]:
    message["points"] = message["points"][1:]
room = 4000 - size()
text = "\\n".join(tail)
while text and len(json.dumps(text).encode()) > room:
    text = text[max(1, len(text) // 10):]
message["tail"] = text
try:
    with open(os.environ.get("SAMEPACK_TERMINATION_LOG", "/dev/termination-log"), "w") as f:
        f.write(json.dumps(message))
except OSError:
    pass
sys.exit(code)
"""

def result_script() -> str:
    """The result script as the ConfigMap carries it: its limits and the folders a local run
    leaves out of its outputs, then the script itself (one rule for local and cluster runs)."""
    from samepack.run.outputs import MAX_FILES, NOT_OUTPUT_FILES, NOT_OUTPUTS

    return (
    f"SKIP_DIRS = {sorted(NOT_OUTPUTS)!r}\n"
    f"SKIP_FILES = {sorted(NOT_OUTPUT_FILES)!r}\n"
    f"MAX_FILES, MAX_OUTPUTS, MAX_OUTPUT_PATH = {MAX_FILES}, {MAX_OUTPUTS}, {MAX_OUTPUT_PATH}\n"
    f"OUTPUT_FILE_LIMIT, OUTPUT_TOTAL_LIMIT = {OUTPUT_FILE_LIMIT}, {OUTPUT_TOTAL_LIMIT}\n"
    + _SCRIPT_BODY)


SCRIPT_NAME = "result.py"


def wrap_command(step: Step, command: list[str], program_dir: str,
                 secret_envs: list[str]) -> list[str]:
    """``command`` run under the result script (mounted in ``program_dir``), with the step's
    metric patterns and the names of the variables holding secrets (their values are masked in
    the tail that comes back)."""
    spec: dict[str, Any] = {}
    patterns = [[p.pattern, p.name] for p in getattr(step, "metrics", None) or []]
    if patterns:
        spec["metrics"] = patterns
    if secret_envs:
        spec["secrets"] = sorted(secret_envs)
    return ["python3", f"{program_dir}/{SCRIPT_NAME}", json.dumps(spec, separators=(",", ":")),
            *command]


def mask(result: "StepResult", values: list[str]) -> "StepResult":
    """``result`` with secret ``values`` in its tail shown as ``***`` (a second guard, for values
    this machine knows)."""
    tail = result.tail
    for value in sorted(filter(None, values), key=len, reverse=True):
        tail = tail.replace(value, "***")
    return replace(result, tail=tail)


@dataclass(frozen=True)
class OutputFile:
    """One file a step created or changed in the workspace, as its pod reported it."""

    path: str  # relative POSIX path in the workspace
    size: int
    sha256: str
    uploaded: bool  # the pod put it in the exchange registry as the blob of its sha256

    def artifact(self) -> dict[str, Any]:
        """The run history's record of it (as a local run records an output file)."""
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "kind": "output"}


@dataclass
class StepResult:
    exit_code: int | None
    points: list[tuple[str, float, int]] = field(default_factory=list)
    tail: str = ""
    outputs: list[OutputFile] = field(default_factory=list)
    more_outputs: int = 0  # files the message had no room to name
    problems: list[str] = field(default_factory=list)  # entries of the message that were refused


def safe_output_path(path: str) -> bool:
    """A relative path inside the workspace: no root, no ``..``, no backslash or NUL."""
    return (bool(path) and len(path) <= MAX_OUTPUT_PATH and not path.startswith("/")
            and "\\" not in path and "\0" not in path
            and all(part not in ("", ".", "..") for part in path.split("/")))


def _outputs(entries: Any) -> tuple[list[OutputFile], list[str]]:
    """The well-formed entries of a message's ``outputs``; a reason for each one refused."""
    files: list[OutputFile] = []
    problems: list[str] = []
    for entry in (entries if isinstance(entries, list) else [])[:MAX_OUTPUTS]:
        try:
            path, size, digest, uploaded = entry
            if not (isinstance(path, str) and safe_output_path(path)):
                raise ValueError(f"path {str(path)[:80]!r} is not inside the workspace")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ValueError(f"size {str(size)[:20]!r} of {path} is not a byte count")
            files.append(OutputFile(path, size, check_digest(digest, path), uploaded is True))
        except (TypeError, ValueError, SamepackError) as error:
            text = error.message if isinstance(error, SamepackError) else str(error)
            problems.append(f"output entry refused: {text}")
    return files, problems


def read_result(message: str | None, exit_code: int | None) -> StepResult:
    """The result a pod reported; the container's exit code alone when the message is not
    samepack's (an image without Python, a step killed before it wrote one)."""
    try:
        data: Any = json.loads(message or "")
    except ValueError:
        return StepResult(exit_code, tail=message or "")
    if not isinstance(data, dict) or "exit" not in data:
        return StepResult(exit_code, tail=message or "")
    points = [(str(p[0]), float(p[1]), int(p[2])) for p in data.get("points") or []
              if isinstance(p, list) and len(p) == 3]
    code = exit_code if exit_code is not None else data.get("exit")
    outputs, problems = _outputs(data.get("outputs"))
    more = data.get("more")
    more = more if isinstance(more, int) and not isinstance(more, bool) and more > 0 else 0
    return StepResult(code, points, str(data.get("tail") or ""), outputs, more, problems)


def container_result(pod: dict[str, Any], container: str) -> StepResult | None:
    """The result of one container of a finished pod (None while it has not terminated)."""
    status = pod.get("status") or {}
    for entry in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if entry.get("name") != container:
            continue
        terminated = (entry.get("state") or {}).get("terminated")
        if terminated:
            return read_result(terminated.get("message"), terminated.get("exitCode"))
    return None
