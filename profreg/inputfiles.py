"""Reading input files against the size limit, in chunks, without hanging on odd files.

Every file profreg reads as a document — `validate` paths and the files a folder walk
finds, store files, `--from-file`/`--overrides`/`--base`, a `migrate` source — goes
through `read_input`: at most `limit + 1` bytes are ever read (enough for the engine to
report "over the limit"), so `/dev/zero` or an endless pipe cannot grow memory.

- Opening never blocks: `O_NONBLOCK` (a FIFO with no writer reads as empty, instead of
  waiting forever), `O_NOCTTY`.
- Devices and sockets are refused with a clear reason ("is a character device"), also
  through a symlink; so are folders. `/dev/null` named by the user reads as empty.
- `regular_only=True` (a folder walk, a store file) refuses FIFOs too. A path named by the
  user may be a pipe (`profreg validate <(generate)`), read like a file.
"""
from __future__ import annotations

import errno
import fcntl
import os
import stat
from typing import BinaryIO

CHUNK = 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class NotAFileError(OSError):
    """The path names something that is not read as a document; `strerror` says what."""

    def __init__(self, path: str, mode: int):
        super().__init__(errno.EINVAL, f"is {_kind(mode)}, not a regular file", path)


def _is_dev_null(st: os.stat_result) -> bool:
    if not stat.S_ISCHR(st.st_mode):
        return False
    try:
        return os.stat(os.devnull).st_rdev == st.st_rdev
    except OSError:
        return False


def read_input(path: str, limit: int, *, regular_only: bool = False) -> bytes:
    """The file's bytes, at most `limit + 1` of them (more than `limit`: the caller reports
    it as over the limit). Raises OSError (NotAFileError for what is not read)."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        if not regular_only and _is_dev_null(st):
            return b""  # the usual way to say "empty input"
        readable = stat.S_ISREG(mode) or (stat.S_ISFIFO(mode) and not regular_only)
        if not readable:
            raise NotAFileError(path, mode)
        if stat.S_ISFIFO(mode):  # a pipe with a writer: wait for its data like any reader
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as handle:
            return read_stream(handle, limit)
    finally:
        os.close(fd)


def check_regular_file(path: str) -> None:
    """Raise OSError (NotAFileError for what is not a regular file) unless `path` is a
    regular file this process may read; reads nothing."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotAFileError(path, mode)
    finally:
        os.close(fd)


def read_stream(stream: BinaryIO, limit: int) -> bytes:
    """Up to `limit + 1` bytes of a stream (stdin), read in chunks."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
