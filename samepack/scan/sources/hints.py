"""Hardware hints found in text: GPU frameworks, devices, multi-GPU launchers.

Regular expressions over source lines (comment lines skipped), used alike for Python files,
notebooks and launch scripts, so the answer does not depend on how a file was parsed.
"""

from __future__ import annotations

import re

from samepack.scan.sources.facts import Hint

_PATTERNS = {
    "cuda": [
        r"\btorch\.cuda\b", r"\.cuda\(", r"""["']cuda(?::\d+)?["']""",
        r"""list_physical_devices\(\s*["']GPU["']""", r"""\bjax\.devices\(\s*["'](?:gpu|cuda)["']""",
        r"\bnumba\.cuda\b", r"\bfrom\s+numba\s+import\s+cuda\b", r"\bimport\s+cupy\b",
        r"\bfrom\s+cupy\b", r"\bimport\s+pycuda\b", r"nvidia\.com/gpu",
    ],
    "rocm": [r"\btorch\.version\.hip\b", r"\bROCm\b", r"\brocm\b"],
    "mps": [r"""["']mps["']""", r"\bbackends\.mps\b"],
    "tpu": [r"\btorch_xla\b", r"\bTPUStrategy\b", r"""\bjax\.devices\(\s*["']tpu["']"""],
    "multi_gpu": [
        r"\bDistributedDataParallel\b", r"\bDataParallel\(", r"\binit_process_group\b",
        r"\btorchrun\b", r"\baccelerate\s+launch\b", r"\bfrom\s+accelerate\s+import\b",
        r"\bimport\s+accelerate\b", r"\bdeepspeed\b", r"\bMirroredStrategy\b", r"\bhorovod\b",
        r"--nproc_per_node\b",
    ],
}
_HINT = re.compile("|".join(
    f"(?P<{kind}_{i}>{pattern})" for kind, patterns in _PATTERNS.items()
    for i, pattern in enumerate(patterns)))


# Every pattern contains one of these words; only lines holding one are matched against _HINT.
_KEYWORDS = ("cuda", "GPU", "gpu", "mps", "version.hip", "ROCm", "rocm", "xla", "TPU",
             "DataParallel", "process_group", "torchrun", "accelerate", "deepspeed", "Mirrored",
             "horovod", "nproc_per_node")


def find_hints(text: str) -> list[Hint]:
    """Every hardware hint in ``text`` with its 1-based line, one per (kind, line)."""
    starts = _keyword_line_starts(text)
    if not starts:
        return []
    found: dict[tuple[str, int], None] = {}
    line, counted_to = 1, 0
    for start in starts:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line += text.count("\n", counted_to, start)
        counted_to = start
        _line_hints(text[start:end], line, found)
    return [Hint(kind, number) for kind, number in found]


def _keyword_line_starts(text: str) -> list[int]:
    starts: set[int] = set()
    for word in _KEYWORDS:
        position = text.find(word)
        while position >= 0:
            starts.add(text.rfind("\n", 0, position) + 1)
            position = text.find(word, position + len(word))
    return sorted(starts)


def _line_hints(line_text: str, line: int, found: dict[tuple[str, int], None]) -> None:
    if line_text.lstrip().startswith("#"):
        return
    for match in _HINT.finditer(line_text):
        found[(match.lastgroup.rsplit("_", 1)[0], line)] = None
