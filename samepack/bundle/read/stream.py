"""Reading a bundle's bytes: a raw reader that hashes what passes and a decoder that turns the
concatenated gzip members or zstd frames back into one tar stream, bounded against bombs."""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import BinaryIO, Callable

import zstandard
from isal import isal_zlib

from samepack.bundle.system.children import harmless_to_fork
from samepack.errors import VerificationError

_READ = 1024 * 1024
_AHEAD_READ = 4 * 1024 * 1024  # one read of the read-ahead thread
_AHEAD_DEPTH = 4  # reads it may be ahead: bounded memory (16 MiB)


class RawReader:
    """Reads a file sequentially and hashes fixed byte ranges of it as they pass, so segment
    digests are checked in the same single read that feeds the decompressor.

    Ranges are known only once the manifest is read; bytes read before that are kept (at most
    the manifest's size plus one read) and hashed when the ranges arrive.
    """

    def __init__(self, handle: BinaryIO, on_read: "Callable[[int], None] | None" = None) -> None:
        self.handle = handle
        self.on_read = on_read  # told of every byte read (a progress bar)
        self.offset = 0
        self.kept: list[bytes] | None = []
        self.bounds: list[int] = []
        self.hashes: list = []
        self._ahead: _ReadAhead | None = None

    def set_ranges(self, bounds: list[int]) -> None:
        """Hash ``[bounds[i], bounds[i+1])`` for every i; bytes past the last bound are
        counted only."""
        self.bounds = bounds
        self.hashes = [hashlib.sha256() for _ in bounds[:-1]]
        kept, self.kept = self.kept or [], None
        position = 0
        for data in kept:
            self._feed(data, position)
            position += len(data)

    def _feed(self, data: bytes, start: int) -> None:
        end = start + len(data)
        view = memoryview(data)
        for index, digest in enumerate(self.hashes):
            low, high = max(start, self.bounds[index]), min(end, self.bounds[index + 1])
            if low < high:
                digest.update(view[low - start:high - start])

    def read(self, size: int = _READ) -> "bytes | memoryview":
        """The next bytes of the file: at most ``size`` (fewer at the end, or when they come
        from the read-ahead thread: a view of a piece of its read at a time)."""
        if self._ahead is not None:
            data = self._ahead.take(size)
        else:
            data = self.handle.read(size)
            if self.kept is not None:
                self.kept.append(data)
            else:
                self._feed(data, self.offset)
        self.offset += len(data)
        if self.on_read is not None:
            self.on_read(len(data))
        return data

    def read_ahead(self) -> None:
        """From here on, read and hash the ranges in a thread of its own, a few reads ahead
        of the consumer: hashing the segments (hashlib releases the GIL) overlaps the
        decompression and the members' hashing. Call after ``set_ranges``; ``close`` ends
        the thread."""
        if self._ahead is None and self.kept is None:
            self._ahead = _ReadAhead(self.handle, self._feed, self.offset)

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.stop()

    def finish(self) -> list[str]:
        """Read to the end of the file; the digest of every range."""
        while self.read(_AHEAD_READ):
            pass
        self.close()
        return [digest.hexdigest() for digest in self.hashes]


class _ReadAhead:
    """A thread reading a file sequentially, handing each read to ``feed`` (the range hashes)
    and then to the consumer through a bounded queue; its first error is raised to the
    consumer."""

    def __init__(self, handle: BinaryIO, feed: Callable[[bytes, int], None], offset: int) -> None:
        self.handle, self.feed, self.offset = handle, feed, offset
        self.queue: queue.Queue = queue.Queue(_AHEAD_DEPTH)
        self.stopped = threading.Event()
        self.current, self.position = memoryview(b""), 0
        self.ended = False
        self.thread = harmless_to_fork(threading.Thread(target=self._run, daemon=True,
                                                        name="samepack-read-ahead"))
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.stopped.is_set():
                data = self.handle.read(_AHEAD_READ)
                if data:
                    self.feed(data, self.offset)
                    self.offset += len(data)
                if not self._put(data) or not data:
                    return
        except BaseException as error:  # handed to the consumer, raised there
            self._put(error)

    def _put(self, item) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def take(self, size: int) -> memoryview:
        if self.position >= len(self.current):
            if self.ended:
                return b""
            item = self.queue.get()
            if isinstance(item, BaseException):
                self.ended = True
                raise item
            if not item:
                self.ended = True
                return b""
            self.current, self.position = memoryview(item), 0
        start = self.position
        self.position = min(start + size, len(self.current))
        return self.current[start:self.position]  # a view: the read is not copied

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


class Decoder:
    """Decompresses a run of gzip members (or zstd frames) read from ``raw``.

    Raises VerificationError on corrupt or truncated input and when the output passes
    ``max_output`` bytes or a ratio of ``max_ratio`` to the input past ``ratio_floor`` bytes.
    """

    def __init__(self, raw: RawReader, compression: str, max_output: int,
                 max_ratio: float = 0, ratio_floor: int = 64 * 1024 * 1024) -> None:
        self.raw, self.compression = raw, compression
        self.max_output, self.max_ratio, self.ratio_floor = max_output, max_ratio, ratio_floor
        self.output = 0
        # Decoded bytes not yet read are ``buffer[position:]``. The buffer is immutable and
        # replaced (never changed) when refilled, so views handed out stay valid and reading
        # does not shift what remains.
        self.buffer = b""
        self.position = 0
        self.pending = b""
        self.engine = None
        self.ended = False

    def _fill(self, want: int) -> None:
        """Make at least ``want`` bytes available from ``position`` unless the stream ends."""
        have = len(self.buffer) - self.position
        if have >= want or self.ended:
            return
        pieces = [self.buffer[self.position:]] if have else []
        while have < want:
            chunk = self._gzip_chunk() if self.compression == "gzip" else self._zstd_chunk()
            if chunk is None:
                self.ended = True
                break
            self._count(len(chunk))
            pieces.append(chunk)
            have += len(chunk)
        self.buffer = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self.position = 0

    def _gzip_chunk(self) -> bytes | None:
        """Up to one read's worth of output; member boundaries are crossed transparently."""
        data = self.pending or self.raw.read()
        self.pending = b""
        if not data:
            if self.engine is not None and not self.engine.eof:
                raise _truncated("gzip")
            return None
        if self.engine is None or self.engine.eof:
            self.engine = isal_zlib.decompressobj(31)
        try:
            chunk = self.engine.decompress(data, _READ)
        except isal_zlib.error as error:
            raise _corrupt("gzip", error) from None
        self.pending = self.engine.unused_data if self.engine.eof else self.engine.unconsumed_tail
        return chunk

    def _zstd_chunk(self) -> bytes | None:
        if self.engine is None:
            self.engine = zstandard.ZstdDecompressor().stream_reader(
                self.raw, read_size=_READ, read_across_frames=True)
        try:
            chunk = self.engine.read(_READ)
        except zstandard.ZstdError as error:
            raise _corrupt("zstd", error) from None
        return chunk or None

    def _count(self, produced: int) -> None:
        self.output += produced
        if self.output > self.max_output:
            raise VerificationError(f"the bundle expands past the size limit of "
                                    f"{self.max_output} bytes",
                                    hint="raise --max-size if you trust this bundle")
        if (self.max_ratio and self.output > self.ratio_floor
                and self.output > self.max_ratio * max(self.raw.offset, 1)):
            raise VerificationError(f"the bundle expands more than {self.max_ratio:g} times "
                                    "(a decompression bomb?)",
                                    hint="raise --max-ratio if you trust this bundle")

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; fewer only at the end of the stream."""
        self._fill(size)
        start = self.position
        self.position = end = min(start + size, len(self.buffer))
        return self.buffer[start:end]

    def view(self, size: int) -> memoryview:
        """Like ``read`` without copying: a view of the decoded bytes, valid for as long as it
        is kept."""
        self._fill(size)
        start = self.position
        self.position = end = min(start + size, len(self.buffer))
        return memoryview(self.buffer)[start:end]

    def view_some(self, size: int) -> memoryview:
        """Up to ``size`` decoded bytes as a view, at least one unless the stream ended:
        what is decoded already, without joining it to the next chunk (a large member's
        bytes pass without a copy)."""
        if self.position >= len(self.buffer):
            self._fill(1)
        start = self.position
        self.position = end = min(start + size, len(self.buffer))
        return memoryview(self.buffer)[start:end]

    def window(self, size: int) -> tuple[bytes, int]:
        """``(buffer, start)``: the decoded bytes from ``buffer[start]`` on, at least ``size``
        of them unless the stream ends first. Nothing is consumed; set ``position`` to
        consume. For loops over many small members without a call per read."""
        self._fill(size)
        return self.buffer, self.position

    def next_is(self, expected: bytes) -> bool:
        """Whether the stream continues with exactly ``expected``; if so it is consumed."""
        self._fill(len(expected))
        if self.buffer.startswith(expected, self.position):
            self.position += len(expected)
            return True
        return False

    def read_exact(self, size: int, what: str) -> bytes:
        data = self.read(size)
        if len(data) != size:
            raise VerificationError(f"the bundle is truncated inside {what}",
                                    hint="download it again")
        return data


def _truncated(compression: str) -> VerificationError:
    return VerificationError(f"the bundle is truncated (its {compression} stream ends early)",
                             hint="download it again")


def _corrupt(compression: str, error: Exception) -> VerificationError:
    return VerificationError(f"the bundle's {compression} data is corrupt ({error})",
                             hint="download it again")
