"""The YAML store's file I/O: identity, durable atomic replacement and the writers' lock.

Every writer of a YAML store file (the store: its edits and its bulk imports, which is how
`profreg migrate` writes one) holds `file_lock(path)` while it replaces the file with
`write_atomic`.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from typing import Callable, Iterator

from ...errors import StoreError
from ..contract import LOCK_WAIT_NOTICE_S as WAIT_NOTICE_S
from ..paths import check_writable

LOCK_TIMEOUT_S = 30.0  # how long a writer waits for another writer's lock by default
Signature = tuple[int, int, int, int]


def signature(path: str) -> Signature | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read YAML store {path}: {exc.strerror}") from None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class FileChanged(Exception):
    """The target changed after it was read, so replacing it would lose that change."""


def write_atomic(path: str, data: bytes, *, unchanged: Callable[[], bool] | None = None) -> None:
    """Replace `path` durably: temp file in the same dir, fsync, rename, fsync the dir.

    `unchanged`, checked just before the rename (after the slow part), says whether the
    target is still what the caller based `data` on; if not, nothing is replaced and
    `FileChanged` is raised. A save in the microseconds between that check and the rename
    cannot be noticed: editors take no lock.
    Callers hold `file_lock(path)`: stale temporaries are removed on that assumption."""
    check_writable(path, f"YAML store {path}")  # the rename would replace it where the folder allows
    directory, name = os.path.split(path)
    directory = directory or "."
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o600  # new files are private
    fd, tmp = _temporary(directory, name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if unchanged is not None and not unchanged():
            raise FileChanged(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _temporary(directory: str, name: str) -> tuple[int, str]:
    """A new private file `.NAME.<random>.tmp` beside the target, opened for writing.

    What `tempfile.mkstemp` does, without importing `tempfile` (and `random` with it) into
    every process that opens a store: most only read."""
    while True:
        tmp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue


def remove_stale_temporaries(path: str) -> None:
    """Temp files are only made under the lock, so any found now is a killed writer's."""
    directory, name = os.path.split(path)
    directory = directory or "."
    prefix = f".{name}."
    with contextlib.suppress(OSError):
        for entry in os.listdir(directory):
            if entry.startswith(prefix) and entry.endswith(".tmp") and len(entry) > len(prefix) + 4:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, entry))


def _open_lock_target(path: str) -> tuple[int, str]:
    """(descriptor to flock, what it is) for the store file `path` (its real path).

    The folder holding the file is locked, so no lock file is left beside the store (a
    lock on the file itself would not survive the rename that replaces it). Where a folder
    cannot be locked (NFS turns flock into POSIX locks, which need a file open for writing),
    the caller falls back to a `PATH.lock` file, see `_open_sidecar`."""
    directory = os.path.dirname(path) or "."
    return os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), directory


def _open_sidecar(path: str) -> tuple[int, str]:
    lock_path = path + ".lock"
    try:
        # never through a symlink planted at the name (it would create a file elsewhere)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(f"{lock_path} is a symlink; remove it") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"{lock_path} is not a regular file")
    return fd, lock_path


@contextlib.contextmanager
def file_lock(path: str, name: str | None = None, *, timeout: float | None = None,
              on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Exclusive lock across processes for writing the YAML store file `path`; every writer
    of a YAML store file takes it (the store's edits and imports). `path` is the real path
    (symlinks resolved), `name` what messages call the file. Waits up to `timeout` seconds
    (default LOCK_TIMEOUT_S), calling `on_wait` once after WAIT_NOTICE_S; then StoreError.
    Stale temporaries are cleared once held."""
    name = name or path
    timeout = LOCK_TIMEOUT_S if timeout is None else timeout
    opener = _open_lock_target
    while True:
        try:
            fd, locked = opener(path)
        except FileNotFoundError:
            raise StoreError(f"cannot lock YAML store {name}: its folder does not exist") from None
        except StoreError as exc:
            raise StoreError(f"cannot lock YAML store {name}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"cannot lock YAML store {name}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                break  # held by someone else: wait below
            os.close(fd)
            if opener is _open_lock_target and exc.errno in (errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP,
                                                              errno.EINVAL):
                opener = _open_sidecar
                continue
            raise StoreError(f"cannot lock YAML store {name}: {exc.strerror}") from None
    try:
        _wait_for(fd, name, locked, timeout, on_wait)
        remove_stale_temporaries(path)
        yield
    finally:
        os.close(fd)  # releases the lock


def _wait_for(fd: int, name: str, locked: str, timeout: float, on_wait: Callable[[], None] | None) -> None:
    """Take the flock on `fd`, polling (so Ctrl-C interrupts the wait at once)."""
    start = time.monotonic()
    noticed = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise StoreError(f"cannot lock YAML store {name}: {exc.strerror}") from None
        waited = time.monotonic() - start
        if waited >= timeout:
            raise StoreError(
                f"YAML store {name} is locked by another writer (lock on {locked}); "
                f"gave up after {timeout:g} s (--lock-timeout SECONDS to wait longer)"
            )
        if on_wait is not None and not noticed and waited >= WAIT_NOTICE_S:
            noticed = True
            on_wait()
        time.sleep(min(0.02, max(timeout - waited, 0.001)))
