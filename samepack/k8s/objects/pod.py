"""The pod every step runs in: one container per step, the project's workspace and data sets
mounted, secrets by reference, non-root, GPUs requested the way the NVIDIA device plugin expects.

Shared by Jobs, CronJobs and Argo Workflows, so a step looks the same however it is launched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from samepack.k8s.objects.names import dns_name, env_name
from samepack.k8s.objects.params import dataset_file, dataset_mount, interpolate, step_command
from samepack.k8s.exchange.access import AUTH_ENV, REGISTRY_OPEN_FUNCTION, ExchangeAccess
from samepack.k8s.exchange.results import SHA256_FUNCTION, UPLOAD_ENV, wrap_command
from samepack.k8s.objects.quantity import MIB, cpu_quantity, parse_quantity
from samepack.program.model import Program, Resources, Step

APP_DIR = "/app"
WORKSPACE = "/workspace"
PROGRAM_DIR = "/etc/samepack"
RUN_AS = 1000
GPU_RESOURCE = "nvidia.com/gpu"
GPU_MEMORY_LABEL = "nvidia.com/gpu.memory"  # MiB, set by NVIDIA GPU feature discovery

CARRY_ROOT = "/etc/samepack-data"  # where a carried local data set's ConfigMap is mounted

# Runs in the step's image (which has Python): fetch a data set once, verify its digest while
# it streams (memory stays at one block). A copy on the claim that no longer matches is fetched
# again; a download that does not match is removed and the step does not start.
FETCH_SCRIPT = """\
import hashlib, os, sys, urllib.request
uri, target, want = sys.argv[1], sys.argv[2], sys.argv[3]
""" + SHA256_FUNCTION + REGISTRY_OPEN_FUNCTION + """\
if want and os.path.exists(target) and sha256(target) != want:
    print(f"{target} does not match sha256 {want}: fetching it again", file=sys.stderr)
    os.remove(target)
if not os.path.exists(target):
    if uri.startswith("file://") and not os.path.exists(uri[7:]):
        sys.exit(f"{target} is missing and was not carried here: deploy with samepack "
                 f"(it carries local data sets), or put the file on this volume")
    part, hasher = target + ".part", hashlib.sha256()
    try:
        with registry_open(lambda: urllib.request.Request(uri), 60) as response, open(part, "wb") as out:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                hasher.update(block)
    except OSError as error:
        if os.path.exists(part):
            os.remove(part)
        sys.exit(f"cannot fetch {uri}: {error}")
    if want and hasher.hexdigest() != want:
        os.remove(part)
        sys.exit(f"{uri}: sha256 {hasher.hexdigest()} does not match the program's {want}")
    os.replace(part, target)
"""


@dataclass(frozen=True)
class PodContext:
    """What every pod of one rendering shares."""

    program: Program
    image: str
    params: dict[str, Any]
    config_map: str
    service_account: str
    workspace_claim: str
    exchange: ExchangeAccess | None = None  # the registry a cluster run's files travel through


def dataset_claim(program: Program, name: str) -> str:
    return dns_name(program.name, "data", name)


def is_local(dataset) -> bool:
    """A data set with no URI a pod could fetch (only a project path)."""
    return not (dataset.uri and "://" in dataset.uri)


def carry_config_map(program: Program, name: str) -> str:
    """The ConfigMap that carries a local data set's file (``samepack.k8s.exchange.carry``)."""
    return dns_name(program.name, "carry", name, limit=253)


def carried_file(program: Program, name: str) -> str:
    """The key of the carried file: the basename steps see it under."""
    return dataset_file(program, name).rsplit("/", 1)[-1]


def dataset_size(size: int | None) -> str:
    """A claim size for a data set of ``size`` bytes: a quarter spare, at least 1Gi."""
    return f"{max(1, math.ceil((size or 0) * 1.25 / 2**30))}Gi"


def _resources(resources: Resources, field: str) -> dict[str, Any]:
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if resources.cpu is not None:
        requests["cpu"] = cpu_quantity(resources.cpu)
    if resources.memory:
        parse_quantity(resources.memory, f"{field}.memory")
        requests["memory"] = limits["memory"] = str(resources.memory)
    if resources.gpus:
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(resources.gpus)
    data: dict[str, Any] = {}
    if limits:
        data["limits"] = limits
    if requests:
        data["requests"] = requests
    return data


def _env(ctx: PodContext, step: Step) -> list[dict[str, Any]]:
    program = ctx.program
    plain = {**program.env, **step.env, "SAMEPACK_PROGRAM": program.ref,
             "SAMEPACK_STEP": step.name, "SAMEPACK_PARAMS": f"{PROGRAM_DIR}/params.json"}
    if ctx.exchange:
        plain[UPLOAD_ENV] = ctx.exchange.outputs_url
    entries = [{"name": name, "value": interpolate(program, step, str(value), ctx.params)}
               for name, value in sorted(plain.items())]
    entries += ctx.exchange.env() if ctx.exchange else []
    for secret in sorted((s for s in program.secrets if s.for_step(step.name)), key=lambda s: s.env):
        entries.append({"name": secret.env, "valueFrom": {"secretKeyRef": {
            "name": dns_name(secret.name, limit=253), "key": secret_key(secret.key, secret.env)}}})
    return entries


def secret_key(key: str | None, env: str) -> str:
    """The key a secret's value lives under in its Secret object."""
    return key or env_name(env)


def _mounts(program: Program) -> list[dict[str, Any]]:
    mounts = [{"name": "program", "mountPath": PROGRAM_DIR, "readOnly": True},
              {"name": "workspace", "mountPath": WORKSPACE}]
    mounts += [{"name": f"data-{dns_name(name, limit=50)}", "mountPath": dataset_mount(program, name)}
               for name in sorted(program.datasets)]
    return mounts


def _container_security() -> dict[str, Any]:
    """A fresh dict each time: shared objects would become YAML anchors when dumped."""
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True}


def _command(ctx: PodContext, step: Step) -> list[str]:
    command = step_command(ctx.program, step, ctx.params)
    if step.notebook:  # the notebook's cells, as a local run makes them into a script
        from samepack.k8s.objects.notebook import notebook_command

        return notebook_command(ctx.program, step, ctx.params, WORKSPACE, command)
    return command


def step_container(ctx: PodContext, step: Step) -> dict[str, Any]:
    """The container that runs ``step``."""
    program = ctx.program
    workdir = f"{WORKSPACE}/{step.workdir.strip('/')}" if step.workdir else WORKSPACE
    container: dict[str, Any] = {
        "name": dns_name(step.name),
        "image": step.image or ctx.image,
        "imagePullPolicy": "IfNotPresent",
        "command": wrap_command(step, _command(ctx, step), PROGRAM_DIR, _masked_envs(ctx, step)),
        "workingDir": workdir,
        "env": _env(ctx, step),
        "securityContext": _container_security(),
        "volumeMounts": _mounts(program),
    }
    resources = _resources(program.step_resources(step), f"steps.{step.name}.resources")
    if resources:
        container["resources"] = resources
    return container


def _masked_envs(ctx: PodContext, step: Step) -> list[str]:
    """The variables whose values the result script masks in the step's log tail."""
    envs = [s.env for s in ctx.program.secrets if s.for_step(step.name)]
    return envs + [AUTH_ENV] if ctx.exchange and ctx.exchange.auth_secret else envs


def _setup_container(ctx: PodContext, name: str, command: list[str]) -> dict[str, Any]:
    return {"name": name, "image": ctx.image, "imagePullPolicy": "IfNotPresent",
            "command": command, "securityContext": _container_security(),
            "volumeMounts": _mounts(ctx.program)}


def _setup_containers(ctx: PodContext) -> list[dict[str, Any]]:
    """Copy the project into the shared workspace, then fetch data sets not yet on their volumes."""
    program = ctx.program
    containers = [_setup_container(ctx, "workspace", ["sh", "-c", f"cp -R {APP_DIR}/. {WORKSPACE}/"])]
    for name in sorted(program.datasets):
        dataset = program.datasets[name]
        source = (f"file://{CARRY_ROOT}/{name}/{carried_file(program, name)}" if is_local(dataset)
                  else dataset.uri)
        command = ["python3", "-c", FETCH_SCRIPT, source, dataset_file(program, name),
                   dataset.sha256 or ""]
        container = _setup_container(ctx, dns_name("fetch", name), command)
        login = ctx.exchange.env() if ctx.exchange else []
        if login:  # the data set may have been carried through the registry
            container["env"] = login
        if is_local(dataset):
            container["volumeMounts"].append({"name": _carry_volume(name), "readOnly": True,
                                              "mountPath": f"{CARRY_ROOT}/{name}"})
        containers.append(container)
    return containers


def _carry_volume(name: str) -> str:
    return f"carry-{dns_name(name, limit=50)}"


def _volumes(ctx: PodContext) -> list[dict[str, Any]]:
    volumes = [{"name": "program", "configMap": {"name": ctx.config_map}},
               {"name": "workspace", "persistentVolumeClaim": {"claimName": ctx.workspace_claim}}]
    volumes += [{"name": f"data-{dns_name(name, limit=50)}",
                 "persistentVolumeClaim": {"claimName": dataset_claim(ctx.program, name)}}
                for name in sorted(ctx.program.datasets)]
    # optional: manifests applied without samepack (kubectl apply -f infra/) still start, and
    # the fetch container then says the file was not carried
    volumes += [{"name": _carry_volume(name),
                 "configMap": {"name": carry_config_map(ctx.program, name), "optional": True}}
                for name in sorted(ctx.program.datasets) if is_local(ctx.program.datasets[name])]
    return volumes


def _gpu_placement(program: Program, steps: list[Step]) -> dict[str, Any]:
    """Tolerations for GPU taints and, when a step names its GPU memory, a node affinity on the
    ``nvidia.com/gpu.memory`` label (in MiB)."""
    needs = [program.step_resources(step) for step in steps]
    if not any(r.gpus for r in needs):
        return {}
    placement: dict[str, Any] = {"tolerations": [
        {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]}
    vram = [parse_quantity(r.vram, f"steps.{s.name}.resources.vram")
            for s, r in zip(steps, needs) if r.gpus and r.vram]
    if vram:
        mib = math.ceil(max(vram) / MIB)
        placement["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": GPU_MEMORY_LABEL, "operator": "Gt", "values": [str(mib - 1)]}]}]}}}
    return placement


def pod_spec(ctx: PodContext, steps: list[Step]) -> dict[str, Any]:
    """A pod that runs ``steps`` one after the other: all but the last as init containers (each
    must succeed before the next starts), the last as the main container."""
    step_containers = [step_container(ctx, step) for step in steps]
    spec: dict[str, Any] = {
        "serviceAccountName": ctx.service_account,
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS,
                            "fsGroup": RUN_AS, "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": _setup_containers(ctx) + step_containers[:-1],
        "containers": step_containers[-1:],
        "volumes": _volumes(ctx),
    }
    spec.update(_gpu_placement(ctx.program, steps))
    return spec
