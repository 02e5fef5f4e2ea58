"""Writers waiting on another writer's lock, in real processes: a notice on stderr after
about a second, `--lock-timeout` (exit 6), Ctrl-C while waiting (exit 130, store as it was),
and no lock file left in the user's folder."""
from __future__ import annotations

import contextlib
import os
import queue
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from tests.cli.cli_inprocess import profreg
from tests.conftest import profreg_executable, run_cli

NOTICE = "waiting for another writer"


@contextlib.contextmanager
def held_lock(kind: str, path: str):
    """Hold the store's write lock as another process's writer would."""
    if kind == "yaml":
        from profreg.stores.yamlfile.files import file_lock

        with file_lock(os.path.realpath(path)):
            yield
    else:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()


@pytest.fixture(params=["yaml", "sqlite"])
def store(request, tmp_path):
    path = str(tmp_path / ("profiles.yaml" if request.param == "yaml" else "profiles.db"))
    assert profreg("registry", "create", "default", "--store", path).code == 0
    assert profreg("profile", "create", "default/first", "--system-prompt", "Hi", "--store", path).code == 0
    return request.param, path


def snapshot(kind: str, path: str):
    if kind == "yaml":
        with open(path, "rb") as handle:
            return handle.read()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT slug, payload_json FROM profile_registries ORDER BY slug").fetchall()


def start_writer(path: str, *extra: str) -> tuple[subprocess.Popen, "queue.Queue[str]"]:
    env = dict(os.environ)
    env.pop("PROFREG_STORE", None)
    proc = subprocess.Popen([*profreg_executable(), "profile", "create", "default/second", "--store", path, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in proc.stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def wait_for_notice(lines: "queue.Queue[str]", timeout: float = 20) -> str:
    line = lines.get(timeout=timeout)
    assert NOTICE in line, line
    return line


def test_a_waiting_writer_says_so_after_about_a_second_then_writes(store):
    kind, path = store
    with held_lock(kind, path):
        proc, lines = start_writer(path)
        started = time.monotonic()
        notice = wait_for_notice(lines)
        waited = time.monotonic() - started
        assert 0.9 <= waited, waited  # not at once: short waits stay quiet
        assert path in notice and "--lock-timeout" in notice
        assert proc.poll() is None  # still waiting
    out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "created profile default/second (version 1)" in out


def test_lock_timeout_gives_up_with_exit_6(store):
    kind, path = store
    before = snapshot(kind, path)
    with held_lock(kind, path):
        started = time.monotonic()
        result = run_cli("profile", "create", "default/second", "--store", path, "--lock-timeout", "0.3")
        elapsed = time.monotonic() - started
    assert result.returncode == 6, result.stderr
    assert "locked by another writer" in result.stderr and "0.3 s" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # gave up before the notice was due
    assert elapsed < 15
    assert snapshot(kind, path) == before


def test_ctrl_c_while_waiting_exits_130_and_leaves_the_store_as_it_was(store):
    kind, path = store
    before = snapshot(kind, path)
    with held_lock(kind, path):
        proc, lines = start_writer(path)
        wait_for_notice(lines)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)  # at once, not after the lock timeout
    assert proc.returncode == 130
    time.sleep(0.2)  # let the reader thread take the last lines
    rest = []
    while not lines.empty():
        rest.append(lines.get())
    assert "profreg: interrupted" in "".join(rest) and "Traceback" not in "".join(rest)
    assert snapshot(kind, path) == before
    if kind == "yaml":  # no temporary file, no lock file
        assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]


def test_no_lock_file_is_left_beside_a_yaml_store(tmp_path):
    path = tmp_path / "team.yaml"
    for args in (("registry", "create", "team"), ("profile", "create", "team/a"), ("profile", "delete", "team/a")):
        assert profreg(*args, "--store", str(path)).code == 0
    assert os.listdir(tmp_path) == ["team.yaml"]


def test_ctrl_c_in_the_middle_of_a_write_leaves_the_store_as_it_was(store, monkeypatch):
    """Interrupted inside the commit (YAML: at the rename; SQLite: inside the transaction)."""
    kind, path = store
    before = snapshot(kind, path)
    if kind == "yaml":
        from profreg.stores.yamlfile import files

        def interrupted_rename(*_args, **_kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(files.os, "replace", interrupted_rename)
    else:
        from profreg.stores import writes

        real_upsert = writes.upsert_profile

        def upsert_then_interrupt(*args, **kwargs):
            real_upsert(*args, **kwargs)  # the new state is computed, the transaction is open
            raise KeyboardInterrupt

        monkeypatch.setattr(writes, "upsert_profile", upsert_then_interrupt)
    result = profreg("profile", "create", "default/second", "--store", path)
    monkeypatch.undo()
    assert result.code == 130 and "interrupted" in result.err and result.out == ""
    assert snapshot(kind, path) == before
    if kind == "yaml":
        assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]  # the temporary file is gone
    assert profreg("profile", "create", "default/second", "--store", path).code == 0  # and it still works
