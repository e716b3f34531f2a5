"""conda channels as the conda locker reaches them: a name or path as a URL, how long a channel
may take to answer, and a first contact that fails fast when it does not.

rattler's HTTP client has one timeout, for a whole request, and no connect timeout: against a
server that accepts connections and never answers it waits forever. So every remote channel is
asked once with a short wait (``$SAMEPACK_CONDA_CONNECT_TIMEOUT``) before rattler fetches
anything, and each request rattler makes after that is bounded by ``$SAMEPACK_CONDA_TIMEOUT``
(long enough for a channel's whole repodata on a slow line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from samepack.errors import RemoteError
from samepack.settings import seconds_setting

CONNECT_ENV = "SAMEPACK_CONDA_CONNECT_TIMEOUT"
REQUEST_ENV = "SAMEPACK_CONDA_TIMEOUT"
DEFAULT_CONNECT = 10.0  # seconds for a channel's first answer (connect, then its first byte)
DEFAULT_REQUEST = 300.0  # seconds for any one request after that (repodata can be large)
REQUEST_RETRIES = 1  # rattler retries a failed request once more, within the same bound


@dataclass(frozen=True)
class ChannelWaits:
    connect: float
    request: float


def channel_waits() -> ChannelWaits:
    """The waits from the environment; a value that is not a number of seconds is an error."""
    return ChannelWaits(_seconds(CONNECT_ENV, DEFAULT_CONNECT), _seconds(REQUEST_ENV, DEFAULT_REQUEST))


def _seconds(name: str, default: float) -> float:
    return seconds_setting(name, default)


def channel_url(channel: str, workdir: Path | None) -> str:
    """A channel as a URL: names go to conda.anaconda.org, paths become file:// URLs."""
    if "://" in channel:
        return channel.rstrip("/")
    if channel.startswith((".", "/", "~")):
        base = workdir or Path.cwd()
        return (base / Path(channel).expanduser()).resolve().as_uri()
    if channel == "defaults":
        return "https://repo.anaconda.com/pkgs/main"
    return f"https://conda.anaconda.org/{channel}"


UNREACHABLE_HINT = ("use a mirror that answers with --channel URL (it replaces environment.yml's "
                    "channels), or lock the PyPI equivalents with --locker uv; if the channel is "
                    f"only slow, raise {CONNECT_ENV} (seconds, default {DEFAULT_CONNECT:g})")


def unreachable(channel: str, cause: str, platform: str | None = None) -> RemoteError:
    where = f" for {platform}" if platform else ""
    return RemoteError(f"conda channel {channel} could not be reached{where}: {cause}",
                       hint=UNREACHABLE_HINT)


def first_contact(channel: str, waits: ChannelWaits) -> None:
    """Ask a remote channel for its ``noarch`` repodata headers, waiting at most
    ``waits.connect`` seconds to connect and as long again for the first byte of the answer.
    Any HTTP answer will do (rattler reports a missing channel itself); no answer is a
    :class:`RemoteError` naming the channel. Local (``file://``) channels are not asked."""
    if not channel.startswith(("http://", "https://")):
        return
    import requests

    try:
        response = requests.head(f"{channel}/noarch/repodata.json", allow_redirects=False,
                                 timeout=(waits.connect, waits.connect))
        response.close()
    except requests.Timeout:
        raise unreachable(channel, f"no answer within {waits.connect:g} s") from None
    except requests.RequestException as failed:
        raise unreachable(channel, _cause(failed)) from None


def _cause(failed: Exception) -> str:
    """The innermost reason of a requests failure ("Connection refused", "Name or service not
    known"), not urllib3's nested retry report."""
    text = " ".join(str(failed).split())
    reasons = _ERRNO.findall(text)
    return reasons[-1].strip() if reasons else text


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^\"')\]]+)")
