"""Secret values replaced in text a run keeps (step output, notebook cells' printed text)."""

from __future__ import annotations

from collections.abc import Iterable


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret value replaced by ``***``."""
    for value in secrets:
        if value:
            text = text.replace(value, "***")
    return text
