"""Kubernetes resource quantities (``500m``, ``8Gi``, ``1e3``) as numbers, and back."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from samepack.errors import InputError

_SUFFIXES = {
    "": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
MIB = 2**20


def parse_quantity(text: str | int | float, field: str = "quantity") -> Decimal:
    """The value of a quantity; raises InputError naming ``field`` when it is not one."""
    match = _QUANTITY.match(str(text).strip())
    if not match:
        raise InputError(f"{field}: '{text}' is not a Kubernetes quantity",
                         hint="write it like 500m, 2, 512Mi or 8Gi")
    number, suffix = match.groups()
    try:
        return Decimal(number) * Decimal(_SUFFIXES[suffix or ""])
    except InvalidOperation:
        raise InputError(f"{field}: '{text}' is not a Kubernetes quantity",
                         hint="write it like 500m, 2, 512Mi or 8Gi") from None


def cpu_quantity(cpu: float) -> str:
    """A CPU count as Kubernetes writes it: ``2`` or ``500m``."""
    millis = int(round(Decimal(str(cpu)) * 1000))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def human_bytes(value: Decimal | int) -> str:
    """Bytes in the largest binary unit that keeps one decimal (``24Gi``, ``1.5Gi``, ``512Mi``)."""
    amount = Decimal(value)
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = Decimal(_SUFFIXES[suffix])
        if amount >= unit:
            scaled = (amount / unit).quantize(Decimal("0.1")).normalize()
            return f"{scaled:f}{suffix}"
    return f"{int(amount)}"
