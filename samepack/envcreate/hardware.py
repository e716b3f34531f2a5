"""Does this machine meet what a locked environment (or a program) needs?

Pure: needs and :class:`~samepack.machine.MachineFacts` in, a list of shortfalls out, each with
a sentence a person can act on ("needs 1 GPU with >= 24 GiB; this machine has none").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from samepack.machine import MachineFacts

GIB = 2**30


@dataclass(frozen=True)
class Needs:
    python: str | None = None  # "3.11"
    platforms: tuple[str, ...] = ()  # platforms the lock was made for; () = any
    cpus: int = 0
    memory_bytes: int = 0
    disk_bytes: int = 0
    gpus: int = 0
    gpu_memory_bytes: int = 0  # per GPU
    cuda: str | None = None  # CUDA version the packages were built for, e.g. "12.1"


    def combined(self, other: "Needs") -> "Needs":
        """The larger of each need (e.g. the lock's and the program's)."""
        return Needs(python=self.python or other.python,
                     platforms=self.platforms or other.platforms,
                     cpus=max(self.cpus, other.cpus),
                     memory_bytes=max(self.memory_bytes, other.memory_bytes),
                     disk_bytes=max(self.disk_bytes, other.disk_bytes),
                     gpus=max(self.gpus, other.gpus),
                     gpu_memory_bytes=max(self.gpu_memory_bytes, other.gpu_memory_bytes),
                     cuda=self.cuda or other.cuda)


@dataclass(frozen=True)
class Shortfall:
    what: str  # python | platform | cpus | memory | disk | gpus | gpu_memory | cuda
    message: str


def needs_from_record(record: Any) -> Needs:
    """Needs recorded by ``package-env`` in ``.samepack/env.json`` (an ``EnvRecord``)."""
    hardware = record.hardware or {}
    gpus = 1 if hardware.get("gpu") else 0  # multi-GPU code (DDP) also runs on one GPU
    python = None if record.locker == "conda-lock" else record.python  # conda brings its own
    return Needs(python=python, platforms=tuple(record.platforms), gpus=gpus,
                 cuda=hardware.get("cuda"))


def needs_from_program(program: Any) -> Needs:
    """The most any step of a program asks for (``resources`` merged over the defaults)."""
    from samepack.k8s.objects.quantity import parse_quantity

    def most(field: str) -> int:
        values = [getattr(program.step_resources(step), field) for step in program.steps.values()]
        values.append(getattr(program.resources, field))
        return max((int(parse_quantity(v, f"resources.{field}")) for v in values if v), default=0)

    cpus = [program.step_resources(s).cpu for s in program.steps.values()] + [program.resources.cpu]
    return Needs(cpus=int(-(-max((c for c in cpus if c), default=0) // 1)),
                 memory_bytes=most("memory"), disk_bytes=most("storage"), gpus=most("gpus"),
                 gpu_memory_bytes=most("vram"))


def check_hardware(needs: Needs, facts: MachineFacts,
                   pythons_available: tuple[str, ...] = ()) -> list[Shortfall]:
    """Every way ``facts`` fall short of ``needs`` (empty when the machine is enough).
    ``pythons_available`` lists other interpreter versions found on the machine."""
    checks = (_python(needs, facts, pythons_available), _platform(needs, facts),
              _amount("cpus", needs.cpus, facts.cpus, lambda n: f"{n} CPU{'s' if n != 1 else ''}"),
              _amount("memory", needs.memory_bytes, facts.memory_bytes, _gib, "memory"),
              _amount("disk", needs.disk_bytes, facts.disk_free_bytes, _gib, "free disk"),
              _gpus(needs, facts), _cuda(needs, facts))
    return [c for c in checks if c is not None]


def _gib(value: int) -> str:
    return f"{value / GIB:.1f} GiB".replace(".0 GiB", " GiB")


def _amount(what: str, needed: int, has: int, show, noun: str = "") -> Shortfall | None:
    if needed <= 0 or has >= needed:
        return None
    suffix = f" {noun}" if noun else ""
    return Shortfall(what, f"needs {show(needed)}{suffix}; this machine has {show(has)}")


def _python(needs: Needs, facts: MachineFacts, available: tuple[str, ...]) -> Shortfall | None:
    if not needs.python:
        return None
    wanted = ".".join(needs.python.split(".")[:2])
    found = {facts.python, *(".".join(v.split(".")[:2]) for v in available)}
    if wanted in found:
        return None
    return Shortfall("python", f"needs Python {wanted}; this machine has "
                               f"{', '.join(sorted(found))}")


def _platform(needs: Needs, facts: MachineFacts) -> Shortfall | None:
    if not needs.platforms or facts.platform in needs.platforms:
        return None
    return Shortfall("platform", f"locked for {', '.join(needs.platforms)}; this machine is "
                                 f"{facts.platform}")


def _gpus(needs: Needs, facts: MachineFacts) -> Shortfall | None:
    if needs.gpus <= 0:
        return None
    big_enough = [g for g in facts.gpus if g.memory_bytes >= needs.gpu_memory_bytes]
    if len(big_enough) >= needs.gpus:
        return None
    size = f" with >= {_gib(needs.gpu_memory_bytes)}" if needs.gpu_memory_bytes else ""
    wanted = f"{needs.gpus} GPU{'s' if needs.gpus != 1 else ''}{size}"
    if not facts.gpus:
        has = "none"
    else:
        has = ", ".join(f"{g.name} ({_gib(g.memory_bytes)})" for g in facts.gpus)
    return Shortfall("gpus", f"needs {wanted}; this machine has {has}")


def _cuda(needs: Needs, facts: MachineFacts) -> Shortfall | None:
    if not needs.cuda or not facts.gpus:
        return None  # no GPU at all is already reported by _gpus
    supported = [g.cuda for g in facts.gpus if g.cuda]
    if supported and max(_version(v) for v in supported) >= _version(needs.cuda):
        return None
    has = f"CUDA {max(supported, key=_version)}" if supported else "no CUDA driver"
    return Shortfall("cuda", f"needs a driver for CUDA {needs.cuda}; this machine's driver "
                             f"supports {has}")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())
