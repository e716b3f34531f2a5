"""``import --env``: recreate an imported program's environment from its bundled lock
(``<entry>/env``, laid out like the project it was locked in) with ``samepack.envcreate``, into
``<entry>/code/.samepack/env`` where runs of the program look for it."""

from __future__ import annotations

from pathlib import Path

from samepack.errors import NotFoundError


def create_env(entry) -> Path:
    """Create the environment of an imported ``entry``; its Python interpreter."""
    from samepack.envcreate import CreateOptions, create_environment

    env_dir = Path(entry.path) / "env"
    if not (env_dir / ".samepack" / "env.json").is_file():
        raise NotFoundError(f"{entry.ref}: the bundle has no lock record (env/.samepack/env.json)",
                            hint="lock the project with `samepack package-env` and export again")
    prefix = Path(entry.workdir) / ".samepack" / "env"
    return create_environment(env_dir, CreateOptions(prefix=prefix))
