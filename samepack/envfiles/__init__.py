"""Environment files: requirements.in/.txt, environment.yml, conda-lock.yml, pylock.toml and the
``.samepack/env.json`` record; writing them safely and checking them for drift.

Entry points: :func:`samepack.envfiles.package.package_env`, ``check_env``;
:func:`samepack.envfiles.envjson.read_env_record`.
"""
