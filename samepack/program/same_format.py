"""SAME's ``same.yaml`` (and a notebook carrying it as ``metadata.same_config``) -> Program.

SAME describes one notebook: ``metadata`` (name, version, labels), ``environments`` (older
files: ``base_images``; must contain ``default``), ``datasets`` (a URI per environment),
``notebook`` (name, path, requirements) and ``run`` (name, parameters). The notebook's cells
tagged ``same_step_N`` become steps that run in order; each runs as a script made from its cells.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from samepack.errors import InputError
from samepack.program.model import Program
from samepack.program.notebook import notebook_steps, read_notebook
from samepack.program.translate import Translation, slug
from samepack.program.values import infer_type
from samepack.program.yamlsource import Source, read_yaml

REMOTE_SCHEMES = ("http://", "https://", "file://", "s3://", "gs://", "ipfs://", "az://", "abfs://")
TOP_KEYS = {"apiVersion", "metadata", "environments", "base_images", "datasets", "notebook", "run"}
# Go-era SAME (2021): ``pipeline.package`` names a notebook or a Kubeflow pipeline ``.py``.
GO_ERA_KEYS = {"apiVersion", "metadata", "pipeline", "run", "bases", "envfiles", "resources",
               "workflow", "datasets"}
GO_ERA_IGNORED = {
    "bases": "base environments are not used; lock the environment with samepack package-env",
    "envfiles": "env files are not read (they may hold secrets, which samepack never stores); "
                "set the variables in the environment the steps run in",
    "resources": "cluster settings (provider, profile, disks) are not used; samepack deploy and "
                 "run --target k8s use the current Kubernetes context",
    "workflow": "steps run with samepack's own runner (locally or as Kubernetes Jobs), not Kubeflow",
}


def is_same_config(path: Path, source: Source | None) -> bool:
    if path.suffix == ".ipynb":
        return False
    data = source.data if source else None
    if isinstance(data, dict) and ("notebook" in data or "environments" in data or "base_images" in data) \
            and "kind" not in data:
        return True
    if _is_go_era(data):
        return True
    return path.name in {"same.yaml", "same.yml"}


def _is_go_era(data: Any) -> bool:
    return isinstance(data, dict) and "kind" not in data and "notebook" not in data \
        and isinstance(data.get("pipeline"), dict) and "package" in data["pipeline"]


def is_same_notebook(path: Path, source: Source | None) -> bool:
    if path.suffix != ".ipynb":
        return False
    data = read_notebook(path).data
    return isinstance(data, dict) and "same_config" in (data.get("metadata") or {})


def _metadata(t: Translation) -> dict[str, Any]:
    t.expect(("apiVersion",), (str,), "apiVersion (any value, e.g. sameproject.io/v1alpha1)",
             required=True)
    meta = t.expect(("metadata",), dict, "a mapping", required=True)
    name = t.expect(("metadata", "name"), (str,), "a name", required=True)
    if slug(name) != name:
        t.warn(("metadata", "name"), f"name {name!r} becomes {slug(name)!r}")
    version = meta.get("version")
    if version is not None:  # `version: 1.10` is the float 1.1 to YAML, not what was written
        version = t.source.text(t.prefix + ("metadata", "version"), version)
    if version is None:
        t.warn(("metadata",), "no version; using 0.0.0")
    t.ignore_unknown(("metadata",), meta, {"name", "version", "labels", "sha"})
    t.at(("metadata",), ("metadata",))
    t.at(("metadata", "version"), ("metadata", "version"))
    labels = meta.get("labels") or {}
    if isinstance(labels, list) and all(isinstance(label, str) for label in labels):
        labels = {slug(label): "true" for label in labels}  # SAME's schema has a list
    if not isinstance(labels, dict):
        raise t.error(("metadata", "labels"), "expected a mapping of label names to values")
    if meta.get("sha"):
        t.warn(("metadata", "sha"), "the sha is not checked")
    return {"name": slug(name), "version": str(version or "0.0.0"), "labels": labels}


def _environments(t: Translation) -> dict[str, Any]:
    key = "environments" if t.get(("environments",)) is not None else "base_images"
    envs = t.expect((key,), dict, "a mapping of environment names", required=True)
    if "default" not in envs:
        raise t.error((key,), "must contain a 'default' environment",
                      "add environments.default.image_tag")
    for name, env in envs.items():
        if not isinstance(env, dict):
            raise t.error((key, name), "expected a mapping with image_tag")
        if env.get("private_registry") or env.get("credentials"):
            t.warn((key, name), "registry credentials are not carried; log in to the registry yourself")
        if env.get("packages"):
            t.warn((key, name, "packages"), "packages are not installed; lock them with samepack package-env")
        t.ignore_unknown((key, name), env, {"image_tag", "private_registry", "credentials", "packages"})
    return {name: env.get("image_tag") for name, env in envs.items()}


def _datasets(t: Translation) -> dict[str, Any]:
    datasets = t.expect(("datasets",), dict, "a mapping of dataset names") or {}
    result: dict[str, Any] = {}
    for name, spec in datasets.items():
        path = ("datasets", name)
        if not isinstance(spec, dict):
            raise t.error(path, "expected a mapping with schema_uri and environments")
        uri = t.expect(path + ("environments", "default"), (str,), "a URI or path", required=True)
        for env in spec.get("environments") or {}:
            if env != "default":
                t.warn(path + ("environments", env), "only the default environment's data is used")
        if spec.get("schema_uri"):
            t.warn(path + ("schema_uri",), "schemas are not checked")
        key = "uri" if uri.startswith(REMOTE_SCHEMES) else "path"
        result[name] = {key: uri}
        t.at(("datasets", name), path + ("environments", "default"))
    return result


def _parameters(t: Translation) -> dict[str, Any]:
    params = t.expect(("run", "parameters"), dict, "a mapping of parameter names") or {}
    result: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, (dict, list)):
            t.warn(("run", "parameters", name), "a structured value is passed as a JSON string")
            value = json.dumps(value, sort_keys=True)
        result[name] = {"type": infer_type(value) if value is not None else "str", "default": value}
        t.at(("parameters", name), ("run", "parameters", name))
    return result


def _notebook_steps(t: Translation, notebook: dict[str, Any], nb_path: str,
                    images: dict[str, Any],
                    field: tuple[str, ...] = ("notebook", "path")) -> dict[str, Any]:
    found = notebook_steps(notebook)
    if not any(step.cells for step in found):
        raise t.error(field, f"notebook {nb_path} has no code cells")
    steps: dict[str, Any] = {}
    previous: str | None = None
    for step in found:
        env = step.environment or "default"
        if env not in images:
            raise t.error(field,
                          f"{nb_path}: step {step.name} uses unknown environment '{env}'",
                          f"known environments: {', '.join(sorted(images))}")
        spec: dict[str, Any] = {"run": "python", "notebook": f"{nb_path}#{step.name}"}
        if previous:
            spec["needs"] = [previous]
        if step.image:
            spec["image"] = step.image
        elif env != "default" and images.get(env):
            spec["image"] = images[env]
        if step.magics:
            t.warn(field, f"{step.name}: {step.magics} shell/magic line(s) are skipped")
        if step.cache:
            t.warn(field, f"{step.name}: cache={step.cache} is not honoured: "
                   "samepack runs every step each time (a run's results are kept in its history)")
        steps[step.name] = spec
        previous = step.name
    if len({s.image or s.environment or "default" for s in found}) > 1:
        t.warn(field, "locally every step runs in the program's one environment; "
               "per-step images are used on a cluster")
    return steps


def _go_era(t: Translation, base: Path) -> tuple[str, dict[str, Any]]:
    """A Go-era file: (the notebook its ``pipeline.package`` names, its data sets). A Kubeflow
    pipeline package is refused: its steps are Python functions compiled by kfp."""
    t.ignore_unknown((), t.get(()), GO_ERA_KEYS)
    for key, why in GO_ERA_IGNORED.items():
        if t.get((key,)) is not None:
            t.warn((key,), why)
    pipeline = t.get(("pipeline",))
    t.ignore_unknown(("pipeline",), pipeline, {"name", "description", "package"})
    package = t.expect(("pipeline", "package"), (str,), "the notebook to run", required=True)
    if not package.endswith(".ipynb"):
        raise t.error(("pipeline", "package"),
                      f"{package} is a Kubeflow pipeline (Go-era SAME compiled it with kfp); "
                      "samepack runs notebooks and commands, not Kubeflow pipelines",
                      "write its steps as commands in a samepack.yaml (samepack init), or "
                      "point pipeline.package at a notebook")
    datasets: dict[str, Any] = {}
    for index, spec in enumerate(t.expect(("datasets",), list, "a list of data sets") or []):
        path = ("datasets", index)
        if not isinstance(spec, dict) or not spec.get("name") or not spec.get("url"):
            raise t.error(path, "a data set needs a name and a url")
        name = re.sub(r"\W+", "_", str(spec["name"])).strip("_") or f"dataset_{index}"
        key = "uri" if str(spec["url"]).startswith(REMOTE_SCHEMES) else "path"
        datasets[name] = {key: str(spec["url"])}
        t.at(("datasets", name), path)
        t.ignore_unknown(path, spec, {"name", "type", "url", "makeLocalCopy"})
    return package, datasets


def _translate(t: Translation, base: Path, notebook: dict[str, Any] | None, nb_path: str | None) -> Program:
    if _is_go_era(t.get(())):
        return _translate_go_era(t, base)
    t.ignore_unknown((), t.get(()), TOP_KEYS)
    metadata = _metadata(t)
    images = _environments(t)
    nb_spec = t.expect(("notebook",), dict, "a mapping with name and path") or {}
    t.ignore_unknown(("notebook",), nb_spec, {"name", "path", "requirements"})
    run = t.expect(("run",), dict, "a mapping with name and parameters") or {}
    t.ignore_unknown(("run",), run, {"name", "parameters", "sha"})
    if run.get("sha"):
        t.warn(("run", "sha"), "the notebook's sha is not checked")
    if notebook is None:
        nb_path = t.expect(("notebook", "path"), (str,), "the notebook's path", required=True)
        notebook = _load_notebook(t, base / nb_path)
    environment: dict[str, Any] = {"image": images.get("default")} if images.get("default") else {}
    if nb_spec.get("requirements"):
        environment["lock"] = str(nb_spec["requirements"])
    if run.get("name"):
        metadata["labels"] = {**metadata["labels"], "same-run-name": str(run["name"])}
    if nb_spec.get("name"):
        metadata["description"] = str(nb_spec["name"])
    data = {"metadata": metadata, "environment": environment, "parameters": _parameters(t),
            "datasets": _datasets(t), "steps": _notebook_steps(t, notebook, str(nb_path), images)}
    return t.finish({k: v for k, v in data.items() if v}, "same")


def _translate_go_era(t: Translation, base: Path) -> Program:
    metadata = _metadata(t)
    nb_path, datasets = _go_era(t, base)
    notebook = _load_notebook(t, base / nb_path, ("pipeline", "package"))
    run = t.expect(("run",), dict, "a mapping with name and parameters") or {}
    t.ignore_unknown(("run",), run, {"name", "parameters"})
    if run.get("name"):
        metadata["labels"] = {**metadata["labels"], "same-run-name": str(run["name"])}
    description = t.get(("pipeline", "description")) or t.get(("pipeline", "name"))
    if description:
        metadata["description"] = str(description)
    data = {"metadata": metadata, "parameters": _parameters(t), "datasets": datasets,
            "steps": _notebook_steps(t, notebook, nb_path, {"default": None},
                                     ("pipeline", "package"))}
    return t.finish({k: v for k, v in data.items() if v}, "same")


def _load_notebook(t: Translation, path: Path,
                   field: tuple[str, ...] = ("notebook", "path")) -> dict[str, Any]:
    if not path.is_file():
        raise t.error(field, f"notebook {path.name} not found beside the config",
                      f"fix {'.'.join(field)} (relative to same.yaml)")
    data = read_notebook(path).data
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InputError(f"{path.name}:1: cells: not a Jupyter notebook")
    return data


def load_same_config(path: Path, source: Source | None = None) -> Program:
    source = source or read_yaml(path)
    if not isinstance(source.data, dict):
        raise source.error((), "expected a SAME config mapping")
    return _translate(Translation(source), path.parent, None, None)


def load_same_notebook(path: Path, source: Source | None = None) -> Program:
    """A notebook whose ``metadata.same_config`` holds the SAME config (mapping or YAML text)."""
    nb_source = read_notebook(path)
    config = nb_source.data["metadata"]["same_config"]
    if isinstance(config, str):
        from samepack.program.yamlsource import parse_yaml
        t = Translation(parse_yaml(config, f"{path.name}[metadata.same_config]"))
    elif isinstance(config, dict):
        t = Translation(nb_source, prefix=("metadata", "same_config"))
    else:
        raise nb_source.error(("metadata", "same_config"), "expected a mapping")
    return _translate(t, path.parent, nb_source.data, path.name)
