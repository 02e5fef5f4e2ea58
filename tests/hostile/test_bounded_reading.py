"""Issue 13 item 2: input is read in chunks against the size limit; only regular files are
read from a folder walk; a FIFO, a device or a symlink to /dev/zero is refused with a clear
line — never a hang or unbounded memory (run as real processes, with a timeout)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import profreg_executable, run_cli

VALID = "slug: default\ndefault_profile_slug: a\nprofiles:\n  a: {}\n"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "good.yaml").write_text(VALID)
    os.mkfifo(tmp_path / "fifo.yaml")
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    return tmp_path


def test_a_folder_walk_reads_only_regular_files(folder):
    result = run_cli("validate", str(folder), "--format", "json", timeout=60)
    assert result.returncode == 2, result
    assert [f["path"] for f in json.loads(result.stdout)["files"]] == [str(folder / "good.yaml")]
    assert "fifo.yaml (is a FIFO (named pipe), not a regular file)" in result.stderr
    assert "zero.yaml (is a character device, not a regular file)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("target", ["/dev/zero", "zero.yaml"])
def test_a_device_named_on_the_command_line_is_refused(folder, target):
    result = run_cli("validate", target, cwd=folder, timeout=60)
    assert result.returncode == 2 and "character device" in result.stderr, result


def test_a_fifo_named_on_the_command_line_does_not_hang(folder):
    result = run_cli("validate", str(folder / "fifo.yaml"), "--format", "json", timeout=60)
    assert result.returncode == 1, result  # no writer: read as an empty document
    assert json.loads(result.stdout)["files"][0]["diagnostics"][0]["code"] == "empty-document"


def test_a_pipe_named_on_the_command_line_is_read(tmp_path):
    read_end, write_end = os.pipe()
    os.write(write_end, VALID.encode())
    os.close(write_end)
    try:
        result = subprocess.run([*profreg_executable(), "validate", f"/dev/fd/{read_end}"], pass_fds=[read_end],
                                capture_output=True, text=True, timeout=60)
    finally:
        os.close(read_end)
    assert result.returncode == 0, result


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "profiles.yaml"
    path.write_text(VALID)
    return str(path)


@pytest.mark.parametrize("option", ["--from-file", "--overrides", "--base"])
@pytest.mark.parametrize("target", ["zero.yaml", "fifo.yaml"])
def test_input_file_options_are_bounded(folder, store, option, target):
    args = (["profile", "create", "default/b", option] if option == "--from-file" else ["resolve", "a", option])
    result = run_cli(*args, str(folder / target), "--store", store, timeout=60)
    assert "Traceback" not in result.stderr
    if target == "zero.yaml":
        assert result.returncode == 2 and "character device" in result.stderr, result
    else:  # a FIFO with no writer reads as empty, at once
        assert result.returncode in (0, 1), result


def test_store_files_and_migrate_sources_must_be_regular_files(folder, tmp_path):
    zero = str(folder / "zero.yaml")
    opened = run_cli("list", "--store", zero, timeout=60)
    assert opened.returncode == 6 and "character device" in opened.stderr, opened
    checked = run_cli("validate", "--store", zero, timeout=60)
    assert checked.returncode == 2 and "character device" in checked.stderr, checked
    migrated = run_cli("migrate", zero, str(tmp_path / "out.db"), timeout=60)
    assert migrated.returncode == 2 and "character device" in migrated.stderr, migrated
    into = run_cli("migrate", str(folder / "good.yaml"), zero, "--dry-run", timeout=60)
    assert into.returncode == 2 and "character device" in into.stderr, into
def test_endless_stdin_is_read_only_up_to_the_limit(tmp_path):
    with open("/dev/zero", "rb") as zeros:
        result = subprocess.run([*profreg_executable(), "validate", "-", "--format", "json"], stdin=zeros,
                                capture_output=True, text=True, timeout=60,
                                env={**os.environ, "PROFREG_MAX_BYTES": "5000000"})
    assert result.returncode == 1, result
    (diagnostic,) = json.loads(result.stdout)["files"][0]["diagnostics"]
    assert diagnostic["code"] == "yaml-limit" and "5000000" in diagnostic["message"]


def test_a_file_over_the_limit_is_a_limit_diagnostic(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(VALID + "#" * 10_000)
    result = run_cli("validate", str(big), "--format", "json", env={"PROFREG_MAX_BYTES": "1000"})
    assert result.returncode == 1
    assert json.loads(result.stdout)["files"][0]["diagnostics"][0]["code"] == "yaml-limit"


