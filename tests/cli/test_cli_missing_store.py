"""SPEC 4 and 6 on the command line: a missing store is an empty store, created (with its
folders) by the first write; what cannot be created, opened or written is one line, exit 6,
never a traceback; a file the user may not write is not replaced.

Permission cases run the real CLI with file permissions applying (tests.unprivileged)."""
from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from tests.cli.cli_inprocess import profreg
from tests.conftest import ROOT, run_cli
from tests.unprivileged import give_away, run_as_user


@pytest.fixture(params=["yaml", "db"])
def suffix(request):
    return request.param


def test_reads_of_a_missing_store(tmp_path, suffix):
    spec = str(tmp_path / "new" / f"profiles.{suffix}")
    listed = profreg("list", "--store", spec)
    assert (listed.code, json.loads(listed.out)) == (0, [])
    assert json.loads(profreg("list", "--store", spec, "--format", "json").out) == []
    for args in (("show", "default"), ("show", "default/agent"), ("resolve",), ("resolve", "agent")):
        result = profreg(*args, "--store", spec)
        assert result.code == 3, result
        assert "does not exist" in result.err and len(result.err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_first_write_creates_file_and_folders(tmp_path, suffix):
    spec = str(tmp_path / "nodir" / "deeper" / f"new.{suffix}")
    result = profreg("registry", "create", "x", "--store", spec)
    assert result.code == 0, result
    assert os.path.isfile(spec)
    assert stat.S_IMODE(os.stat(spec).st_mode) == 0o600
    assert json.loads(profreg("list", "--store", spec).out)[0]["slug"] == "x"


def test_migrate_into_missing_folders(tmp_path, suffix):
    source = tmp_path / "ex.yaml"
    shutil.copy(ROOT / "examples" / "profiles.yaml", source)
    dest = tmp_path / "nodir" / f"new.{suffix}"
    result = run_cli("migrate", str(source), str(dest))  # a real process: no traceback either
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and dest.is_file()


def test_path_under_a_regular_file_is_one_line_exit_6(tmp_path, suffix):
    (tmp_path / "afile").write_text("x")
    for args in (("registry", "create", "x"), ("list",)):
        result = run_cli(*args, "--store", str(tmp_path / "afile" / f"new.{suffix}"))
        assert result.returncode == 6, result
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    result = run_cli("migrate", str(ROOT / "examples" / "profiles.yaml"), str(tmp_path / "afile" / f"n.{suffix}"))
    assert result.returncode == 6 and len(result.stderr.splitlines()) == 1


def test_not_a_database_is_one_line_exit_6(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("hello\n")
    for args in (("list",), ("registry", "create", "x")):
        result = run_cli(*args, "--store", str(bad))
        assert result.returncode == 6 and len(result.stderr.splitlines()) == 1, result
        assert "not a database" in result.stderr
    assert bad.read_text() == "hello\n"


@pytest.fixture
def shared_dir(tmp_path):
    """A folder the unprivileged run can enter (pytest's tmp folders are private to root)."""
    os.chmod(tmp_path, 0o755)
    return tmp_path


def test_a_folder_you_may_not_write_is_one_line_exit_6(shared_dir, suffix):
    locked = shared_dir / "locked"
    locked.mkdir()
    os.chmod(locked, 0o555)
    for store in (locked / f"new.{suffix}", locked / "sub" / f"new.{suffix}"):
        result = run_as_user("registry", "create", "x", "--store", str(store))
        assert result.returncode == 6, result
        assert len(result.stderr.splitlines()) == 1 and "Permission denied" in result.stderr
    assert list(locked.iterdir()) == []


def test_a_file_you_may_not_write_is_not_replaced(shared_dir):
    store = shared_dir / "profiles.yaml"
    assert profreg("registry", "create", "x", "--store", str(store)).code == 0
    os.chmod(store, 0o444)
    give_away(store)  # owned by someone else, in a folder the user may write
    os.chmod(shared_dir, 0o777)
    before = (store.read_bytes(), os.stat(store))
    for args in (("registry", "create", "y"), ("registry", "delete", "x")):
        result = run_as_user(*args, "--store", str(store))
        assert result.returncode == 6, result
        assert len(result.stderr.splitlines()) == 1 and "not writable" in result.stderr
    after = os.stat(store)
    assert store.read_bytes() == before[0]
    assert (after.st_ino, after.st_uid, stat.S_IMODE(after.st_mode)) == (
        before[1].st_ino, before[1].st_uid, 0o444)
    assert sorted(p.name for p in shared_dir.iterdir()) == ["profiles.yaml"]  # no temporary left behind
