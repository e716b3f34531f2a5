"""``samepack devcontainer``: a devcontainer definition for a host that fits the program."""

from __future__ import annotations

from pathlib import Path

import click

from samepack.console import info
from samepack.console import result as result_line


@click.command("devcontainer")
@click.argument("project", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing .devcontainer/devcontainer.json.")
def devcontainer(project: Path, force: bool) -> None:
    """Write PROJECT/.devcontainer/devcontainer.json: hostRequirements (cpus, memory, storage,
    gpu) from the program's resources, its image or Dockerfile, and a post-create command that
    recreates the locked environment. A Codespace (or any devcontainer host) opened on the
    project then runs on a machine that fits.
    """
    from samepack.elsewhere.devcontainer import write_devcontainer

    target, config = write_devcontainer(project, force)
    wanted = config.get("hostRequirements") or {}
    sized = ", ".join(f"{key} {value}" for key, value in wanted.items()) or "no resources asked"
    info(f"wrote {target} ({sized})")
    result_line(str(target))
