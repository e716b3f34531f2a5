"""Settings read from the environment, checked the same way everywhere: a value that is not
what the setting takes is a one-line error naming the variable and the fix."""

from __future__ import annotations

import os

from samepack.errors import InputError


def seconds_setting(name: str, default: float, most: float = 3600.0) -> float:
    """The seconds ``$name`` gives (``default`` when unset or empty); anything but a number
    above 0 and at most ``most`` is an :class:`InputError`."""
    text = os.environ.get(name, "").strip()
    try:
        seconds = float(text) if text else default
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= most:
        raise InputError(f"{name}={text!r} is not a number of seconds",
                         hint=f"set it to a number of seconds above 0 and at most {most:g} "
                              f"(default {default:g}), or unset it")
    return seconds
