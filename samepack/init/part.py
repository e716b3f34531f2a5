"""What one entry contributes to the inferred program, and why (shared by synth and chain)."""

from __future__ import annotations

from dataclasses import dataclass, field

from samepack.program.model import Environment, Parameter, Step


@dataclass
class Reason:
    """One inference: what was decided, the value, and why."""

    what: str
    value: str
    why: str


@dataclass
class EntryPart:
    """What the chosen entry contributes: steps, parameters, the code to look for data in."""

    steps: dict[str, Step]
    parameters: dict[str, Parameter]
    code: list[tuple[str, str]] = field(default_factory=list)  # (relative path, source)
    data_paths: list[tuple[str, str]] = field(default_factory=list)  # (path text, evidence)
    environment: Environment = field(default_factory=Environment)
    description: str | None = None
    name: tuple[str, str] | None = None  # (name, why) when the entry names the program
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
