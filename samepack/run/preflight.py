"""Before running: does this machine have what each step asks for? Says plainly what falls
short ("step train needs 2 CPUs, this machine has 1")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samepack.machine import MachineFacts
from samepack.program.model import Program, Resources

if TYPE_CHECKING:
    from decimal import Decimal


def _bytes(value: str, field: str) -> "Decimal":
    # Imported here: samepack.k8s loads the manifest renderer, which a step asking for no
    # memory, disk or VRAM never needs.
    from samepack.k8s.objects.quantity import parse_quantity

    return parse_quantity(value, field)


def human_bytes(count: int) -> str:
    from samepack.k8s.objects.quantity import human_bytes as human

    return human(count)


def step_shortfalls(name: str, need: Resources, machine: MachineFacts) -> list[str]:
    """What this machine lacks for one step (empty when it has everything)."""
    problems: list[str] = []
    if need.cpu is not None and need.cpu > machine.cpus:
        problems.append(f"step {name} needs {need.cpu:g} CPUs, this machine has {machine.cpus}")
    if need.memory and _bytes(need.memory, f"steps.{name}.resources.memory") > machine.memory_bytes:
        problems.append(f"step {name} needs {need.memory} of memory, this machine has "
                        f"{human_bytes(machine.memory_bytes)}")
    if need.storage and _bytes(need.storage, f"steps.{name}.resources.storage") > machine.disk_free_bytes:
        problems.append(f"step {name} needs {need.storage} of disk, this machine has "
                        f"{human_bytes(machine.disk_free_bytes)} free")
    if need.gpus and need.gpus > len(machine.gpus):
        problems.append(f"step {name} needs {need.gpus} GPU(s), this machine has {len(machine.gpus)}")
    if need.vram:
        biggest = max((g.memory_bytes for g in machine.gpus), default=0)
        if _bytes(need.vram, f"steps.{name}.resources.vram") > biggest:
            problems.append(f"step {name} needs a GPU with {need.vram} of memory, the largest here "
                            f"has {human_bytes(biggest) if biggest else 'none'}")
    return problems


def shortfalls(program: Program, machine: MachineFacts) -> list[str]:
    """Every shortfall of every step, in step order."""
    return [problem for step in program.steps.values()
            for problem in step_shortfalls(step.name, program.step_resources(step), machine)]
