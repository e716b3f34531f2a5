"""One error hierarchy for every domain failure.

The CLI catches :class:`SamepackError` in one place (``samepack.cli.main``) and prints
``error: <message>`` and, when there is a fix, ``hint: <hint>``, then exits with the class's code.
Raise the most specific subclass; its exit code tells scripts and CI what went wrong.
"""

from __future__ import annotations


class SamepackError(Exception):
    """Base of all errors a user can act on. ``message`` is one line, ``hint`` says the fix."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(SamepackError):
    """A file or argument the user gave is missing, unreadable or malformed."""

    exit_code = 3


class NotFoundError(SamepackError):
    """A named thing (program, run, artifact, tag) does not exist."""

    exit_code = 4


class ConflictError(SamepackError):
    """Going on would overwrite something that exists (a user file, a registered program)."""

    exit_code = 5


class ToolMissingError(SamepackError):
    """An external tool or optional dependency is not installed."""

    exit_code = 6


class VerificationError(SamepackError):
    """Content failed an integrity or safety check (digest, size, hostile archive member)."""

    exit_code = 7


class RemoteError(SamepackError):
    """A registry, index or cluster refused or could not be reached."""

    exit_code = 8


class ResourceError(SamepackError):
    """This machine (or cluster) falls short of what a program needs."""

    exit_code = 9


class DriftError(SamepackError):
    """The lock no longer matches the project (``package-env --check``)."""

    exit_code = 10


class LockError(SamepackError):
    """Dependencies could not be resolved or locked."""

    exit_code = 11


class RunFailedError(SamepackError):
    """A program step exited non-zero."""

    exit_code = 12


class MismatchError(SamepackError):
    """A reproduction did not give the recorded results."""

    exit_code = 13


class BuildError(SamepackError):
    """An image build failed."""

    exit_code = 14


class CancelledError(SamepackError):
    """The user interrupted the operation (Ctrl-C)."""

    exit_code = 130
