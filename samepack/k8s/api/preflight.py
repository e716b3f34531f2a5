"""Will the program fit? A pure check of each step's needs against the nodes' allocatable CPU,
memory, GPUs and GPU memory, answering in plain words ("step train needs 1 GPU with 24Gi; the
largest node offers 0 GPUs"). Only nodes a step could land on count: Ready, not cordoned, and
with no NoSchedule/NoExecute taint the step does not tolerate."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from samepack.k8s.objects.pod import GPU_MEMORY_LABEL, GPU_RESOURCE
from samepack.k8s.objects.quantity import MIB, human_bytes, parse_quantity
from samepack.program.model import Program


@dataclass(frozen=True)
class NodeFacts:
    name: str
    cpu: Decimal = Decimal(0)  # allocatable cores
    memory: Decimal = Decimal(0)  # allocatable bytes
    gpus: int = 0
    gpu_memory: Decimal | None = None  # bytes per GPU, from the nvidia.com/gpu.memory label
    schedulable: bool = True  # not cordoned
    ready: bool = True  # condition Ready is True
    taints: tuple[str, ...] = ()  # keys of NoSchedule/NoExecute taints

    @property
    def state(self) -> str | None:
        """Why no step can land here at all (None: some can)."""
        if not self.schedulable:
            return "cordoned"
        if not self.ready:
            return "NotReady"
        return None


@dataclass(frozen=True)
class StepNeeds:
    step: str
    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)
    gpus: int = 0
    vram: Decimal | None = None
    tolerations: tuple[str, ...] = ()  # taint keys the step's pod tolerates


def node_facts(node: Mapping[str, Any]) -> NodeFacts:
    """Facts of one node from its API object (a plain dict as the API returns it)."""
    meta, spec, status = node.get("metadata", {}), node.get("spec") or {}, node.get("status") or {}
    allocatable = status.get("allocatable") or {}
    name = meta.get("name", "?")
    label = (meta.get("labels") or {}).get(GPU_MEMORY_LABEL)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or [])
    taints = tuple(sorted({t.get("key", "") for t in spec.get("taints") or []
                           if t.get("effect") in ("NoSchedule", "NoExecute")}))
    return NodeFacts(
        name=name,
        cpu=parse_quantity(allocatable.get("cpu", "0"), f"node {name} cpu"),
        memory=parse_quantity(allocatable.get("memory", "0"), f"node {name} memory"),
        gpus=int(parse_quantity(allocatable.get(GPU_RESOURCE, "0"), f"node {name} gpus")),
        gpu_memory=Decimal(label) * MIB if label and label.isdigit() else None,
        schedulable=not spec.get("unschedulable", False),
        ready=ready,
        taints=taints,
    )


def step_needs(program: Program, steps: list[str] | None = None) -> list[StepNeeds]:
    """What each step asks for, with the program's defaults filled in."""
    needs = []
    for name in steps or list(program.steps):
        res = program.step_resources(program.steps[name])
        field = f"steps.{name}.resources"
        needs.append(StepNeeds(
            step=name,
            cpu=Decimal(str(res.cpu)) if res.cpu is not None else Decimal(0),
            memory=parse_quantity(res.memory, f"{field}.memory") if res.memory else Decimal(0),
            gpus=res.gpus or 0,
            vram=parse_quantity(res.vram, f"{field}.vram") if res.vram else None,
            tolerations=(GPU_RESOURCE,) if res.gpus else ()))
    return needs


def _plural(count: int | Decimal, word: str) -> str:
    count_text = f"{Decimal(count).normalize():f}"
    return f"{count_text} {word}" if Decimal(count) == 1 else f"{count_text} {word}s"


def _fits(need: StepNeeds, node: NodeFacts) -> bool:
    vram_ok = need.vram is None or need.gpus == 0 or (
        node.gpu_memory is not None and node.gpu_memory >= need.vram)
    return (node.cpu >= need.cpu and node.memory >= need.memory and node.gpus >= need.gpus
            and vram_ok)


def _gpu_words(need: StepNeeds) -> str:
    words = _plural(need.gpus, "GPU")
    return f"{words} with {human_bytes(need.vram)}" if need.vram is not None else words


def _explain(need: StepNeeds, nodes: list[NodeFacts]) -> str:
    """Why ``need`` fits on no node, by the first resource no node has enough of."""
    head = f"step {need.step} needs"
    most_gpus = max(nodes, key=lambda n: n.gpus)
    if need.gpus > most_gpus.gpus:
        return f"{head} {_gpu_words(need)}; the largest node offers {_plural(most_gpus.gpus, 'GPU')}"
    if need.gpus and need.vram is not None:
        gpu_nodes = [n for n in nodes if n.gpus >= need.gpus]
        known = [n for n in gpu_nodes if n.gpu_memory is not None]
        if not known:
            return (f"{head} {_gpu_words(need)}; no node labels its GPU memory "
                    f"({GPU_MEMORY_LABEL}), so none can be chosen")
        best = max(known, key=lambda n: n.gpu_memory or 0)
        if (best.gpu_memory or 0) < need.vram:
            return (f"{head} {_gpu_words(need)}; the largest GPU offers "
                    f"{human_bytes(best.gpu_memory or 0)} (node {best.name})")
    most_cpu = max(nodes, key=lambda n: n.cpu)
    if need.cpu > most_cpu.cpu:
        return (f"{head} {_plural(need.cpu, 'CPU')}; the largest node offers "
                f"{_plural(most_cpu.cpu, 'CPU')} (node {most_cpu.name})")
    most_memory = max(nodes, key=lambda n: n.memory)
    if need.memory > most_memory.memory:
        return (f"{head} {human_bytes(need.memory)} of memory; the largest node offers "
                f"{human_bytes(most_memory.memory)} (node {most_memory.name})")
    wants = [_plural(need.cpu, "CPU"), f"{human_bytes(need.memory)} of memory"]
    if need.gpus:
        wants.append(_gpu_words(need))
    return f"{head} {', '.join(wants[:-1])} and {wants[-1]}; no single node offers all of it"


def _untolerated(need: StepNeeds, node: NodeFacts) -> list[str]:
    return [key for key in node.taints if key not in need.tolerations]


def _names(nodes: list[NodeFacts], words) -> str:
    shown = [f"{node.name} {words(node)}" for node in nodes[:3]]
    more = f", {len(nodes) - 3} more" if len(nodes) > 3 else ""
    return ", ".join(shown) + more


def preflight(needs: list[StepNeeds], nodes: list[NodeFacts]) -> list[str]:
    """One message per step that fits on no node it could land on; empty when all fit."""
    usable = [node for node in nodes if node.state is None]
    if not usable:
        if not nodes:
            return ["the cluster has no schedulable nodes"]
        return [f"the cluster has no schedulable nodes ({_names(nodes, lambda n: n.state)})"]
    problems = []
    for need in needs:
        open_nodes = [node for node in usable if not _untolerated(need, node)]
        if any(_fits(need, node) for node in open_nodes):
            continue
        fitting = [node for node in usable if _fits(need, node)]
        if fitting:  # big enough nodes exist, but their taints keep the step off
            problems.append(f"step {need.step}: every node that could hold it has a taint it does "
                            f"not tolerate ({_names(fitting, lambda n: ','.join(_untolerated(need, n)))})")
        else:
            problems.append(_explain(need, usable))
    return problems
