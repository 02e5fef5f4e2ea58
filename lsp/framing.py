"""Reading LSP messages off the wire with bounds: a bad frame is skipped, never fatal.

pygls's message loop (`pygls.io_.run_async`) trusts its reader: it reads header lines with
no length limit and then a body of whatever `Content-Length` says — one header of
`Content-Length: 99999999999999999999` ends the server (SPEC 7: it never dies on input).
`BoundedReader` is what the loop reads from instead. It returns header lines of at most
`MAX_HEADER_LINE` bytes and never lets through a `Content-Length` over the message limit:
such a frame (or an overlong header line) is dropped, and reading resynchronises on the
next `Content-Length: N\\r\\n` in the stream. That byte sequence cannot occur inside a JSON
body (JSON strings hold no raw CR or LF), so whatever follows is the next message's header,
and the server answers the next request. Memory stays bounded by the limit plus one chunk.
"""
from __future__ import annotations

import logging
import os
import re
from typing import Awaitable, Callable
import asyncio

log = logging.getLogger(__name__)

MAX_MESSAGE_ENV = "PROFREG_LSP_MAX_MESSAGE_BYTES"
# Room for a document at the engine's size limit, JSON-escaped.
DEFAULT_MAX_MESSAGE_BYTES = 512 * 1024 * 1024
MAX_HEADER_LINE = 8 * 1024
CHUNK = 64 * 1024
# pygls's own header pattern: a line it would take as the body's length.
_CONTENT_LENGTH = re.compile(rb"Content-Length: (\d+)\r\n")
_MAX_LENGTH_DIGITS = 18  # longer digit strings are over any limit (and cheap to refuse)


def max_message_bytes() -> int:
    """The configured limit (`PROFREG_LSP_MAX_MESSAGE_BYTES`), else the default."""
    configured = os.environ.get(MAX_MESSAGE_ENV, "").strip()
    if configured.isdigit() and len(configured) <= _MAX_LENGTH_DIGITS and int(configured) > 0:
        return int(configured)
    return DEFAULT_MAX_MESSAGE_BYTES


class BoundedReader:
    """The `readline`/`readexactly` pair pygls's loop reads from, over a `read_some(n)`
    coroutine that returns up to n bytes (b"" at the end of the stream)."""

    def __init__(self, read_some: Callable[[int], Awaitable[bytes]], limit: int | None = None):
        self._read_some = read_some
        self.limit = limit if limit is not None else max_message_bytes()
        self._buffer = bytearray()
        self._eof = False

    async def _fill(self) -> bool:
        """Read one more chunk into the buffer; False at the end of the stream."""
        if self._eof:
            return False
        chunk = await self._read_some(CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def _too_long(self, line: bytes) -> bool:
        match = _CONTENT_LENGTH.fullmatch(line)
        if match is None:
            return False
        digits = match.group(1)
        return len(digits) > _MAX_LENGTH_DIGITS or int(digits) > self.limit

    async def readline(self) -> bytes:
        """The next header line (with its line break); b"" at the end of the stream."""
        while True:
            end = self._buffer.find(b"\n")
            if end == -1:
                if len(self._buffer) > MAX_HEADER_LINE:
                    log.warning("dropped a header line longer than %d bytes", MAX_HEADER_LINE)
                    return await self._resync()
                if not await self._fill():
                    line, self._buffer = bytes(self._buffer), bytearray()
                    return line
                continue
            if end >= MAX_HEADER_LINE:
                log.warning("dropped a header line longer than %d bytes", MAX_HEADER_LINE)
                return await self._resync()
            line = bytes(self._buffer[: end + 1])
            del self._buffer[: end + 1]
            if self._too_long(line):
                log.warning("dropped a message whose %s is over the limit of %d bytes",
                            line.strip().decode("ascii", "replace")[:60], self.limit)
                return await self._resync()
            return line

    async def _resync(self) -> bytes:
        """Discard input up to the next acceptable `Content-Length` header and return it."""
        while True:
            found = self._acceptable_header()
            if found is not None:
                line, end = found
                del self._buffer[:end]
                return line
            # keep a tail that may hold the start of a header split across chunks
            keep = MAX_HEADER_LINE if len(self._buffer) > MAX_HEADER_LINE else len(self._buffer)
            del self._buffer[: len(self._buffer) - keep]
            if not await self._fill():
                self._buffer.clear()
                return b""

    def _acceptable_header(self) -> tuple[bytes, int] | None:
        """The first header in the buffer within the limit, with the offset after it."""
        # Searched in a copy: a match on the bytearray itself would pin its size.
        for match in _CONTENT_LENGTH.finditer(bytes(self._buffer)):
            if not self._too_long(match.group(0)):
                return match.group(0), match.end()
        return None

    async def readexactly(self, n: int) -> bytes:
        """The body: n bytes (fewer only at the end of the stream); n is within the limit."""
        while len(self._buffer) < n:
            if not await self._fill():
                break
        body = bytes(self._buffer[:n])
        del self._buffer[:n]
        return body


def stdin_reader(stdin, executor) -> BoundedReader:
    """A bounded reader over a binary stream (stdin), read in a worker thread."""
    read = getattr(stdin, "read1", stdin.read)

    def read_some(n: int) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(executor, read, n)

    return BoundedReader(read_some)


def stream_reader(reader) -> BoundedReader:
    """A bounded reader over an `asyncio.StreamReader` (a TCP connection)."""
    return BoundedReader(reader.read)
