"""Files only their owner may read or change, made safely whatever the umask (caches, locks).

- Folders are created one level at a time with mode 0700 (`os.makedirs` would give the
  intermediate ones the umask's default) and used only if they are real folders — not
  symlinks — owned by this user and writable by nobody else.
- Files are opened with `O_NOFOLLOW`: a symlink planted at the name is refused, never
  followed. New files are written under a random temporary name opened with `O_EXCL`
  (mode 0600) and renamed into place, so a name planted in advance is never written through.
- A file is read only if it is a regular file owned by this user, and at most `max_bytes`
  of it: a FIFO, a device or a symlink put in its place reads as "nothing there".
"""
from __future__ import annotations

import contextlib
import os
import secrets
import stat

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _is_private_dir(st: os.stat_result) -> bool:
    return (
        stat.S_ISDIR(st.st_mode)
        and st.st_uid == os.geteuid()
        and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def ensure_private_dir(path: str, root: str) -> bool:
    """Create `path` (at or below `root`) as private folders; True if it can be used.

    Folders above `root` are not this module's to judge (a home or /tmp); `root` and
    every folder below it must be private ones, existing or made here with mode 0700."""
    root = os.path.abspath(root)
    path = os.path.abspath(path)
    if os.path.commonpath([root, path]) != root:
        return False
    parts = [root]
    rest = os.path.relpath(path, root)
    if rest != ".":
        for name in rest.split(os.sep):
            parts.append(os.path.join(parts[-1], name))
    try:
        os.makedirs(os.path.dirname(root), 0o700, exist_ok=True)
        for folder in parts:
            try:
                os.mkdir(folder, 0o700)
            except FileExistsError:
                pass
            if not _is_private_dir(os.lstat(folder)):
                return False
    except OSError:
        return False
    return True


def read_private_file(path: str, max_bytes: int) -> bytes | None:
    """The content of a private regular file, or None (absent, not one, or too big)."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_size > max_bytes:
            return None
        data = os.read(fd, max_bytes + 1)
        return data if len(data) <= max_bytes else None
    except OSError:
        return None
    finally:
        os.close(fd)


def write_private_file(path: str, data: bytes) -> bool:
    """Write `path` (mode 0600) through a fresh temporary file renamed over it; True if done."""
    temporary = f"{path}.{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(temporary, _CREATE_FLAGS, 0o600)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return False
    return True
