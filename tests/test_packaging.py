"""The wheel carries what the installed tool needs: the package and the shipped templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from support import REPO_ROOT


def test_wheel_ships_templates_and_entry_point(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO_ROOT)],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    (wheel,) = tmp_path.glob("samepack-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("samepack/_templates/")}
    in_repo = {p.name for p in (REPO_ROOT / "templates").iterdir() if p.is_file()}
    assert in_repo and in_repo <= shipped
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "samepack = samepack.startup:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
