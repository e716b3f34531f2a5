"""Results of a step that ran on a cluster, brought back through the container's termination
message (the one channel a pod's status always carries, also where logs cannot be read).

Each step's command runs under ``RESULT_SCRIPT`` (Python, in the step's image; the program's
ConfigMap carries it as ``result.py`` beside ``params.json``): it passes the
output through, matches the step's ``metrics`` patterns against every printed line (the same
rule as a local run: ``re`` ``finditer`` per line, a ``value`` group and a ``name`` group or
fixed name), and on exit writes ``{"exit", "points", "tail"}`` as JSON to
``/dev/termination-log``, cut to fit Kubernetes' 4096 bytes (points first, then as much of the
tail as fits). ``read_result`` turns that message back into a ``StepResult``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from samepack.program.model import Step

MESSAGE_LIMIT = 4096  # bytes Kubernetes keeps of a termination message

RESULT_SCRIPT = """\
import collections, json, math, os, re, subprocess, sys
spec = json.loads(sys.argv[1])
patterns = [(re.compile(p), n) for p, n in spec.get("metrics", [])]
secrets = sorted({os.environ[k] for k in spec.get("secrets", []) if os.environ.get(k)}, key=len, reverse=True)
def mask(text):
    for value in secrets:
        text = text.replace(value, "***")
    return text
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
message = {"exit": code, "points": points[-100:], "tail": ""}
room = 4000 - len(json.dumps(message).encode())
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
    return StepResult(result.exit_code, result.points, tail)


@dataclass
class StepResult:
    exit_code: int | None
    points: list[tuple[str, float, int]] = field(default_factory=list)
    tail: str = ""


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
    return StepResult(code, points, str(data.get("tail") or ""))


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
