"""The YAML file store: registries in a hand-editable YAML file (bundle or single form).

- A missing file is an empty store; it is created (0o600) on the first write.
- A file that does not parse or validate makes opening fail with `file:line:col`; it is
  never overwritten. A legacy-form file is read (converted by `profreg.legacy`) but not
  written: the error points to `profreg migrate`.
- Writers in different processes serialise on `flock` of the file's folder (no lock file is
  left beside the store; `PATH.lock` only where a folder cannot be locked, e.g. NFS) and
  re-read the file when it changed since it was loaded (device, inode, size, mtime_ns), so
  neither another process's write nor a person's edit is lost. Reads re-read it too.
- Writes are durable and atomic: a temporary file in the same directory, flushed and
  fsynced, renamed over the target, then the directory fsynced. An existing file's mode is
  kept. The text is produced by `yamledit` (ruamel round trip, minimal diff) and checked
  with the validation engine before it replaces the file.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..errors import StoreError
from ..gcpause import collector_paused
from ..inputfiles import read_input
from ..limits import current_limits
from ..legacy import legacy_to_registry
from .base import LOCK_WAIT_NOTICE_S as WAIT_NOTICE_S, BaseStore, Change, Registry
from .mutations import normalise_registry

if TYPE_CHECKING:
    from .yamledit import RoundTripDocument

LOCK_TIMEOUT_S = 30.0  # how long a writer waits for another writer's lock by default
Signature = tuple[int, int, int, int]


@dataclass
class _Snapshot:
    """The file as last read: its identity, text and registries (normalised)."""

    signature: Signature | None  # None: no file
    text: str = ""
    form: str | None = None  # bundle | single | legacy | None (no registry yet)
    registries: dict[str, Registry] = field(default_factory=dict)
    newline: str = "\n"
    bom: bool = False
    root: Any = None  # the engine's node tree (source map) of `text`
    data: Any = None  # the document data as the engine read it


def _signature(path: str) -> Signature | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read YAML store {path}: {exc.strerror}") from None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _registries_of(data: dict, form: str, legacy_slug: str) -> dict[str, Registry]:
    if form == "bundle":
        return {slug: normalise_registry(reg, slug) for slug, reg in (data["registries"] or {}).items()}
    if form == "legacy":
        return {legacy_slug: normalise_registry(legacy_to_registry(data, legacy_slug), legacy_slug)}
    return {data["slug"]: normalise_registry(data, data["slug"])}


def parse_store_text(raw: bytes, path: str, legacy_slug: str, *, validate: bool = True) -> _Snapshot:
    """Read a store file's bytes with the engine; StoreError `file:line:col` if invalid.

    validate=False: YAML-level problems only (syntax, duplicate keys, limits); for text whose
    registries the caller compares with ones already validated."""
    from .. import validcache
    from ..validation import Report, detect_form, validate_text
    from ..yamlsource import parse

    known_form = validcache.lookup(raw) if validate else None
    report = None
    if not validate or known_form is not None:
        # Bytes that validated before (or text the caller checks itself): read, don't judge.
        parsed = parse(raw)
        if known_form is None or (not parsed.fatal and validcache.form_matches(parsed.data, known_form)):
            form = known_form or detect_form(parsed.data)
            report = Report(list(parsed.diagnostics), data=parsed.data, form=form, parsed=parsed)
    if report is None:  # to validate, or a cache entry that does not fit the document: a miss
        report = validate_text(raw)
        if report.valid and report.form is not None:
            validcache.remember(raw, report.form)
    text = report.parsed.text if report.parsed is not None else ""
    newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1 or None] else "\n"
    if newline != "\n":
        text = text.replace(newline, "\n")  # ruamel edits "\n" text; written back with the file's endings
    snapshot = _Snapshot(None, text=text, newline=newline, bom=raw.startswith(b"\xef\xbb\xbf"))
    if report.parsed is not None and report.parsed.empty and not report.parsed.fatal:
        return snapshot  # empty or comments only: an empty store
    errors = report.errors
    if errors:
        first = errors[0]
        where = f"{first.field}: " if first.field else ""
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise StoreError(
            f"{path}:{first.span.start_line + 1}:{first.span.start_col + 1}: "
            f"invalid registry file: {first.code}: {where}{first.message}{more}"
        )
    snapshot.form = report.form
    snapshot.registries = _registries_of(report.data, report.form, legacy_slug)
    snapshot.root, snapshot.data = report.parsed.root, report.data
    return snapshot


def write_atomic(path: str, data: bytes) -> None:
    """Replace `path` durably: temp file in the same dir, fsync, rename, fsync the dir.

    Callers hold `file_lock(path)`: stale temporaries are removed on that assumption."""
    import stat
    import tempfile  # writes only: resolve start-up is benchmarked

    directory, name = os.path.split(path)
    directory = directory or "."
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o600  # new files are private
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
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


def remove_stale_temporaries(path: str) -> None:
    """Temp files are only made under the lock, so any found now is a killed writer's."""
    import glob

    directory, name = os.path.split(path)
    for stale in glob.glob(os.path.join(glob.escape(directory or "."), f".{glob.escape(name)}.*.tmp")):
        with contextlib.suppress(OSError):
            os.unlink(stale)


def _open_lock_target(path: str) -> tuple[int, str]:
    """(descriptor to flock, what it is) for the store file `path` (its real path).

    The folder holding the file is locked, so no lock file is left beside the store (a
    lock on the file itself would not survive the rename that replaces it). Where a folder
    cannot be locked (NFS turns flock into POSIX locks, which need a file open for writing),
    the caller falls back to a `PATH.lock` file, see `_open_sidecar`."""
    directory = os.path.dirname(path) or "."
    return os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), directory


def _open_sidecar(path: str) -> tuple[int, str]:
    import errno
    import stat

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
    of a YAML store file takes it (the store, `profreg migrate`). `path` is the real path
    (symlinks resolved), `name` what messages call the file. Waits up to `timeout` seconds
    (default LOCK_TIMEOUT_S), calling `on_wait` once after WAIT_NOTICE_S; then StoreError.
    Stale temporaries are cleared once held."""
    import errno
    import fcntl

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
    import errno
    import fcntl

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


class YamlFileStore(BaseStore):
    kind = "YAML"

    def __init__(self, path: str | os.PathLike[str], *, legacy_registry: str = "default") -> None:
        super().__init__(str(path))
        # Write through symlinks to the real file (a rename would replace the link).
        self.path = os.path.realpath(path)
        self.legacy_registry = legacy_registry
        if os.path.isdir(self.path):
            raise StoreError(f"YAML store {path} is a directory")
        self._snapshot = self._read()
        # The ruamel document of the last write, reused while the file is unchanged.
        self._document: tuple[Signature | None, RoundTripDocument] | None = None

    # ---- reading ------------------------------------------------------------------------
    def _read(self) -> _Snapshot:
        for _attempt in range(5):
            before = _signature(self.path)
            if before is None:
                return _Snapshot(None)
            try:
                raw = read_input(self.path, current_limits().max_bytes, regular_only=True)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StoreError(f"cannot read YAML store {self.name}: {exc.strerror}") from None
            if _signature(self.path) == before:  # not replaced while we read it
                snapshot = parse_store_text(raw, self.name, self.legacy_registry)
                snapshot.signature = before
                return snapshot
        raise StoreError(f"YAML store {self.name} keeps changing while being read")

    def _current(self) -> _Snapshot:
        """The loaded snapshot, re-read first if the file changed since."""
        if _signature(self.path) != self._snapshot.signature:
            with collector_paused():
                self._snapshot = self._read()
        return self._snapshot

    # ---- primitives ---------------------------------------------------------------------
    def _registry_slugs(self) -> list[str]:
        return list(self._current().registries)

    def _load_registry(self, slug: str) -> Registry | None:
        return self._current().registries.get(slug)

    def _load_all(self) -> tuple[list[Registry], list[tuple[str, str]]]:
        return list(self._current().registries.values()), []

    def _commit(self, slug: str, change: Change, *, read_current: bool = True) -> Registry | None:
        # A YAML file is valid as a whole or not opened at all: no registry in it is corrupt.
        with file_lock(self.path, self.name, timeout=self.lock_timeout, on_wait=self.on_lock_wait), \
                collector_paused():
            snapshot = self._current()
            if snapshot.form == "legacy":
                raise StoreError(
                    f"{self.name} is in the legacy form, which is read but not written; "
                    f"convert it first: profreg migrate {self.name} NEW.yaml"
                )
            result = change(snapshot.registries.get(slug))
            expected = dict(snapshot.registries)
            if result is None:
                expected.pop(slug, None)
            else:
                expected[slug] = result
            text, written, document = self._edited(snapshot, slug, result, expected)
            data = text.replace("\n", snapshot.newline) if snapshot.newline != "\n" else text
            try:
                write_atomic(self.path, ("\ufeff" if snapshot.bom else "").encode() + data.encode("utf-8"))
            except OSError as exc:
                raise StoreError(f"cannot write YAML store {self.name}: {exc.strerror or exc}") from None
            written.signature = _signature(self.path)
            self._snapshot = written
            if document is not None:  # reusable for the next write while the file is unchanged
                self._document = (written.signature, document)
            return result

    def _edited(
        self, snapshot: _Snapshot, slug: str, result: Registry | None, expected: dict[str, Registry]
    ) -> tuple[str, _Snapshot, RoundTripDocument | None]:
        """The file's new text, its reading, and the ruamel document edited (for reuse).

        Entries are spliced when possible (fast, exact); otherwise, or if the spliced text
        does not read back as `expected`, the whole document goes through ruamel."""
        from .yamledit import RoundTripDocument
        from .yamlsplice import NotSpliceable, splice_registry

        cached, self._document = self._document, None  # edited in place: re-cached on success only
        try:
            text = splice_registry(snapshot.text, snapshot.root, snapshot.data, snapshot.form, slug, result)
            return text, self._checked(text, expected, snapshot), None
        except (NotSpliceable, StoreError):
            pass
        if cached is not None and cached[0] == snapshot.signature:
            document = cached[1]
        else:
            document = RoundTripDocument(snapshot.text, snapshot.form)
        text = document.replace_registry(slug, result)
        return text, self._checked(text, expected, snapshot), document

    def _checked(self, text: str, expected: dict[str, Registry], before: _Snapshot) -> _Snapshot:
        """The engine's reading of the text about to be written; it must hold `expected`.

        `expected` holds validated registries only (the changed one was validated by the
        write, the others when the file was read), so equal data is a valid file."""
        try:
            written = parse_store_text(text.encode("utf-8"), self.name, self.legacy_registry, validate=False)
        except StoreError as exc:
            raise StoreError(f"refusing to write {self.name}: the edited text would not validate ({exc})") from None
        if written.registries != expected:
            raise StoreError(
                f"refusing to write {self.name}: the round-trip edit did not reproduce the intended "
                "content (file left unchanged)"
            )
        written.newline, written.bom = before.newline, before.bom
        return written

    def _close(self) -> None:
        self._snapshot = _Snapshot(None)
        self._document = None
