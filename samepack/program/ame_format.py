"""AME's ``ame.yaml``, both generations -> Program.

Older files: ``projectname``, ``tasks`` as a mapping ``NAME: {runcommand, env: [{name, value}],
secrets: [{name, envkey}], resources, pipeline: [{taskname, runcommand, ...}]}`` and
``recurring_tasks: {NAME: {taskref, schedule}}``. A task with a ``pipeline`` becomes one step per
pipeline entry, each needing the one before.

Newer files (camelCase; AME's own schema is ``ProjectCfg``/``TaskCfg`` in its ``lib/ame.proto``):
``name``/``project``, ``tasks`` as a list of ``{name, executor: !pip|!poetry|!pipEnv|!mlflow|
!custom {command, pythonVersion, image}, resources, env: [{key, val}], secrets: [!ame {key,
injectAs} | ame: {key, injectAs}], triggers: {schedule}, dataSets: [NAME | {ref: {name}}],
taskRef, fromTemplate}``, ``templates`` and ``dataSets: [{name, path, size, task}]`` whose task is
a ``taskRef`` or written inline. A task that uses a data set needs the task that produces it; a
bare ``!mlflow`` executor runs the MLproject's main entry point (AME runs ``mlflow run .``);
a task's secrets are given to its own step only.
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
        if value is not None and not isinstance(value, str):
            raise t.error((key,), f"the project name must be a string, got a {type(value).__name__}",
                          f"write {key}: NAME")
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

    def __init__(self, base: Path) -> None:
        self.base = base  # the project directory (an !mlflow executor reads its MLproject)
        self.steps: dict[str, Any] = {}
        self.secrets: dict[str, dict[str, Any]] = {}
        self.schedules: dict[str, Any] = {}
        self.datasets: dict[str, Any] = {}
        self.parameters: dict[str, Any] = {}
        self.python: str | None = None

    def add_secret(self, t: Translation, path: tuple, name: Any, env: Any, step: str) -> None:
        """A secret the task ``step`` reads (AME gives a task's secrets to that task only)."""
        if not name or not env:
            raise t.error(path, "a secret needs a name and the variable it is injected as")
        secret = self.secrets.setdefault(str(env), {"name": str(name), "env": str(env), "steps": []})
        if secret["name"] != str(name):
            raise t.error(path, f"variable {env} is set from two secrets "
                          f"('{secret['name']}' and '{name}')", "inject one of them as another variable")
        if step not in secret["steps"]:
            secret["steps"].append(step)
        t.at(("secrets", list(self.secrets).index(str(env))), path)


def _secret(t: Translation, c: _Collector, path: tuple, secret: Any, step: str) -> None:
    """One secret in any of AME's spellings: ``!ame {key, injectAs}``, ``ame: {key, injectAs}``
    (what AME's own test projects write), ``!vault``/``!VaultSecret``, older ``{name, envkey}``
    and ``!AmeSecret {name, envkey}``."""
    kind = t.source.tags.get(t.prefix + path, "")
    if isinstance(secret, dict) and len(secret) == 1 and next(iter(secret)) in ("ame", "vault") \
            and isinstance(next(iter(secret.values())), dict):
        kind = next(iter(secret))
        path, secret = path + (kind,), secret[kind]
    if not isinstance(secret, dict):
        raise t.error(path, "expected a secret {key, injectAs}")
    if kind.lower() in ("vault", "vaultsecret"):
        t.warn(path, "Vault is not consulted; the value comes from the environment the step runs in")
    c.add_secret(t, path, secret.get("key") or secret.get("name") or secret.get("secretKey"),
                 secret.get("injectAs") or secret.get("envkey"), step)


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
        _secret(t, c, path + ("secrets", index), secret, name)
    t.ignore_unknown(path, task, {"runcommand", "env", "secrets", "resources", "pipeline",
                                  "taskname", "projectid", "source", "name"})
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

def _merge_template(t: Translation, path: tuple, task: dict[str, Any],
                    origin: dict[str, tuple]) -> dict[str, Any] | None:
    """``task`` over its template's fields; None when the template is in another project
    (not available here). ``origin`` records where each merged field was written."""
    ref = task.get("fromTemplate")
    if ref is None:
        return task
    name = ref.get("name") if isinstance(ref, dict) else str(ref).split(".")[-1]
    if (isinstance(ref, dict) and ref.get("project")) or (isinstance(ref, str) and "." in ref):
        return None
    for index, template in enumerate(t.get(("templates",)) or []):
        if isinstance(template, dict) and template.get("name") == name:
            for key in template:
                if key != "name" and key not in task:
                    origin[key] = ("templates", index, key)
            merged = {k: v for k, v in template.items() if k != "name"}
            merged.update(task)
            return merged
    raise t.error(path + ("fromTemplate",), f"unknown template '{name}'")


def _mlproject_command(t: Translation, c: _Collector, path: tuple) -> str:
    """What AME's ``!mlflow`` executor runs (``mlflow run .``): the MLproject's main entry
    point, read with samepack's MLproject loader (its parameters become the program's)."""
    from samepack.program.mlproject import load_mlproject

    found = sorted(p for p in c.base.iterdir() if p.name.lower() == "mlproject") \
        if c.base.is_dir() else []
    if not found:
        raise t.error(path, "an !mlflow executor runs the project's MLproject, and there is none "
                      "beside the AME file", "add the MLproject, or give the executor a command")
    project = load_mlproject(found[0])
    t.warnings.extend(w for w in project.warnings if w not in t.warnings)
    main = project.steps.get("main") or next(iter(project.steps.values()))
    for name, parameter in project.parameters.items():
        c.parameters.setdefault(name, parameter.to_dict())
    if project.environment.python:
        c.python = c.python or project.environment.python
    return main.run


def _executor(t: Translation, c: _Collector, path: tuple, task: dict[str, Any],
              executor_path: tuple) -> tuple[str, str | None]:
    executor = task.get("executor")
    kind = t.source.tags.get(t.prefix + executor_path)
    beside = task.get("command")
    if executor is None and kind is None:
        if not beside:
            raise t.error(path, "a task needs an executor (or a command)")
        return str(beside), None
    executor = executor if executor is not None else {}  # a bare `!mlflow` tag
    if not isinstance(executor, dict):
        raise t.error(executor_path, "expected an executor mapping (command, pythonVersion, image)")
    kind = kind or "custom"
    if executor.get("pythonVersion") is not None:
        c.python = c.python or t.source.text(t.prefix + executor_path + ("pythonVersion",),
                                             executor["pythonVersion"])
    t.ignore_unknown(executor_path, executor, {"command", "pythonVersion", "image"})
    command = executor.get("command")
    if not command and kind.lower() == "mlflow":
        command = _mlproject_command(t, c, executor_path)
    elif not command:
        raise t.error(executor_path, "the executor needs a command")
    if beside and str(beside) != str(command):
        t.warn(path + ("command",), f"not run: AME runs the executor's command ({command})")
    if kind.lower() in {"poetry", "pipenv", "mlflow"}:
        t.warn(executor_path, f"{kind} executor: the command runs in the program's "
               "environment, not through " + kind)
    return str(command), executor.get("image")


TASK_KEYS = {"name", "executor", "command", "resources", "env", "secrets", "triggers", "dataSets",
             "taskRef", "fromTemplate", "artifacts", "artifactCfg", "projectid", "source"}


def _new_task(t: Translation, c: _Collector, path: tuple, task: dict[str, Any],
              by_name: dict[str, tuple[tuple, dict[str, Any]]], name: str) -> None:
    origin: dict[str, tuple] = {}
    ref = task.get("taskRef")
    if ref:
        ref = str(ref.get("name") if isinstance(ref, dict) else ref)
        if ref not in by_name:
            raise t.error(path + ("taskRef",), f"unknown task '{ref}'")
        ref_path, ref_task = by_name[ref]
        origin.update({k: ref_path + (k,) for k in ref_task if k not in task})
        base = {k: v for k, v in ref_task.items() if k not in {"name", "triggers"}}
        task = {**base, **{k: v for k, v in task.items() if k != "taskRef"}}
    merged = _merge_template(t, path, task, origin)
    if merged is None:
        if task.get("executor") is None and not task.get("command") \
                and t.prefix + path + ("executor",) not in t.source.tags:
            t.warn(path + ("fromTemplate",), "its template is in another AME project, which is "
                   "not available here: the task is left out")
            return
        t.warn(path + ("fromTemplate",), "its template is in another AME project, which is not "
               "available here: only the task's own fields are used")
        merged = task
    task = merged
    command, image = _executor(t, c, path, task, origin.get("executor", path + ("executor",)))
    step = _step_spec(t, path, task, command, ("key", "val"))
    if image:
        step["image"] = image
    for s_index, secret in enumerate(task.get("secrets") or []):
        s_root = origin.get("secrets", path + ("secrets",))
        _secret(t, c, s_root + (s_index,), secret, name)
    schedule = (task.get("triggers") or {}).get("schedule")
    if schedule:
        c.schedules[name] = {"cron": str(schedule), "steps": [name]}
        t.at(("schedules", name), path + ("triggers", "schedule"))
    needs = _dataset_needs(t, c, path, task, name)
    if needs:
        step["needs"] = needs
    if task.get("artifacts") or task.get("artifactCfg"):
        key = "artifacts" if task.get("artifacts") else "artifactCfg"
        t.warn(path + (key,), "artifacts are not uploaded to object storage: files a run writes "
               "are recorded as its outputs")
    for key in ("task_type", "taskType"):
        if key in task:
            t.warn(path + (key,), f"{key} {task[key]} is not used: the command runs as written")
    t.ignore_unknown(path, task, TASK_KEYS | {"task_type", "taskType"})
    c.steps[name] = step
    t.at(("steps", name), path)


def _dataset_needs(t: Translation, c: _Collector, path: tuple, task: dict[str, Any],
                   name: str) -> list[str]:
    """The producing tasks of the data sets a task uses: ``dataSets: [NAME]`` (AME's format)
    or ``[{ref: {name, project}}]`` (its docs)."""
    needs: list[str] = []
    for index, use in enumerate(task.get("dataSets") or []):
        where = path + ("dataSets", index)
        ref = use.get("ref") if isinstance(use, dict) else {"name": use}
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            raise t.error(where, "expected a data set name")
        if ref.get("project"):
            t.warn(where, f"data set '{ref['name']}' of project {ref['project']} is not available "
                   "here; the task runs without waiting for it")
            continue
        if ref["name"] not in c.datasets:
            known = ", ".join(sorted(c.datasets)) or "none"
            raise t.error(where, f"unknown data set '{ref['name']}'",
                          f"data sets of this project: {known}")
        producer = c.datasets[ref["name"]].get("producer")
        if producer and producer != name:
            needs.append(producer)
    return needs


def _new_datasets(t: Translation, c: _Collector,
                  by_name: dict[str, tuple[tuple, dict[str, Any]]]) -> None:
    """Data sets; one whose producing task is written inline gets that task as a step."""
    for index, spec in enumerate(t.get(("dataSets",)) or []):
        path = ("dataSets", index)
        if not isinstance(spec, dict) or not spec.get("name") or not spec.get("path"):
            raise t.error(path, "a data set needs a name and a path")
        name = str(spec["name"]).strip()
        task = spec.get("task")
        producer = None
        if isinstance(task, dict) and task.get("taskRef") and len(task) == 1:
            ref = task["taskRef"]
            producer = slug(str(ref.get("name") if isinstance(ref, dict) else ref))
        elif isinstance(task, dict):
            producer = slug(task.get("name") or f"{name}-producer")
            if "runcommand" in task:
                _old_step(t, c, path + ("task",), task, producer, [])
            else:
                _new_task(t, c, path + ("task",), task, by_name, producer)
        elif task is not None:
            raise t.error(path + ("task",), "expected the task that produces the data set")
        c.datasets[name] = {"path": str(spec["path"]), "producer": producer}
        if spec.get("size"):
            t.warn(path + ("size",), "the size is informational; storage is not reserved")
        t.ignore_unknown(path, spec, {"name", "path", "task", "size"})


def _new_tasks(t: Translation, c: _Collector) -> None:
    tasks = t.expect(("tasks",), list, "a list of tasks") or []
    by_name = {str(task.get("name")): (("tasks", i), task)
               for i, task in enumerate(tasks) if isinstance(task, dict)}
    _new_datasets(t, c, by_name)
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise t.error(("tasks", index), "expected a mapping with name and executor")
        _new_task(t, c, ("tasks", index), task, by_name, slug(task.get("name") or f"task-{index}"))
    if not c.steps:
        raise t.error(("tasks",), "the project has no tasks samepack can run",
                      "add a task with an executor and its command")
    for key in ("models", "enableTriggers"):
        if t.get((key,)):
            t.warn((key,), "model training, validation and deployment are not supported; ignored"
                   if key == "models" else "not used: schedules are deployed with samepack deploy")


def load_ame_config(path: Path, source: Source | None = None) -> Program:
    source = source or read_yaml(path)
    if not isinstance(source.data, dict):
        raise source.error((), "expected an AME project mapping")
    t = Translation(source)
    c = _Collector(path.parent)
    older = isinstance(source.data.get("tasks"), dict) or "projectname" in source.data
    if older:
        name = _name(t, ("projectname", "projectid", "name"))
        t.ignore_unknown((), source.data, {"projectname", "projectid", "tasks", "recurring_tasks"})
        _old_tasks(t, c)
    else:
        name = _name(t, ("name", "project", "projectid"))
        t.ignore_unknown((), source.data, {"name", "project", "projectid", "tasks", "templates",
                                           "dataSets", "data_sets", "models", "enableTriggers"})
        _new_tasks(t, c)
    t.at(("steps",), ("tasks",))
    data: dict[str, Any] = {
        "metadata": {"name": name, "version": "0.0.0"},
        "steps": c.steps,
        "secrets": list(c.secrets.values()),
        "schedules": c.schedules,
        "datasets": {n: {"path": d["path"]} for n, d in c.datasets.items()},
        "parameters": c.parameters,
    }
    if c.python:
        data["environment"] = {"python": c.python}
    program = t.finish({k: v for k, v in data.items() if v}, "ame" if older else "ame-v2")
    return program
