"""The YAML store's write path under faults (issue 13): an OSError injected at each write,
fsync, rename and directory fsync leaves a file that opens holding the state before or
after the write, never a mix; and a change made to the file while a write runs is noticed
(item 9): the write starts over on the new content, or refuses (exit 6)."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time

import pytest

from profreg.errors import StoreError
from profreg.stores import open_store

START = """# hand-written: keep this comment
slug: default
display_name: Default
default_profile_slug: a
profiles:
  a:
    description: first   # and this one
  b: {description: second}
"""

WRITES = {
    "create profile": lambda s: s.upsert_profile("default", {"slug": "c", "description": "third"}),
    "update profile": lambda s: s.upsert_profile("default", {"slug": "a", "description": "changed"}),
    "delete profile": lambda s: s.delete_profile("default", "b"),
    "second registry (rewritten as a bundle)": lambda s: s.upsert_registry({"slug": "other"}),
    "first write of a new file": None,
}
OPERATIONS = ("write", "fsync", "rename", "directory fsync")


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    """Writes stamp the time; a fixed clock makes "the state after" one exact text."""
    monkeypatch.setattr(time, "time_ns", lambda: 1_750_000_000_000_000_000)


def _fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


class _FailingFile:
    """A file object whose writes fail (what a full or failing disk gives)."""

    def __init__(self, real):
        self._real = real

    def write(self, data):
        raise OSError(errno.EIO, "injected write failure")

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._real.close()


@contextlib.contextmanager
def failing(operation: str, store_path: str, monkeypatch):
    """Make `operation` fail for the store's file (its temporary file or its folder) only."""
    folder = os.path.dirname(store_path)
    real_fdopen, real_fsync, real_replace = os.fdopen, os.fsync, os.replace
    hits = []

    def is_temporary(path: str) -> bool:
        return os.path.dirname(path) == folder and os.path.basename(path).startswith(
            "." + os.path.basename(store_path)) and path.endswith(".tmp")

    def fdopen(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        if operation == "write" and is_temporary(_fd_path(fd)):
            hits.append(operation)
            return _FailingFile(handle)
        return handle

    def fsync(fd):
        path = _fd_path(fd if isinstance(fd, int) else fd.fileno())
        if (operation == "fsync" and is_temporary(path)) or (operation == "directory fsync" and path == folder):
            hits.append(operation)
            raise OSError(errno.EIO, f"injected {operation} failure")
        return real_fsync(fd)

    def replace(src, dst, *args, **kwargs):
        if operation == "rename" and os.fspath(dst) == store_path:
            hits.append(operation)
            raise OSError(errno.EIO, "injected rename failure")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", fdopen)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    try:
        yield hits
    finally:
        monkeypatch.setattr(os, "fdopen", real_fdopen)
        monkeypatch.setattr(os, "fsync", real_fsync)
        monkeypatch.setattr(os, "replace", real_replace)


def _state(path: str):
    if not os.path.exists(path):
        return None
    with open_store(path) as store:
        return store.list_registries()


def _apply(write, path: str) -> None:
    with open_store(path) as store:
        if write is None:
            store.upsert_registry({"slug": "default", "display_name": "New"})
        else:
            write(store)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_fault_at_each_step_leaves_the_state_before_or_after(tmp_path, monkeypatch, name, operation):
    write = WRITES[name]
    expected_dir = tmp_path / "expected"
    expected_dir.mkdir()
    path = str(tmp_path / "profiles.yaml")
    if write is not None:
        (tmp_path / "profiles.yaml").write_text(START)
        shutil.copy(path, expected_dir / "profiles.yaml")
    before_bytes = open(path, "rb").read() if write is not None else None
    before = _state(path)
    _apply(write, str(expected_dir / "profiles.yaml"))
    after_bytes = (expected_dir / "profiles.yaml").read_bytes()
    after = _state(str(expected_dir / "profiles.yaml"))

    with failing(operation, path, monkeypatch) as hits:
        with pytest.raises(StoreError, match="injected"):
            _apply(write, path)
    assert hits == [operation]
    now_bytes = open(path, "rb").read() if os.path.exists(path) else None
    assert now_bytes in (before_bytes, after_bytes)
    assert _state(path) in (before, after)
    if operation != "directory fsync":  # the rename did not happen: nothing changed
        assert now_bytes == before_bytes
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert leftovers == []
    if now_bytes == before_bytes:
        _apply(write, path)  # the same write succeeds afterwards
    assert _state(path) == after


def _save_during_write(path: str, edit, monkeypatch, times: int = 1):
    """Run `edit(path)` (a person saving in an editor) while the store's temporary file is
    being synced, i.e. after the store read the file and before it renames over it."""
    real_fsync = os.fsync
    done = []

    def fsync(fd):
        result = real_fsync(fd)
        target = _fd_path(fd)
        if target.endswith(".tmp") and os.path.dirname(target) == os.path.dirname(path) and len(done) < times:
            done.append(target)
            edit(path, len(done))
        return result

    monkeypatch.setattr(os, "fsync", fsync)
    return done


def _unpatch_fsync(monkeypatch, real=os.fsync):
    monkeypatch.setattr(os, "fsync", real)


def _person_edits(path: str, n: int) -> None:
    with open(path) as handle:
        text = handle.read()
    with open(path, "w") as handle:  # in place, as many editors save
        handle.write(text.replace("first ", f"edit{n} ") if "first " in text else
                     text.replace(f"edit{n - 1} ", f"edit{n} "))


def test_a_save_made_during_a_write_is_kept_and_the_write_starts_over(tmp_path, monkeypatch):
    path = str(tmp_path / "profiles.yaml")
    (tmp_path / "profiles.yaml").write_text(START)
    done = _save_during_write(path, _person_edits, monkeypatch)
    with open_store(path) as store:
        store.upsert_profile("default", {"slug": "c", "description": "third"})
    assert len(done) >= 1
    _unpatch_fsync(monkeypatch)
    text = open(path).read()
    assert "edit1 " in text and "third" in text and "# and this one" in text
    with open_store(path) as store:
        assert store.get_profile("default", "a")["description"] == "edit1"
        assert store.get_profile("default", "c")["description"] == "third"


def test_a_same_size_same_mtime_save_is_noticed_by_content(tmp_path, monkeypatch):
    path = str(tmp_path / "profiles.yaml")
    (tmp_path / "profiles.yaml").write_text(START)

    def sneaky(path: str, n: int) -> None:
        st = os.stat(path)
        with open(path, "r+") as handle:
            text = handle.read()
            handle.seek(0)
            handle.write(text.replace("second", "SECOND"))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    _save_during_write(path, sneaky, monkeypatch)
    with open_store(path) as store:
        store.upsert_profile("default", {"slug": "c"})
    _unpatch_fsync(monkeypatch)
    with open_store(path) as store:
        assert store.get_profile("default", "b")["description"] == "SECOND"
        assert "c" in store.get_registry("default")["profiles"]


def test_a_file_that_keeps_changing_is_refused_and_the_last_save_kept(tmp_path, monkeypatch):
    path = str(tmp_path / "profiles.yaml")
    (tmp_path / "profiles.yaml").write_text(START)
    _save_during_write(path, _person_edits, monkeypatch, times=1_000)
    with open_store(path) as store:
        with pytest.raises(StoreError, match="changed while"):
            store.upsert_profile("default", {"slug": "c"})
    _unpatch_fsync(monkeypatch)
    with open_store(path) as store:
        assert "c" not in store.get_registry("default")["profiles"]
        assert store.get_profile("default", "a")["description"].startswith("edit")
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []
