"""Issue 13 items 8 and 12: caches and lock files are private, never reached through a
symlink, and a cache entry that does not check out is a miss."""
from __future__ import annotations

import os
import stat

import pytest

from profreg.stores import validcache
from profreg.errors import StoreError
from profreg.stores import open_store

SINGLE = b"slug: default\ndefault_profile_slug: agent\nprofiles:\n  agent: {runtime: {tools: [search]}}\n"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache" / "profreg"
    monkeypatch.setenv("PROFREG_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def umask_000():
    old = os.umask(0)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _marker_path(raw: bytes) -> str:
    return validcache._marker(raw)[1]


def test_cache_folders_and_markers_are_private_under_umask_000(tmp_path, cache_dir, umask_000):
    store_file = tmp_path / "profiles.yaml"
    store_file.write_bytes(SINGLE)
    open_store(str(store_file)).close()
    marker = _marker_path(SINGLE)
    assert os.path.isfile(marker)
    folder = os.path.dirname(marker)
    while len(folder) >= len(str(cache_dir)):
        assert _mode(folder) == 0o700, folder
        folder = os.path.dirname(folder)
    assert _mode(marker) == 0o600
    assert validcache.lookup(SINGLE) == "single"


def test_a_symlink_at_the_old_temporary_name_is_not_written_through(tmp_path, cache_dir):
    target = tmp_path / "victim.txt"
    target.write_text("precious")
    marker = _marker_path(SINGLE)
    os.makedirs(os.path.dirname(marker))
    os.symlink(target, f"{marker}.{os.getpid()}.tmp")
    validcache.remember(SINGLE, "single")
    assert target.read_text() == "precious"
    assert validcache.lookup(SINGLE) == "single"


def test_a_symlink_at_the_marker_is_a_miss_and_is_replaced_not_followed(tmp_path, cache_dir):
    validcache.remember(SINGLE, "single")
    marker = _marker_path(SINGLE)
    planted = tmp_path / "planted"
    planted.write_bytes(open(marker, "rb").read())
    os.unlink(marker)
    os.symlink(planted, marker)
    assert validcache.lookup(SINGLE) is None
    validcache.remember(SINGLE, "single")
    assert not os.path.islink(marker)
    assert planted.read_bytes().startswith(b"profreg-validated")


@pytest.mark.parametrize("content", [b"bundle", b"legacy\n", b"\xff\xfe", b"x" * 100_000, b""])
def test_a_tampered_marker_is_a_miss(tmp_path, cache_dir, content):
    store_file = tmp_path / "profiles.yaml"
    store_file.write_bytes(SINGLE)
    open_store(str(store_file)).close()
    with open(_marker_path(SINGLE), "wb") as handle:
        handle.write(content)
    assert validcache.lookup(SINGLE) is None
    with open_store(str(store_file)) as store:
        assert store.get_profile("default", "agent")["runtime"]["tools"] == ["search"]


@pytest.mark.parametrize("form", ["bundle", "legacy"])
def test_a_well_formed_marker_naming_the_wrong_form_is_not_trusted(tmp_path, cache_dir, form):
    store_file = tmp_path / "profiles.yaml"
    store_file.write_bytes(SINGLE)
    validcache.remember(SINGLE, form)  # as if tampered with by someone who knows the format
    with open_store(str(store_file)) as store:
        assert [r["slug"] for r in store.list_registries()] == ["default"]
        assert store.get_profile("default", "agent")["runtime"]["tools"] == ["search"]
    assert validcache.lookup(SINGLE) == "single"  # the miss re-validated and re-recorded


def test_a_marker_that_validates_invalid_bytes_is_caught_by_the_form_check(tmp_path, cache_dir):
    broken = b"registries: [1, 2]\n"
    store_file = tmp_path / "profiles.yaml"
    store_file.write_bytes(broken)
    validcache.remember(broken, "bundle")
    with pytest.raises(StoreError, match="invalid registry file"):
        open_store(str(store_file))


@pytest.mark.parametrize("kind", ["fifo", "directory", "dev-zero"])
def test_a_marker_that_is_not_a_regular_file_is_a_miss(tmp_path, cache_dir, kind):
    marker = _marker_path(SINGLE)
    os.makedirs(os.path.dirname(marker))
    if kind == "fifo":
        os.mkfifo(marker)
    elif kind == "directory":
        os.mkdir(marker)
    else:
        os.symlink("/dev/zero", marker)
    assert validcache.lookup(SINGLE) is None  # no hang, no read of /dev/zero
    store_file = tmp_path / "profiles.yaml"
    store_file.write_bytes(SINGLE)
    with open_store(str(store_file)) as store:
        assert store.get_registry("default")["default_profile_slug"] == "agent"


def test_a_cache_folder_others_may_write_is_not_used(tmp_path, cache_dir):
    os.makedirs(cache_dir / "validated")
    os.chmod(cache_dir / "validated", 0o777)
    validcache.remember(SINGLE, "single")
    assert validcache.lookup(SINGLE) is None
    assert not os.path.exists(_marker_path(SINGLE))


def test_a_symlink_at_the_old_lock_path_is_not_followed(tmp_path):
    """Writers lock the store's folder: a name planted beside the store is never opened."""
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    outside = tmp_path / "outside" / "created-by-the-lock"
    outside.parent.mkdir()
    os.symlink(outside, store_dir / "profiles.yaml.lock")
    os.mkfifo(store_dir / "other.yaml.lock")
    with open_store(str(store_dir / "profiles.yaml")) as store:
        store.upsert_registry({"slug": "default"})
    with open_store(str(store_dir / "other.yaml")) as store:
        store.upsert_registry({"slug": "default"})  # a FIFO there would block an open
    assert not outside.exists()


@pytest.fixture
def folder_cannot_be_locked(monkeypatch):
    """As on NFS, where flock on a folder fails: writers fall back to a `PATH.lock` file."""
    from profreg.stores.yamlfile import files as yamlfile

    def unlockable(path):
        return os.open(os.path.dirname(path) or ".", os.O_PATH), os.path.dirname(path)  # flock: EBADF

    monkeypatch.setattr(yamlfile, "_open_lock_target", unlockable)


def test_a_symlink_at_the_fallback_lock_path_is_refused_and_nothing_is_created_outside(
        tmp_path, folder_cannot_be_locked):
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    outside = tmp_path / "outside" / "created-by-the-lock"
    outside.parent.mkdir()
    os.symlink(outside, store_dir / "profiles.yaml.lock")
    with open_store(str(store_dir / "profiles.yaml")) as store:
        with pytest.raises(StoreError, match="is a symlink"):
            store.upsert_registry({"slug": "default"})
    assert not outside.exists()
    assert not (store_dir / "profiles.yaml").exists()


def test_a_fallback_lock_path_that_is_not_a_regular_file_is_refused(tmp_path, folder_cannot_be_locked):
    os.mkfifo(tmp_path / "profiles.yaml.lock")
    with open_store(str(tmp_path / "profiles.yaml")) as store:
        with pytest.raises(StoreError, match="not a regular file"):
            store.upsert_registry({"slug": "default"})


def test_the_fallback_lock_file_is_private_under_umask_000(tmp_path, umask_000, folder_cannot_be_locked):
    with open_store(str(tmp_path / "profiles.yaml")) as store:
        store.upsert_registry({"slug": "default"})
    assert _mode(tmp_path / "profiles.yaml.lock") == 0o600


def test_the_lock_file_and_a_new_store_are_private_under_umask_000(tmp_path, umask_000):
    with open_store(str(tmp_path / "profiles.yaml")) as store:
        store.upsert_registry({"slug": "default"})
    assert _mode(tmp_path / "profiles.yaml") == 0o600
    lock = tmp_path / "profiles.yaml.lock"
    if lock.exists():  # whether the lock file stays is the store's choice; if it does, it is private
        assert _mode(lock) == 0o600
