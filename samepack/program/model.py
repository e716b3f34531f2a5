"""The Program value every program format is loaded into (samepack.yaml, same.yaml, ame.yaml,
MLproject). Pure data and pure helpers; loading and validation live beside it.

The canonical serialisation is ``Program.to_dict()``: what ``samepack.yaml`` holds, what the
bundle stores under ``program/samepack.yaml`` and what digests are computed over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

API_VERSION = "samepack.dev/v1"

ParameterType = Literal["int", "float", "str", "bool", "path"]
SourceFormat = Literal["samepack", "same", "ame", "ame-v2", "mlproject"]


@dataclass
class Resources:
    """What a step needs. Quantities use Kubernetes notation (``8Gi``, ``500m``)."""

    cpu: float | None = None
    memory: str | None = None
    storage: str | None = None
    gpus: int = 0
    vram: str | None = None

    def merged_over(self, defaults: "Resources") -> "Resources":
        """These resources with unset fields taken from ``defaults`` (program-level)."""
        return Resources(
            cpu=self.cpu if self.cpu is not None else defaults.cpu,
            memory=self.memory or defaults.memory,
            storage=self.storage or defaults.storage,
            gpus=self.gpus or defaults.gpus,
            vram=self.vram or defaults.vram,
        )

    def to_dict(self) -> dict[str, Any]:
        data = {"cpu": self.cpu, "memory": self.memory, "storage": self.storage,
                "gpus": self.gpus or None, "vram": self.vram}
        return {key: value for key, value in data.items() if value is not None}


@dataclass
class Parameter:
    """A parameter of the program: its type, default and allowed values."""

    name: str
    type: ParameterType = "str"
    default: Any = None
    help: str | None = None
    choices: list[Any] | None = None
    # With no default, a parameter must be given -- unless it is optional: then its value may
    # stay null and the run-line word holding its placeholder is left out of the command.
    optional: bool = False

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "default": self.default}
        if self.optional:
            data["optional"] = True
        if self.help:
            data["help"] = self.help
        if self.choices:
            data["choices"] = list(self.choices)
        return data


@dataclass
class Dataset:
    """A data set by pointer: where it lives (``uri``), where steps see it (``path``, relative to
    the project), and what it must hash to."""

    name: str
    uri: str | None = None
    path: str | None = None
    sha256: str | None = None
    size: int | None = None
    media_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"uri": self.uri, "path": self.path, "sha256": self.sha256, "size": self.size,
                "media_type": self.media_type}
        return {key: value for key, value in data.items() if value is not None}


@dataclass
class SecretRef:
    """A secret by reference only: ``name`` in the cluster/store, ``env`` the variable a step
    reads. The value is supplied at run or import time and never stored."""

    name: str
    env: str
    key: str | None = None
    steps: list[str] | None = None  # the steps that read it; None: every step

    def for_step(self, step: str) -> bool:
        return self.steps is None or step in self.steps

    def to_dict(self) -> dict[str, Any]:
        data = {"name": self.name, "env": self.env, "key": self.key, "steps": self.steps}
        return {key: value for key, value in data.items() if value is not None}


@dataclass(frozen=True)
class MetricPattern:
    """Metrics read from what a step prints: ``pattern`` (a regular expression with a named group
    ``value``, and either a group ``name`` or the fixed ``name``) matched against each line."""

    pattern: str
    name: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {"pattern": self.pattern, **({"name": self.name} if self.name else {})}


@dataclass
class Step:
    """One command of the pipeline. ``run`` may reference ``{params.NAME}``,
    ``{datasets.NAME}`` and ``{env.NAME}``; it is split with shlex and run without a shell
    unless ``shell`` is set."""

    name: str
    run: str
    needs: list[str] = field(default_factory=list)
    resources: Resources = field(default_factory=Resources)
    env: dict[str, str] = field(default_factory=dict)
    image: str | None = None
    workdir: str | None = None
    notebook: str | None = None  # a notebook (or notebook cells) this step executes
    metrics: list[MetricPattern] = field(default_factory=list)  # read from its printed output

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"run": self.run}
        if self.needs:
            data["needs"] = list(self.needs)
        if self.resources.to_dict():
            data["resources"] = self.resources.to_dict()
        if self.env:
            data["env"] = dict(sorted(self.env.items()))
        for key in ("image", "workdir", "notebook"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.metrics:
            data["metrics"] = [pattern.to_dict() for pattern in self.metrics]
        return data


@dataclass
class Schedule:
    """A cron schedule running the program (or some of its steps) with set parameters."""

    name: str
    cron: str
    params: dict[str, Any] = field(default_factory=dict)
    steps: list[str] | None = None  # None: the whole pipeline

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"cron": self.cron}
        if self.params:
            data["params"] = dict(self.params)
        if self.steps:
            data["steps"] = list(self.steps)
        return data


@dataclass
class Environment:
    """Where the steps' software comes from: Python version, lock file, image, conda file."""

    python: str | None = None
    lock: str | None = None  # path of the lock file relative to the project, e.g. requirements.txt
    image: str | None = None  # image reference, by digest once built
    conda: str | None = None  # environment.yml / conda-lock.yml when the program is conda-based

    def to_dict(self) -> dict[str, Any]:
        data = {"python": self.python, "lock": self.lock, "image": self.image, "conda": self.conda}
        return {key: value for key, value in data.items() if value is not None}


@dataclass
class Program:
    """A program in samepack's model, whichever format it was loaded from."""

    name: str
    version: str
    steps: dict[str, Step]
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    environment: Environment = field(default_factory=Environment)
    resources: Resources = field(default_factory=Resources)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    secrets: list[SecretRef] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    # Where it came from; not part of the canonical form.
    source_format: SourceFormat = "samepack"
    source_path: str | None = None
    project_dir: str | None = None  # where its files are (a notebook step's notebook)
    warnings: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def step_resources(self, step: Step) -> Resources:
        return step.resources.merged_over(self.resources)

    def to_dict(self) -> dict[str, Any]:
        """The canonical ``samepack.yaml`` content (key order fixed, empty sections dropped)."""
        metadata: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.description:
            metadata["description"] = self.description
        if self.labels:
            metadata["labels"] = dict(sorted(self.labels.items()))
        data: dict[str, Any] = {"apiVersion": API_VERSION, "kind": "Program", "metadata": metadata}
        sections: dict[str, Any] = {
            "environment": self.environment.to_dict(),
            "resources": self.resources.to_dict(),
            "parameters": {n: p.to_dict() for n, p in self.parameters.items()},
            "datasets": {n: d.to_dict() for n, d in self.datasets.items()},
            "secrets": [s.to_dict() for s in self.secrets],
            "env": dict(sorted(self.env.items())),
            "steps": {n: s.to_dict() for n, s in self.steps.items()},
            "schedules": {n: s.to_dict() for n, s in self.schedules.items()},
        }
        data.update({key: value for key, value in sections.items() if value})
        return data


def topological_order(steps: dict[str, Step]) -> list[str]:
    """Step names so that every step comes after the steps it needs; ties keep file order.

    Raises ValueError naming the cycle or the unknown reference (loaders turn it into an
    InputError with file:line).
    """
    for step in steps.values():
        for need in step.needs:
            if need not in steps:
                raise ValueError(f"steps.{step.name}.needs: unknown step '{need}'")
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name):] + [name]
            raise ValueError(f"steps.{name}.needs: cycle {' -> '.join(cycle)}")
        state[name] = "visiting"
        for need in steps[name].needs:
            visit(need, path + [name])
        state[name] = "done"
        order.append(name)

    for name in steps:
        visit(name, [])
    return order
