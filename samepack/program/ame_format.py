"""AME's ``ame.yaml``, both generations -> Program.

Older files: ``projectname``, ``tasks`` as a mapping ``NAME: {runcommand, env: [{name, value}],
secrets: [{name, envkey}], resources, pipeline: [{taskname, runcommand, ...}]}`` and
``recurring_tasks: {NAME: {taskref, schedule}}``. A task with a ``pipeline`` becomes one step per
pipeline entry, each needing the one before.

Newer files (camelCase): ``name``/``project``, ``tasks`` as a list of ``{name, executor: !pip
{command, pythonVersion, image}, resources, env: [{key, val}], secrets: [!ame {key, injectAs}],
triggers: {schedule}, dataSets: [{ref: {name}}], taskRef, fromTemplate}``, ``templates`` and
``dataSets: [{name, path, size, task: {taskRef}}]``. A task that uses a data set needs the task
that produces it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samepack.program.model import Program
from samepack.program.translate import Translation, slug
from samepack.program.yamlsource import Source, read_yaml

RESOURCE_KEYS = {"cpu": "cpu", "memory": "memory", "storage": "storage", "gpus": "gpus",
                 "nvidia.com/gpu": "gpus", "vram": "vram"}


def is_ame_config(path: Path, source: Source | None) -> bool:
    data = source.data if source else None
    if isinstance(data, dict) and "kind" not in data and "tasks" in data:
        return True
    return path.name in {"ame.yaml", "ame.yml"}


def _name(t: Translation, keys: tuple[str, ...]) -> str:
    for key in keys:
        value = t.get((key,))
        if value is not None:
            t.at(("metadata",), (key,))
            if slug(str(value)) != str(value):
                t.warn((key,), f"name {value!r} becomes {slug(str(value))!r}")
            return slug(str(value))
    raise t.error((), f"{keys[0]} is required")


def _resources(t: Translation, path: tuple, data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise t.error(path, "expected a mapping (cpu, memory, storage, gpus, vram)")
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key not in RESOURCE_KEYS:
            t.warn(path + (key,), "resource not understood by samepack; ignored")
            continue
        result[RESOURCE_KEYS[key]] = int(value) if RESOURCE_KEYS[key] == "gpus" else value
    return result


def _env(t: Translation, path: tuple, data: Any, name_key: str, value_key: str) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, list):
        raise t.error(path, f"expected a list of {{{name_key}, {value_key}}}")
    env: dict[str, str] = {}
    for index, item in enumerate(data):
        if not isinstance(item, dict) or name_key not in item:
            raise t.error(path + (index,), f"expected {{{name_key}: NAME, {value_key}: VALUE}}")
        env[str(item[name_key])] = str(item.get(value_key, ""))
    return env


def _step_spec(t: Translation, path: tuple, task: dict[str, Any], command: str,
               env_keys: tuple[str, str]) -> dict[str, Any]:
    """A canonical step from a task's command, env list and resources (both generations)."""
    step: dict[str, Any] = {"run": command}
    env = _env(t, path + ("env",), task.get("env"), *env_keys)
    if env:
        step["env"] = env
    resources = _resources(t, path + ("resources",), task.get("resources"))
    if resources:
        step["resources"] = resources
    return step


class _Collector:
    """Canonical sections filled while walking tasks."""

    def __init__(self) -> None:
        self.steps: dict[str, Any] = {}
        self.secrets: dict[str, dict[str, str]] = {}
        self.schedules: dict[str, Any] = {}
        self.datasets: dict[str, Any] = {}
        self.python: str | None = None

    def add_secret(self, t: Translation, path: tuple, name: Any, env: Any) -> None:
        if not name or not env:
            raise t.error(path, "a secret needs a name and the variable it is injected as")
        self.secrets.setdefault(str(env), {"name": str(name), "env": str(env)})
        t.at(("secrets", len(self.secrets) - 1), path)


# -- older generation ---------------------------------------------------------------------------

def _old_step(t: Translation, c: _Collector, path: tuple, task: dict[str, Any], name: str,
              needs: list[str]) -> None:
    command = task.get("runcommand")
    if not isinstance(command, str) or not command.strip():
        raise t.error(path + ("runcommand",), "runcommand is required")
    step = _step_spec(t, path, task, command, ("name", "value"))
    if needs:
        step["needs"] = needs
    for index, secret in enumerate(task.get("secrets") or []):
        secret = secret if isinstance(secret, dict) else {}
        c.add_secret(t, path + ("secrets", index), secret.get("name"), secret.get("envkey"))
    t.ignore_unknown(path, task, {"runcommand", "env", "secrets", "resources", "pipeline",
                                  "taskname", "projectid", "source"})
    c.steps[name] = step
    t.at(("steps", name), path)


def _old_tasks(t: Translation, c: _Collector) -> None:
    tasks = t.expect(("tasks",), dict, "a mapping of task names", required=True)
    for name, task in tasks.items():
        path = ("tasks", name)
        if not isinstance(task, dict):
            raise t.error(path, "expected a mapping with runcommand")
        pipeline = task.get("pipeline")
        if pipeline is None:
            _old_step(t, c, path, task, slug(name), [])
            continue
        if not isinstance(pipeline, list) or not pipeline:
            raise t.error(path + ("pipeline",), "expected a list of tasks")
        previous: list[str] = []
        for index, item in enumerate(pipeline):
            item_path = path + ("pipeline", index)
            if not isinstance(item, dict) or not item.get("taskname"):
                raise t.error(item_path, "each pipeline entry needs a taskname")
            step_name = slug(f"{name}-{item['taskname']}")
            _old_step(t, c, item_path, item, step_name, previous)
            previous = [step_name]
    for name, recurring in (t.get(("recurring_tasks",)) or {}).items():
        path = ("recurring_tasks", name)
        ref = slug(str((recurring or {}).get("taskref", "")))
        steps = [s for s in c.steps if s == ref or s.startswith(ref + "-")]
        if not steps:
            raise t.error(path + ("taskref",), f"unknown task '{(recurring or {}).get('taskref')}'")
        c.schedules[slug(name)] = {"cron": str(recurring.get("schedule", "")), "steps": steps}
        t.at(("schedules", slug(name)), path + ("schedule",))


# -- newer generation ---------------------------------------------------------------------------

def _merge_template(t: Translation, path: tuple, task: dict[str, Any]) -> dict[str, Any]:
    ref = task.get("fromTemplate")
    if ref is None:
        return task
    name = ref.get("name") if isinstance(ref, dict) else str(ref).split(".")[-1]
    if isinstance(ref, dict) and ref.get("project"):
        t.warn(path + ("fromTemplate",), "templates of other projects are not available; ignored")
        return task
    for template in t.get(("templates",)) or []:
        if isinstance(template, dict) and template.get("name") == name:
            merged = {k: v for k, v in template.items() if k != "name"}
            merged.update(task)
            return merged
    raise t.error(path + ("fromTemplate",), f"unknown template '{name}'")


def _executor(t: Translation, c: _Collector, path: tuple, task: dict[str, Any]) -> tuple[str, str | None]:
    executor = task.get("executor")
    if executor is None:
        command = task.get("command")
        if not command:
            raise t.error(path, "a task needs an executor (or a command)")
        return str(command), None
    if not isinstance(executor, dict) or not executor.get("command"):
        raise t.error(path + ("executor",), "the executor needs a command")
    kind = t.source.tags.get(t.prefix + path + ("executor",), "custom")
    if kind.lower() in {"poetry", "pipenv", "mlflow"}:
        t.warn(path + ("executor",), f"{kind} executor: the command runs in the program's "
               "environment, not through " + kind)
    if executor.get("pythonVersion") is not None:
        c.python = c.python or str(executor["pythonVersion"])
    t.ignore_unknown(path + ("executor",), executor, {"command", "pythonVersion", "image"})
    return str(executor["command"]), executor.get("image")


def _new_task(t: Translation, c: _Collector, index: int, task: dict[str, Any],
              by_name: dict[str, dict[str, Any]]) -> None:
    path = ("tasks", index)
    name = slug(task.get("name") or f"task-{index}")
    if task.get("taskRef"):
        ref = str(task["taskRef"])
        if ref not in by_name:
            raise t.error(path + ("taskRef",), f"unknown task '{ref}'")
        base = {k: v for k, v in by_name[ref].items() if k not in {"name", "triggers"}}
        task = {**base, **{k: v for k, v in task.items() if k != "taskRef"}}
    task = _merge_template(t, path, task)
    command, image = _executor(t, c, path, task)
    step = _step_spec(t, path, task, command, ("key", "val"))
    if image:
        step["image"] = image
    for s_index, secret in enumerate(task.get("secrets") or []):
        s_path = path + ("secrets", s_index)
        secret = secret if isinstance(secret, dict) else {}
        if t.source.tags.get(t.prefix + s_path) == "vault":
            t.warn(s_path, "Vault is not consulted; the value comes from the local environment")
        c.add_secret(t, s_path, secret.get("key") or secret.get("name"),
                     secret.get("injectAs") or secret.get("envkey"))
    schedule = (task.get("triggers") or {}).get("schedule")
    if schedule:
        c.schedules[name] = {"cron": str(schedule), "steps": [name]}
        t.at(("schedules", name), path + ("triggers", "schedule"))
    needs = _dataset_needs(t, c, path, task)
    if needs:
        step["needs"] = needs
    if task.get("artifacts"):
        t.warn(path + ("artifacts",), "artifacts are not uploaded; steps write to $SAMEPACK_ARTIFACTS")
    t.ignore_unknown(path, task, {"name", "executor", "command", "resources", "env", "secrets",
                                  "triggers", "dataSets", "taskRef", "fromTemplate", "artifacts",
                                  "projectid", "source", "task_type"})
    c.steps[name] = step
    t.at(("steps", name), path)


def _dataset_needs(t: Translation, c: _Collector, path: tuple, task: dict[str, Any]) -> list[str]:
    needs: list[str] = []
    for index, use in enumerate(task.get("dataSets") or []):
        ref = (use or {}).get("ref") if isinstance(use, dict) else None
        name = ref.get("name") if isinstance(ref, dict) else None
        if not name or name not in c.datasets:
            raise t.error(path + ("dataSets", index), f"unknown data set '{name}'")
        producer = c.datasets[name].get("producer")
        if producer:
            needs.append(producer)
    return needs


def _new_datasets(t: Translation, c: _Collector) -> None:
    for index, spec in enumerate(t.get(("dataSets",)) or []):
        path = ("dataSets", index)
        if not isinstance(spec, dict) or not spec.get("name") or not spec.get("path"):
            raise t.error(path, "a data set needs a name and a path")
        producer = ((spec.get("task") or {}).get("taskRef")) if isinstance(spec.get("task"), dict) else None
        c.datasets[str(spec["name"])] = {"path": str(spec["path"]),
                                         "producer": slug(producer) if producer else None}
        if spec.get("size"):
            t.warn(path + ("size",), "the size is informational; storage is not reserved")


def _new_tasks(t: Translation, c: _Collector) -> None:
    tasks = t.expect(("tasks",), list, "a list of tasks", required=True)
    by_name = {str(task.get("name")): task for task in tasks if isinstance(task, dict)}
    _new_datasets(t, c)
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise t.error(("tasks", index), "expected a mapping with name and executor")
        _new_task(t, c, index, task, by_name)
    if t.get(("models",)):
        t.warn(("models",), "model training/deployment definitions are not supported; ignored")


def load_ame_config(path: Path, source: Source | None = None) -> Program:
    source = source or read_yaml(path)
    if not isinstance(source.data, dict):
        raise source.error((), "expected an AME project mapping")
    t = Translation(source)
    c = _Collector()
    older = isinstance(source.data.get("tasks"), dict) or "projectname" in source.data
    if older:
        name = _name(t, ("projectname", "projectid", "name"))
        t.ignore_unknown((), source.data, {"projectname", "projectid", "tasks", "recurring_tasks"})
        _old_tasks(t, c)
    else:
        name = _name(t, ("name", "project", "projectid"))
        t.ignore_unknown((), source.data, {"name", "project", "projectid", "tasks", "templates",
                                           "dataSets", "data_sets", "models"})
        _new_tasks(t, c)
    t.at(("steps",), ("tasks",))
    data: dict[str, Any] = {
        "metadata": {"name": name, "version": "0.0.0"},
        "steps": c.steps,
        "secrets": list(c.secrets.values()),
        "schedules": c.schedules,
        "datasets": {n: {"path": d["path"]} for n, d in c.datasets.items()},
    }
    t.warn((), "AME projects carry no version; registered as 0.0.0")
    if c.python:
        data["environment"] = {"python": c.python}
    program = t.finish({k: v for k, v in data.items() if v}, "ame" if older else "ame-v2")
    return program
